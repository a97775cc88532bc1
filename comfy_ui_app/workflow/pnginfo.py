"""PNG text metadata: an AUTOMATIC1111-style ``parameters`` chunk next to ComfyUI's own.

ComfyUI's ``SaveImage`` writes a ``prompt`` chunk (the API graph) and one chunk per
``extra_pnginfo`` key (``workflow``, the editor graph). Tools from the AUTOMATIC1111
world (A1111, Forge, SwarmUI, Civitai, image viewers) read a ``parameters`` text instead:

    a red fox
    Negative prompt: text, watermark
    Steps: 20, Sampler: euler, Schedule type: normal, CFG scale: 7, Seed: 123, Size: 512x512, Model: x

:func:`add_text_chunk` inserts such a chunk into PNG bytes without decoding the image,
so every byte of the pixels and every other chunk stays as ComfyUI wrote it. Pure
functions, no gradio.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["parameters_from_prompt", "parameters_text", "add_text_chunk", "PNG_SIGNATURE"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_TYPES = (b"tEXt", b"iTXt", b"zTXt")
# (role of a field, label in the A1111 line), in A1111's order
_LINE = (("steps", "Steps"), ("sampler", "Sampler"), ("scheduler", "Schedule type"), ("cfg", "CFG scale"),
         ("seed", "Seed"), ("size", "Size"), ("checkpoint", "Model"), ("denoise", "Denoising strength"))  # fmt: skip


def parameters_from_prompt(prompt: Mapping, fields: Iterable[Any]) -> dict[str, Any]:
    """``{role: value}`` read from the filled ``prompt`` at each field's node input.

    Only the first field of each role is used (``steps``, not ``refiner_steps``); the
    values are what was actually sent, so a random seed shows as the seed that ran.
    """
    found: dict[str, Any] = {}
    for field in fields:
        role = getattr(field, "role", None)
        if not role or role in found or getattr(field, "placeholder", False):
            continue
        node = prompt.get(field.node_id)
        inputs = node.get("inputs") if isinstance(node, Mapping) else None
        if isinstance(inputs, Mapping) and field.input_name in inputs and not isinstance(inputs[field.input_name], list):
            found[role] = inputs[field.input_name]
    return found


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _clean(value: Any) -> str:
    """One value on the comma-separated line, JSON-quoted when it has a comma or colon (as A1111)."""
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if any(c in text for c in ",:\n") else text


def parameters_text(params: Mapping[str, Any]) -> str:
    """The A1111 ``parameters`` text for ``{role: value}`` (see :func:`parameters_from_prompt`).

    Lines: the prompt, ``Negative prompt: …`` (when there is one), then
    ``Steps: …, Sampler: …, Schedule type: …, CFG scale: …, Seed: …, Size: WxH, Model: …``
    with whatever is known. A denoise of 1 is left out, as A1111 does for text to image.
    """
    values = dict(params)
    if "width" in values and "height" in values:
        values["size"] = f"{_number(values['width'])}x{_number(values['height'])}"
    if "denoise" in values and _number(values["denoise"]) == "1":
        del values["denoise"]
    lines = [str(values.get("prompt") or "").strip()]
    negative = str(values.get("negative") or "").strip()
    if negative:
        lines.append(f"Negative prompt: {negative}")
    settings = [f"{label}: {_clean(_number(values[role]))}" for role, label in _LINE
                if role in values and values[role] not in (None, "")]  # fmt: skip
    if settings:
        lines.append(", ".join(settings))
    return "\n".join(lines)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _chunks(png: bytes):
    """``(type, data, start, end)`` of every chunk; ValueError if ``png`` is not a PNG."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, end = png[pos + 4 : pos + 8], pos + 12 + length
        if end > len(png):
            raise ValueError("truncated PNG chunk")
        yield kind, png[pos + 8 : pos + 8 + length], pos, end
        pos = end
        if kind == b"IEND":
            return
    raise ValueError("PNG without IEND")


def _keyword(kind: bytes, data: bytes) -> str:
    return data.split(b"\0", 1)[0].decode("latin-1") if kind in _TEXT_TYPES else ""


def add_text_chunk(png: bytes, key: str, text: str) -> bytes:
    """``png`` with a text chunk ``key`` = ``text`` (replacing an older one of that key).

    Latin-1 text goes in a ``tEXt`` chunk, anything else (Chinese prompts) in an
    uncompressed UTF-8 ``iTXt`` chunk, as PIL does. Inserted just before ``IEND``.
    """
    keyword = key.encode("latin-1")
    if not 1 <= len(keyword) <= 79 or b"\0" in keyword:
        raise ValueError(f"bad PNG text keyword {key!r}")
    try:
        new = _chunk(b"tEXt", keyword + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:
        new = _chunk(b"iTXt", keyword + b"\0\0\0" + b"\0" + b"\0" + text.encode("utf-8"))
    out, iend = [png[: len(PNG_SIGNATURE)]], None
    for kind, data, start, end in _chunks(png):
        if kind == b"IEND":
            iend = png[start:end]
        elif _keyword(kind, data) != key:
            out.append(png[start:end])
    return b"".join(out) + new + (iend or b"")
