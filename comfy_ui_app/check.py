"""Check a filled prompt against ``/object_info`` before it is sent, and map the
server's own ``node_errors`` back to form fields the same way.

Problems are data, not sentences: ``kind`` uses ComfyUI's own error type names
(``value_smaller_than_min``, ``required_input_missing`` …, see B2 in the field notes
and ``post_prompt_errors.json``) so that a local check and a server rejection read
the same. ``comfy_ui_app.messages`` turns them into words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import PromptRejected, WorkflowError
from .fields import Field, input_spec, is_link

__all__ = ["Problem", "PromptInvalid", "check_prompt", "problems_from_rejection", "field_index"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a prompt, pointed at the form field it came from."""

    kind: str
    node_id: str | None = None
    class_type: str | None = None
    input_name: str | None = None
    field: str | None = None
    value: Any = None
    limit: Any = None  # the min or max crossed, the allowed choices, the expected type
    detail: str = ""  # the server's own words, for kinds we do not know


class PromptInvalid(WorkflowError):
    """The prompt has problems; ``problems`` lists them, ``field`` names the first's field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else Problem("unknown")
        where = f"node {first.node_id} ({first.class_type})" if first.node_id else "the workflow"
        super().__init__(f"The workflow has {len(self.problems)} problem(s), first in {where}: {first.kind}", first.field)


def field_index(fields: Iterable[Field]) -> dict[tuple[str, str], str]:
    """``(node id, input name) -> field name`` for every input a field fills."""
    index = {}
    for field in fields:
        for target in ((field.node_id, field.input_name), *field.also):
            index.setdefault(target, field.name)
    return index


def _output_types(object_info: dict, class_type: str) -> list:
    return list((object_info.get(class_type) or {}).get("output") or [])


def _check_value(spec: tuple[Any, dict], value: Any) -> tuple[str, Any] | None:
    """``(kind, limit)`` if a literal value breaks its input spec."""
    kind, options = spec
    if isinstance(kind, list):
        return None if not kind or value in kind else ("value_not_in_list", tuple(kind))
    if kind in ("INT", "FLOAT"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)
            except (TypeError, ValueError):
                return ("invalid_input_type", kind)
        if kind == "INT" and isinstance(value, float) and not value.is_integer():
            return ("invalid_input_type", kind)
        if options.get("min") is not None and value < options["min"]:
            return ("value_smaller_than_min", options["min"])
        if options.get("max") is not None and value > options["max"]:
            return ("value_bigger_than_max", options["max"])
    if kind == "BOOLEAN" and not isinstance(value, bool):
        return ("invalid_input_type", kind)
    return None


def check_prompt(prompt: dict, object_info: dict, fields: Iterable[Field] = ()) -> list[Problem]:
    """Everything ComfyUI's validation would refuse that can be seen from here."""
    index = field_index(fields)
    problems: list[Problem] = []

    def report(kind: str, node_id: str, input_name: str | None = None, **kw: Any) -> None:
        class_type = prompt[node_id].get("class_type")
        problems.append(Problem(kind, node_id, class_type, input_name, index.get((node_id, input_name or "")), **kw))

    has_output = False
    for node_id, node in prompt.items():
        class_type = node.get("class_type")
        definition = object_info.get(class_type)
        if definition is None:
            report("missing_node_type", node_id)
            continue
        has_output = has_output or bool(definition.get("output_node"))
        inputs = node.get("inputs") or {}
        for input_name in (definition.get("input") or {}).get("required") or {}:
            if input_name not in inputs:
                report("required_input_missing", node_id, input_name)
        for input_name, value in inputs.items():
            spec = input_spec(object_info, class_type, input_name)
            if is_link(value):
                source = prompt.get(str(value[0]))
                if source is None:
                    report("bad_linked_input", node_id, input_name, value=value, limit="missing node")
                    continue
                outputs = _output_types(object_info, source.get("class_type"))
                if source.get("class_type") in object_info and not 0 <= value[1] < len(outputs):
                    report("bad_linked_input", node_id, input_name, value=value, limit="missing output")
                elif spec and isinstance(spec[0], str) and outputs and "*" not in (spec[0], outputs[value[1]]):
                    if outputs[value[1]] not in spec[0].split(","):
                        report("return_type_mismatch", node_id, input_name, value=outputs[value[1]], limit=spec[0])
            elif spec is not None:
                broken = _check_value(spec, value)
                if broken:
                    report(broken[0], node_id, input_name, value=value, limit=broken[1])
    if prompt and not has_output and not any(p.kind == "missing_node_type" for p in problems):
        problems.append(Problem("prompt_no_outputs"))
    return problems


_NODE_ID = re.compile(r"#([^']+)'")
_CLASS = re.compile(r"node (\S+) does not exist")


def problems_from_rejection(error: PromptRejected, fields: Iterable[Field] = ()) -> list[Problem]:
    """The server's 400 answer as Problems, pointed at fields like :func:`check_prompt`."""
    index = field_index(fields)
    problems = []
    for node_id, entry in (error.node_errors or {}).items():
        for item in entry.get("errors") or []:
            extra = item.get("extra_info") or {}
            input_name = extra.get("input_name")
            config = extra.get("input_config")
            limit = None
            if item.get("type") in ("value_smaller_than_min", "value_bigger_than_max") and isinstance(config, list):
                limit = (config[1] if len(config) > 1 else {}).get("min" if "smaller" in item["type"] else "max")
            elif item.get("type") == "value_not_in_list" and isinstance(config, list) and isinstance(config[0], list):
                limit = tuple(config[0])
            elif item.get("type") == "return_type_mismatch" and isinstance(config, list):
                limit = config[0]
            value = extra.get("received_type") if item.get("type") == "return_type_mismatch" else extra.get("received_value")
            problems.append(Problem(
                str(item.get("type")), str(node_id), entry.get("class_type"), input_name,
                index.get((str(node_id), input_name or "")), value, limit,
                detail=" ".join(str(x) for x in (item.get("message"), item.get("details")) if x),
            ))  # fmt: skip
    if not problems:
        kind = error.type or "invalid_prompt"
        node = _NODE_ID.search(str(error.error.get("details", "")))
        message = str(error.error.get("message", ""))
        class_type = _CLASS.search(message)
        problems.append(Problem(
            "missing_node_type" if class_type else kind, node.group(1) if node else None,
            class_type.group(1) if class_type else None, detail=message,
        ))  # fmt: skip
    return problems
