"""System tab: server facts, the shared memory sampler, models, nodes, admin-only /free, the server
picker, and the "Jobs in the last hour" numbers (percentiles, the table, the store query)."""

from __future__ import annotations

import dataclasses

import sqlite3
import time

import gradio as gr
import pytest

from comfy_ui_app import Comfy
from comfy_ui_app.cluster.cluster import Cluster
from comfy_ui_app.jobs.service import JobService
from comfy_ui_app.jobs.store import _STATS_SQL, JobStore
from comfy_ui_app.ui import system_tab
from comfy_ui_app.ui.context import AppContext, ServerCatalog
from comfy_ui_app.ui.system_numbers import WINDOW_S, number_rows, percentile, seconds, summarize
from comfy_ui_app.ui.system_tab import StatsSampler, SystemView, memory_points, stats_markdown
from test_queue_tab import ADMIN, close_ctx, fake_request, make_ctx

GIB = 1024**3


@pytest.fixture
def ctx(comfy_server, tmp_path):
    ctx = make_ctx(comfy_server, tmp_path)
    yield ctx
    close_ctx(ctx)


def test_stats_are_shown_in_words(ctx):
    text = stats_markdown(ctx.comfy.client.system_stats(), "en")
    for expected in ("| Component | Version or memory |", "| Operating system | posix |", "| Python | 3.11.7 |", "| PyTorch | 2.14.1+cu130 |",
                     "| ComfyUI | 0.3.64 |", "22.6 GiB free of 23.5 GiB", "cpu (cpu)",
                     "VRAM 22.6 GiB free of 23.5 GiB; torch 22.6 GiB free of 23.5 GiB"):
        assert expected in text


def test_memory_points_cover_ram_and_every_device():
    stats = {"system": {"ram_free": 2 * GIB},
             "devices": [{"name": "cuda:0", "vram_free": GIB}, {"name": "cuda:1", "vram_free": 3 * GIB}]}
    assert memory_points(stats) == [("RAM free", 2.0), ("cuda:0 VRAM free", 1.0), ("cuda:1 VRAM free", 3.0)]


def test_the_sampler_asks_at_most_once_per_period_and_keeps_a_ring(ctx):
    sampler = StatsSampler(ctx.comfy, every=60)
    for _ in range(5):
        sampler.stats()
    assert sampler.requests == 1
    frame = sampler.frame()
    assert list(frame.columns) == ["time", "series", "GiB"]
    assert set(frame["series"]) == {"RAM free", "cpu VRAM free"}
    assert frame["GiB"].iloc[0] == pytest.approx(24258199552 / GIB)

    ring = StatsSampler(ctx.comfy, every=0, keep=1)  # room for 8 points
    for _ in range(6):
        ring.stats()
    assert ring.requests == 6 and len(ring.frame()) == 8


def test_models_and_nodes(ctx):
    view = SystemView(ctx)
    rows = {folder: (count, names) for folder, count, names in view.models()}
    assert rows["checkpoints"][0] == len(ctx.catalog.models("checkpoints")) > 0
    assert rows["loras"] == (0, "")
    assert "KSampler" in view.node_classes()
    assert "required" in view.node("KSampler")["input"]
    assert view.node("NoSuchNode") == {} and view.node(None) == {}


@pytest.mark.parametrize("public, user, listed", [
    (True, "visitor", False), (True, "root", True), (False, "visitor", True),
])
def test_file_lists_of_the_node_browser_on_a_public_app_are_for_admins(ctx, monkeypatch, public, user, listed):
    # issue 13 point 7: LoadImage's list is every user's upload names
    from comfy_ui_app.jobs.policy import Policy

    monkeypatch.setattr(ctx.jobs, "policy", Policy.for_app(public))
    monkeypatch.setattr(ctx.jobs, "admins", frozenset({"root"}))
    image = SystemView(ctx).node("LoadImage", user=user)["input"]["required"]["image"]
    assert ("example.png" in image[0]) is listed and image[1].get("image_upload") is True
    assert "example.png" in ctx.comfy.client.object_info("LoadImage")["LoadImage"]["input"]["required"]["image"][0]


