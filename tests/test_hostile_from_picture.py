""""Open from a picture" raw through Gradio's HTTP API (issue 14 point 5).

The file goes up through ``/gradio_api/upload`` as a browser sends it, then the Custom workflow
tab's (private) ``open_from_picture`` event runs in a page's session: the metadata must
survive Gradio's upload path, the workflow must open as a form with the values it was made
with (its Generate sends them), an A1111 text must fill Text to image, and a file carrying
nothing, or no picture at all, gets its plain sentence next to the drop zone.
"""
from __future__ import annotations

import io
import json
import uuid

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from _hostile import assert_survived, join, queue_join

SEED, STEPS = 987654321, 7
PROMPT = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny-sd15-random.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fox from a picture", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
    "3": {"class_type": "KSampler", "inputs": {"seed": SEED, "steps": STEPS, "cfg": 6.5, "sampler_name": "euler",
                                               "scheduler": "normal", "denoise": 1.0, "model": ["4", 0],
                                               "positive": ["6", 0], "negative": ["7", 0],
                                               "latent_image": ["5", 0]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "fox", "images": ["8", 0]}},
}
A1111 = ("a lighthouse at dusk\nNegative prompt: people\nSteps: 23, Sampler: DPM++ 2M Karras, CFG scale: 5.5, "
         "Seed: 4242, Size: 640x448, Model: tiny-sd15-random")


def png(**chunks) -> bytes:
    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "teal").save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def open_picture(app, content: bytes, name: str, session: str):
    file = app.upload(content, name)
    point = app.endpoint("open_from_picture")
    data = [file, "en"] + [""] * (len(point["inputs"]) - 2)   # the browser id: none
    outcome = join(app, "open_from_picture", data, session)
    assert_survived(app, outcome)
    return outcome


def drop_message(outcome) -> str:
    return outcome.output("markdown", nth=1) or ""


def generate_rendered_form(app, session: str) -> dict:
    """The Custom workflow form's render in ``session``, then its Generate with the form's own values."""
    deps = app.config["dependencies"]
    load = next(d for d in deps if d.get("api_name") == "load")
    loaded = load["outputs"][0]
    render = next(d for d in deps if [loaded, "change"] in [list(t) for t in d.get("targets", [])])
    lang = next(i for i in render["inputs"] if i != loaded)
    rendered = queue_join(app, render["id"], [None, "en"], session, trigger_id=loaded)
    config = (rendered.get("output") or {}).get("render_config") or {}
    components = {c["id"]: c for c in app.config["components"]}
    components.update({c["id"]: c for c in config.get("components", [])})
    generate = next(d for d in config.get("dependencies", []) for t in d["targets"]
                    if (components.get(t[0], {}).get("props") or {}).get("elem_id") == "custom-generate")
    data = ["en" if i == lang else "" if components.get(i, {}).get("type") == "browserstate"
            else (components.get(i, {}).get("props") or {}).get("value") for i in generate["inputs"]]
    return queue_join(app, generate["id"], data, session, trigger_id=generate["targets"][0][0])


def test_a_comfyui_picture_opens_its_workflow_with_its_values(private_app, hostile_comfy):
    session = uuid.uuid4().hex[:12]
    outcome = open_picture(private_app, png(prompt=json.dumps(PROMPT)), "fox.png", session)
    assert outcome.output("markdown", nth=0) == "Opened the workflow of fox.png, with the values it was made with."
    assert drop_message(outcome) == ""
    before = len(hostile_comfy.received_prompts)
    ran = generate_rendered_form(private_app, session)
    assert ran.get("success"), ran
    sent = hostile_comfy.received_prompts[before]["prompt"]
    assert sent["3"]["inputs"]["seed"] == SEED and sent["3"]["inputs"]["steps"] == STEPS
    assert sent["6"]["inputs"]["text"] == "a fox from a picture"


def test_an_a1111_picture_fills_text_to_image(private_app):
    outcome = open_picture(private_app, png(parameters=A1111), "lighthouse.png", uuid.uuid4().hex[:12])
    assert outcome.output("Message") == "Text to image filled from the parameters of lighthouse.png."
    assert outcome.output("Prompt") == "a lighthouse at dusk"
    assert outcome.output("Negative prompt") == "people"
    assert outcome.output("Steps") == 23 and outcome.output("Seed") == 4242
    assert outcome.output("Random seed") is False
    assert outcome.output("Checkpoint") == "tiny-sd15-random.safetensors"
    assert (outcome.output("Width"), outcome.output("Height")) == (640, 448)


def test_an_a1111_picture_whose_model_the_server_lacks_says_so(private_app):
    text = A1111.replace("Model: tiny-sd15-random", "Model: dreamshaper_8")
    outcome = open_picture(private_app, png(parameters=text), "lh.png", uuid.uuid4().hex[:12])
    assert outcome.output("Message") == ("Text to image filled from the parameters of lh.png. Its checkpoint "
                                         "“dreamshaper_8” is not on this server: the form keeps its own.")


def test_a_picture_without_a_workflow_is_said_plainly(public_app):
    outcome = open_picture(public_app, png(), "plain.png", uuid.uuid4().hex[:12])
    assert drop_message(outcome) == "⚠ This picture carries no workflow or generation parameters."


def test_a_file_that_is_not_a_picture_is_said_plainly(public_app):
    outcome = open_picture(public_app, b"not a picture at all", "fake.png", uuid.uuid4().hex[:12])
    assert drop_message(outcome) == "⚠ The file fake.png is not a picture (PNG, JPEG or WebP)."


def test_a_decompression_bomb_is_refused_from_its_header(public_app):
    """A PNG claiming 100,000 × 100,000 pixels, with a workflow chunk: refused, never decoded."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", b"prompt\0" + json.dumps(PROMPT).encode()) + chunk(b"IDAT", zlib.compress(b"\0" * 99))
            + chunk(b"IEND", b""))
    outcome = open_picture(public_app, bomb, "bomb.png", uuid.uuid4().hex[:12])
    assert drop_message(outcome).startswith("⚠ The picture bomb.png is 100000×100000")


def test_a_visitor_who_may_not_run_workflows_is_told_why(make_hostile_app):
    app = make_hostile_app("custom-admins", "--custom-workflows", "admins")
    outcome = open_picture(app, png(prompt=json.dumps(PROMPT)), "fox.png", uuid.uuid4().hex[:12])
    assert drop_message(outcome) == "⚠ Only an admin may run a workflow of their own on this app."
    both = png(prompt=json.dumps(PROMPT), parameters=A1111)   # the app's own pictures carry both
    outcome = open_picture(app, both, "fox.png", uuid.uuid4().hex[:12])
    assert outcome.output("Prompt") == "a lighthouse at dusk"


def test_webp_and_video_metadata_survive_the_upload_path(private_app):
    """ComfyUI's WEBP (EXIF) and SaveVideo's MP4 (udta keys) and WEBM (SimpleTags), each uploaded as a browser does."""
    from test_embedded import comfy_exif, mp4, webm, webp

    text = json.dumps(PROMPT)
    for name, content in (("fox.webp", webp(comfy_exif(prompt=text))), ("fox.mp4", mp4({"prompt": text})),
                          ("fox.webm", webm({"PROMPT": text}))):
        outcome = open_picture(private_app, content, name, uuid.uuid4().hex[:12])
        assert outcome.output("markdown", nth=0) == f"Opened the workflow of {name}, with the values it was made with."
