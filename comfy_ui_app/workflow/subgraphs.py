"""Unpack the subgraphs of an editor save into one flat graph, as the editor does before it runs one.

Pure functions over data: no I/O. :func:`flatten` is called by :mod:`comfy_ui_app.workflow.convert`
first; what comes out is an ordinary editor graph (plain nodes, Reroutes, Primitives, muted and
bypassed nodes) that it converts as usual. Group nodes (the older way to pack nodes) are unpacked
by :mod:`comfy_ui_app.workflow.group_nodes` in the same pass.

A **subgraph** (ComfyUI frontend 1.24 and later) is defined once in ``definitions.subgraphs``:
``{id, name, inputs, outputs, nodes, links}``, and used by nodes whose ``type`` is that id. Inside,
links from the subgraph's inputs start at node ``-10`` (``origin_slot``: which input) and links to
its outputs end at node ``-20`` (``target_slot``: which output). A definition may use other
subgraphs (nested). A subgraph node's own ``inputs`` are sockets named like the subgraph's inputs;
an input that feeds a widget inside also shows that widget on the subgraph node, and the node's
``widgets_values`` hold those widgets' values in the order of the subgraph's inputs.

Unpacked like the editor's ``graphToPrompt``: each inner node of instance ``N`` becomes node
``"N:inner"`` (nested: ``"N:M:inner"``, the ids ComfyUI reports progress with); an inner input fed by
a subgraph input takes the link that reaches the instance's socket, or, when that socket has no
link, the instance's widget value, held by a PrimitiveNode ``"N:in<i>"`` titled like the input (so
the form shows one field for it); links out of the instance start at the inner node that feeds the
output. A muted or bypassed subgraph node stays packed: it is left out, or passes its inputs on,
like any muted or bypassed node.
"""

from __future__ import annotations

import copy
from typing import Any

from comfy_ui_app.workflow.group_nodes import link_dict, unpack_group_nodes

__all__ = ["SubgraphError", "flatten", "link_dict", "MAX_DEPTH"]

INPUT_NODE, OUTPUT_NODE = -10, -20
MUTED, BYPASSED = 2, 4
MAX_DEPTH = 16  # subgraphs inside subgraphs; deeper (or a definition that uses itself) is refused
MAX_UNPACKED = 100_000  # nodes once unpacked: subgraphs used many times inside others multiply (refused before)


class SubgraphError(ValueError):
    """The subgraphs cannot be unpacked: ``kind`` is ``"depth"`` (nested too deep, or uses itself) or
    ``"size"`` (more than ``MAX_UNPACKED`` nodes once unpacked); ``name`` the subgraph."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind}: {name}")
        self.kind, self.name = kind, name


def flatten(workflow: dict, object_info: dict) -> dict:
    """``workflow`` with every group node and every subgraph node (not muted or bypassed) unpacked.

    The answer's ``links`` are dicts (see :func:`link_dict`); a workflow with neither comes back as it is."""
    definitions = {s["id"]: s for s in (workflow.get("definitions") or {}).get("subgraphs") or []
                   if isinstance(s, dict) and isinstance(s.get("id"), str)}
    workflow = unpack_group_nodes(workflow, object_info)
    if not definitions or not any(isinstance(n, dict) and n.get("type") in definitions for n in workflow["nodes"]):
        return workflow
    sizes: dict[str, int] = {}
    total = sum(_size(n, definitions, sizes, 0) for n in workflow["nodes"])
    if total > MAX_UNPACKED:
        used = next(n["type"] for n in workflow["nodes"] if isinstance(n, dict) and n.get("type") in definitions)
        raise SubgraphError("size", str(definitions[used].get("name") or used))
    nodes, links = _flatten_level(workflow["nodes"], workflow.get("links") or [], definitions, 0)
    return {**workflow, "nodes": nodes, "links": list(links.values())}


def _size(node: Any, definitions: dict, sizes: dict, depth: int) -> int:
    """How many nodes ``node`` becomes once unpacked (each definition counted once, ``sizes``)."""
    definition = definitions.get(node.get("type")) if isinstance(node, dict) else None
    if definition is None or node.get("mode", 0) in (MUTED, BYPASSED):
        return 1
    key = definition["id"]
    if key not in sizes:
        if depth >= MAX_DEPTH:
            raise SubgraphError("depth", str(definition.get("name") or key))
        inner = sum(_size(n, definitions, sizes, depth + 1) for n in definition.get("nodes") or [])
        sizes[key] = min(MAX_UNPACKED + 1, inner + len(definition.get("inputs") or []))  # + held values
    return sizes[key]


def _flatten_level(nodes: list, links: list, definitions: dict, depth: int) -> tuple[list, dict]:
    """One graph's nodes with its subgraph nodes unpacked, and its links by id."""
    by_id = {}
    for link in links:
        entry = link_dict(link)
        if entry is not None:
            by_id[entry["id"]] = entry
    flat: list = []
    for node in nodes:
        definition = definitions.get(node.get("type")) if isinstance(node, dict) else None
        if definition is None or node.get("mode", 0) in (MUTED, BYPASSED):
            flat.append(node)
            continue
        if depth >= MAX_DEPTH:
            raise SubgraphError("depth", str(definition.get("name") or definition["id"]))
        flat.extend(_unpack(node, definition, definitions, by_id, depth))
    return flat, by_id


