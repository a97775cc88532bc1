"""The durable job store (comfy_ui_app.jobs.store): SQLite records and output files under tmp_path."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
import uuid
from types import SimpleNamespace

import pytest

import comfy_ui_app.jobs.store as store_module
from comfy_ui_app.jobs.store import STATUSES, TERMINAL, JobRecord, JobStore, OutputFile

PROMPT = {"3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20, "model": ["4", 0]}}}


@pytest.fixture
def store(tmp_path):
    s = JobStore(tmp_path / "data")
    yield s
    s.close()


@pytest.fixture
def clock(monkeypatch):
    """Replace the store's clock: ``clock.now`` is what time.time() returns; tests move it."""
    fake = SimpleNamespace(now=1_000.0)
    monkeypatch.setattr(store_module, "time", SimpleNamespace(time=lambda: fake.now))
    return fake


def new_job(store, owner="alice", **overrides):
    fields = dict(owner=owner, template="txt2img", values={"prompt": "a red fox", "steps": 20},
                  prompt=PROMPT, server="http://127.0.0.1:8188", prompt_id=uuid.uuid4().hex)
    return store.create(**{**fields, **overrides})


# -- creating and reading back ---------------------------------------------------------------


def test_creates_its_directory_database_and_outputs_folder_in_wal_mode(tmp_path):
    data = tmp_path / "not" / "yet" / "there"
    s = JobStore(data)
    try:
        assert (data / "jobs.sqlite3").is_file()
        assert s.outputs_dir == data / "outputs" and s.outputs_dir.is_dir()
        with sqlite3.connect(data / "jobs.sqlite3") as other:
            assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        s.close()


def test_create_round_trips_every_field(store, clock):
    values = {"prompt": "un renard roux 🦊", "steps": 20, "cfg": 7.5, "nested": {"list": [1, None, True]}}
    job = store.create(owner="alice", template="txt2img", values=values, prompt=PROMPT, server="http://gpu:8188",
                       prompt_id="p-1", kind="img2img", client="api")
    assert uuid.UUID(hex=job.job_id).version == 4 and len(job.job_id) == 32
    assert (job.owner, job.template, job.kind, job.client) == ("alice", "txt2img", "img2img", "api")
    assert (job.values, job.prompt, job.server, job.prompt_id) == (values, PROMPT, "http://gpu:8188", "p-1")
    assert (job.status, job.error, job.created_at, job.started_at, job.finished_at) == ("queued", None, 1000.0, None, None)
    assert job.timeline == [{"status": "queued", "at": 1000.0, "detail": None}]
    assert job.outputs == []
    assert (job.done, job.duration, job.queue_wait) == (False, None, None)
    assert store.get(job.job_id) == job
    assert store.by_prompt_id("p-1") == job


def test_defaults_and_unknown_ids(store):
    job = new_job(store)
    assert (job.kind, job.client) == ("txt2img", "web")
    assert store.get("0" * 32) is None
    assert store.by_prompt_id("no-such-prompt") is None
    assert new_job(store).job_id != job.job_id


def test_records_are_frozen(store):
    job = new_job(store)
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.status = "success"


# -- status changes and the timeline ---------------------------------------------------------


def test_timeline_keeps_order_times_and_details(store, clock):
    job = new_job(store)
    clock.now = 1003.0
    assert store.update_status(job.job_id, "running", detail={"node": "3"}) is True
    clock.now = 1004.5
    store.update_status(job.job_id, "running", detail={"node": "8"})  # a second "running": start unchanged
    clock.now = 1010.0
    store.update_status(job.job_id, "success", detail={"images": 2})

    job = store.get(job.job_id)
    assert job.timeline == [
        {"status": "queued", "at": 1000.0, "detail": None},
        {"status": "running", "at": 1003.0, "detail": {"node": "3"}},
        {"status": "running", "at": 1004.5, "detail": {"node": "8"}},
        {"status": "success", "at": 1010.0, "detail": {"images": 2}},
    ]
    assert (job.status, job.started_at, job.finished_at) == ("success", 1003.0, 1010.0)
    assert (job.done, job.queue_wait, job.duration) == (True, 3.0, 7.0)


