"""(d) Scaling: 1, 2 and 4 test servers behind one ``Cluster``: jobs/s and the ratio to one.

Each server does 10 steps of 20 ms per job (200 ms of "GPU", previews off: the fake
server's JPEG encoder is not what is measured). ``Cluster(per_server=2)`` as ``app.py``
builds it; ``24 x servers`` jobs are submitted at once (``Cluster.submit``, one owner) and
the wall time to the last ``Finished`` gives jobs/s. One server can do at most 5 jobs/s,
so 4 servers at 3.6x one means the dispatcher keeps every server busy ~90 % of the time.
All servers and the app run in this process (as the test suite does), on 2 cores.
"""
from __future__ import annotations

import itertools
import time

from . import Report
from ._servers import comfy_servers, prompt

SEEDS = itertools.count(9000)
STEP_TIME, STEPS = 0.02, 10


def jobs_per_second(count: int, jobs_each: int) -> tuple[float, int]:
    """(jobs/s, jobs that did not succeed) with ``count`` servers."""
    from comfy_ui_app import Comfy
    from comfy_ui_app.cluster.cluster import Cluster

    with comfy_servers(count, step_time=STEP_TIME, steps=STEPS, preview=False) as servers:
        cluster = Cluster([Comfy(s.url) for s in servers], per_server=2).start()
        try:
            deadline = time.monotonic() + 20
            while not all(s.healthy for s in cluster.servers) and time.monotonic() < deadline:
                time.sleep(0.02)
            warm = [cluster.submit(prompt(next(SEEDS)), owner="bench") for _ in range(count)]
            for job in warm:
                job.wait(timeout=60)
            graphs = [prompt(next(SEEDS)) for _ in range(jobs_each * count)]
            start = time.perf_counter()
            jobs = [cluster.submit(g, owner="bench") for g in graphs]
            results = [job.wait(timeout=120) for job in jobs]
            wall = time.perf_counter() - start
        finally:
            cluster.close()
    failed = sum(1 for r in results if not (r.ok and r.images))
    return len(graphs) / wall, failed


def run(quick: bool = False) -> Report:
    report = Report("scaling")
    jobs_each = 4 if quick else 24
    rates = {}
    for count in (1, 2, 4):
        rate, failed = jobs_per_second(count, jobs_each)
        rates[count] = rate
        report.say(f"{count} server(s), {jobs_each * count} jobs of {STEPS} x {STEP_TIME * 1000:.0f} ms: "
                   f"{rate:.2f} jobs/s ({rate / rates[1]:.2f}x one server; ideal {count / (STEPS * STEP_TIME):.0f} "
                   f"jobs/s); failed {failed}")
        if failed:
            report.check(f"failed jobs with {count} server(s)", failed, "jobs", "0", False)
    ratio = rates[4] / rates[1]
    report.check("4 servers / 1 server", ratio, "x", ">= 3.6x", ratio >= 3.6)
    return report
