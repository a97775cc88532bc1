"""One job on one server of a :class:`~comfy_ui_app.cluster.cluster.Cluster`: its own thread.

The thread sends the job (dispatch listeners first, then its pictures, then the prompt),
relays the server Job's updates, frees the job's slot when that server Job ends and
decides how the job ends: a job that never started there goes back to the app's queue
(:meth:`JobThreads._retry`), any other ends as the server said (:func:`~comfy_ui_app.cluster.verdicts.outcome`).

A job can also end while it is on a server without the server saying so: a reader's
silence timeout (``updates(timeout=)``, the page's), or the cluster's run limit. Then
:meth:`JobThreads._stop_there` ends its server Job too (so the thread frees the slot at
once) and asks the server to drop the prompt (``/queue`` delete and ``/interrupt`` with its
prompt_id); a server that does not answer gets it dropped by the health check later.

:class:`JobThreads` is mixed into ``Cluster`` and uses its ``_lock``, ``_wake``, ``_closed``,
``_listeners``, ``_queue``, ``_servers``, ``max_attempts`` and ``_reposition``.
"""

from __future__ import annotations

import logging
import threading

from comfy_ui_app.cluster.dispatch import ClusterJob, Server
from comfy_ui_app.comfy.inputs import upload_inputs
from comfy_ui_app.comfy.jobs import Job
from comfy_ui_app.comfy.updates import Finished
from comfy_ui_app.cluster.verdicts import outcome
from comfy_ui_app.errors import ComfyError, JobInterrupted, JobLost, PromptRejected, ServerUnreachable

__all__ = ["JobThreads"]

log = logging.getLogger(__name__)


class JobThreads:
    """The per-job threads of a Cluster (see the module docstring)."""

    def _start_thread(self, job: ClusterJob, server: Server, prompt_id: str, server_job: Job | None = None) -> None:
        threading.Thread(target=self._send, args=(job, server, prompt_id, server_job),
                         name=f"cluster-job {prompt_id}", daemon=True).start()

    def _send(self, job: ClusterJob, server: Server, prompt_id: str, server_job: Job | None = None) -> None:
        try:
            if server_job is None:
                self._run_on(job, server, prompt_id)
            else:  # adopted after a restart: already there
                self._watch(job, server, prompt_id, server_job)
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
        self._watch(job, server, prompt_id, server_job)

    def _watch(self, job: ClusterJob, server: Server, prompt_id: str, server_job: Job) -> None:
        """Follow the job's prompt on ``server`` until it ends there; then free its slot."""
        with self._lock:
            job.prompt_id, job.server, job.server_job = prompt_id, server.url, server_job
            cancel = job.cancel_requested
        if job.done:  # it ended while being sent (a reader's timeout): it must not run on there
            self._stop_there(job, server_job)
        elif cancel:
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
        """Back to the head of its owner's line, unless it ended, was cancelled or tried too often."""
        with self._lock:
            server.abandoned.append(prompt_id)  # if that server still has it, delete it there later
            again = not (job.done or job.cancel_requested or job.attempts >= self.max_attempts
                         or self._closed.is_set())
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

    # -- a job that ended while on a server --------------------------------------------

    def job_ended(self, job: Job) -> None:
        """A ClusterJob finished (Job's hook, called under the job's condition: no lock, no
        HTTP here). If its server Job still runs, it is stopped there on a thread of its own."""
        server_job = getattr(job, "server_job", None)
        if server_job is not None and not server_job.done:
            threading.Thread(target=self._stop_there, args=(job, server_job),
                             name=f"cluster-stop {server_job.prompt_id}", daemon=True).start()

    def _stop_there(self, job: ClusterJob, server_job: Job) -> None:
        """End ``server_job`` (the job's thread then frees the slot) and drop it on its server."""
        if server_job.done:
            return
        prompt_id = server_job.prompt_id
        server_job._finish("interrupted", JobInterrupted(prompt_id))
        server = next((s for s in self._servers if s.url == job.server), None)
        if server is None:  # pragma: no cover - a job is only ever sent to one of ours
            return
        try:
            server.comfy.client.delete_from_queue([prompt_id])  # if it still waits there
            server.comfy.client.interrupt(prompt_id)  # if it runs (ignored by ComfyUI otherwise)
            log.info("job %s was stopped on %s: %s", prompt_id, server.url, job.error)
        except ComfyError as e:
            log.warning("could not stop %s on %s (dropped when it answers): %s", prompt_id, server.url, e)
            with self._lock:
                server.abandoned.append(prompt_id)
