"""Upscale / Vary / Extend / Compare on a finished picture (workflow.result_templates, ui._result_runs,
ui._result_source): filling each bundled template (table-driven), the sizes the test server gives as
ComfyUI does, each action run as an ordinary job over the test server, and who may act on which picture."""
from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import gradio as gr
import pytest
from PIL import Image

from comfy_ui_app import load_workflow
from comfy_ui_app.errors import LimitExceeded, WorkflowError
from comfy_ui_app.jobs.limits import Limits
from comfy_ui_app.jobs.store import JobStore
from comfy_ui_app.ui._result_runs import RESULT_CEILING, ResultRuns
from comfy_ui_app.ui._result_source import acted_on, gallery_pick, resolve
from comfy_ui_app.ui.runner import RunRequest, run
from comfy_ui_app.workflow import result_templates as rt
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.workflow.templates import apply_values
from _app import app_context, job_service
from _waiting import wait_for

REPO = Path(__file__).resolve().parents[1]
OBJECT_INFO = json.loads((REPO / "tests" / "fixtures" / "comfyui" / "object_info.json").read_text())
ALICE, BOB, ADMIN = "browser:alice", "browser:bob", "admin"
MODEL = "4x-UltraSharp.pth"


def _template(key):
    template = load_workflow(REPO / "workflows" / rt.TEMPLATES[key])
    return template, discover(template, OBJECT_INFO)


# -- pure: filling the templates --------------------------------------------------------------

@pytest.mark.parametrize("key, class_type, input_name", [
    ("upscale_model", "LoadImage", "image"), ("upscale_model", "UpscaleModelLoader", "model_name"),
    ("upscale_model", "ImageScaleBy", "scale_by"), ("upscale_pixels", "ImageScaleBy", "upscale_method"),
    ("upscale_latent", "LatentUpscaleBy", "scale_by"), ("upscale_latent", "KSampler", "denoise"),
    ("vary", "KSampler", "denoise"), ("vary", "KSampler", "seed"), ("extend", "ImagePadForOutpaint", "left"),
    ("extend", "ImagePadForOutpaint", "bottom"), ("extend", "ImagePadForOutpaint", "feathering"),
])
def test_discover_finds_every_input_an_action_sets(key, class_type, input_name):
    template, fields = _template(key)
    assert rt.field_name(template, fields, class_type, input_name) is not None


@pytest.mark.parametrize("name, scale", [("4x-UltraSharp.pth", 4), ("RealESRGAN_x2plus.pth", 2),
                                         ("sub/2x_NMKD.safetensors", 2), ("ESRGAN.pth", 4), ("8x_big.pt", 8)])
def test_an_upscale_models_factor_is_read_from_its_name(name, scale):
    assert rt.model_scale(name) == scale


@pytest.mark.parametrize("size, factor, method, expected", [
    ((512, 512), 2.0, rt.PIXELS, (1024, 1024)), ((512, 768), 1.5, rt.PIXELS, (768, 1152)),
    ((101, 99), 1.5, rt.PIXELS, (152, 148)), ((512, 512), 2.0, MODEL, (1024, 1024)),
    ((64, 48), 3.0, "RealESRGAN_x2plus.pth", (192, 144)), ((512, 512), 1.5, rt.LATENT, (768, 768)),
    ((100, 60), 2.0, rt.LATENT, (192, 112)),  # VAEEncode crops to eighths first
])
def test_upscaled_size_is_what_comfyui_makes(size, factor, method, expected):
    assert rt.upscaled_size(*size, factor, method) == expected


@pytest.mark.parametrize("method, key, expected", [
    (rt.PIXELS, "upscale_pixels", {("ImageScaleBy", "scale_by"): 2.0, ("ImageScaleBy", "upscale_method"): "lanczos"}),
    (MODEL, "upscale_model", {("UpscaleModelLoader", "model_name"): MODEL, ("ImageScaleBy", "scale_by"): 0.5}),
    (rt.LATENT, "upscale_latent", {("LatentUpscaleBy", "scale_by"): 2.0, ("KSampler", "denoise"): 0.4}),
])
def test_upscale_values_fill_the_template(method, key, expected):
    template, fields = _template(key)
    filled = apply_values(template, rt.upscale_values(template, fields, factor=2.0, method=method), fields=fields)
    for (class_type, input_name), value in expected.items():
        node = next(n for n in filled.values() if n["class_type"] == class_type)
        assert node["inputs"][input_name] == value