def test_only_an_admin_frees_memory(ctx, monkeypatch):
    calls = []
    real = ctx.comfy.client.free
    monkeypatch.setattr(ctx.comfy.client, "free", lambda **kw: calls.append(kw) or real(**kw))
    view = SystemView(ctx)
    assert view.free("user:alice", "en", unload_models=True) == "Only an admin can free memory or unload models."
    assert calls == []
    assert view.free(ADMIN, "en", unload_models=True).startswith("Asked ComfyUI")
    assert view.free(ADMIN, "en", unload_models=False).startswith("Asked ComfyUI")
    assert calls == [{"unload_models": True, "free_memory": False}, {"unload_models": False, "free_memory": True}]


def test_opening_the_tab_shows_admin_buttons_to_admins_only(ctx):
    with gr.Blocks() as demo:
        tab_ctx = dataclasses.replace(ctx, lang=gr.State("en"), browser_id=gr.BrowserState(""))
        system_tab.build_tab(tab_ctx)
    refresh = next(f.fn for f in demo.fns.values() if f.api_name == "system_refresh")
    summary, chart, admin_row, models, embeddings, extensions, nodes, timer = refresh("", "en", None, fake_request("alice"))
    assert "0.3.64" in summary and len(chart.value["data"]) >= 2  # RAM and the one device, one sample each
    assert admin_row.visible is False and timer.active is True
    assert "KSampler" in [value for _, value in nodes.choices]
    assert "/extensions/core/groupNode.js" in extensions and embeddings == ""
    assert refresh("", "en", None, fake_request("root"))[2].visible is True


# -- "Jobs in the last hour": percentiles, summaries, the table, the store query ---------------

PERCENTILES = {
    "empty": ([], 50, None),
    "one value": ([7.0], 95, 7.0),
    "median of an odd count": ([3, 1, 2], 50, 2),
    "median of an even count is the mean of the middle two": ([4, 1, 3, 2], 50, 2.5),
    "p95 of 1..20 interpolates": (list(range(1, 21)), 95, 19.05),
    "p95 of 1..100": (list(range(1, 101)), 95, 95.05),
    "p0 and p100 are the ends": ([5, 9, 1], 100, 9),
    "p0": ([5, 9, 1], 0, 1),
}


@pytest.mark.parametrize("values, q, expected", PERCENTILES.values(), ids=PERCENTILES.keys())
def test_percentile(values, q, expected):
    assert percentile(values, q) == (None if expected is None else pytest.approx(expected))


A, B = "http://a:8188", "http://b:8188"
ROWS = [  # (server, status, queue_wait, run_time)
    (A, "success", 1.0, 10.0), (A, "success", 3.0, 20.0), (A, "error", 2.0, 1.0),
    (A, "lost", 0.5, None), (B, "interrupted", 4.0, 2.0), (B, "success", 0.0, 30.0),
    ("", "interrupted", None, None),  # cancelled while it waited in the app's queue
    (B, "error", None, None),         # refused by ComfyUI before it ran
]
SUMMARIES = {
    A: ((2, 2, 0), (1.5, 2.85), (10.0, 19.0)),
    B: ((1, 1, 1), (2.0, 3.8), (16.0, 28.6)),
    "": ((0, 0, 1), (None, None), (None, None)),
    None: ((3, 3, 2), (1.5, 3.75), (10.0, 28.0)),  # overall: waits 0 .5 1 2 3 4, runs 1 2 10 20 30
}


@pytest.mark.parametrize("server", SUMMARIES.keys(), ids=["a", "b", "app queue", "all"])
def test_summarize_known_numbers(server):
    per_server, overall = summarize(ROWS)
    assert list(per_server) == [A, B, ""]
    counts, waits, runs = SUMMARIES[server]
    got = (overall if server is None else per_server[server]).figures
    assert got[:3] == counts
    assert got[3:5] == pytest.approx(waits) if waits[0] is not None else got[3:5] == waits
    assert got[5:] == pytest.approx(runs) if runs[0] is not None else got[5:] == runs


@pytest.mark.parametrize("value, text", [(None, "—"), (0.04, "0.0 s"), (12.345, "12.3 s"), (75, "1 min 15 s")])
def test_seconds(value, text):
    assert seconds(value) == text


