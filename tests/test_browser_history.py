"""History's picture grid in a real browser: tiles newest first (thumbnails, not the PNGs), a click opens
the job full size with its parameters, the star and the favourites filter, the text filter, paging,
Delete; at phone width nothing scrolls sideways."""
from __future__ import annotations

import io
import re

from PIL import Image

import contextlib

from _browser import BROWSER_TESTS, TIMEOUT_MS

pytestmark = BROWSER_TESTS


@contextlib.contextmanager
def opened_page(browser, url: str, *, width: int = 1280, height: int = 900):
    """_browser.opened_page, every wait given TIMEOUT_MS (a loaded machine draws late)."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI", timeout=TIMEOUT_MS)
        yield page
    finally:
        context.close()


def _open_tab(page, name: str) -> None:
    """Click the tab ``name``, through the "More tabs" menu where the width hides it (a phone)."""
    tab = page.get_by_role("tab", name=name)
    if tab.count() and tab.is_visible():
        tab.click()
        return
    page.get_by_role("button", name="More tabs").click()
    page.locator("button:visible").filter(has_text=re.compile(f"^{name}$")).last.click()


def _seed(store, owner: str, count: int) -> str:
    """``count`` finished jobs of ``owner`` without pictures, then a newest one with a picture; its id."""
    for i in range(count):
        record = store.create(owner=owner, template="txt2img.json", values={"prompt": f"job number {i}"},
                              prompt={}, server="", prompt_id=f"seeded-{i}")
        store.update_status(record.job_id, "error" if i == 0 else "success")
    png = io.BytesIO()
    Image.new("RGB", (640, 480), (20, 60, 200)).save(png, format="PNG")
    whale = store.create(owner=owner, template="txt2img.json", values={"prompt": "a blue whale", "seed": 7},
                         prompt={}, server="", prompt_id="seeded-whale")
    store.add_output(whale.job_id, png.getvalue(), "whale.png", node="9")
    store.update_status(whale.job_id, "success")
    return whale.job_id


def test_the_grid_opens_stars_filters_pages_and_deletes(comfy_server, launch_app, browser):
    from playwright.sync_api import expect

    app = launch_app(comfy_server.url)
    with opened_page(browser, app.url) as page:
        page.get_by_label("Prompt", exact=True).fill("a red fox")
        page.get_by_role("button", name="Generate", exact=True).first.click()
        expect(page.locator("#txt2img-gallery img").first).to_be_visible(timeout=TIMEOUT_MS)
        (fox,) = app.store.list()
        whale = _seed(app.store, fox.owner, 44)   # 46 jobs: two pages of 40
        _open_tab(page, "History")
        grid = page.locator("#history-grid")
        expect(grid.locator("img")).to_have_count(40, timeout=TIMEOUT_MS)
        expect(page.locator("#history-page")).to_contain_text("of 2 · 46 jobs", timeout=TIMEOUT_MS)
        first = grid.locator("img").first
        assert ".thumbs/whale.png.webp" in first.get_attribute("src")   # the thumbnail, newest first
        assert grid.locator("img").nth(1).get_attribute("src").startswith("data:image/svg+xml")  # no picture

        first.click()   # open the whale: full size, its parameters
        panel = page.locator("#history-job-panel")
        expect(panel).to_be_visible(timeout=TIMEOUT_MS)
        expect(grid).to_be_hidden(timeout=TIMEOUT_MS)
        expect(page.locator("#history-parameters")).to_contain_text("a blue whale", timeout=TIMEOUT_MS)
        full = page.locator("#history-outputs img").first
        expect(full).to_be_visible(timeout=TIMEOUT_MS)
        assert full.get_attribute("src").endswith("whale.png")
        assert full.evaluate("i => i.naturalWidth") == 640
        page.locator("#history-star").click()
        expect(page.locator("#history-unstar")).to_be_visible(timeout=TIMEOUT_MS)
        assert app.store.get(whale).starred
        page.locator("#history-back").click()
        expect(grid).to_be_visible(timeout=TIMEOUT_MS)

        page.locator("#history-starred input").check()   # favourites only
        expect(grid.locator("img")).to_have_count(1, timeout=TIMEOUT_MS)
        expect(page.locator("#history-page")).to_contain_text("of 1 · 1 jobs", timeout=TIMEOUT_MS)
        page.locator("#history-starred input").uncheck()
        expect(grid.locator("img")).to_have_count(40, timeout=TIMEOUT_MS)

        text = page.locator("#history-text textarea, #history-text input").first
        text.fill("RED FOX")
        text.press("Enter")
        expect(page.locator("#history-page")).to_contain_text("of 1 · 1 jobs", timeout=TIMEOUT_MS)
        expect(grid.locator("img")).to_have_count(1, timeout=TIMEOUT_MS)
        text.fill("")
        text.press("Enter")
        expect(page.locator("#history-page")).to_contain_text("of 2 · 46 jobs", timeout=TIMEOUT_MS)

        page.locator("#history-older").click()   # page 2: the 6 oldest, the fox last
        expect(grid.locator("img")).to_have_count(6, timeout=TIMEOUT_MS)
        expect(page.locator("#history-page-number input")).to_have_value("2", timeout=TIMEOUT_MS)
        grid.locator("img").last.click()
        expect(page.locator("#history-parameters")).to_contain_text("a red fox", timeout=TIMEOUT_MS)
        page.locator("#history-delete").click()
        expect(page.locator("#history-message")).to_contain_text("Deleted.", timeout=TIMEOUT_MS)
        expect(grid).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#history-page")).to_contain_text("45 jobs", timeout=TIMEOUT_MS)
        assert app.store.get(fox.job_id) is None


def test_phone_width_grid_and_opened_job_do_not_scroll_sideways(comfy_server, launch_app, browser):
    from playwright.sync_api import expect

    app = launch_app(comfy_server.url)
    with opened_page(browser, app.url, width=390, height=844) as page:
        # a job of this browser, made through the page: then the store knows the page's owner
        page.get_by_label("Prompt", exact=True).fill("a red fox")
        page.get_by_role("button", name="Generate", exact=True).first.click()
        expect(page.locator("#txt2img-gallery img").first).to_be_visible(timeout=TIMEOUT_MS)
        owner = app.store.list()[0].owner
        _seed(app.store, owner, 11)
        _open_tab(page, "History")
        grid = page.locator("#history-grid")
        expect(grid.locator("img")).to_have_count(13, timeout=TIMEOUT_MS)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        boxes = grid.locator("img").evaluate_all("imgs => imgs.map(i => i.getBoundingClientRect().right)")
        assert max(boxes) <= 390
        grid.locator("img").first.click()
        expect(page.locator("#history-job-panel")).to_be_visible(timeout=TIMEOUT_MS)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
