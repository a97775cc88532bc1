"""``python app.py --comfyui-dir ...``: the app starts ComfyUI (the stand-in), the banner
follows it, and SIGTERM / Ctrl-C stop both."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests
from gradio_client import Client

from _waiting import wait_for
from test_managed import STAND_IN, alive, logged_pid

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(tmp_path: Path, *args: str, **env_extra: str):
    """The app as a subprocess, its output in ``tmp_path/app.out``; -> (proc, page url)."""
    port = _free_port()
    env = {**os.environ, "COMFY_UI_DATA": str(tmp_path / "data"), "GRADIO_TEMP_DIR": str(tmp_path / "gradio"),
           "GRADIO_ANALYTICS_ENABLED": "False", "STAND_IN_ROOT": str(tmp_path / "root"), **env_extra}
    env.pop("COMFYUI_URL", None)
    out = open(tmp_path / "app.out", "w")
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), *args], cwd=REPO, env=env,
                            stdout=out, stderr=subprocess.STDOUT)
    out.close()
    return proc, f"http://127.0.0.1:{port}/"


def output(tmp_path: Path) -> str:
    return (tmp_path / "app.out").read_text()


def wait_page(proc, url: str, tmp_path: Path) -> None:
    def up():
        assert proc.poll() is None, output(tmp_path)
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.ConnectionError:
            return False
    wait_for(up, 60, "the page")


def banner(client: Client) -> str:
    result = client.predict(api_name="/server_status")
    return (result[0] if isinstance(result, (list, tuple)) else result).replace("\\", "")


def stop_app(proc, sig) -> None:
    """Send ``sig`` (once) and wait for the app to end."""
    if proc.poll() is None and not getattr(proc, "signalled", False):
        proc.send_signal(sig)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the app did not stop within 10 s")


def test_banner_follows_the_start_and_sigterm_stops_comfyui_too(tmp_path):
    go = tmp_path / "go"
    proc, url = start_app(tmp_path, "--comfyui-dir", str(STAND_IN), STAND_IN_WAIT_FILE=str(go))
    try:
        wait_page(proc, url, tmp_path)
        client = Client(url, verbose=False)
        assert banner(client) == "⚠ Starting ComfyUI…"
        go.touch()
        text = wait_for(lambda: "Connected" in (b := banner(client)) and b, 20, "Connected")
        log = tmp_path / "data" / "comfyui.log"
        pid = logged_pid(log, "stand-in ComfyUI pid ")
        assert text == f"✔ Connected to ComfyUI at http://127.0.0.1:{_port_of(log)}"
        assert alive(pid)
        # The client's heartbeat stream stays open, as an open page's does: Gradio then waits
        # up to 5 s for it, but ComfyUI is stopped at once.
        proc.send_signal(signal.SIGTERM)
        proc.signalled = True
        wait_for(lambda: not alive(pid), 3, "ComfyUI to stop")
        assert "stand-in ComfyUI: stopped" in log.read_text()   # asked politely, not killed
    finally:
        stop_app(proc, signal.SIGTERM)
    assert proc.returncode == 0


def _port_of(log: Path) -> int:
    first = next(line for line in log.read_text().splitlines() if line.startswith("--- "))
    return int(first.split("--port ")[1].split()[0])


def test_ctrl_c_stops_comfyui_and_an_explicit_server_is_kept(tmp_path, comfy_server):
    proc, url = start_app(tmp_path, "--comfyui-dir", str(STAND_IN), "--server", comfy_server.url,
                          "--comfyui-args", "--lowvram --cuda-device 0")
    log = tmp_path / "data" / "comfyui.log"
    try:
        wait_page(proc, url, tmp_path)
        wait_for(lambda: "ComfyUI is ready at" in output(tmp_path), 20, "ComfyUI ready")
        local_url = f"http://127.0.0.1:{_port_of(log)}"
        assert f"ComfyUI servers: {local_url}, {comfy_server.url}" in output(tmp_path)
        assert 'extra args ["--lowvram", "--cuda-device", "0"]' in log.read_text()
        pid = logged_pid(log, "stand-in ComfyUI pid ")
    finally:
        stop_app(proc, signal.SIGINT)
    wait_for(lambda: not alive(pid), 5, "ComfyUI to stop")


def test_a_folder_without_comfyui_stops_the_app_with_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    result = subprocess.run([sys.executable, "app.py", "--comfyui-dir", str(tmp_path / "empty")], cwd=REPO,
                            env={**os.environ, "COMFY_UI_DATA": str(tmp_path / "data")}, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"{tmp_path / 'empty'} is not a ComfyUI folder: expected a folder with ComfyUI's main.py in it.")


def test_help_documents_the_local_comfyui_options():
    result = subprocess.run([sys.executable, "app.py", "--help"], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    for option in ("--comfyui-dir", "COMFYUI_DIR", "--comfyui-args", "COMFYUI_ARGS", "--comfyui-start-timeout",
                   "COMFYUI_START_TIMEOUT", "--comfyui-restarts", "COMFYUI_RESTARTS"):
        assert option in result.stdout, option


def test_local_comfyui_options_from_environment_then_flags():
    import app

    env = {"COMFYUI_DIR": "auto", "COMFYUI_ARGS": "--lowvram", "COMFYUI_START_TIMEOUT": "30", "COMFYUI_RESTARTS": "0"}
    args = app.build_parser(env=env).parse_args([])
    assert (args.comfyui_dir, args.comfyui_args, args.comfyui_start_timeout, args.comfyui_restarts) == (
        "auto", "--lowvram", 30.0, 0)
    args = app.build_parser(env=env).parse_args(["--comfyui-dir", "/c", "--comfyui-args=--cpu",
                                                  "--comfyui-start-timeout", "5", "--comfyui-restarts", "2"])
    assert (args.comfyui_dir, args.comfyui_args, args.comfyui_start_timeout, args.comfyui_restarts) == (
        "/c", "--cpu", 5.0, 2)
    args = app.build_parser(env={}).parse_args([])
    assert (args.comfyui_dir, args.comfyui_args, args.comfyui_start_timeout, args.comfyui_restarts) == (
        None, "", 120.0, 3)
    # an explicit --server (or COMFYUI_URL) keeps its servers besides the local one
    assert "server" not in app.build_parser(env={}).parse_args([]).given
    assert "server" in app.build_parser(env={}).parse_args(["--server", "http://gpu:8188"]).given
    assert "server" in app.build_parser(env={"COMFYUI_URL": "http://gpu:8188"}).parse_args([]).given
