"""Size presets of the "Text to image" tab, and numbers typed past a slider's ends.

The "Size" dropdown's choices are ``(label, value)`` pairs: the label is text the
language switch translates (``i18n-choices``), the value a stable key ("512x768",
"custom"). Choosing a preset sets width and height; typing a size selects the
matching preset, or "Custom".

A slider's number box lets a user type 4000 into a 64–2048 slider; Gradio would then
refuse the whole request with a pop-up. :func:`range_check` puts the value back to the
nearest end and says so in the field's own error slot, worded like the server's checks
(the handlers run with ``preprocess=False`` so Gradio's own refusal never fires).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from comfy_ui_app.ui.form import error_md, range_check
from comfy_ui_app.ui.language_switch import I18N_CHOICES_CLASS

__all__ = ["SIZE_PRESETS", "CUSTOM_SIZE", "CUSTOM_LABEL", "size_choices", "preset_for", "apply_preset",
           "size_dropdown", "wire_size"]

CUSTOM_SIZE = "custom"
CUSTOM_LABEL = "Custom"
SIZE_PRESETS = {  # value -> (label, (width, height)); 1024 uses SDXL's ~1 MP portrait/landscape buckets
    "512x512": ("Square 512×512", (512, 512)), "512x768": ("Portrait 512×768", (512, 768)),
    "768x512": ("Landscape 768×512", (768, 512)), "768x768": ("Square 768×768", (768, 768)),
    "768x1152": ("Portrait 768×1152", (768, 1152)), "1152x768": ("Landscape 1152×768", (1152, 768)),
    "1024x1024": ("Square 1024×1024", (1024, 1024)), "832x1216": ("Portrait 832×1216", (832, 1216)),
    "1216x832": ("Landscape 1216×832", (1216, 832)),
}  # fmt: skip


def size_choices() -> list[tuple[str, str]]:
    """``(English label, value)`` of every preset, then "Custom"."""
    return [(label, key) for key, (label, _) in SIZE_PRESETS.items()] + [(CUSTOM_LABEL, CUSTOM_SIZE)]


def preset_for(width, height) -> str:
    """The preset value for a size, or "custom"."""
    try:
        size = (int(float(width)), int(float(height)))
    except (TypeError, ValueError):
        return CUSTOM_SIZE
    return next((key for key, (_, wh) in SIZE_PRESETS.items() if wh == size), CUSTOM_SIZE)


def apply_preset(key):
    """Width and height for a preset; "custom" leaves both as they are."""
    if key not in SIZE_PRESETS:
        return gr.skip(), gr.skip()
    return SIZE_PRESETS[key][1]


def size_dropdown(width, height) -> gr.Dropdown:
    return gr.Dropdown(size_choices(), label="Size", value=preset_for(width, height),
                       elem_classes=[I18N_CHOICES_CLASS], elem_id="txt2img-size")


def _size_input_handler(width_item, height_item):
    w_span = (width_item.component.minimum, width_item.component.maximum)
    h_span = (height_item.component.minimum, height_item.component.maximum)

    def size_input(width: Any, height: Any, lang):
        """Raw numbers from the boxes -> width, height (put back in range), preset, two error slots."""
        new_w, w_error = range_check(width_item.field, width, *w_span, lang)
        new_h, h_error = range_check(height_item.field, height, *h_span, lang)
        shown_w = width if isinstance(new_w, type(gr.skip())) else new_w
        shown_h = height if isinstance(new_h, type(gr.skip())) else new_h
        return (new_w, new_h, preset_for(shown_w, shown_h),
                gr.update(value=error_md(w_error), visible=bool(w_error)),
                gr.update(value=error_md(h_error), visible=bool(h_error)))

    return size_input


def wire_size(form, preset: gr.Dropdown, lang) -> None:
    """Preset -> width/height; width/height typed -> put in range, preset follows."""
    width, height = form.get("width"), form.get("height")
    preset.input(apply_preset, inputs=[preset], outputs=[width.component, height.component],
                 api_visibility="private", concurrency_limit=None)
    handler = _size_input_handler(width, height)
    for item in (width, height):
        item.component.input(handler, inputs=[width.component, height.component, lang],
                             outputs=[width.component, height.component, preset, width.error, height.error],
                             preprocess=False, api_visibility="private", show_progress="hidden",
                             concurrency_limit=None)
