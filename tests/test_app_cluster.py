"""The app over several ComfyUI servers (a Cluster), end to end through gradio_client.

Clients here do not download output files: with several streams at once, Gradio may
rewrite a cached preview file (same content, same name) while another stream's client
downloads it, and the download then fails ("Too little data for declared Content-Length").
"""
from __future__ import annotations

from types import SimpleNamespace

from gradio_client import Client

from comfy_ui_app.jobs.service import current_server
from comfy_ui_app.ui.queue_tab import QueueView
from test_ui_api import CKPT, generate, outputs_of
from _waiting import wait_for
from _identity import browser_id, owner_of

X = "x.safetensors"


def healthy(app, count):
    wait_for(lambda: sum(s.healthy for s in app.cluster.servers) == count, what=f"{count} healthy servers")


def server_rows(client):
    table = client.predict(api_name="/system_servers")
    table = table.get("value", table) if isinstance(table, dict) else table
    return table["data"] if isinstance(table, dict) else table


def banner(client):
    answer = client.predict(api_name="/server_status")
    return (answer[0] if isinstance(answer, (list, tuple)) else answer).replace("\\", "")


def test_jobs_from_the_page_spread_over_both_servers(make_comfy_server, launch_app_cluster):
    one, two = make_comfy_server(step_time=0.05), make_comfy_server(step_time=0.05)
    app = launch_app_cluster([one.url, two.url], per_server=1)
    healthy(app, 2)
    client = Client(app.url, verbose=False, download_files=False)  # several streams at once: see module doc
    assert "All 2 ComfyUI servers are up" in banner(client)
    runs = [generate(client, browser=f"user{i}", Steps=6) for i in range(3)]
    for run in runs:
        assert outputs_of(run)[-1][3].startswith("Done"), run.outputs()[-1][3]
    assert one.received_prompts and two.received_prompts
    assert len(one.received_prompts) + len(two.received_prompts) == 3
    records = app.store.list()
    assert {current_server(r) for r in records} == {one.url, two.url}
    assert all(r.status == "success" and r.outputs for r in records)
    rows = server_rows(client)
    assert [row[0] for row in rows] == [one.url, two.url] and {row[1] for row in rows} == {"✔"}, rows


def test_a_server_without_the_checkpoint_never_gets_jobs_needing_it(make_comfy_server, launch_app_cluster):
    rich, poor = make_comfy_server(step_time=0.02, checkpoints=[CKPT, X]), make_comfy_server(checkpoints=[X])
    app = launch_app_cluster([poor.url, rich.url], per_server=1)  # the poor one is listed first
    healthy(app, 2)
    client = Client(app.url, verbose=False, download_files=False)  # several streams at once: see module doc
    runs = [generate(client, browser=f"user{i}") for i in range(3)]
    for run in runs:
        outs = outputs_of(run)
        assert outs and len(outs[-1]) > 3 and outs[-1][3].startswith("Done"), (outs, run.status())
    assert poor.received_prompts == [] and len(rich.received_prompts) == 3
    outs = outputs_of(generate(client, browser="user9", Checkpoint=X))  # the union of both servers' lists
    assert outs[-1][3].startswith("Done") and len(poor.received_prompts) == 1


