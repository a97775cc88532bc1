"""Build an editor graph (ComfyUI's UI format) from an API-format prompt: :func:`api_to_ui`.

The reverse of :func:`comfy_ui_app.workflow.convert.ui_to_api`, for the PNG's ``workflow`` chunk: a
picture made from an API-format template (Text to image, Inpainting) carries only the
``prompt`` ComfyUI ran; dropped into ComfyUI's editor it would open without a graph. Pure
functions over data (the filled prompt and the server's ``/object_info``), no I/O.

What is built (``version`` 0.4, what ComfyUI's frontend saves):

* one node per prompt node: ``id`` (the prompt's id, as a number when it is one), ``type``,
  ``title`` from ``_meta.title``, ``inputs`` (every socket the editor draws: the inputs that
  are no widget, then each widget input fed by a link, marked ``widget``), ``outputs`` from
  ``/object_info`` with the ids of the links leaving them, and ``widgets_values`` in
  ``/object_info`` order (:func:`comfy_ui_app.workflow.editor_widgets.layout`): the value of each widget
  input, ``"fixed"`` for the "control after generate" value after a seed, ``"image"`` for an
  upload button; a widget fed by a link keeps a stand-in of its type there;
* ``links`` ``[id, from node, from slot, to node, to input slot, type]``;
* a ``PrimitiveNode`` for each ``_meta.primitives`` marker (the editor Primitive that
  filled those inputs when the prompt came from an editor save);
* simple positions: a column per step from the loaders to the outputs, left to right.

Widget values that are not in the prompt and come after every value that is (optional
inputs left out) are left off, so converting back gives the same inputs.
"""

from __future__ import annotations

from typing import Any

from comfy_ui_app.workflow.editor_widgets import layout, parse_spec, widget_default

__all__ = ["api_to_ui", "UI_VERSION"]

UI_VERSION = 0.4
COLUMN_W, ROW_H, NODE_W = 340, 280, 300
UPLOAD_VALUE = "image"
CONTROL_VALUE = "fixed"


def _is_link(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)
            and not isinstance(value[1], bool) and value[1] >= 0)  # ["6", -3] is no socket of node 6


def _ui_id(node_id: str) -> int | str:
    return int(node_id) if node_id.isdigit() and str(int(node_id)) == node_id else node_id


def _type_name(kind: Any) -> str:
    return "COMBO" if isinstance(kind, list) else str(kind or "*")


def _stand_in(spec: Any) -> Any:
    """A value of the input's type for a widget whose real value comes through a link."""
    return widget_default(spec)


def _specs(info: dict) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for section in ("required", "optional"):
        specs = (info.get("input") or {}).get(section) or {}
        order = (info.get("input_order") or {}).get(section) or list(specs)
        found.update({name: specs.get(name) for name in order})
    return found


def _widgets(inputs: dict, info: dict) -> list:
    """``widgets_values`` of one node, up to its last input the prompt gives."""
    specs, slots, values, given = _specs(info), layout(info), [], []
    for slot in slots:
        if slot.name is None:  # the "control after generate" value, an upload button
            values.append(CONTROL_VALUE if slot.kind == "control" else UPLOAD_VALUE)
            given.append(False)
            continue
        value = inputs.get(slot.name)
        values.append(value if slot.name in inputs and not _is_link(value) else _stand_in(specs.get(slot.name)))
        given.append(slot.name in inputs)
    last = max((i for i, g in enumerate(given) if g), default=-1)
    while 0 <= last < len(slots) - 1 and slots[last + 1].name is None:  # its control value, the upload button
        last += 1
    return values[:last + 1]


def _depths(prompt: dict) -> dict[str, int]:
    """Column of each node: one more than the deepest node it reads from (loops cut).

    Depth first with an explicit stack (a chain of any length is no recursion); a link back
    to a node on the current path is a loop, and is left out."""
    def sources(node_id: str) -> list[str]:
        return [v[0] for v in ((prompt.get(node_id) or {}).get("inputs") or {}).values()
                if _is_link(v) and v[0] in prompt]

    depths: dict[str, int] = {}
    for root in prompt:
        if root in depths:
            continue
        path, stack = {root}, [(root, iter(sources(root)))]
        while stack:
            node_id, todo = stack[-1]
            source = next((s for s in todo if s not in path and s not in depths), None)
            if source is not None:
                path.add(source)
                stack.append((source, iter(sources(source))))
                continue
            stack.pop()
            path.discard(node_id)
            depths[node_id] = 1 + max((depths[s] for s in sources(node_id) if s in depths and s not in path),
                                      default=-1)
    return depths


