"""Local validation (check_prompt) and server rejections (problems_from_rejection) read the same.

The rejections are the REAL 400 bodies recorded from ComfyUI 0.3.64 (tests/fixtures/
post_prompt_errors.json), each next to the prompt that was sent.
"""

import copy
import json
from functools import lru_cache
from pathlib import Path

import pytest

from comfy_ui_app import PromptRejected, WorkflowError, load_workflow
from comfy_ui_app.workflow.check import (
    Problem, PromptInvalid, check_prompt, field_index, problems_from_rejection,
)
from comfy_ui_app.workflow.fields import discover

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
MODEL = "tiny-sd15-random.safetensors"  # the one checkpoint the recording server had


@lru_cache(maxsize=None)
def object_info() -> dict:
    return json.loads((FIXTURES / "comfyui" / "object_info.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _cases() -> dict:
    return json.loads((FIXTURES / "comfyui" / "post_prompt_errors.json").read_text(encoding="utf-8"))["cases"]


def _response(case: str) -> dict:
    return _cases()[case]["response"].get("json") or {}


def sent(case: str):
    return copy.deepcopy((_cases()[case]["request"].get("json") or {}).get("prompt"))


def rejection(case: str) -> PromptRejected:
    body = _response(case)
    return PromptRejected("http://127.0.0.1:8188/prompt", body.get("error") or {}, body.get("node_errors") or {})


def fields_of(prompt):
    ok = isinstance(prompt, dict) and all(isinstance(n, dict) and "class_type" in n for n in prompt.values())
    return discover(prompt, object_info()) if ok else []


def bare(problems):
    """Problems without the server's words, which only rejections have."""
    return [Problem(p.kind, p.node_id, p.class_type, p.input_name, p.field, p.value, p.limit) for p in problems]


SAMPLERS = tuple(object_info()["KSampler"]["input"]["required"]["sampler_name"][0])
SCHEDULERS = tuple(object_info()["KSampler"]["input"]["required"]["scheduler"][0])

# recorded case -> the one Problem both sides give: kind, node, class, input, field, value, limit
RECORDED = {
    "unknown_class_type": Problem("missing_node_type", "6", "NoSuchNodeType"),
    "node_missing_class_type": Problem("missing_node_type", "6", None),
    "missing_required_input": Problem("required_input_missing", "3", "KSampler", "seed"),
    "wrong_type_value_string_for_int": Problem("invalid_input_type", "3", "KSampler", "steps", "steps", "four", "INT"),
    "value_smaller_than_min": Problem("value_smaller_than_min", "3", "KSampler", "steps", "steps", 0, 1),
    "value_bigger_than_max": Problem("value_bigger_than_max", "3", "KSampler", "cfg", "cfg", 1000.0, 100.0),
    "value_not_in_list_sampler": Problem("value_not_in_list", "3", "KSampler", "sampler_name", "sampler",
                                         "no_such_sampler", SAMPLERS),
    "nonexistent_ckpt_name": Problem("value_not_in_list", "4", "CheckpointLoaderSimple", "ckpt_name", "checkpoint",
                                     "does-not-exist.safetensors", (MODEL,)),
    "link_to_missing_node": Problem("bad_linked_input", "3", "KSampler", "model", None, ["99", 0], None),
    "link_output_index_out_of_range": Problem("bad_linked_input", "3", "KSampler", "model", None, ["4", 7],
                                              ("MODEL", "CLIP", "VAE")),
    "link_type_mismatch_clip_into_model": Problem("return_type_mismatch", "3", "KSampler", "model", None, "CLIP", "MODEL"),
    "one_good_one_bad_output_accepted": Problem("bad_linked_input", "10", "SaveImage", "images", None, ["99", 0], None),
    "no_output_node": Problem("prompt_no_outputs"),
    "empty_prompt_object": Problem("prompt_no_outputs"),
    "prompt_is_a_list": Problem("prompt_no_outputs"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_recorded_rejection_becomes_the_expected_problem(case):
    prompt = sent(case)
    got = problems_from_rejection(rejection(case), fields_of(prompt), prompt=prompt, object_info=object_info())
    assert bare(got) == [RECORDED[case]]
    assert got[0].detail  # the server's own words come along


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_local_check_finds_what_the_server_refused(case):
    prompt = sent(case)
    assert check_prompt(prompt, object_info(), fields_of(prompt)) == [RECORDED[case]]


def test_no_prompt_key_is_its_own_kind():
    assert bare(problems_from_rejection(rejection("no_prompt_key"))) == [Problem("no_prompt")]


# from the server's data alone (no prompt, no object_info): what can still be said
SERVER_ONLY = {
    # the server names the downstream node's input ("samples"); it must not be put on node 3
    "link_to_missing_node": Problem("bad_linked_input", "3", "KSampler"),
    "link_output_index_out_of_range": Problem("bad_linked_input", "3", "KSampler"),
    "one_good_one_bad_output_accepted": Problem("bad_linked_input", "10", "SaveImage"),
    # the server leaves the 42 samplers out (input_config is null)
    "value_not_in_list_sampler": Problem("value_not_in_list", "3", "KSampler", "sampler_name", None, "no_such_sampler"),
    "nonexistent_ckpt_name": Problem("value_not_in_list", "4", "CheckpointLoaderSimple", "ckpt_name", None,
                                     "does-not-exist.safetensors", (MODEL,)),
    "value_smaller_than_min": Problem("value_smaller_than_min", "3", "KSampler", "steps", None, 0, 1),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(SERVER_ONLY))
def test_rejection_without_the_prompt(case):
    assert bare(problems_from_rejection(rejection(case))) == [SERVER_ONLY[case]]


def test_rejection_with_the_prompt_but_no_object_info_finds_a_missing_node_only():
    prompt = sent("link_output_index_out_of_range")
    assert bare(problems_from_rejection(rejection("link_output_index_out_of_range"), prompt=prompt)) == [
        Problem("bad_linked_input", "3", "KSampler")]
    prompt = sent("link_to_missing_node")
    assert bare(problems_from_rejection(rejection("link_to_missing_node"), prompt=prompt)) == [
        RECORDED["link_to_missing_node"]]


def _rejected(error, node_errors=None):
    return PromptRejected("http://127.0.0.1:8188/prompt", error, node_errors or {})


# bodies in the shape of newer servers (execution.py after 0.3.64) and of cases not recorded
OTHER_BODIES = [
    # newer servers: missing_node_type instead of invalid_prompt, with extra_info
    ({"type": "missing_node_type", "message": "Node 'My Encoder' not found. The custom node may not be installed.",
      "details": "Node ID '#6'", "extra_info": {"node_id": "6", "class_type": "NoSuchNodeType", "node_title": "My Encoder"}},
     RECORDED["unknown_class_type"]),
    ({"type": "missing_node_type", "message": "Node 'ID #6' has no class_type. The workflow may be corrupted or a "
      "custom node is missing.", "details": "Node ID '#6'", "extra_info": {"node_id": "6", "class_type": None,
                                                                            "node_title": None}},
     RECORDED["node_missing_class_type"]),
    # 0.3.x wording with a class name that has spaces
    ({"type": "invalid_prompt", "message": "Cannot execute because node Text Multiline does not exist.",
      "details": "Node ID '#12'", "extra_info": {}}, Problem("missing_node_type", "12", "Text Multiline")),
    ({"type": "invalid_prompt_id", "message": "Invalid prompt_id format", "details": "prompt_id must be a UUID"},
     Problem("invalid_prompt_id")),
]  # fmt: skip


@pytest.mark.parametrize("error, expected", OTHER_BODIES)
def test_top_level_errors(error, expected):
    assert bare(problems_from_rejection(_rejected(error))) == [expected]


def test_a_kind_we_do_not_know_keeps_its_name_input_and_field():
    prompt = load_workflow(ROOT / "workflows" / "img2img.json")
    errors = {"10": {"class_type": "LoadImage", "dependent_outputs": ["9"], "errors": [{
        "type": "custom_validation_failed", "message": "Custom validation failed for node",
        "details": "image - Invalid image file: gone.png",
        "extra_info": {"input_name": "image", "input_config": None, "received_value": "gone.png"}}]}}  # fmt: skip
    got = problems_from_rejection(_rejected({"type": "prompt_outputs_failed_validation"}, errors), discover(prompt))
    assert bare(got) == [Problem("custom_validation_failed", "10", "LoadImage", "image", "image", "gone.png")]
    assert got[0].detail == "Custom validation failed for node image - Invalid image file: gone.png"


@lru_cache(maxsize=None)
def _txt2img() -> str:
    prompt = load_workflow(ROOT / "workflows" / "txt2img.json")
    prompt["4"]["inputs"]["ckpt_name"] = MODEL
    return json.dumps(prompt)


def txt2img(**changes):
    """The bundled template, valid on the recording server, with ``{"node.input": value}`` changes."""
    prompt = json.loads(_txt2img())
    for where, value in changes.items():
        node_id, _, input_name = where.partition("__")
        if input_name == "class_type":
            prompt[node_id]["class_type"] = value
        elif value is DROP:
            del prompt[node_id]["inputs"][input_name]
        else:
            prompt[node_id]["inputs"][input_name] = value
    return prompt


DROP = object()

LOCAL = [
    ({}, []),
    ({"5__width": 8}, [Problem("value_smaller_than_min", "5", "EmptyLatentImage", "width", "width", 8, 16)]),
    ({"5__batch_size": 5000}, [Problem("value_bigger_than_max", "5", "EmptyLatentImage", "batch_size", "batch_size", 5000, 4096)]),
    ({"3__seed": -1}, [Problem("value_smaller_than_min", "3", "KSampler", "seed", "seed", -1, 0)]),
    ({"3__denoise": "high"}, [Problem("invalid_input_type", "3", "KSampler", "denoise", "denoise", "high", "FLOAT")]),
    ({"3__steps": None}, [Problem("invalid_input_type", "3", "KSampler", "steps", "steps", None, "INT")]),
    # the server converts with int()/float() before comparing, so these pass there too
    ({"3__steps": "12", "3__cfg": "6.5"}, []),
    ({"3__steps": 2.5}, []),
    ({"3__scheduler": "fast"}, [Problem("value_not_in_list", "3", "KSampler", "scheduler", "scheduler", "fast", SCHEDULERS)]),
    ({"3__denoise": DROP}, [Problem("required_input_missing", "3", "KSampler", "denoise")]),
    ({"3__model": ["4"]}, [Problem("bad_linked_input", "3", "KSampler", "model", None, ["4"], None)]),
    ({"3__model": ["4", 0, 1]}, [Problem("bad_linked_input", "3", "KSampler", "model", None, ["4", 0, 1], None)]),
    ({"3__model": [4, 0]}, [Problem("bad_linked_input", "3", "KSampler", "model", None, [4, 0], None)]),
    ({"3__positive": ["4", 2]}, [Problem("return_type_mismatch", "3", "KSampler", "positive", None, "VAE", "CONDITIONING")]),
    ({"3__unknown_extra": 5}, []),  # inputs the class does not have are ignored, as by the server
    # an unknown class is reported once; links into it cannot be checked
    ({"7__class_type": "NoSuchEncoder"}, [Problem("missing_node_type", "7", "NoSuchEncoder")]),
    ({"9__class_type": "NoSuchSaver"}, [Problem("missing_node_type", "9", "NoSuchSaver")]),  # maybe an output
    ({"9__class_type": "VAEDecode"}, [Problem("prompt_no_outputs")]),
]  # fmt: skip


@pytest.mark.parametrize("changes, expected", LOCAL)
def test_check_prompt(changes, expected):
    prompt = txt2img(**changes)
    assert check_prompt(prompt, object_info(), discover(prompt, object_info())) == expected


def test_an_optional_input_may_be_missing():
    prompt = load_workflow(FIXTURES / "api_workflows" / "controlnet.json")
    prompt["4"]["inputs"]["ckpt_name"] = MODEL
    del prompt["13"]["inputs"]["vae"]
    assert check_prompt(prompt, object_info()) == []


def test_other_exceptions_are_kept_and_not_put_on_the_downstream_input():
    body = copy.deepcopy(_response("link_to_missing_node"))
    body["node_errors"]["3"]["errors"][0]["extra_info"]["exception_type"] = "RuntimeError"
    got = problems_from_rejection(_rejected(body["error"], body["node_errors"]), prompt=sent("link_to_missing_node"))
    assert bare(got) == [Problem("exception_during_inner_validation", "3", "KSampler")]


def test_a_node_no_output_depends_on_is_not_checked():
    prompt = txt2img()
    prompt["20"] = {"inputs": {"width": 1, "height": 1, "batch_size": 0}, "class_type": "EmptyLatentImage"}
    assert check_prompt(prompt, object_info()) == []


def test_a_wildcard_input_takes_any_type():
    prompt = txt2img()
    prompt["20"] = {"inputs": {"source": ["4", 0]}, "class_type": "PreviewAny"}  # source is "*"
    assert check_prompt(prompt, object_info()) == []


@pytest.mark.parametrize("received, expected, ok", [("IMAGE", "IMAGE,MASK", True), ("MASK", "IMAGE", False)])
def test_union_types(received, expected, ok):
    info = {"Src": {"input": {}, "output": [received]},
            "Out": {"input": {"required": {"x": [expected]}}, "output": [], "output_node": True}}  # fmt: skip
    prompt = {"1": {"class_type": "Src", "inputs": {}}, "2": {"class_type": "Out", "inputs": {"x": ["1", 0]}}}
    problems = check_prompt(prompt, info)
    assert problems == ([] if ok else [Problem("return_type_mismatch", "2", "Out", "x", None, received, expected)])


def test_without_object_info_nothing_can_be_checked():
    assert check_prompt(txt2img(**{"5__width": 1}), None) == []
    assert check_prompt(txt2img(**{"5__width": 1}), {}) == []


WORKFLOWS = [ROOT / "workflows" / n for n in ("txt2img.json", "img2img.json", "inpaint.json")] + sorted(
    (FIXTURES / "api_workflows").glob("*.json"))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_every_workflow_is_valid_but_for_the_checkpoint_the_server_lacks(path):
    """Models and uploaded images are the server's business: empty choice lists (LoRAs,
    ControlNets, upscale models on the recording server) and LoadImage's list are not
    checked; the checkpoint list is, and it only has the tiny test model."""
    prompt = load_workflow(path)
    fields = discover(prompt, object_info())
    loaders = sorted((n for n, node in prompt.items() if "ckpt_name" in node["inputs"]), key=lambda n: (len(n), n))
    assert [(p.kind, p.node_id, p.input_name, p.limit) for p in check_prompt(prompt, object_info(), fields)] == [
        ("value_not_in_list", n, "ckpt_name", (MODEL,)) for n in loaders]
    for node_id in loaders:
        prompt[node_id]["inputs"]["ckpt_name"] = MODEL
    assert check_prompt(prompt, object_info(), fields) == []


def test_problems_point_at_refiner_fields_and_twin_inputs():
    prompt = load_workflow(FIXTURES / "api_workflows" / "sdxl_base_refiner.json")
    prompt["4"]["inputs"]["ckpt_name"] = prompt["12"]["inputs"]["ckpt_name"] = MODEL
    prompt["11"]["inputs"]["steps"] = 0
    prompt["10"]["inputs"]["cfg"] = 101
    fields = discover(prompt, object_info())
    assert [(p.kind, p.node_id, p.field) for p in check_prompt(prompt, object_info(), fields)] == [
        ("value_bigger_than_max", "10", "cfg"), ("value_smaller_than_min", "11", "refiner_steps")]
    assert field_index(fields)[("6", "text_l")] == "prompt"


def test_prompt_invalid_names_the_first_field():
    problems = check_prompt(txt2img(**{"3__steps": 0, "5__width": 1}), object_info(), discover(txt2img()))
    error = PromptInvalid(problems)
    assert isinstance(error, WorkflowError) and error.problems == problems and error.field == "steps"



@pytest.mark.parametrize("flag", ["image_upload", "audio_upload", "video_upload", "file_upload"])
def test_a_file_just_uploaded_passes_though_the_server_lists_others(flag):
    """An upload input's list is what the server held when it was asked: a file the job uploads is not in
    it yet, whatever its kind (before: only image_upload passed, so a picked sound failed on a server that
    already held one)."""
    info = {"Loader": {"input": {"required": {"file": [["already.wav"], {flag: True}]}}, "output": ["X"],
                       "output_node": True}}
    prompt = {"1": {"class_type": "Loader", "inputs": {"file": "u-0123456789ab-upload-abc.wav"}}}
    assert [p for p in check_prompt(prompt, info) if p.kind == "value_not_in_list"] == []
    plain = {"Loader": {"input": {"required": {"file": [["already.wav"], {}]}}, "output": ["X"], "output_node": True}}
    assert [p.kind for p in check_prompt(prompt, plain)] == ["value_not_in_list"]   # no upload flag: refused
