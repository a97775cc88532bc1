"""Job log lines: the logfmt format (pure), and one line per state change from a real JobService."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import time

import pytest

from comfy_ui_app import Comfy, PromptRejected
from comfy_ui_app.jobs.joblog import LOGGER_NAME, configure, format_line, log_job, short_error
from comfy_ui_app.jobs.service import JobService
from comfy_ui_app.jobs.store import JobStore
from test_client import small_prompt

BASE = {"job_id": "j1", "user": "user:alice"}

FORMAT_CASES = {
    "only the required keys": (("queued",), {}, "event=queued job=j1 user=user:alice"),
    "an empty server is left out": (("queued",), {"server": ""}, "event=queued job=j1 user=user:alice"),
    "seconds with two decimals": (
        ("finished",), {"server": "http://gpu:8188", "queue_wait": 1.5, "run_time": 12.345, "result": "success"},
        "event=finished job=j1 user=user:alice server=http://gpu:8188 queue_wait=1.50 run_time=12.35 result=success"),
    "an error with spaces is quoted": (
        ("finished",), {"result": "error", "error": 'Node 3 failed: "boom"'},
        'event=finished job=j1 user=user:alice result=error error="Node 3 failed: \\"boom\\""'),
    "only the first line of an error": (
        ("finished",), {"result": "lost", "error": "\n  gone away\ntraceback..."},
        "event=finished job=j1 user=user:alice result=lost error=\"gone away\""),
    "an = and a backslash are quoted and escaped": (
        ("running",), {"user": "user:a=b\\c"}, 'event=running job=j1 user="user:a=b\\\\c"'),
    "a browser id is a credential: only its tag": (
        ("queued",), {"user": "browser:0123456789abcdef0123456789abcdef.00112233445566778899aabbccddeeff"},
        "event=queued job=j1 user=browser:" + hashlib.sha256(
            b"browser:0123456789abcdef0123456789abcdef.00112233445566778899aabbccddeeff").hexdigest()[:8]),
    "a session id too": (("queued",), {"user": "session:abc123"},
                         "event=queued job=j1 user=session:" + hashlib.sha256(b"session:abc123").hexdigest()[:8]),
    "the prompt, when asked for, last": (
        ("queued",), {"prompt": "a red fox\nin snow"}, 'event=queued job=j1 user=user:alice prompt="a red fox\\nin snow"'),
    "an empty prompt is still shown as empty": (("queued",), {"prompt": ""}, 'event=queued job=j1 user=user:alice prompt=""'),
}


@pytest.mark.parametrize("args, kwargs, expected", FORMAT_CASES.values(), ids=FORMAT_CASES.keys())
def test_format_line(args, kwargs, expected):
    assert format_line(*args, **{**BASE, **kwargs}) == expected


def test_a_long_error_is_cut():
    assert short_error("x" * 500) == "x" * 199 + "…"
    assert short_error("") is None and short_error(None) is None


def parse(line: str) -> dict:
    """A logfmt line back into a dict (the inverse of format_line, for the tests)."""
    pairs = re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)', line)
    return {k: (v[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\") if v.startswith('"') else v)
            for k, v in pairs}


def test_parse_reads_back_what_format_line_writes():
    line = format_line("finished", job_id="j", user='u "q" \\ x', error="a=b c", prompt="p\nq")
    assert parse(line) == {"event": "finished", "job": "j", "user": 'u "q" \\ x', "error": "a=b c", "prompt": "p\nq"}


# -- a real JobService over the test server -------------------------------------------------

@pytest.fixture
def store(tmp_path):
    store = JobStore(tmp_path / "data")
    yield store
    store.close()


def make_service(server, store, **kwargs):
    from _app import job_service

    return job_service(server.url, store, admins={"user:root"}, **kwargs)


def job_lines(caplog, job_id: str, until: str | None = None, timeout: float = 15) -> list[dict]:
    """The parsed log lines of one job; with ``until``, wait for its ``result=until`` line first."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [parse(r.getMessage()) for r in caplog.records if r.name == LOGGER_NAME]
        mine = [line for line in lines if line.get("job") == job_id]
        if until is None or any(line.get("result") == until for line in mine) or time.monotonic() > deadline:
            return mine
        time.sleep(0.02)


def submit(service, text="a secret fox", seed=1, **kwargs):
    return service.submit(owner="user:alice", template="txt2img", values={"prompt": text, "seed": seed},
                          prompt=small_prompt(text=text, seed=seed), **kwargs)


