"""(e) Start-up to a served page, idle memory, and the History page over 10,000 jobs.

A test server runs in this process; ``python app.py --server URL --port P --data DIR`` runs
as a child process (exactly as a user starts it), with a job store already holding 10,000
finished jobs of one browser (filled through ``JobStore.create``; statuses set to
"success" in one SQL statement afterwards; every 10th job's prompt is "a blue whale" and every
50th job starred; the newest 60 have a 512-pixel PNG, so the first pages are pictures). Measured:

* start-up: from spawning the process to the first ``GET /`` answered 200 (polled every 20 ms),
  the median of three starts over the same store;
* idle RSS: ``VmRSS`` of ``/proc/<pid>/status`` 3 s after the page was first served;
* History page: the History tab's picture grid as a browser asks for it, answer in hand
  (``_sse.PageClient``; median of 20 after 3 warm-ups, which also make the first page's
  thumbnails: the first, cold call is reported apart), three ways: the first page (the tab's load
  event ``history_load``: count + 40 tiles), a filtered page (``history_refresh`` with "whale" in
  the prompt and favourites only) and a deep page (page 250 of 250: the oldest 40 of 10,000); also
  the first page through ``gradio_client`` (whose reader adds up to 50 ms of polling), and the
  store's part alone (count + one page of tiles, :mod:`comfy_ui_app.jobs.history_query`).
"""
from __future__ import annotations

import io
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from . import Report, median
from ._servers import app_process, bench_browser_id, comfy_server, prompt
from ._sse import PageClient

BROWSER = bench_browser_id("bench-browser")   # signed: the app accepts only ids it could have issued
OWNER = f"browser:{BROWSER}"


def fill_store(data_dir: Path, jobs: int) -> float:
    """``jobs`` finished jobs of OWNER; returns seconds it took."""
    from PIL import Image

    from comfy_ui_app.jobs.store import JobStore

    start = time.perf_counter()
    store = JobStore(data_dir)
    graph = prompt(1)
    png = io.BytesIO()
    Image.radial_gradient("L").resize((512, 512)).convert("RGB").save(png, format="PNG")
    ids = []
    for i in range(jobs):
        graph["3"]["inputs"]["seed"] = i
        words = "a blue whale" if i % 10 == 0 else "a red fox"
        record = store.create(owner=OWNER, template="txt2img.json", values={"prompt": words, "seed": i},
                              prompt=graph, server="", prompt_id=f"00000000-0000-4000-8000-{i:012d}")
        ids.append(record.job_id)
    for job_id in ids[-60:]:
        store.add_output(job_id, png.getvalue(), "ComfyUI_00001_.png", node="9")
    for job_id in ids[::50]:
        store.set_starred(job_id, True)
    store.close()
    with sqlite3.connect(data_dir / "jobs.sqlite3") as db:
        db.execute("UPDATE jobs SET status = 'success', started_at = created_at, finished_at = created_at + 4")
    return time.perf_counter() - start


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


FILTERED = {"Prompt contains": "whale", "★ Favourites only": True}  # jobs 0, 50, 100... : every 50th


def _tiles(got: list) -> list[str]:
    """The grid's pictures (paths) in the answer to a History event."""
    grid = got[-1][1]["output"]["data"][2]
    items = grid.get("value") if isinstance(grid, dict) else grid
    return [item["image"]["path"] or item["image"]["url"] for item in items or []]


