"""The "Open from a picture" drop zone's components (its handler is :mod:`comfy_ui_app.ui.from_picture`).

A ``gr.File``, not a ``gr.Image``: Gradio stores the file as it was sent, never re-encoded, so
the workflow in its metadata arrives intact, and no pixel is decoded before the app judges it.
"""
from __future__ import annotations

import gradio as gr

__all__ = ["drop_zone", "FILE_TYPES", "PICTURE_FIELD"]

PICTURE_FIELD = "picture"  # what a refused file's error names: the drop zone
FILE_TYPES = [".png", ".webp", ".jpg", ".jpeg", ".mp4", ".mov", ".webm", ".mkv"]


def drop_zone() -> tuple[gr.File, gr.Markdown]:
    """The drop zone and its message slot (call inside the Custom workflow tab's layout)."""
    picture = gr.File(label="Open from a picture: drop a PNG, WEBP or video made by ComfyUI, or a picture made by "
                            "AUTOMATIC1111, Forge or SwarmUI", file_types=FILE_TYPES, type="filepath",
                      file_count="single", height=96, elem_id="custom-from-picture")
    message = gr.Markdown("", visible=False, elem_classes=["field-error"], elem_id="custom-from-picture-message")
    return picture, message
