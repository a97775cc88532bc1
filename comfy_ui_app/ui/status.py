"""Server-status banner: is ComfyUI reachable, in plain words.

One ``StatusChecker`` per app (not per user): it caches the result of
``comfy.check()`` for a couple of seconds so that many open tabs polling with
``gr.Timer`` cause at most one health probe per ``ttl``.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from ..messages import describe


@dataclass(frozen=True)
class ServerStatus:
    ok: bool
    text: str          # plain sentence for the banner


def md_escape(text: str) -> str:
    """Escape Markdown so URLs and file names are shown literally."""
    out = []
    for ch in str(text):
        if ch in "\\`*_[]<>#|~":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def banner_markdown(status: ServerStatus) -> str:
    icon = "✔" if status.ok else "⚠"
    return f"{icon} {md_escape(status.text)}"


class StatusChecker:
    def __init__(self, comfy, ttl: float = 2.0) -> None:
        self._comfy = comfy
        self._ttl = ttl
        self._lock = threading.Lock()
        self._last: ServerStatus | None = None
        self._at = 0.0

    def initial(self) -> ServerStatus:
        return ServerStatus(False, f"Checking the connection to ComfyUI at {self._comfy.url} …")

    def get(self, fresh: bool = False) -> ServerStatus:
        if not self._lock.acquire(blocking=self._last is None or fresh):
            return self._last  # another tab is probing right now; reuse the last answer
        try:
            if not fresh and self._last is not None and time.monotonic() - self._at < self._ttl:
                return self._last
            try:
                self._comfy.check()
                status = ServerStatus(True, f"Connected to ComfyUI at {self._comfy.url}")
            except Exception as exc:  # noqa: BLE001 - any failure is "not usable"
                status = ServerStatus(False, describe(exc))
            self._last, self._at = status, time.monotonic()
            return status
        finally:
            self._lock.release()
