"""The form of one workflow on the "Custom workflow" tab, drawn inside the tab's ``@gr.render``.

:func:`workflow_form` builds the workflow's fields (App mode's inputs, else discovery's), "♻ Reuse
last seed" when it has a seed, a batch count and a "Presets" panel (``ui._presets``), and wires the
tab's action bar to run it. Presets are kept per workflow: :func:`preset_key` names a workflow by
its graph (node ids and types), so a preset saved on a workflow is offered again when the same graph
comes back, uploaded again, with other values or under another file name.
"""
from __future__ import annotations

import hashlib
import json

import anyio
import gradio as gr

from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.ui import _lenient as lenient
from comfy_ui_app.ui import form as forms
from comfy_ui_app.ui._actions import RenderedButtons
from comfy_ui_app.ui._presets import presets_panel
from comfy_ui_app.ui.context import current_user
from comfy_ui_app.ui.runner import RunRequest, RunUpdate, job_ids_output, progress_markdown, run, user_inputs
from comfy_ui_app.ui.txt2img_tab import MAX_BATCH_COUNT
from comfy_ui_app.workflow.app_mode import read_app_mode, shown_outputs
from comfy_ui_app.workflow.fields import form_fields
from comfy_ui_app.workflow.file_inputs import hide_file_lists

__all__ = ["workflow_form", "preset_key", "reuse_seed", "chosen_outputs", "MAX_FORM_FIELDS", "STILL_LOADING"]

MAX_FORM_FIELDS = 300  # components of one workflow's form (the rest keep their values): bounded render time
STILL_LOADING = "The new workflow's form is still being drawn. Press Generate again."


def preset_key(template: dict) -> str:
    """The presets' key of a workflow in API format: ``"custom:"`` and a digest of its nodes' ids and
    types (not their values: the same graph with another prompt keeps its presets)."""
    nodes = sorted((str(node_id), str(node.get("class_type")) if isinstance(node, dict) else "")
                   for node_id, node in (template or {}).items())
    return "custom:" + hashlib.sha256(json.dumps(nodes).encode()).hexdigest()[:24]


def reuse_seed(last_seed):
    """♻ of a custom form: the seed of this page's last run back in the seed box."""
    return gr.skip() if last_seed is None else last_seed


def chosen_outputs(store, app, gallery: list[str], job_ids) -> list[str]:
    """The files of ``gallery`` that App mode's chosen output nodes made (the store knows each file's node)."""
    records = [store.get(job_id) for job_id in job_ids or ()]
    stored = [(str(o.path), o.node) for record in records if record is not None for o in record.outputs]
    return shown_outputs(app, gallery, stored)


def workflow_form(ctx, workflow: dict, lang: str, results, buttons: RenderedButtons) -> None:
    """The form for one loaded workflow, its "Presets" and what the bar's buttons do with it (inside
    ``@gr.render``); ``results``: the tab's results column (``custom_tab``)."""
    template = workflow["prompt"]
    info = ctx.catalog.object_info_or_none()
    fields = form_fields(template, info, workflow.get("workflow"))  # App mode's inputs, else discovery's
    app = read_app_mode(workflow.get("workflow"), template)
    shown = hide_file_lists(info) if ctx.jobs.policy.public else info  # not every user's upload names
    form = forms.build_form(ctx, template, fields, shown, lang=lang, values=workflow.get("values"),
                            max_fields=MAX_FORM_FIELDS)
    seed = next((form.get(f.name) for f in fields if f.role == "seed" and form.get(f.name)), None)  # the runner's
    if seed is not None:
        reuse_btn = gr.Button(tr("♻ Reuse last seed", lang), size="sm", elem_id="custom-reuse-seed")
        reuse_btn.click(reuse_seed, inputs=[results.last_seed], outputs=[seed.component],
                        api_visibility="private", concurrency_limit=None)
    count = lenient.Slider(1, MAX_BATCH_COUNT, value=1, step=1, label=tr("Batch count", lang))
    form.wire_range_checks(ctx.lang)
    presets_panel(ctx, "custom", form, {"batch_count": count}, key=preset_key(template), lang=lang)

    async def generate(request: gr.Request, lang, current, batch_count, *values):
        browser_id = None
        if user_inputs(ctx):
            *values, browser_id = values
        if current != workflow:  # pressed while the next workflow's form was being drawn: not this form
            u = RunUpdate(progress_markdown(tr("Stopped", lang)), message=tr(STILL_LOADING, lang), final=True)
            yield (*results.show(u, lang), *form.error_updates(None), gr.skip())
            return
        problems = lenient.run_problems(form, values, ctx.jobs.policy, batch_count=batch_count,
                                        max_batch_count=MAX_BATCH_COUNT)
        if problems:  # NaN, text for a number, a text too long…: next to the field, nothing sent
            u = lenient.stopped_update(problems, lang, ctx.names)
            yield (*results.show(u, lang), *form.error_updates(u.errors), gr.skip())
            return
        run_request = RunRequest(template, fields, form.collect(values), count=int(batch_count or 1),
                                 workflow=workflow.get("workflow"), owner=current_user(request, browser_id),
                                 template_name=workflow.get("name") or "", kind="custom")
        ids = job_ids_output()
        async for u in run(ctx, run_request, lang):
            if app is not None and app.outputs and u.gallery is not None:  # App mode: the chosen outputs only
                u.gallery = await anyio.to_thread.run_sync(chosen_outputs, ctx.jobs.store, app, u.gallery, u.job_ids)
            yield (*results.show(u, lang), *form.error_updates(u.errors), ids(u))

    buttons.wire(ctx, results, generate, [count, *form.components], form.errors)
