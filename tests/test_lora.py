"""The optional LoRA of "Text to image": comfy_ui_app/workflow/lora.py and comfy_ui_app.ui._lora_picker.

Pure graph surgery first, then the tab's own Generate handler against the bundled test
server, whose LoraLoader is given a list of LoRA files (the recorded node table has none).
"""
from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path

import gradio as gr
import pytest

from comfy_ui_app import apply_values, load_workflow
from comfy_ui_app.workflow.check import check_prompt
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.workflow.lora import (
    NONE, LoraProblem, find_checkpoint_loader, insert_lora, lora_names, with_lora,
)
from comfy_ui_app.texts.messages import describe

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
OBJECT_INFO = json.loads((FIXTURES / "comfyui" / "object_info.json").read_text())
CKPT = "tiny-sd15-random.safetensors"
LORAS = ["detail-tweaker.safetensors", "watercolor.safetensors"]


def info_with_loras(names=LORAS) -> dict:
    info = copy.deepcopy(OBJECT_INFO)
    info["LoraLoader"]["input"]["required"]["lora_name"][0] = list(names)
    return info


def txt2img():
    return load_workflow(REPO / "workflows" / "txt2img.json")


# ---- pure ---------------------------------------------------------------------------------

def test_insert_lora_relinks_every_model_and_clip_consumer():
    template = txt2img()
    before = copy.deepcopy(template)
    new, node_id = insert_lora(template, "watercolor.safetensors", 0.7, object_info=OBJECT_INFO)
    assert template == before  # a deep copy: the shared template is never changed
    assert node_id == "10" and node_id not in template
    lora = new[node_id]
    assert lora["class_type"] == "LoraLoader" and lora["_meta"]["title"] == "LoRA"
    assert lora["inputs"] == {"model": ["4", 0], "clip": ["4", 1], "lora_name": "watercolor.safetensors",
                              "strength_model": 0.7, "strength_clip": 0.7}
    assert new["3"]["inputs"]["model"] == [node_id, 0]                     # the sampler
    assert new["6"]["inputs"]["clip"] == new["7"]["inputs"]["clip"] == [node_id, 1]  # both encoders
    assert new["8"]["inputs"]["vae"] == ["4", 2]                           # VAE stays on the checkpoint
    links = [(k, v) for n in new.values() for k, v in n["inputs"].items() if isinstance(v, list)]
    assert [k for k, v in links if v[0] == "4"] == ["vae", "model", "clip"]  # only the LoRA reads MODEL/CLIP


def test_insert_lora_without_the_node_table_and_with_odd_ids():
    template = {"a": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": CKPT}},
                "7": {"class_type": "KSampler", "inputs": {"model": ["a", 0]}},
                "8": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["a", 1], "text": "x"}}}
    new, node_id = insert_lora(template, "x.safetensors", 1.0, 0.25)
    assert node_id == "9" and new["7"]["inputs"]["model"] == ["9", 0] and new["8"]["inputs"]["clip"] == ["9", 1]
    assert new["9"]["inputs"]["strength_clip"] == 0.25 and new["9"]["inputs"]["model"] == ["a", 0]
    assert find_checkpoint_loader(new) == "a"  # the LoRA (it has a model input) is no loader


@pytest.mark.parametrize("template, words", [
    ({"1": {"class_type": "KSampler", "inputs": {}}}, "no checkpoint loader"),
    ({"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": CKPT}}}, "Nothing in this workflow"),
])
def test_a_graph_a_lora_cannot_join_is_refused_in_words(template, words):
    with pytest.raises(LoraProblem) as caught:
        insert_lora(template, "x.safetensors")
    assert words in str(caught.value) and caught.value.field == "lora"
    assert describe(caught.value, lang="zh-CN") != describe(caught.value)  # translated


def test_lora_names_come_from_the_node_table_else_the_models_folder():
    assert lora_names(OBJECT_INFO) == []  # the recorded server has none
    assert lora_names(info_with_loras()) == LORAS
    combo = copy.deepcopy(OBJECT_INFO)
    combo["LoraLoader"]["input"]["required"]["lora_name"] = ["COMBO", {"options": ["new.safetensors"]}]
    assert lora_names(combo) == ["new.safetensors"]  # newer servers
    assert lora_names(None, ["from-models.safetensors"]) == ["from-models.safetensors"]


def test_with_lora_none_leaves_everything_alone_and_a_pick_passes_the_local_check():
    template, info = txt2img(), info_with_loras()
    fields = discover(template, info)
    values = {"prompt": "a fox", "checkpoint": CKPT}
    assert with_lora(template, fields, values, NONE, 1.0) == (template, fields, values)
    assert with_lora(template, fields, values, None, 1.0)[0] is template
    new, new_fields, new_values = with_lora(template, fields, values, LORAS[1], 0.5, object_info=info)
    assert new_values == {**values, "lora": LORAS[1], "lora_strength": 0.5}
    filled = apply_values(new, new_values, fields=new_fields)
    assert check_prompt(filled, info, new_fields) == []
    problems = check_prompt(apply_values(new, {**new_values, "lora": "gone.safetensors"}, fields=new_fields),
                            info, new_fields)
    assert [(p.kind, p.field) for p in problems] == [("value_not_in_list", "lora")]
    with pytest.raises(LoraProblem) as caught:
        with_lora(template, fields, values, LORAS[0], "lots", object_info=info)
    assert caught.value.field == "lora_strength"


