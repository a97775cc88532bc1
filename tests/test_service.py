"""JobService: recorded jobs, owners kept apart, and jobs that survive an app restart."""

import time

import pytest

from comfy_ui_app import Comfy, Progress, PromptRejected, Started
from comfy_ui_app.service import JobService, NotAllowed
from comfy_ui_app.store import JobStore
from test_client import small_prompt


def make_service(url, store, **kwargs):
    comfy = Comfy(url, timeout=5, save_outputs=JobService.hooks_for(store), **kwargs).start()
    assert comfy.wait_connected(5)
    return JobService(comfy, store, admins={"admin"})


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
        assert [step["status"] for step in record.timeline] == ["queued", "running", "success"]
        assert [o.path for o in record.outputs] == [path]
        assert record.values == {"seed": 1} and record.prompt_id == job.prompt_id
    finally:
        service.comfy.close()


def test_a_rejected_prompt_is_recorded_as_an_error(comfy_server, store):
    service = make_service(comfy_server.url, store)
    prompt = small_prompt()
    prompt["3"]["inputs"]["steps"] = 0
    try:
        with pytest.raises(PromptRejected):
            service.submit(owner="alice", template="txt2img", values={}, prompt=prompt)
        (record,) = store.list(owner="alice")
        assert record.status == "error" and "rejected" in record.error
    finally:
        service.comfy.close()


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
        service.comfy.close()


def test_app_restart_mid_job_picks_the_job_up_and_stores_its_outputs(make_comfy_server, tmp_path):
    server = make_comfy_server(step_time=0.02, steps=60)
    store = JobStore(tmp_path / "data")
    first = make_service(server.url, store)
    record, job = submit(first)
    for update in job.updates(timeout=20):
        if isinstance(update, Progress):
            break
    first.comfy.close()  # the app stops while ComfyUI keeps running the job
    store.close()

    store = JobStore(tmp_path / "data")  # a new process, the same data directory
    second = make_service(server.url, store)
    try:
        assert [r.job_id for r in second.resume()] == [record.job_id]
        done = wait_status(store, record.job_id)
        assert done.status == "success"
        assert done.outputs and all(o.path.is_file() for o in done.outputs)
    finally:
        second.comfy.close()
        store.close()


def test_a_job_the_server_forgot_ends_as_lost_and_history_is_kept(make_comfy_server, store):
    server = make_comfy_server(step_time=0.05, steps=100)
    comfy = Comfy(server.url, timeout=5, save_outputs=JobService.hooks_for(store), stall_after=0.5, poll_interval=0.2)
    service = JobService(comfy.start(), store)
    try:
        assert comfy.wait_connected(5)
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
        comfy.close()
