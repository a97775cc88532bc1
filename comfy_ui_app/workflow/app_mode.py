"""ComfyUI's App mode: the form a workflow's author chose, read from the editor save.

In the editor's App builder an author picks the widgets a user may change and the
output nodes whose results are shown. The editor stores that choice in the UI-format
save, ``extra.linearData``::

    "extra": {"linearData": {
        "inputs": [["<graph id>:6:text", "text", {"height": 120}], [3, "seed"]],
        "outputs": [9]}}

Each input is ``[id, widget name, config?]`` (config: the builder's height and description,
which a Gradio form does not use). The id takes one of the forms the editor
has written over time (it still reads them all):

* a node id of the root graph (``3`` or ``"3"``), the widget named by the second element;
* a widget id ``"<graph id>:<node id>:<widget name>"`` (node id and name URL-encoded), the
  graph id being the root graph's (the save's ``id``) or a subgraph's (``definitions.subgraphs``);
* a node locator ``"<subgraph id>:<node id>"``: a node inside a subgraph.

A widget on a subgraph node is one of the subgraph's inputs, promoted: it is followed to
the node inside that the input feeds. A node inside a subgraph is found through the one
subgraph node using that subgraph (its API id is ``"<subgraph node id>:<node id>"``, as the
editor's graphToPrompt names it); a subgraph used twice is ambiguous, as the editor says.

The author's label is the widget's label in the save: the ``label`` of the node's input
socket whose ``widget.name`` is the widget (the builder's rename writes it there).
Outputs are node ids of output nodes.

Like the editor, entries naming a node or widget that is not in the converted graph
(deleted, muted, bypassed, or a link now) are dropped, not refused: :func:`read_app_mode`
counts them. When no input is left the form falls back to field discovery; when no
output is left every output is shown. API-format files carry no ``extra``: App mode needs
the editor's save. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from comfy_ui_app.workflow.graph import Field, Finder

__all__ = ["AppMode", "AppInput", "read_app_mode", "app_fields", "shown_outputs"]

_PROMPT_INPUT_NODE = -10  # a subgraph's own input node in its links


@dataclass(frozen=True)
class AppInput:
    """One chosen input: the API graph's node and input, and the author's words for it."""

    node_id: str
    input_name: str
    label: str | None = None


@dataclass(frozen=True)
class AppMode:
    """The author's choice as found in the converted graph (``dropped``: entries that named nothing)."""

    inputs: tuple[AppInput, ...]
    outputs: tuple[str, ...]
    dropped: int = 0


def read_app_mode(workflow: Any, prompt: dict) -> AppMode | None:
    """The App mode of a UI-format save (``workflow``) whose conversion is ``prompt``; None if it has
    none (no ``extra.linearData``, or not one of its entries names anything in ``prompt``)."""
    extra = workflow.get("extra") if isinstance(workflow, dict) else None
    data = extra.get("linearData") if isinstance(extra, dict) else None
    if not isinstance(data, dict):
        return None
    raw_inputs = data.get("inputs") if isinstance(data.get("inputs"), list) else []
    raw_outputs = data.get("outputs") if isinstance(data.get("outputs"), list) else []
    graph = _Graph(workflow, prompt)
    inputs: list[AppInput] = []
    dropped = 0
    for entry in raw_inputs:
        found = graph.resolve(entry)
        dropped += found is None
        if found and all((i.node_id, i.input_name) != (found.node_id, found.input_name) for i in inputs):
            inputs.append(found)
    found_outputs = [str(o) for o in raw_outputs if _plain_id(o) and str(o) in prompt]
    outputs = list(dict.fromkeys(found_outputs))
    dropped += len(raw_outputs) - len(found_outputs)
    if not inputs and not outputs:
        return None
    return AppMode(tuple(inputs), tuple(outputs), dropped)


