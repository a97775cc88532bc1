"""A durable, per-user job store: SQLite for the records, plain files for the outputs.

ComfyUI keeps its history in memory only; this remembers who submitted what, how it
went and which files came out, across restarts. It knows nothing of ComfyUI or Gradio.

    store = JobStore("data")
    job = store.create(owner="alice", template="txt2img", values=..., prompt=..., server=..., prompt_id=...)
    store.update_status(job.job_id, "running")          # and later "success", "error", ...
    store.add_output(job.job_id, png_bytes, "ComfyUI_00001_.png", node="9")
    store.list(owner="alice")                           # one page, newest first, outputs included

On disk: ``data_dir/jobs.sqlite3`` (plus its WAL files) and ``data_dir/outputs/<job_id>/<name>``.
Times are ``time.time()`` seconds; ``*_json`` columns are JSON text. The schema::

    jobs(id INTEGER PRIMARY KEY,        -- insertion order; breaks ties between equal times
         job_id TEXT UNIQUE,            -- uuid4 hex, the public id
         owner, template, kind, client, server, prompt_id TEXT,
         values_json, prompt_json TEXT, -- the form values and the API-format graph
         status TEXT, error TEXT NULL,  -- status is one of STATUSES; error: the error's English line
         created_at REAL, started_at REAL NULL, finished_at REAL NULL,
         timeline_json TEXT,            -- [{"status", "at", "detail"}, ...], oldest first
         error_code TEXT NULL,          -- the error's ``code`` (comfy_ui_app.errors), NULL for a row written
         error_data TEXT NULL,          --   before codes were kept; error_data: its ``data``, JSON
         starred INTEGER)               -- 1: the owner's favourite (History's star); 0 or NULL: not
    outputs(id INTEGER PRIMARY KEY,     -- the order files were added
            job_id TEXT, path TEXT,     -- path is relative to outputs/: "<job_id>/<name>"
            filename, node, kind TEXT)
    indexes: jobs(owner, created_at), jobs(created_at), jobs(prompt_id), jobs(status, created_at),
             jobs(finished_at) (the System tab's last hour, :meth:`JobStore.stats`), outputs(job_id),
             jobs(owner, starred, created_at), jobs(starred, created_at), jobs(owner, kind, created_at),
             jobs(kind, created_at) (History's filtered pages, :mod:`comfy_ui_app.jobs.history_query`)

A data folder written before ``error_code``/``error_data``/``starred`` existed gets them on opening
(``ALTER TABLE``; its rows keep their English ``error``, none is starred). All threads share one connection
behind a lock; each write is one ``BEGIN IMMEDIATE`` transaction, and ``busy_timeout`` makes
other processes wait their turn.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from comfy_ui_app.comfy.updates import OutputImage
from comfy_ui_app.jobs.records import STATUSES, TERMINAL, UNFINISHED, JobRecord, OutputFile, current_server

__all__ = ["JobStore", "JobRecord", "OutputFile", "STATUSES", "UNFINISHED", "TERMINAL", "current_server"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY, job_id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL, template TEXT NOT NULL,
    kind TEXT NOT NULL, client TEXT NOT NULL, values_json TEXT NOT NULL, prompt_json TEXT NOT NULL,
    server TEXT NOT NULL, prompt_id TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
    created_at REAL NOT NULL, started_at REAL, finished_at REAL, timeline_json TEXT NOT NULL,
    error_code TEXT, error_data TEXT, starred INTEGER);
CREATE INDEX IF NOT EXISTS jobs_owner_created ON jobs (owner, created_at);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
CREATE INDEX IF NOT EXISTS jobs_prompt_id ON jobs (prompt_id);
CREATE INDEX IF NOT EXISTS jobs_status_created ON jobs (status, created_at);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at);
CREATE TABLE IF NOT EXISTS outputs (
    id INTEGER PRIMARY KEY, job_id TEXT NOT NULL,
    path TEXT NOT NULL, filename TEXT NOT NULL, node TEXT NOT NULL, kind TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outputs_job ON outputs (job_id);
"""
_JOB_COLUMNS = ("job_id, owner, template, kind, client, values_json, prompt_json, server, prompt_id,"
                " status, error, created_at, started_at, finished_at, timeline_json, error_code, error_data, starred")
