"""The Gradio app through gradio_client, end to end against the bundled test server.

``/generate`` takes "Random seed", "Batch count", then one input per template field
(prompt, negative, checkpoint, seed, width, height, steps, cfg, sampler, scheduler,
batch size, then the Advanced ones), then this browser's id (the ``gr.BrowserState``:
who the caller is when auth is off). Tests address them by label, so a new field does
not shift every call. Outputs: progress, preview, gallery, message, seed, then one
error slot per field in the same order as the field inputs. ``/interrupt`` takes the
browser id and stops the job of the caller's own session (its ``gr.State`` of job ids).
"""
from __future__ import annotations

import json
import re
import time

import requests
from gradio_client import Client
from PIL import Image

from comfy_ui_app.workflow.convert import ui_to_api
from _identity import browser_id, owner_of

CKPT = "tiny-sd15-random.safetensors"
FIRST_FIELD = 2      # inputs before the fields: Random seed, Batch count
FIRST_ERROR = 5      # outputs before the error slots


def params_of(client: Client) -> list[dict]:
    api = client.view_api(print_info=False, return_format="dict")
    return api["named_endpoints"]["/generate"]["parameters"]


def generate(client: Client, values: dict | None = None, *, browser: str | None = None, **short):
    """Submit /generate with the page's defaults, overridden by label (``{"Steps": 4}``);
    ``browser`` names the browser the call claims to be (None: an anonymous API client); it is
    sent as that name's signed id (``_identity.browser_id``), as the page would hold it."""
    wanted = {"Prompt": "a red fox", "Negative prompt": "blurry", "Checkpoint": CKPT, "Steps": 4,
              "Width": 64, "Height": 64, "Seed": -1, "Random seed": True, "CFG": 7}
    wanted.update(values or {})
    wanted.update(short)
    params = params_of(client)
    unknown = set(wanted) - {p["label"] for p in params}
    assert not unknown, f"no such inputs: {unknown}"
    claimed = browser_id(browser) if browser else browser
    args = [claimed if p.get("component") == "Browserstate" else wanted.get(p["label"], p.get("parameter_default"))
            for p in params]  # fmt: skip
    return client.submit(*args, api_name="/generate")


def error_slot(client: Client, outputs, label: str) -> str:
    labels = [p["label"] for p in params_of(client)]
    slot = outputs[FIRST_ERROR + labels.index(label) - FIRST_FIELD]
    return slot if isinstance(slot, str) else (slot or {}).get("value") or ""


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
    progress, _preview, gallery, message, seed = outs[-1][:5]
    assert "Done" in progress and message == "Done — 1 picture."
    assert isinstance(seed, (int, float)) and seed >= 0
    assert len(gallery) == 1
    with Image.open(image_path(gallery[0])) as img:
        assert img.format == "PNG" and img.size == (64, 64)
        text = dict(img.text)
    (record,) = app.store.list()  # recorded: owner, template, the values used, the stored PNG
    assert record.prompt_id == comfy_server.received_prompts[-1]["prompt_id"] and record.status == "success"
    assert (record.template, record.kind) == ("txt2img.json", "txt2img")
    assert record.owner.startswith("session:")  # no browser id: this API session's own, never a shared one
    assert record.values["seed"] == seed and record.values["prompt"] == "a red fox"
    assert [o.path.read_bytes() for o in record.outputs] == [open(image_path(gallery[0]), "rb").read()]
    assert not list(app.output_dir.glob("*/*.png"))  # no second copy
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["6"]["inputs"]["text"] == "a red fox" and sent["7"]["inputs"]["text"] == "blurry"
    assert sent["5"]["inputs"]["width"] == 64 and sent["3"]["inputs"]["seed"] == seed
    # ComfyUI's own chunk is kept, and an AUTOMATIC1111-style one is added
    assert '"KSampler"' in text["prompt"]
    assert text["parameters"] == (f"a red fox\nNegative prompt: blurry\nSteps: 4, Sampler: euler, Schedule type: "
                                  f"normal, CFG scale: 7, Seed: {int(seed)}, Size: 64x64, Model: {CKPT}")
    # and the editor graph: dropped into ComfyUI's editor it is the very prompt that ran, seed included
    workflow = json.loads(text["workflow"])
    assert workflow["version"] == 0.4 and {n["type"] for n in workflow["nodes"]} >= {"KSampler", "SaveImage"}
    object_info = requests.get(f"{comfy_server.url}/object_info", timeout=10).json()
    assert ui_to_api(workflow, object_info) == sent


