"""The hostile visitor's tools: ``app.py`` run as production runs it, called the way an attacker calls it.

A :class:`HostileApp` is ``python app.py`` in a process of its own (public: ``--host 0.0.0.0``,
reached from loopback; or private), over a ComfyUI test server. :meth:`HostileApp.call` sends
raw JSON to Gradio's HTTP API (``POST /gradio_api/call/<api>``, then the event stream), so a
bare ``NaN``, a 5 MB string or a value of the wrong type arrives exactly as sent; nothing of
gradio_client's friendliness stands between. :meth:`HostileApp.upload` posts a file to
``/gradio_api/upload`` the same way.

Every call is counted in :data:`TALLY`, which ``conftest.py`` prints at the end of the run:
cases tried, crashes (an HTTP 5xx, Gradio's generic error event, the process gone), leaks
(a forbidden text, such as a server path or another user's prompt, in what came back) and the
apps' peak resident memory. The tests assert the same things case by case, so a crash or a
leak fails its test; the tally is the figure the issue asks to see.
"""
from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

REPO = Path(__file__).resolve().parents[1]
GENERIC_ERRORS = ("raised an exception", "Unexpected error", "Traceback", "Error(", "Exception(")


@dataclass
class Tally:
    cases: int = 0
    crashes: list = field(default_factory=list)
    leaks: list = field(default_factory=list)
    peak_rss_mb: dict = field(default_factory=dict)   # app name -> MB

    def line(self) -> str:
        peak = max(self.peak_rss_mb.values(), default=0)
        return (f"hostile visitor: {self.cases} cases tried, {len(self.crashes)} crashes, {len(self.leaks)} leaks, "
                f"peak RSS {peak:.0f} MB ({', '.join(f'{k} {v:.0f} MB' for k, v in sorted(self.peak_rss_mb.items()))})")


TALLY = Tally()


