"""``GET /healthz``: is the app up, and can it reach its ComfyUI servers? For operators and probes.

    {"status": "ok" | "degraded" | "down",
     "servers": [{"name": "server 1", "url": "gpu-1:8188", "healthy": true, "reason": "", "queue_depth": 0}],
     "jobs": {"waiting": 3, "running": 2}}

* ``status``: "ok" when every server is usable, "degraded" when some are, "down" when none is.
* HTTP status: always 200 while the app runs (a container's health check must not restart the
  app because ComfyUI is down; the page keeps retrying by itself). ``GET /healthz?ready=1`` answers
  503 when no server is usable, for a readiness probe or a load balancer.
* ``url`` is the server's ``host:port`` only: no scheme, path, query or ``user:password@``;
  a ``reason`` has every address in it cut the same way. Where the page hides server addresses
  (``--no-show-server-urls``, the default on a Space or a public page) ``url`` is null and a
  reason names the server as the page does ("ComfyUI server 2"): the route needs no login
  (probes have none), so it says nothing about users, prompts, files or hidden addresses.
* A ComfyUI the app starts itself (``--comfyui-dir``) that is starting, restarting or failed
  says so in its ``reason``.
* ``queue_depth``: ComfyUI's own ``queue_remaining`` (running and pending, every client's), null
  while unknown; ``jobs``: the app's recorded jobs waiting (in the app's queue or a server's)
  and running.

The route is one of the FastAPI app's own (``launch(app_kwargs=health.app_kwargs(...))``,
the ``routes`` FastAPI takes), so Gradio's catch-all and login checks never see it: app.py
and the tests' ``launch_app`` both launch through :func:`app_kwargs`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

__all__ = ["PATH", "health", "server_address", "app_kwargs"]

PATH = "/healthz"
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>()]+")


def server_address(url: str) -> str:
    """``http://user:pw@gpu-1:8188/x?y`` -> ``gpu-1:8188`` (what /healthz shows of a server)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: show the host only
        port = None
    return f"{host}:{port}" if port else host or "?"


def _states(cluster: Any) -> list[tuple[str, str, bool, str, int | None]]:
    """(url, label, healthy, reason, queue_remaining) of each server of a Cluster."""
    return [(s.url, s.label, bool(s.healthy), s.reason or "", s.queue_remaining) for s in cluster.servers]


def _hide(text: str, url: str, label: str) -> str:
    """``text`` with ``url``, and its host however written, replaced by ``label``."""
    text = _URL.sub(label, text)
    host = urlsplit(url).hostname
    return text.replace(host, label) if host else text


def _local_reason(local: Any) -> str:
    """What a managed local ComfyUI is doing, in the banner's words; "" while it runs. A failed
    start says so without its log (which names folders on this computer)."""
    from comfy_ui_app.ui.status import local_status

    status = None if local is None else local_status(local.state())
    if status is None:
        return ""
    return "ComfyUI did not start; see the app's terminal or comfyui.log" if status.error else status.text


def health(target: Any, jobs: Any, local: Any = None) -> tuple[int, dict]:
    """``(readiness HTTP status, body)`` for ``target`` (the app's Cluster), ``jobs`` (its
    JobService) and ``local`` (the ``managed.LocalComfyUI`` the app started, or None;
    it is the first server). Reads only what the app already knows: no request to ComfyUI."""
    servers = []
    for number, (url, label, healthy, reason, depth) in enumerate(_states(target), start=1):
        if number == 1 and not healthy and local is not None:
            reason = _local_reason(local) or reason
        hidden = bool(label) and label != url
        if hidden:
            reason = _hide(reason, url, label)
        else:
            reason = _URL.sub(lambda m: server_address(m.group(0)), reason)
        servers.append({"name": f"server {number}", "url": None if hidden else server_address(url),
                        "healthy": healthy, "reason": "" if healthy else reason, "queue_depth": depth})
    up = sum(s["healthy"] for s in servers)
    status = "ok" if up == len(servers) else "degraded" if up else "down"
    counts = {"waiting": jobs.store.count(statuses="queued"), "running": jobs.store.count(statuses="running")}
    return (503 if status == "down" else 200), {"status": status, "servers": servers, "jobs": counts}


def health_route(target: Any, jobs: Any, local: Any = None) -> APIRoute:
    """The ``GET /healthz`` route over ``target``, ``jobs`` and ``local``."""

    def healthz(request: Request) -> JSONResponse:
        code, body = health(target, jobs, local)
        ready = request.query_params.get("ready", "").lower() not in ("", "0", "false", "no")
        return JSONResponse(body, status_code=code if ready else 200, headers={"Cache-Control": "no-store"})

    return APIRoute(PATH, healthz, methods=["GET"], include_in_schema=False)


def app_kwargs(target: Any, jobs: Any, local: Any = None) -> dict:
    """What to pass as ``demo.launch(app_kwargs=...)``: the app's own routes (a new dict each
    time: Gradio adds to it)."""
    return {"routes": [health_route(target, jobs, local)]}
