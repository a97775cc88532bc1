"""A reloaded page picks its running job up again (Playwright + Debian's /usr/bin/chromium).

The browser's identity is a random id kept in its localStorage (``gr.BrowserState``);
closing or reloading the page does not stop the job, and the page that comes back
shows its progress and, at the end, its picture.
"""
from __future__ import annotations

import re


from _browser import BROWSER_TESTS, TIMEOUT_MS, opened_page

pytestmark = BROWSER_TESTS


def test_reload_reattaches_to_the_running_job(make_comfy_server, launch_app, browser):
    from playwright.sync_api import expect

    server = make_comfy_server(step_time=0.1, steps=100)  # 10 s of sampling: room for a slow reload
    app = launch_app(server.url)
    with opened_page(browser, app.url) as page:
        progress = page.locator("#txt2img-progress")
        expect(progress).to_have_text("Ready.")  # no job yet: nothing to reattach, nothing blanked
        page.get_by_label("Prompt", exact=True).fill("a fox that survives a reload")
        page.get_by_role("button", name="Generate").click()
        expect(progress).to_contain_text(re.compile(r"step \d+/100"))

        page.reload()
        expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI")
        # the same job, still running on the server, shows up again and goes on
        expect(progress).to_contain_text(re.compile(r"step \d+/100"), timeout=TIMEOUT_MS)
        expect(page.locator("#txt2img-gallery img").first).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_label("Message")).to_have_value("Done — 1 picture.")
        expect(progress).to_contain_text("Done")
    assert len(server.received_prompts) == 1  # reattached, not submitted again
    (record,) = app.store.list()
    assert record.status == "success" and record.values["prompt"] == "a fox that survives a reload"
    assert record.owner.startswith("browser:") and len(record.outputs) == 1
    assert record.prompt_id == server.received_prompts[0]["prompt_id"]


def test_custom_tab_reattaches_too(make_comfy_server, launch_app, browser):
    """A custom workflow's job is recorded as "custom" and shows again on the Custom tab only."""
    from playwright.sync_api import expect

    server = make_comfy_server(step_time=0.1, steps=100)
    app = launch_app(server.url)
    with opened_page(browser, app.url) as page:
        page.get_by_role("tab", name="Custom workflow").click()
        tab = page.locator("#custom-tab")
        tab.locator("#custom-bundled input").click()
        page.get_by_role("option", name="txt2img.json", exact=True).click()
        expect(tab.get_by_label("number input for Batch count")).to_be_visible()  # the form is drawn
        tab.locator("#custom-generate").click()
        expect(tab.locator("#custom-progress")).to_contain_text(re.compile(r"step \d+/100"))

        page.reload()
        expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI")
        page.get_by_role("tab", name="Custom workflow").click()
        tab = page.locator("#custom-tab")
        expect(tab.locator("#custom-progress")).to_contain_text(re.compile(r"step \d+/100"))
        expect(tab.locator("#custom-gallery img").first).to_be_visible(timeout=TIMEOUT_MS)
        expect(tab.get_by_label("Message")).to_have_value("Done — 1 picture.")
        expect(page.locator("#txt2img-progress")).to_have_text("Ready.")  # not the other tab's job
    (record,) = app.store.list()
    assert (record.kind, record.template, record.status) == ("custom", "txt2img.json", "success")


def test_reload_mid_batch_follows_every_job_of_it(make_comfy_server, launch_app, browser):
    """A batch count of 3: all three jobs are sent at once, so a reload while the first runs
    drops none of them, and the page that comes back follows the rest to the third picture."""
    from playwright.sync_api import expect

    server = make_comfy_server(step_time=0.05, steps=40)  # 2 s a job
    app = launch_app(server.url)
    with opened_page(browser, app.url) as page:
        page.get_by_label("Prompt", exact=True).fill("three foxes")
        box = page.get_by_label("number input for Batch count", exact=True)
        box.fill("3")
        box.press("Enter")
        page.get_by_role("button", name="Generate").click()
        progress = page.locator("#txt2img-progress")
        expect(progress).to_contain_text(re.compile(r"Job 1 of 3 · .*step \d+/40"))

        page.reload()
        expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI")
        expect(progress).to_contain_text(re.compile(r"Job [23] of 3"), timeout=TIMEOUT_MS)
        expect(page.get_by_label("Message")).to_have_value("Done — 3 pictures.", timeout=TIMEOUT_MS)
        expect(page.locator("#txt2img-gallery img")).to_have_count(3)
    records = app.store.list()
    assert len(records) == 3 and all(r.status == "success" for r in records)
    assert len(server.received_prompts) == 3  # followed again, never sent again
