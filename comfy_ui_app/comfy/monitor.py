"""What makes sure every job of a :class:`~comfy_ui_app.Comfy` ends with its images.

Two objects, each composed into ``Comfy`` and given what it needs in its constructor:

* :class:`OutputFetcher`: a small pool fetches output files through ``/view`` so the
  event reader never blocks (every kind :func:`~comfy_ui_app.comfy.outputs.output_refs` reads:
  pictures, video, audio, 3D, text, files of kinds never seen); a picture must be one PIL can
  read, a video or audio file must start like one (a server or proxy answering 200 with an error
  page is no output), then the ``save_outputs`` hook stores them;
* :class:`Monitor`: a thread that asks ``/queue`` for queue positions when a ``status``
  event says the queue moved, and ``/history`` and ``/queue`` about jobs that went quiet or
  after a reconnect, so that no job waits forever: one the server no longer knows ends as
  :class:`JobLost` naming the server, and after ``give_up_after`` s without an answer every
  job ends (a running one as lost, a waiting one as unreachable); a socket that has carried
  nothing for ``3 x stall_after`` s while one of our jobs runs is reconnected (the clientId
  pitfall of ``stream`` leaves it open but deaf).
"""

from __future__ import annotations

import io
import logging
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from comfy_ui_app.comfy.client import ComfyClient
from comfy_ui_app.comfy.jobs import Job, job_failed_from
from comfy_ui_app.comfy.outputs import TEXT_TYPE, check_media, media_of, output_refs
from comfy_ui_app.comfy.stream import EventStream
from comfy_ui_app.comfy.updates import OutputImage
from comfy_ui_app.errors import (
    ComfyError, JobInterrupted, JobLost, NotAnImage, OutputsNotSaved, ServerUnreachable,
)

__all__ = ["Monitor", "OutputFetcher", "SaveOutputs", "check_output_image"]

log = logging.getLogger(__name__)

SaveOutputs = Callable[[Job, str, list[OutputImage]], list[OutputImage]]
"""``save_outputs(job, node, images)``: stores fetched outputs, returns them as stored."""


def check_output_image(data: bytes, filename: str) -> None:
    """Raise NotAnImage unless ``data`` is a picture PIL can read (header and structure
    only, no pixels decoded: cheap)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
    except Image.DecompressionBombError:
        return  # a (very) large picture is still a picture
    except Exception as exc:  # noqa: BLE001 - PIL raises many kinds for bad data (OSError, SyntaxError, struct.error…)
        raise NotAnImage(filename) from exc


class OutputFetcher:
    """Fetches jobs' output images on a small pool and hands them to ``save_outputs``."""

    def __init__(self, client: ComfyClient, save_outputs: SaveOutputs | None = None) -> None:
        self._client = client
        self.save_outputs = save_outputs  # may be installed later (before jobs run)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="comfy-fetch")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def fetch(self, job: Job, node: str, refs: list[dict], *, from_history: bool = False) -> None:
        """Fetch the refs of ``node`` not fetched yet (``from_history``: a late read of
        ``/history``, nothing for a node the socket already announced)."""
        fresh = job._claim_outputs(refs, node, missing_node_only=from_history)
        if fresh:
            self._pool.submit(self._fetch_task, job, node, fresh)

    def _fetch_task(self, job: Job, node: str, refs: list[dict]) -> None:
        images = []
        try:
            for ref in refs:
                filename, subfolder = str(ref.get("filename", "")), str(ref.get("subfolder", ""))
                kind = str(ref.get("type", "output"))
                if kind == TEXT_TYPE:  # PreviewAny's text: in the message itself, nothing to fetch
                    images.append(OutputImage(filename, subfolder, kind, str(ref.get("text", "")).encode()))
                    continue
                try:
                    data = self._client.view(filename, subfolder=subfolder, type=kind)
                    if media_of(filename) == "image":
                        check_output_image(data, filename)
                    else:
                        check_media(data, filename)
                except NotAnImage as e:  # the others of the node may still be fine
                    log.warning("output %s of %s is not what its name says", filename, job.prompt_id)
                    job.fetch_errors.append(e)
                    continue
                images.append(OutputImage(filename, subfolder, kind, data))
            if self.save_outputs is not None:
                images = self.save_outputs(job, node, images)
        except ComfyError as e:
            log.warning("could not fetch outputs of %s: %s", job.prompt_id, e)
            job.fetch_errors.append(e)
        except OSError as e:
            log.error("could not store outputs of %s: %s", job.prompt_id, e)
            job.fetch_errors.append(OutputsNotSaved(job.prompt_id, e.strerror or str(e)))
        finally:
            job._add_output(node, images)


