"""Take the README's screenshots: one per tab, over the bundled test server, in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py            # writes docs/screenshots/<tab>.png

Starts ``tests/comfy_test_server`` and ``app.py`` on free ports with a throw-away data folder
(exactly as a user would: two processes), makes two pictures on "Text to image" so that the
other tabs have something to show, and photographs each tab at 1280x800, plus the first tab at
phone width (390x844). Needs requirements-dev.txt (aiohttp for the test server, Playwright).
"""
from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
#: (file name, the tab's label on the page)
TABS = [("txt2img", "Text to image"), ("inpaint", "Inpainting"), ("templates", "Templates"),
        ("custom", "Custom workflow"), ("queue", "Queue"), ("history", "History"), ("system", "System")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, deadline_s: float = 60.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2):
                return
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {deadline_s:.0f} s")


@contextlib.contextmanager
def running(cmd: list[str]):
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def photograph(url: str) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(30_000)
        page.goto(url)
        expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI", timeout=90_000)
        page.get_by_label("Prompt").first.fill("a lighthouse on a cliff at dusk, warm light")
        for _ in range(2):
            page.locator("#txt2img-generate, button:has-text('Generate')").first.click()
            expect(page.locator("#txt2img-gallery img").first).to_be_visible()
            expect(page.locator("#txt2img-progress")).to_contain_text("Done")
        for name, label in TABS:
            page.get_by_role("tab", name=label).click()
            page.wait_for_timeout(1500)  # let the tab's lists load: a picture, not a test
            path = OUT / f"{name}.png"
            page.screenshot(path=str(path))
            written.append(path)
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        phone.goto(url)
        expect(phone.locator("#server-status")).to_contain_text("Connected to ComfyUI", timeout=90_000)
        path = OUT / "phone.png"
        phone.screenshot(path=str(path))
        written.append(path)
        browser.close()
    return written


def main() -> None:
    comfy_port, app_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as data, \
            running([sys.executable, "tests/comfy_test_server", "--port", str(comfy_port), "--step-time", "0.02"]), \
            running([sys.executable, "app.py", "--server", f"http://127.0.0.1:{comfy_port}", "--port", str(app_port),
                     "--data", data]):
        wait_for(f"http://127.0.0.1:{comfy_port}/system_stats")
        wait_for(f"http://127.0.0.1:{app_port}/healthz")
        for path in photograph(f"http://127.0.0.1:{app_port}/"):
            print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
