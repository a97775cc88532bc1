"""(e) Start-up to a served page, idle memory, and the History page over 10,000 jobs.

A test server runs in this process; ``python app.py --server URL --port P --data DIR`` runs
as a child process (exactly as a user starts it), with a job store already holding 10,000
finished jobs of one browser (filled through ``JobStore.create``; statuses set to
"success" in one SQL statement afterwards, and the newest 24 given a PNG, so the first
pages have thumbnails). Measured:

* start-up: from spawning the process to the first ``GET /`` answered 200 (polled every 20 ms),
  the median of three starts over the same store;
* idle RSS: ``VmRSS`` of ``/proc/<pid>/status`` 3 s after the page was first served;
* History page: the History tab's load event (``history_load``: count + first page + the
  table, thumbnails and job list it renders) as a browser sends it, answer in hand
  (``_sse.PageClient``; median of 20 after 3 warm-ups); also through ``gradio_client``
  (whose reader adds up to 50 ms of polling), and the store's part alone (count + one page).
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
    Image.new("RGB", (64, 64), (200, 80, 40)).save(png, format="PNG")
    ids = []
    for i in range(jobs):
        graph["3"]["inputs"]["seed"] = i
        record = store.create(owner=OWNER, template="txt2img.json", values={"prompt": "a red fox", "seed": i},
                              prompt=graph, server="", prompt_id=f"00000000-0000-4000-8000-{i:012d}")
        ids.append(record.job_id)
    for job_id in ids[-24:]:
        store.add_output(job_id, png.getvalue(), "ComfyUI_00001_.png", node="9")
    store.close()
    with sqlite3.connect(data_dir / "jobs.sqlite3") as db:
        db.execute("UPDATE jobs SET status = 'success', started_at = created_at, finished_at = created_at + 4")
    return time.perf_counter() - start


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def history_times(url: str, calls: int) -> tuple[list[float], list[float]]:
    """(ms per History load as a page, ms through gradio_client)."""
    from gradio_client import Client

    page = PageClient(url)
    try:
        for _ in range(3):
            page.stream("history_load", {}, BROWSER)
        page_ms = []
        for _ in range(calls):
            start = time.perf_counter()
            got = page.stream("history_load", {}, BROWSER)
            page_ms.append((time.perf_counter() - start) * 1000)
        rows = got[-1][1]["output"]["data"][2]["value"]["data"]
        assert len(rows) == 12, rows  # a full first page of the user's 10,000 jobs
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
    return page_ms, gc_ms


def store_ms(data_dir: Path, calls: int) -> float:
    from comfy_ui_app.jobs.store import JobStore

    store = JobStore(data_dir)
    try:
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            store.count(owner=OWNER)
            store.list(owner=OWNER, limit=12)
            times.append((time.perf_counter() - start) * 1000)
    finally:
        store.close()
    return median(times)


STARTS = 3  # app starts measured; the page time is their median


def run(quick: bool = False) -> Report:
    report = Report("startup")
    jobs, calls = (500, 5) if quick else (10_000, 20)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp, comfy_server() as server:
        data = Path(tmp) / "data"
        fill_s = fill_store(data, jobs)
        report.say(f"job store filled with {jobs} jobs of one browser in {fill_s:.1f} s")
        starts = []
        for _ in range(STARTS - 1):  # more starts: one is at the mercy of whatever else the machine does
            with app_process(server.url, data) as app:
                starts.append(app.startup_s)
        with app_process(server.url, data) as app:
            starts.append(app.startup_s)
            time.sleep(3)
            idle = rss_mb(app.proc.pid)
            page_ms, gc_ms = history_times(app.url, calls)
            after = rss_mb(app.proc.pid)
        startup = median(starts)
        report.say(f"python app.py -> GET / 200: {startup:.2f} s median of {len(starts)} starts "
                   f"({', '.join(f'{s:.2f}' for s in starts)}); idle RSS {idle:.0f} MB "
                   f"({after:.0f} MB after the History calls)")
        page_med = median(page_ms)
        report.say(f"History first page over {jobs} jobs: {page_med:.1f} ms median as a page "
                   f"(p90 {statistics.quantiles(page_ms, n=10)[-1]:.1f} ms, {len(page_ms)} calls), "
                   f"{median(gc_ms):.1f} ms through gradio_client; the store's part (count + 12 records) "
                   f"{store_ms(data, calls):.2f} ms")
    report.check("start-up to a served page", startup, "s", "< 3 s", startup < 3.0)
    report.check("idle RSS", idle, "MB", "< 300 MB", idle < 300)
    report.check(f"History page over {jobs} jobs", page_med, "ms", "< 200 ms", page_med < 200)
    return report
