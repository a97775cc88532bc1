"""Shared settings for the browser tests: Debian's Chromium driven by Playwright.

Never ``playwright install``: ``scripts/test.sh`` installs Debian's ``chromium``.
The ``browser`` fixture (tests/conftest.py) launches it once per module.
"""
import contextlib
import os

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 20_000

NEEDS_CHROMIUM = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed")

#: A real browser on a loaded 2-core machine sometimes misses a beat (a canvas not drawn
#: yet, a late render): such a test is run again, up to twice, before it counts as failed.
RETRY = pytest.mark.flaky(reruns=2, reruns_delay=2)

#: ``pytestmark = BROWSER_TESTS`` marks a module's tests as browser tests, skipped without Chromium.
BROWSER_TESTS = [pytest.mark.browser, NEEDS_CHROMIUM, RETRY]


@contextlib.contextmanager
def opened_page(browser, url: str, *, width: int = 1280, height: int = 1000):
    """A page of a new browser context at ``url`` once its banner says ComfyUI is connected;
    the context is closed afterwards."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI")
        yield page
    finally:
        context.close()


def set_slider(scope, label: str, value: str) -> None:
    """Type ``value`` into the number box of the slider labelled ``label`` and press Enter, as a user does."""
    box = scope.get_by_label(f"number input for {label}", exact=True)
    box.fill(value)
    box.press("Enter")


def upload_workflow(page, path) -> None:
    """Open "Custom workflow" and pick the file ``path`` with its upload button, as a user does."""
    page.get_by_role("tab", name="Custom workflow").click()
    with page.expect_file_chooser() as chooser:
        page.locator("#custom-upload").click()
    chooser.value.set_files(str(path))
