"""The one job runner every tab uses: fill, check, submit, follow, save.

``run(ctx, request, lang)`` is an async generator of :class:`RunUpdate`; a tab turns
each into its own outputs (see :mod:`comfy_ui_app.ui.txt2img_tab`). Everything about one user's run lives
in the generator's locals.

All N jobs of a batch count are filled into deep copies of the template
(``apply_values``) and checked against ``/object_info`` (``check_prompt``) first, then
sent up front (:class:`~comfy_ui_app.ui.batch.Batch`: each waits its turn in the queue),
then followed one after another (``jobfeed.follow``: queue position, node, step, %, ETA,
throttled previews, a line saying so while the server cannot be reached); their PNGs get
an A1111-style ``parameters`` text chunk next to ComfyUI's ``prompt``/``workflow`` chunks
(a template in API format gets a ``workflow`` built from the filled prompt:
:func:`comfy_ui_app.workflow.editor_format.api_to_ui`). A random seed (-1) is drawn once; job ``i``
uses ``seed + i`` (as AUTOMATIC1111 does), so "reuse last seed" makes the same pictures
again. A run over a cap of a public app (:func:`comfy_ui_app.jobs.limits.check_run`) is refused
whole, before any upload; a failed or interrupted job ends the batch.

Every job is recorded by the job service (``ctx.jobs``) with its owner, template, the
values used and the prompt; its outputs are the store's files (the chunk is added to
them in place), and a closed or reloaded page leaves the batch running: only the
Interrupt button stops it (:func:`interrupt_handler`), and a reloaded page picks up every
job of it again (:func:`wire_reattach`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import gradio as gr

from comfy_ui_app.errors import WorkflowError
from comfy_ui_app.workflow.templates import apply_values
from comfy_ui_app.workflow.check import PromptInvalid, check_prompt
from comfy_ui_app.errors import LimitExceeded
from comfy_ui_app.workflow.fields import Field
from comfy_ui_app.texts.i18n import DEFAULT_LANGUAGE, tr
from comfy_ui_app.jobs.limits import check_run
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.workflow.editor_format import api_to_ui
from comfy_ui_app.ui import job_state
from comfy_ui_app.ui._first_news import held_first
from comfy_ui_app.ui._prepare import MAX_UI_SEED, complete_models, json_safe, seed_bases, upload_images
from comfy_ui_app.ui.batch import BATCH_KEY, Batch, Planned, batch_mark, field_errors, follow_batch
from comfy_ui_app.ui.context import caller_ids, current_user
from comfy_ui_app.ui.jobfeed import PREVIEW_INTERVAL_S, RunUpdate, cancel_jobs, progress_markdown
from comfy_ui_app.ui.reattach import reattach

__all__ = ["RunRequest", "RunUpdate", "run", "field_errors", "progress_markdown", "interrupt_handler",
           "job_ids_output", "user_inputs", "wire_reattach", "MAX_UI_SEED", "PREVIEW_INTERVAL_S"]



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
    recorded: dict = dataclasses.field(default_factory=dict)  # kept in the job's record beside the values (styles)


def _submit(ctx, request: RunRequest, plan: Planned):
    """``(job, job id)``: recorded through the job service."""
    record, job = ctx.jobs.submit(owner=request.owner, template=request.template_name, values=json_safe(plan.values),
                                  prompt=plan.prompt, kind=request.kind, extra_data=plan.extra, inputs=request.inputs,
                                  fields=request.fields)  # fields: a refused file input is named by its field
    return job, record.job_id


def _extra(request: RunRequest, prompt: dict, object_info: dict | None) -> dict | None:
    """``extra_data`` of one job: the editor graph for the PNG's ``workflow`` chunk — the
    request's own, else one built from the filled prompt (so the seed it ran with is in it)."""
    extra = dict(request.extra_data or {})
    workflow = request.workflow
    if not workflow and object_info:
        try:
            workflow = api_to_ui(prompt, object_info)
        except Exception:  # noqa: BLE001 - a picture without the graph is still a picture
            workflow = None
    if workflow:
        extra["extra_pnginfo"] = {**extra.get("extra_pnginfo", {}), "workflow": workflow}
    return extra or None


def _plan(request: RunRequest, values: dict, object_info: dict | None, count: int) -> list[Planned]:
    """Every job of the run, filled and checked (PromptInvalid) before any is sent."""
    bases = seed_bases(values, request.fields)
    mark = batch_mark(count) if count > 1 else None
    plans = []
    for index in range(count):
        values = dict(values)
        for name, (base, top) in bases.items():
            values[name] = (base + index) % (top + 1)
        filled = apply_values(request.template, values, fields=request.fields)
        problems = check_prompt(filled, object_info, request.fields)
        if problems:
            raise PromptInvalid(problems)
        recorded = {**values, **request.recorded, BATCH_KEY: mark(index)} if mark else {**values, **request.recorded}
        plans.append(Planned(recorded, filled, values[next(iter(bases))] if bases else None,
                             _extra(request, filled, object_info)))
    return plans


