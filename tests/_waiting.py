"""``wait_for(predicate)``: poll until a condition holds, for tests of threads and servers."""
from __future__ import annotations

import time


def wait_for(predicate, timeout: float = 20.0, what: str = "condition", interval: float = 0.02):
    """Call ``predicate`` until it returns something truthy and return that; AssertionError
    naming ``what`` after ``timeout`` seconds (a generous deadline: it only matters on failure)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
