"""The news throttle of a followed job (comfy_ui_app/ui/_throttle.py): pure bookkeeping over times."""
from __future__ import annotations

import pytest

from comfy_ui_app.ui._throttle import Throttle


def sent_times(arrivals: list[float], interval: float = 0.1, hold: float = 0.2, end: float = 5.0) -> list[tuple]:
    """Drive a throttle as follow() does: news at ``arrivals``, wake-ups when it says.
    Returns (time sent, time the newest news it carried came) per update."""
    throttle = Throttle(interval, hold)
    events, out, now, newest = sorted(arrivals), [], 0.0, None
    while now <= end:
        wait = throttle.wait(now)
        upcoming = events[0] if events else None
        if upcoming is not None and (wait is None or upcoming <= now + wait):
            now, fresh = events.pop(0), True
            throttle.note(now)
            newest = now
        elif wait is not None:
            now, fresh = now + wait, False
        else:
            break
        if throttle.due(now, fresh=fresh):
            out.append((round(now, 3), round(newest, 3)))
            throttle.sent(now)
    return out


@pytest.mark.parametrize("arrivals, expected", [
    # slow news (a real GPU): every piece goes at once
    ([0.0, 0.5, 1.0], [(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)]),
    # steady news at half the interval: every other piece goes, at once; none goes late
    ([0.0, 0.05, 0.1, 0.15, 0.2], [(0.0, 0.0), (0.1, 0.1), (0.2, 0.2)]),
    # ... also when a piece comes a hair too soon: it is merged into the next, not sent late;
    # the last one, followed by silence, goes after the hold
    ([0.0, 0.05, 0.0999, 0.15, 0.2], [(0.0, 0.0), (0.15, 0.15), (0.4, 0.2)]),
    # news followed by silence still goes, after the hold
    ([0.0, 0.03], [(0.0, 0.0), (0.23, 0.03)]),
    # a burst: the first at once, the newest of the rest after the hold
    ([1.0, 1.001, 1.002, 1.003], [(1.0, 1.0), (1.201, 1.003)]),
])
def test_news_goes_at_once_or_merged_never_locked_late(arrivals, expected):
    assert sent_times(arrivals) == expected


def test_at_most_one_update_per_interval_however_fast_the_news():
    arrivals = [i * 0.005 for i in range(400)]          # 200 pieces a second for 2 s
    sent = [at for at, _ in sent_times(arrivals)]
    assert all(b - a >= 0.1 - 1e-9 for a, b in zip(sent, sent[1:])), sent
    assert len(sent) >= 19 and sent[-1] >= arrivals[-1]  # still steady, and the newest arrives


def test_nothing_pending_means_no_wake_up_and_nothing_due():
    throttle = Throttle(0.1, 0.2)
    assert throttle.wait(10.0) is None and not throttle.due(10.0, fresh=False)
    throttle.note(10.0)
    assert throttle.pending and throttle.wait(10.05) == pytest.approx(0.15)
    throttle.sent(10.05)
    assert not throttle.pending and throttle.wait(11.0) is None


def test_hold_shorter_than_interval_is_refused():
    with pytest.raises(ValueError, match="hold must not be shorter than interval"):
        Throttle(0.2, 0.1)
