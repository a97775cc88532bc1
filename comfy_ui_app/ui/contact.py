"""Whether a followed job's server can be reached, in words for the progress line.

A job whose ComfyUI stops answering used to keep its last progress line ("Running · step
4/20 · ETA 3 s") until ``Comfy`` gave up on it a minute later. :func:`contact_problem`
looks at where the job lives each time :func:`~comfy_ui_app.ui.jobfeed.follow` wakes up:

* a job of one :class:`~comfy_ui_app.Comfy` (waiting in its queue or running): that
  server's event stream (``comfy.connected``);
* a :class:`~comfy_ui_app.cluster.cluster.ClusterJob` waiting in the app's own queue: whether any
  of the cluster's servers is healthy;
* a ClusterJob sent to a server: the event stream of that server.

It answers None while all is well (and for anything it cannot look into, such as a test's
stand-in job), so the page goes back to the job's own progress as soon as contact is back.
"""
from __future__ import annotations

from typing import Any

from comfy_ui_app.texts.i18n import tr

__all__ = ["CONTACT_CHECK_S", "contact_problem"]

CONTACT_CHECK_S = 0.5  # how often a follower looks at its server while nothing else happens


def _seconds(value: Any) -> int | None:
    return round(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _lost(comfy: Any, lang: str) -> str | None:
    """Words while ``comfy``'s event stream is down, else None."""
    if getattr(comfy, "connected", None) is not False:
        return None
    limit = _seconds(getattr(comfy, "give_up_after", None))
    if limit is None:
        return tr("Lost contact with ComfyUI; waiting for it…", lang)
    return tr("Lost contact with ComfyUI; waiting for it (up to {s} s)…", lang, s=limit)


def contact_problem(job: Any, lang: str) -> str | None:
    """What the progress line says while ``job``'s server cannot be reached; None when it can."""
    if getattr(job, "done", False):
        return None
    owner = getattr(job, "host", None)  # a Comfy, or the Cluster of a ClusterJob
    servers = getattr(owner, "servers", None)
    if servers is None:
        return _lost(owner, lang)
    if getattr(job, "waiting", False):  # in the app's own queue
        if any(getattr(s, "healthy", False) for s in servers):
            return None
        limit = _seconds(getattr(owner, "give_up_after", None))
        if limit is None:
            return tr("No ComfyUI server can be reached; the job waits for one…", lang)
        return tr("No ComfyUI server can be reached; the job waits for one (up to {s} s)…", lang, s=limit)
    server_job = getattr(job, "server_job", None)
    return _lost(getattr(server_job, "host", None), lang) if server_job is not None else None
