"""Retry next to the error: a failed or lost job is run again with the same values and seed.

Through gradio_client: a job that fails (``fail_next``) or whose server stops while it runs
(a cluster) ends with the error in the Message box; ``/retry`` (the button's endpoint, which
gradio_client sees without the button itself: Buttons are no API outputs) submits the very
same prompt as a new job that succeeds. In a browser: the button appears right under the
error only then, and pressing it shows the picture.
"""
from __future__ import annotations


import pytest
from gradio_client import Client

from _browser import NEEDS_CHROMIUM, RETRY, opened_page
from comfy_ui_app.ui.jobfeed import RunUpdate
from comfy_ui_app.ui.retry import retry_visibility
from test_ui_api import generate, outputs_of
from _waiting import wait_for
from _identity import browser_id, owner_of

SEED = 4242


def seeds(server):
    return [p["prompt"]["3"]["inputs"]["seed"] for p in server.received_prompts]


@pytest.mark.parametrize("update, shown", [
    (RunUpdate(final=True, failed=True, job_ids=["j"]), True),
    (RunUpdate(final=True, ok=True, job_ids=["j"]), False),  # a success
    (RunUpdate(final=True, job_ids=["j"]), False),  # interrupted
    (RunUpdate(final=True, failed=True, job_ids=[]), False),  # no record to run again
    (RunUpdate("**Running**", job_ids=["j"]), False),  # a new run hides it
])
def test_the_button_shows_only_after_a_failed_or_lost_job(update, shown):
    assert retry_visibility(update).visible is shown


def test_retry_runs_the_failed_job_again_with_the_same_seed(make_comfy_server, launch_app):
    server = make_comfy_server()
    app = launch_app(server.url)
    client = Client(app.url, verbose=False, download_files=False)
    server.fail_next(message="Injected failure")
    outs = outputs_of(generate(client, browser="alice", **{"Random seed": False, "Seed": SEED}))
    assert "Injected failure" in outs[-1][3]
    (failed,) = app.store.list(owner=owner_of("alice"))
    assert failed.status == "error"
    outs = outputs_of(client.submit(browser_id("alice"), api_name="/retry"))
    progress, _, gallery, message, seed = outs[-1][:5]
    assert message == "Done — 1 picture." and len(gallery) == 1 and seed == SEED, outs[-1][:5]
    assert seeds(server) == [SEED, SEED]
    again = next(r for r in app.store.list(owner=owner_of("alice")) if r.job_id != failed.job_id)
    assert again.status == "success" and again.values == failed.values and again.prompt == failed.prompt
    # someone else's page has no failed job of theirs to retry: nothing is sent
    other = Client(app.url, verbose=False, download_files=False)
    outs = outputs_of(other.submit(browser_id("bob"), api_name="/retry"))
    assert outs[-1][3] == "There is no failed job to retry." and len(server.received_prompts) == 2


def test_retry_after_a_failed_job_of_a_batch_runs_that_job_alone(make_comfy_server, launch_app):
    """All jobs of a batch are sent up front; the first failing stops the rest, and Retry runs
    the failed one again (not "no failed job" because the last of the batch was stopped)."""
    server = make_comfy_server(step_time=0.25)  # a job takes about 1 s: the stop comes before the second ends
    # per_server=1: the second job waits in the app's queue. (With 2, the cluster sends both at
    # once, each on its own thread, and ComfyUI may queue them in either order.)
    app = launch_app(server.url, per_server=1)
    client = Client(app.url, verbose=False, download_files=False)
    server.pause()  # both jobs are queued before the first one runs and fails
    run = generate(client, browser="fay", **{"Random seed": False, "Seed": SEED, "Batch count": 2})
    wait_for(lambda: len(server.received_prompts) == 1 and len(app.cluster.waiting()) == 1,
             what="the first job sent, the second waiting in the app's queue")
    server.fail_next(message="Injected failure")
    server.resume()
    assert "Injected failure" in outputs_of(run)[-1][3]
    statuses = wait_for(lambda: (rs := {r.values["_batch"]["index"]: r.status for r in app.store.list()})
                        and all(s != "queued" and s != "running" for s in rs.values()) and rs, what="both ended")
    assert statuses == {0: "error", 1: "cancelled"}  # issue 13: not run (job 1 failed), nobody interrupted it
    outs = outputs_of(client.submit(browser_id("fay"), api_name="/retry"))
    assert outs[-1][3] == "Done — 1 picture." and outs[-1][4] == SEED, outs[-1][:5]
    again = app.store.list()[0]  # newest first
    assert again.status == "success" and "_batch" not in again.values  # a job of its own
    # the second job is stopped in the app's queue, or just after the app's queue sent it on
    assert seeds(server) in ([SEED, SEED], [SEED, SEED + 1, SEED]), seeds(server)


def test_retry_after_the_server_stopped_mid_run_goes_to_another(make_comfy_server, launch_app_cluster):
    slow, spare = make_comfy_server(step_time=0.05, steps=400), make_comfy_server()
    app = launch_app_cluster([slow.url, spare.url], per_server=1)
    wait_for(lambda: all(s.healthy for s in app.cluster.servers), what="two healthy servers")
    client = Client(app.url, verbose=False, download_files=False)
    run = generate(client, browser="carol", **{"Random seed": False, "Seed": SEED})
    record = wait_for(lambda: next(iter(app.store.list(owner=owner_of("carol"), statuses=["running"])), None),
                      what="the job to run")
    assert len(slow.received_prompts) == 1 and spare.received_prompts == []  # both idle: the first listed
    slow_url = slow.url
    slow.stop()
    message = outputs_of(run, timeout=60)[-1][3]
    assert message.startswith(f"ComfyUI at {slow_url} stopped while this job ran"), message
    assert app.store.get(record.job_id).status == "lost"
    outs = outputs_of(client.submit(browser_id("carol"), api_name="/retry"), timeout=60)
    assert outs[-1][3] == "Done — 1 picture.", outs[-1][3]
    assert seeds(spare)[-1] == SEED


@pytest.mark.browser
@NEEDS_CHROMIUM
@RETRY
def test_the_retry_button_appears_next_to_the_error_and_works(make_comfy_server, launch_app, browser):
    from playwright.sync_api import expect

    server = make_comfy_server()
    app = launch_app(server.url)
    with opened_page(browser, app.url) as page:
        retry = page.locator("#txt2img-retry")
        expect(retry).to_be_hidden()
        page.get_by_label("Prompt", exact=True).fill("a fox that fails once")
        server.fail_next(message="Injected failure")
        page.get_by_role("button", name="Generate").click()
        message = page.locator("#txt2img-message textarea")
        expect(message).to_have_value("Failed in node 3 (KSampler): Injected failure")
        expect(retry).to_be_visible()
        box, under = page.locator("#txt2img-message").bounding_box(), retry.bounding_box()
        assert 0 <= under["y"] - (box["y"] + box["height"]) < 80  # right under the error
        retry.click()
        expect(message).to_have_value("Done — 1 picture.")
        expect(page.locator("#txt2img-gallery img").first).to_be_visible()
        expect(retry).to_be_hidden()
    assert len(server.received_prompts) == 2 and seeds(server)[0] == seeds(server)[1]