def _unpack(instance: dict, definition: dict, definitions: dict, outer: dict, depth: int) -> list:
    """The inner nodes of one subgraph node, wired to the outer graph (``outer`` links are rewired in place)."""
    name = str(definition.get("name") or definition["id"])
    inner_nodes, inner_links = _flatten_level(copy.deepcopy(definition.get("nodes") or []),
                                              definition.get("links") or [], definitions, depth + 1)
    prefix = f"{instance['id']}:"
    nodes = {str(n["id"]): n for n in inner_nodes if isinstance(n, dict) and "id" in n}
    for node in nodes.values():
        node["id"] = prefix + str(node["id"])
        for socket in node.get("inputs") or []:
            if isinstance(socket, dict) and socket.get("link") is not None:
                socket["link"] = prefix + str(socket["link"])
    users: dict[Any, list[tuple[dict, int]]] = {}  # link id -> the inner sockets it feeds
    for node in nodes.values():
        for position, socket in enumerate(node.get("inputs") or []):
            if isinstance(socket, dict) and socket.get("link") is not None:
                users.setdefault(socket["link"], []).append((node, position))
    declared = [i for i in definition.get("inputs") or [] if isinstance(i, dict)]
    sockets = {s.get("name"): s for s in instance.get("inputs") or [] if isinstance(s, dict)}
    values = instance.get("widgets_values") if isinstance(instance.get("widgets_values"), list) else []
    feeds_widget = [any(link["origin_id"] == INPUT_NODE and link["origin_slot"] == i
                        and any(n["inputs"][p].get("widget") for n, p in users.get(prefix + str(link["id"]), ()))
                        for link in inner_links.values()) for i in range(len(declared))]
    widget_inputs = [i for i, feeds in enumerate(feeds_widget) if feeds]
    extra: list = []
    outputs: dict[int, tuple[Any, Any]] = {}
    for link in list(inner_links.values()):
        if link["origin_id"] == INPUT_NODE and link["target_id"] == OUTPUT_NODE:
            outputs[link["target_slot"]] = _outer_source(link["origin_slot"], declared, sockets, outer)
        elif link["origin_id"] == INPUT_NODE:
            index = link["origin_slot"]
            known = isinstance(index, int) and 0 <= index < len(declared)
            socket = sockets.get(declared[index].get("name")) if known else None
            for node, position in users.get(prefix + str(link["id"]), ()):
                slot = node["inputs"][position]
                if socket is not None and socket.get("link") is not None and socket["link"] in outer:
                    slot["link"] = socket["link"]
                elif known and index in widget_inputs and widget_inputs.index(index) < len(values):
                    slot["link"] = _held_value(instance, index, declared[index], values[widget_inputs.index(index)],
                                               slot.get("type"), extra, outer, node["id"], position)
                else:
                    slot["link"] = None
        elif link["target_id"] == OUTPUT_NODE:
            outputs[link["target_slot"]] = (prefix + str(link["origin_id"]), link["origin_slot"])
        else:
            outer[prefix + str(link["id"])] = {**link, "id": prefix + str(link["id"]),
                                               "origin_id": prefix + str(link["origin_id"]),
                                               "target_id": prefix + str(link["target_id"])}
    for link in outer.values():
        if str(link["origin_id"]) == str(instance["id"]):
            origin = outputs.get(link["origin_slot"], (None, None))
            link["origin_id"], link["origin_slot"] = origin if origin[0] is not None else (f"{prefix}missing", 0)
    return [*extra, *nodes.values()]


def _outer_source(index: Any, declared: list, sockets: dict, outer: dict) -> tuple[Any, Any]:
    """Where the outer link into subgraph input ``index`` comes from (an input passed straight to an output)."""
    socket = sockets.get(declared[index].get("name")) if isinstance(index, int) and index < len(declared) else None
    link = outer.get((socket or {}).get("link"))
    return (link["origin_id"], link["origin_slot"]) if link else (None, None)


def _held_value(instance: dict, index: int, declared: dict, value: Any, kind: Any, extra: list, outer: dict,
                target_id: Any, target_slot: Any) -> str:
    """A PrimitiveNode holding the subgraph node's widget value for input ``index``; the id of its link."""
    node_id = f"{instance['id']}:in{index}"
    if not any(n["id"] == node_id for n in extra):
        title = declared.get("label") or declared.get("name")
        extra.append({"id": node_id, "type": "PrimitiveNode", "mode": 0, "inputs": [], "title": title,
                      "outputs": [{"name": "connect to widget input", "type": kind, "links": []}],
                      "widgets_values": [value]})
    link_id = f"{node_id}>{target_id}:{target_slot}"
    outer[link_id] = {"id": link_id, "origin_id": node_id, "origin_slot": 0, "target_id": target_id,
                      "target_slot": target_slot, "type": kind}
    return link_id
