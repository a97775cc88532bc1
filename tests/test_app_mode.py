"""ComfyUI's App mode (``extra.linearData``) as this app's form: workflow/app_mode.py.

Small editor saves written by hand in the shape ComfyUI_frontend writes them (its App
builder: ``[widget id | node id | node locator, widget name, config?]`` per input, output
node ids), each with the API graph its conversion gives.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from comfy_ui_app.workflow.app_mode import AppInput, AppMode, app_fields, read_app_mode, shown_outputs
from comfy_ui_app.workflow.convert import ui_to_api
from comfy_ui_app.workflow.fields import Field, discover, form_fields

FIXTURES = Path(__file__).parent / "fixtures"
OBJECT_INFO = json.loads((FIXTURES / "comfyui" / "object_info.json").read_text())
ROOT = "5d0e4c32-6a21-4b8e-9c6f-1f2a3b4c5d6e"
SUB = "0b7f4d2e-1111-4c3a-9d8e-2a2b2c2d2e2f"


def node(node_id, node_type, *sockets, mode=0):
    return {"id": node_id, "type": node_type, "mode": mode, "inputs": list(sockets), "outputs": []}


def widget(name, label=None):
    return {"name": name, "type": "INT", "widget": {"name": name}, "link": None, **({"label": label} if label else {})}


def save(*nodes, inputs=(), outputs=(), subgraphs=()):
    return {"id": ROOT, "nodes": list(nodes), "links": [], "definitions": {"subgraphs": list(subgraphs)},
            "extra": {"linearData": {"inputs": list(inputs), "outputs": list(outputs)}}}


PROMPT = {  # the API graph of the saves below: a sampler, a latent, a saver, a subgraph's inner sampler
    "3": {"class_type": "KSampler", "inputs": {"seed": 5, "steps": 20, "cfg": 8.0, "model": ["4", 0]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    "12:3": {"class_type": "KSampler", "inputs": {"seed": 7, "steps": 30, "cfg": 6.0}},
    "20": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 4, "cfg": 1.0},
           "_meta": {"primitives": {"seed": {"id": "30", "title": "Shared seed"}}}},
}
SAMPLER = node(3, "KSampler", widget("seed", "Lucky number"), widget("steps"))
LATENT = node(5, "EmptyLatentImage", widget("width", "Picture width"))
SUBGRAPH = {"id": SUB, "name": "Sampler unit", "nodes": [node(3, "KSampler", widget("seed", "Inner seed"))],
            "inputs": [{"id": "in-1", "name": "steps", "type": "INT", "linkIds": [1]}],
            "links": [{"id": 1, "origin_id": -10, "origin_slot": 0, "target_id": 3, "target_slot": 1, "type": "INT"}]}
SUBGRAPH["nodes"][0]["inputs"].append(widget("steps", "Inner steps"))
SUBGRAPH_NODE = node(12, SUB, {"name": "steps", "type": "INT", "widget": {"name": "steps"}, "link": None,
                               "label": "Steps (outside)"})


@pytest.mark.parametrize("saved_inputs, nodes, expected", [
    ([[3, "seed"]], [SAMPLER], [("3", "seed", "Lucky number")]),  # the oldest form: a number and a widget name
    ([["3", "steps"]], [SAMPLER], [("3", "steps", None)]),  # a string id; no label given
    ([[f"{ROOT}:5:width", "width"]], [LATENT], [("5", "width", "Picture width")]),  # a widget id
    ([[f"{ROOT}:5:width", "width", {"height": 90, "description": "How wide"}]], [LATENT],
     [("5", "width", "Picture width")]),  # the builder's config is ignored
    ([[f"{ROOT}:3:see%64", "x"]], [SAMPLER], [("3", "seed", "Lucky number")]),  # URL-encoded parts
    ([[f"{SUB}:3", "seed"]], [SUBGRAPH_NODE], [("12:3", "seed", "Inner seed")]),  # a node locator in a subgraph
    ([[f"{SUB}:3:seed", "seed"]], [SUBGRAPH_NODE], [("12:3", "seed", "Inner seed")]),  # a widget id in a subgraph
    ([[f"{ROOT}:12:steps", "steps"]], [SUBGRAPH_NODE], [("12:3", "steps", "Steps (outside)")]),  # promoted input
    ([["12:3", "cfg"]], [], [("12:3", "cfg", None)]),  # an execution id: already the API graph's
    ([[30, "value"]], [node(30, "PrimitiveNode")], [("20", "seed", "Shared seed")]),  # a Primitive folded in
    ([[3, "seed"], [5, "width"], [3, "steps"]], [SAMPLER, LATENT],
     [("3", "seed", "Lucky number"), ("5", "width", "Picture width"), ("3", "steps", None)]),  # author's order
    ([[3, "seed"], ["3", "seed"]], [SAMPLER], [("3", "seed", "Lucky number")]),  # the same input once
])
def test_inputs_are_found_in_the_converted_graph(saved_inputs, nodes, expected):
    app = read_app_mode(save(*nodes, inputs=saved_inputs, outputs=[9], subgraphs=[SUBGRAPH]), PROMPT)
    assert [(i.node_id, i.input_name, i.label) for i in app.inputs] == expected
    assert app.dropped == 0


@pytest.mark.parametrize("saved_inputs, why", [
    ([[99, "seed"]], "a node that is not in the graph (deleted, muted or bypassed)"),
    ([[3, "denoise"]], "a widget the node does not have"),
    ([[9, "images"]], "an input that is a link, not a value"),
    ([["nonsense"]], "an entry without a widget name"),
    ([None], "not an entry at all"),
    ([[{"id": 3}, "seed"]], "an id of no known form"),
    ([[f"{SUB}:3", "seed"]], "a node in a subgraph used twice: ambiguous, as the editor says"),
])
def test_entries_naming_nothing_are_dropped_like_the_editor_does(saved_inputs, why):
    twice = [SUBGRAPH_NODE, {**SUBGRAPH_NODE, "id": 13}]
    app = read_app_mode(save(SAMPLER, *twice, inputs=[*saved_inputs, [3, "steps"]], outputs=[9],
                             subgraphs=[SUBGRAPH]), PROMPT)
    assert [(i.node_id, i.input_name) for i in app.inputs] == [("3", "steps")], why
    assert app.dropped == 1


@pytest.mark.parametrize("workflow", [
    None, {}, {"nodes": []}, {"extra": {}}, {"extra": {"linearData": None}}, {"extra": {"linearData": []}},
    save(inputs=[[99, "seed"]], outputs=[77]),  # nothing it names is there
], ids=["none", "empty", "no extra", "no linearData", "null", "a list", "names nothing"])
def test_no_app_mode(workflow):
    assert read_app_mode(workflow, PROMPT) is None


@pytest.mark.parametrize("outputs, expected", [
    ([9], ("9",)), (["9"], ("9",)), ([9, 9], ("9",)), ([9, 77], ("9",)), ([], ()), ([True, None, 9], ("9",)),
])
def test_outputs(outputs, expected):
    assert read_app_mode(save(SAMPLER, inputs=[[3, "seed"]], outputs=outputs), PROMPT).outputs == expected


def test_outputs_without_inputs_is_still_app_mode_with_no_inputs():
    app = read_app_mode(save(inputs=[], outputs=[9]), PROMPT)
    assert app == AppMode((), ("9",), 0)


@pytest.mark.parametrize("gallery, stored, outputs, expected", [
    (["a.png", "b.png"], [("a.png", "9"), ("b.png", "10")], ("9",), ["a.png"]),
    (["a.png", "b.png"], [("a.png", "9"), ("b.png", "10")], (), ["a.png", "b.png"]),  # none chosen: all
    (["a.png"], [], ("9",), []),  # not stored (yet): not shown
])
def test_shown_outputs(gallery, stored, outputs, expected):
    assert shown_outputs(AppMode((), outputs), gallery, stored) == expected


def test_shown_outputs_without_app_mode_is_everything():
    assert shown_outputs(None, ["a.png"], []) == ["a.png"]


# -- the form -------------------------------------------------------------------------------------

def converted(name="txt2img_app.json"):
    workflow = json.loads((FIXTURES / "app_mode" / name).read_text())
    return workflow, ui_to_api(workflow, OBJECT_INFO)


def test_the_app_mode_form_is_exactly_the_authors_inputs_in_order_with_labels():
    workflow, prompt = converted()
    fields = form_fields(prompt, OBJECT_INFO, workflow)
    assert [(f.name, f.label, f.node_id, f.input_name, f.kind) for f in fields] == [
        ("prompt", "Describe your picture", "6", "text", "text"),
        ("seed", "Lucky number", "3", "seed", "int"),
        ("width", "Picture width", "5", "width", "int"),
        ("steps", "Steps", "3", "steps", "int"),  # no label of the author's: discovery's
    ]  # [42, "cfg"] names a node the save does not have: dropped, as the editor does
    assert not any(f.advanced for f in fields)
    seed = fields[1]
    assert (seed.role, seed.minimum, seed.default) == ("seed", 0, 156680208700286)


def test_a_workflow_without_linear_data_keeps_discovery():
    workflow, prompt = converted()
    del workflow["extra"]["linearData"]
    assert form_fields(prompt, OBJECT_INFO, workflow) == discover(prompt, OBJECT_INFO)
    assert form_fields(prompt, OBJECT_INFO, None) == discover(prompt, OBJECT_INFO)


def test_linear_data_naming_no_input_falls_back_to_discovery():
    workflow, prompt = converted()
    workflow["extra"]["linearData"]["inputs"] = [[99, "seed"]]
    assert form_fields(prompt, OBJECT_INFO, workflow) == discover(prompt, OBJECT_INFO)


@pytest.mark.parametrize("label, expected_name", [
    ("Output name", "output_name"),  # an advanced input takes its label's name
    ("Seed", "9.filename_prefix"),  # a name discovery gave another field: the node.input name stays
    (None, "filename_prefix"),  # discovery named it: its name
])
def test_names(label, expected_name):
    prompt = {"9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x", "images": ["8", 0]}},
              "3": {"class_type": "KSampler", "inputs": {"seed": 1, "latent_image": ["5", 0], "positive": ["6", 0]}}}
    discovered = discover(prompt, OBJECT_INFO)
    if label is None:
        assert [f.name for f in app_fields(AppMode((AppInput("9", "filename_prefix"),), ()), discovered, prompt,
                                           OBJECT_INFO)] == [expected_name]
        return
    advanced = [f for f in discovered if f.name != "filename_prefix"]  # as if discovery left it advanced
    advanced.append(Field(
        "9.filename_prefix", "text", "9", "filename_prefix", "x", "SaveImage › filename_prefix", advanced=True))
    fields = app_fields(AppMode((AppInput("9", "filename_prefix", label),), ()), advanced, prompt, OBJECT_INFO)
    assert [(f.name, f.label, f.advanced) for f in fields] == [(expected_name, label, False)]


def test_an_input_discovery_did_not_name_is_made_a_field():
    prompt = {"3": {"class_type": "KSampler", "inputs": {"seed": 1, "cfg": 2.5}}}
    fields = app_fields(AppMode((AppInput("3", "cfg", "Guidance"),), ()), [], prompt, OBJECT_INFO)
    assert [(f.name, f.label, f.kind, f.default) for f in fields] == [("guidance", "Guidance", "float", 2.5)]
