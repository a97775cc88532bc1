"""A (re)loaded page picks up its user's newest job of a tab: :func:`reattach` streams it
again if it still runs (:func:`attach`, outputs so far included), or shows how it ended
if that was less than ``RECENT_S`` ago. Retry (:mod:`comfy_ui_app.ui.retry`) streams its new job through
:func:`attach` too.

A job of a batch (its values carry ``batch.BATCH_KEY``) brings its whole batch back
(:func:`reattach_batch`): the jobs that ended show their pictures, the unfinished ones are
followed one after another ("Job 2 of 3"), into one gallery, as the page that started it did.
"""
from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from comfy_ui_app.errors import BatchStopped, JobLost
from comfy_ui_app.comfy.updates import OutputImage
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.messages import ServerNames, describe, describe_recorded
from comfy_ui_app.workflow.pnginfo import parameters_from_prompt, parameters_text
from comfy_ui_app.ui.batch import BATCH_KEY
from comfy_ui_app.ui import job_state
from comfy_ui_app.ui.jobfeed import RunUpdate, done_message, follow, progress_markdown, store_outputs

__all__ = ["RECENT_S", "attach", "batch_of", "finished_update", "latest", "parameters_of", "reattach",
           "reattach_batch"]

RECENT_S = 600.0               # a reloaded page shows a job that ended less than this ago
NEXT_JOB_WAIT_S = 5.0          # a batch's next job not recorded yet (held back by a cap): wait this long
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")


def latest(jobs, user: str, kind: str, now: float | None = None):
    """The user's newest unfinished job of ``kind``, else one that ended recently, else None."""
    unfinished = [r for r in jobs.list(user=user, statuses=["queued", "running"]) if r.kind == kind]
    if unfinished:
        return unfinished[0]
    now = time.time() if now is None else now
    ended = next((r for r in jobs.list(user=user, limit=20) if r.kind == kind and r.done), None)
    return ended if ended and ended.finished_at and now - ended.finished_at < RECENT_S else None


def parameters_of(prompt: dict, object_info: dict | None) -> str:
    """The A1111 ``parameters`` text of a filled prompt (its fields found again)."""
    return parameters_text(parameters_from_prompt(prompt, discover(prompt, object_info)))


def _seeds(record) -> list[int] | None:
    seed = record.values.get("seed")
    return [seed] if isinstance(seed, int) and not isinstance(seed, bool) else None


def finished_update(record, parameters: str, lang: str, gallery: list[str] | None = None, *,
                    names: ServerNames) -> RunUpdate:
    """The final update of a job that ended while no page watched it (blocking: reads files);
    its pictures are added to ``gallery`` (those of the batch's jobs before it)."""
    gallery = [] if gallery is None else gallery
    images = [OutputImage(o.filename, "", o.kind, o.path.read_bytes(), o.path) for o in record.outputs
              if o.path.suffix.lower() in IMAGE_SUFFIXES and o.path.is_file()]
    store_outputs(images, Path(), set(), gallery, parameters)
    if record.status == "success":
        phase, kind, details, message = "Done", "done", ["100%"], done_message(gallery, lang)
    elif record.error_code == BatchStopped.code:  # the app did not run it: an earlier job of the batch failed
        phase, kind, details, message = "Stopped", "failed", [], describe_recorded(record, lang=lang, names=names)
    elif record.status in ("interrupted", "cancelled"):
        phase, kind, details, message = "Interrupted", "interrupted", [], tr("Interrupted. The job was cancelled.", lang)
    elif record.status == "lost" and not record.error:
        phase, kind, details, message = "Stopped", "failed", [], describe(JobLost(record.prompt_id), lang=lang,
                                                                          names=names)
    else:
        error = describe_recorded(record, lang=lang, names=names) or tr("unknown error", lang)
        phase, kind, details, message = "Stopped", "failed", [], tr("Error: {error}", lang, error=error)
    progress = progress_markdown(tr(phase, lang), *details, state=job_state.ended(kind, lang, message))
    return RunUpdate(progress, None, gallery, message, {}, _seeds(record), final=True,
                     ok=record.status == "success", failed=record.status in ("error", "lost"),
                     job_ids=[record.job_id])


async def attach(ctx, job, record, lang: str) -> AsyncIterator[RunUpdate]:
    """Stream a running job again, like a fresh run of it (outputs made so far included)."""
    info = await anyio.to_thread.run_sync(ctx.catalog.object_info_or_none)
    parameters = parameters_of(record.prompt, info)
    gallery: list[str] = []
    async for update in follow(job, Path(ctx.output_dir) / str(job.prompt_id), parameters, "", gallery, set(), lang,
                            names=ctx.names):
        update.job_ids = [record.job_id]
        if update.final:
            update.seeds = _seeds(record)
        yield update


