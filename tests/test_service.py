"""JobService: recorded jobs, owners kept apart, and jobs that survive an app restart."""

import time

import pytest

from comfy_ui_app import Comfy, ComfyClient, Progress, PromptRejected, Started
from comfy_ui_app.jobs.records import history_times
from comfy_ui_app.cluster.cluster import Cluster
from comfy_ui_app.jobs.service import JobService, NotAllowed
from comfy_ui_app.jobs.store import JobStore, current_server
from test_client import small_prompt
from _waiting import wait_for


def make_service(url, store, **kwargs):
    """A JobService over a Cluster of the one server at ``url``, as the app builds it."""
    cluster = Cluster([Comfy(url, timeout=5, **kwargs)])
    service = JobService(cluster, store, admins={"admin"})
    cluster.start()
    wait_for(lambda: all(s.healthy for s in cluster.servers), what="the server healthy")
    return service


def wait_status(store, job_id, statuses=("success", "error", "interrupted", "lost"), timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = store.get(job_id)
        if record.status in statuses:
            return record
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} stuck in {store.get(job_id).status}")


@pytest.fixture
def store(tmp_path):
    store = JobStore(tmp_path / "data")
    yield store
    store.close()


def submit(service, owner="alice", seed=1):
    return service.submit(owner=owner, template="txt2img", values={"seed": seed}, prompt=small_prompt(seed=seed))


def test_a_job_is_recorded_with_its_outputs_in_the_apps_folder(comfy_server, store):
    service = make_service(comfy_server.url, store)
    try:
        record, job = submit(service)
        finished = job.wait(timeout=20)
        assert finished.ok
        path = finished.images[0].path
        assert path is not None and store.outputs_dir in path.parents and path.read_bytes() == finished.images[0].data
        record = wait_status(store, record.job_id)
        assert record.status == "success" and record.owner == "alice"
        assert [step["status"] for step in record.timeline] == ["queued", "queued", "running", "success"]
        assert record.timeline[1]["detail"]["server"] == comfy_server.url  # sent from the app's queue
        assert [o.path for o in record.outputs] == [path]
        assert record.values == {"seed": 1} and record.prompt_id == job.prompt_id
    finally:
        service.cluster.close()


def test_a_rejected_prompt_is_recorded_as_an_error(comfy_server, store):
    service = make_service(comfy_server.url, store)
    prompt = small_prompt()
    prompt["3"]["inputs"]["steps"] = 0
    try:  # ComfyUI rejects it when the app's queue sends it there: the job ends with that error
        _, job = service.submit(owner="alice", template="txt2img", values={}, prompt=prompt)
        assert isinstance(job.wait(timeout=20).error, PromptRejected)
        (record,) = store.list(owner="alice")
        record = wait_status(store, record.job_id)
        assert record.status == "error" and "rejected" in record.error
    finally:
        service.cluster.close()


def test_users_cannot_see_or_cancel_each_others_jobs_but_an_admin_can(make_comfy_server, store):
    server = make_comfy_server(step_time=0.05, steps=100)
    service = make_service(server.url, store)
    try:
        mine, job = submit(service, owner="alice")
        theirs, other = submit(service, owner="bob", seed=2)
        assert service.get(mine.job_id, user="bob") is None
        assert [r.job_id for r in service.list(user="bob")] == [theirs.job_id]
        assert [r.job_id for r in service.list(user="bob", everyone=True)] == [theirs.job_id]
        assert {r.owner for r in service.list(user="admin", everyone=True)} == {"alice", "bob"}
        with pytest.raises(NotAllowed):
            service.cancel(mine.job_id, user="bob")
        assert service.cancel(theirs.job_id, user="admin")
        assert wait_status(store, theirs.job_id).status == "interrupted"
        assert service.cancel(mine.job_id, user="alice")
        assert wait_status(store, mine.job_id).status == "interrupted"
        with pytest.raises(NotAllowed):
            service.delete(mine.job_id, user="bob")
        assert service.delete(mine.job_id, user="alice") and store.get(mine.job_id) is None
    finally:
        service.cluster.close()


def test_app_restart_mid_job_picks_the_job_up_and_stores_its_outputs(make_comfy_server, tmp_path):
    server = make_comfy_server(step_time=0.02, steps=60)
    store = JobStore(tmp_path / "data")
    first = make_service(server.url, store)
    record, job = submit(first)
    for update in job.updates(timeout=20):
        if isinstance(update, Progress):
            break
    first.cluster.close()  # the app stops while ComfyUI keeps running the job
    store.close()

    store = JobStore(tmp_path / "data")  # a new process, the same data directory
    second = make_service(server.url, store)
    try:
        assert [r.job_id for r in second.resume()] == [record.job_id]
        done = wait_status(store, record.job_id)
        assert done.status == "success"
        assert done.outputs and all(o.path.is_file() for o in done.outputs)
    finally:
        second.cluster.close()
        store.close()


