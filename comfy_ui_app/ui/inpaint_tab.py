"""The "Inpainting" tab: paint over part of a picture and let ComfyUI redraw it.

The picture goes into a ``gr.ImageEditor`` (labelled ``Image``); whatever the brush
touches is the mask (:func:`comfy_ui_app.workflow.masks.mask_from_editor`). "Invert mask",
"Grow mask" and "Mask blur" change it, and the "Mask sent to ComfyUI" image shows it
rendered from the very bytes that are uploaded (:func:`comfy_ui_app.workflow.masks.preview_from_files`).
Generate stages picture and mask the way the template reads them
(:mod:`comfy_ui_app.workflow.inpaint`, :mod:`comfy_ui_app.jobs.inpaint`) and hands the filled
template and those files to the shared runner (the cluster uploads them where the job runs).
A problem with the picture or the mask ("Please add a picture first") shows right
under the editor as well as in the message box. ComfyUI's own ``grow_mask_by``
("Soften seam in ComfyUI") and the file name prefix sit under "Advanced"; at phone
width the columns stack, the gallery below the controls.

``InpaintTab`` holds only what every user shares (template, fields, context); one
user's run lives in the locals of :meth:`InpaintTab.generate`.
"""
from __future__ import annotations

from pathlib import Path

import anyio
import gradio as gr

from comfy_ui_app.errors import ComfyError, WorkflowError
from comfy_ui_app.workflow.templates import apply_values, load_workflow
from comfy_ui_app.workflow import masks
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.workflow.inpaint import inpaint_shape
from comfy_ui_app.jobs.inpaint import make_files, open_editor, stage_files
from comfy_ui_app.jobs.limits import check_run, limits_for
from comfy_ui_app.jobs.uploads import DECODING
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui.context import AppContext, TabHandles, current_user
from comfy_ui_app.ui._actions import action_bar, message_box, preview_image, preview_update
from comfy_ui_app.ui._inpaint_controls import controls, editor_value, named_boxes, wire_gallery
from comfy_ui_app.ui._api import api_handler
from comfy_ui_app.ui._api_docs import ENDPOINTS
from comfy_ui_app.ui._page_view import shown
from comfy_ui_app.ui._presets import presets_panel, with_styles
from comfy_ui_app.ui.form import Form, error_md
from comfy_ui_app.ui import _lenient as lenient
from comfy_ui_app.ui import result_actions
from comfy_ui_app.ui._pictures import PICTURE_HANDLERS, PICTURES, picture_editor
from comfy_ui_app.ui.runner import (
    RunRequest, RunUpdate, interrupt_handler, progress_markdown, run, user_inputs,
)
from comfy_ui_app.ui.runner import job_ids_output, wire_reattach
from comfy_ui_app.ui.retry import retry_button, retry_visibility, wire_retry

__all__ = ["InpaintTab", "build_tab", "editor_value", "TEMPLATE_NAME"]

TEMPLATE_NAME = "inpaint.json"
BRUSH_SIZE = 24
BRUSH_COLOR = ("#ff0000", 0.6)  # see-through red; any touched pixel (alpha > 0) is masked


