"""Errors of a ComfyUI server and of a job on it (``comfy_ui_app.errors`` draws the tree)."""
from __future__ import annotations

from comfy_ui_app.errors._base import ComfyError


class ServerUnreachable(ComfyError, ConnectionError):
    """ComfyUI did not answer at all (refused, timed out, name not found)."""

    code = "server_unreachable"

    def __init__(self, url: str, reason: str = "") -> None:
        self.url = url  # the server's address (several, joined by ", ", when no server could take a job)
        self.reason = reason
        super().__init__(f"Cannot reach ComfyUI at {url}" + (f" ({reason})" if reason else ""))


class ServerHTTPError(ComfyError):
    """ComfyUI answered with an error status (including its plain-text 500)."""

    code = "server_http_error"

    def __init__(self, status: int, url: str, body: str = "") -> None:
        self.status = status
        self.url = url  # of the request (the server's address and the route)
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

    code = "prompt_rejected"

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

    code = "job_failed"

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

    code = "job_interrupted"

    def __init__(self, prompt_id: str) -> None:
        self.prompt_id = prompt_id
        super().__init__("The job was interrupted")


class BatchStopped(ComfyError):
    """A job of a batch the app stopped before it ran, because job ``after`` (1-based) of the
    batch of ``count`` failed first; ``server_gone``: that job failed because its ComfyUI server
    went away (stopped answering, lost the job). Nobody interrupted it: recorded as "cancelled"."""

    code = "batch_stopped"

    def __init__(self, prompt_id: str, after: int, count: int, *, server_gone: bool = False) -> None:
        self.prompt_id, self.after, self.count, self.server_gone = prompt_id, after, count, server_gone
        why = "its ComfyUI server went away" if server_gone else "it failed"
        super().__init__(f"Not run: the batch stopped at job {after} of {count} ({why})")


class JobLost(ComfyError):
    """The server no longer knows the job, or it stopped reporting on it.

    ``url`` names the server when known; ``started``
    says the job had begun to run there (the server stopped or restarted while it ran) rather
    than only waited in its queue."""

    code = "job_lost"

    def __init__(self, prompt_id: str, reason: str = "", *, url: str | None = None, started: bool = False) -> None:
        self.prompt_id = prompt_id
        self.reason = reason
        self.url = url
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
    stopped there; ``url`` names the server."""

    code = "run_limit_exceeded"

    def __init__(self, prompt_id: str, limit: float, *, url: str) -> None:
        self.prompt_id, self.limit, self.url = prompt_id, limit, url
        super().__init__(f"The job ran for more than {self.span} on ComfyUI at {url} without finishing, "
                         "so the app stopped it. Please try again.")

    @property
    def span(self) -> str:
        """The limit as a message says it: "30 min", "90 s"."""
        limit = self.limit
        return f"{limit / 60:g} min" if limit >= 60 and limit % 60 == 0 else f"{limit:g} s"


class NoTemplateLibrary(ServerHTTPError):
    """``GET /templates/index.json`` answered 404: a ComfyUI older than its template library (or one
    started without it). ``url``: the server's address."""

    code = "no_template_library"

    def __init__(self, url: str) -> None:
        super().__init__(404, url, "")
        self.args = (f"ComfyUI at {url} serves no template library (/templates/index.json: 404)",)


class NotAnImage(ComfyError):
    """``/view`` answered, but not with a picture (an error page from a proxy, a cut file);
    ``media``: what the file should have been (``image``, ``video``, ``audio``, ``3d``)."""

    code = "not_an_image"

    def __init__(self, filename: str, media: str = "image") -> None:
        self.filename = filename
        self.media = media
        what = "an image" if media == "image" else f"a {media} file"
        super().__init__(f"ComfyUI sent something that is not {what} for {filename}")


class ServerNoLongerConfigured(ComfyError):
    """A job recorded on a server the app no longer has (the operator changed ``--server``):
    at restart it ends as lost, with this error."""

    code = "server_no_longer_configured"

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__("The ComfyUI server it was sent to is no longer configured; please run it again")


class NotRecorded(ComfyError):
    """The app failed to follow a job to its end (a bug, logged with its traceback)."""

    code = "not_recorded"

    def __init__(self) -> None:
        super().__init__("The app failed to record this job")


class OutputsNotSaved(ComfyError):
    """The pictures arrived, but the app could not write them to its own folder (disk full…)."""

    code = "outputs_not_saved"

    def __init__(self, prompt_id: str, reason: str) -> None:
        self.prompt_id = prompt_id
        self.reason = reason
        super().__init__(f"could not save the pictures of {prompt_id}: {reason}")


class ComfyUIStartFailed(ComfyError):
    """The local ComfyUI the app was asked to run (``--comfyui-dir``) did not start, or kept stopping.

    ``kind``: "not_found" (``auto`` found no checkout; ``searched`` lists where it looked),
    "not_a_checkout" (``path`` has no ``main.py``), "not_started" (the system refused to run
    it; ``reason``), "exited" (it stopped before answering; ``returncode``), "timeout" (no
    answer within ``timeout`` seconds), "gave_up" (it stopped again after ``attempts``
    restarts). ``log_tail`` holds the last lines of its log, kept in ``log_path``.
    """

    code = "comfyui_start_failed"

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
