"""The "History" tab: a user's own jobs (an admin: everyone's), newest first, paged.

Each page shows a table (when, template, status, duration, images, who) and the
jobs' first images as thumbnails; opening a job (the "Job" list, or clicking a
thumbnail) shows its outputs, its form values and any error. From there:

* **Load parameters** puts ``{"template", "kind", "values"}`` of the job into
  ``parts["parameters"]`` (a ``gr.State``); the app chains that click
  (``parts["load_event"]``) to fill the job's tab and switch to it;
* **Re-run** queues the very same prompt again as a new job of this user: the same
  seed, so the same picture (useful after an error, an interruption or a lost job).
  For new pictures, load the parameters and generate with a random seed;
* **Delete** removes the job and its files; **Clear my history** removes all of the
  user's finished jobs.

For an admin, prompts ComfyUI ran that the app has no record of (queued from ComfyUI's
own page or another tool) are listed too, from ``/history`` of every server
(:mod:`comfy_ui_app.ui._history_external`), under "From elsewhere";
their images are fetched through ``/view`` only when one is opened.

Thumbnails and outputs are files under ``store.outputs_dir`` (and, for jobs from
elsewhere, ``ctx.output_dir / "comfyui-history"``): both must be in ``allowed_paths``.
"""

from __future__ import annotations

import time
from pathlib import Path

import gradio as gr

from comfy_ui_app.comfy.outputs import TEXT_TYPE, output_refs
from comfy_ui_app.comfy.updates import OutputImage
from comfy_ui_app.errors import ComfyError
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.messages import describe, describe_recorded
from comfy_ui_app.jobs.service import NotAllowed
from comfy_ui_app.jobs.store import safe_filename
from comfy_ui_app.ui import _history_external as elsewhere
from comfy_ui_app.ui.context import TabHandles, current_user
from comfy_ui_app.ui.queue_tab import age_text, owner_name
from comfy_ui_app.ui.status import md_escape
from comfy_ui_app.ui._lenient import id_problem
from comfy_ui_app.ui._media_results import MediaResults, pictures

__all__ = ["build_tab", "HistoryView", "PAGE_SIZE", "EXTERNAL_PREFIX"]

PAGE_SIZE = 12
EXTERNAL_MAX = 50            # newest ComfyUI /history entries looked at for "From elsewhere"
EXTERNAL_PREFIX = "comfyui:"  # picker values of jobs from elsewhere: "comfyui:<prompt_id>"
HEADERS = ("When", "Template", "Status", "Duration", "Images", "Submitted by")
STATUS_WORDS = {"queued": "Waiting", "running": "Running", "success": "Done", "error": "Failed",
                "interrupted": "Interrupted", "lost": "Lost", "cancelled": "Cancelled"}


def _when(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) if at else "—"


