"""The ``prompt`` / ``workflow`` tags of a video, as ComfyUI and VideoHelperSuite write them.

* **MP4 / MOV** (ComfyUI's SaveVideo through PyAV with ``movflags=use_metadata_tags``):
  ``moov/udta/meta`` holds a ``keys`` box (``prompt``, ``workflow``…) and an ``ilst`` box
  whose items point at those keys and hold a ``data`` box with the text. An iTunes-style
  ``©cmt`` item (ffmpeg's ``comment``) is read too.
* **WEBM / MKV**: ``SimpleTag`` elements (``TagName`` + ``TagString``); ffmpeg writes the names
  in capitals (``PROMPT``, ``WORKFLOW``, ``COMMENT``).

VideoHelperSuite puts both graphs in one ``comment`` tag, a JSON object
``{"prompt": "…", "workflow": {…}}``; it is unpacked here. Boxes are walked by seeking: only
the metadata box is read, never the frames; no text over the caller's ``max_text`` is read.
Called by :mod:`comfy_ui_app.workflow.embedded` with its ``keep(found, key, text)``.
"""
from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import BinaryIO

from comfy_ui_app.workflow.source import parse_json

__all__ = ["read_mp4", "read_webm", "MAX_SCAN"]

MAX_SCAN = 4 * 1024 * 1024  # the head of a WEBM searched for its tags (ffmpeg writes them before the frames)
MAX_BOXES = 10_000
Keep = Callable[[dict, str, "str | None"], None]


def _boxes(stream: BinaryIO, end: int | None):
    """``(type, content start, content end)`` of each box from the stream's position to ``end``."""
    for _ in range(MAX_BOXES):
        start = stream.tell()
        if end is not None and start + 8 > end:
            return
        header = stream.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I", header[:4])[0], header[4:]
        body = start + 8
        if size == 1:
            large = stream.read(8)
            if len(large) < 8:
                return
            size, body = struct.unpack(">Q", large)[0], start + 16
        elif size == 0:
            size = (end if end is not None else stream.seek(0, 2)) - start
        if size < body - start:
            return
        yield kind, body, start + size
        stream.seek(start + size)


def _children(data: bytes, start: int = 0):
    """``(type, content)`` of the boxes inside ``data`` (a box read whole)."""
    pos = start
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I", data[pos : pos + 4])[0], data[pos + 4 : pos + 8]
        if size < 8 or pos + size > len(data):
            return
        yield kind, data[pos + 8 : pos + size]
        pos += size


def _comment(found: dict, keep: Keep, text: str) -> None:
    """A ``comment`` tag: VideoHelperSuite's JSON of both graphs, or plain text (skipped)."""
    if not text.lstrip().startswith("{"):
        return
    try:
        data = parse_json(text)
    except ValueError:
        return
    if isinstance(data, dict):
        for key in ("prompt", "workflow"):
            value = data.get(key)
            if value is not None:
                keep(found, key, value if isinstance(value, str) else json.dumps(value))


def _tag(found: dict, keep: Keep, name: str, text: str) -> None:
    name = name.strip().lower()
    if name in ("comment", "\xa9cmt"):
        _comment(found, keep, text)
    else:
        keep(found, name, text)


def _meta(found: dict, keep: Keep, meta: bytes) -> None:
    """The ``keys`` + ``ilst`` of a ``meta`` box's content (with or without its version field)."""
    start = 4 if meta[4:8] not in (b"hdlr", b"keys", b"ilst") else 0
    keys: dict[int, str] = {}
    items: list[tuple[bytes, bytes]] = []
    for kind, content in _children(meta, start):
        if kind == b"keys" and len(content) >= 8:
            pos = 8
            for index in range(1, struct.unpack(">I", content[4:8])[0] + 1):
                if pos + 8 > len(content):
                    break
                size = struct.unpack(">I", content[pos : pos + 4])[0]
                if size < 8:
                    break
                keys[index] = content[pos + 8 : pos + size].decode("utf-8", errors="replace")
                pos += size
        elif kind == b"ilst":
            items = list(_children(content))
    for kind, content in items:
        name = keys.get(struct.unpack(">I", kind)[0]) or kind.decode("latin-1")
        for inner, data in _children(content):
            if inner == b"data" and len(data) > 8:
                _tag(found, keep, name, data[8:].decode("utf-8", errors="replace"))
                break


def read_mp4(stream: BinaryIO, keep: Keep, max_text: int) -> dict:
    """``{key: text}`` of an ISO media file's ``udta`` metadata (top level or in ``moov``)."""
    found: dict = {}
    stream.seek(0)
    for kind, body, end in list(_boxes(stream, None)):
        places = [(body, end)] if kind == b"udta" else []
        if kind == b"moov":
            stream.seek(body)
            places = [(b, e) for k, b, e in _boxes(stream, end) if k == b"udta"]
        for u_body, u_end in places:
            if u_end - u_body > max_text:
                continue
            stream.seek(u_body)
            for inner, content in _children(stream.read(u_end - u_body)):
                if inner == b"meta":
                    _meta(found, keep, content)
    return found


def _vint(data: bytes, pos: int) -> tuple[int, int] | None:
    """``(value, length)`` of the EBML variable-size integer at ``pos``."""
    if pos >= len(data) or data[pos] == 0:
        return None
    length = 8 - data[pos].bit_length() + 1
    if pos + length > len(data):
        return None
    value = data[pos] & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, length


def _element(data: bytes, start: int, end: int, element_id: bytes) -> bytes | None:
    """The content of the first ``element_id`` child between ``start`` and ``end``."""
    pos = start
    while pos < end:
        id_len = 8 - data[pos].bit_length() + 1 if data[pos] else 9
        size = _vint(data, pos + id_len) if id_len <= 4 else None
        if size is None:
            return None
        body = pos + id_len + size[1]
        if data[pos : pos + id_len] == element_id:
            return data[body : min(body + size[0], end)]
        pos = body + size[0]
    return None


def read_webm(stream: BinaryIO, keep: Keep, max_text: int) -> dict:
    """``{key: text}`` of the ``SimpleTag`` elements in a Matroska file's first :data:`MAX_SCAN` bytes."""
    found: dict = {}
    stream.seek(0)
    data = stream.read(MAX_SCAN)
    pos = data.find(b"\x67\xc8")
    while pos >= 0:
        size = _vint(data, pos + 2)
        if size is not None and 0 < size[0] <= max_text:
            body = pos + 2 + size[1]
            end = min(body + size[0], len(data))
            name = _element(data, body, end, b"\x45\xa3")
            text = _element(data, body, end, b"\x44\x87")
            if name is not None and text is not None:
                _tag(found, keep, name.decode("utf-8", errors="replace"),
                     text.rstrip(b"\0").decode("utf-8", errors="replace"))
        pos = data.find(b"\x67\xc8", pos + 2)
    return found
