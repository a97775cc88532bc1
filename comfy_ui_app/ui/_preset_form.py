"""A tab's settings as a preset and back: which saved value still fits which control (no gradio).

Each control a preset covers is described by a :class:`Slot` (its key in the preset, the kind of
value, the choices it offers now, its ends). :func:`snapshot` turns the controls' current values
into the preset's ``{key: value}``; :func:`restore` says, per slot, the value to set or why it
cannot be set (``errors.PresetRefused``: a checkpoint the server no longer has, a number outside
the control's ends, text where a number goes). A key the preset lacks leaves its control as it is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from comfy_ui_app.errors import PresetRefused

__all__ = ["Slot", "KINDS", "snapshot", "fit", "restore"]

KINDS = ("text", "int", "float", "bool", "choice", "multi")


@dataclass(frozen=True)
class Slot:
    """One control: ``choices`` (None: any value) for "choice"/"multi"; ``low``/``high`` for numbers."""

    key: str
    kind: str
    label: str = ""
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None


def snapshot(slots: Iterable[Slot], values: Iterable[Any]) -> dict:
    """``{slot key: value}`` of the controls' current values (same order as ``slots``)."""
    return {slot.key: value for slot, value in zip(slots, values)}


def _number(slot: Slot, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PresetRefused("bad_value", name=slot.label or slot.key, field=slot.key)
    if not math.isfinite(value):
        raise PresetRefused("not_finite", name=slot.label or slot.key, field=slot.key)
    if (slot.low is not None and value < slot.low) or (slot.high is not None and value > slot.high):
        raise PresetRefused("out_of_range", name=slot.label or slot.key, field=slot.key, value=value,
                            low=slot.low, high=slot.high)
    if slot.kind == "int":
        if float(value) != int(value):
            raise PresetRefused("bad_value", name=slot.label or slot.key, field=slot.key)
        return int(value)
    return value


def fit(slot: Slot, value: Any) -> Any:
    """``value`` as ``slot``'s control takes it; PresetRefused when it does not fit any more."""
    name = slot.label or slot.key
    if slot.kind in ("int", "float"):
        return _number(slot, value)
    if slot.kind == "bool":
        if not isinstance(value, bool):
            raise PresetRefused("bad_value", name=name, field=slot.key)
        return value
    if slot.kind == "multi":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PresetRefused("bad_value", name=name, field=slot.key)
        missing = [v for v in value if slot.choices is not None and v not in slot.choices]
        if missing:
            raise PresetRefused("not_on_server", name=name, field=slot.key, value=", ".join(missing))
        return value
    if slot.kind == "choice":
        if value is not None and not isinstance(value, (str, int, float)):
            raise PresetRefused("bad_value", name=name, field=slot.key)
        if slot.choices is not None and value not in slot.choices:
            raise PresetRefused("not_on_server", name=name, field=slot.key, value=value)
        return value
    if value is not None and not isinstance(value, str):
        raise PresetRefused("bad_value", name=name, field=slot.key)
    return value or ""


def restore(slots: Iterable[Slot], saved: dict) -> tuple[dict, dict]:
    """``(values to set by key, PresetRefused by key)`` for a saved preset's values; keys the
    preset lacks are in neither."""
    values, problems = {}, {}
    for slot in slots:
        if slot.key not in saved:
            continue
        try:
            values[slot.key] = fit(slot, saved[slot.key])
        except PresetRefused as exc:
            problems[slot.key] = exc
    return values, problems
