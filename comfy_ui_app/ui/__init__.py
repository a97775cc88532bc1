"""The Gradio web app: ``build_app(comfy, workflows_dir=..., output_dir=...)``.

Importing this module has no side effects; nothing per-user lives in module
globals (only in handler locals and small ``gr.State`` values).
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from . import txt2img
from .status import StatusChecker, banner_markdown

__all__ = ["build_app", "STATUS_POLL_S"]

STATUS_POLL_S = 3.0   # how often an open page re-checks that ComfyUI is reachable


def build_app(comfy, *, workflows_dir, output_dir) -> gr.Blocks:
    """Build the Blocks for one ComfyUI server.

    ``comfy`` is a started ``comfy_ui_app.Comfy``; ``workflows_dir`` holds the
    workflow templates (``txt2img.json``); generated PNGs are saved under
    ``output_dir/<job id>/`` (pass it to ``launch(allowed_paths=[...])``).
    """
    workflows_dir = Path(workflows_dir)
    output_dir = Path(output_dir)
    checker = StatusChecker(comfy)

    with gr.Blocks(title="ComfyUI") as demo:
        gr.Markdown("# ComfyUI — simple mode")
        banner = gr.Markdown(banner_markdown(checker.initial()), elem_id="server-status")
        server_ok = gr.State(False)
        with gr.Tabs():
            t2i = txt2img.build_tab(comfy, workflows_dir=workflows_dir, output_dir=output_dir)
        timer = gr.Timer(STATUS_POLL_S)

        outputs = [banner, server_ok, t2i.generate_btn, t2i.checkpoint]

        def updates(status, was_ok: bool, refresh_lists: bool):
            lists = t2i.handlers.checkpoint_update() if status.ok and refresh_lists else gr.skip()
            return (banner_markdown(status), status.ok, gr.Button(interactive=status.ok), lists)

        def on_load(was_ok):
            return updates(checker.get(fresh=True), was_ok, True)

        def on_tick(was_ok):
            status = checker.get()
            # Fill the checkpoint list again when the server comes back.
            return updates(status, was_ok, status.ok and not was_ok)

        demo.load(on_load, inputs=[server_ok], outputs=outputs, api_name="server_status",
                  concurrency_limit=None, show_progress="hidden")
        timer.tick(on_tick, inputs=[server_ok], outputs=outputs, api_visibility="private",
                   concurrency_limit=None, show_progress="hidden")
    return demo
