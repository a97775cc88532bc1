"""comfy_ui_app.workflow.convert: UI-format workflows (editor saves) -> API-format prompts.

The fixtures in tests/fixtures/ui_workflows/ were written by hand in the shape that
ComfyUI's frontend 1.2x saves. The node table is a real ComfyUI 0.3.64 /object_info.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
import requests

from comfy_ui_app import apply_values
from comfy_ui_app.workflow.check import check_prompt
from comfy_ui_app.workflow.convert import ConversionError, is_ui_workflow, ui_to_api
from comfy_ui_app.errors import WorkflowError
from comfy_ui_app.workflow.fields import discover

FIXTURES = Path(__file__).parent / "fixtures"
UI_WORKFLOWS = FIXTURES / "ui_workflows"
OBJECT_INFO = json.loads((FIXTURES / "comfyui" / "object_info.json").read_text())
EXPORT_HINT = "open it in ComfyUI and save it with Workflow > Export (API)"
RESAVE_HINT = "open it in ComfyUI and save it again, or save it with Workflow > Export (API)"


def load(name: str) -> dict:
    return json.loads((UI_WORKFLOWS / f"{name}.json").read_text())


def api(class_type: str, title: str, **inputs) -> dict:
    return {"inputs": inputs, "class_type": class_type, "_meta": {"title": title}}


def encode(text: str, clip=("4", 1)) -> dict:
    return api("CLIPTextEncode", "CLIP Text Encode (Prompt)", text=text, clip=list(clip))


CHECKPOINT = api("CheckpointLoaderSimple", "Load Checkpoint", ckpt_name="v1-5-pruned-emaonly.safetensors")
DECODE = api("VAEDecode", "VAE Decode", samples=["3", 0], vae=["4", 2])
SAMPLER_LINKS = {"model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}


def sampler(title="KSampler", **inputs) -> dict:
    return api("KSampler", title, **{**SAMPLER_LINKS, **inputs})


def folded(node: dict, **primitives) -> dict:
    """``node`` with the marker of each editor Primitive folded into it: input=(primitive id, title or None)."""
    marks = {name: {"id": pid, **({"title": title} if title else {})} for name, (pid, title) in primitives.items()}
    return {**node, "_meta": {**node["_meta"], "primitives": marks}}


EXPECTED = {
    # The editor's default graph. The "randomize" after the seed is skipped.
    "default_txt2img": {
        "3": sampler(seed=156680208700286, steps=20, cfg=8, sampler_name="euler", scheduler="normal", denoise=1),
        "4": CHECKPOINT,
        "5": api("EmptyLatentImage", "Empty Latent Image", width=512, height=512, batch_size=1),
        "6": encode("beautiful scenery nature glass bottle landscape, , purple galaxy bottle,"),
        "7": encode("text, watermark"),
        "8": DECODE,
        "9": api("SaveImage", "Save Image", filename_prefix="ComfyUI", images=["8", 0]),
    },
    # MODEL passes through two chained Reroutes, CLIP through one Reroute that feeds two nodes, VAE through one more.
    "reroute": {
        "3": sampler(seed=8566257, steps=25, cfg=6.5, sampler_name="dpmpp_2m", scheduler="karras", denoise=1),
        "4": CHECKPOINT,
        "5": api("EmptyLatentImage", "Empty Latent Image", width=512, height=768, batch_size=1),
        "6": encode("a lighthouse on a cliff at dusk, oil painting"),
        "7": encode("blurry, lowres"),
        "8": DECODE,
        "9": api("SaveImage", "Final image", filename_prefix="rerouted/lighthouse", images=["8", 0]),
    },
    # A PrimitiveNode holds the seed for both samplers. The hires sampler's own stale
    # seed widget is ignored. A second PrimitiveNode holds the prompt text. Each input a
    # PrimitiveNode fills keeps a marker in _meta (ComfyUI ignores _meta). PrimitiveInt
    # is a real server node, so it stays in the prompt and is linked.
    "primitive_shared_seed": {
        "3": folded(sampler(seed=42, steps=20, cfg=7, sampler_name="euler", scheduler="normal", denoise=1),
                    seed=("12", "seed")),
        "4": CHECKPOINT,
        "5": api("EmptyLatentImage", "Empty Latent Image", width=512, height=512, batch_size=1),
        "6": folded(encode("a red fox in the snow, golden hour"), text=("14", "Prompt")),
        "7": encode("watermark, text"),
        "8": api("VAEDecode", "VAE Decode", samples=["11", 0], vae=["4", 2]),
        "9": api("SaveImage", "Save Image", filename_prefix="hires", images=["8", 0]),
        "10": api("LatentUpscaleBy", "Upscale Latent By", upscale_method="nearest-exact", scale_by=1.5,
                  samples=["3", 0]),
        "11": folded(sampler("Hires pass", seed=42, steps=["13", 0], cfg=7, sampler_name="euler", scheduler="normal",
                             denoise=0.5, latent_image=["10", 0]), seed=("12", "seed")),
        "13": api("PrimitiveInt", "Hires steps", value=12),
    },
    # Two LoraLoaders are bypassed (mode 4), so MODEL and CLIP come straight from the
    # checkpoint. An ImageScale -> SaveImage branch is muted (mode 2) and left out.
    "muted_and_bypassed": {
        "3": sampler(seed=1234, steps=30, cfg=5.5, sampler_name="euler_ancestral", scheduler="karras", denoise=1),
        "4": CHECKPOINT,
        "5": api("EmptyLatentImage", "Empty Latent Image", width=512, height=640, batch_size=2),
        "6": encode("portrait of an old sailor, 35mm photo"),
        "7": encode("cartoon, deformed"),
        "8": DECODE,
        "9": api("SaveImage", "Save Image", filename_prefix="ComfyUI", images=["8", 0]),
    },
    # Note and MarkdownNote are dropped. The upload buttons' "image" values are skipped
    # for LoadImage and for LoadImageMask, where the button comes after `channel`.
    "inpaint_notes_loadimage": {
        "3": sampler(seed=987654321, steps=24, cfg=7.5, sampler_name="dpmpp_2m", scheduler="karras",
                     denoise=0.75, latent_image=["12", 0]),
        "4": api("CheckpointLoaderSimple", "Load Checkpoint", ckpt_name="512-inpainting-ema.safetensors"),
        "6": encode("a vase of sunflowers on the table"),
        "7": encode(""),
        "8": DECODE,
        "9": api("SaveImage", "Save Image", filename_prefix="inpaint/%date:yyyy-MM-dd%", images=["8", 0]),
        "10": api("LoadImage", "Load Image", image="example.png"),
        "11": api("VAEEncode", "VAE Encode", pixels=["10", 0], vae=["4", 2]),
        "12": api("SetLatentNoiseMask", "Set Latent Noise Mask", samples=["11", 0], mask=["13", 0]),
        "13": api("LoadImageMask", "Mask", image="example.png", channel="alpha"),
    },
}


def test_every_fixture_has_an_expectation():
    assert sorted(p.stem for p in UI_WORKFLOWS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_converts_to_expected_prompt(name):
    workflow = load(name)
    before = copy.deepcopy(workflow)
    assert ui_to_api(workflow, OBJECT_INFO) == EXPECTED[name]
    assert workflow == before, "the converter must not modify its input"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_is_a_consistent_editor_save(name):
    """Guards the hand-written fixtures: both ends of every link agree, as in a real save."""
    assert_consistent(load(name))


def assert_consistent(workflow: dict) -> None:
    assert is_ui_workflow(workflow) and workflow["version"] == 0.4
    nodes = {n["id"]: n for n in workflow["nodes"]}
    assert workflow["last_node_id"] == max(nodes)
    assert workflow["last_link_id"] == max(link[0] for link in workflow["links"])
    for link_id, src, src_slot, dst, dst_slot, link_type in workflow["links"]:
        assert nodes[dst]["inputs"][dst_slot]["link"] == link_id
        assert link_id in nodes[src]["outputs"][src_slot]["links"]
        assert nodes[src]["outputs"][src_slot]["type"] == link_type
    linked_inputs = [s["link"] for n in nodes.values() for s in n["inputs"] if s["link"] is not None]
    assert sorted(linked_inputs) == sorted(link[0] for link in workflow["links"])


# ---------------------------------------------------------------- is_ui_workflow

@pytest.mark.parametrize("data, expected", [
    ({"nodes": [], "links": []}, True),
    ({"nodes": [], "links": None}, True),
    (EXPECTED["default_txt2img"], False),  # API format
    ({"nodes": {}, "links": []}, False),
    ({"nodes": []}, False),
    ([], False),
    ("{}", False),
    (None, False),
])
def test_is_ui_workflow(data, expected):
    assert is_ui_workflow(data) is expected


# ---------------------------------------------------------------- smaller graphs, built inline

def ui_node(node_id, node_type, widgets=None, inputs=(), mode=0, **extra):
    node = {"id": node_id, "type": node_type, "pos": [0, 0], "size": [200, 100], "flags": {}, "order": 0,
            "mode": mode, "inputs": [{"name": n, "type": t, "link": link} for n, t, link in inputs],
            "outputs": [], "properties": {}, **extra}
    if widgets is not None:
        node["widgets_values"] = widgets
    return node


def ui_graph(*nodes, links=()):
    return {"last_node_id": 99, "last_link_id": 99, "nodes": list(nodes), "links": [list(x) for x in links],
            "groups": [], "config": {}, "extra": {}, "version": 0.4}


def with_nodes(**extra) -> dict:
    """The real node table plus some made-up node classes."""
    return {**OBJECT_INFO, **extra}


def test_widgets_values_as_a_dict_are_read_by_name():
    node = ui_node(1, "EmptyLatentImage", {"batch_size": 4, "width": 768, "height": 512, "extra": 0})
    assert ui_to_api(ui_graph(node), OBJECT_INFO)["1"]["inputs"] == {"width": 768, "height": 512,
                                                                     "batch_size": 4}


def test_newer_combo_spec_is_a_widget():
    assert OBJECT_INFO["LatentBatchSeedBehavior"]["input"]["required"]["seed_behavior"][0] == "COMBO"
    node = ui_node(1, "LatentBatchSeedBehavior", ["random"], inputs=[("samples", "LATENT", None)])
    assert ui_to_api(ui_graph(node), OBJECT_INFO)["1"]["inputs"] == {"seed_behavior": "random"}


def test_control_value_follows_noise_seed_of_ksampler_advanced():
    widgets = ["enable", 7, "decrement", 20, 8, "euler", "normal", 0, 10000, "disable"]
    node = ui_node(1, "KSamplerAdvanced", widgets)
    assert ui_to_api(ui_graph(node), OBJECT_INFO)["1"]["inputs"] == {
        "add_noise": "enable", "noise_seed": 7, "steps": 20, "cfg": 8, "sampler_name": "euler",
        "scheduler": "normal", "start_at_step": 0, "end_at_step": 10000, "return_with_leftover_noise": "disable"}


def test_int_named_seed_gets_a_control_value_unless_the_option_says_false():
    table = with_nodes(
        Legacy={"input": {"required": {"seed": ["INT", {}], "steps": ["INT", {}]}}, "display_name": "Legacy"},
        NoControl={"input": {"required": {"seed": ["INT", {"control_after_generate": False}],
                                          "steps": ["INT", {}]}}, "display_name": "No control"},
        ComboControl={"input": {"required": {"pick": [["a", "b"], {"control_after_generate": True}],
                                             "steps": ["INT", {}]}}, "display_name": "Combo control"})
    prompt = ui_to_api(ui_graph(ui_node(1, "Legacy", [5, "fixed", 10]), ui_node(2, "NoControl", [5, 10]),
                                ui_node(3, "ComboControl", ["b", "fixed", 10])), table)
    assert prompt["1"]["inputs"] == {"seed": 5, "steps": 10}
    assert prompt["2"]["inputs"] == {"seed": 5, "steps": 10}
    assert prompt["3"]["inputs"] == {"pick": "b", "steps": 10}


def test_force_input_has_no_widget_value_but_old_saves_kept_one():
    table = with_nodes(Forced={"input": {"required": {"text": ["STRING", {"forceInput": True}],
                                                      "count": ["INT", {}]},
                                         "optional": {"flag": ["BOOLEAN", {}]}},
                               "display_name": "Forced"})
    new = ui_to_api(ui_graph(ui_node(1, "Forced", [3, True])), table)
    old = ui_to_api(ui_graph(ui_node(1, "Forced", ["", 3, True])), table)  # frontend < 1.16
    assert new["1"]["inputs"] == old["1"]["inputs"] == {"count": 3, "flag": True}


def test_links_saved_as_objects_are_followed():
    workflow = load("default_txt2img")
    workflow["links"] = [dict(zip(("id", "origin_id", "origin_slot", "target_id", "target_slot", "type"), link))
                         for link in workflow["links"]]
    assert ui_to_api(workflow, OBJECT_INFO) == EXPECTED["default_txt2img"]


def test_consumer_of_a_muted_node_loses_that_input():
    workflow = load("muted_and_bypassed")
    save_upscaled = next(n for n in workflow["nodes"] if n["id"] == 13)
    save_upscaled["mode"] = 0  # un-mute the SaveImage; its ImageScale source stays muted
    prompt = ui_to_api(workflow, OBJECT_INFO)
    assert prompt["13"] == api("SaveImage", "Save upscaled", filename_prefix="upscaled")
    assert "12" not in prompt


def test_bypassed_node_without_an_input_of_that_type_leaves_the_consumer_unlinked():
    workflow = ui_graph(
        ui_node(1, "EmptyLatentImage", [64, 64, 1]),
        ui_node(2, "VAEDecode", [], inputs=[("samples", "LATENT", 1), ("vae", "VAE", None)], mode=4),
        ui_node(3, "SaveImage", ["out"], inputs=[("images", "IMAGE", 2)]),
        links=[(1, 1, 0, 2, 0, "LATENT"), (2, 2, 0, 3, 0, "IMAGE")])
    assert ui_to_api(workflow, OBJECT_INFO)["3"]["inputs"] == {"filename_prefix": "out"}


def test_bypass_prefers_the_input_at_the_same_position():
    workflow = ui_graph(
        ui_node(1, "CLIPTextEncode", ["a"]), ui_node(2, "CLIPTextEncode", ["b"]),
        ui_node(3, "ConditioningCombine", [], mode=4, inputs=[("conditioning_1", "CONDITIONING", 1),
                                                             ("conditioning_2", "CONDITIONING", 2)]),
        ui_node(4, "ConditioningZeroOut", [], inputs=[("conditioning", "CONDITIONING", 3)]),
        links=[(1, 1, 0, 3, 0, "CONDITIONING"), (2, 2, 0, 3, 1, "CONDITIONING"), (3, 3, 0, 4, 0, "CONDITIONING")])
    assert ui_to_api(workflow, OBJECT_INFO)["4"]["inputs"] == {"conditioning": ["1", 0]}


def test_bypassed_node_fed_by_a_primitive_passes_the_value_on():
    table = with_nodes(IntPass={"input": {"required": {"value": ["INT", {}]}}, "output": ["INT"],
                                "display_name": "Int pass"})
    workflow = ui_graph(
        ui_node(1, "PrimitiveNode", [99, "fixed"]),
        ui_node(2, "IntPass", [0], mode=4, inputs=[("value", "INT", 1)]),
        ui_node(3, "EmptyLatentImage", [64, 64, 1], inputs=[("batch_size", "INT", 2)]),
        links=[(1, 1, 0, 2, 0, "INT"), (2, 2, 0, 3, 0, "INT")])
    prompt = ui_to_api(workflow, table)
    assert prompt == {"3": folded(api("EmptyLatentImage", "Empty Latent Image", width=64, height=64, batch_size=99),
                                  batch_size=("1", None))}


def test_primitive_cousins_fold_only_when_the_server_lacks_them():
    workflow = ui_graph(ui_node(1, "PrimitiveInt", [3, "fixed"]),
                        ui_node(2, "EmptyLatentImage", [64, 64, 1], inputs=[("batch_size", "INT", 1)]),
                        links=[(1, 1, 0, 2, 0, "INT")])
    old_server = {k: v for k, v in OBJECT_INFO.items() if not k.startswith("Primitive")}
    assert ui_to_api(workflow, old_server)["2"]["inputs"]["batch_size"] == 3
    assert ui_to_api(workflow, OBJECT_INFO)["2"]["inputs"]["batch_size"] == ["1", 0]


def test_links_that_lead_nowhere_leave_the_input_out():
    workflow = ui_graph(
        ui_node(1, "Reroute", None, inputs=[("", "*", None)]),  # Reroute with nothing plugged in
        ui_node(2, "PrimitiveNode", []),  # never got a value
        ui_node(3, "EmptyLatentImage", [64, 64, 1], inputs=[("width", "INT", 2), ("batch_size", "INT", 77)]),
        ui_node(4, "SaveImage", ["x"], inputs=[("images", "IMAGE", 1)]),
        links=[(1, 1, 0, 4, 0, "IMAGE"), (2, 2, 0, 3, 0, "INT")])  # link 77 is missing
    assert ui_to_api(workflow, OBJECT_INFO) == {
        "3": api("EmptyLatentImage", "Empty Latent Image", height=64),
        "4": api("SaveImage", "Save Image", filename_prefix="x")}


KSAMPLER_INPUTS = {"seed": 42, "steps": 20, "cfg": 7, "sampler_name": "euler", "scheduler": "normal", "denoise": 1}

# Widget values that line up with the node's inputs in one of the layouts the editor saves.
ALIGNED = [
    ("VAEDecode", None, {}),  # no widgets, nothing saved
    ("KSampler", [42, "fixed", 20, 7, "euler", "normal", 1], KSAMPLER_INPUTS),
    # a save without the seed's "control after generate" value
    ("KSampler", [42, 20, 7, "euler", "normal", 1], KSAMPLER_INPUTS),
    ("KSamplerAdvanced", ["enable", 7, 20, 8, "euler", "normal", 0, 10000, "disable"],
     {"add_noise": "enable", "noise_seed": 7, "steps": 20, "cfg": 8, "sampler_name": "euler", "scheduler": "normal",
      "start_at_step": 0, "end_at_step": 10000, "return_with_leftover_noise": "disable"}),
    # saved before the node had its optional "device" input: read as far as it goes, the rest from the
    # node's defaults, as the editor does (issue 14: this used to leave "device" out)
    ("CLIPLoader", ["clip_l.safetensors", "stable_diffusion"],
     {"clip_name": "clip_l.safetensors", "type": "stable_diffusion", "device": "default"}),
    ("CLIPLoader", ["clip_l.safetensors", "sd3", "cpu"], {"clip_name": "clip_l.safetensors", "type": "sd3", "device": "cpu"}),
    # a file name the server lacks is for the check to report, not a misaligned value
    ("CheckpointLoaderSimple", ["missing.safetensors"], {"ckpt_name": "missing.safetensors"}),
    ("LoadImage", ["photo.png", "image"], {"image": "photo.png"}),
    # issue 14, what the editor does (these were refused before):
    # extra stored values are ignored (an upload widget's, a preview's, a text the node showed)
    ("LoadImage", ["photo.png", "image", ""], {"image": "photo.png"}),
    ("EmptyLatentImage", [512, 512, 1, 4], {"width": 512, "height": 512, "batch_size": 1}),
    # missing trailing values come from the node's defaults
    ("EmptyLatentImage", [640], {"width": 640, "height": 512, "batch_size": 1}),
    ("KSampler", [42, 20, 7, "euler", "normal"], KSAMPLER_INPUTS),
    # any value in a control slot: old saves hold true/false there
    ("KSampler", [42, True, 20, 7, "euler", "normal", 1], KSAMPLER_INPUTS),
    ("KSampler", [42, None, 20, 7, "euler", "normal", 1], KSAMPLER_INPUTS),
    # the node lost a seed's control widget and gained an input in the middle: lined up by type
    ("KSampler", [42, "randomize", 20, "euler", "normal", 1], {**KSAMPLER_INPUTS, "cfg": 8.0}),
    # ... and a value that fits no widget left (here a number out of every range): left out
    ("KSampler", [42, "fixed", 20, 7, -5, "euler", "normal", 1], KSAMPLER_INPUTS),
]  # fmt: skip


@pytest.mark.parametrize("node_type, widgets, inputs", ALIGNED)
def test_widget_values_in_each_saved_layout(node_type, widgets, inputs):
    assert ui_to_api(ui_graph(ui_node(1, node_type, widgets)), OBJECT_INFO)["1"]["inputs"] == inputs


def test_muted_or_bypassed_nodes_of_unknown_type_are_fine():
    workflow = ui_graph(ui_node(1, "FooNode", [1], mode=2), ui_node(2, "BarNode", [], mode=4))
    assert ui_to_api(workflow, OBJECT_INFO) == {}


# ---------------------------------------------------------------- error messages

SUBGRAPH_ID = "a1b2c3d4-0000-4000-8000-000000000001"
ERROR_CASES = {
    "unknown node": (
        ui_graph(ui_node(12, "FooNode", [1])),
        "Node 12 'FooNode' is not installed on this ComfyUI server: install the custom node or export "
        "the workflow with Workflow > Export (API)"),
    "newer group node": (
        ui_graph(ui_node(22, "workflow/Hires", [])),
        f"Node 22 'workflow/Hires' is a group node, which this app cannot unpack: {EXPORT_HINT}"),
    "api format given": (
        EXPECTED["default_txt2img"],
        "This is not a workflow saved from the ComfyUI editor (it has no 'nodes' and 'links'): "
        "if it is already in API format, load it as it is"),
    "damaged node": (
        ui_graph({"id": 3, "pos": [0, 0]}),
        f"The workflow has a damaged node entry ({{'id': 3, 'pos': [0, 0]}}): {EXPORT_HINT}"),
    "damaged widgets": (
        ui_graph(ui_node(5, "EmptyLatentImage", "512")),
        f"Node 5 'EmptyLatentImage' has damaged widget values: {EXPORT_HINT}"),
    "values that fit no input": (
        ui_graph(ui_node(5, "EmptyLatentImage", ["wide", "tall", "many"], title="Empty Latent Image")),
        "Node 5 'EmptyLatentImage' has widget values that do not line up with its inputs (width is 'wide', "
        f"which is not a whole number): {RESAVE_HINT}"),
    "too many values out of place": (
        ui_graph(ui_node(3, "KSampler", [42, "fixed", "euler", "normal", 7, 20, 30, 1], title="Base")),
        "Node 3 'KSampler' ('Base') has widget values that do not line up with its inputs (steps is 'euler', "
        f"which is not a whole number): {RESAVE_HINT}"),
    "reroute loop": (
        ui_graph(ui_node(1, "Reroute", None, inputs=[("", "*", 2)]), ui_node(2, "Reroute", None, inputs=[("", "*", 1)]),
                 ui_node(3, "SaveImage", ["x"], inputs=[("images", "IMAGE", 3)]),
                 links=[(1, 1, 0, 2, 0, "IMAGE"), (2, 2, 0, 1, 0, "IMAGE"), (3, 2, 0, 3, 0, "IMAGE")]),
        "Node 2 is part of a loop of Reroute or bypassed nodes: remove the loop in ComfyUI and save "
        "the workflow again"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_error_messages(case):
    workflow, message = ERROR_CASES[case]
    with pytest.raises(ConversionError) as caught:
        ui_to_api(workflow, OBJECT_INFO)
    assert str(caught.value) == message
    assert isinstance(caught.value, WorkflowError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("object_info", [{}, None, []])
def test_error_message_for_empty_node_table(object_info):
    with pytest.raises(ConversionError, match=r"^The server's node list \(/object_info\) is empty: check "
                                              r"that ComfyUI started properly, then try again$"):
        ui_to_api(load("default_txt2img"), object_info)


# ---------------------------------------------------------------- end to end against the test server

def tiny_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (64, 64), (200, 120, 40, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_converted_prompt_is_accepted_by_comfyui(name, comfy_server):
    assert_accepted(ui_to_api(load(name), OBJECT_INFO), comfy_server)


def with_primitive(workflow: dict, title: str, value, *targets) -> dict:
    """``workflow`` plus a PrimitiveNode feeding the widget sockets ``targets`` ((node id, input name) …)."""
    nodes, primitive_id, links = {n["id"]: n for n in workflow["nodes"]}, workflow["last_node_id"] + 1, []
    for target_id, input_name in targets:
        index, slot = next((i, s) for i, s in enumerate(nodes[target_id]["inputs"]) if s["name"] == input_name)
        workflow["last_link_id"] += 1
        slot["link"] = workflow["last_link_id"]
        workflow["links"].append([slot["link"], primitive_id, 0, target_id, index, slot["type"]])
        links.append(slot["link"])
    workflow["nodes"].append(ui_node(primitive_id, "PrimitiveNode", [value], title=title, outputs=[
        {"name": slot["type"], "type": slot["type"], "links": links, "widget": {"name": targets[0][1]}}]))
    workflow["last_node_id"] = primitive_id
    return workflow


def _shared_sampler(title):
    return with_primitive(load("primitive_shared_seed"), title, "dpmpp_2m", (3, "sampler_name"), (11, "sampler_name"))


# One editor Primitive feeding two samplers: (workflow, field, value, inputs it fills, label)
SHARED = [
    (lambda: load("primitive_shared_seed"), "seed", 5, [("3", "seed"), ("11", "seed")], "Seed"),
    (lambda: _shared_sampler("Sampler"), "sampler", "uni_pc", [("3", "sampler_name"), ("11", "sampler_name")], "Sampler"),
    (lambda: _shared_sampler("Sampler, both passes"), "sampler", "uni_pc",
     [("3", "sampler_name"), ("11", "sampler_name")], "Sampler, both passes"),
]  # fmt: skip


@pytest.mark.parametrize("make, name, value, targets, label", SHARED)
def test_one_primitive_feeding_two_samplers_is_one_field(make, name, value, targets, label, comfy_server):
    workflow = make()
    assert_consistent(workflow)
    prompt = ui_to_api(workflow, OBJECT_INFO)
    fields = discover(prompt, OBJECT_INFO)
    field = next(f for f in fields if f.name == name)
    assert [(field.node_id, field.input_name), *field.also] == targets and field.label == label
    assert f"{name}_2" not in {f.name for f in fields}
    filled = apply_values(prompt, {name: value, "checkpoint": "tiny-sd15-random.safetensors"}, fields=fields)
    assert [filled[n]["inputs"][i] for n, i in targets] == [value] * len(targets)
    assert check_prompt(filled, OBJECT_INFO, fields) == []
    assert_accepted(filled, comfy_server)


def assert_accepted(prompt: dict, comfy_server) -> None:
    """POST ``prompt`` to the test server (with its checkpoint and an uploaded picture): no node errors."""
    upload = requests.post(f"{comfy_server.url}/upload/image",
                           files={"image": ("convert-test.png", tiny_png(), "image/png")}, timeout=10)
    assert upload.status_code == 200, upload.text
    image_name = upload.json()["name"]
    for node in prompt.values():
        if "ckpt_name" in node["inputs"]:
            node["inputs"]["ckpt_name"] = "tiny-sd15-random.safetensors"
        if node["class_type"] in ("LoadImage", "LoadImageMask"):
            node["inputs"]["image"] = image_name

    response = requests.post(f"{comfy_server.url}/prompt", json={"prompt": prompt, "client_id": "t"}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["node_errors"] == {}


# ---------------------------------------------------------------- subgraphs (issue 14 point 1)

def subgraph(sub_id, name, inputs, outputs, nodes, links):
    """A ``definitions.subgraphs`` entry: ``inputs``/``outputs`` are ``(name, type)``; links are dicts."""
    keys = ("id", "origin_id", "origin_slot", "target_id", "target_slot", "type")
    return {"id": sub_id, "name": name, "nodes": list(nodes), "links": [dict(zip(keys, x)) for x in links],
            "inputs": [{"id": f"in-{n}", "name": n, "type": t} for n, t in inputs],
            "outputs": [{"id": f"out-{n}", "name": n, "type": t} for n, t in outputs]}


DECODE_ID, LATENT_ID, OUTER_ID = "0000-decode", "0000-latent", "0000-outer"
# "Decode": samples and vae in, VAEDecode inside, IMAGE out
DECODE = subgraph(DECODE_ID, "Decode", [("samples", "LATENT"), ("vae", "VAE")], [("IMAGE", "IMAGE")],
                  [ui_node(1, "VAEDecode", [], inputs=[("samples", "LATENT", 1), ("vae", "VAE", 2)])],
                  [(1, -10, 0, 1, 0, "LATENT"), (2, -10, 1, 1, 1, "VAE"), (3, 1, 0, -20, 0, "IMAGE")])
# "Latent": its width feeds a widget inside, so the subgraph node shows it (widgets_values)
LATENT = subgraph(LATENT_ID, "Latent", [("width", "INT")], [("LATENT", "LATENT")],
                  [{**ui_node(1, "EmptyLatentImage", [512, 512, 1], inputs=[("width", "INT", 1)]),
                    "inputs": [{"name": "width", "type": "INT", "link": 1, "widget": {"name": "width"}}]}],
                  [(1, -10, 0, 1, 0, "INT"), (2, 1, 0, -20, 0, "LATENT")])
# "Outer": uses "Decode" inside (nested)
OUTER = subgraph(OUTER_ID, "Outer", [("samples", "LATENT"), ("vae", "VAE")], [("IMAGE", "IMAGE")],
                 [ui_node(5, DECODE_ID, None, inputs=[("samples", "LATENT", 1), ("vae", "VAE", 2)])],
                 [(1, -10, 0, 5, 0, "LATENT"), (2, -10, 1, 5, 1, "VAE"), (3, 5, 0, -20, 0, "IMAGE")])


def with_subgraphs(workflow, *definitions):
    return {**workflow, "definitions": {"subgraphs": list(definitions)}}


def decode_graph(kind, mode=0, latent_widgets=(768,)):
    """EmptyLatentImage (or the "Latent" subgraph) -> ``kind`` (a subgraph node) -> SaveImage."""
    return with_subgraphs(ui_graph(
        ui_node(2, LATENT_ID, list(latent_widgets)), ui_node(3, "VAELoader", ["pixel_space"]),
        ui_node(10, kind, None, inputs=[("samples", "LATENT", 1), ("vae", "VAE", 2)], mode=mode),
        ui_node(4, "SaveImage", ["x"], inputs=[("images", "IMAGE", 3)]),
        links=[(1, 2, 0, 10, 0, "LATENT"), (2, 3, 0, 10, 1, "VAE"), (3, 10, 0, 4, 0, "IMAGE")]),
        DECODE, LATENT, OUTER)


LATENT_768 = {"inputs": {"width": 768, "height": 512, "batch_size": 1}, "class_type": "EmptyLatentImage",
              "_meta": {"title": "Empty Latent Image", "primitives": {"width": {"id": "2:in0", "title": "width"}}}}
SUBGRAPH_CASES = {
    # the inner node takes the outer links; the link out starts at the inner node; the subgraph node's
    # widget value reaches the inner widget as one field titled like the subgraph's input
    "subgraph": (decode_graph(DECODE_ID), {
        "2:1": LATENT_768, "3": api("VAELoader", "Load VAE", vae_name="pixel_space"),
        "10:1": api("VAEDecode", "VAE Decode", samples=["2:1", 0], vae=["3", 0]),
        "4": api("SaveImage", "Save Image", filename_prefix="x", images=["10:1", 0])}),
    "nested subgraph": (decode_graph(OUTER_ID), {
        "2:1": LATENT_768, "3": api("VAELoader", "Load VAE", vae_name="pixel_space"),
        "10:5:1": api("VAEDecode", "VAE Decode", samples=["2:1", 0], vae=["3", 0]),
        "4": api("SaveImage", "Save Image", filename_prefix="x", images=["10:5:1", 0])}),
    # a subgraph node without its widget value: the inner node's own
    "no widget value": (decode_graph(DECODE_ID, latent_widgets=()), {
        "2:1": api("EmptyLatentImage", "Empty Latent Image", width=512, height=512, batch_size=1),
        "3": api("VAELoader", "Load VAE", vae_name="pixel_space"),
        "10:1": api("VAEDecode", "VAE Decode", samples=["2:1", 0], vae=["3", 0]),
        "4": api("SaveImage", "Save Image", filename_prefix="x", images=["10:1", 0])}),
    # muted: left out, what it fed left without it (as any muted node)
    "muted subgraph": (decode_graph(DECODE_ID, mode=2), {
        "2:1": LATENT_768, "3": api("VAELoader", "Load VAE", vae_name="pixel_space"),
        "4": api("SaveImage", "Save Image", filename_prefix="x")}),
}


@pytest.mark.parametrize("case", sorted(SUBGRAPH_CASES))
def test_subgraphs_are_unpacked(case):
    workflow, expected = SUBGRAPH_CASES[case]
    assert ui_to_api(workflow, OBJECT_INFO) == expected


def test_a_bypassed_subgraph_passes_its_input_on():
    workflow = with_subgraphs(ui_graph(
        ui_node(2, "LoadImage", ["a.png", "image"]),
        ui_node(10, DECODE_ID, None, inputs=[("samples", "IMAGE", 1)], mode=4),
        ui_node(4, "SaveImage", ["x"], inputs=[("images", "IMAGE", 2)]),
        links=[(1, 2, 0, 10, 0, "IMAGE"), (2, 10, 0, 4, 0, "IMAGE")]), DECODE)
    assert ui_to_api(workflow, OBJECT_INFO)["4"]["inputs"]["images"] == ["2", 0]


def test_a_subgraph_that_uses_itself_is_refused():
    loop = subgraph("0000-loop", "Loop", [], [], [ui_node(1, "0000-loop", None)], [])
    workflow = with_subgraphs(ui_graph(ui_node(7, "0000-loop", None)), loop)
    with pytest.raises(ConversionError) as caught:
        ui_to_api(workflow, OBJECT_INFO)
    assert str(caught.value) == f"The subgraph 'Loop' is nested more than 16 deep or uses itself: {EXPORT_HINT}"


def test_the_converted_subgraph_prompt_passes_the_check():
    assert check_prompt(ui_to_api(decode_graph(OUTER_ID), OBJECT_INFO), OBJECT_INFO) == []


# ---------------------------------------------------------------- group nodes (issue 14 point 1)

def group(*nodes, links=(), external=()):
    """An ``extra.groupNodes`` entry: inner nodes by position, links ``[from, slot, to, slot, from id, type]``."""
    return {"nodes": list(nodes), "links": [list(x) for x in links], "external": [list(x) for x in external]}


DECODE_SAVE = group(ui_node(7, "VAEDecode", [], inputs=[("samples", "LATENT", 5), ("vae", "VAE", 6)]),
                    ui_node(8, "SaveImage", ["inner"], inputs=[("images", "IMAGE", 9)]),
                    links=[(0, 0, 1, 0, 7, "IMAGE")])
TWO_TEXTS = group(ui_node(1, "CLIPTextEncode", ["a cat"], inputs=[("clip", "CLIP", 1)]),
                  ui_node(2, "CLIPTextEncode", ["a dog"], inputs=[("clip", "CLIP", 2)]))


def test_a_group_node_is_unpacked():
    workflow = {**ui_graph(
        ui_node(2, "EmptyLatentImage", [64, 64, 1]), ui_node(3, "VAELoader", ["pixel_space"]),
        ui_node(10, "workflow>Decode and save", ["grouped"], inputs=[("samples", "LATENT", 1), ("vae", "VAE", 2)]),
        links=[(1, 2, 0, 10, 0, "LATENT"), (2, 3, 0, 10, 1, "VAE")]), "extra": {"groupNodes": {"Decode and save": DECODE_SAVE}}}
    prompt = ui_to_api(workflow, OBJECT_INFO)
    assert prompt["10:0"] == api("VAEDecode", "VAE Decode", samples=["2", 0], vae=["3", 0])
    assert prompt["10:1"] == api("SaveImage", "Save Image", filename_prefix="grouped", images=["10:0", 0])
    assert check_prompt(prompt, OBJECT_INFO) == []


def test_an_older_group_node_feeds_the_nodes_outside():
    workflow = {**ui_graph(
        ui_node(20, "workflow/Latent", [768, 640, 2]),
        ui_node(4, "VAEDecode", [], inputs=[("samples", "LATENT", 1), ("vae", "VAE", None)]),
        links=[(1, 20, 0, 4, 0, "LATENT")]),
        "extra": {"groupNodes": {"Latent": group(ui_node(1, "EmptyLatentImage", [512, 512, 1]))}}}
    prompt = ui_to_api(workflow, OBJECT_INFO)
    assert prompt["20:0"]["inputs"] == {"width": 768, "height": 640, "batch_size": 2}
    assert prompt["4"]["inputs"] == {"samples": ["20:0", 0]}


def test_a_group_nodes_inputs_of_the_same_name_are_told_apart():
    workflow = {**ui_graph(
        ui_node(3, "CheckpointLoaderSimple", ["a.safetensors"]), ui_node(4, "CLIPLoader", ["b.safetensors", "sd3"]),
        ui_node(30, "workflow>Texts", ["a cat", "a dog"], inputs=[("CLIPTextEncode clip", "CLIP", 2), ("clip", "CLIP", 1)]),
        links=[(1, 3, 1, 30, 1, "CLIP"), (2, 4, 0, 30, 0, "CLIP")]), "extra": {"groupNodes": {"Texts": TWO_TEXTS}}}
    prompt = ui_to_api(workflow, OBJECT_INFO)
    assert prompt["30:0"]["inputs"] == {"text": "a cat", "clip": ["3", 1]}
    assert prompt["30:1"]["inputs"] == {"text": "a dog", "clip": ["4", 0]}


def test_subgraphs_that_multiply_are_refused_before_they_are_unpacked():
    """Ten levels, each using the one below ten times, would be 10**10 nodes: refused from the count alone."""
    levels = [subgraph("0000-l0", "Level 0", [], [], [ui_node(1, "EmptyLatentImage", [64, 64, 1])], [])]
    for depth in range(1, 10):
        levels.append(subgraph(f"0000-l{depth}", f"Level {depth}", [], [],
                               [ui_node(i, f"0000-l{depth - 1}", None) for i in range(10)], []))
    workflow = with_subgraphs(ui_graph(ui_node(1, "0000-l9", None)), *levels)
    with pytest.raises(ConversionError) as caught:
        ui_to_api(workflow, OBJECT_INFO)
    assert str(caught.value) == f"The subgraph 'Level 9' and those inside it make more than 100,000 nodes: {EXPORT_HINT}"
