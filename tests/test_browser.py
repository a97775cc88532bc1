"""The page in a real browser: Playwright for Python driving Debian's /usr/bin/chromium."""
from __future__ import annotations

import os
import socket

import pytest

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def test_type_prompt_generate_and_see_the_image(comfy_server, launch_app, page):
    from playwright.sync_api import expect

    app = launch_app(comfy_server.url)
    page.goto(app.url)
    expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI", timeout=TIMEOUT_MS)
    page.get_by_label("Prompt", exact=True).fill("a red fox in the snow")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#txt2img-gallery img").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_label("Message")).to_have_value("Done: 1 image(s) saved.", timeout=TIMEOUT_MS)
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["6"]["inputs"]["text"] == "a red fox in the snow"
    assert sent["4"]["inputs"]["ckpt_name"] == "tiny-sd15-random.safetensors"  # filled by demo.load
    assert list(app.output_dir.glob("*/*.png"))


def test_unreachable_server_banner_then_recovers(launch_app, make_comfy_server, page):
    from playwright.sync_api import expect

    with socket.socket() as s:  # a port nobody listens on (yet)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    app = launch_app(url)
    page.goto(app.url)
    banner = page.locator("#server-status")
    expect(banner).to_contain_text(f"Cannot reach ComfyUI at {url}", timeout=TIMEOUT_MS)
    expect(banner).to_contain_text("Retrying automatically")
    generate = page.get_by_role("button", name="Generate")
    expect(generate).to_be_disabled()
    # ComfyUI comes up: the page notices by itself and enables Generate again.
    make_comfy_server(port=port)
    expect(banner).to_contain_text("Connected to ComfyUI", timeout=TIMEOUT_MS)
    expect(generate).to_be_enabled()


def test_interrupt_button_stops_the_job(make_comfy_server, launch_app, page):
    from playwright.sync_api import expect

    server = make_comfy_server(step_time=0.2)  # 20 default steps: 4 s
    app = launch_app(server.url)
    page.goto(app.url)
    expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#txt2img-progress")).to_contain_text("step", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Interrupt").click()
    expect(page.get_by_label("Message")).to_have_value("Interrupted. The job was cancelled.")
    prompt_id = server.received_prompts[-1]["prompt_id"]
    import requests
    import time

    deadline = time.monotonic() + 3  # well before the 4 s the job would take
    while not (history := requests.get(f"{server.url}/history/{prompt_id}", timeout=5).json()):
        assert time.monotonic() < deadline, "the job kept running on the server"
        time.sleep(0.1)
    assert history[prompt_id]["status"]["status_str"] != "success"
    expect(page.locator("#txt2img-gallery img")).to_have_count(0)
