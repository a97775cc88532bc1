"""The Gradio web app: ``build_app(cluster, jobs, workflows_dir=..., output_dir=...)``.

One builder per tab (``build_tab(ctx) -> TabHandles``, each in its own module); this
module only puts them side by side and wires what crosses tabs: the server-status
banner, "Send to inpainting" and "Load parameters" from the history (``_crosstab``), the result
actions under History's opened job (``result_actions``),
the language switch. A tab's ``refresh`` marked ``wants_lang`` gets the page's language
(choices with words of their own, like the LoRA list's "(none)"). Importing it has no
side effects; nothing per-user lives in module globals (only in handler locals and
small ``gr.State`` / ``gr.BrowserState`` values).
"""
from __future__ import annotations

import secrets
from pathlib import Path

import gradio as gr

from comfy_ui_app.cluster.cluster import Cluster
from comfy_ui_app.texts.i18n import DEFAULT_LANGUAGE
from comfy_ui_app.jobs.identity import BrowserIds
from comfy_ui_app.jobs.service import JobService
from comfy_ui_app.ui import _crosstab
from comfy_ui_app.ui import custom_tab as custom
from comfy_ui_app.ui import history_tab
from comfy_ui_app.ui import inpaint_tab as inpaint
from comfy_ui_app.ui import queue_tab
from comfy_ui_app.ui import result_actions
from comfy_ui_app.ui import system_tab
from comfy_ui_app.ui import templates_tab
from comfy_ui_app.ui import txt2img_tab as txt2img
from comfy_ui_app.ui._blocks import Blocks
from comfy_ui_app.ui.context import AppContext, ServerCatalog
from comfy_ui_app.ui.identity import BrowserIdState, issue_browser_id
from comfy_ui_app.ui.language_switch import install_language_switch, language_picker
from comfy_ui_app.ui.notify import notify_controls
from comfy_ui_app.ui.status import StatusChecker, banner_markdown

__all__ = ["build_app", "STATUS_POLL_S"]

#: Gradio's temp files (``delete_cache``): every half hour, those older than 6 hours go. A page kept open
#: longer shows its pictures again from History; an upload older than that is picked again.
GRADIO_CACHE_CLEANING = (30 * 60, 6 * 3600)

STATUS_POLL_S = 3.0   # how often an open page re-checks that ComfyUI is reachable


def build_app(cluster: Cluster, jobs: JobService, *, workflows_dir, output_dir, browser_secret: str | None = None,
              identity_key: bytes | str | None = None, hf_login: bool = False, local_comfyui=None) -> gr.Blocks:
    """Build the Blocks over a started ``Cluster`` of ComfyUI servers (one server too) and the
    ``JobService`` that records every job there (as :mod:`comfy_ui_app.assembly` builds them).

    ``workflows_dir`` holds the workflow templates; ``browser_secret`` scrambles the browser id in
    localStorage (Gradio publishes it in ``/config``: it protects nothing); ``identity_key`` signs the
    browser ids the page issues (``ui.identity``; never published; None: a key of this process's
    own, so ids do not survive a restart); ``hf_login`` adds "Sign in with Hugging Face" (Spaces OAuth:
    see ``current_user``). Pass ``output_dir`` and ``jobs.store.outputs_dir`` to
    ``launch(allowed_paths=...)``. ``local_comfyui`` (a ``managed.LocalComfyUI`` the app started)
    lets the banner say "Starting ComfyUI…" / "restarting…" / why it failed instead of "cannot reach".
    """
    workflows_dir = Path(workflows_dir)
    output_dir = Path(output_dir)
    checker = StatusChecker(cluster, local=local_comfyui, hide_paths=jobs.policy.public)

    # gr.Blocks whose skipped outputs cost nothing (_blocks.py); no usage statistics to Gradio's servers;
    # Gradio's copies of uploads and shown pictures are deleted once old (the job store keeps the outputs)
    with Blocks(title="ComfyUI", analytics_enabled=False, delete_cache=GRADIO_CACHE_CLEANING) as demo:
        lang = gr.State(DEFAULT_LANGUAGE)  # this browser tab's language code (ctx.lang)
        ids = BrowserIds(identity_key or secrets.token_bytes(32))
        browser_id = BrowserIdState("", storage_key="comfy-ui-browser-id", secret=browser_secret, ids=ids)
        with gr.Row(equal_height=True, elem_id="page-header"):
            gr.Markdown("# ComfyUI — simple mode")
            if hf_login:  # on a Space with ``hf_oauth: true``: jobs follow the account, not the browser
                gr.LoginButton(elem_id="hf-login", scale=0)
            notify_controls()  # "tell me when a job ends": the tab title, a notification, a chime (ui.notify)
            picker = language_picker()
        ctx = AppContext(cluster, jobs, workflows_dir, output_dir, ServerCatalog(cluster), lang, browser_id)
        banner = gr.Markdown(banner_markdown(checker.initial()), elem_id="server-status")
        server_ok = gr.State(False)
        with gr.Tabs() as tabs:
            t2i = txt2img.build_tab(ctx)
            inp = inpaint.build_tab(ctx)
            tpl = templates_tab.build_tab(ctx)   # "what do you want to make?": opens in the Custom workflow tab
            cw = custom.build_tab(ctx)
            queue = queue_tab.build_tab(ctx)
            history = history_tab.build_tab(ctx)
            system = system_tab.build_tab(ctx)
        timer = gr.Timer(STATUS_POLL_S)
        handles = [t2i, inp, tpl, cw, queue, history, system]
        _wire_status(demo, ctx, checker, handles, banner, server_ok, timer)
        _crosstab.wire(ctx, t2i, inp, cw, history, tabs)
        templates_tab.wire_opening(ctx, tpl, cw, tabs)
        with history.parts["actions_slot"]:  # Upscale, Vary, Extend, Compare under the opened job's pictures
            result_actions.for_gallery(ctx, history.parts["outputs"], "history")
        _timers_follow_tabs(handles)
        demo.load(issue_browser_id(browser_id), inputs=[browser_id], outputs=[browser_id], api_visibility="private",
                  concurrency_limit=None, show_progress="hidden")

        def banner_in_language(lang_code):
            return banner_markdown(checker.get(), lang_code)

        # Last: the switch relabels every block built above and leaves alone what
        # handlers write (so it must see every event; wire cross-tab events before it).
        switch = install_language_switch(demo, lang, picker)
        switch.then(banner_in_language, inputs=[lang], outputs=[banner], api_visibility="private",
                    concurrency_limit=None, show_progress="hidden")
        lora_picker = t2i.parts.get("lora_picker")
        if lora_picker is not None:  # "(none)" in the new language
            switch.then(lora_picker.relabel, inputs=[lang], outputs=[lora_picker.dropdown], api_visibility="private",
                        concurrency_limit=None, show_progress="hidden")
    return demo


