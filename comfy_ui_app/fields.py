"""Field discovery: the form a user expects, found in any API-format workflow.

Pure functions over the graph (node id -> ``{class_type, inputs, _meta}``) and, when
given, the server's ``/object_info`` (types, defaults, choices, min and max).

* Samplers are found by shape (``latent_image`` plus ``positive`` or ``guider``), ordered
  along the latent chain (base before refiner), and each sampler's seed, steps, cfg,
  sampler, scheduler and denoise are collected from it and the nodes feeding its
  ``noise``/``guider``/``sampler``/``sigmas`` inputs (custom-sampler graphs).
* Prompts are found by following a sampler's ``positive``/``negative`` links back
  through conditioning nodes to the text encoder — never "the first CLIPTextEncode".
* A second sampler's fields are told apart: ``refiner_steps`` when its title says
  refiner, ``steps_2`` otherwise. The same goes for checkpoints, LoRAs and images.
* A node titled with a field name (``_meta.title`` "negative") provides that field; a
  node with one value and a title of its own ("style") becomes a field of that name; ``{{name}}`` / ``{{name:default}}`` inside a
  string value become fields of their own.
* Every other literal input becomes an advanced field named ``"<node>.<input>"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["Field", "discover", "input_spec", "PLACEHOLDER", "ROLE_LABELS", "is_link"]

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*(?::([^}]*))?\}\}")

ROLE_LABELS = {
    "prompt": "Prompt", "negative": "Negative prompt", "seed": "Seed", "steps": "Steps",
    "cfg": "CFG", "sampler": "Sampler", "scheduler": "Scheduler", "denoise": "Denoise",
    "width": "Width", "height": "Height", "batch_size": "Batch size", "checkpoint": "Checkpoint",
    "lora": "LoRA", "lora_strength": "LoRA strength", "lora_clip_strength": "LoRA CLIP strength",
    "image": "Image", "mask": "Mask", "filename_prefix": "File name prefix",
    "controlnet": "ControlNet model", "controlnet_strength": "ControlNet strength",
    "upscale_model": "Upscale model", "upscale_by": "Upscale by", "unet": "Diffusion model",
    "vae": "VAE", "grow_mask": "Grow mask",
}  # fmt: skip

_SAMPLER_INPUTS = {"seed": "seed", "noise_seed": "seed", "steps": "steps", "cfg": "cfg",
                   "sampler_name": "sampler", "scheduler": "scheduler", "denoise": "denoise"}  # fmt: skip
_SAMPLER_PARTS = ("noise", "guider", "sampler", "sigmas")
_TEXT_INPUTS = ("text", "text_g", "prompt")
# (input name, class name must contain this or None) -> role, matched over the whole graph
_GLOBAL_ROLES = [
    ("ckpt_name", None, "checkpoint"), ("lora_name", None, "lora"),
    ("strength_model", "Lora", "lora_strength"), ("strength_clip", "Lora", "lora_clip_strength"),
    ("image", "LoadImageMask", "mask"), ("image", "LoadImage", "image"),
    ("filename_prefix", None, "filename_prefix"), ("control_net_name", None, "controlnet"),
    ("strength", "ControlNet", "controlnet_strength"), ("model_name", "UpscaleModel", "upscale_model"),
    ("scale_by", None, "upscale_by"), ("unet_name", None, "unet"), ("vae_name", None, "vae"),
    ("grow_mask_by", None, "grow_mask"),
]  # fmt: skip


@dataclass(frozen=True)
class Field:
    """One form field and the node input(s) it fills."""

    name: str
    kind: str  # text | int | float | bool | choice | image | mask
    node_id: str
    input_name: str
    default: Any
    label: str
    role: str | None = None  # "steps" for steps, steps_2 and refiner_steps; None if advanced
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    multiline: bool = False
    advanced: bool = False
    placeholder: bool = False  # a {{name}} inside the string at node_id/input_name
    also: tuple[tuple[str, str], ...] = ()  # more inputs that take the same value (SDXL text_l)


def is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int)) and isinstance(value[1], int)


def input_spec(object_info: dict | None, class_type: str, input_name: str) -> tuple[Any, dict] | None:
    """``(type_or_choices, options)`` for one input from ``/object_info``, if known."""
    node = (object_info or {}).get(class_type) or {}
    for section in ("required", "optional"):
        spec = ((node.get("input") or {}).get(section) or {}).get(input_name)
        if isinstance(spec, list) and spec:
            options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            if spec[0] == "COMBO":  # newer servers
                return list(options.get("options") or []), options
            return spec[0], options
    return None


def _kind_of(spec: tuple[Any, dict] | None, value: Any) -> str:
    kind = spec[0] if spec else None
    if isinstance(kind, list):
        return "choice"
    known = {"INT": "int", "FLOAT": "float", "STRING": "text", "BOOLEAN": "bool"}
    if kind in known:
        return known[kind]
    if isinstance(value, bool):
        return "bool"
    return {int: "int", float: "float"}.get(type(value), "text")


def _make(prompt: dict, object_info: dict | None, name: str, node_id: str, input_name: str, *,
          role: str | None, label: str, advanced: bool = False) -> Field:  # fmt: skip
    node = prompt[node_id]
    value = node["inputs"][input_name]
    spec = input_spec(object_info, node["class_type"], input_name)
    options = spec[1] if spec else {}
    kind = _kind_of(spec, value)
    if role in ("image", "mask"):
        kind = role
    return Field(
        name, kind, node_id, input_name, value, label, role,
        choices=tuple(spec[0]) if spec and isinstance(spec[0], list) else (),
        minimum=options.get("min"), maximum=options.get("max"), step=options.get("step"),
        multiline=bool(options.get("multiline")), advanced=advanced,
    )  # fmt: skip


def _title(prompt: dict, node_id: str) -> str:
    return str((prompt[node_id].get("_meta") or {}).get("title") or prompt[node_id]["class_type"])


def _instance(role: str, index: int, title: str) -> tuple[str, str]:
    """Name and label of the index-th (0-based) instance of a role."""
    label = ROLE_LABELS.get(role, role.replace("_", " ").capitalize())
    if index == 0:
        return role, label
    if "refiner" in title.lower():
        return f"refiner_{role}", f"{label} (refiner)"
    return f"{role}_{index + 1}", f"{label} ({index + 1})"


def _linked(prompt: dict, value: Any) -> str | None:
    return str(value[0]) if is_link(value) and str(value[0]) in prompt else None


def _upstream(prompt: dict, node_id: str, seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    for value in prompt[node_id]["inputs"].values():
        source = _linked(prompt, value)
        if source and source not in seen:
            seen.add(source)
            _upstream(prompt, source, seen)
    return seen


def _topological(prompt: dict) -> list[str]:
    order, done = [], set()

    def visit(node_id: str, path: set[str]) -> None:
        if node_id in done or node_id in path:
            return
        for value in prompt[node_id]["inputs"].values():
            source = _linked(prompt, value)
            if source:
                visit(source, path | {node_id})
        done.add(node_id)
        order.append(node_id)

    for node_id in sorted(prompt, key=lambda n: (len(n), n)):
        visit(node_id, set())
    return order


def _samplers(prompt: dict, order: list[str]) -> list[str]:
    """Sampling nodes; topological order puts the base sampler before the refiner."""
    return [n for n in order if "latent_image" in prompt[n]["inputs"]
            and ("positive" in prompt[n]["inputs"] or "guider" in prompt[n]["inputs"])]  # fmt: skip


def _text_target(prompt: dict, start: Any, seen: set[str]) -> tuple[str, str] | None:
    """Follow conditioning links back to ``(node, text input)`` of the encoder."""
    node_id = _linked(prompt, start)
    if node_id is None or node_id in seen:
        return None
    seen.add(node_id)
    inputs = prompt[node_id]["inputs"]
    for name in _TEXT_INPUTS:
        if isinstance(inputs.get(name), str):
            return node_id, name
    for key, value in inputs.items():
        if key not in ("clip", "model", "vae", "image", "control_net"):
            found = _text_target(prompt, value, seen)
            if found:
                return found
    return None


def _sampler_unit(prompt: dict, sampler: str) -> list[str]:
    """The sampler and the nodes feeding its noise/guider/sampler/sigmas inputs."""
    unit = [sampler]
    for node_id in unit:  # grows while we walk it
        for part in _SAMPLER_PARTS:
            source = _linked(prompt, prompt[node_id]["inputs"].get(part))
            if source and source not in unit:
                unit.append(source)
    return unit


def _add(fields: dict[str, Field], taken: set[tuple[str, str]], field: Field) -> None:
    if field.name not in fields and (field.node_id, field.input_name) not in taken:
        fields[field.name] = field
        taken.add((field.node_id, field.input_name))
        taken.update(field.also)


def discover(prompt: dict, object_info: dict | None = None) -> list[Field]:
    """Every field of ``prompt``: named ones first (in form order), then advanced ones."""
    fields: dict[str, Field] = {}
    taken: set[tuple[str, str]] = set()
    order = _topological(prompt)

    def add(role: str, index: int, node_id: str, input_name: str, title: str | None = None) -> None:
        name, label = _instance(role, index, title or _title(prompt, node_id))
        _add(fields, taken, _make(prompt, object_info, name, node_id, input_name, role=role, label=label))

    _title_overrides(prompt, object_info, fields, taken)
    for index, sampler in enumerate(_samplers(prompt, order)):
        title = _title(prompt, sampler)
        unit = _sampler_unit(prompt, sampler)
        conditioning = {k: prompt[sampler]["inputs"].get(k) for k in ("positive", "negative")}
        for node_id in unit:
            inputs = prompt[node_id]["inputs"]
            if "positive" in inputs and node_id != sampler:  # a guider
                conditioning = {k: inputs.get(k) for k in ("positive", "negative")}
            elif "conditioning" in inputs and node_id != sampler:
                conditioning = {"positive": inputs["conditioning"], "negative": None}
        for key, role in (("positive", "prompt"), ("negative", "negative")):
            target = _text_target(prompt, conditioning[key], set())
            if target:
                add(role, index, *target, title=title)
                _also_text_l(prompt, fields, taken, target)
        for node_id in unit:
            for input_name, value in prompt[node_id]["inputs"].items():
                if input_name in _SAMPLER_INPUTS and not is_link(value):
                    add(_SAMPLER_INPUTS[input_name], index, node_id, input_name, title)
        latent = _latent_source(prompt, prompt[sampler]["inputs"].get("latent_image"))
        if latent and index == 0:
            for input_name in ("width", "height", "batch_size"):
                if not is_link(prompt[latent]["inputs"].get(input_name)):
                    add(input_name, 0, latent, input_name)
    counts: dict[str, int] = {}
    for node_id in order:
        class_type = prompt[node_id]["class_type"]
        for input_name, needle, role in _GLOBAL_ROLES:
            value = prompt[node_id]["inputs"].get(input_name)
            if value is None or is_link(value) or (needle and needle not in class_type):
                continue
            if (node_id, input_name) not in taken:
                add(role, counts.get(role, 0), node_id, input_name)
                counts[role] = counts.get(role, 0) + 1
    placeholders = _placeholders(prompt)
    named = [f for f in fields.values() if (f.node_id, f.input_name) not in placeholders]
    result = named + [f for f in _placeholder_fields(prompt, placeholders) if f.name not in fields]
    taken |= set(placeholders)
    for node_id in order:
        for input_name, value in prompt[node_id]["inputs"].items():
            if not is_link(value) and (node_id, input_name) not in taken:
                label = f"{_title(prompt, node_id)} › {input_name}"
                result.append(_make(prompt, object_info, f"{node_id}.{input_name}", node_id, input_name,
                                    role=None, label=label, advanced=True))  # fmt: skip
    return result


def _latent_source(prompt: dict, value: Any) -> str | None:
    """The node making the first sampler's empty latent (not through another sampler)."""
    node_id = _linked(prompt, value)
    while node_id is not None:
        inputs = prompt[node_id]["inputs"]
        if "width" in inputs and "height" in inputs:
            return node_id
        if "positive" in inputs or "guider" in inputs:
            return None
        node_id = next((_linked(prompt, v) for v in inputs.values() if _linked(prompt, v)), None)
    return None


