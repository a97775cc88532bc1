"""WebSocket endpoint (``/ws``, ``/api/ws``) and ordered, routed message delivery.

Behaviour and sources (``tests/fixtures/comfyui``):

* first message ``status`` with ``sid`` (``http_get_endpoints.json``: 32-hex sid when
  no ``clientId``); a running prompt's client reconnecting also gets
  ``executing {"node": <running node>}`` without ``prompt_id``
  (``queue_ordering.json`` -> ``reconnect_same_client_id_first_messages``);
* a first client message ``feature_flags`` is answered with the server flags and
  switches previews to binary type 4 (``ws_txt2img_auto.json`` ->
  ``preview_metadata_client``);
* clientId reuse (``ws_client_id_semantics.json``): a new socket replaces the old one
  in the table (the old one gets nothing more), and when the *old* socket closes its
  cleanup removes the clientId entirely - the new socket then gets nothing at all;
* ``sid=None`` means broadcast; messages for an unknown sid are dropped.

Messages are queued and written by one publisher task, so the order seen by every
client is the order in which the server produced them (as ComfyUI's ``send_sync``).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import uuid

import aiohttp
from aiohttp import web

SERVER_FEATURES = {"supports_preview_metadata": True, "max_upload_size": 104857600}

PREVIEW_IMAGE = 1                  # uint32 1, uint32 format (1=JPEG), image bytes
PREVIEW_IMAGE_WITH_METADATA = 4    # uint32 4, uint32 len, JSON metadata, image bytes


def encode_preview(jpeg: bytes) -> bytes:
    return struct.pack(">II", PREVIEW_IMAGE, 1) + jpeg


def encode_preview_with_metadata(jpeg: bytes, metadata: dict) -> bytes:
    meta = json.dumps(metadata).encode("utf-8")
    return struct.pack(">II", PREVIEW_IMAGE_WITH_METADATA, len(meta)) + meta + jpeg


class Messenger:
    def __init__(self, queue_info):
        self.queue_info = queue_info          # () -> {"exec_info": {"queue_remaining": n}}
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self.metadata: dict[str, dict] = {}
        self.connections: dict[web.WebSocketResponse, web.Request] = {}
        self.handler_tasks: set[asyncio.Task] = set()
        self.client_id = None                 # client of the prompt being executed
        self.last_node_id = None              # node being executed (for reconnects)
        self._outbox: asyncio.Queue | None = None
        self._publisher: asyncio.Task | None = None

    # -- delivery ----------------------------------------------------------------
    def start(self) -> None:
        self._outbox = asyncio.Queue()
        self._publisher = asyncio.get_running_loop().create_task(self._publish_loop())

    async def close(self) -> None:
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
        for ws in list(self.connections):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=aiohttp.WSCloseCode.GOING_AWAY), 0.5)

    def send_sync(self, event, data, sid=None) -> None:
        """Queue a message: ``event`` is a JSON type name or a binary frame (bytes)."""
        self._outbox.put_nowait((event, data, sid))

    async def _publish_loop(self) -> None:
        while True:
            event, data, sid = await self._outbox.get()
            try:
                await self.send(event, data, sid)
            finally:
                self._outbox.task_done()

    async def flush(self) -> None:
        """Wait until everything queued so far has been written to the sockets."""
        await self._outbox.join()

    async def send(self, event, data, sid=None) -> None:
        if sid is None:
            targets = list(self.sockets.values())
        elif sid in self.sockets:
            targets = [self.sockets[sid]]
        else:
            return
        for ws in targets:
            with contextlib.suppress(Exception):
                if event == "binary":
                    await ws.send_bytes(data)
                else:
                    await ws.send_str(json.dumps({"type": event, "data": data}))

    def supports_preview_metadata(self, sid) -> bool:
        if sid not in self.metadata:
            return False
        return self.metadata[sid].get("feature_flags", {}).get("supports_preview_metadata", False) is True

    # -- endpoint ----------------------------------------------------------------
    async def websocket_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        task = asyncio.current_task()
        self.handler_tasks.add(task)
        self.connections[ws] = request
        sid = request.rel_url.query.get("clientId", "")
        if sid:
            self.sockets.pop(sid, None)       # reusing a session: forget the old socket
        else:
            sid = uuid.uuid4().hex
        self.sockets[sid] = ws
        self.metadata[sid] = {"feature_flags": {}}
        try:
            await self.send("status", {"status": self.queue_info(), "sid": sid}, sid)
            if self.client_id == sid and self.last_node_id is not None:
                await self.send("executing", {"node": self.last_node_id}, sid)
            first_message = True
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                with contextlib.suppress(Exception):
                    data = json.loads(msg.data)
                    if first_message and data.get("type") == "feature_flags":
                        self.metadata[sid]["feature_flags"] = data.get("data", {})
                        await self.send("feature_flags", dict(SERVER_FEATURES), sid)
                first_message = False
        finally:
            # ComfyUI pops by sid, even if a newer socket took it over (the pitfall).
            self.sockets.pop(sid, None)
            self.metadata.pop(sid, None)
            self.connections.pop(ws, None)
            self.handler_tasks.discard(task)
        return ws

    async def drop_all(self) -> None:
        """Kill every connection without a close handshake; wait for the cleanups."""
        tasks = list(self.handler_tasks)
        for ws, request in list(self.connections.items()):
            transport = request.transport
            if transport is not None:
                transport.abort()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