class InpaintTab:
    """Handlers of the tab; shared by all users, no per-user state."""

    def __init__(self, ctx: AppContext, template_path: Path) -> None:
        self.ctx = ctx
        self.template: dict | None = None
        self.fields: list = []
        self.shape = None
        self.error = ""
        # set by build_tab: updates skip what would change nothing
        self.editor_slot = self.retry_btn = self.preview = None
        try:
            self.template = load_workflow(template_path)
            self.fields = discover(self.template, ctx.catalog.object_info_or_none())
            self.shape = inpaint_shape(self.fields)
        except (ComfyError, OSError) as exc:
            self.error = describe(exc, names=self.ctx.names)

    def files(self, value, inverted, grow_px, blur_px, limits=None) -> masks.MaskFiles | None:
        """The picture and mask exactly as they would be uploaded now (None: no picture).

        The editor hands over files: each is decoded only after its header passed the limits
        (``limits``: the user's caps); hold :data:`~comfy_ui_app.jobs.uploads.DECODING` around this."""
        if self.shape is None or not value or value.get("background") is None:
            return None
        value = open_editor(value, field=self.picture_fields()[0], limits=limits)
        mask = masks.mask_from_editor(value)
        mask = masks.process(mask, inverted=bool(inverted), grow_px=int(grow_px or 0), blur_px=float(blur_px or 0))
        return make_files(self.shape, self.template, value["background"], mask)

    def mask_preview(self, value, inverted, grow_px, blur_px, lang=None, limits=None) -> tuple:
        """``(the picture with the mask that would be sent tinted red, the editor's error slot)``: a
        picture refused from its header (too large, not a picture, over the user's ``limits``) is
        said under the editor at once."""
        try:
            with DECODING:
                files = self.files(value, inverted, grow_px, blur_px, limits)
                image = None if files is None else masks.preview_from_files(files)
        except ComfyError as exc:
            text = describe(exc, lang=lang or "en", names=self.ctx.names)
            return None, self.editor_error({self.picture_fields()[0]: text})
        return image, self.editor_error({})

    def prepared(self, value, inverted, grow_px, blur_px, limits=None):
        """``(files, preview, painted)`` for Generate, decoded under DECODING (None: no picture)."""
        with DECODING:
            files = self.files(value, inverted, grow_px, blur_px, limits)
            if files is None:
                return None
            painted = bool(masks.decode_mask(files.mask_png, files.kind, files.channel).any())
            return files, masks.preview_from_files(files) if painted else None, painted

    def _upload(self, files: masks.MaskFiles) -> tuple[dict, list]:
        """The filled template and the files the job carries (the cluster uploads them where it runs)."""
        values, inputs = stage_files(self.ctx.comfy.client, self.shape, files)
        return apply_values(self.template, values, fields=self.fields), inputs

    def picture_fields(self) -> tuple[str, ...]:
        """Names of the fields the editor fills (its error slot shows their problems)."""
        if self.shape is None:
            return ("image", "mask")
        return (self.shape.image.name,) + ((self.shape.mask.name,) if self.shape.mask else ())

    def editor_error(self, errors: dict | None):
        """The update of the slot under the editor: the picture's or the mask's problem."""
        if errors is None:
            return gr.skip()
        text = " ".join(errors[name] for name in self.picture_fields() if errors.get(name))
        return shown(self.editor_slot, error_md(text), bool(text))

    def outputs_for(self, update: RunUpdate, form: Form, mask_image=None) -> tuple:
        """progress, preview, gallery, message, mask preview, the editor's error slot, every
        field's error slot, Retry."""
        skip = gr.skip()
        return (skip if update.progress is None else update.progress,
                preview_update(update, self.preview),
                skip if update.gallery is None else update.gallery,
                skip if update.message is None else update.message,
                skip if mask_image is None else mask_image, self.editor_error(update.errors),
                *form.error_updates(update.errors), retry_visibility(update, self.retry_btn))  # fmt: skip

    async def generate(self, form: Form, request, lang, value, inverted, grow_px, blur_px, *form_values):
        """Outputs: :meth:`outputs_for` plus this run's job ids (for Interrupt).

        ``form_values`` ends with the styles, then the browser id when the app keeps one (``user_inputs``).
        """
        browser_id = None
        if user_inputs(self.ctx):
            *form_values, browser_id = form_values
        *form_values, styles = form_values
        out = self.outputs_for
        problems = lenient.run_problems(form, form_values, self.ctx.jobs.policy,
                                        extra=lenient.mask_tool_checks(grow_px, blur_px))
        if problems:  # NaN, text for a number, a prompt too long…: next to the field, nothing sent
            yield (*out(lenient.stopped_update(problems, lang, self.ctx.names), form), gr.skip())
            return
        picture = self.picture_fields()[0]
        try:
            if self.shape is None:
                raise WorkflowError(self.error or tr("No inpainting workflow.", lang))
            limits = limits_for(self.ctx.jobs, current_user(request, browser_id))
            prepared = await anyio.to_thread.run_sync(self.prepared, value, inverted, grow_px, blur_px, limits)
            if prepared is None:
                raise WorkflowError(tr("Please add a picture first.", lang), picture)
            files, preview, painted = prepared
            wanted, recorded = with_styles(form.collect(form_values), styles)  # the prompt wrapped by each style
            if not painted:
                raise WorkflowError(tr("Please paint over the part of the picture to change.", lang), picture)
            first = RunUpdate(progress_markdown(tr("Sending to ComfyUI…", lang)), gallery=[], message="", errors={})
            yield (*out(first, form, preview), gr.skip())
            await anyio.to_thread.run_sync(lambda: check_run(  # a public app's caps, before any upload
                self.ctx.jobs, current_user(request, browser_id), self.template, self.fields,
                wanted, pictures={self.shape.image.name: files.image_png}))
            template, inputs = await anyio.to_thread.run_sync(self._upload, files)
        except Exception as exc:  # noqa: BLE001 - always a plain message, never a traceback
            field = getattr(exc, "field", None)  # WorkflowError, UploadRefused, LimitExceeded name theirs
            text = describe(exc, lang=lang, names=self.ctx.names)
            errors = {field: text} if isinstance(field, str) and field else {}
            stopped = RunUpdate(progress_markdown(tr("Stopped", lang)), message=text, errors=errors)
            yield (*out(stopped, form), gr.skip())
            return
        run_request = RunRequest(template, self.fields, wanted, owner=current_user(request, browser_id),
                                 template_name=TEMPLATE_NAME, kind="inpaint", inputs=inputs, recorded=recorded)
        ids = job_ids_output()
        async for update in run(self.ctx, run_request, lang):
            yield (*out(update, form), ids(update))


