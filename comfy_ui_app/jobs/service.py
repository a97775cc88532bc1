"""JobService: jobs as the app sees them — owned by a user, recorded, never dropped.

ComfyUI forgets everything on restart and does not know who asked for what. The
service puts a durable record (:mod:`comfy_ui_app.jobs.store`) beside every prompt:

* ``submit`` records the job *before* sending it (we choose the prompt_id), so a
  crash between the two leaves a record that ``resume`` settles;
* a follower thread per job writes each status change to the store, whether or
  not a page is watching; outputs are stored by the ``save_outputs`` hook of
  :class:`~comfy_ui_app.Comfy` (installed by :meth:`JobService.hooks_for`), so every
  reader of the job sees images that are already in the app's own folder;
* ``resume`` (at start-up) follows again the jobs that were queued or running when
  the app stopped, from ComfyUI's ``/queue`` and ``/history`` (:mod:`comfy_ui_app.jobs.resume`);
* ``cancel`` lets only the owner (or an admin) stop a job.

Jobs run over a :class:`~comfy_ui_app.cluster.cluster.Cluster` (one server or several) and first
wait in the app's own queue: the record is made with ``server=""`` and each send to a server adds
a timeline entry ``{"server": url, "previous_prompt_id": ...}``, re-keys the record and
sets its ``server`` (``on_dispatch``), so :func:`current_server` tells where a record's prompt lives.
Each state change is also one ``comfy_ui_app.jobs`` log line (:mod:`comfy_ui_app.jobs.joblog`), written
from the job's fields kept in memory while it is followed here (a job adopted after a restart:
read back from the store).

Picking jobs up after a restart (:class:`~comfy_ui_app.jobs.resume.Resumer`) and acting on the
queues (:class:`~comfy_ui_app.jobs.queue_actions.QueueActions`) are objects of their own,
composed here; what they use of the service is declared by their ``ResumeHost`` / ``QueueHost``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from comfy_ui_app.comfy.connection import Comfy
from comfy_ui_app.comfy.jobs import Job
from comfy_ui_app.comfy.updates import Finished, OutputImage, Started
from comfy_ui_app.cluster.cluster import Cluster
from comfy_ui_app.errors import BatchStopped, ComfyError, JobLost, NotAllowed, NotRecorded, WorkflowError, error_record
from comfy_ui_app.jobs.admission import check_disk, check_sendable, check_texts
from comfy_ui_app.jobs.graph_rules import GraphRules, NodeTable, owns_input
from comfy_ui_app.jobs.limits import Limits, admitted, count_pending, limits_for
from comfy_ui_app.jobs.policy import Policy
from comfy_ui_app.workflow.source import check_nodes
from comfy_ui_app.jobs.joblog import JobFacts, log_facts, log_job
from comfy_ui_app.jobs.queue_actions import QueueActions
from comfy_ui_app.jobs.resume import Resumer
from comfy_ui_app.jobs.store import JobRecord, JobStore, current_server

__all__ = ["JobService", "NotAllowed", "current_server"]

log = logging.getLogger(__name__)

_STATUS = {"success": "success", "error": "error", "interrupted": "interrupted"}


class JobService:
    """Submit, follow, record and cancel jobs on a Cluster of ComfyUI servers (one server too).

    ``self.cluster`` is the cluster, ``self.comfies`` its servers and ``self.comfy`` the first.
    """

    def __init__(self, cluster: Cluster, store: JobStore, *, admins: Iterable[str] = (),
                 log_prompts: bool = False, limits: Limits | None = None, policy: Policy | None = None) -> None:
        self.limits = limits  # caps for users who are not admins (a public demo); None: none
        self.policy = policy or Policy()  # what a visitor may send (jobs/policy.py); default: a private app's
        self.cluster = cluster
        self.comfies: list[Comfy] = cluster.comfies
        self.comfy = self.comfies[0]
        self.store = store
        self.admins = frozenset(admins)
        self.log_prompts = log_prompts  # job log lines (comfy_ui_app.jobs.joblog) carry the prompt text
        for server in self.comfies:
            if not server.saves_outputs:  # outputs of recorded jobs go into the store
                server.set_save_outputs(self.hooks_for(store))
        cluster.add_dispatch_listener(self._dispatched)
        self._lock = threading.Lock()
        self._live: dict[str, Job] = {}  # job_id -> Job while this process follows it
        self._job_ids: dict[str, str] = {}  # prompt_id -> job_id
        self._facts: dict[str, JobFacts] = {}  # job_id -> what its log lines say, for jobs submitted here
        self._resumer = Resumer(self)
        self._queues = QueueActions(self)
        self.rules = GraphRules(NodeTable(cluster))  # who may run which graph, which files it may read

    @staticmethod
    def hooks_for(store: JobStore):
        """The ``save_outputs`` hook to pass to ``Comfy(...)`` so outputs land in ``store``."""

        def save_outputs(job: Job, node: str, images: list[OutputImage]) -> list[OutputImage]:
            record = store.by_prompt_id(job.prompt_id)
            if record is None:  # a job of no record (a plain Comfy user): leave as is
                return images
            saved = []
            for image in images:
                if image.type == "input" and not owns_input(record.owner, image.filename):
                    continue  # a Preview3D of another user's upload: fetched, never stored nor shown
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
        inputs: list | tuple = (),
        fields: list | tuple = (),
    ) -> tuple[JobRecord, Job]:
        """Record, then put in the app's queue; raises what ``Cluster.submit`` raises (the record
        says why). A job that no server can run raises its WorkflowError here, like a rejected
        prompt. Over a cap of
        ``limits`` (not for admins) it raises LimitExceeded, and nothing is recorded or sent; so does
        a disk nearly full, a text over the policy's caps or a NaN in the graph (``jobs.admission``).
        A graph ``owner`` may not run (:mod:`comfy_ui_app.jobs.graph_rules`; ``fields`` name the form's
        field at fault) raises GraphRefused, nothing recorded or sent; ``inputs`` are renamed to carry
        the owner's tag, the prompt and values with them. A graph of more nodes than ``policy.max_nodes``
        (for everyone) raises WorkflowTooLarge."""
        check_nodes(prompt, self.policy.max_nodes)
        check_texts(self.policy, values, prompt)
        check_sendable(prompt)
        check_disk(self.store.data_dir, self.policy)
        prompt, values, inputs = self.rules.tag_inputs(owner, prompt, values, inputs)
        self.rules.check(self.policy, prompt, owner=owner, admin=self.is_admin(owner), kind=kind, client=client,
                         inputs=inputs, fields=fields)
        prompt_id = str(uuid.uuid4())
        with admitted(limits_for(self, owner), prompt, pending=lambda: count_pending(self.store, owner, self.live)):
            record = self.store.create(
                owner=owner, template=template, values=values, prompt=prompt,
                server="", prompt_id=prompt_id, kind=kind,
                client=client,
            )  # fmt: skip
        with self._lock:
            self._facts[record.job_id] = JobFacts.of(record)
        self.log_event(record.job_id, "queued")
        try:
            self.expect(prompt_id, record.job_id)  # known before on_dispatch can run
            job = self.cluster.submit(prompt, owner=owner, extra_data=extra_data, prompt_id=prompt_id,
                                      inputs=inputs)  # pictures the prompt reads, for the chosen server
            if job.done and isinstance(job.error, WorkflowError):
                raise job.error
        except ComfyError as e:
            self._set_status(record.job_id, "error", error=e)
            self.log_event(record.job_id, "finished")
            with self._lock:
                self._job_ids.pop(prompt_id, None)
                self._facts.pop(record.job_id, None)
            raise
        self.follow(record.job_id, job)
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
        self.store.set_prompt_id(job_id, prompt_id, detail={"server": url, "previous_prompt_id": job.prompt_id},
                                 server=url)
        facts = self._facts.get(job_id)
        if facts is not None:
            facts.server = url
        self.log_event(job_id, "dispatched")

    def follow(self, job_id: str, job: Job, *, resumed: bool = False) -> None:
        """Record ``job``'s story under ``job_id`` from now on, on a thread of its own."""
        with self._lock:
            self._live[job_id] = job
            self._job_ids[job.prompt_id] = job_id
        threading.Thread(target=self._record, args=(job_id, job, resumed), name=f"follow-{job_id}",
                         daemon=True).start()

    def _record(self, job_id: str, job: Job, resumed: bool = False) -> None:
        """Write the job's story to the store (runs on its own thread). ``resumed``: adopted
        after a restart; if it ends, its times come from ComfyUI's ``/history``."""
        try:
            for update in job.updates():
                if isinstance(update, Started):
                    if resumed and self.store.get(job_id).status == "running":
                        continue  # it was running when the app stopped: already recorded
                    self._set_status(job_id, "running")
                    self.log_event(job_id, "running")
                elif isinstance(update, Finished):
                    started, finished = self._resumer.settled_times(job_id, job) if resumed else (None, None)
                    if started is not None:  # it ran while the app was away
                        self._set_status(job_id, "running", at=started)
                    status = ("lost" if isinstance(update.error, JobLost) else "cancelled"
                              if isinstance(update.error, BatchStopped) else _STATUS[update.status])
                    detail = {"node_id": getattr(update.error, "node_id", None)} if update.error else None
                    self._set_status(job_id, status, error=update.error, detail=detail, at=finished)
                    self.log_event(job_id, "finished")
        except Exception:  # the follower must never die silently with the job unrecorded
            log.exception("recording job %s failed", job_id)
            self._set_status(job_id, "error", error=NotRecorded())
            self.log_event(job_id, "finished")
        finally:
            with self._lock:
                self._live.pop(job_id, None)
                self._job_ids.pop(job.prompt_id, None)
                self._facts.pop(job_id, None)

    def _set_status(self, job_id: str, status: str, *, error: BaseException | str | None = None,
                    detail: dict | None = None, at: float | None = None) -> None:
        """``store.update_status``, and the job's log facts moved on the same way. An exception
        ``error`` is recorded as its line, code and data (``errors.error_record``): the page
        words it in the reader's language."""
        at = time.time() if at is None else at
        line, code, data = error_record(error) if isinstance(error, BaseException) else (error, None, None)
        self.store.update_status(job_id, status, error=line or None, error_code=code, error_data=data,
                                 detail=detail, at=at)
        facts = self._facts.get(job_id)
        if facts is not None:
            facts.moved(status, at, line or None)

    def log_event(self, job_id: str, event: str) -> None:
        """One ``comfy_ui_app.jobs`` line for the job as now stored (see :mod:`comfy_ui_app.jobs.joblog`):
        from its facts kept here, else (a job adopted after a restart) read from the store."""
        facts = self._facts.get(job_id)
        if facts is not None:
            log_facts(facts, event, log_prompts=self.log_prompts)
        else:
            log_job(self.store, job_id, event, log_prompts=self.log_prompts)

    def expect(self, prompt_id: str, job_id: str) -> None:
        """``prompt_id``, about to be queued, belongs to the record ``job_id``."""
        with self._lock:
            self._job_ids[prompt_id] = job_id

    def rekey(self, job_id: str, old_id: str, new_id: str, detail: dict) -> None:
        """The record ``job_id`` now follows the prompt ``new_id`` (was ``old_id``): stored with
        ``detail`` in its timeline."""
        self.store.set_prompt_id(job_id, new_id, detail=detail)
        with self._lock:
            self._job_ids.pop(old_id, None)
            self._job_ids[new_id] = job_id

    def comfy_for(self, url: str | None) -> Comfy:
        """The server at ``url`` (the first one when unknown or not given)."""
        return next((c for c in self.comfies if c.url == url), self.comfy)

    # -- reading ---------------------------------------------------------------------

    def is_followed(self, job_id: str) -> bool:
        """This process follows the job (it was submitted or resumed here and has not ended)."""
        return self.live(job_id) is not None

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

    def record_for(self, job_id: str, user: str) -> JobRecord | None:
        """The job's record if it exists; NotAllowed unless ``user`` owns it or is an admin."""
        record = self.store.get(job_id)
        if record is not None and not self.visible(record, user):
            raise NotAllowed("This job belongs to someone else")
        return record

    def cancel(self, job_id: str, *, user: str) -> bool:
        """Interrupt (running) or dequeue (waiting) a job; only its owner or an admin may."""
        if self.record_for(job_id, user) is None:
            return False
        job = self.live(job_id)
        if job is None or job.done:
            return False
        job.interrupt()
        return True

    def delete(self, job_id: str, *, user: str) -> bool:
        record = self.record_for(job_id, user)
        if record is None:
            return False
        if not record.done:
            self.cancel(job_id, user=user)
        return self.store.delete(job_id)

    # -- after a restart, and on the queues (composed objects) ---------------------------

    def resume(self) -> list[JobRecord]:
        """Follow again the jobs this app had when it last stopped (see :mod:`comfy_ui_app.jobs.resume`)."""
        return self._resumer.resume()

    def cancel_prompt(self, prompt_id: str, *, user: str, server: str | None = None) -> bool:
        """Stop a prompt seen in a ComfyUI queue (see :mod:`comfy_ui_app.jobs.queue_actions`)."""
        return self._queues.cancel_prompt(prompt_id, user=user, server=server)

    def clear_queue(self, *, user: str) -> int:
        """Empty the app's queue and the servers' (admins only; see :mod:`comfy_ui_app.jobs.queue_actions`)."""
        return self._queues.clear_queue(user=user)

    def move_to_front(self, job_id: str, *, user: str) -> str:
        """Move a waiting job forward; where it went (see :mod:`comfy_ui_app.jobs.queue_actions`)."""
        return self._queues.move_to_front(job_id, user=user)