def test_the_table_lists_every_server_the_app_queue_and_all():
    per_server, overall = summarize(ROWS + [("http://gone:1", "success", 1.0, 1.0)])
    rows = number_rows(per_server, overall, servers=[A, B, "http://idle:1"],
                       depths={A: 2, B: None, "http://idle:1": 0}, app_waiting=3, lang="en")
    assert rows == [
        [A, 2, 2, 0, "1.5 s", "2.9 s", "10.0 s", "19.0 s", 2],
        [B, 1, 1, 1, "2.0 s", "3.8 s", "16.0 s", "28.6 s", "—"],
        ["http://idle:1", 0, 0, 0, "—", "—", "—", "—", 0],
        ["http://gone:1", 1, 0, 0, "1.0 s", "1.0 s", "1.0 s", "1.0 s", "—"],
        ["The app's own queue", 0, 0, 1, "—", "—", "—", "—", 3],
        ["All", 4, 3, 2, "1.0 s", "3.7 s", "6.0 s", "27.5 s", 5],
    ]
    zh = number_rows(*summarize([]), servers=[A], depths={A: None}, app_waiting=None, lang="zh-CN")
    assert zh == [[A, 0, 0, 0, "—", "—", "—", "—", "—"], ["全部", 0, 0, 0, "—", "—", "—", "—", "—"]]


def test_store_stats_covers_the_window_and_only_ended_jobs(tmp_path):
    store = JobStore(tmp_path / "data")
    try:
        def job(server, *statuses):
            record = store.create(owner="u", template="t", values={}, prompt={}, server=server, prompt_id="p")
            for status in statuses:
                store.update_status(record.job_id, status)
            return record

        old = job(A, "running", "success")
        cut = time.time()
        job(A, "running", "error")
        job("", "interrupted")
        job(B, "running")  # still running: not counted
        rows = store.stats(since=cut)
        assert [(s, st) for s, st, _, _ in rows] == [(A, "error"), ("", "interrupted")]
        assert rows[0][2] >= 0 and rows[0][3] >= 0 and rows[1][2:] == (None, None)
        assert len(store.stats(since=0)) == 3 and store.get(old.job_id).status == "success"
    finally:
        store.close()


def test_store_stats_is_fast_with_ten_thousand_jobs(tmp_path):
    store = JobStore(tmp_path / "data")
    store.close()
    now = time.time()
    db = sqlite3.connect(tmp_path / "data" / "jobs.sqlite3")
    with db:  # 10,000 jobs over the last ten hours: 1,000 of them in the last hour
        db.executemany(
            "INSERT INTO jobs (job_id, owner, template, kind, client, values_json, prompt_json, server,"
            " prompt_id, status, created_at, started_at, finished_at, timeline_json)"
            " VALUES (?, 'u', 't', 'txt2img', 'web', '{}', '{}', ?, 'p', ?, ?, ?, ?, '[]')",
            [(f"j{i}", (A, B)[i % 2], ("success", "error", "interrupted", "lost")[i % 4],
              now - i * 3.6 - 6, now - i * 3.6 - 5, now - i * 3.6 - 1) for i in range(10_000)])
    db.close()
    store = JobStore(tmp_path / "data")
    try:
        plan = " ".join(str(r) for r in store._db.execute(
            "EXPLAIN QUERY PLAN " + _STATS_SQL, [0]))
        assert "jobs_finished" in plan, plan
        started = time.perf_counter()
        per_server, overall = summarize(store.stats(since=now - 3600))
        elapsed = time.perf_counter() - started
        assert overall.figures[:3] == (250, 500, 250) and set(per_server) == {A, B}
        assert overall.figures[3] == pytest.approx(1.0) and overall.figures[5] == pytest.approx(4.0)
        assert elapsed < 0.5, f"{elapsed:.3f} s"
    finally:
        store.close()


# -- the server picker: every panel follows the picked server --------------------------------

