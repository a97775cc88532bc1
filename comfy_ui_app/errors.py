"""Every error this package raises, in one place.

The tree::

    ComfyError                      base of everything raised here
    ├── ServerUnreachable           no answer from ComfyUI (also a ConnectionError)
    ├── ServerHTTPError             ComfyUI answered with a non-2xx status
    │   └── PromptRejected          POST /prompt refused the graph (400; also a ValueError)
    ├── JobFailed                   the graph ran and a node raised (execution_error)
    ├── JobInterrupted              the job was interrupted or removed from the queue
    ├── JobLost                     the server no longer knows the job (restart, hang)
    ├── RunLimitExceeded            a job ran on its server past the cluster's run limit and was stopped
    ├── NotAnImage                  /view answered, but not with a picture
    ├── OutputsNotSaved             the pictures came, but the app could not write them (disk full…)
    ├── WorkflowError               a template or a form value we cannot use (also a ValueError)
    ├── LimitExceeded               a request over one of this app's caps for users (also a ValueError)
    └── ComfyUIStartFailed          the local ComfyUI of ``--comfyui-dir`` did not start or kept stopping

    NotAllowed                      a user acted on someone else's job (a PermissionError, not a ComfyError)

Errors carry the server's data (``node_errors``, the failing node) so that callers can
point at the field at fault; ``str(error)`` is always one plain English line. The UI
turns them into words in exactly one place (``comfy_ui_app.texts.messages.describe``).

An error that names a server keeps its real address in ``url`` (and in ``str(error)``: logs,
the command line) and what a page may show of it in ``label`` (``Comfy(url, label=...)``:
"ComfyUI server 2" on a public page); ``label`` is None or the address itself when the page
may show the address.
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
    "RunLimitExceeded",
    "NotAnImage",
    "OutputsNotSaved",
    "WorkflowError",
    "ComfyUIStartFailed",
    "LimitExceeded",
    "NotAllowed",
    "shown_label",
]


class ComfyError(Exception):
    """Base class of every error raised by comfy_ui_app."""


class ServerUnreachable(ComfyError, ConnectionError):
    """ComfyUI did not answer at all (refused, timed out, name not found)."""

    def __init__(self, url: str, reason: str = "", *, label: str | None = None) -> None:
        self.url = url
        self.reason = reason
        self.label = label
        super().__init__(f"Cannot reach ComfyUI at {url}" + (f" ({reason})" if reason else ""))


class ServerHTTPError(ComfyError):
    """ComfyUI answered with an error status (including its plain-text 500)."""

    def __init__(self, status: int, url: str, body: str = "", *, label: str | None = None) -> None:
        self.status = status
        self.url = url  # of the request (the server's address and the route)
        self.body = body
        self.label = label  # of the server, what a page may show
        first_line = body.strip().splitlines()[0] if body.strip() else ""
        super().__init__(
            f"ComfyUI answered {status} for {url}" + (f": {first_line}" if first_line else "")
        )


class PromptRejected(ServerHTTPError, ValueError):
    """POST /prompt returned 400: the graph failed ComfyUI's validation.

    ``error`` is the server's ``{type, message, details, extra_info}`` and ``node_errors``
    maps node id -> ``{errors: [...], dependent_outputs, class_type}``, both verbatim.
    """

    def __init__(self, url: str, error: dict, node_errors: dict, body: str = "", *,
                 label: str | None = None) -> None:
        self.error = error if isinstance(error, dict) else {"message": str(error)}
        self.node_errors = node_errors if isinstance(node_errors, dict) else {}
        ServerHTTPError.__init__(self, 400, url, body, label=label)
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
    """The server no longer knows the job, or it stopped reporting on it.

    ``url`` names the server when known (``label``: what a page may show of it); ``started``
    says the job had begun to run there (the server stopped or restarted while it ran) rather
    than only waited in its queue."""

    def __init__(self, prompt_id: str, reason: str = "", *, url: str | None = None, started: bool = False,
                 label: str | None = None) -> None:
        self.prompt_id = prompt_id
        self.reason = reason
        self.url = url
        self.label = label
        self.started = started
        if url is None:
            text = "ComfyUI lost track of the job"
        elif started:
            text = f"ComfyUI at {url} stopped while this job ran"
        else:
            text = f"ComfyUI at {url} no longer knows this job"
        super().__init__(text + (f" ({reason})" if url and reason else f": {reason}" if reason else ""))


class RunLimitExceeded(ComfyError):
    """A job ran on a server for longer than the cluster's ``run_limit`` (seconds) and was
    stopped there. ``str()`` names the server as a page may show it (``label`` when the
    address is hidden); ``url`` keeps the address."""

    def __init__(self, prompt_id: str, limit: float, *, url: str, label: str | None = None) -> None:
        self.prompt_id, self.limit, self.url, self.label = prompt_id, limit, url, label
        server = label if label and label != url else f"ComfyUI at {url}"
        span = f"{limit / 60:g} min" if limit >= 60 and limit % 60 == 0 else f"{limit:g} s"
        super().__init__(f"The job ran for more than {span} on {server} without finishing, "
                         "so the app stopped it. Please try again.")


class NotAnImage(ComfyError):
    """``/view`` answered, but not with a picture (an error page from a proxy, a cut file)."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        super().__init__(f"ComfyUI sent something that is not an image for {filename}")


