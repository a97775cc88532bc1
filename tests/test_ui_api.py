"""The Gradio app through gradio_client, end to end against the bundled test server."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests
from gradio_client import Client
from PIL import Image

CKPT = "tiny-sd15-random.safetensors"


def generate(client: Client, *, prompt="a red fox", checkpoint=CKPT, steps=4, size=64, seed=-1,
             random_seed=True):
    return client.submit(prompt, "blurry", seed, random_seed, steps, 7, size, size, checkpoint,
                         api_name="/generate")


def outputs_of(job, timeout=60):
    job.result(timeout=timeout)
    return job.outputs()


def image_path(value) -> str | None:
    """A gr.Image / gallery item as gradio_client returns it -> local file path."""
    if isinstance(value, dict):
        value = value.get("image") or value.get("path") or value.get("url")
        return image_path(value)
    return value if isinstance(value, str) and value else None


def test_generate_streams_progress_preview_and_png(make_comfy_server, launch_app):
    comfy_server = make_comfy_server(step_time=0.1)  # slow enough to see each step
    app = launch_app(comfy_server.url)
    client = Client(app.url, verbose=False)
    outs = outputs_of(generate(client))
    progress_lines = [o[0] for o in outs if isinstance(o[0], str)]
    assert any("Queued" in p or "Running" in p for p in progress_lines), progress_lines
    steps = [p for p in progress_lines if re.search(r"step \d/4 · \d+%", p)]
    assert len(steps) >= 2 and any("ETA" in p for p in steps), progress_lines
    previews = [image_path(o[1]) for o in outs if image_path(o[1])]
    assert previews, "no preview image was streamed"
    with Image.open(previews[0]) as img:
        assert img.format in ("JPEG", "PNG", "WEBP")
    progress, _preview, gallery, message, seed = outs[-1]
    assert "Done" in progress and message.startswith("Done: 1 image")
    assert isinstance(seed, (int, float)) and seed >= 0
    assert len(gallery) == 1
    with Image.open(image_path(gallery[0])) as img:
        assert img.format == "PNG" and img.size == (64, 64)
    saved = list(app.output_dir.glob("*/*.png"))  # output_dir/<job id>/<file>.png
    assert len(saved) == 1
    assert saved[0].parent.name == comfy_server.received_prompts[-1]["prompt_id"]
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["6"]["inputs"]["text"] == "a red fox" and sent["7"]["inputs"]["text"] == "blurry"
    assert sent["5"]["inputs"]["width"] == 64 and sent["3"]["inputs"]["seed"] == seed


def test_fixed_seed_and_default_checkpoint(comfy_server, launch_app):
    client = Client(launch_app(comfy_server.url).url, verbose=False)
    # No checkpoint chosen (page never loaded): the server's first one is used,
    # not the template's v1-5 one the server lacks. Width is snapped to a multiple of 8.
    outs = outputs_of(client.submit("a cat", "", 1234, False, 2, 5, 70, 64, None, api_name="/generate"))
    assert outs[-1][3].startswith("Done"), outs[-1]
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["4"]["inputs"]["ckpt_name"] == CKPT
    assert sent["3"]["inputs"]["seed"] == 1234 and outs[-1][4] == 1234
    assert sent["5"]["inputs"]["width"] == 72


def test_rejected_prompt_gives_plain_message(comfy_server, launch_app):
    client = Client(launch_app(comfy_server.url).url, verbose=False)
    outs = outputs_of(generate(client, checkpoint="nope.safetensors"))
    message = outs[-1][3]
    assert "ComfyUI rejected the request" in message
    assert "checkpoint 'nope.safetensors' is not installed on the server" in message
    assert "Traceback" not in message and outs[-1][2] == []


def test_execution_error_gives_plain_message(comfy_server, launch_app):
    client = Client(launch_app(comfy_server.url).url, verbose=False)
    comfy_server.fail_next(node_id="8", message="Injected VAE failure")
    outs = outputs_of(generate(client))
    assert outs[-1][3] == "Failed in node 8 (VAEDecode): Injected VAE failure"


def test_unreachable_server_gives_plain_message(dead_url, launch_app):
    client = Client(launch_app(dead_url).url, verbose=False)
    outs = outputs_of(generate(client), timeout=30)
    expected = f"Cannot reach ComfyUI at {dead_url}. Is it running? Retrying automatically."
    assert outs[-1][3] == expected
    banner = client.predict(api_name="/server_status")
    banner_text = banner[0] if isinstance(banner, (list, tuple)) else banner
    assert dead_url.replace(".", "") in banner_text.replace("\\", "").replace(".", "")
    assert "Retrying automatically" in banner_text


def _wait_for(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def test_interrupt_stops_only_this_users_job(make_comfy_server, launch_app):
    server = make_comfy_server(step_time=0.05)
    app = launch_app(server.url)
    mine, other = Client(app.url, verbose=False), Client(app.url, verbose=False)
    my_job = generate(mine, prompt="mine", steps=60)
    assert _wait_for(lambda: any("step" in (o[0] or "") for o in my_job.outputs())), "never started"
    other_job = generate(other, prompt="other", steps=3)   # queued behind mine
    assert _wait_for(lambda: len(server.received_prompts) == 2)
    my_job.cancel()
    # Mine is interrupted on the server long before its 60 steps (3 s) are done ...
    my_id = next(p["prompt_id"] for p in server.received_prompts if p["prompt"]["6"]["inputs"]["text"] == "mine")
    history = _wait_for(lambda: requests.get(f"{server.url}/history/{my_id}", timeout=5).json(), timeout=2.5)
    assert history, "my job was not stopped"
    assert history[my_id]["status"]["status_str"] != "success"
    # ... and the other user's job still runs to the end.
    outs = outputs_of(other_job, timeout=30)
    assert outs[-1][3].startswith("Done"), outs[-1]
