"""What an output node reported, read as the files to fetch, each with its *media* (pure, no I/O).

ComfyUI reports a node's outputs (the ``executed`` message's ``output``, ``/history``'s
``outputs``) as lists of file entries under a key: ``images`` (stills, and video and animated
WEBP/PNG with ``"animated": [true]`` beside them), ``audio``, ``3d`` (``SaveGLB``), ``text``
(``PreviewAny``: strings, not files), ``result`` (``Preview3D``: a path in the input folder and
the camera), and custom nodes add their own (``gifs``: VideoHelperSuite). :func:`output_refs`
turns any of them into refs ``{"filename", "subfolder", "type"}`` (``"text"`` carries the
string itself); :func:`media_of` says what a file is from its name: ``image``, ``video``,
``audio``, ``3d``, ``text``, or ``file`` (a kind the page cannot show: kept for download, with
a note); :func:`check_media` judges fetched bytes by their first bytes (a proxy's error page
is no video).
"""
from __future__ import annotations

from pathlib import PurePosixPath

from comfy_ui_app.errors import NotAnImage

__all__ = ["MEDIA", "media_of", "output_refs", "check_media", "TEXT_TYPE"]

MEDIA = ("image", "video", "audio", "3d", "text", "file")
TEXT_TYPE = "text"  # the ``type`` of a text ref: nothing to fetch, the string is in the ref
_SUFFIXES = {
    "image": (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"),
    "video": (".mp4", ".webm", ".mov", ".mkv", ".avi", ".m4v"),
    "audio": (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac"),
    "3d": (".glb", ".gltf", ".obj", ".ply", ".stl", ".splat", ".fbx", ".usdz"),
    "text": (".txt",),
}
_TEXT_LIMIT = 1_000_000  # characters of one text output kept


def media_of(filename: str) -> str:
    """The media of a file, from its extension (``file`` for any other)."""
    suffix = PurePosixPath(str(filename)).suffix.lower()
    return next((media for media, suffixes in _SUFFIXES.items() if suffix in suffixes), "file")


def _file_ref(entry: dict) -> dict | None:
    filename = entry.get("filename")
    if not isinstance(filename, str) or not filename:
        return None
    return {"filename": filename, "subfolder": str(entry.get("subfolder") or ""),
            "type": str(entry.get("type") or "output")}


def output_refs(node: str, output: dict) -> list[dict]:
    """Every file (and text) one node's output reports, in the order it reports them."""
    refs: list[dict] = []
    if not isinstance(output, dict):
        return refs
    for key, items in output.items():
        if key == "animated" or not isinstance(items, list):
            continue  # "animated" qualifies "images"; other shapes are no files
        if key == "text":
            for n, text in enumerate(items):
                if isinstance(text, str):
                    refs.append({"filename": f"text_{node}_{n + 1}.txt", "subfolder": "", "type": TEXT_TYPE,
                                 "text": text[:_TEXT_LIMIT]})
            continue
        if key == "result":  # Preview3D: [path in the input folder, camera info]
            path = items[0] if items else None
            if isinstance(path, str) and path and media_of(path) == "3d" and ".." not in path.split("/"):
                where = PurePosixPath(path)
                refs.append({"filename": where.name, "subfolder": str(where.parent).strip("."), "type": "input"})
            continue
        refs.extend(ref for ref in (_file_ref(e) for e in items if isinstance(e, dict)) if ref)
    return refs


def _looks_like(media: str, data: bytes, filename: str) -> bool:
    head = data[:16]
    if media == "video":
        return head[4:8] == b"ftyp" or head[:4] in (b"\x1aE\xdf\xa3", b"RIFF") or head[:3] == b"GIF"
    if media == "audio":
        return (head[:4] in (b"RIFF", b"fLaC", b"OggS") or head[:3] == b"ID3" or head[4:8] == b"ftyp"
                or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xf1", b"\xff\xf9"))
    if media == "3d" and filename.lower().endswith(".glb"):
        return head[:4] == b"glTF"
    return not head.lstrip().lower().startswith((b"<!doctype html", b"<html"))  # text-based 3D formats


def check_media(data: bytes, filename: str) -> None:
    """Raise NotAnImage (with the media it should be) unless ``data`` starts as its media does;
    pictures are judged by the caller (PIL), text and other files are kept as they come."""
    media = media_of(filename)
    if media in ("video", "audio", "3d") and not _looks_like(media, data, filename):
        raise NotAnImage(filename, media)
