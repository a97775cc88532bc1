""""Open from a picture": drop a picture or video to get the workflow it was made with.

The drop zone sits on the Custom workflow tab (``ui._picture_drop.drop_zone``). What the file carries
(:mod:`comfy_ui_app.workflow.embedded`, which never decodes a pixel) decides where it goes:

* ComfyUI's own graph (``prompt``, API format, and/or ``workflow``, the editor's): the Custom
  workflow tab opens it as a form whose values are the ones it was made with (the graph is
  kept as embedded: the form's defaults ARE the values that ran), with the same checks as an
  uploaded workflow file (depth, node cap, node types the server has). A visitor who may not
  run workflows of their own (``--custom-workflows``) is told why, unless the file also carries
  parameters (the app's own pictures do), which then fill Text to image;
* an A1111 / Forge / SwarmUI ``parameters`` text (:mod:`comfy_ui_app.workflow.a1111`): the Text
  to image form is filled (prompt, negative, steps, sampler and scheduler where ComfyUI has
  them, CFG, seed, size; the checkpoint when this server has one of that name);
* nothing: a plain sentence next to the drop zone, as for a file that is not a picture.

The file is taken as Gradio stored it (``gr.File``: never re-encoded, so its metadata is
intact); a picture's header is judged first (:func:`comfy_ui_app.jobs.uploads.picture_header`).
Nothing is kept per user: the handler reads the file and answers with page updates.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from comfy_ui_app.errors import NothingEmbedded, WorkflowError
from comfy_ui_app.jobs.uploads import picture_header
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui._picture_drop import FILE_TYPES, PICTURE_FIELD, drop_zone
from comfy_ui_app.ui.context import caller_ids
from comfy_ui_app.ui.custom_tab import access_note, runnable_graph
from comfy_ui_app.ui.form import choices_for, error_md
from comfy_ui_app.ui.runner import user_inputs
from comfy_ui_app.workflow.a1111 import match_model, parse_parameters
from comfy_ui_app.workflow.convert import is_ui_workflow
from comfy_ui_app.workflow.embedded import Embedded, read_embedded
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.workflow.graph import is_link
from comfy_ui_app.workflow.source import check_nodes, parse_json

__all__ = ["drop_zone", "read_picture", "open_graph", "made_with", "form_values", "PictureOpener", "FILE_TYPES", "wire"]

_VIDEOS = ("mp4", "webm")


def read_picture(path: str | Path, name: str) -> Embedded:
    """What the file carries; a picture is judged from its header first (PictureRefused), and a
    file that carries nothing is NothingEmbedded (both naming the drop zone)."""
    found = read_embedded(path)
    if found.kind not in _VIDEOS:
        picture_header(path, name=name, field=PICTURE_FIELD)  # empty, not a picture, a bomb: refused
    if found.empty:
        raise NothingEmbedded(name, field=PICTURE_FIELD)
    return found


def _json(text: str) -> Any:
    """A metadata text as JSON (some writers encode it twice or three times: unwrapped)."""
    data: Any = text
    for _ in range(3):
        if not isinstance(data, str):
            return data
        data = parse_json(data, field=PICTURE_FIELD)
    return data


def open_graph(found: Embedded, name: str, object_info: dict | None, max_nodes: int | None) -> dict:
    """``{"name", "prompt", "workflow"}`` for the Custom workflow tab from a file's ComfyUI graph:
    the API ``prompt`` as it ran (else the editor ``workflow`` converted), the editor graph kept.
    Raises WorkflowError in plain words (the same checks as an uploaded workflow file)."""
    try:
        workflow = _json(found.workflow) if found.workflow else None
        prompt = _json(found.prompt) if found.prompt else None
    except ValueError as exc:  # not JSON (a WorkflowError is a ValueError too: let it through)
        if isinstance(exc, WorkflowError):
            raise
        raise WorkflowError("The workflow in this picture is not valid JSON.", PICTURE_FIELD) from exc
    workflow = workflow if isinstance(workflow, dict) and is_ui_workflow(workflow) else None
    for graph in (prompt, workflow):
        if graph is not None:
            check_nodes(graph, max_nodes, field=PICTURE_FIELD)
    if prompt is None and workflow is None:
        raise WorkflowError("The workflow in this picture is not one ComfyUI can run.", PICTURE_FIELD)
    graph = runnable_graph(prompt if prompt is not None else workflow, object_info)
    return {"name": name, "prompt": graph, "workflow": workflow, "values": made_with(graph, object_info)}


def made_with(graph: dict, object_info: dict | None) -> dict[str, Any]:
    """``{field name: value}`` of every field as the graph holds it: the form starts at the values
    the picture was made with (a seed too, where a form would otherwise start at -1, random)."""
    values = {}
    for field in discover(graph, object_info):
        inputs = (graph.get(field.node_id) or {}).get("inputs") or {}
        value = inputs.get(field.input_name)
        if field.input_name in inputs and not field.placeholder and not is_link(value):
            values[field.name] = value
    return values


def form_values(ctx, template: dict, fields, params: dict) -> tuple[dict[str, Any], str | None]:
    """``({field name: value}, checkpoint this server lacks)`` for the Text to image form.

    Each role goes to the first field of that role; a choice (sampler, scheduler, checkpoint)
    only when the server lists it (the checkpoint matched by file name)."""
    info = ctx.catalog.object_info_or_none()
    values: dict[str, Any] = {}
    lacking = None
    for role, value in params.items():
        field = next((f for f in fields if f.role == role and not f.placeholder), None)
        if field is None:
            continue
        if field.kind == "choice" or role == "checkpoint":
            choices = choices_for(ctx, template, field, info)
            chosen = match_model(value, choices) if role == "checkpoint" else (value if value in choices else None)
            if chosen is None and choices:
                lacking = value if role == "checkpoint" else lacking
                continue
            value = chosen if chosen is not None else value
        values[field.name] = value
    return values, lacking


class PictureOpener:
    """The drop zone's handler; see the module docstring. Built by :func:`wire`."""

    def __init__(self, ctx, t2i, cw, tabs) -> None:
        self.ctx, self.tabs = ctx, tabs
        self.t2i_form = t2i.parts.get("form")
        self.random_seed = t2i.parts.get("random_seed")
        self.t2i_message = t2i.parts["message"]
        self.cw = cw.parts

    @property
    def outputs(self) -> list:
        return [self.cw["workflow"], self.cw["bundled"], self.cw["load_message"], *self.t2i_form.components,
                self.random_seed or gr.State(None), self.t2i_message, self.tabs, self.cw["picture_message"]]

    def _answer(self, *, custom=None, fill: dict | None = None, tab=None, said=None, problem: str = "") -> list:
        skip = gr.skip()
        custom_parts = [custom, None, said] if custom is not None else [skip, skip, skip]
        fill = fill or {}
        form = [gr.update(value=fill[i.field.name]) if i.field.name in fill else skip for i in self.t2i_form.items]
        seeded = gr.update(value=False) if "seed" in fill and self.random_seed is not None else skip
        t2i_said = said if fill else skip
        slot = gr.update(value=error_md(problem), visible=bool(problem))
        return [*custom_parts, *form, seeded, t2i_said, gr.Tabs(selected=tab) if tab else skip, slot]

    def open_from_picture(self, request: gr.Request, path, lang, browser_id=None) -> list:
        """Inputs: the dropped file's path, the page's language[, browser id]."""
        if not path:
            return self._answer()
        name = Path(path).name
        try:
            found = read_picture(path, name)
        except Exception as exc:  # noqa: BLE001 - any unreadable file: a plain sentence by the drop zone
            return self._answer(problem=describe(exc, lang=lang, names=self.ctx.names))
        refused = access_note(self.ctx.jobs, caller_ids(request, browser_id), lang)
        if (found.prompt or found.workflow) and not (refused and found.parameters):
            if refused:
                return self._answer(problem=refused)
            return self._open_custom(found, name, lang)
        return self._fill_txt2img(found, name, lang)

    def _open_custom(self, found: Embedded, name: str, lang: str) -> list:
        try:
            loaded = open_graph(found, name, self.ctx.catalog.object_info_or_none(), self.ctx.jobs.policy.max_nodes)
        except Exception as exc:  # noqa: BLE001 - a plain sentence, the previous form kept
            reason = describe(exc, lang=lang, names=self.ctx.names)
            return self._answer(problem=tr("Could not open the workflow of this picture: {reason}", lang,
                                           reason=reason))
        said = tr("Opened the workflow of {name}, with the values it was made with.", lang, name=name)
        return self._answer(custom=loaded, tab="custom", said=said)

    def _fill_txt2img(self, found: Embedded, name: str, lang: str) -> list:
        params = parse_parameters(found.parameters or "")
        if not params or self.t2i_form is None:
            return self._answer(problem=describe(NothingEmbedded(name, PICTURE_FIELD), lang=lang))
        fields = [i.field for i in self.t2i_form.items]
        values, lacking = form_values(self.ctx, self.t2i_form.template, fields, params)
        said = tr("Text to image filled from the parameters of {name}.", lang, name=name)
        if lacking:
            said += " " + tr("Its checkpoint “{model}” is not on this server: the form keeps its own.", lang,
                             model=lacking)
        return self._answer(fill=values, tab="txt2img", said=said)


def wire(ctx, t2i, cw, tabs) -> None:
    """The drop zone's event (call inside the Blocks, with the cross-tab events)."""
    if "picture" not in cw.parts or t2i.parts.get("form") is None:
        return
    opener = PictureOpener(ctx, t2i, cw, tabs)
    cw.parts["picture"].upload(opener.open_from_picture, inputs=[cw.parts["picture"], ctx.lang, *user_inputs(ctx)],
                               outputs=opener.outputs, api_visibility="private", concurrency_limit=None,
                               show_progress="hidden")
