"""How a :class:`~comfy_ui_app.cluster.cluster.Cluster` judges its jobs: which can never run, which
gave up waiting, which ran too long, and how a job sent to a server ends.

* :func:`nowhere_to_run` and :func:`hopeless`: a job that no known server can run ends at
  once with ``errors.NoServerCanRun`` (what is missing, as data), unless some configured
  server has never told us its model lists and node classes (down since the app started):
  then it waits for that server to answer, for at most ``give_up_after`` seconds, and the
  error then names the servers that could not be asked;
* :func:`overdue` (and ``errors.RunLimitExceeded``): the cluster's run limit (a job that
  runs on a server for longer than that is stopped there);
* :func:`outcome`: the error of a job that ended on a server, naming that server.

Pure functions over the cluster's :class:`~comfy_ui_app.cluster.dispatch.Member` views; the caller
holds the cluster's lock.
"""

from __future__ import annotations

from comfy_ui_app.cluster.dispatch import ClusterJob, Member
from comfy_ui_app.comfy.jobs import Job
from comfy_ui_app.comfy.updates import Finished
from comfy_ui_app.errors import ComfyError, JobLost, NoServerCanRun, ServerUnreachable

__all__ = ["hopeless", "nowhere_to_run", "outcome", "overdue"]


def overdue(servers: list[Member], now: float, run_limit: float | None) -> list[tuple[ClusterJob, Member]]:
    """The jobs that have run on their server for more than ``run_limit`` seconds and are not
    finished (each job once: it is marked)."""
    if run_limit is None:
        return []
    late = []
    for server in servers:
        for prompt_id, job in server.attempts.items():
            if (job.prompt_id == prompt_id and not job.done and not job.overran
                    and job.run_started is not None and now - job.run_started > run_limit):
                job.overran = True
                late.append((job, server))
    return late


def nowhere_to_run(job: ClusterJob, servers: list[Member], *, answered: bool = False) -> NoServerCanRun | None:
    """Why no server can ever run ``job`` (as far as the known servers tell), or None: the
    node types and checkpoints no known server has. ``answered``: the error says "no ComfyUI
    server that answered" (some could not be asked)."""
    if not any(s.healthy for s in servers):
        return None  # nothing to judge by: the job waits
    known = [s for s in servers if s.known]
    if any(s.can_run(job) for s in known):
        return None
    nodes = set().union(*(s.node_classes for s in known))
    checkpoints = set().union(*(s.checkpoints for s in known))
    return NoServerCanRun(sorted(job.classes - nodes), [c for c in job.checkpoints if c not in checkpoints],
                          answered=answered)


def hopeless(job: ClusterJob, servers: list[Member], now: float, give_up_after: float | None) -> ComfyError | None:
    """The error to end a waiting job with, or None: it may wait on.

    No known server can run it: at once, unless a server has never been asked what it has
    (then only after ``give_up_after`` s, naming those servers); no healthy server able to
    run it for ``give_up_after`` s: ServerUnreachable."""
    problem = nowhere_to_run(job, servers)
    unasked = [s for s in servers if not s.known]
    if problem is not None and not unasked:
        return problem
    if problem is None and any(s.healthy and s.can_run(job) for s in servers):
        job.stuck_since = None
    elif job.stuck_since is None:
        job.stuck_since = now
    elif give_up_after is not None and now - job.stuck_since > give_up_after:
        if problem is not None:
            return NoServerCanRun(problem.missing_nodes, problem.missing_checkpoints, answered=True,
                                  unasked=[s.url for s in unasked], waited=give_up_after)
        named = [s for s in servers if s.can_run(job) or not s.known] or servers
        return ServerUnreachable(", ".join(s.url for s in named), f"no server could take the job for "
                                 f"{give_up_after:g} s")
    return None


def outcome(finished: Finished, server_job: Job | None, url: str, *,
            started: bool = False) -> tuple[str, ComfyError | None]:
    """How a job sent to ``url`` ends, its errors naming that server
    (``started``: it had begun to run there); a success whose images could not be fetched is
    an error (the user would get nothing)."""
    status, error = finished.status, finished.error
    fetch_failed = server_job is not None and server_job.fetch_errors
    if fetch_failed and (status == "success" or error is server_job.fetch_errors[0]):
        status, error = "error", server_job.fetch_errors[0]
        if isinstance(error, ServerUnreachable):
            error = ServerUnreachable(url, "the job finished there but its images could not be fetched")
    if isinstance(error, JobLost) and getattr(error, "url", None) is None:
        error = JobLost(error.prompt_id, error.reason, url=url, started=started)
    return status, error
