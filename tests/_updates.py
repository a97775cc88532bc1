"""A job's story as a reader sees it (``job.updates()``), collected on a thread of its own so
a test can look at what has arrived so far without blocking or reading the job's private state."""
from __future__ import annotations

import threading

from comfy_ui_app import Queued


class UpdateLog:
    """Every update ``job.updates()`` yields, in order, as it comes (previews included)."""

    def __init__(self, job) -> None:
        self.seen: list = []
        threading.Thread(target=self._read, args=(job,), name=f"test-reader {job.prompt_id}", daemon=True).start()

    def _read(self, job) -> None:
        for update in job.updates():
            self.seen.append(update)  # list.append is atomic: readers copy with list()

    def positions(self) -> list:
        """The Queued positions read so far."""
        return [u.position for u in list(self.seen) if isinstance(u, Queued)]


_logs: dict = {}  # job -> its UpdateLog (a Job compares by identity)


def positions(job) -> list:
    """The Queued positions ``job`` has told a reader so far (a reader is started at the first call;
    ``updates()`` replays the story from the start, so nothing is missed)."""
    if job not in _logs:
        _logs[job] = UpdateLog(job)
    return _logs[job].positions()
