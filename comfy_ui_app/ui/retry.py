"""The "Retry" button next to a tab's error: run the job that failed once more.

A tab's runs end with :class:`~comfy_ui_app.ui.jobfeed.RunUpdate` ``failed`` set when the
last job ended in an error or was lost (its server stopped while it ran, say); the button
(:func:`retry_button`) is shown then (:func:`retry_visibility`) and hidden by every other
update. Pressing it submits the failed job's recorded prompt again as a new job of the same
user, through the job service, exactly like the History tab's "Re-run": same form values,
same seed, so the same picture. Over several servers the pictures it reads are uploaded
again to wherever it goes (:class:`~comfy_ui_app.cluster.cluster.Cluster` remembers them). The new
job streams into the tab's own outputs, and its id replaces the tab's job ids (so Interrupt
stops it). Only the job of a batch that failed is run again, as a job of its own, not the rest
of its batch (which that failure stopped).
"""
from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import gradio as gr

from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui.batch import BATCH_KEY
from comfy_ui_app.ui.context import caller_ids
from comfy_ui_app.ui._page_view import visibility
from comfy_ui_app.ui import job_state
from comfy_ui_app.ui._first_news import held_first
from comfy_ui_app.ui.jobfeed import RunUpdate, progress_markdown
from comfy_ui_app.ui.reattach import attach
from comfy_ui_app.ui.runner import job_ids_output, user_inputs

__all__ = ["retry_button", "retry_visibility", "retry_job", "wire_retry", "RETRYABLE"]

RETRYABLE = ("error", "lost")


def retry_button(elem_id: str) -> gr.Button:
    """The (hidden) button; place it right under the tab's message box."""
    return gr.Button("Retry", visible=False, size="sm", variant="secondary", elem_id=elem_id)


def retry_visibility(update: RunUpdate, button: gr.Button | None = None):
    """Shown after a failed or lost job of the job service (it has a record to run again);
    ``gr.skip()`` when the page already shows ``button`` so (:func:`~comfy_ui_app.ui._page_view.visibility`)."""
    return visibility(button, bool(update.final and update.failed and update.job_ids), gr.Button)


def _failed_record(jobs, job_ids, users: list[str]):
    """The record of the page's job that failed (the last one that did, of a batch), if it is
    the caller's; else None."""
    for job_id in reversed(list(job_ids or [])):
        record = next(filter(None, (jobs.get(str(job_id), user=user) for user in users)), None)
        if record is not None and record.status in RETRYABLE:
            return record
    return None


async def retry_job(ctx, user: str | list[str], job_ids, lang: str) -> AsyncIterator[RunUpdate]:
    """Submit the failed job of ``job_ids`` again and follow it (see the module docstring).

    ``user``: the caller, or every identity the caller holds; the new job is the failed one's
    owner's when that is one of them (else the first's, e.g. an admin's)."""
    users = [user] if isinstance(user, str) else list(user)
    yield RunUpdate(progress_markdown(tr("Sending to ComfyUI…", lang), state=job_state.queued(lang)), gallery=[],
                    message="", errors={})
    jobs = ctx.jobs
    record = await anyio.to_thread.run_sync(_failed_record, jobs, job_ids, users)
    if record is None:
        message = tr("There is no failed job to retry.", lang)
        yield RunUpdate(progress_markdown(tr("Stopped", lang), state=job_state.ended("failed", lang, message)),
                        message=message, final=True)
        return

    def submit():
        values = {k: v for k, v in record.values.items() if k != BATCH_KEY}  # a job of its own now
        owner = record.owner if record.owner in users else users[0]
        return jobs.submit(owner=owner, template=record.template, values=values, prompt=record.prompt,
                           kind=record.kind)

    try:
        new, job = await anyio.to_thread.run_sync(submit)
    except Exception as exc:  # noqa: BLE001 - always a plain message, never a traceback
        message = describe(exc, lang=lang, names=ctx.names)
        yield RunUpdate(progress_markdown(tr("Stopped", lang), state=job_state.ended("failed", lang, message)),
                        message=message, final=True)
        return
    async for update in attach(ctx, job, new, lang):  # the new record: same prompt and values
        yield update


def retry_handler(ctx, to_outputs):
    """The button's handler: ``(request, lang, job ids[, browser id])`` -> the tab's outputs + job ids."""

    async def retry(request: gr.Request, lang, job_ids, browser_id=None):
        ids = job_ids_output()
        async for update in held_first(retry_job(ctx, caller_ids(request, browser_id), job_ids, lang)):
            yield (*to_outputs(update), ids(update))

    return retry


def wire_retry(ctx, button: gr.Button, outputs: list, to_outputs, job_ids, *, api_name: str | None = None,
               cancels=(), stopped_by=()):
    """Wire ``button`` to run the page's failed job again into ``outputs`` (``to_outputs(update)``
    gives their values, the retry button's visibility included) and ``job_ids``. ``cancels``:
    streams it replaces (the reattach); pressing one of ``stopped_by`` (Generate) stops its
    stream. Returns the event."""
    event = button.click(retry_handler(ctx, to_outputs), [ctx.lang, job_ids, *user_inputs(ctx)], [*outputs, job_ids],
                         api_name=api_name, api_visibility="public" if api_name else "private",
                         concurrency_limit=None, show_progress="hidden", cancels=[c for c in cancels if c] or None)
    for other in stopped_by:
        other.click(None, None, None, cancels=[event], api_visibility="private")
    return event
