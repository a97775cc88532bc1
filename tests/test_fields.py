"""Field discovery over real-world-shaped API-format workflows (comfy_ui_app.workflow.fields)."""

import copy
import json
import random
from functools import lru_cache
from pathlib import Path

import pytest

from comfy_ui_app import apply_values, load_workflow
from comfy_ui_app.workflow.fields import PLACEHOLDER, Field, discover, is_link

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SEED_RANGE = (0, 2**64 - 1)


@lru_cache(maxsize=None)
def object_info() -> dict:
    return json.loads((FIXTURES / "comfyui" / "object_info.json").read_text(encoding="utf-8"))


def workflow(name: str) -> dict:
    path = ROOT / "workflows" / f"{name}.json" if name in ("txt2img", "img2img", "inpaint") else (
        FIXTURES / "api_workflows" / f"{name}.json")
    return load_workflow(path)


def by_name(prompt: dict, info: dict | None = None) -> dict[str, Field]:
    return {f.name: f for f in discover(prompt, object_info() if info is None else info)}


def named(prompt: dict, info: dict | None = None) -> dict[str, tuple[str, str, str]]:
    return {n: (f.node_id, f.input_name, f.kind) for n, f in by_name(prompt, info).items() if not f.advanced}


def choices(class_type: str, input_name: str) -> tuple:
    return tuple(object_info()[class_type]["input"]["required"][input_name][0])


KSAMPLER = {"seed": ("3", "seed", "int"), "steps": ("3", "steps", "int"), "cfg": ("3", "cfg", "float"),
            "sampler": ("3", "sampler_name", "choice"), "scheduler": ("3", "scheduler", "choice"),
            "denoise": ("3", "denoise", "float")}  # fmt: skip
LATENT = {"width": ("5", "width", "int"), "height": ("5", "height", "int"), "batch_size": ("5", "batch_size", "int")}
PROMPTS = {"prompt": ("6", "text", "text"), "negative": ("7", "text", "text")}
CHECKPOINT = {"checkpoint": ("4", "ckpt_name", "choice")}

