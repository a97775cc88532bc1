"""Client-side helpers for the tests: a recording WebSocket client and summaries.

``summarize`` writes messages the way the recordings' ``sequence_summary`` lists do
(``status(queue_remaining=1)``, ``executing(node=3)``, ``progress(2/4)``,
``<binary event=1 len=...>``), so a live run can be compared with a capture.
"""
from __future__ import annotations

import json
import socket
import struct
import time

import websocket


def summarize(kind: str, data) -> str:
    if kind == "sent_text":
        return "sent_text"
    if kind == "binary":
        return f"<binary event={struct.unpack('>I', data[:4])[0]} len={len(data)}>"
    t, d = data["type"], data["data"]
    if t == "status":
        return f"status(queue_remaining={d['status']['exec_info']['queue_remaining']})"
    if t == "executing":
        return f"executing(node={d['node']})"
    if t == "executed":
        return f"executed(node={d['node']})"
    if t == "progress":
        return f"progress({d['value']}/{d['max']})"
    return t


def normalize(summary: list[str]) -> list[str]:
    """Drop binary frame lengths (image bytes differ) from a summary."""
    return [s.split(" len=")[0] + ">" if s.startswith("<binary") else s for s in summary]


def recorded_messages(capture: dict) -> list[tuple[str, object]]:
    """``(kind, data)`` pairs of a recorded WebSocket capture."""
    return [(m["kind"], m.get("data")) for m in capture["messages"]]


class WsProbe:
    """A blocking WebSocket client that keeps everything it sent and received."""

    def __init__(self, base_url: str, client_id: str | None = None, *, path: str = "/ws",
                 feature_flags: bool = False, read_status: bool = True, timeout: float = 5.0):
        url = base_url.replace("http://", "ws://", 1) + path
        if client_id is not None:
            url += f"?clientId={client_id}"
        self.ws = websocket.create_connection(url, timeout=timeout)
        self.client_id = client_id  # or the server-made sid, once the first status is read
        self.messages: list[tuple[str, object]] = []
        if feature_flags:
            hello = {"type": "feature_flags", "data": {"supports_preview_metadata": True}}
            self.ws.send(json.dumps(hello))
            self.messages.append(("sent_text", hello))
        if read_status:
            _, status = self.recv()
            self.client_id = status["data"]["sid"]
            if feature_flags:
                self.recv()

    def recv(self, timeout: float | None = None):
        if timeout is not None:
            self.ws.settimeout(timeout)
        opcode, data = self.ws.recv_data()
        if opcode == websocket.ABNF.OPCODE_TEXT:
            item = ("text", json.loads(data.decode("utf-8")))
        elif opcode == websocket.ABNF.OPCODE_BINARY:
            item = ("binary", data)
        else:
            raise ConnectionError(f"websocket closed (opcode {opcode})")
        self.messages.append(item)
        return item

    def until(self, predicate, timeout: float = 5.0) -> list:
        """Receive until ``predicate(kind, data)`` is true; return the new messages."""
        start, deadline = len(self.messages), time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"gave up waiting; got {self.summary()[start:]}")
            kind, data = self.recv(timeout=remaining)
            if predicate(kind, data):
                return self.messages[start:]

    def until_done(self, prompt_id: str, timeout: float = 5.0) -> list:
        """Receive up to the end marker ``executing {node: null, prompt_id}``."""
        return self.until(lambda k, d: k == "text" and d["type"] == "executing"
                          and d["data"]["node"] is None and d["data"].get("prompt_id") == prompt_id, timeout)

    def quiet(self, seconds: float = 0.2) -> list:
        """Everything that arrives within ``seconds`` (expecting little or nothing)."""
        start, deadline = len(self.messages), time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                self.recv(timeout=remaining)
            except (websocket.WebSocketTimeoutException, socket.timeout, TimeoutError):
                break
        return self.messages[start:]

    def summary(self, messages=None) -> list[str]:
        return [summarize(k, d) for k, d in (self.messages if messages is None else messages)]

    def texts(self, event: str | None = None) -> list[dict]:
        return [d for k, d in self.messages if k == "text" and (event is None or d["type"] == event)]

    def close(self) -> None:
        self.ws.close()