class Monitor:
    """The watch over one server's unfinished jobs, on a thread of its own.

    ``jobs()`` lists the jobs to watch; ``stream`` is the server's event stream (whether it is
    up, how long it has been quiet, reconnect it). The owner tells it what happened:
    :meth:`queue_moved`, :meth:`recheck_all`, :meth:`reconnected`; ``running`` is the prompt
    executing on the server (ours or not), kept by the owner's event handler and filled in
    here from ``/queue`` after a reconnect mid-run.
    """

    def __init__(self, client: ComfyClient, stream: EventStream, jobs: Callable[[], list[Job]],
                 fetcher: OutputFetcher, *, poll_interval: float, stall_after: float,
                 give_up_after: float) -> None:
        self._client, self._stream, self._jobs, self._fetcher = client, stream, jobs, fetcher
        self.url = client.base_url
        self.running: str | None = None
        self._poll_interval = poll_interval
        self._stall_after = stall_after
        self._deaf_after = 3 * stall_after  # a running job of ours and a silent socket: reconnect
        self._give_up_after = give_up_after
        self._unreachable_since: float | None = None
        self._queue_moved = threading.Event()
        self._recheck_all = threading.Event()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"comfy-monitor {self.url}", daemon=True)

    # -- what the owner tells it -------------------------------------------------------

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def close(self) -> None:
        self._closed.set()
        self._wake.set()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def wake(self) -> None:
        self._wake.set()

    def queue_moved(self) -> None:
        """The server's queue changed: ask ``/queue`` for positions on the next round."""
        self._queue_moved.set()
        self._wake.set()

    def recheck_all(self) -> None:
        """Ask about every unfinished job on the next round (an adopted one, say)."""
        self._recheck_all.set()
        self._wake.set()

    def reconnected(self) -> None:
        """The event stream is up (again): the server answers; ask about every job."""
        self._unreachable_since = None
        self.recheck_all()

    # -- the thread ----------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self._poll_interval)
            self._wake.clear()
            if self._closed.is_set():
                return
            try:
                self.check_once()
            except ServerUnreachable as e:
                self._server_down(e)
            except ComfyError as e:
                log.warning("monitor check of %s failed: %s", self.url, e)
            except Exception:  # noqa: BLE001 - a bug here must not stop the watch over every job
                log.exception("monitor check of %s failed unexpectedly", self.url)

    def check_once(self) -> None:
        """One round: positions if the queue moved; quiet jobs asked about."""
        jobs = [job for job in self._jobs() if not job.done]
        if not jobs:
            self._queue_moved.clear()
            return
        now = time.monotonic()
        recheck = self._recheck_all.is_set() or not self._stream.connected
        stalled = [job for job in jobs if recheck or now - job.last_event > self._stall_after]
        if not (self._queue_moved.is_set() or stalled):
            return
        self._queue_moved.clear()
        self._recheck_all.clear()
        queue = self._client.get_queue()
        self._unreachable_since = None
        running = {item[1] for item in queue["queue_running"]}
        pending = [item[1] for item in queue["queue_pending"]]
        if self.running is None and running:
            self.running = next(iter(running))  # reconnected mid-run: no execution_start seen
        for job in jobs:
            if job.prompt_id in running:
                job._mark_running()
            elif job.prompt_id in pending:
                job._set_position(len(running) + pending.index(job.prompt_id))
        deaf = False
        for job in stalled:
            if job.prompt_id not in running and job.prompt_id not in pending:
                self._settle_from_history(job)
            else:
                deaf = deaf or (job.prompt_id in running and self._stream.quiet_for() > self._deaf_after)
                job.missing_checks = 0
                job.last_event = time.monotonic()
        if deaf and self._stream.connected:  # ours runs, yet not even a status message: see stream's docstring
            self._stream.reconnect(f"no message for {self._deaf_after:g} s while a job of ours runs")

    def _lost(self, job: Job, reason: str) -> JobLost:
        return JobLost(job.prompt_id, reason, url=self.url, started=job.state == "running")

    def _settle_from_history(self, job: Job) -> None:
        """The job is in neither queue: finish it from ``/history`` or call it lost."""
        entry = self._client.get_history_item(job.prompt_id).get(job.prompt_id)
        if not entry:
            job.missing_checks += 1  # twice in a row: not just the gap before history is written
            if job.missing_checks >= 2:
                job._finish("error", self._lost(job, "it is in neither its queue nor its history"))
            return
        for node, output in (entry.get("outputs") or {}).items():
            self._fetcher.fetch(job, str(node), output_refs(str(node), output or {}), from_history=True)
        status = entry.get("status") or {}
        messages = dict((m[0], m[1]) for m in status.get("messages") or [] if isinstance(m, list) and len(m) == 2)
        if status.get("status_str") == "success":
            job._finish("success")
        elif "execution_interrupted" in messages:
            job._finish("interrupted", JobInterrupted(job.prompt_id))
        elif "execution_error" in messages:
            job._finish("error", job_failed_from(job.prompt_id, messages["execution_error"]))
        else:
            job._finish("error", self._lost(job, "its history records it as unfinished"))

    def _server_down(self, error: ServerUnreachable) -> None:
        """No answer for ``give_up_after`` s: a running job is lost, a waiting one unreachable."""
        now = time.monotonic()
        if self._unreachable_since is None:
            self._unreachable_since = now
        elif now - self._unreachable_since > self._give_up_after:
            for job in self._jobs():
                job._finish("error", self._lost(job, "it stopped answering") if job.state == "running" else error)