# Every named (not advanced) field of each workflow: name -> (node, input, kind).
NAMED = {
    "txt2img": {**PROMPTS, **KSAMPLER, **LATENT, **CHECKPOINT, "filename_prefix": ("9", "filename_prefix", "text")},
    "img2img": {**PROMPTS, **KSAMPLER, **CHECKPOINT, "image": ("10", "image", "image"),
                "filename_prefix": ("9", "filename_prefix", "text")},
    "inpaint": {**PROMPTS, **KSAMPLER, **CHECKPOINT, "image": ("10", "image", "mask"),
                "grow_mask": ("11", "grow_mask_by", "int"), "filename_prefix": ("9", "filename_prefix", "text")},
    "sdxl_base_refiner": {
        "prompt": ("6", "text_g", "text"), "negative": ("7", "text_g", "text"),
        "refiner_prompt": ("15", "text", "text"), "refiner_negative": ("16", "text", "text"),
        "seed": ("10", "noise_seed", "int"), "steps": ("10", "steps", "int"), "cfg": ("10", "cfg", "float"),
        "sampler": ("10", "sampler_name", "choice"), "scheduler": ("10", "scheduler", "choice"),
        "refiner_seed": ("11", "noise_seed", "int"), "refiner_steps": ("11", "steps", "int"),
        "refiner_cfg": ("11", "cfg", "float"), "refiner_sampler": ("11", "sampler_name", "choice"),
        "refiner_scheduler": ("11", "scheduler", "choice"), **LATENT,
        "checkpoint": ("4", "ckpt_name", "choice"), "refiner_checkpoint": ("12", "ckpt_name", "choice"),
        "filename_prefix": ("19", "filename_prefix", "text"),
    },
    "lora_chain": {
        **PROMPTS, **KSAMPLER, **LATENT, **CHECKPOINT, "filename_prefix": ("9", "filename_prefix", "text"),
        # chain order (4 -> 11 -> 10), not id order
        "lora": ("11", "lora_name", "choice"), "lora_strength": ("11", "strength_model", "float"),
        "lora_clip_strength": ("11", "strength_clip", "float"), "lora_2": ("10", "lora_name", "choice"),
        "lora_strength_2": ("10", "strength_model", "float"), "lora_clip_strength_2": ("10", "strength_clip", "float"),
    },
    "controlnet": {
        **PROMPTS, **KSAMPLER, **LATENT, **CHECKPOINT, "filename_prefix": ("9", "filename_prefix", "text"),
        "control_image": ("11", "image", "image"), "controlnet": ("12", "control_net_name", "choice"),
        "controlnet_strength": ("13", "strength", "float"),
    },
    "hires_upscale": {
        **PROMPTS, **KSAMPLER, **LATENT, **CHECKPOINT, "filename_prefix": ("15", "filename_prefix", "text"),
        **{f"{k}_2": ("11", i, kind) for k, (_, i, kind) in KSAMPLER.items()},  # no prompt_2: shared encoders
        "upscale_by": ("10", "scale_by", "float"), "upscale_model": ("13", "model_name", "choice"),
    },
    "img2img_resize": {
        **PROMPTS, **KSAMPLER, **CHECKPOINT, "filename_prefix": ("9", "filename_prefix", "text"),
        "image": ("1", "image", "image"), "width": ("2", "width", "int"), "height": ("2", "height", "int"),
    },
    "custom_sampler": {
        **PROMPTS, **LATENT, **CHECKPOINT, "filename_prefix": ("9", "filename_prefix", "text"),
        "seed": ("25", "noise_seed", "int"), "cfg": ("22", "cfg", "float"), "sampler": ("16", "sampler_name", "choice"),
        "scheduler": ("17", "scheduler", "choice"), "steps": ("17", "steps", "int"), "denoise": ("17", "denoise", "float"),
    },
    "placeholders": {  # node 6's text and node 9's prefix are templates: no "prompt" or "filename_prefix"
        "negative": ("7", "text", "text"), **KSAMPLER, **LATENT, **CHECKPOINT,
        "subject": ("6", "text", "text"), "style": ("6", "text", "text"),
    },
    "title_override": {
        **PROMPTS, **{k: v for k, v in KSAMPLER.items() if k != "seed"}, **LATENT, **CHECKPOINT,
        "filename_prefix": ("9", "filename_prefix", "text"),
        "negative_2": ("10", "text", "text"),  # titled "negative"; links gave "negative" to node 7
        "style": ("12", "text", "text"),  # titled "Style"
        "seed": ("14", "value", "int"),  # a PrimitiveInt linked into the sampler's seed
    },
    "conditioning_combine": {  # Average(from=20 through SetArea, to=6) and Combine(2=21, 1=7), JSON order reversed
        **KSAMPLER, **LATENT, **CHECKPOINT, "filename_prefix": ("9", "filename_prefix", "text"),
        "prompt": ("6", "text", "text"), "prompt_2": ("20", "text", "text"),
        "negative": ("7", "text", "text"), "negative_2": ("21", "text", "text"),
    },
    "inpaint_mask_loader": {
        "prompt": ("3", "text", "text"), "negative": ("4", "text", "text"),
        **{k: ("14", i, kind) for k, (_, i, kind) in KSAMPLER.items()},
        "checkpoint": ("1", "ckpt_name", "choice"), "filename_prefix": ("16", "filename_prefix", "text"),
        "image": ("10", "image", "image"), "mask": ("11", "image", "mask"),
    },
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_fields_of_each_workflow(name):
    assert named(workflow(name)) == NAMED[name]


# name -> field attributes that matter beyond node/input/kind
ATTRIBUTES = [
    ("txt2img", "seed", dict(role="seed", label="Seed", minimum=SEED_RANGE[0], maximum=SEED_RANGE[1], default=156680208700286)),
    ("txt2img", "prompt", dict(multiline=True, label="Prompt", role="prompt")),
    ("txt2img", "scheduler", dict(choices=choices("KSampler", "scheduler"), default="normal")),
    ("txt2img", "width", dict(minimum=16, maximum=16384, step=8, default=512)),
    ("img2img", "denoise", dict(default=0.75, minimum=0.0, maximum=1.0, step=0.01)),
    ("inpaint", "image", dict(role="image", kind="mask", choices=("example.png",), default="example.png")),
    ("inpaint", "grow_mask", dict(default=6, minimum=0, maximum=64)),
    ("inpaint", "denoise", dict(default=1.0)),
    ("inpaint_mask_loader", "mask", dict(role="mask", label="Mask", default="ref_plain_mask.png")),
    ("sdxl_base_refiner", "prompt", dict(also=(("6", "text_l"),), multiline=True)),
    ("sdxl_base_refiner", "negative", dict(also=(("7", "text_l"),), default="text, watermark")),
    ("sdxl_base_refiner", "refiner_prompt", dict(role="prompt", label="Prompt (refiner)", also=())),
    ("sdxl_base_refiner", "seed", dict(role="seed", default=721897303308196, maximum=SEED_RANGE[1])),
    ("sdxl_base_refiner", "refiner_steps", dict(role="steps", label="Steps (refiner)", default=25, minimum=1, maximum=10000)),
    ("sdxl_base_refiner", "refiner_cfg", dict(default=7.5, maximum=100.0)),
    ("sdxl_base_refiner", "refiner_sampler", dict(role="sampler", default="dpmpp_2m", choices=choices("KSampler", "sampler_name"))),
    ("sdxl_base_refiner", "refiner_checkpoint", dict(role="checkpoint", default="sd_xl_refiner_1.0.safetensors",
                                                     choices=("tiny-sd15-random.safetensors",))),
    ("lora_chain", "lora", dict(role="lora", label="LoRA", default="add_detail.safetensors", choices=())),
    ("lora_chain", "lora_2", dict(label="LoRA (2)", default="film_grain_style.safetensors")),
    ("lora_chain", "lora_strength_2", dict(role="lora_strength", default=0.35, minimum=-100.0, maximum=100.0, step=0.01)),
    ("lora_chain", "lora_clip_strength_2", dict(label="LoRA CLIP strength (2)", default=1.0)),
    ("controlnet", "control_image", dict(role="control_image", label="Control image", default="street_photo.png")),
    ("controlnet", "controlnet_strength", dict(default=0.85, minimum=0.0, maximum=10.0)),
    ("controlnet", "negative", dict(default="blurry, lowres")),
    ("hires_upscale", "denoise_2", dict(role="denoise", label="Denoise (2)", default=0.5)),
    ("hires_upscale", "upscale_by", dict(default=1.5, minimum=0.01, maximum=8.0)),
    ("hires_upscale", "upscale_model", dict(default="RealESRGAN_x4plus.pth", choices=())),  # COMBO with no options
    ("img2img_resize", "width", dict(default=768, minimum=0, maximum=16384)),
    ("custom_sampler", "seed", dict(role="seed", default=318008, maximum=SEED_RANGE[1])),
    ("custom_sampler", "steps", dict(default=28)),
    ("custom_sampler", "negative", dict(default="")),
    ("placeholders", "subject", dict(placeholder=True, default="", label="Subject", role=None)),
    ("placeholders", "style", dict(placeholder=True, default="oil painting", label="Style")),
    ("title_override", "negative_2", dict(role="negative", label="Negative prompt (2)", default="extra fingers, deformed hands")),
    ("title_override", "style", dict(role=None, label="Style", multiline=True, placeholder=False)),
    ("title_override", "seed", dict(role="seed", default=1234)),
    ("conditioning_combine", "prompt_2", dict(role="prompt", label="Prompt (2)", default="a red barn", multiline=True)),
    ("conditioning_combine", "negative_2", dict(role="negative", label="Negative prompt (2)", default="people, cars")),
]  # fmt: skip


@pytest.mark.parametrize("name, field, expected", ATTRIBUTES)
def test_field_attributes(name, field, expected):
    found = by_name(workflow(name))[field]
    assert {k: getattr(found, k) for k in expected} == expected
    assert found.advanced is False


ADVANCED = [
    ("sdxl_base_refiner", "10.end_at_step", dict(kind="int", default=20, minimum=0, maximum=10000,
                                                 label="KSampler (Advanced) - BASE › end_at_step")),
    ("sdxl_base_refiner", "11.add_noise", dict(kind="choice", default="disable", choices=("enable", "disable"))),
    ("sdxl_base_refiner", "15.ascore", dict(kind="float", default=6.0, maximum=1000.0)),
    ("controlnet", "13.end_percent", dict(kind="float", default=0.8, minimum=0.0, maximum=1.0)),
    ("controlnet", "14.low_threshold", dict(kind="float", default=0.4)),
    ("hires_upscale", "10.upscale_method", dict(kind="choice", default="nearest-exact")),
    ("inpaint_mask_loader", "11.channel", dict(kind="choice", default="alpha")),
    ("conditioning_combine", "23.conditioning_to_strength", dict(kind="float", default=0.7, maximum=1.0)),
]  # fmt: skip


@pytest.mark.parametrize("name, field, expected", ADVANCED)
def test_advanced_fields(name, field, expected):
    found = by_name(workflow(name))[field]
    assert {k: getattr(found, k) for k in expected} == expected
    assert found.advanced and found.role is None and (found.node_id, found.input_name) == tuple(field.split("."))


@pytest.mark.parametrize("name", sorted(NAMED))
@pytest.mark.parametrize("info", ["object_info", "none"])
def test_every_literal_input_is_filled_by_exactly_one_field(name, info):
    prompt = workflow(name)
    fields = discover(prompt, object_info() if info == "object_info" else None)
    targets = [t for f in fields if not f.placeholder for t in ((f.node_id, f.input_name), *f.also)]
    literals = [(n, i) for n, node in prompt.items() for i, v in node["inputs"].items() if not is_link(v)]
    templated = {(n, i) for n, i in literals if PLACEHOLDER.search(str(prompt[n]["inputs"][i]))}
    assert sorted(targets) == sorted(set(literals) - templated)
    assert len({f.name for f in fields}) == len(fields)
    assert [f.advanced for f in fields] == sorted(f.advanced for f in fields)  # named first


def test_form_order_puts_prompts_first_and_images_before_settings():
    names = [f.name for f in discover(workflow("img2img"), object_info()) if not f.advanced]
    assert names[:3] == ["prompt", "negative", "image"]
    assert names.index("seed") < names.index("checkpoint") < names.index("filename_prefix")


WITHOUT_OBJECT_INFO = [  # kinds come from the values; custom titles need object_info
    ("txt2img", {"sampler": "text", "steps": "int", "cfg": "float", "checkpoint": "text"}),
    ("inpaint", {"image": "mask", "grow_mask": "int"}),
    ("controlnet", {"control_image": "image"}),
    ("title_override", {"negative_2": "text", "seed": "int"}),
]


@pytest.mark.parametrize("name, kinds", WITHOUT_OBJECT_INFO)
def test_without_object_info_names_stay_and_kinds_come_from_values(name, kinds):
    found = named(workflow(name), info={})
    assert {n: found[n][2] for n in kinds} == kinds
    expected = set(NAMED[name]) - ({"style"} if name == "title_override" else set())
    assert set(found) == expected


def test_without_object_info_a_custom_title_is_an_advanced_field():
    assert by_name(workflow("title_override"), info={})["12.text"].advanced


def _retitle(prompt, titles):
    for node_id, title in titles.items():
        prompt[node_id]["_meta"]["title"] = title
    return prompt


def _sdxl_without_titles():
    return _retitle(workflow("sdxl_base_refiner"), {"10": "KSampler (Advanced)", "11": "KSampler (Advanced)",
                                                    "4": "Load Checkpoint", "12": "Load Checkpoint"})  # fmt: skip


def _sdxl_without_any_hint():
    prompt = _sdxl_without_titles()
    prompt["12"]["inputs"]["ckpt_name"] = "another_model.safetensors"
    return prompt


def _swap(prompt, node_id, a, b):
    inputs = prompt[node_id]["inputs"]
    inputs[a], inputs[b] = inputs[b], inputs[a]
    return prompt


def _reverse_lora_chain():
    prompt = workflow("lora_chain")  # 4 -> 10 -> 11 -> sampler
    prompt["10"]["inputs"].update(model=["4", 0], clip=["4", 1])
    prompt["11"]["inputs"].update(model=["10", 0], clip=["10", 1])
    prompt["3"]["inputs"]["model"] = ["11", 0]
    for node_id in ("6", "7"):
        prompt[node_id]["inputs"]["clip"] = ["11", 1]
    return prompt


def _basic_guider_with_titled_negative():
    prompt = workflow("custom_sampler")
    prompt["22"] = {"inputs": {"model": ["4", 0], "conditioning": ["6", 0]}, "class_type": "BasicGuider",
                    "_meta": {"title": "BasicGuider"}}  # fmt: skip
    return _retitle(prompt, {"7": "Negative"})


def _prompt_from_a_string_node():
    prompt = workflow("txt2img")
    prompt["20"] = {"inputs": {"value": "a castle"}, "class_type": "PrimitiveStringMultiline",
                    "_meta": {"title": "String (Multiline)"}}  # fmt: skip
    prompt["6"]["inputs"]["text"] = ["20", 0]
    return prompt


def _zeroed_negative():
    prompt = workflow("txt2img")
    prompt["20"] = {"inputs": {"conditioning": ["6", 0]}, "class_type": "ConditioningZeroOut"}
    prompt["3"]["inputs"]["negative"] = ["20", 0]
    return prompt


VARIANTS = [
    (_prompt_from_a_string_node, {"prompt": ("20", "value"), "negative": ("7", "text")}),
    (_zeroed_negative, {"prompt": ("6", "text"), "negative": None, "7.text": ("7", "text")}),
    # refiner told by the refiner checkpoint's file name when no title says so
    (_sdxl_without_titles, {"refiner_steps": ("11", "steps"), "refiner_prompt": ("15", "text"),
                            "refiner_checkpoint": ("12", "ckpt_name"), "checkpoint": ("4", "ckpt_name")}),
    # no hint at all: numbered, still not merged
    (_sdxl_without_any_hint, {"steps_2": ("11", "steps"), "prompt_2": ("15", "text"), "negative_2": ("16", "text"),
                              "checkpoint_2": ("12", "ckpt_name"), "seed_2": ("11", "noise_seed")}),
    # the sampler's links decide, not the order of ControlNet's outputs
    (lambda: _swap(workflow("controlnet"), "3", "positive", "negative"),
     {"prompt": ("7", "text"), "negative": ("6", "text")}),
    (_reverse_lora_chain, {"lora": ("10", "lora_name"), "lora_2": ("11", "lora_name"),
                           "lora_strength": ("10", "strength_model"), "lora_clip_strength_2": ("11", "strength_clip")}),
    # links win over titles: a positive encoder titled "negative" stays the prompt
    (lambda: _retitle(workflow("txt2img"), {"6": "negative", "7": "Positive Prompt"}),
     {"prompt": ("6", "text"), "negative": ("7", "text")}),
    (lambda: _swap(workflow("title_override"), "3", "positive", "negative"),
     {"prompt": ("7", "text"), "negative": ("6", "text"), "negative_2": ("10", "text")}),
    # ...and a title names what links left free
    (_basic_guider_with_titled_negative, {"prompt": ("6", "text"), "negative": ("7", "text"), "cfg": None}),
    # a title on a one-literal node that links gave nothing to: next free number
    (lambda: {**workflow("txt2img"), "20": {"inputs": {"value": 4.5}, "class_type": "PrimitiveFloat",
                                            "_meta": {"title": "CFG"}}},
     {"cfg": ("3", "cfg"), "cfg_2": ("20", "value")}),
    # an image role is not given to whatever single value the titled node has
    (lambda: _retitle(workflow("inpaint"), {"11": "Mask"}), {"grow_mask": ("11", "grow_mask_by"), "mask": None}),
    # a title naming a role with a number or the refiner prefix
    (lambda: _retitle(workflow("hires_upscale"), {"13": "refiner upscale model"}),
     {"refiner_upscale_model": ("13", "model_name")}),
]  # fmt: skip


def _node(class_type, title=None, **inputs):
    return {"inputs": inputs, "class_type": class_type, "_meta": {"title": title or class_type}}


def _encoder(text, title="CLIP Text Encode (Prompt)"):
    return _node("CLIPTextEncode", title, text=text, clip=["4", 1])


def _positive_through(name, prompt=None, sampler="3", **nodes):
    """``prompt`` (txt2img) with ``nodes`` added and node ``name`` as the sampler's positive."""
    prompt = prompt or workflow("txt2img")
    prompt.update(nodes)
    prompt[sampler]["inputs"]["positive"] = [name, 0]
    return prompt


def _combine(a, b, class_type="ConditioningCombine"):
    keys = ("conditioning_1", "conditioning_2") if class_type == "ConditioningCombine" else (
        "conditioning_to", "conditioning_from")
    return _node(class_type, **{keys[0]: [a, 0], keys[1]: [b, 0]})


def _from_first(node):
    """The same node with its inputs in reverse JSON order (the saved order is anyone's)."""
    return {**node, "inputs": dict(reversed(node["inputs"].items()))}


def _sdxl_refiner_with_a_second_prompt():
    prompt = workflow("sdxl_base_refiner")
    refiner = next(n for n, node in prompt.items() if node["class_type"] == "KSamplerAdvanced" and "REFINER" in
                   node["_meta"]["title"].upper())  # fmt: skip
    return _positive_through("31", prompt, refiner, **{
        "30": _node("CLIPTextEncodeSDXLRefiner", ascore=6.0, width=1024, height=1024, text="film grain", clip=["12", 1]),
        "31": _combine("15", "30")})


def _dual_cfg_guider():
    prompt = workflow("custom_sampler")
    prompt["20"] = _encoder("a spider web")
    prompt["22"] = _node("DualCFGGuider", model=["4", 0], cond1=["6", 0], cond2=["20", 0], negative=["7", 0],
                         cfg_conds=4.5, cfg_cond2_negative=2.0, style="regular")  # fmt: skip
    return prompt


# A second prompt behind a combine node: the main encoder is "prompt" (conditioning_to, or the
# first input in /object_info order), every other encoder is prompt_2, prompt_3 ...
COMBINED = [
    (lambda: _positive_through("21", **{"20": _encoder("a red hat"), "21": _combine("6", "20")}),
     {"prompt": ("6", "text"), "prompt_2": ("20", "text"), "negative": ("7", "text")}),
    (lambda: _positive_through("21", **{"20": _encoder("a red hat"), "21": _from_first(_combine("6", "20"))}),
     {"prompt": ("6", "text"), "prompt_2": ("20", "text")}),
    (lambda: _positive_through("21", **{"20": _encoder("a red hat"),
                                        "21": _from_first(_combine("6", "20", "ConditioningAverage"))}),
     {"prompt": ("6", "text"), "prompt_2": ("20", "text")}),
    (lambda: _positive_through("21", **{"20": _encoder("a red hat"),
                                        "21": _from_first(_combine("6", "20", "ConditioningConcat"))}),
     {"prompt": ("6", "text"), "prompt_2": ("20", "text")}),
    # nested, and through a node in between: depth first, main branch first
    (lambda: _positive_through("23", **{
        "20": _encoder("a red hat"), "21": _encoder("snow"), "22": _combine("6", "20"),
        "24": _node("ConditioningSetTimestepRange", conditioning=["21", 0], start=0.5, end=1.0),
        "23": _combine("22", "24")}),
     {"prompt": ("6", "text"), "prompt_2": ("20", "text"), "prompt_3": ("21", "text")}),
    # an extra encoder with a title of its own keeps the name its title gives
    (lambda: _positive_through("21", **{"20": _encoder("a red hat", "Hat"), "21": _combine("6", "20")}),
     {"prompt": ("6", "text"), "hat": ("20", "text"), "prompt_2": None}),
    (lambda: _positive_through("21", **{"20": _encoder("a red hat", "Positive 3"), "21": _combine("6", "20")}),
     {"prompt": ("6", "text"), "prompt_3": ("20", "text"), "prompt_2": None}),
    (_sdxl_refiner_with_a_second_prompt,
     {"prompt": ("6", "text_g"), "refiner_prompt": ("15", "text"), "refiner_prompt_2": ("30", "text"),
      "prompt_2": None}),
    (_dual_cfg_guider, {"prompt": ("6", "text"), "prompt_2": ("20", "text"), "negative": ("7", "text")}),
]  # fmt: skip


@pytest.mark.parametrize("make, expected", COMBINED)
@pytest.mark.parametrize("info", ["object_info", "none"])
def test_every_prompt_behind_a_combine_node_is_a_field(make, expected, info):
    prompt = make()
    found = {n: (f.node_id, f.input_name) for n, f in by_name(prompt, {} if info == "none" else None).items()}
    if info == "none":  # custom titles need object_info
        expected = {n: v for n, v in expected.items() if n != "hat"}
    assert {n: found.get(n) for n in expected} == expected
    prompts = [f for f in discover(prompt, object_info()) if f.role == "prompt"]
    assert len({(f.node_id, f.input_name) for f in prompts}) == len(prompts), "two fields for one text"


def test_apply_values_fills_each_combined_prompt():
    prompt = workflow("conditioning_combine")
    filled = apply_values(prompt, {"prompt": "a mill", "prompt_2": "a blue door", "negative_2": "fog"},
                          fields=discover(prompt, object_info()))  # fmt: skip
    texts = [filled[n]["inputs"]["text"] for n in ("6", "20", "7", "21")]
    assert texts == ["a mill", "a blue door", "blurry, lowres", "fog"]


def _shared(prompt, primitive_id, *targets, title=None):
    """Mark ``targets`` as filled by one editor Primitive, as convert.ui_to_api does."""
    for node_id, input_name in targets:
        mark = {"id": primitive_id, **({"title": title} if title else {})}
        prompt[node_id]["_meta"].setdefault("primitives", {})[input_name] = mark
    return prompt


def _same_value(prompt, value, *targets):
    for node_id, input_name in targets:
        prompt[node_id]["inputs"][input_name] = value
    return prompt


def _hires(value=7, **marks):
    return _shared(_same_value(workflow("hires_upscale"), value, ("3", "seed"), ("11", "seed")), "12",
                   ("3", "seed"), ("11", "seed"), **marks)  # fmt: skip


# name -> (node, input, also, label); None: no such field
SHARED = [
    (_hires, {"seed": ("3", "seed", (("11", "seed"),), "Seed"), "seed_2": None}),
    (lambda: _hires(title="Seed"), {"seed": ("3", "seed", (("11", "seed"),), "Seed"), "seed_2": None}),
    (lambda: _hires(title="Primitive"), {"seed": ("3", "seed", (("11", "seed"),), "Seed")}),
    (lambda: _hires(title="Shared seed"), {"seed": ("3", "seed", (("11", "seed"),), "Shared seed")}),
    # the value was changed by hand since: two fields again
    (lambda: _same_value(_hires(), 8, ("11", "seed")), {"seed": ("3", "seed", (), "Seed"),
                                                         "seed_2": ("11", "seed", (), "Seed (2)")}),
    # a Primitive titled "Sampler" feeding both samplers' sampler_name
    (lambda: _shared(_same_value(workflow("hires_upscale"), "euler", ("3", "sampler_name"), ("11", "sampler_name")),
                     "13", ("3", "sampler_name"), ("11", "sampler_name"), title="Sampler"),
     {"sampler": ("3", "sampler_name", (("11", "sampler_name"),), "Sampler"), "sampler_2": None}),
    # an input no rule names: the Primitive's title names it (rule 2), still one field
    (lambda: _shared(workflow("hires_upscale"), "14", ("10", "upscale_method"), title="Resize method"),
     {"resize_method": ("10", "upscale_method", (), "Resize method"), "10.upscale_method": None}),
    # a title that only repeats the input's name is no label
    (lambda: _shared(workflow("hires_upscale"), "14", ("10", "upscale_method"), title="upscale method"),
     {"10.upscale_method": ("10", "upscale_method", (), "Upscale Latent By › upscale_method")}),
    # ...and without a title: one advanced field
    (lambda: _shared(_same_value(workflow("controlnet"), 0.25, ("13", "start_percent"), ("14", "low_threshold")),
                     "15", ("13", "start_percent"), ("14", "low_threshold")),
     {"14.low_threshold": ("14", "low_threshold", (("13", "start_percent"),), "Canny › low_threshold"),
      "13.start_percent": None}),
]  # fmt: skip


@pytest.mark.parametrize("make, expected", SHARED)
def test_inputs_one_editor_primitive_filled_are_one_field(make, expected):
    fields = by_name(make())
    found = {n: (f.node_id, f.input_name, f.also, f.label) for n, f in fields.items()}
    assert {n: found.get(n) for n in expected} == expected


def test_setting_a_shared_seed_sets_every_input_it_fills():
    prompt = _hires(title="Shared seed")
    filled = apply_values(prompt, {"seed": -1}, fields=discover(prompt, object_info()), rng=random.Random(3))
    assert filled["3"]["inputs"]["seed"] == filled["11"]["inputs"]["seed"] != 7


@pytest.mark.parametrize("make, expected", VARIANTS)
def test_variants(make, expected):
    found = {n: (f.node_id, f.input_name) for n, f in by_name(make()).items()}
    assert {n: found.get(n) for n in expected} == expected


def test_sdxl_without_hints_has_no_refiner_names():
    assert not [n for n in by_name(_sdxl_without_any_hint()) if n.startswith("refiner")]


def test_a_graph_without_sampler_still_has_its_inputs():
    prompt = {
        "1": {"inputs": {"image": "photo.png"}, "class_type": "LoadImage", "_meta": {"title": "Load Image"}},
        "2": {"inputs": {"model_name": "4x.pth"}, "class_type": "UpscaleModelLoader", "_meta": {"title": "Load Upscale Model"}},
        "3": {"inputs": {"upscale_model": ["2", 0], "image": ["1", 0]}, "class_type": "ImageUpscaleWithModel"},
        "4": {"inputs": {"filename_prefix": "up", "images": ["3", 0]}, "class_type": "SaveImage"},
    }  # fmt: skip
    assert named(prompt) == {"image": ("1", "image", "image"), "upscale_model": ("2", "model_name", "choice"),
                             "filename_prefix": ("4", "filename_prefix", "text")}  # fmt: skip


def test_a_node_without_class_type_does_not_stop_discovery():
    prompt = workflow("txt2img")
    del prompt["7"]["class_type"]
    assert named(prompt)["negative"] == ("7", "text", "text")


def test_a_cycle_does_not_hang_discovery():
    prompt = workflow("txt2img")
    prompt["4"]["inputs"]["loop"] = ["8", 0]  # 4 -> 8 -> 3 -> 4
    assert named(prompt)["steps"] == ("3", "steps", "int")


def test_placeholders_fill_every_occurrence_and_keep_their_default():
    prompt = workflow("placeholders")
    filled = apply_values(prompt, {"subject": "an old sailor", "seed": 3}, fields=discover(prompt, object_info()))
    assert filled["6"]["inputs"]["text"] == "a portrait of an old sailor, oil painting, detailed"
    assert filled["9"]["inputs"]["filename_prefix"] == "portraits/an old sailor"
    assert "{{" in prompt["6"]["inputs"]["text"]  # the template is untouched


def test_a_placeholder_named_like_a_field_takes_that_fields_value():
    prompt = workflow("placeholders")
    prompt["9"]["inputs"]["filename_prefix"] = "run_{{seed}}"
    fields = discover(prompt, object_info())
    assert [(f.node_id, f.placeholder) for f in fields if f.name == "seed"] == [("3", False)]
    filled = apply_values(prompt, {"seed": -1}, fields=fields, rng=random.Random(1))
    assert filled["9"]["inputs"]["filename_prefix"] == f"run_{filled['3']['inputs']['seed']}"


def test_apply_values_fills_the_sdxl_twin_text_and_keeps_base_and_refiner_apart():
    prompt = workflow("sdxl_base_refiner")
    fields = discover(prompt, object_info())
    filled = apply_values(prompt, {"prompt": "a fox", "refiner_steps": 30, "steps": 12}, fields=fields)
    assert filled["6"]["inputs"]["text_g"] == filled["6"]["inputs"]["text_l"] == "a fox"
    assert filled["15"]["inputs"]["text"] == prompt["15"]["inputs"]["text"]
    assert (filled["10"]["inputs"]["steps"], filled["11"]["inputs"]["steps"]) == (12, 30)


def test_different_sdxl_texts_are_not_tied_together():
    prompt = workflow("sdxl_base_refiner")
    prompt["6"]["inputs"]["text_l"] = "photo"
    fields = by_name(prompt)
    assert fields["prompt"].also == () and fields["6.text_l"].advanced


def test_discover_does_not_change_the_workflow():
    prompt = workflow("title_override")
    before = copy.deepcopy(prompt)
    discover(prompt, object_info())
    assert prompt == before
