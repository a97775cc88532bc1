"""Turn exceptions into one plain English line for people (web page and CLI).

This is the ONLY place that translates errors into user-facing words.  It must not
import gradio: the CLI imports it at start-up.
"""
from __future__ import annotations

import re

from . import (
    ComfyError,
    JobFailed,
    JobInterrupted,
    JobLost,
    PromptRejected,
    ServerHTTPError,
    ServerUnreachable,
    WorkflowError,
)

__all__ = ["describe", "describe_node_errors", "describe_problem"]

# ComfyUI input names -> words a non-technical user recognises from the page.
_INPUT_WORDS = {
    "ckpt_name": "checkpoint",
    "sampler_name": "sampler",
    "scheduler": "scheduler",
    "text": "prompt text",
    "seed": "seed",
    "noise_seed": "seed",
    "steps": "steps",
    "cfg": "CFG",
    "width": "width",
    "height": "height",
    "batch_size": "batch size",
    "denoise": "denoise",
    "filename_prefix": "file name prefix",
    "image": "image",
}

_MAX_LEN = 600


def _one_line(text: object, limit: int = _MAX_LEN) -> str:
    s = re.sub(r"\s+", " ", str(text if text is not None else "")).strip()
    if len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s


def _first_line(text: object) -> str:
    for line in str(text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _input_word(name: str | None) -> str:
    if not name:
        return "an input"
    return _INPUT_WORDS.get(name, name.replace("_", " "))


def _input_name(err: dict) -> str | None:
    extra = err.get("extra_info") or {}
    name = extra.get("input_name")
    if not name:
        details = str(err.get("details") or "")
        m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:[:,]|$)", details)
        name = m.group(1) if m else None
    return name


_MISSING = object()
_TYPE_WORDS = {"INT": "a whole number", "FLOAT": "a number", "STRING": "text", "BOOLEAN": "true or false"}


def _phrase(kind: str, *, input_name: str | None, word: str, value=_MISSING, limit=None,
            expected_type: str | None = None, message: str = "", details: str = "") -> str:
    """One validation problem in words. ``kind`` is ComfyUI's error type name."""
    has = value is not _MISSING
    got = f" (got {value})" if has else ""
    if kind == "required_input_missing":
        return f"the required input '{word}' is missing"
    if kind == "value_not_in_list":
        if input_name == "ckpt_name" or word.lower() == "checkpoint":
            text = (f"checkpoint '{value}' is not installed on the server" if has
                    else "that checkpoint is not installed on the server")
        else:
            text = (f"{word} '{value}' is not one of the allowed values" if has
                    else f"{word} is not one of the allowed values")
        if isinstance(limit, (list, tuple)) and 0 < len(limit) <= 6:
            text += " (choose from: " + ", ".join(str(c) for c in limit) + ")"
        return text
    if kind == "value_smaller_than_min":
        return f"{word} must be at least {limit}{got}" if limit is not None else f"{word}: {message}"
    if kind == "value_bigger_than_max":
        return f"{word} must be at most {limit}{got}" if limit is not None else f"{word}: {message}"
    if kind == "invalid_input_type":
        wanted = _TYPE_WORDS.get(str(expected_type), expected_type) if expected_type else None
        if has:
            return f"{word} must be {wanted or 'a different type'}, not '{value}'"
        return f"{word}: {message}" if message else f"{word} has the wrong type"
    if kind == "return_type_mismatch":
        if has and expected_type:
            return f"input '{word}' is connected to the wrong kind of output ({value} instead of {expected_type})"
        return f"input '{word}' is connected to the wrong kind of output"
    if kind in ("bad_linked_input", "exception_during_inner_validation", "exception_during_validation"):
        extra = f"{message}: {details}" if message and details else (message or details)
        if input_name:
            return f"input '{word}' is not connected properly" + (f" ({extra})" if extra else "")
        return extra or "a connection in the workflow is broken"
    if kind == "missing_node_type":
        return "a node type is not installed on the server" + (f" ({details})" if details else "")
    if kind == "dependency_cycle":
        return "the workflow contains a loop (a node depends on itself)"
    if kind == "prompt_no_outputs":
        return _TOP_LEVEL["prompt_no_outputs"]
    if kind == "custom_validation_failed":
        return f"{word}: {details or message}" if input_name else (details or message)
    text = message or kind or "invalid value"
    if details and details not in text:
        text += f": {details}"
    return text


