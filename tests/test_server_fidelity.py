"""Replays the real-ComfyUI recordings (tests/fixtures/comfyui) against ComfyTestServer.

Each case is named after the recording it replays. HTTP: same status, Content-Type,
empty-or-not body and JSON (exact where the real answer is deterministic, same shape
otherwise). WebSocket: same ``sequence_summary`` (binary lengths aside), same data
keys per message, same binary frame layout.
"""
from __future__ import annotations

import copy
import io
import json
import re
import struct
from pathlib import Path

import pytest
import requests
from PIL import Image

from comfy_test_server._probe import WsProbe, normalize

FIX = Path(__file__).parent / "fixtures" / "comfyui"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def rec(name: str):
    return json.loads((FIX / name).read_text())


GETS = rec("http_get_endpoints.json")["responses"]
ERRORS = rec("post_prompt_errors.json")["cases"]
TXT2IMG = rec("ws_txt2img_auto.json")


def shape(value):
    """Structure with leaves replaced by type names (int and float kept apart);
    a list becomes the list of its distinct element shapes."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        out = []
        for item in map(shape, value):
            if item not in out:
                out.append(item)
        return out
    return type(value).__name__


def txt2img(seed=1001, prefix="ref_txt2img", width=64, text=None):
    prompt = copy.deepcopy(TXT2IMG["legacy_client_cold"]["post_prompt"]["request"]["json"]["prompt"])
    prompt["3"]["inputs"]["seed"] = seed
    prompt["9"]["inputs"]["filename_prefix"] = prefix
    prompt["5"]["inputs"]["width"] = width
    if text is not None:
        prompt["6"]["inputs"]["text"] = prompt["7"]["inputs"]["text"] = text
    return prompt


def run_prompt(server, body: dict, probe: WsProbe, path="/prompt"):
    response = requests.post(server.url + path, json=body)
    assert response.status_code == 200, response.text
    prompt_id = response.json()["prompt_id"]
    return response, probe.until_done(prompt_id)


def warm_up(server, **kw):
    probe = WsProbe(server.url, "warm-up")
    run_prompt(server, {"prompt": txt2img(**kw), "client_id": "warm-up"}, probe)
    probe.close()


def check_response(recorded: dict, response: requests.Response, exact=True, note=""):
    assert response.status_code == recorded["status"], note
    assert response.headers.get("Content-Type") == recorded["headers"].get("Content-Type"), note
    if recorded["body_length"] == 0:
        assert response.content == b"", note
    if "json" in recorded:
        if exact:
            assert response.json() == recorded["json"], note
        else:
            assert shape(response.json()) == shape(recorded["json"]), note
    if "text" in recorded:
        assert response.text == recorded["text"], note


# -- idle GETs -----------------------------------------------------------------------
EXACT_GETS = ["/embeddings", "/models", "/models/checkpoints", "/models/loras", "/models/vae",
              "/models/does_not_exist", "/extensions", "/object_info/KSampler",
              "/object_info/CheckpointLoaderSimple", "/object_info/LoadImage", "/object_info/NoSuchNode",
              "/prompt", "/queue", "/features", "/history", "/interrupt", "/free", "/upload/image",
              "/settings", "/users", "/internal/files/output", "/userdata?dir=workflows",
              "/view_metadata/checkpoints?filename=tiny-sd15-random.safetensors"]
SHAPED_GETS = ["/system_stats", "/experiment/models", "/experiment/models/checkpoints", "/internal/folder_paths"]


@pytest.mark.parametrize("path", EXACT_GETS + SHAPED_GETS)
def test_idle_get_matches_recording(comfy_server, path):
    recorded = GETS[path]
    response = requests.get(comfy_server.url + recorded["request"]["path"], params=recorded["request"].get("params"))
    check_response(recorded["response"], response, exact=path in EXACT_GETS, note=path)
    if recorded["response"]["headers"].get("Transfer-Encoding") == "chunked":
        assert response.headers.get("Transfer-Encoding") == "chunked"
    if path == "/internal/folder_paths":
        assert response.json()["checkpoints"][0] == str(comfy_server.root / "models" / "checkpoints")


def test_full_object_info_is_the_recorded_body_byte_for_byte(comfy_server):
    response = requests.get(comfy_server.url + "/object_info")
    assert response.headers["Content-Type"] == GETS["/object_info"]["response"]["headers"]["Content-Type"]
    assert response.content == (FIX / "object_info.json").read_bytes()


@pytest.mark.parametrize("path", list(rec("api_prefix_comparison.json")["comparison"]))
def test_api_prefix_twins(comfy_server, path):
    recorded = rec("api_prefix_comparison.json")["comparison"][path]
    base = comfy_server.url
    if path == "/ws (websocket)":
        probe = WsProbe(base, "ref-apiws", path="/api/ws", read_status=False)
        kind, first = probe.recv()
        assert first == recorded["first_message"]
        probe.close()
        return
    plain, api = requests.get(base + path), requests.get(base + "/api" + path)
    assert (plain.status_code, api.status_code) == (recorded["status_plain"], recorded["status_api"])
    assert (plain.content == api.content) == recorded["body_identical"]
    if "api_response" in recorded:
        assert api.content == b"" and api.headers["Content-Type"] == "application/octet-stream"


def test_ws_without_client_id_gets_a_32_hex_sid(comfy_server):
    probe = WsProbe(comfy_server.url, read_status=False)
    _, first = probe.recv()
    recorded = GETS["/ws without clientId: first message"]
    assert shape(first) == shape(recorded) and first["data"]["status"] == recorded["data"]["status"]
    assert re.fullmatch(r"[0-9a-f]{32}", first["data"]["sid"])


@pytest.mark.parametrize("origin", list(GETS["origin_check"]))
def test_origin_check(comfy_server, origin):
    recorded = GETS["origin_check"][origin]
    port = comfy_server.port
    if origin.startswith("POST"):
        response = requests.post(comfy_server.url + "/prompt", headers={"Origin": "http://example.com"},
                                 json={"prompt": txt2img()})
    else:
        response = requests.get(comfy_server.url + "/prompt", headers={"Origin": origin.replace(":8188", f":{port}")})
    assert response.status_code == recorded["status"]
    assert (response.json() if recorded["body"] is not None else response.content) == (recorded["body"] or b"")


def test_origin_check_applies_to_the_websocket(comfy_server):
    import websocket
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        websocket.create_connection(comfy_server.url.replace("http", "ws") + "/ws",
                                    origin="http://example.com", timeout=5)
    assert info.value.status_code == 403


# -- POST /prompt validation -----------------------------------------------------------
INVALID_CASES = [k for k, v in ERRORS.items() if v.get("response", {}).get("status") != 200
                 and "post_prompt" not in v]


@pytest.mark.parametrize("case", INVALID_CASES)
def test_post_prompt_errors_match_recording(comfy_server, case):
    request, recorded = ERRORS[case]["request"], ERRORS[case]["response"]
    if "raw_body" in request:
        response = requests.post(comfy_server.url + request["path"], data=request["raw_body"].encode(),
                                 headers=request["headers"])
    else:
        response = requests.post(comfy_server.url + request["path"], json=request["json"])
    check_response(recorded, response, note=case)
    assert comfy_server.received_prompts == []


def test_one_good_one_bad_output_is_accepted_and_runs_only_the_good_one(comfy_server):
    case = ERRORS["one_good_one_bad_output_accepted"]
    probe = WsProbe(comfy_server.url, case["request"]["json"]["client_id"])
    response, messages = run_prompt(comfy_server, case["request"]["json"], probe)
    check_response(case["response"], response, exact=False)
    assert response.json()["node_errors"] == case["response"]["json"]["node_errors"]
    assert UUID_RE.match(response.json()["prompt_id"])
    assert [d["data"]["node"] for k, d in messages if k == "text" and d["type"] == "executed"] == ["9"]


def test_number_counts_every_post_without_number_even_failed_ones(comfy_server):
    bad = requests.post(comfy_server.url + "/prompt", json={"prompt": {}})
    assert bad.status_code == 400
    requests.post(comfy_server.url + "/prompt", json={"client_id": "x"})
    good = requests.post(comfy_server.url + "/prompt", json={"prompt": txt2img()})
    assert good.json()["number"] == 2


def test_runtime_error_sequence_and_history(comfy_server):
    case = ERRORS["runtime_error_execution_error"]
    warm_up(comfy_server)  # the recording had the checkpoint loader cached
    recorded_error = next(m["data"]["data"] for m in case["websocket"]["messages"]
                          if m["kind"] == "text" and m["data"]["type"] == "execution_error")
    comfy_server.fail_next("3", recorded_error["exception_message"], recorded_error["exception_type"])
    body = case["post_prompt"]["request"]["json"]
    probe = WsProbe(comfy_server.url, body["client_id"])
    response, messages = run_prompt(comfy_server, body, probe)
    assert normalize(probe.summary()) == normalize(case["sequence_summary"])
    error = next(d["data"] for k, d in messages if k == "text" and d["type"] == "execution_error")
    assert list(error) == list(recorded_error)
    for key in ("node_id", "node_type", "executed", "exception_message", "exception_type"):
        assert error[key] == recorded_error[key], key
    assert list(error["current_inputs"]) == list(recorded_error["current_inputs"])
    assert all(isinstance(line, str) for line in error["traceback"]) and error["traceback"]
    assert sorted(error["current_outputs"]) == sorted(recorded_error["current_outputs"])
    history = requests.get(f"{comfy_server.url}/history/{error['prompt_id']}").json()
    recorded_history = next(iter(rec("history.json")["get_history_runtime_error"]["response"]["json"].values()))
    entry = history[error["prompt_id"]]
    assert shape(entry) == shape(recorded_history)
    assert entry["outputs"] == {} and entry["meta"] == {}
    assert {k: v for k, v in entry["status"].items() if k != "messages"} == \
        {k: v for k, v in recorded_history["status"].items() if k != "messages"}


# -- txt2img WebSocket sessions ------------------------------------------------------------
def test_txt2img_session_replays_ws_txt2img_auto(comfy_server):
    """All six captures of ws_txt2img_auto.json, in their recorded order on a fresh server."""
    for name, case in TXT2IMG.items():
        body = case["post_prompt"]["request"]["json"]
        path = case["post_prompt"]["request"]["path"]
        ws_path = case["websocket"]["url"].split("?")[0]
        probe = WsProbe(comfy_server.url, body["client_id"], path=ws_path,
                        feature_flags=name == "preview_metadata_client")
        response, _ = run_prompt(comfy_server, body, probe, path=path)
        recorded_post = case["post_prompt"]["response"]
        check_response(recorded_post, response, exact=False, note=name)
        assert response.json()["number"] == recorded_post["json"]["number"], name
        if "prompt_id" in body:
            assert response.json()["prompt_id"] == body["prompt_id"]
        assert normalize(probe.summary()) == normalize(case["sequence_summary"]), name
        recorded = [d for k, d in ((m["kind"], m.get("data")) for m in case["websocket"]["messages"])
                    if k == "text"]
        mine = probe.texts()
        assert [shape_keys(d) for d in mine] == [shape_keys(d) for d in recorded], name
        for ours, theirs in zip(mine, recorded):
            if theirs["type"] in ("execution_cached", "executed", "feature_flags"):
                strip = {"prompt_id", "timestamp"}
                assert {k: v for k, v in ours["data"].items() if k not in strip} == \
                       {k: v for k, v in theirs["data"].items() if k not in strip}, name
        check_frames(probe, case, name)
        history = requests.get(f"{comfy_server.url}/history/{response.json()['prompt_id']}")
        check_history(history, case["history_after"]["response"], name)
        probe.close()


def shape_keys(message: dict):
    data = message["data"]
    if message["type"] == "progress_state":
        return message["type"], sorted({k for node in data["nodes"].values() for k in node})
    return message["type"], list(data) if isinstance(data, dict) else data


def check_frames(probe: WsProbe, case: dict, name: str):
    recorded = [m for m in case["websocket"]["messages"] if m["kind"] == "binary"]
    frames = [d for k, d in probe.messages if k == "binary"]
    assert len(frames) == len(recorded), name
    for frame, theirs in zip(frames, recorded):
        event, second = struct.unpack(">II", frame[:8])
        assert (event, frame[:8].hex()[:8]) == (theirs["event_type"], theirs["first8_hex"][:8]), name
        if event == 1:
            assert second == theirs["second_uint32"] == 1
            image = frame[8:]
        else:
            metadata = json.loads(frame[8:8 + second])
            assert list(metadata) == list(theirs["metadata"]), name
            assert {k: v for k, v in metadata.items() if k != "prompt_id"} == \
                   {k: v for k, v in theirs["metadata"].items() if k != "prompt_id"}
            assert second == len(json.dumps(metadata).encode())
            assert second == theirs["second_uint32"] == theirs["metadata_length"]  # same-length prompt ids
            image = frame[8 + second:]
        with Image.open(io.BytesIO(image)) as img:
            assert (img.format, list(img.size), img.mode) == \
                   (theirs["image"]["format"], theirs["image"]["size"], theirs["image"]["mode"]), name


def check_history(response, recorded: dict, name: str):
    assert response.status_code == 200 and response.headers["Content-Type"] == recorded["headers"]["Content-Type"]
    (entry,), (theirs,) = response.json().values(), recorded["json"].values()
    assert shape(entry) == shape(theirs), name
    assert entry["prompt"][2:] == theirs["prompt"][2:], name
    assert entry["prompt"][0] == theirs["prompt"][0], name
    assert entry["outputs"] == theirs["outputs"] and entry["meta"] == theirs["meta"], name
    assert [m[0] for m in entry["status"]["messages"]] == [m[0] for m in theirs["status"]["messages"]], name
    assert [m[1].get("nodes") for m in entry["status"]["messages"]] == \
           [m[1].get("nodes") for m in theirs["status"]["messages"]], name


@pytest.mark.parametrize("recording", ["ws_txt2img_nopreview.json", "ws_txt2img_latent2rgb.json"])
def test_cold_and_warm_runs_per_preview_method(make_comfy_server, recording):
    data = rec(recording)
    server = make_comfy_server(preview=data["server_preview_method"] != "nopreview")
    for name in ("cold_run", "warm_run"):
        case = data[name]
        body = case["post_prompt"]["request"]["json"]
        probe = WsProbe(server.url, body["client_id"])
        response, _ = run_prompt(server, body, probe)
        assert response.json()["number"] == case["post_prompt"]["response"]["json"]["number"]
        assert normalize(probe.summary()) == normalize(case["sequence_summary"]), f"{recording} {name}"
        check_frames(probe, case, f"{recording} {name}")
        probe.close()


# -- who receives what ----------------------------------------------------------------------
SEMANTICS = rec("ws_client_id_semantics.json")


def test_prompt_without_client_id_seen_from_another_socket(comfy_server):
    case = SEMANTICS["no_client_id_in_post"]
    warm_up(comfy_server, seed=1, width=128, text="warm")  # only the loader ("4") was cached
    observer = WsProbe(comfy_server.url, case["observer_socket"]["client_id"])
    response = requests.post(comfy_server.url + "/prompt", json=case["post_prompt"]["request"]["json"])
    assert response.status_code == 200
    observer.until(lambda k, d: k == "text" and d["type"] == "status"
                   and d["data"]["status"]["exec_info"]["queue_remaining"] == 0
                   and len(observer.messages) > 3)
    assert normalize(observer.summary()) == normalize(case["observer_socket_sequence_summary"])
    assert observer.quiet(0.1) == []


@pytest.mark.parametrize("case_name", ["same_client_id_old_socket_closed_after_new_opened",
                                       "same_client_id_both_open"])
def test_client_id_reuse(comfy_server, case_name):
    case = SEMANTICS[case_name]
    body = case["post_prompt"]["request"]["json"]
    warm_up(comfy_server, seed=7)  # the recordings ran with loader and text encoders cached
    old = WsProbe(comfy_server.url, body["client_id"])
    new = WsProbe(comfy_server.url, body["client_id"])
    watcher = WsProbe(comfy_server.url, "watcher")
    if case_name.startswith("same_client_id_old_socket_closed"):
        assert old.summary() == case["old_socket_summary"]
        old.close()
        watcher.quiet(0.1)
    response = requests.post(comfy_server.url + "/prompt", json=body)
    watcher.until(lambda k, d: k == "text" and d["type"] == "status"
                  and d["data"]["status"]["exec_info"]["queue_remaining"] == 0)
    if case_name.endswith("both_open"):
        new.until_done(response.json()["prompt_id"])
        assert old.quiet(0.1) == []
        assert old.summary() == case["old_socket_summary"]
    new.quiet(0.1)
    assert normalize(new.summary()) == normalize(case["new_socket_summary"])
