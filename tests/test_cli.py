"""``python -m comfy_ui_app generate|fields|convert`` against the bundled test server.

End-to-end behaviour (progress, Ctrl-C, one plain line on stderr) runs the real
``python -m``; the tables of fields and problems call ``cli.main`` in-process for speed.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = str(REPO / "workflows" / "txt2img.json")
FIXTURES = REPO / "tests" / "fixtures"
UI_TXT2IMG = str(FIXTURES / "ui_workflows" / "default_txt2img.json")
OBJECT_INFO_FILE = str(FIXTURES / "comfyui" / "object_info.json")
SMALL = ["--set", "steps=4", "--set", "width=64", "--set", "height=64"]


def cli_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "COMFYUI_URL"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_cli(*args, env=None, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "comfy_ui_app", *args], cwd=REPO, env=env or cli_env(),
                          capture_output=True, text=True, timeout=timeout)


def generate_args(out, *extra, server=None):
    args = ["generate", "--workflow", WORKFLOW, "--set", "prompt=a red fox", "--set", "seed=-1", *SMALL,
            "--out", str(out), *extra]
    if server:
        args += ["--server", server]
    return args


def assert_one_plain_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_generate_writes_pngs_and_prints_progress(comfy_server, tmp_path):
    out = tmp_path / "out"
    result = run_cli(*generate_args(out, server=comfy_server.url))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    stdout = result.stdout
    # "Queued" only when the POST answer beats execution_start (see test_progress_lines)
    assert re.search(r"^(Queued|Started)$", stdout, re.M), stdout
    assert "Running node 3 (KSampler)" in stdout
    assert "Step 1/4 (25%)" in stdout and "Step 4/4 (100%)" in stdout
    pngs = sorted(out.glob("*.png"))
    assert pngs, stdout
    for png in pngs:
        assert str(png) in stdout  # every saved path is printed
        with Image.open(png) as img:
            assert img.format == "PNG" and img.size == (64, 64)
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["6"]["inputs"]["text"] == "a red fox"
    assert sent["3"]["inputs"]["steps"] == 4
    # The template's checkpoint is not on the server: the first listed one is used.
    assert sent["4"]["inputs"]["ckpt_name"] == "tiny-sd15-random.safetensors"
    assert "using tiny-sd15-random.safetensors" in stdout


def test_progress_lines():
    from comfy_ui_app import Executing, Finished, Preview, Progress, Queued, Started
    from comfy_ui_app.cli.generate import _progress_line

    table = [
        (Queued(None), "Queued"), (Queued(0), "Queued: next to run"), (Queued(3), "Queued: position 3"),
        (Started(), "Started"), (Executing("3", "KSampler"), "Running node 3 (KSampler)"),
        (Executing("8"), "Running node 8"), (Progress(1, 4), "Step 1/4 (25%)"),
        (Progress(2, 8, "3", 12.4), "Step 2/8 (25%), about 12 s left"), (Progress(0, 0), "Step 0/0 (0%)"),
        (Preview(b"x"), None), (Finished("success", []), None),
    ]  # fmt: skip
    assert [_progress_line(update) for update, _ in table] == [line for _, line in table]


def test_server_flag_overrides_env(comfy_server, dead_url, tmp_path):
    ok = run_cli(*generate_args(tmp_path / "a", server=comfy_server.url), env=cli_env(COMFYUI_URL=dead_url))
    assert ok.returncode == 0, ok.stderr
    from_env = run_cli(*generate_args(tmp_path / "b"), env=cli_env(COMFYUI_URL=comfy_server.url))
    assert from_env.returncode == 0, from_env.stderr
    assert list((tmp_path / "b").glob("*.png"))


def test_a_comma_list_of_servers_is_read_as_the_app_reads_it_and_the_first_is_used(comfy_server, dead_url,
                                                                                  tmp_path):
    env = cli_env(COMFYUI_URL=f" {comfy_server.url}/ , {dead_url}")
    ok = run_cli(*generate_args(tmp_path / "a"), env=env)
    assert ok.returncode == 0, ok.stderr
    assert list((tmp_path / "a").glob("*.png"))
    down_first = run_cli(*generate_args(tmp_path / "b", server=f"{dead_url},{comfy_server.url}"))
    assert down_first.returncode == 1
    assert assert_one_plain_line(down_first.stderr) == f"Cannot reach ComfyUI at {dead_url}. Is it running?"


@pytest.mark.parametrize("argv, env, words", [
    (["fields", WORKFLOW, "--server", " , "], {}, "--server must be one ComfyUI address or several"),
    (["history", "--limit", "0"], {}, "--limit must be a whole number of at least 1, got '0'"),
    (["generate", "--workflow", WORKFLOW, "--out", "o", "--timeout", "never"], {}, "--timeout must be a number"),
    (["convert", UI_TXT2IMG], {"COMFYUI_URL": ","}, "COMFYUI_URL must be one ComfyUI address or several"),
])
def test_a_bad_value_is_one_line_naming_the_flag_or_variable(argv, env, words):
    result = run_cli(*argv, env=cli_env(**env))
    assert result.returncode == 2
    assert words in assert_one_plain_line(result.stderr)


def test_unreachable_server_is_one_plain_line(dead_url, tmp_path):
    result = run_cli(*generate_args(tmp_path, server=dead_url))
    assert result.returncode != 0
    line = assert_one_plain_line(result.stderr)
    assert line == f"Cannot reach ComfyUI at {dead_url}. Is it running?"


def test_server_rejection_is_mapped_to_the_field(comfy_server, tmp_path):
    # LoadImage's file check runs on the server only: /object_info lists uploads but allows any name
    result = run_cli("generate", "--workflow", str(REPO / "workflows" / "img2img.json"), "--set", "image=gone.png",
                     "--set", "steps=2", "--out", str(tmp_path), "--server", comfy_server.url)
    assert result.returncode == 1
    assert assert_one_plain_line(result.stderr) == (
        "ComfyUI rejected the workflow: image: there is no image 'gone.png' in ComfyUI's input folder "
        "(upload it first).")
    assert not comfy_server.received_prompts and not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize("value, words", [
    ("../secret.png", "image: “../secret.png” is not allowed: a file name may not contain folders (/, \\, ..)."),
    ("/etc/passwd", "image: “/etc/passwd” is not allowed: a file name may not contain folders (/, \\, ..)."),
    ("x.png [output]", "image: “x.png [output]” names a file in another ComfyUI folder; only a plain file name is "
                       "allowed."),
])
def test_a_file_name_with_a_path_or_an_annotation_is_refused_before_sending(comfy_server, tmp_path, value, words):
    # issue 13: the command line is trusted, but a path or an annotation reads outside the input folder
    result = run_cli("generate", "--workflow", str(REPO / "workflows" / "img2img.json"), "--set", f"image={value}",
                     "--set", "steps=2", "--out", str(tmp_path), "--server", comfy_server.url)
    assert result.returncode == 2
    assert assert_one_plain_line(result.stderr) == words
    assert not comfy_server.received_prompts


def test_unknown_set_name_names_it(comfy_server, tmp_path):
    result = run_cli(*generate_args(tmp_path, "--set", "colour=red", server=comfy_server.url))
    assert result.returncode == 2
    line = assert_one_plain_line(result.stderr)
    assert "no field 'colour'" in line and "steps" in line
    assert not comfy_server.received_prompts


@pytest.mark.parametrize("content, words", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not an API-format graph"),
    ("hello", "not a JSON workflow"),
])
def test_bad_workflow_file_fails_before_network(tmp_path, dead_url, content, words):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = run_cli("generate", "--workflow", str(bad), "--out", str(tmp_path), "--server", dead_url)
    assert result.returncode == 2
    line = assert_one_plain_line(result.stderr)
    assert words in line and dead_url not in line


def test_missing_workflow_file_and_bad_set_syntax(tmp_path, dead_url):
    missing = run_cli("generate", "--workflow", str(tmp_path / "nope.json"), "--out", str(tmp_path))
    assert missing.returncode != 0
    assert "not found" in assert_one_plain_line(missing.stderr)
    syntax = run_cli(*generate_args(tmp_path, "--set", "steps", server=dead_url))
    assert syntax.returncode != 0
    assert "name=value" in assert_one_plain_line(syntax.stderr)


def test_execution_error_names_the_node(comfy_server, tmp_path):
    comfy_server.fail_next(node_id="8", message="Injected VAE failure")
    result = run_cli(*generate_args(tmp_path, server=comfy_server.url))
    assert result.returncode != 0
    line = assert_one_plain_line(result.stderr)
    assert line == "Failed in node 8 (VAEDecode): Injected VAE failure"


def _as_in_a_terminal() -> None:
    """Ctrl-C as a terminal delivers it: a suite started in the background (``nohup … &``) runs with SIGINT
    ignored, which its children inherit, and a CLI that ignores Ctrl-C there is right to."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_slow_job(server, out):
    args = ["generate", "--workflow", WORKFLOW, "--set", "prompt=slow", "--set", "steps=40",
            "--set", "width=64", "--set", "height=64", "--out", str(out), "--server", server.url]
    proc = subprocess.Popen([sys.executable, "-m", "comfy_ui_app", *args], cwd=REPO, env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_as_in_a_terminal)
    deadline = time.monotonic() + 30
    for line in proc.stdout:  # wait until it is really sampling
        if line.startswith("Step 1/"):
            return proc
        if time.monotonic() > deadline:
            break
    proc.kill()
    pytest.fail("the CLI never reported a step")


