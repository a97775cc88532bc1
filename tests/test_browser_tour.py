"""The whole page at phone width, tab by tab, as the README's tour shows it (Chromium).

Every tab at 390x844 fits the screen: no horizontal scrolling, after a picture was made (so
History, Queue and the result panels have something in them).
"""
from tests._browser import BROWSER_TESTS, TIMEOUT_MS, opened_page

TAB_LABELS = ("Text to image", "Inpainting", "Templates", "Custom workflow", "Queue", "History", "System")

pytestmark = BROWSER_TESTS


def open_tab(page, label: str) -> None:
    """Select a tab as a phone user does: from the tab row, or else from Gradio's "More tabs" menu."""
    from playwright.sync_api import expect

    tab = page.get_by_role("tab", name=label, exact=True)
    if tab.count() and tab.is_visible():
        tab.click()
    else:
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown button", has_text=label).click()
    expect(page.get_by_role("tab", name=label, exact=True)).to_have_attribute("aria-selected", "true",
                                                                                timeout=TIMEOUT_MS)


def test_every_tab_fits_a_phone_without_horizontal_scrolling(comfy_server, launch_app, browser):
    from playwright.sync_api import expect

    app = launch_app(comfy_server.url)
    with opened_page(browser, app.url, width=390, height=844) as page:
        page.get_by_label("Prompt", exact=True).first.fill("a lighthouse at dusk")
        page.get_by_role("button", name="Generate").first.click()
        expect(page.locator("#txt2img-gallery img").first).to_be_visible(timeout=TIMEOUT_MS)
        too_wide = {}
        for label in TAB_LABELS:
            open_tab(page, label)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                too_wide[label] = width
        assert too_wide == {}
