"""The "Custom workflow" tab: any workflow, bundled or uploaded, as a form.

Pick a bundled template from ``ctx.workflows_dir`` or upload a ``.json``: API format is
used as it is; a UI-format save (top-level ``nodes`` and ``links``) is converted with
the server's ``/object_info``. A file that cannot be used (bad JSON, subgraph, a node
the server lacks, server down while converting) gives one plain sentence and the
previous form stays. The loaded workflow lives in a small per-user ``gr.State``; the
form is rebuilt for it with ``@gr.render`` and runs through ``runner.run``. The results
(progress, preview, gallery, message, the seed(s) used) stay outside the render, so a
reloaded page can show the user's newest custom job there again before any workflow is
picked. A form with a seed has "♻ Reuse last seed", as "Text to image" has, and every form has
"Presets", kept per workflow (the form itself: :mod:`comfy_ui_app.ui._custom_form`).

A UI-format workflow whose author chose its inputs and outputs in ComfyUI's App mode
(``extra.linearData``, :mod:`comfy_ui_app.workflow.app_mode`) gets exactly that form, and the
result area shows only the chosen output nodes' files (the job keeps them all: History).

"Load parameters" in History sets the loaded workflow with ``"values"``: the form then
starts at that job's values (:func:`load_job`).

Who may run a workflow here is the job service's rule (``--custom-workflows``, enforced by
:mod:`comfy_ui_app.jobs.graph_rules` on every submit, so a raw API call meets it too); the tab
only mirrors it: a visitor who may not sees why (:func:`access_note`) and no picker. On a
public app the form's file choices (LoadImage's list: every user's uploads) are left empty.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr

from comfy_ui_app.errors import GraphRefused, WorkflowError
from comfy_ui_app.jobs.graph_rules import may_run_custom
from comfy_ui_app.workflow.source import check_nodes, parse_json
from comfy_ui_app.workflow.templates import api_graph, load_workflow
from comfy_ui_app.workflow.convert import is_ui_workflow, ui_to_api
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui import result_actions
from comfy_ui_app.ui._media_results import MediaResults, pictures
from comfy_ui_app.ui.context import TabHandles, caller_ids
from comfy_ui_app.ui.retry import retry_button, retry_visibility, wire_retry
from comfy_ui_app.ui.runner import user_inputs, wire_reattach
from comfy_ui_app.ui._actions import RenderedButtons, action_bar, message_box, preview_image, preview_update
from comfy_ui_app.ui._picture_drop import drop_zone as picture_drop_zone
from comfy_ui_app.ui._custom_form import reuse_seed, workflow_form

__all__ = ["build_tab", "bundled_workflows", "read_workflow", "workflow_from_text", "opening", "load_job", "reuse_seed",
           "seeds_text", "access_note"]

MAX_WORKFLOW_BYTES = 5_000_000
WORKFLOW_FIELD = "workflow"  # what a refused file's error names: the upload, not a form field
NO_FORM = "Pick a bundled workflow or upload one to see its form."
PICK_FIRST = "Pick a bundled workflow or upload one first."


def bundled_workflows(workflows_dir: Path) -> list[str]:
    """File names of the bundled templates (``*.json``), sorted."""
    try:
        return sorted(p.name for p in Path(workflows_dir).glob("*.json") if p.is_file())
    except OSError:
        return []


def read_workflow(path: Path, object_info: dict | None, max_nodes: int | None = None) -> dict:
    """``{"name", "prompt", "workflow"}`` for a file; raises WorkflowError in plain words.

    ``workflow`` is the editor graph of a UI-format file (kept for the PNG's
    ``workflow`` chunk), else None. A file of more than ``max_nodes`` nodes (the app's
    ``policy.max_nodes``; None: no cap) or nested too deep is refused before it is
    converted or made into a form.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_WORKFLOW_BYTES:
            raise WorkflowError(f"{path.name} is too large to be a workflow (over 5 MB).")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise WorkflowError(f"{path.name} is not a text (JSON) file.") from exc
    except OSError as exc:
        raise WorkflowError(f"Cannot read the workflow file {path.name}: {exc.strerror}") from exc
    return workflow_from_text(path.name, text, object_info, max_nodes, path=path)


def workflow_from_text(name: str, text: str, object_info: dict | None, max_nodes: int | None = None, *,
                       path: Path | None = None) -> dict:
    """``{"name", "prompt", "workflow"}`` for a workflow's text, as :func:`read_workflow` (a file) and the
    Templates tab (one fetched from ComfyUI) open it; raises WorkflowError in plain words."""
    try:
        data = parse_json(text, field=WORKFLOW_FIELD)
    except json.JSONDecodeError:
        looks_json = text.lstrip().startswith(("{", "[")) or path is None
        return {"name": name, "prompt": load_workflow(text if looks_json else path),
                "workflow": None}  # load_workflow words the JSON error
    check_nodes(data, max_nodes, field=WORKFLOW_FIELD)
    return {"name": name, "prompt": runnable_graph(data, object_info),
            "workflow": data if is_ui_workflow(data) else None}


