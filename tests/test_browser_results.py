"""Upscale, Extend, Vary and Compare under the Text to image gallery, in a real browser (Chromium)."""
from __future__ import annotations

import pytest

from _browser import BROWSER_TESTS, TIMEOUT_MS

pytestmark = BROWSER_TESTS


def _natural_size(locator) -> tuple[int, int]:
    locator.evaluate("img => img.decode ? img.decode() : null")
    return tuple(locator.evaluate("img => [img.naturalWidth, img.naturalHeight]"))


def _wait_result(page, previous_src, expect):
    """The panel's result picture once it is a new one (its address changed)."""
    image = page.locator("#txt2img-results-image img")
    expect(image).to_be_visible(timeout=TIMEOUT_MS)
    page.wait_for_function("([sel, old]) => { const i = document.querySelector(sel); return i && i.src && i.src !== old }",
                           arg=["#txt2img-results-image img", previous_src or ""], timeout=TIMEOUT_MS)
    return image


@pytest.fixture
def results_app(make_comfy_server, launch_app):
    server = make_comfy_server()
    return server, launch_app(server.url)


@pytest.mark.timeout(240)  # one generation and three actions, each a job, in one page (about 60 s on 2 loaded cores)
def test_upscale_extend_vary_and_compare_a_generated_picture(results_app, browser):
    from playwright.sync_api import expect

    server, app = results_app
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(app.url)
        expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI", timeout=TIMEOUT_MS)
        page.get_by_label("Prompt", exact=True).fill("a lighthouse")
        box = page.get_by_label("number input for Batch size", exact=True)
        box.fill("2")
        box.press("Enter")
        page.get_by_role("button", name="Generate").click()
        expect(page.locator("#txt2img-gallery img")).to_have_count(2, timeout=TIMEOUT_MS)
        page.get_by_text("Do more with this picture").click()

        # Upscale 2x (pixels): a picture twice the size, shown before / after on the slider.
        page.locator("#txt2img-gallery img").first.click()
        page.locator("#txt2img-results-upscale").click()
        image = _wait_result(page, "", expect)
        assert _natural_size(image) == (1024, 1024)
        expect(page.locator("#txt2img-results-compare img")).to_have_count(2, timeout=TIMEOUT_MS)
        record = app.store.list(limit=1)[0]
        assert (record.kind, record.template, record.status) == ("upscale", "upscale_pixels.json", "success")

        # Extend right by 128 (the default side and border): a wider picture, the same height.
        src = image.get_attribute("src")
        page.locator("#txt2img-results-extend").click()
        image = _wait_result(page, src, expect)
        assert _natural_size(image) == (640, 512)
        pad = next(n for n in server.received_prompts[-1]["prompt"].values() if n["class_type"] == "ImagePadForOutpaint")
        assert (pad["inputs"]["right"], pad["inputs"]["left"]) == (128, 0)

        # Vary: a new picture of the same size, from img2img over it with the picture's own prompt.
        src = image.get_attribute("src")
        page.locator("#txt2img-results-vary").click()
        image = _wait_result(page, src, expect)
        assert _natural_size(image) == (512, 512)
        sent = server.received_prompts[-1]["prompt"]
        assert next(n for n in sent.values() if n["class_type"] == "KSampler")["inputs"]["denoise"] == 0.35
        assert "a lighthouse" in [n["inputs"].get("text") for n in sent.values() if n["class_type"] == "CLIPTextEncode"]

        # Compare: two pictures of the gallery clicked, side by side on the slider.
        page.locator("#txt2img-results-compare-btn").click()  # one picture clicked so far: it says what to do
        expect(page.locator("#txt2img-results-message")).to_contain_text("Click two pictures", timeout=TIMEOUT_MS)
        thumbs = page.locator("#txt2img-gallery img")
        shown = [thumbs.nth(0).get_attribute("src"), thumbs.nth(1).get_attribute("src")]
        for i in (0, 1):
            page.locator("#txt2img-gallery .thumbnail-item, #txt2img-gallery .thumbnail-small").nth(i).click()
        page.locator("#txt2img-results-compare-btn").click()
        page.wait_for_function(
            "names => { const s = [...document.querySelectorAll('#txt2img-results-compare img')].map(i => i.src);"
            " return s.length === 2 && names.every(n => s.some(x => x.split('/').pop() === n)) }",
            arg=[s.split("/").pop() for s in shown], timeout=TIMEOUT_MS)
    finally:
        context.close()
