"""``python -m comfy_ui_app history``, and the job store the command line records into.

The store is the web app's (:mod:`comfy_ui_app.jobs.store`): ``--data DIR``, else the
``COMFY_UI_DATA`` environment variable, else ``./data``. ``generate`` records its job
there through :class:`~comfy_ui_app.jobs.service.JobService` (owner ``cli:<login name>``,
client ``cli``), outputs included, so CLI runs show in ``history`` and, for an admin,
in the web app's History tab. ``history`` lists every job in the store, newest first
(the command line is run by whoever can read the data folder anyway).

Deliberately no gradio import (see cli.main).
"""

from __future__ import annotations

import getpass
import json
import sys
import time
from pathlib import Path

from comfy_ui_app.cli.common import EXIT_OK
from comfy_ui_app.settings.command_line import HISTORY
from comfy_ui_app.texts.messages import describe_recorded

__all__ = ["cli_owner", "Recording", "history_command", "add_parser"]

# the file name comfy_ui_app.jobs.store uses: history does not create a store that is not there
DATABASE = "jobs.sqlite3"


def cli_owner() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (some containers)
        return "cli:unknown"


class Recording:
    """A ``generate`` run recorded like a web job.

        recording = Recording(args.data)
        comfy = Comfy(url, save_outputs=recording.save_outputs)
        job = recording.submit(comfy, prompt, template="txt2img", values={...})
        ...
        recording.close()   # after the job finished: waits for its record to be written
    """

    def __init__(self, data: str | Path) -> None:
        self.data = Path(data)
        self.store = None  # opened by submit: nothing is created for a run that never gets that far
        self.cluster = None
        self.service = None
        self.job_id: str | None = None
        self._hook = None

    def save_outputs(self, job, node: str, images: list) -> list:
        """The ``save_outputs`` hook for ``Comfy(...)``: outputs land in the store too."""
        return self._hook(job, node, images) if self._hook is not None else images

    def submit(self, comfy, prompt: dict, *, template: str, values: dict):
        """Record, then queue (raises what ``Comfy.submit`` raises; the record says why)."""
        from comfy_ui_app.cluster.cluster import Cluster
        from comfy_ui_app.jobs.service import JobService
        from comfy_ui_app.jobs.store import JobStore

        self.store = JobStore(self.data)
        self._hook = JobService.hooks_for(self.store)
        self.cluster = Cluster([comfy], per_server=1, health_interval=0.5)  # as the web app runs jobs
        self.service = JobService(self.cluster, self.store)
        self.cluster.start()
        record, job = self.service.submit(owner=cli_owner(), template=template, kind=template, values=values,
                                          prompt=prompt, client="cli")
        self.job_id = record.job_id
        return job

    def close(self, timeout: float = 5.0) -> None:
        """Wait (up to ``timeout``) until the job's last status is stored, then close the store.

        A job still unfinished then (Ctrl-C) keeps its record as queued/running; the web
        app's ``JobService.resume`` settles it from ComfyUI's history at its next start."""
        if self.store is None:
            return
        deadline = time.monotonic() + timeout
        while self.job_id and self.service.live(self.job_id) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.cluster.close()
        self.store.close()


def _job_json(record) -> dict:
    return {"job_id": record.job_id, "owner": record.owner, "template": record.template, "kind": record.kind,
            "client": record.client, "status": record.status, "error": record.error,
            "error_code": record.error_code, "error_data": record.error_data,
            "created_at": record.created_at, "started_at": record.started_at, "finished_at": record.finished_at,
            "duration": record.duration, "server": record.server, "prompt_id": record.prompt_id,
            "values": record.values, "outputs": [str(o.path) for o in record.outputs]}


def _job_line(record) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created_at))
    took = "-" if record.duration is None else f"{record.duration:.1f} s"
    line = (f"{when}  {record.status:<11}  {record.template:<12}  {record.owner:<16}  {took:>8}  "
            f"{len(record.outputs)} image(s)  {record.job_id}")
    return line + (f"\n    {' '.join(describe_recorded(record).split())}" if record.error else "")


def history_command(args, out=None) -> int:
    out = out or sys.stdout
    folder = Path(args.data)   # --limit is at least 1: the settings checked it
    if not (folder / DATABASE).is_file():
        records = []
    else:
        from comfy_ui_app.jobs.store import JobStore

        store = JobStore(folder)
        try:
            records = store.list(owner=args.user, limit=args.limit)
        finally:
            store.close()
    if args.json:
        print(json.dumps([_job_json(r) for r in records], indent=2, ensure_ascii=False), file=out, flush=True)
    elif not records:
        print(f"No jobs recorded in {folder}" + (f" for {args.user}." if args.user else "."), file=out, flush=True)
    else:
        for record in records:
            print(_job_line(record), file=out)
        out.flush()
    return EXIT_OK


def add_parser(sub, *, formatter_class=None, epilog=None):
    """Register ``history`` on cli.main's subparsers (its options: ``settings.command_line.HISTORY``)."""
    hist = sub.add_parser(
        "history", formatter_class=formatter_class, epilog=epilog,
        help="list the jobs recorded by the web app and by generate",
        description="List the jobs in the app's job store, newest first: when, status, template, owner,\n"
                    "duration, number of images and job id (and the error, if any). The web app and\n"
                    "`generate` both record there.\n\n"
                    "example:\n  python -m comfy_ui_app history --json --data ./data")
    hist.declare(HISTORY)
    hist.set_defaults(run=history_command)
    return hist
