"""Server labels: a public page names ComfyUI servers ("ComfyUI server 2"), never shows their addresses.

``Comfy(url, label=...)`` names a server; its errors carry only the address (``url`` and
``str(error)``, for logs); ``describe`` given the page's ``ServerNames`` says the label; the banner,
the System and Queue tabs and the stored job errors use it. ``app.py`` hides addresses by default when the page
is public (a Space, ``--share``, a ``--host`` beyond this computer). Without labels (the
``launch_app`` fixtures) the address is still named: the other test files check that.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from gradio_client import Client

import app
from comfy_ui_app import Comfy
from comfy_ui_app.cluster.dispatch import ServerState
from comfy_ui_app.errors import (
    JobLost, PromptRejected, ServerHTTPError, ServerUnreachable, error_from_record, error_record,
)
from comfy_ui_app.texts.messages import describe, describe_recorded
from comfy_ui_app.texts.server_names import ServerNames
from comfy_ui_app.ui.status import ServerStatus
from comfy_ui_app.ui.system_numbers import Summary, number_rows
from test_app_cluster import banner, healthy, server_rows
from test_ui_api import generate, outputs_of
from _waiting import wait_for
from _identity import browser_id, owner_of

REPO = Path(__file__).resolve().parents[1]
URL = "http://10.0.0.5:8188"
ONE, TWO = "ComfyUI server 1", "ComfyUI server 2"
AS_ONE, AS_TWO = ServerNames({URL: ONE}), ServerNames({URL: TWO})  # what a public page calls the server


def host_port(url: str) -> str:
    return url.split("//", 1)[1]


@pytest.mark.parametrize("exc, names, retrying, english, chinese", [
    (ServerUnreachable(URL, "connection refused or lost"), AS_TWO, False,
     "Cannot reach ComfyUI server 2. Is it running?", "无法连接到 ComfyUI server 2。它正在运行吗？"),
    (ServerUnreachable(URL, "timed out"), AS_TWO, True,
     "Cannot reach ComfyUI server 2. Is it running? Retrying automatically.",
     "无法连接到 ComfyUI server 2。它正在运行吗？正在自动重试。"),
    (ServerUnreachable(URL, "timed out"), ServerNames(), False,  # no label: the address, as before
     f"Cannot reach ComfyUI at {URL}. Is it running?", f"无法连接到 ComfyUI（{URL}）。它正在运行吗？"),
    (ServerUnreachable(URL, "timed out"), ServerNames({URL: URL}), False,  # the label is the address: shown
     f"Cannot reach ComfyUI at {URL}. Is it running?", f"无法连接到 ComfyUI（{URL}）。它正在运行吗？"),
    (ServerHTTPError(500, URL + "/prompt", "Internal Server Error"), AS_ONE, False,
     "ComfyUI server 1 answered with an error (HTTP 500): Internal Server Error",
     "ComfyUI server 1 返回了错误（HTTP 500）：Internal Server Error"),
    (ServerHTTPError(502, URL + "/prompt", ""), AS_ONE, False,
     "ComfyUI server 1 answered with an error (HTTP 502).", "ComfyUI server 1 返回了错误（HTTP 502）。"),
    (ServerHTTPError(500, URL + "/prompt", "Internal Server Error"), ServerNames(), False,
     f"ComfyUI answered with an error (HTTP 500) at {URL}/prompt: Internal Server Error",
     f"ComfyUI 返回了错误（HTTP 500，{URL}/prompt）：Internal Server Error"),
    (JobLost("pid", "no news", url=URL, started=True), AS_TWO, False,
     "ComfyUI server 2 stopped while this job ran. Please try again.", "ComfyUI server 2 在运行此任务时停止了。请重试。"),
    (JobLost("pid", "gone", url=URL), AS_TWO, False,
     "ComfyUI server 2 no longer knows this job (it may have restarted). Please try again.",
     "ComfyUI server 2 已不再记得此任务（它可能已重启）。请重试。"),
    (JobLost("pid", "no news", url=URL, started=True), ServerNames(), False,
     f"ComfyUI at {URL} stopped while this job ran. Please try again.", f"ComfyUI（{URL}）在运行此任务时停止了。请重试。"),
    (PromptRejected(URL + "/prompt", {"type": "prompt_no_outputs", "message": "Prompt has no outputs"}, {}),
     AS_ONE, False,
     "ComfyUI rejected the request: the workflow has no output node (such as Save Image), so there is nothing "
     "to run.",
     None),
])
def test_describe_says_the_label_and_keeps_the_address_in_the_error(exc, names, retrying, english, chinese):
    assert describe(exc, retrying=retrying, names=names) == english
    if chinese is not None:
        assert describe(exc, retrying=retrying, lang="zh-CN", names=names) == chinese
    assert exc.url.startswith(URL) and (URL in str(exc) or isinstance(exc, PromptRejected))  # logs keep it
    assert not hasattr(exc, "label")  # the error carries the address only: the page decides what it shows
    if names:
        assert host_port(URL) not in describe(exc, names=names) + describe(exc, lang="zh-CN", names=names)
    line, code, data = error_record(exc)  # what a job record keeps: the line (logs) and code + data
    assert line == str(exc)
    recorded = error_from_record(line, code, data)  # what History and a reloaded page word
    for lang in ("en", "zh-CN"):
        assert describe(recorded, retrying=False, lang=lang, names=names) == describe(exc, retrying=False, lang=lang,
                                                                                      names=names)


def test_a_labelled_comfys_errors_are_worded_with_its_label_by_the_pages_names(comfy_server, dead_url):
    named = Comfy(dead_url, label=TWO)
    with pytest.raises(ServerUnreachable) as down:
        named.check()
    assert down.value.url == dead_url and dead_url in str(down.value)  # the client's errors: the address only
    assert describe(down.value, names=ServerNames.of([named])) == \
        "Cannot reach ComfyUI server 2. Is it running? Retrying automatically."
    comfy = Comfy(comfy_server.url, label=ONE)
    assert (comfy.url, comfy.label) == (comfy_server.url, ONE) and not hasattr(comfy.client, "label")
    with pytest.raises(ServerHTTPError) as missing:
        comfy.client.view("no-such-file.png")
    assert missing.value.status == 404 and missing.value.url.startswith(comfy_server.url + "/view")
    assert describe(missing.value, names=ServerNames.of([comfy])).startswith(
        "ComfyUI server 1 answered with an error (HTTP 404)")
    assert comfy_server.url in describe(missing.value)  # no names (the command line): the address
    plain = Comfy(comfy_server.url)  # no label: the address, and the page's names hide nothing
    assert plain.label == plain.url and not ServerNames.of([plain])
    with pytest.raises(ServerHTTPError) as missing:
        plain.client.view("no-such-file.png")
    assert comfy_server.url in describe(missing.value, names=ServerNames.of([plain]))


def _state(url, label, reason, error=None):
    return ServerState(url, False, reason, 0, None, [], set(), None, label, error)


@pytest.mark.parametrize("lang, label, expected", [
    ("en", TWO, "None of the 1 ComfyUI servers can be reached (Cannot reach ComfyUI server 2. Is it running?). "
                "Retrying automatically."),
    ("zh-CN", TWO, "1 台 ComfyUI 服务器都无法连接（无法连接到 ComfyUI server 2。它正在运行吗？）。正在自动重试。"),
    ("en", URL, f"None of the 1 ComfyUI servers can be reached ({URL}: Cannot reach ComfyUI at {URL} (timed out)). "
                "Retrying automatically."),  # shown: the cluster's own words, as before
])
def test_the_several_servers_banner_names_a_labelled_server_in_the_pages_language(lang, label, expected):
    error = ServerUnreachable(URL, "timed out")
    status = ServerStatus(False, "None of the {total} ComfyUI servers can be reached ({down}). Retrying automatically.",
                          (("total", 1),), down=(_state(URL, label, str(error), error),))
    assert status.in_language(lang) == expected


def test_jobs_of_servers_no_longer_configured_are_not_shown_by_address_either():
    per_server = {"http://a:1": Summary(), "http://old:9": Summary(), "": Summary()}
    rows = number_rows(per_server, Summary(), servers=["http://a:1"], depths={"http://a:1": 0}, app_waiting=0,
                       lang="en", labels={"http://a:1": ONE})
    assert [row[0] for row in rows] == [ONE, "Former server 1", "The app's own queue", "All"]
    rows = number_rows(per_server, Summary(), servers=["http://a:1"], depths={}, app_waiting=0, lang="zh-CN",
                       labels={"http://a:1": "http://a:1"})  # shown: addresses, as before
    assert [row[0] for row in rows][:2] == ["http://a:1", "http://old:9"]


@pytest.mark.parametrize("env, argv, shown", [
    ({}, [], True),                                            # a private app on this computer
    ({}, ["--host", "localhost"], True),
    ({}, ["--host", "::1"], True),
    ({}, ["--host", "127.0.0.2"], True),
    ({"SYSTEM": "spaces"}, [], False),                         # a Hugging Face Space
    ({}, ["--share"], False),                                  # a public gradio.live link
    ({}, ["--host", "0.0.0.0"], False),                        # every interface
    ({"GRADIO_SERVER_NAME": "192.168.1.20"}, [], False),
    ({"SYSTEM": "spaces"}, ["--show-server-urls"], True),      # asked for, either way
    ({}, ["--no-show-server-urls"], False),
    ({"COMFY_UI_SHOW_SERVER_URLS": "1", "SYSTEM": "spaces"}, [], True),
    ({"COMFY_UI_SHOW_SERVER_URLS": "0"}, [], False),
    ({"COMFY_UI_SHOW_SERVER_URLS": "0"}, ["--show-server-urls"], True),  # the flag wins
    ({"COMFY_UI_SHOW_SERVER_URLS": ""}, ["--share"], False),
])
def test_addresses_are_shown_on_a_private_app_and_hidden_on_a_public_one(env, argv, shown):
    args = app.build_parser(env=env).parse_args(argv)
    assert app.show_server_urls(args) is shown
    urls = ["http://gpu-1:8188", "http://gpu-2:8188"]
    assert app.server_labels(urls, shown) == ([None, None] if shown else [ONE, TWO])


def test_a_switch_that_is_neither_one_nor_zero_stops_the_app(capsys):
    with pytest.raises(SystemExit) as stopped:
        app.build_parser(env={"COMFY_UI_SHOW_SERVER_URLS": "maybe"}).parse_args([])
    assert stopped.value.code == 2
    assert "COMFY_UI_SHOW_SERVER_URLS must be 1 or 0" in capsys.readouterr().err


def test_the_page_never_shows_a_labelled_servers_address(make_comfy_server, dead_url, launch_app_cluster):
    slow = make_comfy_server(step_time=0.05, steps=400)
    app_ = launch_app_cluster([slow.url, dead_url], labels=[ONE, TWO])
    healthy(app_, 1)
    wait_for(lambda: app_.cluster.servers[1].error is not None, what="server 2's health check to fail")
    addresses = [host_port(slow.url), host_port(dead_url)]

    def shown(answer) -> str:
        text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False, default=str)
        assert not [a for a in addresses if a in text], text
        return text

    client = Client(app_.url, verbose=False, download_files=False)
    assert shown(banner(client)) == "✔ 1 of 2 ComfyUI servers are up. Not usable now: Cannot reach ComfyUI server 2. " \
                                    "Is it running?"
    config = shown(requests.get(app_.url.rstrip("/") + "/config", timeout=10).json())
    assert ONE in config and TWO in config  # the System tab's server picker, the first banner
    rows = server_rows(client)
    shown(rows)
    assert [row[:2] for row in rows] == [[ONE, "✔"], [TWO, "⚠ Cannot reach ComfyUI server 2. Is it running?"]]
    refreshed = shown(client.predict(browser_id("bob"), 2, api_name="/system_refresh"))  # server 2's stats: it is down
    assert "Cannot reach ComfyUI server 2" in refreshed

    run = generate(client, browser="alice")
    record = wait_for(lambda: next(iter(app_.store.list(owner=owner_of("alice"), statuses=["running"])), None),
                      what="the job to run")
    queue = shown(client.predict(browser_id("alice"), api_name="/queue_load"))
    assert ONE in queue  # the Server column
    slow.stop()
    message = shown(outputs_of(run, timeout=60)[-1][3])
    assert message.startswith("ComfyUI server 1 stopped while this job ran"), message
    failed = wait_for(lambda: app_.store.get(record.job_id).done and app_.store.get(record.job_id), what="the record")
    names = ServerNames.of(app_.cluster.comfies)  # what the page calls its servers: the record is worded with them
    assert failed.status == "lost" and shown(describe_recorded(failed, names=names)).startswith(
        "ComfyUI server 1 stopped while this job ran")
    assert failed.server == slow.url and slow.url in failed.error  # the record keeps the address (operators, logs)
    opened = shown(client.predict(record.job_id, browser_id("alice"), api_name="/history_open"))
    assert "ComfyUI server 1 stopped while this job ran" in opened
    shown(client.predict(api_name="/system_numbers"))
    healthy(app_, 0)
    wait_for(lambda: "None of the 2" in banner(client), what="the banner to say both are down")
    assert shown(banner(client)).count("Cannot reach ComfyUI server") == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_app_py_labels_the_servers_when_told_to(tmp_path, comfy_server, dead_url):
    port = _free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), COMFY_UI_DATA=str(tmp_path), GRADIO_ANALYTICS_ENABLED="False")
    env.pop("COMFYUI_URL", None)
    proc = subprocess.Popen([sys.executable, "app.py", "--no-show-server-urls", "--server",
                             f"{comfy_server.url},{dead_url}"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(base, timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert proc.poll() is None, proc.stdout.read()
        client = Client(base, verbose=False, download_files=False)
        text = wait_for(lambda: (lambda t: "1 of 2" in t and t)(banner(client)), what="the health checks")
        config = requests.get(base + "config", timeout=10).text
        for address in (host_port(comfy_server.url), host_port(dead_url)):
            assert address not in text and address not in config
        assert "Cannot reach ComfyUI server 2" in text and ONE in config
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_server_names_name_a_server_by_its_address_a_route_under_it_or_a_list_and_hide_every_spelling():
    names = ServerNames({URL: TWO, "http://gpu-1:8188": ONE, "http://shown:1": "http://shown:1"})
    assert names.name_of(URL) == TWO and names.name_of(URL + "/prompt?x=1") == TWO
    assert names.name_of(f"http://gpu-1:8188, {URL}") == f"{ONE}, {TWO}"
    assert names.name_of("http://shown:1") is None and names.name_of(URL + "1") is None
    text = f"at {URL}/view?filename=a.png, {host_port(URL)} and http://gpu-1:8188. Not {URL}1 nor http://shown:1"
    assert names.hide(text) == f"at {TWO}, {TWO} and {ONE}. Not {URL}1 nor http://shown:1"
    assert not ServerNames() and not ServerNames({URL: URL}) and names


def test_an_error_recorded_before_labels_left_the_errors_is_worded_with_the_pages_names():
    """Rows written while errors carried ``label`` ([url, label] pairs in ``unasked``)."""
    lost = type("Record", (), {"error": f"ComfyUI at {URL} stopped while this job ran", "error_code": "job_lost",
                               "error_data": {"prompt_id": "p", "reason": "", "url": URL, "label": TWO,
                                              "started": True}})()
    assert describe_recorded(lost, names=AS_TWO) == "ComfyUI server 2 stopped while this job ran. Please try again."
    unasked = type("Record", (), {"error": "x", "error_code": "no_server_can_run", "error_data": {
        "missing_nodes": [], "missing_checkpoints": ["c"], "answered": True, "unasked": [[URL, TWO]], "waited": 2}})()
    worded = describe_recorded(unasked, names=AS_TWO)
    assert worded.endswith("ComfyUI server 2 could not be asked (it has not answered for 2 s)")
    assert host_port(URL) not in worded and URL in describe_recorded(unasked)  # no names: the address
    old = type("Record", (), {"error": f"Cannot reach ComfyUI at {URL}", "error_code": None, "error_data": None})()
    assert host_port(URL) not in describe_recorded(old, names=AS_TWO)  # an English line only: its address hidden
