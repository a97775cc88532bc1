"""The "History" tab: a picture grid of a user's own jobs (an admin: everyone's), newest first.

* **The grid** (:mod:`comfy_ui_app.ui._history_grid`): a tile per job, 40 a page ("Newer",
  "Older", a page number box, "of N"), filtered by text in the prompt, ★ favourites, the tab that
  made the job and when (:mod:`comfy_ui_app.ui._history_filters`); queries in
  :mod:`comfy_ui_app.jobs.history_query`.
* **Clicking a tile opens its job** in place of the grid: its pictures full size, the video,
  audio, 3D and text players (:mod:`comfy_ui_app.ui._media_results`), its status, duration,
  error and parameters, and:

  - **☆ Star** / **★ Starred**: keep it among the favourites (the grid's filter; Clear my history
    keeps them);
  - **Load parameters** puts ``{"template", "kind", "values"}`` of the job into
    ``parts["parameters"]`` (a ``gr.State``); the app chains that click (``parts["load_event"]``,
    :mod:`comfy_ui_app.ui._crosstab`) to fill the job's tab and switch to it;
  - **Re-run** queues the very same prompt again as a new job of this user (same seed);
  - **Delete** removes the job and its files, and goes back to the grid.

  ``parts["actions_slot"]`` is an empty column under the opened job's pictures, and
  ``parts["selected_picture"]`` a ``gr.State`` with the picture selected there (the first one when
  the job opens): room for actions on a result (Upscale, Vary…) added by another module.
* **From elsewhere** (admins): ComfyUI prompts the app has no record of; clicking a row opens it.

The opened job's id is the hidden "Job" dropdown (``parts["picker"]``; its choices: the page's
jobs), which API callers use as the job's id (``history_open``, ``history_rerun``…). Thumbnails,
placeholders and outputs are files under ``store.outputs_dir`` and ``ctx.output_dir``: both must be in
``allowed_paths``.
"""
from __future__ import annotations

import gradio as gr

from comfy_ui_app.errors import ComfyError
from comfy_ui_app.jobs.service import NotAllowed
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui import _history_grid as grid
from comfy_ui_app.ui._history_filters import Filters, read_filter
from comfy_ui_app.ui._history_view import EXTERNAL_PREFIX, HEADERS, HistoryView
from comfy_ui_app.ui._lenient import Number, id_problem
from comfy_ui_app.ui._media_results import MediaResults, pictures
from comfy_ui_app.ui.context import TabHandles, current_user

__all__ = ["build_tab", "HistoryView", "PAGE_SIZE", "EXTERNAL_PREFIX"]

PAGE_SIZE = grid.PAGE_SIZE


def _job_panel():
    """The opened job's parts (hidden until a job is opened)."""
    with gr.Column(visible=False, elem_id="history-job-panel") as panel:
        with gr.Row(elem_id="history-job-bar"):
            back_btn = gr.Button("← All jobs", size="sm", elem_id="history-back")
            star_btn = gr.Button("☆ Star", size="sm", elem_id="history-star")
            unstar_btn = gr.Button("★ Starred", size="sm", visible=False, elem_id="history-unstar")
        detail = gr.Markdown("", elem_id="history-detail", elem_classes=["no-i18n"])
        outputs = gr.Gallery(label="Outputs", format="png", columns=2, object_fit="contain",
                             elem_id="history-outputs")
        with gr.Column(elem_id="history-result-actions") as actions_slot:
            pass  # room for actions on the selected picture (see the module docstring)
        media = MediaResults("history")  # a job's video, audio, 3D model, text, files
        params_view = gr.JSON(label="Parameters", elem_id="history-parameters")
        with gr.Row():
            load_btn = gr.Button("Load parameters", elem_id="history-load-parameters")
            rerun_btn = gr.Button("Re-run", variant="primary", elem_id="history-rerun")
            delete_btn = gr.Button("Delete", variant="stop", elem_id="history-delete")
    return dict(panel=panel, back=back_btn, star=star_btn, unstar=unstar_btn, detail=detail, outputs=outputs,
                actions_slot=actions_slot, media=media, params=params_view, load=load_btn, rerun=rerun_btn,
                delete=delete_btn)


