"""The health checks of a :class:`~comfy_ui_app.cluster.cluster.Cluster`: one thread per server.

Every ``health_interval`` s each server is asked ``GET /system_stats``; when it comes back
its model list and node classes are fetched again (it may have others after a restart),
prompts we gave up on there are deleted, and the dispatcher is woken. A server that stops
answering is marked down and the jobs of ours still waiting in its queue end there, so
their threads give them back to the app's queue (they go on elsewhere).

:class:`HealthChecks` is mixed into ``Cluster`` and uses its ``_lock``, ``_wake``,
``_closed`` and ``health_interval``.
"""

from __future__ import annotations

from comfy_ui_app.cluster.dispatch import Server
from comfy_ui_app.errors import ComfyError, ServerUnreachable

__all__ = ["HealthChecks"]


class HealthChecks:
    """Health threads of a Cluster (see the module docstring)."""


    def _health_loop(self, server: Server) -> None:
        while not self._closed.is_set():
            self._check(server)
            self._closed.wait(self.health_interval)

    def _check(self, server: Server) -> None:
        comfy = server.comfy
        try:
            comfy.check()
            if not (server.reachable and server.known):
                self._learn(server)
        except ComfyError as e:
            self._down(server, e)
            return
        connected = comfy.connected or comfy.wait_connected(min(2.0, self.health_interval))
        with self._lock:
            server.reachable, server.healthy = True, connected
            server.reason, server.error = ("" if connected else "no event stream (WebSocket) from it"), None
            abandoned, server.abandoned = server.abandoned, []
        if abandoned:  # a server that only stopped answering may still hold them: run them once only
            server.drop(abandoned)
        self._wake.set()

    def _learn(self, server: Server, *, raise_errors: bool = True) -> None:
        """Fetch a server's checkpoints and node classes (HTTP first, then the lock)."""
        try:
            checkpoints = list(server.comfy.client.models("checkpoints"))
            node_classes = set(server.comfy.client.object_info())
        except ComfyError:
            if raise_errors:
                raise
            return
        with self._lock:
            server.checkpoints, server.node_classes, server.known = checkpoints, node_classes, True

    def _down(self, server: Server, error: ComfyError) -> None:
        """Not answering: jobs of ours still waiting in its queue go back to ours."""
        with self._lock:
            server.reachable = server.healthy = False
            server.reason, server.error = str(error), error
            stranded = server.stranded()
        for server_job in stranded:  # its thread sees this end and gives the job back
            server_job._finish("error", ServerUnreachable(server.url, "it stopped answering before the job started",
                                                          label=server.label))
        self._wake.set()

