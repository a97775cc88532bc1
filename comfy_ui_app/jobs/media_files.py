"""Sounds, videos and 3D models a user picks for a workflow's upload fields (``LoadAudio``,
``LoadVideo``, ``Load3D``): judged from their FIRST BYTES only, never decoded.

:func:`sniff` names the format of a file's head (``wav``, ``mp4``, ``glb``…) and the kind it
belongs to; :data:`FORMATS` lists, per kind a field takes, the formats ComfyUI's loaders accept
(``audio``: WAV, FLAC, MP3, OGG, M4A; ``video``: MP4, MOV, WebM/MKV, AVI, GIF, animated WebP;
``model3d``: GLB, glTF, OBJ, FBX, STL, PLY; ``animation``: GIF, WebP, PNG). :func:`read_media`
checks a picked file for a field of one kind: not empty, within the user's cap
(``--max-user-upload-mb``: LimitExceeded) and the server's ``max_upload_size``, and of that kind
(FileRefused naming the field), and gives its bytes and an upload name whose suffix is the
format found (not the one the browser sent). No Gradio here: ``ui/_prepare`` calls it.
"""
from __future__ import annotations

import re
from pathlib import Path

from comfy_ui_app.errors import FileRefused, LimitExceeded
from comfy_ui_app.jobs.uploads import UploadRefused, _mb as size_words, server_upload_limit, upload_name

__all__ = ["FORMATS", "MEDIA_KINDS", "HEAD_BYTES", "sniff", "media_problem", "read_media"]

HEAD_BYTES = 512  # how much of a file is read to judge it
MEDIA_KINDS = ("audio", "video", "model3d", "animation")
#: the formats a field of each kind accepts (as :func:`sniff` names them), in the order messages list them
FORMATS = {
    "audio": ("wav", "flac", "mp3", "ogg", "m4a"),
    "video": ("mp4", "mov", "webm", "avi", "gif", "webp"),
    "model3d": ("glb", "gltf", "obj", "fbx", "stl", "ply"),
    "animation": ("gif", "webp", "png"),
}
_M4A_BRANDS = (b"M4A ", b"M4B ", b"M4P ")
_MOV_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
_OBJ_LINE = re.compile(rb"^\s*(#|v |vn |vt |f |o |g |s |mtllib |usemtl )")


def _text_head(head: bytes) -> bytes:
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()


def sniff(head: bytes, size: int | None = None) -> str | None:
    """The format of a file from its first bytes (``size``: the whole file's, for binary STL), or None."""
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WAVE": "wav", b"AVI ": "avi", b"WEBP": "webp"}.get(head[8:12])
    if head[4:8] == b"ftyp":
        return "m4a" if head[8:12] in _M4A_BRANDS else "mov" if head[8:12] == b"qt  " else "mp4"
    if head[4:8] in _MOV_ATOMS:
        return "mov"
    for magic, name in ((b"fLaC", "flac"), (b"OggS", "ogg"), (b"ID3", "mp3"), (b"\x1a\x45\xdf\xa3", "webm"),
                        (b"GIF87a", "gif"), (b"GIF89a", "gif"), (b"\x89PNG\r\n\x1a\n", "png"), (b"glTF", "glb"),
                        (b"Kaydara FBX Binary", "fbx"), (b"ply\n", "ply"), (b"ply\r\n", "ply")):
        if head.startswith(magic):
            return name
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:  # an MPEG audio frame
        return "mp3"
    text = _text_head(head)
    if text.startswith(b"; FBX"):
        return "fbx"
    if text.startswith(b"solid"):
        return "stl"
    if text.startswith(b"{") and b'"asset"' in head or text.startswith(b'{"asset"'):
        return "gltf"
    if _OBJ_LINE.match(text):
        return "obj"
    if size is not None and len(head) >= 84 and size == 84 + 50 * int.from_bytes(head[80:84], "little"):
        return "stl"  # binary STL: an 80-byte header, a triangle count, 50 bytes a triangle
    return None


def media_problem(head: bytes, media: str, size: int | None = None) -> str | None:
    """None if ``head`` is of a format ``media`` accepts, else ``"empty"`` or ``"wrong_kind"``."""
    if not head:
        return "empty"
    return None if sniff(head, size) in FORMATS.get(media, ()) else "wrong_kind"


def read_media(path: str | Path, media: str, client, *, field: str | None = None, limits=None) -> tuple[bytes, str]:
    """A picked file's bytes and upload name (``<name>.<format>``) for a field taking ``media``;
    FileRefused, LimitExceeded or UploadRefused (naming ``field``) when it may not be sent.
    ``limits``: the user's caps (None: an admin, or none set); ``client``: the server's limit."""
    path = Path(path)
    label = upload_name(path.name)
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    problem = media_problem(head, media, size)
    if problem:
        raise FileRefused(problem, media=media, name=label, field=field)
    cap = getattr(limits, "max_upload_mb", None)
    if cap is not None and size > cap * 1_000_000:
        raise LimitExceeded("upload_mb", round(size / 1_000_000, 2), cap, field=field, name=label, media=media)
    server_max = server_upload_limit(client)
    if server_max is not None and size > server_max:
        raise UploadRefused("The file {name} is too large ({size}); this ComfyUI server accepts uploads up to "
                            "{limit}.", field, name=label, size=size_words(size),
                            limit=size_words(server_max))
    return path.read_bytes(), f"{Path(label).stem}.{sniff(head, size)}"