def build_tab(ctx) -> TabHandles:
    view = HistoryView(ctx)
    with gr.Tab("History", id="history") as tab:
        with gr.Column(elem_id="history-browse") as browse:
            filters = Filters()
            with gr.Row(elem_id="history-paging"):
                newer_btn = gr.Button("Newer", size="sm", scale=0, min_width=70, elem_id="history-newer")
                page_box = Number(value=1, label="Page", precision=0, minimum=1, scale=0, min_width=90,
                                  elem_id="history-page-number")
                page_label = gr.Markdown("", elem_id="history-page", elem_classes=["no-i18n"], min_width=100)
                older_btn = gr.Button("Older", size="sm", scale=0, min_width=70, elem_id="history-older")
                refresh_btn = gr.Button("Refresh", size="sm", scale=0, min_width=70, elem_id="history-refresh")
            tiles = gr.Gallery(label="Jobs", show_label=False, columns=8, height="auto", object_fit="cover", allow_preview=False,
                               buttons=[], elem_id="history-grid")
            with gr.Accordion("From elsewhere", open=False, visible=False) as elsewhere:
                external_table = gr.Dataframe(headers=list(HEADERS), interactive=False, elem_id="history-external")
            clear_btn = gr.Button("Clear my history", size="sm", elem_id="history-clear")
        job = _job_panel()
        message = gr.Markdown("", elem_id="history-message", elem_classes=["no-i18n"])
        picker = gr.Dropdown(label="Job", choices=[], value=None, visible=False, elem_id="history-job",
                             allow_custom_value=True)  # the opened job's id; the handlers check ownership
        tile_ids, external_ids = gr.State([]), gr.State([])
        selected_picture = gr.State(None)  # the opened job's picture selected in "Outputs"
        parameters = gr.State(None)        # {"template", "kind", "values"} of the job loaded last

    listing = [page_box, page_label, tiles, picker, tile_ids, elsewhere, external_table, external_ids,
               filters.message]

    def list_page(number, selected, text, starred, tab_kind, when, since, until, browser_id, lang, request):
        user = current_user(request, browser_id)
        selected = None if id_problem(selected) else selected
        wanted, problem = read_filter(text, starred, tab_kind, when, since, until, lang)
        if wanted is None:
            return (*[gr.skip()] * (len(listing) - 1), problem)
        shown = view.page(user, wanted, grid.page_number(number), lang)
        try:
            ext_rows, ext_ids = view.external(user, lang)
        except ComfyError:  # ComfyUI is down: the app's own history still shows
            ext_rows, ext_ids = [], []
        choices = [(job_id, job_id) for job_id in shown.ids] + [(i, i) for i in ext_ids]
        label = tr("of {pages} · {total} jobs", lang, pages=shown.pages, total=shown.total)
        return (shown.number, label, shown.items,
                gr.Dropdown(choices=choices, value=selected),
                shown.ids, gr.Accordion(visible=view.jobs.is_admin(user)),
                gr.Dataframe(value=ext_rows, headers=[tr(h, lang) for h in HEADERS]), ext_ids, "")

    def first_page(browser_id, lang, request: gr.Request):
        return list_page(1, None, "", False, "all", "all", None, None, browser_id, lang, request)

    def turn(step, name):
        def handler(number, selected, text, starred, tab_kind, when, since, until, browser_id, lang,
                    request: gr.Request):
            number = 1 if step is None else grid.page_number(number) + step
            return list_page(number, selected, text, starred, tab_kind, when, since, until, browser_id, lang, request)
        handler.__name__ = name
        return handler

    def open_job(choice, browser_id, lang, request: gr.Request):
        bad = id_problem(choice)  # a raw call's 1 MB string or dict: refused before any look-up
        user = current_user(request, browser_id)
        if bad:
            text, paths, params = describe(bad, lang=lang), [], None
        else:
            try:
                text, paths, params = view.open(choice, user, lang)
            except ComfyError as e:
                text, paths, params = describe(e, lang=lang, names=ctx.names), [], None
        starred = None if bad else view.starred(choice, user)
        shown = bool(choice)
        first = (pictures(paths) or [None])[0]
        return (text, pictures(paths), params, *MediaResults.updates(paths, lang), gr.Column(visible=shown),
                gr.Column(visible=not shown), gr.Button(visible=starred is False), gr.Button(visible=starred is True),
                first)

    def star_buttons(choice, browser_id, request: gr.Request):
        starred = None if id_problem(choice) else view.starred(choice, current_user(request, browser_id))
        return gr.Button(visible=starred is False), gr.Button(visible=starred is True)

    def open_tile(ids, evt: gr.SelectData):
        return ids[evt.index] if isinstance(evt.index, int) and 0 <= evt.index < len(ids) else gr.skip()

    def open_row(ids, evt: gr.SelectData):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) and evt.index else None
        return ids[row] if isinstance(row, int) and 0 <= row < len(ids) else gr.skip()

    def pick_picture(evt: gr.SelectData):
        value = evt.value if isinstance(evt.value, dict) else {}
        return ((value.get("image") or {}).get("path")) or gr.skip()

    def load_parameters(choice, browser_id, lang, request: gr.Request):
        if id_problem(choice):
            return None, describe(id_problem(choice), lang=lang)
        _, _, params = view.open(choice, current_user(request, browser_id), lang)
        if not params or params.get("template") is None:
            return None, tr("Open one of the app's jobs first.", lang)
        return params, tr("Parameters loaded.", lang)

    def act(action, name):
        def handler(choice, browser_id, lang, request: gr.Request):
            user = current_user(request, browser_id)
            bad = id_problem(choice)
            choice = None if bad else choice
            try:
                said = describe(bad, lang=lang) if bad else action(choice, user, lang)
            except NotAllowed:
                said = tr("This job belongs to someone else.", lang)
            except ComfyError as e:
                said = describe(e, lang=lang, names=ctx.names)
            return said, (None if name == "history_delete" else gr.skip())  # deleted: back to the grid
        handler.__name__ = name
        return handler

    common = dict(concurrency_limit=None, show_progress="hidden")
    page_inputs = [page_box, picker, *filters.components, ctx.browser_id, ctx.lang]
    gr.on(None, first_page, inputs=[ctx.browser_id, ctx.lang], outputs=listing, api_name="history_load", **common)
    tab.select(turn(0, "history_tab_opened"), page_inputs, listing, api_name="history_tab_opened",
               api_visibility="private", **common)
    newer_btn.click(turn(-1, "history_newer"), page_inputs, listing, api_name="history_newer", **common)
    older_btn.click(turn(1, "history_older"), page_inputs, listing, api_name="history_older", **common)
    refresh_btn.click(turn(0, "history_refresh"), page_inputs, listing, api_name="history_refresh", **common)
    page_box.submit(turn(0, "history_page"), page_inputs, listing, api_name="history_page", **common)
    filters.wire(turn(None, "history_filter"), page_inputs, listing, **common)
    tiles.select(open_tile, [tile_ids], [picker], api_visibility="private", **common)
    external_table.select(open_row, [external_ids], [picker], api_visibility="private", **common)
    job["outputs"].select(pick_picture, None, [selected_picture], api_visibility="private", **common)
    job["back"].click(lambda: None, None, [picker], api_visibility="private", **common)
    picker.change(open_job, [picker, ctx.browser_id, ctx.lang],
                  [job["detail"], job["outputs"], job["params"], *job["media"].components, job["panel"], browse,
                   job["star"], job["unstar"], selected_picture], api_name="history_open", **common)
    load_event = job["load"].click(load_parameters, [picker, ctx.browser_id, ctx.lang], [parameters, message],
                                   api_name="history_load_parameters", **common)
    actions = ((job["rerun"], view.rerun, "history_rerun"), (job["delete"], view.delete, "history_delete"),
               (clear_btn, lambda choice, user, lang: view.clear(user, lang), "history_clear"),
               (job["star"], view.star, "history_star"),
               (job["unstar"], lambda choice, user, lang: view.star(choice, user, lang, False), "history_unstar"))
    for btn, action, name in actions:
        event = btn.click(act(action, name), [picker, ctx.browser_id, ctx.lang], [message, picker], api_name=name,
                          **common).then(turn(0, "history_after"), page_inputs, listing, api_visibility="private",
                                         **common)  # the grid shows what changed
        if name in ("history_star", "history_unstar"):  # the opened job's star buttons follow
            event.then(star_buttons, [picker, ctx.browser_id], [job["star"], job["unstar"]],
                       api_visibility="private", **common)
    return TabHandles(tab=tab, needs_server=[job["rerun"]],
                      parts={"parameters": parameters, "load_button": job["load"], "load_event": load_event,
                             "picker": picker, "outputs": job["outputs"], "message": message, "view": view,
                             "selected_picture": selected_picture, "actions_slot": job["actions_slot"]})
