"""Every error this package raises, in one place.

The tree::

    ComfyError                      base of everything raised here
    ├── ServerUnreachable           no answer from ComfyUI (also a ConnectionError)
    ├── ServerHTTPError             ComfyUI answered with a non-2xx status
    │   └── PromptRejected          POST /prompt refused the graph (400; also a ValueError)
    ├── JobFailed                   the graph ran and a node raised (execution_error)
    ├── JobInterrupted              the job was interrupted or removed from the queue
    ├── BatchStopped                a job of a batch not run: an earlier job of the batch failed
    ├── JobLost                     the server no longer knows the job (restart, hang)
    ├── ServerNoLongerConfigured    a job recorded on a server the app no longer has (seen at restart)
    ├── NotRecorded                 the app failed to follow a job to its end (a bug; the record says so)
    ├── RunLimitExceeded            a job ran on its server past the cluster's run limit and was stopped
    ├── NotAnImage                  /view answered, but not with a picture
    ├── OutputsNotSaved             the pictures came, but the app could not write them (disk full…)
    ├── WorkflowError               a template or a form value we cannot use (also a ValueError)
    │   ├── NoServerCanRun          no server of a cluster has every node type and checkpoint a job needs
    │   ├── GraphRefused            a graph this user may not run (custom workflows off, a node or file not allowed)
    │   ├── BadValue                a value sent for a field that cannot be used (NaN, text for a number, too long…)
    │   ├── NotSendable             a filled graph JSON cannot carry (NaN): found here, before it reaches a server
    │   ├── WorkflowTooLarge        more nodes than this app accepts (a policy's max_nodes)
    │   ├── WorkflowTooDeep         a workflow file nested deeper than any real one
    │   └── PictureRefused          a picked picture refused from its header (empty, not a picture, too many pixels)
    ├── DiskNearlyFull              the data folder's disk has too little free space for new jobs
    ├── LimitExceeded               a request over one of this app's caps for users (also a ValueError)
    └── ComfyUIStartFailed          the local ComfyUI of ``--comfyui-dir`` did not start or kept stopping

    NotAllowed                      a user acted on someone else's job (a PermissionError, not a ComfyError)

Errors carry the server's data (``node_errors``, the failing node) so that callers can
point at the field at fault; ``str(error)`` is always one plain English line (for logs and
operators). Every ``ComfyError`` has a stable ``code`` (its class's name in snake_case unless
the class sets one: ``"job_lost"``, ``"no_server_can_run"``) and ``data``, its attributes as
JSON-safe values; :func:`error_record` gives ``(line, code, data)`` to store and
:func:`error_from_record` rebuilds the error from them. The page and the command line turn
an error (live or rebuilt) into words, in the reader's language, in exactly one place
(``comfy_ui_app.texts.messages.describe``).

An error that names a server carries its real address in ``url`` (and in ``str(error)``: logs,
the command line), nothing about who may see it: a public page that names its servers
("ComfyUI server 2") gives ``describe`` its ``texts.server_names.ServerNames``, which words
the error with that name instead of the address.
"""

from __future__ import annotations

import json
import re
from typing import ClassVar

__all__ = [
    "ComfyError",
    "ServerUnreachable",
    "ServerHTTPError",
    "PromptRejected",
    "JobFailed",
    "JobInterrupted",
    "BatchStopped",
    "JobLost",
    "ServerNoLongerConfigured",
    "NotRecorded",
    "RunLimitExceeded",
    "NotAnImage",
    "OutputsNotSaved",
    "WorkflowError",
    "ComfyUIStartFailed",
    "LimitExceeded",
    "NoServerCanRun",
    "GraphRefused",
    "BadValue",
    "NotSendable",
    "DiskNearlyFull",
    "WorkflowTooLarge",
    "WorkflowTooDeep",
    "PictureRefused",
    "NotAllowed",
    "error_from_record",
    "error_record",
]

_CODES: dict[str, type] = {}  # code -> its error class, for error_from_record


def _snake(name: str) -> str:
    """``"JobLost"`` -> ``"job_lost"``, ``"ComfyUIStartFailed"`` -> ``"comfyui_start_failed"``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name.replace("ComfyUI", "Comfyui")).lower()


def _json_safe(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


class ComfyError(Exception):
    """Base class of every error raised by comfy_ui_app.

    ``code``: stable, one per class (set by the class, else its name in snake_case);
    ``data``: the error's public attributes that JSON can hold (what a wording needs)."""

    code: ClassVar[str] = "comfy_error"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = _snake(cls.__name__)
        _CODES.setdefault(cls.code, cls)

    @property
    def data(self) -> dict:
        return {key: value for key, value in vars(self).items() if not key.startswith("_") and _json_safe(value)}


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