def _describe_input_error(err: dict) -> str:
    """One node-level validation error ({type,message,details,extra_info}) in words."""
    extra = err.get("extra_info") or {}
    name = _input_name(err)
    cfg = extra.get("input_config")
    spec = cfg[1] if isinstance(cfg, (list, tuple)) and len(cfg) > 1 and isinstance(cfg[1], dict) else {}
    kind = err.get("type") or ""
    limit = None
    expected = cfg[0] if isinstance(cfg, (list, tuple)) and cfg and isinstance(cfg[0], str) else None
    if kind == "value_smaller_than_min":
        limit = spec.get("min")
    elif kind == "value_bigger_than_max":
        limit = spec.get("max")
    elif kind == "value_not_in_list" and isinstance(cfg, (list, tuple)) and cfg and isinstance(cfg[0], list):
        limit = cfg[0]
    value = extra["received_value"] if "received_value" in extra else _MISSING
    if kind == "return_type_mismatch" and extra.get("received_type"):
        value = extra["received_type"]
    return _phrase(kind, input_name=name, word=_input_word(name), value=value, limit=limit,
                   expected_type=expected, message=_one_line(err.get("message"), 200),
                   details=_one_line(err.get("details"), 200))


def describe_problem(problem, *, name_first: bool = False) -> str:
    """A ``comfy_ui_app.check.Problem`` (local check or mapped rejection) in words.

    ``name_first`` (the command line): a problem with a field starts with the field's
    exact name, the one ``--set`` takes: ``"steps: must be at least 1, not 0"``.
    """
    kind = getattr(problem, "kind", "") or ""
    input_name = getattr(problem, "input_name", None)
    field = getattr(problem, "field", None)
    if name_first and field:
        about = _about_field(kind, input_name, getattr(problem, "value", None), getattr(problem, "limit", None),
                             _one_line(getattr(problem, "detail", ""), 200))
        if about:
            return f"{field}: {about}"
    if kind == "custom_validation_failed" and _missing_image(getattr(problem, "detail", "")):
        text = _about_field(kind, input_name, None, None, _one_line(getattr(problem, "detail", ""), 200))
        return f"{field or _input_word(input_name)}: {text}"
    word = field.replace("_", " ") if field else _input_word(input_name)
    if field in _FIELD_WORDS:
        word = _FIELD_WORDS[field]
    value = getattr(problem, "value", None)
    limit = getattr(problem, "limit", None)
    expected = None
    if kind in ("invalid_input_type", "return_type_mismatch"):
        expected, limit = (str(limit) if limit is not None else None), None
    has_value = kind not in ("required_input_missing", "missing_node_type", "prompt_no_outputs") \
        and value is not None
    text = _phrase(kind, input_name=input_name, word=word, value=value if has_value else _MISSING,
                   limit=limit, expected_type=expected, message="",
                   details=_one_line(getattr(problem, "detail", ""), 200))
    node_id, class_type = getattr(problem, "node_id", None), getattr(problem, "class_type", None)
    if kind == "bad_linked_input" and input_name and isinstance(value, list):
        text = _broken_link(word, value, limit)
    if kind == "missing_node_type" and class_type:
        text = f"the node type '{class_type}' is not installed on the server"
        return f"Node {node_id}: {text}" if node_id else text[0].upper() + text[1:]
    if node_id:
        return f"Node {node_id}" + (f" ({class_type})" if class_type else "") + f": {text}"
    return text[0].upper() + text[1:] if text else text


_INVALID_IMAGE = re.compile(r"Invalid image file: (.+)$")


def _missing_image(detail: object) -> str | None:
    """The file name in LoadImage's "Invalid image file: NAME" refusal, if that is what it is."""
    match = _INVALID_IMAGE.search(_one_line(detail, 400))
    return match.group(1).strip() if match else None


def _broken_link(word: str, link: list, outputs) -> str:
    if len(link) != 2 or not isinstance(link[0], str) or not isinstance(link[1], int):
        return f"input '{word}' has a malformed link {link} (it must be [\"node id\", output number])"
    if isinstance(outputs, (list, tuple)):
        count = f"{len(outputs)} output" + "s" * (len(outputs) != 1)
        return f"input '{word}' is linked to output {link[1]} of node {link[0]}, which has only {count}"
    return f"input '{word}' is linked to node {link[0]}, which is not in the workflow"


def _shown(value) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def _about_field(kind: str, input_name: str | None, value, limit, detail: str) -> str | None:
    """What is wrong with a field's value, without naming the field (it is named first)."""
    not_value = f", not {_shown(value)}" if value is not None else ""
    if kind == "value_smaller_than_min" and limit is not None:
        return f"must be at least {limit}{not_value}"
    if kind == "value_bigger_than_max" and limit is not None:
        return f"must be at most {limit}{not_value}"
    if kind == "invalid_input_type":
        return f"must be {_TYPE_WORDS.get(str(limit), 'a different kind of value')}{not_value}"
    if kind == "value_not_in_list":
        what = "that checkpoint" if value is None else _shown(value)
        text = (f"{what} is not installed on the server" if input_name == "ckpt_name"
                else f"{what} is not one of the allowed values")
        if isinstance(limit, (list, tuple)) and limit:
            shown = ", ".join(str(c) for c in limit[:6])
            text += f" (choose from: {shown}" + (f" and {len(limit) - 6} more)" if len(limit) > 6 else ")")
        return text
    if kind == "custom_validation_failed":
        missing = _missing_image(detail)
        if missing:
            return f"there is no image '{missing}' in ComfyUI's input folder (upload it first)"
        text = re.sub(r"^Custom validation failed for node\s*", "", detail)
        return re.sub(rf"^{re.escape(input_name or '')}\s*-\s*", "", text) or "the server refused this value"
    if kind == "required_input_missing":
        return "is missing"
    return None


