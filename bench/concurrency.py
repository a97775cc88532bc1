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

Floor: the same rounds against ``bench/_floor_app.py`` (its own interpreter too), a minimal
Gradio app whose ``/generate`` has the real one's inputs and outputs and yields as many
updates per job as the real one did in the first app round (mostly ``gr.skip()``, the last
with one PNG in a gallery), while one process-wide lock stands in for the server's serial
work (0 s per job for zero work, 0.1 s for 10 ms x 10). Rounds go direct, app, floors; the
floor is what Gradio and 50 gradio_client sessions cost with no app and no ComfyUI at all.

CPU per job: the app's and the floor's own process CPU time (``/proc/<pid>/stat``, user +
system) over each counted round, divided by the sessions: unlike wall time it hardly moves
when something else shares the machine, so it shows what a change to the app buys.

Two floors run each round: ``floor`` on a bare ``gr.Blocks`` (what any Gradio app pays: each
output an update skips costs Gradio a component rebuild) and ``floor_fast`` on the app's own
``Blocks`` (:mod:`comfy_ui_app.ui._blocks`: skipped outputs cost nothing), the fair floor for the app.

Two server settings: zero work (``step_time=0``, 2 steps: the app's own cost per job laid
bare) and 10 ms x 10 steps (100 ms of "GPU" per job, still far shorter than a real one).
"""
from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from comfy_ui_app.jobs.store import JobStore

from . import Report, median
from ._servers import (ROOT, app_process, bench_browser_id, comfy_server, generate_args, launched_app, page_process,
                       prompt)

SEEDS = itertools.count(5000)


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of process ``pid`` so far (nan without one: in-process)."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def all_at_once(clients, args_of) -> tuple[float, list, list[int]]:
    """One ``/generate`` per client at one barrier: (wall seconds, final outputs, updates per job)."""
    barrier = threading.Barrier(len(clients) + 1)

    def one(client, i):
        args = args_of(i)
        barrier.wait()
        job = client.submit(*args, api_name="/generate")
        final = job.result(timeout=300)
        return final, len(job.outputs())  # one entry per update (yield) the page was sent

    with ThreadPoolExecutor(len(clients)) as pool:
        futures = [pool.submit(one, c, i) for i, c in enumerate(clients)]
        barrier.wait()
        start = time.perf_counter()
        results = [f.result() for f in futures]
        wall = time.perf_counter() - start
    return wall, [r[0] for r in results], [r[1] for r in results]


def through_app(app, clients, args_of, steps: int) -> tuple[float, int, list[int]]:
    """(wall seconds, jobs lost, updates per job) for one ``/generate`` per client, all at once."""
    before = {r.job_id for r in app.store.list(limit=100000)}
    if getattr(app, "proc", None) is not None and app.proc.poll() is not None:
        raise RuntimeError("the app process died")
    browsers = [bench_browser_id() for _ in clients]
    wall, finals, updates = all_at_once(clients, lambda i: args_of(browsers[i], next(SEEDS)))
    done = sum(1 for out in finals if "Done" in str(out[0]) and len(out[2] or []) == 1)
    records = [r for r in app.store.list(limit=100000) if r.job_id not in before]
    ok = {r.owner for r in records if r.status == "success" and len(r.outputs) == 1}
    lost = len(clients) - min(done, len(ok & {f"browser:{b}" for b in browsers}))
    return wall, lost, updates


def through_floor(clients, inputs: int, updates: int) -> tuple[float, int]:
    """(wall seconds, jobs that did not end "Done" with one picture after ``updates`` updates)."""
    wall, finals, counts = all_at_once(clients, lambda i: [f"prompt {i}"] * inputs)
    good = sum(1 for out, n in zip(finals, counts) if "Done" in str(out[0]) and len(out[1] or []) == 1 and n == updates)
    return wall, len(clients) - good


@contextlib.contextmanager
def floor_process(*, inputs: int, outputs: int, updates: int, work: float, fast_skips: bool = False,
                  timeout: float = 60.0):
    """``bench/_floor_app.py`` as a child process on a free port; yields ``.url`` and ``.proc``."""
    argv = [str(ROOT / "bench" / "_floor_app.py"), "--port", "{port}", "--inputs", str(inputs),
            "--outputs", str(outputs), "--updates", str(updates), "--work", str(work)]
    argv += ["--fast-skips"] if fast_skips else []
    with page_process(argv, "_floor_app.py", timeout=timeout) as page:
        yield page


def connect(url: str, count: int) -> list:
    from gradio_client import Client

    with ThreadPoolExecutor(8) as pool:  # each Client fetches the config first
        return list(pool.map(lambda _: Client(url, verbose=False, download_files=False), range(count)))


def measure(sessions: int, rounds: int, step_time: float, steps: int, profile: bool = False) -> dict:
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(comfy_server(step_time=step_time, preview=False))
        if profile:
            app = stack.enter_context(launched_app(server.url))
        else:
            data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-conc-"))) / "data"
            app = stack.enter_context(app_process(server.url, data))
            app.store = stack.enter_context(contextlib.closing(JobStore(data)))
        clients = connect(app.url, sessions)
        stack.callback(lambda: [c.close() for c in clients])
        template = generate_args(clients[0], "BROWSER", steps=steps, seed=0)
        seed_at = next(i for i, v in enumerate(template) if v == 0)
        browser_at = template.index("BROWSER")
        dependency = next(d for d in clients[0].config["dependencies"] if d.get("api_name") == "generate")
        shape = {"inputs": len(template), "outputs": len(dependency["outputs"])}

        def args_of(browser, seed):
            args = list(template)
            args[seed_at], args[browser_at] = seed, browser
            return args

        through_app(app, clients[:2], args_of, steps)  # warm-up (first run compiles, caches object_info)
        _, _, (lone_updates,) = through_app(app, clients[:1], args_of, steps)  # one call on an idle server
        direct(server.url, 2, steps)
        walls = {"direct": [], "app": [], "floor": [], "floor_fast": []}
        cpu = {"app": [], "floor": [], "floor_fast": []}  # CPU seconds of each process per counted round
        app_pid = None if profile else app.proc.pid
        lost, floor_bad, app_updates = 0, 0, []
        floors = {}  # "floor" (gr.Blocks) and "floor_fast" (the app's Blocks): (page process, clients)
        sampler_report = None
        if profile:  # one extra app round under the sampler (not counted)
            from ._profile import Sampler

            with Sampler() as sampler:
                through_app(app, clients, args_of, steps)
            sampler_report = sampler.report()
        for _ in range(rounds):
            walls["direct"].append(direct(server.url, sessions, steps))
            before = cpu_seconds(app_pid)
            wall, missing, updates = through_app(app, clients, args_of, steps)
            cpu["app"].append(cpu_seconds(app_pid) - before)
            walls["app"].append(wall)
            lost += missing
            app_updates += updates
            if not floors:  # shaped like the app as the first round found it
                shape["updates"] = round(median(updates))
                for name, fast in (("floor", False), ("floor_fast", True)):
                    page = stack.enter_context(floor_process(**shape, work=step_time * steps, fast_skips=fast))
                    floor_clients = connect(page.url, sessions)
                    stack.callback(lambda cs=floor_clients: [c.close() for c in cs])
                    through_floor(floor_clients[:2], shape["inputs"], shape["updates"])  # warm-up
                    floors[name] = (page, floor_clients)
            for name, (page, floor_clients) in floors.items():
                before = cpu_seconds(page.proc.pid)
                wall, bad = through_floor(floor_clients, shape["inputs"], shape["updates"])
                cpu[name].append(cpu_seconds(page.proc.pid) - before)
                walls[name].append(wall)
                floor_bad += bad
    return {**{name: median(w) for name, w in walls.items()},
            **{f"cpu_{name}": median(c) / sessions for name, c in cpu.items()},
            "lost": lost, "floor_bad": floor_bad, "walls": walls, "shape": shape, "lone_updates": lone_updates,
            "app_updates": app_updates, "profile": sampler_report}


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
        ups = m["app_updates"]
        report.say(f"{label}: real /generate ({m['shape']['inputs']} inputs, {m['shape']['outputs']} outputs) "
                   f"sent {m['lone_updates']} updates for a lone call, {min(ups)}-{max(ups)} (median "
                   f"{median(ups):g}) per job with {sessions} at once; the floor sends {m['shape']['updates']}")
        report.say(f"{label}: gradio floor (no ComfyUI work, same updates): {m['floor']:.2f} s; "
                   f"app/floor = {m['app'] / m['floor']:.2f}; floor/direct = {m['floor'] / m['direct']:.2f}; "
                   f"floor jobs not ending as shaped {m['floor_bad']}")
        report.say(f"{label}: floor on the app's Blocks (skipped outputs cost Gradio nothing): "
                   f"{m['floor_fast']:.2f} s; app/floor_fast = {m['app'] / m['floor_fast']:.2f}; "
                   f"floor_fast/direct = {m['floor_fast'] / m['direct']:.2f}")
        report.say(f"{label}: CPU per job (median round / {sessions}): app process {m['cpu_app'] * 1000:.1f} ms, "
                   f"floor {m['cpu_floor'] * 1000:.1f} ms, floor_fast {m['cpu_floor_fast'] * 1000:.1f} ms; "
                   f"app - floor_fast {(m['cpu_app'] - m['cpu_floor_fast']) * 1000:.1f} ms")
        report.check(f"lost jobs ({label})", m["lost"], "jobs", "0", m["lost"] == 0)
        report.check(f"overhead vs direct ({label})", overhead * 100, "%", "<= 10 %", overhead <= 0.10)
    return report
