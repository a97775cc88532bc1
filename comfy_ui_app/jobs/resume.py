"""Picking jobs up after an app restart: :class:`Resumer`, composed into
:class:`~comfy_ui_app.jobs.service.JobService` (``jobs.resume()``).

``resume`` follows again every record still queued or running, over the service's
:class:`~comfy_ui_app.cluster.cluster.Cluster`: a record sent to one of its servers is
adopted there (``Cluster.adopt``: it holds a slot there and the run limit applies); one that
never left the app's queue is queued again under the same id; one sent to a server that is
no longer configured ends as lost, saying so (a record of the command line, ``client="cli"``,
is left alone: that process may still be following it on a server the app never had).

A resumed job that ComfyUI finished while the app was away is settled from ``/history``; its
start and finish times are then ComfyUI's own (the status messages' timestamps), not the
moment the app came back (:meth:`Resumer.settled_times`).

What it needs of the service is declared by :class:`ResumeHost`.
"""

from __future__ import annotations

from typing import Protocol

from comfy_ui_app.cluster.cluster import Cluster
from comfy_ui_app.comfy.connection import Comfy
from comfy_ui_app.comfy.jobs import Job
from comfy_ui_app.errors import ComfyError, ServerNoLongerConfigured, error_record
from comfy_ui_app.jobs.records import history_times
from comfy_ui_app.jobs.store import JobRecord, JobStore, current_server

__all__ = ["Resumer", "ResumeHost"]


class ResumeHost(Protocol):
    """What :class:`Resumer` uses of the job service."""

    store: JobStore
    cluster: Cluster

    def is_followed(self, job_id: str) -> bool:
        """This process follows the job already."""

    def expect(self, prompt_id: str, job_id: str) -> None:
        """``prompt_id`` (about to be queued) belongs to the record ``job_id``."""

    def follow(self, job_id: str, job: Job, *, resumed: bool = False) -> None:
        """Record ``job``'s story under ``job_id`` from now on."""

    def log_event(self, job_id: str, event: str) -> None:
        """One job log line for the record as now stored."""

    def comfy_for(self, url: str | None) -> Comfy:
        """The server at ``url``."""


class Resumer:
    """Follows again, after a restart, the jobs the service recorded but did not see end."""

    def __init__(self, host: ResumeHost) -> None:
        self._host = host

    def resume(self) -> list[JobRecord]:
        """Follow again the jobs this app had when it last stopped; returns their records."""
        host, store = self._host, self._host.store
        urls = {c.url for c in host.cluster.comfies}
        resumed = []
        for record in store.unfinished():
            url = current_server(record)
            if host.is_followed(record.job_id) or (url and url not in urls and record.client == "cli"):
                continue
            if url and url not in urls:
                line, code, data = error_record(ServerNoLongerConfigured(url))
                store.update_status(record.job_id, "lost", error=line, error_code=code, error_data=data)
                host.log_event(record.job_id, "finished")
                continue
            if url:
                job = host.cluster.adopt(record.prompt_id, record.prompt, url=url, owner=record.owner,
                                         running=record.status == "running")
            else:  # never sent anywhere: back into the app's queue under the same id
                host.expect(record.prompt_id, record.job_id)
                job = host.cluster.submit(record.prompt, owner=record.owner, prompt_id=record.prompt_id)
            host.follow(record.job_id, job, resumed=bool(url))
            resumed.append(record)
        return resumed

    def settled_times(self, job_id: str, job: Job) -> tuple[float | None, float | None]:
        """ComfyUI's own (started, finished) of a resumed job that just ended, from ``/history``,
        as far as they fit the record (a start already recorded is kept); None: use now."""
        comfy = self._host.comfy_for(getattr(job, "server", None))
        try:
            entry = comfy.client.get_history_item(job.prompt_id).get(job.prompt_id)
        except ComfyError:
            return None, None
        started, finished = history_times(entry or {})
        record = self._host.store.get(job_id)
        if record is None:
            return None, None
        if record.started_at is not None or (started is not None and started < record.created_at):
            started = None  # seen starting live (keep that), or clocks apart
        begin = record.started_at or started or record.created_at
        if finished is not None and finished < begin:
            finished = None  # clocks apart: ComfyUI's finish is before our start
        return started, finished
