"""Reading the ``parameters`` text of AUTOMATIC1111, Forge and SwarmUI pictures.

A1111 and Forge write three parts::

    a red fox in the snow
    Negative prompt: blurry, text
    Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 512x768, Model: sd15

(older versions write the scheduler into the sampler: ``Sampler: DPM++ 2M Karras``; a value
with a comma is JSON-quoted). SwarmUI writes JSON, ``{"sui_image_params": {"prompt": …,
"negativeprompt": …, "steps": …, "cfgscale": …, "seed": …, "width": …, "height": …,
"model": …, "sampler": …, "scheduler": …}}``. :func:`parse_parameters` reads either into the
roles of the Text to image form (``prompt``, ``negative``, ``steps``, ``cfg``, ``seed``,
``width``, ``height``, ``sampler``, ``scheduler``, ``checkpoint``, ``denoise``), with the
sampler and scheduler named as ComfyUI names them where the name is known (else left out).
Pure: the caller decides what its server has (:func:`match_model`).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

__all__ = ["parse_parameters", "comfy_sampler", "comfy_scheduler", "match_model", "SAMPLERS", "SCHEDULERS"]

#: A1111's sampler names -> ComfyUI's (``KSampler``'s ``sampler_name``)
SAMPLERS = {
    "euler a": "euler_ancestral", "euler": "euler", "lms": "lms", "heun": "heun", "dpm2": "dpm_2",
    "dpm2 a": "dpm_2_ancestral", "dpm++ 2s a": "dpmpp_2s_ancestral", "dpm++ 2m": "dpmpp_2m",
    "dpm++ sde": "dpmpp_sde", "dpm++ 2m sde": "dpmpp_2m_sde", "dpm++ 2m sde gpu": "dpmpp_2m_sde_gpu",
    "dpm++ 3m sde": "dpmpp_3m_sde", "dpm fast": "dpm_fast", "dpm adaptive": "dpm_adaptive", "lcm": "lcm",
    "ddim": "ddim", "ddpm": "ddpm", "unipc": "uni_pc", "heun++ 2": "heunpp2", "ipndm": "ipndm",
    "ipndm_v": "ipndm_v", "deis": "deis", "euler cfg++": "euler_cfg_pp", "euler a cfg++": "euler_ancestral_cfg_pp",
}
#: A1111's "Schedule type" names -> ComfyUI's (``KSampler``'s ``scheduler``)
SCHEDULERS = {
    "karras": "karras", "exponential": "exponential", "sgm uniform": "sgm_uniform", "simple": "simple",
    "normal": "normal", "ddim": "ddim_uniform", "beta": "beta", "kl optimal": "kl_optimal",
    "uniform": "normal", "automatic": None,
}
_COMFY_SAMPLERS = set(SAMPLERS.values())
_COMFY_SCHEDULERS = {v for v in SCHEDULERS.values() if v}
# one "Key: value" of the settings line; a value is JSON-quoted when it holds a comma (A1111's own pattern)
_SETTING = re.compile(r'\s*([\w ]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_SIZE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$")


def comfy_sampler(name: str) -> tuple[str | None, str | None]:
    """``(ComfyUI sampler, scheduler it carried)`` for an A1111 sampler name ("DPM++ 2M Karras"
    -> ("dpmpp_2m", "karras")); a ComfyUI name is kept as it is; None when unknown."""
    text = " ".join(str(name).split()).lower()
    if text in _COMFY_SAMPLERS:
        return text, None
    for suffix, scheduler in (("karras", "karras"), ("exponential", "exponential")):
        if text.endswith(" " + suffix) and text[: -len(suffix) - 1] in SAMPLERS:
            return SAMPLERS[text[: -len(suffix) - 1]], scheduler
    return SAMPLERS.get(text), None


def comfy_scheduler(name: str) -> str | None:
    """ComfyUI's name for an A1111 "Schedule type" (or a ComfyUI name); None when unknown."""
    text = " ".join(str(name).split()).lower()
    return text if text in _COMFY_SCHEDULERS else SCHEDULERS.get(text)


