"""A1111-style ``parameters`` text and PNG text chunks (comfy_ui_app.workflow.pnginfo)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from comfy_ui_app import load_workflow
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.workflow.pnginfo import add_text_chunk, parameters_from_prompt, parameters_text
from _png_text import text_chunks

REPO = Path(__file__).resolve().parents[1]


def comfy_png(**chunks) -> bytes:
    """A PNG as ComfyUI's SaveImage writes it: one tEXt chunk per key."""
    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def test_parameters_text_is_a1111_format():
    text = parameters_text({"prompt": "a red fox", "negative": "text", "steps": 20, "sampler": "euler",
                            "scheduler": "normal", "cfg": 7.0, "seed": 123, "width": 512, "height": 512,
                            "checkpoint": "x.safetensors", "denoise": 1.0})
    assert text == ("a red fox\nNegative prompt: text\nSteps: 20, Sampler: euler, Schedule type: normal, "
                    "CFG scale: 7, Seed: 123, Size: 512x512, Model: x.safetensors")


def test_parameters_text_leaves_out_unknown_and_quotes_commas():
    text = parameters_text({"prompt": "cat", "cfg": 6.5, "denoise": 0.55, "checkpoint": "a, b.ckpt"})
    assert text == 'cat\nCFG scale: 6.5, Model: "a, b.ckpt", Denoising strength: 0.55'
    assert parameters_text({"prompt": "only"}) == "only"


def test_parameters_from_the_filled_prompt_not_the_template():
    template = load_workflow(REPO / "workflows" / "txt2img.json")
    fields = discover(template)
    filled = json.loads(json.dumps(template))
    filled["3"]["inputs"]["seed"] = 42
    filled["5"]["inputs"]["width"] = 768
    params = parameters_from_prompt(filled, fields)
    assert params["seed"] == 42 and params["width"] == 768 and params["height"] == 512
    assert params["prompt"].startswith("beautiful scenery") and params["negative"] == "text, watermark"
    assert params["checkpoint"] == "v1-5-pruned-emaonly.safetensors"


def test_add_text_chunk_keeps_comfyui_chunks_and_pixels():
    png = comfy_png(prompt='{"3": {}}', workflow='{"nodes": []}')
    out = add_text_chunk(png, "parameters", "a red fox\nSteps: 4")
    chunks = text_chunks(out)
    assert chunks == {"prompt": '{"3": {}}', "workflow": '{"nodes": []}', "parameters": "a red fox\nSteps: 4"}
    with Image.open(io.BytesIO(out)) as img, Image.open(io.BytesIO(png)) as before:
        img.load()  # checks every CRC
        assert img.text["parameters"] == "a red fox\nSteps: 4" and img.text["prompt"] == '{"3": {}}'
        assert img.tobytes() == before.tobytes()
    # adding again replaces instead of duplicating
    again = add_text_chunk(out, "parameters", "second")
    assert text_chunks(again)["parameters"] == "second" and again.count(b"parameters") == 1


def test_non_latin_text_goes_into_itxt():
    out = add_text_chunk(comfy_png(prompt="{}"), "parameters", "一只红狐狸")
    assert b"iTXt" in out
    with Image.open(io.BytesIO(out)) as img:
        assert img.text["parameters"] == "一只红狐狸"
    assert text_chunks(out)["parameters"] == "一只红狐狸"


def test_not_a_png_is_refused():
    with pytest.raises(ValueError):
        add_text_chunk(b"\xff\xd8\xff not a png", "parameters", "x")
