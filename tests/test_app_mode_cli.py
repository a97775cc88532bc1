"""The command line with a workflow saved in ComfyUI's App mode (issue 14 point 4): ``fields``
lists the inputs its author chose, in order, with their labels; ``generate --set`` takes them
by those names (and every other field's, as before)."""
from __future__ import annotations

import json
from pathlib import Path


FIXTURES = Path(__file__).parent / "fixtures"
APP_WORKFLOW = FIXTURES / "app_mode" / "txt2img_app.json"
OBJECT_INFO = FIXTURES / "comfyui" / "object_info.json"


def test_fields_lists_the_app_mode_inputs_in_order_with_labels(cli):
    code, out, err = cli("fields", APP_WORKFLOW, "--object-info", OBJECT_INFO)
    assert code == 0, err
    assert [(f["name"], f["label"], f["node_id"], f["input_name"], f["advanced"]) for f in json.loads(out)] == [
        ("prompt", "Describe your picture", "6", "text", False), ("seed", "Lucky number", "3", "seed", False),
        ("width", "Picture width", "5", "width", False), ("steps", "Steps", "3", "steps", False)]
    assert "App mode: the inputs the workflow's author chose, in their order." in err


def test_fields_of_the_same_workflow_without_linear_data_is_discovery(cli, tmp_path):
    workflow = json.loads(APP_WORKFLOW.read_text())
    del workflow["extra"]["linearData"]
    path = tmp_path / "plain.json"
    path.write_text(json.dumps(workflow))
    code, out, err = cli("fields", path, "--object-info", OBJECT_INFO)
    assert code == 0, err
    names = [f["name"] for f in json.loads(out)]
    assert names[:3] == ["prompt", "negative", "seed"] and "checkpoint" in names and "App mode" not in err


def test_generate_takes_the_app_mode_names(cli, comfy_server, tmp_path):
    code, out, err = cli("generate", "--workflow", APP_WORKFLOW, "--server", comfy_server.url, "--out", tmp_path,
                         "--set", "prompt=a red fox", "--set", "seed=7", "--set", "width=64", "--set", "steps=1",
                         "--set", "height=64", "--set", "3.cfg=5.5")  # fields the author left out: still settable
    assert code == 0, err
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert (sent["6"]["inputs"]["text"], sent["3"]["inputs"]["seed"], sent["5"]["inputs"]["width"],
            sent["3"]["inputs"]["steps"], sent["5"]["inputs"]["height"], sent["3"]["inputs"]["cfg"]) == (
        "a red fox", 7, 64, 1, 64, 5.5)
    assert "is not on the server; using" in out  # the checkpoint the author left out is still replaced
    assert list(tmp_path.glob("*.png"))


def test_generate_names_the_app_mode_fields_for_an_unknown_name(cli, comfy_server, tmp_path):
    code, _, err = cli("generate", "--workflow", APP_WORKFLOW, "--server", comfy_server.url, "--out", tmp_path,
                       "--set", "subject=x")
    assert code == 2
    assert "This workflow has no field 'subject' (it has: prompt, seed, steps, width)" in err
