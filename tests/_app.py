"""What production builds, for tests that drive one piece of it without a web server.

``app.py`` (through :mod:`comfy_ui_app.assembly`) always runs a :class:`Cluster` (one server
too) with a :class:`JobService` on it; :func:`job_service` builds the same over the given
servers, and :func:`app_context` the ``AppContext`` the page's tabs get from ``build_app``.
"""
from __future__ import annotations

from pathlib import Path

from comfy_ui_app import Comfy
from comfy_ui_app.assembly import start_jobs
from comfy_ui_app.jobs.service import JobService
from comfy_ui_app.ui.context import AppContext, ServerCatalog
from _waiting import wait_for

REPO = Path(__file__).resolve().parents[1]


def job_service(servers, store, *, healthy: bool = True, cluster_options: dict | None = None,
                comfy_options: dict | None = None, **options) -> JobService:
    """A started JobService over a Cluster of ``servers`` (URLs or ``Comfy`` objects), as the
    app builds it; ``healthy``: wait until every server is usable; ``comfy_options``: more
    arguments for the ``Comfy`` of each URL. Close with ``.cluster.close()``."""
    servers = [servers] if isinstance(servers, (str, Comfy)) else list(servers)
    comfies = [s if isinstance(s, Comfy) else Comfy(s, timeout=5, poll_interval=0.2, **(comfy_options or {}))
               for s in servers]
    jobs = start_jobs(comfies, store, **options, **{"health_interval": 0.2, **(cluster_options or {})})
    cluster = jobs.cluster
    if healthy:
        wait_for(lambda: all(s.healthy for s in cluster.servers), what="every server healthy")
    return jobs


def app_context(jobs: JobService, output_dir: Path, *, workflows_dir: Path = REPO / "workflows", lang=None,
                browser_id=None) -> AppContext:
    """The ``AppContext`` ``build_app`` gives the tabs, over ``jobs`` and its cluster."""
    return AppContext(jobs.cluster, jobs, Path(workflows_dir), Path(output_dir), ServerCatalog(jobs.cluster), lang,
                      browser_id)