def history_times(url: str, calls: int, jobs: int) -> tuple[dict[str, list[float]], list[float], float]:
    """({"first", "filtered", "deep"}: ms per History page as a page asks for it, ms of the first page
    through gradio_client, ms of the first call, which makes the thumbnails)."""
    from gradio_client import Client

    pages = -(-jobs // 40)
    ways = {"first": ("history_load", {}), "filtered": ("history_refresh", FILTERED),
            "deep": ("history_refresh", {"Page": pages})}
    page = PageClient(url)
    try:
        start = time.perf_counter()
        page.stream("history_load", {}, BROWSER)
        cold_ms = (time.perf_counter() - start) * 1000
        page_ms: dict[str, list[float]] = {}
        for way, (api, values) in ways.items():
            for _ in range(3):
                page.stream(api, values, BROWSER)
            page_ms[way] = []
            for _ in range(calls):
                start = time.perf_counter()
                got = page.stream(api, values, BROWSER)
                page_ms[way].append((time.perf_counter() - start) * 1000)
            tiles = _tiles(got)
            if way == "first":  # a full first page of the user's jobs, as thumbnails
                assert len(tiles) == 40 and all(t.endswith(".webp") for t in tiles), tiles[:3]
            elif way == "filtered":
                assert len(tiles) == min(40, -(-jobs // 50)), len(tiles)
            else:
                assert len(tiles) == jobs - 40 * (pages - 1), len(tiles)
    finally:
        page.close()
    client = Client(url, verbose=False, download_files=False)
    try:
        client.predict(BROWSER, api_name="/history_load")
        gc_ms = []
        for _ in range(max(3, calls // 4)):
            start = time.perf_counter()
            client.predict(BROWSER, api_name="/history_load")
            gc_ms.append((time.perf_counter() - start) * 1000)
    finally:
        client.close()
    return page_ms, gc_ms, cold_ms


def store_ms(data_dir: Path, calls: int) -> float:
    from comfy_ui_app.jobs import history_query
    from comfy_ui_app.jobs.store import JobStore

    store = JobStore(data_dir)
    wanted = history_query.HistoryFilter(OWNER)
    try:
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            history_query.count(store, wanted)
            history_query.page(store, wanted, limit=40)
            times.append((time.perf_counter() - start) * 1000)
    finally:
        store.close()
    return median(times)


STARTS = 3  # app starts measured; the page time is their median
START_TIMEOUT_S = 300.0  # a start slower than this is a crash (a loaded machine starts it in a minute or two)


def run(quick: bool = False) -> Report:
    report = Report("startup")
    jobs, calls = (500, 5) if quick else (10_000, 20)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp, comfy_server() as server:
        data = Path(tmp) / "data"
        fill_s = fill_store(data, jobs)
        report.say(f"job store filled with {jobs} jobs of one browser in {fill_s:.1f} s")
        starts = []
        for _ in range(STARTS - 1):  # more starts: one is at the mercy of whatever else the machine does
            with app_process(server.url, data, timeout=START_TIMEOUT_S) as app:
                starts.append(app.startup_s)
        with app_process(server.url, data, timeout=START_TIMEOUT_S) as app:
            starts.append(app.startup_s)
            time.sleep(3)
            idle = rss_mb(app.proc.pid)
            page_ms, gc_ms, cold_ms = history_times(app.url, calls, jobs)
            after = rss_mb(app.proc.pid)
        startup = median(starts)
        report.say(f"python app.py -> GET / 200: {startup:.2f} s median of {len(starts)} starts "
                   f"({', '.join(f'{s:.2f}' for s in starts)}); idle RSS {idle:.0f} MB "
                   f"({after:.0f} MB after the History calls)")
        meds = {way: median(times) for way, times in page_ms.items()}
        for way, words in (("first", "first page"), ("filtered", "filtered page (text + favourites)"),
                           ("deep", "deep page (the last)")):
            report.say(f"History grid, {words} over {jobs} jobs: {meds[way]:.1f} ms median as a page "
                       f"(p90 {statistics.quantiles(page_ms[way], n=10)[-1]:.1f} ms, {len(page_ms[way])} calls)")
        report.say(f"History first page: {cold_ms:.0f} ms the first time (40 thumbnails made), "
                   f"{median(gc_ms):.1f} ms through gradio_client; the store's part (count + 40 tiles) "
                   f"{store_ms(data, calls):.2f} ms")
    report.check("start-up to a served page", startup, "s", "< 3 s", startup < 3.0)
    report.check("idle RSS", idle, "MB", "< 300 MB", idle < 300)
    report.check(f"History page over {jobs} jobs", meds["first"], "ms", "< 200 ms", meds["first"] < 200)
    report.check(f"History filtered page over {jobs} jobs", meds["filtered"], "ms", "< 200 ms", meds["filtered"] < 200)
    report.check(f"History deep page over {jobs} jobs", meds["deep"], "ms", "< 200 ms", meds["deep"] < 200)
    return report
