"""The Inpainting tab's controls under the editor (:mod:`comfy_ui_app.ui.inpaint_tab`), and
its gallery's "Use as new input".

Mask tools first (clear, invert, grow, blur: what the mask preview shows), then
denoise and seed, the template's named fields, and "Advanced": ComfyUI's own
``grow_mask_by`` (labelled "Soften seam in ComfyUI", not to be confused with "Grow
mask", which widens the painted area itself), the file name prefix and every other
field. Sliders side by side have a ``min_width``, so at phone width they stack
instead of squeezing their labels to one word per line.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from comfy_ui_app.ui.form import Form, build_field, build_form
from comfy_ui_app.ui import _lenient as lenient
from comfy_ui_app.ui._presets import style_picker
from comfy_ui_app.ui.runner import MAX_UI_SEED

__all__ = ["OWN_FIELDS", "LATER", "SEAM_LABEL", "controls", "editor_value", "named_boxes", "wire_gallery"]

OWN_FIELDS = ("image", "mask", "denoise", "grow_mask", "seed")  # laid out here, not by build_form
LATER = ("grow_mask", "filename_prefix")  # named fields that still go under "Advanced"
SEAM_LABEL = "Soften seam in ComfyUI (grow_mask_by)"
SLIDER_MIN_WIDTH = 220  # two of these side by side need ~460 px; narrower, they stack


def controls(ctx, h, form: Form, info) -> dict:
    """The left column under the editor: mask tools, denoise, seed, the form, "Advanced"."""
    own = {f.name: f for f in h.fields if f.name in OWN_FIELDS}
    parts = {}
    with gr.Row(equal_height=False):
        parts["clear"] = gr.Button("Clear mask", size="sm", min_width=120)
        parts["inverted"] = gr.Checkbox(label="Invert mask", value=False, min_width=200,
                                        info="Repaint everything except what you painted")  # fmt: skip
    with gr.Row(equal_height=False):
        parts["grow_px"] = lenient.Slider(0, 64, value=0, step=1, label="Grow mask", min_width=SLIDER_MIN_WIDTH,
                                     info="Widen the painted area (pixels)", elem_id="inpaint-grow")  # fmt: skip
        parts["blur_px"] = lenient.Slider(0, 32, value=0, step=1, label="Mask blur", min_width=SLIDER_MIN_WIDTH,
                                     info="Soften the mask's edge (pixels)", elem_id="inpaint-blur")  # fmt: skip
    if "denoise" in own:
        form.add(build_field(ctx, h.template, own["denoise"], info, label="Denoise",
                             info="How much of the painted area is redrawn"))
    if "seed" in own:
        form.add(build_field(ctx, h.template, own["seed"], info, value=-1, minimum=-1, maximum=MAX_UI_SEED,
                             info="-1: a new random seed each time"))  # fmt: skip
    if h.template is None:
        parts["styles"] = style_picker("inpaint")
        return parts
    named = [f for f in h.fields if not f.advanced and f.name not in OWN_FIELDS + LATER]
    prompts = [f for f in named if f.name in ("prompt", "negative")]  # the styles go right under them
    build_form(ctx, h.template, prompts, info, form=form)
    parts["styles"] = style_picker("inpaint")
    build_form(ctx, h.template, [f for f in named if f not in prompts], info, form=form)
    later = [f for f in h.fields if f.name in LATER or (f.advanced and f.name not in OWN_FIELDS)]
    if later:
        with gr.Accordion("Advanced", open=False):
            for f in later:
                extra = dict(label=SEAM_LABEL, info="ComfyUI widens the mask by this much before encoding, "
                             "so the repainted area blends in") if f.name == "grow_mask" else {}
                form.add(build_field(ctx, h.template, f, info, **extra))
    return parts


def editor_value(image: Any) -> dict | None:
    """An ImageEditor value with ``image`` (a path, PIL or array) and nothing painted.

    For "Use as new input" and for other tabs' "Send to inpainting" buttons.
    """
    if image is None:
        return None
    return {"background": image, "layers": [], "composite": image}


def _first_image(gallery, selected) -> Any:
    """The selected gallery picture, else the first one (gallery values are (path, caption))."""
    items = list(gallery or [])
    if not items:
        return None
    index = selected if isinstance(selected, int) and 0 <= selected < len(items) else 0
    item = items[index]
    return item[0] if isinstance(item, (list, tuple)) else item


def named_boxes(form: Form) -> dict:
    """The prompt and negative prompt boxes (for "Send to inpainting")."""
    return {name: form.get(name).component for name in ("prompt", "negative") if form.get(name)}


def wire_gallery(gallery, selected, reuse_btn, editor, after_set_image) -> None:
    """ "Use as new input": the selected (else first) result goes into the editor."""

    def remember(evt: gr.SelectData):
        return evt.index

    def forget_selection():
        return None

    def reuse(items, index):
        return editor_value(_first_image(items, index)) or gr.skip()

    gallery.select(remember, None, selected, api_visibility="private", show_progress="hidden")
    gallery.change(forget_selection, None, selected, api_visibility="private", show_progress="hidden")
    reuse_btn.click(reuse, [gallery, selected], editor, api_visibility="private", show_progress="hidden").then(
        **after_set_image)
