"""The caps of a public demo (``comfy_ui_app.jobs.limits``), pure: each cap refused with its words.

Every case fills a real workflow (the bundled templates, or a small graph written here),
checks it against :class:`Limits` and compares the exact message ``messages.describe``
gives, plus the form field it is shown next to. The end-to-end checks through the page
are in ``test_app_limits.py``.
"""
from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from comfy_ui_app import Comfy, apply_values, load_workflow
from comfy_ui_app.cluster.cluster import Cluster
from comfy_ui_app.errors import ComfyError, LimitExceeded
from comfy_ui_app.jobs.limits import Limits, admitted, count_pending, limits_for, parse_pixels, prompt_sizes
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.jobs.service import JobService
from comfy_ui_app.jobs.store import JobStore
from comfy_ui_app.jobs.uploads import check_image

REPO = Path(__file__).resolve().parents[1]
TXT2IMG = load_workflow(REPO / "workflows" / "txt2img.json")


def txt2img(**values) -> dict:
    return apply_values(TXT2IMG, values)


def refiner_graph(base_steps=20, refiner_steps=10) -> dict:
    """SDXL base + refiner: the second sampler's model comes from a refiner checkpoint."""
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl_base.safetensors"}},
        "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl_refiner.safetensors"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fox", "clip": ["1", 1]}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
        "6": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["3", 0], "negative": ["4", 0],
                                                  "latent_image": ["5", 0], "seed": 1, "steps": base_steps,
                                                  "cfg": 7, "sampler_name": "euler", "scheduler": "normal",
                                                  "denoise": 1}},
        "7": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "positive": ["3", 0], "negative": ["4", 0],
                                                  "latent_image": ["6", 0], "seed": 1, "steps": refiner_steps,
                                                  "cfg": 7, "sampler_name": "euler", "scheduler": "normal",
                                                  "denoise": 0.3}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["7", 0], "vae": ["1", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "x"}},
    }


def primitive_steps_graph(steps=60) -> dict:
    """Steps in a primitive node linked into the sampler (a common editor pattern)."""
    graph = txt2img()
    graph["20"] = {"class_type": "PrimitiveInt", "inputs": {"value": steps}, "_meta": {"title": "Steps"}}
    graph["3"]["inputs"]["steps"] = ["20", 0]
    return graph


def custom_sampler_graph(steps=60) -> dict:
    """SamplerCustomAdvanced: the steps live in the scheduler node feeding its sigmas."""
    graph = txt2img()
    graph["30"] = {"class_type": "BasicScheduler", "inputs": {"model": ["4", 0], "scheduler": "normal",
                                                              "steps": steps, "denoise": 1}}
    return graph


def extra_graph(node: dict) -> dict:
    graph = txt2img(width=512, height=512)
    graph["40"] = node
    return graph


STEPS = "Too many steps: {asked} asked, at most {allowed} allowed on this server."
PIXELS = "Picture too large: {size} is {asked} pixels, at most {allowed} allowed on this server."
IMAGES = "Too many pictures at once: {asked} asked, at most {allowed} allowed on this server."
IMAGES_N = ("Too many pictures at once: {asked} asked (batch size {batch} × batch count {count}), at most "
            "{allowed} allowed on this server.")

# case -> (limits, prompt, batch count, the message or None (passes), the field it belongs to)
PROMPT_CASES = {
    "steps-over": (Limits(max_steps=50), txt2img(steps=80), 1, STEPS.format(asked=80, allowed=50), "steps"),
    "steps-at-cap": (Limits(max_steps=50), txt2img(steps=50), 1, None, None),
    "refiner-steps-over": (Limits(max_steps=30), refiner_graph(20, 40), 1, STEPS.format(asked=40, allowed=30),
                           "refiner_steps"),
    "base-steps-over-with-refiner": (Limits(max_steps=30), refiner_graph(31, 5), 1,
                                     STEPS.format(asked=31, allowed=30), "steps"),
    "steps-in-a-primitive": (Limits(max_steps=50), primitive_steps_graph(60), 1, STEPS.format(asked=60, allowed=50),
                             "steps"),
    "steps-in-a-scheduler": (Limits(max_steps=50), custom_sampler_graph(60), 1, STEPS.format(asked=60, allowed=50),
                             "30.steps"),  # an Advanced field
    "steps-as-text": (Limits(max_steps=50), extra_graph({"class_type": "BasicScheduler",
                                                         "inputs": {"steps": "99", "model": ["4", 0]}}), 1,
                      STEPS.format(asked=99, allowed=50), "40.steps"),
    "pixels-over": (Limits(max_pixels=1024 * 1024), txt2img(width=1536, height=1536), 1,
                    PIXELS.format(size="1536×1536", asked="2,359,296", allowed="1,048,576"), "width"),
    "pixels-at-cap": (Limits(max_pixels=1024 * 1024), txt2img(width=1024, height=1024), 1, None, None),
    "pixels-wide-but-small": (Limits(max_pixels=1024 * 1024), txt2img(width=2048, height=512), 1, None, None),
    "pixels-of-an-upscale": (Limits(max_pixels=1024 * 1024), extra_graph(
        {"class_type": "ImageScale", "inputs": {"image": ["8", 0], "upscale_method": "nearest-exact",
                                                "width": 4096, "height": 4096, "crop": "disabled"}}), 1,
        PIXELS.format(size="4096×4096", asked="16,777,216", allowed="1,048,576"), "40.width"),
    "size-conditioning-is-no-picture": (Limits(max_pixels=1024 * 1024), extra_graph(
        {"class_type": "CLIPTextEncodeSDXL", "inputs": {"width": 4096, "height": 4096, "text_g": "", "text_l": "",
                                                        "clip": ["4", 1]}}), 1, None, None),
    "batch-size-over": (Limits(max_images=8), txt2img(batch_size=9), 1, IMAGES.format(asked=9, allowed=8),
                        "batch_size"),
    "batch-times-count-over": (Limits(max_images=8), txt2img(batch_size=4), 4,
                               IMAGES_N.format(asked=16, batch=4, count=4, allowed=8), None),
    "count-alone-over": (Limits(max_images=8), txt2img(batch_size=1), 9,
                         IMAGES_N.format(asked=9, batch=1, count=9, allowed=8), None),
    "batch-times-count-at-cap": (Limits(max_images=8), txt2img(batch_size=2), 4, None, None),
    "every-cap-off": (Limits(), txt2img(steps=10_000, width=8192, height=8192, batch_size=64), 16, None, None),
}


