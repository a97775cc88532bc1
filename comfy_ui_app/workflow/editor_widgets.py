"""How the ``widgets_values`` of an editor save line up with a node's inputs (for :mod:`comfy_ui_app.workflow.convert`).

Pure functions over data: no I/O.

The editor creates one widget per widget input (INT, FLOAT, STRING, BOOLEAN and combos,
but not inputs marked ``forceInput``). It goes through ``required`` and then
``optional`` in ``/object_info`` order. Two extra widgets also store a value, and those
values are skipped:

* A "control after generate" combo ("fixed"/"randomize"/...) follows an input whose
  options set ``control_after_generate``. An INT named ``seed`` or ``noise_seed`` that
  leaves the option out also gets one.
* An "upload" button comes after the last required input when a required input sets
  ``image_upload`` (or ``video_upload``/``audio_upload``/``animated_image_upload``).

A list of values is read the way the editor reads it: value ``i`` goes to widget ``i``;
values past the last widget are ignored (an upload widget's or a preview's extra stored
values, a text the node showed); widgets past the last value keep their default from
``/object_info`` (the node gained inputs after the save); any value may stand in a
"control after generate" slot (old saves hold ``true``/``false`` there). The layouts
tried, first whose values fit their inputs' types (a number for INT and FLOAT, text for
STRING, true/false for BOOLEAN, text or one of the choices for a combo), those of the
saved length first: as above; as an editor older than 1.16 saved it (one more value per
``forceInput`` input); without the "control after generate" values. When none fits
(an input was added in the middle, or moved), the values are lined up with the widgets
in order, skipping a value or a widget where its type says it cannot be that one
(:func:`_align`); a save where that leaves more than a few values unplaced raises
:class:`Misaligned`: reading it anyway would put values into the wrong inputs.

Some inputs are widgets only in the editor (``FRONTEND_WIDGET_TYPES``: a webcam, a
recorder, the 3D viewer); their stored value is read like any other.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

__all__ = ["Misaligned", "read_widgets", "widget_default"]

FRONTEND_WIDGET_TYPES = {"WEBCAM", "AUDIO_RECORD", "LOAD_3D", "LOAD_3D_ANIMATION"}  # the editor's own widgets
WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO", *FRONTEND_WIDGET_TYPES}
MAX_UNPLACED = 2  # values an aligned read may leave out at the end (see _align)
CONTROL_WORDS = ("fixed", "increment", "decrement", "randomize")
_FILE_NAME = re.compile(r"\.[A-Za-z0-9]{2,12}(\s*\[\w+\])?$")  # "model.safetensors", "x.png [output]"
UPLOAD_FLAGS = ("image_upload", "video_upload", "audio_upload", "animated_image_upload")
SEED_NAMES = {"seed", "noise_seed"}
_SKIPPED = ("control", "upload", "forceInput")  # kinds of the values that fill no input
_WANTED = {"INT": "a whole number", "FLOAT": "a number", "BOOLEAN": "true or false", "STRING": "text"}


class Misaligned(ValueError):
    """The saved values do not line up with the node's inputs; the text says where."""


class Slot(NamedTuple):
    name: str | None  # None: a value that fills no input
    kind: Any  # the input's type or list of choices, or one of _SKIPPED
    required: bool  # a required input (a skipped value never is)
    limits: tuple = (None, None)  # a number's min and max


def read_widgets(saved: list | dict, info: dict) -> dict[str, Any]:
    """``{input_name: value}`` from a node's saved widget values (a list, or a newer save's dict).

    Every widget of the node gets a value: the saved one, or its default when the save has none."""
    slots = layout(info)
    if isinstance(saved, dict):  # newer saves: {name: value}
        return {s.name: saved[s.name] for s in slots if s.name is not None and s.name in saved}
    layouts: list[list[Slot]] = []
    for legacy, control in ((False, True), (True, True), (False, False)):
        candidate = layout(info, legacy_force_input=legacy, control=control)
        if candidate not in layouts:
            layouts.append(candidate)
    ordered = sorted(layouts, key=lambda c: (len(c) != len(saved), len(c) < len(saved)))  # stable: same length first
    for candidate in ordered:
        if not any(map(misfit, candidate, saved)):  # zip: extra values and missing widgets left aside
            return _with_defaults({s.name: v for s, v in zip(candidate, saved) if s.name is not None}, info)
    placed = _align(slots, saved)
    if placed is not None:
        return _with_defaults(placed, info)
    for candidate in ordered:  # a choice renamed since the save: kept, for the check to report
        if not any(misfit(slot, value, strict=False) for slot, value in zip(candidate, saved)):
            return _with_defaults({s.name: v for s, v in zip(candidate, saved) if s.name is not None}, info)
    problem = next(filter(None, map(misfit, slots, saved)), None)
    raise Misaligned(f"has widget values that do not line up with its inputs ({problem})")


def _with_defaults(values: dict[str, Any], info: dict) -> dict[str, Any]:
    specs = _all_specs(info)
    missing = {s.name: widget_default(specs.get(s.name)) for s in layout(info) if s.name is not None}
    return {**{n: v for n, v in missing.items() if n not in values}, **values} if missing else values


