"""Inpainting: the template's shape (comfy_ui_app.workflow.inpaint) and the files a job carries
(comfy_ui_app.jobs.inpaint.stage_files, what the Inpainting tab calls; the cluster uploads them
where the job runs: tests/test_cluster_uploads.py)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from comfy_ui_app import ComfyClient, WorkflowError, load_workflow
from comfy_ui_app.jobs.inpaint import make_files, stage_files
from comfy_ui_app.workflow import masks
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.workflow.inpaint import inpaint_shape, merged_png
from comfy_ui_app.workflow.templates import apply_values

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_A = load_workflow(ROOT / "workflows" / "inpaint.json")  # LoadImage's MASK -> VAEEncodeForInpaint
TEMPLATE_B = load_workflow(ROOT / "tests" / "fixtures" / "api_workflows" / "inpaint_mask_loader.json")
CHECKPOINT = "tiny-sd15-random.safetensors"  # the only one the test server has

H, W = 24, 32
SOURCE = np.dstack([(np.arange(H * W).reshape(H, W) * k) % 251 for k in (3, 5, 7)]).astype(np.uint8)
PAINTED = np.zeros((H, W), np.uint8)
PAINTED[4:9, 6:20] = 255
PAINTED[20, 30] = 255  # a lone pixel, far from the rest
PAINTED_SET = {(int(y), int(x)) for y, x in zip(*np.nonzero(PAINTED))}


@pytest.fixture
def client(comfy_server):
    return ComfyClient(comfy_server.url, timeout=5)


def staged(client, template, image=SOURCE, mask=PAINTED, values=None):
    """As the Inpainting tab does: (the filled prompt, the files the job carries by name, the files)."""
    fields = discover(template)
    shape = inpaint_shape(fields)
    files = make_files(shape, template, image, mask)
    refs, inputs = stage_files(client, shape, files)
    prompt = apply_values(template, {**refs, "checkpoint": CHECKPOINT, **(values or {})}, fields=fields)
    return prompt, {item.ref: item for item in inputs}, files


def opened(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.copy()


def zero_alpha(image: Image.Image) -> set:
    alpha = np.asarray(image.convert("RGBA").getchannel("A"))
    return {(int(y), int(x)) for y, x in zip(*np.nonzero(alpha == 0))}


def test_shapes():
    a = inpaint_shape(discover(TEMPLATE_A))
    assert (a.kind, a.image.node_id, a.mask) == (masks.ALPHA, "10", None)
    b = inpaint_shape(discover(TEMPLATE_B))
    assert (b.kind, b.image.node_id, b.mask.node_id, b.channel(TEMPLATE_B)) == (masks.SEPARATE, "10", "11", "alpha")


@pytest.mark.parametrize("name", ["txt2img.json", "img2img.json"])
def test_templates_without_a_mask_are_refused(name):
    with pytest.raises(WorkflowError):
        inpaint_shape(discover(load_workflow(ROOT / "workflows" / name)))


def test_alpha_template_gets_the_picture_with_the_mask_in_its_alpha(comfy_server, client):
    filled, inputs, _ = staged(client, TEMPLATE_A, values={"prompt": "a cat", "denoise": 0.75})
    assert comfy_server.uploads == []  # staging sends nothing: the cluster uploads where the job runs
    name = filled["10"]["inputs"]["image"]
    assert list(inputs) == [name]
    merged = opened(inputs[name].data)
    assert merged.mode == "RGBA" and merged.size == (W, H)
    assert zero_alpha(merged) == PAINTED_SET  # exactly the painted pixels are transparent
    assert set(np.unique(np.asarray(merged.getchannel("A")))) == {0, 255}
    assert np.array_equal(np.asarray(merged.convert("RGB")), SOURCE)  # the picture is untouched
    assert filled["6"]["inputs"]["text"] == "a cat" and filled["3"]["inputs"]["denoise"] == 0.75
    assert filled["4"]["inputs"]["ckpt_name"] == CHECKPOINT
    assert TEMPLATE_A["10"]["inputs"]["image"] == "example.png"  # the template is not changed


@pytest.mark.parametrize("channel", ["alpha", "red", "green", "blue"])
def test_separate_template_gets_a_mask_file_in_its_channel(client, channel):
    template = json.loads(json.dumps(TEMPLATE_B))
    template["11"]["inputs"]["channel"] = channel
    filled, inputs, _ = staged(client, template)
    assert sorted(inputs) == sorted([filled["10"]["inputs"]["image"], filled["11"]["inputs"]["image"]])
    picture = opened(inputs[filled["10"]["inputs"]["image"]].data)
    assert np.array_equal(np.asarray(picture.convert("RGB")), SOURCE)
    mask = opened(inputs[filled["11"]["inputs"]["image"]].data)
    # read it as ComfyUI's LoadImageMask does: the channel, or 1 - alpha
    band = np.asarray(mask.convert("RGBA").getchannel(channel[0].upper()))
    read = 255 - band if channel == "alpha" else band
    assert {(int(y), int(x)) for y, x in zip(*np.nonzero(read))} == PAINTED_SET
    assert set(np.unique(read)) == {0, 255}
    assert filled["11"]["inputs"]["channel"] == channel


def test_mask_of_another_size_is_scaled_nearest(client):
    small = np.zeros((H // 2, W // 2), np.uint8)
    small[1, 1] = 255
    filled, inputs, _ = staged(client, TEMPLATE_A, mask=small)
    assert zero_alpha(opened(inputs[filled["10"]["inputs"]["image"]].data)) == {(2, 2), (2, 3), (3, 2), (3, 3)}


def test_same_picture_and_mask_get_the_same_files(client):
    first, first_inputs, _ = staged(client, TEMPLATE_A)
    again, again_inputs, _ = staged(client, TEMPLATE_A)
    assert again == first and again_inputs == first_inputs
    other, _, _ = staged(client, TEMPLATE_A, mask=masks.invert(PAINTED))
    assert other["10"]["inputs"]["image"] != first["10"]["inputs"]["image"]


@pytest.mark.parametrize("template", [TEMPLATE_A, TEMPLATE_B], ids=["alpha", "separate"])
def test_the_job_carries_the_bytes_the_preview_was_made_from(client, template):
    filled, inputs, files = staged(client, template)
    carried = [item.data for item in inputs.values()]
    if template is TEMPLATE_A:
        assert carried == [merged_png(files)]
    else:
        assert carried == [files.image_png, files.mask_png]
