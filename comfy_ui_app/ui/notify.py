"""The page header's "tell me when a job ends" switches; ``assets/notify.js`` does the rest.

Two checkboxes no handler reads: their state lives in this browser's localStorage, set and
restored by ``notify.js`` (asking for the browser's permission to notify needs the click itself,
so it cannot go through the server). The language switch translates their labels like any other.
What the script follows is each tab's progress line and the hidden mark at its end
(:mod:`comfy_ui_app.ui.job_state`): the tab title shows a run's progress, and a run that ends
while the tab is hidden says so in the title, in a notification (if allowed) and with a chime
(if chosen).
"""
from __future__ import annotations

import gradio as gr

__all__ = ["NOTIFY_ID", "SOUND_ID", "BLOCKED_ID", "notify_controls"]

NOTIFY_ID = "notify-when-done"
SOUND_ID = "notify-sound"
BLOCKED_ID = "notify-blocked"


def notify_controls() -> None:
    """The two switches and the line shown when the browser refuses notifications (hidden by
    ``notify.css`` until ``notify.js`` finds that out); call inside the page header's row."""
    with gr.Column(scale=0, min_width=230, elem_id="notify-controls"):
        gr.Checkbox(False, label="🔔 Notify me when a job ends", elem_id=NOTIFY_ID, interactive=True, container=False)
        gr.Checkbox(False, label="🔊 Sound when a job ends", elem_id=SOUND_ID, interactive=True, container=False)
        gr.Markdown("This browser does not allow notifications for this page (blocked in its site settings, "
                    "or the page is not on https).", elem_id=BLOCKED_ID)