def test_a_job_the_server_forgot_ends_as_lost_and_history_is_kept(make_comfy_server, store):
    server = make_comfy_server(step_time=0.05, steps=100)
    service = make_service(server.url, store, stall_after=0.5, poll_interval=0.2)
    try:
        done, _ = submit(service, seed=5)
        assert wait_status(store, done.job_id).status == "success"
        record, job = submit(service)
        for update in job.updates(timeout=20):
            if isinstance(update, Started):
                break
        port = server.port
        server.stop()
        make_comfy_server(port=port)  # ComfyUI restarted: its queue and history are empty
        assert wait_status(store, record.job_id, timeout=30).status == "lost"
        assert store.get(done.job_id).status == "success" and store.get(done.job_id).outputs
    finally:
        service.cluster.close()


# -- after an app restart: ComfyUI's own times, servers no longer configured, a Cluster ----

def history_entry(url, prompt_id):
    return ComfyClient(url).get_history_item(prompt_id).get(prompt_id)


def test_jobs_that_finished_while_the_app_was_away_get_comfyuis_own_times(make_comfy_server, tmp_path):
    server = make_comfy_server(step_time=0.05, steps=6)
    store = JobStore(tmp_path / "data")
    first = make_service(server.url, store)
    running, job = submit(first, seed=1)
    waiting, _ = submit(first, seed=2)  # still in ComfyUI's queue when the app stops
    for update in job.updates(timeout=20):
        if isinstance(update, Started):
            break
    first.cluster.close()
    store.close()
    wait_for(lambda: history_entry(server.url, waiting.prompt_id), what="both jobs to finish meanwhile")
    time.sleep(1.0)  # the app comes back well after they finished

    store = JobStore(tmp_path / "data")
    second = make_service(server.url, store)
    try:
        back = time.time()
        assert {r.job_id for r in second.resume()} == {running.job_id, waiting.job_id}
        for record in (running, waiting):
            done = wait_status(store, record.job_id)
            started, finished = history_times(history_entry(server.url, record.prompt_id))
            assert done.status == "success" and done.outputs
            assert done.finished_at == finished < back - 0.5  # not when the app came back
            assert 0 < done.duration < 1.5
        assert wait_status(store, waiting.job_id).started_at == history_times(
            history_entry(server.url, waiting.prompt_id))[0]  # it never ran while the app watched
        assert [s["status"] for s in store.get(waiting.job_id).timeline] == ["queued", "queued", "running", "success"]
    finally:
        second.cluster.close()
        store.close()


def status_and_server(store, record):
    record = store.get(record.job_id)
    return record.status, current_server(record)


def cluster_service(urls, store, **kwargs):
    comfies = [Comfy(url, timeout=5, poll_interval=0.1, stall_after=0.5, give_up_after=2.0) for url in urls]
    cluster = Cluster(comfies, health_interval=0.1, **kwargs)
    service = JobService(cluster, store)
    cluster.start()
    wait_for(lambda: all(s.healthy for s in cluster.servers), what="every server healthy")
    return service


def test_jobs_on_a_server_no_longer_configured_end_as_lost_at_restart(make_comfy_server, tmp_path):
    gone, kept = make_comfy_server(), make_comfy_server()
    gone.pause()  # the job stays in its queue
    store = JobStore(tmp_path / "data")
    first = cluster_service([gone.url], store)
    record, _ = submit(first)
    wait_for(lambda: gone.received_prompts, what="the job sent to the first server")
    first.cluster.close()
    store.close()

    store = JobStore(tmp_path / "data")
    second = cluster_service([kept.url], store)  # the operator removed that server
    try:
        assert second.resume() == []
        lost = store.get(record.job_id)
        assert lost.status == "lost" and lost.finished_at is not None
        assert lost.error == "The ComfyUI server it was sent to is no longer configured; please run it again"
        assert lost.error_code == "server_no_longer_configured" and lost.error_data == {"url": gone.url}
        assert store.unfinished() == [] and kept.received_prompts == []
    finally:
        second.cluster.close()
        store.close()


def test_resume_over_a_cluster_finishes_running_pending_and_app_queued_jobs(make_comfy_server, tmp_path):
    server = make_comfy_server(step_time=0.05, steps=40)  # 2 s a job: the three stay where they are
    store = JobStore(tmp_path / "data")
    first = cluster_service([server.url], store, per_server=2)
    running, job = submit(first, seed=1)
    pending, _ = submit(first, seed=2)  # the second slot: in ComfyUI's queue
    queued, _ = submit(first, seed=3)  # no slot left: in the app's own queue
    for update in job.updates(timeout=20):
        if isinstance(update, Started):
            break
    wait_for(lambda: [status_and_server(store, r) for r in (running, pending, queued)] == [
        ("running", server.url), ("queued", server.url), ("queued", "")],
        what="one job running, one pending on ComfyUI, one in the app's queue")
    first.cluster.close()  # the app stops (as app.py: the cluster, then the store)
    store.close()

    store = JobStore(tmp_path / "data")
    second = cluster_service([server.url], store, per_server=2)
    try:
        assert {r.job_id for r in second.resume()} == {running.job_id, pending.job_id, queued.job_id}
        for record in (running, pending, queued):
            done = wait_status(store, record.job_id, timeout=30)
            assert done.status == "success", (done.status, done.error)
            assert done.outputs and all(o.path.is_file() for o in done.outputs)
        assert [s.in_flight for s in second.cluster.servers] == [0]  # the adopted jobs freed their slots
    finally:
        second.cluster.close()
        store.close()