def _align(slots: list[Slot], saved: list) -> dict[str, Any] | None:
    """Line ``saved`` up with ``slots`` in order, each value where its type and range fit, most values placed.

    A widget may get no value (one the node gained: it keeps its default); a control or
    upload slot takes any value; a value may find no place (a widget the node lost): a
    "control after generate" word (``CONTROL_WORDS``) freely, others up to ``MAX_UNPLACED`` and
    fewer than the values placed. Ties go to the plain reading, value ``i`` to widget ``i``.
    None when that leaves too much out (the values cannot be trusted)."""
    n, m = len(saved), len(slots)
    fit = [[misfit(slot, value) is None and _in_range(slot, value) for slot in slots] for value in saved]
    # best[i][j]: most values placed from saved[i:] onto slots[j:]
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best[i][j] = max(best[i + 1][j + 1] + 1 if fit[i][j] else -1, best[i + 1][j], best[i][j + 1])
    placed: dict[str, Any] = {}
    left_out: list = []
    i = j = 0
    while i < n and j < m:
        if fit[i][j] and best[i][j] == best[i + 1][j + 1] + 1:
            if slots[j].name is not None:
                placed[slots[j].name] = saved[i]
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            left_out.append(saved[i])
            i += 1
        else:
            j += 1
    left_out.extend(saved[i:])
    unplaced = [v for v in left_out if v not in CONTROL_WORDS]
    return placed if len(unplaced) <= MAX_UNPLACED and len(unplaced) < len(placed) else None


def misfit(slot: Slot, value: Any, strict: bool = True) -> str | None:
    """Why ``value`` cannot be the value saved for ``slot``, or None when it fits.

    ``strict``: a combo's value must be one of its choices, or a file name (lists of files differ
    from server to server); else any text will do (a choice renamed since the save: for the check
    to report). ``ranges``: a number must also lie within the input's min and max."""
    kind = slot.kind
    if kind in _SKIPPED:  # the editor keeps any value in a control slot (old saves: true/false)
        return None
    if isinstance(kind, list):
        fits = value is None or value in kind or isinstance(value, str) and (
            not strict or not kind or any(map(_is_file_name, [value, *kind])))
        return None if fits else f"{slot.name} is {value!r}, which is not one of its choices"
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    fits = {"INT": number and float(value).is_integer(), "FLOAT": number, "BOOLEAN": isinstance(value, bool),
            "STRING": isinstance(value, str)}.get(kind, True)  # fmt: skip
    return None if fits else f"{slot.name} is {value!r}, which is not {_WANTED[kind]}"


def _in_range(slot: Slot, value: Any) -> bool:
    low, high = slot.limits
    if slot.kind not in ("INT", "FLOAT") or not isinstance(value, (int, float)):
        return True
    return (low is None or value >= low) and (high is None or value <= high)


def _is_file_name(text: Any) -> bool:
    return isinstance(text, str) and bool(_FILE_NAME.search(text))


def layout(info: dict, legacy_force_input: bool = False, control: bool = True) -> list[Slot]:
    """The slots of ``widgets_values`` in order, for a node described by ``info``."""
    slots: list[Slot] = []
    for section in ("required", "optional"):
        specs = (info.get("input") or {}).get(section) or {}
        order = (info.get("input_order") or {}).get(section) or list(specs)
        for name in order:
            kind, options = parse_spec(specs.get(name))
            if options.get("forceInput"):
                if legacy_force_input:
                    slots.append(Slot(None, "forceInput", False))
                continue
            if not (isinstance(kind, list) or kind in WIDGET_TYPES):
                continue
            choices = list(options.get("options") or []) if kind == "COMBO" else kind  # newer servers
            slots.append(Slot(name, choices, section == "required", (options.get("min"), options.get("max"))))
            flag = options.get("control_after_generate")
            if control and (flag or (flag is None and kind == "INT" and name in SEED_NAMES)):
                slots.append(Slot(None, "control", False))  # the "control after generate" value
        if section == "required" and any(
                parse_spec(spec)[1].get(flag) for spec in specs.values() for flag in UPLOAD_FLAGS):
            slots.append(Slot(None, "upload", False))  # the upload button's value
    return slots


def _all_specs(info: dict) -> dict[str, Any]:
    inputs = info.get("input") or {}
    return {**(inputs.get("optional") or {}), **(inputs.get("required") or {})}


def widget_default(spec: Any) -> Any:
    """The value a fresh widget of this input holds: its default, else the first choice, else
    the type's zero (its minimum for a number)."""
    kind, options = parse_spec(spec)
    choices = kind if isinstance(kind, list) else list(options.get("options") or []) if kind == "COMBO" else None
    default = options.get("default")
    if choices is not None:
        return default if default in choices or not choices and default is not None else (
            choices[0] if choices else "")
    if default is not None:
        return default
    return {"INT": options.get("min", 0), "FLOAT": float(options.get("min", 0.0)), "BOOLEAN": False}.get(kind, "")


def parse_spec(spec: Any) -> tuple[Any, dict]:
    """Split an input spec ``[TYPE, options]`` into ``(TYPE, options)``."""
    if isinstance(spec, str):
        return spec, {}
    if not isinstance(spec, (list, tuple)) or not spec:
        return None, {}
    options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    return spec[0], options
