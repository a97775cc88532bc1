"""Where a local ComfyUI checkout is: ``--comfyui-dir PATH`` or ``auto`` (see :mod:`comfy_ui_app.local.managed`).

Pure functions over paths; nothing is started here.
"""
from __future__ import annotations

import platform
from pathlib import Path
from typing import Iterable

from comfy_ui_app.errors import ComfyUIStartFailed

__all__ = ["default_candidates", "find_checkout", "is_checkout", "resolve_checkout"]


def default_candidates(*, home: Path | None = None, cwd: Path | None = None, system: str | None = None) -> list[Path]:
    """Where ``--comfyui-dir auto`` looks, in order: comfy-cli's default workspace
    (``~/comfy/ComfyUI``; ``~/Documents/comfy/ComfyUI`` on Windows and macOS), then
    ``./ComfyUI`` and ``../ComfyUI`` from the current folder."""
    home = Path.home() if home is None else Path(home)
    cwd = Path.cwd() if cwd is None else Path(cwd)
    system = platform.system() if system is None else system
    workspace = home / "Documents" if system in ("Windows", "Darwin") else home
    comfy_cli = workspace / "comfy" / "ComfyUI"
    return [comfy_cli, cwd / "ComfyUI", cwd.parent / "ComfyUI"]


def is_checkout(path) -> bool:
    """A ComfyUI checkout is a folder with ComfyUI's ``main.py`` in it."""
    return (Path(path) / "main.py").is_file()


def find_checkout(candidates: Iterable) -> Path | None:
    """The first of ``candidates`` that is a checkout, or None."""
    return next((Path(c) for c in candidates if is_checkout(c)), None)


def resolve_checkout(value: str, candidates: Iterable | None = None) -> Path:
    """``--comfyui-dir``'s value -> the checkout's absolute path; raises ComfyUIStartFailed."""
    if value.strip().lower() == "auto":
        places = list(default_candidates() if candidates is None else candidates)
        found = find_checkout(places)
        if found is None:
            raise ComfyUIStartFailed("not_found", searched=[str(p) for p in places])
        return found.resolve()
    path = Path(value).expanduser()
    if path.name == "main.py" and path.is_file():  # the file itself was named
        path = path.parent
    if not is_checkout(path):
        raise ComfyUIStartFailed("not_a_checkout", path=str(path))
    return path.resolve()