@pytest.mark.parametrize("sides, pixels, size, expected", [
    (["right"], 128, (512, 512), (640, 512)), (["left", "right"], 64, (512, 512), (640, 512)),
    (["top"], 256, (512, 512), (512, 768)), (["left", "top", "right", "bottom"], 8, (64, 64), (80, 80)),
])
def test_extend_pads_the_chosen_sides(sides, pixels, size, expected):
    pad = rt.padding(sides, pixels)
    assert rt.extended_size(*size, pad) == expected
    template, fields = _template("extend")
    filled = apply_values(template, rt.extend_values(template, fields, pad), fields=fields)
    node = next(n for n in filled.values() if n["class_type"] == "ImagePadForOutpaint")
    assert {k: node["inputs"][k] for k in ("left", "top", "right", "bottom")} == pad


@pytest.mark.parametrize("strength, denoise", [("subtle", 0.35), ("strong", 0.6)])
def test_vary_sets_the_denoise_and_a_random_seed(strength, denoise):
    template, fields = _template("vary")
    values = rt.vary_values(template, fields, strength)
    assert sorted(values.values(), key=str) == sorted([denoise, -1], key=str)


@pytest.mark.parametrize("picture, gallery, expected", [
    ("/b.png", [("/a.png", None), ("/b.png", None)], "/b.png"),   # the one clicked, still shown
    ("/old.png", [("/a.png", None), ("/b.png", None)], "/a.png"),  # new results: the first again
    ("", [("/a.png", None)], "/a.png"),                            # nothing clicked
    ("/named.png", [], "/named.png"),                              # an API caller's picture, no gallery
    ("", [], None),
])
def test_the_picture_acted_on(picture, gallery, expected):
    assert acted_on(picture, gallery) == expected


def test_gallery_pick_takes_the_last_click_still_shown_else_the_first():
    gallery = [("/a.png", None), ("/b.png", None)]
    assert gallery_pick(gallery, ["/a.png", "/b.png"]) == "/b.png"
    assert gallery_pick(gallery, ["/gone.png"]) == "/a.png"
    assert gallery_pick([], None) is None


# -- the test server's sizes, as ComfyUI's nodes give them ---------------------------------------

def _size_of(server, prompt) -> tuple[int, int]:
    import requests

    answer = requests.post(server.url + "/prompt", json={"prompt": prompt, "client_id": "t"}, timeout=10).json()
    pid = answer["prompt_id"]
    entry = wait_for(lambda: requests.get(f"{server.url}/history/{pid}", timeout=5).json().get(pid),
                     what="the prompt to finish")
    image = next(iter(entry["outputs"].values()))["images"][0]
    with Image.open(Path(server.root) / "output" / image["subfolder"] / image["filename"]) as img:
        return img.size


