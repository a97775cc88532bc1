"""ComfyUI's template library, read: its index as cards, and the model files a template needs.

Pure (no I/O). ComfyUI serves ``/templates/index.json``: a list of categories (``title``, ``type``
image / video / audio / 3d, ``templates``), each template a ``name`` (its workflow is ``NAME.json``,
its thumbnails ``NAME-1.<mediaSubtype>``), ``title``, ``description``, ``mediaType``. The editor
format names the files a template needs on the nodes that load them:
``properties.models = [{"name", "url", "directory"}]`` (subgraphs' nodes too). :func:`parse_index`
keeps what a card shows and drops what is malformed (a server is not trusted to be tidy);
:func:`models_needed` and :func:`missing_models` say which files a server lacks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

__all__ = ["Card", "Category", "parse_index", "models_needed", "missing_models", "MAX_CARDS"]

MAX_CARDS = 1000   # templates read from one index (the official library has under 200)
_NAME = re.compile(r"^[\w.+-][\w .+()-]{0,150}$")   # one file name of the library's folder, no path
_SUBTYPE = re.compile(r"^[a-z0-9]{1,8}$")


@dataclass(frozen=True)
class Card:
    """One template as the page shows it."""

    name: str
    title: str
    description: str = ""
    media: str = "image"          # mediaType: image, video, audio, 3d
    thumbnail: str = ""            # its first thumbnail's file name ("" when the index gives no subtype)


@dataclass(frozen=True)
class Category:
    title: str
    kind: str                      # the category's type: image, video, audio, 3d
    cards: tuple[Card, ...] = field(default_factory=tuple)


def _text(value: Any, limit: int) -> str:
    return " ".join(value.split())[:limit] if isinstance(value, str) else ""


def _card(entry: Any) -> Card | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not _NAME.match(entry["name"]):
        return None
    name = entry["name"]
    subtype = entry.get("mediaSubtype")
    thumbnail = f"{name}-1.{subtype}" if isinstance(subtype, str) and _SUBTYPE.match(subtype) else ""
    return Card(name=name, title=_text(entry.get("title"), 120) or name, description=_text(entry.get("description"), 400),
                media=_text(entry.get("mediaType"), 20) or "image", thumbnail=thumbnail)


def parse_index(index: Any) -> list[Category]:
    """The categories of a ``/templates/index.json`` answer, each with its well-formed cards (a
    template listed twice: its first card); empty categories are left out."""
    categories, seen = [], set()
    for entry in index if isinstance(index, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("templates"), list):
            continue
        cards = []
        for card in map(_card, entry["templates"]):
            if card is not None and card.name not in seen and len(seen) < MAX_CARDS:
                seen.add(card.name)
                cards.append(card)
        if cards:
            categories.append(Category(_text(entry.get("title"), 80) or "Templates", _text(entry.get("type"), 20),
                                       tuple(cards)))
    return categories


def _nodes(graph: dict) -> Iterable[dict]:
    """Every node of an editor save, those inside its subgraph definitions too."""
    yield from (n for n in graph.get("nodes") or [] if isinstance(n, dict))
    definitions = graph.get("definitions") if isinstance(graph.get("definitions"), dict) else {}
    for subgraph in definitions.get("subgraphs") or []:
        if isinstance(subgraph, dict):
            yield from (n for n in subgraph.get("nodes") or [] if isinstance(n, dict))


def models_needed(graph: Any) -> list[tuple[str, str]]:
    """``(directory, file name)`` of each model an editor save's nodes say they need, in order, once each."""
    needed: list[tuple[str, str]] = []
    if not isinstance(graph, dict):
        return needed
    for node in _nodes(graph):
        properties = node.get("properties") if isinstance(node.get("properties"), dict) else {}
        for model in properties.get("models") or [] if isinstance(properties.get("models"), list) else []:
            if not isinstance(model, dict):
                continue
            name, directory = model.get("name"), model.get("directory")
            if isinstance(name, str) and name and isinstance(directory, str) and directory:
                if (directory, name) not in needed:
                    needed.append((directory, name))
    return needed


def missing_models(needed: Iterable[tuple[str, str]], files_in: Callable[[str], Iterable[str]]) -> list[str]:
    """The file names of ``needed`` that ``files_in(directory)`` does not list (ComfyUI's ``/models/{directory}``
    lists sub-folder files as ``sub/name``: a model found in any sub-folder counts)."""
    missing, listed = [], {}
    for directory, name in needed:
        if directory not in listed:
            listed[directory] = {f.replace("\\", "/") for f in files_in(directory)}
        files = listed[directory]
        if name not in files and not any(f.rsplit("/", 1)[-1] == name for f in files):
            missing.append(name)
    return missing
