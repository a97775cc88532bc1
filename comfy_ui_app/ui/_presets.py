"""The "Styles" picker and the "Presets" panel of a generating tab ("Text to image", "Inpainting";
"Custom workflow" has the panel too, one set of presets per workflow).

:func:`style_picker`: a multiselect of the bundled prompt styles (``workflow.prompt_styles``),
next to the prompt; the tab's Generate wraps the prompt with :func:`with_styles`.

:func:`presets_panel` (one call per tab, after its controls are built): a closed "Presets"
accordion to save every setting of the tab under a name (every field of the form, Advanced
included, but pictures; the LoRA picker, random seed, batch count, size preset, styles, the mask
tools), apply one later and delete one. Kept per user in the job store's database
(``jobs.presets``); an admin may share a preset with everyone ("(shared)" in the list) and unshare
or delete it. Applying sets every control whose saved value still fits; one that does not (a
checkpoint the server lacks, a number past a slider's end) is said next to its field and left as
it is. Every handler is private (``api_visibility="private"``) and checks what it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from comfy_ui_app.errors import PresetRefused
from comfy_ui_app.jobs.presets import PresetStore
from comfy_ui_app.texts.i18n import DEFAULT_LANGUAGE, LANGUAGES, tr
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui._preset_form import Slot, restore, snapshot
from comfy_ui_app.ui._sizes import size_choices
from comfy_ui_app.ui.context import current_user
from comfy_ui_app.ui.form import choices_for, error_md
from comfy_ui_app.ui.language_switch import I18N_CHOICES_CLASS
from comfy_ui_app.ui.runner import user_inputs
from comfy_ui_app.workflow.lora import NONE
from comfy_ui_app.workflow.prompt_styles import style_names, styled_values

__all__ = ["style_picker", "presets_panel", "with_styles", "PresetPanel", "EXTRA_PARTS"]

_FILE_KINDS = ("image", "mask", "audio", "video", "model3d", "animation")
#: A tab's own controls (``parts``) a preset covers besides its form, in this order.
EXTRA_PARTS = ("random_seed", "batch_count", "size_preset", "styles", "inverted", "grow_px", "blur_px")


def style_picker(tab: str) -> gr.Dropdown:
    """The "Styles" multiselect (its choices' labels are translated by the language switch)."""
    return gr.Dropdown([(name, name) for name in style_names()], value=[], multiselect=True, label="Styles",
                       info="Wrap your prompt in one or more looks", elem_id=f"{tab}-styles",
                       elem_classes=[I18N_CHOICES_CLASS, "style-picker"])


def with_styles(values: dict, styles: Any) -> tuple[dict, dict]:
    """``(values with the prompt wrapped, what the job record keeps)``; PresetRefused for odd styles."""
    return styled_values(values, styles)


def _lang(lang: Any) -> str:
    return lang if isinstance(lang, str) and lang in LANGUAGES else DEFAULT_LANGUAGE


@dataclass
class Control:
    """One control a preset covers: its key, component, error slot (None: the panel's message)."""

    key: str
    component: Any
    error: Any
    slot: Any  # object_info -> Slot (the choices the server offers now)


def _number_slot(key, label, component, kind):
    return lambda info: Slot(key, kind, label, None, getattr(component, "minimum", None),
                             getattr(component, "maximum", None))


def _form_controls(ctx, form) -> list[Control]:
    controls = []
    for item in form.items:
        f, comp = item.field, item.component
        if f.kind in _FILE_KINDS:
            continue
        if isinstance(comp, gr.Dropdown):
            def slot(info, f=f):
                choices = choices_for(ctx, form.template, f, info) if info is not None else []
                return Slot(f.name, "choice", f.label, tuple(choices) if choices else None)
        elif isinstance(comp, gr.Checkbox):
            def slot(info, f=f):
                return Slot(f.name, "bool", f.label)
        elif isinstance(comp, (gr.Slider, gr.Number)):
            slot = _number_slot(f.name, f.label, comp, "int" if f.kind == "int" else "float")
        else:
            def slot(info, f=f):
                return Slot(f.name, "text", f.label)
        controls.append(Control(f.name, comp, item.error, slot))
    return controls


def _extra_controls(parts: dict, picker) -> list[Control]:
    controls = []
    for key in EXTRA_PARTS:
        comp = parts.get(key)
        if comp is None:
            continue
        label = getattr(comp, "label", key) or key
        if key == "size_preset":
            slot = (lambda info, k=key, lb=label: Slot(k, "choice", lb, tuple(v for _, v in size_choices())))
        elif key == "styles":
            slot = (lambda info, k=key, lb=label: Slot(k, "multi", lb, tuple(style_names())))
        elif isinstance(comp, gr.Checkbox):
            slot = (lambda info, k=key, lb=label: Slot(k, "bool", lb))
        else:
            slot = _number_slot(key, label, comp, "int")
        controls.append(Control(key, comp, None, slot))
    if picker is not None:
        def lora_slot(info):
            names = picker.names()
            return Slot("lora", "choice", "LoRA", (NONE, *names) if names else None)
        controls.append(Control("lora", picker.dropdown, picker.dropdown_error, lora_slot))
        controls.append(Control("lora_strength", picker.strength, picker.strength_error,
                                _number_slot("lora_strength", "LoRA strength", picker.strength, "float")))
    return controls


class PresetPanel:
    """The panel's handlers for one tab (shared by all users; the user comes with each request)."""

    def __init__(self, ctx, tab: str, controls: list[Control], key: str | None = None) -> None:
        """``tab`` names the panel's elements and events ("custom"); ``key`` the presets it keeps and
        lists ("custom:<workflow>"; by default ``tab``)."""
        self.ctx, self.tab, self.controls, self.key = ctx, tab, controls, key or tab
        self.store = PresetStore(ctx.jobs.store)
        self.picker = self.share = self.unshare_btn = self.message = None  # set by build

    def _user(self, request, browser) -> tuple[str, bool]:
        user = current_user(request, browser[0] if browser else None)
        return user, self.ctx.jobs.is_admin(user)

    def choices(self, user: str, lang: str) -> list[tuple[str, str]]:
        return [(tr("{name} (shared)", lang, name=p.name) if p.shared else p.name, str(p.preset_id))
                for p in self.store.visible(user, self.key)]

    def listing(self, request: gr.Request, lang, *browser):
        """The user's presets (and the shared ones); Share and Unshare shown to admins only."""
        user, admin = self._user(request, browser)
        return (gr.update(choices=self.choices(user, _lang(lang))), gr.update(visible=admin),
                gr.update(visible=admin))

    def save(self, request: gr.Request, lang, name, share, *values):
        """Keep every control's value under ``name``: (the preset list, the message)."""
        lang = _lang(lang)
        browser = values[len(self.controls):]
        user, admin = self._user(request, browser)
        slots = [Slot(c.key, "text") for c in self.controls]
        try:
            saved = self.store.save(user, self.key, name, snapshot(slots, values[:len(self.controls)]),
                                    shared=share is True, admin=admin)
        except PresetRefused as exc:
            labels = {c.key: getattr(c.component, "label", None) for c in self.controls}
            exc.name = labels.get(exc.name) or exc.name  # "Steps", not "steps"
            return gr.skip(), describe(exc, lang=lang)
        text = (tr("Preset “{name}” saved and shared with everyone.", lang, name=saved.name) if saved.shared
                else tr("Preset “{name}” saved.", lang, name=saved.name))
        return gr.update(choices=self.choices(user, lang), value=str(saved.preset_id)), text

    def apply(self, request: gr.Request, lang, choice, *browser):
        """Every control set back from the preset; what does not fit is said next to its field."""
        lang = _lang(lang)
        user, _ = self._user(request, browser)
        found = self.store.get(choice, user, self.key)
        skips = [gr.skip() for _ in self.controls]
        if found is None:
            text = tr("Please pick a preset first.", lang) if not choice else describe(PresetRefused("not_found"),
                                                                                         lang=lang)
            return (*skips, *self._error_updates({}, lang), text)
        info = self.ctx.catalog.object_info_or_none()
        values, problems = restore([c.slot(info) for c in self.controls], found.values)
        updates = [gr.update(value=values[c.key]) if c.key in values else gr.skip() for c in self.controls]
        loose = [describe(problems[c.key], lang=lang) for c in self.controls if c.key in problems and c.error is None]
        text = tr("Preset “{name}” applied.", lang, name=found.name)
        if problems:
            text = tr("Preset “{name}” applied, except what no longer fits (said next to it).", lang, name=found.name)
        return (*updates, *self._error_updates(problems, lang), "  \n".join([text, *loose]))

    def _error_updates(self, problems: dict, lang: str) -> list:
        out = []
        for c in self.controls:
            if c.error is None:
                continue
            text = describe(problems[c.key], lang=lang) if c.key in problems else ""
            out.append(gr.update(value=error_md(text), visible=bool(text)))
        return out

    def delete(self, request: gr.Request, lang, choice, *browser):
        return self._change(request, lang, choice, browser, self.store.delete, "Preset “{name}” deleted.")

    def unshare(self, request: gr.Request, lang, choice, *browser):
        return self._change(request, lang, choice, browser, self.store.unshare,
                            "Preset “{name}” is no longer shared.")

    def _change(self, request, lang, choice, browser, action, words: str):
        lang = _lang(lang)
        user, admin = self._user(request, browser)
        if not choice:
            return gr.skip(), tr("Please pick a preset first.", lang)
        try:
            found = action(choice, user, self.key, admin=admin)
        except PresetRefused as exc:
            return gr.skip(), describe(exc, lang=lang)
        return gr.update(choices=self.choices(user, lang), value=None), tr(words, lang, name=found.name)

    def build(self, lang: str | None = None) -> None:
        """The accordion; ``lang``: its words in that language (a panel drawn inside ``@gr.render``,
        which the language switch does not relabel), else English for the switch to translate."""
        def t(text: str) -> str:
            return tr(text, lang) if lang else text

        with gr.Accordion(t("Presets"), open=False, elem_id=f"{self.tab}-presets") as accordion:
            with gr.Row(equal_height=False):
                self.picker = gr.Dropdown([], value=None, label=t("Preset"), allow_custom_value=True,  # checked by the handlers
                                          min_width=160,
                                          elem_id=f"{self.tab}-preset-picker", elem_classes=["no-i18n"])
                name = gr.Textbox(label=t("Preset name"), max_length=200, min_width=160,
                                  placeholder=t("A name for the current settings"), elem_id=f"{self.tab}-preset-name")
            self.share = gr.Checkbox(label=t("Share with everyone"), value=False, visible=False,
                                     elem_id=f"{self.tab}-preset-share")
            with gr.Row():
                save_btn = gr.Button(t("Save preset"), size="sm", min_width=100, elem_id=f"{self.tab}-preset-save")
                apply_btn = gr.Button(t("Apply"), size="sm", min_width=100, elem_id=f"{self.tab}-preset-apply")
                delete_btn = gr.Button(t("Delete"), size="sm", variant="stop", min_width=100,
                                       elem_id=f"{self.tab}-preset-delete")
                self.unshare_btn = gr.Button(t("Unshare"), size="sm", min_width=100, visible=False)
            self.message = gr.Markdown("", elem_id=f"{self.tab}-preset-message")
        self._wire(accordion, name, save_btn, apply_btn, delete_btn)

    def _wire(self, accordion, name, save_btn, apply_btn, delete_btn) -> None:
        ctx, browser = self.ctx, user_inputs(self.ctx)
        private = dict(api_visibility="private", concurrency_limit=None, show_progress="hidden")
        accordion.expand(self.listing, [ctx.lang, *browser], [self.picker, self.share, self.unshare_btn],
                         api_name=f"{self.tab}_presets_list", **private)
        save_btn.click(self.save, [ctx.lang, name, self.share, *[c.component for c in self.controls], *browser],
                       [self.picker, self.message], api_name=f"{self.tab}_preset_save", **private)
        errors = [c.error for c in self.controls if c.error is not None]
        apply_btn.click(self.apply, [ctx.lang, self.picker, *browser],
                        [*[c.component for c in self.controls], *errors, self.message],
                        api_name=f"{self.tab}_preset_apply", **private)
        delete_btn.click(self.delete, [ctx.lang, self.picker, *browser], [self.picker, self.message],
                         api_name=f"{self.tab}_preset_delete", **private)
        self.unshare_btn.click(self.unshare, [ctx.lang, self.picker, *browser], [self.picker, self.message],
                               api_name=f"{self.tab}_preset_unshare", **private)


def presets_panel(ctx, tab: str, form, parts: dict, picker=None, *, key: str | None = None,
                  lang: str | None = None) -> PresetPanel:
    """Build and wire the "Presets" accordion for ``tab`` ("txt2img", "inpaint", "custom") in the
    current Blocks context, covering ``form``'s fields, the tab's ``parts`` of :data:`EXTRA_PARTS` and
    the LoRA ``picker``; ``key`` and ``lang``: see :class:`PresetPanel` and :meth:`PresetPanel.build`."""
    panel = PresetPanel(ctx, tab, _form_controls(ctx, form) + _extra_controls(parts, picker), key)
    panel.build(lang)
    return panel