# ---- the tab's handler against the test server ----------------------------------------------

@pytest.fixture
def tab(tmp_path):
    """tab(server) -> the Text to image handlers (``Txt2Img``) with their form built."""
    from _app import app_context, job_service
    from comfy_ui_app.jobs.store import JobStore
    from comfy_ui_app.ui.txt2img_tab import Txt2Img, _lay_out

    opened = []

    def make(server):
        jobs = job_service(server.url, JobStore(tmp_path / f"data{len(opened)}"))
        opened.append(jobs)
        with gr.Blocks():
            ctx = app_context(jobs, tmp_path / "out", lang=gr.State("en"))
            h = Txt2Img(ctx, REPO / "workflows" / "txt2img.json")
            h.parts = _lay_out(h)
        return h

    yield make
    for jobs in opened:
        jobs.cluster.close()
        jobs.store.close()


def run_generate(h, lora, strength=1.0, lang="en", **values):
    wanted = {"prompt": "a fox", "checkpoint": CKPT, "steps": 2, "width": 64, "height": 64, **values}
    form_values = [wanted.get(i.field.name, i.component.value) for i in h.form.items]

    async def go():
        return [out async for out in h.generate(None, lang, True, 1, *form_values, lora, strength, [])]  # no styles

    return asyncio.run(go())


def lora_slot(h, outputs) -> str:
    slot = outputs[5 + len(h.form.items)]  # progress, preview, gallery, message, seed, field errors…
    return slot.get("value") or "" if isinstance(slot, dict) else ""


def test_a_picked_lora_runs_on_the_server(make_comfy_server, tab):
    server = make_comfy_server(loras=LORAS)
    h = tab(server)
    assert h.picker is not None and h.picker.dropdown.visible is True
    assert h.picker.dropdown.choices[0] == (NONE, NONE) and [c[1] for c in h.picker.dropdown.choices[1:]] == LORAS
    last = run_generate(h, LORAS[1], 0.6)[-1]
    assert last[3] == "Done — 1 picture.", last[3]
    sent = server.received_prompts[-1]["prompt"]
    (lora_id,) = [k for k, n in sent.items() if n["class_type"] == "LoraLoader"]
    assert sent[lora_id]["inputs"]["lora_name"] == LORAS[1] and sent[lora_id]["inputs"]["strength_clip"] == 0.6
    assert sent["3"]["inputs"]["model"] == [lora_id, 0] and sent["6"]["inputs"]["clip"] == [lora_id, 1]
    # "(none)": the template exactly as it is
    assert run_generate(h, NONE)[-1][3].startswith("Done")
    assert not any(n["class_type"] == "LoraLoader" for n in server.received_prompts[-1]["prompt"].values())


def test_a_lora_the_server_lacks_is_shown_under_the_picker(make_comfy_server, tab):
    server = make_comfy_server(loras=LORAS)
    h = tab(server)
    sent_before = len(server.received_prompts)
    last = run_generate(h, "gone.safetensors", lang="zh-CN")[-1]
    assert "gone.safetensors" in lora_slot(h, last) and lora_slot(h, last).startswith("⚠")
    assert len(server.received_prompts) == sent_before  # the local check stopped it


def test_the_picker_is_hidden_without_loras_and_follows_the_server(make_comfy_server, tab):
    server = make_comfy_server()
    h = tab(server)
    assert h.picker.dropdown.visible is False and h.picker.strength.visible is False
    server.nodes.loras = server.loras = list(LORAS)  # LoRA files added to the server's models/loras
    h.ctx.catalog.forget()
    dropdown, slider = h.picker.refresh("zh-CN")
    assert dropdown.visible is True and slider.visible is True
    assert dropdown.choices[0] == ("（无）", NONE)  # the label translated, the value kept
    assert h.picker.relabel("en").choices[0] == (NONE, NONE)


def test_a_template_with_its_own_lora_gets_no_picker(tmp_path, comfy_server):
    from _app import app_context, job_service
    from comfy_ui_app.jobs.store import JobStore
    from comfy_ui_app.ui.txt2img_tab import Txt2Img

    chain = FIXTURES / "api_workflows" / "lora_chain.json"
    if not chain.exists():
        pytest.skip("no LoRA-chain fixture")
    jobs = job_service(comfy_server.url, JobStore(tmp_path / "data"))
    try:
        assert Txt2Img(app_context(jobs, tmp_path), chain).picker is None
    finally:
        jobs.cluster.close()
        jobs.store.close()