def test_interrupted_elsewhere_exits_nonzero(make_comfy_server, tmp_path):
    server = make_comfy_server(step_time=0.1)
    proc = _start_slow_job(server, tmp_path)
    requests.post(server.url + "/interrupt", json={}, timeout=5)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode not in (0, None)
    assert "interrupted" in assert_one_plain_line(stderr)


def test_ctrl_c_interrupts_the_job_on_the_server(make_comfy_server, tmp_path):
    server = make_comfy_server(step_time=0.1)
    proc = _start_slow_job(server, tmp_path)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Interrupted" in assert_one_plain_line(stderr)
    # The server stops working on it well before the 40 steps (4 s) would end.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        queue = requests.get(server.url + "/queue", timeout=5).json()
        if not queue["queue_running"] and not queue["queue_pending"]:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the job is still on the server: {queue}")


def test_cli_does_not_import_gradio():
    code = ("import sys, comfy_ui_app.cli.main, comfy_ui_app.cli.generate, comfy_ui_app.texts.messages; "
            "from comfy_ui_app.cli.main import build_parser; build_parser(); "
            "sys.exit(1 if 'gradio' in sys.modules else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=cli_env(), timeout=60)
    assert result.returncode == 0


@pytest.mark.parametrize("command, words", [
    ((), ["generate", "fields", "convert", "UI format", "exit status", "COMMAND --help"]),
    (("generate",), ["--workflow", "--set", "NODE.INPUT", "placeholder", "--out", "--server", "COMFYUI_URL",
                     "--timeout", "--quiet", "exit status"]),
    (("fields",), ["WORKFLOW.json", "--server", "--offline", "--object-info", "choices", "node_id", "input_name",
                   "COMFYUI_URL"]),
    (("convert",), ["UI.json", "-o", "--server", "--object-info", "already in API format", "COMFYUI_URL"]),
])
def test_help_documents_every_option(command, words):
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for word in words:
        assert word in text, word


def test_existing_files_are_never_overwritten(comfy_server, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "ComfyUI_00001_.png").write_bytes(b"an older picture")
    result = run_cli(*generate_args(out, server=comfy_server.url))
    assert result.returncode == 0, result.stderr
    assert (out / "ComfyUI_00001_.png").read_bytes() == b"an older picture"
    new = [p for p in out.glob("*.png") if p.name != "ComfyUI_00001_.png"]
    assert len(new) == 1 and str(new[0]) in result.stdout


# ---- in-process: fields, convert, --set names, local checks ----------------------------

FIELD_KEYS = ["name", "label", "type", "default", "choices", "min", "max", "step", "node_id", "input_name",
              "advanced", "placeholder"]
TEMPLATES = {  # bundled template -> (some names, the names that are choices with a server)
    "txt2img.json": ({"prompt", "negative", "seed", "steps", "cfg", "width", "height", "checkpoint"},
                     {"sampler", "scheduler", "checkpoint"}),
    "img2img.json": ({"prompt", "image", "denoise", "steps"}, {"sampler", "scheduler", "checkpoint"}),
    "inpaint.json": ({"prompt", "image", "grow_mask", "denoise"}, {"sampler", "scheduler", "checkpoint"}),
}


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_fields_of_the_bundled_templates(cli, comfy_server, dead_url, template):
    path = REPO / "workflows" / template
    names, choice_names = TEMPLATES[template]
    code, out, err = cli("fields", path, "--server", comfy_server.url)
    assert code == 0 and err == ""
    online = {f["name"]: f for f in json.loads(out)}
    assert all(list(f) == FIELD_KEYS for f in online.values())
    assert names | choice_names <= set(online)
    for name in choice_names:
        assert online[name]["type"] == "choice" and online[name]["choices"], name
    assert online["sampler"]["default"] in online["sampler"]["choices"]
    assert (online["steps"]["min"], online["steps"]["node_id"], online["steps"]["input_name"]) == (1, "3", "steps")
    for how, words in ((["--offline"], "Offline"), (["--server", dead_url], f"Cannot reach ComfyUI at {dead_url}")):
        code, out, err = cli("fields", path, *how)
        assert code == 0
        assert words in err and "without the server's node list" in err
        offline = {f["name"]: f for f in json.loads(out)}
        assert list(offline) == list(online)  # the same names, in the same order
        assert not any(f["choices"] for f in offline.values())
        assert offline["steps"]["min"] is None and offline["steps"]["default"] == online["steps"]["default"]


def test_fields_lists_advanced_and_placeholder_names(cli):
    code, out, _ = cli("fields", FIXTURES / "api_workflows" / "img2img_resize.json",
                       "--object-info", OBJECT_INFO_FILE)
    crop = next(f for f in json.loads(out) if f["name"] == "2.crop")
    assert code == 0 and crop["advanced"] and crop["choices"] == ["disabled", "center"]
    code, out, _ = cli("fields", FIXTURES / "api_workflows" / "placeholders.json", "--offline")
    style = next(f for f in json.loads(out) if f["name"] == "style")
    assert code == 0 and style["placeholder"] and style["default"] == "oil painting"


def test_fields_of_a_ui_workflow_needs_the_node_list(cli, dead_url):
    code, out, err = cli("fields", UI_TXT2IMG, "--server", dead_url)
    assert code == 1 and out == ""
    line = assert_one_plain_line(err)
    assert "UI-format" in line and dead_url in line and "--object-info" in line
    code, out, err = cli("fields", UI_TXT2IMG, "--offline")
    assert code == 1 and "--offline" in assert_one_plain_line(err)
    code, out, _ = cli("fields", UI_TXT2IMG, "--object-info", OBJECT_INFO_FILE)
    fields = {f["name"]: f for f in json.loads(out)}
    assert code == 0 and fields["steps"]["default"] == 20 and fields["sampler"]["choices"]


def test_convert_then_generate(comfy_server, tmp_path):
    from comfy_ui_app.workflow.convert import ui_to_api

    converted = run_cli("convert", UI_TXT2IMG, "--server", comfy_server.url)
    assert converted.returncode == 0, converted.stderr
    api = json.loads(converted.stdout)
    assert {n: node["class_type"] for n, node in api.items()} == {
        "3": "KSampler", "4": "CheckpointLoaderSimple", "5": "EmptyLatentImage", "6": "CLIPTextEncode",
        "7": "CLIPTextEncode", "8": "VAEDecode", "9": "SaveImage"}
    assert api["3"]["inputs"]["model"] == ["4", 0] and api["3"]["inputs"]["steps"] == 20
    # offline with a saved /object_info, to a file: the same answer as the library gives
    api_file = tmp_path / "api.json"
    offline = run_cli("convert", UI_TXT2IMG, "--object-info", OBJECT_INFO_FILE, "-o", str(api_file))
    assert offline.returncode == 0 and offline.stdout == ""
    ui = json.loads(Path(UI_TXT2IMG).read_text())
    assert json.loads(api_file.read_text()) == ui_to_api(ui, json.loads(Path(OBJECT_INFO_FILE).read_text()))
    api_file.write_text(converted.stdout)
    result = run_cli("generate", "--workflow", str(api_file), "--set", "steps=2", "--set", "width=64",
                     "--set", "height=64", "--out", str(tmp_path / "out"), "--server", comfy_server.url)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "out").glob("*.png"))) == 1
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["3"]["inputs"]["steps"] == 2 and sent["6"]["inputs"]["text"] == api["6"]["inputs"]["text"]


