"""Turn a workflow saved from the ComfyUI editor (UI format) into a prompt (API format).

Pure functions over data: no I/O. You need the workflow and the server's ``/object_info``.

The **UI format** ("Save"/"Export" in ComfyUI) describes what the editor draws.
The parts used here:

``nodes``
    A list of ``{id, type, mode, title?, inputs, outputs, widgets_values}``.
    ``type`` is the node class (``"KSampler"``). ``mode`` is 0 for normal, 2 for muted
    ("never": the node and everything it sends are left out) and 4 for bypassed (the
    node is left out and its inputs are passed straight to its outputs).
    ``inputs`` lists the node's sockets, ``{name, type, link}``, where ``link`` is a
    link id or null. A socket with a ``widget`` key is a widget that has been turned
    into a socket. Its value comes from the link when it has one, otherwise from
    ``widgets_values``.
    ``widgets_values`` holds the widget values in the order the editor draws the
    widgets. Newer saves sometimes use a ``{name: value}`` dict instead.
``links``
    ``[link_id, from_node, from_slot, to_node, to_slot, type]`` (newer saves may use a
    dict with ``id, origin_id, origin_slot, target_id, target_slot, type``).
    Native link reroutes (``extra.reroutes``) are drawing only and never change these.
UI-only nodes
    ``Reroute`` forwards its one input. ``PrimitiveNode`` holds a value for the widget
    sockets it feeds. ``Note`` and ``MarkdownNote`` are comments.
Group nodes and subgraphs
    A group node's type is ``workflow>Name`` or ``workflow/Name`` (defined in
    ``extra.groupNodes``). A subgraph node's type is an id from ``definitions.subgraphs``.
    Both are unpacked first (:mod:`comfy_ui_app.workflow.subgraphs`), nested ones too; a
    muted or bypassed one stays packed and is treated like any muted or bypassed node.

The **API format** is ``{node_id: {"inputs", "class_type", "_meta": {"title"}}}``. An
input holds either a value or a link ``[source_node_id, output_index]``.

How widget values line up with inputs, and when they do not: see :mod:`comfy_ui_app.workflow.editor_widgets`
(as the editor: extra stored values ignored, missing ones from the node's defaults). A save whose
values cannot be lined up is refused, naming the node; so is a node the server lacks.

A ``PrimitiveNode`` is folded into every input it feeds; each of them keeps a marker
``_meta["primitives"][input] = {"id": <the Primitive's node id>, "title": <its title>}``
(ComfyUI ignores ``_meta``), so that field discovery makes them one field.
"""

from __future__ import annotations

from typing import Any

from comfy_ui_app.workflow.editor_widgets import Misaligned, read_widgets
from comfy_ui_app.workflow.subgraphs import MAX_DEPTH, MAX_UNPACKED, SubgraphError, flatten, link_dict
from comfy_ui_app.errors import WorkflowError

__all__ = ["ConversionError", "is_ui_workflow", "ui_to_api"]

MUTED, BYPASSED = 2, 4
COMMENT_TYPES = {"Note", "MarkdownNote"}
# The core "Primitive*" nodes are real server nodes. A ComfyUI too old to have them
# sees them as editor-only value holders, like PrimitiveNode.
PRIMITIVE_COUSINS = {"PrimitiveInt", "PrimitiveFloat", "PrimitiveBoolean", "PrimitiveString",
                     "PrimitiveStringMultiline"}
EXPORT_HINT = "open it in ComfyUI and save it with Workflow > Export (API)"
RESAVE_HINT = "open it in ComfyUI and save it again, or save it with Workflow > Export (API)"
_NOTHING = object()  # a link that leads nowhere (muted or missing source)


class ConversionError(WorkflowError):
    """The UI-format workflow cannot be turned into an API prompt. The message says why and what to do."""


def is_ui_workflow(data: Any) -> bool:
    """True when ``data`` looks like an editor save (top-level ``nodes`` list and ``links``)."""
    return isinstance(data, dict) and isinstance(data.get("nodes"), list) and "links" in data


