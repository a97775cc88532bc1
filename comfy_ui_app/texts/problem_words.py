"""Validation problems in words: ComfyUI's ``node_errors`` and ``check.Problem``.

Private helper of ``messages`` (the public ``describe*`` API lives there). Every
sentence is one ``tr`` template with named placeholders, so a translation can put
the words in its own order; ``lang`` is a language code from ``i18n.LANGUAGES``.
No gradio import: the CLI uses this too.
"""
from __future__ import annotations

import re

from comfy_ui_app.texts.i18n import tr

_MAX_LEN = 600

# ComfyUI input names -> words a non-technical user recognises from the page (``tr`` keys).
INPUT_WORDS = {
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
# Form field names -> the page's label for them (``tr`` keys).
FIELD_WORDS = {"prompt": "Prompt", "negative": "Negative prompt", "seed": "Seed", "steps": "Steps",
               "cfg": "CFG", "width": "Width", "height": "Height", "checkpoint": "checkpoint",
               "sampler": "sampler", "scheduler": "scheduler", "batch_size": "batch size"}
# ComfyUI value types -> words (``tr`` keys).
TYPE_WORDS = {"INT": "a whole number", "FLOAT": "a number", "STRING": "text", "BOOLEAN": "true or false"}
# Whole-prompt error types -> a phrase (``tr`` keys).
TOP_LEVEL = {
    "prompt_no_outputs": "the workflow has no output node (such as Save Image), so there is nothing to run",
    "no_prompt": "no workflow was sent",
}

_MISSING = object()
_INVALID_IMAGE = re.compile(r"Invalid image file: (.+)$")


def one_line(text: object, limit: int = _MAX_LEN) -> str:
    s = re.sub(r"\s+", " ", str(text if text is not None else "")).strip()
    if len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s


def first_line(text: object) -> str:
    for line in str(text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def join(parts, lang: str) -> str:
    """Problems one after another: ``"a; b"`` (``"a；b"`` in Chinese)."""
    return tr("; ", lang).join(parts)


def _input_word(name: str | None, lang: str) -> str:
    if not name:
        return tr("an input", lang)
    return tr(INPUT_WORDS.get(name, name.replace("_", " ")), lang)


def _input_name(err: dict) -> str | None:
    extra = err.get("extra_info") or {}
    name = extra.get("input_name")
    if not name:
        details = str(err.get("details") or "")
        m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:[:,]|$)", details)
        name = m.group(1) if m else None
    return name


def _with_choices(text: str, limit, lang: str, *, few: bool) -> str:
    """``text (choose from: a, b)``; ``few``: only when there are at most six choices."""
    if not isinstance(limit, (list, tuple)) or not limit or (few and len(limit) > 6):
        return text
    choices = ", ".join(str(c) for c in limit[:6])
    if len(limit) > 6:
        return tr("{text} (choose from: {choices} and {more} more)", lang,
                  text=text, choices=choices, more=len(limit) - 6)
    return tr("{text} (choose from: {choices})", lang, text=text, choices=choices)


def _not_in_list(input_name, word: str, value, has: bool, limit, lang: str) -> str:
    if input_name == "ckpt_name" or word.lower() == "checkpoint":
        text = (tr("checkpoint '{value}' is not installed on the server", lang, value=value) if has
                else tr("that checkpoint is not installed on the server", lang))
    else:
        text = (tr("{word} '{value}' is not one of the allowed values", lang, word=word, value=value) if has
                else tr("{word} is not one of the allowed values", lang, word=word))
    return _with_choices(text, limit, lang, few=True)


def _limit(kind: str, word: str, value, has: bool, limit, message: str, lang: str) -> str:
    """value_smaller_than_min / value_bigger_than_max."""
    if limit is None:
        return tr("{name}: {text}", lang, name=word, text=message)
    if kind == "value_smaller_than_min":
        return (tr("{word} must be at least {limit} (got {value})", lang, word=word, limit=limit, value=value)
                if has else tr("{word} must be at least {limit}", lang, word=word, limit=limit))
    return (tr("{word} must be at most {limit} (got {value})", lang, word=word, limit=limit, value=value)
            if has else tr("{word} must be at most {limit}", lang, word=word, limit=limit))


def phrase(kind: str, lang: str, *, input_name: str | None, word: str, value=_MISSING, limit=None,
           expected_type: str | None = None, message: str = "", details: str = "") -> str:
    """One validation problem in words. ``kind`` is ComfyUI's error type name."""
    has = value is not _MISSING
    if kind == "required_input_missing":
        return tr("the required input '{word}' is missing", lang, word=word)
    if kind == "value_not_in_list":
        return _not_in_list(input_name, word, value, has, limit, lang)
    if kind in ("value_smaller_than_min", "value_bigger_than_max"):
        return _limit(kind, word, value, has, limit, message, lang)
    if kind == "invalid_input_type":
        if has:
            wanted = (tr(TYPE_WORDS.get(str(expected_type), expected_type), lang) if expected_type
                      else tr("a different type", lang))
            return tr("{word} must be {wanted}, not '{value}'", lang, word=word, wanted=wanted, value=value)
        return (tr("{name}: {text}", lang, name=word, text=message) if message
                else tr("{word} has the wrong type", lang, word=word))
    if kind == "return_type_mismatch":
        if has and expected_type:
            return tr("input '{word}' is connected to the wrong kind of output ({value} instead of {expected})",
                      lang, word=word, value=value, expected=expected_type)
        return tr("input '{word}' is connected to the wrong kind of output", lang, word=word)
    if kind in ("bad_linked_input", "exception_during_inner_validation", "exception_during_validation"):
        extra = f"{message}: {details}" if message and details else (message or details)  # the server's words
        if input_name:
            return (tr("input '{word}' is not connected properly ({reason})", lang, word=word, reason=extra)
                    if extra else tr("input '{word}' is not connected properly", lang, word=word))
        return extra or tr("a connection in the workflow is broken", lang)
    if kind == "missing_node_type":
        return (tr("a node type is not installed on the server ({details})", lang, details=details) if details
                else tr("a node type is not installed on the server", lang))
    if kind == "dependency_cycle":
        return tr("the workflow contains a loop (a node depends on itself)", lang)
    if kind == "prompt_no_outputs":
        return tr(TOP_LEVEL[kind], lang)
    if kind == "custom_validation_failed":
        text = details or message
        return tr("{name}: {text}", lang, name=word, text=text) if input_name else text
    text = message or kind or tr("invalid value", lang)
    return f"{text}: {details}" if details and details not in text else text  # the server's words


def describe_input_error(err: dict, lang: str) -> str:
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
    return phrase(kind, lang, input_name=name, word=_input_word(name, lang), value=value, limit=limit,
                  expected_type=expected, message=one_line(err.get("message"), 200),
                  details=one_line(err.get("details"), 200))


def at_node(node_id, class_type, text: str, lang: str) -> str:
    """``Node 3 (KSampler): text``."""
    if class_type:
        return tr("Node {node} ({class_type}): {text}", lang, node=node_id, class_type=class_type, text=text)
    return tr("Node {node}: {text}", lang, node=node_id, text=text)


def node_error_texts(node_errors: dict | None, lang: str) -> list[str]:
    """``node_errors`` from a /prompt answer -> one phrase per problem."""
    parts: list[str] = []
    for node_id, info in (node_errors or {}).items():
        if not isinstance(info, dict):
            continue
        class_type = info.get("class_type")
        errors = info.get("errors") or []
        if not errors:
            parts.append(at_node(node_id, class_type, tr("invalid", lang), lang))
        for err in errors:
            if isinstance(err, dict):
                parts.append(at_node(node_id, class_type, describe_input_error(err, lang), lang))
    return parts


def _capital(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def problem_text(problem, lang: str, name_first: bool) -> str:
    """A ``check.Problem`` in words (see ``messages.describe_problem``)."""
    kind = getattr(problem, "kind", "") or ""
    input_name = getattr(problem, "input_name", None)
    field = getattr(problem, "field", None)
    detail = one_line(getattr(problem, "detail", ""), 200)
    value = getattr(problem, "value", None)
    limit = getattr(problem, "limit", None)
    if name_first and field:
        about = _about_field(kind, input_name, value, limit, detail, lang)
        if about:
            return tr("{name}: {text}", lang, name=field, text=about)
    if kind == "custom_validation_failed" and _missing_image(detail):
        text = _about_field(kind, input_name, None, None, detail, lang)
        return tr("{name}: {text}", lang, name=tr(field, lang) if field else _input_word(input_name, lang),
                  text=text)
    word = tr(FIELD_WORDS.get(field, field.replace("_", " ")), lang) if field else _input_word(input_name, lang)
    expected = None
    if kind in ("invalid_input_type", "return_type_mismatch"):
        expected, limit = (str(limit) if limit is not None else None), None
    has_value = kind not in ("required_input_missing", "missing_node_type", "prompt_no_outputs") \
        and value is not None
    text = phrase(kind, lang, input_name=input_name, word=word, value=value if has_value else _MISSING,
                  limit=limit, expected_type=expected, details=detail)
    node_id, class_type = getattr(problem, "node_id", None), getattr(problem, "class_type", None)
    if kind == "bad_linked_input" and input_name and isinstance(value, list):
        text = _broken_link(word, value, limit, lang)
    if kind == "missing_node_type" and class_type:
        text = tr("the node type '{class_type}' is not installed on the server", lang, class_type=class_type)
        return at_node(node_id, None, text, lang) if node_id else _capital(text)
    return at_node(node_id, class_type, text, lang) if node_id else _capital(text)


def _missing_image(detail: object) -> str | None:
    """The file name in LoadImage's "Invalid image file: NAME" refusal, if that is what it is."""
    match = _INVALID_IMAGE.search(one_line(detail, 400))
    return match.group(1).strip() if match else None


def _broken_link(word: str, link: list, outputs, lang: str) -> str:
    if len(link) != 2 or not isinstance(link[0], str) or not isinstance(link[1], int):
        return tr("input '{word}' has a malformed link {link} (it must be [\"node id\", output number])", lang,
                  word=word, link=link)
    if isinstance(outputs, (list, tuple)):
        values = dict(word=word, slot=link[1], node=link[0], count=len(outputs))
        if len(outputs) == 1:
            return tr("input '{word}' is linked to output {slot} of node {node}, which has only {count} output",
                      lang, **values)
        return tr("input '{word}' is linked to output {slot} of node {node}, which has only {count} outputs",
                  lang, **values)
    return tr("input '{word}' is linked to node {node}, which is not in the workflow", lang,
              word=word, node=link[0])


def _shown(value, lang: str) -> str:
    return tr("'{value}'", lang, value=value) if isinstance(value, str) else str(value)


def _about_field(kind: str, input_name: str | None, value, limit, detail: str, lang: str) -> str | None:
    """What is wrong with a field's value, without naming the field (it is named first)."""
    has = value is not None
    shown = _shown(value, lang) if has else None
    if kind == "value_smaller_than_min" and limit is not None:
        return (tr("must be at least {limit}, not {value}", lang, limit=limit, value=shown) if has
                else tr("must be at least {limit}", lang, limit=limit))
    if kind == "value_bigger_than_max" and limit is not None:
        return (tr("must be at most {limit}, not {value}", lang, limit=limit, value=shown) if has
                else tr("must be at most {limit}", lang, limit=limit))
    if kind == "invalid_input_type":
        wanted = tr(TYPE_WORDS.get(str(limit), "a different kind of value"), lang)
        return (tr("must be {wanted}, not {value}", lang, wanted=wanted, value=shown) if has
                else tr("must be {wanted}", lang, wanted=wanted))
    if kind == "value_not_in_list":
        if input_name == "ckpt_name":
            text = (tr("{value} is not installed on the server", lang, value=shown) if has
                    else tr("that checkpoint is not installed on the server", lang))
        else:
            text = (tr("{value} is not one of the allowed values", lang, value=shown) if has
                    else tr("that checkpoint is not one of the allowed values", lang))
        return _with_choices(text, limit, lang, few=False)
    if kind == "custom_validation_failed":
        missing = _missing_image(detail)
        if missing:
            return tr("there is no image '{name}' in ComfyUI's input folder (upload it first)", lang, name=missing)
        text = re.sub(r"^Custom validation failed for node\s*", "", detail)
        return re.sub(rf"^{re.escape(input_name or '')}\s*-\s*", "", text) or tr("the server refused this value", lang)
    if kind == "required_input_missing":
        return tr("is missing", lang)
    return None
