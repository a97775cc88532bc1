"""Cluster: several ComfyUI servers behind one queue of the app's own.

    cluster = Cluster([Comfy(url) for url in urls], per_server=2).start()
    job = cluster.submit(prompt, owner="alice")   # never raises for "all servers busy"
    for update in job.updates(): ...              # Queued(position) here, then the server's story

A job waits in the app's queue (owners take turns: :class:`~comfy_ui_app._dispatch.FairQueue`)
until a healthy server with its node types and checkpoints has a free slot (``per_server`` jobs
of ours each); one with its checkpoint loaded goes first, then the least busy. A server that
stops answering before our job started there gives the job back (it goes on elsewhere under a
new prompt_id); one that dies while it runs ends it as an error naming the server (``Comfy``
gives up after its own ``give_up_after``). A job no known server can run ends at once
(WorkflowError); one no healthy server could take for ``give_up_after`` s, with ServerUnreachable.

A job carries the pictures its prompt reads (``inputs``, :mod:`comfy_ui_app._inputs`): they are
uploaded to each server right before the job is sent there.

Threads: a health thread per server (:mod:`comfy_ui_app._health`: ``GET /system_stats`` every
``health_interval``; model lists and node classes fetched when it comes back), a dispatcher (chooses under ``_lock``, no HTTP
there) and a thread per job on a server (submits, relays its updates, frees the slot). Lock
order: ``_lock`` may be held while taking a job's condition, never the reverse.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from ._comfy import Comfy
from ._dispatch import ClusterJob, FairQueue, Server, ServerState, assign, hopeless, missing_words, outcome
from ._health import HealthChecks
from ._inputs import InputCache, InputFile, upload_inputs
from ._jobs import Job
from ._updates import Finished
from .errors import ComfyError, JobInterrupted, JobLost, PromptRejected, ServerUnreachable

__all__ = ["Cluster", "ClusterJob", "ServerState"]

log = logging.getLogger(__name__)


class Cluster(HealthChecks):
    """Several ComfyUI servers; jobs wait in a fair queue of the app's own for a free one."""

    def __init__(self, comfies: list[Comfy], *, per_server: int = 2, health_interval: float = 5.0,
                 give_up_after: float | None = 600.0, max_attempts: int = 3,
                 on_dispatch: Callable[[ClusterJob, str, str], None] | None = None) -> None:
        """``on_dispatch``: a first dispatch listener (see :meth:`add_dispatch_listener`)."""
        if not comfies:
            raise ValueError("a cluster needs at least one server")
        self.per_server, self.health_interval, self.max_attempts = per_server, health_interval, max_attempts
        self.give_up_after = give_up_after
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

    def move_to_front(self, job: ClusterJob) -> bool:
        """A job waiting in the app's queue goes first of its owner's jobs (turns between
        owners stay fair); False if it is not waiting there (sent, done, unknown)."""
        with self._lock:
            if job not in self._queue:
                return False
            self._queue.remove(job)
            self._queue.push(job, front=True)
            self._reposition()
        return True

    def _cancel(self, job: ClusterJob) -> None:
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

    def _forget(self, job: Job) -> None:
        """A ClusterJob finished (Job's hook): the cluster keeps no list of them."""

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
        for job, error in failed:
            job._finish("error", error)
        for job, server, prompt_id in sends:
            threading.Thread(target=self._send, args=(job, server, prompt_id),
                             name=f"cluster-job {prompt_id}", daemon=True).start()

    # -- one job on one server (its own thread) ----------------------------------------

    def _send(self, job: ClusterJob, server: Server, prompt_id: str) -> None:
        try:
            self._run_on(job, server, prompt_id)
        except Exception as e:  # noqa: BLE001 - a job must end even if a hook or a bug fails here
            log.exception("cluster job %s failed on %s", prompt_id, server.url)
            self._release(server, prompt_id)
            job._finish("error", e if isinstance(e, ComfyError) else ComfyError(f"The app failed to run the job: {e}"))

    def _run_on(self, job: ClusterJob, server: Server, prompt_id: str) -> None:
        for listener in list(self._listeners):
            listener(job, server.url, prompt_id)
        try:
            upload_inputs(server.comfy.client, job.inputs)  # the pictures first: the prompt names them
            server_job = server.comfy.submit(job.prompt, extra_data=job.extra_data, prompt_id=prompt_id)
        except PromptRejected as e:
            self._release(server, prompt_id)
            job._finish("error", e)
            return
        except ComfyError as e:  # unreachable, or a 500 (upload or submit): try elsewhere (it may have been queued)
            self._release(server, prompt_id, broken=e)
            self._retry(job, server, prompt_id, e)
            return
        with self._lock:
            job.prompt_id, job.server, job.server_job = prompt_id, server.url, server_job
            cancel = job.cancel_requested
        if cancel:
            try:
                server_job.interrupt()
            except ComfyError as e:
                log.warning("could not interrupt %s on %s: %s", prompt_id, server.url, e)
        finished = job._follow(server_job)
        self._release(server, prompt_id)
        status, error = outcome(finished, server_job, server.url, started=job.state == "running", label=server.label)
        if isinstance(error, (JobLost, ServerUnreachable)) and job.state == "queued":
            self._retry(job, server, prompt_id, error)  # it never started there: go elsewhere
        else:
            job._finish(status, error)

    def _release(self, server: Server, prompt_id: str, *, broken: ComfyError | None = None) -> None:
        with self._lock:
            server.attempts.pop(prompt_id, None)
            if isinstance(broken, ServerUnreachable):
                server.healthy, server.reason, server.error = False, str(broken), broken
        self._wake.set()

    def _retry(self, job: ClusterJob, server: Server, prompt_id: str, error: ComfyError) -> None:
        """Back to the head of its owner's line, unless cancelled or tried too often."""
        with self._lock:
            server.abandoned.append(prompt_id)  # if that server still has it, delete it there later
            again = not (job.cancel_requested or job.attempts >= self.max_attempts or self._closed.is_set())
            if again:
                job.server, job.server_job, job.waiting = None, None, True
                self._queue.push(job, front=True)
                self._reposition()
        if again:
            log.info("job %s goes back to the queue after %s: %s", prompt_id, server.url, error)
            self._wake.set()
        elif job.cancel_requested:
            job._finish("interrupted", JobInterrupted(prompt_id))
        else:
            job._finish("error", outcome(Finished("error", error=error), None, server.url, label=server.label)[1])
