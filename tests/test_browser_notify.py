"""Told when a job ends (assets/notify.js, ui/notify.py, ui/job_state.py) in Debian's Chromium.

The browser's Notification is a stand-in and its AudioContext a subclass, both recording what the
page does with them (an init script); "the tab is hidden" is document.hidden / visibilityState made to say so,
with the visibilitychange event a real browser sends. One app, two browser contexts: one that
turned both switches on, one that left them off.
"""
from __future__ import annotations

import re

from _browser import BROWSER_TESTS, TIMEOUT_MS

pytestmark = BROWSER_TESTS

RECORDERS = """
window.__notes = []; window.__asked = 0; window.__audio = {made: 0, started: 0};
class FakeNotification {
  constructor(title, options) { window.__notes.push({title, body: (options || {}).body}); }
  close() {}
}
FakeNotification.permission = "default";
FakeNotification.requestPermission = () => {
  window.__asked += 1; FakeNotification.permission = "granted"; return Promise.resolve("granted");
};
window.Notification = FakeNotification;
const RealAudioContext = window.AudioContext;  // the page's own parts may use it too: count only chimes
window.AudioContext = class extends RealAudioContext {
  constructor(...args) { super(...args); window.__audio.made += 1; }
  createOscillator() {
    const osc = super.createOscillator();
    const start = osc.start.bind(osc);
    osc.start = (...args) => { window.__audio.started += 1; return start(...args); };
    return osc;
  }
};
"""

HIDE = """(hidden) => {
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => hidden ? "hidden" : "visible"});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def open_recorded_page(browser, url):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORDERS)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI", timeout=TIMEOUT_MS)
    return context, page


def generate(page, prompt):
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_role("button", name="Generate").click()


def test_a_job_that_ends_while_hidden_is_told_in_the_title_a_notification_and_a_chime(
        make_comfy_server, launch_app, browser):
    from playwright.sync_api import expect

    server = make_comfy_server(step_time=0.05, steps=30)  # 1.5 s a job: its progress shows in the title
    app = launch_app(server.url)
    context, page = open_recorded_page(browser, app.url)
    try:
        expect(page).to_have_title("ComfyUI", timeout=TIMEOUT_MS)
        notify_box = page.locator("#notify-when-done input[type=checkbox]")
        sound_box = page.locator("#notify-sound input[type=checkbox]")
        notify_box.check()
        sound_box.check()
        assert page.evaluate("window.__asked") == 1  # the click itself asked the browser
        assert page.evaluate("[localStorage.getItem('comfy_ui_app.notify'), "
                             "localStorage.getItem('comfy_ui_app.notify_sound')]") == ["1", "1"]

        # Visible: progress in the title, then the page's own title; a chime, no notification
        generate(page, "a fox seen")
        expect(page).to_have_title(re.compile(r"^\[\d+%\] ComfyUI$"), timeout=TIMEOUT_MS)
        expect(page.locator("#txt2img-progress")).to_contain_text("Done", timeout=TIMEOUT_MS)
        expect(page).to_have_title("ComfyUI", timeout=TIMEOUT_MS)
        assert page.evaluate("window.__notes") == []
        assert page.evaluate("window.__audio.started") == 2  # the chime's two notes

        # Hidden: "✓ Done" in the title and a notification with the final message, until shown again
        page.evaluate(HIDE, True)
        generate(page, "a fox unseen")
        expect(page).to_have_title("✓ Done ComfyUI", timeout=TIMEOUT_MS)
        assert page.evaluate("window.__notes") == [{"title": "The job is done", "body": "Done — 1 picture."}]
        assert page.evaluate("window.__audio.started") == 4
        page.evaluate(HIDE, False)
        expect(page).to_have_title("ComfyUI", timeout=TIMEOUT_MS)

        page.reload()  # the switches come back from localStorage
        expect(notify_box).to_be_checked(timeout=TIMEOUT_MS)
        expect(sound_box).to_be_checked(timeout=TIMEOUT_MS)
        assert page.evaluate("window.__asked") == 0  # setting them again asks nothing
    finally:
        context.close()

    # Another browser, switches left off: the title still tells, nothing else does
    context, page = open_recorded_page(browser, app.url)
    try:
        expect(page.locator("#notify-when-done input[type=checkbox]")).not_to_be_checked(timeout=TIMEOUT_MS)
        page.evaluate(HIDE, True)
        generate(page, "a quiet fox")
        expect(page).to_have_title("✓ Done ComfyUI", timeout=TIMEOUT_MS)
        assert page.evaluate("[window.__notes.length, window.__audio.started, window.__asked]") == [0, 0, 0]
        # a browser that refuses notifications: the switch says so instead of failing quietly
        blocked = page.locator("#notify-blocked")
        expect(blocked).to_be_hidden(timeout=TIMEOUT_MS)
        page.evaluate("Notification.permission = 'denied'")
        page.locator("#notify-when-done input[type=checkbox]").check()
        expect(blocked).to_be_visible(timeout=TIMEOUT_MS)
        expect(blocked).to_contain_text("does not allow notifications", timeout=TIMEOUT_MS)
    finally:
        context.close()
