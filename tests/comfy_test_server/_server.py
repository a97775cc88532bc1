"""``ComfyTestServer``: the aiohttp app in a background thread, plus the test controls.

App-level behaviour and sources (``tests/fixtures/comfyui``):

* every route exists as ``/x`` and ``/api/x`` with identical answers, ``/internal/*``
  only without the prefix (``api_prefix_comparison.json``);
* a GET that matches no route is a 404 with an empty chunked
  ``application/octet-stream`` body - in ComfyUI it falls through to the static file
  handler at ``/`` - so GET on ``/interrupt``, ``/free``, ``/upload/image`` gives that
  404, not 405 (``http_get_endpoints.json``);
* origin check: with an ``Origin`` header on a loopback ``Host``, host:port must match
  or the answer is ``403`` with an empty body; ``Origin: null`` passes
  (``http_get_endpoints.json`` -> ``origin_check``).
"""
from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import shutil
import socket
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from aiohttp import web

from . import _images
from ._executor import Executor
from ._files import FileRoutes
from ._nodes import RECORDED_CHECKPOINTS, NodeTable
from ._queue import PromptQueue
from ._routes import Routes
from ._validation import Validator
from ._ws import Messenger


def _is_loopback(host) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


@web.middleware
async def origin_only_middleware(request: web.Request, handler):
    if "Host" in request.headers and "Origin" in request.headers:
        host_domain = request.headers["Host"].lower()
        parsed = urllib.parse.urlparse(request.headers["Origin"])
        origin_domain = parsed.netloc.lower()
        host_parsed = urllib.parse.urlsplit("//" + host_domain)
        if _is_loopback(host_parsed.hostname):
            if parsed.port is None:
                host_domain = host_parsed.hostname
            if host_parsed.port is None:
                origin_domain = parsed.hostname
            if host_domain and origin_domain and host_domain != origin_domain:
                return web.Response(status=403)
    if request.method == "OPTIONS":
        return web.Response()
    return await handler(request)


async def _static_404(request):
    return web.StreamResponse(status=404)


async def _index(request):
    return web.Response(text="<!doctype html><title>ComfyUI test server</title>", content_type="text/html")


