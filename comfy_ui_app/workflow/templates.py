"""API-format workflow templates: load them and fill their fields in.

Pure functions over the graph (a dict of node id -> ``{class_type, inputs}``); no I/O
except reading the template. Which inputs are fields, and what they are called, is
decided by :mod:`comfy_ui_app.workflow.fields`.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
from pathlib import Path
from typing import Any

from comfy_ui_app.errors import BadValue, WorkflowError
from comfy_ui_app.workflow.fields import PLACEHOLDER, Field, discover
from comfy_ui_app.workflow.source import check_nodes, parse_json

__all__ = [
    "FIELD_NAMES",
    "SEED_MAX",
    "load_workflow",
    "api_graph",
    "workflow_defaults",
    "apply_values",
    "find_fields",
    "choose_checkpoint",
]

SEED_MAX = 0xFFFFFFFFFFFFFFFF  # KSampler's seed range in ComfyUI's object_info

#: The fields of the bundled text-to-image template (any discovered name works too).
FIELD_NAMES = (
    "prompt", "negative", "seed", "steps", "cfg", "width", "height",
    "batch_size", "checkpoint", "sampler", "scheduler",
)  # fmt: skip

def load_workflow(source: str | Path, *, max_nodes: int | None = None) -> dict:
    """Read an API-format workflow from a path or a JSON string.

    Raises WorkflowError with a plain message for bad JSON, a UI-format workflow
    (the "Save" kind, with ``nodes`` and ``links``) or anything that is not a graph;
    WorkflowTooDeep for a file nested deeper than any workflow, WorkflowTooLarge for
    more than ``max_nodes`` nodes (None: no cap).
    """
    text = str(source)
    if not text.lstrip().startswith(("{", "[")):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise WorkflowError(f"Cannot read the workflow file {path.name}: {e.strerror}") from e
    try:
        data = parse_json(text)   # NaN / Infinity refused there too
    except json.JSONDecodeError as e:
        raise WorkflowError(f"The workflow is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from e
    check_nodes(data, max_nodes)
    return api_graph(data)


def api_graph(data: Any) -> dict:
    """``data`` (parsed JSON) as an API-format graph; WorkflowError in plain words when it is not one."""
    if isinstance(data, dict) and "nodes" in data and "links" in data:
        raise WorkflowError(
            "This is a UI-format workflow. In ComfyUI, use Workflow > Export (API) "
            "(or enable dev mode and click 'Save (API Format)') and load that file instead."
        )
    if isinstance(data, dict) and isinstance(data.get("prompt"), dict):
        data = data["prompt"]  # a saved POST /prompt body
    if not isinstance(data, dict) or not data:
        raise WorkflowError("The workflow is empty or is not an API-format graph of nodes.")
    for node_id, node in data.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str):
            raise WorkflowError(f"Node {node_id} of the workflow has no class_type: is it API format?")
        if not isinstance(node.get("inputs", {}), dict):
            raise WorkflowError(f"Node {node_id} of the workflow has malformed inputs.")
        if not isinstance(node.get("_meta", {}), dict):
            raise WorkflowError(f"Node {node_id} of the workflow has a malformed _meta (its title).")
    return data


def find_fields(prompt: dict, object_info: dict | None = None) -> dict[str, tuple[str, str]]:
    """Map each field name found in the graph to its ``(node_id, input_name)``."""
    return {f.name: (f.node_id, f.input_name) for f in discover(prompt, object_info) if not f.placeholder}


def workflow_defaults(prompt: dict, object_info: dict | None = None) -> dict[str, Any]:
    """The template's own value of each named (not advanced) field."""
    return {f.name: f.default for f in discover(prompt, object_info) if not f.advanced}


def _coerce(field: Field, value: Any) -> Any:
    name, kind = field.name, field.kind
    if kind in ("int", "float") and _not_finite(value):
        raise BadValue(name, "not_a_number" if isinstance(value, int) else "not_finite", label=field.label,
                       value=value)
    try:
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(float(value)) if isinstance(value, str) else int(value)
        if kind == "float":
            return float(value)
    except (TypeError, ValueError, OverflowError) as e:
        raise WorkflowError(f"{name} must be a {'whole number' if kind == 'int' else 'number'}, not {value!r}", name) from e
    if kind == "bool":
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            return value.strip().lower() in ("true", "1", "yes", "on")
        if isinstance(value, (bool, int)):
            return bool(value)
        raise WorkflowError(f"{name} must be true or false, not {value!r}", name)
    return "" if value is None else str(value)


def _not_finite(value: Any) -> bool:
    """A number (or numeric text, "1e309") that is NaN or infinite, or an int too large for a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return False
    try:
        return not math.isfinite(float(value))
    except OverflowError:
        return True
    except ValueError:
        return False  # not a number at all: worded below as before


def _fill_placeholders(text: str, values: dict[str, Any]) -> str:
    def substitute(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        return str(values.get(name, (default or "").strip()))

    return PLACEHOLDER.sub(substitute, text)


def apply_values(
    prompt: dict,
    values: dict[str, Any],
    *,
    fields: list[Field] | None = None,
    rng: random.Random | None = None,
) -> dict:
    """Return a filled deep copy of ``prompt``; the template itself is never changed.

    ``values`` maps field names (see :func:`comfy_ui_app.workflow.fields.discover`) to values; a
    seed of -1 means a random seed in ComfyUI's range. Unknown names and values of the
    wrong type raise WorkflowError naming the field. ``{{name}}`` placeholders not given
    take their default.
    """
    by_name = {f.name: f for f in (fields if fields is not None else discover(prompt))}
    filled = copy.deepcopy(prompt)
    texts: dict[str, Any] = {}
    for name, value in values.items():
        field = by_name.get(name)
        if field is None:
            known = ", ".join(sorted(n for n, f in by_name.items() if not f.advanced)) or "none"
            raise WorkflowError(f"This workflow has no field '{name}' (it has: {known})", name)
        value = _coerce(field, value)
        if field.role == "seed":
            low, high = seed_range(field)
            if value == -1:
                value = (rng or random.SystemRandom()).randint(low, high)
            if not low <= value <= high:
                raise WorkflowError(f"{name} must be between {low} and {high}, or -1 for random", name)
        texts[name] = value  # a {{name}} placeholder takes the value of the field of that name
        if field.placeholder:
            continue
        for node_id, input_name in ((field.node_id, field.input_name), *field.also):
            filled[node_id]["inputs"][input_name] = value
    for node in filled.values():
        for input_name, value in node["inputs"].items():
            if isinstance(value, str) and PLACEHOLDER.search(value):
                node["inputs"][input_name] = _fill_placeholders(value, texts)
    return filled


def seed_range(field: Field) -> tuple[int, int]:
    """The seeds ``field`` takes: ComfyUI's 0..2**64-1, narrowed by the node's own min/max
    (a PrimitiveInt stops at 2**63-1)."""
    low = 0 if field.minimum is None else max(0, int(field.minimum))
    high = SEED_MAX if field.maximum is None else min(SEED_MAX, int(field.maximum))
    return low, high


def choose_checkpoint(current: str | None, available: list[str] | tuple[str, ...]) -> str | None:
    """Keep ``current`` if the server has it, else the first one the server lists.

    None when the server lists none (then leave the workflow as it is). Used by the
    command line and the web page.
    """
    available = list(available or [])
    if current in available:
        return current
    return available[0] if available else None
