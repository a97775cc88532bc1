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

Threads: a health thread per server (:mod:`comfy_ui_app.cluster.health`: ``GET /system_stats`` every
``health_interval``; model lists and node classes fetched when it comes back), a dispatcher (chooses under ``_lock``, no HTTP
there; it also finds the jobs over the run limit) and a thread per job on a server (submits,
relays its updates, frees the slot: :mod:`comfy_ui_app.cluster.run`). Lock
order: ``_lock`` may be held while taking a job's condition, never the reverse.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from comfy_ui_app.cluster.run import JobThreads
from comfy_ui_app.comfy.connection import Comfy
from comfy_ui_app.cluster.dispatch import ClusterJob, FairQueue, Server, ServerState, assign
from comfy_ui_app.cluster.health import HealthChecks
from comfy_ui_app.comfy.inputs import InputCache, InputFile
from comfy_ui_app.cluster.verdicts import hopeless, missing_words, overdue
from comfy_ui_app.errors import ComfyError, JobInterrupted, RunLimitExceeded

__all__ = ["Cluster", "ClusterJob", "ServerState"]

log = logging.getLogger(__name__)


RUN_LIMIT_S = 30 * 60.0  # the default run limit: generous, a hung job still ends


class Cluster(HealthChecks, JobThreads):
    """Several ComfyUI servers; jobs wait in a fair queue of the app's own for a free one."""

    def __init__(self, comfies: list[Comfy], *, per_server: int = 2, health_interval: float = 5.0,
                 give_up_after: float | None = 600.0, max_attempts: int = 3,
                 run_limit: float | None = RUN_LIMIT_S,
                 on_dispatch: Callable[[ClusterJob, str, str], None] | None = None) -> None:
        """``run_limit``: seconds a job may run on a server (see the module docstring);
        ``on_dispatch``: a first dispatch listener (see :meth:`add_dispatch_listener`)."""
        if not comfies:
            raise ValueError("a cluster needs at least one server")
        self.per_server, self.health_interval, self.max_attempts = per_server, health_interval, max_attempts
        self.give_up_after, self.run_limit = give_up_after, run_limit
        self._listeners: list[Callable[[ClusterJob, str, str], None]] = [on_dispatch] if on_dispatch else []
        self._inputs = InputCache()  # recent jobs' pictures: a prompt sent again finds its own
        self._servers = [Server(comfy) for comfy in comfies]
        self._queue = FairQueue()
        self._lock = threading.Lock()
        self._wake, self._closed = threading.Event(), threading.Event()
        self._threads: list[threading.Thread] = []

    def __repr__(self) -> str:
        return f"Cluster({[s.url for s in self._servers]!r})"

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> Cluster:
        """Start every server's stream and monitor, the health threads and the dispatcher."""
        if self._threads:
            return self
        for server in self._servers:
            server.comfy.start()
            self._threads.append(threading.Thread(target=self._health_loop, args=(server,),
                                                  name=f"cluster-health {server.url}", daemon=True))
        self._threads.append(threading.Thread(target=self._dispatch_loop, name="cluster-dispatch", daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def close(self) -> None:
        """Stop the threads and the servers' streams. Unfinished jobs are left as they are
        (a job store resumes them at the next start)."""
        self._closed.set()
        self._wake.set()
        for server in self._servers:
            server.comfy.close()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------

    @property
    def comfies(self) -> list[Comfy]:
        return [server.comfy for server in self._servers]

    @property
    def servers(self) -> list[ServerState]:
        with self._lock:
            return [ServerState(s.url, s.healthy, "" if s.healthy else s.reason, s.in_flight,
                                s.comfy.queue_remaining, list(s.checkpoints), set(s.node_classes),
                                s.last_checkpoint, s.label, None if s.healthy else s.error) for s in self._servers]

    def waiting(self) -> list[ClusterJob]:
        """The jobs waiting in the app's queue, in the order they will be sent."""
        with self._lock:
            return self._queue.order()

    # -- submitting and cancelling -----------------------------------------------------

    def add_dispatch_listener(self, listener: Callable[[ClusterJob, str, str], None]) -> None:
        """``listener(job, url, prompt_id)`` runs before each send of a job to a server
        (``job.prompt_id`` is still the previous id then): a job store records the server
        and re-keys its record there. An exception in it ends that job as an error."""
        if listener not in self._listeners:
            self._listeners.append(listener)

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
        with self._lock:
            problem = missing_words(job, self._servers)
        if problem is not None:  # perhaps a model was added since we looked: look again
            for server in [s for s in self._servers if s.healthy]:
                self._learn(server, raise_errors=False)
            with self._lock:
                error = hopeless(job, self._servers, time.monotonic(), None)
            if error is not None:
                job._finish("error", error)
                return job
        with self._lock:
            job.waiting = True
            self._queue.push(job)
            self._reposition()
        self._wake.set()
        return job

    def move_to_front(self, job: ClusterJob, *, everyone: bool = False) -> bool:
        """A job waiting in the app's queue goes first of its owner's jobs (turns between
        owners stay fair), or with ``everyone`` (an admin's move) first of the whole queue;
        False if it is not waiting there (sent, done, unknown)."""
        with self._lock:
            if job not in self._queue:
                return False
            self._queue.remove(job)
            self._queue.push(job, front=True, everyone=everyone)
            self._reposition()
        self._wake.set()
        return True

    def adopt(self, prompt_id: str, prompt: dict, *, url: str, owner: str, running: bool = False,
              extra_data: dict | None = None) -> ClusterJob:
        """Follow a prompt an earlier run of the app sent to the server at ``url`` (a job store
        resuming after a restart): it holds a slot there and the run limit applies. ``running``:
        it had started there (if that server lost it, it ends as lost rather than going elsewhere).
        Raises KeyError for a url that is none of the cluster's servers."""
        server = next((s for s in self._servers if s.url == url), None)
        if server is None:
            raise KeyError(url)
        job = ClusterJob(self, prompt_id, prompt, owner=owner, extra_data=extra_data)
        job.attempts = 1
        if running:
            job._mark_running()
        with self._lock:
            server.attempts[prompt_id] = job
        self._start_thread(job, server, prompt_id, server.comfy.adopt(prompt_id, prompt))
        return job

    def cancel_job(self, job: ClusterJob) -> None:
        """``job.interrupt()``: out of our queue if waiting, else interrupted on its server."""
        with self._lock:
            removed = self._queue.remove(job)
            if removed:
                job.waiting = False
                self._reposition()
            else:
                job.cancel_requested = True
            server_job = job.server_job
        if removed:
            job._finish("interrupted", JobInterrupted(job.prompt_id))
        elif server_job is not None:
            server_job.interrupt()  # may raise ServerUnreachable, like Job.interrupt

    # -- dispatching (dispatcher thread) -----------------------------------------------

    def _reposition(self) -> None:
        for position, job in enumerate(self._queue.order()):
            job._set_position(position)

    def _dispatch_loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self.health_interval)
            self._wake.clear()
            if not self._closed.is_set():
                self._dispatch_once()

    def _dispatch_once(self) -> None:
        failed: list[tuple[ClusterJob, ComfyError]] = []
        now = time.monotonic()
        with self._lock:
            late = overdue(self._servers, now, self.run_limit)
            for job in [job for job in self._queue.order() if job.done]:  # e.g. a reader's timeout ended it
                self._queue.remove(job)
            sends = assign(self._queue, self._servers, self.per_server)
            for job in self._queue.order():
                error = hopeless(job, self._servers, now, self.give_up_after)
                if error is not None:
                    self._queue.remove(job)
                    job.waiting = False
                    failed.append((job, error))
            self._reposition()
        for job, server in late:  # ending it stops it on its server and frees its slot (job_ended)
            log.warning("job %s ran for more than %g s on %s: stopping it", job.prompt_id, self.run_limit, server.url)
            job._finish("error", RunLimitExceeded(job.prompt_id, self.run_limit, url=server.url, label=server.label))
        for job, error in failed:
            job._finish("error", error)
        for job, server, prompt_id in sends:
            self._start_thread(job, server, prompt_id)
