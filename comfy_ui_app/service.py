"""JobService: jobs as the app sees them — owned by a user, recorded, never dropped.

ComfyUI forgets everything on restart and does not know who asked for what. The
service puts a durable record (:mod:`comfy_ui_app.store`) beside every prompt:

* ``submit`` records the job *before* sending it (we choose the prompt_id), so a
  crash between the two leaves a record that ``resume`` settles;
* a follower thread per job writes each status change to the store, whether or
  not a page is watching; outputs are stored by the ``save_outputs`` hook of
  :class:`~comfy_ui_app.Comfy` (installed by :meth:`JobService.hooks_for`), so every
  reader of the job sees images that are already in the app's own folder;
* ``resume`` (at start-up) follows again the jobs that were queued or running when
  the app stopped, from ComfyUI's ``/queue`` and ``/history``;
* ``cancel`` lets only the owner (or an admin) stop a job.

Over a :class:`~comfy_ui_app.cluster.Cluster` (several servers) jobs first wait in the
app's own queue: the record is made with ``server=""`` and each send to a server adds
a timeline entry ``{"server": url, "previous_prompt_id": ...}`` and re-keys the record
(``on_dispatch``), so :func:`current_server` tells where a record's prompt lives.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from typing import Any

from ._comfy import Comfy
from ._jobs import Job
from ._updates import Finished, OutputImage, Started
from .cluster import Cluster
from .errors import ComfyError, JobLost, WorkflowError
from .store import JobRecord, JobStore

__all__ = ["JobService", "NotAllowed", "current_server"]

log = logging.getLogger(__name__)

_STATUS = {"success": "success", "error": "error", "interrupted": "interrupted"}


class NotAllowed(PermissionError):
    """A user tried to act on someone else's job."""


def current_server(record: JobRecord) -> str:
    """The server a record's prompt was last sent to ("" while it waits in the app's queue)."""
    for step in reversed(record.timeline):
        detail = step.get("detail") or {}
        if isinstance(detail, dict) and detail.get("server"):
            return detail["server"]
    return record.server


