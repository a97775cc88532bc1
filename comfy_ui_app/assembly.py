"""Put the app together as ``python app.py`` runs it: servers, job service, page, routes.

``app.py`` reads the settings and calls :func:`assemble` then :func:`launch`; the tests'
``launch_app`` fixtures call the same two functions, so what the tests drive is what
production runs (a :class:`~comfy_ui_app.cluster.cluster.Cluster` over every server, one
server too, and a :class:`~comfy_ui_app.jobs.service.JobService` recording every job).
Timing knobs (``comfy_options``, ``cluster_options``) exist so fault tests need not wait
for production's patient defaults.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from comfy_ui_app.cluster.cluster import RUN_LIMIT_S, Cluster
from comfy_ui_app.comfy.connection import Comfy
from comfy_ui_app.jobs.limits import Limits
from comfy_ui_app.jobs.policy import Policy
from comfy_ui_app.jobs.service import JobService
from comfy_ui_app.jobs.store import JobStore
from comfy_ui_app.jobs.uploads import MAX_PIXELS, set_pillow_limit
from comfy_ui_app.ui import build_app
from comfy_ui_app.ui import healthz
from comfy_ui_app.ui.call_guard import CallGuard

__all__ = ["AssembledApp", "assemble", "launch", "start_jobs"]


@dataclass
class AssembledApp:
    """The running pieces; :meth:`close` stops them in order (page, servers, store)."""

    cluster: Cluster
    jobs: JobService
    store: JobStore
    demo: gr.Blocks
    output_dir: Path
    local: Any = None   # a local.managed.LocalComfyUI the app started, or None

    @property
    def comfy(self) -> Comfy:
        """The first server (the only one, usually)."""
        return self.cluster.comfies[0]

    def close(self) -> None:
        self.demo.close()
        self.cluster.close()
        self.store.close()


def start_jobs(comfies: list[Comfy], store: JobStore, *, admins: Iterable[str] = (), log_prompts: bool = False,
               limits: Limits | None = None, policy: Policy | None = None, **cluster_options: Any) -> JobService:
    """The servers behind one queue of the app's own (a :class:`Cluster`, one server too) and the
    :class:`JobService` that records every job on it, started; ``cluster_options`` go to the
    Cluster (``per_server``, ``run_limit``, timings). :func:`assemble` uses it, and so do tests
    that drive the job service without a page."""
    cluster = Cluster(comfies, **cluster_options)
    jobs = JobService(cluster, store, admins=admins, log_prompts=log_prompts,
                      limits=limits, policy=policy)   # before start: it installs the dispatch hook
    cluster.start()   # never raises when ComfyUI is down; keeps retrying
    return jobs


def assemble(urls: list[str], *, data_dir: Path, output_dir: Path, workflows_dir: Path,
             labels: list[str | None] | None = None, per_server: int = 2, run_limit: float | None = RUN_LIMIT_S,
             admins: set[str] | frozenset[str] | tuple = (), log_prompts: bool = False,
             limits: Limits | None = None, policy: Policy | None = None, browser_secret: str | None = None,
             identity_key: bytes | str | None = None, hf_login: bool = False,
             local: Any = None, comfy_options: dict | None = None,
             cluster_options: dict | None = None) -> AssembledApp:
    """Build and start everything but the web server: one queue of the app's own over every
    server (one server too: users take turns there), jobs picked up again from the store.

    ``run_limit`` is in seconds (None: no limit); ``labels`` are what a public page shows
    instead of each url (None: the url); ``policy``: what a visitor may send (None: a
    private app's rules)."""
    set_pillow_limit(MAX_PIXELS)  # Pillow refuses any picture over our limit, wherever it is opened
    output_dir.mkdir(parents=True, exist_ok=True)
    store = JobStore(data_dir)
    labels = labels or [None] * len(urls)
    comfies = [Comfy(url, label=label, **(comfy_options or {})) for url, label in zip(urls, labels)]
    jobs = start_jobs(comfies, store, admins=admins, log_prompts=log_prompts, limits=limits, policy=policy,
                      per_server=per_server, run_limit=run_limit, **(cluster_options or {}))
    cluster = jobs.cluster
    try:
        jobs.resume()     # jobs that were queued or running when the app last stopped
        demo = build_app(cluster, jobs, workflows_dir=workflows_dir, output_dir=output_dir,
                         browser_secret=browser_secret, identity_key=identity_key, hf_login=hf_login, local_comfyui=local)
        demo.queue(default_concurrency_limit=None)   # streaming handlers must not wait on each other
    except BaseException:
        cluster.close()
        store.close()
        raise
    return AssembledApp(cluster, jobs, store, demo, output_dir, local)


def launch(app: AssembledApp, *, host: str = "127.0.0.1", port: int | None = None, share: bool = False,
           auth: list[tuple[str, str]] | None = None, max_file_size: int | None = None,
           block: bool = True, quiet: bool = False) -> str:
    """Serve the page (and ``GET /healthz``, no login needed); returns its local URL.
    ``block=False`` returns at once (tests); otherwise this returns when the server stops."""
    _, url, _ = app.demo.launch(
        server_name=host, server_port=port, share=share, auth=auth or None, quiet=quiet,
        prevent_thread_lock=not block,
        allowed_paths=[str(app.output_dir), str(app.store.outputs_dir)],
        max_file_size=max_file_size,
        app_kwargs={**healthz.app_kwargs(app.cluster, app.jobs, app.local),
                    "middleware": [Middleware(CallGuard, blocks=app.demo)]})   # a malformed call: one plain line
    return url
