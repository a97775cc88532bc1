"""Comfy: one ComfyUI server as the app sees it — HTTP client, event stream, jobs.

Three kinds of threads meet here, each doing one thing:

* the event reader (:class:`EventStream`) routes every message to its Job by prompt_id;
* a small pool fetches output images through ``/view`` so the reader never blocks
  (and hands them to the ``save_outputs`` hook, if any, before anyone sees them);
* the monitor asks ``/queue`` for queue positions when a ``status`` event says the queue
  moved, and asks ``/history`` and ``/queue`` about jobs that went quiet or after a
  reconnect, so that no job waits forever.

The last two live in :mod:`comfy_ui_app.comfy.monitor` (:class:`OutputFetcher` and
:class:`Monitor`, composed here). ``Comfy`` is the :class:`~comfy_ui_app.comfy.jobs.JobHost`
of its jobs: it cancels them and stops following them when they end.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

import requests

from comfy_ui_app.comfy.client import ComfyClient
from comfy_ui_app.comfy.frames import Message, PreviewFrame, TextFrame
from comfy_ui_app.comfy.jobs import Job
from comfy_ui_app.comfy.monitor import Monitor, OutputFetcher, SaveOutputs
from comfy_ui_app.comfy.stream import EventStream, SocketFactory
from comfy_ui_app.comfy.updates import Preview, Queued
from comfy_ui_app.errors import ComfyError, JobInterrupted

__all__ = ["Comfy"]

log = logging.getLogger(__name__)


class Comfy:
    """One ComfyUI server: submit prompts and follow them to the end."""

    def __init__(
        self,
        url: str,
        *,
        session: requests.Session | None = None,
        socket_factory: SocketFactory | None = None,
        timeout: float = 10.0,
        client_id: str | None = None,
        poll_interval: float = 1.0,
        stall_after: float = 5.0,
        give_up_after: float = 60.0,
        save_outputs: SaveOutputs | None = None,
        label: str | None = None,
    ) -> None:
        self.client = ComfyClient(url, session=session, timeout=timeout, client_id=client_id)
        self.url = self.client.base_url
        # What a page calls this server: "ComfyUI server 2" on a public page, its url by default
        # (texts.server_names.ServerNames; its errors carry only the url).
        self.label = label or self.url
        self.client_id = self.client.client_id
        self.give_up_after = give_up_after  # s without an answer before its unfinished jobs end (Monitor)
        self.queue_remaining: int | None = None
        # Bumped on every ``status`` event and (re)connect (both on the reader thread): pages
        # showing the queue re-ask ``/queue`` only when it changed (see ``status_version``).
        self._status_version = 0
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._fetcher = OutputFetcher(self.client, save_outputs)
        self._stream = EventStream(
            self.url,
            self.client_id,
            self._on_event,
            on_connect=self._on_connect,
            socket_factory=socket_factory,
            credentials=self.client.credentials,
        )
        self._monitor = Monitor(self.client, self._stream, self.jobs, self._fetcher, poll_interval=poll_interval,
                                stall_after=stall_after, give_up_after=give_up_after)

    def __repr__(self) -> str:
        return f"Comfy({self.url!r})"

    def set_save_outputs(self, save_outputs: SaveOutputs) -> None:
        """Install the hook that stores fetched outputs before any reader sees them."""
        self._fetcher.save_outputs = save_outputs

    @property
    def saves_outputs(self) -> bool:
        """True once a ``save_outputs`` hook is installed."""
        return self._fetcher.save_outputs is not None

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> Comfy:
        """Start following the server; never raises when it is down (it keeps retrying)."""
        self._stream.start()
        self._monitor.start()
        return self

    def close(self) -> None:
        self._monitor.close()
        self._stream.close()
        self._fetcher.close()

    def __enter__(self) -> Comfy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        """True while the event stream is up."""
        return self._stream.connected

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._stream.wait_connected(timeout)

    def check(self) -> dict:
        """Cheap health probe (``GET /system_stats``); raises ServerUnreachable/ServerHTTPError."""
        return self.client.system_stats()

    # -- jobs ------------------------------------------------------------------------

    def submit(
        self, prompt: dict, *, extra_data: dict | None = None, front: bool = False, prompt_id: str | None = None
    ) -> Job:
        """Queue ``prompt`` and return its Job; raises PromptRejected or ServerUnreachable.

        ``prompt_id`` (a lowercase UUID) may be chosen by the caller, e.g. to record
        the job before it is sent; one is made up otherwise.
        """
        job = Job(self, prompt_id or str(uuid.uuid4()), prompt)
        with self._lock:  # registered first: events may beat the HTTP answer
            self._jobs[job.prompt_id] = job
        try:
            answer = self.client.queue_prompt(prompt, prompt_id=job.prompt_id, extra_data=extra_data, front=front)
        except BaseException:
            self._unregister(job)
            raise
        job.number = answer.get("number")
        job.node_errors = answer.get("node_errors") or {}
        if job.state == "queued":
            job._push(Queued(None))
        self._monitor.queue_moved()
        return job

    def adopt(self, prompt_id: str, prompt: dict | None = None) -> Job:
        """Follow a prompt queued earlier (by a previous run of the app, say).

        The monitor asks ``/queue`` and ``/history`` about it at once: it ends from the
        history if it already finished, and as lost if the server never heard of it.
        """
        with self._lock:
            job = self._jobs.get(prompt_id)
            if job is None:
                job = self._jobs[prompt_id] = Job(self, prompt_id, prompt or {})
        job.last_event = 0.0  # counts as quiet: checked on the monitor's next round
        self._monitor.recheck_all()
        return job

    def move_to_front(self, job: Job, *, prompt_id: str | None = None,
                      before_submit: Callable[[str, str], None] | None = None) -> bool:
        """Make a waiting job run next; False if it is not waiting (running, done, unknown).

        ComfyUI cannot reorder its queue, so the prompt is taken out and queued again with
        ``front`` under a new prompt_id (``prompt_id``, else a new one); the same ``job``
        follows it. ``before_submit(old_id, new_id)`` runs once the old entry is surely gone
        and before the new one is sent (the job store re-keys its record there).
        """
        old_id = job.prompt_id
        item = next((i for i in self.client.get_queue()["queue_pending"] if i[1] == old_id), None)
        if item is None or job.done:
            return False
        self.client.delete_from_queue([old_id])
        queue = self.client.get_queue()
        if any(i[1] == old_id for i in queue["queue_running"] + queue["queue_pending"]) \
                or self.client.get_history_item(old_id):
            return False  # the worker took it meanwhile: it runs now anyway
        new_id = prompt_id or str(uuid.uuid4())
        if before_submit is not None:
            before_submit(old_id, new_id)
        with self._lock:
            self._jobs.pop(old_id, None)
            job.prompt_id, job.last_event, job.missing_checks = new_id, time.monotonic(), 0
            self._jobs[new_id] = job
        extra_data = {k: v for k, v in (item[3] or {}).items() if k != "client_id"}
        try:
            answer = self.client.queue_prompt(item[2], prompt_id=new_id, extra_data=extra_data, front=True)
        except ComfyError as e:
            job._finish("error", e)  # it is out of the queue now: say so rather than wait
            raise
        job.number = answer.get("number")
        self._monitor.queue_moved()
        return True

    def jobs(self) -> list[Job]:
        """Jobs of this process that have not finished yet."""
        with self._lock:
            return list(self._jobs.values())

    def job_ended(self, job: Job) -> None:
        """A job of ours ended (:class:`~comfy_ui_app.comfy.jobs.JobHost`): no longer followed."""
        self._unregister(job)

    def _unregister(self, job: Job) -> None:
        """Stop routing events and monitor checks to ``job``."""
        with self._lock:
            self._jobs.pop(job.prompt_id, None)

    def _job(self, prompt_id: str | None) -> Job | None:
        if prompt_id is None:
            return None
        with self._lock:
            return self._jobs.get(prompt_id)

    def cancel_job(self, job: Job) -> None:
        """Interrupt a running job, or take a waiting one out of the queue (``job.interrupt()``)."""
        if job.state == "running":
            self.client.interrupt(job.prompt_id)
            return
        self.client.delete_from_queue([job.prompt_id])
        self.client.interrupt(job.prompt_id)  # in case the worker took it meanwhile
        queue = self.client.get_queue()
        ids = {item[1] for item in queue["queue_running"] + queue["queue_pending"]}
        if job.prompt_id not in ids and not self.client.get_history_item(job.prompt_id):
            job._finish("interrupted", JobInterrupted(job.prompt_id))  # deleted: no event will come

    # -- events (reader thread) ------------------------------------------------------

    def _bump_status(self) -> None:
        self._status_version += 1

    @property
    def status_version(self) -> int:
        """A counter bumped on every ``status`` event (the queue moved) and on (re)connect."""
        return self._status_version

    def _on_connect(self) -> None:
        self._bump_status()
        self._monitor.reconnected()

    def _on_event(self, event: Message | PreviewFrame | TextFrame) -> None:
        if isinstance(event, PreviewFrame):
            job = self._job(event.prompt_id or self._monitor.running)
            if job is not None:
                job._push(Preview(event.image, event.mime, event.node_id))
            return
        if isinstance(event, TextFrame):
            return
        if event.type == "status":
            remaining = ((event.data.get("status") or {}).get("exec_info") or {}).get("queue_remaining")
            self.queue_remaining = remaining
            self._bump_status()
            self._monitor.queue_moved()
            return
        prompt_id = event.prompt_id
        if event.type == "execution_start":
            self._monitor.running = prompt_id
        elif event.type in ("execution_success", "execution_error", "execution_interrupted"):
            if self._monitor.running == prompt_id:
                self._monitor.running = None
        elif event.type == "executing" and prompt_id is None:
            prompt_id = self._monitor.running  # sent on reconnect mid-run without a prompt_id
        job = self._job(prompt_id)
        if job is not None:
            job._handle(event, fetch=self._fetcher.fetch)