@dataclass
class Outcome:
    """What one raw call brought back."""

    api: str
    status: int                      # of the POST
    events: list[tuple[str, Any]]    # (event name, decoded data) in order
    labels: list[str]                # the endpoint's output labels, in order
    text: str = ""                   # everything that came back, as text (for leak checks)

    @property
    def final(self) -> list | None:
        """The data of the ``complete`` event (None if there was none)."""
        for name, data in reversed(self.events):
            if name == "complete":
                return data
        return None

    @property
    def error(self) -> Any:
        """The data of an ``error`` event, ``"<no data>"`` when Gradio sent it empty; None when none came."""
        for name, data in self.events:
            if name == "error":
                return data if data is not None else "<no data>"
        return None

    @property
    def crashed(self) -> bool:
        """An HTTP 5xx, or Gradio's generic error: the handler raised something unplanned."""
        if self.status >= 500:
            return True
        error = self.error
        if error is None:
            return False
        text = error.get("error") if isinstance(error, dict) else error   # /call sends {"error": null}
        return text is None or text == "<no data>" or any(word in str(text) for word in GENERIC_ERRORS)

    def output(self, label: str, *, nth: int = 0) -> Any:
        """The final value of the output labelled ``label`` (the ``nth`` one with that label);
        an update dict gives its ``value``."""
        found = [i for i, name in enumerate(self.labels) if name == label]
        if len(found) <= nth:
            raise KeyError(f"no output labelled {label!r} in {self.labels}")
        value = (self.final or [])[found[nth]] if self.final else None
        return value.get("value") if isinstance(value, dict) and "__type__" in value else value

    def texts(self) -> str:
        """Every string of the final outputs, joined (what the page would show)."""
        out: list[str] = []

        def walk(value):
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, dict):
                for k, v in value.items():
                    if k != "__type__":
                        walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        walk(self.final or [])
        return "\n".join(out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HostileApp:
    """``python app.py *flags`` in its own process, over ``comfy_url``; ``name`` labels its figures."""

    def __init__(self, name: str, comfy_url: str, data_dir: Path, flags: tuple[str, ...] = (),
                 env: dict | None = None, public: bool = True) -> None:
        self.name = name
        self.port = free_port()
        self.data_dir = data_dir
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"{data_dir.name}.log"
        host = "0.0.0.0" if public else "127.0.0.1"
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("COMFY", "GRADIO_SERVER"))}
        environ.update({"GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_TEMP_DIR": str(data_dir / "gradio-tmp"),
                        "PYTHONUNBUFFERED": "1"}, **(env or {}))
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(REPO / "app.py"), "--server", comfy_url, "--host", host, "--port", str(self.port),
             "--data", str(data_dir), *flags],
            cwd=REPO, env=environ, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._config: dict | None = None
        self.http = requests.Session()   # cookies of a login (as_user), none otherwise
        self._wait_up()

    def _wait_up(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"app.py exited ({self.proc.returncode}): {self.log()[-2000:]}")
            try:
                if self.http.get(self.url + "/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        pytest.fail(f"app.py did not serve its page within {timeout} s: {self.log()[-2000:]}")

    def as_user(self, user: str, password: str) -> "HostileApp":
        """This app seen by a visitor logged in (``--auth``) as ``user``: the same process, calls carrying
        the login cookie Gradio's ``POST /login`` sets."""
        view = copy.copy(self)
        view.http = requests.Session()
        view._config = None
        answer = view.http.post(self.url + "/login", data={"username": user, "password": password}, timeout=30)
        assert answer.status_code == 200, f"login as {user}: {answer.status_code} {answer.text[:200]}"
        return view

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- what the page publishes ---------------------------------------------------------

    @property
    def config(self) -> dict:
        if self._config is None:
            self._config = self.http.get(self.url + "/config", timeout=10).json()
        return self._config

    def _component(self, i: int) -> dict:
        return next((c for c in self.config["components"] if c["id"] == i), {})

    def _labels(self, ids: list[int]) -> list[str]:
        return [str((self._component(i).get("props") or {}).get("label") or self._component(i).get("type"))
                for i in ids]

    def endpoint(self, api: str) -> dict:
        """``{"inputs": [labels], "outputs": [labels], "defaults": [page values], "fn_index": n}`` of the
        event named ``api``."""
        for n, dep in enumerate(self.config["dependencies"]):
            if dep.get("api_name") == api:
                return {"inputs": self._labels(dep["inputs"]), "outputs": self._labels(dep["outputs"]),
                        "defaults": [(self._component(i).get("props") or {}).get("value") for i in dep["inputs"]],
                        "fn_index": dep.get("id", n)}
        raise KeyError(f"no endpoint {api!r}")

    def inputs(self, api: str, values: dict[str, Any] | None = None) -> list:
        """A data list for ``api``: ``values`` by input label (a label used twice takes the first), the
        rest what the page starts with (a browser id: ``""``, as a caller without one sends)."""
        point = self.endpoint(api)
        unknown = set(values or {}) - set(point["inputs"])
        assert not unknown, f"{api} has no inputs {unknown}; it has {point['inputs']}"
        return [(values or {}).get(label, default) for label, default in zip(point["inputs"], point["defaults"])]

    # -- calls as an attacker makes them ---------------------------------------------------

    def call(self, api: str, data: list | None = None, *, body: bytes | None = None, timeout: float = 120.0,
             forbidden: tuple[str, ...] = ()) -> Outcome:
        """POST raw JSON (``data``, or ``body`` bytes as they are) to ``/gradio_api/call/<api>`` and read
        its event stream to the end. Counted in :data:`TALLY`; a ``forbidden`` text in the answer is a leak."""
        payload = body if body is not None else json.dumps({"data": data}).encode()   # NaN stays a bare NaN
        TALLY.cases += 1
        try:
            answer = self.http.post(f"{self.url}/gradio_api/call/{api}", data=payload, timeout=30,
                                   headers={"content-type": "application/json"})
        except requests.RequestException as exc:
            return self._count(Outcome(api, 599, [("error", f"{type(exc).__name__}")], []), forbidden)
        events: list[tuple[str, Any]] = []
        text = answer.text
        if answer.status_code == 200 and "event_id" in answer.text:
            event_id = answer.json()["event_id"]
            name = None
            with self.http.get(f"{self.url}/gradio_api/call/{api}/{event_id}", stream=True, timeout=timeout) as stream:
                for line in stream.iter_lines(decode_unicode=True):
                    text += "\n" + line if line else ""
                    if line.startswith("event:"):
                        name = line.split(":", 1)[1].strip()
                    elif line.startswith("data:"):
                        raw = line.split(":", 1)[1].strip()
                        try:
                            events.append((name, json.loads(raw)))
                        except ValueError:
                            events.append((name, raw))
                        if name in ("complete", "error"):
                            break
        try:
            labels = self.endpoint(api)["outputs"]
        except KeyError:
            labels = []
        return self._count(Outcome(api, answer.status_code, events, labels, text), forbidden)

    def _count(self, outcome: Outcome, forbidden: tuple[str, ...]) -> Outcome:
        if outcome.crashed or self.proc.poll() is not None:
            TALLY.crashes.append((self.name, outcome.api, str(outcome.error)[:200]))
        for word in forbidden:
            if word and word in outcome.text:
                TALLY.leaks.append((self.name, outcome.api, word[:80]))
        self.note_rss()
        return outcome

    def get(self, path: str, **kwargs) -> requests.Response:
        """A raw GET (a file route, /config…), counted as a case."""
        TALLY.cases += 1
        return self.http.get(self.url + path, timeout=kwargs.pop("timeout", 30), **kwargs)

    def upload(self, content: bytes, name: str = "picture.png") -> dict:
        """POST ``content`` to Gradio's upload route as file ``name``; the FileData dict a call then sends."""
        answer = self.http.post(f"{self.url}/gradio_api/upload", files={"files": (name, content)}, timeout=60)
        answer.raise_for_status()
        path = answer.json()[0]
        return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}

    # -- health ------------------------------------------------------------------------------

    def alive(self) -> bool:
        """Still running, and still serving its page."""
        if self.proc.poll() is not None:
            return False
        try:
            return self.http.get(self.url + "/", timeout=10).status_code == 200
        except requests.RequestException:
            return False

    def rss_mb(self) -> tuple[float, float]:
        """(resident now, peak resident) of the app's process, in MB (Linux /proc)."""
        now = peak = 0.0
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    now = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) / 1024
        except OSError:
            pass
        return now, peak

    def note_rss(self) -> None:
        _, peak = self.rss_mb()
        if peak:
            TALLY.peak_rss_mb[self.name] = max(peak, TALLY.peak_rss_mb.get(self.name, 0.0))

    def stop(self) -> None:
        self.note_rss()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


