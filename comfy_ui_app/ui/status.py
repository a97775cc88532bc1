"""Server-status banner: is ComfyUI reachable, in plain words.

One ``StatusChecker`` per app (not per user): it caches the result of
``comfy.check()`` for a couple of seconds so that many open tabs polling with
``gr.Timer`` cause at most one health probe per ``ttl``.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from ..i18n import DEFAULT_LANGUAGE, tr
from ..messages import describe


@dataclass(frozen=True)
class ServerStatus:
    """What the banner says, kept as an English template so each page can show it in
    its own language (the checker is shared by every user)."""

    ok: bool
    template: str                  # English ``tr`` key, formatted with ``values``
    values: tuple = ()             # ((name, value), ...)
    error: BaseException | None = None  # the probe's failure, described when shown

    def in_language(self, lang: str | None = DEFAULT_LANGUAGE) -> str:
        if self.error is not None:
            return describe(self.error, lang=lang or DEFAULT_LANGUAGE)
        return tr(self.template, lang, **dict(self.values))

    @property
    def text(self) -> str:
        """The plain English sentence."""
        return self.in_language(DEFAULT_LANGUAGE)


def md_escape(text: str) -> str:
    """Escape Markdown so URLs and file names are shown literally."""
    out = []
    for ch in str(text):
        if ch in "\\`*_[]<>#|~":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def banner_markdown(status: ServerStatus, lang: str | None = DEFAULT_LANGUAGE) -> str:
    icon = "✔" if status.ok else "⚠"
    return f"{icon} {md_escape(status.in_language(lang))}"


class StatusChecker:
    def __init__(self, comfy, ttl: float = 2.0) -> None:
        self._comfy = comfy
        self._ttl = ttl
        self._lock = threading.Lock()
        self._last: ServerStatus | None = None
        self._at = 0.0

    def initial(self) -> ServerStatus:
        return ServerStatus(False, "Checking the connection to ComfyUI at {url} …",
                            (("url", self._comfy.url),))

    def get(self, fresh: bool = False) -> ServerStatus:
        if not self._lock.acquire(blocking=self._last is None or fresh):
            return self._last  # another tab is probing right now; reuse the last answer
        try:
            if not fresh and self._last is not None and time.monotonic() - self._at < self._ttl:
                return self._last
            try:
                self._comfy.check()
                status = ServerStatus(True, "Connected to ComfyUI at {url}", (("url", self._comfy.url),))
            except Exception as exc:  # noqa: BLE001 - any failure is "not usable"
                status = ServerStatus(False, "", error=exc.with_traceback(None))
            self._last, self._at = status, time.monotonic()
            return status
        finally:
            self._lock.release()
