"""Issue 15, points 1 and 6, in a real browser (one app for the module):

* Generate is in one place on "Text to image", "Inpainting" and "Custom workflow": inside the
  window without scrolling at 1280x800 and at 390x844, the same box on each tab, no horizontal
  scroll at phone width, and still in view once a long form is scrolled at desktop width;
* Ctrl+Enter (and ⌘+Enter) in a text box of such a tab presses its Generate;
* the page carries its own CSS and scripts;
* the Message box is hidden until there is a message; the live preview shows while a job runs and
  goes once the run ends with pictures; "Done — 1 picture.";
* the System tab's memory chart is a time series with a real time axis, its facts table has headers.
"""
from __future__ import annotations

import re
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from _browser import BROWSER_TESTS, TIMEOUT_MS, opened_page
from comfy_test_server import ComfyTestServer

pytestmark = BROWSER_TESTS
REPO = Path(__file__).resolve().parents[1]
TABS = (("txt2img", "Text to image"), ("inpaint", "Inpainting"), ("custom", "Custom workflow"))
SIZES = ((1280, 800), (390, 844))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app over a test server whose jobs take about 3 s (20 steps of 0.15 s: previews stream)."""
    from playwright.sync_api import expect

    from comfy_ui_app.assembly import assemble, launch

    expect.set_options(timeout=TIMEOUT_MS)  # a loaded 2-core machine draws a page in more than 5 s
    root = tmp_path_factory.mktemp("actions")
    server = ComfyTestServer(step_time=0.15, root=root / "comfy").start()
    built = assemble([server.url], data_dir=root / "data", output_dir=root / "outputs",
                     workflows_dir=REPO / "workflows", browser_secret="test-secret", identity_key=b"k" * 32)
    url = launch(built, port=_free_port(), block=False, quiet=True)
    yield SimpleNamespace(url=url, server=server, store=built.store)
    built.close()
    server.stop()


def open_tab(page, name: str) -> None:
    """Select a tab, from the "More tabs" menu where the tab row has no room for it (phone width)."""
    from playwright.sync_api import expect

    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.is_visible():
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")
    else:
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown button", has_text=name).click()
        expect(page.locator(".overflow-dropdown")).to_be_hidden()


def test_generate_is_in_one_place_in_view_on_every_generating_tab(app, browser):
    from playwright.sync_api import expect

    for width, height in SIZES:
        with opened_page(browser, app.url, width=width, height=height) as page:
            boxes = {}
            for tab_id, name in TABS:
                open_tab(page, name)
                generate = page.locator(f"#{tab_id}-generate")
                expect(generate).to_be_visible()
                expect(page.locator(f"#{tab_id}-interrupt")).to_be_visible()
                assert page.evaluate("window.scrollY") == 0
                box = boxes[tab_id] = generate.bounding_box()
                assert box["x"] >= 0 and box["y"] >= 0, (width, tab_id, box)
                assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, (width, tab_id, box)
                assert page.evaluate("document.documentElement.scrollWidth") <= width, (width, tab_id)
            first = boxes["txt2img"]
            for tab_id, box in boxes.items():
                assert all(abs(box[k] - first[k]) <= 1 for k in ("x", "y", "width", "height")), (width, boxes)
            if width > 640:  # desktop: the bar stays in view while the form scrolls under it
                open_tab(page, "Text to image")
                page.mouse.move(300, 500)
                page.mouse.wheel(0, 700)
                page.wait_for_function("window.scrollY > 300")
                box = page.locator("#txt2img-generate").bounding_box()
                assert 0 <= box["y"] and box["y"] + box["height"] <= height, box
            else:  # phone: both buttons share the row, side by side
                interrupt = page.locator("#custom-interrupt").bounding_box()
                assert abs(interrupt["y"] - boxes["custom"]["y"]) <= 1


def test_ctrl_enter_generates_and_the_results_column_tidies_itself(app, browser):
    from playwright.sync_api import expect

    with opened_page(browser, app.url, width=1280, height=800) as page:
        # the page carries its own CSS and scripts (ui/page_assets.py)
        styles = page.evaluate("() => [...document.querySelectorAll('style')].map(s => s.textContent).join()")
        assert ".generate-bar" in styles and ":placeholder-shown" in styles              # actions.css
        scripts = page.evaluate("() => [...document.head.querySelectorAll('script')].map(s => s.textContent)")
        assert any(s.startswith("/* keys.js */") and "-generate']" in s for s in scripts)  # keys.js
        message = page.locator("#txt2img-message")
        expect(message).to_be_hidden()   # nothing happened yet: no empty box
        expect(page.locator(".run-preview").first).to_be_hidden()
        prompt = page.get_by_label("Prompt", exact=True)
        prompt.fill("a red fox in the snow")
        prompt.press("Control+Enter")
        expect(page.locator(".run-preview").first).to_be_visible()   # the job streams its preview
        expect(page.locator("#txt2img-gallery img").first).to_be_visible(timeout=TIMEOUT_MS)
        expect(message).to_be_visible()
        expect(message.locator("textarea")).to_have_value("Done — 1 picture.")
        expect(page.locator(".run-preview").first).to_be_hidden()    # the picture is in the gallery now
        assert prompt.input_value() == "a red fox in the snow"       # no new line typed
        assert app.server.received_prompts[-1]["prompt"]["6"]["inputs"]["text"] == "a red fox in the snow"

        # ⌘+Enter in the custom tab's form presses the bar's Generate, wired to that form
        open_tab(page, "Custom workflow")
        tab = page.locator("#custom-tab")
        expect(tab.locator("#custom-message")).to_be_hidden()
        page.locator("#custom-generate").click()   # no workflow yet: it says what to do first
        expect(tab.locator("#custom-message textarea")).to_have_value("Pick a bundled workflow or upload one first.")
        expect(tab.locator("#custom-message")).to_be_visible()
        tab.locator("#custom-bundled input").click()
        page.get_by_role("option", name="txt2img.json", exact=True).click()
        box = tab.get_by_label("Prompt", exact=True)
        box.fill("a custom fox")
        sent = len(app.server.received_prompts)
        box.press("Meta+Enter")
        expect(tab.locator("#custom-gallery img").first).to_be_visible(timeout=TIMEOUT_MS)
        expect(tab.locator("#custom-message textarea")).to_have_value("Done — 1 picture.")
        assert len(app.server.received_prompts) == sent + 1
        assert app.server.received_prompts[-1]["prompt"]["6"]["inputs"]["text"] == "a custom fox"


def test_system_tab_draws_free_memory_over_time_and_a_facts_table_with_headers(app, browser):
    from playwright.sync_api import expect

    with opened_page(browser, app.url, width=1280, height=800) as page:
        open_tab(page, "System")
        facts = page.locator("#system-stats table")
        expect(facts.locator("th").first).to_have_text("Component")
        expect(facts.locator("th").nth(1)).to_have_text("Version or memory")
        chart = page.locator("#system-memory")
        expect(chart.locator("svg, canvas").first).to_be_visible()
        expect(chart).to_contain_text("GiB free")
        expect(chart).to_contain_text("Time")
        # the time axis reads as times of day (a single sample once drew an axis a millisecond wide: ".697")
        labels = [t.strip() for t in chart.locator("svg text").all_text_contents()]
        assert not [t for t in labels if re.fullmatch(r"\.\d+", t)], labels
        assert any(re.search(r"\d{1,2}:\d{2}", t) for t in labels), labels
