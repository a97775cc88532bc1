"""The pieces of :mod:`comfy_ui_app.cluster.cluster` that need no thread: jobs, turns, choices.

* :class:`ClusterJob` is a :class:`~comfy_ui_app.Job` whose story is first "waiting in
  the app's queue" and then the story of the server Job it was sent to (relayed);
* :class:`FairQueue` orders waiting jobs so that owners take turns;
* :class:`Member` is the cluster's mutable view of one of its servers (its health, what it
  has, the jobs of ours it holds); :func:`choose` picks one.

How jobs are judged (never runnable, given up, over the run limit) is in
:mod:`comfy_ui_app.cluster.verdicts`.

Nothing here locks: :class:`~comfy_ui_app.cluster.cluster.Cluster` holds its lock around every
use of a FairQueue or a Member.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass

from comfy_ui_app.comfy.connection import Comfy
from comfy_ui_app.comfy.inputs import InputFile
from comfy_ui_app.comfy.jobs import Job, JobHost
from comfy_ui_app.comfy.updates import Finished, Output, Queued, Started, Update
from comfy_ui_app.errors import ComfyError, JobLost

__all__ = ["ClusterJob", "FairQueue", "Member", "ServerState", "assign", "choose", "requirements"]

log = logging.getLogger(__name__)


def requirements(prompt: dict) -> tuple[frozenset[str], tuple[str, ...]]:
    """The node classes a prompt uses and the checkpoints it names (``ckpt_name`` inputs)."""
    classes, checkpoints = set(), []
    for node in prompt.values():
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("class_type"), str):
            classes.add(node["class_type"])
        name = (node.get("inputs") or {}).get("ckpt_name")
        if isinstance(name, str) and name and name not in checkpoints:  # a link is a list: skipped
            checkpoints.append(name)
    return frozenset(classes), tuple(checkpoints)


class ClusterJob(Job):
    """A job of the cluster: reads like a :class:`Job` (``updates``, ``wait``, ``interrupt``).

    While it waits in the app's own queue it yields ``Queued(position)``, ``position``
    being the number of waiting jobs that go before it (fair turns included); once sent,
    it relays the server Job's updates. ``prompt_id`` is the id on the server it was last
    sent to (a resubmission to another server gets a new one, as ``Comfy.move_to_front``
    does); ``server`` is that server's URL, ``waiting`` says it is in the app's queue;
    ``inputs`` are the pictures its prompt reads, uploaded wherever it is sent. Its
    :class:`~comfy_ui_app.comfy.jobs.JobHost` is the cluster.
    """

    def __init__(self, host: JobHost, prompt_id: str, prompt: dict, *, owner: str,
                 extra_data: dict | None = None, inputs: list[InputFile] | None = None) -> None:
        super().__init__(host, prompt_id, prompt)
        self.owner = owner
        self.extra_data = extra_data
        self.inputs: list[InputFile] = list(inputs or [])  # uploaded to each server before it is sent there
        self.classes, self.checkpoints = requirements(prompt)
        self.server: str | None = None
        self.server_job: Job | None = None
        self.waiting = False
        self.attempts = 0  # how many times it was sent to a server
        self.stuck_since: float | None = None  # since when no healthy server can run it
        self.run_started: float | None = None  # monotonic time it was last seen starting on a server
        self.overran = False  # it ran past the cluster's run limit and is being stopped
        self.cancel_requested = False
        self.stop_reason: ComfyError | None = None  # set when the app, not a user, stops it (see stop())

    def __repr__(self) -> str:
        return f"<ClusterJob {self.prompt_id} {self.state} owner={self.owner!r} server={self.server!r}>"

    def stop(self, reason: ComfyError) -> None:
        """Stop it as :meth:`interrupt` does, but it ends with ``reason`` (the app stopped it,
        nobody interrupted it: a batch whose earlier job failed)."""
        self.stop_reason = reason
        self.interrupt()

    def _finish(self, status: str, error: ComfyError | None = None) -> None:
        if self.waiting and isinstance(error, JobLost):
            return  # a reader's silence timeout (``updates(timeout=)``): waiting in our queue is no fault
        if status == "interrupted" and self.stop_reason is not None:
            error = self.stop_reason
        super()._finish(status, error)

    def _follow(self, server_job: Job) -> Finished:
        """Relay the server Job's updates until it ends; its Finished is returned, not relayed."""
        for update in server_job.updates():
            if isinstance(update, Finished):
                return update
            self._relay(update)
        raise AssertionError("updates() ended without Finished")  # pragma: no cover

    def _relay(self, update: Update) -> None:
        """Pass on one update of the server Job (its Finished is handled by the cluster)."""
        if isinstance(update, Queued):
            self._set_position(update.position)  # type: ignore[arg-type]
        elif isinstance(update, Started):
            self.run_started = time.monotonic()  # the run limit counts from here
            self._mark_running()
        elif isinstance(update, Output):
            with self._cond:
                self.images.extend(update.images)
                self._push(update)
        else:
            self._push(update)


