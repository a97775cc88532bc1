"""What a picture or video carries about how it was made: ComfyUI's graph or an A1111 text.

A file made by ComfyUI carries ``prompt`` (the API graph that ran) and ``workflow`` (the
editor's graph); one made by AUTOMATIC1111, Forge or SwarmUI carries a ``parameters`` text.
Where each lives, as ComfyUI writes it and its editor reads it back on a drop:

* **PNG** (and APNG): text chunks (``tEXt``, ``zTXt``, ``iTXt``) named ``prompt``,
  ``workflow``, ``parameters``;
* **WEBP** (SaveImage's WEBP, SaveAnimatedWEBP), **JPEG**: EXIF strings ``"prompt:{…}"``
  (tag 0x0110, Model) and ``"workflow:{…}"`` (0x010F, Make, the other ``extra_pnginfo``
  keys at the tags below it); A1111's WEBP/JPEG: EXIF ``UserComment`` = the parameters;
* **MP4 / MOV** and **WEBM / MKV** (SaveVideo, VideoHelperSuite): container tags, see
  :mod:`comfy_ui_app.workflow.video_tags`.

:func:`read_embedded` reads a file's metadata WITHOUT decoding a pixel: it walks the
container's chunks, seeking over the image data, and reads no text larger than
:data:`MAX_TEXT` (a compressed chunk is inflated only up to that size), so a huge chunk or a
zip bomb costs nothing. It returns the texts; the caller parses them as it parses any
workflow file (``workflow.source.parse_json``). Pure: no Gradio, no server.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from comfy_ui_app.workflow import video_tags
from comfy_ui_app.workflow.pnginfo import PNG_SIGNATURE

__all__ = ["Embedded", "MAX_TEXT", "read_embedded", "file_kind", "exif_texts"]

MAX_TEXT = 8 * 1024 * 1024  # the largest text read (a big workflow is ~1 MB)
MAX_CHUNKS = 200_000  # chunks walked in one file (a real PNG has a few hundred)
KEYS = ("prompt", "workflow", "parameters")


@dataclass(frozen=True)
class Embedded:
    """The texts found in a file (None where absent): the API graph, the editor graph, the
    A1111-style parameters. ``kind``: "png", "webp", "jpeg", "mp4", "webm" or "" (unknown)."""

    kind: str = ""
    prompt: str | None = None
    workflow: str | None = None
    parameters: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.prompt or self.workflow or self.parameters)


def file_kind(head: bytes) -> str:
    """The container a file's first bytes name ("" when none this module reads)."""
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    return ""


def read_embedded(path: str | Path) -> Embedded:
    """The metadata texts of the file at ``path`` (an :class:`Embedded`; empty for a file
    that carries none or is no container this module reads). Never decodes the image."""
    with open(path, "rb") as stream:
        kind = file_kind(stream.read(16))
        stream.seek(0)
        reader = _READERS.get(kind)
        found = reader(stream) if reader else {}
    return Embedded(kind, **{key: found.get(key) for key in KEYS})


def _keep(found: dict, key: str, text: str | None) -> None:
    key = key.strip().lower()
    if key in KEYS and text and key not in found:
        found[key] = text


# -- PNG ---------------------------------------------------------------------------------------

def _inflate(data: bytes) -> bytes | None:
    """``data`` inflated, or None when it is not zlib data or inflates past MAX_TEXT."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT + 1)
    except zlib.error:
        return None
    return None if len(out) > MAX_TEXT or inflater.unconsumed_tail else out


def png_text(kind: bytes, data: bytes) -> tuple[str, str | None]:
    """``(keyword, text)`` of a ``tEXt``/``zTXt``/``iTXt`` chunk's data (text None when unreadable)."""
    keyword, _, rest = data.partition(b"\0")
    key = keyword.decode("latin-1")
    if kind == b"tEXt":
        return key, rest.decode("latin-1")
    if kind == b"zTXt":
        raw = _inflate(rest[1:])
        return key, None if raw is None else raw.decode("latin-1")
    if len(rest) < 2:
        return key, None
    compressed, rest = rest[0], rest[2:]
    _lang, _, rest = rest.partition(b"\0")
    _translated, _, text = rest.partition(b"\0")
    raw = _inflate(text) if compressed else text
    return key, None if raw is None else raw.decode("utf-8", errors="replace")


