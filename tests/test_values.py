"""The value checks every entry shares (issue 13 points 3, 5, 8): pure, table-driven, with the words."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from comfy_ui_app.errors import BadValue, DiskNearlyFull, NotSendable, WorkflowError
from comfy_ui_app.comfy.client import encode_json
from comfy_ui_app.jobs.admission import check_disk, check_sendable, check_texts
from comfy_ui_app.jobs.policy import Policy
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui._lenient import Number, Slider, Textbox, usable_number
from comfy_ui_app.workflow.graph import Field
from comfy_ui_app.workflow.templates import apply_values, load_workflow
from comfy_ui_app.workflow.values import finite_number, value_problem

NAN, INF = float("nan"), float("inf")
CFG = Field("cfg", "float", "3", "cfg", 7.0, "CFG", role="cfg", minimum=0.0, maximum=100.0)
STEPS = Field("steps", "int", "3", "steps", 20, "Steps", role="steps", minimum=1, maximum=10000)
SEED = Field("seed", "int", "3", "seed", 1, "Seed", role="seed")
PROMPT = Field("prompt", "text", "6", "text", "", "Prompt", role="prompt")
PREFIX = Field("filename_prefix", "text", "9", "filename_prefix", "x", "File name prefix")
SAMPLER = Field("sampler", "choice", "3", "sampler_name", "euler", "Sampler", role="sampler")
TEMPLATE = Path(__file__).resolve().parents[1] / "workflows" / "txt2img.json"


@pytest.mark.parametrize("value, expected", [
    (1, 1.0), (2.5, 2.5), ("3", 3.0), (" -1e3 ", -1000.0),
    (NAN, None), (INF, None), (-INF, None), ("nan", None), ("Infinity", None), (10**400, None),
    (True, None), ("abc", None), ([1], None), ({"a": 1}, None), (None, None),
])
def test_finite_number(value, expected):
    assert finite_number(value) == expected


@pytest.mark.parametrize("field, value, ends, chars, expected", [
    (CFG, NAN, (0, 30), None, "CFG must be a finite number."),
    (CFG, -INF, (0, 30), None, "CFG must be a finite number."),
    (CFG, "inf", (0, 30), None, "CFG must be a finite number."),
    (CFG, "abc", (0, 30), None, "CFG must be a number (got 'abc')."),
    (CFG, [7], (0, 30), None, "CFG must be a number (got [7])."),
    (CFG, None, (0, 30), None, "CFG must be a number (got None)."),
    (CFG, True, (0, 30), None, "CFG must be a number (got True)."),
    (CFG, 31, (0, 30), None, "CFG must be at most 30 (got 31)"),
    (CFG, -0.5, (0, 30), None, "CFG must be at least 0 (got -0.5)"),
    (STEPS, 2.5, (1, 150), None, "Steps must be a whole number (got 2.5)."),
    (STEPS, 10**400, (1, 150), None, "Steps must be a number (got " + "1" + "0" * 38 + "…)."),
    (SEED, NAN, (None, None), None, "Seed must be a finite number."),
    (PROMPT, {"a": 1}, (None, None), 10, "Prompt must be text."),
    (PROMPT, 5, (None, None), 10, "Prompt must be text."),
    (PROMPT, "x" * 5_000_000, (None, None), 10_000, "Prompt is 5,000,000 characters long; at most 10,000."),
    (PREFIX, "x" * 1001, (None, None), 1000, "File name prefix is 1,001 characters long; at most 1,000."),
    (SAMPLER, ["euler"], (None, None), 1000, "Sampler must be text."),
])
def test_an_unusable_value_is_worded_for_its_field(field, value, ends, chars, expected):
    problem = value_problem(field, value, low=ends[0], high=ends[1], max_chars=chars)
    assert isinstance(problem, BadValue) and problem.field == field.name
    assert describe(problem) == expected
    assert describe(problem, lang="zh-CN") != expected  # translated
    json.dumps(problem.data, allow_nan=False)  # storable as a job's error


@pytest.mark.parametrize("field, value, ends, chars", [
    (CFG, 7, (0, 30), None), (CFG, "7.5", (0, 30), None), (STEPS, 20.0, (1, 150), None),
    (SEED, None, (None, None), None), (SEED, "", (None, None), None), (SEED, -1, (-1, 2**53), None),
    (PROMPT, None, (None, None), 10), (PROMPT, "a fox", (None, None), 10), (SAMPLER, "euler", (None, None), 10),
])
def test_a_usable_value_passes(field, value, ends, chars):
    assert value_problem(field, value, low=ends[0], high=ends[1], max_chars=chars) is None


@pytest.mark.parametrize("values, expected", [
    ({"cfg": NAN}, "CFG must be a finite number."),
    ({"cfg": "-inf"}, "CFG must be a finite number."),
    ({"steps": INF}, "Steps must be a finite number."),
    ({"steps": 10**400}, "Steps must be a number (got " + "1" + "0" * 38 + "…)."),
    ({"cfg": "lots"}, "cfg must be a number, not 'lots'"),  # the words it had before
])
def test_fill_refuses_what_is_not_a_finite_number(values, expected):
    """``apply_values``: every entry (CLI --set, a re-run, a custom workflow) passes here."""
    with pytest.raises(WorkflowError) as caught:
        apply_values(load_workflow(TEMPLATE), values)
    assert describe(caught.value) == expected and caught.value.field == next(iter(values))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_workflow_holding_nan_is_refused_at_load(constant):
    text = '{"1": {"class_type": "KSampler", "inputs": {"cfg": %s}}}' % constant
    with pytest.raises(WorkflowError) as caught:
        load_workflow(text)
    assert describe(caught.value) == (f"The workflow holds {constant}, which is not a number ComfyUI can take. "
                                      "Put a finite number in its place.")


def test_a_graph_holding_nan_is_not_sendable_and_names_where():
    prompt = {"3": {"class_type": "KSampler", "inputs": {"cfg": NAN, "steps": 2}}}
    with pytest.raises(NotSendable) as caught:
        encode_json({"prompt": prompt, "client_id": "c"})
    assert (caught.value.node, caught.value.input) == ("3", "cfg")
    assert describe(caught.value) == ("This job cannot be sent: it holds a number that is not finite (NaN or "
                                      "infinity) at node 3, input cfg.")
    assert not isinstance(caught.value, ConnectionError)  # never "Cannot reach ComfyUI"
    with pytest.raises(NotSendable):
        check_sendable(prompt)
    assert json.loads(encode_json({"prompt": {"3": {"inputs": {"cfg": 7.5}}}})) == {"prompt": {"3": {"inputs": {"cfg": 7.5}}}}


@pytest.mark.parametrize("values, prompt, expected", [
    ({"prompt": "p" * 101}, {}, "prompt is 101 characters long; at most 100."),
    ({}, {"6": {"inputs": {"text": "t" * 101}}}, "6.text is 101 characters long; at most 100."),
    ({"prompt": "p" * 100, "n": 3}, {"6": {"inputs": {"text": "t" * 100, "x": ["4", 0]}}}, None),
])
def test_the_service_refuses_texts_over_the_prompt_cap(values, prompt, expected):
    policy = Policy(max_prompt_chars=100)
    if expected is None:
        check_texts(policy, values, prompt)
        return
    with pytest.raises(BadValue) as caught:
        check_texts(policy, values, prompt)
    assert describe(caught.value) == expected


def test_a_nearly_full_disk_refuses_new_jobs(tmp_path):
    check_disk(tmp_path, Policy(min_free_mb=1))
    with pytest.raises(DiskNearlyFull) as caught:
        check_disk(tmp_path, Policy(min_free_mb=10**12))
    assert describe(caught.value) == ("The server's disk is nearly full, so it takes no new jobs for now. Please "
                                      "tell whoever runs it.")


@pytest.mark.parametrize("component, payload, passed_on", [
    (Slider(0, 30), NAN, NAN), (Slider(0, 30), "abc", "abc"), (Slider(0, 30), None, None),
    (Slider(0, 30), [1], [1]), (Slider(0, 30), 45, 45), (Slider(0, 30, step=1), 7, 7),
    (Number(minimum=-1), INF, INF), (Number(), None, None), (Number(precision=0), 3.0, 3),
    (Textbox(), {"a": 1}, {"a": 1}), (Textbox(), "fox", "fox"), (Textbox(), None, None),
])
def test_lenient_components_never_raise_and_pass_the_unusable_on(component, payload, passed_on):
    got = component.preprocess(payload)
    assert got == passed_on or (got != got and passed_on != passed_on)  # NaN is NaN
    assert component.get_block_name() in ("slider", "number", "textbox")


@pytest.mark.parametrize("payload, ends, usable", [
    (3, (0, 5), True), (3.5, (None, None), True), (6, (0, 5), False), (NAN, (None, None), False),
    ("3", (None, None), False), (True, (None, None), False),
])
def test_usable_number(payload, ends, usable):
    assert usable_number(payload, *ends) is usable


def test_a_custom_workflows_form_checks_every_field_with_the_policys_caps():
    """The Custom workflow tab's Generate calls the same checks over its rendered form
    (``_lenient.run_problems``): numbers past their control, NaN, text over ``max_text_chars``."""
    import gradio as gr
    from types import SimpleNamespace

    from comfy_ui_app.ui import form as forms
    from comfy_ui_app.ui._lenient import run_problems
    from comfy_ui_app.workflow.fields import discover

    fixtures = Path(__file__).resolve().parent / "fixtures"
    info = json.loads((fixtures / "comfyui" / "object_info.json").read_text())
    template = load_workflow(fixtures / "api_workflows" / "sdxl_base_refiner.json")
    fields = discover(template, info)
    ctx = SimpleNamespace(catalog=SimpleNamespace(models=lambda folder: [], object_info_or_none=lambda: info))
    with gr.Blocks():
        form = forms.build_form(ctx, template, fields, info)
    values = [i.component.value for i in form.items]
    policy = Policy(max_prompt_chars=500, max_text_chars=100)
    assert run_problems(form, values, policy) == {}
    names = [i.field.name for i in form.items]
    values[names.index("cfg")] = float("nan")
    values[names.index("prompt")] = "p" * 501
    text_field = next(i.field.name for i in form.items if i.field.kind == "text" and i.field.role not in
                      ("prompt", "negative"))
    values[names.index(text_field)] = "t" * 101
    problems = run_problems(form, values, policy, batch_count=float("inf"))
    assert {name: describe(p) for name, p in problems.items()} == {
        "cfg": "CFG must be a finite number.",
        "prompt": "Prompt is 501 characters long; at most 500.",
        text_field: f"{form.get(text_field).field.label} is 101 characters long; at most 100.",
        "batch_count": "Batch count must be a finite number.",
    }
