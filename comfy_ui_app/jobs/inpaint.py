"""Inpainting jobs: the picture and mask a job carries, checked against the upload limits.

The template's shape and the files it reads are worked out by the pure
:mod:`comfy_ui_app.workflow.inpaint`; this module adds the checks that belong to uploads
(:data:`comfy_ui_app.jobs.uploads.MAX_PIXELS` before encoding, the server's upload size limit)
and hands the files over as :class:`~comfy_ui_app.comfy.inputs.InputFile` s. Nothing is sent
here: the job carries them and the :class:`~comfy_ui_app.cluster.cluster.Cluster` uploads them
to the server it picks (again to the next one if the job moves).

No Gradio here: the Inpainting tab (:mod:`comfy_ui_app.ui.inpaint_tab`) calls these functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from comfy_ui_app.comfy.inputs import InputFile
from comfy_ui_app.errors import PictureRefused
from comfy_ui_app.jobs.uploads import MAX_PIXELS, check_image, open_picture, server_upload_limit
from comfy_ui_app.workflow import masks
from comfy_ui_app.workflow.inpaint import InpaintShape, named_files, picture_size

__all__ = ["make_files", "open_editor", "stage_files"]


MAX_LAYERS = 4  # the page's editor paints on one layer; a caller may not send a pile of them
LAYER_FLOOR = 1_048_576  # pixels a layer may have whatever the picture's size (the page's empty canvas)


def open_editor(value: dict, *, field: str | None, limits=None) -> dict:
    """The editor's value (paths or bytes, as the page's editor hands them over) with its
    background and layers decoded, each only after its header passed the pixel limits
    (:func:`comfy_ui_app.jobs.uploads.open_picture`; a refusal names ``field``). At most
    :data:`MAX_LAYERS` layers, none larger than the picture (the editor's layers have its size),
    so layers cannot add up to more than a few pictures' memory. The composite is not needed (the
    mask comes from the layers) and is never decoded. A refusal names the file as uploaded."""
    background = value.get("background")
    layers = [layer for layer in value.get("layers") or [] if layer is not None]
    if background is None:
        return {"background": None, "layers": [], "composite": None}
    if len(layers) > MAX_LAYERS:
        raise PictureRefused("too_many_layers", field=field, count=len(layers), limit=MAX_LAYERS)
    picture = open_picture(background, field=field, limits=limits)
    most = min(MAX_PIXELS, max(picture.width * picture.height, LAYER_FLOOR))
    return {"background": picture, "composite": None,
            "layers": [open_picture(layer, field=field, max_pixels=most) for layer in layers]}


def make_files(shape: InpaintShape, prompt: dict, image: Any, mask: np.ndarray) -> masks.MaskFiles:
    """The picture and mask files for ``shape`` (``prompt`` tells the mask loader's channel).

    A picture over :data:`comfy_ui_app.jobs.uploads.MAX_PIXELS` is refused before encoding.
    """
    width, height = picture_size(image)
    if width * height > MAX_PIXELS:
        raise PictureRefused("too_large", name="image", field=shape.image.name, width=width, height=height,
                             limit=MAX_PIXELS)
    return masks.mask_files(image, mask, shape.kind, shape.channel(prompt))


def stage_files(client, shape: InpaintShape, files: masks.MaskFiles) -> tuple[dict[str, str], list[InputFile]]:
    """``(values for the image/mask fields, the files the job carries)``.

    Each file is checked against ``client``'s server's upload size limit
    (:func:`comfy_ui_app.jobs.uploads.check_image`); nothing is sent.
    """
    staged = {field: InputFile(data, name) for field, (name, data) in named_files(shape, files).items()}
    limit = server_upload_limit(client)
    for item in staged.values():
        check_image(item.data, item.name, max_bytes=limit, field=shape.image.name)
    return {name: item.ref for name, item in staged.items()}, list(staged.values())
