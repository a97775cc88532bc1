"""Small pictures for History's grid, made once from a job's stored picture and kept beside it.

A grid of 40 full-size PNGs would send megabytes (and Gradio hashes each file it serves); a
thumbnail is a 256-pixel WEBP of a few kilobytes. It is made the first time a grid shows the
job (so jobs stored before thumbnails existed get theirs too) and kept in the job's own folder,
``outputs/<job_id>/.thumbs/<name>.webp`` (a hidden folder: no stored output is ever named with a
leading dot), so deleting the job deletes it. Two pages making the same one at once each write a
file of their own and rename it into place.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from PIL import Image

__all__ = ["THUMB_PX", "THUMB_DIR", "thumbnail", "thumbnail_path"]

THUMB_PX = 256
THUMB_DIR = ".thumbs"


def thumbnail_path(picture: Path) -> Path:
    """Where the thumbnail of ``picture`` is kept."""
    return picture.parent / THUMB_DIR / f"{picture.name}.webp"


def thumbnail(picture: Path, size: int = THUMB_PX) -> Path | None:
    """The thumbnail of ``picture`` (made now if it is not there yet); None if ``picture`` cannot be
    read as a picture (gone, broken, too large for Pillow's decompression-bomb limit)."""
    target = thumbnail_path(picture)
    if target.is_file():
        return target
    staging = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        with Image.open(picture) as opened:
            opened.draft("RGB", (size, size))  # JPEG: decode at a smaller scale
            small = opened.convert("RGBA" if _has_alpha(opened) else "RGB")
        small.thumbnail((size, size))
        target.parent.mkdir(exist_ok=True)
        small.save(staging, "WEBP", quality=80)
        os.replace(staging, target)
    except Exception:  # noqa: BLE001 - any unreadable picture: the grid shows a placeholder instead
        staging.unlink(missing_ok=True)
        return None
    return target


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
