"""What a page calls each ComfyUI server: its address, or a public name that hides it.

Errors carry a server's real address (``url``: for logs, operators, the command line). Which
name a reader sees is decided where the words are made: a public page (``app.py`` labels the
servers: ``Comfy(url, label="ComfyUI server 2")``) builds ``ServerNames.of(cluster.comfies)``
and hands it to ``messages.describe``, which says the name instead of the address and, as a
last guard, replaces every address left in its sentence (``hide``). The command line and a
private page pass none: addresses are shown.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

__all__ = ["ServerNames", "server_host"]


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

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self._names = {url.rstrip("/"): name for url, name in (names or {}).items() if name and name != url}

    @classmethod
    def of(cls, servers: Iterable) -> ServerNames:
        """From ``Comfy`` connections (or anything with ``url`` and ``label``)."""
        return cls({s.url: s.label for s in servers if getattr(s, "label", None)})

    def __bool__(self) -> bool:
        return bool(self._names)

    def __repr__(self) -> str:
        return f"ServerNames({self._names!r})"

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
        only its host and port), replaced by its shown name."""
        for base, name in sorted(self._names.items(), key=lambda item: -len(item[0])):
            text = re.sub(re.escape(base) + r"(?:/[^\s'\"<>(),]*)?(?![\w-])", name, text)  # not http://a:81881
            host = server_host(base)
            if host:
                text = re.sub(r"(?<![\w.-])" + re.escape(host) + r"(?![\w-])", name, text)
        return text
