"""The pieces :func:`~comfy_ui_app.ui.jobfeed.follow` is made of, one concern each.

* :class:`JobLine`: the progress line's parts (phase, node, step) as a job's updates come;
* :class:`Pacing`: when news goes to the page: the three throttles (progress lines, a waiting
  job's place in line, preview images: :mod:`comfy_ui_app.ui._throttle`) fed with what each batch of updates
  brought;
* :class:`ContactWatch`: whether the job's server can be reached (:mod:`comfy_ui_app.ui.contact`), looked at
  every ``CONTACT_CHECK_S`` and whenever the feed wakes up with nothing new.

None of them reads the clock: the caller passes the time in.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from comfy_ui_app.comfy.updates import Executing, Preview, Progress, Queued, Started
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.ui._throttle import Throttle
from comfy_ui_app.ui.contact import CONTACT_CHECK_S, contact_problem

__all__ = ["JobLine", "Pacing", "ContactWatch", "progress_bar", "step_text"]

BAR_CELLS = 10


def progress_bar(value: float, maximum: float, cells: int = BAR_CELLS) -> str:
    """``▰▰▰▱▱▱▱▱▱▱``: the share done, in whole cells (never full before the last step)."""
    share = min(1.0, max(0.0, value / maximum)) if maximum else 0.0
    filled = cells if share >= 1.0 else min(cells - 1, int(share * cells))
    return "▰" * filled + "▱" * (cells - filled)


def step_text(update: Progress, lang: str) -> str:
    pct = int(round(100 * update.value / update.max)) if update.max else 0
    text = progress_bar(update.value, update.max) + " " + tr("step {value}/{max} · {pct}%", lang,
                                                            value=update.value, max=update.max, pct=pct)
    if update.eta_s is not None:
        text += " · " + tr("ETA {s} s", lang, s=max(0, round(update.eta_s)))
    return text


@dataclass
class JobLine:
    """Phase · node · step of one job, in ``lang``; and, for the page's scripts (``ui.job_state``),
    its place in line while it waits (``place``) and the share of its current node done (``share``,
    None until it runs)."""

    lang: str
    phase: str = ""
    node: str = ""
    step: str = ""
    place: int | None = None
    share: float | None = None

    def __post_init__(self) -> None:
        self.phase = self.phase or tr("Queued", self.lang)

    def take(self, item: Any) -> None:
        """Apply a Queued, Started, Executing or Progress update (anything else: no change)."""
        lang = self.lang
        if isinstance(item, Queued):
            self.phase = tr("Queued", lang)
            self.node = (tr("next to run", lang) if item.position == 0 else
                         tr("position {n} in line", lang, n=item.position) if item.position else "")
            self.place = item.position
        elif isinstance(item, Started):
            self.phase, self.node, self.share = tr("Running", lang), "", self.share or 0.0
        elif isinstance(item, Executing):
            self.phase, self.step, self.share = tr("Running", lang), "", self.share or 0.0
            self.node = tr("{name} (node {id})", lang, name=item.class_type or tr("node", lang), id=item.node)
        elif isinstance(item, Progress):
            self.phase, self.step = tr("Running", lang), step_text(item, lang)
            self.share = item.value / item.max if item.max else 0.0


@dataclass
class Fresh:
    """What kinds of news a batch of updates brought."""

    progress: bool
    place: bool
    preview: bool


class Pacing:
    """The three throttles of one followed job (intervals and holds passed in, in seconds)."""

    def __init__(self, now: float, *, preview: tuple[float, float], progress: tuple[float, float],
                 place: tuple[float, float]) -> None:
        self.previews = Throttle(*preview)
        self.progress = Throttle(*progress, last_sent=now)
        self.places = Throttle(*place)  # the first place in line goes at once

    def note(self, batch: list, now: float) -> Fresh:
        """Note the news ``batch`` brought at ``now``; returns which kinds it brought."""
        fresh = Fresh(progress=any(isinstance(item, (Started, Executing, Progress)) for item in batch),
                      place=any(isinstance(item, Queued) for item in batch),
                      preview=any(isinstance(item, Preview) for item in batch))
        for came, throttle in ((fresh.progress, self.progress), (fresh.place, self.places),
                               (fresh.preview, self.previews)):
            if came:
                throttle.note(now)
        return fresh

    def waits(self, now: float) -> list[float]:
        """Seconds until each kind of news held back goes by itself."""
        return [w for w in (self.previews.wait(now), self.progress.wait(now), self.places.wait(now)) if w is not None]

    def line_due(self, now: float, fresh: Fresh) -> bool:
        return self.progress.due(now, fresh=fresh.progress) or self.places.due(now, fresh=fresh.place)

    def line_sent(self, now: float) -> None:
        self.progress.sent(now)
        self.places.sent(now)


class ContactWatch:
    """Whether ``job``'s server can be reached: ``lost`` (words, or None) and whether the page
    still shows older words (``changed``)."""

    def __init__(self, job: Any, lang: str, now: float) -> None:
        self.job, self.lang = job, lang
        self.lost: str | None = None      # the words now
        self.shown: str | None = None     # the words on the page
        self.last_check = now

    def wait(self, now: float) -> float:
        """Seconds until the next look."""
        return CONTACT_CHECK_S - (now - self.last_check)

    def look(self, now: float, *, idle: bool) -> None:
        """Look again if the feed woke up with nothing (``idle``) or the last look is old."""
        if idle or now - self.last_check >= CONTACT_CHECK_S:
            self.lost, self.last_check = contact_problem(self.job, self.lang), now

    @property
    def changed(self) -> bool:
        return self.lost != self.shown
