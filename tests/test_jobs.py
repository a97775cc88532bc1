"""Comfy + Job end to end against the test server: updates, errors, cancelling, faults."""

import io
from pathlib import Path
import threading
import time

import pytest
import requests
from PIL import Image

from comfy_ui_app import (
    Comfy,
    Executing,
    Finished,
    JobFailed,
    JobInterrupted,
    JobLost,
    Output,
    Preview,
    Progress,
    PromptRejected,
    ServerHTTPError,
    ServerUnreachable,
    Started,
)
from _updates import positions
from _waiting import wait_for
from test_client import closed_port_url, small_prompt


def started_comfy(url, **kwargs):
    comfy = Comfy(url, timeout=5, **kwargs).start()
    assert comfy.wait_connected(5), "event stream did not connect"
    return comfy


@pytest.fixture
def comfy(comfy_server):
    with started_comfy(comfy_server.url) as comfy:
        yield comfy


def collect(job, timeout=20):
    return list(job.updates(timeout=timeout))


def test_a_job_reports_its_whole_story(comfy):
    job = comfy.submit(small_prompt())
    updates = collect(job)
    kinds = [type(u).__name__ for u in updates]
    assert kinds[0] in ("Queued", "Started") and "Started" in kinds
    assert kinds.index("Started") < kinds.index("Progress") < kinds.index("Output") < kinds.index("Finished")
    executing = [(u.node, u.class_type) for u in updates if isinstance(u, Executing)]
    assert executing[-3:] == [("3", "KSampler"), ("8", "VAEDecode"), ("9", "SaveImage")]
    progress = [u for u in updates if isinstance(u, Progress)]
    assert [(p.value, p.max) for p in progress] == [(1, 2), (2, 2)]
    assert progress[-1].fraction == 1.0 and progress[-1].eta_s == 0
    previews = [u for u in updates if isinstance(u, Preview)]
    assert previews and previews[0].to_pil().format == "JPEG"
    finished = updates[-1]
    assert isinstance(finished, Finished) and finished.ok and finished.error is None
    (output,) = [u for u in updates if isinstance(u, Output)]
    assert output.node == "9" and output.images == finished.images
    image = Image.open(io.BytesIO(finished.images[0].data))
    assert image.size == (64, 64) and "prompt" in image.info
    assert job.state == "success" and comfy.jobs() == []


def test_outputs_save_under_their_basename(comfy, tmp_path):
    finished = comfy.submit(small_prompt()).wait(timeout=20)
    path = finished.images[0].save(tmp_path / "out")
    assert path.parent == tmp_path / "out" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stale_previews_are_dropped_for_a_slow_reader(make_comfy_server):
    server = make_comfy_server(step_time=0.01, steps=40)
    with started_comfy(server.url) as comfy:
        job = comfy.submit(small_prompt())
        previews = 0
        for update in job.updates(timeout=20):
            if isinstance(update, Preview):
                previews += 1
                time.sleep(0.1)  # a slow page
        assert job.state == "success"
        assert 1 <= previews < 40


def test_execution_error_names_the_node(comfy, comfy_server):
    comfy_server.fail_next(node_id="8", message="VAE exploded")
    finished = comfy.submit(small_prompt()).wait(timeout=20)
    assert finished.status == "error"
    assert isinstance(finished.error, JobFailed)
    assert (finished.error.node_id, finished.error.node_type) == ("8", "VAEDecode")
    assert "VAE exploded" in str(finished.error)


def test_rejected_prompt_raises_and_leaves_no_job(comfy):
    prompt = small_prompt()
    prompt["3"]["inputs"]["steps"] = 0
    with pytest.raises(PromptRejected) as caught:
        comfy.submit(prompt)
    assert caught.value.node_errors["3"]["errors"][0]["type"] == "value_smaller_than_min"
    assert comfy.jobs() == []


def test_interrupt_stops_only_this_job(make_comfy_server):
    server = make_comfy_server(step_time=0.05, steps=40)
    with started_comfy(server.url) as comfy:
        mine = comfy.submit(small_prompt(seed=1))
        theirs = comfy.submit(small_prompt(seed=2))
        for update in mine.updates(timeout=20):
            if isinstance(update, Progress):
                mine.interrupt()
                break
        assert mine.wait(timeout=20).status == "interrupted"
        assert isinstance(mine.error, JobInterrupted)
        assert theirs.wait(timeout=20).status == "success"


def test_a_waiting_job_is_removed_from_the_queue(comfy, comfy_server):
    comfy_server.pause()
    first, second = comfy.submit(small_prompt(seed=1)), comfy.submit(small_prompt(seed=2))
    second.interrupt()
    assert second.wait(timeout=10).status == "interrupted"
    comfy_server.resume()
    assert first.wait(timeout=20).status == "success"


