"""The part of :class:`~comfy_ui_app.jobs.service.JobService` that picks jobs up after an app restart.

``resume`` follows again every record still queued or running:

* on a single :class:`~comfy_ui_app.Comfy`: the records of that server are adopted there;
* over a :class:`~comfy_ui_app.cluster.cluster.Cluster`: a record sent to one of its servers is
  adopted there (``Cluster.adopt``: it holds a slot there and the run limit applies); one that
  never left the app's queue is queued again under the same id; one sent to a server that is
  no longer configured ends as lost, saying so (a record of the command line, ``client="cli"``,
  is left alone: that process may still be following it on a server the app never had).

A resumed job that ComfyUI finished while the app was away is settled from ``/history``; its
start and finish times are then ComfyUI's own (the status messages' timestamps), not the
moment the app came back (:meth:`Resuming._settled_times`).

A mixin: it uses the service's ``store``, ``comfy``, ``comfies``, ``cluster``, ``comfy_for``,
``_follow``, ``_log``, ``_live``, ``_lock`` and ``_job_ids``.
"""

from __future__ import annotations

from comfy_ui_app.comfy.jobs import Job
from comfy_ui_app.jobs.records import history_times
from comfy_ui_app.errors import ComfyError
from comfy_ui_app.jobs.store import JobRecord, current_server

__all__ = ["Resuming", "SERVER_GONE"]

SERVER_GONE = "The ComfyUI server it was sent to is no longer configured; please run it again"


class Resuming:
    def resume(self) -> list[JobRecord]:
        """Follow again the jobs this app had when it last stopped; returns their records."""
        if self.cluster is None:
            records = [r for r in self.store.unfinished(server=self.comfy.url) if r.job_id not in self._live]
            for record in records:
                self._follow(record.job_id, self.comfy.adopt(record.prompt_id, record.prompt), resumed=True)
            return records
        urls = {c.url for c in self.comfies}
        resumed = []
        for record in self.store.unfinished():
            url = current_server(record)
            if record.job_id in self._live or (url and url not in urls and record.client == "cli"):
                continue
            if url and url not in urls:
                self.store.update_status(record.job_id, "lost", error=SERVER_GONE)
                self._log(record.job_id, "finished")
                continue
            if url:
                job = self.cluster.adopt(record.prompt_id, record.prompt, url=url, owner=record.owner,
                                         running=record.status == "running")
            else:  # never sent anywhere: back into the app's queue under the same id
                with self._lock:
                    self._job_ids[record.prompt_id] = record.job_id
                job = self.cluster.submit(record.prompt, owner=record.owner, prompt_id=record.prompt_id)
            self._follow(record.job_id, job, resumed=bool(url))
            resumed.append(record)
        return resumed

    def _settled_times(self, job_id: str, job: Job) -> tuple[float | None, float | None]:
        """ComfyUI's own (started, finished) of a resumed job that just ended, from ``/history``,
        as far as they fit the record (a start already recorded is kept); None: use now."""
        comfy = self.comfy_for(getattr(job, "server", None) or self.comfy.url)
        try:
            entry = comfy.client.get_history_item(job.prompt_id).get(job.prompt_id)
        except ComfyError:
            return None, None
        started, finished = history_times(entry or {})
        record = self.store.get(job_id)
        if record is None:
            return None, None
        if record.started_at is not None or (started is not None and started < record.created_at):
            started = None  # seen starting live (keep that), or clocks apart
        begin = record.started_at or started or record.created_at
        if finished is not None and finished < begin:
            finished = None  # clocks apart: ComfyUI's finish is before our start
        return started, finished
