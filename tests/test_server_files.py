"""Uploads, /view and the inpaint run vs upload.json, view.json and ws_inpaint.json
(tests/fixtures/comfyui). Recorded uploads are replayed in their recorded order."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import requests
from PIL import Image

from comfy_test_server import ComfyTestServer
from comfy_test_server._graph import ExecutionList
from comfy_test_server._nodes import base_table
from comfy_test_server._probe import WsProbe, normalize

FIX = Path(__file__).parent / "fixtures" / "comfyui"
UPLOAD = json.loads((FIX / "upload.json").read_text())
VIEW = json.loads((FIX / "view.json").read_text())
INPAINT = json.loads((FIX / "ws_inpaint.json").read_text())
TXT2IMG = json.loads((FIX / "ws_txt2img_auto.json").read_text())


def png(color, mode="RGB") -> bytes:
    image = Image.new(mode, (64, 64), color)
    if mode == "RGBA":
        image.paste((0, 0, 0, 0), (16, 16, 48, 48))  # the painted (transparent) area
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


# Equal sizes in the recording mean equal bytes (that is what the recorded names show).
CONTENT = {153: png((200, 30, 30)), 157: png((30, 200, 30)), 154: png((30, 30, 200)),
           227: png((255, 255, 255, 255), "RGBA"), 20: b"hello, not an image\n"}
UPLOAD_CASES = [k for k, v in UPLOAD.items() if isinstance(v, dict) and v["request"]["method"] == "POST"]


def replay_upload(server, case: str) -> requests.Response:
    request = UPLOAD[case]["request"]
    files = {field: (f["filename"], CONTENT[f["size"]], f["content_type"]) for field, f in request["files"].items()}
    return requests.post(server.url + request["path"], data=request.get("form_fields", {}), files=files)


def check(recorded: dict, response: requests.Response, note: str):
    assert response.status_code == recorded["status"], note
    assert response.headers.get("Content-Type") == recorded["headers"].get("Content-Type"), note
    if recorded["body_length"] == 0:
        assert response.content == b"", note
    if "json" in recorded:
        assert response.json() == recorded["json"], note
    if "text" in recorded:
        assert response.text == recorded["text"], note


def image_info(body: bytes) -> dict:
    try:
        with Image.open(io.BytesIO(body)) as img:
            keys = list(img.text) if img.format == "PNG" else None
            return {"format": img.format, "size": list(img.size), "mode": img.mode, "png_text_keys": keys}
    except Exception as exc:
        return {"error": f"not an image: {type(exc).__name__}"}


def test_upload_session_replays_upload_json(comfy_server):
    for case in UPLOAD_CASES:
        check(UPLOAD[case]["response"], replay_upload(comfy_server, case), case)
    inputs = Path(comfy_server.dirs["input"])
    assert (inputs / "ref_upload_6a92ea.png").read_bytes() == CONTENT[153]       # overwrite=1 won
    assert (inputs / "ref_upload_6a92ea (1).png").read_bytes() == CONTENT[157]
    assert (inputs / "ref_upload_6a92ea (2).png").read_bytes() == CONTENT[154]
    assert (Path(comfy_server.dirs["output"]) / "ref" / "sub" / "ref_upload_6a92ea.png").exists()
    assert (Path(comfy_server.dirs["temp"]) / "ref_upload_6a92ea.png").exists()
    assert (inputs / "refdir" / "ref_upload_6a92ea.png").exists()
    assert not (inputs / "ref_mask_evil.png").exists() and not (inputs / "ref_mask_nofile.png").exists()
    with Image.open(inputs / "ref_inpaint_masked.png") as merged:
        assert merged.mode == "RGBA" and merged.getpixel((32, 32)) == (200, 30, 30, 0)
        assert merged.getpixel((2, 2)) == (200, 30, 30, 255)

    view = UPLOAD["view_masked_rgba"]
    response = requests.get(comfy_server.url + "/view", params=view["request"]["params"])
    check(view["response"], response, "view_masked_rgba")
    assert image_info(response.content) == view["response"]["image"]
    assert response.headers["Content-Disposition"] == view["response"]["headers"]["Content-Disposition"]

    listing = UPLOAD["object_info_LoadImage_after_uploads"]
    check(listing["response"], requests.get(comfy_server.url + "/object_info/LoadImage"), "LoadImage choices")
    assert [u["route"] for u in comfy_server.uploads] == \
        [UPLOAD[c]["request"]["path"].replace("/api", "") for c in UPLOAD_CASES]
    assert comfy_server.uploads[0]["bytes"] == CONTENT[153]
    assert comfy_server.uploads[0]["filename"] == "ref_upload_6a92ea.png"
    assert comfy_server.uploads[4]["fields"] == {"overwrite": "true"}


@pytest.fixture
def inpaint_ready(comfy_server):
    return prepare_inpaint_inputs(comfy_server)


def prepare_inpaint_inputs(comfy_server):
    """Uploads as recorded, then two txt2img runs (ref_txt2img_00001_/00002_; loader cached)."""
    for case in ("type_output_subfolder", "non_image_file", "inpaint_base_upload", "upload_mask",
                 "plain_mask_as_image_upload"):
        assert replay_upload(comfy_server, case).status_code == 200, case
    probe = WsProbe(comfy_server.url, "ref-view")
    prompt = TXT2IMG["legacy_client_cold"]["post_prompt"]["request"]["json"]["prompt"]
    for seed in (1, 2):
        prompt["3"]["inputs"]["seed"] = seed
        probe.until_done(requests.post(comfy_server.url + "/prompt",
                                       json={"prompt": prompt, "client_id": "ref-view"}).json()["prompt_id"])
    probe.close()
    return comfy_server


@pytest.fixture(scope="module")
def view_ready(tmp_path_factory):
    """A server holding the files view.json was recorded against (made the same way);
    shared by the read-only /view cases."""
    with ComfyTestServer(root=tmp_path_factory.mktemp("view")) as comfy_server:
        yield prepare_view_files(prepare_inpaint_inputs(comfy_server))


def prepare_view_files(comfy_server):
    probe = WsProbe(comfy_server.url, "ref-view")
    body = dict(INPAINT["post_prompt"]["request"]["json"], client_id="ref-view")
    pid = requests.post(comfy_server.url + "/prompt", json=body).json()["prompt_id"]
    messages = probe.until_done(pid)
    temp_name = next(d["data"]["output"]["images"][0]["filename"] for k, d in messages
                     if k == "text" and d["type"] == "executed" and d["data"]["node"] == "9")
    return comfy_server, temp_name


VIEW_CASES = [k for k, v in VIEW.items() if isinstance(v, dict) and "request" in v]


@pytest.mark.parametrize("case", VIEW_CASES)
def test_view_cases_match_view_json(view_ready, case):
    server, temp_name = view_ready
    request, recorded = VIEW[case]["request"], VIEW[case]["response"]
    params = dict(request.get("params", {}))
    if params.get("filename") == "ComfyUI_temp_udruy_00001_.png":
        params["filename"] = temp_name
        recorded = json.loads(json.dumps(recorded).replace("ComfyUI_temp_udruy_00001_.png", temp_name))
    response = requests.get(server.url + request["path"], params=params or None)
    check(recorded, response, case)
    skip = {"Date", "Server", "Content-Length", "Transfer-Encoding"}
    assert sorted(set(response.headers) - skip) == sorted(set(recorded["headers"]) - skip), case
    if "Content-Disposition" in recorded["headers"]:
        assert response.headers["Content-Disposition"] == recorded["headers"]["Content-Disposition"]
    if "image" in recorded:
        assert image_info(response.content) == recorded["image"], case
    if "body_first_bytes_hex" in recorded:
        prefix = bytes.fromhex(recorded["body_first_bytes_hex"])[:4]
        assert response.content[:4] == prefix, case


def test_inpaint_run_matches_ws_inpaint_json(inpaint_ready):
    server = inpaint_ready
    body = INPAINT["post_prompt"]["request"]["json"]
    probe = WsProbe(server.url, body["client_id"])
    response = requests.post(server.url + "/prompt", json=body)
    messages = probe.until_done(response.json()["prompt_id"])
    mine, recorded = normalize(probe.summary(messages)), normalize(INPAINT["sequence_summary"])
    # ComfyUI's outputs_to_execute is a set (hash-randomised order); ours is prompt order, which
    # only swaps the two independent outputs 8 and 9 relative to the capture.
    assert sorted(mine) == sorted(recorded[1:])
    start = recorded.index("executing(node=7)")
    end = recorded.index("executing(node=11)")
    assert mine[:start - 1] == recorded[1:start]
    assert mine[end - 1:] == recorded[end:]
    for node in ("8", "9", "16"):
        assert mine[mine.index(f"executing(node={node})") + 1] == f"executed(node={node})"
    entry = requests.get(f"{server.url}/history/{response.json()['prompt_id']}").json()
    entry = next(iter(entry.values()))
    theirs = next(iter(INPAINT["history_after"]["response"]["json"].values()))
    assert sorted(entry["prompt"][4]) == sorted(theirs["prompt"][4])
    assert sorted(entry["outputs"]) == sorted(theirs["outputs"]) and entry["meta"].keys() == theirs["meta"].keys()
    assert entry["outputs"]["8"] == theirs["outputs"]["8"] and entry["outputs"]["16"] == theirs["outputs"]["16"]
    assert entry["outputs"]["9"]["images"][0]["type"] == "temp"
    for output in entry["outputs"].values():
        image = output["images"][0]
        folder = server.dirs[image["type"]]
        with Image.open(os.path.join(folder, image["subfolder"], image["filename"])) as img:
            assert img.size == (64, 64) and "prompt" in img.text


def test_execution_order_port_reproduces_the_capture():
    """With the capture's outputs_to_execute order, the staging order is the recorded one."""
    prompt = INPAINT["post_prompt"]["request"]["json"]["prompt"]
    outputs = next(iter(INPAINT["history_after"]["response"]["json"].values()))["prompt"][4]
    cached = INPAINT["websocket"]["messages"][4]["data"]["data"]["nodes"]
    order = ExecutionList(prompt, lambda n: n in cached, lambda n: base_table()[prompt[n]["class_type"]]["output_node"])
    for node in outputs:
        order.add_node(node)
    ran = []
    while not order.is_empty():
        ran.append(order.next_node())
        order.complete(ran[-1])
    recorded = [s[len("executing(node="):-1] for s in INPAINT["sequence_summary"] if s.startswith("executing(")]
    assert ran == recorded[:-1]


def test_the_loras_knob_lists_them_where_comfyui_does(make_comfy_server):
    """``loras=``: LoraLoader's choices and ``/models/loras``, as ComfyUI lists models/loras
    (the recorded server had none: both empty by default)."""
    import requests

    server = make_comfy_server(loras=["a.safetensors", "b.safetensors"])
    info = requests.get(server.url + "/object_info/LoraLoader", timeout=5).json()
    assert info["LoraLoader"]["input"]["required"]["lora_name"][0] == ["a.safetensors", "b.safetensors"]
    assert requests.get(server.url + "/models/loras", timeout=5).json() == ["a.safetensors", "b.safetensors"]
    plain = make_comfy_server()
    assert requests.get(plain.url + "/models/loras", timeout=5).json() == []
    assert requests.get(plain.url + "/object_info", timeout=5).json()["LoraLoader"]["input"]["required"][
        "lora_name"][0] == []
