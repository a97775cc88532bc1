"""Cluster: several ComfyUI servers behind one queue of the app's own.

    cluster = Cluster([Comfy(url) for url in urls], per_server=2).start()
    job = cluster.submit(prompt, owner="alice")   # never raises for "all servers busy"
    for update in job.updates(): ...              # Queued(position) here, then the server's story

A job waits in the app's queue (owners take turns: :class:`~comfy_ui_app.cluster.dispatch.FairQueue`)
until a healthy server with its node types and checkpoints has a free slot (``per_server`` jobs
of ours each); one with its checkpoint loaded goes first, then the least busy. A server that
stops answering before our job started there gives the job back (it goes on elsewhere under a
new prompt_id); one that dies while it runs ends it as an error naming the server (``Comfy``
gives up after its own ``give_up_after``). A job no known server can run ends at once
(WorkflowError), unless a server has never told us what it has (down since the start): then it
waits for that one (:mod:`comfy_ui_app.cluster.verdicts`); one no healthy server could take for
``give_up_after`` s ends with ServerUnreachable (or that WorkflowError, naming who could not be asked).

**Run limit.** A job that has run on a server for ``run_limit`` s (default 30 min; None: no
limit) without finishing is stopped there (``/interrupt`` with its prompt_id) and ends as an
error (:class:`~comfy_ui_app.errors.RunLimitExceeded`, a plain message naming the server);
its slot is freed. Any job that ends while it is on a server (that limit, a reader's silence
timeout) is stopped there the same way and frees its slot (:mod:`comfy_ui_app.cluster.run`).

A job carries the pictures its prompt reads (``inputs``, :mod:`comfy_ui_app.comfy.inputs`): they are
uploaded to each server right before the job is sent there.

Threads: a health thread per server (:class:`~comfy_ui_app.cluster.health.HealthChecker`: ``GET
/system_stats`` every ``health_interval``; model lists and node classes fetched when it comes back),
a dispatcher (here: chooses under the lock, no HTTP there; it also finds the jobs over the run
limit) and a thread per job on a server (:class:`~comfy_ui_app.cluster.run.JobRunner`: submits,
relays its updates, frees the slot). All of them share one
:class:`~comfy_ui_app.cluster.core.ClusterCore` (the members, the queue, the lock). The cluster
is the :class:`~comfy_ui_app.comfy.jobs.JobHost` of its jobs.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from comfy_ui_app.cluster.core import ClusterCore
from comfy_ui_app.cluster.dispatch import ClusterJob, Member, ServerState, assign
from comfy_ui_app.cluster.health import HealthChecker
from comfy_ui_app.cluster.run import DispatchListener, JobRunner
from comfy_ui_app.cluster.verdicts import hopeless, nowhere_to_run, overdue
from comfy_ui_app.comfy.connection import Comfy
from comfy_ui_app.comfy.inputs import InputCache, InputFile
from comfy_ui_app.comfy.jobs import Job
from comfy_ui_app.errors import ComfyError, JobInterrupted, RunLimitExceeded

__all__ = ["Cluster", "ClusterJob", "ServerState"]

log = logging.getLogger(__name__)


RUN_LIMIT_S = 30 * 60.0  # the default run limit: generous, a hung job still ends


class Cluster:
    """Several ComfyUI servers; jobs wait in a fair queue of the app's own for a free one."""

    def __init__(self, comfies: list[Comfy], *, per_server: int = 2, health_interval: float = 5.0,
                 give_up_after: float | None = 600.0, max_attempts: int = 3,
                 run_limit: float | None = RUN_LIMIT_S,
                 on_dispatch: DispatchListener | None = None) -> None:
        """``run_limit``: seconds a job may run on a server (see the module docstring);
        ``on_dispatch``: a first dispatch listener (see :meth:`add_dispatch_listener`)."""
        if not comfies:
            raise ValueError("a cluster needs at least one server")
        self.per_server, self.health_interval = per_server, health_interval
        self.give_up_after, self.run_limit = give_up_after, run_limit
        self._inputs = InputCache()  # recent jobs' pictures: a prompt sent again finds its own
        self._core = ClusterCore([Member(comfy) for comfy in comfies])
        self._health = HealthChecker(self._core, health_interval)
        self._runner = JobRunner(self._core, max_attempts=max_attempts)
        if on_dispatch is not None:
            self._runner.listeners.append(on_dispatch)
        self._threads: list[threading.Thread] = []

    def __repr__(self) -> str:
        return f"Cluster({[m.url for m in self._core.members]!r})"

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> Cluster:
        """Start every server's stream and monitor, the health threads and the dispatcher."""
        if self._threads:
            return self
        for member in self._core.members:
            member.comfy.start()
            self._threads.append(threading.Thread(target=self._health.loop, args=(member,),
                                                  name=f"cluster-health {member.url}", daemon=True))
        self._threads.append(threading.Thread(target=self._dispatch_loop, name="cluster-dispatch", daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def close(self) -> None:
        """Stop the threads and the servers' streams. Unfinished jobs are left as they are
        (a job store resumes them at the next start)."""
        self._core.close()
        for member in self._core.members:
            member.comfy.close()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------

    @property
    def comfies(self) -> list[Comfy]:
        return [member.comfy for member in self._core.members]

    @property
    def servers(self) -> list[ServerState]:
        """A snapshot of each server as the cluster sees it."""
        with self._core.lock:
            return [ServerState(m.url, m.healthy, "" if m.healthy else m.reason, m.in_flight,
                                m.comfy.queue_remaining, list(m.checkpoints), set(m.node_classes),
                                m.last_checkpoint, m.label, None if m.healthy else m.error) for m in self._core.members]

    def waiting(self) -> list[ClusterJob]:
        """The jobs waiting in the app's queue, in the order they will be sent."""
        with self._core.lock:
            return self._core.queue.order()

    # -- submitting and cancelling -----------------------------------------------------

    def add_dispatch_listener(self, listener: DispatchListener) -> None:
        """``listener(job, url, prompt_id)`` runs before each send of a job to a server
        (``job.prompt_id`` is still the previous id then): a job store records the server
        and re-keys its record there. An exception in it ends that job as an error."""
        if listener not in self._runner.listeners:
            self._runner.listeners.append(listener)

    def submit(self, prompt: dict, *, owner: str, extra_data: dict | None = None,
               prompt_id: str | None = None, inputs: list[InputFile] | tuple = ()) -> ClusterJob:
        """Put ``prompt`` in the app's queue; never raises because no server is free.

        ``inputs``: the pictures the prompt reads (by :attr:`InputFile.ref`), uploaded to
        whichever server runs it just before it is sent there; pictures of earlier jobs
        that the prompt names are found again by themselves (a job sent again from its
        record). A prompt that no known server can run (a node type or checkpoint missing
        everywhere) comes back already finished with a WorkflowError.
        """
        self._inputs.add(inputs)
        given = {item.ref for item in inputs}
        inputs = [*inputs, *(item for item in self._inputs.for_prompt(prompt) if item.ref not in given)]
        job = ClusterJob(self, prompt_id or str(uuid.uuid4()), prompt, owner=owner, extra_data=extra_data,
                         inputs=inputs)
        core = self._core
        with core.lock:
            problem = nowhere_to_run(job, core.members)
        if problem is not None:  # perhaps a model was added since we looked: look again
            for member in [m for m in core.members if m.healthy]:
                self._health.learn(member, raise_errors=False)
            with core.lock:
                error = hopeless(job, core.members, time.monotonic(), None)
            if error is not None:
                job._finish("error", error)
                return job
        with core.lock:
            job.waiting = True
            core.queue.push(job)
            core.reposition()
        core.wake()
        return job

    def move_to_front(self, job: ClusterJob, *, everyone: bool = False) -> bool:
        """A job waiting in the app's queue goes first of its owner's jobs (turns between
        owners stay fair), or with ``everyone`` (an admin's move) first of the whole queue;
        False if it is not waiting there (sent, done, unknown)."""
        core = self._core
        with core.lock:
            if job not in core.queue:
                return False
            core.queue.remove(job)
            core.queue.push(job, front=True, everyone=everyone)
            core.reposition()
        core.wake()
        return True

    def adopt(self, prompt_id: str, prompt: dict, *, url: str, owner: str, running: bool = False,
              extra_data: dict | None = None) -> ClusterJob:
        """Follow a prompt an earlier run of the app sent to the server at ``url`` (a job store
        resuming after a restart): it holds a slot there and the run limit applies. ``running``:
        it had started there (if that server lost it, it ends as lost rather than going elsewhere).
        Raises KeyError for a url that is none of the cluster's servers."""
        member = self._core.member_at(url)
        if member is None:
            raise KeyError(url)
        job = ClusterJob(self, prompt_id, prompt, owner=owner, extra_data=extra_data)
        job.attempts = 1
        if running:
            job._mark_running()
        with self._core.lock:
            member.attempts[prompt_id] = job
        self._runner.start(job, member, prompt_id, member.comfy.adopt(prompt_id, prompt))
        return job

    # -- what a ClusterJob asks of the cluster (its JobHost) ----------------------------

    def cancel_job(self, job: Job) -> None:
        """``job.interrupt()``: out of our queue if waiting, else interrupted on its server."""
        assert isinstance(job, ClusterJob)
        core = self._core
        with core.lock:
            removed = core.queue.remove(job)
            if removed:
                job.waiting = False
                core.reposition()
            else:
                job.cancel_requested = True
            server_job = job.server_job
        if removed:
            job._finish("interrupted", JobInterrupted(job.prompt_id))
        elif server_job is not None:
            server_job.interrupt()  # may raise ServerUnreachable, like Job.interrupt

    def job_ended(self, job: Job) -> None:
        """A job of ours finished: if it still runs on a server, it is stopped there."""
        if isinstance(job, ClusterJob):
            self._runner.stop_on_server(job)

    # -- dispatching (dispatcher thread) -----------------------------------------------

    def _dispatch_loop(self) -> None:
        while not self._core.closed.is_set():
            self._core.wait_for_wake(self.health_interval)
            if not self._core.closed.is_set():
                self._dispatch_once()

    def _dispatch_once(self) -> None:
        failed: list[tuple[ClusterJob, ComfyError]] = []
        now = time.monotonic()
        core = self._core
        with core.lock:
            late = overdue(core.members, now, self.run_limit)
            for job in [job for job in core.queue.order() if job.done]:  # e.g. a reader's timeout ended it
                core.queue.remove(job)
            sends = assign(core.queue, core.members, self.per_server)
            for job in core.queue.order():
                error = hopeless(job, core.members, now, self.give_up_after)
                if error is not None:
                    core.queue.remove(job)
                    job.waiting = False
                    failed.append((job, error))
            core.reposition()
        for job, member in late:  # ending it stops it on its server and frees its slot (job_ended)
            log.warning("job %s ran for more than %g s on %s: stopping it", job.prompt_id, self.run_limit, member.url)
            job._finish("error", RunLimitExceeded(job.prompt_id, self.run_limit, url=member.url))
        for job, error in failed:
            job._finish("error", error)
        for job, member, prompt_id in sends:
            self._runner.start(job, member, prompt_id)