_FIELD_WORDS = {"prompt": "Prompt", "negative": "Negative prompt", "seed": "Seed", "steps": "Steps",
                "cfg": "CFG", "width": "Width", "height": "Height", "checkpoint": "checkpoint",
                "sampler": "sampler", "scheduler": "scheduler", "batch_size": "batch size"}


def describe_node_errors(node_errors: dict | None) -> list[str]:
    """``node_errors`` from a /prompt answer -> one phrase per problem."""
    parts: list[str] = []
    for node_id, info in (node_errors or {}).items():
        if not isinstance(info, dict):
            continue
        where = f"Node {node_id}"
        if info.get("class_type"):
            where += f" ({info['class_type']})"
        errors = info.get("errors") or []
        if not errors:
            parts.append(f"{where}: invalid")
        for err in errors:
            if isinstance(err, dict):
                parts.append(f"{where}: {_describe_input_error(err)}")
    return parts


_TOP_LEVEL = {
    "prompt_no_outputs": "the workflow has no output node (such as Save Image), so there is nothing to run",
    "no_prompt": "no workflow was sent",
}


def _describe_rejected(exc: PromptRejected) -> str:
    error = getattr(exc, "error", None) or {}
    node_parts = describe_node_errors(getattr(exc, "node_errors", None))
    if node_parts:
        return "ComfyUI rejected the request. " + "; ".join(node_parts) + "."
    etype = error.get("type") or ""
    if etype in _TOP_LEVEL:
        return f"ComfyUI rejected the request: {_TOP_LEVEL[etype]}."
    message = _one_line(error.get("message"), 300).rstrip(".")
    details = _one_line(error.get("details"), 200)
    if message:
        text = message if not details or details in message else f"{message} ({details})"
        return "ComfyUI rejected the request: " + text.rstrip(".") + "."
    return "ComfyUI rejected the request: " + (_one_line(str(exc)) or "no reason given")


def describe(exc: BaseException, *, retrying: bool = True) -> str:
    """Return one plain line describing ``exc`` for a non-technical user.

    ``retrying`` says whether the caller keeps re-checking an unreachable server
    (the web page does, the CLI does not).
    """
    if isinstance(exc, ServerUnreachable):
        url = getattr(exc, "url", None) or "the configured address"
        text = f"Cannot reach ComfyUI at {url}. Is it running?"
        return text + (" Retrying automatically." if retrying else "")
    if isinstance(exc, PromptRejected):
        return _one_line(_describe_rejected(exc), 2000)
    if isinstance(exc, ServerHTTPError):
        status = getattr(exc, "status", None)
        url = getattr(exc, "url", None)
        body = _one_line(getattr(exc, "body", "") or "", 200)
        text = "ComfyUI answered with an error"
        if status:
            text += f" (HTTP {status})"
        if url:
            text += f" at {url}"
        return text + (f": {body}" if body else ".")
    if isinstance(exc, JobFailed):
        node = getattr(exc, "node_id", None)
        node_type = getattr(exc, "node_type", None)
        msg = _first_line(getattr(exc, "exception_message", "")) \
            or _one_line(getattr(exc, "exception_type", "")) or "unknown error"
        where = f"node {node}" if node is not None else "a node"
        if node_type:
            where += f" ({node_type})"
        return _one_line(f"Failed in {where}: {msg}")
    if isinstance(exc, JobInterrupted):
        return "The job was interrupted before it finished."
    if isinstance(exc, JobLost):
        return ("ComfyUI lost track of the job (it may have restarted or stopped answering). "
                "Please try again.")
    if isinstance(exc, WorkflowError):
        problems = getattr(exc, "problems", None)
        if problems:  # comfy_ui_app.check.PromptInvalid: found before sending
            return _one_line("Please fix the form: " + "; ".join(describe_problem(p) for p in problems)
                             + ".", 2000)
        return _one_line(str(exc)) or "The workflow is not valid."
    if isinstance(exc, ComfyError):
        return _one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, FileNotFoundError):
        return f"File not found: {exc.filename or _one_line(exc)}"
    if isinstance(exc, PermissionError):
        return f"Permission denied: {exc.filename or _one_line(exc)}"
    if isinstance(exc, OSError) and exc.filename:
        return f"Could not access {exc.filename}: {exc.strerror or _one_line(exc)}"
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return f"Network problem while talking to ComfyUI: {_one_line(exc) or type(exc).__name__}"
    text = _one_line(exc)
    return f"Unexpected error ({type(exc).__name__})" + (f": {text}" if text else ".")
