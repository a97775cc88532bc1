"""Pure helpers of the form (comfy_ui_app.ui.form), the txt2img tab and the custom-workflow loader."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from comfy_ui_app import WorkflowError, load_workflow
from comfy_ui_app.workflow.check import Problem
from comfy_ui_app.workflow.fields import Field, discover
from comfy_ui_app.ui import form as forms
from comfy_ui_app.ui import _lenient as lenient
from comfy_ui_app.ui.custom_tab import bundled_workflows, read_workflow
from comfy_ui_app.ui.runner import field_errors
from comfy_ui_app.ui.txt2img_tab import CUSTOM_SIZE, SIZE_PRESETS, apply_preset, preset_for, reuse_seed

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
OBJECT_INFO = json.loads((FIXTURES / "comfyui" / "object_info.json").read_text())


def fields_of(name="txt2img.json", info=OBJECT_INFO):
    template = load_workflow(REPO / "workflows" / name)
    return template, {f.name: f for f in discover(template, info)}


def test_slider_ranges_are_friendly_and_hold_the_default():
    _, f = fields_of()
    assert forms.ui_range(f["steps"]) == (1, 150, 1)  # the node allows 10000: a slider that long is useless
    assert forms.ui_range(f["cfg"]) == (0.0, 30, 0.5)
    assert forms.ui_range(f["width"]) == (64, 2048, 8)
    assert forms.ui_range(f["denoise"]) == (0.0, 1.0, 0.01)
    assert forms.ui_range(f["seed"]) is None  # a Number box
    odd = Field("x", "int", "1", "x", 500, "X", minimum=0, maximum=10**6)
    assert forms.ui_range(odd) is None  # too wide for a slider
    small = Field("x", "float", "1", "x", 3.0, "X", minimum=0, maximum=2, step=0.1)
    assert forms.ui_range(small) == (0, 3.0, 0.1)  # widened to hold the template's own value


def test_collect_snaps_sizes_and_converts_whole_numbers():
    _, f = fields_of()
    fields = [f["prompt"], f["width"], f["height"], f["steps"], f["cfg"]]
    values = forms.collect(fields, [None, 70, 513.0, 4.0, 7.5])
    assert values == {"prompt": "", "width": 72, "height": 512, "steps": 4, "cfg": 7.5}
    assert isinstance(values["steps"], int)


def test_choices_come_from_the_server_and_models_fall_back_to_the_first():
    template, f = fields_of()
    ctx = SimpleNamespace(catalog=SimpleNamespace(models=lambda folder: ["from-models.safetensors"]))
    choices = forms.choices_for(ctx, template, f["checkpoint"], OBJECT_INFO)
    assert choices == ["tiny-sd15-random.safetensors"]
    assert forms.choice_value(f["checkpoint"], choices) == "tiny-sd15-random.safetensors"  # template's is missing
    assert "euler" in forms.choices_for(ctx, template, f["sampler"], OBJECT_INFO)
    assert forms.choice_value(f["sampler"], ["euler", "heun"]) == "euler"
    # no node table (server down at build time): the model folder list, else nothing
    _, bare = fields_of(info=None)
    assert forms.choices_for(ctx, template, bare["checkpoint"], None) == ["from-models.safetensors"]
    down = SimpleNamespace(catalog=SimpleNamespace(models=lambda folder: (_ for _ in ()).throw(OSError())))
    assert forms.choices_for(down, template, bare["checkpoint"], None) == []


def test_built_form_puts_advanced_fields_in_an_accordion_with_error_slots():
    template = load_workflow(FIXTURES / "api_workflows" / "sdxl_base_refiner.json")
    fields = discover(template, OBJECT_INFO)
    assert any(f.advanced for f in fields) and any(not f.advanced for f in fields)
    ctx = SimpleNamespace(catalog=SimpleNamespace(models=lambda folder: [], object_info_or_none=lambda: OBJECT_INFO))
    with gr.Blocks() as demo:
        form = forms.build_form(ctx, template, fields, OBJECT_INFO)
    assert [i.field.name for i in form.items] == [f.name for f in fields]
    accordions = [b for b in demo.blocks.values() if isinstance(b, gr.Accordion)]
    assert len(accordions) == 1 and accordions[0].label == "Advanced"
    inside = {id(c) for c in _descendants(accordions[0])}
    for item in form.items:
        assert (id(item.component) in inside) == item.field.advanced, item.field.name
        assert isinstance(item.error, gr.Markdown) and item.error.visible is False
    kinds = {i.field.name: type(i.component) for i in form.items}
    # text and number boxes are the lenient kinds (ui/_lenient): Gradio's look, the handler's checks
    assert kinds["prompt"] is lenient.Textbox and kinds["checkpoint"] is gr.Dropdown and kinds["seed"] is lenient.Number
    assert kinds["steps"] is lenient.Slider and kinds["10.add_noise"] is gr.Dropdown
    assert {i.component.get_block_name() for i in form.items} <= {"textbox", "dropdown", "number", "slider",
                                                                     "checkbox", "image"}
    seed = form.get("seed").component
    assert seed.value == -1 and seed.minimum == -1  # random by default, and -1 is accepted
    assert all(i.component.allow_custom_value for i in form.items if isinstance(i.component, gr.Dropdown))
    # error updates: one per slot, only the named field shown
    updates = form.error_updates({"steps": "Steps must be at least 1"})
    shown = [u for u in updates if u.get("visible")]
    assert len(updates) == len(form.items) and len(shown) == 1 and "at least 1" in shown[0]["value"]
    assert all(u is not None for u in form.error_updates(None))


def test_lora_fields_are_dropdowns_with_strength_sliders():
    template = load_workflow(FIXTURES / "api_workflows" / "lora_chain.json")
    ctx = SimpleNamespace(catalog=SimpleNamespace(models=lambda folder: ["a.safetensors"]))
    with gr.Blocks():
        form = forms.build_form(ctx, template, discover(template, OBJECT_INFO), OBJECT_INFO)
    lora, strength = form.get("lora").component, form.get("lora_strength").component
    assert isinstance(lora, gr.Dropdown) and ("a.safetensors", "a.safetensors") in lora.choices
    assert isinstance(strength, gr.Slider) and strength.minimum == -2 and strength.maximum == 2


def _descendants(block):
    for child in getattr(block, "children", []) or []:
        yield child
        yield from _descendants(child)


def test_field_errors_drop_the_node_prefix_and_skip_unknown_fields():
    _, f = fields_of()
    problems = [Problem("value_smaller_than_min", "3", "KSampler", "steps", "steps", 0, 1),
                Problem("missing_node_type", "12", "FancyNode"),
                Problem("value_not_in_list", "4", "CheckpointLoaderSimple", "ckpt_name", "checkpoint", "x.ckpt", ("a",))]
    errors = field_errors(problems, list(f.values()))
    assert errors["steps"] == "Steps must be at least 1 (got 0)"
    assert errors["checkpoint"].startswith("Checkpoint 'x.ckpt' is not installed")
    assert set(errors) == {"steps", "checkpoint"}


def test_size_presets_are_label_value_pairs():
    from comfy_ui_app.ui._sizes import size_choices

    assert {(512, 512), (512, 768), (768, 512), (1024, 1024)} <= {wh for _, wh in SIZE_PRESETS.values()}
    assert preset_for(512, 768) == "512x768" and preset_for(600, 600) == CUSTOM_SIZE
    assert preset_for("768", 512.0) == "768x512" and preset_for(None, 512) == CUSTOM_SIZE
    assert apply_preset("768x512") == (768, 512)
    assert all(isinstance(x, type(gr.skip())) for x in apply_preset(CUSTOM_SIZE))
    choices = size_choices()
    assert choices[0] == ("Square 512×512", "512x512") and choices[-1] == ("Custom", CUSTOM_SIZE)


@pytest.mark.parametrize("raw, lang, value, words", [
    (4000, "en", 2048, "Width must be at most 2048 (got 4000); it is now 2048."),
    (8, "en", 64, "Width must be at least 64 (got 8); it is now 64."),
    (4000.0, "zh-CN", 2048, "宽度不能大于 2048（当前为 4000）；已改为 2048。"),
    (1024, "en", None, ""),       # in range: nothing to say, nothing changed
    ("lots", "en", None, ""),     # not a number: the run's own checks word it
])
def test_a_number_past_the_slider_is_put_back_with_the_reason(raw, lang, value, words):
    _, f = fields_of()
    shown, problem = forms.range_check(f["width"], raw, 64, 2048, lang)
    assert problem == words
    assert shown == value if value is not None else isinstance(shown, type(gr.skip()))


def test_size_boxes_typed_past_the_end_are_clamped_and_explained():
    from comfy_ui_app.ui._sizes import _size_input_handler

    template, f = fields_of()
    ctx = SimpleNamespace(catalog=SimpleNamespace(models=lambda folder: []))
    with gr.Blocks():
        form = forms.build_form(ctx, template, [f["width"], f["height"]], OBJECT_INFO)
    handler = _size_input_handler(form.get("width"), form.get("height"))
    width, height, preset, w_err, h_err = handler(4000, 512, "en")
    assert (width, preset) == (2048, "custom") and isinstance(height, type(gr.skip()))
    assert w_err["visible"] and "at most 2048" in w_err["value"] and h_err == gr.update(value="", visible=False)
    width, height, preset, w_err, _ = handler(768, 512, "en")
    assert preset == "768x512" and w_err["visible"] is False


def test_every_slider_of_a_form_gets_a_range_check_that_skips_preprocessing():
    template, f = fields_of()
    ctx = SimpleNamespace(catalog=SimpleNamespace(models=lambda folder: []))
    with gr.Blocks() as demo:
        form = forms.build_form(ctx, template, [f["steps"], f["cfg"], f["seed"], f["prompt"]], OBJECT_INFO)
        form.wire_range_checks(gr.State("en"), skip=("cfg",))
    checks = [fn for fn in demo.fns.values() if fn.name == "check_range"]
    assert len(checks) == 1 and checks[0].preprocess is False  # steps only: cfg skipped, seed is no slider
    value, slot = checks[0].fn(500, "en")
    assert value == 150 and "Steps must be at most 150" in slot["value"]


def test_build_form_starts_at_given_values_and_moves_named_fields_to_advanced():
    template, f = fields_of("inpaint.json")
    ctx = SimpleNamespace(catalog=SimpleNamespace(models=lambda folder: []))
    with gr.Blocks() as demo:
        form = forms.build_form(ctx, template, list(f.values()), OBJECT_INFO, advanced_too=("filename_prefix",),
                                values={"prompt": "a cat", "steps": 7, "image": "inpaint-x.png", "cfg": None})
    assert form.get("prompt").component.value == "a cat" and form.get("steps").component.value == 7
    assert form.get("image").component.value is None  # a server file name is no picture to show
    (accordion,) = [b for b in demo.blocks.values() if isinstance(b, gr.Accordion)]
    assert id(form.get("filename_prefix").component) in {id(c) for c in _descendants(accordion)}
    assert [i.field.name for i in form.items][-1] == "filename_prefix"


def test_reuse_seed():
    assert reuse_seed(1234) == (1234, False)
    assert all(isinstance(x, type(gr.skip())) for x in reuse_seed(None))


def test_read_workflow_api_and_ui_formats(tmp_path):
    assert "txt2img.json" in bundled_workflows(REPO / "workflows")
    api = read_workflow(REPO / "workflows" / "txt2img.json", OBJECT_INFO)
    assert api["workflow"] is None and api["prompt"]["3"]["class_type"] == "KSampler"
    ui = read_workflow(FIXTURES / "ui_workflows" / "default_txt2img.json", OBJECT_INFO)
    assert ui["workflow"]["nodes"] and any(n["class_type"] == "KSampler" for n in ui["prompt"].values())


@pytest.mark.parametrize("content, info, words", [
    ("{not json", OBJECT_INFO, "not valid JSON"),
    ('{"1": {"class_type": "NoSuchNode", "inputs": {}}}', OBJECT_INFO, "not installed on this ComfyUI server: NoSuchNode"),
    (None, None, "cannot be reached"),          # UI format while the server is down
    (None, {k: v for k, v in OBJECT_INFO.items() if k != "KSampler"}, "'KSampler' is not installed"),
])
def test_read_workflow_refuses_in_plain_words(tmp_path, content, info, words):
    path = tmp_path / "w.json"
    if content is None:
        path.write_text((FIXTURES / "ui_workflows" / "default_txt2img.json").read_text())
    else:
        path.write_text(content)
    with pytest.raises(WorkflowError) as err:
        read_workflow(path, info)
    assert words in str(err.value)
