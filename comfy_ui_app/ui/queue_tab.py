"""The "Queue" tab: what ComfyUI is running and what waits, and who may touch what.

ComfyUI's ``/queue`` lists every prompt, ours and others'. Each is matched to its
record in the job store (``store.by_prompt_id``) to learn its owner: a user sees
their own jobs as "You", other people's as "Someone else" (an admin sees names),
and prompts with no record (queued from ComfyUI's own page or another tool) as
"Outside the app". Acting on a job goes through :class:`~comfy_ui_app.jobs.service.JobService`,
which refuses other people's jobs unless the user is an admin.

Refreshing: ComfyUI sends a ``status`` event whenever its queue changes, and
``Comfy.status_version`` counts them. Each open page has a light ``gr.Timer``
(``QUEUE_TICK_S``) whose handler returns ``gr.skip()`` (nothing sent, nothing asked
of ComfyUI) unless the version moved or the shown ages are ``QUEUE_STALE_S`` old.
The ``/queue`` answer itself is cached per app per version, so a queue change costs
one ``/queue`` request however many pages are open. Every reachable server of the app's
:class:`~comfy_ui_app.cluster.cluster.Cluster` (one server too) has its queue listed, with a
"Server" column, followed by the jobs still waiting in the app's own queue
(``cluster.waiting()``, in the order they will be sent, numbered on after the servers' jobs). (A generator waiting for
the version to change would push sooner, but it would hold a worker thread
per open page for as long as the page stays open.)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import gradio as gr

from comfy_ui_app.errors import ComfyError
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.jobs.queue_actions import APP_QUEUE as MOVED_IN_APP_QUEUE, OWN_LINE as MOVED_IN_OWN_LINE
from comfy_ui_app.jobs.service import NotAllowed
from comfy_ui_app.jobs.store import JobRecord
from comfy_ui_app.ui.context import TabHandles, current_user
from comfy_ui_app.ui._lenient import id_problem

__all__ = ["build_tab", "QueueView", "QueueEntry", "owner_name", "age_text", "QUEUE_TICK_S", "QUEUE_STALE_S"]

QUEUE_TICK_S = 1.0     # how often an open page asks "did the queue change?" (no ComfyUI request)
QUEUE_STALE_S = 15.0   # re-ask /queue at least this often anyway, so ages stay roughly right
HEADERS = ("#", "State", "Submitted by", "Template", "Age")
APP_QUEUE = "app"  # QueueEntry.server of a job waiting in the app's own queue


def owner_name(owner: str, lang: str = "en") -> str:
    """``"user:alice"`` -> ``"alice"``, ``"hf:bob"`` -> ``"bob (Hugging Face)"``; a browser
    id is shortened: ``"browser 1a2b3c"``."""
    kind, _, name = owner.partition(":")
    if kind == "user":
        return name
    if kind == "hf":
        return tr("{name} (Hugging Face)", lang, name=name)
    return f"browser {name[:6]}" if kind == "browser" else owner


def age_text(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return tr("{n} s", lang, n=seconds)
    if seconds < 3600:
        return tr("{n} min", lang, n=seconds // 60)
    return tr("{h} h {m} min", lang, h=seconds // 3600, m=seconds % 3600 // 60)


@dataclass(frozen=True)
class QueueEntry:
    """One prompt in ComfyUI's queue; ``position`` 0 is running, 1 runs next."""

    position: int
    prompt_id: str
    record: JobRecord | None
    created_at: float | None
    server: str = ""  # the server's URL, or APP_QUEUE (a cluster's own queue)

    @property
    def running(self) -> bool:
        return self.position == 0


