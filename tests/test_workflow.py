"""Loading and filling API-format workflow templates (pure functions, no server)."""

import json
import random
from pathlib import Path

import pytest

from comfy_ui_app import SEED_MAX, WorkflowError, apply_values, find_fields, load_workflow, workflow_defaults

TXT2IMG = Path(__file__).parent.parent / "workflows" / "txt2img.json"


@pytest.fixture
def txt2img():
    return load_workflow(TXT2IMG)


def test_bundled_template_fields_follow_the_sampler_links(txt2img):
    assert find_fields(txt2img) == {
        "seed": ("3", "seed"),
        "steps": ("3", "steps"),
        "cfg": ("3", "cfg"),
        "sampler": ("3", "sampler_name"),
        "scheduler": ("3", "scheduler"),
        "prompt": ("6", "text"),
        "negative": ("7", "text"),
        "width": ("5", "width"),
        "height": ("5", "height"),
        "batch_size": ("5", "batch_size"),
        "denoise": ("3", "denoise"),
        "checkpoint": ("4", "ckpt_name"),
        "filename_prefix": ("9", "filename_prefix"),
    }
    assert workflow_defaults(txt2img)["negative"] == "text, watermark"


def test_prompts_are_found_by_links_not_by_node_order(txt2img):
    swapped = json.loads(json.dumps(txt2img))
    swapped["3"]["inputs"]["positive"], swapped["3"]["inputs"]["negative"] = ["7", 0], ["6", 0]
    fields = find_fields(swapped)
    assert fields["prompt"] == ("7", "text") and fields["negative"] == ("6", "text")


def test_prompt_found_through_a_conditioning_chain(txt2img):
    graph = json.loads(json.dumps(txt2img))
    graph["10"] = {"class_type": "ConditioningSetArea", "inputs": {"conditioning": ["6", 0], "width": 64}}
    graph["3"]["inputs"]["positive"] = ["10", 0]
    assert find_fields(graph)["prompt"] == ("6", "text")


def test_apply_values_fills_a_copy_and_leaves_the_template_alone(txt2img):
    before = json.dumps(txt2img, sort_keys=True)
    filled = apply_values(txt2img, {"prompt": "a red fox", "steps": "4", "cfg": 5, "width": 64.0, "seed": 7})
    assert json.dumps(txt2img, sort_keys=True) == before
    assert filled["6"]["inputs"]["text"] == "a red fox"
    assert filled["3"]["inputs"]["steps"] == 4
    assert filled["3"]["inputs"]["cfg"] == 5.0 and isinstance(filled["3"]["inputs"]["cfg"], float)
    assert filled["5"]["inputs"]["width"] == 64
    assert filled["3"]["inputs"]["seed"] == 7


def test_seed_minus_one_is_random_in_comfyuis_range(txt2img):
    seeds = {apply_values(txt2img, {"seed": -1}, rng=random.Random(i))["3"]["inputs"]["seed"] for i in range(5)}
    assert len(seeds) == 5
    assert all(0 <= seed <= SEED_MAX for seed in seeds)


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"colour": "red"}, "colour", "This workflow has no field 'colour'"),
        ({"steps": "many"}, "steps", "steps must be a whole number, not 'many'"),
        ({"steps": 2.5}, "steps", "steps must be a whole number"),
        ({"cfg": "high"}, "cfg", "cfg must be a number"),
        ({"seed": -5}, "seed", "seed must be between 0 and"),
        ({"seed": SEED_MAX + 1}, "seed", "seed must be between 0 and"),
    ],
)
def test_bad_values_name_their_field(txt2img, values, field, message):
    with pytest.raises(WorkflowError) as caught:
        apply_values(txt2img, values)
    assert message in str(caught.value)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not valid JSON (line 1, column 2"),
        ('{"nodes": [], "links": [], "version": 0.4}', "UI-format workflow"),
        ("[]", "empty or is not an API-format graph"),
        ("{}", "empty or is not an API-format graph"),
        ('{"1": {"inputs": {}}}', "Node 1 of the workflow has no class_type"),
        ('{"1": {"class_type": "X", "inputs": [1]}}', "Node 1 of the workflow has malformed inputs"),
    ],
)
def test_bad_templates_give_plain_messages(text, message):
    with pytest.raises(WorkflowError) as caught:
        load_workflow(text)
    assert message in str(caught.value)


def test_a_saved_post_body_and_a_path_both_load(tmp_path, txt2img):
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"prompt": txt2img, "client_id": "x"}))
    assert load_workflow(body) == txt2img
    with pytest.raises(WorkflowError, match="Cannot read the workflow file missing.json"):
        load_workflow(tmp_path / "missing.json")


def test_a_random_seed_stays_within_the_seed_nodes_own_range():
    """A PrimitiveInt seed stops at 2**63-1, below ComfyUI's 2**64-1: -1 must draw within
    the node's range, so the filled prompt always passes the check."""
    from comfy_ui_app.workflow.check import check_prompt
    from comfy_ui_app.workflow.fields import discover

    fixtures = Path(__file__).parent / "fixtures"
    object_info = json.loads((fixtures / "comfyui" / "object_info.json").read_text(encoding="utf-8"))
    prompt = load_workflow(fixtures / "api_workflows" / "title_override.json")
    fields = discover(prompt, object_info)
    (seed,) = [f for f in fields if f.name == "seed"]
    assert seed.maximum == 2**63 - 1
    checkpoint = object_info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0][0]
    for i in range(100):
        filled = apply_values(prompt, {"seed": -1, "checkpoint": checkpoint}, fields=fields, rng=random.Random(i))
        assert 0 <= filled[seed.node_id]["inputs"][seed.input_name] <= 2**63 - 1
        assert check_prompt(filled, object_info, fields) == []
    with pytest.raises(WorkflowError, match=f"seed must be between 0 and {2**63 - 1}"):
        apply_values(prompt, {"seed": 2**63}, fields=fields)
