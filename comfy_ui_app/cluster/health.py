"""The health checks of a :class:`~comfy_ui_app.cluster.cluster.Cluster`: one thread per server.

Every ``interval`` s each member's server is asked ``GET /system_stats``; when it comes back
its model list and node classes are fetched again (it may have others after a restart),
prompts we gave up on there are deleted, and the dispatcher is woken. A server that stops
answering is marked down and the jobs of ours still waiting in its queue end there, so
their threads give them back to the app's queue (they go on elsewhere).

:class:`HealthChecker` works on the cluster's :class:`~comfy_ui_app.cluster.core.ClusterCore`,
given to it when the cluster is built.
"""

from __future__ import annotations

from comfy_ui_app.cluster.core import ClusterCore
from comfy_ui_app.cluster.dispatch import Member
from comfy_ui_app.errors import ComfyError, ServerUnreachable

__all__ = ["HealthChecker"]


class HealthChecker:
    """Keeps each member's health and model lists up to date (see the module docstring)."""

    def __init__(self, core: ClusterCore, interval: float) -> None:
        self._core = core
        self.interval = interval

    def loop(self, member: Member) -> None:
        """One member's health thread: a check every ``interval`` s until the cluster closes."""
        while not self._core.closed.is_set():
            self.check(member)
            self._core.closed.wait(self.interval)

    def check(self, member: Member) -> None:
        comfy = member.comfy
        try:
            comfy.check()
            if not (member.reachable and member.known):
                self.learn(member)
        except ComfyError as e:
            self._down(member, e)
            return
        connected = comfy.connected or comfy.wait_connected(min(2.0, self.interval))
        with self._core.lock:
            member.reachable, member.healthy = True, connected
            member.reason, member.error = ("" if connected else "no event stream (WebSocket) from it"), None
            abandoned, member.abandoned = member.abandoned, []
        if abandoned:  # a server that only stopped answering may still hold them: run them once only
            member.drop(abandoned)
        self._core.wake()

    def learn(self, member: Member, *, raise_errors: bool = True) -> None:
        """Fetch a member's checkpoints and node classes (HTTP first, then the lock)."""
        try:
            checkpoints = list(member.comfy.client.models("checkpoints"))
            node_classes = set(member.comfy.client.object_info())
        except ComfyError:
            if raise_errors:
                raise
            return
        with self._core.lock:
            member.checkpoints, member.node_classes, member.known = checkpoints, node_classes, True

    def _down(self, member: Member, error: ComfyError) -> None:
        """Not answering: jobs of ours still waiting in its queue go back to ours."""
        with self._core.lock:
            member.reachable = member.healthy = False
            member.reason, member.error = str(error), error
            stranded = member.stranded()
        for server_job in stranded:  # its thread sees this end and gives the job back
            server_job._finish("error", ServerUnreachable(member.url, "it stopped answering before the job started"))
        self._core.wake()
