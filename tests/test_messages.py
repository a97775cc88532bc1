"""describe(): every error class becomes one plain line (payloads as recorded from ComfyUI 0.3.64)."""
import pytest

from comfy_ui_app import (
    ComfyError,
    JobFailed,
    JobInterrupted,
    JobLost,
    PromptRejected,
    ServerHTTPError,
    ServerUnreachable,
    WorkflowError,
)
from comfy_ui_app.messages import describe, describe_node_errors

URL = "http://127.0.0.1:8188"
FAILED_VALIDATION = {"type": "prompt_outputs_failed_validation",
                     "message": "Prompt outputs failed validation", "details": "", "extra_info": {}}


def rejected(node_errors, error=FAILED_VALIDATION):
    return PromptRejected(URL + "/prompt", error, node_errors)


def node(class_type, *errors):
    return {"errors": list(errors), "dependent_outputs": ["9"], "class_type": class_type}


def test_unreachable_names_url_and_retry():
    text = describe(ServerUnreachable(URL, "connection refused"))
    assert text == f"Cannot reach ComfyUI at {URL}. Is it running? Retrying automatically."
    assert describe(ServerUnreachable(URL), retrying=False) == f"Cannot reach ComfyUI at {URL}. Is it running?"


def test_rejected_checkpoint_not_on_server():
    exc = rejected({"4": node("CheckpointLoaderSimple", {
        "type": "value_not_in_list", "message": "Value not in list",
        "details": "ckpt_name: 'does-not-exist.safetensors' not in ['tiny-sd15-random.safetensors']",
        "extra_info": {"input_name": "ckpt_name",
                       "input_config": [["tiny-sd15-random.safetensors"], {}],
                       "received_value": "does-not-exist.safetensors"}})})
    text = describe(exc)
    assert text.startswith("ComfyUI rejected the request.")
    assert "Node 4 (CheckpointLoaderSimple)" in text
    assert "checkpoint 'does-not-exist.safetensors' is not installed on the server" in text
    assert "tiny-sd15-random.safetensors" in text  # the choices, since there are few


def test_rejected_sampler_and_limits_name_the_input():
    exc = rejected({"3": node(
        "KSampler",
        {"type": "value_not_in_list", "message": "Value not in list",
         "details": "sampler_name: 'nope' not in (list of length 42)",
         "extra_info": {"input_name": "sampler_name", "input_config": None, "received_value": "nope"}},
        {"type": "value_smaller_than_min", "message": "Value 0 smaller than min of 1", "details": "steps",
         "extra_info": {"input_name": "steps", "input_config": ["INT", {"min": 1, "max": 10000}],
                        "received_value": 0}},
        {"type": "value_bigger_than_max", "message": "Value 1000.0 bigger than max of 100.0",
         "details": "cfg", "extra_info": {"input_name": "cfg",
                                          "input_config": ["FLOAT", {"min": 0.0, "max": 100.0}],
                                          "received_value": 1000.0}},
        {"type": "required_input_missing", "message": "Required input is missing", "details": "seed",
         "extra_info": {"input_name": "seed"}},
        {"type": "invalid_input_type", "message": "Failed to convert an input value to a INT value",
         "details": "steps, four, invalid literal",
         "extra_info": {"input_name": "steps", "input_config": ["INT", {}], "received_value": "four"}},
    )})
    text = describe(exc)
    assert "\n" not in text
    assert "sampler 'nope' is not one of the allowed values" in text
    assert "steps must be at least 1 (got 0)" in text
    assert "CFG must be at most 100.0 (got 1000.0)" in text
    assert "the required input 'seed' is missing" in text
    assert "steps must be a whole number, not 'four'" in text


def test_rejected_without_node_errors_uses_server_message():
    exc = rejected({}, {"type": "invalid_prompt",
                        "message": "Cannot execute because node NoSuchNodeType does not exist.",
                        "details": "Node ID '#6'", "extra_info": {}})
    assert describe(exc) == ("ComfyUI rejected the request: Cannot execute because node NoSuchNodeType "
                             "does not exist (Node ID '#6').")
    no_outputs = rejected({}, {"type": "prompt_no_outputs", "message": "Prompt has no outputs",
                               "details": "", "extra_info": {}})
    assert "no output node" in describe(no_outputs)


def test_link_errors_are_plain():
    exc = rejected({"3": node("KSampler", {
        "type": "return_type_mismatch", "message": "Return type mismatch between linked nodes",
        "details": "model, received_type(CLIP) mismatch input_type(MODEL)",
        "extra_info": {"input_name": "model", "input_config": ["MODEL", {}], "received_type": "CLIP",
                       "linked_node": ["4", 1]}})})
    assert "input 'model' is connected to the wrong kind of output (CLIP instead of MODEL)" in describe(exc)


def test_http_error_plain_text_500():
    exc = ServerHTTPError(500, URL + "/prompt", "500 Internal Server Error\n\nServer got itself in trouble")
    text = describe(exc)
    assert text.startswith("ComfyUI answered with an error (HTTP 500)")
    assert "\n" not in text and "Server got itself in trouble" in text


def test_job_failed_names_node_and_first_line():
    exc = JobFailed("pid", node_id="8", node_type="VAEDecode",
                    exception_message="Given groups=1, weight of size [4, 4, 1, 1]\nmore detail\n",
                    exception_type="RuntimeError", traceback=["  File x"])
    assert describe(exc) == "Failed in node 8 (VAEDecode): Given groups=1, weight of size [4, 4, 1, 1]"


@pytest.mark.parametrize("exc, expected", [
    (JobInterrupted("pid"), "The job was interrupted before it finished."),
    (JobLost("pid", "gone"), "ComfyUI lost track of the job"),
    (WorkflowError("This workflow has no field 'colour'", "colour"), "This workflow has no field 'colour'"),
    (ComfyError("Something plain"), "Something plain"),
    (FileNotFoundError(2, "No such file", "/x/y.json"), "File not found: /x/y.json"),
    (RuntimeError("boom\nline two"), "Unexpected error (RuntimeError): boom line two"),
])
def test_other_errors(exc, expected):
    text = describe(exc)
    assert text.startswith(expected)
    assert "\n" not in text and "Traceback" not in text


def test_describe_node_errors_tolerates_junk():
    assert describe_node_errors(None) == []
    assert describe_node_errors({"3": "weird", "4": {"errors": []}}) == ["Node 4: invalid"]


def test_local_check_problems_in_words():
    from comfy_ui_app.check import Problem, PromptInvalid

    exc = PromptInvalid([
        Problem("value_smaller_than_min", "3", "KSampler", "steps", "steps", 0, 1),
        Problem("value_not_in_list", "4", "CheckpointLoaderSimple", "ckpt_name", "checkpoint", "x.safetensors",
                ("a.safetensors", "b.safetensors")),
        Problem("invalid_input_type", "3", "KSampler", "cfg", "cfg", "lots", "FLOAT"),
        Problem("missing_node_type", "6", "NoSuchNode"),
    ])
    text = describe(exc)
    assert text.startswith("Please fix the form: ")
    assert "Node 3 (KSampler): Steps must be at least 1 (got 0)" in text
    assert "checkpoint 'x.safetensors' is not installed on the server (choose from: a.safetensors, b.safetensors)" in text
    assert "CFG must be a number, not 'lots'" in text
    assert "Node 6: the node type 'NoSuchNode' is not installed on the server" in text
    assert "\n" not in text