def test_queue_positions_count_the_jobs_ahead(comfy, comfy_server):
    comfy_server.pause()
    jobs = [comfy.submit(small_prompt(seed=i)) for i in range(3)]

    def last_positions():
        return [([p for p in positions(j) if p is not None] or [None])[-1] for j in jobs]

    wait_for(lambda: last_positions() == [0, 1, 2], timeout=10, what="queue positions 0, 1, 2")
    comfy_server.resume()
    assert all(j.wait(timeout=20).ok for j in jobs)


def test_many_jobs_from_many_threads(comfy):
    results = []

    def worker(seed):
        job = comfy.submit(small_prompt(seed=seed))
        results.append((seed, job.wait(timeout=30)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 12 and all(finished.ok for _, finished in results)
    names = {finished.images[0].filename for _, finished in results}
    assert len(names) == 12


def test_socket_drop_mid_job_reconnects_and_the_job_finishes(make_comfy_server):
    server = make_comfy_server(step_time=0.05, steps=20)
    with started_comfy(server.url) as comfy:
        job = comfy.submit(small_prompt())
        for update in job.updates(timeout=20):
            if isinstance(update, Progress):
                server.drop_websockets()
                break
        finished = job.wait(timeout=30)
        assert finished.ok and finished.images
        assert comfy.wait_connected(10)
        assert comfy.submit(small_prompt(seed=5)).wait(timeout=20).ok


def test_server_restart_mid_job_ends_the_job_as_lost(make_comfy_server):
    server = make_comfy_server(step_time=0.05, steps=100)
    with started_comfy(server.url, stall_after=0.5, poll_interval=0.2) as comfy:
        job = comfy.submit(small_prompt())
        for update in job.updates(timeout=20):
            if isinstance(update, Started):
                break
        port = server.port
        server.stop()
        make_comfy_server(port=port)  # a fresh server that never heard of the job
        finished = job.wait(timeout=30)
        assert finished.status == "error" and isinstance(finished.error, JobLost)
        assert str(finished.error).startswith(f"ComfyUI at {comfy.url} stopped while this job ran")


def test_server_down_at_start_then_up(make_comfy_server):
    url = closed_port_url()
    comfy = Comfy(url, timeout=2).start()
    try:
        assert not comfy.connected
        with pytest.raises(ServerUnreachable) as caught:
            comfy.submit(small_prompt())
        assert url in str(caught.value)
        port = int(url.rsplit(":", 1)[1])
        make_comfy_server(port=port)
        assert comfy.wait_connected(15)
        assert comfy.submit(small_prompt()).wait(timeout=20).ok
    finally:
        comfy.close()


def test_a_hung_job_ends_when_the_reader_gives_up(comfy, comfy_server):
    comfy_server.hang_next()
    updates = list(comfy.submit(small_prompt()).updates(timeout=1.0))
    assert isinstance(updates[-1], Finished) and isinstance(updates[-1].error, JobLost)


@pytest.mark.parametrize("body, content_type", [
    (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "image/png"),  # a PNG signature and nothing sensible after it
    (b"", "image/png"),
])
def test_a_view_answer_that_is_not_an_image_ends_the_job_with_a_plain_error(comfy_server, body, content_type):
    from fault_proxy import FaultProxy

    proxy = FaultProxy(comfy_server.url).start()
    try:
        proxy.answer("/view", body, content_type=content_type)
        with started_comfy(proxy.url) as comfy:
            finished = comfy.submit(small_prompt()).wait(timeout=20)
    finally:
        proxy.stop()
    assert finished.status == "error" and finished.images == ()
    assert str(finished.error).startswith("ComfyUI sent something that is not an image for ComfyUI_")


def test_a_job_settled_from_history_keeps_the_outputs_the_socket_announced(comfy_server):
    """The end of a job never arrives over the socket, so the monitor settles it from
    ``/history``: a node whose outputs ``executed`` already announced is not fetched twice
    (here the socket's file name differs from the history's, which would show it)."""
    from fault_proxy import FaultProxy

    def rename_and_drop_the_end(message):
        data = message.get("data") or {}
        if message.get("type") in ("execution_success", "execution_error") or (
                message.get("type") == "executing" and data.get("node") is None):
            return None
        for image in (data.get("output") or {}).get("images") or []:
            image["filename"] = "from-the-socket.png"
        return message

    proxy = FaultProxy(comfy_server.url).start()
    try:
        proxy.rewrite_ws(rename_and_drop_the_end)
        proxy.answer("/view", Path(comfy_server.root, "input", "example.png").read_bytes(), content_type="image/png")
        with started_comfy(proxy.url, stall_after=0.5, poll_interval=0.2) as comfy:
            finished = comfy.submit(small_prompt()).wait(timeout=20)
    finally:
        proxy.stop()
    assert finished.status == "success", finished.error
    assert [image.filename for image in finished.images] == ["from-the-socket.png"]


def test_a_cut_off_view_answer_ends_the_job_as_an_error_and_the_watch_goes_on(comfy_server):
    """A /view answer that stops half way (a proxy or the server dying) is an error the
    user sees, never a success without pictures; the monitor keeps watching after it."""
    from fault_proxy import FaultProxy

    png = Path(comfy_server.root, "input", "example.png").read_bytes()
    proxy = FaultProxy(comfy_server.url).start()
    try:
        proxy.answer("/view", png[:20], content_type="image/png", cut_off=True, times=1)
        proxy.answer("/queue", b'{"queue_running": [', cut_off=True, times=1)
        with started_comfy(proxy.url, stall_after=0.3, poll_interval=0.1) as comfy:
            finished = comfy.submit(small_prompt()).wait(timeout=20)
            assert finished.status == "error" and finished.images == ()
            assert isinstance(finished.error, ServerUnreachable) and "cut off" in str(finished.error)
            assert comfy._monitor.is_alive()
            assert comfy.submit(small_prompt()).wait(timeout=20).ok  # the next /view is whole
    finally:
        proxy.stop()


def test_outputs_the_app_cannot_save_end_the_job_with_a_plain_error(comfy_server):
    def disk_full(job, node, images):
        raise OSError(28, "No space left on device")

    with started_comfy(comfy_server.url, save_outputs=disk_full) as comfy:
        finished = comfy.submit(small_prompt()).wait(timeout=20)
    assert finished.status == "error"
    assert "No space left on device" in str(finished.error)


def test_an_unexpected_error_in_a_monitor_check_does_not_stop_the_monitor(comfy_server):
    with started_comfy(comfy_server.url, stall_after=0.2, poll_interval=0.05) as comfy:
        calls = []
        real = comfy._monitor.check_once

        def broken_once():
            calls.append(1)
            if len(calls) == 1:
                raise KeyError("queue_running")  # a server answering something odd
            return real()

        comfy._monitor.check_once = broken_once
        comfy._monitor.wake()
        assert comfy.submit(small_prompt()).wait(timeout=20).ok
        deadline = time.monotonic() + 5
        while len(calls) < 2 and time.monotonic() < deadline:
            comfy._monitor.wake()
            time.sleep(0.05)
        assert len(calls) >= 2 and comfy._monitor.is_alive()


def test_a_socket_made_deaf_by_the_client_id_pitfall_is_reconnected(make_comfy_server):
    """``ws_client_id_semantics.json``: an old socket with our clientId closed after ours
    connected makes the server forget the clientId; ours stays open (pings answered) but
    hears nothing. The monitor sees our job running in /queue with a silent socket and
    reconnects, so the job's progress comes back instead of only its end from /history."""
    import websocket

    server = make_comfy_server(step_time=0.1, steps=30)
    client_id = "deadbeef" * 4
    old = websocket.create_connection(server.url.replace("http", "ws") + "/ws?clientId=" + client_id, timeout=5)
    with started_comfy(server.url, client_id=client_id, stall_after=0.3, poll_interval=0.1) as comfy:
        time.sleep(0.3)
        old.close()  # the server drops the clientId: our socket is deaf from here on
        time.sleep(0.3)
        updates = collect(comfy.submit(small_prompt()), timeout=30)
        assert isinstance(updates[-1], Finished) and updates[-1].ok
        late_steps = [u.value for u in updates if isinstance(u, Progress)]
        assert late_steps and max(late_steps) == 30, late_steps  # heard again before the end
        assert comfy.connected
        second = collect(comfy.submit(small_prompt(seed=3)), timeout=30)
        assert second[-1].ok and sum(isinstance(u, Progress) for u in second) >= 10


def test_a_comfyui_behind_a_login_is_reached_with_the_credentials_of_its_url(comfy_server):
    """``https://user:pw@host``: a reverse proxy with a login in front of ComfyUI. Every
    request and the WebSocket carry them; errors and logs show the address without them."""
    from fault_proxy import FaultProxy

    proxy = FaultProxy(comfy_server.url).start()
    try:
        proxy.require_auth("space", "s3cret:pw")
        host = proxy.url.split("://", 1)[1]
        assert requests.get(proxy.url + "/system_stats", timeout=5).status_code == 401
        with started_comfy(f"http://space:s3cret%3Apw@{host}") as comfy:
            assert comfy.url == proxy.url and "s3cret" not in repr(comfy.client)
            updates = collect(comfy.submit(small_prompt()))
            assert updates[-1].ok and len(updates[-1].images) == 1
            assert any(isinstance(u, Progress) for u in updates)  # events came over the socket
        with Comfy(f"http://space:wrong@{host}", timeout=5).start() as comfy:  # its socket is refused too
            with pytest.raises(ServerHTTPError) as caught:
                comfy.submit(small_prompt())
            assert caught.value.status == 401 and "wrong" not in str(caught.value)
            assert not comfy.connected
    finally:
        proxy.stop()
