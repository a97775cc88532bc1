"""Queue tab: who sees what in ComfyUI's queue, and who may cancel, move or interrupt it.

Handler-level: a real JobService over the test server. The first job hangs at its
sampler (``hang_next``) and the worker is paused, so queue states are deterministic.
"""

from __future__ import annotations

import dataclasses

import threading
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from comfy_ui_app import Comfy, ComfyClient
from comfy_ui_app.jobs.service import JobService, NotAllowed
from comfy_ui_app.jobs.store import UNFINISHED, JobStore
from comfy_ui_app.ui import queue_tab
from comfy_ui_app.ui.context import AppContext
from _app import app_context, job_service
from comfy_ui_app.ui.queue_tab import QueueView, age_text, owner_name
from test_client import small_prompt
from _waiting import wait_for

ADMIN = "user:root"


def make_ctx(server, tmp_path: Path, *, lang=None, browser_id=None) -> AppContext:
    store = JobStore(tmp_path / "data")
    # per_server high enough that every job goes on to ComfyUI's queue (COMFY_UI_PER_SERVER)
    jobs = job_service(server.url, store, admins={ADMIN}, cluster_options={"per_server": 10})
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return app_context(jobs, out, workflows_dir=Path("workflows"), lang=lang, browser_id=browser_id)


def close_ctx(ctx) -> None:
    """Stop this app's unfinished jobs and wait until they are recorded, then close."""
    for record in ctx.jobs.store.unfinished():
        ctx.jobs.cancel(record.job_id, user=ADMIN)
    wait_for(lambda: ctx.jobs.store.count(statuses=UNFINISHED) == 0, what="the jobs to end")
    ctx.cluster.close()
    ctx.jobs.store.close()


def submit(ctx, owner, seed=1):
    record, _job = ctx.jobs.submit(owner=owner, template="txt2img", values={"seed": seed},
                                   prompt=small_prompt(seed=seed))
    return record


def wait_status(ctx, job_id, *statuses):
    return wait_for(lambda: ctx.jobs.store.get(job_id).status in statuses and ctx.jobs.store.get(job_id),
                    what=f"{job_id} to be {statuses}")


def fake_request(username=None):
    return SimpleNamespace(username=username)


@pytest.fixture
def busy(make_comfy_server, tmp_path):
    """alice's job A1 runs (hung at its sampler); A2 (alice), B1 (bob), X (outside the app) wait."""
    server = make_comfy_server()
    ctx = make_ctx(server, tmp_path)
    server.hang_next()
    a1 = submit(ctx, "user:alice", 1)
    wait_status(ctx, a1.job_id, "running")
    server.pause()
    a2 = submit(ctx, "user:alice", 2)  # each sent on from the app's queue before the next comes
    wait_for(lambda: len(server.received_prompts) == 2, what="A2 sent to ComfyUI")
    b1 = submit(ctx, "user:bob", 3)
    wait_for(lambda: len(server.received_prompts) == 3, what="B1 sent to ComfyUI")
    outside = ComfyClient(server.url).queue_prompt(small_prompt(seed=4))["prompt_id"]
    wait_for(lambda: ctx.comfy.queue_remaining == 4, what="the status event of the last prompt")
    yield SimpleNamespace(server=server, ctx=ctx, view=QueueView(ctx), a1=a1, a2=a2, b1=b1, outside=outside)
    server.resume()
    ctx.comfy.client.clear_queue()
    close_ctx(ctx)


def table_rows(update):
    return update.value["data"] if hasattr(update, "value") and isinstance(update.value, dict) else update.value


def test_owner_names_and_ages():
    assert owner_name("user:alice") == "alice"
    assert owner_name("browser:1a2b3c4d5e") == "browser 1a2b3c"
    assert owner_name("hf:carol") == "carol (Hugging Face)" and owner_name("hf:carol", "zh-CN") == "carol（Hugging Face）"
    assert age_text(None, "en") == "—"
    assert age_text(5, "en") == "5 s" and age_text(125, "en") == "2 min" and age_text(3725, "en") == "1 h 2 min"


def test_status_events_bump_the_version(comfy_server):
    with Comfy(comfy_server.url, timeout=5) as comfy:
        assert comfy.wait_connected(5)
        wait_for(lambda: comfy.queue_remaining is not None, what="the first status event")
        assert comfy.status_version >= 2  # the connection, then the status event
        before = comfy.status_version
        comfy.submit(small_prompt())
        wait_for(lambda: comfy.status_version > before, timeout=5, what="a status event after the submit")


