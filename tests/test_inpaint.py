"""comfy_ui_app.jobs.inpaint against the test server: what lands in ComfyUI's input folder."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from comfy_ui_app import Comfy, ComfyClient, Finished, WorkflowError, load_workflow
from comfy_ui_app.workflow import masks
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.jobs.inpaint import MaskNotSaved, inpaint_shape, prepare_inpaint

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


def input_file(server, value: str) -> Image.Image:
    with Image.open(Path(server.root) / "input" / value) as im:
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


def test_alpha_template_merges_the_mask_into_the_image(comfy_server, client):
    filled = prepare_inpaint(client, TEMPLATE_A, None, SOURCE, PAINTED,
                             {"checkpoint": CHECKPOINT, "prompt": "a cat", "denoise": 0.75})  # fmt: skip
    routes = [u["route"] for u in comfy_server.uploads]
    assert routes == ["/upload/image", "/upload/mask"]
    picture, mask = comfy_server.uploads
    ref = json.loads(mask["fields"]["original_ref"])
    assert ref == {"filename": picture["filename"], "subfolder": "", "type": "input"}
    assert mask["fields"]["overwrite"] == "true"
    name = filled["10"]["inputs"]["image"]
    assert name == mask["filename"] and name != picture["filename"]
    merged = input_file(comfy_server, name)
    assert merged.mode == "RGBA" and merged.size == (W, H)
    assert zero_alpha(merged) == PAINTED_SET  # exactly the painted pixels are transparent
    assert set(np.unique(np.asarray(merged.getchannel("A")))) == {0, 255}
    assert np.array_equal(np.asarray(merged.convert("RGB")), SOURCE)  # the picture is untouched
    assert filled["6"]["inputs"]["text"] == "a cat" and filled["3"]["inputs"]["denoise"] == 0.75
    assert filled["4"]["inputs"]["ckpt_name"] == CHECKPOINT
    assert TEMPLATE_A["10"]["inputs"]["image"] == "example.png"  # the template is not changed


@pytest.mark.parametrize("channel", ["alpha", "red", "green", "blue"])
def test_separate_template_gets_a_mask_file_in_its_channel(comfy_server, client, channel):
    template = json.loads(json.dumps(TEMPLATE_B))
    template["11"]["inputs"]["channel"] = channel
    filled = prepare_inpaint(client, template, None, SOURCE, PAINTED, {"checkpoint": CHECKPOINT})
    assert [u["route"] for u in comfy_server.uploads] == ["/upload/image", "/upload/image"]
    picture = input_file(comfy_server, filled["10"]["inputs"]["image"])
    assert np.array_equal(np.asarray(picture.convert("RGB")), SOURCE)
    mask = input_file(comfy_server, filled["11"]["inputs"]["image"])
    # read it as ComfyUI's LoadImageMask does: the channel, or 1 - alpha
    rgba = mask.convert("RGBA")
    band = np.asarray(rgba.getchannel(channel[0].upper()))
    read = 255 - band if channel == "alpha" else band
    assert {(int(y), int(x)) for y, x in zip(*np.nonzero(read))} == PAINTED_SET
    assert set(np.unique(read)) == {0, 255}
    assert filled["11"]["inputs"]["channel"] == channel


def test_separate_mask_reads_right_when_the_form_changes_the_channel(comfy_server, client):
    filled = prepare_inpaint(client, TEMPLATE_B, None, SOURCE, PAINTED, {"checkpoint": CHECKPOINT, "11.channel": "red"})
    assert filled["11"]["inputs"]["channel"] == "red"
    red = np.asarray(input_file(comfy_server, filled["11"]["inputs"]["image"]).convert("RGBA").getchannel("R"))
    assert {(int(y), int(x)) for y, x in zip(*np.nonzero(red))} == PAINTED_SET


def test_mask_of_another_size_is_scaled_nearest(comfy_server, client):
    small = np.zeros((H // 2, W // 2), np.uint8)
    small[1, 1] = 255
    filled = prepare_inpaint(client, TEMPLATE_A, None, SOURCE, small, {"checkpoint": CHECKPOINT})
    assert zero_alpha(input_file(comfy_server, filled["10"]["inputs"]["image"])) == {(2, 2), (2, 3), (3, 2), (3, 3)}


def test_same_picture_and_mask_reuse_the_same_files(comfy_server, client):
    first = prepare_inpaint(client, TEMPLATE_A, None, SOURCE, PAINTED, {"checkpoint": CHECKPOINT})
    count = len(list((Path(comfy_server.root) / "input").iterdir()))
    again = prepare_inpaint(client, TEMPLATE_A, None, SOURCE, PAINTED, {"checkpoint": CHECKPOINT})
    assert again == first
    assert len(list((Path(comfy_server.root) / "input").iterdir())) == count
    other = prepare_inpaint(client, TEMPLATE_A, None, SOURCE, masks.invert(PAINTED), {"checkpoint": CHECKPOINT})
    assert other["10"]["inputs"]["image"] != first["10"]["inputs"]["image"]


def test_prepared_files_are_uploaded_byte_for_byte(comfy_server, client):
    fields = discover(TEMPLATE_A)
    files = masks.mask_files(SOURCE, PAINTED, masks.ALPHA)
    prepare_inpaint(client, TEMPLATE_A, fields, None, None, {"checkpoint": CHECKPOINT}, files=files)
    assert [u["bytes"] for u in comfy_server.uploads] == [files.image_png, files.mask_png]


@pytest.mark.parametrize("image,mask,words", [
    (None, PAINTED, "picture"),
    (SOURCE, None, "picture"),
    (SOURCE, np.zeros((H, W), np.uint8), "paint"),
])  # fmt: skip
def test_nothing_to_inpaint_is_refused_before_uploading(comfy_server, client, image, mask, words):
    with pytest.raises(WorkflowError, match=words) as info:
        prepare_inpaint(client, TEMPLATE_A, None, image, mask, {"checkpoint": CHECKPOINT})
    assert info.value.field == "image"
    assert comfy_server.uploads == []


class BrokenRef(ComfyClient):
    """Sends /upload/mask an original_ref the server cannot use (it still answers 200)."""

    def upload_mask(self, data, filename, original_ref, **kw):
        return super().upload_mask(data, filename, {**original_ref, "filename": "missing.png"}, **kw)


class OtherMask(ComfyClient):
    """Sends /upload/mask a different mask than the one prepared."""

    def upload_mask(self, data, filename, original_ref, **kw):
        other = masks.mask_files(SOURCE, np.zeros((H, W), np.uint8)).mask_png
        return super().upload_mask(other, filename, original_ref, **kw)


@pytest.mark.parametrize("cls,reason", [(BrokenRef, "HTTP 404"), (OtherMask, "differs")])
def test_a_merge_the_server_did_not_do_is_an_error(comfy_server, cls, reason):
    client = cls(comfy_server.url, timeout=5)
    with pytest.raises(MaskNotSaved, match=reason):
        prepare_inpaint(client, TEMPLATE_A, None, SOURCE, PAINTED, {"checkpoint": CHECKPOINT})


@pytest.mark.parametrize("template", [TEMPLATE_A, TEMPLATE_B], ids=["alpha", "separate"])
def test_prepared_prompt_runs(comfy_server, template):
    with Comfy(comfy_server.url, timeout=5).start() as comfy:
        filled = prepare_inpaint(comfy.client, template, None, SOURCE, PAINTED,
                                 {"checkpoint": CHECKPOINT, "steps": 2, "seed": 5})  # fmt: skip
        updates = list(comfy.submit(filled).updates(timeout=20))
    done = updates[-1]
    assert isinstance(done, Finished) and done.status == "success", done
    assert done.images
    assert comfy_server.received_prompts[-1]["prompt"] == filled
