"""How often a followed job's news reaches the page: a rate limit that does not make news late.

Every update a handler yields costs Gradio a pass over the tab's outputs (bench/RESULTS.md,
section c), so fast samplers must not send each step or each preview frame. A plain "at most
every N seconds" limit, though, locks onto steady news at about half its interval: each piece
arrives just too soon, waits out the interval, and every update goes out that much late
(bench/RESULTS.md, section b). So:

* news that comes at least ``interval`` after the last update goes at once (leading edge);
* news that comes sooner waits: the next news that may go at once carries it (the page shows
  only the newest), or it goes by itself once it has waited ``hold`` (longer than the
  interval, so it is a fallback for news followed by silence, not the usual path).

Pure bookkeeping over times the caller passes in; no clock, no threads.
"""
from __future__ import annotations

import math

__all__ = ["Throttle"]

_SLACK = 1e-6  # a wake-up at the time wait() named counts as on time (float sums are not exact)


class Throttle:
    """One kind of news of one job (progress lines, or preview images)."""

    def __init__(self, interval: float, hold: float, *, last_sent: float = -math.inf) -> None:
        if hold < interval:
            raise ValueError("hold must not be shorter than interval")
        self.interval = interval
        self.hold = hold
        self.last_sent = last_sent
        self.pending_since: float | None = None  # when news not sent yet first came

    @property
    def pending(self) -> bool:
        return self.pending_since is not None

    def note(self, now: float) -> None:
        """News came (not sent yet)."""
        if self.pending_since is None:
            self.pending_since = now

    def due(self, now: float, *, fresh: bool) -> bool:
        """Whether the pending news should go now; ``fresh``: some of it came just now."""
        if self.pending_since is None:
            return False
        return ((fresh and now - self.last_sent >= self.interval - _SLACK)
                or now - self.pending_since >= self.hold - _SLACK)

    def wait(self, now: float) -> float | None:
        """Seconds until pending news goes by itself (None: nothing pending)."""
        if self.pending_since is None:
            return None
        return max(0.0, self.hold - (now - self.pending_since))

    def sent(self, now: float) -> None:
        """The newest news went out."""
        self.last_sent, self.pending_since = now, None