def test_one_line_per_state_change_and_no_prompt_text(comfy_server, store, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    service = make_service(comfy_server, store)
    try:
        ok, job = submit(service, seed=1)
        assert job.wait(timeout=20).ok
        comfy_server.fail_next(message="Injected failure")
        failed, job = submit(service, seed=2)
        assert not job.wait(timeout=20).ok
        comfy_server.hang_next()
        stopped, job = submit(service, seed=3)
        deadline = time.monotonic() + 10
        while store.get(stopped.job_id).status != "running" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert service.cancel(stopped.job_id, user="user:alice")
        bad = small_prompt(seed=4)
        bad["3"]["inputs"]["steps"] = 0
        rejected, job = service.submit(owner="user:bob", template="txt2img", values={"prompt": "x"}, prompt=bad)
        assert isinstance(job.wait(timeout=20).error, PromptRejected)  # refused when sent from the app's queue

        url = comfy_server.url
        for record, result in ((ok, "success"), (failed, "error"), (stopped, "interrupted")):
            lines = job_lines(caplog, record.job_id, until=result)
            assert [line["event"] for line in lines] == ["queued", "dispatched", "running", "finished"], lines
            assert all(line["user"] == "user:alice" for line in lines)
            assert all(line["server"] == url for line in lines[1:])  # from its dispatch on
            del lines[1]
            assert "queue_wait" not in lines[0] and "run_time" not in lines[1]
            stored = store.get(record.job_id)
            assert float(lines[1]["queue_wait"]) == pytest.approx(stored.queue_wait, abs=0.006)
            assert float(lines[2]["run_time"]) == pytest.approx(stored.finished_at - stored.started_at, abs=0.006)
            assert lines[2]["result"] == result and "result" not in lines[1]
        assert "Injected failure" in job_lines(caplog, failed.job_id)[-1]["error"]  # its finished line
        assert "error" not in job_lines(caplog, ok.job_id)[-1]
        lines = job_lines(caplog, rejected.job_id, until="error")
        assert [(line["event"], line.get("result")) for line in lines] == [("queued", None), ("dispatched", None),
                                                                            ("finished", "error")]
        del lines[1]
        assert lines[1]["error"].startswith("ComfyUI rejected the prompt") and "queue_wait" not in lines[1]
        assert not any("secret fox" in r.getMessage() or "prompt=" in r.getMessage() for r in caplog.records)
    finally:
        service.cluster.close()


def test_prompts_are_logged_only_when_asked(comfy_server, store, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    service = make_service(comfy_server, store, log_prompts=True)
    try:
        record, job = submit(service, text='a "loud" fox')
        assert job.wait(timeout=20).ok
        lines = job_lines(caplog, record.job_id, until="success")
        assert [line["event"] for line in lines] == ["queued", "dispatched", "running", "finished"]
        assert [line["prompt"] for line in lines] == ['a "loud" fox'] * 4
    finally:
        service.cluster.close()


def test_configure_writes_to_the_stream_once(store):
    stream, level = io.StringIO(), logging.getLogger(LOGGER_NAME).level
    handler = configure(stream)
    try:
        assert configure(stream) is handler
        record = store.create(owner="user:alice", template="t", values={}, prompt={}, server="http://s:1",
                              prompt_id="p")
        log_job(store, record.job_id, "queued")
        log_job(store, "no-such-job", "queued")  # nothing, no error
        store.close()
        log_job(store, record.job_id, "running")  # a closed store: a warning, never an exception
        text = stream.getvalue()
        assert re.fullmatch(rf"time=\S+ event=queued job={record.job_id} user=user:alice server=http://s:1\n"
                            r"time=\S+ could not log running of job \w+\n(.|\n)*", text), text
    finally:
        logging.getLogger(LOGGER_NAME).removeHandler(handler)
        logging.getLogger(LOGGER_NAME).setLevel(level)


def test_lines_of_a_followed_job_come_from_memory_not_the_store(comfy_server, store, caplog, monkeypatch):
    """Over a Cluster (so with ``dispatched``): the same lines, and the store is never read for them."""
    from comfy_ui_app.cluster.cluster import Cluster

    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    reads, original = [], store.get
    monkeypatch.setattr(store, "get", lambda job_id: reads.append(job_id) or original(job_id))
    cluster = Cluster([Comfy(comfy_server.url, timeout=5)], per_server=1)
    service = JobService(cluster, store)
    cluster.start()
    try:
        record, job = submit(service)
        assert job.wait(timeout=20).ok
        lines = job_lines(caplog, record.job_id, until="success")
        assert reads == []
        assert [line["event"] for line in lines] == ["queued", "dispatched", "running", "finished"], lines
        assert "server" not in lines[0] and all(line["server"] == comfy_server.url for line in lines[1:])
        stored = original(record.job_id)
        assert float(lines[2]["queue_wait"]) == pytest.approx(stored.queue_wait, abs=0.006)
        assert float(lines[3]["run_time"]) == pytest.approx(stored.finished_at - stored.started_at, abs=0.006)
        assert lines[3]["result"] == "success" and "error" not in lines[3]
    finally:
        cluster.close()
