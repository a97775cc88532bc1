"""The browser's identity on the page: a ``gr.BrowserState`` that only lets through ids the app issued.

Every handler that needs to know who is asking takes the browser id (``ctx.browser_id``) as an
input, and the browser, or anyone calling Gradio's API by hand, sends its value. Gradio runs a
component's ``preprocess`` on each input before the handler sees it, so that is where the id is
checked, once for every handler: :class:`BrowserIdState` hands a handler the id only when
:meth:`~comfy_ui_app.jobs.identity.BrowserIds.verify` accepts it, else ``""`` (then
:func:`~comfy_ui_app.ui.context.current_user` falls back to the caller's own session). The page's
load event (:func:`issue_browser_id`) replaces a missing, forged, tampered, malformed or
over-long id, and an unsigned one kept by an older version of the app, with a fresh signed one.

The signing key lives only in the :class:`BrowserIds` this component holds; nothing of it is in the
page's ``/config`` (which does publish ``gr.BrowserState``'s own ``secret``: that one only
scrambles localStorage and protects nothing).
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from comfy_ui_app.jobs.identity import BrowserIds

__all__ = ["BrowserIdState", "issue_browser_id"]

from gradio.events import Dependency

class BrowserIdState(gr.BrowserState):
    """``gr.BrowserState`` (the same front-end component) whose value reaches handlers only when
    ``ids`` verifies it."""

    is_template = True   # Gradio: the page draws it as its base class, a plain BrowserState

    def __init__(self, default_value: Any = "", *, storage_key: str | None = None, secret: str | None = None,
                 render: bool = True, ids: BrowserIds | None = None) -> None:
        if ids is None:
            raise ValueError("BrowserIdState needs the app's BrowserIds")
        self._browser_ids = ids   # not a constructor name: Gradio publishes only those in /config
        super().__init__(default_value, storage_key=storage_key, secret=secret, render=render)

    @property
    def browser_ids(self) -> BrowserIds:
        return self._browser_ids

    def preprocess(self, payload: Any) -> str:
        """The id the caller sent if this app issued it, else ``""`` (no browser id)."""
        return self._browser_ids.verify(payload) or ""
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


def issue_browser_id(state: BrowserIdState):
    """The page's load handler for ``state``: the verified id it already has, else a new one."""

    def ensure_browser_id(current: str) -> str:
        return current or state.browser_ids.issue()

    return ensure_browser_id