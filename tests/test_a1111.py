"""Reading A1111 / Forge / SwarmUI ``parameters`` texts (comfy_ui_app.workflow.a1111)."""
from __future__ import annotations

import json

import pytest

from comfy_ui_app.workflow.a1111 import comfy_sampler, comfy_scheduler, match_model, parse_parameters
from comfy_ui_app.workflow.pnginfo import parameters_text

FORGE = ("a red fox in the snow, (masterpiece:1.2)\nsecond line of the prompt\n"
         "Negative prompt: blurry, text\nwatermark\n"
         "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234567890, "
         "Size: 832x1216, Model hash: abc123, Model: juggernautXL_v9, Denoising strength: 0.4, "
         'Lora hashes: "a: 1, b: 2", Version: f2.0.1')

CASES = [
    ("Forge, every setting", FORGE,
     {"prompt": "a red fox in the snow, (masterpiece:1.2)\nsecond line of the prompt",
      "negative": "blurry, text\nwatermark",
      "steps": 28, "sampler": "dpmpp_2m", "scheduler": "karras", "cfg": 6.5, "seed": 1234567890, "width": 832,
      "height": 1216, "checkpoint": "juggernautXL_v9", "denoise": 0.4}),
    ("old A1111: the scheduler in the sampler's name",
     "a cat\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1, Size: 512x512, Model: v1-5",
     {"prompt": "a cat", "steps": 20, "sampler": "dpmpp_2m", "scheduler": "karras", "cfg": 7.0, "seed": 1,
      "width": 512, "height": 512, "checkpoint": "v1-5"}),
    ("Euler a, no negative", "a dog\nSteps: 30, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 768x512",
     {"prompt": "a dog", "steps": 30, "sampler": "euler_ancestral", "cfg": 7.0, "seed": 5, "width": 768,
      "height": 512}),
    ("an unknown sampler is left out", "a dog\nSteps: 30, Sampler: Restart, CFG scale: 7, Seed: 5",
     {"prompt": "a dog", "steps": 30, "cfg": 7.0, "seed": 5}),
    ("a prompt only", "just a prompt", {"prompt": "just a prompt"}),
    ("nonsense numbers are left out", "x\nSteps: many, Sampler: Euler, CFG scale: nan, Seed: 3.5, Size: big",
     {"prompt": "x", "sampler": "euler"}),
    ("SwarmUI", json.dumps({"sui_image_params": {
        "prompt": "a fox", "negativeprompt": "blur", "model": "OfficialStableDiffusion/sd_xl_base_1.0",
        "seed": 7, "steps": 25, "cfgscale": 5.5, "width": 1024, "height": 1024, "sampler": "dpmpp_2m_sde",
        "scheduler": "karras"}, "sui_extra_data": {"date": "2024-01-01"}}),
     {"prompt": "a fox", "negative": "blur", "checkpoint": "OfficialStableDiffusion/sd_xl_base_1.0", "seed": 7,
      "steps": 25, "cfg": 5.5, "width": 1024, "height": 1024, "sampler": "dpmpp_2m_sde", "scheduler": "karras"}),
    ("empty", "", {}),
    ("JSON that is not SwarmUI's", '{"a": 1}', {"prompt": '{"a": 1}'}),
]


@pytest.mark.parametrize("name, text, expected", CASES, ids=[c[0] for c in CASES])
def test_parse_parameters(name, text, expected):
    assert parse_parameters(text) == expected


def test_reads_what_this_app_writes():
    """The ``parameters`` chunk the app adds to its own outputs reads back to the same values."""
    values = {"prompt": "a fox, snow", "negative": "blur", "steps": 20, "sampler": "euler", "scheduler": "normal",
              "cfg": 7.5, "seed": 99, "width": 512, "height": 768, "checkpoint": "sd15/v1-5.safetensors"}
    assert parse_parameters(parameters_text(values)) == values


@pytest.mark.parametrize("name, sampler, scheduler", [
    ("Euler a", "euler_ancestral", None), ("DPM++ 2M Karras", "dpmpp_2m", "karras"),
    ("DPM++ SDE Exponential", "dpmpp_sde", "exponential"), ("UniPC", "uni_pc", None), ("dpmpp_2m", "dpmpp_2m", None),
    ("  euler   A ", "euler_ancestral", None), ("Restart", None, None)])
def test_comfy_sampler(name, sampler, scheduler):
    assert comfy_sampler(name) == (sampler, scheduler)


@pytest.mark.parametrize("name, expected", [("Karras", "karras"), ("SGM Uniform", "sgm_uniform"),
                                            ("Automatic", None), ("sgm_uniform", "sgm_uniform"), ("Polyexp", None)])
def test_comfy_scheduler(name, expected):
    assert comfy_scheduler(name) == expected


CHOICES = ["sd15/v1-5-pruned-emaonly.safetensors", "sdxl/juggernautXL_v9.safetensors", "flux.ckpt",
           "sd_xl_base_1.0.safetensors"]


@pytest.mark.parametrize("model, expected", [
    ("juggernautXL_v9", "sdxl/juggernautXL_v9.safetensors"), ("v1-5-pruned-emaonly", CHOICES[0]),
    ("sd15/v1-5-pruned-emaonly.safetensors", CHOICES[0]), ("FLUX", "flux.ckpt"),
    ("OfficialStableDiffusion/juggernautXL_v9.safetensors", "sdxl/juggernautXL_v9.safetensors"),
    ("OfficialStableDiffusion/sd_xl_base_1.0", "sd_xl_base_1.0.safetensors"), ("dreamshaper_8", None), ("", None)])
def test_match_model(model, expected):
    assert match_model(model, CHOICES) == expected
