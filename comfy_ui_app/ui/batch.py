"""A tab's run of several jobs (its batch count), sent up front and kept going without the page.

:class:`Batch` sends every job of the run at once: each is recorded and waits its turn in
ComfyUI's queue (or the app's own, over several servers), so closing or reloading the page,
which ends the streaming handler, no longer drops the jobs not sent yet. Under a pending cap
(``--max-pending-per-user``) the jobs the cap refuses now are held back and sent as soon as an
earlier job of the batch has ended (the cap is not the batch count's business). A thread of
the batch's own, not the page's handler, waits for each job in turn: it sends the held-back
ones, and when a job fails or is interrupted it stops the rest (a failed job ends the batch).

Each job of a batch of more than one carries ``values[BATCH_KEY] = {"id", "index", "count"}``
in its record, so a reloaded page finds every job of the batch again (:mod:`comfy_ui_app.ui.reattach`).
:func:`follow_batch` streams the jobs one after another into one gallery.
"""
from __future__ import annotations

import secrets
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dataclasses

import anyio

from comfy_ui_app.comfy.updates import Finished
from comfy_ui_app.errors import BatchStopped, JobLost, LimitExceeded, PromptRejected, ServerUnreachable
from comfy_ui_app.texts.i18n import DEFAULT_LANGUAGE, tr
from comfy_ui_app.texts.messages import ServerNames, describe, describe_problem
from comfy_ui_app.workflow.check import Problem, problems_from_rejection
from comfy_ui_app.workflow.fields import Field
from comfy_ui_app.workflow.pnginfo import parameters_from_prompt, parameters_text
from comfy_ui_app.ui import job_state
from comfy_ui_app.ui.jobfeed import RunUpdate, follow, progress_markdown

__all__ = ["BATCH_KEY", "Batch", "Planned", "batch_mark", "field_errors", "follow_batch"]

BATCH_KEY = "_batch"          # in a batch job's recorded values: {"id", "index", "count"}
HELD_BACK_RETRY_S = 1.0       # a held-back job waits for room under the cap this long between tries
WAIT_POLL_S = 0.05            # how often the page's handler looks for a held-back job


@dataclass
class Planned:
    """One job of the run, filled and checked before anything is sent."""

    values: dict              # the form values it runs with (its own seed); BATCH_KEY when in a batch
    prompt: dict              # the filled API prompt
    seed: int | None          # its seed, if the template has one
    extra: dict | None        # ``extra_data`` for ``POST /prompt`` (the PNG's workflow chunk)


@dataclass
class Sent:
    job: Any
    job_id: str | None        # the job store's id (None in a bare context)


def batch_mark(count: int) -> Callable[[int], dict]:
    """``mark(index)`` -> the BATCH_KEY value of job ``index`` of a new batch of ``count``."""
    batch_id = secrets.token_hex(8)
    return lambda index: {"id": batch_id, "index": index, "count": count}


def _wait_end(job) -> Finished | None:
    for update in job.updates():
        if isinstance(update, Finished):
            return update
    return None


def _interrupt(job, reason: BatchStopped | None = None) -> None:
    """Stop ``job``: as interrupted, or (``reason``) as not run because the batch stopped."""
    try:
        if reason is not None and hasattr(job, "stop"):  # a cluster job: it ends with the reason
            job.stop(reason)
        else:
            job.interrupt()
    except Exception:  # noqa: BLE001 - it ends anyway (its server is gone)
        pass


def _stopped_by(finished: Finished | None, index: int, count: int) -> BatchStopped | None:
    """Why the jobs after job ``index`` are not run: job ``index`` failed (None: it was
    interrupted by its owner, and the rest are interrupted with it)."""
    if finished is not None and finished.status == "interrupted":
        return None
    error = getattr(finished, "error", None)
    gone = finished is None or isinstance(error, (JobLost, ServerUnreachable))
    return BatchStopped("", index + 1, count, server_gone=gone)


