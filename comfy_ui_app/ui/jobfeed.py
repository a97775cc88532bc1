"""Following jobs for the page: one job's story as :class:`RunUpdate` s, and reattaching.

``feed`` bridges a blocking ``Job.updates()`` into an async handler Gradio can cancel:
a private thread per job (not a pool), so many waiting users never starve each other
and a cancelled handler is never stuck in a blocking call. ``follow`` turns one job's
updates into page updates (queue position, node, step, %, ETA, throttled previews,
outputs with an A1111 ``parameters`` chunk, and a line saying so while the job's server cannot
be reached: :mod:`comfy_ui_app.ui.contact`). ``reattach`` finds a user's newest job of
a tab and streams it again (``Job.updates()`` replays the whole story, so a reloaded
page gets the outputs made so far), or shows how it ended if that was recent.
"""
from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from comfy_ui_app.comfy.outputs import media_of
from comfy_ui_app.comfy.updates import Finished, Output, Preview
from comfy_ui_app.errors import BatchStopped, JobInterrupted
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.messages import ServerNames, describe
from comfy_ui_app.workflow.pnginfo import PNG_SIGNATURE, add_text_chunk
from comfy_ui_app.jobs.service import NotAllowed
from comfy_ui_app.ui import job_state
from comfy_ui_app.ui._news import ContactWatch, JobLine, Pacing, progress_bar
from comfy_ui_app.ui.status import md_escape

__all__ = ["RunUpdate", "progress_markdown", "line_state", "progress_bar", "follow", "store_outputs", "done_message",
           "cancel_jobs", "PREVIEW_INTERVAL_S"]

# How often news goes to the page (comfy_ui_app.ui._throttle): each update re-sends the tab's outputs through
# Gradio (bench/RESULTS.md, c). News that comes sooner than the interval after the last update
# is merged into the next, or goes by itself once it has waited the hold.
PREVIEW_INTERVAL_S, PREVIEW_HOLD_S = 0.25, 0.5     # at most 4 preview images a second per job
PROGRESS_INTERVAL_S, PROGRESS_HOLD_S = 0.1, 0.2    # at most 10 progress lines a second per job
PLACE_INTERVAL_S = 1.0   # a waiting job's place in line: at most once a second (50 waiting jobs
                         # would each be sent every job's end otherwise: bench/RESULTS.md, c)
JOB_SILENCE_TIMEOUT_S = 900.0  # give up on a job after this long without any news
END = object()   # marks the end of the stream in a batch


@dataclass
class Failure:
    exc: BaseException


@dataclass
class RunUpdate:
    """One step of a run; ``None`` means "leave as it is" for every part."""

    progress: str | None = None          # Markdown: phase · node · step/%/ETA
    preview: Any = None                  # PIL image of the newest preview
    gallery: list[str] | None = None     # every output saved so far (paths; pictures, video, audio, 3D, text…)
    message: str | None = None           # one plain sentence ("" clears)
    errors: dict[str, str] | None = None  # field name -> problem; {} clears every slot
    seeds: list[int] | None = None       # the seed of each job so far
    final: bool = False                  # the last update of the run
    ok: bool = False                     # final only: every job succeeded
    failed: bool = False                 # final only: the last job ended in an error or was lost (Retry)
    job_ids: list[str] | None = None     # the job store's ids of this run's jobs so far
    error: BaseException | None = None   # final and failed only: what ended the job


def progress_markdown(phase: str, *details: str, state: str = "") -> str:
    """``**phase** · detail · …``, then ``state``: the run's hidden mark for the page's scripts
    (:mod:`comfy_ui_app.ui.job_state`; none: nothing runs)."""
    return " · ".join([f"**{md_escape(phase)}**", *(md_escape(d) for d in details if d)]) + state


def line_state(line: JobLine, part: tuple[int, int] = (0, 1)) -> str:
    """The mark of a run whose job ``part[0]`` of ``part[1]`` is where ``line`` says."""
    if line.share is None:
        return job_state.queued(line.lang, line.place)
    return job_state.running(job_state.run_share(line.share, part))


async def feed(job, timeout, wait_due):
    """Feed ``job.updates()`` from a private thread; yield lists of updates.

    ``wait_due()`` returns how long we may wait before something held back is due (an
    empty list is yielded then), or None to wait for the next update however long.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def put(item) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # event loop gone (server shutting down)
            pass

    def pump() -> None:
        try:
            for update in job.updates(timeout=timeout):
                put(update)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(Failure(exc))
        finally:
            put(END)

    threading.Thread(target=pump, daemon=True, name=f"job-{job.prompt_id}").start()
    while True:
        wait = wait_due()
        try:
            first = await (queue.get() if wait is None else asyncio.wait_for(queue.get(), wait))
        except asyncio.TimeoutError:
            yield []
            continue
        batch = [first]
        while not queue.empty():
            batch.append(queue.get_nowait())
        yield batch
        if any(item is END for item in batch):
            return


def store_outputs(images, job_dir: Path, saved: set, gallery: list, parameters: str) -> None:
    """Add each new image to ``gallery`` with the ``parameters`` chunk in its PNG.

    An image the job store already keeps (``.path`` set by its hook) gets the chunk in
    that very file; any other is saved under ``job_dir``.
    """
    for img in images:
        key = (img.type, img.subfolder, img.filename)
        if key in saved:
            continue
        data = img.data
        if data.startswith(PNG_SIGNATURE):
            try:
                data = add_text_chunk(data, "parameters", parameters)
            except ValueError:
                pass  # a broken PNG is kept as it came
        if img.path is None:
            gallery.append(str(dataclasses.replace(img, data=data).save(job_dir)))
        else:
            path = Path(img.path)
            try:
                if data is not img.data:
                    dataclasses.replace(img, data=data).save(path.parent, name=path.name, replace=True)
            except OSError:
                if not path.is_file():  # deleted meanwhile (History tab): nothing to show
                    saved.add(key)
                    continue
            gallery.append(str(path))
        saved.add(key)


async def follow(job, job_dir: Path, parameters: str, label: str, gallery: list, saved: set,
                 lang: str, *, names: ServerNames, part: tuple[int, int] = (0, 1)) -> AsyncIterator[RunUpdate]:
    """Updates of one job, job ``part[0]`` of ``part[1]`` of its run; the last has ``final`` set
    (``message`` None on success but the last; an error worded with the page's server ``names``).

    Each batch of the job's updates moves its progress line (:class:`~comfy_ui_app.ui._news.JobLine`), holds
    the newest preview and stores outputs; what goes to the page, and when, is paced by
    :class:`~comfy_ui_app.ui._news.Pacing`. While the job's server cannot be reached the progress line says so
    at once (:class:`~comfy_ui_app.ui._news.ContactWatch`), and shows the job's own progress again when
    contact is back."""
    line = JobLine(lang)
    pacing = Pacing(time.monotonic(), preview=(PREVIEW_INTERVAL_S, PREVIEW_HOLD_S),
                    progress=(PROGRESS_INTERVAL_S, PROGRESS_HOLD_S), place=(PLACE_INTERVAL_S, PLACE_INTERVAL_S))
    contact = ContactWatch(job, lang, time.monotonic())
    held: Preview | None = None  # the newest preview not shown yet

    def wait_due():
        """Seconds until a held preview, unsent progress or the next look at the server is due."""
        now = time.monotonic()
        return max(0.0, min([*pacing.waits(now), contact.wait(now)]))

    yield RunUpdate(progress_markdown(line.phase, label, state=line_state(line, part)))
    async for batch in feed(job, JOB_SILENCE_TIMEOUT_S, wait_due):
        shown = len(gallery)
        fresh = pacing.note(batch, time.monotonic())
        done: Finished | None = None
        for item in batch:
            if isinstance(item, Failure):
                raise item.exc
            if isinstance(item, Preview):
                held = item
            elif isinstance(item, Output):
                await anyio.to_thread.run_sync(store_outputs, item.images, job_dir, saved, gallery, parameters)
            elif isinstance(item, Finished):
                done = item
            else:
                line.take(item)  # Queued, Started, Executing, Progress (END: nothing)
        preview = None
        if held is not None and (done is not None or pacing.previews.due(time.monotonic(), fresh=fresh.preview)):
            preview, held = await anyio.to_thread.run_sync(held.to_pil), None
            pacing.previews.sent(time.monotonic())
        if done is not None:
            yield await _ending(done, job, job_dir, parameters, label, preview, gallery, saved, lang, names, part)
            return
        contact.look(time.monotonic(), idle=not batch)
        update = _news(line, label, pacing, contact, fresh, preview, gallery, shown, part)
        if update is not None:
            yield update
    message = tr("ComfyUI stopped sending news about the job. Please try again.", lang)
    yield RunUpdate(progress_markdown(tr("Stopped", lang), state=job_state.ended("failed", lang, message)), None,
                    list(gallery), message, final=True, failed=True)


def _news(line: JobLine, label: str, pacing: Pacing, contact: ContactWatch, fresh, preview, gallery: list,
          shown: int, part: tuple[int, int] = (0, 1)) -> RunUpdate | None:
    """The update for the page after a batch, or None when nothing is due: a new preview, new
    pictures (``shown`` were on the page), or a progress line whose time has come."""
    now = time.monotonic()
    line_due = pacing.line_due(now, fresh) or contact.changed
    new_pictures = list(gallery) if len(gallery) != shown else None  # None: the page keeps its own
    if preview is None and new_pictures is None and not line_due:
        return None
    text = None  # a new preview alone leaves the line: held news goes with the next news, on time
    if line_due or new_pictures is not None:
        state = line_state(line, part)
        text = (progress_markdown(contact.lost, label, state=state) if contact.lost else
                progress_markdown(line.phase, label, line.node, line.step, state=state))
        pacing.line_sent(now)
        contact.shown = contact.lost
    return RunUpdate(text, preview, new_pictures)


async def _ending(done: Finished, job, job_dir: Path, parameters: str, label: str, preview, gallery: list,
                  saved: set, lang: str, names: ServerNames, part: tuple[int, int] = (0, 1)) -> RunUpdate:
    """The final update of a job that ``done`` ended: its last pictures stored, in plain words
    (a success of a job before the last of its run leaves the run's mark running)."""
    if done.status == "success":
        if any((img.type, img.subfolder, img.filename) not in saved for img in done.images):  # else a no-op
            await anyio.to_thread.run_sync(store_outputs, done.images, job_dir, saved, gallery, parameters)
        message = done_message(gallery, lang)
        state = (job_state.ended("done", lang, message) if part[0] >= part[1] - 1 else
                 job_state.running(job_state.run_share(1.0, part)))
        return RunUpdate(progress_markdown(tr("Done", lang), label, progress_bar(1, 1) + " 100%", state=state),
                         preview, list(gallery), message, final=True, ok=True)
    if done.status == "interrupted" and isinstance(done.error, BatchStopped):  # the app stopped it, not a user
        message = describe(done.error, lang=lang, names=names)
        return RunUpdate(progress_markdown(tr("Stopped", lang), label, state=job_state.ended("failed", lang, message)),
                         preview, list(gallery), message, final=True)
    if done.status == "interrupted":  # the very words of the Interrupt button, which may come first
        message = tr("Interrupted. The job was cancelled.", lang)
        return RunUpdate(progress_markdown(tr("Interrupted", lang), label,
                                           state=job_state.ended("interrupted", lang, message)),
                         preview, list(gallery), message, final=True)
    error = done.error or JobInterrupted(job.prompt_id)
    message = describe(error, retrying=False, lang=lang, names=names)
    return RunUpdate(progress_markdown(tr("Stopped", lang), label, state=job_state.ended("failed", lang, message)),
                     preview, list(gallery), message, final=True, failed=True, error=error)


def done_message(gallery: list, lang: str) -> str:
    """How a run that succeeded ended, in plain words: "Done — 3 pictures.", "Done — 1 file." (a video,
    a sound, a text… among them)."""
    n = len(gallery)
    if gallery and any(media_of(path) != "image" for path in gallery):
        return tr("Done — 1 file.", lang) if n == 1 else tr("Done — {n} files.", lang, n=n)
    if gallery:
        return tr("Done — 1 picture.", lang) if n == 1 else tr("Done — {n} pictures.", lang, n=n)
    return tr("Finished, but the workflow produced no images.", lang)


def cancel_jobs(jobs, job_ids, user: str | list[str]) -> int:
    """Stop those of ``job_ids`` that still wait or run and belong to ``user`` (or to one of a
    list of the caller's identities); returns how many."""
    users = [user] if isinstance(user, str) else list(user)
    stopped = 0
    for job_id in job_ids or []:
        for who in users:
            try:
                if jobs.cancel(str(job_id), user=who):
                    stopped += 1
                break  # the caller's (stopped, or already over)
            except NotAllowed:
                continue  # not this identity's; never someone else's job, whatever the page sent
    return stopped
