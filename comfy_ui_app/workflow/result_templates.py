"""The bundled templates that work on a finished picture: Upscale, Vary, Extend (pure, no I/O).

Each action is an API-format template in ``workflows/`` whose fields :func:`~comfy_ui_app.workflow.fields.discover`
finds; this module says which template an action runs, what size its picture comes out (as ComfyUI
computes it) and the ``{field name: value}`` that fill it:

* **Upscale** — ``upscale_model.json`` (``UpscaleModelLoader`` -> ``ImageUpscaleWithModel`` -> ``ImageScaleBy``
  down to the chosen factor: a "4x" model then ×0.5 gives 2×), ``upscale_pixels.json`` (``ImageScaleBy``
  with a resampling method), ``upscale_latent.json`` ("hires fix": ``VAEEncode`` -> ``LatentUpscaleBy`` ->
  ``KSampler`` at a low denoise -> ``VAEDecode``);
* **Vary** — ``img2img.json`` over the picture: a new random seed, denoise 0.35 ("subtle") or 0.6 ("strong");
* **Extend** — ``extend.json``: ``ImagePadForOutpaint`` grows the canvas on the chosen sides (the new border
  is the mask, feathered) -> ``VAEEncodeForInpaint`` -> ``KSampler`` -> ``SaveImage``.

Fields are found by the node class and input they fill (:func:`field_name`), so a template keeps
working when a field's discovered name changes.
"""
from __future__ import annotations

import re
from typing import Any

from comfy_ui_app.workflow.fields import Field

__all__ = ["TEMPLATES", "FACTORS", "VARY_DENOISE", "SIDES", "PIXEL_METHODS", "EXTEND_PIXELS", "LATENT", "PIXELS",
           "field_name", "model_scale", "upscaled_size", "padding", "extended_size", "upscale_values", "vary_values",
           "extend_values", "picture_value"]

TEMPLATES = {"upscale_model": "upscale_model.json", "upscale_pixels": "upscale_pixels.json",
             "upscale_latent": "upscale_latent.json", "vary": "img2img.json", "extend": "extend.json"}
FACTORS = (1.5, 2.0, 3.0, 4.0)
VARY_DENOISE = {"subtle": 0.35, "strong": 0.6}
SIDES = ("left", "right", "top", "bottom")
PIXEL_METHODS = ("lanczos", "bicubic", "bilinear", "area", "nearest-exact")
EXTEND_PIXELS = (64, 512)      # the smallest and largest border, a multiple of 8 (ImagePadForOutpaint's step)
HIRES_DENOISE = 0.4
FEATHERING = 40
PIXELS = "pixels"              # Upscale methods that are not a model's name
LATENT = "latent"
_SCALE = re.compile(r"(?:^|[^a-z0-9])(?:x(\d{1,2})(?!\d)|(\d{1,2})x(?![a-z]))", re.IGNORECASE)


def field_name(template: dict, fields: list[Field], class_type: str, input_name: str) -> str | None:
    """The name of the field that fills ``input_name`` of the template's ``class_type`` node."""
    for f in fields:
        node = template.get(f.node_id) or {}
        if node.get("class_type") == class_type and f.input_name == input_name:
            return f.name
    return None


def model_scale(name: str) -> int:
    """How many times an upscale model enlarges, read from its file name as people name them
    ("4x-UltraSharp.pth", "RealESRGAN_x2plus.pth"); 4 when the name does not say (most do 4×).
    ComfyUI reads it from the weights; the factor is only used to reach the size asked for."""
    found = _SCALE.search(str(name).rsplit("/", 1)[-1])
    scale = int(found.group(1) or found.group(2)) if found else 4
    return scale if 1 <= scale <= 16 else 4


def upscaled_size(width: int, height: int, factor: float, method: str) -> tuple[int, int]:
    """The picture's size after Upscale as ComfyUI computes it: ``ImageScaleBy`` rounds
    (``round(w * scale_by)``), a model multiplies exactly first, a latent works in eighths
    (``VAEEncode`` crops to a multiple of 8, ``LatentUpscaleBy`` rounds the latent's size)."""
    if method == LATENT:
        return tuple(round((side // 8) * factor) * 8 for side in (width, height))  # type: ignore[return-value]
    if method == PIXELS:
        return round(width * factor), round(height * factor)
    scale = model_scale(method)
    return round(width * scale * (factor / scale)), round(height * scale * (factor / scale))


def padding(sides: list[str] | tuple[str, ...], pixels: int) -> dict[str, int]:
    """``{"left", "top", "right", "bottom"}`` for ``ImagePadForOutpaint``: ``pixels`` (a multiple of 8)
    on each chosen side, 0 elsewhere."""
    return {side: int(pixels) if side in sides else 0 for side in ("left", "top", "right", "bottom")}


def extended_size(width: int, height: int, pad: dict[str, int]) -> tuple[int, int]:
    """The canvas after ``ImagePadForOutpaint``: the border added to each side."""
    return width + pad["left"] + pad["right"], height + pad["top"] + pad["bottom"]


def _set(values: dict, template: dict, fields: list[Field], class_type: str, input_name: str, value: Any) -> None:
    name = field_name(template, fields, class_type, input_name)
    if name is None:
        raise KeyError(f"{class_type}.{input_name} is not a field of this template")
    values[name] = value


def picture_value(template: dict, fields: list[Field], ref: str) -> dict:
    """``{image field: ref}``: the picture every action loads (``LoadImage``)."""
    values: dict = {}
    _set(values, template, fields, "LoadImage", "image", ref)
    return values


def upscale_values(template: dict, fields: list[Field], *, factor: float, method: str,
                   pixel_method: str = "lanczos") -> dict:
    """The values of an Upscale template: ``method`` is :data:`PIXELS`, :data:`LATENT` or a model's name."""
    values: dict = {}
    if method == LATENT:
        _set(values, template, fields, "LatentUpscaleBy", "scale_by", float(factor))
        _set(values, template, fields, "KSampler", "denoise", HIRES_DENOISE)
        _set(values, template, fields, "KSampler", "seed", -1)
    elif method == PIXELS:
        _set(values, template, fields, "ImageScaleBy", "scale_by", float(factor))
        _set(values, template, fields, "ImageScaleBy", "upscale_method", pixel_method)
    else:
        _set(values, template, fields, "UpscaleModelLoader", "model_name", method)
        _set(values, template, fields, "ImageScaleBy", "scale_by", round(float(factor) / model_scale(method), 4))
    return values


def vary_values(template: dict, fields: list[Field], strength: str) -> dict:
    """img2img over the picture: a new random seed (-1) and the strength's denoise."""
    values: dict = {}
    _set(values, template, fields, "KSampler", "denoise", VARY_DENOISE[strength])
    _set(values, template, fields, "KSampler", "seed", -1)
    return values


def extend_values(template: dict, fields: list[Field], pad: dict[str, int], feathering: int = FEATHERING) -> dict:
    """Outpainting: the border on each side, its feathering, a new random seed."""
    values: dict = {}
    for side, pixels in pad.items():
        _set(values, template, fields, "ImagePadForOutpaint", side, int(pixels))
    _set(values, template, fields, "ImagePadForOutpaint", "feathering", int(feathering))
    _set(values, template, fields, "KSampler", "seed", -1)
    return values
