"""One job on one server of a :class:`~comfy_ui_app.cluster.cluster.Cluster`: its own thread.

The thread sends the job (dispatch listeners first, then its pictures, then the prompt),
relays the server Job's updates, frees the job's slot when that server Job ends and
decides how the job ends: a job that never started there goes back to the app's queue
(:meth:`JobRunner._retry`), any other ends as the server said (:func:`~comfy_ui_app.cluster.verdicts.outcome`).

A job can also end while it is on a server without the server saying so: a reader's
silence timeout (``updates(timeout=)``, the page's), or the cluster's run limit. Then
:meth:`JobRunner.stop_on_server` ends its server Job too (so the thread frees the slot at
once) and asks the server to drop the prompt (``/queue`` delete and ``/interrupt`` with its
prompt_id); a server that does not answer gets it dropped by the health check later.

:class:`JobRunner` works on the cluster's :class:`~comfy_ui_app.cluster.core.ClusterCore`,
given to it when the cluster is built.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from comfy_ui_app.cluster.core import ClusterCore
from comfy_ui_app.cluster.dispatch import ClusterJob, Member
from comfy_ui_app.cluster.verdicts import outcome
from comfy_ui_app.comfy.inputs import upload_inputs
from comfy_ui_app.comfy.jobs import Job
from comfy_ui_app.comfy.updates import Finished
from comfy_ui_app.errors import (
    ComfyError, JobInterrupted, JobLost, PromptRejected, ServerUnreachable, WorkflowError,
)

__all__ = ["DispatchListener", "JobRunner"]

log = logging.getLogger(__name__)

DispatchListener = Callable[[ClusterJob, str, str], None]
"""``listener(job, url, prompt_id)``: runs before each send of a job to a server."""


class JobRunner:
    """The per-job threads of a Cluster (see the module docstring)."""

    def __init__(self, core: ClusterCore, *, max_attempts: int) -> None:
        self._core = core
        self.max_attempts = max_attempts
        self.listeners: list[DispatchListener] = []

    def start(self, job: ClusterJob, member: Member, prompt_id: str, server_job: Job | None = None) -> None:
        """Send ``job`` to ``member`` as ``prompt_id`` on a thread of its own (its slot is
        reserved); with ``server_job`` (adopted after a restart) it is already there."""
        threading.Thread(target=self._send, args=(job, member, prompt_id, server_job),
                         name=f"cluster-job {prompt_id}", daemon=True).start()

    def _send(self, job: ClusterJob, member: Member, prompt_id: str, server_job: Job | None = None) -> None:
        try:
            if server_job is None:
                self._run_on(job, member, prompt_id)
            else:  # adopted after a restart: already there
                self._watch(job, member, prompt_id, server_job)
        except Exception as e:  # noqa: BLE001 - a job must end even if a hook or a bug fails here
            log.exception("cluster job %s failed on %s", prompt_id, member.url)
            self._release(member, prompt_id)
            job._finish("error", e if isinstance(e, ComfyError) else ComfyError(f"The app failed to run the job: {e}"))

    def _run_on(self, job: ClusterJob, member: Member, prompt_id: str) -> None:
        for listener in list(self.listeners):
            listener(job, member.url, prompt_id)
        try:
            upload_inputs(member.comfy.client, job.inputs)  # the pictures first: the prompt names them
            server_job = member.comfy.submit(job.prompt, extra_data=job.extra_data, prompt_id=prompt_id)
        except (PromptRejected, WorkflowError) as e:  # the job's own fault (refused there, or found here
            self._release(member, prompt_id)            # before sending: NotSendable): it fails alone,
            job._finish("error", e)                     # the server's health is not in question
            return
        except ComfyError as e:  # unreachable, or a 500 (upload or submit): try elsewhere (it may have been queued)
            self._release(member, prompt_id, broken=e)
            self._retry(job, member, prompt_id, e)
            return
        self._watch(job, member, prompt_id, server_job)

    def _watch(self, job: ClusterJob, member: Member, prompt_id: str, server_job: Job) -> None:
        """Follow the job's prompt on ``member`` until it ends there; then free its slot."""
        with self._core.lock:
            job.prompt_id, job.server, job.server_job = prompt_id, member.url, server_job
            cancel = job.cancel_requested
        if job.done:  # it ended while being sent (a reader's timeout): it must not run on there
            self._stop_there(job, server_job)
        elif cancel:
            try:
                server_job.interrupt()
            except ComfyError as e:
                log.warning("could not interrupt %s on %s: %s", prompt_id, member.url, e)
        finished = job._follow(server_job)
        self._release(member, prompt_id)
        status, error = outcome(finished, server_job, member.url, started=job.state == "running")
        if isinstance(error, (JobLost, ServerUnreachable)) and job.state == "queued":
            self._retry(job, member, prompt_id, error)  # it never started there: go elsewhere
        else:
            job._finish(status, error)

    def _release(self, member: Member, prompt_id: str, *, broken: ComfyError | None = None) -> None:
        with self._core.lock:
            member.attempts.pop(prompt_id, None)
            if isinstance(broken, ServerUnreachable):
                member.healthy, member.reason, member.error = False, str(broken), broken
        self._core.wake()

    def _retry(self, job: ClusterJob, member: Member, prompt_id: str, error: ComfyError) -> None:
        """Back to the head of its owner's line, unless it ended, was cancelled or tried too often."""
        core = self._core
        with core.lock:
            member.abandoned.append(prompt_id)  # if that server still has it, delete it there later
            again = not (job.done or job.cancel_requested or job.attempts >= self.max_attempts
                         or core.closed.is_set())
            if again:
                job.server, job.server_job, job.waiting = None, None, True
                core.queue.push(job, front=True)
                core.reposition()
        if again:
            log.info("job %s goes back to the queue after %s: %s", prompt_id, member.url, error)
            core.wake()
        elif job.cancel_requested:
            job._finish("interrupted", JobInterrupted(prompt_id))
        else:
            job._finish("error", outcome(Finished("error", error=error), None, member.url)[1])

    # -- a job that ended while on a server --------------------------------------------

    def stop_on_server(self, job: ClusterJob) -> None:
        """``job`` finished (called under the job's condition: no lock, no HTTP here). If its
        server Job still runs, it is stopped there on a thread of its own."""
        server_job = job.server_job
        if server_job is not None and not server_job.done:
            threading.Thread(target=self._stop_there, args=(job, server_job),
                             name=f"cluster-stop {server_job.prompt_id}", daemon=True).start()

    def _stop_there(self, job: ClusterJob, server_job: Job) -> None:
        """End ``server_job`` (the job's thread then frees the slot) and drop it on its server."""
        if server_job.done:
            return
        prompt_id = server_job.prompt_id
        server_job._finish("interrupted", JobInterrupted(prompt_id))
        member = self._core.member_at(job.server)
        if member is None:  # pragma: no cover - a job is only ever sent to one of ours
            return
        try:
            member.comfy.client.delete_from_queue([prompt_id])  # if it still waits there
            member.comfy.client.interrupt(prompt_id)  # if it runs (ignored by ComfyUI otherwise)
            log.info("job %s was stopped on %s: %s", prompt_id, member.url, job.error)
        except ComfyError as e:
            log.warning("could not stop %s on %s (dropped when it answers): %s", prompt_id, member.url, e)
            with self._core.lock:
                member.abandoned.append(prompt_id)
