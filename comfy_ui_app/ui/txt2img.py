"""First tab: "Text to image".

``Txt2Img`` holds only things shared by every user (the Comfy connection, the
workflow template, the output folder).  Everything about one user's run lives in
the locals of the ``generate`` handler.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
import gradio as gr

from .. import (
    Executing,
    Finished,
    JobInterrupted,
    Output,
    Preview,
    Progress,
    Queued,
    Started,
    WorkflowError,
    apply_values,
    load_workflow,
    workflow_defaults,
)
from ..cli import choose_checkpoint
from ..messages import describe
from .jobfeed import END, Failure, feed, interrupt_quietly
from .status import md_escape

PREVIEW_INTERVAL_S = 0.25      # at most 4 preview images per second per user
JOB_SILENCE_TIMEOUT_S = 900.0  # give up on a job after this long without any news
MAX_SEED = 2**53 - 1           # seeds a browser can show exactly (JS numbers)


def snap8(value, low: int = 64, high: int = 2048) -> int:
    """Round to the nearest multiple of 8 inside [low, high]."""
    v = int(round(float(value) / 8.0)) * 8
    return max(low, min(high, v))


def pick_seed(seed, random_seed: bool) -> int:
    if random_seed or seed is None or float(seed) < 0:
        return secrets.randbelow(MAX_SEED + 1)
    return int(seed)


def progress_markdown(phase: str, node: str = "", step: str = "") -> str:
    parts = [f"**{md_escape(phase)}**"]
    if node:
        parts.append(md_escape(node))
    if step:
        parts.append(md_escape(step))
    return " · ".join(parts)


def step_text(update) -> str:
    pct = int(round(100 * update.value / update.max)) if update.max else 0
    text = f"step {update.value}/{update.max} · {pct}%"
    if update.eta_s is not None:
        text += f" · ETA {max(0, round(update.eta_s))} s"
    return text


class Txt2Img:
    """Handlers for the tab; shared by all users, holds no per-user state."""

    def __init__(self, comfy, *, workflow_path: Path, output_dir: Path) -> None:
        self.comfy = comfy
        self.output_dir = Path(output_dir)
        self.template: dict | None = None
        self.template_error: str | None = None
        try:
            self.template = load_workflow(Path(workflow_path))
            self.defaults = workflow_defaults(self.template)
        except Exception as exc:  # noqa: BLE001 - shown on the page instead
            if isinstance(exc, FileNotFoundError) or not Path(workflow_path).exists():
                self.template_error = f"Workflow template not found: {workflow_path}"
            else:
                self.template_error = describe(exc)
            self.defaults = {}

    # ----- checkpoints -------------------------------------------------------------
    def checkpoint_update(self):
        """Dropdown update with the server's checkpoints (skip if it can't be read)."""
        try:
            names = list(self.comfy.client.models("checkpoints"))
        except Exception:  # noqa: BLE001 - the banner already explains
            return gr.skip()
        value = choose_checkpoint(self.defaults.get("checkpoint"), names)
        return gr.Dropdown(choices=names, value=value)

    # ----- generate ----------------------------------------------------------------
    def _values(self, prompt, negative, seed, steps, cfg, width, height, checkpoint) -> dict:
        wanted = {
            "prompt": prompt or "",
            "negative": negative or "",
            "seed": seed,
            "steps": int(steps),
            "cfg": float(cfg),
            "width": snap8(width),
            "height": snap8(height),
        }
        if checkpoint:
            wanted["checkpoint"] = checkpoint
        # Only set what this template has, so a custom template without e.g. a
        # negative prompt still works.
        return {k: v for k, v in wanted.items() if k in self.defaults}

    async def generate(self, prompt, negative, seed, random_seed, steps, cfg, width, height,
                       checkpoint):
        """Outputs: progress line, preview image, gallery, message, seed used."""
        job = None
        finished = False
        gallery: list[str] = []
        saved: set[tuple] = set()
        used_seed = gr.skip()
        try:
            if self.template is None:
                raise WorkflowError(self.template_error or "No workflow template.")
            used_seed = pick_seed(seed, bool(random_seed))
            if not checkpoint and "checkpoint" in self.defaults:
                # Page not refreshed yet (or an API call): same rule as the dropdown.
                names = await anyio.to_thread.run_sync(self.comfy.client.models, "checkpoints")
                checkpoint = choose_checkpoint(self.defaults["checkpoint"], names)
            values = self._values(prompt, negative, used_seed, steps, cfg, width, height,
                                  checkpoint)
            filled = apply_values(self.template, values)
            yield progress_markdown("Sending to ComfyUI…"), None, [], "", used_seed
            job = await anyio.to_thread.run_sync(self.comfy.submit, filled)
            job_dir = self.output_dir / str(job.prompt_id)
            phase, node, step = "Queued", "", ""
            held: Preview | None = None
            last_preview = 0.0

            def wait_preview():
                if held is None:
                    return None
                return max(0.0, PREVIEW_INTERVAL_S - (time.monotonic() - last_preview))

            yield progress_markdown(phase), gr.skip(), gr.skip(), "", gr.skip()
            async for batch in feed(job, JOB_SILENCE_TIMEOUT_S, wait_preview):
                done: Finished | None = None
                for item in batch:
                    if item is END:
                        continue
                    if isinstance(item, Failure):
                        raise item.exc
                    if isinstance(item, Queued):
                        phase = "Queued"
                        node = ("next to run" if item.position == 0 else
                                f"position {item.position} in line" if item.position else "")
                    elif isinstance(item, Started):
                        phase, node = "Running", ""
                    elif isinstance(item, Executing):
                        phase = "Running"
                        node = f"{item.class_type or 'node'} (node {item.node})"
                        step = ""
                    elif isinstance(item, Progress):
                        phase, step = "Running", step_text(item)
                    elif isinstance(item, Preview):
                        held = item
                    elif isinstance(item, Output):
                        await anyio.to_thread.run_sync(self._save, item.images, job_dir, saved,
                                                       gallery)
                    elif isinstance(item, Finished):
                        done = item
                preview_out = gr.skip()
                if held is not None and (done is not None or wait_preview() == 0.0):
                    preview_out = await anyio.to_thread.run_sync(held.to_pil)
                    held, last_preview = None, time.monotonic()
                if done is not None:
                    finished = True
                    if done.status == "success":
                        await anyio.to_thread.run_sync(self._save, done.images, job_dir, saved,
                                                       gallery)
                        note = (f"Done: {len(gallery)} image(s) saved." if gallery
                                else "Finished, but the workflow produced no images.")
                        yield (progress_markdown("Done", "", "100%"), preview_out, list(gallery),
                               note, used_seed)
                    else:
                        error = done.error or JobInterrupted(job.prompt_id)
                        yield (progress_markdown("Stopped"), preview_out, list(gallery),
                               describe(error), used_seed)
                    return
                yield (progress_markdown(phase, node, step), preview_out, list(gallery),
                       gr.skip(), gr.skip())
            finished = True  # stream ended without Finished: treat as lost
            yield progress_markdown("Stopped"), gr.skip(), list(gallery), \
                "ComfyUI stopped sending news about the job. Please try again.", used_seed
        except Exception as exc:  # noqa: BLE001 - always a plain message, never a traceback
            yield progress_markdown("Stopped"), gr.skip(), list(gallery), describe(exc), used_seed
        finally:
            # Reached on success, on errors, and when the user presses Interrupt
            # (Gradio cancels this handler): stop only THIS user's job.
            if job is not None and not finished:
                interrupt_quietly(job)

    def _save(self, images, job_dir: Path, saved: set, gallery: list) -> None:
        for img in images:
            key = (img.type, img.subfolder, img.filename)
            if key in saved:
                continue
            job_dir.mkdir(parents=True, exist_ok=True)
            gallery.append(str(img.save(job_dir)))
            saved.add(key)


@dataclass
class Txt2ImgTab:
    handlers: Txt2Img
    generate_btn: gr.Button
    interrupt_btn: gr.Button
    checkpoint: gr.Dropdown
    message: gr.Textbox
    generate_event: object


def build_tab(comfy, *, workflows_dir: Path, output_dir: Path) -> Txt2ImgTab:
    """Create the "Text to image" tab inside the current Blocks context."""
    h = Txt2Img(comfy, workflow_path=Path(workflows_dir) / "txt2img.json", output_dir=output_dir)
    d = h.defaults
    ckpt = d.get("checkpoint")
    with gr.Tab("Text to image", id="txt2img"):
        with gr.Row():
            with gr.Column(scale=1):
                prompt = gr.Textbox(label="Prompt", value=d.get("prompt", ""), lines=3,
                                    placeholder="Describe the picture you want")
                negative = gr.Textbox(label="Negative prompt", value=d.get("negative", ""),
                                      lines=2, placeholder="What you do NOT want to see")
                checkpoint = gr.Dropdown(label="Checkpoint", choices=[ckpt] if ckpt else [],
                                         value=ckpt, allow_custom_value=True,
                                         info="The model that paints the picture")
                with gr.Row():
                    seed = gr.Number(label="Seed", value=-1, precision=0, minimum=-1,
                                     maximum=MAX_SEED,
                                     info="Same seed + same settings = same picture")
                    random_seed = gr.Checkbox(label="Random seed", value=True)
                steps = gr.Slider(1, 150, value=int(d.get("steps", 20)), step=1, label="Steps",
                                  info="More steps: slower, often more detail")
                cfg = gr.Slider(0, 30, value=float(d.get("cfg", 7.0)), step=0.5, label="CFG",
                                info="How strictly to follow the prompt")
                with gr.Row():
                    width = gr.Slider(64, 2048, value=snap8(d.get("width", 512)), step=8,
                                      label="Width")
                    height = gr.Slider(64, 2048, value=snap8(d.get("height", 512)), step=8,
                                       label="Height")
                with gr.Row():
                    generate_btn = gr.Button("Generate", variant="primary")
                    interrupt_btn = gr.Button("Interrupt", variant="stop")
            with gr.Column(scale=1):
                progress = gr.Markdown("Ready.", elem_id="txt2img-progress")
                message = gr.Textbox(label="Message", interactive=False, lines=2,
                                     value=h.template_error or "", elem_id="txt2img-message")
                preview = gr.Image(label="Preview", type="pil", format="jpeg",
                                   interactive=False, height=256)
                gallery = gr.Gallery(label="Images", format="png", columns=2,
                                     interactive=False, elem_id="txt2img-gallery")
    event = generate_btn.click(
        h.generate,
        inputs=[prompt, negative, seed, random_seed, steps, cfg, width, height, checkpoint],
        outputs=[progress, preview, gallery, message, seed],
        api_name="generate",
        concurrency_limit=None,
        show_progress="hidden",
    )
    interrupt_btn.click(
        lambda: ("**Interrupted**", "Interrupted. The job was cancelled."),
        outputs=[progress, message],
        cancels=[event],
        api_name="interrupt",
        concurrency_limit=None,
    )
    return Txt2ImgTab(h, generate_btn, interrupt_btn, checkpoint, message, event)
