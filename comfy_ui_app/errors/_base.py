"""The base of the error tree (``comfy_ui_app.errors`` draws it): codes, data and records.

Every ``ComfyError`` subclass gets a stable ``code`` and registers it here, so that
:func:`error_from_record` can rebuild any error a job record kept.
"""
from __future__ import annotations

import json
import re
from typing import ClassVar

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


class WorkflowError(ComfyError, ValueError):
    """A workflow template or a form value that cannot be used; ``field`` names the culprit."""

    code = "workflow_error"

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


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