class HistoryView:
    """Shared by every page (no per-user state): listing, opening and acting on jobs."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.jobs = ctx.jobs
        self.external_dir = Path(ctx.output_dir) / "comfyui-history"

    def _owner(self, user: str) -> str | None:
        return None if self.jobs.is_admin(user) else user

    def pages(self, user: str) -> int:
        return max(1, -(-self.jobs.store.count(owner=self._owner(user)) // PAGE_SIZE))

    def page(self, user: str, page: int, lang: str):
        """(page label, table rows, thumbnails, job choices, thumbnail job ids) of one page."""
        page = min(max(0, page), self.pages(user) - 1)
        records = self.jobs.list(user=user, everyone=True, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
        rows, thumbs, thumb_ids, choices = [], [], [], []
        for r in records:
            who = tr("You", lang) if r.owner == user else owner_name(r.owner, lang)
            status = tr(STATUS_WORDS.get(r.status, r.status), lang)
            rows.append([_when(r.created_at), r.template, status, age_text(r.duration, lang), len(r.outputs), who])
            choices.append((f"{_when(r.created_at)} · {r.template} · {status}", r.job_id))
            first = next((o.path for o in r.outputs if o.media == "image" and o.path.is_file()), None)
            if first is not None:
                thumbs.append((str(first), f"{r.template} · {status}"))
                thumb_ids.append(r.job_id)
        label = tr("Page {page} of {pages}", lang, page=page + 1, pages=self.pages(user))
        return page, label, rows, thumbs, choices, thumb_ids

    def external(self, user: str, lang: str) -> tuple[list, list]:
        """Admins: (rows, choices) of ComfyUI ``/history`` entries the app has no record of,
        from every server (the newest ``EXTERNAL_MAX`` of them all, newest first)."""
        if not self.jobs.is_admin(user):
            return [], []
        rows, choices = [], []
        for _comfy, prompt_id, entry in elsewhere.entries(self.jobs.comfies, self.jobs.store, EXTERNAL_MAX):
            status, started, finished, _ = elsewhere.status_of(entry)
            images = sum(len((o or {}).get("images") or []) for o in (entry.get("outputs") or {}).values())
            duration = finished - started if started and finished else None
            word = tr(STATUS_WORDS[status], lang)
            rows.append([_when(started), prompt_id[:8], word, age_text(duration, lang), images,
                         tr("Outside the app", lang)])
            choices.append((f"{_when(started)} · {prompt_id[:8]} · {word}", EXTERNAL_PREFIX + prompt_id))
        return rows, choices

    # -- one job ---------------------------------------------------------------------
    def open(self, choice: str | None, user: str, lang: str) -> tuple[str, list, dict | None]:
        """(description, output paths, parameters) of the chosen job, if ``user`` may see it."""
        if not choice:
            return "", [], None
        if choice.startswith(EXTERNAL_PREFIX):
            return self._open_external(choice[len(EXTERNAL_PREFIX):], user, lang)
        record = self.jobs.get(choice, user=user)
        if record is None:
            return tr("This job is gone, or it is not yours.", lang), [], None
        lines = [f"**{tr(STATUS_WORDS.get(record.status, record.status), lang)}** · {md_escape(record.template)}",
                 tr("Submitted {when}", lang, when=_when(record.created_at))]
        if record.owner != user:
            lines.append(tr("By {name}", lang, name=md_escape(owner_name(record.owner, lang))))
        if record.duration is not None:
            lines.append(tr("Took {t}", lang, t=age_text(record.duration, lang)))
        if record.error:
            error = describe_recorded(record, lang=lang, names=self.ctx.names)
            lines.append(tr("Error: {error}", lang, error=md_escape(error)))
        paths = [str(o.path) for o in record.outputs if o.path.is_file()]
        params = {"template": record.template, "kind": record.kind, "values": record.values}
        return "  \n".join(lines), paths, params

    def _open_external(self, prompt_id: str, user: str, lang: str) -> tuple[str, list, dict | None]:
        if not self.jobs.is_admin(user):
            return tr("This job is gone, or it is not yours.", lang), [], None
        comfy, entry = elsewhere.find(self.jobs.comfies, prompt_id)
        if not entry:
            return tr("ComfyUI no longer has this job.", lang), [], None
        status, started, finished, error = elsewhere.status_of(entry)
        folder = self.external_dir / safe_filename(prompt_id)
        paths = []
        for output in (entry.get("outputs") or {}).values():
            for ref in output_refs("", output or {}):
                if ref["type"] in (TEXT_TYPE, "input"):
                    continue  # words in the entry itself; a preview of an input file: not the job's output
                target = folder / safe_filename(f"{ref.get('type', 'output')}_{ref.get('filename', '')}")
                if not target.is_file():  # fetched once, kept for the next look
                    kind = str(ref.get("type", "output"))
                    data = comfy.client.view(str(ref.get("filename", "")), subfolder=str(ref.get("subfolder", "")),
                                             type=kind)
                    target = OutputImage(target.name, "", kind, data).save(folder)
                paths.append(str(target))
        lines = [f"**{tr(STATUS_WORDS[status], lang)}** · {tr('Outside the app', lang)}",
                 tr("Submitted {when}", lang, when=_when(started))]
        if error:
            lines.append(tr("Error: {error}", lang, error=md_escape(error)))
        prompt = (entry.get("prompt") or [None, None, {}])[2]
        return "  \n".join(lines), paths, {"template": None, "kind": "external", "values": {}, "prompt": prompt}

    def rerun(self, choice: str | None, user: str, lang: str) -> str:
        if not choice:
            return tr("Open a job first.", lang)
        if choice.startswith(EXTERNAL_PREFIX):
            _, _, params = self._open_external(choice[len(EXTERNAL_PREFIX):], user, lang)
            if not params or not params.get("prompt"):
                return tr("This job is gone, or it is not yours.", lang)
            template, kind, values, prompt = "comfyui", "external", {}, params["prompt"]
        else:
            record = self.jobs.get(choice, user=user)
            if record is None:
                return tr("This job is gone, or it is not yours.", lang)
            template, kind, values, prompt = record.template, record.kind, record.values, record.prompt
        self.jobs.submit(owner=user, template=template, kind=kind, values=values, prompt=prompt)
        return tr("Queued again as a new job: see the Queue tab.", lang)

    def delete(self, choice: str | None, user: str, lang: str) -> str:
        if not choice:
            return tr("Open a job first.", lang)
        if choice.startswith(EXTERNAL_PREFIX):
            if not self.jobs.is_admin(user):
                raise NotAllowed("Only an admin may delete ComfyUI's own history")
            prompt_id = choice[len(EXTERNAL_PREFIX):]
            comfy, _ = elsewhere.find(self.jobs.comfies, prompt_id)
            comfy.client.delete_history([prompt_id])
            return tr("Deleted.", lang)
        return tr("Deleted.", lang) if self.jobs.delete(choice, user=user) else tr("Nothing to delete.", lang)

    def clear(self, user: str, lang: str) -> str:
        return tr("Deleted {n} finished jobs.", lang, n=self.jobs.store.clear(user))


def build_tab(ctx) -> TabHandles:
    view = HistoryView(ctx)
    with gr.Tab("History", id="history") as tab:
        with gr.Row():
            newer_btn = gr.Button("Newer", size="sm")
            page_label = gr.Markdown("", elem_id="history-page", elem_classes=["no-i18n"])
            older_btn = gr.Button("Older", size="sm")
            refresh_btn = gr.Button("Refresh", size="sm")
        table = gr.Dataframe(headers=list(HEADERS), interactive=False, elem_id="history-table")
        thumbs = gr.Gallery(label="Pictures", columns=6, height=220, object_fit="contain", format="png",
                            elem_id="history-thumbs")  # contain: a whole picture, not a wide crop
        with gr.Accordion("From elsewhere", open=False, visible=False) as elsewhere:
            external_table = gr.Dataframe(headers=list(HEADERS), interactive=False)
        picker = gr.Dropdown(label="Job", choices=[], value=None, elem_id="history-job",
                             allow_custom_value=True)  # the handlers check ownership themselves
        detail = gr.Markdown("", elem_id="history-detail", elem_classes=["no-i18n"])
        outputs = gr.Gallery(label="Outputs", format="png", columns=4, elem_id="history-outputs")
        media = MediaResults("history")  # a job's video, audio, 3D model, text, files
        params_view = gr.JSON(label="Parameters")
        with gr.Row():
            load_btn = gr.Button("Load parameters")
            rerun_btn = gr.Button("Re-run", variant="primary")
            delete_btn = gr.Button("Delete", variant="stop")
            clear_btn = gr.Button("Clear my history")
        message = gr.Markdown("", elem_id="history-message", elem_classes=["no-i18n"])
        page_state = gr.State(0)
        thumb_ids = gr.State([])
        parameters = gr.State(None)  # {"template", "kind", "values"} of the job loaded last

    listing = [page_state, page_label, table, thumbs, picker, thumb_ids, elsewhere, external_table]

    def list_page(page, selected, browser_id, lang, request: gr.Request):
        user = current_user(request, browser_id)
        selected = None if id_problem(selected) else selected
        page, label, rows, pics, choices, ids = view.page(user, int(page or 0), lang)
        try:
            ext_rows, ext_choices = view.external(user, lang)
        except ComfyError:  # ComfyUI is down: the app's own history still shows
            ext_rows, ext_choices = [], []
        values = [value for _, value in choices + ext_choices]
        headers = [tr(h, lang) for h in HEADERS]
        return (page, label, gr.Dataframe(value=rows, headers=headers), pics,
                gr.Dropdown(choices=choices + ext_choices, value=selected if selected in values else None),
                ids, gr.Accordion(visible=view.jobs.is_admin(user)), gr.Dataframe(value=ext_rows, headers=headers))

    def first_page(browser_id, lang, request: gr.Request):
        return list_page(0, None, browser_id, lang, request)

    def turn(step):
        def handler(page, selected, browser_id, lang, request: gr.Request):
            return list_page(int(page or 0) + step, selected, browser_id, lang, request)
        handler.__name__ = "history_newer" if step < 0 else ("history_older" if step > 0 else "history_refresh")
        return handler

    def open_job(choice, browser_id, lang, request: gr.Request):
        bad = id_problem(choice)  # a raw call's 1 MB string or dict: refused before any look-up
        if bad:
            return describe(bad, lang=lang), [], None, *MediaResults.updates([], lang)
        try:
            text, paths, params = view.open(choice, current_user(request, browser_id), lang)
        except ComfyError as e:
            text, paths, params = describe(e, lang=lang, names=ctx.names), [], None
        return text, pictures(paths), params, *MediaResults.updates(paths, lang)

    def open_thumb(ids, evt: gr.SelectData):
        return ids[evt.index] if isinstance(evt.index, int) and evt.index < len(ids) else gr.skip()

    def load_parameters(choice, browser_id, lang, request: gr.Request):
        if id_problem(choice):
            return None, describe(id_problem(choice), lang=lang)
        _, _, params = view.open(choice, current_user(request, browser_id), lang)
        if not params or params.get("template") is None:
            return None, tr("Open one of the app's jobs first.", lang)
        return params, tr("Parameters loaded.", lang)

    def act(action):
        def handler(page, choice, browser_id, lang, request: gr.Request):
            user = current_user(request, browser_id)
            bad = id_problem(choice)
            choice = None if bad else choice
            try:
                text = describe(bad, lang=lang) if bad else action(choice, user, lang)
            except NotAllowed:
                text = tr("This job belongs to someone else.", lang)
            except ComfyError as e:
                text = describe(e, lang=lang, names=ctx.names)
            return (text, *list_page(page, choice, browser_id, lang, request))
        handler.__name__ = f"history_{action.__name__}"
        return handler

    def clear(choice, user, lang):
        return view.clear(user, lang)

    common = dict(concurrency_limit=None, show_progress="hidden")
    page_inputs = [page_state, picker, ctx.browser_id, ctx.lang]
    gr.on(None, first_page, inputs=[ctx.browser_id, ctx.lang], outputs=listing, api_name="history_load", **common)
    tab.select(turn(0), page_inputs, listing, api_name="history_tab_opened", api_visibility="private", **common)
    newer_btn.click(turn(-1), page_inputs, listing, api_name="history_newer", **common)
    older_btn.click(turn(1), page_inputs, listing, api_name="history_older", **common)
    refresh_btn.click(turn(0), page_inputs, listing, api_name="history_refresh", **common)
    thumbs.select(open_thumb, [thumb_ids], [picker], api_visibility="private", **common)
    picker.change(open_job, [picker, ctx.browser_id, ctx.lang], [detail, outputs, params_view, *media.components],
                  api_name="history_open", **common)
    load_event = load_btn.click(load_parameters, [picker, ctx.browser_id, ctx.lang], [parameters, message],
                                api_name="history_load_parameters", **common)
    for btn, action, name in ((rerun_btn, view.rerun, "history_rerun"), (delete_btn, view.delete, "history_delete"),
                              (clear_btn, clear, "history_clear")):
        btn.click(act(action), page_inputs, [message, *listing], api_name=name, **common)
    return TabHandles(tab=tab, needs_server=[rerun_btn],
                      parts={"parameters": parameters, "load_button": load_btn, "load_event": load_event,
                             "picker": picker, "outputs": outputs, "message": message, "view": view})
