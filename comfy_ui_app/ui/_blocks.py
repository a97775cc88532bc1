"""``Blocks``: the app's ``gr.Blocks``, whose updates cost Gradio nothing for the outputs they skip.

Gradio 6 (``Blocks.postprocess_data``) treats an output left as it is (``gr.skip()``, i.e.
``{"__type__": "update"}``) like a prop update: it builds the component anew from its
arguments and rebuilds its config twice, JSON schema included (≈ 0.7 ms on the development
machine), all on the one event loop every user shares, only to send the page
``{"__type__": "update"}``, which changes nothing. Our tabs' events have up to 24 outputs
(progress, preview, gallery, message, seed, an error slot per field, Retry, states) and a
streamed update changes one to three of them, so these rebuilds were most of the app's own CPU
per job (bench/RESULTS.md, c.).

:class:`Blocks` hands Gradio's postprocessing only the outputs an update changes and puts
``{"__type__": "update"}`` back in the places it skipped: what the page receives is the same
(tests/test_blocks.py), and so is what the session's copy of each component says (Gradio's
rebuild made an equal one). One difference nobody sees: Gradio's rebuild also resets the value
in the session's deep-link config (``SessionState.config_values``, read only by
``/gradio_api/deep_link``, which the app does not offer) to the component's first one; here it
keeps the last value sent. Anything but a plain list or tuple of values for two or more
outputs goes to Gradio as it came.

It also keeps the page's loading-status work to the events that show one. Gradio's page registers
every output of every event (``show_progress_on or outputs``) for a loading status, and on each
status message of any event (pending, each streamed update, complete) it re-sends every
component that ever had one to the component tree, a walk of the whole tree each: with the app's
~300 components and ~80 events that was most of the time from a click on Generate to the picture
(bench/RESULTS.md, g.). An event that shows no progress (``show_progress="hidden"``, as every
streaming handler of the app) gets ``show_progress_on=[]`` (:func:`quiet_progress`): nothing of it
is registered, and nothing it would show is lost.
"""
from __future__ import annotations

import copy
from typing import Any

import gradio as gr

from comfy_ui_app.ui._api import document
from comfy_ui_app.ui.page_assets import page_css, page_head

__all__ = ["Blocks", "is_skip", "quiet_progress"]

_SKIP = {"__type__": "update"}


def is_skip(value: Any) -> bool:
    """``gr.skip()``: an update of nothing at all."""
    return isinstance(value, dict) and value == _SKIP


def quiet_progress(dependencies) -> int:
    """Give each event of the page's config (``dependencies``: its dicts) that shows no progress an empty
    ``show_progress_on``, so that the page tracks no loading status for it; returns how many.

    Only the config sent to the page changes, never the event itself (``BlockFunction``): Gradio finds
    an event named in ``cancels=`` by comparing its config with the one it had when it was wired (an
    event wired inside ``@gr.render`` that cancels one wired outside it)."""
    quieted = 0
    for dep in dependencies:
        if dep.get("show_progress") == "hidden" and dep.get("show_progress_on") is None:
            dep["show_progress_on"] = []
            quieted += 1
    return quieted


class Blocks(gr.Blocks):
    """``gr.Blocks`` that postprocesses only the outputs an update does not skip (see the module docstring),
    tracks no loading status for events that show none (:func:`quiet_progress`), launches with the page's
    own CSS and scripts (``ui.page_assets``) unless ``launch`` is given others, and describes its API's
    parameters and returns (``ui._api``)."""

    def get_api_info(self, all_endpoints: bool = False, page: str | None = None):
        """Gradio's API description plus every parameter's and return's words (``ui._api.document``)."""
        return document(super().get_api_info(all_endpoints=all_endpoints, page=page), self)

    def launch(self, *args, **kwargs):
        # Gradio's own "run history" copies each call's inputs, outputs and their components into the
        # browser's localStorage (100 runs) and reads and rewrites all of it on every message of a
        # stream: each Generate slower than the one before, and prompts left behind on a shared
        # computer. The app keeps its jobs itself, per user, on the server (the History tab).
        kwargs.setdefault("run_history", False)
        kwargs.setdefault("css", page_css() or None)
        kwargs.setdefault("head", page_head() or None)
        return super().launch(*args, **kwargs)

    def get_config_file(self):
        config = super().get_config_file()   # the page's config: built when the Blocks closes and at launch
        quiet_progress(config.get("dependencies", []))
        return config

    async def postprocess_data(self, block_fn, predictions, state):
        outputs = list(block_fn.outputs)
        if (block_fn.batch or getattr(block_fn, "is_validator_function", False)
                or not isinstance(predictions, (list, tuple)) or len(predictions) != len(outputs) or len(outputs) < 2):
            return await super().postprocess_data(block_fn, predictions, state)
        kept = [i for i, (value, block) in enumerate(zip(predictions, outputs))
                if not (is_skip(value) and not block.stateful)]  # a state's skip costs nothing already
        if len(kept) == len(outputs):
            return await super().postprocess_data(block_fn, predictions, state)
        data: list[Any] = [dict(_SKIP) for _ in outputs]
        if kept:
            some = copy.copy(block_fn)
            some.outputs = [outputs[i] for i in kept]
            values = [predictions[i] for i in kept]
            done = await super().postprocess_data(some, values if len(kept) > 1 else values[0], state)
            for i, value in zip(kept, done):
                data[i] = value
        return data
