"""History tab: own jobs only (admin: all, plus ComfyUI's own history), open, re-run, delete."""

from __future__ import annotations

import dataclasses

from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from comfy_ui_app import ComfyClient
from comfy_ui_app.jobs.service import NotAllowed
from PIL import Image

from comfy_ui_app.jobs.history_query import HistoryFilter
from comfy_ui_app.ui import _history_grid, history_tab
from comfy_ui_app.ui.history_tab import EXTERNAL_PREFIX, HistoryView
from test_client import small_prompt
from _waiting import wait_for
from _app import app_context
from test_queue_tab import ADMIN, close_ctx, fake_request, make_ctx, submit, wait_status

DONE = ("success", "error", "interrupted", "lost")


@pytest.fixture
def hist(make_comfy_server, tmp_path):
    """Finished jobs: alice a1 (success), a2 (failed at its sampler); bob b1 (success)."""
    server = make_comfy_server()
    ctx = make_ctx(server, tmp_path)
    a1 = submit(ctx, "user:alice", 1)
    wait_status(ctx, a1.job_id, *DONE)
    server.fail_next(message="Out of memory")
    a2 = submit(ctx, "user:alice", 2)
    wait_status(ctx, a2.job_id, *DONE)
    b1 = submit(ctx, "user:bob", 3)
    wait_status(ctx, b1.job_id, *DONE)
    yield SimpleNamespace(server=server, ctx=ctx, view=HistoryView(ctx), a1=a1, a2=a2, b1=b1)
    close_ctx(ctx)


def page_of(view, user, number=1, **filters):
    return view.page(user, HistoryFilter(None, **filters), number, "en")


def test_a_user_sees_only_their_own_jobs_newest_first_as_tiles(hist):
    shown = page_of(hist.view, "user:alice")
    assert shown.ids == [hist.a2.job_id, hist.a1.job_id] and (shown.number, shown.pages, shown.total) == (1, 1, 2)
    (failed, failed_caption), (done, done_caption) = shown.items
    assert failed.endswith(".svg") and "Failed" in Path(failed).read_text()  # a drawn tile: no picture
    assert "Text to image" in Path(failed).read_text() and failed_caption.endswith(" · Failed")
    picture = hist.ctx.jobs.store.get(hist.a1.job_id).outputs[0].path
    assert Path(done) == picture.parent / ".thumbs" / f"{picture.name}.webp"  # a thumbnail, never the PNG
    with Image.open(done) as small:
        assert small.format == "WEBP" and max(small.size) <= 256
    assert " · " not in done_caption  # Done: the time alone
    assert page_of(hist.view, "user:bob").ids == [hist.b1.job_id]


def test_an_admin_sees_everyones_jobs_with_their_names(hist):
    shown = page_of(hist.view, ADMIN)
    assert shown.ids == [hist.b1.job_id, hist.a2.job_id, hist.a1.job_id]
    assert [caption.rsplit(" · ", 1)[-1] for _, caption in shown.items] == ["bob", "alice", "alice"]


def test_pages(hist, monkeypatch):
    monkeypatch.setattr(_history_grid, "PAGE_SIZE", 2)
    shown = page_of(hist.view, ADMIN, 2)
    assert (shown.number, shown.pages, shown.ids) == (2, 2, [hist.a1.job_id])
    assert page_of(hist.view, ADMIN, 7).number == 2  # past the end: the last page
    assert page_of(hist.view, "user:bob").pages == 1
    for junk in (float("nan"), float("inf"), -5, "2", None, [3], True):
        assert _history_grid.page_number(junk) == 1
    assert _history_grid.page_number(10**30) == _history_grid.MAX_PAGE and _history_grid.page_number(3.7) == 3


