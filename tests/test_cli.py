"""``python -m comfy_ui_app generate`` end to end against the bundled test server."""
from __future__ import annotations

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
    assert re.search(r"^Queued", stdout, re.M), stdout
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


def test_server_flag_overrides_env(comfy_server, dead_url, tmp_path):
    ok = run_cli(*generate_args(tmp_path / "a", server=comfy_server.url), env=cli_env(COMFYUI_URL=dead_url))
    assert ok.returncode == 0, ok.stderr
    from_env = run_cli(*generate_args(tmp_path / "b"), env=cli_env(COMFYUI_URL=comfy_server.url))
    assert from_env.returncode == 0, from_env.stderr
    assert list((tmp_path / "b").glob("*.png"))


def test_unreachable_server_is_one_plain_line(dead_url, tmp_path):
    result = run_cli(*generate_args(tmp_path, server=dead_url))
    assert result.returncode != 0
    line = assert_one_plain_line(result.stderr)
    assert line == f"Cannot reach ComfyUI at {dead_url}. Is it running?"


@pytest.mark.parametrize("setting, words", [
    ("sampler=nope", ["rejected", "sampler 'nope' is not one of the allowed values"]),
    ("checkpoint=missing.safetensors", ["rejected", "checkpoint 'missing.safetensors' is not installed"]),
])
def test_rejected_prompt_is_one_plain_line(comfy_server, tmp_path, setting, words):
    result = run_cli(*generate_args(tmp_path, "--set", setting, server=comfy_server.url))
    assert result.returncode != 0
    line = assert_one_plain_line(result.stderr)
    for word in words:
        assert word in line
    assert not list(tmp_path.glob("*.png"))


def test_unknown_set_name_fails_before_network(dead_url, tmp_path):
    result = run_cli(*generate_args(tmp_path, "--set", "colour=red", server=dead_url))
    assert result.returncode != 0
    line = assert_one_plain_line(result.stderr)
    assert "colour" in line and dead_url not in line


@pytest.mark.parametrize("content, words", [
    ("{not json", "not valid JSON"),
    ('{"nodes": [], "links": []}', "UI-format"),
])
def test_bad_workflow_file(tmp_path, dead_url, content, words):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = run_cli("generate", "--workflow", str(bad), "--out", str(tmp_path), "--server", dead_url)
    assert result.returncode != 0
    assert words in assert_one_plain_line(result.stderr)


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


def _start_slow_job(server, out):
    args = ["generate", "--workflow", WORKFLOW, "--set", "prompt=slow", "--set", "steps=40",
            "--set", "width=64", "--set", "height=64", "--out", str(out), "--server", server.url]
    proc = subprocess.Popen([sys.executable, "-m", "comfy_ui_app", *args], cwd=REPO, env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
    code = ("import sys, comfy_ui_app.cli, comfy_ui_app.messages; "
            "from comfy_ui_app.cli import build_parser; build_parser(); "
            "sys.exit(1 if 'gradio' in sys.modules else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=cli_env(), timeout=60)
    assert result.returncode == 0


def test_help_lists_every_option():
    result = run_cli("generate", "--help")
    assert result.returncode == 0
    for option in ("--workflow", "--set", "--out", "--server", "COMFYUI_URL"):
        assert option in result.stdout


def test_existing_files_are_never_overwritten(comfy_server, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "ComfyUI_00001_.png").write_bytes(b"an older picture")
    result = run_cli(*generate_args(out, server=comfy_server.url))
    assert result.returncode == 0, result.stderr
    assert (out / "ComfyUI_00001_.png").read_bytes() == b"an older picture"
    new = [p for p in out.glob("*.png") if p.name != "ComfyUI_00001_.png"]
    assert len(new) == 1 and str(new[0]) in result.stdout
