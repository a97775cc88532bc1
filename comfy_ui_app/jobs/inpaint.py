"""Inpainting jobs: upload the image and its mask the way the template reads them.

Two template shapes (:func:`inpaint_shape`, from :func:`comfy_ui_app.workflow.fields.discover`):

* **alpha** (the bundled ``workflows/inpaint.json``): one ``LoadImage`` whose MASK output
  is used (field kind ``"mask"``). ComfyUI's mask = 1 - alpha, so the image is uploaded
  with ``/upload/image``, then an RGBA mask (alpha 0 = repaint) with ``/upload/mask`` and
  ``original_ref`` pointing at it; the server writes the merged RGBA PNG under the mask's
  name, and that name goes into the template.
* **separate**: ``LoadImage`` for the picture plus ``LoadImageMask`` for the mask; both
  are uploaded with ``/upload/image`` (the mask white = repaint, in the node's channel).

``/upload/mask`` answers 200 even when it writes nothing (a bad or missing
``original_ref``), so the merged file is read back with ``/view`` and its alpha compared
with what was sent. Upload names are content hashes with ``overwrite``, so sending the
same picture and mask again reuses the same files instead of piling up copies.

Over several servers (a :class:`~comfy_ui_app.cluster.cluster.Cluster`) the server is chosen
later: :func:`stage_files` uploads nothing and returns the files as
:class:`~comfy_ui_app.comfy.inputs.InputFile` s that the job carries (the cluster uploads them
to the server it picks); the alpha shape's merged picture is then made here, exactly what
``/upload/mask`` would write, and sent with ``/upload/image`` like any other picture.

No Gradio here: the Inpainting tab and tests call these functions.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from comfy_ui_app.workflow import masks
from comfy_ui_app.comfy.inputs import InputFile
from comfy_ui_app.errors import ComfyError, ServerHTTPError, WorkflowError
from comfy_ui_app.workflow.fields import Field, discover, is_link
from comfy_ui_app.jobs.uploads import MAX_PIXELS, UploadRefused, check_image, server_upload_limit
from comfy_ui_app.workflow.templates import apply_values

__all__ = ["InpaintShape", "MaskNotSaved", "inpaint_shape", "make_files", "upload_files", "prepare_inpaint",
           "merged_png", "stage_files"]

UPLOAD_PREFIX = "inpaint-"


class MaskNotSaved(ComfyError):
    """``/upload/mask`` answered but the merged image is missing or wrong."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(f"ComfyUI did not save the masked image {name} ({reason}). Please try again.")


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


def make_files(shape: InpaintShape, prompt: dict, image: Any, mask: np.ndarray) -> masks.MaskFiles:
    """The bytes to upload for ``shape`` (``prompt`` tells the mask loader's channel).

    A picture over :data:`comfy_ui_app.jobs.uploads.MAX_PIXELS` is refused before encoding.
    """
    shape_ = getattr(image, "shape", None)  # a numpy array: (height, width, ...); PIL: .size = (w, h)
    width, height = (shape_[1], shape_[0]) if shape_ is not None and len(shape_) >= 2 else \
        (getattr(image, "size", None) or (0, 0))
    if int(width) * int(height) > MAX_PIXELS:
        raise UploadRefused("The picture {name} is too large ({width}×{height} pixels); the limit is {limit} "
                            "pixels.", shape.image.name, name="image", width=width, height=height,
                            limit=f"{MAX_PIXELS:,}")
    return masks.mask_files(image, mask, shape.kind, shape.channel(prompt))


def _ref(answer: dict) -> str:
    """The value a LoadImage input takes for an uploaded file."""
    name, subfolder = str(answer["name"]), str(answer.get("subfolder") or "")
    return f"{subfolder}/{name}" if subfolder else name


def _check_merged(client, answer: dict, files: masks.MaskFiles) -> None:
    """Read the merged file back; its alpha must be exactly the alpha that was sent."""
    name = str(answer.get("name") or "")
    try:
        data = client.view(name, type=answer.get("type") or "input", subfolder=answer.get("subfolder") or "")
    except ServerHTTPError as exc:
        raise MaskNotSaved(name, f"HTTP {exc.status}") from exc
    try:
        with Image.open(io.BytesIO(data)) as merged:
            alpha = np.asarray(merged.convert("RGBA").getchannel("A"))
    except OSError as exc:
        raise MaskNotSaved(name, "not an image") from exc
    sent = 255 - masks.decode_mask(files.mask_png, masks.ALPHA)
    if alpha.shape != sent.shape or not np.array_equal(alpha, sent):
        raise MaskNotSaved(name, "its mask differs from the one sent")