def _also_text_l(prompt: dict, fields: dict, taken: set, target: tuple[str, str]) -> None:
    """SDXL's encoder has text_g and text_l; when they match, one prompt fills both."""
    node_id, input_name = target
    inputs = prompt[node_id]["inputs"]
    if input_name == "text_g" and inputs.get("text_l") == inputs["text_g"]:
        for name, field in fields.items():
            if (field.node_id, field.input_name) == target:
                fields[name] = replace(field, also=((node_id, "text_l"),))
                taken.add((node_id, "text_l"))


_ALIASES = {"positive": "prompt", "positive_prompt": "prompt", "negative_prompt": "negative",
            "sampler_name": "sampler", "noise_seed": "seed", "ckpt_name": "checkpoint"}  # fmt: skip


def _normalise(title: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
    return _ALIASES.get(name, name)


def _title_overrides(prompt: dict, object_info: dict | None, fields: dict, taken: set) -> None:
    """Nodes whose title names a field provide it (checked before discovery)."""
    for node_id in sorted(prompt, key=lambda n: (len(n), n)):
        meta_title = (prompt[node_id].get("_meta") or {}).get("title")
        if not meta_title:
            continue
        name = _normalise(meta_title)
        class_type = prompt[node_id]["class_type"]
        display = ((object_info or {}).get(class_type) or {}).get("display_name") or ""
        literals = [k for k, v in prompt[node_id]["inputs"].items() if not is_link(v)]
        if name in ROLE_LABELS:
            wanted = {"prompt": _TEXT_INPUTS, "negative": _TEXT_INPUTS}.get(name) or (
                [k for k, role in _SAMPLER_INPUTS.items() if role == name] + [name]
                + [i for i, _, r in _GLOBAL_ROLES if r == name])  # fmt: skip
            input_name = next((k for k in wanted if k in literals), literals[0] if len(literals) == 1 else None)
            if input_name:
                field = _make(prompt, object_info, name, node_id, input_name, role=name, label=ROLE_LABELS[name])
                _add(fields, taken, field)
        elif object_info and len(literals) == 1 and meta_title not in (class_type, display) and name[:1].isalpha():
            # a custom name; without /object_info we cannot tell it from a default title
            label = str(meta_title)
            _add(fields, taken, _make(prompt, object_info, name, node_id, literals[0], role=None, label=label))


def _placeholders(prompt: dict) -> dict[tuple[str, str], list[tuple[str, str | None]]]:
    found = {}
    for node_id, node in prompt.items():
        for input_name, value in node["inputs"].items():
            if isinstance(value, str) and PLACEHOLDER.search(value):
                found[(node_id, input_name)] = [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(value)]
    return found


def _placeholder_fields(prompt: dict, placeholders: dict) -> list[Field]:
    result: dict[str, Field] = {}
    for (node_id, input_name), names in placeholders.items():
        for name, default in names:
            if name not in result:
                label = ROLE_LABELS.get(name, name.replace("_", " ").capitalize())
                result[name] = Field(name, "text", node_id, input_name, (default or "").strip(), label,
                                     role=name if name in ROLE_LABELS else None, placeholder=True)  # fmt: skip
    return list(result.values())
