"""A (re)loaded page picks up its user's newest job of a tab: :func:`reattach` streams it
again if it still runs (:func:`attach`, outputs so far included), or shows how it ended
if that was less than ``RECENT_S`` ago. Retry (retry.py) streams its new job through
:func:`attach` too.
"""
from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from .. import JobLost, OutputImage
from ..fields import discover
from ..i18n import tr
from ..messages import describe
from ..pnginfo import parameters_from_prompt, parameters_text
from .jobfeed import RunUpdate, done_message, follow, progress_markdown, store_outputs

__all__ = ["RECENT_S", "attach", "finished_update", "latest", "parameters_of", "reattach"]

RECENT_S = 600.0               # a reloaded page shows a job that ended less than this ago
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


def finished_update(record, parameters: str, lang: str) -> RunUpdate:
    """The final update of a job that ended while no page watched it (blocking: reads files)."""
    gallery: list[str] = []
    images = [OutputImage(o.filename, "", o.kind, o.path.read_bytes(), o.path) for o in record.outputs
              if o.path.suffix.lower() in IMAGE_SUFFIXES and o.path.is_file()]
    store_outputs(images, Path(), set(), gallery, parameters)
    if record.status == "success":
        progress, message = progress_markdown(tr("Done", lang), "100%"), done_message(gallery, lang)
    elif record.status in ("interrupted", "cancelled"):
        progress, message = progress_markdown(tr("Interrupted", lang)), tr("Interrupted. The job was cancelled.", lang)
    elif record.status == "lost" and not record.error:
        progress, message = progress_markdown(tr("Stopped", lang)), describe(JobLost(record.prompt_id), lang=lang)
    else:
        progress = progress_markdown(tr("Stopped", lang))
        message = tr("Error: {error}", lang, error=record.error or tr("unknown error", lang))
    return RunUpdate(progress, None, gallery, message, {}, _seeds(record), final=True,
                     ok=record.status == "success", failed=record.status in ("error", "lost"),
                     job_ids=[record.job_id])


async def attach(ctx, job, record, lang: str) -> AsyncIterator[RunUpdate]:
    """Stream a running job again, like a fresh run of it (outputs made so far included)."""
    info = await anyio.to_thread.run_sync(ctx.server.object_info_or_none)
    parameters = parameters_of(record.prompt, info)
    gallery: list[str] = []
    async for update in follow(job, Path(ctx.output_dir) / str(job.prompt_id), parameters, "", gallery, set(), lang):
        update.job_ids = [record.job_id]
        if update.final:
            update.seeds = _seeds(record)
        yield update


async def reattach(ctx, user: str | None, kind: str, lang: str) -> AsyncIterator[RunUpdate]:
    """What a (re)loaded page shows of ``user``'s newest job of ``kind``; nothing if none."""
    if ctx.jobs is None or not user:
        return
    record = await anyio.to_thread.run_sync(latest, ctx.jobs, user, kind)
    if record is None:
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
        info = await anyio.to_thread.run_sync(ctx.server.object_info_or_none)
        yield await anyio.to_thread.run_sync(finished_update, record, parameters_of(record.prompt, info), lang)
    else:  # followed by another process of the app: say so, without a stream
        phase = tr("Running", lang) if record.status == "running" else tr("Queued", lang)
        yield RunUpdate(progress_markdown(phase), job_ids=[record.job_id])
