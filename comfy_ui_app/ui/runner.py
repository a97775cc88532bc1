"""The one job runner every tab uses: fill, check, submit, follow, save.

``run(ctx, request, lang)`` is an async generator of :class:`RunUpdate`; a tab turns
each into its own outputs (see ``txt2img.py``). Everything about one user's run lives
in the generator's locals.

Per job of a batch count of N: the values are filled into a deep copy of the template
(``apply_values``), checked against ``/object_info`` (``check_prompt``), submitted,
followed (``jobfeed.follow``: queue position, node, step, %, ETA, throttled previews)
and its PNGs get an A1111-style ``parameters`` text chunk next to ComfyUI's
``prompt``/``workflow`` chunks. A random seed (-1) is drawn once; job ``i`` uses
``seed + i`` (as AUTOMATIC1111 does), so "reuse last seed" makes the same pictures again.
A run over a cap of a public app (:func:`comfy_ui_app.limits.check_run`) is refused whole, before any upload.

With a job service (``ctx.jobs``) every job is recorded with its owner, template, the
values used and the prompt; its outputs are the store's files (the chunk is added to
them in place), and a closed or reloaded page leaves the job running: only the
Interrupt button stops it (:func:`interrupt_handler`), and a reloaded page picks it
up again (:func:`wire_reattach`). Without one (a bare context), outputs are saved under
``<output dir>/<prompt id>/`` and a cancelled handler interrupts its running job.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import gradio as gr

from .. import PromptRejected, WorkflowError, apply_values
from ..check import Problem, PromptInvalid, check_prompt, problems_from_rejection
from ..errors import LimitExceeded
from ..fields import Field, input_spec
from ..i18n import DEFAULT_LANGUAGE, tr
from ..limits import check_run, limits_for
from ..messages import describe, describe_problem
from ..pnginfo import parameters_from_prompt, parameters_text
from .._inputs import InputFile, content_name
from ..uploads import is_picked_file, read_upload
from ..workflow import choose_checkpoint
from .context import current_user
from .jobfeed import PREVIEW_INTERVAL_S, RunUpdate, cancel_jobs, follow, interrupt_quietly, progress_markdown
from .reattach import reattach

__all__ = ["RunRequest", "RunUpdate", "run", "field_errors", "progress_markdown", "interrupt_handler",
           "user_inputs", "wire_reattach", "MAX_UI_SEED", "PREVIEW_INTERVAL_S"]

MAX_UI_SEED = 2**53 - 1        # random seeds a browser can show exactly (JS numbers)
MODEL_ROLES = ("checkpoint", "lora", "upscale_model", "controlnet", "unet", "vae")


@dataclass
class RunRequest:
    """What to run: a template, its fields and the form's values (``{field name: value}``).

    ``values`` of image/mask fields are local file paths: they are uploaded through
    ``/upload/image`` first (an empty one keeps the template's file). A seed of -1 is
    random. ``workflow`` (the editor graph, if known) goes into the PNG's ``workflow``
    chunk through ``extra_pnginfo``. ``output_dir`` defaults to ``ctx.output_dir``.
    ``owner`` (see ``context.current_user``), ``template_name`` and ``kind`` ("txt2img",
    "custom", "inpaint") go into the job store's record.
    """

    template: dict
    fields: list[Field]
    values: dict[str, Any]
    count: int = 1
    workflow: dict | None = None
    extra_data: dict | None = None
    output_dir: Path | None = None
    owner: str = "anonymous"
    template_name: str = ""
    kind: str = "txt2img"
    inputs: list = dataclasses.field(default_factory=list)  # InputFile s a cluster uploads where the job runs


def field_errors(problems: list[Problem], fields: list[Field], lang: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """``{field name: plain sentence}`` for the problems that belong to a field."""
    names = {f.name for f in fields}
    errors: dict[str, str] = {}
    for problem in problems:
        if problem.field in names:
            text = describe_problem(dataclasses.replace(problem, node_id=None, class_type=None), lang=lang)
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


def _upload_roots() -> list[str]:
    """Where picked files may live: Gradio's upload folder only (``GRADIO_TEMP_DIR``, else
    ``<temp>/gradio``) — not the whole temp folder, where other programs keep their files."""
    return [gr.utils.get_upload_folder()]


def _upload_images(ctx, fields: list[Field], values: dict, owner: str | None = None,
                   staged: list | None = None) -> dict:
    """Send each picked image through ``/upload/image``; the value becomes its server name.

    Only a file the browser uploaded is read (:func:`comfy_ui_app.uploads.is_picked_file`);
    any other text goes to ComfyUI as a file name there, which the check refuses if unknown.
    Every picture is checked (with ``owner``'s caps) before the first one is sent. Over a
    cluster nothing is sent here: each picture goes into ``staged`` under a content-hash name,
    and the cluster uploads it to the server the job goes to.
    """
    values = dict(values)
    limits = limits_for(getattr(ctx, "jobs", None), owner)
    picked = []
    for f in fields:
        if f.kind not in ("image", "mask") or f.name not in values:
            continue
        path = values[f.name]
        if not path:
            del values[f.name]  # nothing picked: keep the template's file
            continue
        if is_picked_file(path, _upload_roots()):  # type, size, pixels, the user's caps: checked
            picked.append((f, *read_upload(path, ctx.comfy.client, field=f.name, limits=limits)))
    for f, data, name in picked:
        if getattr(ctx, "cluster", None) is not None and staged is not None:  # sent later, where the job runs
            staged.append(InputFile(data, content_name(data, name)))
            values[f.name] = staged[-1].ref
            continue
        answer = ctx.comfy.client.upload_image(data, name)
        sub = answer.get("subfolder") or ""
        values[f.name] = f"{sub}/{answer['name']}" if sub else answer["name"]
    return values


def _json_safe(values: dict) -> dict:
    """The values as the job store can keep them (anything odd becomes its text)."""
    return json.loads(json.dumps(values, default=str))


def _submit(ctx, request: RunRequest, values: dict, filled: dict, extra: dict | None):
    """``(job, job id or None)``: recorded through the job service when there is one."""
    if getattr(ctx, "jobs", None) is None:
        return ctx.comfy.submit(filled, extra_data=extra), None
    record, job = ctx.jobs.submit(owner=request.owner, template=request.template_name, values=_json_safe(values),
                                  prompt=filled, kind=request.kind, extra_data=extra, inputs=request.inputs)
    return job, record.job_id


async def run(ctx, request: RunRequest, lang: str | None = DEFAULT_LANGUAGE) -> AsyncIterator[RunUpdate]:
    """Run ``request.count`` jobs one after another; see the module docstring."""
    lang = lang or DEFAULT_LANGUAGE
    job, finished, filled = None, True, None
    gallery: list[str] = []
    seeds: list[int] = []
    job_ids: list[str] = []
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
        values = _complete(request.values, request.fields, request.template, object_info)
        await anyio.to_thread.run_sync(lambda: check_run(getattr(ctx, "jobs", None), request.owner, request.template,
                                                         request.fields, values, count=count))
        values = await anyio.to_thread.run_sync(_upload_images, ctx, request.fields, values, request.owner,
                                                request.inputs)
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
            job, job_id = await anyio.to_thread.run_sync(_submit, ctx, request, values, filled, extra or None)
            job_ids.extend([job_id] if job_id else [])
            finished = False
            text = parameters_text(parameters_from_prompt(filled, request.fields))
            async for update in follow(job, output_dir / str(job.prompt_id), text, label, gallery, saved, lang):
                update.job_ids = list(job_ids)
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
        yield _stopped(lang, gallery, seeds, describe(exc, lang=lang), field_errors(problems, request.fields, lang))
    except PromptInvalid as exc:
        yield _stopped(lang, gallery, seeds, describe(exc, lang=lang),
                       field_errors(exc.problems, request.fields, lang))
    except (WorkflowError, LimitExceeded) as exc:  # LimitExceeded: nothing was sent, the form stays as it was
        errors = {exc.field: describe(exc, lang=lang)} if exc.field else {}
        yield _stopped(lang, gallery, seeds, describe(exc, lang=lang), errors)
    except Exception as exc:  # noqa: BLE001 - always a plain message, never a traceback
        yield _stopped(lang, gallery, seeds, describe(exc, lang=lang), {})
    finally:
        # Reached on success, on errors, and when Gradio cancels this handler (the
        # Interrupt button, a closed page). A recorded job goes on (the Interrupt
        # button stops it through the job service); a bare one is stopped here.
        if job is not None and not finished and getattr(ctx, "jobs", None) is None:
            interrupt_quietly(job)


def _stopped(lang, gallery, seeds, message, errors) -> RunUpdate:
    return RunUpdate(progress_markdown(tr("Stopped", lang)), gallery=list(gallery), message=message,
                     errors=errors, seeds=list(seeds) or None, final=True)


# -- the page side: who asks, the Interrupt button, reattaching on load ---------------------


def user_inputs(ctx) -> list:
    """The inputs a handler needs to know its user: this browser's id, when the app keeps one."""
    return [ctx.browser_id] if getattr(ctx, "browser_id", None) is not None else []


def interrupt_handler(ctx):
    """The Interrupt button's handler: ``(request, lang, job ids[, browser id]) -> (progress, message)``.

    Stops the tab's running job through the job service, for its owner only; wire it
    with ``inputs=[ctx.lang, <job ids gr.State>, *user_inputs(ctx)]`` and ``cancels=[...]``
    so the stream stops too (a bare context relies on that cancel alone).
    """

    def interrupt(request: gr.Request, lang, job_ids, browser_id=None):
        if getattr(ctx, "jobs", None) is not None:
            cancel_jobs(ctx.jobs, job_ids, current_user(request, browser_id))
        return progress_markdown(tr("Interrupted", lang)), tr("Interrupted. The job was cancelled.", lang)

    return interrupt


def known_user(request, browser_id) -> str | None:
    """The user, or None while neither an auth user nor a browser id is known."""
    if getattr(request, "username", None) or browser_id:
        return current_user(request, browser_id)
    return None


def wire_reattach(ctx, kind: str, outputs: list, to_outputs, job_ids_state):
    """On page load (and when the browser id arrives) stream the user's newest job of ``kind``.

    ``to_outputs(update)`` gives the values for ``outputs``; the job id goes into
    ``job_ids_state`` so that Interrupt stops it. Returns the event (to cancel it when
    a new run starts), or None without a job service.
    """
    root = gr.context.Context.root_block
    if getattr(ctx, "jobs", None) is None or root is None:
        return None

    async def reattach_job(request: gr.Request, lang, browser_id=None):
        shown = False
        async for update in reattach(ctx, known_user(request, browser_id), kind, lang):
            shown = True
            yield (*to_outputs(update), update.job_ids if update.job_ids is not None else gr.skip())
        if not shown:  # a generator that yields nothing would blank every output
            yield tuple(gr.skip() for _ in range(len(outputs) + 1))

    triggers = [root.load] + ([ctx.browser_id.change] if getattr(ctx, "browser_id", None) is not None else [])
    return gr.on(triggers, reattach_job, inputs=[ctx.lang, *user_inputs(ctx)], outputs=[*outputs, job_ids_state],
                 api_visibility="private", concurrency_limit=None, show_progress="hidden",
                 trigger_mode="always_last")
