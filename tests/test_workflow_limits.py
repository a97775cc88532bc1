"""Issue 13 points 5 (the node cap), 6 (forms linear in nodes) and 8 (deep workflows), pure.

What a workflow file may be before the app works on it (``workflow/source.py``), the node cap
at every entry (the Custom tab's reader, the CLI, ``JobService.submit``), and graph walks that
neither recurse (a 10,000-node chain) nor go quadratic (thousands of samplers, titles, images).
The same attacks through raw HTTP are in ``test_hostile_forms.py``.
"""
from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest

from comfy_ui_app.errors import WorkflowError, WorkflowTooDeep, WorkflowTooLarge
from comfy_ui_app.jobs.policy import Policy
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui import custom_tab
from comfy_ui_app.workflow.check import check_prompt
from comfy_ui_app.workflow.editor_format import api_to_ui
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.workflow.source import MAX_DEPTH, check_nodes, nesting_depth, node_count, parse_json
from comfy_ui_app.workflow.templates import apply_values, load_workflow

REPO = Path(__file__).resolve().parents[1]
INFO = json.loads((REPO / "tests" / "fixtures" / "comfyui" / "object_info.json").read_text())
BASE = json.loads((REPO / "workflows" / "txt2img.json").read_text())


def samplers(nodes: int) -> dict:
    """The bundled txt2img graph grown to ``nodes`` nodes with KSamplers sharing its inputs."""
    graph, next_id = copy.deepcopy(BASE), 100
    while len(graph) < nodes:
        graph[str(next_id)] = copy.deepcopy(BASE["3"])
        next_id += 1
    return graph


def conditioning_chain(links: int) -> dict:
    """txt2img whose positive prompt reaches the sampler through ``links`` ConditioningCombine nodes."""
    graph, previous = copy.deepcopy(BASE), "6"
    for i in range(100, 100 + links):
        graph[str(i)] = {"class_type": "ConditioningCombine",
                         "inputs": {"conditioning_1": [previous, 0], "conditioning_2": ["7", 0]}}
        previous = str(i)
    graph["3"]["inputs"]["positive"] = [previous, 0]
    return graph


def nested(levels: int) -> str:
    """txt2img with a list nested ``levels`` deep in one input (the file's depth is levels + 3)."""
    return json.dumps(BASE).replace('"text, watermark"', "[" * levels + "]" * levels)


# -- the file: depth and node count ------------------------------------------------------------

@pytest.mark.parametrize("value, depth", [
    (1, 0), ("x", 0), ([], 1), ({}, 1), ({"a": [1, {"b": 2}]}, 3), ([[[[]]]], 4), (BASE, 4),
])
def test_nesting_depth(value, depth):
    assert nesting_depth(value) == depth


DEEP = "This workflow file is nested more than 64 levels deep, which no real workflow is. Please check the file."


@pytest.mark.parametrize("levels, refused", [(10, False), (MAX_DEPTH - 3, False), (MAX_DEPTH - 2, True),
                                             (900, True), (10_000, True), (100_000, True)])
def test_a_file_nested_too_deep_is_refused_in_words(levels, refused):
    text = nested(levels)
    if not refused:
        assert parse_json(text)["7"]["inputs"]["text"] == [] if levels == 0 else isinstance(parse_json(text), dict)
        return
    with pytest.raises(WorkflowTooDeep) as caught:  # 10,000: Python's own parser raised RecursionError
        parse_json(text, field="workflow")
    assert caught.value.field == "workflow"
    assert describe(caught.value) == DEEP
    assert describe(caught.value, lang="zh-CN").startswith("此工作流文件的嵌套超过 64 层")


@pytest.mark.parametrize("data, count", [
    (BASE, 7), ({"prompt": BASE, "client_id": "x"}, 7), ({"nodes": [{}] * 12, "links": []}, 12),
    ([1, 2, 3], 0), ("text", 0), ({}, 0),
])
def test_node_count(data, count):
    assert node_count(data) == count


@pytest.mark.parametrize("nodes, cap, message", [
    (1200, 1000, "This workflow has 1,200 nodes; this app accepts at most 1,000."),
    (5001, 5000, "This workflow has 5,001 nodes; this app accepts at most 5,000."),
    (1000, 1000, None), (7, None, None),
])
def test_node_cap(nodes, cap, message):
    graph = samplers(nodes)
    if message is None:
        check_nodes(graph, cap)
        return
    with pytest.raises(WorkflowTooLarge) as caught:
        check_nodes(graph, cap, field="workflow")
    assert (caught.value.nodes, caught.value.allowed, caught.value.field) == (nodes, cap, "workflow")
    assert describe(caught.value) == message
    assert describe(caught.value, lang="zh-CN") == f"此工作流有 {nodes:,} 个节点；本应用最多接受 {cap:,} 个。"


