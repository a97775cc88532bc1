"""The optional LoRA picker of a template without LoRA nodes ("Text to image").

A "LoRA" dropdown filled from the server's list with "(none)" first, and a "LoRA
strength" slider; both hidden while the server has no LoRA (re-checked on page load
and when the server comes back). Picking one makes the run use
:func:`comfy_ui_app.workflow.lora.with_lora`: a ``LoraLoader`` after the checkpoint, whose
problems (a LoRA the server lacks…) show in the picker's own error slots.
Shared by all users: nothing per user is kept here.
"""

from __future__ import annotations

import gradio as gr

from comfy_ui_app.errors import ComfyError
from comfy_ui_app.texts.i18n import DEFAULT_LANGUAGE, tr
from comfy_ui_app.workflow.lora import DEFAULT_STRENGTH, NONE, lora_names, with_lora
from comfy_ui_app.ui._page_view import shown
from comfy_ui_app.ui.form import error_md
from comfy_ui_app.ui import _lenient as lenient

__all__ = ["LoraPicker", "STRENGTH_SLIDER"]

STRENGTH_SLIDER = (-2.0, 2.0, 0.05)  # like A1111's usual weights; the node allows ±100


class LoraPicker:
    """Build with :meth:`build` inside a Blocks; ``components``/``errors`` go into a tab's events."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.dropdown = self.strength = self.dropdown_error = self.strength_error = None

    def names(self) -> list[str]:
        """The server's LoRA files now (cached by ``ctx.catalog``); [] while it cannot be asked."""
        info = self.ctx.catalog.object_info_or_none()
        models = None
        if info is None:
            try:
                models = self.ctx.catalog.models("loras")
            except (ComfyError, OSError):
                models = None
        return lora_names(info, models)

    @staticmethod
    def choices(names: list[str], lang: str | None = DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
        return [(tr(NONE, lang), NONE), *[(n, n) for n in names]]

    def build(self) -> None:
        names = self.names()
        low, high, step = STRENGTH_SLIDER
        with gr.Column(min_width=160, elem_classes=["field"]):
            self.dropdown = gr.Dropdown(self.choices(names), value=NONE, label="LoRA", allow_custom_value=True,
                                        info="Optional: a style or character add-on", visible=bool(names),
                                        interactive=True, elem_id="txt2img-lora")
            self.dropdown_error = gr.Markdown("", visible=False, elem_classes=["field-error"])
        with gr.Column(min_width=160, elem_classes=["field"]):
            self.strength = lenient.Slider(low, high, value=DEFAULT_STRENGTH, step=step, label="LoRA strength",
                                      visible=bool(names), interactive=True, elem_id="txt2img-lora-strength")
            self.strength_error = gr.Markdown("", visible=False, elem_classes=["field-error"])

    @property
    def components(self) -> list:
        return [self.dropdown, self.strength]

    @property
    def errors(self) -> list:
        return [self.dropdown_error, self.strength_error]

    def refresh(self, lang: str | None = DEFAULT_LANGUAGE) -> list:
        """Dropdown and slider for the server's current list (hidden when it has none)."""
        names = self.names()
        return [gr.Dropdown(choices=self.choices(names, lang), visible=bool(names)), gr.Slider(visible=bool(names))]

    def relabel(self, lang):
        """After a language switch: "(none)" in the new language."""
        return gr.Dropdown(choices=self.choices(self.names(), lang))

    def error_updates(self, errors: dict | None) -> list:
        if errors is None:
            return [gr.skip(), gr.skip()]
        return [shown(slot, error_md(errors.get(name, "")), bool(errors.get(name)))
                for slot, name in zip(self.errors, ("lora", "lora_strength"))]

    @staticmethod
    def fill(values: dict) -> list:
        """Updates for a job's values ("Load parameters"): its LoRA, or "(none)"."""
        return [values.get("lora") or NONE,
                values["lora_strength"] if values.get("lora_strength") is not None else gr.skip()]

    def apply(self, template: dict, fields: list, values: dict, lora, strength, object_info) -> tuple:
        """``(template, fields, values)`` with the picked LoRA (unchanged for "(none)")."""
        return with_lora(template, fields, values, lora, strength, object_info=object_info)
