"""The template library and saved workflows in words (``errors.NoTemplateLibrary``, ``errors.LibraryRefused``).

Private helper of ``messages`` (whose ``describe`` calls :func:`library_text`). Each sentence is one
``tr`` template; the Chinese is in ``texts/zh_cn.py``. No gradio import.
"""
from __future__ import annotations

from comfy_ui_app.errors import LibraryRefused, NoTemplateLibrary
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.problem_words import one_line

__all__ = ["library_text"]


def library_text(exc, lang: str, names) -> str | None:
    """One line for a NoTemplateLibrary or LibraryRefused; None for any other error."""
    if isinstance(exc, NoTemplateLibrary):
        server = names.name_of(exc.url) if names else None
        return tr("{server} has no template library: it is older than ComfyUI's templates. Update ComfyUI to "
                  "pick from them here.", lang, server=server or tr("This ComfyUI server", lang))
    if not isinstance(exc, LibraryRefused):
        return None
    if exc.reason == "saved_admins":
        return tr("Only an admin can see the workflows saved in ComfyUI on this app.", lang)
    if exc.reason == "unknown_saved":
        return tr("ComfyUI has no saved workflow “{name}” (it may have been renamed or deleted).", lang,
                  name=one_line(exc.name, 120))
    if exc.name:
        return tr("ComfyUI's template library has no template “{name}”.", lang, name=one_line(exc.name, 120))
    return tr("ComfyUI's template library has no such template.", lang)
