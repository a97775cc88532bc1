"""What crosses tabs: "Send to inpainting" and History's "Load parameters".

* **Send to inpainting** (Text to image): the selected picture goes into the mask
  editor, the prompt and the negative prompt into the Inpainting tab's boxes.
* **Load parameters** (History): the job's values go back into the tab that made it.
  Text to image: every field and the LoRA picker. Inpainting: every field and, when
  the server still has it, the picture (not the mask: paint it again). Custom
  workflow: the same bundled template, or else the prompt the job ran, with its values.
  Anything else (a job from the command line, one without values) is said plainly in
  the History tab's message instead of a "Parameters loaded." that did nothing.

Handlers are built by :class:`ParameterLoader` / :func:`send_to_inpaint`; they keep
nothing per user (the job is looked up for the asking user on every click).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from comfy_ui_app.jobs.records import current_server
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui import custom_tab as custom
from comfy_ui_app.ui import from_picture
from comfy_ui_app.ui import inpaint_tab as inpaint
from comfy_ui_app.ui.context import current_user
from comfy_ui_app.ui.runner import user_inputs
from comfy_ui_app.workflow.prompt_styles import unstyled

__all__ = ["send_to_inpaint", "ParameterLoader", "job_picture"]


def send_to_inpaint(path, prompt, negative, lang):
    """(editor, inpaint prompt, inpaint negative, selected tab, txt2img message)."""
    if not path:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), tr("Generate a picture first, then send it.", lang)
    return (inpaint.editor_value(path), gr.skip() if prompt is None else prompt,
            gr.skip() if negative is None else negative, gr.Tabs(selected="inpaint"), gr.skip())


def _client_for(ctx, record):
    """The client of the server the job ran on (the first server when unknown)."""
    url = current_server(record)
    return ctx.jobs.comfy_for(url).client


def job_picture(ctx, record, field) -> Image.Image | None:
    """The picture an inpainting job sent (RGB: the mask in its alpha is dropped), if the
    server still has it in its input folder; None otherwise."""
    if field is None or record is None:
        return None
    ref = ((record.prompt or {}).get(field.node_id) or {}).get("inputs", {}).get(field.input_name)
    if not isinstance(ref, str) or not ref:
        return None
    subfolder, _, name = ref.rpartition("/")
    try:
        data = _client_for(ctx, record).view(name, subfolder=subfolder, type="input")
        with Image.open(io.BytesIO(data)) as opened:
            return opened.convert("RGB")
    except Exception:  # noqa: BLE001 - gone, server down, not an image: the user adds it again
        return None


def _fill(form, values: dict) -> list:
    return [gr.update(value=values[i.field.name]) if i.field.name in values and i.field.kind not in ("image", "mask")
            else gr.skip() for i in form.items]  # fmt: skip


class ParameterLoader:
    """History's "Load parameters" into the job's tab; see the module docstring."""

    def __init__(self, ctx, t2i, inp, cw, history, tabs) -> None:
        self.ctx, self.t2i, self.inp, self.cw, self.history, self.tabs = ctx, t2i, inp, cw, history, tabs
        self.t2i_form = t2i.parts.get("form")
        self.picker = t2i.parts.get("lora_picker")
        self.inp_form = inp.parts.get("form")

    @property
    def outputs(self) -> list:
        out = [*self.t2i_form.components, *(self.picker.components if self.picker else []), self.t2i.parts["styles"]]
        if self.inp_form is not None:
            out += [*self.inp_form.components, self.inp.parts["image"], self.inp.parts["styles"]]
        if "workflow" in self.cw.parts:
            out += [self.cw.parts["workflow"], self.cw.parts["bundled"]]
        return out + [self.tabs, self.history.parts["message"]]

    def _skips(self) -> dict:
        return {"t2i": [gr.skip() for _ in self.t2i_form.items] + ([gr.skip(), gr.skip()] if self.picker else [])
                + [gr.skip()],  # styles
                "inp": [gr.skip() for _ in self.inp_form.items] + [gr.skip(), gr.skip()] if self.inp_form is not None
                else [],
                "cw": [gr.skip(), gr.skip()] if "workflow" in self.cw.parts else []}  # fmt: skip

    def _answer(self, parts: dict, tab, message) -> list:
        return [*parts["t2i"], *parts["inp"], *parts["cw"], tab, message]

    def load(self, request: gr.Request, parameters, choice, browser_id, lang) -> list:
        """Inputs: the parameters History loaded, the job picked, browser id, language."""
        parts, skip = self._skips(), gr.skip()
        if not parameters:  # History already said why ("Open one of the app's jobs first.")
            return self._answer(parts, skip, skip)
        kind, values = parameters.get("kind"), parameters.get("values") or {}
        values, styles = unstyled(values)  # the prompt as typed, and its styles: Generate wraps it once again
        if kind not in ("txt2img", "inpaint", "custom", None):
            return self._answer(parts, skip, tr(
                "The parameters of this job cannot be loaded: it was not made in one of this app's tabs.", lang))
        if not values:
            return self._answer(parts, skip, tr("This job has no parameters to load.", lang))
        if kind in ("txt2img", None):
            parts["t2i"] = _fill(self.t2i_form, values) + (self.picker.fill(values) if self.picker else []) + [styles]
            return self._answer(parts, gr.Tabs(selected="txt2img"), tr("Parameters loaded into Text to image.", lang))
        record = self.ctx.jobs.get(choice, user=current_user(request, browser_id)) if choice else None
        if kind == "inpaint":
            if self.inp_form is None:
                return self._answer(parts, skip, tr("The Inpainting tab has no workflow to load them into.", lang))
            picture = job_picture(self.ctx, record, self.inp.parts.get("picture_field"))
            parts["inp"] = _fill(self.inp_form, values) + [inpaint.editor_value(picture) if picture else skip, styles]
            text = (tr("Parameters loaded into Inpainting, with the picture. Paint the mask again.", lang) if picture
                    else tr("Parameters loaded into Inpainting. The picture is no longer on the server: add it "
                            "again, then paint the mask.", lang))
            return self._answer(parts, gr.Tabs(selected="inpaint"), text)
        return self._load_custom(parts, parameters, values, record, lang)

    def _load_custom(self, parts, parameters, values, record, lang) -> list:
        try:
            found = custom.load_job(Path(self.ctx.workflows_dir), parameters.get("template"),
                                    record.prompt if record else None, values, self.ctx.catalog.object_info_or_none())
        except Exception as exc:  # noqa: BLE001 - a plain sentence, never a traceback
            found, reason = None, describe(exc, lang=lang, names=self.ctx.names)
        else:
            reason = tr("the workflow of this job is not known any more.", lang)
        if found is None:
            return self._answer(parts, gr.skip(), tr("The parameters of this job cannot be loaded: {reason}", lang,
                                                     reason=reason))
        loaded, bundled = found
        parts["cw"] = [loaded, loaded["name"] if bundled else None]
        text = (tr("Parameters loaded into Custom workflow ({name}).", lang, name=loaded["name"]) if bundled else
                tr("Parameters loaded into Custom workflow: the workflow this job ran ({name}).", lang,
                   name=loaded["name"]))
        return self._answer(parts, gr.Tabs(selected="custom"), text)


def wire(ctx, t2i, inp, cw, history, tabs) -> None:
    """Both cross-tab buttons (call inside the Blocks, before the language switch)."""
    parts: dict[str, Any] = t2i.parts
    from_picture.wire(ctx, t2i, cw, tabs)  # "Open from a picture" on the Custom workflow tab
    if "send_to_inpaint" in parts:
        parts["send_to_inpaint"].click(
            send_to_inpaint, inputs=[parts["selected_image"], parts.get("prompt", gr.State(None)),
                                     parts.get("negative", gr.State(None)), ctx.lang],
            outputs=[inp.parts["image"], inp.parts.get("prompt", gr.State(None)),
                     inp.parts.get("negative", gr.State(None)), tabs, parts["message"]],
            api_visibility="private", concurrency_limit=None, show_progress="hidden",
        ).then(**inp.parts["after_set_image"])
    if parts.get("form") is None or "load_event" not in history.parts:
        return
    loader = ParameterLoader(ctx, t2i, inp, cw, history, tabs)
    browser = user_inputs(ctx) or [gr.State(None)]
    history.parts["load_event"].then(
        loader.load, inputs=[history.parts["parameters"], history.parts["picker"], *browser, ctx.lang],
        outputs=loader.outputs, api_visibility="private", concurrency_limit=None, show_progress="hidden",
    ).then(**inp.parts["after_set_image"])