class Batch:
    """The jobs of one run; ``submit(plan)`` -> ``(job, job id or None)`` sends one (raises)."""

    def __init__(self, plans: list[Planned], submit: Callable[[Planned], tuple[Any, str | None]]) -> None:
        self.plans = plans
        self._submit = submit
        self._cond = threading.Condition()
        self._sent: list[Sent | None] = [None] * len(plans)
        self._next = 0            # the first job not sent yet
        self.error: BaseException | None = None  # why a held-back job could not be sent
        self.stopped = False      # no more jobs are sent
        self._halted = False      # stop(): a job sent meanwhile is stopped too

    # -- sending (start: the handler's worker thread; later: the batch's own thread) -----

    def start(self) -> None:
        """Send every job the caps allow now; raises the error of any of them (then nothing
        of this run is left waiting: those already sent are stopped)."""
        try:
            self._send_more()
        except BaseException:
            self.stop()
            raise
        if len(self.plans) > 1:
            threading.Thread(target=self._watch, daemon=True, name="batch").start()

    def _send_more(self) -> None:
        while True:
            with self._cond:
                index = self._next
                if index >= len(self.plans) or self.stopped:
                    return
            try:
                job, job_id = self._submit(self.plans[index])
            except LimitExceeded as exc:
                if exc.cap == "pending" and index > 0:
                    return  # held back: sent when an earlier job of the batch has ended
                raise
            with self._cond:
                self._sent[index], self._next = Sent(job, job_id), index + 1
                halted = self._halted
                self._cond.notify_all()
            if halted:
                _interrupt(job)

    def _watch(self) -> None:
        """Wait for each job in turn; send the held-back ones; a failed job stops the rest."""
        index = 0
        while index < len(self.plans):
            try:
                self._send_more()
            except Exception as exc:  # noqa: BLE001 - the page says it (describe); the jobs sent go on
                self._end(error=exc, after=len(self.plans))
                return
            sent = self._sent[index]
            if sent is None:  # still no room under the cap (other jobs of the user)
                with self._cond:
                    if not self.stopped:
                        self._cond.wait(HELD_BACK_RETRY_S)
                    if self.stopped:
                        return
                continue
            finished = _wait_end(sent.job)
            if finished is None or finished.status != "success":
                self._end(after=index + 1, reason=_stopped_by(finished, index, len(self.plans)))
                return
            index += 1

    def _end(self, *, error: BaseException | None = None, after: int = 0, reason: BatchStopped | None = None) -> None:
        """Send nothing more; stop the jobs from ``after`` on (``reason``: why, when no user
        interrupted them; each then ends with it, under its own prompt id)."""
        with self._cond:
            self.stopped, self.error = True, self.error or error
            rest = [s for s in self._sent[after:] if s is not None]
            self._cond.notify_all()
        for sent in rest:
            own = None if reason is None else BatchStopped(str(sent.job.prompt_id), reason.after, reason.count,
                                                           server_gone=reason.server_gone)
            _interrupt(sent.job, own)

    def stop(self) -> None:
        """Stop every job of the batch (a bare run whose page went away)."""
        with self._cond:
            self._halted = True
        self._end()

    # -- reading (the page's handler) -------------------------------------------------

    def job_ids(self) -> list[str]:
        with self._cond:
            return [s.job_id for s in self._sent if s is not None and s.job_id]

    async def sent(self, index: int) -> Sent | None:
        """Job ``index`` once it is sent; None if the batch stopped before."""
        while True:
            with self._cond:
                sent, stopped = self._sent[index], self.stopped
            if sent is not None or stopped:
                return sent
            await anyio.sleep(WAIT_POLL_S)


def field_errors(problems: list[Problem], fields: list[Field], lang: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """``{field name: plain sentence}`` for the problems that belong to a field."""
    names = {f.name for f in fields}
    errors: dict[str, str] = {}
    for problem in problems:
        if problem.field in names:
            text = describe_problem(dataclasses.replace(problem, node_id=None, class_type=None), lang=lang)
            errors[problem.field] = f"{errors[problem.field]} {text}" if problem.field in errors else text
    return errors


async def follow_batch(batch: Batch, output_dir: Path, fields: list, lang: str,
                       gallery: list[str], object_info: dict | None = None, *,
                       names: ServerNames) -> AsyncIterator[RunUpdate]:
    """The batch's jobs one after another into ``gallery``; one final update, after the last
    job or the first that did not succeed. A job ComfyUI refused (``PromptRejected``: the app's
    queue sends it later) names the fields at fault in the final update's ``errors``. Errors are
    worded with the page's server ``names``."""
    count, saved = len(batch.plans), set()
    seeds = [p.seed for p in batch.plans if p.seed is not None]
    for index, plan in enumerate(batch.plans):
        sent = await batch.sent(index)
        if sent is None:
            message = describe(batch.error, lang=lang, names=names) if batch.error else tr("Stopped", lang)
            state = job_state.ended("failed" if batch.error else "interrupted", lang, message)
            yield RunUpdate(progress_markdown(tr("Stopped", lang), state=state), gallery=list(gallery), message=message,
                            errors={}, seeds=seeds[:index] or None, final=True, job_ids=batch.job_ids())
            return
        label = tr("Job {i} of {n}", lang, i=index + 1, n=count) if count > 1 else ""
        text = parameters_text(parameters_from_prompt(plan.prompt, fields))
        job_dir = output_dir / str(sent.job.prompt_id)
        async for update in follow(sent.job, job_dir, text, label, gallery, saved, lang, names=names,
                                   part=(index, count)):
            update.job_ids = batch.job_ids()
            if update.final and isinstance(update.error, PromptRejected):
                problems = problems_from_rejection(update.error, fields, prompt=plan.prompt, object_info=object_info)
                update.errors = field_errors(problems, fields, lang)
            if update.final:
                update.seeds = seeds[:index + 1] or None
                if not update.ok or index == count - 1:
                    yield update  # a failed or interrupted job ends the batch (its thread stops the rest)
                    return
                update.final, update.ok, update.message = False, False, None
            yield update