def _read_png(stream: BinaryIO) -> dict:
    found: dict = {}
    stream.seek(len(PNG_SIGNATURE))
    for _ in range(MAX_CHUNKS):
        header = stream.read(8)
        if len(header) < 8:
            break
        length, kind = struct.unpack(">I", header[:4])[0], header[4:]
        if kind == b"IEND":
            break
        if kind in (b"tEXt", b"zTXt", b"iTXt") and length <= MAX_TEXT:
            data = stream.read(length)
            if len(data) < length:
                break
            key, text = png_text(kind, data)
            _keep(found, key, text)
            stream.seek(4, 1)  # the CRC
        else:
            stream.seek(length + 4, 1)  # pixels and anything too big: skipped, never read
    return found


# -- EXIF (WEBP, JPEG) --------------------------------------------------------------------------

_USER_COMMENT, _EXIF_IFD = 0x9286, 0x8769


def _ifd(tiff: bytes, offset: int, order: str) -> list[tuple[int, int, int, bytes]]:
    """``(tag, type, count, value bytes)`` of the IFD at ``offset`` (values past the data: skipped)."""
    if offset + 2 > len(tiff):
        return []
    (count,) = struct.unpack(order + "H", tiff[offset : offset + 2])
    entries = []
    for i in range(min(count, 1000)):
        at = offset + 2 + 12 * i
        if at + 12 > len(tiff):
            break
        tag, kind, n = struct.unpack(order + "HHI", tiff[at : at + 8])
        if kind not in (1, 2, 4, 7):  # BYTE, ASCII, LONG (a sub-IFD's offset), UNDEFINED (UserComment)
            continue
        size = n * (4 if kind == 4 else 1)
        if size <= 4:
            entries.append((tag, kind, n, tiff[at + 8 : at + 8 + size]))
            continue
        (where,) = struct.unpack(order + "I", tiff[at + 8 : at + 12])
        if where + size <= len(tiff):
            entries.append((tag, kind, n, tiff[where : where + size]))
    return entries


def _user_comment(value: bytes) -> str | None:
    """EXIF UserComment: an 8-byte charset name, then the text (A1111 writes UTF-16)."""
    charset, text = value[:8], value[8:]
    if charset.startswith(b"UNICODE"):
        big = not (len(text) >= 2 and text[1:2] == b"\0" and text[0:1] != b"\0")
        return text.decode("utf-16-be" if big else "utf-16-le", errors="replace").rstrip("\0")
    return text.decode("utf-8", errors="replace").rstrip("\0")


def exif_texts(data: bytes) -> dict:
    """``{"prompt"|"workflow"|"parameters": text}`` from EXIF bytes (with or without "Exif\\0\\0")."""
    if data.startswith(b"Exif\0\0"):
        data = data[6:]
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8:
        return {}
    found: dict = {}
    (first,) = struct.unpack(order + "I", data[4:8])
    for tag, kind, _n, value in _ifd(data, first, order):
        if kind == 2:  # ComfyUI: "workflow:{...}", "prompt:{...}"
            key, sep, text = value.rstrip(b"\0").decode("utf-8", errors="replace").partition(":")
            if sep:
                _keep(found, key, text)
        elif tag == _EXIF_IFD and kind == 4:
            (sub,) = struct.unpack(order + "I", value[:4])
            for tag2, _kind2, _n2, value2 in _ifd(data, sub, order):
                if tag2 == _USER_COMMENT:
                    _keep(found, "parameters", _user_comment(value2))
    return found


def _read_webp(stream: BinaryIO) -> dict:
    stream.seek(12)
    for _ in range(MAX_CHUNKS):
        header = stream.read(8)
        if len(header) < 8:
            break
        kind, (length,) = header[:4], struct.unpack("<I", header[4:])
        if kind == b"EXIF" and length <= MAX_TEXT * 2:
            return exif_texts(stream.read(length))
        stream.seek(length + (length & 1), 1)
    return {}


def _read_jpeg(stream: BinaryIO) -> dict:
    stream.seek(2)
    for _ in range(MAX_CHUNKS):
        marker = stream.read(4)
        if len(marker) < 4 or marker[0] != 0xFF or marker[1] in (0xD9, 0xDA):  # end, or the pixels start
            break
        (length,) = struct.unpack(">H", marker[2:])
        if marker[1] == 0xE1 and length > 2:
            data = stream.read(length - 2)
            if data.startswith(b"Exif\0\0"):
                return exif_texts(data)
        else:
            stream.seek(length - 2, 1)
    return {}


_READERS = {"png": _read_png, "webp": _read_webp, "jpeg": _read_jpeg,
            "mp4": lambda s: video_tags.read_mp4(s, _keep, MAX_TEXT),
            "webm": lambda s: video_tags.read_webm(s, _keep, MAX_TEXT)}
