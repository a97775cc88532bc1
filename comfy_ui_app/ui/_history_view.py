"""History's logic, shared by every page (nothing per user is kept): a page of the grid, one job
opened, and what can be done to it (re-run, delete, star), plus an admin's jobs from elsewhere.

Who sees what: a user their own jobs, an admin everyone's (:meth:`JobService.get`'s rule, asked on
every call: a job id from a raw call is looked up for the asking user). For an admin, prompts
ComfyUI ran that the app has no record of (queued from ComfyUI's own page or another tool) are
listed too, from ``/history`` of every server (:mod:`comfy_ui_app.ui._history_external`); their
files are fetched through ``/view`` only when one is opened, into ``ctx.output_dir / "comfyui-history"``.
"""
from __future__ import annotations

import time
from pathlib import Path

from comfy_ui_app.comfy.outputs import TEXT_TYPE, output_refs
from comfy_ui_app.comfy.updates import OutputImage
from comfy_ui_app.jobs import history_query
from comfy_ui_app.jobs.history_query import HistoryFilter
from comfy_ui_app.jobs.service import NotAllowed
from comfy_ui_app.jobs.store import safe_filename
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.messages import describe_recorded
from comfy_ui_app.ui import _history_external as elsewhere
from comfy_ui_app.ui import _history_grid as grid
from comfy_ui_app.ui.queue_tab import age_text, owner_name
from comfy_ui_app.ui.status import md_escape

__all__ = ["HistoryView", "EXTERNAL_PREFIX", "STATUS_WORDS", "HEADERS", "when_text"]

EXTERNAL_MAX = 50            # newest ComfyUI /history entries looked at for "From elsewhere"
EXTERNAL_PREFIX = "comfyui:"  # the job id of a job from elsewhere: "comfyui:<prompt_id>"
HEADERS = ("When", "Template", "Status", "Duration", "Images", "Submitted by")
STATUS_WORDS = grid.STATUS_WORDS
GONE = "This job is gone, or it is not yours."


def when_text(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) if at else "—"


class HistoryView:
    """Listing, opening and acting on jobs, for whoever asks (``user``) in their language (``lang``)."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.jobs = ctx.jobs
        self.external_dir = Path(ctx.output_dir) / "comfyui-history"
        self.tiles_dir = Path(ctx.output_dir) / "history-tiles"

    def owner(self, user: str) -> str | None:
        """Whose jobs ``user`` sees: their own, or everyone's (None) for an admin."""
        return None if self.jobs.is_admin(user) else user

    def page(self, user: str, wanted: HistoryFilter, number: int, lang: str) -> grid.GridPage:
        """Page ``number`` (1-based, put within the pages there are) of the jobs ``wanted`` finds; the
        filter's owner is replaced by whose jobs ``user`` may see."""
        wanted = HistoryFilter(self.owner(user), wanted.text, wanted.starred, wanted.kind, wanted.since, wanted.until)
        total = history_query.count(self.jobs.store, wanted)
        pages = max(1, -(-total // grid.PAGE_SIZE))
        number = min(max(1, number), pages)
        tiles = history_query.page(self.jobs.store, wanted, limit=grid.PAGE_SIZE, offset=(number - 1) * grid.PAGE_SIZE)
        return grid.GridPage(number, pages, total, [grid.tile_item(t, user, self.tiles_dir, lang) for t in tiles],
                             [t.job_id for t in tiles])

    def external(self, user: str, lang: str) -> tuple[list, list]:
        """Admins: (table rows, job ids) of ComfyUI ``/history`` entries the app has no record of,
        from every server (the newest ``EXTERNAL_MAX`` of them all, newest first)."""
        if not self.jobs.is_admin(user):
            return [], []
        rows, ids = [], []
        for _comfy, prompt_id, entry in elsewhere.entries(self.jobs.comfies, self.jobs.store, EXTERNAL_MAX):
            status, started, finished, _ = elsewhere.status_of(entry)
            images = sum(len((o or {}).get("images") or []) for o in (entry.get("outputs") or {}).values())
            duration = finished - started if started and finished else None
            rows.append([when_text(started), prompt_id[:8], tr(STATUS_WORDS[status], lang), age_text(duration, lang),
                         images, tr("Outside the app", lang)])
            ids.append(EXTERNAL_PREFIX + prompt_id)
        return rows, ids

    # -- one job ---------------------------------------------------------------------
    def open(self, choice: str | None, user: str, lang: str) -> tuple[str, list, dict | None]:
        """(description, output paths, parameters) of the chosen job, if ``user`` may see it."""
        if not choice:
            return "", [], None
        if choice.startswith(EXTERNAL_PREFIX):
            return self._open_external(choice[len(EXTERNAL_PREFIX):], user, lang)
        record = self.jobs.get(choice, user=user)
        if record is None:
            return tr(GONE, lang), [], None
        lines = [f"**{tr(STATUS_WORDS.get(record.status, record.status), lang)}** · {md_escape(record.template)}",
                 tr("Submitted {when}", lang, when=when_text(record.created_at))]
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

    def starred(self, choice: str | None, user: str) -> bool | None:
        """Whether the job is starred; None for no job, one from elsewhere, or one ``user`` may not see."""
        record = self.jobs.get(choice, user=user) if choice and not choice.startswith(EXTERNAL_PREFIX) else None
        return None if record is None else record.starred

    def _open_external(self, prompt_id: str, user: str, lang: str) -> tuple[str, list, dict | None]:
        if not self.jobs.is_admin(user):
            return tr(GONE, lang), [], None
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
                 tr("Submitted {when}", lang, when=when_text(started))]
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
                return tr(GONE, lang)
            template, kind, values, prompt = "comfyui", "external", {}, params["prompt"]
        else:
            record = self.jobs.get(choice, user=user)
            if record is None:
                return tr(GONE, lang)
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

    def star(self, choice: str | None, user: str, lang: str, starred: bool = True) -> str:
        """Star (or unstar) a job ``user`` may see: the owner's favourite, in the owner's History."""
        if not choice or choice.startswith(EXTERNAL_PREFIX):
            return tr("Open one of the app's jobs first.", lang)
        record = self.jobs.get(choice, user=user)
        if record is None:
            return tr(GONE, lang)
        self.jobs.store.set_starred(record.job_id, starred)
        return tr("Starred: see ★ Favourites only.", lang) if starred else tr("Star taken off.", lang)

    def clear(self, user: str, lang: str) -> str:
        return tr("Deleted {n} finished jobs.", lang, n=self.jobs.store.clear(user))
