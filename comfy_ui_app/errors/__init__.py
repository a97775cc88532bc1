"""Every error this package raises, in one place.

The tree::

    ComfyError                      base of everything raised here
    ├── ServerUnreachable           no answer from ComfyUI (also a ConnectionError)
    ├── ServerHTTPError             ComfyUI answered with a non-2xx status
    │   ├── PromptRejected          POST /prompt refused the graph (400; also a ValueError)
    │   └── NoTemplateLibrary       GET /templates/index.json answered 404 (a ComfyUI older than its templates)
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
    │   ├── PictureRefused          a picked picture refused from its header (empty, not a picture, too many pixels)
    │   ├── NothingEmbedded         a picture dropped to open its workflow carries none (nor A1111 parameters)
    │   ├── LibraryRefused          a template or saved workflow not listed or opened (not an admin, unknown name)
    │   ├── FileRefused             a picked sound, video or 3D model refused from its first bytes (empty, wrong kind)
    │   └── PresetRefused           a preset or prompt style not saved, applied or used (a name, a cap, not yours)
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

from comfy_ui_app.errors._base import (
    ComfyError,
    WorkflowError,
    NotAllowed,
    error_record,
    error_from_record,
)
from comfy_ui_app.errors._refusals import (
    LimitExceeded,
    NoServerCanRun,
    GraphRefused,
    BadValue,
    NotSendable,
    DiskNearlyFull,
    WorkflowTooLarge,
    WorkflowTooDeep,
    PictureRefused,
    NothingEmbedded,
    LibraryRefused,
    FileRefused,
    PresetRefused,
)
from comfy_ui_app.errors._server import (
    ServerUnreachable,
    ServerHTTPError,
    PromptRejected,
    JobFailed,
    JobInterrupted,
    BatchStopped,
    JobLost,
    RunLimitExceeded,
    NotAnImage,
    ServerNoLongerConfigured,
    NotRecorded,
    OutputsNotSaved,
    ComfyUIStartFailed,
    NoTemplateLibrary,
)

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
    "NothingEmbedded",
    "LibraryRefused",
    "NoTemplateLibrary",
    "FileRefused",
    "PresetRefused",
    "NotAllowed",
    "error_from_record",
    "error_record",
]
