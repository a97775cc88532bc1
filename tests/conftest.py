"""Shared pytest fixtures.

``tests/`` is on ``sys.path`` (rootdir conftest, no ``tests/__init__.py``), so tests can
``from comfy_test_server import ComfyTestServer``.
"""
from __future__ import annotations

import pytest

from comfy_test_server import ComfyTestServer


@pytest.fixture
def make_comfy_server(tmp_path_factory):
    """Factory: ``make_comfy_server(**knobs)`` -> a started ``ComfyTestServer``.

    Defaults to ``step_time=0`` and a fresh ``root`` under pytest's tmp dir; every
    server made is stopped at teardown.
    """
    servers: list[ComfyTestServer] = []

    def factory(**knobs) -> ComfyTestServer:
        knobs.setdefault("step_time", 0.0)
        if knobs.get("root") is None:
            knobs["root"] = tmp_path_factory.mktemp("comfy")
        server = ComfyTestServer(**knobs).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def comfy_server(make_comfy_server) -> ComfyTestServer:
    """A started test server with the fast defaults (``step_time=0``)."""
    return make_comfy_server()


# ---- web app / CLI fixtures (test_cli.py, test_ui_api.py, test_browser.py) ----
import os as _os
import socket as _socket
from types import SimpleNamespace as _NS

_os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from _identity import TEST_IDENTITY_KEY as _TEST_IDENTITY_KEY  # noqa: E402 - browser ids tests sign (_identity.browser_id)


@pytest.fixture(scope="session", autouse=True)
def _gradio_upload_folder(tmp_path_factory):
    """Gradio keeps uploads under GRADIO_TEMP_DIR; point it at pytest's temp folder, so the
    images tests create there count as picked by a browser (as Gradio's own tests do)."""
    old = _os.environ.get("GRADIO_TEMP_DIR")
    _os.environ["GRADIO_TEMP_DIR"] = str(tmp_path_factory.getbasetemp())
    yield
    if old is None:
        _os.environ.pop("GRADIO_TEMP_DIR", None)
    else:
        _os.environ["GRADIO_TEMP_DIR"] = old


def _free_port() -> int:
    with _socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dead_url():
    """The URL of a closed port on 127.0.0.1: connecting is refused at once."""
    return f"http://127.0.0.1:{_free_port()}"


@pytest.fixture
def launch_app(tmp_path):
    """launch_app(comfy_url, *, auth=None, admins=(), limits=None, per_server=2) -> app with .url, .output_dir, .comfy, .cluster, .demo,
    .jobs, .store.

    Builds and launches what app.py does (``comfy_ui_app.assembly``: a Cluster of that one server, a job
    service, the page, /healthz) on a free port; everything is closed at the end of the test.
    """
    from pathlib import Path as _Path

    from comfy_ui_app.assembly import assemble, launch as serve

    started = []

    def launch(comfy_url, *, workflows_dir=None, auth=None, admins=(), limits=None, per_server=2, policy=None):
        n = len(started)
        app = assemble([comfy_url], per_server=per_server,  # per_server: COMFY_UI_PER_SERVER (app.py: 2)
                       data_dir=tmp_path / f"data{n}", output_dir=tmp_path / f"outputs{n}",
                       workflows_dir=workflows_dir or _Path(__file__).resolve().parents[1] / "workflows",
                       admins=admins, limits=limits,  # limits: comfy_ui_app.jobs.limits.Limits
                       policy=policy,  # policy: comfy_ui_app.jobs.policy.Policy (None: a private app's)
                       browser_secret="test-secret", identity_key=_TEST_IDENTITY_KEY)
        started.append(app)
        url = serve(app, port=_free_port(), auth=auth, block=False, quiet=True)
        return _NS(url=url, output_dir=app.output_dir, comfy=app.comfy, cluster=app.cluster, demo=app.demo,
                   jobs=app.jobs, store=app.store)

    yield launch
    for app in started:
        app.close()


@pytest.fixture
def cli(capsys, monkeypatch):
    """cli(*args) -> (exit status, stdout, stderr) of the command line's ``main(args)`` in this process
    (test_cli, test_app_mode_cli)."""
    from comfy_ui_app.cli.main import main

    monkeypatch.delenv("COMFYUI_URL", raising=False)

    def call(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return call


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path, monkeypatch):
    """CLI runs record jobs under COMFY_UI_DATA: keep them out of the working tree."""
    monkeypatch.setenv("COMFY_UI_DATA", str(tmp_path / "cli-data"))


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, launched once per browser-test module.

    Not once per session: Playwright's sync API keeps an event loop on the main thread
    while it lives, and later tests that run their own loop (anyio.run) would fail.
    """
    from playwright.sync_api import sync_playwright

    from _browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def launch_app_cluster(tmp_path):
    """launch_app_cluster(urls, *, per_server=2, admins=(), labels=None) -> app over a Cluster of those servers.

    Like ``launch_app`` (``.url``, ``.demo``, ``.jobs``, ``.store``, ``.comfy`` = the first server)
    plus ``.cluster``; its Comfy objects give up quickly so that fault tests stay fast.
    """
    from pathlib import Path as _Path

    from comfy_ui_app.assembly import assemble, launch as serve

    started = []

    def launch(urls, *, per_server=2, admins=(), auth=None, give_up_after=2.0, labels=None):
        n = len(started)
        app = assemble(list(urls), labels=labels, per_server=per_server, admins=admins,  # labels: app.py's
                       data_dir=tmp_path / f"cluster-data{n}", output_dir=tmp_path / f"cluster-outputs{n}",
                       workflows_dir=_Path(__file__).resolve().parents[1] / "workflows",
                       browser_secret="test-secret", identity_key=_TEST_IDENTITY_KEY,
                       comfy_options=dict(timeout=2, poll_interval=0.1, stall_after=0.5, give_up_after=give_up_after),
                       cluster_options=dict(health_interval=0.2, give_up_after=30))
        started.append(app)
        url = serve(app, port=_free_port(), auth=auth, block=False, quiet=True)
        return _NS(url=url, output_dir=app.output_dir, comfy=app.comfy, cluster=app.cluster, demo=app.demo,
                   jobs=app.jobs, store=app.store)

    yield launch
    for app in started:
        app.close()


# ---- the hostile visitor (tests/_hostile.py): app.py in its own process, called as an attacker would ----
from _hostile import TALLY as _HOSTILE_TALLY  # noqa: E402
from _template_corpus import TALLY as _CORPUS_TALLY  # noqa: E402
from _hostile import hostile_comfy, make_hostile_app, private_app, public_app  # noqa: E402,F401


def pytest_terminal_summary(terminalreporter):
    """The hostile visitor suite's figures (issue 13), when it ran; the template corpus's (issue 14)."""
    if _CORPUS_TALLY.total:
        terminalreporter.write_sep("-", _CORPUS_TALLY.line())
        for refused in _CORPUS_TALLY.refused:
            terminalreporter.write_line(f"  refused: {refused}")
    if _HOSTILE_TALLY.cases:
        terminalreporter.write_sep("-", _HOSTILE_TALLY.line())
        for crash in _HOSTILE_TALLY.crashes:
            terminalreporter.write_line(f"  crash: {crash}")
        for leak in _HOSTILE_TALLY.leaks:
            terminalreporter.write_line(f"  leak: {leak}")
