"""History's grid as queries: one page of jobs as tiles, and how many jobs a filter finds.

The page shows a tile per job, newest first; a filter narrows it by owner (a user's own jobs;
None: everyone's, for an admin), text in the prompt, the star, the tab that made the job (its
``kind``) and the time it was submitted. Only the light columns are read (not the graph nor the
values), then the outputs of the page's jobs in one more query::

    wanted = HistoryFilter(owner="alice", text="fox", starred=True)
    total = count(store, wanted)
    tiles = page(store, wanted, limit=40, offset=0)   # newest first; tile.picture: its first picture

The indexes that keep a filtered page fast over 10,000 jobs are the store's
(``jobs(owner, created_at)``, ``jobs(owner, starred, created_at)``, ``jobs(owner, kind, created_at)``
and their everyone's twins). The text filter reads each of the owner's jobs' values (``json_each``):
a few milliseconds per 10,000 jobs. Callers check their input: :func:`filter_problem` says what a
filter must not be.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from comfy_ui_app.jobs.records import OutputFile
from comfy_ui_app.jobs.store import JobStore

__all__ = ["HistoryFilter", "Tile", "TAB_KINDS", "OTHER_KIND", "MAX_TEXT_CHARS", "filter_problem", "count", "page"]

TAB_KINDS = ("txt2img", "inpaint", "custom")  # the page's generating tabs, as stored in ``kind``
OTHER_KIND = "other"                           # every other kind: the command line, a re-run from elsewhere...
MAX_TEXT_CHARS = 200
# the values whose words the text filter reads: the prompts and free text fields of a form
_TEXT_KEYS = "(v.key IN ('prompt', 'negative') OR v.key LIKE '%prompt%' OR v.key LIKE '%text%')"
_TILE_COLUMNS = "job_id, owner, template, kind, status, created_at, started_at, finished_at, starred"


@dataclass(frozen=True)
class HistoryFilter:
    """Which jobs a page shows. ``since``/``until``: ``time.time()`` seconds, ``until`` excluded."""

    owner: str | None
    text: str = ""
    starred: bool = False
    kind: str | None = None   # one of TAB_KINDS, OTHER_KIND, or None: every kind
    since: float | None = None
    until: float | None = None


@dataclass(frozen=True)
class Tile:
    """One job as the grid shows it; ``outputs`` in the order they were added."""

    job_id: str
    owner: str
    template: str
    kind: str
    status: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    starred: bool
    outputs: tuple[OutputFile, ...]

    @property
    def picture(self) -> OutputFile | None:
        """The job's first picture still on disk, if any."""
        return next((o for o in self.outputs if o.media == "image" and o.path.is_file()), None)

    @property
    def media(self) -> str | None:
        """What the job made when it made no picture: the first output's media (video, audio...)."""
        return self.outputs[0].media if self.outputs else None

    @property
    def duration(self) -> float | None:
        start = self.created_at if self.started_at is None else self.started_at
        return None if self.finished_at is None else self.finished_at - start


def _time_problem(value) -> bool:
    return value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value))


def filter_problem(wanted: HistoryFilter) -> str | None:
    """What makes ``wanted`` unusable, in a few English words for logs (the page words its own); None if fine."""
    if not isinstance(wanted.text, str) or len(wanted.text) > MAX_TEXT_CHARS:
        return f"text: at most {MAX_TEXT_CHARS} characters"
    if wanted.kind is not None and wanted.kind not in (*TAB_KINDS, OTHER_KIND):
        return "kind: unknown"
    if _time_problem(wanted.since) or _time_problem(wanted.until):
        return "times: not finite numbers"
    return None


def _like(text: str) -> str:
    """``text`` as a LIKE pattern that matches it anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(wanted: HistoryFilter) -> tuple[str, list]:
    problem = filter_problem(wanted)
    if problem:
        raise ValueError(problem)
    clauses, args = ["1"], []
    if wanted.owner is not None:
        clauses, args = [*clauses, "owner = ?"], [*args, wanted.owner]
    if wanted.starred:
        clauses.append("starred = 1")
    if wanted.kind == OTHER_KIND:
        clauses.append(f"kind NOT IN ({', '.join(repr(k) for k in TAB_KINDS)})")
    elif wanted.kind is not None:
        clauses, args = [*clauses, "kind = ?"], [*args, wanted.kind]
    if wanted.since is not None:
        clauses, args = [*clauses, "created_at >= ?"], [*args, float(wanted.since)]
    if wanted.until is not None:
        clauses, args = [*clauses, "created_at < ?"], [*args, float(wanted.until)]
    if wanted.text.strip():
        clauses.append("EXISTS (SELECT 1 FROM json_each(jobs.values_json) AS v WHERE v.type = 'text' AND "
                       f"{_TEXT_KEYS} AND v.value LIKE ? ESCAPE '\\')")
        args.append(_like(wanted.text.strip()))
    return " AND ".join(clauses), args


def count(store: JobStore, wanted: HistoryFilter) -> int:
    """How many jobs ``wanted`` finds."""
    where, args = _where(wanted)
    return store.read(f"SELECT COUNT(*) FROM jobs WHERE {where}", args)[0][0]


def page(store: JobStore, wanted: HistoryFilter, *, limit: int, offset: int = 0) -> list[Tile]:
    """The jobs ``wanted`` finds, newest first, ``limit`` of them from ``offset``, with their outputs."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    where, args = _where(wanted)
    rows = store.read(f"SELECT {_TILE_COLUMNS} FROM jobs WHERE {where}"
                      " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", [*args, limit, offset])
    found = store.read("SELECT job_id, path, filename, node, kind FROM outputs"
                       " WHERE job_id IN (SELECT value FROM json_each(?)) ORDER BY id",
                       [json.dumps([row[0] for row in rows])])
    outputs: dict[str, list[OutputFile]] = {}
    for job_id, path, filename, node, kind in found:
        outputs.setdefault(job_id, []).append(OutputFile(store.outputs_dir / path, filename, node, kind))
    return [Tile(*row[:8], bool(row[8]), tuple(outputs.get(row[0], ()))) for row in rows]