def ui_to_api(workflow: dict, object_info: dict) -> dict:
    """Convert a UI-format workflow to the API-format prompt that ``POST /prompt`` accepts."""
    if not is_ui_workflow(workflow):
        raise ConversionError(
            "This is not a workflow saved from the ComfyUI editor (it has no 'nodes' and 'links'): "
            "if it is already in API format, load it as it is")
    if not isinstance(object_info, dict) or not object_info:
        raise ConversionError(
            "The server's node list (/object_info) is empty: check that ComfyUI started "
            "properly, then try again")
    try:
        workflow = flatten(workflow, object_info)
    except SubgraphError as e:
        raise ConversionError(
            f"The subgraph '{e.name}' is nested more than {MAX_DEPTH} deep or uses itself: {EXPORT_HINT}"
            if e.kind == "depth" else
            f"The subgraph '{e.name}' and those inside it make more than {MAX_UNPACKED:,} nodes: "
            f"{EXPORT_HINT}") from None
    graph = _Graph(workflow, object_info)
    prompt: dict[str, dict] = {}
    for node in graph.nodes.values():
        kind = node["type"]
        if node.get("mode", 0) in (MUTED, BYPASSED) or graph.is_ui_only(kind):
            continue
        graph.check_convertible(node)
        info = object_info[kind]
        meta = {"title": node.get("title") or info.get("display_name") or kind}
        inputs = _widget_inputs(node, info)
        for slot in node.get("inputs") or []:
            if slot.get("link") is None:
                continue
            value, primitive = graph.follow(slot["link"], slot.get("type"))
            if value is _NOTHING:
                inputs.pop(slot.get("name"), None)  # let ComfyUI report the missing input
                continue
            inputs[slot["name"]] = value
            if primitive is not None:  # one field for every input this Primitive fills (see .fields)
                title = primitive.get("title")
                mark = {"id": str(primitive["id"]), **({"title": title} if isinstance(title, str) and title else {})}
                meta.setdefault("primitives", {})[slot["name"]] = mark
        prompt[str(node["id"])] = {"inputs": inputs, "class_type": kind, "_meta": meta}
    return prompt