def runnable_graph(data: Any, object_info: dict | None) -> dict:
    """The API graph of a workflow (an editor save converted with the server's node list), once the
    server is known to have its node types; raises WorkflowError in plain words. Every way of opening
    a workflow (a file, a template, a picture's embedded graph) comes through here."""
    if is_ui_workflow(data):
        if not object_info:
            raise WorkflowError(
                "This is a UI-format workflow; converting it needs ComfyUI's node list, but ComfyUI "
                "cannot be reached right now. Load it again once ComfyUI is connected, or export it "
                "in ComfyUI with Workflow > Export (API) and upload that file.")
        return ui_to_api(data, object_info)
    prompt = api_graph(data)
    missing = sorted({n["class_type"] for n in prompt.values() if object_info and n["class_type"] not in object_info})
    if missing:
        raise WorkflowError(
            "This workflow uses node types that are not installed on this ComfyUI server: "
            + ", ".join(missing) + ". Install them (for example with ComfyUI-Manager) or pick another workflow.")
    return prompt


def opening(ctx, name: str, read, lang: str) -> tuple:
    """``(loaded workflow or gr.skip(), message)`` for the tab's ``workflow`` state and load message: the
    one way a workflow is opened here (an upload, a bundled file, another tab's pick). ``read()`` gives
    ``{"name", "prompt", "workflow"}`` or raises; a failure keeps the form shown and says why."""
    try:
        loaded = read()
    except Exception as exc:  # noqa: BLE001 - any unusable workflow: a plain sentence, old form kept
        reason = describe(exc, lang=lang, names=ctx.names)
        return gr.skip(), tr("Could not load this workflow: {reason}", lang, reason=reason)
    return loaded, tr("Loaded {name}.", lang, name=loaded["name"] or name)


def load_job(workflows_dir: Path, template_name: str | None, prompt: dict | None, values: dict | None,
             object_info: dict | None) -> tuple[dict, bool] | None:
    """``(loaded workflow with "values", whether it is the bundled template)`` for a custom job.

    The bundled template of that name if there is one, else the job's own prompt (an
    uploaded workflow is not kept, but the prompt that ran is); None when neither is known.
    A bundled file that cannot be read raises WorkflowError in plain words.
    """
    name = Path(template_name or "").name
    if name and name in bundled_workflows(workflows_dir):
        loaded, bundled = read_workflow(Path(workflows_dir) / name, object_info), True
    elif isinstance(prompt, dict) and prompt:
        loaded, bundled = {"name": name or "workflow.json", "prompt": prompt, "workflow": None}, False
    else:
        return None
    return {**loaded, "values": dict(values or {})}, bundled


def access_note(jobs, users: list[str], lang: str) -> str | None:
    """Why none of ``users`` may run a workflow of their own here (``--custom-workflows``), or None."""
    rule = may_run_custom(jobs.policy, any(jobs.is_admin(u) for u in users))
    return describe(GraphRefused(rule), lang=lang) if rule else None


def seeds_text(seeds) -> str:
    """The seed(s) a run used, as shown ("1234" or "1234, 1235, 1236")."""
    return ", ".join(str(s) for s in seeds or ())


