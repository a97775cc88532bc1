"""Every error this package raises, in one place.

The tree::

    ComfyError                      base of everything raised here
    ├── ServerUnreachable           no answer from ComfyUI (also a ConnectionError)
    ├── ServerHTTPError             ComfyUI answered with a non-2xx status
    │   └── PromptRejected          POST /prompt refused the graph (400; also a ValueError)
    ├── JobFailed                   the graph ran and a node raised (execution_error)
    ├── JobInterrupted              the job was interrupted or removed from the queue
    ├── JobLost                     the server no longer knows the job (restart, hang)
    └── WorkflowError               a template or a form value we cannot use (also a ValueError)

Errors carry the server's data (``node_errors``, the failing node) so that callers can
point at the field at fault; ``str(error)`` is always one plain English line. The UI
turns them into words in exactly one place (``comfy_ui_app.messages.describe``).
"""

from __future__ import annotations

__all__ = [
    "ComfyError",
    "ServerUnreachable",
    "ServerHTTPError",
    "PromptRejected",
    "JobFailed",
    "JobInterrupted",
    "JobLost",
    "WorkflowError",
]


class ComfyError(Exception):
    """Base class of every error raised by comfy_ui_app."""


class ServerUnreachable(ComfyError, ConnectionError):
    """ComfyUI did not answer at all (refused, timed out, name not found)."""

    def __init__(self, url: str, reason: str = "") -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"Cannot reach ComfyUI at {url}" + (f" ({reason})" if reason else ""))


class ServerHTTPError(ComfyError):
    """ComfyUI answered with an error status (including its plain-text 500)."""

    def __init__(self, status: int, url: str, body: str = "") -> None:
        self.status = status
        self.url = url
        self.body = body
        first_line = body.strip().splitlines()[0] if body.strip() else ""
        super().__init__(
            f"ComfyUI answered {status} for {url}" + (f": {first_line}" if first_line else "")
        )


class PromptRejected(ServerHTTPError, ValueError):
    """POST /prompt returned 400: the graph failed ComfyUI's validation.

    ``error`` is the server's ``{type, message, details, extra_info}`` and ``node_errors``
    maps node id -> ``{errors: [...], dependent_outputs, class_type}``, both verbatim.
    """

    def __init__(self, url: str, error: dict, node_errors: dict, body: str = "") -> None:
        self.error = error if isinstance(error, dict) else {"message": str(error)}
        self.node_errors = node_errors if isinstance(node_errors, dict) else {}
        ServerHTTPError.__init__(self, 400, url, body)
        message = self.error.get("message") or "Prompt rejected"
        details = self.error.get("details")
        self.args = (f"ComfyUI rejected the prompt: {message}" + (f" ({details})" if details else ""),)

    @property
    def type(self) -> str:
        return str(self.error.get("type", ""))


class JobFailed(ComfyError):
    """A node raised while the graph ran (the ``execution_error`` event)."""

    def __init__(
        self,
        prompt_id: str,
        node_id: str | None = None,
        node_type: str | None = None,
        exception_message: str = "",
        exception_type: str = "",
        traceback: list[str] | None = None,
    ) -> None:
        self.prompt_id = prompt_id
        self.node_id = node_id
        self.node_type = node_type
        self.exception_message = exception_message.strip()
        self.exception_type = exception_type
        self.traceback = list(traceback or [])
        where = f" in node {node_id} ({node_type})" if node_id else ""
        super().__init__(f"The job failed{where}: {self.exception_message or exception_type}")


class JobInterrupted(ComfyError):
    """The job was interrupted while running, or deleted while waiting."""

    def __init__(self, prompt_id: str) -> None:
        self.prompt_id = prompt_id
        super().__init__("The job was interrupted")


class JobLost(ComfyError):
    """The server no longer knows the job, or it stopped reporting on it."""

    def __init__(self, prompt_id: str, reason: str = "") -> None:
        self.prompt_id = prompt_id
        self.reason = reason
        super().__init__("ComfyUI lost track of the job" + (f": {reason}" if reason else ""))


class WorkflowError(ComfyError, ValueError):
    """A workflow template or a form value that cannot be used; ``field`` names the culprit."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)
