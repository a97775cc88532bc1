"""``FaultProxy``: a small fake ComfyUI in front of the test server, for bad server answers.

Every HTTP request and the ``/ws`` WebSocket are passed through to ``upstream`` (the
protocol-faithful ``ComfyTestServer``), except the routes given a canned answer with
:meth:`FaultProxy.answer` (plain-text 500, malformed JSON, unexpected fields ...).
:meth:`FaultProxy.rewrite_ws` edits the JSON messages on their way to the app (for
example to hand it server-chosen file names like ``../../x.png``). Used by
``test_bad_input.py`` and ``test_security.py``.
"""
from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
from collections.abc import Callable

import aiohttp
from aiohttp import web

_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self._answers: dict[tuple[str, str], list] = {}
        self._ws_rewrite: Callable[[dict], dict] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fault-proxy")
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0
        self.seen: list[tuple[str, str]] = []
        self.required_auth: str | None = None  # an Authorization header every request must carry
        self._sockets: set = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, path: str, body: bytes | str | dict | list = b"", *, status: int = 200,
               content_type: str = "application/json", method: str = "GET", times: int | None = None,
               cut_off: bool = False) -> None:
        """Answer ``method path`` with this (``times`` times, or always when None). ``cut_off``:
        promise more bytes than ``body`` in Content-Length and drop the connection after it."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        self._answers[(method, path)] = [status, data, content_type, times, cut_off]

    def require_auth(self, user: str, password: str) -> None:
        """Answer 401 to every request (the WebSocket too) without this HTTP Basic login, as a
        reverse proxy in front of ComfyUI would."""
        self.required_auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")

    def clear(self) -> None:
        self._answers.clear()
        self._ws_rewrite = None

    def rewrite_ws(self, fn: Callable[[dict], dict | None] | None) -> None:
        """Pass each JSON message through ``fn``; a message it returns None for is dropped."""
        self._ws_rewrite = fn

    # -- plumbing -----------------------------------------------------------------------

    def start(self) -> FaultProxy:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        await self._runner.cleanup()
        await self._session.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, request.path))
        if self.required_auth is not None and request.headers.get("Authorization") != self.required_auth:
            return web.Response(status=401, text="401: login required", headers={"WWW-Authenticate": "Basic"})
        if request.path == "/ws":
            return await self._pipe_ws(request)
        canned = self._answers.get((request.method, request.path))
        if canned is not None:
            status, data, content_type, times, cut_off = canned
            if times is not None:
                canned[3] = times - 1
                if canned[3] <= 0:
                    del self._answers[(request.method, request.path)]
            if cut_off:
                return await self._cut_off(request, status, data, content_type)
            return web.Response(status=status, body=data, content_type=content_type)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in _HOP and k.lower() not in ("host", "authorization")}
        async with self._session.request(request.method, self.upstream + request.path_qs, data=body,
                                         headers=headers) as up:
            data = await up.read()
            out = {k: v for k, v in up.headers.items() if k.lower() not in _HOP}
            return web.Response(status=up.status, body=data, headers=out)

    @staticmethod
    async def _cut_off(request: web.Request, status: int, data: bytes, content_type: str) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers={"Content-Type": content_type})
        response.content_length = len(data) + 1000
        await response.prepare(request)
        await response.write(data)
        request.transport.close()  # the rest never comes
        return response

    async def _pipe_ws(self, request: web.Request) -> web.WebSocketResponse:
        ours = web.WebSocketResponse(max_msg_size=0)
        await ours.prepare(request)
        self._sockets.add(ours)
        async with self._session.ws_connect(self.upstream + request.path_qs, max_msg_size=0) as theirs:
            async def down():
                async for msg in theirs:
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        text = msg.data
                        if self._ws_rewrite is not None:
                            message = self._ws_rewrite(json.loads(text))
                            if message is None:  # dropped on the way
                                continue
                            text = json.dumps(message)
                        await ours.send_str(text)
                    elif msg.type == aiohttp.WSMsgType.BINARY:
                        await ours.send_bytes(msg.data)
                await ours.close()

            async def up():
                async for msg in ours:
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        await theirs.send_str(msg.data)
                await theirs.close()

            tasks = [asyncio.ensure_future(down()), asyncio.ensure_future(up())]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
        self._sockets.discard(ours)
        return ours