def app_fields(app: AppMode, discovered: list[Field], prompt: dict, object_info: dict | None) -> list[Field]:
    """The form of ``app``: its inputs in the author's order with the author's labels.

    A chosen input that discovery named keeps that field's name (``seed``, ``prompt``: what
    ``--set`` takes and what the runner knows); else it is named after its label (``subject``)
    or, without one, ``"<node>.<input>"``. None is advanced."""
    by_target = {t: f for f in discovered for t in ((f.node_id, f.input_name), *f.also) if not f.placeholder}
    finder = Finder(prompt, object_info)
    fields: list[Field] = []
    names: set[str] = set()
    taken = {f.name for f in discovered}
    for chosen in app.inputs:
        field = by_target.get((chosen.node_id, chosen.input_name))
        made = field is None or field.name in names
        if made:
            if not finder.literal(chosen.node_id, chosen.input_name):
                continue
            label = f"{finder.title(chosen.node_id)} › {chosen.input_name}"
            field = finder.make(f"{chosen.node_id}.{chosen.input_name}", chosen.node_id, chosen.input_name, label, None)
        name = field.name
        if (made or field.advanced) and chosen.label:
            slug = re.sub(r"[^a-z0-9]+", "_", chosen.label.lower()).strip("_")
            name = slug if slug[:1].isalpha() and slug not in names and slug not in taken else name
        fields.append(dataclasses.replace(field, name=name, label=chosen.label or field.label, advanced=False))
        names.add(name)
    return fields


def shown_outputs(app: AppMode | None, gallery: list[str], stored: list[tuple[str, str]]) -> list[str]:
    """The pictures of ``gallery`` (paths) that App mode shows: those ``stored`` (``(path, node)``
    of the job's files) made by a chosen output node. Everything when no output was chosen."""
    if app is None or not app.outputs:
        return list(gallery)
    chosen = {path for path, node in stored if node in app.outputs}
    return [path for path in gallery if path in chosen]


def _plain_id(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and bool(value))