@pytest.fixture
def two_servers(make_comfy_server, dead_url, tmp_path):
    """A cluster of a live server (its own checkpoint) and a dead one, and the tab's handlers."""
    live = make_comfy_server(checkpoints=["only_here.safetensors"])
    store = JobStore(tmp_path / "data")
    cluster = Cluster([Comfy(live.url, timeout=2), Comfy(dead_url, timeout=2)], health_interval=0.2).start()
    jobs = JobService(cluster, store, admins={ADMIN})
    with gr.Blocks() as demo:
        ctx = AppContext(cluster, jobs, tmp_path, tmp_path, ServerCatalog(cluster), gr.State("en"),
                         gr.BrowserState(""))
        handles = system_tab.build_tab(ctx)
    fns = {f.api_name: f.fn for f in demo.fns.values() if f.api_name}
    yield live, dead_url, handles, fns
    cluster.close()
    store.close()


def test_the_picker_lists_the_servers_and_defaults_to_the_first(two_servers):
    live, dead, handles, _ = two_servers
    picker = handles.parts["picker"]
    assert picker.choices == [(live.url, 1), (dead, 2)] and picker.value == 1 and picker.visible is True


def test_stats_models_and_free_memory_follow_the_picked_server(two_servers):
    live, dead, _, fns = two_servers
    refresh, free = fns["system_refresh"], fns["system_free_memory"]
    summary, _chart, admin_row, models, *_ = refresh("", "en", 1, fake_request("root"))
    assert "0.3.64" in summary and admin_row.visible is True
    assert ["checkpoints", 1, "only_here.safetensors"] in models
    summary, _chart, _row, models, embeddings, *_ = refresh("", "en", 2, fake_request("root"))
    assert f"Cannot reach ComfyUI at {dead}" in summary.replace("\\", "") and "Cannot reach" in embeddings
    assert free("", "en", 1, fake_request("root")).startswith("Asked ComfyUI")
    assert f"Cannot reach ComfyUI at {dead}" in free("", "en", 2, fake_request("root"))
    assert free("", "en", 2, fake_request("alice")) == "Only an admin can free memory or unload models."
    assert "model" in fns["system_node"]("KSampler", "en", 1)["input"]["required"]
    assert "error" in fns["system_node"]("KSampler", "en", 2)


@pytest.mark.parametrize("which", [None, 0, 3, -1, True, "2", "http://evil:1"])
def test_anything_but_a_servers_number_means_the_first(two_servers, which):
    live, _, handles, fns = two_servers
    assert handles.parts["view"].comfy(which).url == live.url
    assert "0.3.64" in fns["system_refresh"]("", "en", which, fake_request("alice"))[0]


def test_the_memory_chart_is_every_servers_free_memory_over_the_last_hour(make_comfy_server, tmp_path):
    """Issue 15: one point with an axis a millisecond wide (".697") before; now each poll samples every
    server into its hour-long ring, one line per server and kind, and the time axis spans the samples."""
    from _app import app_context, job_service

    servers = [make_comfy_server(), make_comfy_server()]
    jobs = job_service([s.url for s in servers], JobStore(tmp_path / "data"))
    try:
        view = SystemView(app_context(jobs, tmp_path))
        for comfy in view.comfies:  # a sample at every poll (the app's: at most one per SAMPLE_EVERY_S)
            view.samplers[comfy.url] = StatsSampler(comfy, every=0)
        for _ in range(3):
            chart = view.chart()
        frame = view.memory()  # the fourth poll
        labels = [c.label for c in view.comfies]
        assert set(frame["series"]) == {f"{label} · {kind}" for label in labels
                                         for kind in ("RAM free", "cpu VRAM free")}
        for _, points in frame.groupby("series"):
            assert len(points) == 4 and points["time"].is_monotonic_increasing and points["time"].nunique() == 4
        assert frame["GiB"].between(0, 1024).all() and str(frame["time"].dtype).startswith("datetime64")
        assert len(chart.value["data"]) == 3 * 4  # three polls of two servers, two lines each
        first, now = chart.x_lim
        assert now - 61 <= first <= now - 59  # one minute before the first sample: a time axis, not a point
        assert view.memory(now=time.time() + WINDOW_S + 60).empty  # an hour later, none of it is shown
    finally:
        jobs.cluster.close()
        jobs.store.close()
