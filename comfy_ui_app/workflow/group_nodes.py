"""Unpack the group nodes of an editor save (for :mod:`comfy_ui_app.workflow.subgraphs`). Pure, no I/O.

A **group node** (the editor's older way to pack nodes, before subgraphs) is defined in
``extra.groupNodes[Name]``: ``nodes`` (saved nodes, by position), ``links``
(``[from position, from slot, to position, to slot, from id, type]``) and ``external`` (outputs also
used outside). A node of type ``workflow>Name`` (``workflow/Name`` before frontend 1.2.63) uses it.
Its sockets and widgets are made the way the editor's ``GroupNodeConfig`` makes them:

* inputs: for each inner node in order, its inputs that are no widget and get no inner link; then,
  for each inner node, its widgets turned into sockets (``inputs`` entries with ``widget``) that get
  no inner link. A socket is named like the inner input, prefixed with the inner node's title (or
  type) where the name is taken already; the group node's sockets are matched by that name, else
  by position;
* outputs: each inner node's outputs in order, except those only used inside;
* ``widgets_values``: each inner node's widgets in order (a "control after generate" value after a
  seed, an upload button's value, as :func:`comfy_ui_app.workflow.editor_widgets.layout` says; a
  Primitive that feeds something: its value and control value). Where the group node's count does not
  match, each inner node keeps the values saved in the definition.

Unpacked, inner node ``i`` of group node ``N`` becomes node ``"N:i"`` (the ids the editor sends).
"""

from __future__ import annotations

import copy
from typing import Any

from comfy_ui_app.workflow.editor_widgets import layout

__all__ = ["is_group_type", "link_dict", "unpack_group_nodes"]

PREFIXES = ("workflow>", "workflow/")
MUTED, BYPASSED = 2, 4


def is_group_type(kind: Any) -> bool:
    return isinstance(kind, str) and kind.startswith(PREFIXES)


LINK_KEYS = ("id", "origin_id", "origin_slot", "target_id", "target_slot", "type")


def link_dict(link: Any) -> dict | None:
    """A link as ``{id, origin_id, origin_slot, target_id, target_slot, type}`` (a list or a dict in), or None."""
    if isinstance(link, dict):
        return {k: link.get(k) for k in LINK_KEYS}
    if isinstance(link, list) and len(link) >= 3:
        return dict(zip(LINK_KEYS, [*link[:6], *[None] * (6 - min(len(link), 6))]))
    return None


def unpack_group_nodes(workflow: dict, object_info: dict) -> dict:
    """``workflow`` with its group nodes (not muted or bypassed) unpacked; links come back as dicts."""
    groups = (workflow.get("extra") or {}).get("groupNodes") or {}
    nodes = workflow.get("nodes") or []
    if not isinstance(groups, dict) or not any(isinstance(n, dict) and _definition(n, groups) for n in nodes):
        return workflow
    links = {entry["id"]: entry for entry in map(link_dict, workflow.get("links") or []) if entry is not None}
    flat: list = []
    for node in nodes:
        definition = _definition(node, groups) if isinstance(node, dict) else None
        if definition is None or node.get("mode", 0) in (MUTED, BYPASSED):
            flat.append(node)
        else:
            flat.extend(_unpack(node, definition, links, object_info))
    return {**workflow, "nodes": flat, "links": list(links.values())}


def _definition(node: dict, groups: dict) -> dict | None:
    kind = node.get("type")
    if not is_group_type(kind):
        return None
    found = groups.get(kind[len("workflow>"):])
    return found if isinstance(found, dict) and isinstance(found.get("nodes"), list) else None


