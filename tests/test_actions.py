"""ui._actions and the words a run ends with (issue 15, points 1 and 6): the bar every generating tab
builds, what a run's updates do to the live preview, and "Done — 3 pictures." (the browser side:
tests/test_browser_actions.py)."""
from __future__ import annotations

import gradio as gr
import pytest

from comfy_ui_app.ui._actions import BAR_CLASS, action_bar, message_box, preview_update
from comfy_ui_app.ui.jobfeed import RunUpdate, done_message

SKIP = {"__type__": "update"}
PICTURE = object()  # stands for a PIL preview


def test_the_bar_has_the_tabs_ids_and_one_class():
    with gr.Blocks():
        generate, interrupt, row = action_bar("inpaint")
        message = message_box("inpaint")
    assert (generate.elem_id, interrupt.elem_id, generate.value, interrupt.value) == (
        "inpaint-generate", "inpaint-interrupt", "Generate", "Interrupt")
    assert BAR_CLASS in row.elem_classes and row.elem_id == "inpaint-actions"
    assert message.elem_id == "inpaint-message" and message.placeholder == " "  # the CSS hides it while empty


@pytest.mark.parametrize("update, visible, value", [
    (RunUpdate("Sending", gallery=[], message="", errors={}), False, None),            # a run starts
    (RunUpdate("Queued", PICTURE, gallery=[], message=""), True, PICTURE),             # ...with a preview already
    (RunUpdate(None, PICTURE), True, PICTURE),                                         # a preview streams
    (RunUpdate("Done", PICTURE, ["a.png"], "Done — 1 picture.", final=True, ok=True), False, None),  # pictures
])
def test_the_preview_shows_while_a_run_streams_and_goes_when_it_ends_with_pictures(update, visible, value):
    result = preview_update(update)  # outside a handler nothing is known of the page: always the update
    assert result == gr.update(value=value, visible=visible)


@pytest.mark.parametrize("update", [
    RunUpdate("step 3/20"),                                                           # news without a preview
    RunUpdate("Stopped", None, [], "Failed in node 8", final=True, failed=True),       # an end without pictures
])
def test_other_updates_leave_the_preview(update):
    assert preview_update(update) == SKIP


@pytest.mark.parametrize("gallery, lang, expected", [
    (["a.png"], "en", "Done — 1 picture."),
    (["a.png", "b.png", "c.png"], "en", "Done — 3 pictures."),
    (["a.mp4"], "en", "Done — 1 file."),
    (["a.png", "b.flac"], "en", "Done — 2 files."),
    (["a.png"], "zh-CN", "完成 — 1 张图片。"),
    (["a.png", "b.png"], "zh-CN", "完成 — 2 张图片。"),
    (["a.png", "b.flac"], "zh-CN", "完成 — 2 个文件。"),
    ([], "en", "Finished, but the workflow produced no images."),
])
def test_a_run_that_succeeded_says_what_it_made_in_plain_words(gallery, lang, expected):
    assert done_message(gallery, lang) == expected
