"""Number and text boxes whose Gradio-side reading never fails: what they cannot take reaches the handler.

Gradio reads every input of an event before the handler runs (``preprocess``). Sent raw to its
HTTP API, a slider's ``"abc"``, ``[1]`` or ``null`` makes that step raise, and the caller gets
Gradio's generic error ("The upstream Gradio app has raised an exception"); a value past the
slider's ends gets a pop-up; a bare ``NaN`` passes (every comparison with NaN is false) and
reaches the job. These subclasses (same look: ``is_template`` makes the page use the base
component) hand anything but a finite number within their ends, or anything but text, to the
handler unchanged, whose checks (:func:`form_problems`, through ``ui.form.Form.check``) put a
plain message next to the field (:func:`refusal`).
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from comfy_ui_app.errors import BadValue
from comfy_ui_app.texts.i18n import DEFAULT_LANGUAGE, tr
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui.jobfeed import RunUpdate, progress_markdown
from comfy_ui_app.workflow.graph import Field
from comfy_ui_app.workflow.values import finite_number, text_limit, value_problem

__all__ = ["Slider", "Number", "Textbox", "usable_number", "form_problems", "refusal", "run_problems",
           "stopped_update"]


def usable_number(payload: Any, low: float | None, high: float | None) -> bool:
    """A real (not bool, not text) finite number within ``low..high``: Gradio may read it."""
    if isinstance(payload, (bool, str)) or not isinstance(payload, (int, float)):
        return False
    number = finite_number(payload)
    return number is not None and (low is None or number >= low) and (high is None or number <= high)

from gradio.events import Dependency

class Slider(gr.Slider):
    """``gr.Slider`` that passes what it cannot take to the handler (see the module docstring)."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        if not usable_number(payload, self.minimum, self.maximum):
            return payload
        return super().preprocess(payload)
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


class Number(gr.Number):
    """``gr.Number`` that passes what it cannot take to the handler (None stays None: an empty box)."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        if payload is None or not usable_number(payload, self.minimum, self.maximum):
            return payload
        return super().preprocess(payload)
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


class Textbox(gr.Textbox):
    """``gr.Textbox`` that passes anything but text (a dict, a list, a number) to the handler as it is."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        if payload is not None and not isinstance(payload, str):
            return payload
        return super().preprocess(payload)
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


# -- the handler's side: the checks that word what the boxes let through ------------------------------

def form_problems(items: list, values: list, policy=None) -> dict[str, BadValue]:
    """``{field name: BadValue}`` for each of a form's ``items`` (``form.FieldUI``) whose value in
    ``values`` (same order) is unusable: not a finite number within its control's ends, not text, or
    longer than ``policy``'s caps (a prompt's or another text's)."""
    problems: dict[str, BadValue] = {}
    for item, value in zip(items, values):
        f = item.field
        ends = (item.component.minimum, item.component.maximum) if isinstance(item.component, (gr.Slider, gr.Number)) \
            else (None, None)
        limit = text_limit(f, policy.max_prompt_chars, policy.max_text_chars) if policy is not None else None
        problem = value_problem(f, value, low=ends[0], high=ends[1], max_chars=limit)
        if problem is not None:
            problems[f.name] = problem
    return problems


def refusal(problems: dict[str, BadValue], lang: str | None, names=None) -> tuple[str, dict[str, str]]:
    """``(message, {field name: its words})`` for a run refused because of ``problems`` (not empty)."""
    kw = {"names": names} if names is not None else {}
    errors = {name: describe(problem, lang=lang or DEFAULT_LANGUAGE, **kw) for name, problem in problems.items()}
    return next(iter(errors.values())), errors


BATCH_COUNT = Field("batch_count", "int", "", "", 1, "Batch count")  # not a field of the graph: checked alike


def run_problems(form, values: list, policy=None, *, batch_count: Any = 1, max_batch_count: int = 16,
                 extra: dict | None = None) -> dict[str, BadValue]:
    """Every unusable value of one Generate click: the form's (:func:`form_problems`), the batch count's
    (1..``max_batch_count``) and ``extra`` ``{name: (Field, value, low, high)}`` (a control outside the form)."""
    problems = form_problems(form.items, list(values), policy)
    checks = {"batch_count": (BATCH_COUNT, batch_count, 1, max_batch_count), **(extra or {})}
    for name, (f, value, low, high) in checks.items():
        problem = value_problem(f, value, low=low, high=high)
        if problem is not None:
            problems[name] = problem
    return problems


def stopped_update(problems: dict[str, BadValue], lang: str | None, names=None) -> RunUpdate:
    """The one update of a run refused for ``problems``: "Stopped", the first problem as the
    message and each next to its field."""
    message, errors = refusal(problems, lang, names)
    return RunUpdate(progress_markdown(tr("Stopped", lang)), gallery=[], message=message, errors=errors, final=True)


def mask_tool_checks(grow_px: Any, blur_px: Any) -> dict:
    """``extra`` for :func:`run_problems` of the Inpainting tab's mask sliders (their ends as
    ``ui._inpaint_controls`` builds them: grow 0..64, blur 0..32 pixels)."""
    return {"grow_px": (Field("grow_px", "int", "", "", 0, "Grow mask"), grow_px, 0, 64),
            "blur_px": (Field("blur_px", "int", "", "", 0, "Mask blur"), blur_px, 0, 32)}