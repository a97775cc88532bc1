"""Every ComfyClient method against the protocol-faithful test server."""

import io
import json
import socket
import uuid
from pathlib import Path

import pytest
import requests
from PIL import Image

from comfy_ui_app import ComfyClient, PromptRejected, ServerHTTPError, ServerUnreachable, load_workflow
from comfy_ui_app.comfy.client import raise_for_status

TXT2IMG = Path(__file__).parent.parent / "workflows" / "txt2img.json"
CKPT = "tiny-sd15-random.safetensors"


def small_prompt(text="a red fox", seed=1):
    prompt = load_workflow(TXT2IMG)
    prompt["4"]["inputs"]["ckpt_name"] = CKPT
    prompt["6"]["inputs"]["text"] = text
    prompt["3"]["inputs"].update(seed=seed, steps=2)
    prompt["5"]["inputs"].update(width=64, height=64)
    return prompt


def png_bytes(color=(255, 0, 0, 255), size=(16, 16)):
    buffer = io.BytesIO()
    Image.new("RGBA", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def comfy_server_slow(make_comfy_server):
    return make_comfy_server(step_time=0.1, steps=30)


@pytest.fixture
def client(comfy_server):
    return ComfyClient(comfy_server.url, timeout=5)


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def wait_history(client, prompt_id, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = client.get_history_item(prompt_id)
        if entry:
            return entry[prompt_id]
        time.sleep(0.02)
    raise AssertionError(f"{prompt_id} never reached history")


def test_server_information_routes(client):
    assert "checkpoints" in client.models()
    assert client.models("checkpoints") == [CKPT]
    assert client.embeddings() == []
    assert all(isinstance(path, str) for path in client.extensions())
    stats = client.system_stats()
    assert {"system", "devices"} <= stats.keys() and "comfyui_version" in stats["system"]
    assert client.features()["supports_preview_metadata"] is True
    assert set(client.object_info()) >= {"KSampler", "SaveImage", "CheckpointLoaderSimple"}
    assert list(client.object_info("KSampler")) == ["KSampler"]
    assert client.object_info("NoSuchNode") == {}


def test_unknown_model_folder_is_a_typed_404(client):
    with pytest.raises(ServerHTTPError) as caught:
        client.models("does_not_exist")
    assert caught.value.status == 404


def test_queue_prompt_with_our_prompt_id_and_extra_data(client, comfy_server):
    prompt_id = str(uuid.uuid4())
    answer = client.queue_prompt(small_prompt(), prompt_id=prompt_id, extra_data={"extra_pnginfo": {"workflow": {"x": 1}}})
    assert answer["prompt_id"] == prompt_id and answer["node_errors"] == {}
    body = comfy_server.received_prompts[-1]
    assert body["client_id"] == client.client_id
    entry = wait_history(client, prompt_id)
    assert entry["status"]["status_str"] == "success"
    assert entry["prompt"][3]["client_id"] == client.client_id
    image_ref = entry["outputs"]["9"]["images"][0]
    data = client.view(image_ref["filename"], subfolder=image_ref["subfolder"], type=image_ref["type"])
    image = Image.open(io.BytesIO(data))
    assert image.size == (64, 64)
    assert json.loads(image.info["prompt"])["6"]["inputs"]["text"] == "a red fox"
    assert json.loads(image.info["workflow"]) == {"x": 1}


def test_queue_is_sorted_by_number_and_front_runs_first(client, comfy_server):
    comfy_server.pause()
    ids = [client.queue_prompt(small_prompt(seed=i))["prompt_id"] for i in range(4)]
    front = client.queue_prompt(small_prompt(seed=9), front=True)
    numbered = client.queue_prompt(small_prompt(seed=10), number=2.5)
    assert front["number"] < 0 and numbered["number"] == 2.5
    pending = client.get_queue()["queue_pending"]
    numbers = [item[0] for item in pending]
    assert numbers == sorted(numbers) and pending[0][1] == front["prompt_id"]
    client.delete_from_queue([ids[1]])
    assert ids[1] not in [item[1] for item in client.get_queue()["queue_pending"]]
    client.clear_queue()
    assert client.get_queue() == {"queue_running": [], "queue_pending": []}
    comfy_server.resume()


def test_interrupt_only_the_named_prompt(comfy_server_slow):
    client = ComfyClient(comfy_server_slow.url, timeout=5)
    running = client.queue_prompt(small_prompt())["prompt_id"]
    client.interrupt("some-other-prompt")
    client.interrupt(running)
    entry = wait_history(client, running)
    assert entry["status"]["status_str"] == "error"
    assert [m[0] for m in entry["status"]["messages"]][-1] == "execution_interrupted"


def test_free_and_history_paging_and_delete(client):
    client.free(unload_models=True, free_memory=True)
    ids = [client.queue_prompt(small_prompt(seed=i))["prompt_id"] for i in range(3)]
    for prompt_id in ids:
        wait_history(client, prompt_id)
    assert list(client.get_history()) == ids
    assert list(client.get_history(max_items=1)) == ids[-1:]
    assert list(client.get_history(max_items=1, offset=1)) == ids[1:2]
    assert client.get_history_item("unknown") == {}
    client.delete_history([ids[0]])
    assert list(client.get_history()) == ids[1:]


def test_uploads_rename_on_collision(client):
    first = client.upload_image(png_bytes(), "photo.png")
    assert first == {"name": "photo.png", "subfolder": "", "type": "input"}
    assert client.upload_image(png_bytes(), "photo.png")["name"] == "photo.png"  # same bytes
    assert client.upload_image(png_bytes((0, 0, 255, 255)), "photo.png")["name"] == "photo (1).png"
    assert client.upload_image(png_bytes((0, 255, 0, 255)), "photo.png", overwrite=True)["name"] == "photo.png"
    sub = client.upload_image(png_bytes(), "x.png", type="temp", subfolder="clip")
    assert sub == {"name": "x.png", "subfolder": "clip", "type": "temp"}
    assert Image.open(io.BytesIO(client.view("photo.png", type="input", channel="rgb"))).mode == "RGB"


def test_view_errors_are_typed(client):
    for kwargs, status in [({"filename": "missing.png"}, 404), ({"filename": "../x.png"}, 400)]:
        with pytest.raises(ServerHTTPError) as caught:
            client.view(**kwargs)
        assert caught.value.status == status


def test_rejected_prompt_keeps_error_and_node_errors(client):
    prompt = small_prompt()
    prompt["3"]["inputs"]["sampler_name"] = "nope"
    with pytest.raises(PromptRejected) as caught:
        client.queue_prompt(prompt)
    error = caught.value
    assert error.status == 400 and error.type == "prompt_outputs_failed_validation"
    assert error.node_errors["3"]["errors"][0]["type"] == "value_not_in_list"
    assert error.node_errors["3"]["class_type"] == "KSampler"
    assert "rejected the prompt" in str(error)


def test_plain_text_500_becomes_server_http_error(client):
    response = client.session.post(client.base_url + "/prompt", data=b"{not json", timeout=5)
    with pytest.raises(ServerHTTPError) as caught:
        raise_for_status(response)
    assert caught.value.status == 500 and not isinstance(caught.value, PromptRejected)
    assert "Server got itself in trouble" in caught.value.body


def test_unreachable_server_names_the_url():
    url = closed_port_url()
    with pytest.raises(ServerUnreachable) as caught:
        ComfyClient(url, timeout=2).system_stats()
    assert caught.value.url == url and url in str(caught.value)
    assert isinstance(caught.value, ConnectionError)


def test_every_call_has_a_timeout(client):
    seen = []

    class RecordingSession(requests.Session):
        def request(self, method, url, **kwargs):
            seen.append(kwargs.get("timeout"))
            return super().request(method, url, **kwargs)

    timed = ComfyClient(client.base_url, session=RecordingSession(), timeout=3)
    timed.system_stats()
    timed.get_queue()
    timed.upload_image(png_bytes(), "t.png")
    assert seen == [3, 3, 3]
