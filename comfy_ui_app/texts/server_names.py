"""What a page calls each ComfyUI server: its address, or a public name that hides it.

Errors carry a server's real address (``url``: for logs, operators, the command line). Which
name a reader sees is decided where the words are made: a public page (``app.py`` labels the
servers: ``Comfy(url, label="ComfyUI server 2")``) builds ``ServerNames.of(cluster.comfies)``
and hands it to ``messages.describe``, which says the name instead of the address and, as a
last guard, replaces every address left in its sentence (``hide``). The command line and a
private page pass none: addresses are shown.

A public page also hides file-system paths (``hide_paths``: ``ServerNames.of(servers,
hide_paths=policy.public)``): ComfyUI's error texts and the app's own name files by where they
are on a server ("[Errno 36] File name too long: '/srv/ComfyUI/output/ppp…'"), which tells a
stranger how the machine is laid out. :func:`hide_paths` keeps only a path's last part, cut to
``PATH_NAME_CHARS`` characters ("'…/ppp…'"): a file name the visitor gave stays recognisable.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

__all__ = ["ServerNames", "server_host", "hide_paths", "PATH_NAME_CHARS"]

PATH_NAME_CHARS = 40
# An absolute path (/a/b, C:\a\b, \\host\share\b, ~/a) or a relative one that climbs (../a): its
# folders, then its last part. Not inside a word or a URL (http://host/a/b: the address is ServerNames' job).
_PATH = re.compile(r"""
    (?<![\w:/\\.~-])                                  # not in the middle of a word, a URL or a path
    (?: [A-Za-z]:[\\/] | [\\/]{1,2} | ~[\\/] | (?:\.\.?[\\/])+ )   # where it starts
    (?: [^\s'"<>|\\/]+ [\\/] )*                        # its folders
    (?P<name> [^\s'"<>|\\/,;:)\]]* )                     # its last part
""", re.VERBOSE)


def _short(match: re.Match) -> str:
    whole, name = match.group(0), match.group("name")
    if whole.count("/") + whole.count("\\") < 2 and not whole.startswith(("~", ".")) and ":" not in whole[:2]:
        return whole   # "/prompt", "/view": a route or a single word, not where a file is kept
    name = name if len(name) <= PATH_NAME_CHARS else name[:PATH_NAME_CHARS] + "…"
    return f"…/{name}" if name else "…/"


def hide_paths(text: str) -> str:
    """``text`` with every file-system path cut to its last part: ``'/srv/ComfyUI/output/x.png'``
    -> ``'…/x.png'``; a route such as ``/prompt`` is left alone."""
    return _PATH.sub(_short, text)


def server_host(url: str) -> str:
    """``http://user:pw@gpu-1:8188/x`` -> ``gpu-1:8188``; "" when ``url`` has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if host and port else host


class ServerNames:
    """url -> the name a page shows for that server, only for servers whose address is hidden.

    Empty (and false) when every address may be shown."""

    def __init__(self, names: Mapping[str, str] | None = None, *, hide_paths: bool = False) -> None:
        self._names = {url.rstrip("/"): name for url, name in (names or {}).items() if name and name != url}
        self.hides_paths = hide_paths

    @classmethod
    def of(cls, servers: Iterable, *, hide_paths: bool = False) -> ServerNames:
        """From ``Comfy`` connections (or anything with ``url`` and ``label``); ``hide_paths``: a
        public page's (file-system paths are cut to their last part too)."""
        return cls({s.url: s.label for s in servers if getattr(s, "label", None)}, hide_paths=hide_paths)

    def __bool__(self) -> bool:
        return bool(self._names) or self.hides_paths

    def __repr__(self) -> str:
        return f"ServerNames({self._names!r}, hide_paths={self.hides_paths})"

    def _one(self, url: str) -> str | None:
        url = url.strip().rstrip("/")
        for base, name in self._names.items():
            if url == base or url.startswith(base + "/"):
                return name
        return None

    def name_of(self, url: str | None) -> str | None:
        """The shown name of the server at ``url`` (its address, a route under it, or several
        addresses joined by ", "); None when its address may be shown."""
        if not url or not self._names:
            return None
        parts = url.split(",")
        names = [self._one(part) for part in parts]
        if not any(names):
            return None
        return ", ".join(name or part.strip() for name, part in zip(names, parts))

    def hide(self, text: str) -> str:
        """``text`` with every hidden server's address, however written (with a route, or
        only its host and port), replaced by its shown name; on a public page every file-system
        path cut to its last part (:func:`hide_paths`)."""
        for base, name in sorted(self._names.items(), key=lambda item: -len(item[0])):
            text = re.sub(re.escape(base) + r"(?:/[^\s'\"<>(),]*)?(?![\w-])", name, text)  # not http://a:81881
            host = server_host(base)
            if host:
                text = re.sub(r"(?<![\w.-])" + re.escape(host) + r"(?![\w-])", name, text)
        return hide_paths(text) if self.hides_paths else text
