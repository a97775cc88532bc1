"""What an operator can watch, through the real app over a cluster: job log lines, the System
tab's numbers, the ``server`` column of cluster jobs, and ``GET /healthz`` (with and without login)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest
import requests
from gradio_client import Client

from comfy_ui_app.jobs.joblog import LOGGER_NAME
from comfy_ui_app.jobs.service import current_server
from comfy_ui_app.ui.healthz import health, server_address
from test_client import small_prompt
from _waiting import wait_for
from test_joblog import job_lines


def host_port(url: str) -> str:
    return urlsplit(url).netloc


def healthz(app, query: str = "") -> requests.Response:
    return requests.get(app.url.rstrip("/") + "/healthz" + query, timeout=10)


def submit(app, seed: int, owner: str = "user:alice"):
    return app.jobs.submit(owner=owner, template="txt2img", values={"prompt": "a private fox", "seed": seed},
                           prompt=small_prompt(text="a private fox", seed=seed))


def table(answer) -> list[list]:
    answer = answer.get("value", answer) if isinstance(answer, dict) else answer
    return answer["data"] if isinstance(answer, dict) else answer


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:8188", "127.0.0.1:8188"),
    ("https://user:secret@gpu-1.lan:8443/comfy?token=x", "gpu-1.lan:8443"),
    ("http://[::1]:8188/", "[::1]:8188"),
    ("http://gpu", "gpu"),
])
def test_healthz_shows_host_and_port_only(url, expected):
    assert server_address(url) == expected


def test_jobs_logged_counted_and_served_over_a_cluster_with_one_server_down(
        make_comfy_server, dead_url, launch_app_cluster, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    up = make_comfy_server(step_time=0.01)
    app = launch_app_cluster([up.url, dead_url])
    wait_for(lambda: [s.healthy for s in app.cluster.servers] == [True, False] and app.cluster.servers[1].reason,
             what="server 1 up, server 2 down")

    ok, job = submit(app, 1)
    assert job.wait(timeout=20).ok
    up.fail_next(message="Injected failure")
    failed, job = submit(app, 2)
    assert not job.wait(timeout=20).ok
    up.hang_next()
    stopped, job = submit(app, 3)
    wait_for(lambda: app.store.get(stopped.job_id).status == "running", what="the third job to run")

    # while it runs: /healthz counts it; the store knows its server (a restart would resume it there)
    answer = healthz(app)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["status"] == "degraded" and body["jobs"] == {"waiting": 0, "running": 1}
    first, second = body["servers"]
    assert first == {"name": "server 1", "url": host_port(up.url), "healthy": True, "reason": "", "queue_depth": 1}
    assert second["name"] == "server 2" and second["url"] == host_port(dead_url) and second["healthy"] is False
    assert host_port(dead_url) in second["reason"] and "http" not in second["reason"] and second["queue_depth"] is None
    assert "private fox" not in answer.text and "user:alice" not in answer.text
    assert [r.job_id for r in app.store.unfinished(server=up.url)] == [stopped.job_id]
    assert app.jobs.cancel(stopped.job_id, user="user:alice")

    for record, result in ((ok, "success"), (failed, "error"), (stopped, "interrupted")):
        stored = wait_for(lambda r=record: app.store.get(r.job_id).done and app.store.get(r.job_id))
        assert stored.server == up.url == current_server(stored)  # the column, not only the timeline
        lines = job_lines(caplog, record.job_id, until=result)
        assert [line["event"] for line in lines] == ["queued", "dispatched", "running", "finished"], lines
        assert "server" not in lines[0] and {line["server"] for line in lines[1:]} == {up.url}
        assert lines[-1]["result"] == result and float(lines[-1]["run_time"]) >= 0
        assert float(lines[-1]["queue_wait"]) == pytest.approx(stored.queue_wait, abs=0.006)
    assert "Injected failure" in job_lines(caplog, failed.job_id)[-1]["error"]
    assert not any("private fox" in r.getMessage() for r in caplog.records)

    client = Client(app.url, verbose=False, download_files=False)
    rows = wait_for(lambda: (lambda t: t[0][8] == 0 and t)(table(client.predict(api_name="/system_numbers"))),
                    what="ComfyUI's queue to empty")
    assert [row[:4] for row in rows] == [[up.url, 1, 1, 1], [dead_url, 0, 0, 0], ["All", 1, 1, 1]]
    assert all(cell.endswith(" s") for cell in rows[0][4:8]) and rows[1][4:] == ["—"] * 4 + ["—"]
    assert rows[2][4:8] == rows[0][4:8] and rows[2][8] == 0


def test_healthz_is_200_when_no_server_is_up_but_ready_is_503(dead_url, launch_app_cluster):
    app = launch_app_cluster([dead_url])
    wait_for(lambda: app.cluster.servers[0].reason, what="the health check to fail")
    answer = healthz(app)
    assert answer.status_code == 200 and answer.json()["status"] == "down"
    assert answer.json()["servers"][0]["healthy"] is False
    ready = healthz(app, "?ready=1")
    assert ready.status_code == 503 and ready.json()["status"] == "down"
    assert health(app.cluster, app.jobs) == (503, answer.json())


def test_healthz_hides_addresses_the_page_hides(make_comfy_server, launch_app_cluster):
    """On a Space the server's address is a secret: /healthz (no login) must not tell it."""
    up = make_comfy_server()
    dead = "http://secret-gpu.invalid:8188"
    app = launch_app_cluster([up.url, dead], labels=["ComfyUI server 1", "ComfyUI server 2"])
    wait_for(lambda: app.cluster.servers[1].reason, what="the health check of server 2 to fail")
    answer = healthz(app)
    assert answer.status_code == 200 and answer.json()["status"] == "degraded"
    first, second = answer.json()["servers"]
    assert first["url"] is None and second["url"] is None and second["healthy"] is False
    assert "ComfyUI server 2" in second["reason"], second
    assert "secret-gpu" not in answer.text and host_port(up.url) not in answer.text


def test_healthz_says_when_the_local_comfyui_is_starting(dead_url, tmp_path):
    from types import SimpleNamespace

    from _app import job_service
    from comfy_ui_app.jobs.store import JobStore
    from comfy_ui_app.local.managed import STARTING, LocalState

    local = SimpleNamespace(state=lambda: LocalState(STARTING, dead_url))  # a LocalComfyUI still starting
    store = JobStore(tmp_path / "data")
    jobs = job_service(dead_url, store, healthy=False)
    try:
        wait_for(lambda: jobs.cluster.servers[0].reason, what="the health check to fail")
        code, body = health(jobs.cluster, jobs, local)
    finally:
        jobs.cluster.close()
        store.close()
    assert code == 503 and body["servers"][0]["reason"] == "Starting ComfyUI…"
    assert body["servers"][0]["url"] == host_port(dead_url)


def test_healthz_needs_no_login_when_auth_is_on(comfy_server, launch_app):
    app = launch_app(comfy_server.url, auth=[("alice", "pw")])
    assert requests.get(app.url.rstrip("/") + "/config", timeout=10).status_code == 401  # login is on
    wait_for(lambda: app.comfy.connected, what="the event stream")
    answer = healthz(app)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "jobs": {"waiting": 0, "running": 0}, "servers": [
        {"name": "server 1", "url": host_port(comfy_server.url), "healthy": True, "reason": "",
         "queue_depth": app.comfy.queue_remaining}]}
