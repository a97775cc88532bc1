"""comfy_ui_app.workflow.editor_format.api_to_ui: the editor graph of an API prompt, for the PNG's ``workflow``.

Checked by the round trip: ``ui_to_api(api_to_ui(prompt, info), info)`` gives back the very
prompt, for the bundled templates, the API fixtures and prompts converted from editor saves
(Primitive markers included); and by the shape ComfyUI's editor loads (ids, links, widget order).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from comfy_ui_app import load_workflow
from comfy_ui_app.workflow.editor_format import api_to_ui
from comfy_ui_app.workflow.convert import is_ui_workflow, ui_to_api

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
OBJECT_INFO = json.loads((FIXTURES / "comfyui" / "object_info.json").read_text())
API_PROMPTS = sorted((REPO / "workflows").glob("*.json")) + sorted((FIXTURES / "api_workflows").glob("*.json"))
UI_SAVES = sorted((FIXTURES / "ui_workflows").glob("*.json"))


@pytest.mark.parametrize("path", API_PROMPTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_an_api_prompt_survives_the_round_trip(path):
    prompt = load_workflow(path)
    workflow = json.loads(json.dumps(api_to_ui(prompt, OBJECT_INFO)))  # as the PNG chunk keeps it
    assert is_ui_workflow(workflow) and workflow["version"] == 0.4
    assert ui_to_api(workflow, OBJECT_INFO) == prompt


@pytest.mark.parametrize("path", UI_SAVES, ids=lambda p: p.stem)
def test_a_prompt_from_an_editor_save_survives_the_round_trip(path):
    prompt = ui_to_api(json.loads(path.read_text()), OBJECT_INFO)
    assert ui_to_api(api_to_ui(prompt, OBJECT_INFO), OBJECT_INFO) == prompt


def test_the_graph_has_what_the_editor_draws():
    prompt = load_workflow(REPO / "workflows" / "txt2img.json")
    prompt["3"]["inputs"]["seed"] = 987654321  # the seed the job ran with
    workflow = api_to_ui(prompt, OBJECT_INFO)
    nodes = {n["id"]: n for n in workflow["nodes"]}
    assert set(nodes) == {int(k) for k in prompt} and workflow["last_node_id"] == max(nodes)
    sampler = nodes[3]
    assert sampler["type"] == "KSampler" and sampler["title"] == prompt["3"]["_meta"]["title"]
    # /object_info order, and the "control after generate" value right after the seed
    assert sampler["widgets_values"][:2] == [987654321, "fixed"]
    assert sampler["widgets_values"][2:] == [prompt["3"]["inputs"][k]
                                             for k in ("steps", "cfg", "sampler_name", "scheduler", "denoise")]
    assert [i["name"] for i in sampler["inputs"]] == ["model", "positive", "negative", "latent_image"]
    # every link is listed once, at both of its ends
    assert workflow["last_link_id"] == len(workflow["links"])
    for link_id, source, slot, target, input_slot, kind in workflow["links"]:
        assert link_id in nodes[source]["outputs"][slot]["links"] and nodes[source]["outputs"][slot]["type"] == kind
        assert nodes[target]["inputs"][input_slot]["link"] == link_id
    # left to right: each node stands to the right of the nodes it reads from
    for _, source, _, target, _, _ in workflow["links"]:
        assert nodes[source]["pos"][0] < nodes[target]["pos"][0]


def test_a_linked_widget_is_a_socket_with_a_stand_in_value():
    prompt = load_workflow(REPO / "workflows" / "txt2img.json")
    prompt["20"] = {"class_type": "PrimitiveInt", "inputs": {"value": 5}, "_meta": {"title": "Seed"}}
    prompt["3"]["inputs"]["seed"] = ["20", 0]
    workflow = api_to_ui(prompt, OBJECT_INFO)
    sampler = next(n for n in workflow["nodes"] if n["id"] == 3)
    socket = next(i for i in sampler["inputs"] if i["name"] == "seed")
    assert socket["widget"] == {"name": "seed"} and socket["link"] is not None
    assert isinstance(sampler["widgets_values"][0], int)
    assert ui_to_api(workflow, OBJECT_INFO) == prompt