def upload_files(client, shape: InpaintShape, files: masks.MaskFiles) -> dict[str, str]:
    """Upload ``files``; returns the values for the template's image (and mask) fields.

    Both files are checked first (:func:`comfy_ui_app.jobs.uploads.check_image`: the server's
    upload size limit, the pixel limit).
    """
    stem = UPLOAD_PREFIX + files.digest()
    limit = server_upload_limit(client)
    for data, suffix in ((files.image_png, "image"), (files.mask_png, "mask")):
        check_image(data, f"{stem}-{suffix}.png", max_bytes=limit, field=shape.image.name)
    picture = client.upload_image(files.image_png, f"{stem}-image.png", overwrite=True)
    values = {shape.image.name: _ref(picture)}
    if files.kind == masks.ALPHA:
        original = {"filename": picture["name"], "subfolder": picture.get("subfolder") or "",
                    "type": picture.get("type") or "input"}  # fmt: skip
        merged = client.upload_mask(files.mask_png, f"{stem}.png", original, overwrite=True)
        _check_merged(client, merged, files)
        values[shape.image.name] = _ref(merged)
        if shape.mask is not None:  # a template with both: give the mask loader the mask too
            extra = masks.mask_files(files.image_png, masks.decode_mask(files.mask_png), masks.SEPARATE, "alpha")
            values[shape.mask.name] = _ref(client.upload_image(extra.mask_png, f"{stem}-mask.png", overwrite=True))
    else:
        values[shape.mask.name] = _ref(client.upload_image(files.mask_png, f"{stem}-mask.png", overwrite=True))
    return values


def merged_png(files: masks.MaskFiles) -> bytes:
    """What ``/upload/mask`` writes for ALPHA ``files``: the picture with the mask's alpha."""
    with Image.open(io.BytesIO(files.image_png)) as opened:
        image = opened.convert("RGBA")
    image.putalpha(Image.fromarray(255 - masks.decode_mask(files.mask_png, masks.ALPHA)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=4)
    return buffer.getvalue()


def stage_files(client, shape: InpaintShape, files: masks.MaskFiles, *,
                upload: bool = True) -> tuple[dict[str, str], list[InputFile]]:
    """``(values for the image/mask fields, files still to upload)``.

    ``upload``: sent now to ``client``'s server (:func:`upload_files`; nothing left to
    upload). Otherwise nothing is sent: the files come back to travel with the job (a
    cluster uploads them where it runs), checked against ``client``'s upload limit.
    """
    if upload:
        return upload_files(client, shape, files), []
    stem = UPLOAD_PREFIX + files.digest()
    if files.kind == masks.ALPHA:
        staged = {shape.image.name: InputFile(merged_png(files), f"{stem}.png")}
        if shape.mask is not None:  # a template with both: give the mask loader the mask too
            extra = masks.mask_files(files.image_png, masks.decode_mask(files.mask_png), masks.SEPARATE, "alpha")
            staged[shape.mask.name] = InputFile(extra.mask_png, f"{stem}-mask.png")
    else:
        staged = {shape.image.name: InputFile(files.image_png, f"{stem}-image.png"),
                  shape.mask.name: InputFile(files.mask_png, f"{stem}-mask.png")}
    limit = server_upload_limit(client)
    for item in staged.values():
        check_image(item.data, item.name, max_bytes=limit, field=shape.image.name)
    return {name: item.ref for name, item in staged.items()}, list(staged.values())


def prepare_inpaint(
    client,
    template: dict,
    fields: list[Field] | None,
    image: Any,
    mask: np.ndarray | None,
    values: dict[str, Any],
    *,
    files: masks.MaskFiles | None = None,
) -> dict:
    """Upload ``image`` and ``mask`` as the template needs and return the filled prompt.

    ``mask`` is a uint8 array (255 = repaint; :mod:`comfy_ui_app.workflow.masks`), resized to the
    image with NEAREST if needed; pass ``files`` (from :func:`make_files`) instead to
    upload exactly the bytes a preview was made from. ``values`` fills the other fields
    (prompt, seed, denoise …) with :func:`comfy_ui_app.workflow.templates.apply_values`.
    """
    fields = discover(template) if fields is None else fields
    shape = inpaint_shape(fields)
    filled = apply_values(template, values, fields=fields)
    if files is None:
        if image is None or mask is None:
            raise WorkflowError("Please add a picture to inpaint first.", shape.image.name)
        files = make_files(shape, filled, image, mask)
    if not masks.decode_mask(files.mask_png, files.kind, files.channel).any():
        raise WorkflowError("Please paint over the part of the picture to change.", shape.image.name)
    return apply_values(filled, upload_files(client, shape, files), fields=fields)