def run(ctx, request: RunRequest, lang: str | None = DEFAULT_LANGUAGE) -> AsyncIterator[RunUpdate]:
    """Run ``request.count`` jobs, all sent up front, followed one after another; see the module docstring.
    The run's first moments ("Sending", "Queued", a fast job's "Done") reach the page as one update
    (:func:`~comfy_ui_app.ui._first_news.held_first`)."""
    return held_first(_run(ctx, request, lang))


async def _run(ctx, request: RunRequest, lang: str | None) -> AsyncIterator[RunUpdate]:
    lang = lang or DEFAULT_LANGUAGE
    gallery: list[str] = []
    count = max(1, int(request.count or 1))
    object_info = None
    try:
        yield RunUpdate(progress_markdown(tr("Sending to ComfyUI…", lang), state=job_state.queued(lang)), gallery=[],
                        message="", errors={})
        object_info = await anyio.to_thread.run_sync(ctx.catalog.object_info_or_none)
        values = complete_models(request.values, request.fields, request.template, object_info)
        await anyio.to_thread.run_sync(lambda: check_run(ctx.jobs, request.owner, request.template,
                                                         request.fields, values, count=count))
        values = await anyio.to_thread.run_sync(upload_images, ctx, request.fields, values, request.owner,
                                                request.inputs)
        plans = _plan(request, values, object_info, count)
        batch = Batch(plans, lambda plan: _submit(ctx, request, plan))
        await anyio.to_thread.run_sync(batch.start)
        async for update in follow_batch(batch, Path(request.output_dir or ctx.output_dir), request.fields, lang,
                                         gallery, object_info, names=ctx.names):
            yield update
    except PromptInvalid as exc:
        yield _stopped(lang, gallery, describe(exc, lang=lang, names=ctx.names),
                       field_errors(exc.problems, request.fields, lang))
    except (WorkflowError, LimitExceeded) as exc:  # LimitExceeded: nothing was sent, the form stays as it was
        errors = {exc.field: describe(exc, lang=lang, names=ctx.names)} if exc.field else {}
        yield _stopped(lang, gallery, describe(exc, lang=lang, names=ctx.names), errors)
    except Exception as exc:  # noqa: BLE001 - always a plain message, never a traceback
        yield _stopped(lang, gallery, describe(exc, lang=lang, names=ctx.names), {})
    # When Gradio cancels this handler (a closed page) the recorded jobs go on; the
    # Interrupt button stops them through the job service.


def _stopped(lang, gallery, message, errors) -> RunUpdate:
    return RunUpdate(progress_markdown(tr("Stopped", lang), state=job_state.ended("failed", lang, message)),
                     gallery=list(gallery), message=message, errors=errors, final=True)


# -- the page side: who asks, the Interrupt button, reattaching on load ---------------------


def job_ids_output():
    """For one stream: ``out(update)`` is the update's job ids when they differ from those this
    stream sent last, else ``gr.skip()`` (as for None). Each value set on a ``gr.State`` makes
    Gradio rebuild that state's config entry; a run's ids change once per job, not per update."""
    last = None

    def out(update: RunUpdate):
        nonlocal last
        if update.job_ids is None or update.job_ids == last:
            return gr.skip()
        last = list(update.job_ids)
        return update.job_ids

    return out


def user_inputs(ctx) -> list:
    """The inputs a handler needs to know its user: this browser's id, when the app keeps one."""
    return [ctx.browser_id] if ctx.browser_id is not None else []


def interrupt_handler(ctx):
    """The Interrupt button's handler: ``(request, lang, job ids[, browser id]) -> (progress, message)``.

    Stops the tab's jobs through the job service, for their owner only (any identity the
    caller holds: :func:`~comfy_ui_app.ui.context.caller_ids`); when none was waiting or
    running it says "Nothing is running." and leaves the progress line as it is. Wire it
    with ``inputs=[ctx.lang, <job ids gr.State>, *user_inputs(ctx)]`` and ``cancels=[...]``
    so the stream stops too (a bare context relies on that cancel alone).
    """

    def interrupt(request: gr.Request, lang, job_ids, browser_id=None):
        if not cancel_jobs(ctx.jobs, job_ids, caller_ids(request, browser_id)):
            return gr.skip(), tr("Nothing is running.", lang)  # the last result stays as it is
        message = tr("Interrupted. The job was cancelled.", lang)
        return progress_markdown(tr("Interrupted", lang), state=job_state.ended("interrupted", lang, message)), message

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
    a new run starts), or None outside a ``gr.Blocks``.
    """
    root = gr.context.Context.root_block
    if root is None:
        return None

    async def reattach_job(request: gr.Request, lang, browser_id=None):
        shown, ids = False, job_ids_output()
        async for update in reattach(ctx, known_user(request, browser_id), kind, lang):
            shown = True
            yield (*to_outputs(update), ids(update))
        if not shown:  # a generator that yields nothing would blank every output
            yield tuple(gr.skip() for _ in range(len(outputs) + 1))

    triggers = [root.load] + ([ctx.browser_id.change] if ctx.browser_id is not None else [])
    return gr.on(triggers, reattach_job, inputs=[ctx.lang, *user_inputs(ctx)], outputs=[*outputs, job_ids_state],
                 api_visibility="private", concurrency_limit=None, show_progress="hidden",
                 trigger_mode="always_last")
