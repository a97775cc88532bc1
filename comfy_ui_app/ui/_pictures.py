"""Picture inputs that hand the app a FILE, never a decoded picture.

Gradio's own ``gr.Image`` and ``gr.ImageEditor`` decode what a visitor sends before any
handler runs (``ImageEditor`` always, ``Image`` whenever the picture's mode differs from the
component's), so a 37 KB PNG that claims 13000×13000 pixels would take gigabytes before the app
could look at its size, and a file that is not a picture would end in Gradio's generic error.
These two keep Gradio's page (the same Svelte component) but pass the uploaded file's path on
untouched; the handlers read its header (:func:`comfy_ui_app.jobs.uploads.picture_header`) and
refuse it next to its field before a pixel is decoded.

An editor's background, layers and composite arrive as paths too (the browser sends them as
blobs; their bytes are written to Gradio's cache, undecoded, as ``type="filepath"`` would).
"""
from __future__ import annotations

import gradio as gr
from gradio import processing_utils
from gradio.data_classes import FileData

__all__ = ["PictureEditor", "PictureInput", "PICTURES"]

PICTURES = "pictures"  # the concurrency id every handler that decodes pictures shares
PICTURE_HANDLERS = 2  # how many of them run at once, app-wide


class PictureInput(gr.Image):
    """A ``gr.Image`` that never opens the file: its value is the path (give it ``type="filepath"``:
    no ``__init__`` of its own, since Gradio reads the page's settings from ``__init__``'s signature)."""

    def get_block_name(self) -> str:
        return "image"  # Gradio's page component

    def preprocess(self, payload):
        if payload is None or payload.path is None:
            return None  # a data: URL (only webcam streaming sends one) is not taken
        return str(payload.path)


class PictureEditor(gr.ImageEditor):
    """A ``gr.ImageEditor`` whose value holds paths: ``{"background", "layers", "composite"}`` (give
    it ``type="filepath"``, so the API says so)."""

    def get_block_name(self) -> str:
        return "imageeditor"  # Gradio's page component

    def convert_and_format_image(self, file, flatten_on_white: bool = False) -> str | None:
        """The file's path, undecoded (blob bytes are written to Gradio's cache first)."""
        if file is None:
            return None
        if isinstance(file, FileData):
            return None if file.path is None else str(file.path)
        return processing_utils.save_bytes_to_cache(bytes(file), "image.png", self.GRADIO_CACHE)