def build_tab(ctx) -> TabHandles:
    """Create the "Custom workflow" tab inside the current Blocks context."""

    def load(path, lang):
        if not path:
            return gr.skip(), ""
        return opening(ctx, Path(path).name, lambda: read_workflow(
            Path(path), ctx.catalog.object_info_or_none(), ctx.jobs.policy.max_nodes), lang)

    def load_bundled(name, lang):
        return load(Path(ctx.workflows_dir) / name if name else None, lang)

    def refresh():
        return gr.Dropdown(choices=bundled_workflows(ctx.workflows_dir))

    def show_access(request: gr.Request, lang, browser_id=None):
        note = access_note(ctx.jobs, caller_ids(request, browser_id), lang)
        return (gr.Markdown(f"**{note}**" if note else "", visible=bool(note)), gr.Row(visible=not note),
                gr.Row(visible=not note))

    with gr.Tab("Custom workflow", id="custom", elem_id="custom-tab") as tab:
        closed = ctx.jobs.policy.custom_workflows != "everyone"  # until the page knows who it is
        generate_btn, interrupt_btn, bar = action_bar("custom", visible=not closed)  # wired by each form
        access = gr.Markdown("", visible=False, elem_id="custom-access")
        with gr.Row(equal_height=False, visible=not closed) as pickers:
            bundled = gr.Dropdown(bundled_workflows(ctx.workflows_dir), value=None, label="Bundled workflow",
                                  min_width=200, elem_id="custom-bundled")
            upload = gr.UploadButton("Upload a workflow (.json, API or UI format)", file_types=[".json"],
                                     type="filepath", min_width=200, elem_id="custom-upload")
        load_message = gr.Markdown("", elem_id="custom-load-message")
        picture, picture_message = picture_drop_zone()  # "Open from a picture" (ui/from_picture.py wires it)
        loaded = gr.State(None)
        with gr.Row(equal_height=False):
            form_column = gr.Column(scale=1, min_width=300)
            with gr.Column(scale=1, min_width=300):
                results = _Results()
                result_actions.for_gallery(ctx, results.gallery, "custom")  # Upscale, Vary, Extend, Compare
        if closed and gr.context.Context.root_block is not None:  # said when the page opens and the tab does
            gr.on([gr.context.Context.root_block.load, tab.select], show_access,
                  inputs=[ctx.lang, *user_inputs(ctx)], outputs=[access, pickers, bar], api_visibility="private",
                  concurrency_limit=None, show_progress="hidden")
        bundled.input(load_bundled, inputs=[bundled, ctx.lang], outputs=[loaded, load_message],
                      api_visibility="private", concurrency_limit=None)
        upload.upload(load, inputs=[upload, ctx.lang], outputs=[loaded, load_message],
                      api_visibility="private", concurrency_limit=None)

        reattach = wire_reattach(ctx, "custom", results.outputs, results.show, results.job_ids)
        wire_retry(ctx, results.retry, results.outputs, results.show, results.job_ids, cancels=[reattach])
        buttons = RenderedButtons(generate_btn, interrupt_btn, loaded, reattach)

        with form_column:
            @gr.render(inputs=[loaded, ctx.lang], show_progress="hidden")  # the loading shows on the picker
            def show_form(workflow, lang):
                if not workflow:
                    gr.Markdown(tr(NO_FORM, lang))
                    buttons.idle(ctx, results, PICK_FIRST)
                    return
                try:
                    workflow_form(ctx, workflow, lang, results, buttons)
                except Exception as exc:  # noqa: BLE001 - a graph no check foresaw: words, not Gradio's empty error
                    gr.Markdown(tr("Could not make a form of this workflow: {reason}", lang,
                                   reason=describe(exc, lang=lang, names=ctx.names)), elem_classes=["field-error"])
                    buttons.idle(ctx, results, PICK_FIRST)

    return TabHandles(tab=tab, refresh=refresh, refresh_outputs=[bundled],
                      parts={"workflow": loaded, "gallery": results.gallery, "job_ids": results.job_ids,
                             "reattach_event": reattach, "bundled": bundled, "load_message": load_message,
                             "seed_used": results.seed_used, "last_seed": results.last_seed, "access": access,
                             "pickers": pickers, "picture": picture, "picture_message": picture_message,
                             "generate": generate_btn, "interrupt": interrupt_btn, "message": results.message})


class _Results:
    """The results column (shared by every form the render builds) and this page's job ids."""

    def __init__(self) -> None:
        self.progress = gr.Markdown("Ready.", elem_id="custom-progress")
        self.message = message_box("custom")
        self.retry = retry_button("custom-retry")
        self.preview = preview_image()
        self.gallery = gr.Gallery(label="Images", format="png", type="filepath", columns=2, interactive=False,
                                  elem_id="custom-gallery", buttons=["download", "fullscreen"])
        self.seed_used = gr.Textbox(label="Seed used", interactive=False, visible=False, elem_id="custom-seed-used")
        self.job_ids = gr.State([])  # the store's ids of this page's current run (for Interrupt)
        self.last_seed = gr.State(None)  # the first seed of this page's last run (for ♻)
        self.media = MediaResults("custom")  # video, audio, 3D, text, files: outputs that are not pictures
        self.outputs = [self.progress, self.preview, self.gallery, self.message, self.retry, self.seed_used,
                        self.last_seed, *self.media.components]

    def show(self, u, lang: str = "en") -> tuple:
        """:meth:`values` for this page's own preview."""
        return self.values(u, lang, self.preview)

    @staticmethod
    def values(u, lang: str = "en", preview=None) -> tuple:
        skip = gr.skip()
        seeds = (gr.update(value=seeds_text(u.seeds), visible=True), u.seeds[0]) if u.seeds else (skip, skip)
        shown = pictures(u.gallery)
        return (u.progress if u.progress is not None else skip, preview_update(u, preview),
                shown if shown is not None else skip, u.message if u.message is not None else skip,
                retry_visibility(u), *seeds, *MediaResults.updates(u.gallery, lang))
