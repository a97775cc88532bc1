"""What the page of the event being handled shows now, so a handler sends only updates that change it.

Gradio applies every update a handler sends to a page to its own copy of that page's components
(one per session: ``SessionState.blocks_config``, which ``gradio.context.LocalContext`` holds
while a handler runs). A prop update (``gr.update(visible=...)``, a component instance) costs
Gradio a new component and two rebuilds of its config, JSON schema included (about a millisecond,
on the one event loop every user shares: bench/RESULTS.md, c.), where a skipped output costs
nothing (:mod:`comfy_ui_app.ui._blocks`). A run's first update clears every error slot of the form (14 on the
Text to image tab) and every update set the Retry button's visibility, nearly always to what the
page already showed.

:func:`visible_now` reads that copy; :func:`shown` and :func:`visibility` give the cheapest update
with the same effect on the page: ``gr.skip()`` when nothing would change, the bare value when only
the value does, else the prop update as before. Outside an event handler (tests calling a handler
directly) nothing is known and the prop update is always sent.
"""
from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.context import LocalContext

__all__ = ["visible_now", "shown", "visibility"]


def visible_now(component: Any) -> bool | None:
    """Whether the page of the event being handled shows ``component`` (False: hidden); None
    when unknown (outside an event handler, or a component this session has no copy of)."""
    if component is None:
        return None
    config = LocalContext.blocks_config.get(None)
    blocks = getattr(config, "blocks", None)
    block = blocks.get(getattr(component, "_id", None)) if isinstance(blocks, dict) else None
    visible = getattr(block, "visible", None)
    if visible is None:
        return None
    return visible is True  # False and "hidden" both hide it


def shown(component: Any, value: Any, visible: bool):
    """The update that leaves ``component`` showing ``value`` (``visible``) or hidden: nothing
    when it is hidden and stays hidden (whatever it holds is never seen: every update that shows
    it brings its value), the bare value when it is shown and stays shown."""
    now = visible_now(component)
    if now is False and not visible:
        return gr.skip()
    if now is True and visible:
        return value
    return gr.update(value=value, visible=visible)


def visibility(component: Any, visible: bool, make=gr.update):
    """``make(visible=visible)``, or ``gr.skip()`` when the page already shows (or hides) ``component`` so."""
    return gr.skip() if visible_now(component) is visible else make(visible=visible)