def test_every_field_reaches_the_prompt(comfy_server, launch_app):
    client = Client(launch_app(comfy_server.url).url, verbose=False)
    outs = outputs_of(generate(client, {
        "Prompt": "p", "Negative prompt": "n", "Seed": 77, "Random seed": False, "Steps": 3, "CFG": 5.5,
        "Width": 128, "Height": 96, "Sampler": "heun", "Scheduler": "karras", "Batch size": 2,
        "Denoise": 0.9, "File name prefix": "mine"}))
    assert outs[-1][3] == "Done — 2 pictures.", outs[-1]
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["3"]["inputs"] == {**sent["3"]["inputs"], "seed": 77, "steps": 3, "cfg": 5.5,
                                   "sampler_name": "heun", "scheduler": "karras", "denoise": 0.9}
    assert sent["5"]["inputs"] == {"width": 128, "height": 96, "batch_size": 2}
    assert sent["6"]["inputs"]["text"] == "p" and sent["7"]["inputs"]["text"] == "n"
    assert sent["4"]["inputs"]["ckpt_name"] == CKPT and sent["9"]["inputs"]["filename_prefix"] == "mine"
    assert all(p["label"] != "Model" for p in params_of(client))  # nothing unexpected in the form


def test_fixed_seed_and_default_checkpoint(comfy_server, launch_app):
    client = Client(launch_app(comfy_server.url).url, verbose=False)
    # No checkpoint chosen (page never loaded): the server's first one is used,
    # not the template's v1-5 one the server lacks. Width is snapped to a multiple of 8.
    outs = outputs_of(generate(client, {"Prompt": "a cat", "Seed": 1234, "Random seed": False, "Steps": 2,
                                        "Width": 70, "Checkpoint": None}))
    assert outs[-1][3].startswith("Done"), outs[-1]
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["4"]["inputs"]["ckpt_name"] == CKPT
    assert sent["3"]["inputs"]["seed"] == 1234 and outs[-1][4] == 1234
    assert sent["5"]["inputs"]["width"] == 72


def test_batch_count_runs_that_many_jobs(comfy_server, launch_app):
    app = launch_app(comfy_server.url)
    client = Client(app.url, verbose=False)
    outs = outputs_of(generate(client, {"Batch count": 3, "Seed": 500, "Random seed": False}))
    assert outs[-1][3] == "Done — 3 pictures." and len(outs[-1][2]) == 3
    sent = comfy_server.received_prompts[-3:]
    assert len(comfy_server.received_prompts) == 3
    # per_server=2: two of the jobs are sent by two threads at once, so ComfyUI may get them in either order
    assert sorted(p["prompt"]["3"]["inputs"]["seed"] for p in sent) == [500, 501, 502]
    records = app.store.list()
    assert {r.prompt_id for r in records} == {p["prompt_id"] for p in sent}
    assert sorted(r.values["seed"] for r in records) == [500, 501, 502]
    assert all(len(r.outputs) == 1 and r.outputs[0].path.is_file() for r in records)


def test_reuse_last_seed(comfy_server, launch_app):
    client = Client(launch_app(comfy_server.url).url, verbose=False)
    first = outputs_of(generate(client))[-1][4]
    assert first >= 0
    seed, random_seed = client.predict(api_name="/reuse_seed")
    assert seed == first and random_seed is False
    outputs_of(generate(client, {"Seed": seed, "Random seed": random_seed}))
    seeds = [p["prompt"]["3"]["inputs"]["seed"] for p in comfy_server.received_prompts]
    assert seeds == [first, first]


def test_rejected_value_is_named_next_to_its_field(comfy_server, launch_app):
    client = Client(launch_app(comfy_server.url).url, verbose=False)
    # (sliders already refuse out-of-range numbers in the browser; dropdowns take any text)
    outs = outputs_of(generate(client, {"Checkpoint": "nope.safetensors", "Sampler": "warp-drive"}))
    message = outs[-1][3]
    assert "checkpoint 'nope.safetensors' is not installed on the server" in message.lower()
    assert "sampler 'warp-drive' is not one of the allowed values" in message.lower()
    assert "Traceback" not in message and outs[-1][2] == []
    assert "'nope.safetensors' is not installed" in error_slot(client, outs[-1], "Checkpoint")
    assert "'warp-drive' is not one of the allowed values" in error_slot(client, outs[-1], "Sampler")
    assert error_slot(client, outs[-1], "Prompt") == ""
    assert comfy_server.received_prompts == []  # refused before sending
    # the next good run clears the slots
    outs = outputs_of(generate(client))
    assert error_slot(client, outs[-1], "Checkpoint") == "" and outs[-1][3].startswith("Done")


def test_execution_error_gives_plain_message(comfy_server, launch_app):
    client = Client(launch_app(comfy_server.url).url, verbose=False)
    comfy_server.fail_next(node_id="8", message="Injected VAE failure")
    outs = outputs_of(generate(client))
    assert outs[-1][3] == "Failed in node 8 (VAEDecode): Injected VAE failure"