@pytest.mark.parametrize("limits, prompt, count, message, field", PROMPT_CASES.values(), ids=PROMPT_CASES.keys())
def test_prompt_caps(limits, prompt, count, message, field):
    if message is None:
        limits.check_prompt(prompt, count=count)
        return
    with pytest.raises(LimitExceeded) as caught:
        limits.check_prompt(prompt, count=count)
    assert describe(caught.value) == message
    assert caught.value.field == field


PENDING_CASES = {  # jobs waiting or running, cap -> message or None
    "under": (2, 3, None),
    "at-cap": (3, 3, "You already have 3 jobs waiting or running; the limit is 3. Wait for one to finish."),
    "one-of-one": (1, 1, "You already have 1 job waiting or running; the limit is 1. Wait for it to finish."),
    "over (cap lowered)": (5, 2, "You already have 5 jobs waiting or running; the limit is 2. Wait for one to finish."),
    "none-yet": (0, 1, None),
}


@pytest.mark.parametrize("pending, cap, message", PENDING_CASES.values(), ids=PENDING_CASES.keys())
def test_pending_cap(pending, cap, message):
    limits = Limits(max_pending=cap)
    if message is None:
        limits.check(txt2img(), pending=pending)
        return
    with pytest.raises(LimitExceeded) as caught:
        limits.check(txt2img(), pending=pending)
    assert describe(caught.value) == message
    assert (caught.value.cap, caught.value.asked, caught.value.allowed) == ("pending", pending, cap)


def noise_png(size) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, "PNG")
    return buffer.getvalue()


UPLOAD_CASES = {  # limits, picture -> message or None
    "megabytes-over": (Limits(max_upload_mb=0.5), (512, 512),
                       "The picture me.png is too large: {mb} MB, at most 0.5 MB per picture allowed on this server."),
    "megabytes-under": (Limits(max_upload_mb=2), (512, 512), None),
    "pixels-over": (Limits(max_pixels=64 * 64), (128, 64),
                    "The picture me.png is too large: 128×64 is 8,192 pixels, at most 4,096 allowed on this server."),
    "pixels-at-cap": (Limits(max_pixels=64 * 64), (64, 64), None),
}


@pytest.mark.parametrize("limits, size, message", UPLOAD_CASES.values(), ids=UPLOAD_CASES.keys())
def test_upload_caps(limits, size, message):
    data = noise_png(size)
    assert check_image(data, "me.png", field="image") == size  # no caps: a fine picture
    if message is None:
        assert check_image(data, "me.png", field="image", limits=limits) == size
        return
    with pytest.raises(LimitExceeded) as caught:
        check_image(data, "../me.png", field="image", limits=limits)
    assert describe(caught.value) == message.format(mb=f"{len(data) / 1e6:.2f}".rstrip("0"))
    assert caught.value.field == "image"


def test_messages_in_chinese():
    with pytest.raises(LimitExceeded) as caught:
        Limits(max_steps=50).check_prompt(txt2img(steps=80))
    assert describe(caught.value, lang="zh-CN") == "步数太多：要求 80 步，此服务器最多允许 50 步。"
    with pytest.raises(LimitExceeded) as caught:
        Limits(max_pending=3).check_pending(3)
    assert describe(caught.value, lang="zh-CN") == (
        "你已有 3 个任务在等待或运行；上限为 3 个。请等其中一个完成。")


