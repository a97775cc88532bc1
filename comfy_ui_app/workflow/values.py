"""Is a value sent for a field usable at all? Pure checks, before anything is stored or sent.

A value reaches a field from the page, from Gradio's HTTP API (raw JSON: a bare ``NaN``, a list
where a number goes, a 5 MB string), from ``--set`` on the command line, or from a stored job.
:func:`value_problem` says what is wrong with one (``errors.BadValue``: a code and data, worded in
``texts.messages``) or None: a number field wants a finite number (a numeric string too, the
command line sends those) within ``low..high`` when given, a whole one for an int field; a text or
choice field wants text (None is empty) no longer than ``max_chars``. Pictures and true/false are
left to their own checks. :func:`finite_number` is the test every entry shares (``templates.fill``
uses it too), so a NaN never reaches a graph.
"""
from __future__ import annotations

import math
from typing import Any

from comfy_ui_app.errors import BadValue
from comfy_ui_app.workflow.fields import Field

__all__ = ["PROMPT_ROLES", "finite_number", "value_problem", "text_limit"]

PROMPT_ROLES = ("prompt", "negative")   # a negative prompt counts as a prompt


def finite_number(value: Any) -> float | None:
    """``value`` as a finite float (an int, a float, a numeric string), else None (NaN, infinity,
    ``True``, a list, text that is not a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def text_limit(field: Field, max_prompt_chars: int | None, max_text_chars: int | None) -> int | None:
    """The longest text ``field`` takes: a prompt's cap for prompts, the other text cap otherwise."""
    return max_prompt_chars if field.role in PROMPT_ROLES else max_text_chars


def _not_a_number(field: Field, value: Any) -> BadValue:
    if isinstance(value, float) or (isinstance(value, str) and value.strip().lower().lstrip("+-")
                                    in ("nan", "inf", "infinity")):
        return BadValue(field.name, "not_finite", label=field.label, value=value)
    return BadValue(field.name, "not_a_number", label=field.label, value=value)


def value_problem(field: Field, value: Any, *, low: float | None = None, high: float | None = None,
                  max_chars: int | None = None) -> BadValue | None:
    """What is wrong with ``value`` for ``field`` (see the module docstring), or None.

    ``low``/``high``: the ends the page's control allows (a slider's), checked for numbers;
    ``max_chars``: the longest text. A seed's None or empty box is fine (a random seed)."""
    kind = field.kind
    if kind in ("int", "float"):
        if field.role == "seed" and value in (None, ""):
            return None
        number = finite_number(value)
        if number is None:
            return _not_a_number(field, value)
        if kind == "int" and not number.is_integer():
            return BadValue(field.name, "not_whole", label=field.label, value=value)
        if low is not None and number < low:
            return BadValue(field.name, "too_small", label=field.label, value=_plain(number), limit=_plain(low))
        if high is not None and number > high:
            return BadValue(field.name, "too_big", label=field.label, value=_plain(number), limit=_plain(high))
        return None
    if kind in ("text", "choice"):
        if value is None:
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or (
                kind == "text" and not isinstance(value, str)):
            return BadValue(field.name, "not_text", label=field.label, value=value)
        if isinstance(value, float) and not math.isfinite(value):
            return BadValue(field.name, "not_finite", label=field.label, value=value)
        if max_chars is not None and isinstance(value, str) and len(value) > max_chars:
            return BadValue(field.name, "too_long", label=field.label, length=len(value), limit=max_chars)
    return None


def _plain(number: float) -> int | float:
    return int(number) if float(number).is_integer() else number
