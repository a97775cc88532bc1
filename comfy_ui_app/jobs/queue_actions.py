"""Acting on the queues: :class:`QueueActions`, composed into
:class:`~comfy_ui_app.jobs.service.JobService` (``jobs.clear_queue(user=...)``): stop a prompt
seen in a ComfyUI queue, clear the queues (admins), move a waiting job to the front (in the
app's own queue: an admin's move puts it first of everyone's jobs, a user's first of their own;
one already sent: first in its ComfyUI server's queue).

What it needs of the service is declared by :class:`QueueHost`.
"""

from __future__ import annotations

from typing import Protocol

from comfy_ui_app.cluster.cluster import Cluster
from comfy_ui_app.comfy.connection import Comfy
from comfy_ui_app.comfy.jobs import Job
from comfy_ui_app.errors import NotAllowed
from comfy_ui_app.jobs.store import JobRecord, JobStore, current_server

__all__ = ["QueueActions", "QueueHost", "ON_SERVER", "APP_QUEUE", "OWN_LINE"]

ON_SERVER, APP_QUEUE, OWN_LINE = "server", "app queue", "own line"  # where move_to_front put a job


class QueueHost(Protocol):
    """What :class:`QueueActions` uses of the job service."""

    store: JobStore
    cluster: Cluster

    def is_admin(self, user: str | None) -> bool: ...

    def live(self, job_id: str) -> Job | None:
        """The job this process follows under ``job_id``, if any."""

    def cancel(self, job_id: str, *, user: str) -> bool: ...

    def record_for(self, job_id: str, user: str) -> JobRecord | None:
        """The record, or None; raises NotAllowed unless ``user`` may act on it."""

    def comfy_for(self, url: str | None) -> Comfy: ...

    def rekey(self, job_id: str, old_id: str, new_id: str, detail: dict) -> None:
        """The record ``job_id`` now follows the prompt ``new_id`` (was ``old_id``)."""


class QueueActions:
    """Stop, clear and reorder jobs in the queues, with the service's rules of who may."""

    def __init__(self, host: QueueHost) -> None:
        self._host = host

    def cancel_prompt(self, prompt_id: str, *, user: str, server: str | None = None) -> bool:
        """Stop a prompt seen in ComfyUI's queue: a recorded job (its owner or an admin), or,
        for an admin only, one submitted from elsewhere (or by another process of the app).
        ``server``: the URL whose queue showed it (the record's server otherwise). False: it had
        already ended (nothing was changed)."""
        host = self._host
        record = host.store.by_prompt_id(prompt_id)
        if record is not None and host.live(record.job_id) is not None:
            return host.cancel(record.job_id, user=user)
        if record is not None and record.done:  # it ended already: nothing to stop
            host.record_for(record.job_id, user)  # NotAllowed for someone else's
            return False
        if not (host.is_admin(user) or (record is not None and record.owner == user)):
            raise NotAllowed("This job belongs to someone else")
        comfy = host.comfy_for(server or (current_server(record) if record is not None else None))
        comfy.client.delete_from_queue([prompt_id])  # if it waits
        comfy.client.interrupt(prompt_id)  # if it runs (ignored otherwise)
        return True

    def clear_queue(self, *, user: str) -> int:
        """Take every waiting prompt out of the app's queue and ComfyUI's (admin only); returns how many."""
        host = self._host
        if not host.is_admin(user):
            raise NotAllowed("Only an admin may clear the queue")
        waiting = host.cluster.waiting()
        for job in waiting:  # the app's own queue first
            job.interrupt()
        cleared = len(waiting)
        healthy = {s.url for s in host.cluster.servers if s.healthy}
        for comfy in host.cluster.comfies:
            if comfy.url not in healthy:
                continue  # a server that is down has nothing to clear that we could reach
            pending = [item[1] for item in comfy.client.get_queue()["queue_pending"]]
            for prompt_id in pending:  # ours first, so that they end as "interrupted", not "lost"
                record = host.store.by_prompt_id(prompt_id)
                job = host.live(record.job_id) if record is not None else None
                if job is not None and not job.done:
                    job.interrupt()
            comfy.client.clear_queue()
            cleared += len(pending)
        return cleared

    def move_to_front(self, job_id: str, *, user: str) -> str:
        """Move a waiting job forward (its owner or an admin); says where it went, "" if it is
        not waiting: ``APP_QUEUE`` (an admin's move in the app's own queue: first of everyone's
        jobs), ``OWN_LINE`` (a user's: first of their own jobs there; turns between users stay
        fair) or ``ON_SERVER`` (first in its ComfyUI server's queue: it runs next there).

        On a ComfyUI queue the prompt is queued again under a new prompt_id (ComfyUI cannot
        reorder): the record keeps its job_id, gets the new prompt_id and a timeline entry."""
        host = self._host
        if host.record_for(job_id, user) is None:
            return ""
        job = host.live(job_id)
        if job is None or job.done:
            return ""
        everyone = host.is_admin(user)
        if host.cluster.move_to_front(job, everyone=everyone):
            return APP_QUEUE if everyone else OWN_LINE
        server_job = getattr(job, "server_job", None)
        if server_job is None or server_job.done or server_job.state != "queued":
            return ""
        comfy = host.comfy_for(getattr(job, "server", None))

        def rekey(old_id: str, new_id: str) -> None:
            host.rekey(job_id, old_id, new_id, {"moved_to_front": True, "previous_prompt_id": old_id})

        return ON_SERVER if comfy.move_to_front(server_job, before_submit=rekey) else ""
