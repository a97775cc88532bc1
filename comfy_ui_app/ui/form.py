"""Gradio components for a workflow's fields, and the values back out of them.

``build_form(ctx, template, fields)`` lays out every field in the current Blocks
context: named fields first, advanced ones (``"<node>.<input>"``) inside a closed
"Advanced" accordion. A tab wanting its own layout for some fields calls
``build_field`` for those itself, adds them with ``Form.add`` and passes ``skip=`` to
``build_form``. Each field gets a hidden ``gr.Markdown`` error slot right under it,
so a problem appears next to the field it belongs to. ``build_form(values=...)``
starts the fields at a job's values ("Load parameters" of a custom workflow).

A number typed past a slider's ends is put back in range with the reason in the
field's slot (:func:`range_check`, :meth:`Form.wire_range_checks`), instead of Gradio
refusing the whole request later with a pop-up.

Pure helpers (``ui_range``, ``choices_for``, ``collect``) are tested without a browser.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from comfy_ui_app.workflow.templates import choose_checkpoint
from comfy_ui_app.workflow.fields import Field, input_spec
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.ui._page_view import shown
from comfy_ui_app.ui import _lenient as lenient
from comfy_ui_app.ui._pictures import picture_input
from comfy_ui_app.ui._media_inputs import media_input

_FILE_KINDS = ("image", "mask", "audio", "video", "model3d", "animation")  # a file picker: no start value
__all__ = ["FieldUI", "Form", "build_field", "build_form", "ui_range", "choices_for", "snap", "range_check",
           "error_md", "SERVER_ROLES", "MODEL_FOLDERS"]  # fmt: skip

#: Roles whose choices come from the server (its node table and model folders).
SERVER_ROLES = ("checkpoint", "lora", "sampler", "scheduler", "upscale_model", "controlnet", "unet", "vae")
MODEL_FOLDERS = {"checkpoint": "checkpoints", "lora": "loras", "upscale_model": "upscale_models",
                 "controlnet": "controlnet", "unet": "diffusion_models", "vae": "vae"}  # fmt: skip
#: Friendly slider ranges (min, max, step) for well-known roles, like AUTOMATIC1111's.
_ROLE_RANGES = {"steps": (1, 150, 1), "cfg": (0, 30, 0.5), "denoise": (0, 1, 0.01), "width": (64, 2048, 8),
                "height": (64, 2048, 8), "batch_size": (1, 16, 1), "lora_strength": (-2, 2, 0.05),
                "lora_clip_strength": (-2, 2, 0.05), "controlnet_strength": (0, 2, 0.05),
                "upscale_by": (1, 4, 0.05), "grow_mask": (0, 64, 1)}  # fmt: skip
_SANE_SPAN = 1000  # a min..max wider than this is a Number box, not a slider
_PROMPT_ROLES = ("prompt", "negative")


def ui_range(f: Field) -> tuple[float, float, float] | None:
    """``(min, max, step)`` for a slider, or None when a Number box suits better.

    Known roles use friendly ranges, narrowed to the node's own limits and widened to
    hold the template's value; others need a min and max no wider than ``_SANE_SPAN``.
    """
    if f.kind not in ("int", "float") or f.role == "seed":
        return None
    low, high = f.minimum, f.maximum
    base = _ROLE_RANGES.get(f.role or "")
    if base:
        low = base[0] if low is None else max(low, base[0])
        high = base[1] if high is None else min(high, base[1])
        step = base[2]
    elif low is None or high is None or high - low > _SANE_SPAN:
        return None
    else:
        step = f.step or (1 if f.kind == "int" else 0.01)
    if isinstance(f.default, (int, float)) and not isinstance(f.default, bool):
        low, high = min(low, f.default), max(high, f.default)
    if f.kind == "int":
        step = max(1, int(step))
    return low, high, step


def choices_for(ctx, template: dict, f: Field, object_info: dict | None) -> list[str]:
    """The server's current choices for a choice field (empty when unknown)."""
    spec = input_spec(object_info, (template.get(f.node_id) or {}).get("class_type"), f.input_name)
    choices = list(spec[0]) if spec and isinstance(spec[0], list) else list(f.choices)
    if not choices and f.role in MODEL_FOLDERS:
        try:
            choices = list(ctx.catalog.models(MODEL_FOLDERS[f.role]))
        except Exception:  # noqa: BLE001 - server down: free entry until it is back
            choices = []
    return [str(c) for c in choices]


def choice_value(f: Field, choices: list[str]) -> Any:
    """The template's value if the server has it; a model the server lacks -> its first."""
    if f.role in MODEL_FOLDERS and choices:
        return choose_checkpoint(f.default, choices)
    return f.default


def snap(value: Any, step: int = 8) -> Any:
    """Round a size to a multiple of ``step`` (at least ``step``); odd input is left to the checks."""
    try:
        return max(step, int(round(float(value) / step)) * step)
    except (TypeError, ValueError):
        return value