async def reattach(ctx, user: str | None, kind: str, lang: str) -> AsyncIterator[RunUpdate]:
    """What a (re)loaded page shows of ``user``'s newest job of ``kind``; nothing if none."""
    if not user:
        return
    record = await anyio.to_thread.run_sync(latest, ctx.jobs, user, kind)
    if record is None:
        return
    if batch_of(record) is not None:
        async for update in reattach_batch(ctx, user, batch_of(record), lang):
            yield update
        return
    job = ctx.jobs.live(record.job_id)
    if job is not None:
        async for update in attach(ctx, job, record, lang):
            yield update
        return
    record = ctx.jobs.get(record.job_id, user=user)  # it may have ended meanwhile
    if record is None:
        return
    if record.done:
        info = await anyio.to_thread.run_sync(ctx.catalog.object_info_or_none)
        yield await anyio.to_thread.run_sync(lambda: finished_update(record, parameters_of(record.prompt, info), lang,
                                                                names=ctx.names))
    else:  # followed by another process of the app: say so, without a stream
        phase, state = _elsewhere(record, lang)
        yield RunUpdate(progress_markdown(phase, state=state), job_ids=[record.job_id])


def batch_of(record) -> dict | None:
    """The batch mark ``{"id", "index", "count"}`` of a batch's job, else None."""
    mark = record.values.get(BATCH_KEY) if isinstance(record.values, dict) else None
    ok = isinstance(mark, dict) and isinstance(mark.get("id"), str) and \
        all(isinstance(mark.get(k), int) and not isinstance(mark.get(k), bool) for k in ("index", "count"))
    return mark if ok and 0 <= mark["index"] < mark["count"] else None


def _member(jobs, user: str, mark: dict, index: int):
    """The newest record of job ``index`` of the batch ``mark``, or None."""
    for record in jobs.list(user=user, limit=200):
        other = batch_of(record)
        if other is not None and other["id"] == mark["id"] and other["index"] == index:
            return record
    return None


async def _wait_member(jobs, user: str, mark: dict, index: int):
    deadline = time.monotonic() + (NEXT_JOB_WAIT_S if index else 0)
    while True:
        record = await anyio.to_thread.run_sync(_member, jobs, user, mark, index)
        if record is not None or time.monotonic() >= deadline:
            return record
        await anyio.sleep(0.2)


async def reattach_batch(ctx, user: str, mark: dict, lang: str) -> AsyncIterator[RunUpdate]:
    """Every job of the batch ``mark`` in turn: shown if ended, followed if unfinished; one final update."""
    count, gallery, saved, seeds, job_ids = mark["count"], [], set(), [], []
    info = await anyio.to_thread.run_sync(ctx.catalog.object_info_or_none)
    for index in range(count):
        record = await _wait_member(ctx.jobs, user, mark, index)
        if record is None:  # never sent (the app stopped meanwhile): what there is, is all there is
            break
        last, label = index == count - 1, tr("Job {i} of {n}", lang, i=index + 1, n=count)
        job_ids.append(record.job_id)
        seeds.extend(_seeds(record) or [])
        parameters = parameters_of(record.prompt, info)
        job = ctx.jobs.live(record.job_id)
        if job is not None:
            async for update in follow(job, Path(ctx.output_dir) / str(job.prompt_id), parameters, label, gallery,
                                       saved, lang, names=ctx.names, part=(index, count)):
                update.job_ids = list(job_ids)
                if update.final:
                    update.seeds = list(seeds) or None
                    if not update.ok or last:
                        yield update
                        return
                    update.final, update.ok, update.message = False, False, None
                yield update
            continue
        record = ctx.jobs.get(record.job_id, user=user) or record  # it may have ended meanwhile
        if not record.done:  # followed by another process of the app: say so, without a stream
            phase, state = _elsewhere(record, lang, (index, count))
            yield RunUpdate(progress_markdown(phase, label, state=state), job_ids=list(job_ids))
            return
        update = await anyio.to_thread.run_sync(
            lambda: finished_update(record, parameters, lang, gallery, names=ctx.names))
        update.job_ids, update.seeds = list(job_ids), list(seeds) or None
        if not update.ok or last:
            yield update
            return
        state = job_state.running(job_state.run_share(1.0, (index, count)))
        yield RunUpdate(progress_markdown(tr("Done", lang), label, state=state), gallery=list(gallery),
                        job_ids=list(job_ids))
    message = done_message(gallery, lang)
    yield RunUpdate(progress_markdown(tr("Done", lang), "100%", state=job_state.ended("done", lang, message)), None,
                    list(gallery), message, {}, list(seeds) or None, final=True, ok=True, job_ids=list(job_ids))


def _elsewhere(record, lang: str, part: tuple[int, int] = (0, 1)) -> tuple[str, str]:
    """The phase and mark of a job another process of the app follows (no news of its steps here)."""
    if record.status == "running":
        return tr("Running", lang), job_state.running(job_state.run_share(0.0, part))
    return tr("Queued", lang), job_state.queued(lang)
