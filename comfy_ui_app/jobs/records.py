"""What the job store holds, as Python values: :class:`JobRecord`, :class:`OutputFile`,
the statuses, :func:`current_server` (see :mod:`comfy_ui_app.jobs.store` for the storage itself), and
:func:`history_times`, the run times ComfyUI's ``/history`` gives a job."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from comfy_ui_app.comfy.outputs import media_of

__all__ = ["JobRecord", "OutputFile", "STATUSES", "UNFINISHED", "TERMINAL", "current_server", "history_times"]

_ENDS = ("execution_success", "execution_error", "execution_interrupted")

UNFINISHED = ("queued", "running")
TERMINAL = ("success", "error", "interrupted", "lost", "cancelled")
STATUSES = UNFINISHED + TERMINAL


@dataclass(frozen=True)
class OutputFile:
    """One file a job produced, as stored under ``outputs/<job_id>/``."""

    path: Path
    filename: str  # the stored (sanitised) name, i.e. path.name
    node: str
    kind: str  # ComfyUI's folder type: output, temp, input (Preview3D), text (PreviewAny's words)

    @property
    def media(self) -> str:
        """``image``, ``video``, ``audio``, ``3d``, ``text`` or ``file``, from the name."""
        return media_of(self.filename)


def current_server(record: JobRecord) -> str:
    """The server a record's prompt was last sent to ("" while it waits in the app's queue)."""
    for step in reversed(record.timeline):
        detail = step.get("detail") or {}
        if isinstance(detail, dict) and detail.get("server"):
            return detail["server"]
    return record.server


def history_times(entry: dict) -> tuple[float | None, float | None]:
    """(started, finished) of a ComfyUI ``/history`` entry, in ``time.time()`` seconds, from
    its status messages' ``timestamp`` (ms since the epoch); None where a message is missing."""
    status = entry.get("status") if isinstance(entry, dict) else None
    messages = status.get("messages") if isinstance(status, dict) else None
    stamps: dict[str, float] = {}
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, list) and len(message) == 2 and isinstance(message[1], dict):
            stamp = message[1].get("timestamp")
            if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) and stamp > 0:
                stamps[str(message[0])] = stamp / 1000
    return stamps.get("execution_start"), next((stamps[name] for name in _ENDS if name in stamps), None)


@dataclass(frozen=True)
class JobRecord:
    """A job as stored. ``timeline`` is oldest first; ``outputs`` in the order added.

    A failed job's ``error`` is its error's English line (logs, operators); ``error_code`` and
    ``error_data`` (``errors.error_record``) are what the page and the CLI word it from, in the
    reader's language (``texts.messages.describe_recorded``); both None for a job recorded
    before they were kept, or for an error that is not one of :mod:`comfy_ui_app.errors`'."""

    job_id: str
    owner: str
    template: str
    kind: str
    client: str
    values: dict
    prompt: dict
    server: str
    prompt_id: str
    status: str
    error: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    timeline: list
    outputs: list
    error_code: str | None = None
    error_data: dict | None = None
    starred: bool = False  # the owner's favourite (History's star)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def duration(self) -> float | None:
        """Seconds from start (or creation, if it never ran) to finish; None while unfinished."""
        start = self.created_at if self.started_at is None else self.started_at
        return None if self.finished_at is None else self.finished_at - start

    @property
    def queue_wait(self) -> float | None:
        """Seconds between creation and the first "running"; None if it never ran."""
        return None if self.started_at is None else self.started_at - self.created_at
