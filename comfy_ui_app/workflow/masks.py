"""Inpainting masks: from a painted editor layer to the files ComfyUI receives.

Pure functions (numpy and Pillow only, no Gradio, no I/O except decoding bytes).

A *mask* here is a ``uint8`` array of shape ``(height, width)``: ``0`` keeps the pixel,
``255`` repaints it, values in between (only after :func:`blur`) repaint partly. The
steps, in the order the Inpainting tab applies them (A1111's order: grow, then blur):

1. :func:`mask_from_editor`: every pixel any painted layer touched (alpha > 0, so the
   anti-aliased rim of a brush stroke counts), resized to the image with NEAREST.
2. :func:`invert` ("inpaint everything except what I painted").
3. :func:`grow`: dilate by N pixels (a disc of radius N, as a round brush would).
4. :func:`blur`: Gaussian blur, standard deviation N px. The result is **kept soft** (not thresholded):
   ComfyUI reads it as a partial mask (``SetLatentNoiseMask`` blends by it,
   ``VAEEncodeForInpaint`` rounds it at 0.5). Blurring only ever spreads outward from a
   binary mask's edge, so painted pixels stay fully masked only when the brush area is
   wider than the blur.

Then :func:`mask_files` makes the bytes to upload: the source image as an RGB PNG, and
either an *alpha mask* (RGBA, alpha = 255 - mask: transparent = repaint, as ComfyUI's
own mask editor sends to ``/upload/mask``) or a *separate mask* for ``LoadImageMask``
(white and transparent = repaint: right in whichever channel it reads).
:func:`preview_from_files` renders the preview by decoding those exact bytes, so the
preview is what ComfyUI gets.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

__all__ = [
    "MaskFiles",
    "blur",
    "decode_mask",
    "grow",
    "invert",
    "mask_files",
    "mask_from_editor",
    "preview_from_files",
    "process",
    "to_pil",
]

ALPHA = "alpha"  # MaskFiles.kind: an RGBA image whose alpha is 255 - mask, for /upload/mask
SEPARATE = "separate"  # MaskFiles.kind: a mask file for LoadImageMask(channel=...)
CHANNELS = ("alpha", "red", "green", "blue")
TINT = (255, 0, 0)  # preview colour of repainted pixels
TINT_STRENGTH = 0.55  # how much of the tint shows on a fully repainted pixel


def to_pil(image: Any) -> Image.Image | None:
    """A PIL image from what Gradio hands over: PIL, a numpy array, a file path or bytes."""
    if image is None or isinstance(image, Image.Image):
        return image
    if isinstance(image, (bytes, bytearray)):
        image = io.BytesIO(image)
    if isinstance(image, io.BytesIO):
        with Image.open(image) as opened:
            opened.load()
            return opened.copy()
    if isinstance(image, (str, Path)):
        with Image.open(image) as opened:
            opened.load()
            return opened.copy()
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return Image.fromarray(array)


def _alpha(layer: Image.Image) -> np.ndarray:
    """The layer's alpha as uint8 (a layer without alpha counts as fully painted)."""
    if "A" in layer.getbands():
        return np.asarray(layer.getchannel("A"))
    if "transparency" in layer.info:
        return np.asarray(layer.convert("RGBA").getchannel("A"))
    return np.full((layer.height, layer.width), 255, np.uint8)


def mask_from_editor(value: dict | None, size: tuple[int, int] | None = None) -> np.ndarray | None:
    """The painted mask of an ImageEditor value ``{"background", "layers", "composite"}``.

    Union over all layers of alpha > 0, as 0/255, at ``size`` (width, height) or the
    background's size; a layer of another size (a resized canvas) is scaled with NEAREST
    so no new partial pixels appear. No layers: an empty mask. None without any image.
    """
    if not value:
        return None
    background = to_pil(value.get("background"))
    layers = [to_pil(layer) for layer in value.get("layers") or [] if layer is not None]
    if size is None:
        reference = background or (layers[0] if layers else to_pil(value.get("composite")))
        if reference is None:
            return None
        size = reference.size
    width, height = size
    painted = np.zeros((height, width), bool)
    for layer in layers:
        alpha = Image.fromarray(_alpha(layer))
        if alpha.size != (width, height):
            alpha = alpha.resize((width, height), Image.Resampling.NEAREST)
        painted |= np.asarray(alpha) > 0
    return painted.astype(np.uint8) * 255


def invert(mask: np.ndarray) -> np.ndarray:
    return (255 - np.asarray(mask, np.uint8)).astype(np.uint8)


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Dilate by a disc of radius ``pixels`` (pixel centres within that distance).

    Any partly masked pixel counts as masked; the result is 0/255 wherever it changed
    (a binary mask stays binary). ``pixels <= 0`` returns the mask unchanged.
    """
    mask = np.asarray(mask, np.uint8)
    radius = int(pixels)
    if radius <= 0 or not mask.any():
        return mask.copy()
    height, width = mask.shape
    source = mask > 0
    out = source.copy()
    # A disc is a stack of horizontal segments: row dy spans |dx| <= half[dy].
    half = {dy: int(np.floor(np.sqrt(radius * radius - dy * dy))) for dy in range(-radius, radius + 1)}
    row = source.copy()  # the mask dilated horizontally by w, for w = 0, 1, ... radius
    for w in range(radius + 1):
        if 0 < w < width:
            row[:, w:] |= source[:, :-w]
            row[:, :-w] |= source[:, w:]
        for dy in (d for d, h in half.items() if h == w and abs(d) < height):
            if dy >= 0:
                out[dy:, :] |= row[: height - dy, :]
            else:
                out[:dy, :] |= row[-dy:, :]
    return np.where(out & ~source, np.uint8(255), mask).astype(np.uint8)


def _smooth_rows(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve each row with a symmetric kernel, repeating the edge pixels outward."""
    reach = len(kernel) // 2
    padded = np.pad(values, ((0, 0), (reach, reach)), mode="edge")
    out = np.zeros_like(values)
    for offset, weight in enumerate(kernel):
        out += weight * padded[:, offset : offset + values.shape[1]]
    return out


