"""A run's state for the page's scripts: a hidden mark at the end of a tab's progress line.

The progress line is Markdown in the page's language; ``assets/notify.js`` must not read those
words to learn whether a run waits, runs or has ended. So every progress line of a run ends with
an empty, hidden ``<span>`` whose *class* says the state and whose ``title`` holds the words the
script shows, already in the page's language (``tr``: the words stay in ``texts/``)::

    <span class="job-state job-running" title="[42%]" hidden></span>
    <span class="job-state job-done" title="✓ Done" hidden><span class="job-note" title="The job is done"
        hidden></span><span class="job-body" title="Done: 1 image(s) saved." hidden></span></span>

Class, ``title`` and ``hidden`` are what Gradio's Markdown sanitiser keeps (it drops ``data-*`` and
``aria-*``: checked in Chromium, tests/test_browser_notify.py). The states: ``queued`` and
``running`` (a run is on; ``title`` is what the browser tab's title starts with), ``done``,
``failed`` and ``interrupted`` (the run ended; ``title`` for the tab's title, ``job-note`` and
``job-body`` for a notification). A progress line without a mark (``Ready.``, a form refused before
anything was sent) means nothing runs: the script then shows the page's own title again.
"""
from __future__ import annotations

import html
import re

from comfy_ui_app.texts.i18n import tr

__all__ = ["ACTIVE", "ENDED", "queued", "running", "ended", "run_share"]

ACTIVE = ("queued", "running")
ENDED = ("done", "failed", "interrupted")
BODY_CHARS = 200  # a notification's body: the final message, cut to this many characters

_NOTES = {"done": "The job is done", "failed": "The job failed", "interrupted": "The job was interrupted"}
_TITLES = {"done": ("✓", "Done"), "failed": ("✗", "Failed"), "interrupted": ("✗", "Interrupted")}


def _attr(text: str) -> str:
    """``text`` as one line, safe inside a double-quoted attribute of inline Markdown HTML."""
    return html.escape(re.sub(r"\s+", " ", text).strip(), quote=True)


def _span(kind: str, title: str, inner: str = "") -> str:
    return f'<span class="job-state job-{kind}" title="{_attr(title)}" hidden>{inner}</span>'


def queued(lang: str, place: int | None = None) -> str:
    """The mark of a run that waits: sent (or being sent) but not running yet; ``place`` in line if known."""
    word = tr("queued", lang)
    return _span("queued", f"[{word} {place}]" if place else f"[{word}]")


def run_share(share: float, part: tuple[int, int] = (0, 1)) -> int:
    """The run's percent done when its job ``part[0]`` of ``part[1]`` is ``share`` (0..1) done."""
    index, count = part
    count = max(1, count)
    share = min(1.0, max(0.0, share)) if share == share else 0.0  # NaN: nothing known
    return int(100 * (min(index, count - 1) + share) / count)


def running(percent: int) -> str:
    """The mark of a run that is ``percent`` done (no words: ``[42%]``)."""
    return _span("running", f"[{max(0, min(100, int(percent)))}%]")


def ended(kind: str, lang: str, body: str | None = "") -> str:
    """The mark of a run that ended: ``kind`` is ``done``, ``failed`` or ``interrupted``; ``body``
    (the final message, if any) goes into the notification."""
    if kind not in ENDED:
        raise ValueError(f"not an end: {kind!r}")
    symbol, word = _TITLES[kind]
    inner = f'<span class="job-note" title="{_attr(tr(_NOTES[kind], lang))}" hidden></span>'
    body = (body or "").strip()
    if body:
        body = body if len(body) <= BODY_CHARS else body[:BODY_CHARS - 1] + "…"
        inner += f'<span class="job-body" title="{_attr(body)}" hidden></span>'
    return _span(kind, f"{symbol} {tr(word, lang)}", inner)
