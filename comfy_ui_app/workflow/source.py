"""A workflow file's text made into a value the app can safely work on.

Every place that reads a workflow (the Custom workflow tab's upload and bundled files, the
command line's ``--workflow``, :func:`comfy_ui_app.workflow.templates.load_workflow`) parses
it with :func:`parse_json`, and checks its size with :func:`check_nodes` before any
conversion or form work:

* **depth**: no workflow nests more than a few levels (node -> inputs -> a link or a list);
  a file nested deeper than :data:`MAX_DEPTH` is refused with
  :class:`~comfy_ui_app.errors.WorkflowTooDeep`, whether Python's own parser gave up on it
  (a ``RecursionError``, about 1,000 levels) or a later copy of it would have;
* **nodes**: :func:`node_count` counts the nodes of an API-format graph or an editor save;
  over a cap (``jobs.policy.Policy.max_nodes``) it is :class:`~comfy_ui_app.errors.WorkflowTooLarge`.

Both walks are iterative: a value's depth is never found by recursion.
"""
from __future__ import annotations

import json
from typing import Any

from comfy_ui_app.errors import WorkflowError, WorkflowTooDeep, WorkflowTooLarge

__all__ = ["MAX_DEPTH", "parse_json", "nesting_depth", "node_count", "check_nodes"]

MAX_DEPTH = 64  # levels of nested objects and lists: a real workflow has under 10


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Levels of objects and lists in ``value`` (a scalar is 0), counted up to ``limit + 1``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def parse_json(text: str, *, field: str | None = None) -> Any:
    """``json.loads(text)``, refusing a value nested deeper than :data:`MAX_DEPTH`.

    Raises ``json.JSONDecodeError`` (a ValueError) for text that is not JSON, as ``json.loads``
    does, WorkflowTooDeep (naming ``field``) for a value too deep to be a workflow, and a
    WorkflowError for NaN / Infinity (``json.loads`` takes them; JSON and ComfyUI do not).
    """
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:  # Python's parser has a depth limit of its own
        raise WorkflowTooDeep(MAX_DEPTH, field) from exc
    if nesting_depth(data) > MAX_DEPTH:
        raise WorkflowTooDeep(MAX_DEPTH, field)
    return data


def _refuse_constant(name: str):
    """``json.loads`` takes NaN, Infinity and -Infinity, which JSON does not have: no graph may hold one."""
    raise WorkflowError(f"The workflow holds {name}, which is not a number ComfyUI can take. "
                        "Put a finite number in its place.")


def node_count(data: Any) -> int:
    """Nodes of a workflow: an editor save's ``nodes``, a saved ``POST /prompt`` body's
    ``prompt``, else the entries of an API-format graph (0 for anything else)."""
    if isinstance(data, dict) and isinstance(data.get("nodes"), list):
        return len(data["nodes"])
    if isinstance(data, dict) and isinstance(data.get("prompt"), dict):
        return len(data["prompt"])
    return len(data) if isinstance(data, dict) else 0


def check_nodes(data: Any, max_nodes: int | None, *, field: str | None = None) -> None:
    """Raise WorkflowTooLarge (naming ``field``) when ``data`` has more than ``max_nodes`` nodes
    (None: no cap)."""
    if max_nodes is None:
        return
    count = node_count(data)
    if count > max_nodes:
        raise WorkflowTooLarge(count, max_nodes, field)
