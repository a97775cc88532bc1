"""Check a filled prompt against ``/object_info`` before it is sent, and map the
server's own ``node_errors`` back to form fields the same way.

Problems are data, not sentences: ``kind`` uses ComfyUI's own error type names
(``value_smaller_than_min``, ``required_input_missing`` …, see B2 in the field notes
and ``post_prompt_errors.json``) so that a local check and a server rejection read
the same. ``comfy_ui_app.texts.messages`` turns them into words. What each kind carries:

=========================  =====================  ====================================
kind                       value                  limit
=========================  =====================  ====================================
missing_node_type          —                      — (class_type is None: no class_type)
required_input_missing     —                      —
invalid_input_type         the value              the expected type ("INT", "FLOAT")
value_smaller_than_min     the value              the minimum
value_bigger_than_max      the value              the maximum
value_not_in_list          the value              the allowed choices (tuple), or None
return_type_mismatch       the linked output type the input's type ("MODEL")
bad_linked_input           the link               None: no such node (or malformed);
                                                  the node's output types: no such slot
prompt_no_outputs, …       —                      —
=========================  =====================  ====================================

The server reports a link to a missing node or output as an exception
(``exception_during_inner_validation``, KeyError/IndexError) keyed by the node holding
the link, with the *downstream* node's input name; those become ``bad_linked_input``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from comfy_ui_app.errors import PromptRejected, WorkflowError
from comfy_ui_app.workflow.fields import Field, input_spec, is_link
from comfy_ui_app.workflow.file_inputs import FILE_FLAGS

__all__ = ["Problem", "PromptInvalid", "check_prompt", "problems_from_rejection", "field_index", "merge_node_tables"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a prompt, pointed at the form field it came from."""

    kind: str
    node_id: str | None = None
    class_type: str | None = None
    input_name: str | None = None
    field: str | None = None
    value: Any = None
    limit: Any = None  # see the table in the module docstring
    detail: str = ""  # the server's own words (rejections only)


class PromptInvalid(WorkflowError):
    """The prompt has problems; ``problems`` lists them, ``field`` names the first's field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else Problem("unknown")
        where = f"node {first.node_id} ({first.class_type})" if first.node_id else "the workflow"
        super().__init__(f"The workflow has {len(self.problems)} problem(s), first in {where}: {first.kind}", first.field)


def field_index(fields: Iterable[Field]) -> dict[tuple[str, str], str]:
    """``(node id, input name) -> field name`` for every input a field fills."""
    index: dict[tuple[str, str], str] = {}
    for field in fields:
        for target in ((field.node_id, field.input_name), *field.also):
            index.setdefault(target, field.name)
    return index


def _class_of(prompt: dict, node_id: str) -> Any:
    node = prompt.get(node_id)
    return node.get("class_type") if isinstance(node, dict) else None


def _known(object_info: dict, class_type: Any) -> bool:
    return isinstance(class_type, str) and class_type in object_info


def _types_match(received: Any, expected: Any) -> bool:
    """ComfyUI's rule: equal, a ``*`` wildcard, or overlapping ``A,B`` unions."""
    if received == expected or not isinstance(received, str) or not isinstance(expected, str):
        return True  # combos (lists) and odd types: the server decides
    got, want = ({t.strip() for t in s.split(",")} for s in (received, expected))
    return "*" in got or "*" in want or bool(got & want)


def _link_problem(prompt: dict, object_info: dict, value: list, expected: Any) -> tuple[str, Any, Any] | None:
    """``(kind, value, limit)`` for a link that cannot work, else None."""
    if not is_link(value):
        return "bad_linked_input", value, None
    source = value[0] if isinstance(value[0], str) else None  # the server looks ids up as strings
    if source not in prompt:
        return "bad_linked_input", value, None
    class_type = _class_of(prompt, source)
    if not _known(object_info, class_type):
        return None  # reported as missing_node_type, or no object_info to tell
    outputs = tuple(object_info[class_type].get("output") or ())
    if not 0 <= value[1] < len(outputs):
        return "bad_linked_input", value, outputs
    if not _types_match(outputs[value[1]], expected):
        return "return_type_mismatch", outputs[value[1]], expected
    return None


