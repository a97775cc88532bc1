"""``text_chunks(png)``: every text chunk of a PNG, read by Pillow, to check what the app wrote."""
from __future__ import annotations

import io

from PIL import Image


def text_chunks(png: bytes) -> dict[str, str]:
    """Every ``tEXt``/``iTXt``/``zTXt`` chunk of ``png`` as ``{keyword: text}`` (before and after the pixels)."""
    with Image.open(io.BytesIO(png)) as image:
        image.load()  # the chunks after the pixel data too
        return {key: str(value) for key, value in image.text.items()}