class _Builder:
    def __init__(self, prompt: dict, object_info: dict) -> None:
        self.prompt, self.object_info = prompt, object_info
        self.nodes: dict[str, dict] = {}
        self.links: list[list] = []
        self.primitives: dict[str, dict] = {}  # marker id -> its PrimitiveNode

    def output_type(self, node_id: str, slot: int) -> str:
        outputs = (self.object_info.get((self.prompt.get(node_id) or {}).get("class_type")) or {}).get("output") or []
        return _type_name(outputs[slot]) if 0 <= slot < len(outputs) else "*"

    def link(self, source: dict, slot: int, target: dict, input_slot: int, kind: str) -> int:
        link_id = len(self.links) + 1
        self.links.append([link_id, source["id"], slot, target["id"], input_slot, kind])
        outputs = source["outputs"]
        while len(outputs) <= slot:
            outputs.append({"name": "*", "type": "*", "links": [], "slot_index": len(outputs)})
        outputs[slot]["links"].append(link_id)
        return link_id

    def node(self, node_id: str, node: dict, order: int) -> dict:
        kind = node.get("class_type")
        info = self.object_info.get(kind) or {}
        inputs = node.get("inputs") or {}
        values = _widgets(inputs, info)
        names = info.get("output_name") or []
        outputs = [{"name": names[i] if i < len(names) and names[i] else _type_name(t), "type": _type_name(t),
                    "links": [], "slot_index": i} for i, t in enumerate(info.get("output") or [])]
        ui = {"id": _ui_id(node_id), "type": kind, "pos": [0, 0], "size": [NODE_W, 100], "flags": {},
              "order": order, "mode": 0, "inputs": [], "outputs": outputs,
              "properties": {"Node name for S&R": kind}, "widgets_values": values}
        title = (node.get("_meta") or {}).get("title")
        if isinstance(title, str) and title:
            ui["title"] = title
        return ui

    def sockets(self, node_id: str) -> None:
        """The node's input sockets and the links into them (every node built first)."""
        node, ui = self.prompt[node_id], self.nodes[node_id]
        info = self.object_info.get(node.get("class_type")) or {}
        specs, inputs = _specs(info), node.get("inputs") or {}
        widget_names = {s.name for s in layout(info) if s.name is not None}
        marks = (node.get("_meta") or {}).get("primitives") or {}
        plain = [n for n in specs if n not in widget_names]
        fed = [n for n in specs if n in widget_names and (_is_link(inputs.get(n)) or n in marks)]
        extra = [n for n, v in inputs.items() if n not in specs and _is_link(v)]
        for name in plain + fed + extra:
            kind = _type_name(parse_spec(specs.get(name))[0]) if name in specs else "*"
            socket = {"name": name, "type": kind, "link": None}
            if name in fed:
                socket["widget"] = {"name": name}
            ui["inputs"].append(socket)
            value, slot = inputs.get(name), len(ui["inputs"]) - 1
            if name in marks and isinstance(marks[name], dict) and not _is_link(value) and name in inputs:
                primitive = self.primitive(marks[name], value, kind, name)
                socket["link"] = self.link(primitive, 0, ui, slot, kind)
            elif _is_link(value) and value[0] in self.nodes:
                kind = self.output_type(*value) if kind == "*" else kind
                socket["link"] = self.link(self.nodes[value[0]], value[1], ui, slot, kind)

    def primitive(self, mark: dict, value: Any, kind: str, name: str) -> dict:
        key = str(mark.get("id"))
        if key not in self.primitives:
            node_id = key if key not in self.prompt else f"{key}:primitive"
            control = [CONTROL_VALUE] if kind in ("INT", "FLOAT") else []
            self.primitives[key] = {
                "id": _ui_id(node_id), "type": "PrimitiveNode", "pos": [0, 0], "size": [NODE_W, 80], "flags": {},
                "order": 0, "mode": 0, "inputs": [], "properties": {"Run widget replace on values": False},
                "outputs": [{"name": "connect to widget input", "type": kind, "links": [], "slot_index": 0,
                             "widget": {"name": name}}], "widgets_values": [value, *control]}
            if isinstance(mark.get("title"), str) and mark["title"]:
                self.primitives[key]["title"] = mark["title"]
        return self.primitives[key]


def _place(nodes: list[dict], depths: dict[Any, int]) -> None:
    rows: dict[int, int] = {}
    for node in nodes:
        column = depths.get(node["id"], 0)
        row = rows[column] = rows.get(column, -1) + 1
        node["pos"] = [50 + column * COLUMN_W, 50 + row * ROW_H]
        node["size"] = [NODE_W, 46 + 24 * (len(node["inputs"]) + len(node.get("widgets_values") or []))]


def api_to_ui(prompt: dict, object_info: dict | None) -> dict:
    """The editor graph of an API-format ``prompt`` (see the module docstring)."""
    object_info = object_info if isinstance(object_info, dict) else {}
    prompt = {str(k): v for k, v in prompt.items() if isinstance(v, dict) and isinstance(v.get("class_type"), str)}
    depths = _depths(prompt)
    order = sorted(prompt, key=lambda n: (depths[n], list(prompt).index(n)))
    build = _Builder(prompt, object_info)
    for position, node_id in enumerate(order):
        build.nodes[node_id] = build.node(node_id, prompt[node_id], position)
    for node_id in prompt:
        build.sockets(node_id)
    nodes = [*build.primitives.values(), *(build.nodes[n] for n in prompt)]
    _place(nodes, {**{p["id"]: 0 for p in build.primitives.values()},
                   **{build.nodes[n]["id"]: depths[n] + bool(build.primitives) for n in prompt}})
    numbers = [n["id"] for n in nodes if isinstance(n["id"], int)]
    return {"last_node_id": max(numbers, default=0), "last_link_id": len(build.links), "nodes": nodes,
            "links": build.links, "groups": [], "config": {}, "extra": {"ds": {"scale": 1, "offset": [0, 0]}},
            "version": UI_VERSION}