class JobService:
    """Submit, follow, record and cancel jobs on one ComfyUI server, or on a Cluster of them.

    ``comfy`` is a :class:`Comfy` or a :class:`~comfy_ui_app.cluster.Cluster`; ``self.comfy``
    is then the cluster's first server and ``self.comfies`` every server.
    """

    def __init__(self, comfy: Comfy | Cluster, store: JobStore, *, admins: Iterable[str] = ()) -> None:
        self.cluster = comfy if isinstance(comfy, Cluster) else None
        self.comfies: list[Comfy] = self.cluster.comfies if self.cluster is not None else [comfy]
        self.comfy = self.comfies[0]
        self.store = store
        self.admins = frozenset(admins)
        for server in self.comfies:
            if server._save_outputs is None:  # outputs of recorded jobs go into the store
                server.set_save_outputs(self.hooks_for(store))
        if self.cluster is not None and self.cluster._on_dispatch is None:
            self.cluster._on_dispatch = self._dispatched
        self._lock = threading.Lock()
        self._live: dict[str, Job] = {}  # job_id -> Job while this process follows it
        self._job_ids: dict[str, str] = {}  # prompt_id -> job_id

    @staticmethod
    def hooks_for(store: JobStore):
        """The ``save_outputs`` hook to pass to ``Comfy(...)`` so outputs land in ``store``."""

        def save_outputs(job: Job, node: str, images: list[OutputImage]) -> list[OutputImage]:
            record = store.by_prompt_id(job.prompt_id)
            if record is None:  # a job of no record (a plain Comfy user): leave as is
                return images
            saved = []
            for image in images:
                stored = store.add_output(record.job_id, image.data, image.filename, node=node, kind=image.type)
                saved.append(OutputImage(image.filename, image.subfolder, image.type, image.data, stored.path))
            return saved

        return save_outputs

    def is_admin(self, user: str | None) -> bool:
        return bool(user) and user in self.admins

    # -- submitting and following ------------------------------------------------------

    def submit(
        self,
        *,
        owner: str,
        template: str,
        values: dict,
        prompt: dict,
        kind: str = "txt2img",
        client: str = "web",
        extra_data: dict | None = None,
        front: bool = False,
    ) -> tuple[JobRecord, Job]:
        """Record, then queue; raises what ``Comfy.submit`` raises (the record says why).

        Over a cluster the job waits in the app's queue (``front`` is ignored); one that no
        server can run raises its WorkflowError here, like a rejected prompt."""
        prompt_id = str(uuid.uuid4())
        record = self.store.create(
            owner=owner, template=template, values=values, prompt=prompt,
            server="" if self.cluster is not None else self.comfy.url, prompt_id=prompt_id, kind=kind,
            client=client,
        )  # fmt: skip
        try:
            if self.cluster is None:
                job = self.comfy.submit(prompt, extra_data=extra_data, front=front, prompt_id=prompt_id)
            else:
                with self._lock:  # known before on_dispatch can run
                    self._job_ids[prompt_id] = record.job_id
                job = self.cluster.submit(prompt, owner=owner, extra_data=extra_data, prompt_id=prompt_id)
                if job.done and isinstance(job.error, WorkflowError):
                    raise job.error
        except ComfyError as e:
            self.store.update_status(record.job_id, "error", error=str(e))
            with self._lock:
                self._job_ids.pop(prompt_id, None)
            raise
        self._follow(record.job_id, job)
        return record, job

    def _dispatched(self, job: Job, url: str, prompt_id: str) -> None:
        """The cluster sends ``job`` to ``url`` as ``prompt_id``: the record follows it there."""
        with self._lock:
            job_id = self._job_ids.pop(job.prompt_id, None)
            if job_id is not None:
                self._job_ids[prompt_id] = job_id
        if job_id is None:
            record = self.store.by_prompt_id(job.prompt_id)
            if record is None:
                return
            job_id = record.job_id
        self.store.set_prompt_id(job_id, prompt_id, detail={"server": url, "previous_prompt_id": job.prompt_id})

    def _follow(self, job_id: str, job: Job) -> None:
        with self._lock:
            self._live[job_id] = job
            self._job_ids[job.prompt_id] = job_id
        threading.Thread(target=self._record, args=(job_id, job), name=f"follow-{job_id}", daemon=True).start()

    def _record(self, job_id: str, job: Job) -> None:
        """Write the job's story to the store (runs on its own thread)."""
        try:
            for update in job.updates():
                if isinstance(update, Started):
                    self.store.update_status(job_id, "running")
                elif isinstance(update, Finished):
                    status = "lost" if isinstance(update.error, JobLost) else _STATUS[update.status]
                    detail = {"node_id": getattr(update.error, "node_id", None)} if update.error else None
                    self.store.update_status(job_id, status, error=str(update.error or "") or None, detail=detail)
        except Exception:  # the follower must never die silently with the job unrecorded
            log.exception("recording job %s failed", job_id)
            self.store.update_status(job_id, "error", error="The app failed to record this job")
        finally:
            with self._lock:
                self._live.pop(job_id, None)
                self._job_ids.pop(job.prompt_id, None)

    def resume(self) -> list[JobRecord]:
        """Follow again the jobs this server had when the app last stopped.

        Over a cluster: a record sent to one of its servers is adopted there (it ends if that
        server is gone); one still waiting in the app's queue is queued again."""
        if self.cluster is None:
            records = [(r, self.comfy) for r in self.store.unfinished(server=self.comfy.url)]
        else:
            by_url = {c.url: c for c in self.comfies}
            records = [(r, by_url.get(current_server(r))) for r in self.store.unfinished()
                       if not current_server(r) or current_server(r) in by_url]
        resumed = []
        for record, comfy in records:
            if record.job_id in self._live:
                continue
            if comfy is not None:
                job = comfy.adopt(record.prompt_id, record.prompt)
            else:  # never sent anywhere: back into the app's queue under the same id
                with self._lock:
                    self._job_ids[record.prompt_id] = record.job_id
                job = self.cluster.submit(record.prompt, owner=record.owner, prompt_id=record.prompt_id)
            self._follow(record.job_id, job)
            resumed.append(record)
        return resumed

    def comfy_for(self, url: str | None) -> Comfy:
        """The server at ``url`` (the first one when unknown or not given)."""
        return next((c for c in self.comfies if c.url == url), self.comfy)

    # -- reading ---------------------------------------------------------------------

    def live(self, job_id: str) -> Job | None:
        """The running Job behind a record, to reattach a page to it."""
        with self._lock:
            return self._live.get(job_id)

    def visible(self, record: JobRecord | None, user: str) -> bool:
        return record is not None and (record.owner == user or self.is_admin(user))

    def get(self, job_id: str, *, user: str) -> JobRecord | None:
        record = self.store.get(job_id)
        return record if self.visible(record, user) else None

    def list(self, *, user: str, everyone: bool = False, **kwargs: Any) -> list[JobRecord]:
        """The user's jobs; an admin may ask for everyone's."""
        owner = None if everyone and self.is_admin(user) else user
        return self.store.list(owner=owner, **kwargs)

    # -- acting ----------------------------------------------------------------------

    def _record_for(self, job_id: str, user: str) -> JobRecord | None:
        """The job's record if it exists; NotAllowed unless ``user`` owns it or is an admin."""
        record = self.store.get(job_id)
        if record is not None and not self.visible(record, user):
            raise NotAllowed("This job belongs to someone else")
        return record

    def cancel(self, job_id: str, *, user: str) -> bool:
        """Interrupt (running) or dequeue (waiting) a job; only its owner or an admin may."""
        if self._record_for(job_id, user) is None:
            return False
        job = self.live(job_id)
        if job is None or job.done:
            return False
        job.interrupt()
        return True

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

    def move_to_front(self, job_id: str, *, user: str) -> bool:
        """Make a waiting job run next (its owner or an admin); False if it is not waiting.

        The prompt is queued again under a new prompt_id (ComfyUI cannot reorder): the
        record keeps its job_id, gets the new prompt_id and a timeline entry."""
        if self._record_for(job_id, user) is None:
            return False
        job = self.live(job_id)
        if job is None or job.done:
            return False
        if self.cluster is not None:
            return self._cluster_move_to_front(job_id, job)
        return self._move_to_front(job_id, job, self.comfy)

    def _cluster_move_to_front(self, job_id: str, job: Job) -> bool:
        """In the app's queue: first of its owner's jobs (turns between users stay fair);
        on a server's queue: queued again there in front (the cluster job follows it)."""
        cluster = self.cluster
        with cluster._lock:
            if job in cluster._queue:
                cluster._queue.remove(job)
                cluster._queue.push(job, front=True)
                cluster._reposition()
                return True
            server_job = getattr(job, "server_job", None)
        if server_job is None or server_job.done or server_job.state != "queued":
            return False
        return self._move_to_front(job_id, server_job, self.comfy_for(getattr(job, "server", None)))

    def _move_to_front(self, job_id: str, job: Job, comfy: Comfy) -> bool:
        def rekey(old_id: str, new_id: str) -> None:
            self.store.set_prompt_id(job_id, new_id, detail={"moved_to_front": True, "previous_prompt_id": old_id})
            with self._lock:
                self._job_ids.pop(old_id, None)
                self._job_ids[new_id] = job_id

        return comfy.move_to_front(job, before_submit=rekey)

    def delete(self, job_id: str, *, user: str) -> bool:
        record = self._record_for(job_id, user)
        if record is None:
            return False
        if not record.done:
            self.cancel(job_id, user=user)
        return self.store.delete(job_id)
