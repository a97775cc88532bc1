"""The page in a real browser: Playwright for Python driving Debian's /usr/bin/chromium."""
from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from _browser import BROWSER_TESTS, TIMEOUT_MS, set_slider, upload_workflow

pytestmark = BROWSER_TESTS
REPO = Path(__file__).resolve().parents[1]


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
    expect(page.get_by_label("Message")).to_have_value("Done — 1 picture.", timeout=TIMEOUT_MS)
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["6"]["inputs"]["text"] == "a red fox in the snow"
    assert sent["4"]["inputs"]["ckpt_name"] == "tiny-sd15-random.safetensors"  # filled by demo.load
    assert list(app.store.outputs_dir.glob("*/*.png"))  # the job store keeps the outputs
    # Gradio's own run history is off (ui/_blocks.Blocks.launch): no copy of the run in this browser's storage
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('gradio:run-history'))") == []


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


@pytest.fixture
def launch_custom(tmp_path):
    """A page with just the "Custom workflow" tab (independent of how build_app wires tabs)."""
    import gradio as gr

    from _app import app_context, job_service
    from comfy_ui_app.jobs.store import JobStore
    from comfy_ui_app.ui import custom_tab as custom

    started = []

    def launch(comfy_url):
        out = tmp_path / "custom-outputs"
        out.mkdir()
        store = JobStore(tmp_path / "custom-data")
        jobs = job_service(comfy_url, store)  # what the app builds: a Cluster and a JobService
        with gr.Blocks() as demo:
            ctx = app_context(jobs, out, workflows_dir=REPO / "workflows", lang=gr.State("en"))
            with gr.Tabs():
                custom.build_tab(ctx)
        demo.queue(default_concurrency_limit=None)
        started.append((demo, jobs, store))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port,
                                allowed_paths=[str(out), str(store.outputs_dir)], quiet=True)
        return SimpleNamespace(url=url, output_dir=out, store=store)

    yield launch
    for demo, jobs, store in started:
        demo.close()
        jobs.cluster.close()
        store.close()