def test_each_user_sees_their_own_jobs_named_and_others_anonymous(busy):
    summary, table, picker = busy.view.view("user:alice", "en", fresh=True)
    rows = table_rows(table)
    assert [r[0] for r in rows] == [0, 1, 2, 3]  # running first, then by number
    assert [r[2] for r in rows] == ["You", "You", "Someone else", "Someone else"]
    assert rows[0][1] == "Running" and rows[1][1] == "Waiting" and rows[1][3] == "txt2img"
    assert [value for _, value in picker.choices] == [busy.a1.prompt_id, busy.a2.prompt_id]
    assert "4 jobs in the queue, 2 of them yours" in summary

    _, table, picker = busy.view.view(ADMIN, "en")
    assert [r[2] for r in table_rows(table)] == ["alice", "alice", "bob", "Outside the app"]
    assert len(picker.choices) == 4


def test_nobody_cancels_moves_or_interrupts_someone_elses_job(busy):
    with pytest.raises(NotAllowed):
        busy.view.cancel(busy.a2.prompt_id, "user:bob", "en")
    with pytest.raises(NotAllowed):
        busy.view.cancel(busy.outside, "user:bob", "en")  # outside the app: admins only
    with pytest.raises(NotAllowed):
        busy.view.move_to_front(busy.a2.prompt_id, "user:bob", "en")
    assert "someone else" in busy.view.interrupt("user:bob", "en")
    assert busy.view.clear("user:alice", "en") == "Only an admin can clear the queue."
    queue = busy.ctx.comfy.client.get_queue()
    assert [i[1] for i in queue["queue_running"]] == [busy.a1.prompt_id]
    assert [i[1] for i in queue["queue_pending"]] == [busy.a2.prompt_id, busy.b1.prompt_id, busy.outside]


def test_owner_cancels_a_waiting_job_and_interrupts_the_running_one(busy):
    assert busy.view.cancel(busy.a2.prompt_id, "user:alice", "en") == "The job was cancelled."
    assert wait_status(busy.ctx, busy.a2.job_id, "interrupted")
    assert busy.view.interrupt("user:alice", "en") == "The running job was interrupted."
    assert wait_status(busy.ctx, busy.a1.job_id, "interrupted")
    assert busy.ctx.jobs.store.get(busy.b1.job_id).status == "queued"


def test_admin_cancels_anyones_and_clears_the_queue(busy):
    assert busy.view.cancel(busy.outside, ADMIN, "en") == "The job was cancelled."
    pending = [i[1] for i in busy.ctx.comfy.client.get_queue()["queue_pending"]]
    assert busy.outside not in pending
    assert busy.view.clear(ADMIN, "en") == "Removed 2 waiting jobs."
    assert busy.ctx.comfy.client.get_queue()["queue_pending"] == []
    assert wait_status(busy.ctx, busy.a2.job_id, "interrupted") and wait_status(busy.ctx, busy.b1.job_id, "interrupted")
    assert busy.ctx.jobs.store.get(busy.a1.job_id).status == "running"  # clear leaves the running job


def test_move_to_front_keeps_the_record_and_the_job_finishes_first(busy):
    assert busy.view.move_to_front(busy.b1.prompt_id, "user:bob", "en") == "The job will run next."
    moved = busy.ctx.jobs.store.get(busy.b1.job_id)
    assert moved.prompt_id != busy.b1.prompt_id and moved.status == "queued"
    assert moved.timeline[-1]["detail"]["previous_prompt_id"] == busy.b1.prompt_id
    pending = [i[1] for i in busy.ctx.comfy.client.get_queue()["queue_pending"]]
    assert pending == [moved.prompt_id, busy.a2.prompt_id, busy.outside]
    assert busy.view.move_to_front(busy.a1.prompt_id, "user:alice", "en") == "The job is no longer waiting."
    busy.ctx.comfy.client.interrupt()  # end the hung job, let the queue run
    busy.server.resume()
    done = wait_status(busy.ctx, busy.b1.job_id, "success")
    assert done.outputs and all(o.path.is_file() for o in done.outputs)  # outputs found the re-keyed record
    a2 = wait_status(busy.ctx, busy.a2.job_id, "success")
    assert done.finished_at <= a2.started_at