def _unpack(instance: dict, definition: dict, outer: dict, object_info: dict) -> list:
    iid = instance["id"]
    inner = [copy.deepcopy(n) for n in definition["nodes"] if isinstance(n, dict)]
    links_to: dict[tuple[int, int], list] = {}
    used_inside: set[tuple[int, int]] = set()
    for k, link in enumerate(definition.get("links") or []):
        if isinstance(link, list) and len(link) >= 4 and link[0] is not None:
            links_to[link[2], link[3]] = [f"{iid}:g{k}", link[0], link[1]]
            used_inside.add((link[0], link[1]))
    external = {(e[0], e[1]) for e in definition.get("external") or [] if isinstance(e, list) and len(e) >= 2}
    for position, node in enumerate(inner):
        node["id"] = f"{iid}:{position}"
        for slot, socket in enumerate(node.get("inputs") or []):
            if isinstance(socket, dict):
                found = links_to.get((position, slot))
                socket["link"] = found[0] if found else None
                if found:
                    outer[found[0]] = {"id": found[0], "origin_id": f"{iid}:{found[1]}", "origin_slot": found[2],
                                       "target_id": node["id"], "target_slot": slot, "type": socket.get("type")}
    _wire_inputs(instance, inner, outer)
    _wire_outputs(instance, inner, used_inside, external, outer, object_info)
    _spread_widgets(instance, inner, object_info)
    return inner


def _open_inputs(inner: list) -> list[tuple[dict, int, str]]:
    """``(inner node, input position, group input name)`` for every group input, in the editor's order."""
    plain, converted, seen = [], [], {}
    for node in inner:
        for slot, socket in enumerate(node.get("inputs") or []):
            if isinstance(socket, dict) and socket.get("link") is None:
                (converted if socket.get("widget") else plain).append((node, slot))
    named = []
    for node, slot in plain + converted:
        input_name = node["inputs"][slot].get("name")
        key = name = node["inputs"][slot].get("label") or input_name
        if name in seen:  # taken: "<title> <input>", then "<title> <count> <input>"
            prefix = f"{node.get('title') or node.get('type')} "
            key = name = f"{prefix}{input_name}"
            if name in seen:
                name = f"{prefix}{seen[name]} {input_name}"
        seen[key] = seen.get(key, 1) + 1
        named.append((node, slot, name))
    return named


def _wire_inputs(instance: dict, inner: list, outer: dict) -> None:
    sockets = [s for s in instance.get("inputs") or [] if isinstance(s, dict)]
    by_name = {s.get("name"): s for s in sockets}
    for position, (node, slot, name) in enumerate(_open_inputs(inner)):
        socket = by_name.get(name) or (sockets[position] if position < len(sockets) else None)
        if socket is not None and socket.get("link") in outer:
            node["inputs"][slot]["link"] = socket["link"]


def _wire_outputs(instance: dict, inner: list, used_inside: set, external: set, outer: dict,
                  object_info: dict) -> None:
    outputs = []
    for position, node in enumerate(inner):
        count = len((object_info.get(node.get("type")) or {}).get("output") or node.get("outputs") or [])
        outputs.extend((position, slot) for slot in range(count)
                       if (position, slot) not in used_inside or (position, slot) in external)
    for link in outer.values():
        if str(link["origin_id"]) == str(instance["id"]):
            slot = link["origin_slot"]
            source = outputs[slot] if isinstance(slot, int) and 0 <= slot < len(outputs) else None
            link["origin_id"], link["origin_slot"] = (f"{instance['id']}:{source[0]}", source[1]) if source else (
                f"{instance['id']}:missing", 0)


def _spread_widgets(instance: dict, inner: list, object_info: dict) -> None:
    """Hand the group node's widget values to its inner nodes, each its own share in order."""
    values = instance.get("widgets_values")
    if not isinstance(values, list):
        return
    shares = []
    for node in inner:
        if node.get("type") == "PrimitiveNode":
            shares.append(2 if any(o.get("links") for o in node.get("outputs") or [] if isinstance(o, dict)) else 0)
            continue
        converted = {s.get("name") for s in node.get("inputs") or [] if isinstance(s, dict) and s.get("widget")}
        slots = layout(object_info.get(node.get("type")) or {})
        shares.append(sum(1 for s in slots if s.name is None or s.name not in converted))
    if sum(shares) != len(values):
        return  # not the shape the editor would have saved: the definition's own values stand
    start = 0
    for node, share in zip(inner, shares):
        if node.get("type") == "PrimitiveNode":
            node["widgets_values"] = values[start:start + share] or node.get("widgets_values")
        elif share:
            converted = {s.get("name") for s in node.get("inputs") or [] if isinstance(s, dict) and s.get("widget")}
            names = [s.name for s in layout(object_info.get(node.get("type")) or {})
                     if s.name is None or s.name not in converted]
            node["widgets_values"] = {n: v for n, v in zip(names, values[start:start + share]) if n is not None}
        start += share
