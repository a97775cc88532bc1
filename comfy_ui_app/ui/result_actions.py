""""Do more with this picture": Upscale, Vary, Extend and Compare under a gallery of results.

One call per tab, under its gallery: :func:`for_gallery` (Text to image, Inpainting, Custom workflow;
History can use it on its opened job's gallery too), or :func:`for_job` where the picture is named by a
job id (the job's first picture, or the one an index component names). The panel:

* **Upscale** with an upscale model the server has, or a pixel upscale (Lanczos), or a "hires fix"
  (latent upscale, redrawn at a low denoise); factor 1.5×–4×, refused past the user's ``--max-pixels``
  and the app's ceiling (:data:`~comfy_ui_app.ui._result_runs.RESULT_CEILING`);
* **Vary**: the same prompt and settings (read from the picture), a new seed, "Subtle" or "Strong";
* **Extend** (outpainting) on the chosen sides by 64–512 pixels; the new border is the mask;
* **Compare** the last two pictures clicked in the gallery with a slider (``gr.ImageSlider``); every
  action's result is shown "before / after" against its picture the same way.

Each action is a bundled template run as an ordinary job (:mod:`comfy_ui_app.ui._result_runs`): recorded
in History, in the fair queue, stopped by the panel's Stop. The picture acted on is checked to be the
caller's (:mod:`comfy_ui_app.ui._result_source`). The three actions are API endpoints
``<tab>_upscale``, ``<tab>_vary``, ``<tab>_extend`` (undocumented: callable, not listed).
"""
from __future__ import annotations

import anyio
import gradio as gr

from comfy_ui_app.texts.i18n import DEFAULT_LANGUAGE, tr
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui._result_runs import MODEL, ResultRuns
from comfy_ui_app.ui._result_source import acted_on, gallery_paths, item_path
from comfy_ui_app.ui.context import caller_ids, current_user
from comfy_ui_app.ui.form import error_md
from comfy_ui_app.ui.runner import interrupt_handler, job_ids_output, progress_markdown, run, user_inputs
from comfy_ui_app.workflow import result_templates as rt

__all__ = ["for_gallery", "for_job", "ResultPanel"]

FACTOR_CHOICES = [("1.5×", 1.5), ("2×", 2.0), ("3×", 3.0), ("4×", 4.0)]
SIDE_CHOICES = [("Left", "left"), ("Right", "right"), ("Top", "top"), ("Bottom", "bottom")]
METHOD_CHOICES = [("Upscale model", MODEL), ("Pixels (Lanczos)", rt.PIXELS),
                  ("Hires fix (latent, redraws detail)", rt.LATENT)]
STRENGTH_CHOICES = [("Subtle", "subtle"), ("Strong", "strong")]


