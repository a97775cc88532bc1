"""A refused graph in words (``errors.GraphRefused``, from ``jobs.graph_rules``).

Private helper of ``messages`` (whose ``describe`` calls :func:`graph_refused_text`). Each
sentence is one ``tr`` template; the Chinese is in ``texts/zh_cn.py``. No gradio import.
"""
from __future__ import annotations

from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.problem_words import one_line

__all__ = ["graph_refused_text"]

_FILE_RULES = {
    "file_path": "{where}: “{value}” is not allowed: a file name may not contain folders (/, \\, ..).",
    "file_annotation": "{where}: “{value}” names a file in another ComfyUI folder; only a plain file name is "
                       "allowed.",
    "file_not_yours": "{where}: “{value}” is not a file you uploaded. Upload it yourself.",
    "file_unknown": "{where}: “{value}” is not a file on the ComfyUI server. Upload it first.",
}


def graph_refused_text(exc, lang: str) -> str:
    """One line for a GraphRefused: the rule, and where (the field, else the node and input)."""
    rule = getattr(exc, "rule", "")
    if rule == "custom_off":
        return tr("Running a workflow of your own is turned off on this app.", lang)
    if rule == "custom_admins":
        return tr("Only an admin may run a workflow of their own on this app.", lang)
    if rule == "node_not_allowed":
        return tr("Node {node} ({class_type}) is a node type this app does not allow.", lang,
                  node=exc.node, class_type=exc.class_type)
    if rule in _FILE_RULES:
        where = exc.field or tr("Node {node} ({class_type}), input {input}", lang, node=exc.node,
                                class_type=exc.class_type, input=exc.input)
        return tr(_FILE_RULES[rule], lang, where=where, value=one_line(exc.value, 120))
    return tr("This workflow is not allowed on this app.", lang)