def test_convert_api_or_unreachable(cli, dead_url, tmp_path):
    from comfy_ui_app import load_workflow

    code, out, err = cli("convert", WORKFLOW, "--server", dead_url)  # API format: no server needed
    assert code == 0 and json.loads(out) == load_workflow(WORKFLOW)
    assert "already in API format" in err
    code, out, err = cli("convert", UI_TXT2IMG, "--server", dead_url)
    assert code == 1 and out == ""
    assert "cannot be reached" in assert_one_plain_line(err)
    (tmp_path / "info.json").write_text("[]")
    code, _, err = cli("convert", UI_TXT2IMG, "--object-info", tmp_path / "info.json")
    assert code == 2 and "not a saved /object_info" in assert_one_plain_line(err)


def test_generate_runs_a_ui_workflow(cli, comfy_server, tmp_path):
    code, out, err = cli("generate", "--workflow", UI_TXT2IMG, *SMALL, "--out", tmp_path, "--server", comfy_server.url)
    assert code == 0, err
    assert "Converted the UI-format workflow" in out and list(tmp_path.glob("*.png"))
    assert comfy_server.received_prompts[-1]["prompt"]["3"]["inputs"]["steps"] == 4


SET_NAMES = [  # workflow, --set values, (node, input, value) the server must receive
    ("tests/fixtures/api_workflows/img2img_resize.json", ["image=example.png", "2.crop=disabled",
                                                          "2.upscale_method=bilinear"],
     [("1", "image", "example.png"), ("2", "crop", "disabled"), ("2", "upscale_method", "bilinear")]),
    ("tests/fixtures/api_workflows/placeholders.json", ["subject=a cat"],
     [("6", "text", "a portrait of a cat, oil painting, detailed"), ("9", "filename_prefix", "portraits/a cat")]),
    ("tests/fixtures/api_workflows/placeholders.json", ["subject=a dog", "style=ink"],
     [("6", "text", "a portrait of a dog, ink, detailed")]),
    ("tests/fixtures/api_workflows/title_override.json", ["style=gothic"],  # named only with object_info
     [("12", "text", "gothic")]),
    ("workflows/txt2img.json", ["3.cfg=5.5", "3.sampler_name=ddim"],  # NODE.INPUT of a named field
     [("3", "cfg", 5.5), ("3", "sampler_name", "ddim")]),
]  # fmt: skip


