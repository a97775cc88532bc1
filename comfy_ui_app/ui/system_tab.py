"""The "System" tab: the ComfyUI machine at a glance.

* ``/system_stats``: OS, Python, PyTorch and ComfyUI versions, RAM, and each device's
  VRAM (total/free) and torch VRAM; a line chart of free RAM/VRAM over the last hour, one line per
  server and kind;
* the models in each folder (``/models``, ``/models/{folder}``), the embeddings and
  the frontend extensions;
* a node browser: pick a node class, see ``/object_info/{class}`` (on a public app, the file
  lists of the input/output folders, LoadImage's list of every user's uploads, for admins only:
  others see them empty);
* "Free memory" and "Unload models" (``POST /free``), for admins only: hidden for
  others, and refused by the handler should someone call it anyway;
* with several servers (a :class:`~comfy_ui_app.cluster.cluster.Cluster`), a table of every
  server: healthy or why not, our jobs in flight, its own queue, its checkpoints and
  the last one we used there; and a server picker (the first by default): the
  stats, chart, models, embeddings, extensions, node definitions and the admin buttons
  are those of the picked server;
* "Jobs in the last hour" (:mod:`comfy_ui_app.ui.system_numbers`): per server and overall, jobs
  succeeded / failed / cancelled, median and 95th percentile queue wait and run time, and
  the queues now. Counts only (no users, no prompts), so everyone sees it.

A server is shown by its label (``Comfy.label``): its address, or "ComfyUI server 2" when
the page must not show addresses (app.py's ``--no-show-server-urls``).

The chart's samples live in one :class:`StatsSampler` per server and app (a ring
buffer of an hour), taken at most every ``SAMPLE_EVERY_S`` seconds however many pages show it:
every page that shows the tab polls each server through it, so all pages draw the same hour.
Nothing is fetched until the tab is opened; then a timer redraws the chart, the server
table and the job numbers while the page is open.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import gradio as gr
import pandas as pd

from comfy_ui_app.errors import ComfyError
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui.context import TabHandles, current_user
from comfy_ui_app.ui.status import md_escape, server_reason
from comfy_ui_app.workflow.file_inputs import hide_file_lists
from comfy_ui_app.ui.system_numbers import NUMBER_HEADERS, WINDOW_S, number_rows, summarize

__all__ = ["build_tab", "StatsSampler", "stats_markdown", "server_rows", "SAMPLE_EVERY_S", "SAMPLES_KEPT"]

SAMPLE_EVERY_S = 5.0   # at most one /system_stats request this often, for all pages together
SAMPLES_KEPT = int(WINDOW_S / SAMPLE_EVERY_S)  # an hour of chart at that rate
GIB = 1024**3


class StatsSampler:
    """``/system_stats``, cached for ``every`` seconds, and a ring buffer of free memory."""

    def __init__(self, comfy, *, every: float = SAMPLE_EVERY_S, keep: int = SAMPLES_KEPT) -> None:
        self._comfy = comfy
        self._every = every
        self._lock = threading.Lock()  # held while fetching: concurrent pages wait, not refetch
        self._samples: deque[tuple[float, str, float]] = deque(maxlen=keep * 8)  # RAM + a few devices
        self._latest: tuple[float, dict] | None = None  # (monotonic time, stats)
        self.requests = 0

    def stats(self) -> dict:
        """The newest stats, asked of ComfyUI only if the last are older than ``every``."""
        with self._lock:
            if self._latest and time.monotonic() - self._latest[0] < self._every:
                return self._latest[1]
            stats = self._comfy.client.system_stats()  # raises ComfyError: callers say so
            self.requests += 1
            self._latest = (time.monotonic(), stats)
            now = time.time()
            for series, value in memory_points(stats):
                self._samples.append((now, series, value))
            return stats

    def frame(self, since: float | None = None, prefix: str = "") -> pd.DataFrame:
        """The samples (taken at ``since`` or later) as a long table: time, series, GiB (what
        ``gr.LinePlot`` draws); ``prefix`` goes before each series' name (the server's)."""
        with self._lock:
            rows = [(t, prefix + series, value) for t, series, value in self._samples
                    if since is None or t >= since]
        df = pd.DataFrame(rows, columns=["time", "series", "GiB"])
        df["time"] = pd.to_datetime(df["time"], unit="s")
        return df


def memory_points(stats: dict) -> list[tuple[str, float]]:
    """(series, free GiB) for RAM and for each device's VRAM."""
    points = [("RAM free", (stats.get("system") or {}).get("ram_free", 0) / GIB)]
    for device in stats.get("devices") or []:
        points.append((f"{device.get('name', '?')} VRAM free", (device.get("vram_free") or 0) / GIB))
    return points


