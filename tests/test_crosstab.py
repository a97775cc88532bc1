"""What crosses tabs (comfy_ui_app.ui._crosstab): "Send to inpainting" and History's "Load parameters",
and the custom tab's seed display and "reuse last seed" (comfy_ui_app.ui.custom_tab).

The handlers are taken from the real page (``build_app`` over the bundled test server and
a job service), called as Gradio calls them; jobs are put into the store directly.
"""
from __future__ import annotations

import io
import uuid
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from comfy_ui_app import load_workflow
from comfy_ui_app.ui import custom_tab as custom
from comfy_ui_app.ui._crosstab import ParameterLoader, send_to_inpaint
from comfy_ui_app.ui.jobfeed import RunUpdate

REPO = Path(__file__).resolve().parents[1]


def is_skip(update) -> bool:
    return update == gr.skip()  # {"__type__": "update"} and nothing else
ALICE = "alice"  # the browser id; the owner is "browser:alice"


# ---- Send to inpainting ----------------------------------------------------------------------

def test_send_to_inpainting_carries_the_picture_and_both_prompts(tmp_path):
    picture = tmp_path / "fox.png"
    Image.new("RGB", (8, 8)).save(picture)
    editor, prompt, negative, tab, message = send_to_inpaint(str(picture), "a red fox", "blurry", "en")
    assert editor == {"background": str(picture), "layers": [], "composite": str(picture)}
    assert (prompt, negative) == ("a red fox", "blurry") and tab.selected == "inpaint"
    assert is_skip(message)


@pytest.mark.parametrize("lang, words", [("en", "Generate a picture first"), ("zh-CN", "请先生成")])
def test_send_to_inpainting_without_a_picture_says_so_and_stays(lang, words):
    *updates, message = send_to_inpaint(None, "a fox", "", lang)
    assert all(is_skip(u) for u in updates) and words in message


def test_the_page_wires_send_to_inpainting_into_the_inpaint_prompts(page):
    demo, _, _ = page
    (fn,) = [f for f in demo.fns.values() if f.fn is send_to_inpaint]
    labels = [getattr(b, "label", None) for b in fn.outputs]
    assert labels == ["Image", "Prompt", "Negative prompt", None, "Message"]
    assert [getattr(b, "label", None) for b in fn.inputs][1:3] == ["Prompt", "Negative prompt"]
    inpaint_prompt = fn.outputs[1]
    assert inpaint_prompt not in fn.inputs  # the Inpainting tab's own box, not Text to image's


# ---- Load parameters -------------------------------------------------------------------------

@pytest.fixture
def page(comfy_server, tmp_path):
    """(demo, loader, comfy): the real page over the test server with a job service."""
    from comfy_ui_app.jobs.store import JobStore
    from comfy_ui_app.ui import build_app

    from _app import job_service

    store = JobStore(tmp_path / "data")
    jobs = job_service(comfy_server.url, store)
    demo = build_app(jobs.cluster, jobs, workflows_dir=REPO / "workflows", output_dir=tmp_path / "out")
    (fn,) = [f for f in demo.fns.values() if isinstance(getattr(f.fn, "__self__", None), ParameterLoader)]
    try:
        yield demo, fn.fn.__self__, jobs.comfy
    finally:
        jobs.cluster.close()
        store.close()
        store.close()


def record(loader, *, kind, template, values, prompt=None, server=""):
    return loader.ctx.jobs.store.create(owner=f"browser:{ALICE}", template=template, values=values,
                                        prompt=prompt or {}, server=server, prompt_id=str(uuid.uuid4()), kind=kind)


def load(loader, job, lang="en") -> dict:
    """Run the handler as the click's .then does; {output block: update}."""
    params = {"template": job.template, "kind": job.kind, "values": job.values}
    result = loader.load(None, params, job.job_id, ALICE, lang)
    assert len(result) == len(loader.outputs)
    return dict(zip(map(id, loader.outputs), result))


def value_of(updates, component):
    update = updates[id(component)]
    if is_skip(update):
        return None
    return update.get("value") if isinstance(update, dict) and update.get("__type__") == "update" else update