def test_custom_workflow_upload_renders_its_form_and_runs(comfy_server, launch_custom, page, tmp_path):
    from playwright.sync_api import expect

    app = launch_custom(comfy_server.url)
    page.goto(app.url)
    tab = page.locator("#custom-tab")
    # A file that is not a workflow: a plain sentence, no form.
    bad = tmp_path / "broken.json"
    bad.write_text("{ this is not json")
    upload_workflow(page, bad)
    expect(page.locator("#custom-load-message")).to_contain_text("not valid JSON")
    expect(tab.get_by_label("Prompt", exact=True)).to_have_count(0)
    # An API-format workflow: its fields become a form, with the rest under "Advanced".
    api = tmp_path / "mine.json"
    api.write_text((REPO / "workflows" / "txt2img.json").read_text())
    upload_workflow(page, api)
    expect(page.locator("#custom-load-message")).to_contain_text("Loaded mine.json")
    expect(tab.get_by_label("Prompt", exact=True)).to_be_visible()
    tab.get_by_label("Prompt", exact=True).fill("a custom fox")
    for label, value in (("Steps", "3"), ("Width", "64"), ("Height", "64")):
        set_slider(tab, label, value)
    tab.locator("#custom-generate").click()
    expect(tab.locator("#custom-gallery img").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(tab.get_by_label("Message")).to_have_value("Done — 1 picture.", timeout=TIMEOUT_MS)
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["6"]["inputs"]["text"] == "a custom fox" and sent["3"]["inputs"]["steps"] == 3
    assert sent["4"]["inputs"]["ckpt_name"] == "tiny-sd15-random.safetensors"
    # A broken file afterwards keeps the form that was there.
    upload_workflow(page, bad)
    expect(page.locator("#custom-load-message")).to_contain_text("not valid JSON")
    expect(tab.get_by_label("Prompt", exact=True)).to_have_value("a custom fox")


def test_ui_format_workflow_is_converted_and_saved_in_the_png(comfy_server, launch_custom, page):
    from playwright.sync_api import expect
    from PIL import Image

    app = launch_custom(comfy_server.url)
    page.goto(app.url)
    upload_workflow(page, REPO / "tests" / "fixtures" / "ui_workflows" / "default_txt2img.json")
    expect(page.locator("#custom-load-message")).to_contain_text("Loaded default_txt2img.json")
    tab = page.locator("#custom-tab")
    set_slider(tab, "Steps", "2")
    set_slider(tab, "Width", "64")
    set_slider(tab, "Height", "64")
    tab.locator("#custom-generate").click()
    expect(tab.get_by_label("Message")).to_have_value("Done — 1 picture.", timeout=TIMEOUT_MS)
    body = comfy_server.received_prompts[-1]
    assert any(n["class_type"] == "KSampler" and n["inputs"]["steps"] == 2 for n in body["prompt"].values())
    assert body["extra_data"]["extra_pnginfo"]["workflow"]["nodes"]  # the editor graph, for the PNG
    (saved,) = app.store.outputs_dir.glob("*/*.png")  # a recorded job's outputs live in the job store
    with Image.open(saved) as img:
        assert {"prompt", "workflow", "parameters"} <= set(img.text)


def test_phone_width_has_one_column_and_no_horizontal_scroll(comfy_server, launch_app, browser, tmp_path):
    from playwright.sync_api import expect

    app = launch_app(comfy_server.url)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(app.url)
        expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI")
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # the gallery comes below the controls, not beside them
        generate = page.get_by_role("button", name="Generate").first.bounding_box()
        gallery = page.locator("#txt2img-gallery").bounding_box()
        assert gallery["y"] > generate["y"] + generate["height"]
        assert gallery["x"] < 60 and gallery["width"] > 300
    finally:
        context.close()


def test_send_to_inpainting_carries_the_picture_and_the_prompts(comfy_server, launch_app, page):
    from playwright.sync_api import expect

    app = launch_app(comfy_server.url)
    page.goto(app.url)
    expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI", timeout=TIMEOUT_MS)
    page.get_by_label("Prompt", exact=True).fill("a red fox in the snow")
    page.get_by_label("Negative prompt", exact=True).fill("blurry, text")
    set_slider(page, "Steps", "2")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#txt2img-gallery img").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_label("Message").first).to_have_value("Done — 1 picture.", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Send to inpainting").click()
    expect(page.get_by_role("tab", name="Inpainting")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#inpaint-mask img")).to_be_visible()  # the picture is in the editor
    inpaint = page.locator("#inpaint-editor").locator("xpath=ancestor::div[@role='tabpanel']")
    expect(inpaint.get_by_label("Prompt", exact=True)).to_have_value("a red fox in the snow")
    expect(inpaint.get_by_label("Negative prompt", exact=True)).to_have_value("blurry, text")


def test_a_width_typed_past_the_slider_is_put_back_with_the_reason(comfy_server, launch_app, page):
    from playwright.sync_api import expect

    app = launch_app(comfy_server.url)
    page.goto(app.url)
    expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI", timeout=TIMEOUT_MS)
    set_slider(page, "Width", "4000")
    box = page.get_by_label("number input for Width", exact=True)
    expect(box).to_have_value("2048")
    expect(page.get_by_text("Width must be at most 2048 (got 4000); it is now 2048.")).to_be_visible()
    expect(page.locator("#txt2img-size input")).to_have_value("Custom")
    set_slider(page, "Width", "768")  # a size that is a preset again: the message goes, the preset follows
    set_slider(page, "Height", "512")
    expect(page.get_by_text("Width must be at most")).to_be_hidden()
    expect(page.locator("#txt2img-size input")).to_have_value("Landscape 768×512")
    expect(page.locator(".toast-body")).to_have_count(0)  # no pop-up from Gradio's own range check


def test_the_queue_tab_follows_the_queue_by_itself_once_opened(make_comfy_server, launch_app, page):
    """The Queue tab's timer starts when the tab is opened: a job someone else submits
    afterwards appears, and leaves when done, without a click."""
    from playwright.sync_api import expect

    from test_client import small_prompt

    server = make_comfy_server(step_time=0.3, steps=10)
    app = launch_app(server.url)
    page.goto(app.url)
    expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI", timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="Queue").click()
    table = page.locator("#queue-table")
    expect(table).to_be_visible()
    expect(table).not_to_contain_text("Someone else")
    _, job = app.jobs.submit(owner="user:someone", template="txt2img", values={"prompt": "x"},
                             prompt=small_prompt(text="x"))
    expect(table).to_contain_text("Someone else", timeout=TIMEOUT_MS)
    assert job.wait(timeout=30).ok
    expect(table).not_to_contain_text("Someone else", timeout=TIMEOUT_MS)