def test_the_policy_caps_are_the_defaults_the_issue_names():
    assert Policy().max_nodes == 5000
    assert Policy.for_app(public=True).max_nodes == 1000
    assert Policy.for_app(public=True, max_nodes=50).max_nodes == 50


# -- the Custom tab's reader: the cap before any conversion; bad files in words ------------------

def _file(tmp_path, data) -> Path:
    path = tmp_path / "w.json"
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    return path


def test_the_reader_counts_nodes_before_converting(tmp_path):
    ui = api_to_ui(samplers(1200), INFO)
    with pytest.raises(WorkflowTooLarge) as caught:  # no object_info: a conversion would have said so first
        custom_tab.read_workflow(_file(tmp_path, ui), None, 1000)
    assert describe(caught.value) == "This workflow has 1,200 nodes; this app accepts at most 1,000."
    assert caught.value.field == custom_tab.WORKFLOW_FIELD
    assert len(custom_tab.read_workflow(_file(tmp_path, ui), INFO, 1200)["prompt"]) == 1200


READER_CASES = {  # file -> words (the tab shows "Could not load this workflow: <words>")
    "deep-10000": (nested(10_000).encode(), DEEP),
    "deep-900": (nested(900).encode(), DEEP),
    "not-json": (b"hello, world", "is not valid JSON"),
    "zero-bytes": (b"", "is not valid JSON"),
    "a-number": (b"12", "is not an API-format graph of nodes"),
    "a-list": (b"[1, 2]", "is not an API-format graph of nodes"),
    "node-not-object": (b'{"1": 5}', "Node 1 of the workflow has no class_type"),
    "inputs-not-object": (b'{"1": {"class_type": "SaveImage", "inputs": [1]}}', "has malformed inputs"),
    "meta-not-object": (b'{"1": {"class_type": "SaveImage", "inputs": {}, "_meta": "x"}}', "has a malformed _meta"),
    "nodes-too-many": (json.dumps(samplers(1001)).encode(), "This workflow has 1,001 nodes; this app accepts at "
                                                              "most 1,000."),
}


@pytest.mark.parametrize("data, words", READER_CASES.values(), ids=READER_CASES.keys())
def test_the_reader_words_every_bad_file(tmp_path, data, words):
    with pytest.raises(WorkflowError) as caught:
        custom_tab.read_workflow(_file(tmp_path, data), INFO, 1000)
    message = describe(caught.value)
    assert words in message and "RecursionError" not in message and message.strip(), message


def test_load_workflow_takes_the_cap_too():
    with pytest.raises(WorkflowTooLarge):
        load_workflow(json.dumps(samplers(20)), max_nodes=10)
    with pytest.raises(WorkflowTooDeep):
        load_workflow(nested(10_000))
    assert len(load_workflow(json.dumps(samplers(20)))) == 20


# -- walks over the graph: no recursion, no quadratic work -----------------------------------------

@pytest.mark.parametrize("links", [900, 10_000])
def test_a_long_chain_goes_through_every_step_of_a_job(links):
    graph = conditioning_chain(links)
    fields = discover(graph, INFO)
    prompt = next(f for f in fields if f.name == "prompt")
    assert (prompt.node_id, prompt.input_name) == ("6", "text")  # found at the chain's far end
    filled = apply_values(graph, {"prompt": "a red fox", "seed": 1, "checkpoint": "tiny-sd15-random.safetensors"}, fields=fields)
    assert filled["6"]["inputs"]["text"] == "a red fox"
    assert check_prompt(filled, INFO, fields) == []
    editor = api_to_ui(filled, INFO)  # the PNG's workflow chunk
    assert len(editor["nodes"]) == len(graph)


def test_names_found_by_a_thousand_titles_are_the_same_as_one_by_one():
    graph = copy.deepcopy(BASE)
    for i in range(100, 1100):
        graph[str(i)] = {"class_type": "PrimitiveInt", "inputs": {"value": i}, "_meta": {"title": "Seed"}}
    named = [f.name for f in discover(graph, INFO) if not f.advanced and f.role == "seed"]
    assert named == ["seed", *(f"seed_{n}" for n in range(2, 1002))]


