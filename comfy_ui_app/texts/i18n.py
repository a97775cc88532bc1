"""Languages: English (the source) and Simplified Chinese.

gettext-style: code writes English and wraps every user-visible string in ``tr``;
the catalog maps the English text to its translation. Templates are translated
before they are formatted, so ``tr("Waiting: {n} ahead", lang, n=2)`` works in
every language. A string missing from a catalog falls back to English; a test scans
the code for ``tr("...")`` literals and checks each has a translation.

No gradio import: the CLI and ``messages`` use this too.
"""

from __future__ import annotations

import functools
import re

from comfy_ui_app.texts.zh_cn import ZH_CN

__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "tr", "tr_stored", "pick_language", "CATALOGS"]

#: Language code -> the language's own name (what the switch shows).
LANGUAGES = {"en": "English", "zh-CN": "简体中文"}
DEFAULT_LANGUAGE = "en"
CATALOGS: dict[str, dict[str, str]] = {"en": {}, "zh-CN": ZH_CN}


def tr(text: str, lang: str | None = DEFAULT_LANGUAGE, /, **values: object) -> str:
    """``text`` in ``lang`` (English when unknown), formatted with ``values`` if any."""
    translated = CATALOGS.get(lang or DEFAULT_LANGUAGE, {}).get(text, text)
    return translated.format(**values) if values else translated


@functools.lru_cache(maxsize=4)
def _patterns(lang: str) -> list[tuple[re.Pattern, str]]:
    """Each catalog template with ``{names}`` as a regular expression of its English text."""
    patterns = []
    for english, translated in CATALOGS.get(lang, {}).items():
        if "{" not in english:
            continue
        parts = re.split(r"\{(\w+)\}", english)
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
        try:
            patterns.append((re.compile(regex + r"\Z", re.S), translated))
        except re.error:  # a name used twice in one template: leave it to exact matching
            continue
    return patterns


def _from_catalog(text: str, lang: str) -> str | None:
    """``text`` translated as one of the catalog's sentences or filled-in templates, or None."""
    catalog = CATALOGS.get(lang, {})
    if text in catalog:
        return catalog[text]
    for pattern, translated in _patterns(lang):
        match = pattern.match(text)
        if match:
            return translated.format(**match.groupdict())
    return None


def tr_stored(text: str, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """An English sentence written earlier (the error of a job recorded before errors were kept
    as codes, or an error raised with only an English line) in ``lang``: the catalog's
    translation when ``text`` is one of its sentences, or one of its templates filled in (the
    filled-in values stay as they were), or clauses joined by "; " each of which is (a clause
    after the first is looked up capitalised, as the catalog writes it); ``text`` itself otherwise."""
    lang = lang or DEFAULT_LANGUAGE
    catalog = CATALOGS.get(lang, {})
    if not text or not catalog:
        return text
    if text in catalog:
        return catalog[text]
    if "; " in text:  # before whole templates: a template's {value} would swallow the later clauses
        clauses = [_from_catalog(c[:1].upper() + c[1:], lang) for c in text.split("; ")]
        if all(c is not None for c in clauses):
            return tr("; ", lang).join(clauses)
    whole = _from_catalog(text, lang)
    return text if whole is None else whole


def pick_language(preferred: str | None) -> str:
    """Best supported language for a browser's ``navigator.language`` or Accept-Language.

    ``"zh-CN"``, ``"zh"``, ``"zh-Hans-CN"`` and ``"zh-CN,zh;q=0.9,en;q=0.8"`` give
    ``"zh-CN"``; anything else (or nothing) gives English.
    """
    for part in (preferred or "").split(","):
        tag = part.split(";")[0].strip().lower().replace("_", "-")  # "zh_CN" from some systems
        if tag in ("zh", "zh-cn", "zh-sg", "zh-hans") or tag.startswith("zh-hans"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE
