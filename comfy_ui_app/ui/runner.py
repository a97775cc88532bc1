"""The one job runner every tab uses: fill, check, submit, follow, save.

``run(ctx, request, lang)`` is an async generator of :class:`RunUpdate`; a tab turns
each into its own outputs (see ``txt2img.py``). Everything about one user's run lives
in the generator's locals. When Gradio cancels the handler (the Interrupt button, a
closed page) the ``finally`` interrupts this user's running job only.

Per job of a batch count of N: the values are filled into a deep copy of the template
(``apply_values``), checked against ``/object_info`` (``check_prompt``), submitted,
followed (queue position, node, step, %, ETA, previews at most ``1/PREVIEW_INTERVAL_S``
per second) and its PNGs saved under ``<output dir>/<job id>/`` with an A1111-style
``parameters`` text chunk added next to ComfyUI's ``prompt``/``workflow`` chunks.
A random seed (-1) is drawn once; job ``i`` uses ``seed + i`` (as AUTOMATIC1111 does),
so "reuse last seed" with the same batch count makes the same pictures again.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from .. import (
    Executing,
    Finished,
    JobInterrupted,
    Output,
    Preview,
    Progress,
    PromptRejected,
    Queued,
    Started,
    WorkflowError,
    apply_values,
)
from ..check import Problem, PromptInvalid, check_prompt, problems_from_rejection
from ..workflow import choose_checkpoint
from ..fields import Field, input_spec
from ..i18n import DEFAULT_LANGUAGE, tr
from ..messages import describe, describe_problem
from ..pnginfo import PNG_SIGNATURE, add_text_chunk, parameters_from_prompt, parameters_text
from .jobfeed import END, Failure, feed, interrupt_quietly
from .status import md_escape

__all__ = ["RunRequest", "RunUpdate", "run", "field_errors", "MAX_UI_SEED", "PREVIEW_INTERVAL_S"]

PREVIEW_INTERVAL_S = 0.25      # at most 4 preview images per second per user
JOB_SILENCE_TIMEOUT_S = 900.0  # give up on a job after this long without any news
MAX_UI_SEED = 2**53 - 1        # random seeds a browser can show exactly (JS numbers)
MODEL_ROLES = ("checkpoint", "lora", "upscale_model", "controlnet", "unet", "vae")


@dataclass
class RunRequest:
    """What to run: a template, its fields and the form's values (``{field name: value}``).

    ``values`` of image/mask fields are local file paths: they are uploaded through
    ``/upload/image`` first (an empty one keeps the template's file). A seed of -1 is
    random. ``workflow`` (the editor graph, if known) goes into the PNG's ``workflow``
    chunk through ``extra_pnginfo``. ``output_dir`` defaults to ``ctx.output_dir``.
    """

    template: dict
    fields: list[Field]
    values: dict[str, Any]
    count: int = 1
    workflow: dict | None = None
    extra_data: dict | None = None
    output_dir: Path | None = None


@dataclass
class RunUpdate:
    """One step of a run; ``None`` means "leave as it is" for every part."""

    progress: str | None = None          # Markdown: phase · node · step/%/ETA
    preview: Any = None                  # PIL image of the newest preview
    gallery: list[str] | None = None     # every PNG saved so far (paths)
    message: str | None = None           # one plain sentence ("" clears)
    errors: dict[str, str] | None = None  # field name -> problem; {} clears every slot
    seeds: list[int] | None = None       # the seed of each job so far
    final: bool = False                  # the last update of the run
    ok: bool = False                     # final only: every job succeeded


def progress_markdown(phase: str, *details: str) -> str:
    return " · ".join([f"**{md_escape(phase)}**", *(md_escape(d) for d in details if d)])


def step_text(update: Progress, lang: str) -> str:
    pct = int(round(100 * update.value / update.max)) if update.max else 0
    text = tr("step {value}/{max} · {pct}%", lang, value=update.value, max=update.max, pct=pct)
    if update.eta_s is not None:
        text += " · " + tr("ETA {s} s", lang, s=max(0, round(update.eta_s)))
    return text


def field_errors(problems: list[Problem], fields: list[Field]) -> dict[str, str]:
    """``{field name: plain sentence}`` for the problems that belong to a field."""
    names = {f.name for f in fields}
    errors: dict[str, str] = {}
    for problem in problems:
        if problem.field in names:
            text = describe_problem(dataclasses.replace(problem, node_id=None, class_type=None))
            errors[problem.field] = f"{errors[problem.field]} {text}" if problem.field in errors else text
    return errors


def _complete(values: dict, fields: list[Field], template: dict, object_info: dict | None) -> dict:
    """Empty model choices (an API call, a page not refreshed yet) -> the server's pick."""
    values = dict(values)
    for f in fields:
        if f.role in MODEL_ROLES and f.kind == "choice" and f.name in values and not values[f.name]:
            spec = input_spec(object_info, template[f.node_id].get("class_type"), f.input_name)
            choice = choose_checkpoint(f.default, spec[0] if spec and isinstance(spec[0], list) else [])
            if choice:
                values[f.name] = choice
            else:
                del values[f.name]
    return values


def _seed_bases(values: dict, fields: list[Field]) -> dict[str, tuple[int, int]]:
    """``{seed field: (first seed, largest seed)}``; -1 / empty draws a random one."""
    bases = {}
    for f in fields:
        if f.role == "seed" and f.name in values:
            top = int(f.maximum) if f.maximum is not None else 2**64 - 1
            value = values[f.name]
            try:
                if value is None or value == "" or float(value) < 0:
                    # leave room for a batch count to count up without leaving the range
                    value = secrets.randbelow(max(1, min(top, MAX_UI_SEED) - 1024))
                bases[f.name] = (int(float(value)), top)
            except (TypeError, ValueError, OverflowError):
                pass  # apply_values names the field and says what is wrong
    return bases


def _upload_images(ctx, fields: list[Field], values: dict) -> dict:
    """Send each picked image through ``/upload/image``; the value becomes its server name."""
    values = dict(values)
    for f in fields:
        if f.kind not in ("image", "mask") or f.name not in values:
            continue
        path = values[f.name]
        if not path:
            del values[f.name]  # nothing picked: keep the template's file
            continue
        if isinstance(path, str) and Path(path).is_file():
            answer = ctx.comfy.client.upload_image(Path(path).read_bytes(), Path(path).name)
            sub = answer.get("subfolder") or ""
            values[f.name] = f"{sub}/{answer['name']}" if sub else answer["name"]
    return values


def _save(images, job_dir: Path, saved: set, gallery: list, parameters: str) -> None:
    for img in images:
        key = (img.type, img.subfolder, img.filename)
        if key in saved:
            continue
        if img.data.startswith(PNG_SIGNATURE):
            try:
                img = dataclasses.replace(img, data=add_text_chunk(img.data, "parameters", parameters))
            except ValueError:
                pass  # a broken PNG is saved as it came
        gallery.append(str(img.save(job_dir)))
        saved.add(key)


async def run(ctx, request: RunRequest, lang: str | None = DEFAULT_LANGUAGE) -> AsyncIterator[RunUpdate]:
    """Run ``request.count`` jobs one after another; see the module docstring."""
    lang = lang or DEFAULT_LANGUAGE
    job, finished, filled = None, True, None
    gallery: list[str] = []
    seeds: list[int] = []
    saved: set = set()
    count = max(1, int(request.count or 1))
    output_dir = Path(request.output_dir or ctx.output_dir)
    extra = dict(request.extra_data or {})
    if request.workflow:
        extra["extra_pnginfo"] = {**extra.get("extra_pnginfo", {}), "workflow": request.workflow}
    object_info = None
    try:
        yield RunUpdate(progress_markdown(tr("Sending to ComfyUI…", lang)), gallery=[], message="", errors={})
        object_info = await anyio.to_thread.run_sync(ctx.server.object_info_or_none)
        values = await anyio.to_thread.run_sync(_upload_images, ctx, request.fields, request.values)
        values = _complete(values, request.fields, request.template, object_info)
        bases = _seed_bases(values, request.fields)
        for index in range(count):
            for name, (base, top) in bases.items():
                values[name] = (base + index) % (top + 1)
            filled = apply_values(request.template, values, fields=request.fields)
            problems = check_prompt(filled, object_info, request.fields)
            if problems:
                raise PromptInvalid(problems)
            if bases:
                seeds.append(values[next(iter(bases))])
            label = tr("Job {i} of {n}", lang, i=index + 1, n=count) if count > 1 else ""
            job = await anyio.to_thread.run_sync(lambda: ctx.comfy.submit(filled, extra_data=extra or None))
            finished = False
            text = parameters_text(parameters_from_prompt(filled, request.fields))
            async for update in _follow(job, output_dir / str(job.prompt_id), text, label, gallery, saved, lang):
                if update.final:
                    finished = True
                    update.seeds = list(seeds)
                    if not update.ok or index == count - 1:
                        yield update  # a failed or interrupted job ends the batch
                        return
                    update.final, update.ok, update.message = False, False, None
                yield update
    except PromptRejected as exc:
        problems = problems_from_rejection(exc, request.fields, prompt=filled, object_info=object_info)
        yield _stopped(lang, gallery, seeds, describe(exc), field_errors(problems, request.fields))
    except PromptInvalid as exc:
        yield _stopped(lang, gallery, seeds, describe(exc), field_errors(exc.problems, request.fields))
    except WorkflowError as exc:
        errors = {exc.field: describe(exc)} if exc.field else {}
        yield _stopped(lang, gallery, seeds, describe(exc), errors)
    except Exception as exc:  # noqa: BLE001 - always a plain message, never a traceback
        yield _stopped(lang, gallery, seeds, describe(exc), {})
    finally:
        # Reached on success, on errors, and when the user presses Interrupt
        # (Gradio cancels this handler): stop only THIS user's job.
        if job is not None and not finished:
            interrupt_quietly(job)


def _stopped(lang, gallery, seeds, message, errors) -> RunUpdate:
    return RunUpdate(progress_markdown(tr("Stopped", lang)), gallery=list(gallery), message=message,
                     errors=errors, seeds=list(seeds) or None, final=True)


async def _follow(job, job_dir: Path, parameters: str, label: str, gallery: list, saved: set,
                  lang: str) -> AsyncIterator[RunUpdate]:
    """Updates of one job; the last has ``final`` set (``message`` None on success but the last)."""
    phase, node, step = tr("Queued", lang), "", ""
    held: Preview | None = None
    last_preview = 0.0

    def wait_preview():
        if held is None:
            return None
        return max(0.0, PREVIEW_INTERVAL_S - (time.monotonic() - last_preview))

    yield RunUpdate(progress_markdown(phase, label))
    async for batch in feed(job, JOB_SILENCE_TIMEOUT_S, wait_preview):
        done: Finished | None = None
        for item in batch:
            if item is END:
                continue
            if isinstance(item, Failure):
                raise item.exc
            if isinstance(item, Queued):
                phase = tr("Queued", lang)
                node = (tr("next to run", lang) if item.position == 0 else
                        tr("position {n} in line", lang, n=item.position) if item.position else "")
            elif isinstance(item, Started):
                phase, node = tr("Running", lang), ""
            elif isinstance(item, Executing):
                phase, step = tr("Running", lang), ""
                node = tr("{name} (node {id})", lang, name=item.class_type or tr("node", lang), id=item.node)
            elif isinstance(item, Progress):
                phase, step = tr("Running", lang), step_text(item, lang)
            elif isinstance(item, Preview):
                held = item
            elif isinstance(item, Output):
                await anyio.to_thread.run_sync(_save, item.images, job_dir, saved, gallery, parameters)
            elif isinstance(item, Finished):
                done = item
        preview = None
        if held is not None and (done is not None or wait_preview() == 0.0):
            preview = await anyio.to_thread.run_sync(held.to_pil)
            held, last_preview = None, time.monotonic()
        if done is not None:
            if done.status == "success":
                await anyio.to_thread.run_sync(_save, done.images, job_dir, saved, gallery, parameters)
                yield RunUpdate(progress_markdown(tr("Done", lang), label, "100%"), preview, list(gallery),
                                _done_message(gallery, lang), final=True, ok=True)
            else:
                error = done.error or JobInterrupted(job.prompt_id)
                yield RunUpdate(progress_markdown(tr("Stopped", lang), label), preview, list(gallery),
                                describe(error), final=True)
            return
        yield RunUpdate(progress_markdown(phase, label, node, step), preview, list(gallery))
    yield RunUpdate(progress_markdown(tr("Stopped", lang)), None, list(gallery),
                    tr("ComfyUI stopped sending news about the job. Please try again.", lang), final=True)


def _done_message(gallery: list, lang: str) -> str:
    if gallery:
        return tr("Done: {n} image(s) saved.", lang, n=len(gallery))
    return tr("Finished, but the workflow produced no images.", lang)