class _Graph:
    """The workflow's nodes and links indexed by id, plus the rules for following links."""

    def __init__(self, workflow: dict, object_info: dict) -> None:
        self.object_info = object_info
        self.nodes: dict[str, dict] = {}
        for node in workflow["nodes"]:
            if not isinstance(node, dict) or "id" not in node or not isinstance(node.get("type"), str):
                raise ConversionError(
                    f"The workflow has a damaged node entry ({str(node)[:60]}): {EXPORT_HINT}")
            self.nodes[str(node["id"])] = node
        self.links: dict[Any, tuple[str, int]] = {}
        for link in map(link_dict, workflow.get("links") or []):
            if link is not None:
                self.links[link["id"]] = (str(link["origin_id"]), link["origin_slot"])
        definitions = workflow.get("definitions") or {}
        self.subgraphs = {s.get("id"): s.get("name") or s.get("id")
                          for s in definitions.get("subgraphs") or [] if isinstance(s, dict)}
        self.group_nodes = set((workflow.get("extra") or {}).get("groupNodes") or {})
        self._followed: dict[tuple[Any, str | None], tuple[Any, dict | None]] = {}  # (link, type) -> follow's answer

    def is_primitive(self, kind: str) -> bool:
        return kind == "PrimitiveNode" or (kind in PRIMITIVE_COUSINS and kind not in self.object_info)

    def is_ui_only(self, kind: str) -> bool:
        return kind == "Reroute" or kind in COMMENT_TYPES or self.is_primitive(kind)

    def check_convertible(self, node: dict) -> None:
        """Raise ConversionError when ``node`` is a subgraph, a group node or not installed."""
        node_id, kind = node["id"], node["type"]
        if kind in self.subgraphs:
            raise ConversionError(
                f"Node {node_id} is a subgraph ('{self.subgraphs[kind]}'), which this app cannot "
                f"unpack: {EXPORT_HINT}")
        if kind.startswith(("workflow>", "workflow/")) or kind in self.group_nodes:
            raise ConversionError(
                f"Node {node_id} '{kind}' is a group node, which this app cannot unpack: {EXPORT_HINT}")
        if kind not in self.object_info:
            raise ConversionError(
                f"Node {node_id} '{kind}' is not installed on this ComfyUI server: install the "
                "custom node or export the workflow with Workflow > Export (API)")

    def follow(self, link_id: Any, want_type: str | None) -> tuple[Any, dict | None]:
        """``(value, primitive)``: the API value that arrives through ``link_id`` (``[node_id, slot]``,
        a literal or _NOTHING) and the PrimitiveNode it came from, if any.

        The link is followed back through Reroutes and bypassed nodes. A PrimitiveNode
        gives its value. A muted or missing source gives _NOTHING. Every link passed on the way
        is remembered with the answer, so many nodes fed through one long chain of Reroutes
        walk it once, not once each.
        """
        path: list[Any] = []
        key = (link_id, want_type)
        if key not in self._followed:
            answer = self._follow(link_id, want_type, path)
            self._followed.update(((link, want_type), answer) for link in path)
            self._followed[key] = answer
        return self._followed[key]

    def _follow(self, link_id: Any, want_type: str | None, path: list) -> tuple[Any, dict | None]:
        seen: set[str] = set()
        while True:
            if (link_id, want_type) in self._followed:
                return self._followed[link_id, want_type]
            path.append(link_id)
            if link_id not in self.links:
                return _NOTHING, None
            source_id, slot = self.links[link_id]
            source = self.nodes.get(source_id)
            if source is None or source.get("mode", 0) == MUTED:
                return _NOTHING, None
            if source_id in seen:
                raise ConversionError(
                    f"Node {source_id} is part of a loop of Reroute or bypassed nodes: "
                    "remove the loop in ComfyUI and save the workflow again")
            seen.add(source_id)
            kind = source["type"]
            if self.is_primitive(kind):
                values = _values_list(source)
                return (values[0], source) if values else (_NOTHING, None)
            if kind == "Reroute":
                passed = (source.get("inputs") or [{}])[0]
            elif source.get("mode", 0) == BYPASSED:
                passed = _bypass_input(source, slot, want_type)
            else:
                return [source_id, slot], None
            link_id = passed.get("link") if passed else None


def _bypass_input(node: dict, out_slot: int, want_type: str | None) -> dict | None:
    """The input of a bypassed node that stands in for output ``out_slot``.

    Like the editor: the input at the same position if its type matches, otherwise the
    first input of that type.
    """
    inputs = node.get("inputs") or []
    same = inputs[out_slot] if isinstance(out_slot, int) and 0 <= out_slot < len(inputs) else None
    if same is not None and same.get("type") == want_type:
        return same
    return next((slot for slot in inputs if slot.get("type") == want_type), None)


def _widget_inputs(node: dict, info: dict) -> dict[str, Any]:
    """``{input_name: value}`` for the node's widgets, read from ``widgets_values``."""
    saved = node.get("widgets_values")
    try:
        return read_widgets(saved if isinstance(saved, dict) else _values_list(node), info)
    except Misaligned as e:
        title = node.get("title")
        own = isinstance(title, str) and title not in ("", node["type"], info.get("display_name"))
        named = f" ('{title}')" if own else ""
        raise ConversionError(f"Node {node['id']} '{node['type']}'{named} {e}: {RESAVE_HINT}") from None


def _values_list(node: dict) -> list:
    saved = node.get("widgets_values")
    if saved is None:
        return []
    if not isinstance(saved, list):
        raise ConversionError(
            f"Node {node['id']} '{node['type']}' has damaged widget values: {EXPORT_HINT}")
    return saved