@pytest.mark.parametrize("shape", ["samplers", "samplers on one LoRA chain", "titled", "images"])
def test_discovery_stays_linear(shape):
    """2,000 nodes of each shape that was quadratic (or worse): 17 s before for the LoRA chain."""
    graph = samplers(2000) if shape == "samplers" else copy.deepcopy(BASE)
    if shape == "samplers on one LoRA chain":
        previous = "4"
        for i in range(100, 1100):
            graph[str(i)] = {"class_type": "LoraLoader", "inputs": {
                "lora_name": "a.safetensors", "strength_model": 1.0, "strength_clip": 1.0,
                "model": [previous, 0], "clip": [previous, 1]}}
            previous = str(i)
        for i in range(2000, 3000):
            graph[str(i)] = {**copy.deepcopy(BASE["3"]), "class_type": "KSampler"}
            graph[str(i)]["inputs"]["model"] = [previous, 0]
    elif shape in ("titled", "images"):
        for i in range(100, 2100):
            graph[str(i)] = ({"class_type": "PrimitiveInt", "inputs": {"value": i}, "_meta": {"title": "Seed"}}
                             if shape == "titled" else {"class_type": "LoadImage", "inputs": {"image": "x.png"}})
    start = time.perf_counter()
    fields = discover(graph, INFO)
    took = time.perf_counter() - start
    assert len(fields) >= 2000
    assert took < 8, f"{shape}: {took:.1f} s for {len(graph)} nodes"   # ~0.5 s here; generous for a loaded CI


# -- the cap at the other entries: the job service (any graph sent), the command line ---------------

def test_the_job_service_refuses_a_graph_over_the_cap_and_records_nothing(comfy_server, tmp_path):
    from _app import job_service
    from comfy_ui_app.jobs.store import JobStore

    store = JobStore(tmp_path / "data")
    jobs = job_service(comfy_server.url, store, policy=Policy(max_nodes=10))
    try:
        with pytest.raises(WorkflowTooLarge) as caught:
            jobs.submit(owner="visitor", template="custom", values={}, prompt=samplers(11), kind="custom")
        assert describe(caught.value) == "This workflow has 11 nodes; this app accepts at most 10."
        assert store.list(owner="visitor") == []
    finally:
        jobs.cluster.close()
        store.close()


@pytest.mark.parametrize("command", ["fields", "convert", "generate"])
@pytest.mark.parametrize("data, words", [
    (json.dumps(samplers(5001)), "This workflow has 5,001 nodes; this app accepts at most 5,000."),
    (nested(10_000), DEEP),
], ids=["5001-nodes", "10000-deep"])
def test_the_command_line_refuses_in_one_line(tmp_path, capsys, dead_url, command, data, words):
    from comfy_ui_app.cli.main import main

    path = tmp_path / "w.json"
    path.write_text(data)
    args = {"fields": ["fields", str(path), "--offline"], "convert": ["convert", str(path), "--server", dead_url],
            "generate": ["generate", "--workflow", str(path), "--server", dead_url, "--out", str(tmp_path)]}[command]
    code = main(args)
    out, err = capsys.readouterr()
    assert code != 0 and words in err and "Traceback" not in err, (code, out, err)


def test_many_nodes_fed_through_one_long_reroute_chain_convert_in_linear_time():
    """An editor save: 2,500 Reroutes in a row between the checkpoint and 2,500 samplers (each
    sampler's link used to walk the whole chain: ~4 s; each link is now followed once)."""
    from comfy_ui_app.workflow.convert import ui_to_api

    graph = samplers(2507)
    ui = api_to_ui(graph, INFO)
    links, nodes = ui["links"], ui["nodes"]
    next_link, next_node = max(link[0] for link in links) + 1, max(n["id"] for n in nodes) + 1
    checkpoint = next(n for n in nodes if n["type"] == "CheckpointLoaderSimple")
    previous = checkpoint["id"]
    for _ in range(2500):
        links.append([next_link, previous, 0, next_node, 0, "MODEL"])
        nodes.append({"id": next_node, "type": "Reroute", "mode": 0,
                      "inputs": [{"name": "", "type": "*", "link": next_link}],
                      "outputs": [{"name": "", "type": "MODEL", "links": [], "slot_index": 0}]})
        previous, next_link, next_node = next_node, next_link + 1, next_node + 1
    model_links = {i["link"] for n in nodes if n["type"] == "KSampler" for i in n["inputs"] if i["name"] == "model"}
    for link in links:
        if link[0] in model_links:
            link[1], link[2] = previous, 0
    start = time.perf_counter()
    api = ui_to_api(ui, INFO)
    took = time.perf_counter() - start
    assert {tuple(n["inputs"]["model"]) for n in api.values() if n["class_type"] == "KSampler"} == {
        (str(checkpoint["id"]), 0)}
    assert took < 4, f"{took:.1f} s"   # ~0.3 s here


def test_a_negative_output_slot_is_no_link_in_the_editor_copy():
    """["6", -3] once made api_to_ui (the PNG's workflow chunk) raise IndexError; the check calls it a bad link."""
    graph = copy.deepcopy(BASE)
    graph["3"]["inputs"]["positive"] = ["6", -3]
    fields = discover(graph, INFO)
    filled = apply_values(graph, {"checkpoint": "tiny-sd15-random.safetensors"}, fields=fields)
    assert [p.kind for p in check_prompt(filled, INFO, fields)] == ["bad_linked_input"]
    assert len(api_to_ui(filled, INFO)["nodes"]) == len(graph)