# added to a data folder of an older schema; then the indexes that read them
_ADDED_COLUMNS = {"error_code": "TEXT", "error_data": "TEXT", "starred": "INTEGER"}
_ADDED_INDEXES = """
CREATE INDEX IF NOT EXISTS jobs_owner_starred ON jobs (owner, starred, created_at);
CREATE INDEX IF NOT EXISTS jobs_starred ON jobs (starred, created_at);
CREATE INDEX IF NOT EXISTS jobs_owner_kind ON jobs (owner, kind, created_at);
CREATE INDEX IF NOT EXISTS jobs_kind ON jobs (kind, created_at);
"""
_STATS_SQL = ("SELECT server, status, started_at - created_at, finished_at - started_at FROM jobs"
              " WHERE finished_at >= ? ORDER BY finished_at")  # only a TERMINAL status sets finished_at
_JSON_LIST = "(SELECT value FROM json_each(?))"  # "x IN _JSON_LIST", one parameter: a JSON list


def safe_filename(name: str) -> str:
    """The last path component of ``name``, odd characters replaced; never empty, never hidden.

    "../x.png" -> "x.png", "/etc/passwd" -> "passwd", "" or ".." -> "output", ".png" -> "output.png"."""
    base = re.split(r"[\\/]", name or "")[-1]  # drop any directories, POSIX or Windows
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" ")[-120:]  # keep the end: the extension
    if base in ("", ".", ".."):
        return "output"
    return "output" + base if base.startswith(".") else base