@pytest.mark.parametrize("node, expected", [
    ({"class_type": "ImageScale", "inputs": {"upscale_method": "lanczos", "width": 0, "height": 128, "crop": "disabled"}},
     (256, 128)),
    ({"class_type": "ImageScaleBy", "inputs": {"upscale_method": "lanczos", "scale_by": 1.5}}, (768, 384)),
    ({"class_type": "ImagePadForOutpaint", "inputs": {"left": 64, "top": 8, "right": 0, "bottom": 16, "feathering": 4}},
     (576, 280)),
])
def test_size_changing_nodes_give_comfyuis_sizes(make_comfy_server, node, expected):
    server = make_comfy_server()
    prompt = {"1": {"class_type": "EmptyImage", "inputs": {"width": 512, "height": 256, "batch_size": 1, "color": 0}},
              "2": {**node, "inputs": {**node["inputs"], "image": ["1", 0]}},
              "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "t"}}}
    assert _size_of(server, prompt) == expected


def test_an_upscale_model_multiplies_by_its_scale_and_is_listed_when_asked(make_comfy_server):
    import requests

    server = make_comfy_server(upscale_models=["RealESRGAN_x2plus.pth"])
    info = requests.get(server.url + "/object_info/UpscaleModelLoader", timeout=5).json()
    assert info["UpscaleModelLoader"]["input"]["required"]["model_name"][1]["options"] == ["RealESRGAN_x2plus.pth"]
    assert requests.get(server.url + "/models/upscale_models", timeout=5).json() == ["RealESRGAN_x2plus.pth"]
    prompt = {"1": {"class_type": "EmptyImage", "inputs": {"width": 100, "height": 60, "batch_size": 1, "color": 0}},
              "2": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": "RealESRGAN_x2plus.pth"}},
              "3": {"class_type": "ImageUpscaleWithModel", "inputs": {"upscale_model": ["2", 0], "image": ["1", 0]}},
              "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "t"}}}
    assert _size_of(server, prompt) == (200, 120)


# -- each action as a job over the test server ---------------------------------------------------

@pytest.fixture
def actions(make_comfy_server, tmp_path):
    server = make_comfy_server(upscale_models=[MODEL])
    jobs = job_service(server.url, JobStore(tmp_path / "data"), admins=[ADMIN])
    ctx = app_context(jobs, tmp_path / "out")
    yield ctx, ResultRuns(ctx)
    ctx.cluster.close()
    ctx.jobs.store.close()


def _run(ctx, request: RunRequest):
    async def go():
        return [update async for update in run(ctx, request, "en")]
    return asyncio.run(go())


def _made(ctx, owner, size=(96, 64), prompt="a red fox") -> tuple[str, str]:
    """A finished Text to image job of ``owner``: (job id, stored picture path)."""
    template = load_workflow(REPO / "workflows" / "txt2img.json")
    values = {"prompt": prompt, "seed": 7, "steps": 3, "width": size[0], "height": size[1],
              "checkpoint": "tiny-sd15-random.safetensors"}
    updates = _run(ctx, RunRequest(template, discover(template, OBJECT_INFO), values, owner=owner, kind="txt2img",
                                   template_name="txt2img.json"))
    assert updates[-1].ok, updates[-1].message
    return updates[-1].job_ids[0], updates[-1].gallery[0]


@pytest.mark.parametrize("action, options, expected", [
    ("upscale", {"method": rt.PIXELS, "factor": 2.0}, (192, 128)),
    ("upscale", {"method": "model", "model": MODEL, "factor": "1.5"}, (144, 96)),
    ("upscale", {"method": rt.LATENT, "factor": 2.0}, (192, 128)),
    ("vary", {"strength": "strong"}, (96, 64)),
    ("extend", {"sides": ["right"], "pixels": 128}, (224, 64)),
    ("extend", {"sides": ["top", "bottom"], "pixels": 64}, (96, 192)),
])
def test_each_action_runs_as_a_recorded_job_and_gives_the_expected_size(actions, action, options, expected):
    ctx, runs = actions
    _, picture = _made(ctx, ALICE)
    prepared = runs.prepare(action, [ALICE], ALICE, picture, options)
    updates = _run(ctx, prepared.request)
    assert updates[-1].ok, updates[-1].message
    with Image.open(updates[-1].gallery[-1]) as img:
        assert img.size == expected
    record = ctx.jobs.store.get(updates[-1].job_ids[0])
    assert (record.owner, record.kind, record.template) == (ALICE, action, rt.TEMPLATES[prepared_key(action, options)])
    if action in ("vary", "extend"):  # the picture's own prompt, a new seed
        sampler = next(n for n in record.prompt.values() if n["class_type"] == "CLIPTextEncode")
        assert sampler["inputs"]["text"] == "a red fox"
        assert next(n for n in record.prompt.values() if n["class_type"] == "KSampler")["inputs"]["seed"] != 7


def prepared_key(action, options):
    if action != "upscale":
        return action
    return {rt.PIXELS: "upscale_pixels", rt.LATENT: "upscale_latent", "model": "upscale_model"}[options["method"]]


def test_a_picture_is_used_only_by_its_owner_or_an_admin(actions):
    ctx, runs = actions
    job_id, picture = _made(ctx, ALICE)
    options = {"method": rt.PIXELS, "factor": 2.0}
    assert runs.prepare("upscale", [ALICE], ALICE, f"job:{job_id}:0", options).size == (192, 128)
    assert runs.prepare("upscale", [ADMIN], ADMIN, {"job_id": job_id, "index": 0}, options).source.job_id == job_id
    outside = Path("/dev/shm" if Path("/dev/shm").is_dir() else "/var/tmp") / f"not-an-upload-{job_id}.png"
    shutil.copy(picture, outside)  # a picture, but not one Gradio holds (tests' uploads live under pytest's tmp)
    request_outside = str(outside)
    try:
        for ref in (picture, f"job:{job_id}:0", {"job_id": job_id, "index": 0}, request_outside, "/etc/passwd",
                    str(Path(picture).parent / ".." / job_id / Path(picture).name), f"job:{job_id}:9", "", None, 5,
                    "x" * 5_000_000, {"job_id": ["x"]}):
            with pytest.raises(WorkflowError):
                runs.prepare("upscale", [BOB], BOB, ref, options)
    finally:
        outside.unlink()
    uploaded = Path(gr.utils.get_upload_folder()) / "bob-upload" / "mine.png"
    uploaded.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(picture, uploaded)  # a picture Gradio holds (an upload, a gallery's copy): anyone may use it
    assert resolve(ctx.jobs, [BOB], str(uploaded)).path == uploaded.resolve()


@pytest.mark.parametrize("action, options, field", [
    ("upscale", {"method": rt.PIXELS, "factor": 2.5}, "factor"), ("upscale", {"method": rt.PIXELS, "factor": "NaN"},
                                                                    "factor"),
    ("upscale", {"method": "../../evil.pth", "factor": 2.0}, "method"),
    ("upscale", {"method": "model", "model": "../../evil.pth", "factor": 2.0}, "model"), ("vary", {"strength": "wild"}, "strength"),
    ("extend", {"sides": [], "pixels": 128}, "sides"), ("extend", {"sides": ["middle"], "pixels": 128}, "sides"),
    ("extend", {"sides": ["left"], "pixels": float("inf")}, "pixels"), ("extend", {"sides": "left", "pixels": 64}, "sides"),
    ("extend", {"sides": ["left"], "pixels": 4096}, "pixels"),
])
def test_bad_options_are_refused_naming_their_control(actions, action, options, field):
    ctx, runs = actions
    _, picture = _made(ctx, ALICE)
    with pytest.raises(WorkflowError) as caught:
        runs.prepare(action, [ALICE], ALICE, picture, options)
    assert caught.value.field == field


def test_the_result_size_is_capped_by_max_pixels_and_the_apps_ceiling(actions):
    ctx, runs = actions
    _, picture = _made(ctx, ALICE)
    ctx.jobs.limits = Limits(max_pixels=200 * 200)
    with pytest.raises(LimitExceeded) as caught:
        runs.prepare("upscale", [ALICE], ALICE, picture, {"method": rt.PIXELS, "factor": 3.0})
    assert (caught.value.field, caught.value.allowed) == ("factor", 200 * 200)
    assert runs.prepare("upscale", [ALICE], ALICE, picture, {"method": rt.PIXELS, "factor": 2.0}).size == (192, 128)
    ctx.jobs.limits = Limits()
    assert RESULT_CEILING == 4096 * 4096


def test_the_panel_for_a_job_streams_the_result_and_before_after(actions):
    from comfy_ui_app.ui.result_actions import for_job

    import dataclasses

    ctx, _ = actions
    job_id, picture = _made(ctx, "anonymous")  # a handler called without a request acts as "anonymous"
    with gr.Blocks():
        ctx = dataclasses.replace(ctx, lang=gr.State("en"))
        job = gr.Textbox()
        panel = for_job(ctx, job, "history", index=gr.Number(0))

    async def go(ref, options):
        return [out async for out in panel.act("extend", None, "en", ref, options)]

    outs = asyncio.run(go({"job_id": job_id, "index": 0}, {"sides": ["left"], "pixels": 64}))
    progress, message, result, slider, _ = outs[-1]
    assert message == "" and slider == (picture, result)
    with Image.open(result) as img:
        assert img.size == (160, 64)
    refused = asyncio.run(go({"job_id": "no-such-job", "index": 0}, {"sides": ["left"], "pixels": 64}))
    assert len(refused) == 1 and "This picture cannot be used." in refused[0][1]
