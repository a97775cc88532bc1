"""Languages in a real browser: Chinese from the browser's language, the switch, reload."""
from __future__ import annotations


import pytest

from _browser import BROWSER_TESTS, TIMEOUT_MS

pytestmark = BROWSER_TESTS


@pytest.fixture
def open_page(browser):
    """open_page(url, locale) -> a page in a fresh browser profile with that language."""
    contexts = []

    def open_(url, locale):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()


def expect_chinese(page):
    from playwright.sync_api import expect

    expect(page.get_by_role("button", name="生成", exact=True)).to_be_visible()
    expect(page.get_by_label("提示词", exact=True)).to_be_visible()
    expect(page.get_by_role("tab", name="文生图")).to_be_visible()
    expect(page.locator("#server-status")).to_contain_text("已连接到 ComfyUI")
    expect(page.get_by_role("button", name="Generate", exact=True)).to_have_count(0)


def expect_english(page):
    from playwright.sync_api import expect

    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_visible()
    expect(page.get_by_label("Prompt", exact=True)).to_be_visible()
    expect(page.get_by_role("tab", name="Text to image")).to_be_visible()
    expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI")
    expect(page.get_by_role("button", name="生成", exact=True)).to_have_count(0)


def choose_language(page, name):
    picker = page.locator("#language-picker input")
    picker.click()
    page.get_by_role("option", name=name, exact=True).click()


def test_a_chinese_browser_gets_chinese_labels(comfy_server, launch_app, open_page):
    from playwright.sync_api import expect

    page = open_page(launch_app(comfy_server.url).url, "zh-CN")
    expect_chinese(page)
    expect(page.locator("#language-picker input")).to_have_value("简体中文")
    expect(page.get_by_role("button", name="中断", exact=True)).to_be_visible()
    expect(page.locator("#txt2img-size input")).to_have_value("方形 512×512")  # a preset's label, translated


def test_switch_to_chinese_and_back(comfy_server, launch_app, open_page):
    from playwright.sync_api import expect

    page = open_page(launch_app(comfy_server.url).url, "en-US")
    expect_english(page)
    page.get_by_label("Prompt", exact=True).fill("a red fox")  # what the user typed stays
    choose_language(page, "简体中文")
    expect_chinese(page)
    expect(page.get_by_label("提示词", exact=True)).to_have_value("a red fox")
    expect(page.get_by_text("就绪。")).to_be_visible()  # the untouched progress line follows
    expect(page.locator("#txt2img-size input")).to_have_value("方形 512×512")
    choose_language(page, "English")
    expect_english(page)
    expect(page.get_by_label("Prompt", exact=True)).to_have_value("a red fox")
    expect(page.locator("#txt2img-size input")).to_have_value("Square 512×512")


def test_the_choice_survives_a_reload_and_beats_the_browser_language(comfy_server, launch_app, open_page):
    page = open_page(launch_app(comfy_server.url).url, "zh-CN")
    expect_chinese(page)
    choose_language(page, "English")
    expect_english(page)
    page.reload()
    expect_english(page)          # this browser chose English; its language is Chinese
    choose_language(page, "简体中文")
    expect_chinese(page)
    page.reload()
    expect_chinese(page)
