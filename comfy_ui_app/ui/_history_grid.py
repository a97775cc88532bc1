"""History's picture grid: one tile per job, a page at a time, newest first.

A job's tile is the thumbnail of its first picture (:mod:`comfy_ui_app.jobs.thumbnails`: a small
WEBP made once beside the picture, never the full-size file); a job without a picture (failed,
cancelled, still waiting, or one that made a video, a sound, a 3D model or text) gets a small
drawn placeholder saying what it is and how it went, in the page's language (an SVG, which Gradio
sends inline: one file per wording, kept under ``output_dir/history-tiles``). The caption: ★ for a
favourite, when, and the status unless it is "Done".
"""
from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path

from comfy_ui_app.jobs.history_query import Tile
from comfy_ui_app.jobs.thumbnails import thumbnail
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.ui.queue_tab import owner_name

__all__ = ["PAGE_SIZE", "MAX_PAGE", "STATUS_WORDS", "KIND_WORDS", "GridPage", "page_number", "tile_item",
           "placeholder"]

PAGE_SIZE = 40
MAX_PAGE = 1_000_000  # a page number past every real one (40 million jobs)
STATUS_WORDS = {"queued": "Waiting", "running": "Running", "success": "Done", "error": "Failed",
                "interrupted": "Interrupted", "lost": "Lost", "cancelled": "Cancelled"}
KIND_WORDS = {"txt2img": "Text to image", "inpaint": "Inpainting", "custom": "Custom workflow"}
MEDIA_WORDS = {"video": "Video", "audio": "Audio", "3d": "3D model", "text": "Text", "file": "Files"}
_COLOURS = {"success": "#4b5563", "error": "#b91c1c", "queued": "#1d4ed8", "running": "#1d4ed8"}


@dataclass(frozen=True)
class GridPage:
    """One page of the grid: its number (1-based) of ``pages``, the ``total`` jobs the filter finds,
    the gallery's ``(picture, caption)`` items and the jobs' ids, in the same order."""

    number: int
    pages: int
    total: int
    items: list
    ids: list


def page_number(value) -> int:
    """A page number from the page's box or a raw call: a whole number from 1 to MAX_PAGE; anything
    else (text, NaN, infinity, a list) is page 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 1
    return int(min(max(1, value), MAX_PAGE))


def _caption(tile: Tile, user: str, lang: str) -> str:
    parts = [time.strftime("%m-%d %H:%M", time.localtime(tile.created_at))]
    if tile.status != "success":
        parts.append(tr(STATUS_WORDS.get(tile.status, tile.status), lang))
    if tile.owner != user:
        parts.append(owner_name(tile.owner, lang))
    return ("★ " if tile.starred else "") + " · ".join(parts)


def tile_item(tile: Tile, user: str, tiles_dir: Path, lang: str) -> tuple[str, str]:
    """The gallery item of one job: (its thumbnail or a placeholder, its caption)."""
    picture = tile.picture
    small = thumbnail(picture.path) if picture is not None else None
    if small is None:
        what = MEDIA_WORDS.get(tile.media or "", KIND_WORDS.get(tile.kind, "Other"))
        small = placeholder(tiles_dir, tr(what, lang), tr(STATUS_WORDS.get(tile.status, tile.status), lang),
                            _COLOURS.get(tile.status, "#92400e"))
    return str(small), _caption(tile, user, lang)


def placeholder(folder: Path, what: str, status: str, colour: str) -> Path:
    """A square SVG saying ``what`` and ``status`` (written once per wording)."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 256 256" width="256" height="256">'
           f'<rect width="256" height="256" rx="16" fill="{colour}"/>'
           '<g fill="#fff" font-family="sans-serif" text-anchor="middle">'
           f'<text x="128" y="118" font-size="26">{escape(what)}</text>'
           f'<text x="128" y="158" font-size="22" opacity="0.85">{escape(status)}</text></g></svg>')
    path = folder / f"{hashlib.sha256(svg.encode()).hexdigest()[:16]}.svg"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{time.monotonic_ns()}")
        staging.write_text(svg, encoding="utf-8")
        staging.replace(path)
    return path
