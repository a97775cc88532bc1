"""Picture inputs that hand the app a FILE, never a decoded picture.

Gradio's own ``gr.Image`` and ``gr.ImageEditor`` decode what a visitor sends before any
handler runs (``ImageEditor`` always, ``Image`` whenever the picture's mode differs from the
component's), so a 37 KB PNG that claims 13000×13000 pixels would take gigabytes before the app
could look at its size, and a file that is not a picture would end in Gradio's generic error.
These two are Gradio's components (the same page) with their decoding step replaced: they pass the file's path on
untouched; the handlers read its header (:func:`comfy_ui_app.jobs.uploads.picture_header`) and
refuse it next to its field before a pixel is decoded.

An editor's background, layers and composite arrive as paths too (the browser sends them as
blobs; their bytes are written to Gradio's cache, undecoded, as ``type="filepath"`` would).
"""
from __future__ import annotations

import gradio as gr
from gradio import processing_utils
from gradio.data_classes import FileData

__all__ = ["picture_editor", "picture_input", "PICTURES", "PICTURE_HANDLERS"]

PICTURES = "pictures"  # the concurrency id every handler that decodes pictures shares
PICTURE_HANDLERS = 2  # how many of them run at once, app-wide


def _image_path(payload) -> str | None:
    """A ``gr.Image`` payload as its path, never opened (a data: URL, only webcam streaming sends one, is not taken)."""
    if payload is None or payload.path is None:
        return None
    return str(payload.path)


def _editor_file(editor: gr.ImageEditor):
    """An editor's ``convert_and_format_image`` that gives the file's path, undecoded (blob
    bytes are written to Gradio's cache first)."""

    def as_file(file, flatten_on_white: bool = False) -> str | None:
        if file is None:
            return None
        if isinstance(file, FileData):
            return None if file.path is None else str(file.path)
        return processing_utils.save_bytes_to_cache(bytes(file), "image.png", editor.GRADIO_CACHE)

    return as_file


def picture_input(**kwargs) -> gr.Image:
    """A ``gr.Image`` (``type="filepath"``) whose value is the uploaded file's path, never opened.

    The instance's own ``preprocess`` replaces Gradio's (a subclass would make Gradio write a
    ``.pyi`` stub next to this module at import, and need the page component's name kept)."""
    image = gr.Image(type="filepath", **kwargs)
    image.preprocess = _image_path
    return image


def picture_editor(**kwargs) -> gr.ImageEditor:
    """A ``gr.ImageEditor`` (``type="filepath"``) whose value ``{"background", "layers",
    "composite"}`` holds the files' paths, none of them decoded."""
    editor = gr.ImageEditor(type="filepath", **kwargs)
    editor.convert_and_format_image = _editor_file(editor)
    return editor
