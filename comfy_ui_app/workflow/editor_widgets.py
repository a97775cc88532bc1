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

A list of values is read with the first of these layouts that has its length and whose
values fit their inputs' types (a number for INT and FLOAT, text for STRING, true/false
for BOOLEAN, text or one of the choices for a combo): as above; as an editor older than
1.16 saved it (one more value per ``forceInput`` input); without the "control after
generate" values. A shorter list is read as far as it goes when only optional inputs
are left over (the node gained inputs after the save). Anything else raises
:class:`Misaligned`: reading it anyway would put values into the wrong inputs.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["Misaligned", "read_widgets"]

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
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


def read_widgets(saved: list | dict, info: dict) -> dict[str, Any]:
    """``{input_name: value}`` from a node's saved widget values (a list, or a newer save's dict)."""
    if isinstance(saved, dict):  # newer saves: {name: value}
        return {s.name: saved[s.name] for s in layout(info) if s.name is not None and s.name in saved}
    layouts: list[list[Slot]] = []
    for legacy, control in ((False, True), (True, True), (False, False)):
        slots = layout(info, legacy_force_input=legacy, control=control)
        if slots not in layouts:
            layouts.append(slots)
    exact = [slots for slots in layouts if len(slots) == len(saved)]
    shorter = [slots for slots in layouts if len(slots) > len(saved)
               and not any(s.required for s in slots[len(saved):])]  # fmt: skip
    problems = []
    for slots in exact + shorter:
        problem = next(filter(None, map(misfit, slots, saved)), None)
        if problem is None:
            return {s.name: v for s, v in zip(slots, saved) if s.name is not None}
        problems.append(problem)
    if problems:
        raise Misaligned(f"has widget values that do not line up with its inputs ({problems[0]})")
    sizes = " or ".join(str(n) for n in sorted({len(s) for s in layouts}, reverse=True))
    raise Misaligned(f"has {len(saved)} widget value{'s' * (len(saved) != 1)} where {sizes} are expected")


def misfit(slot: Slot, value: Any) -> str | None:
    """Why ``value`` cannot be the value saved for ``slot``, or None when it fits."""
    kind = slot.kind
    if kind == "control":
        return None if isinstance(value, str) else (
            f"{value!r} stands where a 'control after generate' value (fixed, randomize …) belongs")
    if kind in _SKIPPED:
        return None
    if isinstance(kind, list):
        fits = value is None or value in kind or (isinstance(value, str) and all(isinstance(c, str) for c in kind))
        return None if fits else f"{slot.name} is {value!r}, which is not one of its choices"
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    fits = {"INT": number and float(value).is_integer(), "FLOAT": number, "BOOLEAN": isinstance(value, bool),
            "STRING": isinstance(value, str)}.get(kind, True)  # fmt: skip
    return None if fits else f"{slot.name} is {value!r}, which is not {_WANTED[kind]}"


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
            slots.append(Slot(name, choices, section == "required"))
            flag = options.get("control_after_generate")
            if control and (flag or (flag is None and kind == "INT" and name in SEED_NAMES)):
                slots.append(Slot(None, "control", False))  # the "control after generate" value
        if section == "required" and any(
                parse_spec(spec)[1].get(flag) for spec in specs.values() for flag in UPLOAD_FLAGS):
            slots.append(Slot(None, "upload", False))  # the upload button's value
    return slots


def parse_spec(spec: Any) -> tuple[Any, dict]:
    """Split an input spec ``[TYPE, options]`` into ``(TYPE, options)``."""
    if isinstance(spec, str):
        return spec, {}
    if not isinstance(spec, (list, tuple)) or not spec:
        return None, {}
    options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    return spec[0], options
