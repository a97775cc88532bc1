"""``ui/_blocks.Blocks`` gives the page exactly what ``gr.Blocks`` gives it, without rebuilding skipped outputs.

The same event's outputs are postprocessed by both classes, each with its own session copy:
the values sent must be equal (skips, plain values, a gallery, prop updates, a state), and so
must what the session's copy of each component says (its visibility) afterwards; only the
skipped components are not rebuilt.
"""
from __future__ import annotations

import asyncio

import gradio as gr
from gradio.state_holder import SessionState
from PIL import Image

from comfy_ui_app.ui._blocks import Blocks, is_skip


def build(cls):
    with cls() as demo:
        progress = gr.Markdown("Ready.")
        gallery = gr.Gallery(type="filepath", format="png")
        slots = [gr.Markdown("", visible=False) for _ in range(3)]
        retry = gr.Button("Retry", visible=False)
        ids = gr.State([])
        button = gr.Button("Go")
        button.click(lambda: None, None, [progress, gallery, *slots, retry, ids])
    fn = next(f for f in demo.fns.values() if len(f.outputs) == 7)
    return demo, fn, [progress, gallery, *slots, retry, ids]


def png(tmp_path):
    path = tmp_path / "a.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(path)
    return str(path)


def updates(picture):
    skip = gr.skip()
    return [
        ["**Sending**", [], gr.update(value="", visible=False), skip, skip, gr.Button(visible=False), skip],
        ["**Queued**", skip, skip, skip, skip, skip, ["j1"]],
        [skip, skip, gr.update(value="⚠ bad", visible=True), skip, skip, skip, skip],  # a prop update
        ["**Done**", [picture], skip, skip, skip, gr.Button(visible=True), ["j1"]],
        [skip] * 7,  # nothing at all
        ("**Again**", skip, skip, skip, skip, skip, skip),  # a tuple, as the handlers yield
    ]


def run_all(cls, picture):
    demo, fn, outputs = build(cls)
    state = SessionState(demo)
    sent = [asyncio.run(demo.postprocess_data(fn, update, state)) for update in updates(picture)]
    shown = [state.blocks_config.blocks[o._id].visible for o in outputs if not o.stateful]
    return sent, shown, state[outputs[-1]._id], demo, state, outputs


def strip_paths(value):
    """What may differ between the two apps: cached file paths (Gradio's cache folder) and
    component ids (each app numbers its own)."""
    if isinstance(value, dict):
        return {k: strip_paths(v) for k, v in value.items() if k not in ("path", "url", "id")}
    if isinstance(value, list):
        return [strip_paths(v) for v in value]
    return value


def test_the_page_gets_the_same_updates_and_the_session_the_same_config(tmp_path):
    picture = png(tmp_path)
    plain_sent, plain_shown, plain_ids, *_ = run_all(gr.Blocks, picture)
    fast_sent, fast_shown, fast_ids, demo, state, outputs = run_all(Blocks, picture)
    assert strip_paths(fast_sent) == strip_paths(plain_sent)
    assert fast_shown == plain_shown == [True, True, True, False, False, True]
    assert fast_ids == plain_ids == ["j1"]
    assert is_skip(fast_sent[4][0]) and fast_sent[4][-1] is None  # a state's skip is None, as in Gradio
    # the last slot was only ever skipped: never rebuilt in this session
    assert state.blocks_config.blocks[outputs[4]._id] is outputs[4]


def test_anything_else_goes_to_gradio_as_it_came():
    demo, fn, _ = build(Blocks)
    state = SessionState(demo)
    try:
        asyncio.run(demo.postprocess_data(fn, ["too", "few"], state))
    except ValueError as exc:  # Gradio's own complaint
        assert "didn't return enough output values" in str(exc)
    else:
        raise AssertionError("expected Gradio's error")


def test_events_that_show_no_progress_register_no_loading_status():
    """The page's config: a hidden-progress event names no component to track (``show_progress_on``
    ``[]``; Gradio's page would otherwise track every output of it on every status message of any
    event); one that shows progress, or names where, keeps what it said; plain gr.Blocks is unchanged."""
    def events(cls):
        with cls() as demo:
            box, out, spot = gr.Textbox(), gr.Markdown(), gr.Markdown()
            gr.Button("a").click(lambda x: x, box, out, api_name="hidden", show_progress="hidden")
            gr.Button("b").click(lambda x: x, box, out, api_name="full")
            gr.Button("c").click(lambda x: x, box, out, api_name="chosen", show_progress="hidden",
                                 show_progress_on=[spot])
        return {d["api_name"]: d for d in demo.get_config_file()["dependencies"]}, spot

    ours, spot = events(Blocks)
    assert ours["hidden"]["show_progress_on"] == [] and ours["hidden"]["show_progress"] == "hidden"
    assert ours["full"]["show_progress_on"] is None
    assert ours["chosen"]["show_progress_on"] == [spot._id]
    plain, _ = events(gr.Blocks)
    assert plain["hidden"]["show_progress_on"] is None
