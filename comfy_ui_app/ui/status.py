"""Server-status banner: is ComfyUI reachable, in plain words.

One ``StatusChecker`` per app (not per user): it caches the result of
``comfy.check()`` for a couple of seconds so that many open tabs polling with
``gr.Timer`` cause at most one health probe per ``ttl``. Over a cluster of several
servers it reads the cluster's own health checks instead: usable while at least one
server is up, and the banner says how many of how many (and why the others are not).
With a local ComfyUI the app started itself (``local=``, a ``managed.LocalComfyUI``), the
banner says "Starting ComfyUI…", "restarting (attempt n of N)…" or why it failed (with
its log's last lines) instead of probing it; over several servers that is said first.
A server whose address the page must not show (``Comfy.label`` other than its url) is
named by its label ("ComfyUI server 2"), its problems in ``describe``'s words given the
page's ``ServerNames``.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, replace

from comfy_ui_app.texts.i18n import DEFAULT_LANGUAGE, tr
from comfy_ui_app.local.managed import FAILED, RESTARTING, RESTARTING_TEXT, STARTING, STARTING_TEXT
from comfy_ui_app.texts.messages import NO_NAMES, ServerNames, describe


@dataclass(frozen=True)
class ServerStatus:
    """What the banner says, kept as an English template so each page can show it in
    its own language (the checker is shared by every user)."""

    ok: bool
    template: str                  # English ``tr`` key, formatted with ``values``
    values: tuple = ()             # ((name, value), ...)
    error: BaseException | None = None  # the probe's failure, described when shown
    note: ServerStatus | None = None    # said first (the local ComfyUI's state, over several servers)
    down: tuple = ()                    # the cluster's ServerStates not usable: ``{down}`` in the template
    names: ServerNames = NO_NAMES       # what the page calls its servers, for ``error``

    def in_language(self, lang: str | None = DEFAULT_LANGUAGE) -> str:
        if self.error is not None:
            text = describe(self.error, lang=lang or DEFAULT_LANGUAGE, names=self.names)
        else:
            values = dict(self.values)
            if self.down:
                values["down"] = "; ".join(server_problem(s, lang) for s in self.down)
            text = tr(self.template, lang, **values)
        return text if self.note is None else f"{self.note.in_language(lang)} {text}"

    @property
    def text(self) -> str:
        """The plain English sentence."""
        return self.in_language(DEFAULT_LANGUAGE)


def hidden(comfy) -> bool:
    """Must the page name ``comfy`` (a Comfy or a ServerState) by its label, not its url?"""
    return bool(getattr(comfy, "label", "")) and comfy.label != comfy.url


def _names(state) -> ServerNames:
    return ServerNames({state.url: state.label})


def _named_error(state) -> bool:
    """Is ``state``'s failure one ``describe`` words with the server's label?"""
    return state.error is not None and _names(state).name_of(getattr(state.error, "url", None)) is not None


def server_reason(state, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """Why a cluster's server (a ServerState) is not usable, as the page may say it: the
    cluster's own words, or, for a server named by its label, ``describe`` of the failure."""
    if not hidden(state):
        return state.reason
    if _named_error(state):
        return describe(state.error, retrying=False, lang=lang or DEFAULT_LANGUAGE, names=_names(state))
    return _names(state).hide(state.reason)


def server_problem(state, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """``server_reason`` naming the server ("http://gpu-2:8188: …"; "Cannot reach ComfyUI server 2…")."""
    reason = server_reason(state, lang)
    if hidden(state) and _named_error(state):
        return reason  # describe's sentence names it already
    return f"{state.label if hidden(state) else state.url}: {reason}"


def md_escape(text: str) -> str:
    """Escape Markdown so URLs and file names are shown literally."""
    out = []
    for ch in str(text):
        if ch in "\\`*_[]<>#|~":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


_BLOCK_START = re.compile(r"^(\s*\d*)([-+=.)])")  # "- x", "1. x", "===": a list or heading in Markdown


def _md_lines(text: str) -> str:
    """Escaped text whose own lines (a log's last lines) stay lines, none read as Markdown."""
    lines = [md_escape(line) for line in str(text).split("\n")]
    lines[1:] = [_BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line) for line in lines[1:]]
    return "  \n".join(lines)


