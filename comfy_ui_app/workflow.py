"""API-format workflow templates: load them, find the usual fields, fill them in.

Pure functions over the graph (a dict of node id -> ``{class_type, inputs}``); no I/O
except reading the template. A link is ``[node_id, output_index]``. Fields are found
by following the sampler's links (its ``positive`` input leads back to the positive
prompt's text encoder), never by node order.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

from .errors import WorkflowError

__all__ = [
    "FIELD_NAMES",
    "SEED_MAX",
    "load_workflow",
    "workflow_defaults",
    "apply_values",
    "find_fields",
]

SEED_MAX = 0xFFFFFFFFFFFFFFFF  # KSampler's seed range in ComfyUI's object_info

FIELD_NAMES = (
    "prompt", "negative", "seed", "steps", "cfg", "width", "height",
    "batch_size", "checkpoint", "sampler", "scheduler",
)  # fmt: skip

_TYPES: dict[str, type] = {
    "prompt": str, "negative": str, "seed": int, "steps": int, "cfg": float, "width": int,
    "height": int, "batch_size": int, "checkpoint": str, "sampler": str, "scheduler": str,
}  # fmt: skip

_SAMPLER_INPUTS = {"steps": "steps", "cfg": "cfg", "sampler": "sampler_name", "scheduler": "scheduler"}
_TEXT_INPUTS = ("text", "text_g", "prompt")


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int))


def load_workflow(source: str | Path) -> dict:
    """Read an API-format workflow from a path or a JSON string.

    Raises WorkflowError with a plain message for bad JSON, a UI-format workflow
    (the "Save" kind, with ``nodes`` and ``links``) or anything that is not a graph.
    """
    text = str(source)
    if not text.lstrip().startswith(("{", "[")):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise WorkflowError(f"Cannot read the workflow file {path.name}: {e.strerror}") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise WorkflowError(f"The workflow is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from e
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
    return data


def _sampler_id(prompt: dict) -> str | None:
    """The first node that samples (has a seed and steps, or a noise_seed)."""
    for node_id, node in prompt.items():
        inputs = node.get("inputs", {})
        if ("seed" in inputs or "noise_seed" in inputs) and "steps" in inputs:
            return node_id
    return None


def _text_node(prompt: dict, start: Any, seen: set[str] | None = None) -> str | None:
    """Follow a conditioning link back to the node holding the prompt text."""
    if not _is_link(start):
        return None
    node_id = str(start[0])
    seen = seen if seen is not None else set()
    if node_id in seen or node_id not in prompt:
        return None
    seen.add(node_id)
    inputs = prompt[node_id].get("inputs", {})
    if any(isinstance(inputs.get(name), str) for name in _TEXT_INPUTS):
        return node_id
    for value in inputs.values():
        found = _text_node(prompt, value, seen)
        if found:
            return found
    return None


def find_fields(prompt: dict) -> dict[str, tuple[str, str]]:
    """Map each field name found in the graph to its ``(node_id, input_name)``."""
    fields: dict[str, tuple[str, str]] = {}
    sampler = _sampler_id(prompt)
    if sampler is not None:
        inputs = prompt[sampler]["inputs"]
        fields["seed"] = (sampler, "seed" if "seed" in inputs else "noise_seed")
        for name, input_name in _SAMPLER_INPUTS.items():
            if input_name in inputs and not _is_link(inputs[input_name]):
                fields[name] = (sampler, input_name)
        for name in ("positive", "negative"):
            node = _text_node(prompt, inputs.get(name))
            if node is not None:
                text_input = next(i for i in _TEXT_INPUTS if isinstance(prompt[node]["inputs"].get(i), str))
                fields["prompt" if name == "positive" else "negative"] = (node, text_input)
        latent = inputs.get("latent_image")
        if _is_link(latent) and str(latent[0]) in prompt:
            latent_inputs = prompt[str(latent[0])].get("inputs", {})
            for name in ("width", "height", "batch_size"):
                if name in latent_inputs and not _is_link(latent_inputs[name]):
                    fields[name] = (str(latent[0]), name)
    for node_id, node in prompt.items():
        if "ckpt_name" in node.get("inputs", {}):
            fields["checkpoint"] = (node_id, "ckpt_name")
            break
    return fields


def workflow_defaults(prompt: dict) -> dict[str, Any]:
    """The template's own value of each field it has."""
    return {name: prompt[node]["inputs"][inp] for name, (node, inp) in find_fields(prompt).items()}


def _coerce(name: str, value: Any) -> Any:
    kind = _TYPES.get(name, str)
    try:
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(float(value)) if isinstance(value, str) else int(value)
        if kind is float:
            return float(value)
    except (TypeError, ValueError) as e:
        raise WorkflowError(f"{name} must be a {'whole number' if kind is int else 'number'}, not {value!r}", name) from e
    return "" if value is None else str(value)


def apply_values(prompt: dict, values: dict[str, Any], *, rng: random.Random | None = None) -> dict:
    """Return a filled deep copy of ``prompt``; the template itself is never changed.

    A seed of -1 means a random seed in ComfyUI's range. Unknown names and values of the
    wrong type raise WorkflowError naming the field.
    """
    fields = find_fields(prompt)
    filled = copy.deepcopy(prompt)
    for name, value in values.items():
        if name not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise WorkflowError(f"This workflow has no field '{name}' (it has: {known})", name)
        value = _coerce(name, value)
        if name == "seed" and value == -1:
            value = (rng or random.SystemRandom()).randint(0, SEED_MAX)
        if name == "seed" and not 0 <= value <= SEED_MAX:
            raise WorkflowError(f"seed must be between 0 and {SEED_MAX}, or -1 for random", name)
        node, input_name = fields[name]
        filled[node]["inputs"][input_name] = value
    return filled