def _number(text: Any, kind: type) -> Any:
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return int(value) if kind is int and value.is_integer() else (value if kind is float else None)


def _settings(line: str) -> dict[str, str]:
    found = {}
    for key, value in _SETTING.findall(line):
        if value.startswith('"') and value.endswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        found[key.strip().lower()] = str(value).strip()
    return found


def _split(text: str) -> tuple[str, str, dict[str, str]]:
    """``(prompt, negative, settings)`` of an A1111 text."""
    lines = text.strip().replace("\r\n", "\n").split("\n")
    settings: dict[str, str] = {}
    if lines and len(_SETTING.findall(lines[-1])) >= 3:
        settings = _settings(lines.pop())
    prompt, negative, in_negative = [], [], False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative, line = True, line[len("Negative prompt:"):].lstrip()
        (negative if in_negative else prompt).append(line)
    return "\n".join(prompt).strip(), "\n".join(negative).strip(), settings


def _from_a1111(text: str) -> dict[str, Any]:
    prompt, negative, s = _split(text)
    found: dict[str, Any] = {"prompt": prompt}
    if negative:
        found["negative"] = negative
    for key, role, kind in (("steps", "steps", int), ("cfg scale", "cfg", float), ("seed", "seed", int),
                            ("denoising strength", "denoise", float)):
        value = _number(s.get(key, ""), kind) if key in s else None
        if value is not None:
            found[role] = value
    size = _SIZE.match(s.get("size", ""))
    if size:
        found["width"], found["height"] = int(size.group(1)), int(size.group(2))
    if s.get("sampler"):
        sampler, scheduler = comfy_sampler(s["sampler"])
        found.update({k: v for k, v in (("sampler", sampler), ("scheduler", scheduler)) if v})
    if s.get("schedule type") and comfy_scheduler(s["schedule type"]):
        found["scheduler"] = comfy_scheduler(s["schedule type"])
    if s.get("model"):
        found["checkpoint"] = s["model"]
    return found


def _from_swarm(params: dict) -> dict[str, Any]:
    found: dict[str, Any] = {"prompt": str(params.get("prompt") or "")}
    if params.get("negativeprompt"):
        found["negative"] = str(params["negativeprompt"])
    for key, role, kind in (("steps", "steps", int), ("cfgscale", "cfg", float), ("seed", "seed", int),
                            ("width", "width", int), ("height", "height", int)):
        value = _number(params[key], kind) if key in params else None
        if value is not None:
            found[role] = value
    if params.get("sampler"):
        sampler, scheduler = comfy_sampler(params["sampler"])
        found.update({k: v for k, v in (("sampler", sampler), ("scheduler", scheduler)) if v})
    if params.get("scheduler") and comfy_scheduler(params["scheduler"]):
        found["scheduler"] = comfy_scheduler(params["scheduler"])
    if params.get("model"):
        found["checkpoint"] = str(params["model"])
    return found


def parse_parameters(text: str) -> dict[str, Any]:
    """``{role: value}`` read from a ``parameters`` text (A1111/Forge or SwarmUI); ``{}`` when
    it holds neither a prompt nor settings."""
    text = str(text or "")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("sui_image_params"), dict):
            return _from_swarm(data["sui_image_params"])
    found = _from_a1111(text)
    return found if len(found) > 1 or found.get("prompt") else {}


def match_model(name: str, choices: Iterable[str]) -> str | None:
    """The server's checkpoint for a picture's ``Model`` (A1111 writes the file's name without its
    folder or extension): the same name, or the one whose file name without extension matches."""
    wanted = str(name or "").strip().replace("\\", "/")
    if not wanted:
        return None
    options = [str(c) for c in choices]
    if wanted in options:
        return wanted
    base = PurePosixPath(wanted).name.lower()  # "sd_xl_base_1.0" (no extension) or "x.safetensors"
    names = {base, PurePosixPath(base).stem}
    for choice in options:
        path = PurePosixPath(choice.replace("\\", "/"))
        if path.stem.lower() in names or path.name.lower() == base:
            return choice
    return None