def test_real_clock_timestamps_are_ordered_and_current(store):
    before = time.time()
    job = new_job(store)
    for status in ("running", "success"):
        store.update_status(job.job_id, status)
    after = time.time()
    times = [event["at"] for event in store.get(job.job_id).timeline]
    assert times == sorted(times) and before <= times[0] and times[-1] <= after


@pytest.mark.parametrize("status", TERMINAL)
def test_every_terminal_status_finishes_the_job(store, clock, status):
    job = new_job(store)
    clock.now = 1002.0
    store.update_status(job.job_id, status)
    job = store.get(job.job_id)
    assert job.done and job.finished_at == 1002.0 and job.started_at is None
    assert job.duration == 2.0  # never ran: measured from creation
    assert job.queue_wait is None


def test_an_error_is_kept_as_its_line_code_and_data(store):
    job = store.create(owner="a", template="t", values={}, prompt={}, server="s", prompt_id="p")
    store.update_status(job.job_id, "lost", error="ComfyUI at http://gpu:8188 stopped while this job ran",
                        error_code="job_lost", error_data={"url": "http://gpu:8188", "started": True})
    got = store.get(job.job_id)
    assert (got.error_code, got.error_data) == ("job_lost", {"url": "http://gpu:8188", "started": True})
    store.update_status(job.job_id, "running")  # no error given: the recorded one stays
    assert store.get(job.job_id).error_code == "job_lost"
    store.update_status(job.job_id, "error", error="boom")  # a new error replaces line, code and data
    got = store.get(job.job_id)
    assert (got.error, got.error_code, got.error_data) == ("boom", None, None)


# The jobs table as the store created it before errors were kept as codes (error: English text only).
_OLD_SCHEMA = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY, job_id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL, template TEXT NOT NULL,
    kind TEXT NOT NULL, client TEXT NOT NULL, values_json TEXT NOT NULL, prompt_json TEXT NOT NULL,
    server TEXT NOT NULL, prompt_id TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
    created_at REAL NOT NULL, started_at REAL, finished_at REAL, timeline_json TEXT NOT NULL);
CREATE TABLE outputs (
    id INTEGER PRIMARY KEY, job_id TEXT NOT NULL,
    path TEXT NOT NULL, filename TEXT NOT NULL, node TEXT NOT NULL, kind TEXT NOT NULL);
