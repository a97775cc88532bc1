"""Two sessions never see, cancel or interrupt each other's jobs; an admin can.

A small app (the Queue, History and System tabs plus a submit endpoint that calls
``ctx.jobs.submit`` for the requesting user) is launched with Gradio auth and driven
through ``gradio_client``, one Client per user.
"""

from __future__ import annotations

import dataclasses
import socket

import gradio as gr
import pytest
from gradio_client import Client

from comfy_ui_app.ui import history_tab, queue_tab, system_tab
from comfy_ui_app.ui.context import current_user
from test_client import small_prompt
from _waiting import wait_for
from test_queue_tab import close_ctx, make_ctx, wait_status

USERS = [("alice", "a"), ("bob", "b"), ("root", "r")]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app(make_comfy_server, tmp_path):
    server = make_comfy_server()
    base = make_ctx(server, tmp_path)

    def launch(auth):
        with gr.Blocks() as demo:
            lang, browser_id = gr.State("en"), gr.BrowserState("")
            ctx = dataclasses.replace(base, lang=lang, browser_id=browser_id)
            with gr.Tabs():
                queue_tab.build_tab(ctx)
                history_tab.build_tab(ctx)
                system_tab.build_tab(ctx)
            seed = gr.Number(1, precision=0)
            job_id = gr.Textbox()

            def submit_job(seed_value, browser, request: gr.Request):
                record, _ = base.jobs.submit(owner=current_user(request, browser), template="txt2img",
                                             values={"seed": int(seed_value)}, prompt=small_prompt(seed=int(seed_value)))
                return record.job_id

            gr.Button("Go").click(submit_job, [seed, browser_id], [job_id], api_name="submit")
        demo.queue(default_concurrency_limit=None)
        for attempt in range(3):  # a free port can be taken by someone else before we bind it
            try:
                _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_port(),
                                        quiet=True, auth=auth, allowed_paths=[str(base.jobs.store.outputs_dir)])
                break
            except OSError:
                if attempt == 2:
                    raise
        demos.append(demo)
        return url

    demos = []
    yield server, base, launch
    for demo in demos:
        demo.close()
    server.resume()
    base.comfy.client.clear_queue()
    close_ctx(base)


def queue_of(client, who=""):
    """(rows, the prompt_ids this user may act on) from the Queue tab."""
    summary, table, picker = client.predict(who, api_name="/queue_load")  # states and buttons are left out
    return table["value"]["data"], [value for _, value in picker["choices"]]


def history_of(client, who=""):
    """The job ids of the first page of this user's History grid (the hidden "Job" list's choices)."""
    number, label, tiles, picker, *_ = client.predict(who, api_name="/history_load")
    return [value for _, value in picker["choices"]]


def test_sessions_are_kept_apart_and_the_admin_sees_and_stops_everything(app):
    server, base, launch = app
    url = launch(USERS)
    alice, bob, root = (Client(url, auth=user, verbose=False) for user in USERS)
    server.hang_next()
    a1 = alice.predict(1, "", api_name="/submit")
    wait_status(base, a1, "running")
    server.pause()
    a2 = alice.predict(2, "", api_name="/submit")
    b1 = bob.predict(3, "", api_name="/submit")
    pid = {j: base.jobs.store.get(j).prompt_id for j in (a1, a2, b1)}

    rows, mine = queue_of(alice)
    assert [r[2] for r in rows] == ["You", "You", "Someone else"] and mine == [pid[a1], pid[a2]]
    rows, mine = queue_of(bob)
    assert [r[2] for r in rows] == ["Someone else", "Someone else", "You"] and mine == [pid[b1]]
    rows, mine = queue_of(root)
    assert [r[2] for r in rows] == ["alice", "alice", "bob"] and len(mine) == 3

    # bob cannot cancel, move or interrupt alice's jobs, even naming them directly
    assert bob.predict(pid[a2], "", api_name="/queue_cancel")[0] == "This job belongs to someone else."
    assert bob.predict(pid[a2], "", api_name="/queue_front")[0] == "This job belongs to someone else."
    assert "someone else" in bob.predict(None, "", api_name="/queue_interrupt")[0]
    assert bob.predict(None, "", api_name="/queue_clear")[0] == "Only an admin can clear the queue."
    assert base.jobs.store.get(a1).status == "running" and base.jobs.store.get(a2).status == "queued"

    # the admin can: move bob's job to the front, cancel alice's waiting one, interrupt the running one
    assert root.predict(pid[b1], "", api_name="/queue_front")[0] == "The job will run next."
    assert root.predict(pid[a2], "", api_name="/queue_cancel")[0] == "The job was cancelled."
    assert root.predict(None, "", api_name="/queue_interrupt")[0] == "The running job was interrupted."
    assert wait_status(base, a1, "interrupted") and wait_status(base, a2, "interrupted")
    server.resume()
    assert wait_status(base, b1, "success")

    assert sorted(history_of(alice)) == sorted([a1, a2])
    assert history_of(bob) == [b1]
    assert sorted(history_of(root)) == sorted([a1, a2, b1])
    opened = bob.predict(a1, "", api_name="/history_open")
    assert opened[0] == "This job is gone, or it is not yours." and not opened[1]
    assert bob.predict(a1, "", api_name="/history_delete")[0] == "This job belongs to someone else."
    assert bob.predict(a1, "", api_name="/history_rerun")[0] == "This job is gone, or it is not yours."
    assert base.jobs.store.get(a1) is not None
    assert alice.predict(a1, "", api_name="/history_delete")[0] == "Deleted."
    assert bob.predict("", api_name="/system_free_memory") == "Only an admin can free memory or unload models."
    assert root.predict("", api_name="/system_free_memory").startswith("Asked ComfyUI")