class QueueView:
    """Shared by every page (no per-user state): the cached queue and the actions."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.jobs = ctx.jobs
        self.cluster = ctx.cluster  # its servers' queues, then the app's own
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[int, float, dict]] = {}  # url -> (status version, fetched at, /queue)

    # -- reading ---------------------------------------------------------------------
    def version(self):
        """Changes whenever some queue shown here may have changed (no request made)."""
        cluster = self.cluster
        return (tuple(c.status_version for c in cluster.comfies),
                tuple(job.prompt_id for job in cluster.waiting()),
                tuple(s.healthy for s in cluster.servers))

    def queue(self, *, fresh: bool = False, comfy=None) -> dict:
        """``/queue``, asked again only when a ``status`` event said it changed."""
        comfy = comfy or self.ctx.comfy
        version = comfy.status_version
        with self._lock:
            cached = self._cache.get(comfy.url)
        if cached and not fresh and cached[0] == version and time.monotonic() - cached[1] < QUEUE_STALE_S:
            return cached[2]
        queue = comfy.client.get_queue()  # pending sorted by number
        with self._lock:
            self._cache[comfy.url] = (version, time.monotonic(), queue)
        return queue

    def _server_queues(self, fresh: bool) -> list[tuple[str, dict]]:
        cluster = self.cluster
        healthy = {s.url for s in cluster.servers if s.healthy}
        out = []
        for comfy in cluster.comfies:
            if comfy.url in healthy:
                try:
                    out.append((comfy.url, self.queue(fresh=fresh, comfy=comfy)))
                except ComfyError:
                    continue  # it went down since its last health check: the System tab says so
        return out

    def entries(self, *, fresh: bool = False) -> list[QueueEntry]:
        out = []
        for url, queue in self._server_queues(fresh):
            running = sorted(queue["queue_running"], key=lambda item: float(item[0]))
            items = [(0, item) for item in running] + [(n, item) for n, item in enumerate(queue["queue_pending"], 1)]
            for position, item in items:
                record = self.jobs.store.by_prompt_id(item[1])
                extra = item[3] if len(item) > 3 and isinstance(item[3], dict) else {}
                created = record.created_at if record else (extra.get("create_time") or 0) / 1000 or None
                out.append(QueueEntry(position, item[1], record, created, url))
        first = max((e.position for e in out), default=0) + 1  # numbered on after every ComfyUI queue above
        for n, job in enumerate(self.cluster.waiting(), first):
            record = self.jobs.store.by_prompt_id(job.prompt_id)
            out.append(QueueEntry(n, job.prompt_id, record, record.created_at if record else None, APP_QUEUE))
        return out

    def may_act(self, entry: QueueEntry, user: str) -> bool:
        return self.jobs.is_admin(user) or (entry.record is not None and entry.record.owner == user)

    def who(self, entry: QueueEntry, user: str, lang: str) -> str:
        if entry.record is not None and entry.record.owner == user:
            return tr("You", lang)
        if not self.jobs.is_admin(user):
            return tr("Someone else", lang)
        return owner_name(entry.record.owner, lang) if entry.record else tr("Outside the app", lang)

    def view(self, user: str, lang: str, selected: str | None = None, *, fresh: bool = False):
        """(summary, table, job choices) for ``user``."""
        entries = self.entries(fresh=fresh)
        now = time.time()
        rows, choices = [], []
        labels = {c.url: c.label for c in self.cluster.comfies}  # what the page shows of each
        for e in entries:
            state = (tr("Queued", lang) if e.server == APP_QUEUE else  # in the app's own queue: not sent yet
                     tr("Running", lang) if e.running else tr("Waiting", lang))
            template = e.record.template if e.record else "—"
            age = age_text(None if e.created_at is None else now - e.created_at, lang)
            rows.append([e.position, state, self.who(e, user, lang), template, age,
                         "—" if e.server == APP_QUEUE else labels.get(e.server, e.server)])
            if self.may_act(e, user):
                choices.append((f"#{e.position} · {template} · {self.who(e, user, lang)}", e.prompt_id))
        mine = sum(1 for e in entries if e.record is not None and e.record.owner == user)
        summary = (tr("The queue is empty.", lang) if not entries else
                   tr("{total} jobs in the queue, {mine} of them yours.", lang, total=len(entries), mine=mine))
        ids = [value for _, value in choices]
        headers = (*HEADERS, "Server")
        table = gr.Dataframe(value=rows, headers=[tr(h, lang) for h in headers])
        picker = gr.Dropdown(choices=choices, value=selected if selected in ids else (ids[0] if ids else None))
        return summary, table, picker

    # -- acting (each returns a plain message) -------------------------------------------
    def cancel(self, prompt_id: str | None, user: str, lang: str) -> str:
        if not prompt_id:
            return tr("Choose one of your jobs first.", lang)
        server = next((e.server for e in self.entries()  # which server's queue shows it
                       if e.prompt_id == prompt_id and e.server != APP_QUEUE), None)
        if not self.jobs.cancel_prompt(prompt_id, user=user, server=server):
            return tr("The job had already finished; nothing was changed.", lang)
        return tr("The job was cancelled.", lang)

    def move_to_front(self, prompt_id: str | None, user: str, lang: str) -> str:
        if not prompt_id:
            return tr("Choose one of your jobs first.", lang)
        record = self.jobs.store.by_prompt_id(prompt_id)
        if record is None or self.jobs.live(record.job_id) is None:
            return tr("Only jobs submitted through this app can be moved.", lang)
        where = self.jobs.move_to_front(record.job_id, user=user)
        if where == MOVED_IN_APP_QUEUE:
            return tr("The job is now first in the app's queue: it goes to the next free ComfyUI server.", lang)
        if where == MOVED_IN_OWN_LINE:
            return tr("The job is now first of your jobs in the app's queue; other people's jobs still take "
                      "turns with yours.", lang)
        return tr("The job will run next.", lang) if where else tr("The job is no longer waiting.", lang)

    def interrupt(self, user: str, lang: str) -> str:
        running = [e for e in self.entries(fresh=True) if e.running and e.server != APP_QUEUE]
        if not running:
            return tr("Nothing is running.", lang)
        mine = [e for e in running if self.may_act(e, user)]  # several servers: the first one this user may stop
        if not mine:
            return tr("The running job belongs to someone else; only its owner or an admin can stop it.", lang)
        self.jobs.cancel_prompt(mine[0].prompt_id, user=user, server=mine[0].server)
        return tr("The running job was interrupted.", lang)

    def clear(self, user: str, lang: str) -> str:
        if not self.jobs.is_admin(user):
            return tr("Only an admin can clear the queue.", lang)
        return tr("Removed {n} waiting jobs.", lang, n=self.jobs.clear_queue(user=user))


def build_tab(ctx) -> TabHandles:
    """The "Queue" tab; see the module docstring for how it refreshes."""
    view = QueueView(ctx)
    with gr.Tab("Queue", id="queue") as tab:
        summary = gr.Markdown("", elem_id="queue-summary", elem_classes=["no-i18n"])
        table = gr.Dataframe(headers=list(HEADERS), interactive=False, elem_id="queue-table")
        with gr.Row():
            picker = gr.Dropdown(label="Job", choices=[], value=None, elem_id="queue-job", scale=2,
                                 allow_custom_value=True)  # the handlers check ownership themselves
            cancel_btn = gr.Button("Cancel job", variant="stop")
            front_btn = gr.Button("Move to front")
        with gr.Row():
            interrupt_btn = gr.Button("Interrupt the running job")
            clear_btn = gr.Button("Clear the queue", visible=False)
            refresh_btn = gr.Button("Refresh")
        message = gr.Markdown("", elem_id="queue-message", elem_classes=["no-i18n"])
        seen = gr.State(None)  # (status version, time) this page last showed
        timer = gr.Timer(QUEUE_TICK_S, active=False)  # ticks while the tab is shown (see build_app)

    listing = [summary, table, picker]

    def show(selected, browser_id, lang, request: gr.Request, *, fresh=False):
        user = current_user(request, browser_id)
        selected = None if id_problem(selected) else selected  # not one of ours: nothing is selected
        stamp = (view.version(), time.monotonic())
        try:
            return (stamp, *view.view(user, lang, selected, fresh=fresh))
        except ComfyError as e:
            return stamp, describe(e, lang=lang, names=ctx.names), gr.skip(), gr.skip()

    def on_load(browser_id, lang, request: gr.Request):
        admin = ctx.jobs.is_admin(current_user(request, browser_id))
        return (*show(None, browser_id, lang, request, fresh=True), gr.Button(visible=admin))

    def on_tick(last, selected, browser_id, lang, request: gr.Request):
        if last and last[0] == view.version() and time.monotonic() - last[1] < QUEUE_STALE_S:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()  # nothing moved: no request, no traffic
        return show(selected, browser_id, lang, request)

    def act(action):
        def handler(selected, browser_id, lang, request: gr.Request):
            user = current_user(request, browser_id)
            bad = id_problem(selected)  # a raw call's 1 MB string or dict: refused before any look-up
            try:
                text = describe(bad, lang=lang) if bad else action(selected, user, lang)
            except NotAllowed:
                text = tr("This job belongs to someone else.", lang)
            except ComfyError as e:
                text = describe(e, lang=lang, names=ctx.names)
            return (text, *show(selected, browser_id, lang, request, fresh=True))
        handler.__name__ = f"queue_{action.__name__}"
        return handler

    def interrupt(selected, user, lang):
        return view.interrupt(user, lang)

    def clear(selected, user, lang):
        return view.clear(user, lang)

    def refresh(selected, user, lang):
        return ""

    inputs = [picker, ctx.browser_id, ctx.lang]
    common = dict(concurrency_limit=None, show_progress="hidden")
    # triggers=None: on page load, and again when the browser id or the language changes
    gr.on(None, on_load, inputs=[ctx.browser_id, ctx.lang], outputs=[seen, *listing, clear_btn], api_name="queue_load", **common)
    tab.select(on_load, [ctx.browser_id, ctx.lang], [seen, *listing, clear_btn], api_name="queue_tab_opened",
               api_visibility="private", **common)
    timer.tick(on_tick, inputs=[seen, *inputs], outputs=[seen, *listing], api_visibility="private", **common)
    refresh_btn.click(act(refresh), inputs, [message, seen, *listing],
                      api_name="queue_refresh", **common)
    cancel_btn.click(act(view.cancel), inputs, [message, seen, *listing], api_name="queue_cancel", **common)
    front_btn.click(act(view.move_to_front), inputs, [message, seen, *listing], api_name="queue_front", **common)
    interrupt_btn.click(act(interrupt), inputs, [message, seen, *listing], api_name="queue_interrupt", **common)
    clear_btn.click(act(clear), inputs, [message, seen, *listing], api_name="queue_clear", **common)
    return TabHandles(needs_server=[cancel_btn, front_btn, interrupt_btn, clear_btn],
                      parts={"table": table, "job": picker, "message": message, "view": view},
                      tab=tab, timers=[timer])
