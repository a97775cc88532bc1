"""Updates that would change nothing on the page are not sent (:mod:`comfy_ui_app.ui._page_view`).

Unit tests set Gradio's per-session copy of the page (``LocalContext.blocks_config``) by hand;
the end-to-end test runs ``/generate`` through gradio_client and looks at the session's copy:
the run's first update clears every error slot and hides Retry, but on a page where they are
hidden already Gradio was sent nothing for them (no component of theirs was rebuilt), while a
slot that shows a problem is still cleared by the next run.
"""
from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
from gradio.context import LocalContext
from gradio_client import Client

from comfy_ui_app.ui._page_view import shown, visibility, visible_now
from comfy_ui_app.ui.jobfeed import RunUpdate
from comfy_ui_app.ui.retry import retry_visibility
from test_ui_api import error_slot, generate, outputs_of

SKIP = gr.skip()


def on_page(**visible):
    """Components ``name=visible`` and the session copy a handler would see, as a context setter."""
    parts = {name: SimpleNamespace(_id=i) for i, name in enumerate(visible)}
    blocks = {parts[name]._id: SimpleNamespace(visible=v) for name, v in visible.items()}
    token = LocalContext.blocks_config.set(SimpleNamespace(blocks=blocks))
    return parts, token


def test_outside_an_event_every_update_is_sent():
    slot = SimpleNamespace(_id=1)
    assert visible_now(slot) is None and visible_now(None) is None
    assert shown(slot, "", False) == gr.update(value="", visible=False)
    assert retry_visibility(RunUpdate("**Running**")).visible is False


def test_only_what_changes_the_page_is_sent():
    parts, token = on_page(hidden=False, showing=True, half="hidden")
    try:
        hidden, showing, half = parts["hidden"], parts["showing"], parts["half"]
        assert (visible_now(hidden), visible_now(showing), visible_now(half)) == (False, True, False)
        assert shown(hidden, "", False) == SKIP  # hidden stays hidden: nothing
        assert shown(hidden, "⚠ bad", True) == gr.update(value="⚠ bad", visible=True)
        assert shown(showing, "⚠ worse", True) == "⚠ worse"  # the value only
        assert shown(showing, "", False) == gr.update(value="", visible=False)
        assert visibility(hidden, False) == SKIP and visibility(showing, True) == SKIP
        assert visibility(hidden, True) == gr.update(visible=True)
        assert retry_visibility(RunUpdate(final=True, failed=True, job_ids=["j"]), hidden).visible is True
        assert retry_visibility(RunUpdate("**Running**"), hidden) == SKIP
        assert visible_now(SimpleNamespace(_id=99)) is None  # not on this page: unknown, so sent
    finally:
        LocalContext.blocks_config.reset(token)


def test_a_run_rebuilds_no_hidden_slot_but_still_clears_a_shown_one(comfy_server, launch_app):
    app = launch_app(comfy_server.url)
    client = Client(app.url, verbose=False)
    outs = outputs_of(generate(client))
    assert outs[-1][3].startswith("Done")
    session = app.demo.state_holder[client.session_hash].blocks_config.blocks
    originals = app.demo.blocks
    markdown_ids = [i for i, b in originals.items() if "field-error" in (getattr(b, "elem_classes", None) or [])
                    and b.visible is False]   # the form's error slots (the result panel's message is always there)
    retry_ids = [i for i, b in originals.items() if getattr(b, "elem_id", None) == "txt2img-retry"]
    assert markdown_ids and retry_ids
    assert all(session[i] is originals[i] for i in markdown_ids + retry_ids)  # never replaced by an update

    outs = outputs_of(generate(client, {"Checkpoint": "nope.safetensors"}))
    assert "'nope.safetensors' is not installed" in error_slot(client, outs[-1], "Checkpoint")
    outs = outputs_of(generate(client))  # the shown slot is cleared
    assert error_slot(client, outs[-1], "Checkpoint") == "" and outs[-1][3].startswith("Done")
    session = app.demo.state_holder[client.session_hash].blocks_config.blocks
    assert not any(session[i].visible is True for i in markdown_ids)
