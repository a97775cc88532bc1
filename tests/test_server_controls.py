"""The test server's own API: knobs, failure injection, controls, records, CLI."""
from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import websocket
from PIL import Image

from comfy_test_server import ComfyTestServer
from comfy_test_server._probe import WsProbe

FIX = Path(__file__).parent / "fixtures" / "comfyui"
TXT2IMG = json.loads((FIX / "ws_txt2img_auto.json").read_text())
BASE = TXT2IMG["legacy_client_cold"]["post_prompt"]["request"]["json"]["prompt"]


def graph(seed=1, steps=4, width=64, height=64, batch=1, prefix="t"):
    g = json.loads(json.dumps(BASE))
    g["3"]["inputs"].update(seed=seed, steps=steps)
    g["5"]["inputs"].update(width=width, height=height, batch_size=batch)
    g["9"]["inputs"]["filename_prefix"] = prefix
    return g


def submit(server, probe, prompt, **body):
    response = requests.post(server.url + "/prompt", json={"prompt": prompt, "client_id": probe.client_id, **body})
    assert response.status_code == 200, response.text
    return response.json()["prompt_id"]


def test_fixture_gives_a_started_server_with_comfy_dirs(comfy_server):
    assert comfy_server.url == f"http://127.0.0.1:{comfy_server.port}"
    for kind in ("input", "output", "temp"):
        assert (comfy_server.root / kind).is_dir()
    assert (comfy_server.root / "input" / "example.png").exists()
    assert requests.get(comfy_server.url + "/system_stats").json()["system"]["argv"][5] == str(comfy_server.port)


def test_start_is_fast_and_stop_is_idempotent(tmp_path):
    began = time.perf_counter()
    server = ComfyTestServer(root=tmp_path).start()
    assert time.perf_counter() - began < 0.5
    assert requests.get(server.url + "/prompt").status_code == 200
    server.stop()
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/prompt", timeout=2)


def test_context_manager_and_own_tempdir_cleanup():
    with ComfyTestServer() as server:
        root = server.root
        assert requests.get(server.url + "/queue").status_code == 200
    assert not root.exists()


def test_a_small_job_is_fast(comfy_server):
    probe = WsProbe(comfy_server.url, "speed")
    submit(comfy_server, probe, graph(seed=0))  # warm the preview cache
    probe.until(lambda k, d: k == "text" and d["type"] == "executing" and d["data"]["node"] is None)
    began = time.perf_counter()
    probe.until_done(submit(comfy_server, probe, graph(seed=1)))
    assert time.perf_counter() - began < 0.25


def test_fail_next_defaults_to_the_sampler_and_is_one_shot(comfy_server):
    probe = WsProbe(comfy_server.url, "fail")
    comfy_server.fail_next(message="boom", exception_type="torch.OutOfMemoryError")
    pid = submit(comfy_server, probe, graph(seed=1))
    summary = probe.summary(probe.until_done(pid))
    assert summary[-4:] == ["executing(node=3)", "execution_error", "status(queue_remaining=0)",
                            "executing(node=None)"]
    error = probe.texts("execution_error")[0]["data"]
    assert (error["node_id"], error["node_type"], error["exception_message"], error["exception_type"]) == \
        ("3", "KSampler", "boom", "torch.OutOfMemoryError")
    assert error["executed"] == ["4", "5", "7", "6"] and error["current_inputs"]["seed"] == [1]
    assert requests.get(f"{comfy_server.url}/history/{pid}").json()[pid]["status"]["status_str"] == "error"
    pid = submit(comfy_server, probe, graph(seed=2))
    assert probe.summary(probe.until_done(pid))[-3] == "execution_success"


def test_fail_next_at_a_named_node_keeps_earlier_outputs(comfy_server):
    probe = WsProbe(comfy_server.url, "fail")
    prompt = graph(seed=3)
    prompt["10"] = {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}
    prompt["11"] = {"class_type": "SaveImage", "inputs": {"filename_prefix": "late", "images": ["8", 0]}}
    comfy_server.fail_next("11")
    pid = submit(comfy_server, probe, prompt)
    probe.until_done(pid)
    assert probe.texts("execution_error")[0]["data"]["node_id"] == "11"
    entry = requests.get(f"{comfy_server.url}/history/{pid}").json()[pid]
    assert sorted(entry["outputs"]) == ["10", "9"] and entry["status"]["completed"] is False


def test_a_node_that_crashes_reports_execution_error(comfy_server):
    probe = WsProbe(comfy_server.url, "crash")
    pid = submit(comfy_server, probe, graph(prefix="../../escape"))
    probe.until_done(pid)
    error = probe.texts("execution_error")[0]["data"]
    assert error["node_id"] == "9" and error["exception_type"] == "Exception"
    assert "Saving image outside the output folder is not allowed" in error["exception_message"]


