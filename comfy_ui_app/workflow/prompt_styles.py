"""Bundled prompt styles (as Fooocus has them): a style wraps the prompt and adds negative words.

``prompt_styles.json`` (beside this module) lists each style's ``name``, its ``prompt`` template
holding ``{prompt}`` and its ``negative`` text. :func:`apply_styles` wraps the prompt by each
chosen style in the order given (the second style wraps what the first made) and appends the
styles' negatives to the negative prompt, comma-separated.

What a job records (:func:`styled_values`): the form's ``prompt`` and ``negative`` are what was
sent (wrapped), and ``values[STYLES_KEY]`` keeps the style names and the text the user typed.
"Load parameters" puts the typed text and the styles back (:func:`unstyled`), so Generate wraps
once again, never twice; "Re-run" sends the recorded graph as it is. Pure: no I/O but the
bundled file, read once.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comfy_ui_app.errors import PresetRefused

__all__ = ["Style", "STYLES_FILE", "STYLES_KEY", "MAX_STYLES", "load_styles", "style_names", "check_names",
           "apply_styles", "styled_values", "unstyled"]

STYLES_FILE = Path(__file__).resolve().with_name("prompt_styles.json")
STYLES_KEY = "_styles"  # in a job's recorded values: {"names": [...], "prompt": typed, "negative": typed}
MAX_STYLES = 12  # chosen at once
PLACE = "{prompt}"


@dataclass(frozen=True)
class Style:
    name: str
    prompt: str  # holds "{prompt}" where the user's prompt goes
    negative: str = ""


@functools.lru_cache(maxsize=4)
def load_styles(path: Path = STYLES_FILE) -> dict[str, Style]:
    """Every style of ``path`` by name, in the file's order."""
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    return {e["name"]: Style(e["name"], e["prompt"], e.get("negative", "")) for e in entries}


def style_names() -> list[str]:
    return list(load_styles())


def check_names(names: Any, styles: dict[str, Style] | None = None) -> list[str]:
    """The chosen style names as a list (None or "" is none; repeats dropped, order kept); a caller's
    odd value, an unknown name or too many raise PresetRefused naming the "styles" field."""
    styles = load_styles() if styles is None else styles
    if names in (None, ""):
        return []
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise PresetRefused("bad_value", name="Styles", field="styles")
    chosen = list(dict.fromkeys(names))
    if len(chosen) > MAX_STYLES:
        raise PresetRefused("too_many_styles", field="styles", allowed=MAX_STYLES)
    for name in chosen:
        if name not in styles:
            raise PresetRefused("unknown_style", name=name, field="styles")
    return chosen


def _wrap(template: str, prompt: str) -> str:
    if PLACE not in template:
        return ", ".join(p for p in (prompt.strip(), template.strip()) if p)
    if not prompt.strip():  # nothing typed: the style's words alone, without a dangling comma
        return re.sub(r"\s+,", ",", template.replace(PLACE, "")).strip(" ,.")
    return template.replace(PLACE, prompt.strip())


def apply_styles(prompt: str, negative: str, names: Iterable[str],
                 styles: dict[str, Style] | None = None) -> tuple[str, str]:
    """``(prompt, negative)`` wrapped by each style of ``names`` in order (checked: :func:`check_names`)."""
    styles = load_styles() if styles is None else styles
    prompt, negative = prompt or "", negative or ""
    for name in check_names(list(names), styles):
        style = styles[name]
        prompt = _wrap(style.prompt, prompt)
        negative = ", ".join(p for p in (negative.strip(), style.negative.strip()) if p)
    return prompt, negative


def styled_values(values: dict, names: Any, styles: dict[str, Style] | None = None) -> tuple[dict, dict]:
    """``(values to fill the template with, what the job record adds)``: the prompt and negative
    wrapped, and ``{STYLES_KEY: {"names", "prompt", "negative"}}`` (``{}`` when no style is chosen)."""
    chosen = check_names(names, styles)
    if not chosen:
        return values, {}
    typed_prompt, typed_negative = str(values.get("prompt") or ""), str(values.get("negative") or "")
    prompt, negative = apply_styles(typed_prompt, typed_negative, chosen, styles)
    out = dict(values)
    if "prompt" in out:
        out["prompt"] = prompt
    if "negative" in out:
        out["negative"] = negative
    return out, {STYLES_KEY: {"names": chosen, "prompt": typed_prompt, "negative": typed_negative}}


def unstyled(values: dict) -> tuple[dict, list[str]]:
    """A job's recorded values as the form had them: the typed prompt and negative, and the style
    names (``[]`` for a job without styles; a malformed record is taken as it is)."""
    mark = values.get(STYLES_KEY)
    out = {k: v for k, v in values.items() if k != STYLES_KEY}
    if not isinstance(mark, dict):
        return out, []
    names = [n for n in mark.get("names") or [] if isinstance(n, str) and n in load_styles()]
    for key in ("prompt", "negative"):
        if key in out and isinstance(mark.get(key), str):
            out[key] = mark[key]
    return out, names
