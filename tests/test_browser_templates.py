"""The Templates tab in a real browser: the cards show with their thumbnails (the app's files), a click on
one opens its form in the Custom workflow tab, and the form runs; a saved workflow opens the same way."""
from __future__ import annotations

import json
from pathlib import Path

import requests

from _browser import BROWSER_TESTS, TIMEOUT_MS, opened_page

pytestmark = BROWSER_TESTS
FIX = Path(__file__).parent / "fixtures" / "comfyui" / "templates"


def test_cards_show_and_a_click_opens_the_form(comfy_server, launch_app, browser):
    from playwright.sync_api import expect

    app = launch_app(comfy_server.url)
    with opened_page(browser, app.url) as page:
        page.get_by_role("tab", name="Templates").click()
        gallery = page.locator("#templates-gallery")
        expect(gallery.locator("img")).to_have_count(2)
        for src in gallery.locator("img").evaluate_all("imgs => imgs.map(i => i.src)"):
            assert src.startswith(app.url) and comfy_server.url not in src   # the app's files, never ComfyUI's
        assert all(gallery.locator("img").evaluate_all("imgs => imgs.map(i => i.naturalWidth > 0)"))
        expect(page.locator("#templates-details")).to_contain_text("needs model v1-5-pruned-emaonly-fp16.safetensors")
        gallery.locator("img").first.click()
        expect(page.locator("#custom-load-message")).to_contain_text("Loaded tiny_fox.json.")
        tab = page.locator("#custom-tab")
        expect(tab.get_by_label("number input for Batch count")).to_be_visible()  # the form is drawn
        tab.locator("#custom-generate").click()
        expect(tab.get_by_label("Message")).to_have_value("Done — 1 picture.", timeout=TIMEOUT_MS)
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["6"]["inputs"]["text"] == "a red fox in the snow"


def test_a_saved_workflow_opens_the_form(comfy_server, launch_app, browser):
    from playwright.sync_api import expect

    requests.post(f"{comfy_server.url}/userdata/workflows%2Fmy%20fox.json", params={"overwrite": "true"},
                  data=(FIX / "tiny_fox.json").read_bytes(), timeout=10).raise_for_status()
    app = launch_app(comfy_server.url)
    with opened_page(browser, app.url) as page:
        page.get_by_role("tab", name="Templates").click()
        page.locator("#templates-saved input").click()
        page.get_by_role("option", name="my fox.json", exact=True).click()
        expect(page.locator("#custom-load-message")).to_contain_text("Loaded my fox.json.")
        expect(page.locator("#custom-tab").get_by_label("number input for Batch count")).to_be_visible()  # the form is drawn
