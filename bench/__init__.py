"""Benchmarks: what the app adds on top of ComfyUI's own time, measured side by side.

``python -m bench`` runs every benchmark (``--quick`` for a short run, ``python -m bench
overhead`` for one); each module has ``run(quick: bool) -> Report`` and measures against
the bundled test server (``tests/comfy_test_server``) on loopback. See ``bench/RESULTS.md``.

=============  ==============================================================================
overhead       client ms/job: ours vs a minimal requests+websocket-client client vs
               comfy-api-simplified, interleaved
latency        test server sends ``progress`` -> gradio_client receives the page update
               (p50/p95); preview frames sent vs shown per second
concurrency    50 gradio_client sessions at once vs the same 50 jobs through Comfy.submit
scaling        1, 2, 4 test servers through Cluster: jobs/s
startup        ``python app.py`` to a served page, idle RSS, History over 10,000 jobs
forms          an uploaded workflow of 200, 1,000, 2,000 nodes -> its form (code and page)
bombs          four 13000×13000 PNG bombs sent to Inpainting at once: the app's peak RSS, each refused
clicks         Chromium clicks Generate -> the new picture drawn: the page vs a minimal Gradio app
               vs the direct client (median, p90)
=============  ==============================================================================
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

__all__ = ["BENCHMARKS", "Check", "Report", "percentile", "median"]

BENCHMARKS = ("overhead", "latency", "concurrency", "scaling", "startup", "forms", "bombs", "clicks")


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values, q: float) -> float:
    """The ``q``-th percentile (0-100), nearest-rank on the sorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


@dataclass
class Check:
    """One target: ``name`` measured ``value`` (``unit``) against ``target`` text; PASS or MISS."""

    name: str
    value: float
    unit: str
    target: str
    ok: bool

    def line(self) -> str:
        return f"  [{'PASS' if self.ok else 'MISS'}] {self.name}: {self.value:.3g} {self.unit} (target {self.target})"


@dataclass
class Report:
    """What one benchmark found: printed lines (numbers) and its checks."""

    name: str
    lines: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.lines.append(text)
        print(f"  {text}", flush=True)

    def check(self, name: str, value: float, unit: str, target: str, ok: bool) -> Check:
        c = Check(name, value, unit, target, bool(ok))
        self.checks.append(c)
        print(c.line(), flush=True)
        return c

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)
