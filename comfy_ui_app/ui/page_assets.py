"""The page's own CSS and scripts: every ``assets/*.css`` and ``assets/*.js``, in name order.

One file per feature (``actions.css``, ``notify.js``…), so a feature's looks and behaviour in the
browser sit in one place and features never edit each other's files. :class:`ui._blocks.Blocks`
hands them to ``launch()`` (Gradio 6 takes ``css`` and ``head`` there), so every way of launching
the page (``assembly.launch``, a test's ``demo.launch``) gets them.

Scripts go in ``<head>`` and run before Gradio draws the page: they wait for elements with a
``MutationObserver`` or listen on ``document``, and find the page's parts by ``elem_id`` /
``elem_classes``, never by Gradio's generated markup.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["ASSETS_DIR", "page_css", "page_head"]

ASSETS_DIR = Path(__file__).resolve().parent / "assets"


def page_css(folder: Path = ASSETS_DIR) -> str:
    """Every ``*.css`` of ``folder``, in name order, each under a comment naming its file."""
    return "\n".join(f"/* {p.name} */\n{p.read_text(encoding='utf-8')}" for p in sorted(folder.glob("*.css")))


def page_head(folder: Path = ASSETS_DIR) -> str:
    """Every ``*.js`` of ``folder``, in name order, each as one ``<script>`` for the page's ``<head>``."""
    return "\n".join(f"<script>/* {p.name} */\n{p.read_text(encoding='utf-8')}\n</script>"
                     for p in sorted(folder.glob("*.js")))
