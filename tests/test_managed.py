"""comfy_ui_app.local.managed: start, mind and stop a local ComfyUI checkout.

Runs ``tests/stand_in_comfyui/main.py`` (the test server, started exactly the way ComfyUI
is) as the checkout; its knobs are environment variables (see that file).
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
import requests

from comfy_ui_app import Comfy
from comfy_ui_app.cluster.cluster import Cluster
from comfy_ui_app.errors import ComfyUIStartFailed
from comfy_ui_app.local.managed import (
    FAILED, RESTARTING, RUNNING, STOPPED, LocalComfyUI, default_candidates, find_checkout, is_checkout,
    resolve_checkout,
)
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui.status import StatusChecker, banner_markdown
from _waiting import wait_for

STAND_IN = Path(__file__).resolve().parent / "stand_in_comfyui"


def settled(local: LocalComfyUI, timeout: float):
    """The state once ComfyUI answers, has failed or was stopped (AssertionError after ``timeout``)."""
    return wait_for(lambda: (state := local.state()).phase in (RUNNING, FAILED, STOPPED) and state,
                    timeout=timeout, what="ComfyUI running, failed or stopped")


# ---- helpers: processes seen through /proc (a zombie counts as gone) ------------------------

def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()   # state, ppid, pgrp, ...


def alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] != "Z" and int(stat[2]) == pgid:
                members.append(int(entry.name))
    return members


def logged_pid(log: Path, prefix: str) -> int:
    """The pid the stand-in printed after ``prefix`` (its own, or its grandchild's); the latest."""
    lines = [line for line in log.read_text().splitlines() if line.startswith(prefix)]
    assert lines, f"no {prefix!r} line in {log}:\n{log.read_text()}"
    return int(lines[-1][len(prefix):].split()[0])


@pytest.fixture
def make_local(tmp_path):
    """``make_local(env={...}, **LocalComfyUI options)`` -> an unstarted manager of the stand-in;
    what it says for the terminal goes to ``.said`` (its failure, an error, worded as app.py's
    ``_say`` words it); every one is stopped at teardown."""
    made: list[LocalComfyUI] = []

    def make(env=None, **options) -> LocalComfyUI:
        said: list[str] = []

        def say(message) -> None:
            said.append(describe(message, retrying=False) if isinstance(message, BaseException) else message)

        options = {"restart_delay": 0.05, "poll_interval": 0.05, "grace": 2.0, "start_timeout": 20.0, **options}
        local = LocalComfyUI(STAND_IN, log_path=tmp_path / "data" / "comfyui.log", on_message=say,
                             env={**os.environ, "STAND_IN_ROOT": str(tmp_path / "root"), **(env or {})}, **options)
        local.said = said
        made.append(local)
        return local

    yield make
    for local in made:
        local.stop()


# ---- start, ready, stop ------------------------------------------------------------------

def test_starts_the_checkout_like_comfyui_and_stop_leaves_no_process(make_local):
    local = make_local(env={"STAND_IN_GRANDCHILD": "1"}, extra_args=["--lowvram", "--cuda-device", "0"])
    assert local.command == [sys.executable, "main.py", "--listen", "127.0.0.1", "--port", str(local.port),
                             "--preview-method", "auto", "--lowvram", "--cuda-device", "0"]
    state = settled(local.start(), 20)
    assert state.phase == RUNNING and state.url == f"http://127.0.0.1:{local.port}"
    stats = requests.get(local.url + "/system_stats", timeout=5).json()
    assert stats["system"]["argv"] == ["main.py", *local.command[2:]]   # what ComfyUI itself was given
    log = local.log_path
    pid, grandchild = logged_pid(log, "stand-in ComfyUI pid "), logged_pid(log, "grandchild pid ")
    assert pid == state.pid and alive(pid) and alive(grandchild)
    assert sorted(group_members(pid)) == sorted([pid, grandchild])   # a process group of its own
    assert f"extra args {local.command[8:]}".replace("'", '"') in log.read_text()
    assert local.said == [f"Starting ComfyUI from {STAND_IN} at {local.url} (its log: {log})",
                          f"ComfyUI is ready at {local.url}"]

    local.stop()
    assert not alive(pid) and not alive(grandchild) and group_members(pid) == []
    assert local.state().phase == STOPPED
    with pytest.raises(requests.ConnectionError):
        requests.get(local.url + "/system_stats", timeout=2)
    local.stop()   # twice is fine


def test_stop_kills_a_comfyui_that_ignores_sigterm(make_local):
    local = make_local(env={"STAND_IN_IGNORE_TERM": "1"}, grace=0.5)
    pid = settled(local.start(), 20).pid
    started = time.monotonic()
    local.stop()
    assert not alive(pid) and time.monotonic() - started < 5


# ---- stopping unexpectedly: restarts, then giving up --------------------------------------

def test_a_crash_is_restarted_and_the_banner_says_so(make_local):
    local = make_local(env={"STAND_IN_DELAY": "1"}, max_restarts=3)   # restarting lasts a second
    checker = StatusChecker(Cluster([Comfy(local.url)]), ttl=0, local=local)
    assert checker.get().text == "Starting ComfyUI…"
    first = settled(local.start(), 20)
    assert checker.get(fresh=True).text == f"Connected to ComfyUI at {local.url}"

    os.kill(first.pid, signal.SIGKILL)
    wait_for(lambda: local.state().phase == RESTARTING, what="restarting")
    assert checker.get(fresh=True).text == "ComfyUI stopped unexpectedly; restarting (attempt 1 of 3)…"
    assert banner_markdown(checker.get(), "zh-CN") == "⚠ ComfyUI 意外停止；正在重新启动（第 1 次，共 3 次）…"
    second = settled(local, 20)
    assert second.phase == RUNNING and second.pid != first.pid and not alive(first.pid)
    assert checker.get(fresh=True).text == f"Connected to ComfyUI at {local.url}"
    assert local.said[-2:] == ["ComfyUI stopped unexpectedly; restarting (attempt 1 of 3)… (exit code -9)",
                               f"ComfyUI is ready at {local.url}"]


def test_gives_up_after_the_restarts_with_the_log_tail(make_local):
    local = make_local(env={"STAND_IN_DIE_AFTER": "0.2"}, max_restarts=2)
    checker = StatusChecker(Cluster([Comfy(local.url)]), ttl=0, local=local)
    local.start()
    state = wait_for(lambda: local.state().phase == FAILED and local.state(), what="giving up")
    error = state.error
    assert isinstance(error, ComfyUIStartFailed) and error.kind == "gave_up" and error.attempts == 2
    tail = error.log_tail.splitlines()
    assert tail[0].startswith("stand-in ComfyUI pid ") and tail[-1] == "stand-in ComfyUI: dying as asked"
    expected = (f"ComfyUI stopped and was not restarted after 2 attempts. Last lines of its log "
                f"({local.log_path}):\n{error.log_tail}")
    assert describe(error) == expected == checker.get(fresh=True).text
    assert [s for s in local.said if "restarting" in s] == [
        "ComfyUI stopped unexpectedly; restarting (attempt 1 of 2)… (exit code 4)",
        "ComfyUI stopped unexpectedly; restarting (attempt 2 of 2)… (exit code 4)"]
    assert local.said[-1] == expected   # printed once, for the terminal
    assert "  \nstand-in ComfyUI: dying as asked" in banner_markdown(checker.get())   # one log line a line
    assert not alive(logged_pid(local.log_path, "stand-in ComfyUI pid "))


# ---- a first start that fails: one plain message with the log's last lines -------------------

@pytest.mark.parametrize("env, options, head, last_line", [
    ({"STAND_IN_FAIL": "ModuleNotFoundError: No module named 'torch'"}, {},
     "ComfyUI in {path} stopped before it was ready (exit code 3).", "ModuleNotFoundError: No module named 'torch'"),
    ({"STAND_IN_DELAY": "30"}, {"start_timeout": 1.5},
     "ComfyUI in {path} did not answer within 1.5 seconds.", "extra args []"),
], ids=["exits", "times-out"])
def test_a_failed_start_is_one_message_with_the_log_tail(make_local, env, options, head, last_line):
    local = make_local(env=env, max_restarts=3, **options)
    state = settled(local.start(), 20)
    assert state.phase == FAILED
    lines = local.log_path.read_text().splitlines()
    assert lines[0].startswith("--- ") and lines[-1] == last_line
    message = describe(state.error)
    assert message == (head.format(path=STAND_IN) + f" Last lines of its log ({local.log_path}):\n"
                       + "\n".join(lines[1:]))
    assert local.said[-1] == message and not [s for s in local.said if "restarting" in s]   # not retried
    assert StatusChecker(Cluster([Comfy(local.url)]), local=local).get().text == message
    assert not alive(logged_pid(local.log_path, "stand-in ComfyUI pid "))


def test_a_python_that_cannot_run_says_so(make_local):
    local = make_local(python="/nonexistent/python3")
    state = settled(local.start(), 10)
    assert describe(state.error).startswith(f"Could not start ComfyUI in {STAND_IN}: [Errno 2] No such file")


# ---- several servers: the local one's state is said first -----------------------------------

def test_over_several_servers_the_local_state_comes_first(make_local, comfy_server, tmp_path):
    local = make_local(env={"STAND_IN_WAIT_FILE": str(tmp_path / "go")})
    cluster = Cluster([Comfy(local.url), Comfy(comfy_server.url)], health_interval=0.1).start()
    try:
        checker = StatusChecker(cluster, ttl=0, local=local.start())
        text = wait_for(lambda: (t := checker.get(fresh=True)).ok and t.text, what="the other server up")
        assert text.startswith(f"Starting ComfyUI… 1 of 2 ComfyUI servers are up. Not usable now: {local.url}")
        (tmp_path / "go").touch()
        settled(local, 20)
        wait_for(lambda: checker.get(fresh=True).text == "All 2 ComfyUI servers are up", what="both up")
    finally:
        cluster.close()


# ---- finding the checkout -----------------------------------------------------------------

@pytest.mark.parametrize("system, comfy_cli", [
    ("Linux", "comfy/ComfyUI"), ("Windows", "Documents/comfy/ComfyUI"), ("Darwin", "Documents/comfy/ComfyUI"),
])
def test_auto_looks_in_comfy_clis_workspace_then_here_then_one_up(tmp_path, system, comfy_cli):
    home, cwd = tmp_path / "home", tmp_path / "work" / "app"
    assert default_candidates(home=home, cwd=cwd, system=system) == [
        home / comfy_cli, cwd / "ComfyUI", tmp_path / "work" / "ComfyUI"]


@pytest.mark.parametrize("present, expected", [
    (["comfy-cli", "here", "up"], "comfy-cli"),
    (["here", "up"], "here"),
    (["up"], "up"),
    (["here-without-main", "up"], "up"),
    ([], None),
])
def test_find_checkout_takes_the_first_folder_with_main_py(tmp_path, present, expected):
    places = {"comfy-cli": tmp_path / "home/comfy/ComfyUI", "here": tmp_path / "work/app/ComfyUI",
              "up": tmp_path / "work/ComfyUI", "here-without-main": tmp_path / "work/app/ComfyUI"}
    for name in present:
        places[name].mkdir(parents=True, exist_ok=True)
        if not name.endswith("without-main"):
            (places[name] / "main.py").write_text("")
    candidates = default_candidates(home=tmp_path / "home", cwd=tmp_path / "work/app", system="Linux")
    assert find_checkout(candidates) == (places[expected] if expected else None)
    if expected:
        assert resolve_checkout("auto", candidates) == places[expected].resolve()
    else:
        with pytest.raises(ComfyUIStartFailed) as caught:
            resolve_checkout("auto", candidates)
        assert describe(caught.value) == (
            f"No ComfyUI folder found. Looked in: {', '.join(map(str, candidates))}. "
            "Name the folder that holds ComfyUI's main.py with --comfyui-dir.")


def test_a_folder_is_a_checkout_when_it_has_main_py(tmp_path):
    assert is_checkout(STAND_IN)
    assert resolve_checkout(str(STAND_IN)) == resolve_checkout(str(STAND_IN / "main.py")) == STAND_IN
    (tmp_path / "empty").mkdir()
    for path in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(ComfyUIStartFailed) as caught:
            resolve_checkout(str(path))
        assert describe(caught.value) == (
            f"{path} is not a ComfyUI folder: expected a folder with ComfyUI's main.py in it.")
        assert describe(caught.value, lang="zh-CN") == (
            f"{path} 不是 ComfyUI 文件夹：应为包含 ComfyUI 的 main.py 的文件夹。")