def test_a_star_is_kept_by_the_owner_or_an_admin_and_filters_the_grid(hist):
    assert hist.view.star(hist.a1.job_id, "user:bob", "en") == "This job is gone, or it is not yours."
    assert hist.view.starred(hist.a1.job_id, "user:bob") is None and page_of(hist.view, "user:bob", starred=True).ids == []
    assert hist.view.star(hist.a1.job_id, "user:alice", "en") == "Starred: see ★ Favourites only."
    assert hist.view.starred(hist.a1.job_id, "user:alice") is True
    shown = page_of(hist.view, "user:alice", starred=True)
    assert shown.ids == [hist.a1.job_id] and shown.items[0][1].startswith("★ ")
    assert hist.view.star(hist.b1.job_id, ADMIN, "en").startswith("Starred")
    assert page_of(hist.view, ADMIN, starred=True).ids == [hist.b1.job_id, hist.a1.job_id]
    assert hist.view.clear("user:alice", "en") == "Deleted 1 finished jobs."  # the favourite stays
    assert page_of(hist.view, "user:alice").ids == [hist.a1.job_id]
    assert hist.view.star(hist.a1.job_id, "user:alice", "en", False) == "Star taken off."
    assert page_of(hist.view, "user:alice", starred=True).ids == []


def test_opening_a_job_shows_outputs_parameters_and_error_to_its_owner_only(hist):
    text, paths, params = hist.view.open(hist.a1.job_id, "user:alice", "en")
    assert text.startswith("**Done**") and len(paths) == 1
    assert params == {"template": "txt2img", "kind": "txt2img", "values": {"seed": 1}}
    text, paths, params = hist.view.open(hist.a2.job_id, "user:alice", "en")
    assert "**Failed**" in text and "Out of memory" in text and paths == []
    text, paths, params = hist.view.open(hist.a1.job_id, "user:bob", "en")
    assert text == "This job is gone, or it is not yours." and paths == [] and params is None
    text, paths, _ = hist.view.open(hist.a1.job_id, ADMIN, "en")
    assert "By alice" in text and len(paths) == 1


def test_rerun_queues_the_same_prompt_as_a_new_job_of_the_rerunner(hist):
    assert hist.view.rerun(hist.a1.job_id, "user:bob", "en") == "This job is gone, or it is not yours."
    assert hist.view.rerun(hist.a1.job_id, "user:alice", "en").startswith("Queued again")
    again = wait_for(lambda: next((r for r in hist.ctx.jobs.list(user="user:alice") if r.job_id not in
                                   (hist.a1.job_id, hist.a2.job_id)), None), what="the new job")
    original = hist.ctx.jobs.store.get(hist.a1.job_id)
    assert again.prompt == original.prompt and again.values == original.values and again.owner == "user:alice"
    assert wait_status(hist.ctx, again.job_id, *DONE).status == "success"  # sent on from the app's queue
    assert hist.server.received_prompts[-1]["prompt"] == original.prompt


def test_delete_and_clear_touch_only_the_users_own_jobs(hist):
    with pytest.raises(NotAllowed):
        hist.view.delete(hist.a1.job_id, "user:bob", "en")
    assert page_of(hist.view, "user:alice").items  # the thumbnail is made: it goes with the job
    files = [o.path for o in hist.ctx.jobs.store.get(hist.a1.job_id).outputs]
    assert hist.view.delete(hist.a1.job_id, "user:alice", "en") == "Deleted."
    assert hist.ctx.jobs.store.get(hist.a1.job_id) is None and not any(f.exists() for f in files)
    assert not (hist.ctx.jobs.store.outputs_dir / hist.a1.job_id).exists()
    assert hist.view.clear("user:alice", "en") == "Deleted 1 finished jobs."
    assert hist.ctx.jobs.store.get(hist.b1.job_id) is not None


