"""(c) 50 gradio_client sessions at once vs the same 50 jobs through ``Comfy.submit``.

Each session is its own ``gradio_client.Client`` (its own Gradio session) and claims its
own browser id, so the app records 50 different owners. All 50 call ``/generate`` at the
same moment (a barrier), against ``python app.py`` run as a child process (its own
interpreter, as deployed: over a Cluster with ``per_server=2``); the wall time to the last
``Done`` gives jobs/s. (With the app inside this process, the 50 clients, the test server
and the app would share one GIL; ``--profile`` does exactly that, to sample the app.) Every job must end
"Done" with its PNG in the gallery, and the job store must hold 50 successful records:
a job that never finished, failed or went missing is a lost job.

Direct: 50 threads each ``Comfy.submit(prompt).wait()`` on the same test server. Rounds
alternate (direct, app, direct, app, ...); overhead = median app wall / median direct wall - 1.

Two server settings: zero work (``step_time=0``, 2 steps: the app's own cost per job laid
bare) and 10 ms x 10 steps (100 ms of "GPU" per job, still far shorter than a real one).
"""
from __future__ import annotations

import contextlib
import itertools
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from comfy_ui_app.store import JobStore

from . import Report, median
from ._servers import app_process, comfy_server, generate_args, launched_app, prompt

SEEDS = itertools.count(5000)


def direct(url: str, sessions: int, steps: int) -> float:
    """Wall seconds for ``sessions`` threads each submitting one job and waiting for it."""
    from comfy_ui_app import Comfy

    with Comfy(url) as comfy:
        comfy.wait_connected(10)
        graphs = [prompt(next(SEEDS), steps=steps) for _ in range(sessions)]
        barrier = threading.Barrier(sessions + 1)

        def one(graph):
            barrier.wait()
            finished = comfy.submit(graph).wait(timeout=120)
            assert finished.ok and finished.images, finished

        with ThreadPoolExecutor(sessions) as pool:
            futures = [pool.submit(one, g) for g in graphs]
            barrier.wait()
            start = time.perf_counter()
            for f in futures:
                f.result()
            return time.perf_counter() - start


def through_app(app, clients, args_of, steps: int) -> tuple[float, int]:
    """(wall seconds, jobs lost) for one ``/generate`` per client, all at once."""
    before = {r.job_id for r in app.store.list(limit=100000)}
    if getattr(app, "proc", None) is not None and app.proc.poll() is not None:
        raise RuntimeError("the app process died")
    browsers = [uuid.uuid4().hex for _ in clients]
    barrier = threading.Barrier(len(clients) + 1)

    def one(client, browser):
        args = args_of(browser, next(SEEDS))
        barrier.wait()
        final = client.submit(*args, api_name="/generate").result(timeout=300)
        return final

    with ThreadPoolExecutor(len(clients)) as pool:
        futures = [pool.submit(one, c, b) for c, b in zip(clients, browsers)]
        barrier.wait()
        start = time.perf_counter()
        finals = [f.result() for f in futures]
        wall = time.perf_counter() - start
    done = sum(1 for out in finals if "Done" in str(out[0]) and len(out[2] or []) == 1)
    records = [r for r in app.store.list(limit=100000) if r.job_id not in before]
    ok = {r.owner for r in records if r.status == "success" and len(r.outputs) == 1}
    lost = len(clients) - min(done, len(ok & {f"browser:{b}" for b in browsers}))
    return wall, lost


def measure(sessions: int, rounds: int, step_time: float, steps: int, profile: bool = False) -> dict:
    from gradio_client import Client

    with contextlib.ExitStack() as stack:
        server = stack.enter_context(comfy_server(step_time=step_time, preview=False))
        if profile:
            app = stack.enter_context(launched_app(server.url))
        else:
            data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-conc-"))) / "data"
            app = stack.enter_context(app_process(server.url, data))
            app.store = stack.enter_context(contextlib.closing(JobStore(data)))
        with ThreadPoolExecutor(8) as pool:  # 50 Clients: each fetches the config first
            clients = list(pool.map(lambda _: Client(app.url, verbose=False, download_files=False),
                                    range(sessions)))
        template = generate_args(clients[0], "BROWSER", steps=steps, seed=0)
        seed_at = next(i for i, v in enumerate(template) if v == 0)
        browser_at = template.index("BROWSER")

        def args_of(browser, seed):
            args = list(template)
            args[seed_at], args[browser_at] = seed, browser
            return args

        through_app(app, clients[:2], args_of, steps)  # warm-up (first run compiles, caches object_info)
        direct(server.url, 2, steps)
        walls = {"direct": [], "app": []}
        lost = 0
        sampler_report = None
        if profile:  # one extra app round under the sampler (not counted)
            from ._profile import Sampler

            with Sampler() as sampler:
                through_app(app, clients, args_of, steps)
            sampler_report = sampler.report()
        try:
            for _ in range(rounds):
                walls["direct"].append(direct(server.url, sessions, steps))
                wall, missing = through_app(app, clients, args_of, steps)
                walls["app"].append(wall)
                lost += missing
        finally:
            for client in clients:
                client.close()
    return {"direct": median(walls["direct"]), "app": median(walls["app"]), "lost": lost, "walls": walls,
            "profile": sampler_report}


def run(quick: bool = False, profile: bool = False) -> Report:
    """``profile``: also sample one extra app round of each setting and print where the CPU went."""
    report = Report("concurrency")
    sessions, rounds = (5, 1) if quick else (50, 3)
    settings = (("zero work", 0.0, 2), ("10 ms x 10 steps", 0.01, 10))
    for label, step_time, steps in settings[:1] if quick else settings:
        m = measure(sessions, rounds, step_time, steps, profile)
        if m["profile"]:
            report.say(f"profile of one app round ({label}):\n" + m["profile"])
        overhead = m["app"] / m["direct"] - 1
        report.say(f"{label}: {sessions} sessions x {rounds} rounds: app {m['app']:.2f} s "
                   f"({sessions / m['app']:.1f} jobs/s), direct Comfy.submit {m['direct']:.2f} s "
                   f"({sessions / m['direct']:.1f} jobs/s); app/direct = {m['app'] / m['direct']:.2f}x; "
                   f"lost jobs {m['lost']}; walls {m['walls']}")
        report.check(f"lost jobs ({label})", m["lost"], "jobs", "0", m["lost"] == 0)
        report.check(f"overhead vs direct ({label})", overhead * 100, "%", "<= 10 %", overhead <= 0.10)
    return report