def test_hang_next_holds_the_sampler_until_interrupted(comfy_server):
    probe = WsProbe(comfy_server.url, "hang")
    comfy_server.hang_next()
    pid = submit(comfy_server, probe, graph(seed=4))
    probe.until(lambda k, d: k == "text" and d["type"] == "executing" and d["data"]["node"] == "3")
    assert probe.quiet(0.3) == []
    assert requests.get(comfy_server.url + "/queue").json()["queue_running"][0][1] == pid
    requests.post(comfy_server.url + "/interrupt", json={"prompt_id": pid})
    assert probe.summary(probe.until_done(pid))[0] == "execution_interrupted"


def test_stop_while_hung_returns_quickly(make_comfy_server):
    server = make_comfy_server()
    probe = WsProbe(server.url, "hang")
    server.hang_next()
    submit(server, probe, graph(seed=5))
    probe.until(lambda k, d: k == "text" and d["type"] == "executing" and d["data"]["node"] == "3")
    began = time.perf_counter()
    server.stop()
    assert time.perf_counter() - began < 2


def test_drop_websockets_then_reconnect(comfy_server):
    probe = WsProbe(comfy_server.url, "dropme")
    comfy_server.drop_websockets()
    with pytest.raises((ConnectionError, websocket.WebSocketException, OSError)):
        probe.recv(timeout=2)
    again = WsProbe(comfy_server.url, "dropme")
    assert again.texts()[0]["data"]["sid"] == "dropme"
    pid = submit(comfy_server, again, graph(seed=6))
    assert again.summary(again.until_done(pid))[-3] == "execution_success"


def test_pause_and_resume(comfy_server):
    probe = WsProbe(comfy_server.url, "paused")
    comfy_server.pause()
    ids = [submit(comfy_server, probe, graph(seed=10 + i)) for i in range(3)]
    time.sleep(0.1)
    queue = requests.get(comfy_server.url + "/queue").json()
    assert queue["queue_running"] == [] and sorted(i[1] for i in queue["queue_pending"]) == sorted(ids)
    comfy_server.resume()
    probe.until_done(ids[-1])
    assert list(requests.get(comfy_server.url + "/history").json()) == ids


def test_received_prompts_and_uploads_are_recorded(comfy_server):
    body = {"prompt": graph(seed=7), "client_id": "rec", "extra_data": {"k": 1}}
    requests.post(comfy_server.url + "/prompt", json=body)
    requests.post(comfy_server.url + "/prompt", json={"prompt": {}})                 # rejected: not recorded
    assert comfy_server.received_prompts == [body]
    requests.post(comfy_server.url + "/api/upload/image", data={"overwrite": "1"},
                  files={"image": ("a.png", b"\x89PNG-ish", "image/png")})
    assert comfy_server.uploads == [{"route": "/upload/image", "path": "/api/upload/image",
                                     "fields": {"overwrite": "1"}, "filename": "a.png", "bytes": b"\x89PNG-ish"}]


def test_steps_knob_and_step_time(make_comfy_server):
    server = make_comfy_server(steps=2, step_time=0.05)
    probe = WsProbe(server.url, "steps")
    began = time.perf_counter()
    probe.until_done(submit(server, probe, graph(steps=30)))
    assert time.perf_counter() - began >= 0.1
    assert [d["data"]["max"] for d in probe.texts("progress")] == [2, 2]


def test_preview_knobs(make_comfy_server):
    silent = make_comfy_server(preview=False)
    probe = WsProbe(silent.url, "p")
    probe.until_done(submit(silent, probe, graph()))
    assert [k for k, _ in probe.messages if k == "binary"] == []
    small = make_comfy_server(preview_size=256)
    probe = WsProbe(small.url, "p", feature_flags=True)
    probe.until_done(submit(small, probe, graph(width=128, height=64)))
    frame = next(d for k, d in probe.messages if k == "binary")
    event, length = struct.unpack(">II", frame[:8])
    meta = json.loads(frame[8:8 + length])
    assert event == 4 and meta["node_id"] == "3" and meta["image_type"] == "image/jpeg"
    with Image.open(io.BytesIO(frame[8 + length:])) as img:
        assert (img.format, img.size) == ("JPEG", (256, 128))