@pytest.mark.parametrize("workflow, sets, expected", SET_NAMES)
def test_set_accepts_every_discovered_name(cli, comfy_server, tmp_path, workflow, sets, expected):
    args = [a for s in sets for a in ("--set", s)]
    code, _, err = cli("generate", "--workflow", REPO / workflow, *args, "--set", "steps=1", "--set", "width=64",
                       "--set", "height=64", "--out", tmp_path, "--server", comfy_server.url, "--quiet")
    assert code == 0, err
    sent = comfy_server.received_prompts[-1]["prompt"]
    for node, input_name, value in expected:
        assert sent[node]["inputs"][input_name] == value


def _edited(tmp_path, **edits):
    """txt2img.json with ``node__input=value`` edits (None drops the input, class_type is the class)."""
    prompt = json.loads(Path(WORKFLOW).read_text())
    for key, value in edits.items():
        node, name = key.split("__")
        target = prompt[node] if name == "class_type" else prompt[node]["inputs"]
        if value is None:
            del target[name]
        else:
            target[name] = value
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(prompt))
    return str(path)


LOCAL_PROBLEMS = [  # --set values, template edits -> the one line (after "Please fix: ")
    (["steps=0"], {}, "steps: must be at least 1, not 0."),
    (["cfg=1000"], {}, "cfg: must be at most 100.0, not 1000.0."),
    (["width=8", "batch_size=5000"], {}, "width: must be at least 16, not 8; batch_size: must be at most 4096, "
                                         "not 5000."),
    (["sampler=nope"], {}, "sampler: 'nope' is not one of the allowed values (choose from: euler, euler_cfg_pp, "
                           "euler_ancestral, euler_ancestral_cfg_pp, heun, heunpp2 and 36 more)."),
    (["checkpoint=missing.safetensors"], {}, "checkpoint: 'missing.safetensors' is not installed on the server "
                                             "(choose from: tiny-sd15-random.safetensors)."),
    ([], {"3__steps": "four"}, "steps: must be a whole number, not 'four'."),
    ([], {"7__class_type": "NoSuchEncoder"}, "Node 7: the node type 'NoSuchEncoder' is not installed on the server."),
    ([], {"3__denoise": None}, "Node 3 (KSampler): the required input 'denoise' is missing."),
    ([], {"3__model": ["99", 0]}, "Node 3 (KSampler): input 'model' is linked to node 99, which is not in the "
                                  "workflow."),
    ([], {"3__model": ["4", 7]}, "Node 3 (KSampler): input 'model' is linked to output 7 of node 4, which has "
                                 "only 3 outputs."),
]  # fmt: skip