def test_limit_exceeded_in_the_error_tree():
    error = LimitExceeded("steps", 80, 50, field="steps")
    assert isinstance(error, ComfyError) and isinstance(error, ValueError)
    assert (error.cap, error.asked, error.allowed, error.field) == ("steps", 80, 50, "steps")
    assert "80" in str(error) and "50" in str(error)


@pytest.mark.parametrize("text, pixels", [
    ("1048576", 1048576), ("1024x1024", 1048576), ("1024×768", 786432), (" 512 X 512 ", 262144),
    ("1_048_576", 1048576), ("1,048,576", 1048576), (4096, 4096),
])
def test_parse_pixels(text, pixels):
    assert parse_pixels(text) == pixels


@pytest.mark.parametrize("text", ["", "abc", "0", "-5", "1024x", "x1024", "0x1024", "1024x1024x2", "1.5"])
def test_parse_pixels_refuses(text):
    with pytest.raises(ValueError):
        parse_pixels(text)


def test_prompt_sizes_of_the_bundled_templates():
    assert prompt_sizes(TXT2IMG) == {"steps": [(20, "steps")], "sizes": [((512, 512), "width")],
                                     "batch": [(1, "batch_size")]}
    inpaint = load_workflow(REPO / "workflows" / "inpaint.json")
    assert prompt_sizes(inpaint)["steps"] and not prompt_sizes(inpaint)["sizes"]  # the picture's size: uploads


@pytest.fixture
def service(tmp_path, dead_url):
    """service(limits, admins) -> a real JobService (its server is never asked anything here)."""
    made = []

    def make(limits, admins=()):
        cluster, store = Cluster([Comfy(dead_url)]), JobStore(tmp_path / f"data{len(made)}")
        made.append((cluster, store))
        return JobService(cluster, store, admins=admins, limits=limits)

    yield make
    for cluster, store in made:
        cluster.close()
        store.close()


def test_limits_for_admins_and_apps_without_caps(service):
    caps = Limits(max_steps=5)
    assert limits_for(service(caps, {"user:root"}), "user:alice") is caps
    assert limits_for(service(caps, {"user:root"}), "user:root") is None  # admins are exempt
    assert limits_for(service(Limits()), "user:alice") is None  # every cap off
    assert limits_for(service(None), "user:alice") is None
    assert limits_for(None, "user:alice") is None  # a bare page, no job service


def test_pending_counts_the_owners_unfinished_jobs(tmp_path):
    store = JobStore(tmp_path)
    try:
        def job(owner, status):
            record = store.create(owner=owner, template="t", values={}, prompt={}, server="s",
                                  prompt_id=os.urandom(8).hex(), kind="txt2img")
            if status != "queued":
                store.update_status(record.job_id, status)
            return record.job_id

        [job("browser:a", s) for s in ("queued", "running", "success", "error", "interrupted")]
        job("browser:b", "queued")
        assert count_pending(store, "browser:a") == 2
        assert count_pending(store, "browser:c") == 0
        assert count_pending(store, "browser:a", live=lambda job_id: None) == 2  # not followed here: as stored
    finally:
        store.close()


def test_parallel_requests_cannot_all_slip_under_the_pending_cap(tmp_path):
    """Count and record are one step: 12 simultaneous requests, a cap of 3 -> exactly 3 recorded."""
    store = JobStore(tmp_path)
    limits = Limits(max_pending=3)
    refused, start = [], threading.Barrier(12)

    def slow_count():  # a busy database: the moment between counting and recording grows
        pending = count_pending(store, "browser:a")
        time.sleep(0.02)
        return pending

    def request():
        start.wait()
        try:
            with admitted(limits, txt2img(), pending=slow_count):
                store.create(owner="browser:a", template="t", values={}, prompt={}, server="s",
                             prompt_id=os.urandom(8).hex(), kind="txt2img")
        except LimitExceeded as exc:
            refused.append(exc)

    threads = [threading.Thread(target=request) for _ in range(12)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert store.count(owner="browser:a") == 3 and len(refused) == 9
    finally:
        store.close()


def test_admitted_without_limits_checks_nothing():
    with admitted(None, txt2img(steps=10_000), pending=lambda: 1 / 0):
        pass
    with admitted(Limits(max_steps=100), txt2img(steps=10), pending=lambda: 1 / 0):  # no pending cap: not counted
        pass


def test_an_int_too_large_for_a_float_is_over_the_cap_not_an_error():
    """JSON carries 10**400 as an int: the steps cap words it, where it raised OverflowError before."""
    graph = {"3": {"class_type": "KSampler", "inputs": {"steps": 10**400, "seed": 1}}}
    with pytest.raises(LimitExceeded) as caught:
        Limits(max_steps=50).check_prompt(graph)
    assert describe(caught.value).startswith("Too many steps: 10,000,000")
