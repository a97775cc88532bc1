"""A Job: one submitted prompt and the updates it produces.

The event reader and the monitor thread feed a Job (``_handle`` and the ``_finish``
family); any number of threads may read it with :meth:`Job.updates`. A Job knows whoever
runs it only as a :class:`JobHost` (a ``Comfy``, or a cluster for its own jobs): the host
cancels it on :meth:`Job.interrupt` and hears when it ends. Updates are kept
in a log so several readers (a page reload reattaching, ``wait``) see the same story;
previews are not logged: only the newest one is kept, so a slow reader never works
through stale frames.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from comfy_ui_app.comfy.frames import Message
from comfy_ui_app.comfy.outputs import output_refs
from comfy_ui_app.comfy.updates import (
    Executing, Finished, Output, OutputImage, Preview, Progress, Queued, Started, Update,
)
from comfy_ui_app.errors import ComfyError, JobFailed, JobInterrupted, JobLost

__all__ = ["Job", "JobHost"]

_TERMINAL = ("success", "error", "interrupted")


class JobHost(Protocol):
    """What a :class:`Job` needs from whoever runs it."""

    def cancel_job(self, job: Job) -> None:
        """Stop ``job`` (not done yet): interrupt it if it runs, take it out if it waits.
        May raise ServerUnreachable."""

    def job_ended(self, job: Job) -> None:
        """``job`` logged its Finished. Called under the job's condition: no lock, no HTTP."""