def build_tab(ctx: AppContext) -> TabHandles:
    """Create the "Inpainting" tab inside the current Blocks (inside ``gr.Tabs``)."""
    h = InpaintTab(ctx, Path(ctx.workflows_dir) / TEMPLATE_NAME)
    info = ctx.catalog.object_info_or_none()
    form = Form(h.template or {}, list(h.fields))
    with gr.Tab("Inpainting", id="inpaint") as tab:
        generate_btn, interrupt_btn, _ = action_bar("inpaint")
        with gr.Row(equal_height=False, elem_classes=["app-columns"]):
            with gr.Column(scale=3, min_width=320):
                editor = picture_editor(  # hands over files: checked before any pixel is decoded
                    label="Image", image_mode="RGBA", format="png",
                    sources=["upload", "clipboard"], eraser=gr.Eraser(default_size=BRUSH_SIZE),
                    brush=gr.Brush(default_size=BRUSH_SIZE, colors=[BRUSH_COLOR], color_mode="fixed"),
                    layers=gr.LayerOptions(allow_additional_layers=False), transforms=(),
                    canvas_size=(512, 512), height=560, elem_id="inpaint-editor")  # fmt: skip
                editor_error = gr.Markdown("", visible=False, elem_classes=["field-error"],
                                           elem_id="inpaint-editor-error")  # fmt: skip
                parts = controls(ctx, h, form, info)
                presets_panel(ctx, "inpaint", form, parts)
            with gr.Column(scale=2, min_width=320):
                progress = gr.Markdown("Ready.", elem_id="inpaint-progress")
                message = message_box("inpaint", h.error)
                retry_btn = retry_button("inpaint-retry")
                mask_image = gr.Image(label="Mask sent to ComfyUI", type="pil", format="png",
                                      interactive=False, height=256, elem_id="inpaint-mask")  # fmt: skip
                preview = h.preview = preview_image(elem_id="inpaint-preview")
                gallery = gr.Gallery(label="Images", format="png", columns=2, interactive=False,
                                     elem_id="inpaint-gallery")  # fmt: skip
                selected = gr.State(None)
                job_ids = gr.State([])  # the job store's ids of this page's current run (for Interrupt)
                reuse_btn = gr.Button("Use as new input", size="sm")
                result_actions.for_gallery(ctx, gallery, "inpaint")  # Upscale, Vary, Extend, Compare
    clear_btn, inverted, grow_px, blur_px = (parts[k] for k in ("clear", "inverted", "grow_px", "blur_px"))

    mask_inputs = [editor, inverted, grow_px, blur_px]
    h.editor_slot = editor_error

    def show_mask(request: gr.Request, value, inv, grow, blur, lang, *browser):  # browser: its id, if kept
        limits = limits_for(ctx.jobs, current_user(request, browser[0] if browser else None))
        return h.mask_preview(value, inv, grow, blur, lang, limits)

    preview_io = dict(inputs=[*mask_inputs, ctx.lang, *user_inputs(ctx)], outputs=[mask_image, editor_error],
                      show_progress="hidden",
                      api_visibility="private", concurrency_limit=PICTURE_HANDLERS, concurrency_id=PICTURES)
    for event in (editor.upload, editor.change, inverted.change, grow_px.change, blur_px.change):
        event(show_mask, trigger_mode="always_last", **preview_io)

    def clear_mask(value):
        return editor_value(value.get("background") if value else None)

    after_set_image = dict(fn=show_mask, **preview_io)  # setting the editor from code fires no change event
    clear_btn.click(clear_mask, editor, editor, api_visibility="private", show_progress="hidden").then(
        **after_set_image)

    outputs = [progress, preview, gallery, message, mask_image, editor_error, *form.errors, retry_btn]
    h.editor_slot, h.retry_btn = editor_error, retry_btn

    def to_outputs(update):
        return h.outputs_for(update, form)

    reattach = wire_reattach(ctx, "inpaint", outputs, to_outputs, job_ids)

    async def generate(request: gr.Request, lang, value, inv, grow, blur, *values):
        async for update in h.generate(form, request, lang, value, inv, grow, blur, *values):
            yield update

    inputs = [ctx.lang, *mask_inputs, *form.components, parts["styles"], *user_inputs(ctx)]
    event = generate_btn.click(
        api_handler(generate, inputs, [*outputs, job_ids], summary=ENDPOINTS["inpaint"].summary, forms=[form],
                    names={ctx.lang: "lang", editor: "image", inverted: "invert_mask", grow_px: "mask_grow",
                           blur_px: "mask_blur"}, pairs=[(editor, editor_error)]),
        inputs, [*outputs, job_ids],
        api_name="inpaint", concurrency_limit=None, show_progress="hidden",
        cancels=[reattach] if reattach else None)  # fmt: skip
    wire_retry(ctx, retry_btn, outputs, to_outputs, job_ids, api_name="inpaint_retry", cancels=[reattach],
               stopped_by=[generate_btn])
    interrupt_btn.click(interrupt_handler(ctx), [ctx.lang, job_ids, *user_inputs(ctx)], [progress, message],
                        cancels=[e for e in (event, reattach) if e], api_name="inpaint_interrupt",
                        concurrency_limit=None)  # fmt: skip

    form.wire_range_checks(ctx.lang)
    wire_gallery(gallery, selected, reuse_btn, editor, after_set_image)

    def refresh():
        return form.choice_updates(ctx)

    return TabHandles(tab=tab, needs_server=[generate_btn], refresh=refresh,
                      refresh_outputs=[i.component for i in form.choice_items()],
                      parts={"image": editor, "after_set_image": after_set_image, "gallery": gallery,
                             "generate": generate_btn, "form": form, "editor_error": editor_error,
                             "message": message, "picture_field": h.shape.image if h.shape else None,
                             "styles": parts["styles"],
                             **named_boxes(form)})  # fmt: skip