def test_checkpoints_knob(make_comfy_server):
    server = make_comfy_server(checkpoints=["a.safetensors", "b.ckpt"])
    assert requests.get(server.url + "/models/checkpoints").json() == ["a.safetensors", "b.ckpt"]
    spec = requests.get(server.url + "/object_info/CheckpointLoaderSimple").json()
    assert spec["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] == ["a.safetensors", "b.ckpt"]
    bad = requests.post(server.url + "/prompt", json={"prompt": graph()})
    assert bad.json()["node_errors"]["4"]["errors"][0]["details"] == \
        "ckpt_name: 'tiny-sd15-random.safetensors' not in ['a.safetensors', 'b.ckpt']"
    good = graph()
    good["4"]["inputs"]["ckpt_name"] = "b.ckpt"
    assert requests.post(server.url + "/prompt", json={"prompt": good}).status_code == 200
    assert requests.get(server.url + "/object_info").json()["CheckpointLoader"]["input"]["required"][
        "ckpt_name"][0] == ["a.safetensors", "b.ckpt"]


def test_newer_server_errors(make_comfy_server):
    server = make_comfy_server(newer_server=True)
    prompt = graph()
    prompt["6"]["class_type"] = "NoSuchNodeType"
    error = requests.post(server.url + "/prompt", json={"prompt": prompt}).json()["error"]
    assert error == {"type": "missing_node_type", "message": "Node 'NoSuchNodeType' not found. The custom node may "
                     "not be installed.", "details": "Node ID '#6'",
                     "extra_info": {"node_id": "6", "class_type": "NoSuchNodeType", "node_title": "NoSuchNodeType"}}
    del prompt["6"]["class_type"]
    assert requests.post(server.url + "/prompt", json={"prompt": prompt}).json()["error"]["message"] == \
        "Node 'ID #6' has no class_type. The workflow may be corrupted or a custom node is missing."
    for bad_id in ("my-custom-prompt-id-0001", str(uuid.uuid4()).upper(), 5):
        response = requests.post(server.url + "/prompt", json={"prompt": graph(), "prompt_id": bad_id})
        assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_prompt_id"
    good = str(uuid.uuid4())
    assert requests.post(server.url + "/prompt", json={"prompt": graph(), "prompt_id": good}).json()["prompt_id"] == good


def test_pngs_have_the_graph_size_batch_and_metadata(comfy_server):
    probe = WsProbe(comfy_server.url, "png")
    workflow = {"nodes": [], "note": "from the client"}
    pid = submit(comfy_server, probe, graph(width=96, height=48, batch=2, prefix="sub/dir/shot"),
                 extra_data={"extra_pnginfo": {"workflow": workflow}})
    probe.until_done(pid)
    images = probe.texts("executed")[0]["data"]["output"]["images"]
    assert images == [{"filename": f"shot_0000{i}_.png", "subfolder": "sub/dir", "type": "output"} for i in (1, 2)]
    for image in images:
        with Image.open(comfy_server.root / "output" / "sub" / "dir" / image["filename"]) as img:
            assert img.size == (96, 48) and img.mode == "RGB"
            assert json.loads(img.text["prompt"]) == requests.get(
                f"{comfy_server.url}/history/{pid}").json()[pid]["prompt"][2]
            assert json.loads(img.text["workflow"]) == workflow


def test_loaded_image_size_flows_to_the_output(comfy_server):
    buf = io.BytesIO()
    Image.new("RGB", (80, 40), "navy").save(buf, format="PNG")
    requests.post(comfy_server.url + "/upload/image", files={"image": ("src.png", buf.getvalue(), "image/png")})
    prompt = graph()
    prompt["10"] = {"class_type": "LoadImage", "inputs": {"image": "src.png"}}
    prompt["11"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}}
    prompt["3"]["inputs"]["latent_image"] = ["11", 0]
    del prompt["5"]
    probe = WsProbe(comfy_server.url, "img2img")
    probe.until_done(submit(comfy_server, probe, prompt))
    name = probe.texts("executed")[0]["data"]["output"]["images"][0]["filename"]
    with Image.open(comfy_server.root / "output" / name) as img:
        assert img.size == (80, 40)
    missing = dict(prompt, **{"10": {"class_type": "LoadImage", "inputs": {"image": "nope.png"}}})
    error = requests.post(comfy_server.url + "/prompt", json={"prompt": missing}).json()
    assert error["node_errors"]["10"]["errors"][0]["details"] == "image - Invalid image file: nope.png"


def test_cli_serves_until_interrupted(tmp_path):
    script = Path(__file__).parent / "comfy_test_server"
    proc = subprocess.Popen([sys.executable, str(script), "--listen", "127.0.0.1", "--port", "0",
                             "--preview-method", "none", "--step-time", "0", "--root", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = proc.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:"), line + proc.stderr.read()
        stats = requests.get(url + "/system_stats", timeout=5).json()
        assert stats["system"]["argv"][-1] == "none"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
