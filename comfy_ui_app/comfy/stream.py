"""One background WebSocket per ComfyUI server, reconnecting with backoff.

The socket registers under one ``clientId`` for the life of the process, so events of
prompts we submitted keep reaching us after a reconnect. The pitfall recorded in
``ws_client_id_semantics.json``: if an *old* socket with the same clientId is closed
after the new one connected, the server forgets the clientId and the new socket hears
nothing. We therefore always close the old socket before opening the next one, and the
job monitor falls back to ``/history`` and ``/queue`` when a job goes quiet. A socket made
deaf that way by someone else (a lingering socket of an earlier run of this process) still
answers pings, so the monitor also calls :meth:`EventStream.reconnect` when a job of ours
runs on the server and the socket has carried no message for a while (``quiet_for``).
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import websocket

from comfy_ui_app.comfy.frames import (
    FEATURE_FLAGS_HELLO, Message, PreviewFrame, TextFrame, decode_binary, decode_text,
)

__all__ = ["EventStream", "websocket_url"]

log = logging.getLogger(__name__)

SocketFactory = Callable[..., Any]


def websocket_url(base_url: str, client_id: str) -> str:
    """``http://host:port/prefix`` -> ``ws://host:port/prefix/ws?clientId=...``."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = parts.path.rstrip("/") + "/ws"
    return urlunsplit((scheme, parts.netloc, path, f"clientId={quote(client_id)}", ""))


def _default_socket_factory(url: str, timeout: float, header: list[str] | None = None) -> websocket.WebSocket:
    return websocket.create_connection(url, timeout=timeout, enable_multithread=True, header=header)


def basic_auth_header(credentials: tuple[str, str]) -> str:
    """``("user", "pw")`` -> ``Authorization: Basic dXNlcjpwdw==`` (as requests sends it)."""
    token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode("ascii")
    return f"Authorization: Basic {token}"


class EventStream:
    """Reads one server's WebSocket on a daemon thread and hands every event on.

    ``on_event`` receives a :class:`Message`, :class:`PreviewFrame` or :class:`TextFrame`;
    ``on_connect`` is called after every (re)connection, ``on_disconnect`` after a drop.
    Callbacks run on the reader thread and must be quick. ``credentials`` (user, password)
    go into the handshake as HTTP Basic (a ComfyUI behind a reverse proxy with a login).
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        on_event: Callable[[Message | PreviewFrame | TextFrame], None],
        *,
        on_connect: Callable[[], None] | None = None,
        on_disconnect: Callable[[str], None] | None = None,
        socket_factory: SocketFactory | None = None,
        connect_timeout: float = 5.0,
        idle_ping: float = 15.0,
        max_backoff: float = 10.0,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.url = websocket_url(base_url, client_id)
        self._handshake = {"header": [basic_auth_header(credentials)]} if credentials else {}
        self._on_event = on_event
        self._on_connect = on_connect or (lambda: None)
        self._on_disconnect = on_disconnect or (lambda reason: None)
        self._factory = socket_factory or _default_socket_factory
        self._connect_timeout = connect_timeout
        self._idle_ping = idle_ping
        self._max_backoff = max_backoff
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._socket: Any = None
        self._thread: threading.Thread | None = None
        self._last_message = time.monotonic()  # a text or binary message (pongs do not count)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    def quiet_for(self) -> float:
        """Seconds since the socket last carried a message (not a pong)."""
        return time.monotonic() - self._last_message

    def reconnect(self, reason: str) -> None:
        """Drop the current socket; the reader opens a new one (the server then sends
        ``status`` again, and the state of a running prompt of ours)."""
        if self._connected.is_set():
            log.warning("reconnecting the ComfyUI event stream %s: %s", self.url, reason)
            self._close_socket()

    def start(self) -> EventStream:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"comfy-ws {self.url}", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._close_socket()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    # -- the reader thread ---------------------------------------------------------

    def _close_socket(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            try:
                sock.close(timeout=1)
            except Exception:  # noqa: BLE001 - closing a dead socket may fail in many ways
                pass

    def _run(self) -> None:
        backoff = 0.25
        while not self._stop.is_set():
            try:
                self._socket = self._factory(self.url, timeout=self._connect_timeout, **self._handshake)
                self._socket.send(FEATURE_FLAGS_HELLO)
                self._socket.settimeout(self._idle_ping)
                self._last_message = time.monotonic()
                self._connected.set()
                backoff = 0.25
                self._on_connect()
                self._read_until_closed()
                reason = "connection closed"
            except (OSError, websocket.WebSocketException) as e:
                reason = f"{type(e).__name__}: {e}"
            was_connected = self._connected.is_set()
            self._connected.clear()
            self._close_socket()  # before any new connection: see the module docstring
            if self._stop.is_set():
                break
            if was_connected:
                log.warning("lost the ComfyUI event stream %s: %s", self.url, reason)
                self._on_disconnect(reason)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    def _read_until_closed(self) -> None:
        waiting_for_pong = False
        while not self._stop.is_set():
            sock = self._socket
            if sock is None:
                return
            try:
                opcode, data = sock.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                if waiting_for_pong:
                    raise websocket.WebSocketTimeoutException("no answer to ping") from None
                sock.ping()
                waiting_for_pong = True
                continue
            waiting_for_pong = False
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return
            if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
                self._last_message = time.monotonic()
            if opcode == websocket.ABNF.OPCODE_TEXT:
                self._dispatch_text(data)
            elif opcode == websocket.ABNF.OPCODE_BINARY:
                self._dispatch_binary(data)

    def _dispatch_text(self, data: bytes) -> None:
        try:
            message = decode_text(data)
        except ValueError as e:
            log.warning("ignoring a malformed message from %s: %s", self.url, e)
            return
        self._deliver(message)

    def _dispatch_binary(self, data: bytes) -> None:
        try:
            frame = decode_binary(data)
        except ValueError as e:
            log.warning("ignoring a malformed binary frame from %s: %s", self.url, e)
            return
        if frame is not None:
            self._deliver(frame)

    def _deliver(self, event: Message | PreviewFrame | TextFrame) -> None:
        try:
            self._on_event(event)
        except Exception:  # a bug in one handler must not stop events for every job
            log.exception("error while handling %r from %s", event, self.url)
