"""Inpainting templates: where a template takes its picture and mask, and the files it gets.

Pure functions over data (numpy and Pillow over bytes, no I/O); the uploads and the checks
against a server's limits are :mod:`comfy_ui_app.jobs.inpaint`'s.

Two template shapes (:func:`inpaint_shape`, from :func:`comfy_ui_app.workflow.fields.discover`):

* **alpha** (the bundled ``workflows/inpaint.json``): one ``LoadImage`` whose MASK output
  is used (field kind ``"mask"``). ComfyUI's mask = 1 - alpha, so the template gets the
  picture with the mask merged into its alpha (:func:`merged_png`: exactly what ComfyUI's
  ``/upload/mask`` would write), sent like any other picture.
* **separate**: ``LoadImage`` for the picture plus ``LoadImageMask`` for the mask; each
  gets its own file (the mask white = repaint, in the node's channel).

:func:`named_files` gives each of the template's image fields its file name and bytes.
Names are content hashes, so the same picture and mask always get the same names (uploaded
with ``overwrite``, they reuse the same files instead of piling up copies).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image

from comfy_ui_app.errors import WorkflowError
from comfy_ui_app.workflow import masks
from comfy_ui_app.workflow.fields import Field, is_link

__all__ = ["InpaintShape", "UPLOAD_PREFIX", "inpaint_shape", "picture_size", "merged_png", "named_files"]

UPLOAD_PREFIX = "inpaint-"


@dataclass(frozen=True)
class InpaintShape:
    """Where a template takes its picture and its mask."""

    image: Field  # the LoadImage input; kind "mask" when its MASK output (1 - alpha) is used
    mask: Field | None  # a LoadImageMask input, if any

    @property
    def kind(self) -> str:
        """masks.ALPHA (merge into the image's alpha) or masks.SEPARATE (a mask file)."""
        return masks.ALPHA if self.image.kind == "mask" else masks.SEPARATE

    def channel(self, prompt: dict) -> str:
        """The channel the mask loader reads in ``prompt`` (alpha if unknown or linked)."""
        if self.mask is None:
            return "alpha"
        value = (prompt.get(self.mask.node_id) or {}).get("inputs", {}).get("channel", "alpha")
        return value if not is_link(value) and value in masks.CHANNELS else "alpha"


def inpaint_shape(fields: list[Field]) -> InpaintShape:
    """The template's image and mask inputs; WorkflowError if it cannot take a mask."""
    image = next((f for f in fields if f.role == "image" and not f.advanced), None)
    mask = next((f for f in fields if f.role == "mask" and not f.advanced), None)
    if image is None:
        raise WorkflowError("This workflow has no Load Image node, so it cannot inpaint a picture.")
    if image.kind != "mask" and mask is None:
        raise WorkflowError(
            "This workflow does not use a mask: its Load Image mask output is not connected "
            "and it has no Load Image (as Mask) node."
        )
    return InpaintShape(image, mask)


def picture_size(image: Any) -> tuple[int, int]:
    """``(width, height)`` of a numpy array (height, width, ...) or a PIL image; (0, 0) if neither."""
    shape = getattr(image, "shape", None)
    if shape is not None and len(shape) >= 2:
        return int(shape[1]), int(shape[0])
    width, height = getattr(image, "size", None) or (0, 0)
    return int(width), int(height)


def merged_png(files: masks.MaskFiles) -> bytes:
    """What ``/upload/mask`` writes for ALPHA ``files``: the picture with the mask's alpha."""
    with Image.open(io.BytesIO(files.image_png)) as opened:
        image = opened.convert("RGBA")
    image.putalpha(Image.fromarray(255 - masks.decode_mask(files.mask_png, masks.ALPHA)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=4)
    return buffer.getvalue()


def named_files(shape: InpaintShape, files: masks.MaskFiles) -> dict[str, tuple[str, bytes]]:
    """``{field name: (file name, bytes)}``: the files ``shape``'s template reads for ``files``.

    ALPHA: the merged picture (and, for a template that also has a mask loader, the mask
    for it); SEPARATE: the picture and the mask.
    """
    stem = UPLOAD_PREFIX + files.digest()
    if files.kind == masks.ALPHA:
        named = {shape.image.name: (f"{stem}.png", merged_png(files))}
        if shape.mask is not None:  # a template with both: give the mask loader the mask too
            extra = masks.mask_files(files.image_png, masks.decode_mask(files.mask_png), masks.SEPARATE, "alpha")
            named[shape.mask.name] = (f"{stem}-mask.png", extra.mask_png)
        return named
    return {shape.image.name: (f"{stem}-image.png", files.image_png),
            shape.mask.name: (f"{stem}-mask.png", files.mask_png)}
