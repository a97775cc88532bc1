"""A run's first moments reach the page as one update (``ui/_first_news``).

``merged`` is a pure function over two updates (table below); ``held_first`` is driven by small
async sources whose updates come at chosen moments: within the grace they are folded into one,
a final one goes at once, a slow source's updates go as they come, and closing the stream
closes its source, also while an update is awaited.
"""
from __future__ import annotations

import asyncio
import time

import pytest

from comfy_ui_app.ui._first_news import held_first, merged
from comfy_ui_app.ui.jobfeed import RunUpdate

PICTURE = object()


@pytest.mark.parametrize("earlier, later, expected", [
    (RunUpdate("Sending", gallery=[], message="", errors={}), RunUpdate("Queued", job_ids=["j1"]),
     RunUpdate("Queued", gallery=[], message="", errors={}, job_ids=["j1"])),              # the later line wins
    (RunUpdate("Queued", PICTURE, gallery=[]), RunUpdate("Step 3/20"),
     RunUpdate("Step 3/20", PICTURE, gallery=[])),                                          # a preview stays
    (RunUpdate("Queued", gallery=[], message=""), RunUpdate("Done", None, ["a.png"], "Done — 1 picture.",
                                                           final=True, ok=True, seeds=[5]),
     RunUpdate("Done", None, ["a.png"], "Done — 1 picture.", final=True, ok=True, seeds=[5])),  # the end
    (RunUpdate("Queued", errors={"seed": "bad"}), RunUpdate("Queued · next", errors={}),
     RunUpdate("Queued · next", errors={})),                                                # {} clears: kept
    (RunUpdate("Job 1 done", final=True, ok=True), RunUpdate("Job 2 queued"),
     RunUpdate("Job 2 queued")),                                                            # flags: the later's
])
def test_merged_is_the_later_update_over_the_earlier(earlier, later, expected):
    assert merged(earlier, later) == expected


async def source(steps, closed: list | None = None):
    """Yields each ``(seconds to wait first, update)``; notes in ``closed`` when it was closed."""
    try:
        for wait, update in steps:
            await asyncio.sleep(wait)
            yield update
    finally:
        if closed is not None:
            closed.append(True)


async def timed(stream):
    start, out = time.monotonic(), []
    async for update in stream:
        out.append((time.monotonic() - start, update))
    return out


def run(coro):
    return asyncio.run(coro)


def test_updates_within_the_grace_go_as_one():
    steps = [(0, RunUpdate("Sending", gallery=[], message="")), (0.01, RunUpdate("Queued", job_ids=["j"])),
             (0.01, RunUpdate("Queued · next to run")), (1.0, RunUpdate("Done", final=True))]
    out = run(timed(held_first(source(steps), grace=0.3)))
    assert [u for _, u in out] == [RunUpdate("Queued · next to run", gallery=[], message="", job_ids=["j"]),
                                   RunUpdate("Done", final=True)]
    assert 0.25 <= out[0][0] < 0.9   # held for the grace, not until the next update


def test_a_final_update_in_the_grace_goes_at_once():
    steps = [(0, RunUpdate("Sending", gallery=[])), (0.01, RunUpdate("Done", None, ["a.png"], "Done", final=True)),
             (5, RunUpdate("never"))]
    out = run(timed(held_first(source(steps), grace=3)))
    assert [u.progress for _, u in out] == ["Done"] and out[0][1].gallery == ["a.png"]
    assert out[0][0] < 2   # not held for the grace


def test_a_slow_run_shows_its_first_line_after_the_grace_then_every_update():
    steps = [(0, RunUpdate("Sending", gallery=[])), (0.01, RunUpdate("Queued")), (1.0, RunUpdate("Step 1")),
             (0, RunUpdate("Step 2")), (0, RunUpdate("Done", final=True))]
    out = run(timed(held_first(source(steps), grace=0.1)))
    assert [u.progress for _, u in out] == ["Queued", "Step 1", "Step 2", "Done"]
    assert out[0][1].gallery == [] and out[0][0] < 0.9   # the start, before the slow step came


def test_an_empty_source_gives_nothing():
    assert run(timed(held_first(source([])))) == []


def test_closing_the_stream_closes_its_source_also_while_an_update_is_awaited():
    async def scenario():
        closed = []
        stream = held_first(source([(0, RunUpdate("Sending")), (10, RunUpdate("never"))], closed), grace=0.05)
        first = await anext(stream)
        waiting = asyncio.ensure_future(anext(stream))   # the page waits for the next update...
        await asyncio.sleep(0.05)
        waiting.cancel()                                 # ...and Gradio stops the handler
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await stream.aclose()
        return first, closed

    first, closed = run(scenario())
    assert first.progress == "Sending" and closed == [True]
