"""The package's shape: layers whose imports only point down, and no import cycles.

Reads every ``import`` in ``comfy_ui_app`` (those inside functions and ``TYPE_CHECKING``
blocks too: a lazy import is still a dependency) and checks them against ``LAYERS``, the
order ARCHITECTURE.md draws. A module may import its own package and any layer below its
own; packages that share a layer are siblings and never import each other.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "comfy_ui_app"
ROOT = "comfy_ui_app"

# Lowest first. The root package (the public surface, ``__init__``) and ``__main__`` sit on top.
LAYERS: list[tuple[str, ...]] = [
    ("errors",),                        # the error tree: codes and data, no words
    ("comfy", "workflow", "local"),     # one ComfyUI server; pure workflow logic; a local ComfyUI
    ("cluster",),                       # several servers behind one queue
    ("jobs",),                          # jobs as users own them, and their store
    ("texts",),                         # words, in every language
    ("settings",),                      # every flag and environment variable, read and checked
    ("cli", "ui"),                      # the edges: command line and web page
    ("assembly",),                      # the app put together, as app.py runs it
]

def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(name: str, is_package: bool, node: ast.ImportFrom, modules) -> list[str]:
    if node.level:
        base = name.split(".")
        if not is_package:
            base.pop()
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith(ROOT):
        return []
    found = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        found.append(sub if sub in modules else target)
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports (anywhere in its body)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                deps.update(_resolve(name, path.name == "__init__.py", node, modules))
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith(ROOT))
        graph[name] = deps - {name}
    return graph


def layer_of(module: str) -> tuple[int, str] | None:
    """(rank, package) of a module; None for the root package and ``__main__`` (the top)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] == "__main__":
        return None
    for rank, packages in enumerate(LAYERS):
        if parts[1] in packages:
            return rank, parts[1]
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS (and ARCHITECTURE.md)")


def wrong_way(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    bad = set()
    for module, deps in graph.items():
        here = layer_of(module)
        for dep in deps:
            there = layer_of(dep)
            if there is None:   # the root package: the public surface, never imported from inside
                bad.add((module, dep))
            elif here is not None and there[1] != here[1] and there[0] >= here[0]:
                bad.add((module, dep))
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_module_is_in_a_layer():
    for module in _modules():
        layer_of(module)


def test_imports_point_down_the_layers():
    bad = sorted(wrong_way(import_graph()))
    assert not bad, "imports against the layer order (see ARCHITECTURE.md):\n" + "\n".join(
        f"  {a} -> {b}" for a, b in bad)


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join("  " + " <-> ".join(c) for c in found)


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": set()}, []),
])
def test_cycle_finder(graph, expected):
    assert cycles(graph) == expected


@pytest.mark.parametrize("edge, allowed", [
    (("comfy_ui_app.jobs.service", "comfy_ui_app.cluster.cluster"), True),     # down
    (("comfy_ui_app.jobs.service", "comfy_ui_app.jobs.store"), True),          # same package
    (("comfy_ui_app.cluster.cluster", "comfy_ui_app.jobs.store"), False),      # up
    (("comfy_ui_app.comfy.jobs", "comfy_ui_app.workflow.fields"), False),      # sibling
    (("comfy_ui_app.cli.main", "comfy_ui_app.ui.form"), False),                # sibling
    (("comfy_ui_app.ui.form", "comfy_ui_app"), False),                         # the public surface
    (("comfy_ui_app", "comfy_ui_app.comfy.jobs"), True),                       # the top
])
def test_layer_rule(edge, allowed):
    assert (not wrong_way({edge[0]: {edge[1]}})) is allowed