def test_the_queue_is_asked_again_only_when_a_status_event_says_it_moved(busy, monkeypatch):
    calls, me = [], threading.get_ident()
    real = busy.ctx.comfy.client.get_queue

    def counting():  # the app's monitor thread asks /queue too: count only ours
        if threading.get_ident() == me:
            calls.append(1)
        return real()

    monkeypatch.setattr(busy.ctx.comfy.client, "get_queue", counting)
    busy.view.queue()
    busy.view.queue()
    assert len(calls) <= 1
    before = busy.ctx.comfy.status_version
    submit(busy.ctx, "user:bob", 5)
    wait_for(lambda: busy.ctx.comfy.status_version != before, timeout=5, what="a status event after the submit")
    n = len(calls)
    busy.view.queue()
    assert len(calls) == n + 1


def test_the_timer_sends_nothing_while_the_queue_stands_still(busy):
    with gr.Blocks() as demo:
        ctx = busy.ctx
        tab_ctx = dataclasses.replace(ctx, lang=gr.State("en"), browser_id=gr.BrowserState(""))
        queue_tab.build_tab(tab_ctx)
    tick = next(f.fn for f in demo.fns.values() if f.name == "on_tick")
    first = tick(None, None, "", "en", fake_request("alice"))
    assert first[0] is not None and table_rows(first[2])  # nothing seen yet: the listing is sent
    again = tick(first[0], None, "", "en", fake_request("alice"))
    assert all(isinstance(part, dict) and part.get("__type__") == "update" and len(part) == 1 for part in again)
    before = busy.ctx.comfy.status_version
    submit(busy.ctx, "user:alice", 6)
    wait_for(lambda: busy.ctx.comfy.status_version != before, timeout=5, what="a status event after the submit")
    moved = tick(first[0], None, "", "en", fake_request("alice"))
    assert len(table_rows(moved[2])) == 5


# -- over a Cluster: the app's own queue ---------------------------------------------------

@pytest.fixture
def app_queue(make_comfy_server, tmp_path):
    """One server, one slot: alice's A1 hangs there, an outside prompt waits in ComfyUI's queue,
    and bob's B1, alice's A2 and A3 wait in the app's own queue (in that order: fair turns)."""
    from comfy_ui_app.cluster.cluster import Cluster

    server = make_comfy_server()
    store = JobStore(tmp_path / "cluster-data")
    comfy = Comfy(server.url, timeout=5, poll_interval=0.2)
    cluster = Cluster([comfy], per_server=1, health_interval=0.1)
    jobs = JobService(cluster, store, admins={ADMIN})
    cluster.start()
    wait_for(lambda: cluster.servers[0].healthy, what="the server healthy")
    ctx = app_context(jobs, tmp_path / "out")
    server.hang_next()
    a1 = submit(ctx, "user:alice", 1)
    wait_status(ctx, a1.job_id, "running")
    outside = ComfyClient(server.url).queue_prompt(small_prompt(seed=9))["prompt_id"]
    b1, a2, a3 = submit(ctx, "user:bob", 2), submit(ctx, "user:alice", 3), submit(ctx, "user:alice", 4)
    wait_for(lambda: len(cluster.waiting()) == 3 and comfy.queue_remaining == 2, what="the queues filled")
    yield SimpleNamespace(ctx=ctx, view=QueueView(ctx), a1=a1, a2=a2, a3=a3, b1=b1, outside=outside)
    for record in store.unfinished():
        jobs.cancel(record.job_id, user=ADMIN)
    comfy.client.clear_queue()
    wait_for(lambda: store.count(statuses=UNFINISHED) == 0, what="the jobs to end")
    cluster.close()
    store.close()


def app_queue_order(q):
    return [job.prompt_id for job in q.ctx.cluster.waiting()]


def test_jobs_in_the_apps_queue_are_numbered_after_comfyuis_own(app_queue):
    _, table, picker = app_queue.view.view(ADMIN, "en", fresh=True)
    rows = table_rows(table)
    assert [(r[0], r[1]) for r in rows] == [(0, "Running"), (1, "Waiting"), (2, "Queued"), (3, "Queued"),
                                            (4, "Queued")]
    assert [r[2] for r in rows] == ["alice", "Outside the app", "bob", "alice", "alice"]
    _, _, picker = app_queue.view.view("user:alice", "en")
    assert [label.split(" · ")[0] for label, _ in picker.choices] == ["#0", "#3", "#4"]