def _value_problem(spec: tuple[Any, dict], value: Any) -> tuple[str, Any] | None:
    """``(kind, limit)`` if ComfyUI would refuse this literal, converting it as it does."""
    kind, options = spec
    if isinstance(kind, list):  # a combo; empty lists and uploads of any kind (checked by the node itself) pass
        if not kind or any(options.get(flag) for flag in FILE_FLAGS) or options.get("multiselect") or value in kind:
            return None
        return "value_not_in_list", tuple(kind)
    if kind not in ("INT", "FLOAT"):
        return None  # STRING and BOOLEAN are converted with str() and bool(): never refused
    try:
        number = int(value) if kind == "INT" else float(value)
    except (TypeError, ValueError, OverflowError):
        return "invalid_input_type", kind
    if options.get("min") is not None and number < options["min"]:
        return "value_smaller_than_min", options["min"]
    if options.get("max") is not None and number > options["max"]:
        return "value_bigger_than_max", options["max"]
    return None


def _validated(prompt: dict, object_info: dict, outputs: list[str]) -> list[str]:
    """The output nodes and every node they depend on: what the server validates."""
    seen, stack = list(outputs), list(outputs)
    while stack:
        inputs = prompt[stack.pop()].get("inputs") or {}
        for value in inputs.values():
            source = value[0] if is_link(value) else None
            if source in prompt and source not in seen and _known(object_info, _class_of(prompt, source)):
                seen.append(source)
                stack.append(source)
    return sorted(seen, key=lambda n: (len(n), n))


def check_prompt(prompt: dict, object_info: dict | None, fields: Iterable[Field] = ()) -> list[Problem]:
    """Everything ComfyUI's validation would refuse that can be seen from here.

    Mirrors the server: every node's class must exist; there must be an output node;
    then the outputs and the nodes they depend on are checked input by input. Without
    ``object_info`` nothing can be checked and the answer is ``[]``.
    """
    if not object_info:
        return []
    if not isinstance(prompt, dict) or not prompt:
        return [Problem("prompt_no_outputs")]
    index = field_index(fields)
    problems = [Problem("missing_node_type", str(n), _class_of(prompt, n)) for n in prompt
                if not _known(object_info, _class_of(prompt, n))]  # fmt: skip
    outputs = [n for n in prompt if _known(object_info, _class_of(prompt, n))
               and object_info[_class_of(prompt, n)].get("output_node")]  # fmt: skip
    if not outputs and not problems:
        return [Problem("prompt_no_outputs")]
    for node_id in _validated(prompt, object_info, outputs):
        class_type = _class_of(prompt, node_id)
        sections = object_info[class_type].get("input") or {}
        inputs = prompt[node_id].get("inputs") or {}
        for section in ("required", "optional"):
            for input_name in sections.get(section) or {}:
                spec = input_spec(object_info, class_type, input_name)
                found = None
                if input_name not in inputs:
                    found = ("required_input_missing", None, None) if section == "required" else None
                elif isinstance(inputs[input_name], list):
                    found = _link_problem(prompt, object_info, inputs[input_name], spec[0] if spec else None)
                elif spec:
                    broken = _value_problem(spec, inputs[input_name])
                    found = (broken[0], inputs[input_name], broken[1]) if broken else None
                if found:
                    kind, value, limit = found
                    field = index.get((node_id, input_name))
                    problems.append(Problem(kind, node_id, class_type, input_name, field, value, limit))
    return problems


_NODE_ID = re.compile(r"#([^']+)'")
_MISSING_CLASS = re.compile(r"node (.+) does not exist")
_LIMITS = {"value_smaller_than_min": "min", "value_bigger_than_max": "max"}