def assert_survived(app: HostileApp, outcome: Outcome) -> None:
    """The call did not crash the handler and the app still serves its page."""
    assert not outcome.crashed, f"{outcome.api}: Gradio's generic error or a 5xx: {outcome.error!r}"
    assert app.alive(), f"{app.name} stopped serving: {app.log()[-2000:]}"


# -- fixtures (conftest.py imports them, so each app starts once per run) -------------------

@pytest.fixture(scope="session")
def hostile_comfy(tmp_path_factory):
    """A ComfyUI test server for the hostile apps (zero work per step)."""
    from comfy_test_server import ComfyTestServer

    server = ComfyTestServer(step_time=0.0, root=tmp_path_factory.mktemp("hostile-comfy")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def make_hostile_app(hostile_comfy, tmp_path_factory):
    """``make_hostile_app(name, *flags, public=True, env=None)`` -> a started :class:`HostileApp`, one per
    distinct (name, flags, public, env): apps with the same arguments are shared by every test."""
    apps: dict[tuple, HostileApp] = {}

    def make(name: str, *flags: str, public: bool = True, env: dict | None = None) -> HostileApp:
        key = (name, flags, public, tuple(sorted((env or {}).items())))
        if key not in apps or not apps[key].alive():
            apps[key] = HostileApp(name, hostile_comfy.url, tmp_path_factory.mktemp(f"hostile-{name}"), flags,
                                   env=env, public=public)
        return apps[key]

    yield make
    for app in apps.values():
        app.stop()


@pytest.fixture(scope="session")
def public_app(make_hostile_app) -> HostileApp:
    """``app.py --host 0.0.0.0`` with the defaults: a public app, no login."""
    return make_hostile_app("public")


@pytest.fixture(scope="session")
def private_app(make_hostile_app) -> HostileApp:
    """``app.py`` on loopback with the defaults: a private app, no login."""
    return make_hostile_app("private", public=False)


# -- a page's session, driven raw (engineer A, issue 13 point 1) -----------------------------------

def queue_join(app: HostileApp, fn_index: int, data: list, session: str, *, trigger_id: int | None = None,
               timeout: float = 120.0) -> dict:
    """Run event ``fn_index`` in ``session`` as the page does (``/gradio_api/queue/join``, then the
    session's event stream) and return its ``process_completed`` message (``{"msg": "error"}``-like
    dict with ``success`` False when it failed). Works for private events too: the page calls them so."""
    answer = app.http.post(f"{app.url}/gradio_api/queue/join", timeout=30,
                           json={"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
                                 "trigger_id": trigger_id})
    answer.raise_for_status()
    with app.http.get(f"{app.url}/gradio_api/queue/data", params={"session_hash": session}, stream=True,
                      timeout=timeout) as stream:
        for line in stream.iter_lines(chunk_size=1 << 16, decode_unicode=True):   # a form's render is MBs
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    return {"msg": "process_completed", "success": False, "output": {"error": "<stream ended>"}}


def run_custom_workflow(app: HostileApp, workflow: dict, *, name: str = "workflow.json",
                        forbidden: tuple[str, ...] = (), values: dict[str, Any] | None = None,
                        session: str | None = None) -> Outcome:
    """Upload ``workflow`` in the Custom workflow tab and press its Generate, all raw in one new session:
    the tab's (private) ``load`` event, the form's render, then the rendered Generate with the form's
    own starting values (``values``: ``{start of a field's label: value}`` sent instead, e.g. a file
    from :meth:`HostileApp.upload`; ``session``: run in that session, whose History then lists the job).
    The Generate's last update comes back as an :class:`Outcome`
    (``api`` "custom_generate"), counted in :data:`TALLY`."""
    import uuid

    session = session or uuid.uuid4().hex[:12]
    TALLY.cases += 1
    deps = app.config["dependencies"]
    load = next(d for d in deps if d.get("api_name") == "load")
    loaded = load["outputs"][0]
    render = next(d for d in deps if [loaded, "change"] in [list(t) for t in d.get("targets", [])])
    lang = next(i for i in render["inputs"] if i != loaded)
    upload = app.http.post(f"{app.url}/gradio_api/upload", timeout=60,
                           files={"files": (name, json.dumps(workflow).encode())})
    upload.raise_for_status()
    file = {"path": upload.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}
    done = queue_join(app, load["id"], [file, "en"], session, trigger_id=load["targets"][0][0])
    rendered = queue_join(app, render["id"], [None, "en"], session, trigger_id=loaded)
    config = (rendered.get("output") or {}).get("render_config") or {}
    components = {c["id"]: c for c in app.config["components"]}
    components.update({c["id"]: c for c in config.get("components", [])})
    generate = next((d for d in config.get("dependencies", []) for t in d["targets"]
                     if (components.get(t[0], {}).get("props") or {}).get("elem_id") == "custom-generate"), None)
    if generate is None:   # no form: what the load said is the outcome
        text = json.dumps(done) + json.dumps(rendered)
        return app._count(Outcome("custom_generate", 200, [("complete", (done.get("output") or {}).get("data"))],
                                  ["workflow", "Load message"], text), forbidden)
    data = ["en" if i == lang else "" if components.get(i, {}).get("type") == "browserstate"
            else (components.get(i, {}).get("props") or {}).get("value") for i in generate["inputs"]]
    for label, value in (values or {}).items():
        chosen = [n for n, i in enumerate(generate["inputs"])
                  if str((components.get(i, {}).get("props") or {}).get("label") or "").startswith(label)]
        assert chosen, f"no field labelled {label!r}"
        data[chosen[0]] = value
    ran = queue_join(app, generate["id"], data, session, trigger_id=generate["targets"][0][0])
    labels = [str((components.get(i, {}).get("props") or {}).get("label") or components.get(i, {}).get("type"))
              for i in generate["outputs"]]
    output = ran.get("output") or {}
    events = [("complete", output["data"])] if ran.get("success") and "data" in output else [
        ("error", output.get("error") or "<no data>")]
    return app._count(Outcome("custom_generate", 200, events, labels, json.dumps(ran)), forbidden)


# -- added for issue 13's value checks (tests/test_hostile_values.py) --------------------------------

def generic_error(outcome: Outcome):
    """Gradio's error event for an exception it does not word (``{"error": null}``: what a caller
    without ``show_error`` gets for any crash, which :attr:`Outcome.crashed` does not count), or one
    with the generic words; None when neither came."""
    error = outcome.error
    if error is None:
        return None
    text = error.get("error") if isinstance(error, dict) else error
    if text is None or text == "<no data>" or any(word in str(text) for word in GENERIC_ERRORS):
        return error
    return None


# -- calls in one browser session (engineer B: the Custom workflow tab's load, then its form) ----------

def join(app: HostileApp, api: str, data: list, session: str, *, timeout: float = 120.0) -> Outcome:
    """Run the event named ``api`` as the page does (``POST /gradio_api/queue/join`` with ``session``
    as its session hash), and read that session's event stream to the event's end. Unlike
    :meth:`HostileApp.call` a session keeps its ``gr.State`` between calls, so a ``load`` followed by
    the ``@gr.render`` that draws its form (api name ``apply``) sees the loaded workflow. Counted in
    :data:`TALLY`; a ``process_completed`` with ``success: false`` is an ``error`` event."""
    point = app.endpoint(api)
    TALLY.cases += 1
    try:
        answer = app.http.post(f"{app.url}/gradio_api/queue/join", timeout=30,
                               json={"data": data, "fn_index": point["fn_index"], "session_hash": session,
                                     "trigger_id": None, "event_data": None})
    except requests.RequestException as exc:
        return app._count(Outcome(api, 599, [("error", type(exc).__name__)], point["outputs"]), ())
    events: list[tuple[str, Any]] = []
    text = answer.text
    if answer.status_code == 200:
        event_id = answer.json()["event_id"]
        with app.http.get(f"{app.url}/gradio_api/queue/data", params={"session_hash": session}, stream=True,
                          timeout=timeout) as stream:
            for line in stream.iter_lines(chunk_size=1 << 16, decode_unicode=True):   # a form is MBs
                if not line.startswith("data:"):
                    continue
                text += "\n" + line
                message = json.loads(line.split(":", 1)[1])
                if message.get("event_id") not in (None, event_id):
                    continue
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if message.get("success"):
                        events.append(("complete", output.get("data")))
                    else:
                        events.append(("error", output.get("error") or "<no data>"))
                    break
                if message.get("msg") == "close_stream":
                    break
    return app._count(Outcome(api, answer.status_code, events, point["outputs"], text), ())
