"""What every tab is built with: the shared, per-app pieces (never per-user state).

``AppContext`` is handed to each tab's ``build_tab(ctx)``; ``ServerCatalog`` (``ctx.catalog``)
caches the servers' node table and model lists for all users, refreshed at most every ``ttl``
seconds, so opening the page or rendering a form does not refetch 500 KB each time. It offers
the union of what the :class:`~comfy_ui_app.cluster.cluster.Cluster`'s healthy servers have (a
job needing one server's checkpoint is sent to that server).
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comfy_ui_app.cluster.cluster import Cluster
from comfy_ui_app.comfy.connection import Comfy
from comfy_ui_app.errors import ComfyError
from comfy_ui_app.jobs.service import JobService
from comfy_ui_app.texts.server_names import ServerNames
from comfy_ui_app.workflow.check import merge_node_tables

__all__ = ["AppContext", "ServerCatalog", "TabHandles", "ANONYMOUS", "caller_ids", "current_user", "hf_username"]

ANONYMOUS = "anonymous"  # no request at all: never a page or an API client (see current_user)


class ServerCatalog:
    """Cached ``/object_info`` and ``/models/{folder}`` of a cluster's healthy servers, merged
    (thread-safe)."""

    def __init__(self, cluster: Cluster, ttl: float = 30.0) -> None:
        self._cluster = cluster
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Any]] = {}
        self._healthy: tuple | None = None  # the healthy servers when the cache was filled

    def _get(self, key: str, fetch) -> Any:
        healthy = tuple(s.url for s in self._cluster.servers if s.healthy)  # others: other lists
        with self._lock:
            if healthy != self._healthy:
                self._cache.clear()
                self._healthy = healthy
            hit = self._cache.get(key)
            if hit and time.monotonic() - hit[0] < self._ttl:
                return hit[1]
        value = fetch()  # may raise ServerUnreachable: callers show the message
        with self._lock:
            self._cache[key] = (time.monotonic(), value)
        return value

    def _union(self, ask, merge):
        """``ask(comfy)`` of every healthy server (of every one if none is), merged; the
        first error when none answers."""
        healthy = {s.url for s in self._cluster.servers if s.healthy}
        comfies = [c for c in self._cluster.comfies if c.url in healthy] or self._cluster.comfies
        result, error = None, None
        for comfy in comfies:
            try:
                answer = ask(comfy)
            except ComfyError as e:
                error = error or e
                continue
            result = answer if result is None else merge(result, answer)
        if result is None:
            raise error
        return result

    def _fetch_object_info(self) -> dict:
        return self._union(lambda c: copy.deepcopy(c.client.object_info()), merge_node_tables)

    def _fetch_models(self, folder: str) -> list[str]:
        return self._union(lambda c: list(c.client.models(folder)), lambda a, b: a + [m for m in b if m not in a])

    def object_info(self) -> dict:
        return self._get("object_info", self._fetch_object_info)

    def models(self, folder: str) -> list[str]:
        return self._get(f"models/{folder}", lambda: self._fetch_models(folder))

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

    cluster: Cluster  # every ComfyUI server (one too); jobs wait in its queue
    jobs: JobService  # submit/list/cancel jobs of a user (see comfy_ui_app.jobs.service)
    workflows_dir: Path
    output_dir: Path
    catalog: ServerCatalog
    lang: Any  # gr.State holding this browser tab's language code ("en", "zh-CN")
    browser_id: Any = None  # ui.identity.BrowserIdState: a signed id kept in this browser (the user when auth is off)

    @property
    def names(self) -> ServerNames:
        """What the page calls each server (``Comfy.label``), for ``describe``: none when every
        address may be shown; a public app's also cut file-system paths from every message."""
        return ServerNames.of(self.cluster.comfies, hide_paths=self.jobs.policy.public)

    @property
    def comfy(self) -> Comfy:
        """The first server (the only one, usually): uploads and previews go through it."""
        return self.cluster.comfies[0]


def hf_username(request: Any) -> str | None:
    """The Hugging Face account signed in with the page's "Sign in with Hugging Face"
    button, or None.

    Gradio keeps the OAuth answer in the signed session cookie under ``oauth_info``
    (gradio/oauth.py); the session exists only when the app has a ``gr.LoginButton``.
    Read like gradio's own ``helpers._session_from_request``: through the request's
    ``scope`` so an app without the session middleware is simply "not signed in".
    """
    if request is None:
        return None
    underlying = getattr(request, "request", None) or request
    scope = getattr(underlying, "scope", None)
    session = scope.get("session") if isinstance(scope, dict) else getattr(underlying, "session", None)
    info = session.get("oauth_info") if isinstance(session, dict) else None
    if not isinstance(info, dict):
        return None
    expires_at = info.get("expires_at")
    if isinstance(expires_at, (int, float)) and expires_at < time.time():
        return None
    name = (info.get("userinfo") or {}).get("preferred_username")
    return name if isinstance(name, str) and name else None


def current_user(request: Any, browser_id: str | None) -> str:
    """Who is asking: the Gradio auth user when auth is on, else the Hugging Face
    account signed in on a Space, else this browser's own id, else this session's.

    ``browser_id`` is what the page's :class:`~comfy_ui_app.ui.identity.BrowserIdState` let
    through: an id this app issued and verified, or ``""`` for anything else the caller sent
    (a forged, tampered, over-long or someone else's made-up id is no one).

    Never one identity for everyone: a caller without a browser id (a page that submits
    before its id arrived, an API client sending ``""`` or a forged id) is ``session:<session hash>``,
    which Gradio gives each page load and each API client of its own. ``"anonymous"``
    is left only for a call with no request at all (code calling a handler directly).
    """
    username = getattr(request, "username", None) if request is not None else None
    if username:
        return f"user:{username}"
    if hf := hf_username(request):
        return f"hf:{hf}"
    if browser_id:
        return f"browser:{browser_id}"
    session = getattr(request, "session_hash", None) if request is not None else None
    return f"session:{session}" if isinstance(session, str) and session else ANONYMOUS


def caller_ids(request: Any, browser_id: str | None) -> list[str]:
    """Every identity the caller holds: :func:`current_user`, and the session's own one
    when that differs (the jobs this page made before its browser id arrived)."""
    ids = [current_user(request, browser_id)]
    session = current_user(request, None)
    return ids + [session] if session.startswith("session:") and session not in ids else ids


@dataclass
class TabHandles:
    """What the app needs back from a tab builder.

    ``needs_server``: buttons disabled while ComfyUI is unreachable. ``refresh`` and
    ``refresh_outputs``: a function returning updates for server-derived choices
    (checkpoints, samplers…), called on page load and when the server comes back.
    ``parts``: named components other tabs may wire to ("gallery", "image", …). ``tab``:
    the ``gr.Tab`` itself; ``timers``: its ``gr.Timer`` s, which tick only while it is shown.
    """

    needs_server: list = field(default_factory=list)
    refresh: Any = None
    refresh_outputs: list = field(default_factory=list)
    parts: dict = field(default_factory=dict)
    tab: Any = None
    timers: list = field(default_factory=list)