@dataclass
class FieldUI:
    field: Field
    component: Any
    error: Any  # gr.Markdown under the component, hidden while empty


@dataclass
class Form:
    """The built fields of one template, in input order."""

    template: dict
    fields: list[Field]
    items: list[FieldUI] = field(default_factory=list)

    def add(self, item: FieldUI) -> FieldUI:
        self.items.append(item)
        return item

    def get(self, name: str) -> FieldUI | None:
        return next((i for i in self.items if i.field.name == name), None)

    @property
    def components(self) -> list:
        return [i.component for i in self.items]

    @property
    def errors(self) -> list:
        return [i.error for i in self.items]

    def collect(self, values: Iterable[Any]) -> dict[str, Any]:
        """``{field name: value}`` from the components' values (same order as ``components``)."""
        return collect([i.field for i in self.items], values)

    def check(self, values: Iterable[Any], policy=None) -> dict:
        """``{field name: errors.BadValue}`` for each unusable value (same order as ``components``): a
        number that is not finite or past its control's ends, not text, longer than ``policy`` allows."""
        return lenient.form_problems(self.items, list(values), policy)

    def error_updates(self, errors: dict[str, str] | None) -> list:
        """One update per error slot: the field's problem shown, others hidden (nothing sent for
        a slot the page already hides: :func:`~comfy_ui_app.ui._page_view.shown`); None skips."""
        if errors is None:
            return [gr.skip() for _ in self.items]
        return [shown(i.error, error_md(errors.get(i.field.name, "")), bool(errors.get(i.field.name)))
                for i in self.items]  # fmt: skip

    def wire_range_checks(self, lang, skip: Iterable[str] = ()) -> None:
        """Every slider (but ``skip``): a number typed past its ends is put back, with the reason."""
        for item in self.items:
            if isinstance(item.component, gr.Slider) and item.field.name not in set(skip):
                item.component.input(_range_handler(item), inputs=[item.component, lang],
                                     outputs=[item.component, item.error], preprocess=False,
                                     api_visibility="private", show_progress="hidden", concurrency_limit=None)

    def choice_items(self) -> list[FieldUI]:
        return [i for i in self.items if i.field.role in SERVER_ROLES or i.field.kind == "choice"]

    def choice_updates(self, ctx) -> list:
        """Dropdown updates with the server's current lists (skips while it cannot be asked)."""
        info = ctx.catalog.object_info_or_none()
        if info is None:
            return [gr.skip() for _ in self.choice_items()]
        updates = []
        for item in self.choice_items():
            choices = choices_for(ctx, self.template, item.field, info)
            updates.append(gr.Dropdown(choices=choices, value=choice_value(item.field, choices)) if choices
                           else gr.skip())  # fmt: skip
        return updates


def error_md(text: str) -> str:
    """An error slot's text (empty: nothing to show)."""
    return f"⚠ {text}" if text else ""


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def range_check(f: Field, raw: Any, low: float | None, high: float | None, lang: str | None) -> tuple[Any, str]:
    """``(value to show, problem)`` for a number typed into ``f``'s box.

    Outside ``low..high`` the value becomes the nearest end and the problem says so in the
    words of the server's checks; in range (or not a number: the run's checks word that)
    it is ``(gr.skip(), "")``.
    """
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return gr.skip(), ""
    word = tr(f.label, lang)
    if high is not None and value > high:
        limit = high
        text = tr("{word} must be at most {limit} (got {value})", lang, word=word, limit=_number(limit),
                  value=_number(value))
    elif low is not None and value < low:
        limit = low
        text = tr("{word} must be at least {limit} (got {value})", lang, word=word, limit=_number(limit),
                  value=_number(value))
    else:
        return gr.skip(), ""
    limit = _number(limit)
    return limit, tr("{problem}; it is now {value}.", lang, problem=text, value=limit)


def _range_handler(item: FieldUI):
    low, high = getattr(item.component, "minimum", None), getattr(item.component, "maximum", None)

    def check_range(raw, lang):
        """A slider's raw number -> (value put back in range, its error slot)."""
        value, problem = range_check(item.field, raw, low, high, lang)
        return value, shown(item.error, error_md(problem), bool(problem))

    return check_range