def test_an_admin_also_sees_jobs_queued_outside_the_app(hist):
    client = ComfyClient(hist.server.url)
    outside = client.queue_prompt(small_prompt(seed=9))["prompt_id"]
    wait_for(lambda: client.get_history_item(outside), what="the outside job to finish")
    assert hist.view.external("user:alice", "en") == ([], [])
    rows, ids = hist.view.external(ADMIN, "en")
    assert ids == [EXTERNAL_PREFIX + outside]  # the app's own jobs are not repeated
    assert rows[0][2] == "Done" and rows[0][4] == 1 and rows[0][5] == "Outside the app"
    text, paths, params = hist.view.open(EXTERNAL_PREFIX + outside, "user:alice", "en")
    assert paths == [] and params is None
    text, paths, params = hist.view.open(EXTERNAL_PREFIX + outside, ADMIN, "en")
    assert "**Done**" in text and len(paths) == 1 and hist.view.external_dir in Path(paths[0]).parents
    assert params["prompt"] == small_prompt(seed=9)
    with pytest.raises(NotAllowed):
        hist.view.delete(EXTERNAL_PREFIX + outside, "user:alice", "en")
    assert hist.view.delete(EXTERNAL_PREFIX + outside, ADMIN, "en") == "Deleted."
    assert client.get_history_item(outside) == {}


def test_load_parameters_fills_the_state_the_app_wires_to_the_job_tab(hist):
    with gr.Blocks() as demo:
        ctx = hist.ctx
        tab_ctx = dataclasses.replace(ctx, lang=gr.State("en"), browser_id=gr.BrowserState(""))
        handles = history_tab.build_tab(tab_ctx)
    assert isinstance(handles.parts["parameters"], gr.State)
    assert handles.parts["load_event"] is not None
    load = next(f.fn for f in demo.fns.values() if f.api_name == "history_load_parameters")
    params, message = load(hist.a1.job_id, "", "en", fake_request("alice"))
    assert params == {"template": "txt2img", "kind": "txt2img", "values": {"seed": 1}}
    assert message == "Parameters loaded."
    params, message = load(hist.a1.job_id, "", "en", fake_request("bob"))
    assert params is None and message == "Open one of the app's jobs first."


def test_an_admin_sees_jobs_from_elsewhere_on_every_server_of_a_cluster(make_comfy_server, tmp_path):
    from comfy_ui_app import Comfy
    from comfy_ui_app.cluster.cluster import Cluster
    from comfy_ui_app.jobs.service import JobService
    from comfy_ui_app.jobs.store import JobStore

    one, two = make_comfy_server(), make_comfy_server()
    store = JobStore(tmp_path / "data")
    cluster = Cluster([Comfy(one.url, timeout=5), Comfy(two.url, timeout=5)], health_interval=0.1).start()
    try:
        ctx = app_context(JobService(cluster, store, admins={ADMIN}), tmp_path / "out")
        view = HistoryView(ctx)
        first, second = ComfyClient(one.url), ComfyClient(two.url)
        on_one = first.queue_prompt(small_prompt(seed=1))["prompt_id"]
        wait_for(lambda: first.get_history_item(on_one), what="the first outside job to finish")
        on_two = second.queue_prompt(small_prompt(seed=2))["prompt_id"]
        wait_for(lambda: second.get_history_item(on_two), what="the second outside job to finish")
        rows, ids = view.external(ADMIN, "en")
        assert ids == [EXTERNAL_PREFIX + on_two, EXTERNAL_PREFIX + on_one]  # newest first
        assert [r[2] for r in rows] == ["Done", "Done"]
        text, paths, params = view.open(EXTERNAL_PREFIX + on_two, ADMIN, "en")
        assert "**Done**" in text and len(paths) == 1 and params["prompt"] == small_prompt(seed=2)
        assert view.delete(EXTERNAL_PREFIX + on_two, ADMIN, "en") == "Deleted."
        assert second.get_history_item(on_two) == {} and first.get_history_item(on_one)
        one.stop()  # a server that does not answer is skipped
        assert view.external(ADMIN, "en") == ([], [])
    finally:
        cluster.close()
        store.close()


def test_the_grid_shows_thumbnails_cropped_and_opens_a_job_instead_of_a_preview(hist):
    with gr.Blocks() as demo:
        ctx = hist.ctx
        handles = history_tab.build_tab(dataclasses.replace(ctx, lang=gr.State("en"), browser_id=gr.BrowserState("")))
    (tiles,) = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "history-grid"]
    assert tiles.allow_preview is False and tiles.object_fit == "cover"
    assert isinstance(handles.parts["selected_picture"], gr.State)  # for actions on the opened job's picture
    assert isinstance(handles.parts["actions_slot"], gr.Column)
