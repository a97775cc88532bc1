"""A sampling profiler for every thread of this process (``sys._current_frames``).

``with Sampler() as s: ...; print(s.report())``: every ``interval`` seconds it records the
stack of each thread that is *working* (a stack whose innermost frame is a known wait -
``Condition.wait``, ``selectors.select``, ``time.sleep``, a socket read, ... - is idle and
skipped). ``report()`` lists the functions seen most often as the innermost frame of our
own code (``comfy_ui_app``) and of any code, with ``file:line``: a rough map of where the
CPU goes when a benchmark misses. The sampler's own thread is left out.

A thread blocked inside a C call that is not in that list still looks busy to a stack
sampler, so ``report()`` starts with the truth from the kernel: CPU seconds per thread
(``/proc/self/task/<tid>/stat``, utime + stime), grouped by thread name.
"""
from __future__ import annotations

import collections
import os
import re
import sys
import threading
import time
from pathlib import Path

IDLE = {("threading.py", "wait"), ("selectors.py", "select"), ("socket.py", "readinto"),
        ("ssl.py", "read"), ("queue.py", "get"), ("threading.py", "_wait_for_tstate_lock"),
        ("base_events.py", "_run_once"), ("_base.py", "result"), ("thread.py", "_worker"),
        ("threading.py", "acquire"), ("_asyncio.py", "run_sync_in_worker_thread"), ("utils.py", "check_for_cancel"),
        ("utils.py", "stream_sse_v1plus"), ("_websocket.py", "recv"), ("_socket.py", "recv"),
        ("_socket.py", "_recv"), ("sync.py", "read"), ("client.py", "__next__"), ("client.py", "_predict")}


def _where(frame) -> str:
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} {frame.f_code.co_name}"


def _short(frame) -> str:
    path = frame.f_code.co_filename
    for marker in ("site-packages/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{frame.f_lineno} {frame.f_code.co_name}"


class Sampler:
    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.samples = 0
        self.busy = 0
        self.leaf = collections.Counter()      # innermost frame of any code
        self.ours = collections.Counter()      # innermost comfy_ui_app frame on the stack
        self.inclusive = collections.Counter()  # every comfy_ui_app function on the stack
        self.by_area = collections.Counter()   # gradio_client / gradio / comfy_ui_app / test server / other
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._cpu0, self._names = _thread_cpu(), {}
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.wall = time.perf_counter() - self._t0
        cpu1 = _thread_cpu()
        self.cpu = collections.Counter()
        for tid, seconds in cpu1.items():
            name = re.sub(r"\d+", "N", self._names.get(tid) or _name_of(tid))
            self.cpu[name] += seconds - self._cpu0.get(tid, 0.0)

    def _loop(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.interval):
            self.samples += 1
            if self.samples % 50 == 1:
                for t in threading.enumerate():
                    if t.native_id is not None:
                        self._names[t.native_id] = t.name
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                code = frame.f_code
                if (Path(code.co_filename).name, code.co_name) in IDLE or code.co_name in ("sleep", "select"):
                    continue
                self.busy += 1
                self.leaf[_short(frame)] += 1
                area, ours_seen, seen = "other", False, set()
                f = frame
                while f is not None:
                    path = f.f_code.co_filename
                    if "comfy_ui_app" in path:
                        key = _short(f)
                        if not ours_seen:
                            self.ours[key] += 1
                            ours_seen = True
                        name = f"{Path(path).name} {f.f_code.co_name}"
                        if name not in seen:
                            seen.add(name)
                            self.inclusive[name] += 1
                    f = f.f_back
                stack = "".join(_f.f_code.co_filename for _f in _walk(frame))
                for marker, label in (("gradio_client", "gradio_client (the bench's sessions)"),
                                      ("comfy_test_server", "test server"), ("comfy_ui_app", "comfy_ui_app"),
                                      ("/gradio/", "gradio server"), ("uvicorn", "gradio server"),
                                      ("websocket", "websocket")):
                    if marker in stack:
                        area = label
                        break
                self.by_area[area] += 1

    def report(self, top: int = 15) -> str:
        total = max(1, self.busy)
        spent = sum(self.cpu.values())
        lines = [f"CPU {spent:.1f} s over {self.wall:.1f} s of wall ({spent / self.wall:.2f} cores); by thread name:"]
        lines += [f"  {v:6.2f} s  {k}" for k, v in self.cpu.most_common(top) if v > 0.005]
        lines += [f"{self.busy} busy thread-samples over {self.samples} ticks of {self.interval * 1000:.0f} ms "
                 f"(~{self.busy / max(1, self.samples):.2f} threads working on average)"]
        lines.append("by area: " + ", ".join(f"{k} {v / total:.0%}" for k, v in self.by_area.most_common()))
        lines.append("comfy_ui_app functions on the stack (inclusive):")
        lines += [f"  {v / total:6.1%}  {k}" for k, v in self.inclusive.most_common(top)]
        lines.append("innermost comfy_ui_app frame:")
        lines += [f"  {v / total:6.1%}  {k}" for k, v in self.ours.most_common(top)]
        lines.append("innermost frame, any code:")
        lines += [f"  {v / total:6.1%}  {k}" for k, v in self.leaf.most_common(top)]
        return "\n".join(lines)


def _walk(frame):
    while frame is not None:
        yield frame
        frame = frame.f_back


def _thread_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of each thread of this process, by native thread id."""
    tick = os.sysconf("SC_CLK_TCK")
    result = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        result[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return result


def _name_of(tid: int) -> str:
    for t in threading.enumerate():
        if t.native_id == tid:
            return t.name
    if tid == os.getpid():
        return "main"
    return "(ended thread)"
