"""The Gradio web app: ``build_app(comfy, workflows_dir=..., output_dir=...)``.

Importing this module has no side effects; nothing per-user lives in module
globals (only in handler locals and small ``gr.State`` values).
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..i18n import DEFAULT_LANGUAGE
from . import txt2img
from .context import AppContext, ServerInfo
from .i18n import install_language_switch, language_picker
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
        lang = gr.State(DEFAULT_LANGUAGE)  # this browser tab's language code (ctx.lang)
        with gr.Row(equal_height=True, elem_id="page-header"):
            gr.Markdown("# ComfyUI — simple mode")
            picker = language_picker()
        # Tabs are built with build_tab(ctx); ctx.lang is the language above.
        ctx = AppContext(comfy, workflows_dir, output_dir, ServerInfo(comfy), lang)
        banner = gr.Markdown(banner_markdown(checker.initial()), elem_id="server-status")
        server_ok = gr.State(False)
        with gr.Tabs():
            t2i = txt2img.build_tab(ctx)
        timer = gr.Timer(STATUS_POLL_S)

        outputs = [banner, server_ok, *t2i.needs_server, *t2i.refresh_outputs]

        def updates(status, was_ok: bool, refresh_lists: bool, lang_code: str):
            if status.ok and refresh_lists:
                lists = t2i.refresh()
            else:
                lists = [gr.skip() for _ in t2i.refresh_outputs]
            return (banner_markdown(status, lang_code), status.ok,
                    *[gr.Button(interactive=status.ok) for _ in t2i.needs_server], *lists)

        def on_load(was_ok, lang_code):
            return updates(checker.get(fresh=True), was_ok, True, lang_code)

        def on_tick(was_ok, lang_code):
            status = checker.get()
            # Fill the checkpoint list again when the server comes back.
            return updates(status, was_ok, status.ok and not was_ok, lang_code)

        def banner_in_language(lang_code):
            return banner_markdown(checker.get(), lang_code)

        demo.load(on_load, inputs=[server_ok, lang], outputs=outputs, api_name="server_status",
                  concurrency_limit=None, show_progress="hidden")
        timer.tick(on_tick, inputs=[server_ok, lang], outputs=outputs, api_visibility="private",
                   concurrency_limit=None, show_progress="hidden")
        # Last: the switch relabels every block built above and leaves alone what
        # handlers write (so it must see every event; wire cross-tab events before it).
        install_language_switch(demo, lang, picker).then(
            banner_in_language, inputs=[lang], outputs=[banner], api_visibility="private",
            concurrency_limit=None, show_progress="hidden")
    return demo