def _gib(value) -> str:
    return f"{(value or 0) / GIB:.1f} GiB"


def stats_markdown(stats: dict, lang: str) -> str:
    system = stats.get("system") or {}
    rows = [(tr("Operating system", lang), system.get("os", "?")),
            (tr("Python", lang), str(system.get("python_version", "?")).split(" ")[0]),
            (tr("PyTorch", lang), system.get("pytorch_version", "?")),
            (tr("ComfyUI", lang), system.get("comfyui_version", "?")),
            (tr("Memory (RAM)", lang), tr("{free} free of {total}", lang, free=_gib(system.get("ram_free")),
                                          total=_gib(system.get("ram_total"))))]
    for d in stats.get("devices") or []:
        name = f"{d.get('name', '?')} ({d.get('type', '?')})"
        rows.append((name, tr("VRAM {free} free of {total}; torch {tfree} free of {ttotal}", lang,
                              free=_gib(d.get("vram_free")), total=_gib(d.get("vram_total")),
                              tfree=_gib(d.get("torch_vram_free")), ttotal=_gib(d.get("torch_vram_total")))))
    head = f"| {md_escape(tr('Component', lang))} | {md_escape(tr('Version or memory', lang))} |"
    lines = [head, "|---|---|"] + [f"| {md_escape(k)} | {md_escape(v)} |" for k, v in rows]
    return "\n".join(lines)


SERVER_HEADERS = ("Server", "State", "Jobs in flight", "ComfyUI queue", "Checkpoints", "Last checkpoint")


def server_rows(cluster, lang: str) -> list[list]:
    """One row per server of ``cluster`` (its health as the cluster last saw it)."""
    rows = []
    for s in cluster.servers:
        state = "✔" if s.healthy else f"⚠ {server_reason(s, lang)}"  # the cluster's words, or describe's
        rows.append([s.label or s.url, state, s.in_flight, "—" if s.queue_remaining is None else s.queue_remaining,
                     ", ".join(s.checkpoints) or "—", s.last_checkpoint or "—"])
    return rows


