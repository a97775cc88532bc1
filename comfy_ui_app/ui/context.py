"""What every tab is built with: the shared, per-app pieces (never per-user state).

``AppContext`` is handed to each tab's ``build_tab(ctx)``; ``ServerInfo`` caches the
server's node table and model lists for all users, refreshed at most every ``ttl``
seconds, so opening the page or rendering a form does not refetch 500 KB each time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import Comfy, ComfyError

__all__ = ["AppContext", "ServerInfo", "TabHandles", "current_user"]


class ServerInfo:
    """Cached ``/object_info`` and ``/models/{folder}`` of one server (thread-safe)."""

    def __init__(self, comfy: Comfy, ttl: float = 30.0) -> None:
        self._comfy = comfy
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Any]] = {}

    def _get(self, key: str, fetch) -> Any:
        with self._lock:
            hit = self._cache.get(key)
            if hit and time.monotonic() - hit[0] < self._ttl:
                return hit[1]
        value = fetch()  # may raise ServerUnreachable: callers show the message
        with self._lock:
            self._cache[key] = (time.monotonic(), value)
        return value

    def object_info(self) -> dict:
        return self._get("object_info", self._comfy.client.object_info)

    def models(self, folder: str) -> list[str]:
        return self._get(f"models/{folder}", lambda: list(self._comfy.client.models(folder)))

    def object_info_or_none(self) -> dict | None:
        """The node table, or None while the server cannot be asked."""
        try:
            return self.object_info()
        except ComfyError:
            return None

    def forget(self) -> None:
        """Drop everything (the server came back, maybe with other models)."""
        with self._lock:
            self._cache.clear()


@dataclass(frozen=True)
class AppContext:
    """Shared pieces every tab builder receives."""

    comfy: Comfy
    workflows_dir: Path
    output_dir: Path
    server: ServerInfo
    lang: Any  # gr.State holding this browser tab's language code ("en", "zh-CN")
    jobs: Any = None  # the JobService: submit/list/cancel jobs of a user (see service.py)
    browser_id: Any = None  # gr.BrowserState: a random id kept in this browser (the user when auth is off)


def current_user(request: Any, browser_id: str | None) -> str:
    """Who is asking: the Gradio auth user when auth is on, else this browser's own id."""
    username = getattr(request, "username", None) if request is not None else None
    if username:
        return f"user:{username}"
    return f"browser:{browser_id}" if browser_id else "anonymous"


@dataclass
class TabHandles:
    """What the app needs back from a tab builder.

    ``needs_server``: buttons disabled while ComfyUI is unreachable. ``refresh`` and
    ``refresh_outputs``: a function returning updates for server-derived choices
    (checkpoints, samplers…), called on page load and when the server comes back.
    ``parts``: named components other tabs may wire to ("gallery", "image", …).
    """

    needs_server: list = field(default_factory=list)
    refresh: Any = None
    refresh_outputs: list = field(default_factory=list)
    parts: dict = field(default_factory=dict)