class NotAnImage(ComfyError):
    """``/view`` answered, but not with a picture (an error page from a proxy, a cut file)."""

    code = "not_an_image"

    def __init__(self, filename: str) -> None:
        self.filename = filename
        super().__init__(f"ComfyUI sent something that is not an image for {filename}")


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


class WorkflowError(ComfyError, ValueError):
    """A workflow template or a form value that cannot be used; ``field`` names the culprit."""

    code = "workflow_error"

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

    code = "limit_exceeded"

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


class NoServerCanRun(WorkflowError):
    """No server of a cluster can run a job: none has every node type and checkpoint it needs.

    ``missing_nodes`` / ``missing_checkpoints``: what no server (``answered``: no server that
    answered) has, both empty when each exists somewhere but on no single server; ``unasked``:
    the address of each server that could not be asked (it had not answered for ``waited``
    seconds). ``field`` is "checkpoint" unless only node types are missing."""

    code = "no_server_can_run"

    def __init__(self, missing_nodes: list[str] = (), missing_checkpoints: list[str] = (), *,
                 answered: bool = False, unasked: list[str] = (), waited: float | None = None) -> None:
        self.missing_nodes = list(missing_nodes)
        self.missing_checkpoints = list(missing_checkpoints)
        self.answered = answered
        self.unasked = list(unasked)
        self.waited = waited
        field = None if self.missing_nodes and not self.missing_checkpoints else "checkpoint"
        who = "no ComfyUI server that answered has" if answered else "no ComfyUI server has"
        parts = []
        if self.missing_nodes:
            kind = "node types" if len(self.missing_nodes) > 1 else "node type"
            parts.append(f"{who} the {kind} {', '.join(self.missing_nodes)}")
        if self.missing_checkpoints:
            kind = "checkpoints" if len(self.missing_checkpoints) > 1 else "checkpoint"
            parts.append(f"{who} the {kind} {', '.join(self.missing_checkpoints)}")
        if not parts:
            parts.append(f"no single ComfyUI server{' that answered' if answered else ''} has every node type and "
                         "checkpoint this workflow needs")
        if self.unasked:
            names = ", ".join(f"ComfyUI at {url}" for url in self.unasked)
            verb = "it has" if len(self.unasked) == 1 else "they have"
            parts.append(f"{names} could not be asked ({verb} not answered for {waited:g} s)")
        text = "; ".join(parts)
        super().__init__(text[0].upper() + text[1:], field)


class GraphRefused(WorkflowError):
    """A graph this user may not run (``comfy_ui_app.jobs.graph_rules``), refused before anything
    is recorded or sent. ``rule``: "custom_off" (nobody may run a workflow of their own),
    "custom_admins" (only admins may), "node_not_allowed" (a class outside ``--allow-nodes``),
    or a file-name input's value: "file_path" (folders, ``..``), "file_annotation" (``[output]``…),
    "file_not_yours" (another user's upload), "file_unknown" (not a file the server lists).
    ``node``/``class_type``/``input``/``value``: where; ``field``: the form field, when it is one."""

    code = "graph_refused"

    def __init__(self, rule: str, *, field: str | None = None, node: str | None = None,
                 class_type: str | None = None, input: str | None = None, value: str | None = None) -> None:
        self.rule = rule
        self.node = node
        self.class_type = class_type
        self.input = input
        self.value = value if value is None or len(value) <= 200 else value[:200] + "…"  # a 1 MB name: cut
        where = f" (node {node} {class_type}, input {input}: {value!r})" if input else (
            f" (node {node} {class_type})" if node else "")
        super().__init__(f"Graph refused: {rule}{where}", field)
class BadValue(WorkflowError):
    """A value sent for a field (from the form, Gradio's API, ``--set`` or a stored job) that cannot be
    used, found before anything is stored or sent. ``problem``: "not_finite" (NaN, infinity),
    "not_a_number", "not_whole", "not_text", "too_long" (``length`` characters, at most ``limit``),
    "too_small" / "too_big" (``value`` past ``limit``); ``label``: the field's shown name (English; the
    words translate it); ``field``: the field's name (where the message goes)."""

    code = "bad_value"
    PROBLEMS = ("not_finite", "not_a_number", "not_whole", "not_text", "too_long", "too_small", "too_big")

    def __init__(self, field: str | None, problem: str, *, label: str | None = None, value: object = None,
                 limit: int | float | None = None, length: int | None = None) -> None:
        if problem not in self.PROBLEMS:
            raise ValueError(f"unknown problem {problem!r}")
        self.problem = problem
        self.label = label or field or "value"
        finite = isinstance(value, (int, float)) and abs(value) < 1e30 and value == value
        self.value = value if finite or value is None else _short(repr(value))  # JSON-safe, short
        self.limit = limit
        self.length = length
        WorkflowError.__init__(self, f"{self.label}: {problem.replace('_', ' ')}"
                                     + (f" ({length} characters, at most {limit})" if length is not None else
                                        f" ({self.value!r}, limit {limit})" if limit is not None else
                                        f" ({self.value})"), field)