def test_a_server_dying_mid_run_ends_the_job_naming_it_and_rerun_goes_elsewhere(make_comfy_server,
                                                                                launch_app_cluster):
    slow, spare = make_comfy_server(step_time=0.05, steps=400), make_comfy_server()
    app = launch_app_cluster([slow.url, spare.url])
    healthy(app, 2)
    client = Client(app.url, verbose=False, download_files=False)  # several streams at once: see module doc
    run = generate(client, browser="alice")
    record = wait_for(lambda: next(iter(app.store.list(owner=owner_of("alice"), statuses=["running"])), None),
                      what="the job to run")
    assert current_server(record) == slow.url and spare.received_prompts == []
    slow.stop()
    message = outputs_of(run, timeout=60)[-1][3]
    assert slow.url in message and "Traceback" not in message, message
    failed = wait_for(lambda: app.store.get(record.job_id).done and app.store.get(record.job_id), what="the record")
    assert failed.status == "lost" and slow.url in failed.error  # JobLost: "ComfyUI at <url> stopped while this job ran"
    healthy(app, 1)
    assert "1 of 2 ComfyUI servers are up" in banner(client)
    answer = client.predict(record.job_id, browser_id("alice"), api_name="/history_rerun")
    assert answer[0].startswith("Queued again")
    again = wait_for(lambda: [r for r in app.store.list(owner=owner_of("alice")) if r.job_id != record.job_id],
                     what="the new job")[0]
    done = wait_for(lambda: app.store.get(again.job_id).done and app.store.get(again.job_id), what="the re-run")
    assert done.status == "success" and current_server(done) == spare.url and len(spare.received_prompts) == 1


def test_a_server_down_at_start_leaves_the_others_working(make_comfy_server, launch_app_cluster, dead_url):
    server = make_comfy_server()
    app = launch_app_cluster([dead_url, server.url])
    healthy(app, 1)
    client = Client(app.url, verbose=False, download_files=False)  # several streams at once: see module doc
    text = banner(client)
    assert "1 of 2 ComfyUI servers are up" in text and dead_url.split("//")[1] in text, text
    assert outputs_of(generate(client, browser="bob"))[-1][3].startswith("Done")
    rows = server_rows(client)
    assert rows[0][0] == dead_url and rows[0][1].startswith("⚠") and rows[1][1] == "✔"


def test_jobs_waiting_in_the_apps_queue_are_listed_and_cancelled_by_their_owner(make_comfy_server,
                                                                                 launch_app_cluster):
    server = make_comfy_server(step_time=0.05, steps=100)
    app = launch_app_cluster([server.url], per_server=1, admins={"user:root"})
    healthy(app, 1)
    submit = lambda owner, seed: app.jobs.submit(owner=owner, template="txt2img", values={}, prompt=_prompt(seed))
    first, _ = submit("user:alice", 1)
    wait_for(lambda: app.store.get(first.job_id).status == "running", what="the first job to run")
    mine, job = submit("user:alice", 2)
    theirs, _ = submit("user:bob", 3)
    wait_for(lambda: len(app.cluster.waiting()) == 2, what="two jobs in the app's queue")
    view = QueueView(SimpleNamespace(jobs=app.jobs, comfy=app.comfy, cluster=app.cluster))
    summary, table, picker = view.view("user:alice", "en", fresh=True)
    rows = table.value["data"] if isinstance(table.value, dict) else table.value
    waiting = [r for r in rows if r[1] == "Queued" and r[5] == "—"]
    assert [r[2] for r in waiting] == ["Someone else", "You"]  # fair turns: alice had one, bob goes next
    assert [value for _, value in picker.choices] == [first.prompt_id, mine.prompt_id]
    _, table, _ = view.view("user:root", "en")
    rows = table.value["data"] if isinstance(table.value, dict) else table.value
    assert [r[2] for r in rows if r[1] == "Queued"] == ["bob", "alice"]
    assert [r[1] for r in rows if r[5] == app.comfy.url] == ["Running"]
    assert view.cancel(mine.prompt_id, "user:alice", "en") == "The job was cancelled."
    assert wait_for(lambda: app.store.get(mine.job_id).status == "interrupted", what="cancelled")
    assert [j.prompt_id for j in app.cluster.waiting()] == [theirs.prompt_id]
    assert app.jobs.clear_queue(user="user:root") == 1
    assert wait_for(lambda: app.store.get(theirs.job_id).status == "interrupted", what="cleared")
    app.jobs.cancel(first.job_id, user="user:alice")
    assert wait_for(lambda: app.store.get(first.job_id).status == "interrupted", what="interrupted")


def _prompt(seed):
    from test_client import small_prompt

    return small_prompt(seed=seed)