class SystemView:
    """Shared by every page: the reads and the admin-only actions, of server number ``which``
    (1 = the first; anything else, None included, means the first). The browser names a server
    by its number in the picker, never by an address: no URL reaches the app from a page."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.comfies = list(ctx.cluster.comfies)
        self.samplers = {c.url: StatsSampler(c) for c in self.comfies}

    @property
    def urls(self) -> list[str]:
        return [c.url for c in self.comfies]

    @property
    def labels(self) -> dict[str, str]:
        """url -> what the page shows of that server (the url itself unless hidden)."""
        return {c.url: c.label for c in self.comfies}

    def comfy(self, which: int | None = None):
        ok = isinstance(which, int) and not isinstance(which, bool) and 1 <= which <= len(self.comfies)
        return self.comfies[which - 1] if ok else self.comfies[0]

    def sampler(self, which: int | None = None) -> StatsSampler:
        return self.samplers[self.comfy(which).url]

    def memory(self, *, now: float | None = None) -> pd.DataFrame:
        """Free RAM and VRAM of every server over the last hour, one series per server and kind (the
        server's label first when there are several); asks each server whose newest sample is due
        (one that does not answer keeps its line as it was)."""
        now = time.time() if now is None else now
        frames = []
        for comfy in self.comfies:
            sampler = self.samplers[comfy.url]
            try:
                sampler.stats()
            except ComfyError:
                pass
            prefix = f"{comfy.label} · " if len(self.comfies) > 1 else ""
            frames.append(sampler.frame(since=now - WINDOW_S, prefix=prefix))
        return pd.concat(frames, ignore_index=True)

    def chart(self, *, now: float | None = None):
        """The chart's update: :meth:`memory`, its time axis from the first sample (a minute before it)
        to now, at most the last hour (one sample alone: not a time axis a millisecond wide)."""
        now = time.time() if now is None else now
        frame = self.memory(now=now)
        first = frame["time"].min().timestamp() if len(frame) else now
        return gr.LinePlot(value=frame, x_lim=[max(now - WINDOW_S, first - 60), now])

    def models(self, which: int | None = None) -> list[list]:
        client = self.comfy(which).client
        rows = []
        for folder in client.models():
            # one server: the shared cache; several: this one's own list (the cache holds their union)
            files = self.ctx.catalog.models(folder) if len(self.comfies) == 1 else list(client.models(folder))
            rows.append([folder, len(files), ", ".join(files)])
        return rows

    def node_classes(self) -> list[str]:
        return sorted(self.ctx.catalog.object_info())

    def node(self, name: str | None, which: int | None = None, *, user: str | None = None) -> dict:
        """The node's definition; on a public app, file lists emptied unless ``user`` is an admin."""
        if not name:
            return {}
        info = self.comfy(which).client.object_info(name)
        if self.ctx.jobs.policy.public and not self.ctx.jobs.is_admin(user):
            info = hide_file_lists(info)
        return info.get(name, {})

    def free(self, user: str, lang: str, *, unload_models: bool, which: int | None = None) -> str:
        if not self.ctx.jobs.is_admin(user):
            return tr("Only an admin can free memory or unload models.", lang)
        self.comfy(which).client.free(unload_models=unload_models, free_memory=not unload_models)
        return tr("Asked ComfyUI to do it; it does so as soon as it is idle.", lang)

    def numbers(self, lang: str, *, now: float | None = None) -> list[list]:
        """The "Jobs in the last hour" table (see :mod:`comfy_ui_app.ui.system_numbers`)."""
        rows = self.ctx.jobs.store.stats(since=(time.time() if now is None else now) - WINDOW_S)
        per_server, overall = summarize(rows)
        cluster = self.ctx.cluster
        depths = {s.url: s.queue_remaining for s in cluster.servers}
        waiting = len(cluster.waiting())
        return number_rows(per_server, overall, servers=self.urls, depths=depths, app_waiting=waiting, lang=lang,
                           labels=self.labels)


def build_tab(ctx) -> TabHandles:
    view = SystemView(ctx)
    cluster = ctx.cluster
    with gr.Tab("System", id="system") as tab:
        servers = gr.Dataframe(headers=list(SERVER_HEADERS), interactive=False, label="ComfyUI servers",
                               elem_id="system-servers")
        numbers = gr.Dataframe(headers=list(NUMBER_HEADERS), interactive=False, label="Jobs in the last hour",
                               elem_id="system-numbers")
        picker = gr.Dropdown(label="Details below for", choices=[(c.label, n) for n, c in enumerate(view.comfies, 1)],
                             value=1, visible=len(view.urls) > 1, elem_id="system-server")  # shows labels, sends 1, 2…
        with gr.Row():
            summary = gr.Markdown("", elem_id="system-stats", elem_classes=["no-i18n"])
            chart = gr.LinePlot(x="time", y="GiB", color="series", label="Free memory (GiB)", height=260,
                                x_title="Time", y_title="GiB free", y_lim=[0, None], elem_id="system-memory")
        with gr.Row(visible=False) as admin_row:
            free_btn = gr.Button("Free memory")
            unload_btn = gr.Button("Unload models")
        message = gr.Markdown("", elem_id="system-message", elem_classes=["no-i18n"])
        models = gr.Dataframe(headers=["Folder", "Files", "Names"], interactive=False, label="Models")
        with gr.Row():
            embeddings = gr.Textbox(label="Embeddings", lines=4, interactive=False, elem_classes=["no-i18n"])
            extensions = gr.Textbox(label="Extensions", lines=4, interactive=False, elem_classes=["no-i18n"])
        node_picker = gr.Dropdown(label="Node", choices=[], value=None, filterable=True)
        node_info = gr.JSON(label="Node definition")
        refresh_btn = gr.Button("Refresh")
        timer = gr.Timer(SAMPLE_EVERY_S, active=False)

    def show_servers(lang):
        return gr.Dataframe(value=server_rows(cluster, lang), headers=[tr(h, lang) for h in SERVER_HEADERS])

    def show_numbers(lang):
        return gr.Dataframe(value=view.numbers(lang), headers=[tr(h, lang) for h in NUMBER_HEADERS])

    def show_stats(lang, which=None):
        sampler = view.sampler(which)
        try:
            facts = stats_markdown(sampler.stats(), lang)
        except ComfyError as e:
            facts = describe(e, lang=lang, names=ctx.names)
        return facts, view.chart()

    def open_tab(browser_id, lang, which=None, request: gr.Request = None):
        admin = ctx.jobs.is_admin(current_user(request, browser_id))
        client = view.comfy(which).client
        try:
            lists = (view.models(which), "\n".join(client.embeddings()),
                     "\n".join(client.extensions()), gr.Dropdown(choices=view.node_classes()))
        except ComfyError as e:
            lists = (gr.skip(), describe(e, lang=lang, names=ctx.names), gr.skip(), gr.skip())
        return (*show_stats(lang, which), gr.Row(visible=admin), *lists, gr.Timer(active=True))

    def show_node(name, lang, which=None, browser_id=None, request: gr.Request = None):
        try:
            return view.node(name, which, user=current_user(request, browser_id))
        except ComfyError as e:
            return {"error": describe(e, lang=lang, names=ctx.names)}

    def act(unload_models):
        def handler(browser_id, lang, which=None, request: gr.Request = None):
            try:
                return view.free(current_user(request, browser_id), lang, unload_models=unload_models, which=which)
            except ComfyError as e:
                return describe(e, lang=lang, names=ctx.names)
        handler.__name__ = "system_unload_models" if unload_models else "system_free_memory"
        return handler

    common = dict(concurrency_limit=None, show_progress="hidden")
    opened = [summary, chart, admin_row, models, embeddings, extensions, node_picker, timer]
    who = [ctx.browser_id, ctx.lang, picker]
    tab.select(open_tab, who, opened, api_visibility="private", **common)
    refresh_btn.click(open_tab, who, opened, api_name="system_refresh", **common)
    picker.change(open_tab, who, opened, api_visibility="private", **common)
    timer.tick(show_stats, [ctx.lang, picker], [summary, chart], api_visibility="private", **common)
    # the servers' table: when the tab opens, on Refresh, and with the chart
    gr.on([tab.select, refresh_btn.click, timer.tick], show_servers, [ctx.lang], [servers],
          api_name="system_servers", **common)
    gr.on([tab.select, refresh_btn.click, timer.tick], show_numbers, [ctx.lang], [numbers],
          api_name="system_numbers", **common)
    browser = [ctx.browser_id] if ctx.browser_id is not None else []   # who asks: an admin sees file lists
    node_picker.change(show_node, [node_picker, ctx.lang, picker, *browser], [node_info], api_name="system_node",
                       **common)
    free_btn.click(act(False), who, [message], api_name="system_free_memory", **common)
    unload_btn.click(act(True), who, [message], api_name="system_unload_models", **common)
    return TabHandles(needs_server=[free_btn, unload_btn, refresh_btn],
                      parts={"summary": summary, "chart": chart, "view": view, "message": message,
                             "servers": servers, "numbers": numbers, "picker": picker},
                      tab=tab, timers=[timer])