def banner_markdown(status: ServerStatus, lang: str | None = DEFAULT_LANGUAGE) -> str:
    icon = "✔" if status.ok else "⚠"
    return f"{icon} {_md_lines(status.in_language(lang))}"


def local_status(state) -> ServerStatus | None:
    """A ``managed.LocalState`` as the banner says it; None while it runs (then probe)."""
    if state.phase == STARTING:
        return ServerStatus(False, STARTING_TEXT)
    if state.phase == RESTARTING:
        return ServerStatus(False, RESTARTING_TEXT, (("attempt", state.attempt), ("attempts", state.attempts)))
    if state.phase == FAILED:
        return ServerStatus(False, "", error=state.error)
    return None


class StatusChecker:
    """The banner's status of a ``Cluster``'s servers (one server: probed; several: their
    health checks), cached for ``ttl`` seconds."""

    def __init__(self, cluster, ttl: float = 2.0, local=None, hide_paths: bool = False) -> None:
        self._cluster = cluster
        self._hide_paths = hide_paths   # a public page: no file-system path in the banner either
        self._ttl = ttl
        self._local = local   # a managed.LocalComfyUI the app started, or None
        self._lock = threading.Lock()
        self._last: ServerStatus | None = None
        self._at = 0.0

    def _local_status(self) -> ServerStatus | None:
        return None if self._local is None else local_status(self._local.state())

    def initial(self) -> ServerStatus:
        local = self._local_status()
        if local is not None and len(self._comfies()) == 1:
            return local
        comfies = self._comfies()
        if any(hidden(c) for c in comfies):
            return ServerStatus(False, "Checking the connection to {server} …",
                                (("server", ", ".join(c.label for c in comfies)),))
        return ServerStatus(False, "Checking the connection to ComfyUI at {url} …",
                            (("url", ", ".join(c.url for c in comfies)),))

    def _comfies(self) -> list:
        return list(self._cluster.comfies)

    def _cluster_status(self) -> ServerStatus:
        servers = self._cluster.servers
        up = [s for s in servers if s.healthy]
        down = tuple(s for s in servers if not s.healthy)  # said in each page's language: ServerStatus.down
        if not up:
            return ServerStatus(False, "None of the {total} ComfyUI servers can be reached ({down}). "
                                       "Retrying automatically.", (("total", len(servers)),), down=down)
        if down:
            return ServerStatus(True, "{up} of {total} ComfyUI servers are up. Not usable now: {down}",
                                (("up", len(up)), ("total", len(servers))), down=down)
        return ServerStatus(True, "All {total} ComfyUI servers are up", (("total", len(servers)),))

    def get(self, fresh: bool = False) -> ServerStatus:
        local = self._local_status()
        if local is not None and len(self._comfies()) == 1:
            return local   # our own ComfyUI is starting, restarting or failed: say that, not "cannot reach"
        status = self._probed(fresh)
        return status if local is None else replace(status, note=local)

    def _probed(self, fresh: bool) -> ServerStatus:
        if not self._lock.acquire(blocking=self._last is None or fresh):
            return self._last  # another tab is probing right now; reuse the last answer
        try:
            if not fresh and self._last is not None and time.monotonic() - self._at < self._ttl:
                return self._last
            comfies = self._comfies()
            try:
                if len(comfies) > 1:
                    status = self._cluster_status()
                else:
                    comfies[0].check()
                    status = (ServerStatus(True, "Connected to {server}", (("server", comfies[0].label),))
                              if hidden(comfies[0]) else
                              ServerStatus(True, "Connected to ComfyUI at {url}", (("url", comfies[0].url),)))
            except Exception as exc:  # noqa: BLE001 - any failure is "not usable"
                names = ServerNames.of(comfies, hide_paths=self._hide_paths)
                status = ServerStatus(False, "", error=exc.with_traceback(None), names=names)
            self._last, self._at = status, time.monotonic()
            return status
        finally:
            self._lock.release()
