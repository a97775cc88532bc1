"""A dropped file's graph made into the Custom workflow tab's workflow (comfy_ui_app.ui.from_picture), pure."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from comfy_ui_app.errors import NothingEmbedded, PictureRefused, WorkflowError
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui.from_picture import form_values, open_graph, read_picture
from comfy_ui_app.workflow.embedded import Embedded
from comfy_ui_app.workflow.fields import discover
from test_embedded import png

FIXTURES = Path(__file__).parent / "fixtures"
OBJECT_INFO = json.loads((FIXTURES / "comfyui" / "object_info.json").read_text())
UI = json.loads((FIXTURES / "ui_workflows" / "default_txt2img.json").read_text())
API = json.loads((Path(__file__).parents[1] / "workflows" / "txt2img.json").read_text())
SEED_NODE = next(k for k, n in API.items() if n["class_type"] == "KSampler")


def test_the_api_prompt_is_kept_as_it_ran_with_the_editor_graph():
    prompt = json.loads(json.dumps(API))
    prompt[SEED_NODE]["inputs"]["seed"] = 31337
    loaded = open_graph(Embedded("png", json.dumps(prompt), json.dumps(UI)), "x.png", OBJECT_INFO, None)
    assert loaded["prompt"] == prompt and loaded["workflow"] == UI
    seed = next(f for f in discover(prompt, OBJECT_INFO) if f.role == "seed")
    assert loaded["values"][seed.name] == 31337  # the form starts at the seed that ran, not at -1


def test_an_editor_graph_alone_is_converted():
    loaded = open_graph(Embedded("webp", None, json.dumps(UI)), "x.webp", OBJECT_INFO, None)
    assert {n["class_type"] for n in loaded["prompt"].values()} >= {"KSampler", "SaveImage"}


def test_a_graph_encoded_twice_is_read():
    loaded = open_graph(Embedded("mp4", json.dumps(json.dumps(API))), "x.mp4", OBJECT_INFO, None)
    assert loaded["prompt"] == API


@pytest.mark.parametrize("found, max_nodes, info, expected", [
    (Embedded("png", "{not json"), None, OBJECT_INFO, "The workflow in this picture is not valid JSON."),
    (Embedded("png", '{"3": {"class_type": "KSampler", "inputs": {"cfg": NaN}}}'), None, OBJECT_INFO,
     "The workflow holds NaN, which is not a number ComfyUI can take. Put a finite number in its place."),
    (Embedded("png", json.dumps(API)), 3, OBJECT_INFO,
     f"This workflow has {len(API)} nodes; this app accepts at most 3."),
    (Embedded("png", json.dumps({"1": {"class_type": "FancyNode", "inputs": {}}})), None, OBJECT_INFO,
     "This workflow uses node types that are not installed on this ComfyUI server: FancyNode. Install them (for "
     "example with ComfyUI-Manager) or pick another workflow."),
    (Embedded("png", None, '{"nodes": 5}'), None, OBJECT_INFO,
     "The workflow in this picture is not one ComfyUI can run."),
])
def test_refused_graphs_in_plain_words(found, max_nodes, info, expected):
    with pytest.raises(WorkflowError) as caught:
        open_graph(found, "x.png", info, max_nodes)
    assert describe(caught.value) == expected


def test_read_picture_refusals(tmp_path):
    plain, fake = tmp_path / "plain.png", tmp_path / "fake.png"
    plain.write_bytes(png())
    fake.write_bytes(b"hello")
    with pytest.raises(NothingEmbedded) as nothing:
        read_picture(plain, "plain.png")
    assert describe(nothing.value) == "This picture carries no workflow or generation parameters."
    assert describe(nothing.value, lang="zh-CN") == "这张图片不含工作流，也不含生成参数。"
    with pytest.raises(PictureRefused):
        read_picture(fake, "fake.png")


def test_form_values_keep_only_what_the_server_lists():
    ctx = SimpleNamespace(catalog=SimpleNamespace(object_info_or_none=lambda: OBJECT_INFO))
    fields = discover(API, OBJECT_INFO)
    ckpts = OBJECT_INFO["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]
    params = {"prompt": "p", "steps": 9, "sampler": "no_such_sampler", "scheduler": "karras",
              "checkpoint": Path(ckpts[0]).stem}
    values, lacking = form_values(ctx, API, fields, params)
    by_role = {f.role: f.name for f in fields}
    assert values == {by_role["prompt"]: "p", by_role["steps"]: 9, by_role["scheduler"]: "karras",
                      by_role["checkpoint"]: ckpts[0]}
    assert lacking is None
    assert form_values(ctx, API, fields, {"checkpoint": "nowhere_v1"}) == ({}, "nowhere_v1")
