"""The "Text to image" tab: every field of ``workflows/txt2img.json``, run by ``runner``.

Up front: prompt, negative prompt, checkpoint, LoRA (the template's own LoRA fields, or
else an optional picker that adds a ``LoraLoader``: ``_lora_picker``), seed (random /
reuse last), size presets with free width and height (``_sizes``), steps, CFG, sampler,
scheduler, batch size and batch count; every other discovered field under "Advanced".
A number typed past a slider's end is put back with the reason under the field.
``Txt2Img`` holds only what all users share (template, fields, the built form); one
user's run lives in the ``generate`` generator's locals and two small ``gr.State``
(last seed, selected image).
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from comfy_ui_app.errors import WorkflowError
from comfy_ui_app.workflow.templates import load_workflow
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.texts.i18n import DEFAULT_LANGUAGE, tr
from comfy_ui_app.workflow.lora import has_lora
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui import form as forms
from comfy_ui_app.ui import _lenient as lenient
from comfy_ui_app.ui import result_actions
from comfy_ui_app.workflow.graph import Field
from comfy_ui_app.ui._actions import action_bar, message_box, preview_image, preview_update
from comfy_ui_app.ui._api import api_handler
from comfy_ui_app.ui._api_docs import ENDPOINTS
from comfy_ui_app.ui._lora_picker import LoraPicker
from comfy_ui_app.ui._presets import presets_panel, style_picker, with_styles
from comfy_ui_app.ui._sizes import (
    CUSTOM_SIZE, SIZE_PRESETS, apply_preset, preset_for, size_dropdown, wire_size,
)
from comfy_ui_app.ui.context import TabHandles, current_user
from comfy_ui_app.ui.retry import retry_button, retry_visibility, wire_retry
from comfy_ui_app.ui.runner import (
    MAX_UI_SEED, RunRequest, RunUpdate, interrupt_handler, progress_markdown, run, user_inputs,
)
from comfy_ui_app.ui.runner import job_ids_output, wire_reattach

__all__ = ["build_tab", "Txt2Img", "SIZE_PRESETS", "CUSTOM_SIZE", "preset_for", "apply_preset"]

LORA_ROLES = ("lora", "lora_strength", "lora_clip_strength")
MAX_BATCH_COUNT = 16


def reuse_seed(last_seed):
    """♻: the seed of the last run back in the box, and random off."""
    if last_seed is None:
        return gr.skip(), gr.skip()
    return last_seed, False


def select_image(gallery, evt: gr.SelectData):
    """Remember which gallery picture is selected (for "Send to inpainting")."""
    items = gallery or []
    if evt is None or not 0 <= evt.index < len(items):
        return gr.skip()
    item = items[evt.index]
    return item[0] if isinstance(item, (list, tuple)) else item


class Txt2Img:
    """Shared by all users: the template, its fields and the built form."""

    def __init__(self, ctx, workflow_path: Path) -> None:
        self.ctx = ctx
        self.template: dict = {}
        self.error = ""
        try:
            self.template = load_workflow(Path(workflow_path))
        except Exception as exc:  # noqa: BLE001 - shown on the page instead
            missing = not Path(workflow_path).exists()
            self.error = (f"Workflow template not found: {workflow_path}" if missing
                          else describe(exc, names=self.ctx.names))
        self.object_info = ctx.catalog.object_info_or_none()
        self.fields = discover(self.template, self.object_info) if self.template else []
        self.form = forms.Form(self.template, self.fields)
        # The template's own LoRA fields win; else the optional picker adds a LoraLoader.
        self.picker = LoraPicker(ctx) if self.template and not has_lora(self.fields) else None
        self.retry_btn = self.preview = None  # set by build_tab (an update skips what would change nothing)

    def by_name(self, name: str):
        return next((f for f in self.fields if f.name == name), None)

    def outputs_for(self, update, form: forms.Form) -> tuple:
        """progress, preview, gallery, message, seed, *errors, [LoRA errors,] last seed,
        selected image, Retry (no job ids)."""
        skip = gr.skip()
        seed = update.seeds[0] if update.seeds else skip
        selected = update.gallery[0] if update.final and update.gallery else skip
        lora_errors = self.picker.error_updates(update.errors) if self.picker else []
        return (update.progress if update.progress is not None else skip,
                preview_update(update, self.preview),
                update.gallery if update.gallery is not None else skip,
                update.message if update.message is not None else skip,
                seed, *form.error_updates(update.errors), *lora_errors, seed, selected,
                retry_visibility(update, self.retry_btn))  # fmt: skip

    def _stopped(self, message: str, errors: dict, lang) -> RunUpdate:
        return RunUpdate(progress_markdown(tr("Stopped", lang)), gallery=[], message=message, errors=errors,
                         final=True)

    def _problems(self, values, batch_count, lora, strength) -> dict:
        """Unusable values (NaN, text where a number goes, a 5 MB prompt…), by field, before anything else."""
        extra = {}
        if self.picker:
            slider = self.picker.strength
            extra["lora"] = (Field("lora", "choice", "", "", "", "LoRA"), lora, None, None)
            if strength not in (None, ""):  # empty: the picker's default strength
                extra["lora_strength"] = (Field("lora_strength", "float", "", "", 1.0, "LoRA strength"), strength,
                                          getattr(slider, "minimum", None), getattr(slider, "maximum", None))
        return lenient.run_problems(self.form, values, self.ctx.jobs.policy, batch_count=batch_count,
                                    max_batch_count=MAX_BATCH_COUNT, extra=extra)

    async def generate(self, request: gr.Request, lang, random_seed, batch_count, *values):
        """Inputs: lang, random seed, batch count, every field[, LoRA, LoRA strength], styles[, browser id];
        outputs as :meth:`outputs_for` plus this run's job ids (for Interrupt)."""
        lang = lang or DEFAULT_LANGUAGE
        browser_id = None
        if user_inputs(self.ctx):
            *values, browser_id = values
        *values, styles = values
        lora = strength = None
        if self.picker:
            *values, lora, strength = values
        if not self.template:
            yield (*self.outputs_for(self._stopped(tr(self.error, lang), {}, lang), self.form), gr.skip())
            return
        problems = self._problems(values, batch_count, lora, strength)
        if problems:
            yield (*self.outputs_for(lenient.stopped_update(problems, lang, self.ctx.names), self.form), gr.skip())
            return
        try:
            wanted, recorded = with_styles(self.form.collect(values), styles)  # the prompt wrapped by each style
        except WorkflowError as exc:
            yield (*self.outputs_for(self._stopped(describe(exc, lang=lang), {}, lang), self.form), gr.skip())
            return
        if random_seed and "seed" in wanted:
            wanted["seed"] = -1
        template, fields = self.template, self.fields
        if self.picker:
            try:
                template, fields, wanted = self.picker.apply(template, fields, wanted, lora, strength,
                                                             self.ctx.catalog.object_info_or_none())
            except WorkflowError as exc:
                text = describe(exc, lang=lang, names=self.ctx.names)
                errors = {exc.field: text} if exc.field else {}
                yield (*self.outputs_for(self._stopped(text, errors, lang), self.form), gr.skip())
                return
        run_request = RunRequest(template, fields, wanted, count=int(batch_count or 1),
                                 owner=current_user(request, browser_id), template_name="txt2img.json", kind="txt2img",
                                 recorded=recorded)
        ids = job_ids_output()
        async for update in run(self.ctx, run_request, lang):
            yield (*self.outputs_for(update, self.form), ids(update))


