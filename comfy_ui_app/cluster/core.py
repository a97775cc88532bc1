"""What the threads of a :class:`~comfy_ui_app.cluster.cluster.Cluster` share.

The dispatcher, the health checks (:mod:`comfy_ui_app.cluster.health`) and the job threads
(:mod:`comfy_ui_app.cluster.run`) all work on the same members and the same queue; this one
object holds them, with the lock that guards them, the dispatcher's wake-up and the
"closed" flag, and is handed to each of them when the cluster is built.

Lock order: ``lock`` may be held while taking a job's condition, never the reverse; no
HTTP under ``lock``.
"""

from __future__ import annotations

import threading

from comfy_ui_app.cluster.dispatch import FairQueue, Member

__all__ = ["ClusterCore"]


class ClusterCore:
    """A cluster's members and queue, guarded by ``lock``; ``wake()`` rouses the dispatcher."""

    def __init__(self, members: list[Member]) -> None:
        self.members = members
        self.queue = FairQueue()
        self.lock = threading.Lock()
        self.closed = threading.Event()  # set once: every thread of the cluster ends
        self._wake = threading.Event()

    def member_at(self, url: str | None) -> Member | None:
        """The member whose server is at ``url``, if any."""
        return next((m for m in self.members if m.url == url), None)

    def wake(self) -> None:
        """Something changed (a slot freed, a server came back, a job queued): dispatch soon."""
        self._wake.set()

    def wait_for_wake(self, timeout: float) -> None:
        """The dispatcher's pause: until :meth:`wake` or ``timeout`` s."""
        self._wake.wait(timeout)
        self._wake.clear()

    def close(self) -> None:
        self.closed.set()
        self._wake.set()

    def reposition(self) -> None:
        """Tell every waiting job its place in the queue (the caller holds ``lock``)."""
        for position, job in enumerate(self.queue.order()):
            job._set_position(position)
