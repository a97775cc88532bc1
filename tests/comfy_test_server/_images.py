"""Stand-in pixels: the PNGs that SaveImage/PreviewImage write and the preview JPEGs.

Nothing here is diffusion; it only has to look right on the wire and on disk:

* output files are real PNGs of the graph's size, with the ``prompt`` text chunk and
  one chunk per ``extra_pnginfo`` key (``view.json`` -> ``png_text_keys``;
  ``ws_txt2img_auto.json`` -> ``custom_prompt_id_and_api_prefix`` sends a workflow);
* names follow ComfyUI's ``get_save_image_path``: ``{prefix}_{counter:05}_.png``,
  counter = 1 + the highest existing one for that prefix, sub-folder from a prefix
  containing ``/`` (``ws_txt2img_auto.json``: ``ref_txt2img_00001_.png`` ...
  ``_00004_``; ``ws_inpaint.json``: ``ComfyUI_temp_udruy_00001_.png``);
* previews are JPEGs of the latent (size/8) scaled by ``ImageOps.contain`` to the
  preview size: 512x512 for a 64x64 job (``ws_txt2img_auto.json`` binary frames).
  Encoded bytes are cached per size, so steps cost nothing after the first.
"""
from __future__ import annotations

import functools
import io
import json
import os
import time

from PIL import Image, ImageOps
from PIL.PngImagePlugin import PngInfo


@functools.lru_cache(maxsize=8)
def _gradients():
    linear = Image.linear_gradient("L")
    return linear, linear.rotate(90), Image.radial_gradient("L")


@functools.lru_cache(maxsize=64)
def render(width: int, height: int, seed: int) -> Image.Image:
    """A deterministic RGB picture whose colours depend on the seed."""
    size = (max(1, int(width)), max(1, int(height)))
    bands = []
    for i, grad in enumerate(_gradients()):
        shift = (int(seed) * (37 + 54 * i)) & 255
        bands.append(grad.resize(size).point(lambda v, s=shift: (v + s) & 255))
    return Image.merge("RGB", bands)


@functools.lru_cache(maxsize=32)
def preview_jpeg(width: int, height: int, preview_size: int) -> bytes:
    latent = render(max(1, int(width) // 8), max(1, int(height) // 8), 0)
    image = ImageOps.contain(latent, (preview_size, preview_size), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _compute_vars(prefix: str, width: int, height: int) -> str:
    prefix = prefix.replace("%width%", str(width)).replace("%height%", str(height))
    now = time.localtime()
    for key, value in (("year", now.tm_year), ("month", now.tm_mon), ("day", now.tm_mday),
                       ("hour", now.tm_hour), ("minute", now.tm_min), ("second", now.tm_sec)):
        prefix = prefix.replace(f"%{key}%", str(value).zfill(2 if key != "year" else 4))
    return prefix


def save_image_path(filename_prefix: str, output_dir: str, width: int = 0, height: int = 0):
    """``folder_paths.get_save_image_path`` -> ``(folder, filename, counter, subfolder)``."""
    if "%" in filename_prefix:
        filename_prefix = _compute_vars(filename_prefix, width, height)
    subfolder = os.path.dirname(os.path.normpath(filename_prefix))
    filename = os.path.basename(os.path.normpath(filename_prefix))
    folder = os.path.join(output_dir, subfolder)
    common = os.path.commonpath((output_dir, os.path.abspath(folder)))
    if common != output_dir:
        raise Exception("**** ERROR: Saving image outside the output folder is not allowed."
                        "\n full_output_folder: " + os.path.abspath(folder) +
                        "\n         output_dir: " + output_dir +
                        "\n         commonpath: " + common)

    def parse(name: str):
        prefix_len = len(filename)
        try:
            digits = int(name[prefix_len + 1:].split("_")[0])
        except ValueError:
            digits = 0
        return digits, name[:prefix_len + 1]

    try:
        counter = max(d for d, p in map(parse, os.listdir(folder))
                      if os.path.normcase(p[:-1]) == os.path.normcase(filename) and p[-1:] == "_") + 1
    except ValueError:
        counter = 1
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        counter = 1
    return folder, filename, counter, subfolder


def save_images(spec: dict, filename_prefix: str, base_dir: str, kind: str, prompt: dict,
                extra_pnginfo, compress_level: int) -> list[dict]:
    """Write ``spec["batch"]`` PNGs like ``SaveImage.save_images``; returns the ui list."""
    spec = {"w": 512, "h": 512, "batch": 1, "seed": 0, **spec}
    folder, filename, counter, subfolder = save_image_path(filename_prefix, base_dir, spec["w"], spec["h"])
    results = []
    for batch_number in range(max(1, int(spec.get("batch", 1)))):
        meta = PngInfo()
        if prompt is not None:
            meta.add_text("prompt", json.dumps(prompt))
        if isinstance(extra_pnginfo, dict):
            for key in extra_pnginfo:
                meta.add_text(key, json.dumps(extra_pnginfo[key]))
        name = f"{filename.replace('%batch_num%', str(batch_number))}_{counter:05}_.png"
        image = render(spec["w"], spec["h"], spec.get("seed", 0) + batch_number)
        image.save(os.path.join(folder, name), pnginfo=meta, compress_level=compress_level)
        results.append({"filename": name, "subfolder": subfolder, "type": kind})
        counter += 1
    return results


def example_png() -> bytes:
    """The ``input/example.png`` every ComfyUI checkout ships (any small picture)."""
    buf = io.BytesIO()
    render(64, 64, 7).save(buf, format="PNG")
    return buf.getvalue()