class Job:
    """Follows one prompt from ``POST /prompt`` to its final state."""

    def __init__(self, host: JobHost, prompt_id: str, prompt: dict) -> None:
        self._host = host
        self.prompt_id = prompt_id
        self.prompt = prompt
        self.number: float | None = None
        self.node_errors: dict = {}
        self.state = "queued"
        self.error: ComfyError | None = None
        self.images: list[OutputImage] = []
        self.created = time.time()
        self.last_event = time.monotonic()
        self.missing_checks = 0  # monitor: times in a row found in neither queue nor history
        self.fetch_errors: list[ComfyError] = []  # outputs that could not be fetched (set before Finished)
        self._cond = threading.Condition()
        self._log: list[Update] = []
        self._preview: Preview | None = None
        self._preview_seq = 0
        self._position: int | None = -1  # -1: not reported yet
        self._fetching = 0
        self._terminal: tuple[str, ComfyError | None] | None = None
        self._seen_outputs: set[tuple[str, str, str]] = set()
        self._output_nodes: set[str] = set()  # nodes whose outputs were announced (``executed``)
        self._eta_base: tuple[str | None, float, int] | None = None

    def __repr__(self) -> str:
        return f"<Job {self.prompt_id} {self.state}>"

    @property
    def host(self) -> JobHost:
        """Whoever runs it: a ``Comfy``, or the cluster of a cluster's job."""
        return self._host

    @property
    def preview(self) -> Preview | None:
        """The newest preview received, if any."""
        return self._preview

    @property
    def done(self) -> bool:
        return self.state in _TERMINAL

    # -- reading -------------------------------------------------------------------

    def updates(self, timeout: float | None = None) -> Iterator[Update]:
        """Yield every update from the start, then new ones as they come; ends with Finished.

        With ``timeout``, a silence longer than that many seconds ends the job as lost.
        """
        cursor, seen_preview = 0, 0
        while True:
            with self._cond:
                deadline = None if timeout is None else time.monotonic() + timeout
                while cursor >= len(self._log) and self._preview_seq == seen_preview:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        break
                    self._cond.wait(left)
                new = self._log[cursor:]
                cursor = len(self._log)
                preview = self._preview if self._preview_seq != seen_preview else None
                seen_preview = self._preview_seq
            if not new and preview is None:  # timed out
                self._finish("error", JobLost(self.prompt_id, f"no news for {timeout:g} s"))
                continue
            for update in new:
                yield update
                if isinstance(update, Finished):
                    return
            if preview is not None:
                yield preview

    def wait(self, timeout: float | None = None) -> Finished:
        """Block until the job ends and return its Finished update."""
        for update in self.updates(timeout):
            if isinstance(update, Finished):
                return update
        raise AssertionError("updates() ended without Finished")  # pragma: no cover

    def interrupt(self) -> None:
        """Stop this job only: interrupt it if running, remove it if still waiting."""
        if self.done:
            return
        self._host.cancel_job(self)

    # -- feeding (event reader, fetch pool and monitor threads) ----------------------

    def _push(self, update: Update) -> None:
        with self._cond:
            if self._log and isinstance(self._log[-1], Finished):
                return
            self.last_event = time.monotonic()
            if isinstance(update, Preview):
                self._preview = update
                self._preview_seq += 1
            else:
                self._log.append(update)
            self._cond.notify_all()

    # The reader and the monitor threads both move a job on: each check-and-set runs under
    # ``_cond`` (an RLock), so a job is started once and a finished one never runs again.

    def _set_position(self, position: int) -> None:
        with self._cond:
            if self.state == "queued" and self._terminal is None and position != self._position:
                self._position = position
                self._push(Queued(position))

    def _mark_running(self) -> None:
        with self._cond:
            if self.state == "queued" and self._terminal is None:
                self.state = "running"
                self._push(Started())

    def _handle(self, message: Message, *, fetch: Callable[[Job, str, list[dict]], None]) -> None:
        """Turn one of this prompt's messages into updates."""
        kind, data = message.type, message.data
        if kind == "execution_start":
            self._mark_running()
        elif kind == "executing":
            node = data.get("node")
            if node is not None:
                self._mark_running()
                class_type = (self.prompt.get(str(node)) or {}).get("class_type")
                self._push(Executing(str(node), class_type))
        elif kind == "progress":
            self._mark_running()
            self._push(self._progress(data))
        elif kind == "executed":
            refs = output_refs(str(data.get("node")), data.get("output") or {})
            if refs:
                fetch(self, str(data.get("node")), refs)
        elif kind == "execution_success":
            self._finish("success")
        elif kind == "execution_error":
            self._finish("error", job_failed_from(self.prompt_id, data))
        elif kind == "execution_interrupted":
            self._finish("interrupted", JobInterrupted(self.prompt_id))
        else:
            self.last_event = time.monotonic()

    def _progress(self, data: dict) -> Progress:
        value, maximum, node = int(data.get("value", 0)), int(data.get("max", 0)), data.get("node")
        now = time.monotonic()
        base = self._eta_base
        if base is None or base[0] != node or value <= base[2]:
            self._eta_base = base = (node, now, value)
        done = value - base[2]
        eta = (now - base[1]) / done * (maximum - value) if done > 0 else None
        return Progress(value, maximum, None if node is None else str(node), eta)

    def _claim_outputs(self, refs: list[dict], node: str = "", *, missing_node_only: bool = False) -> list[dict]:
        """The refs not fetched yet; counts them as in flight until :meth:`_add_output`.

        ``missing_node_only`` (a late read of ``/history``): nothing for a node whose outputs
        the socket already announced — the history's list of that node is the same run's."""
        with self._cond:
            if missing_node_only and node in self._output_nodes:
                return []
            self._output_nodes.add(node)
            fresh = []
            for ref in refs:
                key = (str(ref.get("filename")), str(ref.get("subfolder", "")), str(ref.get("type", "output")))
                if key not in self._seen_outputs:
                    self._seen_outputs.add(key)
                    fresh.append(ref)
            if fresh:
                self._fetching += 1
            return fresh

    def _add_output(self, node: str, images: list[OutputImage]) -> None:
        with self._cond:
            self.images.extend(images)
            if images:
                self._push(Output(node, tuple(images)))
            self._fetching -= 1
            if self._fetching == 0 and self._terminal is not None:
                self._push_finished()

    def _finish(self, status: str, error: ComfyError | None = None) -> None:
        """Record the final state; Finished is logged once every output is fetched."""
        with self._cond:
            if self._terminal is not None:
                return
            self._terminal = (status, error)
            self.state, self.error = status, error
            if self._fetching == 0:
                self._push_finished()

    def _push_finished(self) -> None:
        assert self._terminal is not None
        status, error = self._terminal
        if status == "success" and self.fetch_errors:  # it ran, but the user would get nothing
            status, error = self._terminal = ("error", self.fetch_errors[0])
            self.state, self.error = status, error
        self._push(Finished(status, tuple(self.images), error))  # type: ignore[arg-type]
        self._host.job_ended(self)


def job_failed_from(prompt_id: str, data: dict) -> JobFailed:
    """Build JobFailed from an ``execution_error`` message's data."""
    return JobFailed(
        prompt_id,
        node_id=None if data.get("node_id") is None else str(data.get("node_id")),
        node_type=data.get("node_type"),
        exception_message=str(data.get("exception_message", "")),
        exception_type=str(data.get("exception_type", "")),
        traceback=data.get("traceback") or [],
    )