def test_txt2img_job_fills_text_to_image(page):
    _, loader, _ = page
    job = record(loader, kind="txt2img", template="txt2img.json",
                 values={"prompt": "a fox", "steps": 9, "seed": 42, "lora": "x.safetensors", "lora_strength": 0.4})
    out = load(loader, job)
    t2i = loader.t2i_form
    assert value_of(out, t2i.get("prompt").component) == "a fox" and value_of(out, t2i.get("steps").component) == 9
    assert value_of(out, t2i.get("seed").component) == 42
    assert [value_of(out, c) for c in loader.picker.components] == ["x.safetensors", 0.4]
    assert value_of(out, loader.inp_form.get("prompt").component) is None  # other tabs untouched
    assert out[id(loader.tabs)].selected == "txt2img"
    assert value_of(out, loader.history.parts["message"]) == "Parameters loaded into Text to image."


def test_inpaint_job_fills_inpainting_with_the_picture_still_on_the_server(page):
    _, loader, comfy = page
    rgba = np.zeros((16, 24, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 255
    rgba[4:8, 4:8, 3] = 0  # the mask ComfyUI's LoadImage reads
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    name = comfy.client.upload_image(buffer.getvalue(), "inpaint-test.png")["name"]
    prompt = load_workflow(REPO / "workflows" / "inpaint.json")
    prompt["10"]["inputs"]["image"] = name
    values = {"prompt": "a blue ball", "negative": "ugly", "denoise": 0.55, "seed": 7, "grow_mask": 12}
    job = record(loader, kind="inpaint", template="inpaint.json", values=values, prompt=prompt, server=comfy.url)
    out = load(loader, job)
    form = loader.inp_form
    assert {n: value_of(out, form.get(n).component) for n in values} == values
    editor = value_of(out, loader.inp.parts["image"])
    picture = editor["background"]
    assert picture.mode == "RGB" and picture.size == (24, 16) and picture.getpixel((5, 5)) == (200, 0, 0)
    assert editor["layers"] == []  # the mask is painted again
    assert out[id(loader.tabs)].selected == "inpaint"
    assert "with the picture" in value_of(out, loader.history.parts["message"])
    # the picture is gone from the server: the values still come, and the page says so
    prompt["10"]["inputs"]["image"] = "inpaint-gone.png"
    gone = record(loader, kind="inpaint", template="inpaint.json", values=values, prompt=prompt, server=comfy.url)
    out = load(loader, gone, "zh-CN")
    assert is_skip(out[id(loader.inp.parts["image"])])
    assert value_of(out, form.get("prompt").component) == "a blue ball"
    assert "服务器上已没有这张图片" in value_of(out, loader.history.parts["message"])


def test_custom_job_picks_the_same_bundled_template_with_its_values(page):
    _, loader, _ = page
    job = record(loader, kind="custom", template="txt2img.json", values={"prompt": "custom fox", "steps": 5})
    out = load(loader, job)
    loaded = value_of(out, loader.cw.parts["workflow"])
    assert loaded["name"] == "txt2img.json" and loaded["values"] == {"prompt": "custom fox", "steps": 5}
    assert loaded["prompt"]["3"]["class_type"] == "KSampler"
    assert value_of(out, loader.cw.parts["bundled"]) == "txt2img.json"
    assert out[id(loader.tabs)].selected == "custom"
    assert value_of(out, loader.history.parts["message"]) == "Parameters loaded into Custom workflow (txt2img.json)."


def test_custom_job_of_an_uploaded_workflow_uses_the_prompt_it_ran(page):
    _, loader, _ = page
    ran = load_workflow(REPO / "workflows" / "txt2img.json")
    ran["6"]["inputs"]["text"] = "uploaded fox"
    job = record(loader, kind="custom", template="mine.json", values={"prompt": "uploaded fox"}, prompt=ran)
    out = load(loader, job)
    loaded = value_of(out, loader.cw.parts["workflow"])
    assert loaded["prompt"] == ran and loaded["name"] == "mine.json"
    assert out[id(loader.cw.parts["bundled"])] is None  # not a bundled one: nothing picked there
    assert "the workflow this job ran (mine.json)" in value_of(out, loader.history.parts["message"])


@pytest.mark.parametrize("kind, template, values, words", [
    ("cli", "txt2img.json", {"prompt": "x"}, "it was not made in one of this app's tabs"),
    ("txt2img", "txt2img.json", {}, "This job has no parameters to load."),
    ("custom", "gone.json", {"prompt": "x"}, "the workflow of this job is not known any more"),
])
def test_jobs_that_cannot_be_loaded_say_so_plainly(page, kind, template, values, words):
    _, loader, _ = page
    out = load(loader, record(loader, kind=kind, template=template, values=values))
    assert words in value_of(out, loader.history.parts["message"])
    assert is_skip(out[id(loader.tabs)])
    assert all(is_skip(out[id(c)]) for c in loader.outputs[:-2])


def test_nothing_loaded_leaves_the_history_message_alone(page):
    _, loader, _ = page
    assert all(is_skip(u) for u in loader.load(None, None, None, ALICE, "en"))


# ---- the custom tab's seeds ------------------------------------------------------------------

def test_custom_results_show_the_seeds_used_and_remember_the_first():
    # progress, preview, gallery, message, retry, then the seeds (the media players come after them)
    seed_box, last = custom._Results.values(RunUpdate(seeds=[5, 6, 7], final=True))[5:7]
    assert seed_box == gr.update(value="5, 6, 7", visible=True) and last == 5
    seed_box, last = custom._Results.values(RunUpdate(progress="x"))[5:7]
    assert is_skip(seed_box) and is_skip(last)
    assert custom.reuse_seed(5) == 5 and is_skip(custom.reuse_seed(None))


def test_load_job_without_any_workflow_is_none(tmp_path):
    assert custom.load_job(REPO / "workflows", "gone.json", None, {}, None) is None
    loaded, bundled = custom.load_job(REPO / "workflows", "../workflows/txt2img.json", None, {"steps": 3}, None)
    assert bundled and loaded["values"] == {"steps": 3}  # only the bare name is looked up


def test_the_page_sends_no_usage_statistics(tmp_path, dead_url, monkeypatch):
    from comfy_ui_app.ui import build_app

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "True")  # Gradio's default, which the suite turns off
    from _app import job_service
    from comfy_ui_app.jobs.store import JobStore

    store = JobStore(tmp_path / "data")
    jobs = job_service(dead_url, store, healthy=False)
    try:
        demo = build_app(jobs.cluster, jobs, workflows_dir=REPO / "workflows", output_dir=tmp_path / "out")
        assert demo.analytics_enabled is False  # Gradio's analytics would report to its own servers
    finally:
        jobs.cluster.close()
        store.close()


def test_a_styled_job_loads_what_was_typed_with_its_styles_and_reruns_what_was_sent(page, comfy_server):
    """Issue 15 point 3: Load parameters never wraps twice; Re-run sends the recorded prompt as it is."""
    from comfy_ui_app.workflow.prompt_styles import styled_values
    from _waiting import wait_for

    _, loader, _ = page
    sent, extra = styled_values({"prompt": "a fox", "negative": "blurry", "steps": 2}, ["Anime", "Cinematic"])
    prompt = load_workflow(REPO / "workflows" / "txt2img.json")
    prompt["6"]["inputs"]["text"], prompt["7"]["inputs"]["text"] = sent["prompt"], sent["negative"]
    prompt["3"]["inputs"]["steps"], prompt["4"]["inputs"]["ckpt_name"] = 2, "tiny-sd15-random.safetensors"
    prompt["5"]["inputs"].update(width=64, height=64)
    job = record(loader, kind="txt2img", template="txt2img.json", values={**sent, **extra}, prompt=prompt)
    out = load(loader, job)
    assert value_of(out, loader.t2i_form.get("prompt").component) == "a fox"
    assert value_of(out, loader.t2i_form.get("negative").component) == "blurry"
    assert value_of(out, loader.t2i.parts["styles"]) == ["Anime", "Cinematic"]
    assert value_of(out, loader.inp.parts["styles"]) is None  # the other tab untouched
    plain = record(loader, kind="inpaint", template="inpaint.json", values={"prompt": "a ball"})
    out = load(loader, plain)
    assert value_of(out, loader.inp.parts["styles"]) == [] and value_of(out, loader.inp_form.get("prompt").component) \
        == "a ball"  # a job without styles clears the picker
    before = len(comfy_server.received_prompts)
    view = loader.history.parts["view"]
    assert view.rerun(job.job_id, f"browser:{ALICE}", "en").startswith("Queued again")
    wait_for(lambda: len(comfy_server.received_prompts) > before, what="the re-run prompt")
    again = comfy_server.received_prompts[-1]["prompt"]
    assert again["6"]["inputs"]["text"] == sent["prompt"] and again["7"]["inputs"]["text"] == sent["negative"]
    assert sent["prompt"].count("anime artwork of") == 1
