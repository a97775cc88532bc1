"""The System tab's "Jobs in the last hour" table: counts, waits and run times per server.

    rows = store.stats(since=time.time() - WINDOW_S)       # (server, status, queue_wait, run_time)
    per_server, overall = summarize(rows)                  # pure: counts and percentiles
    table = number_rows(per_server, overall, servers=[url, ...], depths={url: n}, app_waiting=n, lang="en")

Outcomes: "succeeded" is ``success``; "failed" is ``error`` or ``lost``; "cancelled" is
``interrupted`` (or ``cancelled``). Queue wait is creation to start, run time start to end,
each over the jobs that have one (a job refused before it ran has neither). Percentiles
interpolate linearly between the two nearest ranks (numpy's default): the median of 1, 2, 3, 4
is 2.5. "Queue now" is ComfyUI's own ``queue_remaining`` of each server (every client's jobs,
running included), the app's own waiting jobs on the app-queue row, and their sum on "All".
Jobs and servers only: no user, prompt or file appears, so the table is shown to everyone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from comfy_ui_app.texts.i18n import tr

__all__ = ["WINDOW_S", "NUMBER_HEADERS", "Summary", "percentile", "summarize", "number_rows", "seconds"]

WINDOW_S = 3600.0
NUMBER_HEADERS = ("Server", "Succeeded", "Failed", "Cancelled", "Median wait", "95% wait",
                  "Median run time", "95% run time", "Queue now")
_OUTCOME = {"success": "succeeded", "error": "failed", "lost": "failed", "interrupted": "cancelled",
            "cancelled": "cancelled"}


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of ``values``, linear between ranks; None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Summary:
    """One row's figures; ``waits`` and ``runs`` are the seconds they are taken from."""

    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    waits: list = field(default_factory=list)
    runs: list = field(default_factory=list)

    def add(self, status: str, wait: float | None, run: float | None) -> None:
        outcome = _OUTCOME.get(status)
        if outcome is not None:
            setattr(self, outcome, getattr(self, outcome) + 1)
        if wait is not None:
            self.waits.append(max(0.0, wait))
        if run is not None:
            self.runs.append(max(0.0, run))

    @property
    def figures(self) -> tuple:
        """(succeeded, failed, cancelled, median wait, p95 wait, median run, p95 run)."""
        return (self.succeeded, self.failed, self.cancelled, percentile(self.waits, 50), percentile(self.waits, 95),
                percentile(self.runs, 50), percentile(self.runs, 95))


def summarize(rows: Iterable[Sequence]) -> tuple[dict[str, Summary], Summary]:
    """``(per server, overall)`` of ``(server, status, queue_wait, run_time)`` rows; servers in
    the order first seen ("" = jobs that never left the app's own queue)."""
    per_server: dict[str, Summary] = {}
    overall = Summary()
    for server, status, wait, run in rows:
        per_server.setdefault(server or "", Summary()).add(status, wait, run)
        overall.add(status, wait, run)
    return per_server, overall


def seconds(value: float | None) -> str:
    """``0.42`` -> ``0.4 s``; ``75`` -> ``1 min 15 s``; None -> ``—``."""
    if value is None:
        return "—"
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest} s"


def number_rows(per_server: Mapping[str, Summary], overall: Summary, *, servers: Sequence[str],
                depths: Mapping[str, int | None], app_waiting: int | None, lang: str,
                labels: Mapping[str, str] | None = None) -> list[list]:
    """The table: every configured server (jobs or not), servers no longer configured that
    ran jobs in the window, the app's own queue (when it has jobs), then "All". ``labels``:
    url -> what the page shows of it; when one hides its url, so do the servers not configured."""
    names = [*servers, *(s for s in per_server if s and s not in servers)]
    shown = dict(labels or {})
    if any(url != label for url, label in shown.items()):
        former = [name for name in names if name and name not in shown]
        shown.update((url, tr("Former server {n}", lang, n=n)) for n, url in enumerate(former, 1))
    if "" in per_server or app_waiting:
        names.append("")
    known = [d for d in depths.values() if d is not None]
    rows = []
    for name in names:
        counts = per_server.get(name, Summary()).figures
        depth = (app_waiting or 0) if name == "" else depths.get(name)
        label = shown.get(name, name) or tr("The app's own queue", lang)
        rows.append([label, *counts[:3], *map(seconds, counts[3:]), "—" if depth is None else depth])
    total = sum(known) + (app_waiting or 0) if known or app_waiting is not None else None
    figures = overall.figures
    rows.append([tr("All", lang), *figures[:3], *map(seconds, figures[3:]), "—" if total is None else total])
    return rows