class ComfyTestServer:
    """A protocol-faithful stand-in for a ComfyUI 0.3.64 server (see package docs)."""

    #: Seconds between delivering ``execution_success``/``_error``/``_interrupted`` and
    #: writing the history entry (then ``status`` and the end marker follow). Reading
    #: ``/history`` right on ``execution_success`` gives ``{}``, as recorded (README,
    #: "Timing pitfall"); wait for ``executing {node: null}`` instead.
    HISTORY_DELAY = 0.02

    def __init__(self, root=None, host: str = "127.0.0.1", port: int = 0, step_time: float = 0.0,
                 steps: int | None = None, preview: bool = True, preview_size: int = 512,
                 checkpoints: list[str] = RECORDED_CHECKPOINTS, newer_server: bool = False,
                 loras: list[str] = (), node_time: dict[str, float] | None = None,
                 upscale_models: list[str] = ()):
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="comfy-test-") if root is None else root).resolve()
        self.host, self.port = host, port
        self.step_time, self.steps = float(step_time), steps
        self.node_time = dict(node_time or {})
        self.preview, self.preview_size = preview, int(preview_size)
        self.checkpoints = list(checkpoints)
        self.loras = list(loras)
        self.upscale_models = list(upscale_models)
        self.newer_server = newer_server
        self.received_prompts: list[dict] = []
        self.uploads: list[dict] = []
        self.number = 0
        self.paused = False
        self.dirs = {k: str(self.root / k) for k in ("input", "output", "temp")}
        self.argv = ["main.py", "--cpu", "--listen", host, "--port", str(port),
                     "--preview-method", "auto" if preview else "none"]
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> "ComfyTestServer":
        self._prepare_dirs()
        ready, errors = threading.Event(), []
        self._thread = threading.Thread(target=self._thread_main, args=(ready, errors),
                                        name=f"comfy-test-server-{id(self):x}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        if self._stopped or self._loop is None:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self if self._loop is not None else self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _prepare_dirs(self) -> None:
        for kind in ("input", "output"):
            Path(self.dirs[kind]).mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.dirs["temp"], ignore_errors=True)   # ComfyUI empties temp/ at start
        Path(self.dirs["temp"]).mkdir(parents=True, exist_ok=True)
        example = Path(self.dirs["input"]) / "example.png"
        if not example.exists():
            example.write_bytes(_images.example_png())
        placeholder = Path(self.dirs["output"]) / "_output_images_will_be_put_here"
        if not placeholder.exists():
            placeholder.touch()

    def _thread_main(self, ready: threading.Event, errors: list) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:  # report bind errors etc. to start()
            errors.append(exc)
            ready.set()
            loop.close()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _startup(self) -> None:
        self.nodes = NodeTable(self.checkpoints, Path(self.dirs["input"]), self.loras,
                               self.upscale_models)
        self.validator = Validator(self.nodes, self.dirs, newer_server=self.newer_server)
        self.queue = PromptQueue(on_change=self._queue_updated)
        self.messenger = Messenger(self.queue_info)
        self.messenger.start()
        self.executor = Executor(self.messenger, self.nodes, self.dirs, step_time=self.step_time,
                                 steps=self.steps, preview=self.preview, preview_size=self.preview_size,
                                 node_time=self.node_time)
        self._work = asyncio.Event()
        self._worker = asyncio.get_running_loop().create_task(self._worker_loop())
        self.started_at = time.time()
        app = web.Application(client_max_size=104857600, middlewares=[origin_only_middleware])
        routes = ([("GET", "/ws", self.messenger.websocket_handler)]
                  + Routes(self).table() + FileRoutes(self).table())
        for method, path, handler in routes:
            app.router.add_route(method, "/api" + path, handler)
        for method, path, handler in routes + FileRoutes(self).internal_table():
            app.router.add_route(method, path, handler)
        app.router.add_route("GET", "/", _index)
        app.router.add_route("GET", "/{tail:.*}", _static_404)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self.argv[5] = str(self.port)
        await web.SockSite(self._runner, sock).start()
        url_host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        self.url = f"http://{'[' + url_host + ']' if ':' in url_host else url_host}:{self.port}"

    async def _shutdown(self) -> None:
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        await self.messenger.close()
        await self._runner.cleanup()

    # -- worker ------------------------------------------------------------------
    def queue_info(self) -> dict:
        return {"exec_info": {"queue_remaining": self.queue.tasks_remaining()}}

    def _queue_updated(self) -> None:
        self.messenger.send_sync("status", {"status": self.queue_info()})

    def wake_worker(self) -> None:
        self._work.set()

    async def _worker_loop(self) -> None:
        while True:
            flags = self.queue.take_flags()
            if flags.get("free_memory", False):
                self.executor.cache.clear()
            if self.paused or not self.queue.queue:
                self._work.clear()
                await self._work.wait()
                continue
            item, task_id = self.queue.get()
            try:
                history_result, status = await self.executor.execute(item)
            except Exception:  # a bug here must not kill the worker: log it, record an error
                logging.getLogger(__name__).exception("comfy test server: executing %s failed", item[1])
                self.messenger.last_node_id = None
                history_result = {"outputs": {}, "meta": {}}
                status = {"status_str": "error", "completed": False, "messages": []}
            await self.messenger.flush()
            await asyncio.sleep(self.HISTORY_DELAY)
            self.queue.task_done(task_id, history_result, status)
            if self.messenger.client_id is not None:
                self.messenger.send_sync("executing", {"node": None, "prompt_id": item[1]},
                                         self.messenger.client_id)

    # -- test controls (thread-safe) ---------------------------------------------
    def _call(self, fn, *args):
        """Run ``fn`` on the server loop and wait for it (so controls apply immediately)."""
        if self._loop is None:
            raise RuntimeError("server not started")
        if threading.current_thread() is self._thread:
            return fn(*args)

        async def call():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(5)

    def fail_next(self, node_id: str | None = None, message: str = "Injected failure",
                  exception_type: str = "RuntimeError") -> None:
        """The next prompt that runs ``node_id`` (default: its sampler, else its first
        executed node) ends with ``execution_error`` at that node."""
        spec = {"node_id": None if node_id is None else str(node_id), "message": message,
                "exception_type": exception_type}
        self._call(setattr, self.executor, "fail", spec)

    def add_output_kind(self, class_type: str, key: str, filename: str, data: bytes) -> None:
        """Every later run of a ``class_type`` output node also reports ``{key: [filename]}``
        (the file written to ``output/``): a custom node's kind (VideoHelperSuite's ``gifs``)."""
        self._call(lambda: self.executor.extra_outputs.setdefault(class_type, {}).update({key: (filename, data)}))

    def clear_output_kinds(self) -> None:
        """Forget every :meth:`add_output_kind` (the server is shared by a session's tests)."""
        self._call(lambda: self.executor.extra_outputs.clear())

    def hang_next(self) -> None:
        """The next prompt stops at its sampler (else first node) until interrupted or stopped."""
        self._call(setattr, self.executor, "hang", True)

    def drop_websockets(self) -> None:
        """Abort every WebSocket connection (no close frame); returns after server cleanup."""
        if self._loop is None:
            raise RuntimeError("server not started")
        asyncio.run_coroutine_threadsafe(self.messenger.drop_all(), self._loop).result(5)

    def pause(self) -> None:
        """The worker takes no new queue items until ``resume()`` (the running one finishes)."""
        self._call(setattr, self, "paused", True)

    def resume(self) -> None:
        def _resume():
            self.paused = False
            self._work.set()
        self._call(_resume)