def test_without_auth_each_browser_id_is_its_own_user(app):
    server, base, launch = app
    url = launch(None)
    first, second = Client(url, verbose=False), Client(url, verbose=False)
    server.pause()
    mine = first.predict(1, "browser-one", api_name="/submit")
    theirs = second.predict(2, "browser-two", api_name="/submit")
    wait_for(lambda: len(queue_of(first, "browser-one")[0]) == 2, what="both jobs in the queue")
    assert queue_of(first, "browser-one")[1] == [base.jobs.store.get(mine).prompt_id]
    assert queue_of(second, "browser-two")[1] == [base.jobs.store.get(theirs).prompt_id]
    pid = base.jobs.store.get(mine).prompt_id
    assert second.predict(pid, "browser-two", api_name="/queue_cancel")[0] == "This job belongs to someone else."
    assert first.predict(pid, "browser-one", api_name="/queue_cancel")[0] == "The job was cancelled."
    server.resume()
    wait_status(base, theirs, "success")
    assert history_of(first, "browser-one") == [mine] and history_of(second, "browser-two") == [theirs]


def test_an_empty_browser_id_is_never_a_shared_user(app):
    """Two API callers that both send an empty browser id are two users (each its session's),
    never one "anonymous" who sees, opens and cancels the other's jobs as its own."""
    server, base, launch = app
    url = launch(None)
    first, second = Client(url, verbose=False), Client(url, verbose=False)
    server.pause()
    mine = first.predict(1, "", api_name="/submit")
    theirs = second.predict(2, "", api_name="/submit")
    owners = {base.jobs.store.get(mine).owner, base.jobs.store.get(theirs).owner}
    assert len(owners) == 2 and all(o.startswith("session:") for o in owners), owners
    wait_for(lambda: len(queue_of(first)[0]) == 2, what="both jobs in the queue")
    rows, actionable = queue_of(first)
    assert sorted(r[2] for r in rows) == ["Someone else", "You"]
    assert actionable == [base.jobs.store.get(mine).prompt_id]
    assert queue_of(second)[1] == [base.jobs.store.get(theirs).prompt_id]
    # the other empty-id caller can neither open, nor cancel, nor delete my job
    pid = base.jobs.store.get(mine).prompt_id
    assert second.predict(pid, "", api_name="/queue_cancel")[0] == "This job belongs to someone else."
    assert second.predict(mine, "", api_name="/history_open")[0] == "This job is gone, or it is not yours."
    assert second.predict(mine, "", api_name="/history_delete")[0] == "This job belongs to someone else."
    assert base.jobs.store.get(mine).status == "queued"
    assert first.predict(pid, "", api_name="/queue_cancel")[0] == "The job was cancelled."
    server.resume()
    wait_status(base, theirs, "success")
    assert history_of(first) == [mine] and history_of(second) == [theirs]


def test_who_is_asking_falls_back_to_the_session_never_to_one_shared_name():
    from types import SimpleNamespace

    from comfy_ui_app.ui.context import caller_ids

    page = SimpleNamespace(username=None, session_hash="abc123")
    assert current_user(page, "") == current_user(page, None) == "session:abc123"
    assert current_user(SimpleNamespace(username=None, session_hash="other"), "") == "session:other"
    assert current_user(page, "b1") == "browser:b1"  # the browser id wins once it is known
    # a page that sent a job before its browser id arrived may still stop it: it holds both
    assert caller_ids(page, "b1") == ["browser:b1", "session:abc123"]
    assert caller_ids(page, "") == ["session:abc123"]
    assert caller_ids(SimpleNamespace(username="alice", session_hash="abc123"), "b1")[0] == "user:alice"
