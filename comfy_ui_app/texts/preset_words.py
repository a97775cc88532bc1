"""Presets and prompt styles in words (``errors.PresetRefused``).

Private helper of ``messages`` (whose ``describe`` calls :func:`preset_text`). Each sentence is one
``tr`` template; the Chinese is in ``texts/zh_cn_presets.py``. No gradio import.
"""
from __future__ import annotations

from comfy_ui_app.errors import PresetRefused
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.problem_words import one_line

__all__ = ["preset_text"]

_PLAIN = {
    "name_empty": "Please give the preset a name.",
    "not_found": "That preset is gone, or it is not yours.",
    "bad_value": "These settings cannot be kept as a preset.",
    "not_finite": "“{name}” is not a number that can be kept (NaN or infinity).",
    "unknown_style": "There is no style “{name}”.",
    "too_many_styles": "Please choose at most {allowed} styles.",
    "name_too_long": "A preset name can be at most {allowed} characters long.",
    "too_many": "You have {allowed} presets already: delete one first.",
    "admins_only": "Only an admin can share, unshare or delete a shared preset.",
    "not_on_server": "“{value}” is not on the server any more; {name} was left as it is.",
    "out_of_range": "{value} is outside {low}..{high}; {name} was left as it is.",
}


def _number(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


def preset_text(exc, lang: str) -> str | None:
    """One line for a PresetRefused; None for any other error."""
    if not isinstance(exc, PresetRefused):
        return None
    if exc.reason == "too_large":
        if exc.name:
            return tr("“{name}” is too long to keep (at most {allowed} characters).", lang,
                      name=tr(one_line(exc.name, 120), lang), allowed=f"{exc.allowed:,}")
        return tr("These settings are too large to keep as a preset.", lang)
    template = _PLAIN.get(exc.reason, "These settings cannot be kept as a preset.")
    return tr(template, lang, name=tr(one_line(exc.name, 120), lang), allowed=exc.allowed,
              value=one_line(str(exc.value), 120), low=_number(exc.low), high=_number(exc.high))