class FairQueue:
    """Waiting jobs, one line per owner; owners take turns (round robin).

    The owner served longest ago goes first (one never served before everyone): a user
    with ten jobs waiting does not make a user with one wait for all ten, and the next
    turn of a user whose line just emptied and filled again still counts as "served".
    Jobs pushed with ``everyone=True`` (an admin's "move to front") go before every line.
    """

    MEMORY = 10_000  # owners whose last turn is remembered (those with no line are forgotten first)

    def __init__(self) -> None:
        self._first: deque[ClusterJob] = deque()  # ahead of every owner's line
        self._lines: dict[str, deque[ClusterJob]] = {}
        self._turn: dict[str, tuple[int, int]] = {}  # owner -> (last served or 0, arrival)
        self._clock = itertools.count(1)

    def __len__(self) -> int:
        return len(self._first) + sum(len(line) for line in self._lines.values())

    def __contains__(self, job: ClusterJob) -> bool:
        return job in self._first or job in self._lines.get(job.owner, ())

    def push(self, job: ClusterJob, *, front: bool = False, everyone: bool = False) -> None:
        """At the end of its owner's line, at its head (``front``), or ahead of everyone's."""
        if job.owner not in self._turn:
            if len(self._turn) >= self.MEMORY:
                waiting = set(self._lines) | {j.owner for j in self._first}
                self._turn = {owner: turn for owner, turn in self._turn.items() if owner in waiting}
            self._turn[job.owner] = (0, next(self._clock))
        if everyone:
            self._first.appendleft(job)
            return
        line = self._lines.setdefault(job.owner, deque())
        if front:
            line.appendleft(job)
        else:
            line.append(job)

    def remove(self, job: ClusterJob) -> bool:
        """Take ``job`` out without counting a turn; False if it was not waiting."""
        if job in self._first:
            self._first.remove(job)
            return True
        line = self._lines.get(job.owner)
        if line is None or job not in line:
            return False
        line.remove(job)
        if not line:
            del self._lines[job.owner]
        return True

    def take(self, job: ClusterJob) -> None:
        """``job`` goes to a server: its owner's turn is used up."""
        if self.remove(job):
            self._turn[job.owner] = (next(self._clock), self._turn[job.owner][1])

    def order(self) -> list[ClusterJob]:
        """Every waiting job, in the order they would be served."""
        owners = sorted(self._lines, key=self._turn.__getitem__)
        lines = [self._lines[owner] for owner in owners]
        return [*self._first, *(line[i] for i in range(max(map(len, lines), default=0))
                                for line in lines if i < len(line))]


@dataclass(frozen=True)
class ServerState:
    """A snapshot of one server as the cluster sees it (for a System tab)."""

    url: str
    healthy: bool
    reason: str  # why it is not healthy ("" when it is)
    in_flight: int  # jobs of ours sent there and not finished
    queue_remaining: int | None  # its whole queue (anyone's), from its ``status`` events
    checkpoints: list[str]
    node_classes: set[str]
    last_checkpoint: str | None  # of the last job we sent there: most likely the loaded one
    label: str = ""  # what a page may show of it (``Comfy.label``: its url unless hidden)
    error: ComfyError | None = None  # the failure behind ``reason`` (for a page: ``describe`` it), if one


class Member:
    """The cluster's view of one of its servers (mutable; guarded by the cluster's lock)."""

    def __init__(self, comfy: Comfy) -> None:
        self.comfy = comfy
        self.url = comfy.url
        self.label = comfy.label
        self.error: ComfyError | None = None  # the failure that made it unhealthy, if one did
        self.reachable = False  # the last /system_stats answered
        self.healthy = False  # reachable and its event stream is up: jobs may go there
        self.reason = "not checked yet"
        self.known = False  # model lists and node classes fetched
        self.checkpoints: list[str] = []
        self.node_classes: set[str] = set()
        self.last_checkpoint: str | None = None
        self.attempts: dict[str, ClusterJob] = {}  # server prompt_id -> job sent there
        self.abandoned: list[str] = []  # prompt ids to delete there once it answers again

    @property
    def in_flight(self) -> int:
        return len(self.attempts)

    def busy(self) -> int:
        return max(self.in_flight, self.comfy.queue_remaining or 0)

    def drop(self, prompt_ids: list[str]) -> None:
        """Delete prompts we gave up on from its queue, and stop them if they run."""
        try:
            self.comfy.client.delete_from_queue(prompt_ids)
            for prompt_id in prompt_ids:
                self.comfy.client.interrupt(prompt_id)
        except ComfyError as e:
            log.warning("could not remove abandoned prompts from %s: %s", self.url, e)

    def stranded(self) -> list[Job]:
        """Server Jobs of ours it holds that have not started."""
        return [job.server_job for pid, job in self.attempts.items()
                if job.prompt_id == pid and job.server_job is not None and job.server_job.state == "queued"]

    def can_run(self, job: ClusterJob) -> bool:
        return self.known and job.classes <= self.node_classes and all(c in self.checkpoints for c in job.checkpoints)


def choose(job: ClusterJob, members: list[Member], per_server: int) -> Member | None:
    """The member for ``job``: healthy, able to run it, with a free slot; the one with its
    checkpoint loaded first, then the least busy (then the first listed)."""
    wanted = job.checkpoints[0] if job.checkpoints else None
    free = [s for s in members if s.healthy and s.in_flight < per_server and s.can_run(job)]
    if not free:
        return None
    return min(free, key=lambda s: (wanted is not None and s.last_checkpoint != wanted, s.busy(), members.index(s)))


def assign(queue: FairQueue, members: list[Member], per_server: int) -> list[tuple[ClusterJob, Member, str]]:
    """Take from ``queue`` every job a member can take now, in turn order: (job, member,
    prompt_id) each, its slot reserved. A job that cannot go yet does not hold up the rest."""
    sends = []
    while any(s.healthy and s.in_flight < per_server for s in members):
        pick = next(((job, member) for job in queue.order()
                     if (member := choose(job, members, per_server)) is not None), None)
        if pick is None:
            break
        job, member = pick
        queue.take(job)
        job.waiting, job.stuck_since = False, None
        prompt_id = job.prompt_id if job.attempts == 0 else str(uuid.uuid4())
        job.attempts += 1
        member.attempts[prompt_id] = job
        member.last_checkpoint = job.checkpoints[0] if job.checkpoints else member.last_checkpoint
        sends.append((job, member, prompt_id))
    return sends
