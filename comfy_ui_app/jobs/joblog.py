"""One log line per job state change, for whoever runs the app (logger ``comfy_ui_app.jobs``, INFO).

The format is logfmt: ``key=value`` pairs separated by spaces, a value in double quotes
(with ``\\"``, ``\\\\`` and ``\\n`` escaped) when it is empty or holds a space, ``=``, a quote
or a control character. Keys, always in this order, a key left out when it has no value::

    event=queued job=6f1c… user=user:alice
    event=dispatched job=6f1c… user=user:alice server=http://gpu-1:8188
    event=running job=6f1c… user=user:alice server=http://gpu-1:8188 queue_wait=1.52
    event=finished job=6f1c… user=user:alice server=http://gpu-1:8188 queue_wait=1.52 run_time=8.07 result=success
    event=finished job=9a0b… user=browser:3e5a91c0 server=http://gpu-1:8188 result=error error="ComfyUI rejected …"

``event`` is ``queued`` (recorded), ``dispatched`` (sent to a server of a cluster),
``running`` or ``finished``; ``result`` (finished only) is ``success``, ``error``,
``interrupted`` or ``lost``; ``user`` is the job's owner id, a browser's or session's as a short
non-reversible tag (:func:`~comfy_ui_app.jobs.identity.owner_tag`: the id is a credential); ``queue_wait`` and
``run_time`` are seconds from the job store (creation to start, start to end); ``error``
is the first line of the stored error, at most ``ERROR_CHARS`` characters. The prompt
text is never written unless asked for (``log_prompts``: ``prompt="…"`` at the end).

:func:`format_line` is pure; :func:`log_job` reads the record and logs, never raising (a
log line must not change a job's story); :func:`configure` sends the lines to stderr.
A :class:`JobFacts` holds what the lines of a job this process follows say, changed as the
store is (:class:`~comfy_ui_app.jobs.service.JobService` keeps one per live job), so that
:func:`log_facts` writes the same line without reading the record back from the store.
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from comfy_ui_app.jobs.identity import owner_tag
from comfy_ui_app.jobs.records import TERMINAL

__all__ = ["LOGGER_NAME", "ERROR_CHARS", "JobFacts", "format_line", "line_for", "log_job", "log_facts", "configure"]

LOGGER_NAME = "comfy_ui_app.jobs"
ERROR_CHARS = 200
_NEEDS_QUOTES = re.compile(r'[\s="\\\x00-\x1f\x7f]')

log = logging.getLogger(LOGGER_NAME)


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    text = str(value)
    if text and not _NEEDS_QUOTES.search(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + re.sub(r"[\x00-\x1f\x7f]", " ", escaped) + '"'


def short_error(error: str | None) -> str | None:
    """The first non-empty line of ``error``, cut to ``ERROR_CHARS`` characters."""
    line = next((part.strip() for part in (error or "").splitlines() if part.strip()), "")
    return (line[: ERROR_CHARS - 1] + "…" if len(line) > ERROR_CHARS else line) or None


def format_line(event: str, *, job_id: str, user: str, server: str | None = None,
                queue_wait: float | None = None, run_time: float | None = None, result: str | None = None,
                error: str | None = None, prompt: str | None = None) -> str:
    """One logfmt line; ``None`` (and an empty server) leaves the key out; ``user`` is written as
    its :func:`~comfy_ui_app.jobs.identity.owner_tag`."""
    pairs = [("event", event), ("job", job_id), ("user", owner_tag(user)), ("server", server or None),
             ("queue_wait", queue_wait), ("run_time", run_time), ("result", result),
             ("error", short_error(error)), ("prompt", prompt)]
    return " ".join(f"{key}={_value(value)}" for key, value in pairs if value is not None)


def line_for(event: str, record: Any, *, log_prompts: bool = False) -> str:
    """The line for a :class:`~comfy_ui_app.jobs.store.JobRecord` as it is now stored."""
    done = record.done
    run_time = (record.finished_at - record.started_at
                if record.finished_at is not None and record.started_at is not None else None)
    prompt = (record.values or {}).get("prompt") if log_prompts else None
    return format_line(event, job_id=record.job_id, user=record.owner, server=record.server,
                       queue_wait=record.queue_wait, run_time=run_time, result=record.status if done else None,
                       error=record.error if done else None, prompt=None if prompt is None else str(prompt))


def log_job(store: Any, job_id: str, event: str, *, log_prompts: bool = False) -> None:
    """Log ``event`` for the stored job ``job_id`` (nothing if there is no such job)."""
    if not log.isEnabledFor(logging.INFO):
        return
    try:
        record = store.get(job_id)
        if record is not None:
            log.info(line_for(event, record, log_prompts=log_prompts))
    except Exception:  # noqa: BLE001 - a log line must never fail the job it describes (e.g. a closed store)
        log.warning("could not log %s of job %s", event, job_id, exc_info=True)


@dataclass
class JobFacts:
    """A job's fields that its log lines show, by the names of a JobRecord's (so :func:`line_for`
    takes either), kept in memory and moved on with each status change the store records."""

    job_id: str
    owner: str
    server: str
    created_at: float
    values: dict
    status: str = "queued"
    error: str | None = None
    started_at: float | None = None
    finished_at: float | None = None

    @classmethod
    def of(cls, record: Any) -> JobFacts:
        return cls(record.job_id, record.owner, record.server, record.created_at, record.values, record.status,
                   record.error, record.started_at, record.finished_at)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def queue_wait(self) -> float | None:
        return None if self.started_at is None else self.started_at - self.created_at

    def moved(self, status: str, at: float, error: str | None = None) -> None:
        """The job moved to ``status`` at ``at``: as ``JobStore.update_status`` records it."""
        self.status, self.error = status, self.error if error is None else error
        if status == "running" and self.started_at is None:
            self.started_at = at
        self.finished_at = at if status in TERMINAL else None


def log_facts(facts: JobFacts, event: str, *, log_prompts: bool = False) -> None:
    """Log ``event`` of the job ``facts`` describes (never raising, as :func:`log_job`)."""
    if not log.isEnabledFor(logging.INFO):
        return
    try:
        log.info(line_for(event, facts, log_prompts=log_prompts))
    except Exception:  # noqa: BLE001 - a log line must never fail the job it describes
        log.warning("could not log %s of job %s", event, facts.job_id, exc_info=True)


def configure(stream: TextIO | None = None) -> logging.Handler:
    """Send the job lines (INFO and up) to ``stream`` (stderr), each after ``time=``; once only."""
    for handler in log.handlers:
        if getattr(handler, "_comfy_ui_jobs", False):
            return handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("time=%(asctime)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%S%z"))
    handler._comfy_ui_jobs = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)  # lines still propagate: a root handler set up by whoever embeds the app sees them
    return handler