def test_unreachable_server_gives_plain_message(dead_url, launch_app):
    """The app's queue keeps the job until a server can be reached (as app.py runs it: a Cluster),
    and the progress line says so in plain words; the banner names the server."""
    from _waiting import wait_for

    client = Client(launch_app(dead_url).url, verbose=False)
    job = generate(client)
    waiting = "No ComfyUI server can be reached; the job waits for one (up to 600 s)…"
    wait_for(lambda: any(isinstance(o[0], str) and waiting in o[0] for o in job.outputs()), 30,
             what="the waiting line")
    job.cancel()
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
    # no downloads: Gradio may replace a preview file while another stream downloads it
    mine, other = (Client(app.url, verbose=False, download_files=False) for _ in range(2))
    my_job = generate(mine, Prompt="mine", Steps=60, browser="alice")
    assert _wait_for(lambda: any("step" in (o[0] or "") for o in my_job.outputs())), "never started"
    other_job = generate(other, Prompt="other", Steps=3, browser="bob")   # queued behind mine
    assert _wait_for(lambda: len(server.received_prompts) == 2)
    # the waiting job shows its place in the line
    assert _wait_for(lambda: any("position 1 in line" in (o[0] or "") for o in other_job.outputs())), \
        [o[0] for o in other_job.outputs()]
    progress, message = mine.predict(browser_id("alice"), api_name="/interrupt")  # the Interrupt button, in my session
    assert message == "Interrupted. The job was cancelled."
    # Mine is interrupted on the server long before its 60 steps (3 s) are done ...
    my_id = next(p["prompt_id"] for p in server.received_prompts if p["prompt"]["6"]["inputs"]["text"] == "mine")
    history = _wait_for(lambda: requests.get(f"{server.url}/history/{my_id}", timeout=5).json(), timeout=2.5)
    assert history, "my job was not stopped"
    assert history[my_id]["status"]["status_str"] != "success"
    progress, message = outputs_of(my_job)[-1][:4:3]
    assert progress.startswith("**Interrupted**<span") and message == "Interrupted. The job was cancelled."  # same words
    # ... and the other user's job still runs to the end.
    outs = outputs_of(other_job, timeout=30)
    assert outs[-1][3].startswith("Done"), outs[-1]
    owners = {r.owner: r.status for r in app.store.list()}
    assert owners == {owner_of("alice"): "interrupted", owner_of("bob"): "success"}


def test_a_dropped_stream_leaves_the_job_running_and_recorded(make_comfy_server, launch_app):
    server = make_comfy_server(step_time=0.05)
    app = launch_app(server.url)
    client = Client(app.url, verbose=False)
    job = generate(client, Prompt="keep going", Steps=20, browser="carol")
    assert _wait_for(lambda: any("step" in (o[0] or "") for o in job.outputs())), "never started"
    job.cancel()  # the page was closed or reloaded: nobody pressed Interrupt
    (record,) = app.store.list()
    assert record.owner == owner_of("carol") and record.status in ("queued", "running")
    done = _wait_for(lambda: (r := app.store.get(record.job_id)).done and r, timeout=15)
    assert done and done.status == "success", done
    assert len(done.outputs) == 1 and done.outputs[0].path.is_file()
    # ComfyUI writes its history just after execution_success (the recordings' timing pitfall)
    history = _wait_for(lambda: requests.get(f"{server.url}/history/{record.prompt_id}", timeout=5).json())
    assert history and history[record.prompt_id]["status"]["status_str"] == "success"


def test_a_batch_runs_whole_when_its_page_goes_away(make_comfy_server, launch_app):
    """Every job of a batch is sent up front: closing the stream after the first one started
    (a reload) leaves all three to run to the end, each recorded."""
    server = make_comfy_server(step_time=0.05)
    app = launch_app(server.url)
    client = Client(app.url, verbose=False, download_files=False)
    job = generate(client, {"Batch count": 3, "Seed": 700, "Random seed": False, "Steps": 10}, browser="dora")
    assert _wait_for(lambda: any("step" in (o[0] or "") for o in job.outputs())), "never started"
    assert len(app.store.list()) == 3  # all three recorded before the first finished
    job.cancel()  # the page was reloaded: nobody pressed Interrupt
    records = _wait_for(lambda: (rs := app.store.list()) and all(r.done for r in rs) and rs, timeout=30)
    assert records and sorted(r.status for r in records) == ["success"] * 3, records
    assert sorted(p["prompt"]["3"]["inputs"]["seed"] for p in server.received_prompts) == [700, 701, 702]
    assert all(r.owner == owner_of("dora") and len(r.outputs) == 1 for r in records)
    marks = sorted((r.values["_batch"]["index"], r.values["_batch"]["count"]) for r in records)
    assert marks == [(0, 3), (1, 3), (2, 3)] and len({r.values["_batch"]["id"] for r in records}) == 1


def test_interrupt_when_nothing_runs_says_so_and_keeps_the_result(comfy_server, launch_app):
    app = launch_app(comfy_server.url)
    client = Client(app.url, verbose=False, download_files=False)
    done = outputs_of(generate(client, browser="erin"))[-1]
    assert done[3] == "Done — 1 picture."
    progress, message = client.predict(browser_id("erin"), api_name="/interrupt")
    assert message == "Nothing is running."
    assert "Interrupted" not in (progress or "")  # the line is left as it was
    (record,) = app.store.list()
    assert record.status == "success"