class _Graph:
    """The save's root graph and subgraph definitions, to follow linearData ids into ``prompt``."""

    def __init__(self, workflow: dict, prompt: dict) -> None:
        self.prompt = prompt
        self.root_id = str(workflow.get("id") or "")
        self.root = _nodes(workflow)
        definitions = workflow.get("definitions") if isinstance(workflow.get("definitions"), dict) else {}
        subgraphs = definitions.get("subgraphs") if isinstance(definitions.get("subgraphs"), list) else []
        self.subgraphs = {str(s.get("id")): s for s in subgraphs if isinstance(s, dict) and s.get("id")}
        self.inner = {sid: _nodes(s) for sid, s in self.subgraphs.items()}

    def resolve(self, entry: Any) -> AppInput | None:
        if not isinstance(entry, list) or len(entry) < 2 or not _plain_id(entry[0]) or not isinstance(entry[1], str):
            return None
        graph_id, node_id, widget = self._parse(entry[0], entry[1])
        found = self._find(graph_id, node_id, widget)
        if found is None:
            return None
        api_id, input_name, label = found
        return AppInput(api_id, input_name, label)

    def _parse(self, raw: Any, widget: str) -> tuple[str | None, str, str]:
        """``(graph id or None for the root, node id, widget name)`` of one of the id forms."""
        parts = str(raw).split(":") if isinstance(raw, str) else [str(raw)]
        if len(parts) == 3:
            return (None if parts[0] == self.root_id else parts[0]), unquote(parts[1]), unquote(parts[2])
        if len(parts) == 2 and parts[0] in self.subgraphs:
            return parts[0], parts[1], widget
        if len(parts) == 2:  # an execution id ("5:3"): already the API graph's
            return None, str(raw), widget
        return None, parts[0], widget

    def _find(self, graph_id: str | None, node_id: str, widget: str) -> tuple[str, str, str | None] | None:
        if graph_id is None or graph_id not in self.subgraphs:
            if graph_id is not None:  # a graph id this save does not hold: the root's, saved under another id
                graph_id = None
            node = self.root.get(node_id)
            api_id = node_id
        else:
            node = self.inner[graph_id].get(node_id)
            instance = self._instance(graph_id)
            if instance is None:
                return None
            api_id = f"{instance}:{node_id}"
        if node is not None and str(node.get("type")) in self.subgraphs:  # a promoted subgraph input
            return self._promoted(api_id, node, widget)
        label = _socket_label(node, widget)
        if self._literal(api_id, widget):
            return api_id, widget, label
        for target_id, target in self.prompt.items():  # an editor Primitive folded into the inputs it fed
            marks = (target.get("_meta") or {}).get("primitives") if isinstance(target, dict) else None
            for input_name, mark in marks.items() if isinstance(marks, dict) else ():
                if isinstance(mark, dict) and str(mark.get("id")) == api_id and self._literal(target_id, input_name):
                    return target_id, input_name, label or mark.get("title") or None
        return None

    def _promoted(self, api_id: str, node: dict, widget: str) -> tuple[str, str, str | None] | None:
        """The input inside a subgraph that the subgraph node's input ``widget`` feeds."""
        subgraph = self.subgraphs[str(node.get("type"))]
        slots = [s for s in subgraph.get("inputs") or [] if isinstance(s, dict) and s.get("name") == widget]
        links = {str(link.get("id")): link for link in subgraph.get("links") or [] if isinstance(link, dict)}
        inner = self.inner[str(node.get("type"))]
        for slot in slots:
            for link_id in slot.get("linkIds") or []:
                link = links.get(str(link_id)) or {}
                target = inner.get(str(link.get("target_id")))
                sockets = (target or {}).get("inputs") or []
                index = link.get("target_slot")
                if not isinstance(index, int) or not 0 <= index < len(sockets) or not isinstance(sockets[index], dict):
                    continue
                socket = sockets[index]
                name = str((socket.get("widget") or {}).get("name") or socket.get("name") or "")
                inner_id = f"{api_id}:{link.get('target_id')}"
                if self._literal(inner_id, name):
                    slot_label = slot.get("label") if isinstance(slot.get("label"), str) else None
                    return inner_id, name, _socket_label(node, widget) or slot_label or _socket_label(target, name)
        return None

    def _instance(self, subgraph_id: str) -> str | None:
        """The API id of the one subgraph node using ``subgraph_id`` (nested: ids joined by ":")."""
        paths = self._paths(subgraph_id, set())
        return paths[0] if len(paths) == 1 else None

    def _paths(self, subgraph_id: str, seen: set[str]) -> list[str]:
        paths = [str(i) for i, n in self.root.items() if str(n.get("type")) == subgraph_id]
        for parent, nodes in self.inner.items():
            if parent in seen or parent == subgraph_id:
                continue
            for inner_id, n in nodes.items():
                if str(n.get("type")) == subgraph_id:
                    paths += [f"{p}:{inner_id}" for p in self._paths(parent, seen | {subgraph_id})]
        return paths

    def _literal(self, api_id: str, input_name: str) -> bool:
        node = self.prompt.get(api_id)
        inputs = node.get("inputs") if isinstance(node, dict) else None
        return isinstance(inputs, dict) and input_name in inputs and not isinstance(inputs[input_name], list)


def _nodes(graph: dict) -> dict[str, dict]:
    nodes = graph.get("nodes") if isinstance(graph.get("nodes"), list) else []
    return {str(n["id"]): n for n in nodes if isinstance(n, dict) and "id" in n}


def _socket_label(node: dict | None, widget: str) -> str | None:
    """The label the author gave the widget: its input socket's ``label``."""
    for socket in (node or {}).get("inputs") or []:
        if isinstance(socket, dict) and (socket.get("widget") or {}).get("name", socket.get("name")) == widget:
            label = socket.get("label")
            return label.strip() if isinstance(label, str) and label.strip() else None
    return None
