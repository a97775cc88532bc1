"""(b) Event latency through the real app, and preview frames sent vs shown.

The test server runs in this process; its messenger's ``send`` is wrapped
(``_servers.wrap_sends``) to stamp each ``progress`` message just before it is written to
the app's WebSocket. The app (``build_app`` over a Cluster, as ``app.py`` runs it) is
launched on a free port and a job is streamed; each update is stamped when the client
gets it and its ``step v/n`` text is matched to the server's stamp for step ``v``. Both
stamps are ``time.perf_counter()`` of this one process. A step whose update was merged
into a later one (the page shows only the newest) counts as merged, not as a sample.

Two clients: the browser-like stream reader of ``_sse.py`` (the target: what a page
sees) and ``gradio_client`` (``download_files=False``; its iterator polls every 1 ms, but
its reader thread polls its message deque every 50 ms, which it adds on top).

Previews: the server at a tiny step time with previews on; frames the server sent to the
app's socket vs distinct preview images the client received, per second of sampling.
The app drops stale frames by design (:mod:`comfy_ui_app.ui.jobfeed` ``PREVIEW_INTERVAL_S`` = 0.25 s).
"""
from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
import time
import uuid

from comfy_ui_app.ui.jobfeed import PREVIEW_INTERVAL_S

from . import Report, percentile
from ._servers import CKPT, comfy_server, generate_args, launched_app, wrap_sends
from ._sse import PageClient

STEP = re.compile(r"step (\d+)/(\d+)")
SEEDS = itertools.count(1000)


class SendLog:
    """Server-side stamps: ``progress`` per (prompt_id, step), binary frames per prompt."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.progress: dict[tuple[str, int], float] = {}
        self.frames: list[float] = []

    def __call__(self, event, data, sid) -> None:
        now = time.perf_counter()
        with self.lock:
            if event == "progress":
                self.progress.setdefault((data.get("prompt_id"), int(data.get("value", 0))), now)
            elif event == "binary" and sid is not None:
                self.frames.append(now)


def via_page(page, browser: str, steps: int, seed: int) -> list[tuple[float, str]]:
    """``/generate`` through the browser-like reader: (time, raw message text) per update."""
    values = {"Prompt": "a red fox", "Negative prompt": "blurry", "Checkpoint": CKPT, "Steps": steps,
              "Width": 64, "Height": 64, "Seed": seed, "Random seed": False, "CFG": 7}
    got = page.stream("generate", values, browser)
    return [(t, json.dumps(m)) for t, m in got if m.get("msg") in ("process_generating", "process_completed")]


def via_gradio_client(client, browser: str, steps: int, seed: int) -> list[tuple[float, str]]:
    """``/generate`` through gradio_client: (time the iterator returned it, progress text)."""
    job = client.submit(*generate_args(client, browser, steps=steps, seed=seed), api_name="/generate")
    got = [(time.perf_counter(), str(out[0])) for out in job]
    job.result(timeout=60)
    return got


def latency_samples(server, log: SendLog, streamer, *, jobs: int, steps: int) -> tuple[list[float], int, int]:
    """(latencies in ms, steps sent, steps merged) over ``jobs`` jobs."""
    samples, sent, merged = [], 0, 0
    for _ in range(jobs):
        updates = streamer(uuid.uuid4().hex, steps, next(SEEDS))
        prompt_id = server.received_prompts[-1]["prompt_id"]
        assert "Done" in updates[-1][1], updates[-1]
        seen = set()
        for at, text in updates:
            for match in STEP.finditer(text):
                value = int(match.group(1))
                if value not in seen:
                    seen.add(value)
                    samples.append((at - log.progress[(prompt_id, value)]) * 1000)
        sent += steps
        merged += steps - len(seen)
    return samples, sent, merged


def previews(page, log: SendLog, *, steps: int) -> tuple[int, int, float]:
    """(frames sent, previews shown, seconds of sampling) for one job (the server's ``steps`` knob wins)."""
    log.frames.clear()
    values = {"Checkpoint": CKPT, "Steps": 2, "Width": 64, "Height": 64, "Seed": next(SEEDS), "Random seed": False}
    got = page.stream("generate", values, uuid.uuid4().hex)
    assert len(log.frames) >= steps, (len(log.frames), steps)
    shown = 0
    for _, message in got:
        if message.get("msg") != "process_generating":
            continue
        shown += _new_image(message["output"]["data"][1])
    span = (log.frames[-1] - log.frames[0]) if len(log.frames) > 1 else float("nan")
    return len(log.frames), shown, span


def _new_image(slot) -> bool:
    """Does this output slot (a full value, or a list of diff ops) carry a new image? An update
    that leaves the image alone (``gr.skip()``) comes as ``{"__type__": "update"}`` or as a
    diff deleting the previous value's keys: not a new frame."""
    if isinstance(slot, dict):
        return bool(slot.get("path") or slot.get("url"))
    return any(isinstance(op, list) and len(op) == 3 and op[0] in ("add", "replace") and op[1] in (["path"], [])
               and (op[1] == ["path"] or (isinstance(op[2], dict) and op[2].get("path"))) for op in slot or [])


@contextlib.contextmanager
def app_with_server(preview: bool, step_time: float, steps: int | None = None):
    log = SendLog()
    with comfy_server(step_time=step_time, preview=preview, steps=steps) as server:
        wrap_sends(server, log)
        with launched_app(server.url) as app:
            yield server, app, log


def run(quick: bool = False) -> Report:
    from gradio_client import Client

    report = Report("latency")
    jobs, steps = (1, 8) if quick else (6, 20)
    p95s = []
    for preview in (False, True):
        with app_with_server(preview, 0.05) as (server, app, log):
            page = PageClient(app.url)
            client = Client(app.url, verbose=False, download_files=False)
            try:
                for name, streamer in (("page stream", lambda b, n, s: via_page(page, b, n, s)),
                                       ("gradio_client", lambda b, n, s: via_gradio_client(client, b, n, s))):
                    samples, sent, merged = latency_samples(server, log, streamer, jobs=jobs, steps=steps)
                    p50, p95 = percentile(samples, 50), percentile(samples, 95)
                    if name == "page stream":
                        p95s.append(p95)
                    report.say(f"previews {'on ' if preview else 'off'}, 50 ms/step, {name}: progress sent -> "
                               f"update received: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(samples):.1f} ms "
                               f"({len(samples)} samples, {jobs} job(s); {merged} of {sent} steps merged "
                               f"into a later update)")
            finally:
                page.close()
                client.close()
    report.check("event latency p95, page stream (worst of previews off/on)", max(p95s), "ms", "<= 50 ms",
                 max(p95s) <= 50.0)
    preview_steps = 60 if quick else 400
    with app_with_server(True, 0.005, steps=preview_steps) as (server, app, log):
        page = PageClient(app.url)
        try:
            sent, shown, span = previews(page, log, steps=preview_steps)
        finally:
            page.close()
    report.say(f"previews at 5 ms/step ({preview_steps} steps, {span:.2f} s of sampling): server sent {sent} frames "
               f"({sent / span:.0f}/s), the page was sent {shown} ({shown / span:.1f}/s; the app's cap is "
               f"{1 / PREVIEW_INTERVAL_S:.0f}/s); stale frames dropped: {sent - shown}")
    return report