def collect(fields: list[Field], values: Iterable[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f, value in zip(fields, values):
        if f.role in ("width", "height"):
            value = snap(value)
        elif f.kind == "int" and isinstance(value, float) and value.is_integer():
            value = int(value)
        elif f.kind in ("text",) and value is None:
            value = ""
        out[f.name] = value
    return out


def build_field(ctx, template: dict, f: Field, object_info: dict | None, *, lang: str | None = None,
                **overrides: Any) -> FieldUI:
    """One component (and its error slot) for ``f`` in the current Blocks context.

    ``lang``: translate the label now (forms built per page by ``@gr.render``); leave it
    None for blocks built once, which the language switch relabels.
    """
    if lang:
        overrides.setdefault("label", tr(f.label, lang))
    overrides.setdefault("interactive", True)  # inside @gr.render Gradio cannot infer it
    with gr.Column(min_width=160, elem_classes=["field"]):
        component = _component(ctx, template, f, object_info, lang=lang, **overrides)
        error = gr.Markdown("", visible=False, elem_classes=["field-error"])
    return FieldUI(f, component, error)


def _component(ctx, template: dict, f: Field, object_info: dict | None, lang: str | None = None, **kw: Any):
    label = kw.pop("label", f.label)
    if f.kind in ("image", "mask"):
        return picture_input(label=label, format="png", sources=["upload", "clipboard"],  # a file, never decoded
                        image_mode="RGBA" if f.kind == "mask" else "RGB", height=kw.pop("height", 240), **kw)
    if f.kind in _FILE_KINDS:  # a sound, video, 3D model: a file, judged from its first bytes by the runner
        kw.pop("value", None)
        return media_input(f.kind, label=label, current=f.default, lang=lang, **kw)
    if f.kind == "choice" or f.role in SERVER_ROLES:
        choices = choices_for(ctx, template, f, object_info)
        value = kw.pop("value", choice_value(f, choices))
        if value is not None and value not in choices:
            choices = [str(value), *choices] if not choices else choices
        # Custom values stay allowed: a value the server refuses is then explained next
        # to the field by the checks, instead of Gradio refusing the whole request.
        return gr.Dropdown(label=label, choices=choices, value=value, allow_custom_value=True, **kw)
    if f.kind == "bool":
        return gr.Checkbox(label=label, value=bool(kw.pop("value", f.default)), **kw)
    if f.role == "seed" and f.kind == "int":  # -1 (the default) draws a new random seed each run
        kw.setdefault("value", -1)
        kw.setdefault("minimum", -1)
        kw.setdefault("info", "-1 = a new random seed each time")
    if f.kind in ("int", "float"):
        value = kw.pop("value", f.default)
        span = ui_range(f)
        if span:
            return lenient.Slider(span[0], span[1], value=value, step=span[2], label=label, **kw)
        return lenient.Number(label=label, value=value, precision=0 if f.kind == "int" else None,
                         minimum=kw.pop("minimum", f.minimum), maximum=kw.pop("maximum", f.maximum), **kw)
    multiline = f.multiline or f.role in _PROMPT_ROLES
    lines = kw.pop("lines", 3 if f.role == "prompt" else 2 if multiline else 1)
    return lenient.Textbox(label=label, value=kw.pop("value", "" if f.default is None else str(f.default)),
                      lines=lines, **kw)


def build_form(ctx, template: dict, fields: list[Field], object_info: dict | None = None, *,
               form: Form | None = None, skip: Iterable[str] = (), advanced_only: bool = False,
               lang: str | None = None, values: dict[str, Any] | None = None,
               advanced_too: Iterable[str] = (), max_fields: int | None = None) -> Form:
    """Lay out ``fields`` (all but ``skip``): named ones, then an "Advanced" accordion.

    ``advanced_too``: named fields that go into the accordion anyway. ``values``: start
    values by field name (pictures excepted: a job's value is a file on the server).
    ``max_fields``: lay out at most that many (named ones first) and say so above them; the
    others keep the template's values. Each component costs Gradio about a millisecond to
    build and send, so an uploaded graph of thousands of inputs gets a form of bounded size.
    """
    form = form or Form(template, list(fields))
    skip, later = set(skip), set(advanced_too)
    named = [f for f in fields if not f.advanced and f.name not in skip | later]
    advanced = [f for f in fields if (f.advanced or f.name in later) and f.name not in skip]
    if advanced_only:
        advanced, named = named + advanced, []
    if max_fields is not None and len(named) + len(advanced) > max_fields:
        total = len(named) + len(advanced)
        named, advanced = named[:max_fields], advanced[:max(0, max_fields - len(named))]
        gr.Markdown(tr("This workflow has {total} inputs; the form shows the first {shown}. The others keep the "
                       "workflow's values.", lang, total=f"{total:,}", shown=f"{max_fields:,}"),
                    elem_classes=["form-note"])
    start = {k: v for k, v in (values or {}).items() if v is not None}

    def add(f: Field) -> None:
        extra = {"value": start[f.name]} if f.name in start and f.kind not in _FILE_KINDS else {}
        form.add(build_field(ctx, template, f, object_info, lang=lang, **extra))

    for f in named:
        add(f)
    if advanced:
        with gr.Accordion(tr("Advanced", lang) if lang else "Advanced", open=False):
            for f in advanced:
                add(f)
    return form