@pytest.mark.parametrize("sets, edits, words", LOCAL_PROBLEMS)
def test_local_check_names_the_field(cli, comfy_server, tmp_path, sets, edits, words):
    args = [a for s in sets for a in ("--set", s)]
    code, _, err = cli("generate", "--workflow", _edited(tmp_path, **edits), *args, "--out", tmp_path,
                       "--server", comfy_server.url)
    assert code == 2
    assert assert_one_plain_line(err) == "Please fix: " + words
    assert not comfy_server.received_prompts  # nothing was sent


def test_set_value_of_the_wrong_type_names_the_field(cli, comfy_server, tmp_path):
    code, _, err = cli(*generate_args(tmp_path, "--set", "cfg=lots", server=comfy_server.url))
    assert code == 2 and assert_one_plain_line(err) == "cfg must be a number, not 'lots'"


def test_generate_replaces_a_missing_checkpoint_with_the_first_listed():
    from comfy_ui_app.workflow import templates as workflow

    assert workflow.choose_checkpoint("b", ["a", "b"]) == "b"
    assert workflow.choose_checkpoint("x", ["a", "b"]) == "a"
    assert workflow.choose_checkpoint("x", []) is None


@pytest.mark.parametrize("value, words", [  # issue 13 point 3: never sent, never "Cannot reach ComfyUI"
    ("nan", "CFG must be a finite number."),
    ("inf", "CFG must be a finite number."),
    ("-Infinity", "CFG must be a finite number."),
    ("1e309", "CFG must be a finite number."),
])
def test_set_a_number_that_is_not_finite_is_refused(cli, comfy_server, tmp_path, value, words):
    code, _, err = cli(*generate_args(tmp_path, "--set", f"cfg={value}", server=comfy_server.url))
    assert code == 2 and assert_one_plain_line(err) == words
    assert not comfy_server.received_prompts
