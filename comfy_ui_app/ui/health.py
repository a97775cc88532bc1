"""``GET /healthz``: is the app up, and can it reach its ComfyUI servers? For operators and probes.

    {"status": "ok" | "degraded" | "down",
     "servers": [{"name": "server 1", "url": "gpu-1:8188", "healthy": true, "reason": "", "queue_depth": 0}],
     "jobs": {"waiting": 3, "running": 2}}

* ``status``: "ok" when every server is usable, "degraded" when some are, "down" when none is.
* HTTP status: 200 for "ok" and "degraded", 503 for "down", so a readiness probe (or a load
  balancer) can use the route as it is. ``GET /healthz?live=1`` always answers 200 while the
  app runs: a liveness probe must not restart the app because ComfyUI is down.
* ``url`` is the server's ``host:port`` only: no scheme, path, query or ``user:password@``;
  a ``reason`` has every address in it cut the same way. The route needs no login (probes
  have none), so it says nothing about users, prompts or files.
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
NO_STREAM = "no event stream (WebSocket) from it"


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


def _states(target: Any) -> list[tuple[str, bool, str, int | None]]:
    """(url, healthy, reason, queue_remaining) of each server of a Cluster or of one Comfy."""
    if hasattr(target, "servers"):
        return [(s.url, bool(s.healthy), s.reason or "", s.queue_remaining) for s in target.servers]
    connected = bool(target.connected)  # one Comfy: its event stream is up while it answers
    return [(target.url, connected, "" if connected else NO_STREAM, target.queue_remaining)]


def health(target: Any, jobs: Any) -> tuple[int, dict]:
    """``(HTTP status, body)`` for ``target`` (a Cluster or a Comfy) and ``jobs`` (a JobService,
    or None). Reads only what the app already knows: no request to ComfyUI is made."""
    servers = []
    for number, (url, healthy, reason, depth) in enumerate(_states(target), start=1):
        reason = _URL.sub(lambda m: server_address(m.group(0)), reason) if reason else ""
        servers.append({"name": f"server {number}", "url": server_address(url), "healthy": healthy,
                        "reason": "" if healthy else reason, "queue_depth": depth})
    up = sum(s["healthy"] for s in servers)
    status = "ok" if up == len(servers) else "degraded" if up else "down"
    store = getattr(jobs, "store", None)
    counts = {"waiting": store.count(statuses="queued"), "running": store.count(statuses="running")} \
        if store is not None else {"waiting": 0, "running": 0}
    return (503 if status == "down" else 200), {"status": status, "servers": servers, "jobs": counts}


def health_route(target: Any, jobs: Any) -> APIRoute:
    """The ``GET /healthz`` route over ``target`` and ``jobs``."""

    def healthz(request: Request) -> JSONResponse:
        code, body = health(target, jobs)
        live = request.query_params.get("live", "").lower() not in ("", "0", "false", "no")
        return JSONResponse(body, status_code=200 if live else code, headers={"Cache-Control": "no-store"})

    return APIRoute(PATH, healthz, methods=["GET"], include_in_schema=False)


def app_kwargs(target: Any, jobs: Any) -> dict:
    """What to pass as ``demo.launch(app_kwargs=...)``: the app's own routes (a new dict each
    time: Gradio adds to it)."""
    return {"routes": [health_route(target, jobs)]}