def test_a_users_move_to_front_puts_the_job_first_of_their_own_only(app_queue):
    q = app_queue
    assert q.view.move_to_front(q.a3.prompt_id, "user:alice", "en") == (
        "The job is now first of your jobs in the app's queue; other people's jobs still take turns with yours.")
    assert app_queue_order(q) == [q.b1.prompt_id, q.a3.prompt_id, q.a2.prompt_id]  # bob's turn comes first still
    with pytest.raises(NotAllowed):
        q.view.move_to_front(q.b1.prompt_id, "user:alice", "en")


def test_an_admins_move_to_front_puts_the_job_first_of_the_whole_app_queue(app_queue):
    q = app_queue
    assert q.view.move_to_front(q.a3.prompt_id, ADMIN, "en") == (
        "The job is now first in the app's queue: it goes to the next free ComfyUI server.")
    assert app_queue_order(q) == [q.a3.prompt_id, q.b1.prompt_id, q.a2.prompt_id]
    _, table, _ = q.view.view(ADMIN, "en", fresh=True)
    assert [(r[0], r[2]) for r in table_rows(table) if r[1] == "Queued"] == [(2, "alice"), (3, "bob"), (4, "alice")]
    q.ctx.comfy.client.delete_from_queue([q.outside])
    q.ctx.comfy.client.interrupt()  # the hung job ends: the slot goes to the moved job
    moved, bobs = wait_status(q.ctx, q.a3.job_id, "success"), wait_status(q.ctx, q.b1.job_id, "success")
    assert sent_at(moved) < sent_at(bobs)  # the moved job went to the server first


def sent_at(record):
    """When the record was first sent to a server (its first timeline entry naming one)."""
    return next(step["at"] for step in record.timeline if (step.get("detail") or {}).get("server"))


def test_the_queue_and_system_timers_tick_only_while_their_tab_is_shown(comfy_server, launch_app):
    """An open page on another tab polls nothing: selecting a tab starts its own timers and
    stops every other tab's."""
    app = launch_app(comfy_server.url)
    demo = app.demo
    timers = [b for b in demo.blocks.values() if isinstance(b, gr.Timer)]
    tabs = {b.id: b for b in demo.blocks.values() if isinstance(b, gr.Tab)}

    def tab_of(block):
        while block is not None and not isinstance(block, gr.Tab):
            block = block.parent
        return block

    tab_timers = {t._id: tab_of(t).id for t in timers if tab_of(t) is not None}
    assert sorted(tab_timers.values()) == ["queue", "system"]
    config = {c["id"]: c for c in demo.get_config_file()["components"]}
    assert all(config[t]["props"]["active"] is False for t in tab_timers)  # not before the tab opens

    def select(tab_id):
        (dep,) = [d for d in demo.fns.values()
                  if d.name == "tab_timers" and any(target[0] == tabs[tab_id]._id for target in d.targets)]
        updates = dep.fn()
        return {block._id: update.get("active") if isinstance(update, dict) else update.active
                for block, update in zip(dep.outputs, updates)}

    for shown in ("txt2img", "queue", "system", "history"):
        active = select(shown)
        assert active == {t: tab_timers[t] == shown for t in tab_timers}, (shown, active)


def test_cancelling_ones_own_finished_job_says_it_had_already_finished(make_comfy_server, tmp_path):
    """Issue 13 point 9: a finished job is not "cancelled": nothing is changed, and the message says so;
    someone else's finished job is still refused."""
    server = make_comfy_server()
    ctx = make_ctx(server, tmp_path)
    try:
        done = submit(ctx, "user:alice", 1)
        wait_status(ctx, done.job_id, "success")
        view = QueueView(ctx)
        assert view.cancel(done.prompt_id, "user:alice", "en") == "The job had already finished; nothing was changed."
        assert ctx.jobs.store.get(done.job_id).status == "success"
        with pytest.raises(NotAllowed):
            view.cancel(done.prompt_id, "user:bob", "en")
    finally:
        close_ctx(ctx)