def _from_node_error(node_id: str, class_type: str | None, item: dict, index: dict,
                     prompt: dict | None, object_info: dict | None) -> list[Problem]:  # fmt: skip
    kind = str(item.get("type") or "unknown")
    extra = item.get("extra_info") if isinstance(item.get("extra_info"), dict) else {}
    detail = " ".join(str(x) for x in (item.get("message"), item.get("details")) if x)
    if kind.startswith("exception_during") and extra.get("exception_type") in ("KeyError", "IndexError"):
        # a dangling link in this node; extra_info's input_name belongs to the node downstream
        found = []
        if isinstance(prompt, dict) and isinstance(prompt.get(node_id), dict):
            for input_name, value in (prompt[node_id].get("inputs") or {}).items():
                spec = input_spec(object_info, class_type, input_name)
                broken = isinstance(value, list) and _link_problem(prompt, object_info or {}, value, spec and spec[0])
                if broken and broken[0] == "bad_linked_input":
                    found.append(Problem("bad_linked_input", node_id, class_type, input_name,
                                         index.get((node_id, input_name)), broken[1], broken[2], detail))  # fmt: skip
        return found or [Problem("bad_linked_input", node_id, class_type, detail=detail)]
    input_name = None if kind.startswith("exception_during") else extra.get("input_name")
    config = extra.get("input_config") if isinstance(extra.get("input_config"), list) else []
    expected = config[0] if config else None
    options = config[1] if len(config) > 1 and isinstance(config[1], dict) else {}
    if kind == "return_type_mismatch":
        value, limit = extra.get("received_type"), expected
    elif kind in _LIMITS:
        value, limit = extra.get("received_value"), options.get(_LIMITS[kind])
    elif kind == "value_not_in_list":  # the server leaves long lists out; object_info has them
        spec = input_spec(object_info, class_type, input_name) if not isinstance(expected, list) else (expected, {})
        value, limit = extra.get("received_value"), tuple(spec[0]) if spec and isinstance(spec[0], list) else None
    elif kind == "invalid_input_type":
        value, limit = extra.get("received_value"), expected
    else:
        value, limit = extra.get("received_value"), None
    return [Problem(kind, node_id, class_type, input_name, index.get((node_id, input_name or "")), value, limit, detail)]


def problems_from_rejection(error: PromptRejected, fields: Iterable[Field] = (), *,
                            prompt: dict | None = None, object_info: dict | None = None) -> list[Problem]:  # fmt: skip
    """The server's 400 answer as Problems, pointed at fields like :func:`check_prompt`.

    Pass the ``prompt`` that was sent (and ``object_info``) to find the input of a
    dangling link, which the server names only by the exception it raised.
    """
    index = field_index(fields)
    problems = []
    for node_id, entry in (error.node_errors or {}).items():
        entry = entry if isinstance(entry, dict) else {}
        for item in entry.get("errors") or []:
            if isinstance(item, dict):
                problems += _from_node_error(str(node_id), entry.get("class_type"), item, index, prompt, object_info)
    if problems:
        return problems
    top = error.error
    extra = top.get("extra_info") if isinstance(top.get("extra_info"), dict) else {}
    kind, message = str(top.get("type") or "invalid_prompt"), str(top.get("message") or "")
    detail = " ".join(str(x) for x in (top.get("message"), top.get("details")) if x)
    node = _NODE_ID.search(str(top.get("details") or ""))
    node_id = str(extra["node_id"]) if extra.get("node_id") is not None else node.group(1) if node else None
    missing = _MISSING_CLASS.search(message)
    if kind == "missing_node_type" or missing or (kind == "invalid_prompt" and "class_type" in message):
        # newer servers: missing_node_type with extra_info; 0.3.x: invalid_prompt with a sentence
        class_type = extra.get("class_type") if "class_type" in extra else missing.group(1) if missing else None
        return [Problem("missing_node_type", node_id, class_type, detail=detail)]
    return [Problem(kind, node_id, detail=detail)]


def merge_node_tables(into: dict, other: dict) -> dict:
    """``into`` (one server's ``/object_info``) with ``other``'s node classes added; a class both have
    gets the union of each list of choices, old ``[[...]]`` and newer ``["COMBO", {"options"}]`` alike
    (a checkpoint or an uploaded file on either server can be picked). Returns ``into``."""
    for name, node in other.items():
        mine = into.setdefault(name, node)
        if mine is node:
            continue
        if not (isinstance(mine, dict) and isinstance(node, dict)):
            continue
        for section in ("required", "optional"):
            ours, theirs = (mine.get("input") or {}).get(section) or {}, (node.get("input") or {}).get(section) or {}
            for key, spec in theirs.items():
                have = ours.get(key)
                if not (isinstance(have, list) and isinstance(spec, list) and have and spec):
                    continue
                if isinstance(have[0], list) and isinstance(spec[0], list):  # [[choices], {...}]
                    have[0] = have[0] + [c for c in spec[0] if c not in have[0]]
                elif have[0] == "COMBO" and len(have) > 1 and len(spec) > 1 and isinstance(have[1], dict):
                    options = have[1].get("options") or []
                    more = (spec[1] or {}).get("options") or [] if isinstance(spec[1], dict) else []
                    have[1] = {**have[1], "options": options + [c for c in more if c not in options]}
    return into
