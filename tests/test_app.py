"""app.py: options, environment, and that the page comes up with ComfyUI down."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import app

REPO = Path(__file__).resolve().parents[1]


def test_defaults_without_environment():
    args = app.build_parser(env={}).parse_args([])
    assert args.server == ["http://127.0.0.1:8188"]
    assert (args.host, args.port, args.share) == ("127.0.0.1", 7860, False)
    assert Path(args.workflows) == REPO / "workflows"
    assert Path(args.output_dir) == Path("data") / "outputs"


def test_environment_then_flags_win():
    env = {"COMFYUI_URL": "http://gpu:8188", "GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "9000",
           "COMFY_UI_DATA": "/srv/comfy"}
    args = app.build_parser(env=env).parse_args([])
    assert (args.server, args.host, args.port) == (["http://gpu:8188"], "0.0.0.0", 9000)
    assert Path(args.output_dir) == Path("/srv/comfy/outputs")
    args = app.build_parser(env=env).parse_args(
        ["--server", "http://other:1", "--host", "127.0.0.1", "--port", "7000", "--workflows", "/w",
         "--output-dir", "/o", "--share"])
    assert (args.server, args.host, args.port, args.workflows, args.output_dir, args.share) == (
        ["http://other:1"], "127.0.0.1", 7000, "/w", "/o", True)


def refused(env, argv, capsys) -> str:
    """The one line on stderr with which a bad value stops the app (exit status 2)."""
    with pytest.raises(SystemExit) as stopped:
        app.build_parser(env=env).parse_args(argv)
    lines = capsys.readouterr().err.strip().splitlines()
    assert stopped.value.code == 2 and len(lines) == 1, lines
    return lines[0]


def test_several_servers_and_the_per_server_limit(capsys):
    env = {"COMFYUI_URL": " http://gpu1:8188/, http://gpu2:8188 ,,http://gpu1:8188", "COMFY_UI_PER_SERVER": "3"}
    args = app.build_parser(env=env).parse_args([])
    assert args.server == ["http://gpu1:8188", "http://gpu2:8188"]
    assert args.per_server == 3
    args = app.build_parser(env=env).parse_args(["--server", "http://a:1,http://b:2", "--per-server", "1"])
    assert args.server == ["http://a:1", "http://b:2"] and args.per_server == 1
    assert app.build_parser(env={}).parse_args([]).per_server == 2
    for bad in ("0", "two"):
        assert "COMFY_UI_PER_SERVER must be a whole number of at least 1" in refused(
            {"COMFY_UI_PER_SERVER": bad}, [], capsys)
    assert "--server must be one ComfyUI address or several" in refused({}, ["--server", " , "], capsys)


def test_the_run_limit_is_in_minutes_and_zero_turns_it_off(capsys):
    assert app.build_parser(env={}).parse_args([]).run_limit == 30
    assert app.build_parser(env={"COMFY_UI_RUN_LIMIT_MIN": "0"}).parse_args([]).run_limit == 0
    assert app.build_parser(env={"COMFY_UI_RUN_LIMIT_MIN": "5"}).parse_args(["--run-limit", "2.5"]).run_limit == 2.5
    for bad in ("-1", "soon"):
        assert "COMFY_UI_RUN_LIMIT_MIN must be a number of minutes" in refused(
            {"COMFY_UI_RUN_LIMIT_MIN": bad}, [], capsys)


@pytest.mark.parametrize("env, argv, words", [
    ({"GRADIO_SERVER_PORT": "web"}, [], "GRADIO_SERVER_PORT must be a port number, got 'web'"),
    ({}, ["--port", "99999"], "--port must be a port number"),
    ({"COMFY_UI_AUTH": "alice"}, [], "COMFY_UI_AUTH must be user:password"),
    ({"COMFYUI_ARGS": "--x 'open"}, [], "COMFYUI_ARGS must be options as a shell would split them"),
    ({"COMFYUI_RESTARTS": "-1"}, [], "COMFYUI_RESTARTS must be a whole number, 0 or more"),
    ({}, ["--comfyui-start-timeout", "0"], "--comfyui-start-timeout must be a number of seconds above 0"),
    ({"COMFY_UI_MAX_UPLOAD_MB": "lots"}, [], "COMFY_UI_MAX_UPLOAD_MB must be a number of megabytes"),
    ({"COMFY_UI_LOG_PROMPTS": "2"}, [], "COMFY_UI_LOG_PROMPTS must be 1 or 0"),
])
def test_a_bad_value_stops_the_app_with_one_line_naming_it(env, argv, words, capsys):
    line = refused(env, argv, capsys)
    assert line.startswith("python app.py: error: ") and words in line


def test_help_works_whatever_the_environment_holds():
    env = dict(os.environ, COMFY_UI_PER_SERVER="x", GRADIO_SERVER_PORT="web", COMFY_UI_LOG_PROMPTS="2")
    result = subprocess.run([sys.executable, "app.py", "--help"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "--per-server" in result.stdout, result.stderr


def _options_and_env_names():
    from comfy_ui_app.settings import web_app

    parser = app.build_parser(env={})
    options = [a.option_strings[-1] for a in parser._actions if a.option_strings and a.dest != "help"]
    env_names = sorted({s.env for s in web_app.ALL if s.env})
    return options, env_names


def test_help_documents_every_option():
    result = subprocess.run([sys.executable, "app.py", "--help"], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    options, env_names = _options_and_env_names()
    assert len(options) >= 12 and "COMFYUI_URL" in env_names and "COMFY_UI_DATA" in env_names
    for name in [*options, *env_names]:
        assert name in result.stdout, f"{name} is not in python app.py --help"
    parser = app.build_parser(env={})
    for action in parser._actions:
        assert action.help and len(action.help) > 15, f"{action.option_strings} has no real help text"


def test_readme_documents_every_option():
    readme = (REPO / "README.md").read_text()
    options, env_names = _options_and_env_names()
    for name in [*options, *env_names]:
        assert f"`{name}" in readme, f"{name} is not in README.md"


def test_readme_front_matter_makes_a_gradio_space():
    """Hugging Face reads the YAML block at the top of README.md to build the Space."""
    text = (REPO / "README.md").read_text()
    assert text.startswith("---\n")
    block = text.split("---\n")[1]
    meta = dict(line.split(":", 1) for line in block.strip().splitlines())
    meta = {key.strip(): value.strip().strip('"') for key, value in meta.items()}
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and (REPO / meta["app_file"]).is_file()
    assert meta["hf_oauth"] == "true" and meta["python_version"] == "3.11"
    major = re.search(r"gradio\[oauth\]>=(\d+)", (REPO / "requirements.txt").read_text()).group(1)
    assert meta["sdk_version"].split(".")[0] == major
    (spaces,) = [part for part in text.split("\n## ") if part.startswith("On Hugging Face Spaces")]
    assert "COMFYUI_URL" in spaces and "secret" in spaces.lower()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_page_loads_while_comfyui_is_down(tmp_path, dead_url):
    port = _free_port()
    env = dict(os.environ, COMFYUI_URL=dead_url, GRADIO_SERVER_PORT=str(port), COMFY_UI_DATA=str(tmp_path),
               GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        page = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert page is not None and page.status_code == 200, proc.stdout.read() if proc.poll() else ""
        from gradio_client import Client

        banner = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(api_name="/server_status")
        text = (banner[0] if isinstance(banner, (list, tuple)) else banner).replace("\\", "")
        assert f"Cannot reach ComfyUI at {dead_url}" in text and "Retrying automatically" in text
        assert (tmp_path / "outputs").is_dir()
    finally:
        proc.terminate()
        proc.wait(10)
