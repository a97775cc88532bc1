"""Languages: English (the source) and Simplified Chinese.

gettext-style: code writes English and wraps every user-visible string in ``tr``;
the catalog maps the English text to its translation. Templates are translated
before they are formatted, so ``tr("Waiting: {n} ahead", lang, n=2)`` works in
every language. A string missing from a catalog falls back to English; a test scans
the code for ``tr("...")`` literals and checks each has a translation.

No gradio import: the CLI and ``messages`` use this too.
"""

from __future__ import annotations

from ._zh_cn import ZH_CN

__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "tr", "pick_language", "CATALOGS"]

#: Language code -> the language's own name (what the switch shows).
LANGUAGES = {"en": "English", "zh-CN": "简体中文"}
DEFAULT_LANGUAGE = "en"
CATALOGS: dict[str, dict[str, str]] = {"en": {}, "zh-CN": ZH_CN}


def tr(text: str, lang: str | None = DEFAULT_LANGUAGE, /, **values: object) -> str:
    """``text`` in ``lang`` (English when unknown), formatted with ``values`` if any."""
    translated = CATALOGS.get(lang or DEFAULT_LANGUAGE, {}).get(text, text)
    return translated.format(**values) if values else translated


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