def blur(mask: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``radius`` px; the result stays soft.

    Separable, truncated at 3 sigma, edges repeated (a mask touching the border stays
    full there), exactly symmetric, rounded to the nearest of 0..255.
    """
    mask = np.asarray(mask, np.uint8)
    if radius <= 0:
        return mask.copy()
    reach = max(1, int(np.ceil(3 * float(radius))))
    x = np.arange(-reach, reach + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (x / float(radius)) ** 2)
    kernel = (kernel / kernel.sum()).astype(np.float32)
    values = _smooth_rows(mask.astype(np.float32), kernel)
    values = _smooth_rows(values.T.copy(), kernel).T
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def process(mask: np.ndarray, *, inverted: bool = False, grow_px: int = 0, blur_px: float = 0) -> np.ndarray:
    """The editor's mask as the tab sends it: invert, then grow, then blur."""
    if inverted:
        mask = invert(mask)
    return blur(grow(mask, grow_px), blur_px)


@dataclass(frozen=True)
class MaskFiles:
    """The exact bytes to upload: the source image and its mask, as PNGs."""

    image_png: bytes  # the source, RGB
    mask_png: bytes  # ALPHA: RGBA, alpha = 255 - mask; SEPARATE: see mask_files()
    kind: str  # ALPHA or SEPARATE
    channel: str = "alpha"  # the channel LoadImageMask reads (SEPARATE only)

    def digest(self) -> str:
        """A short content hash, for stable upload names."""
        return hashlib.sha256(self.image_png + b"\0" + self.mask_png + self.kind.encode()).hexdigest()[:16]


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=4)
    return buffer.getvalue()


def mask_files(image: Any, mask: np.ndarray, kind: str = ALPHA, channel: str = "alpha") -> MaskFiles:
    """Encode ``image`` and ``mask`` (resized to the image with NEAREST) for upload.

    ``ALPHA``: an RGBA PNG of the image's size whose alpha is ``255 - mask`` and whose
    colour is black; ``/upload/mask`` copies only that alpha into the uploaded image, and
    ``LoadImage`` then gives MASK = 1 - alpha = the mask.
    ``SEPARATE``: for ``LoadImageMask(channel)``, which reads a colour channel as is and
    the alpha channel as 1 - alpha: an RGBA PNG, white = repaint with alpha = 255 - mask,
    so it reads right whichever channel the node is set to (``channel`` is only checked
    and recorded).
    """
    source = to_pil(image)
    if source is None:
        raise ValueError("no image")
    mask = np.asarray(mask, np.uint8)
    if mask.shape != (source.height, source.width):
        mask = np.asarray(Image.fromarray(mask).resize(source.size, Image.Resampling.NEAREST))
    rgb = source.convert("RGB") if source.mode != "RGB" else source
    if kind == ALPHA:
        black = np.zeros((*mask.shape, 3), np.uint8)
        mask_image = Image.fromarray(np.dstack([black, 255 - mask]), "RGBA")
    elif kind == SEPARATE:
        if channel not in CHANNELS:
            raise ValueError(f"unknown mask channel {channel!r}")
        # one file for every channel, so a channel changed in the form still reads right
        mask_image = Image.fromarray(np.dstack([mask, mask, mask, 255 - mask]), "RGBA")
    else:
        raise ValueError(f"unknown mask kind {kind!r}")
    return MaskFiles(_png(rgb), _png(mask_image), kind, channel)


def decode_mask(mask_png: bytes, kind: str = ALPHA, channel: str = "alpha") -> np.ndarray:
    """The mask ComfyUI reads from a mask file (0..255, 255 = repaint).

    ``ALPHA`` (and ``LoadImageMask`` on "alpha"): 255 - alpha, as ``LoadImage`` does;
    otherwise the named colour channel.
    """
    with Image.open(io.BytesIO(mask_png)) as opened:
        image = opened.convert("RGBA")
    if kind == ALPHA or channel == "alpha":
        return 255 - np.asarray(image.getchannel("A"), np.uint8)
    return np.asarray(image.getchannel(channel[0].upper()), np.uint8)


def preview_from_files(files: MaskFiles) -> Image.Image:
    """The uploaded image with the uploaded mask tinted red, decoded from the bytes."""
    with Image.open(io.BytesIO(files.image_png)) as opened:
        rgb = np.asarray(opened.convert("RGB"), np.float32)
    strength = decode_mask(files.mask_png, files.kind, files.channel).astype(np.float32)[..., None]
    strength *= TINT_STRENGTH / 255.0
    out = rgb * (1.0 - strength) + np.asarray(TINT, np.float32) * strength
    return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), "RGB")
