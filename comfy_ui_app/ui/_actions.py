"""The main action of a generating tab, in one place on every one of them, and what a run shows.

:func:`action_bar` builds the row of Generate and Interrupt that "Text to image", "Inpainting" and
"Custom workflow" each put first in their tab, above everything else: the same place on every
tab, visible without scrolling at desktop and phone width (``assets/actions.css`` lays it out;
at desktop width it stays in view while the form scrolls, at phone width it scrolls with the page
and never covers a field). ``assets/keys.js`` makes Ctrl+Enter (⌘+Enter on macOS) in any text box
of such a tab press its Generate, found by the bar's class (:data:`BAR_CLASS`) and the button's
``<tab>-generate`` id.

:func:`message_box` is a tab's "Message" box: hidden by the page's CSS while it is empty
(``assets/actions.css``), so nothing takes room before anything happened, whoever writes it
(a run, Interrupt, a reloaded page). :func:`preview_update` is what a run's update does to the
live preview: shown with each new preview, emptied and hidden when a run starts and when it ends
with pictures (the finished pictures are in the gallery beside it).

A tab whose form is drawn by ``@gr.render`` ("Custom workflow") still builds its bar once, above
the tab, and each render wires it to its own form (:class:`RenderedButtons`).
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.ui._page_view import shown
from comfy_ui_app.ui.jobfeed import RunUpdate
from comfy_ui_app.ui.runner import interrupt_handler, user_inputs

__all__ = ["BAR_CLASS", "MESSAGE_CLASS", "PREVIEW_CLASS", "RenderedButtons", "action_bar", "message_box",
           "preview_image", "preview_update"]

BAR_CLASS = "generate-bar"        # the row of Generate and Interrupt (keys.js finds it by this)
MESSAGE_CLASS = "run-message"     # a tab's Message box: hidden while empty (actions.css)
PREVIEW_CLASS = "run-preview"     # a tab's live preview


def action_bar(tab_id: str, *, visible: bool = True) -> tuple[gr.Button, gr.Button, gr.Row]:
    """``(generate, interrupt, row)``: the tab's Generate and Interrupt (ids ``<tab_id>-generate`` and
    ``<tab_id>-interrupt``), in a row of their own; build it first in the tab."""
    with gr.Row(equal_height=True, elem_classes=[BAR_CLASS], elem_id=f"{tab_id}-actions", visible=visible) as row:
        generate = gr.Button("Generate", variant="primary", min_width=120, elem_id=f"{tab_id}-generate")
        interrupt = gr.Button("Interrupt", variant="stop", min_width=120, elem_id=f"{tab_id}-interrupt")
    return generate, interrupt, row


def message_box(tab_id: str, value: str = "") -> gr.Textbox:
    """The tab's "Message" box (``<tab_id>-message``). Its placeholder is one space: the CSS hides a
    box whose placeholder shows, i.e. an empty one (``:placeholder-shown``)."""
    return gr.Textbox(label="Message", interactive=False, lines=2, value=value, placeholder=" ",
                      elem_id=f"{tab_id}-message", elem_classes=[MESSAGE_CLASS])


def preview_image(**kw: Any) -> gr.Image:
    """The tab's live preview, hidden until a run streams one."""
    return gr.Image(label="Preview", type="pil", format="jpeg", interactive=False, height=256, visible=False,
                    elem_classes=[PREVIEW_CLASS], **kw)


def preview_update(update: RunUpdate, component: Any = None):
    """The preview's part of ``update``: an end with pictures hides it; else a new preview shows it; the
    start of a run (the update that empties the gallery) without one hides it; anything else leaves it.
    ``component``: the preview, so that an update that would change nothing is skipped
    (:func:`~comfy_ui_app.ui._page_view.shown`)."""
    if update.final and update.gallery:  # the end's own last preview too: the pictures say it
        return shown(component, None, False)
    if update.preview is not None:
        return shown(component, update.preview, True)
    if update.gallery == [] and not update.final:
        return shown(component, None, False)
    return gr.skip()


class RenderedButtons:
    """A bar whose form is drawn by ``@gr.render``: each render wires Generate and Interrupt to its own
    form (Gradio drops the listeners of the render before); :meth:`idle` while there is no form.

    ``results`` (of :meth:`wire` / :meth:`idle`) has ``outputs``, ``progress``, ``message`` and
    ``job_ids``, as the tab's results column does."""

    def __init__(self, generate: gr.Button, interrupt: gr.Button, loaded: gr.State, reattach=None) -> None:
        self.generate, self.interrupt, self.loaded, self.reattach = generate, interrupt, loaded, reattach

    def wire(self, ctx, results, fn, inputs: list, errors: list) -> None:
        """Generate streams ``fn(request, lang, what the render was drawn for now, *inputs[, browser id])``
        into the results, the form's ``errors`` and the job ids; Interrupt stops it."""
        event = self.generate.click(fn, inputs=[ctx.lang, self.loaded, *inputs, *user_inputs(ctx)],
                                    outputs=[*results.outputs, *errors, results.job_ids],
                                    api_visibility="private", concurrency_limit=None, show_progress="hidden",
                                    cancels=[self.reattach] if self.reattach else None)
        self._interrupt(ctx, results, event)

    def idle(self, ctx, results, text: str) -> None:
        """No form: Generate says ``text`` (translated); Interrupt still stops this page's job (a
        reloaded page's)."""

        def nothing_to_run(lang):
            return tr(text, lang)

        self.generate.click(nothing_to_run, [ctx.lang], [results.message], api_visibility="private",
                            concurrency_limit=None, show_progress="hidden")
        self._interrupt(ctx, results, None)

    def _interrupt(self, ctx, results, event) -> None:
        self.interrupt.click(interrupt_handler(ctx), inputs=[ctx.lang, results.job_ids, *user_inputs(ctx)],
                             outputs=[results.progress, results.message],
                             cancels=[e for e in (event, self.reattach) if e] or None,
                             api_visibility="private", concurrency_limit=None)