class ResultPanel:
    """The panel's components and handlers for one tab (``key``: "txt2img", "inpaint", "custom"…)."""

    def __init__(self, ctx, key: str) -> None:
        self.ctx, self.key = ctx, key
        self.runs = ResultRuns(ctx)

    def build(self, *, compare: bool = True) -> None:
        k = self.key
        with gr.Accordion("Do more with this picture", open=False, elem_id=f"{k}-results",
                          elem_classes=["result-actions"]):
            gr.Markdown("Click a picture above, then choose what to do with it. Each result is a new job, "
                        "kept in History.", elem_classes=["result-hint"])
            self.picture = gr.Textbox(visible=False, label="Picture", elem_id=f"{k}-results-picture")
            with gr.Row(equal_height=True):
                self.method = gr.Radio(METHOD_CHOICES, value=rt.PIXELS, label="Upscale with", min_width=200,
                                       elem_classes=["i18n-choices"])
                self.model = gr.Dropdown(self.runs.upscale_models(), label="Upscale model", min_width=140,
                                         allow_custom_value=False)
                self.factor = gr.Dropdown(FACTOR_CHOICES, value=2.0, label="Factor", min_width=90)
                self.upscale_btn = gr.Button("Upscale", size="sm", min_width=90, elem_id=f"{k}-results-upscale")
            with gr.Row(equal_height=True):
                self.strength = gr.Radio(STRENGTH_CHOICES, value="subtle", label="Vary strength", min_width=160,
                                         elem_classes=["i18n-choices"])
                self.vary_btn = gr.Button("Vary", size="sm", min_width=90, elem_id=f"{k}-results-vary")
            with gr.Row(equal_height=True):
                self.sides = gr.CheckboxGroup(SIDE_CHOICES, value=["right"], label="Extend sides", min_width=160,
                                              elem_classes=["i18n-choices"])
                self.pixels = gr.Slider(*rt.EXTEND_PIXELS, value=128, step=8, label="Border (pixels)", min_width=120)
                self.extend_btn = gr.Button("Extend", size="sm", min_width=90, elem_id=f"{k}-results-extend")
            with gr.Row():
                self.compare_btn = gr.Button("Compare the last two clicked", size="sm", visible=compare,
                                             elem_id=f"{k}-results-compare-btn")
                self.stop_btn = gr.Button("Stop", variant="stop", size="sm", min_width=90)
            self.progress = gr.Markdown("", elem_id=f"{k}-results-progress")
            self.message = gr.Markdown("", elem_classes=["field-error"], elem_id=f"{k}-results-message")
            self.result = gr.Image(label="Result", type="filepath", format="png", interactive=False, height=256,
                                   elem_id=f"{k}-results-image", buttons=["download", "fullscreen"])
            self.slider = gr.ImageSlider(label="Before / after", type="filepath", format="png", interactive=False,
                                         max_height=400, elem_id=f"{k}-results-compare")
            self.picks = gr.State([])
            self.job_ids = gr.State([])

    @property
    def outputs(self) -> list:
        return [self.progress, self.message, self.result, self.slider, self.job_ids]

    def _stopped(self, text: str, lang) -> tuple:
        return progress_markdown(tr("Stopped", lang)), error_md(text), gr.skip(), gr.skip(), gr.skip()

    async def act(self, action: str, request: gr.Request, lang, ref, options: dict, browser_id=None):
        """Stream one action: progress, message, result picture, before / after, job ids."""
        lang = lang or DEFAULT_LANGUAGE
        owner = current_user(request, browser_id)
        try:
            prepared = await anyio.to_thread.run_sync(self.runs.prepare, action, caller_ids(request, browser_id),
                                                      owner, ref, options)
        except Exception as exc:  # noqa: BLE001 - a plain sentence next to the buttons, never a traceback
            yield self._stopped(describe(exc, lang=lang, names=self.ctx.names), lang)
            return
        before, ids = str(prepared.source.path), job_ids_output()
        async for update in run(self.ctx, prepared.request, lang):
            after = next((p for p in reversed(update.gallery or []) if str(p).lower().endswith(".png")), None)
            text = update.message if update.final and not update.ok else ""
            yield (update.progress if update.progress is not None else gr.skip(),
                   error_md(text) if text else ("" if update.final else gr.skip()),
                   after if update.final and after else gr.skip(),
                   (before, after) if update.final and after else gr.skip(), ids(update))

    def compare(self, lang, picks, gallery):
        """The last two pictures clicked, side by side (message, slider)."""
        shown = gallery_paths(gallery)
        chosen = [p for p in (picks if isinstance(picks, list) else []) if p in shown][-2:]
        if len(chosen) < 2:
            return error_md(tr("Click two pictures of the gallery first, then Compare.", lang)), gr.skip()
        return "", tuple(chosen)

    def wire(self, ref_inputs: list, to_ref) -> None:
        """The actions' events; ``to_ref(*values of ref_inputs)`` names the picture."""
        common = dict(outputs=self.outputs, concurrency_limit=None, show_progress="hidden",
                      api_visibility="undocumented")
        extra = user_inputs(self.ctx)
        n = len(ref_inputs)

        def handler(action, names):
            async def handle(request: gr.Request, lang, *values):
                refs, opts, rest = values[:n], values[n:n + len(names)], values[n + len(names):]
                async for out in self.act(action, request, lang, to_ref(*refs), dict(zip(names, opts)),
                                          rest[0] if rest else None):
                    yield out
            return handle

        events = [
            self.upscale_btn.click(handler("upscale", ("method", "model", "factor")),
                                   [self.ctx.lang, *ref_inputs, self.method, self.model, self.factor, *extra],
                                   api_name=f"{self.key}_upscale", **common),
            self.vary_btn.click(handler("vary", ("strength",)), [self.ctx.lang, *ref_inputs, self.strength, *extra],
                                api_name=f"{self.key}_vary", **common),
            self.extend_btn.click(handler("extend", ("sides", "pixels")),
                                  [self.ctx.lang, *ref_inputs, self.sides, self.pixels, *extra],
                                  api_name=f"{self.key}_extend", **common),
        ]
        self.stop_btn.click(interrupt_handler(self.ctx), [self.ctx.lang, self.job_ids, *extra],
                            [self.progress, self.message], cancels=events, api_name=f"{self.key}_stop",
                            api_visibility="private", concurrency_limit=None)  # named: "interrupt" is the tab's
        # the server's upscale models, asked when "Upscale model" is chosen (nothing more to load with the page)
        self.method.change(self.models_update, [self.method], [self.model], api_visibility="private",
                           show_progress="hidden", concurrency_limit=None)

    def models_update(self, method):
        if method != MODEL:
            return gr.skip()
        models = self.runs.upscale_models()
        return gr.update(choices=models, value=models[0] if models else None)


def for_gallery(ctx, gallery, key: str) -> ResultPanel:
    """The panel under ``gallery`` (call inside the tab, where the panel goes); the picture is the
    last one clicked, else the gallery's first."""
    panel = ResultPanel(ctx, key)
    panel.build()

    def remember(gallery_value, picks, evt: gr.SelectData):
        items = list(gallery_value or [])
        if evt is None or not isinstance(evt.index, int) or not 0 <= evt.index < len(items):
            return gr.skip(), gr.skip()
        path = item_path(items[evt.index])
        return path or gr.skip(), ([*(picks or []), path][-2:] if path else gr.skip())

    gallery.select(remember, [gallery, panel.picks], [panel.picture, panel.picks], api_visibility="private",
                   concurrency_limit=None, show_progress="hidden")
    panel.compare_btn.click(panel.compare, [ctx.lang, panel.picks, gallery], [panel.message, panel.slider],
                            api_visibility="private", concurrency_limit=None, show_progress="hidden")
    # New results make the first picture the one acted on again: a click remembered from earlier results
    # counts only while its picture is still in the gallery (no event on the gallery's change, which would
    # cost every Generate two more round trips and the page two more passes over its loading states).
    panel.wire([panel.picture, gallery], acted_on)
    return panel


def for_job(ctx, job, key: str = "history", index=None) -> ResultPanel:
    """The panel for a job named by the component ``job`` (its id); ``index``: a component holding
    which of its pictures (else the first). Compare then needs the gallery: use :func:`for_gallery`."""
    panel = ResultPanel(ctx, key)
    panel.build(compare=False)
    inputs = [job] + ([index] if index is not None else [])

    def to_ref(job_id, i=0):
        whole = isinstance(i, (int, float)) and not isinstance(i, bool) and float(i).is_integer()
        return {"job_id": job_id, "index": int(i) if whole else 0}

    panel.wire(inputs, to_ref)
    return panel
