"""The equipment every benchmark shares: test servers, the app, prompts, a free port.

This is the one place that puts the repository's ``tests/`` folder on ``sys.path`` (for
``comfy_test_server``, the protocol-faithful fake ComfyUI); nothing here edits ``tests/``.
The app is built and launched as ``tests/conftest.py::launch_app`` does (``build_app`` +
``launch`` on a free port, ``queue(default_concurrency_limit=None)``), optionally over a
:class:`~comfy_ui_app.cluster.cluster.Cluster` as ``app.py`` does.
"""
from __future__ import annotations

import contextlib
import copy
import json
import os
import socket
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
WORKFLOWS = ROOT / "workflows"
CKPT = "tiny-sd15-random.safetensors"
BENCH_IDENTITY_KEY = "bench-identity-key"   # signs the browser ids the benchmarks claim (app.py's identity-key)


def bench_browser_id(name: str | None = None) -> str:
    """A browser id the benchmark's apps accept: signed with BENCH_IDENTITY_KEY (a fresh one without ``name``)."""
    import hashlib
    import uuid

    from comfy_ui_app.jobs.identity import BrowserIds

    random_part = hashlib.sha256(name.encode()).hexdigest()[:32] if name is not None else uuid.uuid4().hex
    return BrowserIds(BENCH_IDENTITY_KEY).sign(random_part)


def _tests_on_path() -> None:
    for path in (str(ROOT), str(TESTS)):
        if path not in sys.path:
            sys.path.insert(0, path)


def server_class():
    """``comfy_test_server.ComfyTestServer`` (imported on first use)."""
    _tests_on_path()
    from comfy_test_server import ComfyTestServer

    return ComfyTestServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prompt(seed: int, steps: int = 2, size: int = 64) -> dict:
    """txt2img.json filled for the test server; a new ``seed`` each job defeats its cache."""
    graph = json.loads((WORKFLOWS / "txt2img.json").read_text())
    graph["4"]["inputs"]["ckpt_name"] = CKPT
    graph["3"]["inputs"].update(seed=int(seed), steps=int(steps))
    graph["5"]["inputs"].update(width=size, height=size)
    return copy.deepcopy(graph)


@contextlib.contextmanager
def comfy_servers(count: int = 1, *, history_delay: float | None = None, **knobs):
    """``count`` started ``ComfyTestServer`` s (in threads of this process) with ``knobs``
    (``step_time`` 0 unless given); ``history_delay`` overrides the instance's
    ``HISTORY_DELAY`` (the recorded gap between ``execution_success`` and ``/history``)."""
    knobs.setdefault("step_time", 0.0)
    cls = server_class()
    servers = []
    with tempfile.TemporaryDirectory(prefix="bench-comfy-") as tmp:
        try:
            for i in range(count):
                server = cls(root=Path(tmp) / f"s{i}", port=0, **knobs)
                if history_delay is not None:
                    server.HISTORY_DELAY = history_delay
                servers.append(server.start())
            yield servers
        finally:
            for server in servers:
                server.stop()


@contextlib.contextmanager
def comfy_server(**knobs):
    with comfy_servers(1, **knobs) as (server,):
        yield server


def wrap_sends(server, on_send) -> None:
    """Call ``on_send(event, data, sid)`` for every message the server writes to a socket.

    The hook is the instance attribute ``server.messenger.send`` (the publisher task looks
    it up on each message), so ``tests/comfy_test_server`` stays as it is. ``on_send``
    runs on the server's event loop just before the write.
    """
    messenger = server.messenger
    original = messenger.send

    async def send(event, data, sid=None):
        on_send(event, data, sid)
        return await original(event, data, sid)

    messenger.send = send


@contextlib.contextmanager
def launched_app(urls, *, cluster: bool = True, per_server: int = 2, data_dir: Path | None = None):
    """The real page over ``urls`` (a Cluster, as app.py builds it, or one Comfy), launched on
    a free port in this process. Yields ``.url``, ``.demo``, ``.jobs``, ``.store``, ``.target``."""
    from comfy_ui_app import Comfy
    from comfy_ui_app.cluster.cluster import Cluster
    from comfy_ui_app.jobs.service import JobService
    from comfy_ui_app.jobs.store import JobStore
    from comfy_ui_app.ui import build_app

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    urls = [urls] if isinstance(urls, str) else list(urls)
    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp:
        tmp = Path(tmp)
        out = tmp / "outputs"
        out.mkdir()
        store = JobStore(data_dir or tmp / "data")
        target = (Cluster([Comfy(u) for u in urls], per_server=per_server) if cluster
                  else Comfy(urls[0]))
        jobs = JobService(target, store)
        target.start()
        demo = None
        try:
            if not cluster:
                target.wait_connected(10)
            demo = build_app(target, workflows_dir=WORKFLOWS, output_dir=out, jobs=jobs, browser_secret="bench",
                             identity_key=BENCH_IDENTITY_KEY)
            demo.queue(default_concurrency_limit=None)
            _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(),
                                    allowed_paths=[str(out), str(store.outputs_dir)], quiet=True)
            yield SimpleNamespace(url=url, demo=demo, jobs=jobs, store=store, target=target)
        finally:
            if demo is not None:
                demo.close()
            target.close()
            store.close()


def generate_args(client, browser: str, *, steps: int, seed: int, size: int = 64) -> list:
    """Arguments of the app's ``/generate`` endpoint by label (as tests/test_ui_api.py does)."""
    wanted = {"Prompt": "a red fox", "Negative prompt": "blurry", "Checkpoint": CKPT, "Steps": steps,
              "Width": size, "Height": size, "Seed": seed, "Random seed": False, "CFG": 7}
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/generate"]["parameters"]
    return [browser if p.get("component") == "Browserstate" else wanted.get(p["label"], p.get("parameter_default"))
            for p in params]


@contextlib.contextmanager
def page_process(argv: list[str], name: str, *, cwd: Path | None = None, timeout: float = 60.0):
    """Run ``argv`` (a Python script serving a Gradio page; ``{port}`` in it is replaced by a free
    port) as a child process; yield ``.url``, ``.proc`` and ``.startup_s`` (spawn -> first
    ``GET /`` answered 200). ``name`` names it in errors. The child is stopped on exit."""
    import subprocess
    import time

    import requests

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *(a.replace("{port}", str(port)) for a in argv)],
                            cwd=str(cwd) if cwd else None, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}")
            with contextlib.suppress(requests.RequestException):  # not listening yet
                if requests.get(url, timeout=1).status_code == 200:
                    break
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"no page from {name} at {url} after {timeout} s")
            time.sleep(0.02)
        yield SimpleNamespace(url=url, proc=proc, startup_s=time.perf_counter() - start)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def app_process(urls, data_dir: Path, *, per_server: int = 2, timeout: float = 60.0):
    """``python app.py`` as a child process (its own interpreter, as users run it) on a free
    port; yields ``.url``, ``.proc`` and ``.startup_s`` (spawn -> first ``GET /`` answered 200)."""
    urls = [urls] if isinstance(urls, str) else list(urls)
    key = data_dir / "identity-key"   # app.py keeps it there; ours, so that bench_browser_id's ids are valid
    if not key.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key.write_text(BENCH_IDENTITY_KEY)
    argv = [str(ROOT / "app.py"), "--server", ",".join(urls), "--port", "{port}",
            "--data", str(data_dir), "--per-server", str(per_server)]
    return page_process(argv, "app.py", cwd=data_dir.parent, timeout=timeout)