def _short(text: str, most: int = 40) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"


class NotSendable(WorkflowError):
    """A job's graph holds a value JSON cannot carry (NaN, infinity) at node ``node``, input ``input``:
    refused on this side, before any byte reaches a server (so it says nothing about that server)."""

    code = "not_sendable"

    def __init__(self, node: str | None = None, input: str | None = None) -> None:
        self.node = node
        self.input = input
        where = f" at node {node}, input {input}" if node is not None else ""
        WorkflowError.__init__(self, f"The job cannot be sent: it holds a number that is not finite{where}")


class DiskNearlyFull(ComfyError):
    """New jobs are refused: the disk of the app's data folder has ``free_mb`` MB free, less than the
    ``min_free_mb`` its policy wants (``jobs.policy.Policy.min_free_mb``)."""

    code = "disk_nearly_full"

    def __init__(self, free_mb: float, min_free_mb: float) -> None:
        self.free_mb = round(float(free_mb), 1)
        self.min_free_mb = float(min_free_mb)
        super().__init__(f"The data folder's disk is nearly full: {self.free_mb:g} MB free, "
                         f"{self.min_free_mb:g} MB wanted")


class WorkflowTooLarge(WorkflowError):
    """A workflow with more nodes than this app accepts (``jobs.policy.Policy.max_nodes``), refused
    before any conversion, form or job is made of it. ``nodes``: how many it has; ``allowed``: the cap."""

    code = "workflow_too_large"

    def __init__(self, nodes: int, allowed: int, field: str | None = None) -> None:
        self.nodes = nodes
        self.allowed = allowed
        super().__init__(f"The workflow has {nodes} nodes; at most {allowed} are accepted", field)


class WorkflowTooDeep(WorkflowError):
    """A workflow file nested deeper than any workflow is (lists in lists in lists…), or a graph
    whose links run deeper than the app follows. ``allowed``: the deepest accepted."""

    code = "workflow_too_deep"

    def __init__(self, allowed: int, field: str | None = None) -> None:
        self.allowed = allowed
        super().__init__(f"The workflow is nested more than {allowed} levels deep", field)
class PictureRefused(WorkflowError):
    """A picture the app will not decode, judged from its first bytes only (no pixel is decoded).

    ``reason``: "empty" (no bytes), "not_a_picture" (no picture format Pillow knows), "too_large"
    (``width`` × ``height`` over ``limit`` pixels), "too_many_layers" (an editor value with ``count``
    layers, over ``limit``). ``name``: the file's name; ``field``: the form field it came from (its
    error slot shows the message)."""

    code = "picture_refused"

    def __init__(self, reason: str, *, name: str = "", field: str | None = None, width: int = 0, height: int = 0,
                 limit: int = 0, count: int = 0) -> None:
        self.reason = reason
        self.name = name
        self.width, self.height, self.limit, self.count = width, height, limit, count
        if reason == "too_large":
            text = f"The picture {name} is {width}×{height} ({width * height} pixels); at most {limit} pixels"
        elif reason == "too_many_layers":
            text = f"The picture has {count} layers; at most {limit}"
        else:
            text = f"The file {name} is " + ("empty" if reason == "empty" else "not a picture")
        super().__init__(text, field)


def error_record(error: BaseException) -> tuple[str, str | None, dict | None]:
    """What a job record keeps of ``error``: ``(str(error), code, data)``; code and data are
    None for an exception that is not a ComfyError (only its line is kept)."""
    if isinstance(error, ComfyError):
        return str(error), error.code, error.data
    return str(error), None, None


def error_from_record(line: str, code: str, data: dict | None) -> ComfyError:
    """The error :func:`error_record` gave ``(line, code, data)`` for, rebuilt with the same
    class, attributes and ``str()`` (a ComfyError with ``code`` set when the code is unknown)."""
    cls = _CODES.get(code, ComfyError)
    error = cls.__new__(cls)
    Exception.__init__(error, line)
    vars(error).update(data or {})
    if cls is ComfyError:
        error.code = code
    return error


class NotAllowed(PermissionError):
    """A user tried to act on someone else's job, or on what only an admin may do."""

    code = "not_allowed"
