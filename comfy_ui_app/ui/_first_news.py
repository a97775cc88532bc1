"""A run's first moments go to the page as one update.

A run says "Sending to ComfyUI…", then "Queued", then its place in line, then (a fast job) "Done",
often within a few tens of milliseconds. Each update is a message the page must take in, and
Gradio's page walks its whole component tree for every message of a stream (``bench/RESULTS.md``,
section g), so four lines that nobody could read cost a visible delay before the picture.
:func:`held_first` holds a run's first update for up to :data:`FIRST_NEWS_GRACE_S` and folds into
it whatever comes meanwhile (:func:`merged`): a job that ends in that time sends one update, a longer
one shows its first line after the grace (sooner than a person notices) and then every update as
it comes, paced as before (:mod:`comfy_ui_app.ui._news`).
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator

from comfy_ui_app.ui.jobfeed import RunUpdate

__all__ = ["FIRST_NEWS_GRACE_S", "held_first", "merged"]

FIRST_NEWS_GRACE_S = 0.15   # under what people notice as a delay after a click (~0.1-0.2 s)

_FLAGS = ("final", "ok", "failed")   # how the run ended: the later update's word, never "as it was"


def merged(earlier: RunUpdate, later: RunUpdate) -> RunUpdate:
    """``later`` applied over ``earlier``: every part the later one leaves as it is (None) keeps the
    earlier one's, so the page ends as it would after both."""
    kept = {f.name: getattr(earlier, f.name) for f in dataclasses.fields(RunUpdate)
            if f.name not in _FLAGS and getattr(later, f.name) is None}
    return dataclasses.replace(later, **kept)


async def held_first(updates: AsyncIterator[RunUpdate], grace: float = FIRST_NEWS_GRACE_S) -> AsyncIterator[RunUpdate]:
    """``updates`` with the first held up to ``grace`` seconds and merged with those that follow in
    that time (a final one is sent at once); the rest as they come. Closing this closes ``updates``."""
    iterator = aiter(updates)
    pending: asyncio.Task | None = None
    try:
        try:
            held = await anext(iterator)
        except StopAsyncIteration:
            return
        deadline = time.monotonic() + grace
        while not held.final:
            pending = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait({pending}, timeout=max(0.0, deadline - time.monotonic()))
            if not done:
                break
            task, pending = pending, None
            try:
                held = merged(held, task.result())
            except StopAsyncIteration:
                break
        yield held
        if held.final:
            return
        if pending is not None:  # the update that did not come within the grace
            try:
                update = await pending
            except StopAsyncIteration:
                return
            pending = None
            yield update
        async for update in iterator:
            yield update
    finally:
        if pending is not None:  # closed while the next update was awaited: stop that first
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        with contextlib.suppress(BaseException):
            await iterator.aclose()