"""


def test_a_data_folder_of_the_previous_schema_opens_with_its_jobs_and_errors(tmp_path):
    from comfy_ui_app.texts.messages import describe_recorded

    folder = tmp_path / "old"
    folder.mkdir()
    timeline = json.dumps([{"status": "queued", "at": 1000.0, "detail": None}])
    english = "No ComfyUI server has the checkpoint x.safetensors"
    with sqlite3.connect(folder / "jobs.sqlite3") as db:
        db.executescript(_OLD_SCHEMA)
        db.executemany(
            "INSERT INTO jobs (job_id, owner, template, kind, client, values_json, prompt_json, server, prompt_id,"
            " status, error, created_at, started_at, finished_at, timeline_json)"
            " VALUES (?, ?, ?, ?, ?, '{}', '{}', 's', ?, ?, ?, ?, NULL, ?, ?)",
            [("a" * 32, "alice", "txt2img", "txt2img", "web", "p1", "error", english, 1000.0, 1001.0, timeline),
             ("b" * 32, "bob", "txt2img", "txt2img", "web", "p2", "success", None, 1002.0, 1003.0, timeline)])
        db.execute("INSERT INTO outputs (job_id, path, filename, node, kind) VALUES (?, ?, 'o.png', '9', 'output')",
                   ("b" * 32, f"{'b' * 32}/o.png"))
    db.close()
    for _ in range(2):  # the second opening finds the columns already there
        store = JobStore(folder)
        try:
            old, ok = store.get("a" * 32), store.get("b" * 32)
            assert [j.job_id for j in store.list()] == ["b" * 32, "a" * 32]
            assert (old.status, old.error, old.error_code, old.error_data) == ("error", english, None, None)
            assert (ok.status, ok.error, [o.filename for o in ok.outputs]) == ("success", None, ["o.png"])
            assert describe_recorded(old) == english  # worded as before: the catalog's lookup of its English
            assert describe_recorded(old, lang="zh-CN") == "没有任何 ComfyUI 服务器具有模型 x.safetensors"
            assert not old.starred and not ok.starred  # History's star: none yet
        finally:
            store.close()
    store = JobStore(folder)  # and a new error is kept with its code and data
    store.update_status("a" * 32, "error", error="boom", error_code="job_interrupted", error_data={})
    assert (store.get("a" * 32).error_code, store.get("a" * 32).error_data) == ("job_interrupted", {})
    assert store.set_starred("b" * 32, True, owner="bob") and not store.set_starred("a" * 32, True, owner="bob")
    assert store.get("b" * 32).starred and not store.get("a" * 32).starred
    assert store.clear("bob") == 0 and store.clear("alice") == 1  # a starred job is kept
    store.close()
    with sqlite3.connect(folder / "jobs.sqlite3") as db:
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    db.close()
    assert {"jobs_owner_starred", "jobs_owner_kind", "jobs_starred", "jobs_kind"} <= indexes


def test_error_is_kept_and_a_lost_job_found_again_is_unfinished(store, clock):
    job = new_job(store)
    store.update_status(job.job_id, "running")
    clock.now = 1005.0
    store.update_status(job.job_id, "lost", error="server went away")
    assert store.get(job.job_id).error == "server went away"
    clock.now = 1006.0
    store.update_status(job.job_id, "running")
    job = store.get(job.job_id)
    assert (job.status, job.finished_at, job.done, job.error) == ("running", None, False, "server went away")
    store.update_status(job.job_id, "error", error="KSampler: out of memory")
    assert store.get(job.job_id).error == "KSampler: out of memory"


def test_bad_status_updates(store):
    job = new_job(store)
    with pytest.raises(ValueError, match="finished"):
        store.update_status(job.job_id, "finished")
    assert store.update_status("0" * 32, "success") is False
    with pytest.raises(TypeError):  # detail must be JSON; the failed update leaves no trace
        store.update_status(job.job_id, "running", detail={"bytes": b"x"})
    assert store.get(job.job_id) == job


# -- output files ----------------------------------------------------------------------------


def test_add_output_writes_and_records_the_file(store):
    job = new_job(store)
    first = store.add_output(job.job_id, b"\x89PNG one", "ComfyUI_00001_.png", node="9", kind="output")
    second = store.add_output(job.job_id, b"tmp", "ComfyUI_temp_00001_.png", kind="temp")
    assert first == OutputFile(store.outputs_dir / job.job_id / "ComfyUI_00001_.png", "ComfyUI_00001_.png", "9", "output")
    assert first.path.read_bytes() == b"\x89PNG one"
    assert (second.node, second.kind) == ("", "temp")
    assert store.get(job.job_id).outputs == [first, second]


def test_same_name_twice_never_overwrites(store):
    job = new_job(store)
    a = store.add_output(job.job_id, b"a", "x.png")
    b = store.add_output(job.job_id, b"b", "x.png")
    c = store.add_output(job.job_id, b"c", "../x.png")
    assert [o.filename for o in (a, b, c)] == ["x.png", "x_1.png", "x_2.png"]
    assert [o.path.read_bytes() for o in (a, b, c)] == [b"a", b"b", b"c"]


@pytest.mark.parametrize(
    ("unsafe", "stored"),
    [
        ("../x.png", "x.png"),
        ("../../../../tmp/evil.png", "evil.png"),
        ("/etc/passwd", "passwd"),
        ("a/b.png", "b.png"),
        ("..\\..\\windows\\evil.png", "evil.png"),
        ("", "output"),
        ("..", "output"),
        (".", "output"),
        ("dir/..", "output"),
        (".png", "output.png"),
        ("we:ird*na?me<>.webp", "we_ird_na_me__.webp"),
        ("x" * 500 + ".png", "x" * 116 + ".png"),
    ],
)
def test_unsafe_filenames_stay_inside_the_jobs_folder(store, tmp_path, unsafe, stored):
    job = new_job(store)
    out = store.add_output(job.job_id, b"data", unsafe)
    folder = store.outputs_dir / job.job_id
    assert out.filename == stored and out.path == folder / stored
    assert out.path.resolve().parent == folder.resolve()
    assert out.path.read_bytes() == b"data"
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith("jobs.sqlite3")]
    assert written == [out.path]


def test_add_output_to_an_unknown_job(store):
    with pytest.raises(KeyError):
        store.add_output("0" * 32, b"data", "x.png")
    assert list(store.outputs_dir.iterdir()) == []


# -- owners, listing, deleting ---------------------------------------------------------------


def test_owners_are_kept_apart(store):
    alice = [new_job(store, "alice") for _ in range(3)]
    bob = [new_job(store, "bob") for _ in range(2)]
    assert {j.job_id for j in store.list(owner="alice")} == {j.job_id for j in alice}
    assert {j.job_id for j in store.list(owner="bob")} == {j.job_id for j in bob}
    assert store.list(owner="carol") == []
    assert (store.count(owner="alice"), store.count(owner="bob"), store.count()) == (3, 2, 5)
    assert len(store.list()) == 5  # owner=None: everyone's (admin)

    out = store.add_output(alice[0].job_id, b"img", "a.png")
    assert store.delete(alice[0].job_id, owner="bob") is False  # not bob's
    assert store.get(alice[0].job_id) is not None and out.path.exists()
    assert store.delete(alice[0].job_id, owner="alice") is True
    assert store.get(alice[0].job_id) is None
    assert not out.path.exists() and not (store.outputs_dir / alice[0].job_id).exists()
    assert store.delete(alice[0].job_id) is False  # already gone
    assert store.delete(bob[0].job_id) is True  # no owner given: admin
    assert (store.count(owner="alice"), store.count(owner="bob")) == (2, 1)


def test_clear_deletes_only_that_owners_finished_jobs(store):
    finished = [new_job(store, "alice") for _ in range(len(TERMINAL))]
    for job, status in zip(finished, TERMINAL):
        store.update_status(job.job_id, status)
        store.add_output(job.job_id, b"img", "x.png")
    waiting, running = new_job(store, "alice"), new_job(store, "alice")
    store.update_status(running.job_id, "running")
    bobs = new_job(store, "bob")
    store.update_status(bobs.job_id, "success")

    assert store.clear("alice") == len(TERMINAL)
    assert {j.job_id for j in store.list(owner="alice")} == {waiting.job_id, running.job_id}
    assert store.get(bobs.job_id) is not None
    assert list(store.outputs_dir.iterdir()) == []  # only the cleared jobs had files
    assert store.clear("alice") == 0


def test_list_orders_pages_and_filters(store, clock):
    jobs = []
    for i in range(7):
        clock.now = 1000.0 + i // 2  # pairs share a timestamp: insertion order breaks the tie
        jobs.append(new_job(store))
    ids = [j.job_id for j in jobs]
    assert [j.job_id for j in store.list()] == ids[::-1]
    assert [j.job_id for j in store.list(newest_first=False)] == ids
    pages = [store.list(limit=3, offset=o) for o in (0, 3, 6, 9)]
    assert [j.job_id for page in pages for j in page] == ids[::-1]
    assert [len(p) for p in pages] == [3, 3, 1, 0]
    assert store.list(limit=0) == []

    store.update_status(ids[1], "running")
    store.update_status(ids[2], "success")
    store.update_status(ids[4], "error")
    assert [j.job_id for j in store.list(statuses=["success", "error"])] == [ids[4], ids[2]]
    assert [j.job_id for j in store.list(statuses="running")] == [ids[1]]  # one status as a plain string
    assert store.list(statuses=[]) == [] and store.count(statuses=[]) == 0
    assert store.count(statuses=("queued",)) == 4
    assert store.count(owner="alice", statuses=TERMINAL) == 2
    with pytest.raises(ValueError):
        store.list(statuses=["done"])
    with pytest.raises(ValueError):
        store.list(limit=-1)


def test_unfinished_lists_queued_and_running_oldest_first(store, clock):
    a = new_job(store, server="http://a:8188")
    clock.now += 1
    b = new_job(store, server="http://b:8188")
    clock.now += 1
    c = new_job(store, server="http://a:8188")
    clock.now += 1
    done = new_job(store, server="http://a:8188")
    store.update_status(c.job_id, "running")
    store.update_status(done.job_id, "success")
    assert [j.job_id for j in store.unfinished()] == [a.job_id, b.job_id, c.job_id]
    assert [j.job_id for j in store.unfinished("http://a:8188")] == [a.job_id, c.job_id]
    assert store.unfinished("http://nowhere") == []


# -- durability and concurrency --------------------------------------------------------------


def test_a_new_store_on_the_same_directory_sees_everything(tmp_path):
    first = JobStore(tmp_path)
    job = new_job(first)
    first.update_status(job.job_id, "running", detail={"step": 1})
    out = first.add_output(job.job_id, b"img", "x.png", node="9")
    first.update_status(job.job_id, "success")
    before = first.get(job.job_id)

    second = JobStore(tmp_path)  # a second process would do the same; both open at once
    assert second.get(job.job_id) == before
    late = new_job(second, "bob")
    assert first.get(late.job_id) == late
    first.close()
    second.close()
    first.close()  # closing twice is harmless

    restarted = JobStore(tmp_path)
    try:
        assert restarted.get(job.job_id) == before and before.outputs == [out]
        assert restarted.by_prompt_id(job.prompt_id) == before
        assert restarted.count() == 2 and restarted.unfinished() == [late]
    finally:
        restarted.close()


def test_closed_store_refuses_work(tmp_path):
    s = JobStore(tmp_path)
    s.close()
    with pytest.raises(sqlite3.ProgrammingError):
        s.count()


def _hammer(make_store, threads=8, jobs_each=15):
    """Run ``threads`` writers at once, each creating jobs, moving them along and adding outputs."""
    errors, start = [], threading.Barrier(threads)

    def writer(n):
        try:
            s = make_store()
            start.wait()
            for i in range(jobs_each):
                job = new_job(s, owner=f"user{n}")
                s.update_status(job.job_id, "running")
                s.add_output(job.job_id, f"{n}-{i}".encode(), "x.png")
                s.update_status(job.job_id, "success" if i % 2 else "error", error=None if i % 2 else "boom")
        except Exception as e:  # reported below: an exception in a thread would otherwise vanish
            errors.append(e)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []


def _check_hammered(store, threads=8, jobs_each=15):
    assert store.count() == threads * jobs_each
    for n in range(threads):
        jobs = store.list(owner=f"user{n}", limit=1000, newest_first=False)
        assert len(jobs) == jobs_each
        for i, job in enumerate(jobs):
            assert [e["status"] for e in job.timeline] == ["queued", "running", "success" if i % 2 else "error"]
            assert job.outputs[0].path.read_bytes() == f"{n}-{i}".encode()


def test_eight_threads_share_one_store(store):
    _hammer(lambda: store)
    _check_hammered(store)


def test_eight_threads_each_with_their_own_store(tmp_path):
    stores = []
    _hammer(lambda: stores.append(JobStore(tmp_path)) or stores[-1])
    for s in stores:
        s.close()
    fresh = JobStore(tmp_path)
    try:
        _check_hammered(fresh)
    finally:
        fresh.close()


def test_concurrent_updates_of_one_job_lose_nothing(tmp_path):
    stores = [JobStore(tmp_path) for _ in range(8)]
    job = new_job(stores[0])
    start = threading.Barrier(8)

    def writer(s, n):
        start.wait()
        for i in range(10):
            s.update_status(job.job_id, "running", detail={"writer": n, "i": i})

    workers = [threading.Thread(target=writer, args=(s, n)) for n, s in enumerate(stores)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    timeline = stores[0].get(job.job_id).timeline
    assert len(timeline) == 1 + 8 * 10
    for n in range(8):  # each writer's own events stay in its order
        assert [e["detail"]["i"] for e in timeline[1:] if e["detail"]["writer"] == n] == list(range(10))
    for s in stores:
        s.close()


# -- a big store -----------------------------------------------------------------------------


def fill(data_dir, owners=("alice", "bob", "carol"), jobs=10_000, outputs_every=3):
    """Insert ``jobs`` finished jobs straight into the database with executemany (fast)."""
    jobs_rows, output_rows = [], []
    for i in range(jobs):
        job_id, owner = f"{i:032x}", owners[i % len(owners)]
        timeline = json.dumps([{"status": "queued", "at": 1000.0 + i, "detail": None},
                               {"status": "success", "at": 1001.0 + i, "detail": None}])
        jobs_rows.append((job_id, owner, "txt2img", "txt2img", "web", json.dumps({"i": i}), json.dumps(PROMPT),
                          "http://127.0.0.1:8188", f"prompt-{i}", "success", None,
                          1000.0 + i, 1000.5 + i, 1001.0 + i, timeline))
        if i % outputs_every == 0:
            output_rows += [(job_id, f"{job_id}/{n}.png", f"{n}.png", "9", "output") for n in range(2)]
    with sqlite3.connect(data_dir / "jobs.sqlite3") as db:
        db.executemany(
            "INSERT INTO jobs (job_id, owner, template, kind, client, values_json, prompt_json, server, prompt_id,"
            " status, error, created_at, started_at, finished_at, timeline_json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", jobs_rows)
        db.executemany("INSERT INTO outputs (job_id, path, filename, node, kind) VALUES (?, ?, ?, ?, ?)", output_rows)
    db.close()


def test_a_page_of_a_ten_thousand_job_store(store):
    fill(store.data_dir)
    assert store.count() == 10_000 and store.count(owner="bob") == 3_333

    queries = []
    store._db.set_trace_callback(queries.append)
    page = store.list(owner="bob", limit=50, offset=100)
    store._db.set_trace_callback(None)

    bobs = [i for i in range(10_000) if i % 3 == 1][::-1]  # bob's jobs, newest first
    assert [j.values["i"] for j in page] == bobs[100:150]
    for job in page:
        i = job.values["i"]
        assert job.owner == "bob" and job.prompt_id == f"prompt-{i}" and job.duration == 0.5
        expected = [store.outputs_dir / job.job_id / f"{n}.png" for n in range(2)] if i % 3 == 0 else []
        assert [o.path for o in job.outputs] == expected
    assert store.by_prompt_id("prompt-4321").values == {"i": 4321}
    assert [j.values["i"] for j in store.list(limit=2)] == [9999, 9998]

    # One query for the page, one for all its outputs (no query per job), and both use an index.
    selects = [q for q in queries if q.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2
    for sql in selects:
        plan = " | ".join(row[-1] for row in store._db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "INDEX" in plan, plan
    jobs_plan = " | ".join(row[-1] for row in store._db.execute("EXPLAIN QUERY PLAN " + selects[0]))
    assert "SEARCH jobs" in jobs_plan, jobs_plan  # straight to bob's jobs, not a walk through everyone's
    assert "TEMP B-TREE" not in jobs_plan, jobs_plan  # the index already gives the order: no sort


def test_statuses_constant_lists_every_status():
    assert set(STATUSES) == {"queued", "running", "success", "error", "interrupted", "lost", "cancelled"}
    assert JobRecord.__dataclass_params__.frozen and OutputFile.__dataclass_params__.frozen


def test_a_status_can_carry_the_time_it_happened(store, clock):
    job = new_job(store)
    clock.now = 5_000.0
    store.update_status(job.job_id, "running", at=1_010.0)  # e.g. ComfyUI's own time, from /history
    store.update_status(job.job_id, "success", at=1_025.5)
    record = store.get(job.job_id)
    assert (record.started_at, record.finished_at, record.duration, record.queue_wait) == (1_010.0, 1_025.5, 15.5, 10.0)
    assert [step["at"] for step in record.timeline] == [1_000.0, 1_010.0, 1_025.5]


def test_history_times_reads_comfyuis_recorded_timestamps():
    from pathlib import Path

    from comfy_ui_app.jobs.records import history_times

    recording = json.loads((Path(__file__).parent / "fixtures" / "comfyui" / "history.json").read_text())
    (entry,) = recording["get_history_success"]["response"]["json"].values()
    assert history_times(entry) == (1795348336.303, 1795348336.779)  # execution_start, execution_success
    assert history_times({}) == (None, None) and history_times({"status": {"messages": "odd"}}) == (None, None)
    unfinished = {"status": {"messages": [["execution_start", {"timestamp": 1795348336303}]]}}
    assert history_times(unfinished) == (1795348336.303, None)