def _timers_follow_tabs(handles: list) -> None:
    """A tab's timers tick only while it is shown: selecting a tab starts its own and stops
    every other tab's (an idle page polls nothing)."""
    timers = [(h.tab, timer) for h in handles for timer in h.timers]
    if not timers:
        return
    outputs = [timer for _, timer in timers]
    for h in handles:
        if h.tab is None:
            continue

        def on_select(shown=h.tab):
            return [gr.Timer(active=owner is shown) for owner, _ in timers]

        on_select.__name__ = "tab_timers"
        h.tab.select(on_select, None, outputs, api_visibility="private", show_progress="hidden", queue=False)


def _as_list(updates) -> list:
    return list(updates) if isinstance(updates, (list, tuple)) else [updates]


def _refresh(handles, lang_code: str):
    refresh = handles.refresh
    return refresh(lang_code) if getattr(refresh, "wants_lang", False) else refresh()


def _wire_status(demo, ctx, checker, handles, banner, server_ok, timer) -> None:
    """Banner, Generate buttons and server-driven choices follow the server's health."""
    needs = [b for h in handles for b in h.needs_server]
    lists = [c for h in handles for c in h.refresh_outputs]
    outputs = [banner, server_ok, *needs, *lists]

    def updates(status, refresh_lists: bool, lang_code: str, buttons: bool = True):
        if status.ok and refresh_lists:
            ctx.catalog.forget()  # the server came back, maybe with other models
            fresh = [u for h in handles if h.refresh for u in _as_list(_refresh(h, lang_code))]
        else:
            fresh = [gr.skip() for _ in lists]
        return (banner_markdown(status, lang_code), status.ok,
                *[gr.Button(interactive=status.ok) if buttons else gr.skip() for _ in needs], *fresh)

    def on_load(was_ok, lang_code):
        return updates(checker.get(fresh=True), True, lang_code)

    def on_tick(was_ok, lang_code):
        # The buttons only when the server's state changed: each update of a component costs the
        # page a pass over its component tree, and a tick may land in the middle of a run (bench clicks).
        status = checker.get()
        return updates(status, status.ok and not was_ok, lang_code, buttons=status.ok != bool(was_ok))

    demo.load(on_load, inputs=[server_ok, ctx.lang], outputs=outputs, api_name="server_status",
              concurrency_limit=None, show_progress="hidden")
    timer.tick(on_tick, inputs=[server_ok, ctx.lang], outputs=outputs, api_visibility="private",
               concurrency_limit=None, show_progress="hidden")
