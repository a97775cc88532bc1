"""The part of :class:`~comfy_ui_app.jobs.service.JobService` that acts on ComfyUI's queues:
stop a prompt seen there, clear them (admins), move a waiting job to the front (over a
cluster, in the app's own queue: an admin's move puts it first of everyone's jobs, a user's
first of their own).

A mixin, so the service reads as one object (``jobs.clear_queue(user=...)``) while its
file stays about recording and following jobs. It uses the service's ``store``,
``comfies``, ``cluster``, ``live``, ``cancel``, ``is_admin``, ``comfy_for``, ``_record_for``
and ``_lock``/``_job_ids``.
"""

from __future__ import annotations

from comfy_ui_app.comfy.connection import Comfy
from comfy_ui_app.comfy.jobs import Job
from comfy_ui_app.errors import NotAllowed
from comfy_ui_app.jobs.store import current_server

__all__ = ["QueueActions", "ON_SERVER", "APP_QUEUE", "OWN_LINE"]

ON_SERVER, APP_QUEUE, OWN_LINE = "server", "app queue", "own line"  # where move_to_front put a job


class QueueActions:
    def cancel_prompt(self, prompt_id: str, *, user: str, server: str | None = None) -> bool:
        """Stop a prompt seen in ComfyUI's queue: a recorded job (its owner or an admin), or,
        for an admin only, one submitted from elsewhere (or by another process of the app).
        ``server``: the URL whose queue showed it (a cluster's; the record's server otherwise)."""
        record = self.store.by_prompt_id(prompt_id)
        if record is not None and self.live(record.job_id) is not None:
            return self.cancel(record.job_id, user=user)
        if not (self.is_admin(user) or (record is not None and record.owner == user)):
            raise NotAllowed("This job belongs to someone else")
        comfy = self.comfy_for(server or (current_server(record) if record is not None else None))
        comfy.client.delete_from_queue([prompt_id])  # if it waits
        comfy.client.interrupt(prompt_id)  # if it runs (ignored otherwise)
        return True

    def clear_queue(self, *, user: str) -> int:
        """Take every waiting prompt out of ComfyUI's queue (admin only); returns how many."""
        if not self.is_admin(user):
            raise NotAllowed("Only an admin may clear the queue")
        waiting = self.cluster.waiting() if self.cluster is not None else []
        for job in waiting:  # the app's own queue (a cluster's) first
            job.interrupt()
        cleared = len(waiting)
        for comfy in self.comfies:
            if self.cluster is not None and not any(s.healthy for s in self.cluster.servers if s.url == comfy.url):
                continue  # a server that is down has nothing to clear that we could reach
            pending = [item[1] for item in comfy.client.get_queue()["queue_pending"]]
            for prompt_id in pending:  # ours first, so that they end as "interrupted", not "lost"
                record = self.store.by_prompt_id(prompt_id)
                job = self.live(record.job_id) if record is not None else None
                if job is not None and not job.done:
                    job.interrupt()
            comfy.client.clear_queue()
            cleared += len(pending)
        return cleared

    def move_to_front(self, job_id: str, *, user: str) -> str:
        """Move a waiting job forward (its owner or an admin); says where it went, "" if it is
        not waiting: ``ON_SERVER`` (first in its ComfyUI server's queue: it runs next there),
        ``APP_QUEUE`` (an admin's move in the app's own queue: first of everyone's jobs) or
        ``OWN_LINE`` (a user's: first of their own jobs there; turns between users stay fair).

        On a ComfyUI queue the prompt is queued again under a new prompt_id (ComfyUI cannot
        reorder): the record keeps its job_id, gets the new prompt_id and a timeline entry."""
        if self._record_for(job_id, user) is None:
            return ""
        job = self.live(job_id)
        if job is None or job.done:
            return ""
        if self.cluster is None:
            return ON_SERVER if self._move_to_front(job_id, job, self.comfy) else ""
        everyone = self.is_admin(user)
        if self.cluster.move_to_front(job, everyone=everyone):
            return APP_QUEUE if everyone else OWN_LINE
        server_job = getattr(job, "server_job", None)
        if server_job is None or server_job.done or server_job.state != "queued":
            return ""
        comfy = self.comfy_for(getattr(job, "server", None))
        return ON_SERVER if self._move_to_front(job_id, server_job, comfy) else ""

    def _move_to_front(self, job_id: str, job: Job, comfy: Comfy) -> bool:
        def rekey(old_id: str, new_id: str) -> None:
            self.store.set_prompt_id(job_id, new_id, detail={"moved_to_front": True, "previous_prompt_id": old_id})
            with self._lock:
                self._job_ids.pop(old_id, None)
                self._job_ids[new_id] = job_id

        return comfy.move_to_front(job, before_submit=rekey)
