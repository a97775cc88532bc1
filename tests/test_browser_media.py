"""Issue 14 in a real browser: outputs that are not pictures play in the page, and a picture dropped on
the Custom workflow tab opens the workflow it carries (or fills Text to image from its parameters)."""
from __future__ import annotations

import io
import json

import requests
from PIL import Image, PngImagePlugin

from _browser import BROWSER_TESTS, TIMEOUT_MS, opened_page, upload_workflow
from comfy_test_server import _media

pytestmark = BROWSER_TESTS

CKPT = "tiny-sd15-random.safetensors"
SOUND_AND_TEXT = {   # a LoadAudio saved as FLAC, and a text made by the graph (the recorded media run's nodes)
    "20": {"class_type": "LoadAudio", "inputs": {"audio": "tone.wav"}},
    "21": {"class_type": "SaveAudio", "inputs": {"audio": ["20", 0], "filename_prefix": "audio/tone"}},
    "41": {"class_type": "PrimitiveString", "inputs": {"value": "a caption made by the graph"}},
    "40": {"class_type": "PreviewAny", "inputs": {"source": ["41", 0]}},
}
SEED = 24681357
PICTURE_PROMPT = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": CKPT}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fox in a dropped picture", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
    "3": {"class_type": "KSampler", "inputs": {"seed": SEED, "steps": 3, "cfg": 6.5, "sampler_name": "euler",
                                               "scheduler": "normal", "denoise": 1.0, "model": ["4", 0],
                                               "positive": ["6", 0], "negative": ["7", 0],
                                               "latent_image": ["5", 0]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "fox", "images": ["8", 0]}},
}


def _png(**chunks: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, text in chunks.items():
        info.add_text(key, text)
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "teal").save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def test_a_sound_and_a_text_output_play_and_show_in_the_page(comfy_server, launch_app, browser, tmp_path):
    from playwright.sync_api import expect

    requests.post(comfy_server.url + "/upload/image", timeout=10, data={"overwrite": "true"},
                  files={"image": ("tone.wav", _media.wav_bytes(_media.tone()), "audio/wav")}).raise_for_status()
    workflow = tmp_path / "sound.json"
    workflow.write_text(json.dumps(SOUND_AND_TEXT))
    app = launch_app(comfy_server.url)
    with opened_page(browser, app.url) as page:
        upload_workflow(page, workflow)
        expect(page.locator("#custom-load-message")).to_contain_text("Loaded sound.json.")
        tab = page.locator("#custom-tab")
        expect(tab.get_by_label("number input for Batch count")).to_be_visible()  # the form is drawn
        tab.locator("#custom-generate").click()
        expect(tab.locator("#custom-message textarea")).to_have_value("Done — 2 files.", timeout=TIMEOUT_MS)
        audio = tab.locator("#custom-audio audio[src]").first   # Gradio's player (its waveform keeps one too)
        expect(audio).to_be_attached()
        src = audio.get_attribute("src")
        origin = app.url.rstrip("/")
        assert src and src.removeprefix("blob:").startswith(origin) and comfy_server.url not in src  # the app's copy
        page.wait_for_function("el => el.readyState >= 1 && el.duration > 0", arg=audio.element_handle(),
                               timeout=TIMEOUT_MS)   # Chromium read the FLAC: it plays
        expect(tab.locator("#custom-text textarea")).to_have_value("a caption made by the graph")


def test_a_dropped_picture_opens_its_workflow_with_its_values(comfy_server, launch_app, browser, tmp_path):
    from playwright.sync_api import expect

    picture = tmp_path / "fox.png"
    picture.write_bytes(_png(prompt=json.dumps(PICTURE_PROMPT)))
    app = launch_app(comfy_server.url)
    with opened_page(browser, app.url) as page:
        page.get_by_role("tab", name="Custom workflow").click()
        page.locator("#custom-from-picture input[type=file]").set_input_files(str(picture))
        expect(page.locator("#custom-load-message")).to_contain_text(
            "Opened the workflow of fox.png, with the values it was made with.")
        tab = page.locator("#custom-tab")
        expect(tab.get_by_label("Prompt", exact=True)).to_have_value("a fox in a dropped picture")
        tab.locator("#custom-generate").click()
        expect(tab.locator("#custom-message textarea")).to_have_value("Done — 1 picture.", timeout=TIMEOUT_MS)
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["3"]["inputs"]["seed"] == SEED and sent["6"]["inputs"]["text"] == "a fox in a dropped picture"


def test_a_dropped_a1111_picture_fills_text_to_image(comfy_server, launch_app, browser, tmp_path):
    from playwright.sync_api import expect

    picture = tmp_path / "lighthouse.png"
    picture.write_bytes(_png(parameters="a lighthouse at dusk\nNegative prompt: people\nSteps: 23, Sampler: Euler, "
                                        "CFG scale: 5.5, Seed: 4242, Size: 512x512, Model: tiny-sd15-random"))
    app = launch_app(comfy_server.url)
    with opened_page(browser, app.url) as page:
        page.get_by_role("tab", name="Custom workflow").click()
        page.locator("#custom-from-picture input[type=file]").set_input_files(str(picture))
        expect(page.get_by_label("Prompt", exact=True).first).to_have_value("a lighthouse at dusk")
        expect(page.get_by_label("Negative prompt", exact=True).first).to_have_value("people")
