"""What the Templates tab shows, fetched by the app: ComfyUI's template library and its saved workflows.

One :class:`TemplateLibrary` per app, shared by every user (nothing per user lives here). It asks the
first healthy server (templates are the same files on every server of a cluster) and caches what it
got: the index for ``INDEX_TTL`` seconds, each template's graph and thumbnail until the server set
changes. A thumbnail becomes a file of Gradio's cache, the app's own file: the browser never gets a
ComfyUI address. A thumbnail that is missing, too large or not a picture (judged from its header,
never decoded) shows a plain placeholder. Which models a template needs comes from its graph's
``properties.models`` checked against ``/models/{directory}`` of the healthy servers (``ctx.catalog``).
"""
from __future__ import annotations

import io
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PIL import Image
from gradio import processing_utils

from comfy_ui_app.errors import ComfyError, LibraryRefused, WorkflowError
from comfy_ui_app.jobs.uploads import picture_header
from comfy_ui_app.workflow.library import Card, Category, missing_models, models_needed, parse_index
from comfy_ui_app.workflow.source import parse_json

__all__ = ["TemplateLibrary", "MAX_THUMBNAIL_BYTES", "MAX_TEMPLATE_BYTES"]

MAX_THUMBNAIL_BYTES = 2_000_000
MAX_TEMPLATE_BYTES = 5_000_000   # as an uploaded workflow (custom_tab.MAX_WORKFLOW_BYTES)
MAX_THUMBNAIL_PIXELS = 4_000_000
FETCHERS = 6                     # templates of one category fetched at once


def _text(data: bytes, what: str) -> str:
    """A fetched workflow file as text; WorkflowError when it is too large or not UTF-8."""
    if len(data) > MAX_TEMPLATE_BYTES:
        raise WorkflowError(f"{what} is too large to be a workflow (over 5 MB).")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WorkflowError(f"{what} is not a text (JSON) file.") from exc


class TemplateLibrary:
    """The library of the cluster behind ``ctx`` (see the module docstring)."""

    INDEX_TTL = 300.0

    def __init__(self, ctx, cache_dir: str) -> None:
        self._ctx = ctx
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        self._index: tuple[float, str, list[Category]] | None = None
        self._graphs: dict[tuple[str, str], Any] = {}    # (server, name) -> graph, None when unreadable
        self._thumbs: dict[tuple[str, str], str] = {}    # (server, name) -> file path
        self._placeholder: str | None = None

    # -- which server -------------------------------------------------------------------------
    def _comfy(self):
        healthy = {s.url for s in self._ctx.cluster.servers if s.healthy}
        comfies = self._ctx.cluster.comfies
        return next((c for c in comfies if c.url in healthy), comfies[0])

    # -- the index ----------------------------------------------------------------------------
    def categories(self) -> list[Category]:
        """The library's categories; ComfyError (NoTemplateLibrary, ServerUnreachable…) when it cannot be read."""
        comfy = self._comfy()
        with self._lock:
            if self._index and self._index[1] == comfy.url and time.monotonic() - self._index[0] < self.INDEX_TTL:
                return self._index[2]
        categories = parse_index(comfy.client.templates_index())
        with self._lock:
            if self._index is None or self._index[1] != comfy.url:
                self._graphs.clear()
                self._thumbs.clear()
            self._index = (time.monotonic(), comfy.url, categories)
        return categories

    def card(self, name: Any) -> Card:
        """The card of template ``name``; LibraryRefused when the server's index has none of that name."""
        for category in self.categories():
            for card in category.cards:
                if card.name == name:
                    return card
        raise LibraryRefused("unknown_template", name=name[:200] if isinstance(name, str) else "", field="templates")

    # -- one template ---------------------------------------------------------------------------
    def template_text(self, card: Card) -> str:
        """The template's workflow file (``NAME.json``) as text."""
        return _text(self._comfy().client.template_file(card.name + ".json"), card.name + ".json")

    def _graph(self, card: Card) -> Any:
        key = (self._comfy().url, card.name)
        with self._lock:
            if key in self._graphs:
                return self._graphs[key]
        try:
            graph = parse_json(self.template_text(card))
        except (ComfyError, ValueError):   # unreadable now: not cached, asked again next time
            return None
        with self._lock:
            self._graphs[key] = graph
        return graph

    def missing(self, card: Card) -> list[str] | None:
        """The model files the template needs that no healthy server has; None when its graph cannot be read."""
        graph = self._graph(card)
        if graph is None:
            return None

        def files_in(directory: str) -> list[str]:
            try:
                return self._ctx.catalog.models(directory)
            except ComfyError:   # a folder this server does not have: nothing in it
                return []
        return missing_models(models_needed(graph), files_in)

    def thumbnail(self, card: Card) -> str:
        """A file of the app's for the card's first thumbnail (the placeholder when there is none to show)."""
        key = (self._comfy().url, card.name)
        with self._lock:
            kept = self._thumbs.get(key)
        if kept and os.path.exists(kept):   # Gradio's cache cleaning may have deleted it since
            return kept
        path = None
        if card.thumbnail:
            try:
                data = self._comfy().client.template_file(card.thumbnail)
                if len(data) <= MAX_THUMBNAIL_BYTES:
                    picture_header(data, name=card.thumbnail, max_pixels=MAX_THUMBNAIL_PIXELS)
                    path = processing_utils.save_bytes_to_cache(data, card.thumbnail, self._cache_dir)
            except (ComfyError, OSError):   # missing (404), server gone, not a picture: the placeholder
                path = None
        if path is None:
            path = self.placeholder()
        with self._lock:
            self._thumbs[key] = path
        return path

    def placeholder(self) -> str:
        """A plain grey picture (a file of the app's) for a card without a thumbnail to show."""
        if self._placeholder is None or not os.path.exists(self._placeholder):
            buffer = io.BytesIO()
            Image.new("RGB", (64, 64), (200, 200, 205)).save(buffer, "PNG")
            self._placeholder = processing_utils.save_bytes_to_cache(buffer.getvalue(), "template.png",
                                                                     self._cache_dir)
        return self._placeholder

    def cards(self, category: Category) -> list[tuple[Card, str, list[str] | None]]:
        """``(card, thumbnail file, missing models)`` for every card of ``category``, fetched a few at a time."""
        def one(card: Card):
            return card, self.thumbnail(card), self.missing(card)
        with ThreadPoolExecutor(max_workers=FETCHERS, thread_name_prefix="templates") as pool:
            return list(pool.map(one, category.cards))

    # -- the workflows saved in ComfyUI -----------------------------------------------------------
    def saved(self) -> list[str]:
        """The workflows saved in the editor (``.json`` files of ``/userdata`` ``workflows``)."""
        return sorted(n for n in self._comfy().client.user_workflows() if n.lower().endswith(".json"))

    def saved_text(self, name: Any) -> str:
        """One saved workflow's text; LibraryRefused when the server lists none of that name."""
        if not isinstance(name, str) or name not in self.saved():
            raise LibraryRefused("unknown_saved", name=str(name)[:200], field="saved")
        return _text(self._comfy().client.user_workflow(name), name)