def _lay_out(h: Txt2Img) -> dict:
    """The controls column; returns the extra components by name."""
    ctx, info, f = h.ctx, h.object_info, h.by_name
    add = h.form.add
    parts = {}

    def one(name, **kw):
        field = f(name)
        return add(forms.build_field(ctx, h.template, field, info, **kw)) if field else None

    one("prompt", placeholder="Describe the picture you want", lines=3)
    one("negative", placeholder="What you do NOT want to see", lines=2)
    parts["styles"] = style_picker("txt2img")
    with gr.Row(equal_height=False):
        one("checkpoint", info="The model that paints the picture")
        for field in [x for x in h.fields if x.role in LORA_ROLES and not x.advanced]:
            add(forms.build_field(ctx, h.template, field, info))
    if h.picker:
        with gr.Row(equal_height=False):
            h.picker.build()
    with gr.Row(equal_height=False):
        one("seed", value=-1, minimum=-1, maximum=MAX_UI_SEED,
            info="Same seed + same settings = same picture")
        with gr.Column(min_width=120):
            parts["random_seed"] = gr.Checkbox(label="Random seed", value=True)
            parts["reuse_seed"] = gr.Button("♻ Reuse last seed", size="sm")
    w, hgt = f("width"), f("height")
    if w and hgt:
        parts["size_preset"] = size_dropdown(w.default, hgt.default)
    with gr.Row(equal_height=False):
        one("width")
        one("height")
    with gr.Row(equal_height=False):
        one("steps", info="More steps: slower, often more detail")
        one("cfg", info="How strictly to follow the prompt")
    with gr.Row(equal_height=False):
        one("sampler")
        one("scheduler")
    with gr.Row(equal_height=False):
        one("batch_size", info="Pictures per job")
        with gr.Column(min_width=160):
            parts["batch_count"] = lenient.Slider(1, MAX_BATCH_COUNT, value=1, step=1, label="Batch count",
                                             info="Jobs one after another")
    shown = {i.field.name for i in h.form.items}
    forms.build_form(ctx, h.template, h.fields, info, form=h.form, skip=shown, advanced_only=True)
    parts["presets"] = presets_panel(ctx, "txt2img", h.form, parts, h.picker)
    return parts


