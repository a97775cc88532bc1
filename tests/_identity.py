"""Browser ids for tests: the apps the fixtures launch sign ids with ``TEST_IDENTITY_KEY``.

The app only believes a browser id it issued (``comfy_ui_app.jobs.identity``), so a test that
claims a stable browser (``"alice"``) sends :func:`browser_id` ``("alice")``: an id signed with
the fixtures' key, the same for the same name; the job's owner is then :func:`owner_of`.
"""
from __future__ import annotations

import hashlib

from comfy_ui_app.jobs.identity import BrowserIds

TEST_IDENTITY_KEY = "test-identity-key"
TEST_IDS = BrowserIds(TEST_IDENTITY_KEY)


def browser_id(name: str) -> str:
    """The signed browser id a test names ``name`` (valid for apps the fixtures launch)."""
    return TEST_IDS.sign(hashlib.sha256(name.encode()).hexdigest()[:32])


def owner_of(name: str) -> str:
    """The owner id of the jobs the browser ``name`` makes."""
    return f"browser:{browser_id(name)}"