class OutputsNotSaved(ComfyError):
    """The pictures arrived, but the app could not write them to its own folder (disk full…)."""

    def __init__(self, prompt_id: str, reason: str) -> None:
        self.prompt_id = prompt_id
        self.reason = reason
        super().__init__(f"could not save the pictures of {prompt_id}: {reason}")


class WorkflowError(ComfyError, ValueError):
    """A workflow template or a form value that cannot be used; ``field`` names the culprit."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class LimitExceeded(ComfyError, ValueError):
    """A request over a cap of a public app (``comfy_ui_app.jobs.limits.Limits``), refused before
    anything reaches ComfyUI. ``cap`` is one of ``limits.CAPS`` ("pending", "steps",
    "pixels", "images", "upload_mb"), ``asked`` what the request asks for (for "pending":
    the jobs the user already has), ``allowed`` the cap; ``field`` the form field at fault,
    if one is; ``detail`` more for the message (``{"size": "1536×1536"}``, the picture's name…).
    """

    def __init__(self, cap: str, asked: int | float, allowed: int | float, *, field: str | None = None,
                 **detail) -> None:
        self.cap = cap
        self.asked = asked
        self.allowed = allowed
        self.field = field
        self.detail = detail
        super().__init__(f"Over the {cap} limit: {asked} asked, at most {allowed} allowed")


class ComfyUIStartFailed(ComfyError):
    """The local ComfyUI the app was asked to run (``--comfyui-dir``) did not start, or kept stopping.

    ``kind``: "not_found" (``auto`` found no checkout; ``searched`` lists where it looked),
    "not_a_checkout" (``path`` has no ``main.py``), "not_started" (the system refused to run
    it; ``reason``), "exited" (it stopped before answering; ``returncode``), "timeout" (no
    answer within ``timeout`` seconds), "gave_up" (it stopped again after ``attempts``
    restarts). ``log_tail`` holds the last lines of its log, kept in ``log_path``.
    """

    def __init__(self, kind: str, *, path: str | None = None, log_tail: str = "", log_path: str | None = None,
                 searched: tuple[str, ...] | list[str] = (), returncode: int | None = None,
                 timeout: float | None = None, attempts: int = 0, reason: str = "") -> None:
        self.kind = kind
        self.path = path
        self.log_tail = log_tail
        self.log_path = log_path
        self.searched = tuple(searched)
        self.returncode = returncode
        self.timeout = timeout
        self.attempts = attempts
        self.reason = reason
        super().__init__(f"The local ComfyUI ({path or ', '.join(self.searched)}) could not be run: {kind}"
                         + (f" ({reason or returncode})" if reason or returncode is not None else ""))


def shown_label(error: BaseException) -> str | None:
    """The label ``error`` names its server by when the page must not show that server's
    address (a label other than the address); None when it names none or may show it."""
    label = getattr(error, "label", None)
    return label if label and label != getattr(error, "url", None) else None


class NotAllowed(PermissionError):
    """A user tried to act on someone else's job, or on what only an admin may do."""