def build_tab(ctx) -> TabHandles:
    """Create the "Text to image" tab inside the current Blocks context."""
    h = Txt2Img(ctx, Path(ctx.workflows_dir) / "txt2img.json")
    with gr.Tab("Text to image", id="txt2img") as tab:
        generate_btn, interrupt_btn, _ = action_bar("txt2img")
        with gr.Row(equal_height=False, elem_classes=["app-columns"]):
            with gr.Column(scale=1, min_width=300):
                parts = _lay_out(h)
            with gr.Column(scale=1, min_width=300):
                progress = gr.Markdown("Ready.", elem_id="txt2img-progress")
                message = message_box("txt2img", h.error)
                retry_btn = h.retry_btn = retry_button("txt2img-retry")
                preview = h.preview = preview_image()
                gallery = gr.Gallery(label="Images", format="png", type="filepath", columns=2,
                                     interactive=False, elem_id="txt2img-gallery",
                                     buttons=["download", "fullscreen"])
                send_btn = gr.Button("Send to inpainting", size="sm")
                result_actions.for_gallery(ctx, gallery, "txt2img")  # Upscale, Vary, Extend, Compare
        last_seed = gr.State(None)
        selected = gr.State(None)
        job_ids = gr.State([])  # the store's ids of this page's current run (for Interrupt)
    seed_item = h.form.get("seed")
    seed_box = seed_item.component if seed_item else gr.State(None)
    picker = h.picker.components if h.picker else []
    outputs = [progress, preview, gallery, message, seed_box, *h.form.errors, *(h.picker.errors if h.picker else []),
               last_seed, selected, retry_btn]  # fmt: skip
    reattach = wire_reattach(ctx, "txt2img", outputs, lambda u: h.outputs_for(u, h.form), job_ids)
    inputs = [ctx.lang, parts.get("random_seed"), parts["batch_count"], *h.form.components, *picker, parts["styles"],
              *user_inputs(ctx)]
    event = generate_btn.click(
        api_handler(h.generate, inputs, [*outputs, job_ids], summary=ENDPOINTS["generate"].summary, forms=[h.form],
                    names={ctx.lang: "lang"}, pairs=zip(picker, h.picker.errors) if h.picker else ()),
        inputs=inputs, outputs=[*outputs, job_ids], api_name="generate", concurrency_limit=None,
        show_progress="hidden", cancels=[reattach] if reattach else None,
    )  # fmt: skip
    interrupt_btn.click(interrupt_handler(ctx), inputs=[ctx.lang, job_ids, *user_inputs(ctx)],
                        outputs=[progress, message], cancels=[e for e in (event, reattach) if e],
                        api_name="interrupt", concurrency_limit=None)
    retry_event = wire_retry(ctx, retry_btn, outputs, lambda u: h.outputs_for(u, h.form), job_ids,
                             api_name="retry", cancels=[reattach], stopped_by=[generate_btn])
    parts["reuse_seed"].click(reuse_seed, inputs=[last_seed], outputs=[seed_box, parts["random_seed"]],
                              api_name="reuse_seed", concurrency_limit=None)
    gallery.select(select_image, inputs=[gallery], outputs=[selected], api_visibility="private",
                   concurrency_limit=None)
    if "size_preset" in parts:
        wire_size(h.form, parts["size_preset"], ctx.lang)
    h.form.wire_range_checks(ctx.lang, skip=("width", "height"))
    choice_items = h.form.choice_items()

    def refresh(lang=DEFAULT_LANGUAGE):
        return [*h.form.choice_updates(ctx), *(h.picker.refresh(lang) if h.picker else [])]

    refresh.wants_lang = True  # build_app passes the page's language ("(none)" of the LoRA list)
    parts.update(form=h.form, gallery=gallery, send_to_inpaint=send_btn, selected_image=selected, message=message,
                 progress=progress, generate=generate_btn, interrupt=interrupt_btn, generate_event=event,
                 job_ids=job_ids, reattach_event=reattach, retry=retry_btn, retry_event=retry_event,
                 lora_picker=h.picker)
    for name in ("checkpoint", "prompt", "negative", "seed", "width", "height"):
        if h.form.get(name):
            parts[name] = h.form.get(name).component
    return TabHandles(tab=tab, needs_server=[generate_btn], refresh=refresh,
                      refresh_outputs=[i.component for i in choice_items] + picker, parts=parts)