class JobStore:
    """Jobs and their outputs under ``data_dir``; safe to share between threads and processes."""

    def __init__(self, data_dir: str | Path, *, timeout: float = 30.0) -> None:
        self.data_dir = Path(data_dir)
        self.outputs_dir = self.data_dir / "outputs"
        self.outputs_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.data_dir / "jobs.sqlite3", timeout=timeout,
                                   isolation_level=None, check_same_thread=False)  # we BEGIN ourselves
        # WAL: readers never block the writer; synchronous=NORMAL is durable enough under WAL.
        pragmas = f"PRAGMA busy_timeout={int(timeout * 1000)}; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        with self._lock:
            self._db.executescript(pragmas + "BEGIN IMMEDIATE;" + _SCHEMA)
            have = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
            for column, kind in _ADDED_COLUMNS.items():
                if column not in have:  # an older data folder: its jobs stay, the new column is NULL
                    self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
            for statement in filter(str.strip, _ADDED_INDEXES.split(";")):
                self._db.execute(statement)
            self._db.execute("COMMIT")

    @contextmanager
    def _transaction(self, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """Hold the lock and a transaction; commit at the end, roll back if the body raises.

        IMMEDIATE (writes) takes SQLite's write lock at once; DEFERRED (reads) gives one snapshot."""
        with self._lock:
            self._db.execute(f"BEGIN {mode}")
            with self._db:  # the connection as a context manager commits or rolls back
                yield self._db

    def create(self, *, owner: str, template: str, values: dict, prompt: dict, server: str,
               prompt_id: str, kind: str = "txt2img", client: str = "web") -> JobRecord:
        """Record a newly submitted job with status "queued"."""
        job_id, now = uuid.uuid4().hex, time.time()
        timeline = [{"status": "queued", "at": now, "detail": None}]
        row = (job_id, owner, template, kind, client, json.dumps(values), json.dumps(prompt),
               server, prompt_id, "queued", None, now, None, None, json.dumps(timeline), None, None, 0)
        with self._transaction() as db:
            db.execute(f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES ({', '.join('?' * len(row))})", row)
        return _record(row, {})

    def update_status(self, job_id: str, status: str, *, error: str | None = None, error_code: str | None = None,
                      error_data: dict | None = None, detail: dict | None = None, at: float | None = None) -> bool:
        """Move a job to ``status`` and append it to the timeline; False if there is no such job.

        The first "running" sets ``started_at``; a terminal status sets ``finished_at`` and a later
        unfinished one (a lost job found again) clears it. ``error`` (the error's English line), when
        given, replaces the stored one, and ``error_code``/``error_data`` (``errors.error_record``:
        what the page words it from) replace theirs.
        ``at``: when it happened (a ``time.time()``; e.g. ComfyUI's own time from ``/history`` for a
        job settled after a restart), now by default.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
        now = time.time() if at is None else at
        data = None if error_data is None else json.dumps(error_data)
        with self._transaction() as db:
            row = db.execute("SELECT timeline_json FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                return False
            timeline = json.loads(row[0]) + [{"status": status, "at": now, "detail": detail}]
            db.execute(
                "UPDATE jobs SET status = ?, error = COALESCE(?, error), timeline_json = ?,"
                " started_at = CASE WHEN ? THEN COALESCE(started_at, ?) ELSE started_at END,"
                " finished_at = CASE WHEN ? THEN ? ELSE NULL END,"
                " error_code = CASE WHEN ? THEN ? ELSE error_code END,"
                " error_data = CASE WHEN ? THEN ? ELSE error_data END WHERE job_id = ?",
                (status, error, json.dumps(timeline), status == "running", now, status in TERMINAL, now,
                 error is not None, error_code, error is not None, data, job_id))
        return True

    def set_prompt_id(self, job_id: str, prompt_id: str, *, detail: dict | None = None,
                      server: str | None = None) -> bool:
        """Re-key a job that was queued again under a new prompt_id (moved to the front, or
        sent to a server of a cluster: then ``server`` is that server's URL and is stored).

        The status stays; the timeline gets one more entry of the same status with ``detail``."""
        now = time.time()
        with self._transaction() as db:
            row = db.execute("SELECT status, timeline_json FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                return False
            timeline = json.loads(row[1]) + [{"status": row[0], "at": now, "detail": detail}]
            db.execute("UPDATE jobs SET prompt_id = ?, timeline_json = ?, server = COALESCE(?, server)"
                       " WHERE job_id = ?", (prompt_id, json.dumps(timeline), server, job_id))
        return True

    def add_output(self, job_id: str, src_bytes: bytes, filename: str, *, node: str = "",
                   kind: str = "output") -> OutputFile:
        """Write ``src_bytes`` to ``outputs/<job_id>/<safe name>`` and record it.

        ``filename`` is only a hint: directories are dropped, odd characters replaced, and a
        name already taken in this job gets ``_1``, ``_2``... before its extension.
        Raises KeyError if the job does not exist.
        """
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM jobs WHERE job_id = ?", (job_id,)).fetchone() is None:
                raise KeyError(job_id)
            folder = self.outputs_dir / job_id
            name = OutputImage(filename, "", kind, src_bytes).save(folder, name=safe_filename(filename)).name
            db.execute("INSERT INTO outputs (job_id, path, filename, node, kind) VALUES (?, ?, ?, ?, ?)",
                       (job_id, f"{job_id}/{name}", name, node, kind))
        return OutputFile(folder / name, name, node, kind)

    def set_starred(self, job_id: str, starred: bool, *, owner: str | None = None) -> bool:
        """Star (History's favourites) or unstar a job; with ``owner``, only if it is theirs.
        False if there is no such job (of that owner)."""
        owner_sql, args = ("", [int(bool(starred)), job_id]) if owner is None else (
            " AND owner = ?", [int(bool(starred)), job_id, owner])
        with self._transaction() as db:
            return db.execute(f"UPDATE jobs SET starred = ? WHERE job_id = ?{owner_sql}", args).rowcount == 1

    def read(self, sql: str, args: list) -> list[tuple]:
        """The rows of one read-only ``sql``, in one snapshot: for the modules of :mod:`comfy_ui_app.jobs`
        that read the store their own way (:mod:`comfy_ui_app.jobs.history_query`)."""
        with self._transaction("DEFERRED") as db:
            return db.execute(sql, args).fetchall()

    def delete(self, job_id: str, *, owner: str | None = None) -> bool:
        """Delete a job, its output rows and files; with ``owner``, only if it is theirs."""
        owner_sql, args = ("", [job_id]) if owner is None else (" AND owner = ?", [job_id, owner])
        return self._delete_where("job_id = ?" + owner_sql, args) == 1

    def clear(self, owner: str) -> int:
        """Delete all of ``owner``'s finished jobs (and their files) but the starred ones; returns how many."""
        where, args = _filters(owner, TERMINAL)
        return self._delete_where(where + " AND starred IS NOT 1", args)

    def _delete_where(self, where: str, args: list) -> int:
        with self._transaction() as db:
            ids = [r[0] for r in db.execute(f"SELECT job_id FROM jobs WHERE {where}", args)]
            db.execute(f"DELETE FROM outputs WHERE job_id IN {_JSON_LIST}", [json.dumps(ids)])
            db.execute(f"DELETE FROM jobs WHERE job_id IN {_JSON_LIST}", [json.dumps(ids)])
        for job_id in ids:  # after the commit: a crash leaves stray files, never dangling rows
            shutil.rmtree(self.outputs_dir / job_id, ignore_errors=True)
        return len(ids)

    def get(self, job_id: str) -> JobRecord | None:
        return next(iter(self._select("job_id = ?", [job_id], limit=1)), None)

    def by_prompt_id(self, prompt_id: str) -> JobRecord | None:
        """The job ComfyUI knows as ``prompt_id`` (the newest, should there be several)."""
        return next(iter(self._select("prompt_id = ?", [prompt_id], limit=1)), None)

    def list(self, *, owner: str | None = None, statuses: Iterable[str] | None = None,
             limit: int = 50, offset: int = 0, newest_first: bool = True) -> list[JobRecord]:
        """One page of jobs with their outputs; ``owner=None`` means everyone's (admin)."""
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        where, args = _filters(owner, statuses)
        return self._select(where, args, limit=limit, offset=offset, newest_first=newest_first)

    def count(self, *, owner: str | None = None, statuses: Iterable[str] | None = None) -> int:
        where, args = _filters(owner, statuses)
        with self._lock:
            return self._db.execute(f"SELECT COUNT(*) FROM jobs WHERE {where}", args).fetchone()[0]

    def stats(self, since: float) -> list[tuple[str, str, float | None, float | None]]:
        """``(server, status, queue_wait, run_time)`` of every job that ended at or after
        ``since`` (a ``time.time()``), oldest first; the figures are seconds, None for a job
        that never ran. ``server`` is "" for a job that never left a cluster's own queue."""
        with self._lock:  # the (finished_at) index: a few ms with 10,000 jobs in the last hour
            return [tuple(row) for row in self._db.execute(_STATS_SQL, [since])]

    def unfinished(self, server: str | None = None) -> list[JobRecord]:
        """Queued and running jobs, oldest first, to pick up again after a restart."""
        where, args = _filters(None, UNFINISHED, server)
        return self._select(where, args, limit=-1, newest_first=False)

    def _select(self, where: str, args: list, *, limit: int, offset: int = 0,
                newest_first: bool = True) -> list[JobRecord]:
        """Jobs matching ``where`` plus all their outputs, in two queries whatever the page size."""
        order = "DESC" if newest_first else "ASC"
        sql = (f"SELECT {_JOB_COLUMNS} FROM jobs WHERE {where}"
               f" ORDER BY created_at {order}, id {order} LIMIT ? OFFSET ?")
        with self._transaction("DEFERRED") as db:
            rows = db.execute(sql, [*args, limit, offset]).fetchall()
            found = db.execute(f"SELECT job_id, path, filename, node, kind FROM outputs WHERE job_id IN {_JSON_LIST}"
                               " ORDER BY id", [json.dumps([row[0] for row in rows])]).fetchall()
        outputs: dict[str, list[OutputFile]] = {}
        for job_id, path, filename, node, kind in found:
            outputs.setdefault(job_id, []).append(OutputFile(self.outputs_dir / path, filename, node, kind))
        return [_record(row, outputs) for row in rows]

    def close(self) -> None:
        """Close the database; the store cannot be used afterwards. Calling it twice is fine."""
        with self._lock:
            self._db.close()


def _record(row: tuple, outputs: dict[str, list[OutputFile]]) -> JobRecord:
    """A JobRecord from one row of _JOB_COLUMNS (the fields' own order), JSON decoded."""
    job_id, owner, template, kind, client, values, prompt, *rest, timeline, error_code, error_data, starred = row
    return JobRecord(job_id, owner, template, kind, client, json.loads(values), json.loads(prompt),
                     *rest, json.loads(timeline), outputs.get(job_id, []), error_code,
                     None if error_data is None else json.loads(error_data), bool(starred))


def _filters(owner: str | None, statuses: Iterable[str] | None, server: str | None = None) -> tuple[str, list]:
    """A WHERE clause (and its arguments) for the optional owner, status and server filters."""
    clauses, args = ["1"], []
    if owner is not None:
        clauses, args = [*clauses, "owner = ?"], [*args, owner]
    if server is not None:
        clauses, args = [*clauses, "server = ?"], [*args, server]
    if statuses is not None:
        wanted = sorted({statuses} if isinstance(statuses, str) else set(statuses))
        if set(wanted) - set(STATUSES):
            raise ValueError(f"unknown statuses {sorted(set(wanted) - set(STATUSES))}; expected {STATUSES}")
        # one "?" per status, not json_each: with a single status the (status, created_at) index gives the order
        clauses, args = [*clauses, f"status IN ({', '.join('?' * len(wanted))})"], [*args, *wanted]
    return " AND ".join(clauses), args
