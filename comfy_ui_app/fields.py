"""Field discovery: the form a user expects, found in any API-format workflow.

Pure functions over the graph (node id -> ``{class_type, inputs, _meta}``) and, when
given, the server's ``/object_info`` (types, choices, min and max). Names are given by
these rules in this order; an input named by an earlier rule is not named again:

1. **Links.** Samplers (``latent_image`` plus ``positive`` or ``guider``), base before
   refiner: seed, steps, cfg, sampler, scheduler, denoise from the sampler and the nodes
   feeding its noise/guider/sampler/sigmas (or a primitive node linked in); prompt and
   negative by following its conditioning back to the text encoder (through ControlNet
   by output slot, combine nodes by first input); width/height/batch_size from its
   latent's source. The first sampler's names are plain; a later one's are
   ``refiner_steps`` if its title or its model loader's title or file says "refiner",
   else ``steps_2`` … Inputs shared by two samplers are named once.
2. **Titles.** ``_meta.title`` naming a field ("negative", "Seed", "refiner prompt",
   "steps 2") names the node's matching input; a one-literal node with a title of its own
   ("Style", not a decorated default like "Load Image - base") is named after it (needs
   object_info to know the default titles). A name links already gave away takes the
   next free number (``negative_2``): links say what an input does, titles cannot.
3. **Classes.** checkpoint, lora/lora_strength/lora_clip_strength (one number per node,
   in chain order), image (``control_image`` when feeding a ControlNet; kind ``mask``
   when its MASK output is used), mask (LoadImageMask), controlnet, upscale_model …;
   ``refiner_`` when only the refiner sampler depends on the node.
4. ``{{name}}`` / ``{{name:default}}`` in strings: a text field per name not taken.
5. Every other literal input: an advanced field ``"<node>.<input>"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

__all__ = ["Field", "discover", "input_spec", "PLACEHOLDER", "ROLE_LABELS", "is_link"]

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*(?::([^}]*))?\}\}")

ROLE_LABELS = {
    "prompt": "Prompt", "negative": "Negative prompt", "seed": "Seed", "steps": "Steps",
    "cfg": "CFG", "sampler": "Sampler", "scheduler": "Scheduler", "denoise": "Denoise",
    "width": "Width", "height": "Height", "batch_size": "Batch size", "checkpoint": "Checkpoint",
    "lora": "LoRA", "lora_strength": "LoRA strength", "lora_clip_strength": "LoRA CLIP strength",
    "image": "Image", "mask": "Mask", "control_image": "Control image",
    "filename_prefix": "File name prefix", "controlnet": "ControlNet model",
    "controlnet_strength": "ControlNet strength", "upscale_model": "Upscale model",
    "upscale_by": "Upscale by", "unet": "Diffusion model", "vae": "VAE", "grow_mask": "Grow mask",
}  # fmt: skip
_FIRST = ("prompt", "negative", None, "image", "mask", "control_image")  # None: custom names, placeholders
_FORM_ORDER = _FIRST + tuple(r for r in ROLE_LABELS if r not in _FIRST)
_SAMPLER_INPUTS = {"seed": "seed", "noise_seed": "seed", "steps": "steps", "cfg": "cfg",
                   "sampler_name": "sampler", "scheduler": "scheduler", "denoise": "denoise"}  # fmt: skip
_SAMPLER_PARTS = ("noise", "guider", "sampler", "sigmas")
_TEXT_INPUTS = ("text", "text_g", "prompt", "t5xxl")
_TEXT_TWINS = {"text_g": "text_l", "t5xxl": "clip_l"}  # filled too when equal (SDXL, Flux)
_NOT_CONDITIONING = ("clip", "model", "vae", "image", "pixels", "control_net", "mask", "samples")
_CLASS_ROLES = [  # (input, class name must contain, role); the first match per input wins
    ("ckpt_name", "", "checkpoint"), ("unet_name", "", "unet"), ("lora_name", "", "lora"),
    ("strength_model", "Lora", "lora_strength"), ("strength_clip", "Lora", "lora_clip_strength"),
    ("image", "LoadImageMask", "mask"), ("image", "LoadImage", "image"),
    ("control_net_name", "", "controlnet"), ("strength", "ControlNet", "controlnet_strength"),
    ("model_name", "UpscaleModel", "upscale_model"), ("scale_by", "", "upscale_by"),
    ("vae_name", "", "vae"), ("grow_mask_by", "", "grow_mask"), ("filename_prefix", "", "filename_prefix"),
]  # fmt: skip
_ALIASES = {"positive": "prompt", "positive_prompt": "prompt", "negative_prompt": "negative",
            "sampler_name": "sampler", "noise_seed": "seed", "ckpt_name": "checkpoint", "lora_name": "lora"}  # fmt: skip


@dataclass(frozen=True)
class Field:
    """One form field and the node input(s) it fills."""

    name: str
    kind: str  # text | int | float | bool | choice | image | mask (an image whose alpha is the mask)
    node_id: str
    input_name: str
    default: Any
    label: str
    role: str | None = None  # "steps" for steps, steps_2 and refiner_steps; None if custom or advanced
    choices: tuple = ()  # empty for a choice: the server's list is unknown or empty, accept any
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    multiline: bool = False
    advanced: bool = False
    placeholder: bool = False  # a {{name}} inside the string at node_id/input_name
    also: tuple[tuple[str, str], ...] = ()  # more inputs that take the same value (SDXL text_l)


def is_link(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int))
            and isinstance(value[1], int) and not isinstance(value[1], bool))  # fmt: skip


def input_spec(object_info: dict | None, class_type: str, input_name: str) -> tuple[Any, dict] | None:
    """``(type_or_choices, options)`` for one input from ``/object_info``, if known."""
    node = (object_info or {}).get(class_type) if isinstance(class_type, str) else None
    for section in ("required", "optional"):
        spec = (((node or {}).get("input") or {}).get(section) or {}).get(input_name)
        if isinstance(spec, list) and spec:
            options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            if spec[0] == "COMBO":  # newer servers
                return list(options.get("options") or []), options
            return spec[0], options
    return None


def _label(role: str, tag: int | str) -> tuple[str, str]:
    """Name and label of an instance of a role: tag 1 is plain, else "refiner" or a number."""
    label = ROLE_LABELS.get(role) or role.replace("_", " ").capitalize()
    if tag == "refiner":
        return f"refiner_{role}", f"{label} (refiner)"
    return (role, label) if tag == 1 else (f"{role}_{tag}", f"{label} ({tag})")


class _Finder:
    """The graph, what is named so far, and small questions about both."""

    def __init__(self, prompt: dict, object_info: dict | None) -> None:
        self.prompt, self.info = prompt, object_info
        self.fields: dict[str, Field] = {}
        self.taken: set[tuple[str, str]] = set()
        ids = sorted(prompt, key=lambda n: (len(n), n))
        try:  # every node after the nodes it links from: base before refiner, LoRAs in chain order
            self.order = list(TopologicalSorter({n: self.sources(n) for n in ids}).static_order())
        except CycleError:
            self.order = ids
        self.samplers = [n for n in self.order if "latent_image" in self.inputs(n)
                         and {"positive", "guider"} & set(self.inputs(n))]  # fmt: skip

    def inputs(self, node_id: str) -> dict:
        return self.prompt[node_id].get("inputs") or {}

    def title(self, node_id: str) -> str:
        return str((self.prompt[node_id].get("_meta") or {}).get("title") or self.cls(node_id))

    def cls(self, node_id: str) -> str:
        return str(self.prompt[node_id].get("class_type") or "")

    def linked(self, value: Any) -> str | None:
        return str(value[0]) if is_link(value) and str(value[0]) in self.prompt else None

    def sources(self, node_id: str) -> list[str]:
        return [s for s in map(self.linked, self.inputs(node_id).values()) if s]

    def literal(self, node_id: str, input_name: str) -> bool:
        """A value not named yet (any list is a link to the server, even a broken one)."""
        inputs = self.inputs(node_id)
        return input_name in inputs and not isinstance(inputs[input_name], list) and (node_id, input_name) not in self.taken

    def primitive(self, value: Any) -> tuple[str, str] | None:
        """The literal of a one-input node linked in (PrimitiveInt, a string node)."""
        source = self.linked(value)
        if source and len(self.inputs(source)) == 1 and self.literal(source, next(iter(self.inputs(source)))):
            return source, next(iter(self.inputs(source)))
        return None

    def upstream(self, start: str, stop: list[str] | tuple = ()) -> set[str]:
        """``start`` and every node it depends on, not looking past the nodes in ``stop``."""
        seen, stack = {start}, [start]
        while stack:
            node_id = stack.pop()
            for source in self.sources(node_id) if node_id == start or node_id not in stop else ():
                if source not in seen:
                    seen.add(source)
                    stack.append(source)
        return seen

    def add(self, role: str, tag: int | str, node_id: str, input_name: str, *,
            title: str | None = None, also: tuple = ()) -> None:  # fmt: skip
        """Name an input after a role (or a custom title); a taken name takes the next free number."""
        if not self.literal(node_id, input_name):
            return
        name, label = (role, title) if title else _label(role, tag)
        while name in self.fields:
            tag = tag + 1 if isinstance(tag, int) and tag > 1 else 2
            name, label = (f"{role}_{tag}", f"{title} ({tag})") if title else _label(role, tag)
        self.fields[name] = self.make(name, node_id, input_name, label, None if title else role, also=also)
        self.taken.update([(node_id, input_name), *also])

    def make(self, name: str, node_id: str, input_name: str, label: str, role: str | None, *,
             advanced: bool = False, also: tuple = ()) -> Field:  # fmt: skip
        value = self.inputs(node_id)[input_name]
        spec = input_spec(self.info, self.cls(node_id), input_name)
        kind, options = spec or (None, {})
        choices = tuple(kind) if isinstance(kind, list) else ()
        kind = "choice" if isinstance(kind, list) else {"INT": "int", "FLOAT": "float", "STRING": "text",
                                                        "BOOLEAN": "bool"}.get(kind)  # fmt: skip
        if role in ("image", "mask", "control_image") or options.get("image_upload"):
            kind = self.image_kind(node_id)
        if kind is None:
            kind = "bool" if isinstance(value, bool) else {int: "int", float: "float"}.get(type(value), "text")
        return Field(name, kind, node_id, input_name, value, label, role, choices,
                     minimum=options.get("min"), maximum=options.get("max"), step=options.get("step"),
                     multiline=bool(options.get("multiline")), advanced=advanced, also=also)  # fmt: skip

    def image_kind(self, node_id: str) -> str:
        """``mask`` for a mask loader, or an image whose MASK output (1 - alpha) is used."""
        class_type = self.cls(node_id)
        outputs = ((self.info or {}).get(class_type) or {}).get("output") or ["IMAGE", "MASK"]
        used = {v[1] for n in self.prompt for v in self.inputs(n).values() if self.linked(v) == node_id}
        return "mask" if "Mask" in class_type or any(0 <= i < len(outputs) and outputs[i] == "MASK" for i in used) else "image"


def discover(prompt: dict, object_info: dict | None = None) -> list[Field]:
    """Every field of ``prompt``: named ones first (in form order), then advanced ones."""
    finder = _Finder(prompt, object_info)
    placeholders = {(n, i): [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(v)]
                    for n in finder.order for i, v in finder.inputs(n).items() if isinstance(v, str)}  # fmt: skip
    placeholders = {target: names for target, names in placeholders.items() if names}
    finder.taken.update(placeholders)
    tags = _sampler_tags(finder)
    for sampler in finder.samplers:
        _sampler_fields(finder, sampler, tags[sampler])
    _title_fields(finder)
    _class_fields(finder, tags)
    for (node_id, input_name), names in placeholders.items():
        for name, default in names:
            if name not in finder.fields:
                finder.fields[name] = Field(name, "text", node_id, input_name, (default or "").strip(), _label(name, 1)[1],
                                            name if name in ROLE_LABELS else None, placeholder=True)  # fmt: skip
    named = sorted(finder.fields.values(), key=lambda f: _FORM_ORDER.index(f.role if f.role in _FORM_ORDER else None))
    advanced = [finder.make(f"{n}.{i}", n, i, f"{finder.title(n)} › {i}", None, advanced=True)
                for n in finder.order for i in finder.inputs(n) if finder.literal(n, i)]  # fmt: skip
    return named + advanced


def _sampler_tags(finder: _Finder) -> dict[str, int | str]:
    """1, 2 … per sampler in order; "refiner" for a later one whose title or model says so."""
    tags: dict[str, int | str] = {}
    for index, sampler in enumerate(finder.samplers):
        words = [finder.title(sampler)]
        for node_id in _sampler_unit(finder, sampler):  # follow "model" links up to the loader
            source, hops = finder.linked(finder.inputs(node_id).get("model")), 0
            while source and hops < len(finder.prompt):
                inputs, hops = finder.inputs(source), hops + 1
                words += [finder.title(source), str(inputs.get("ckpt_name", "")), str(inputs.get("unet_name", ""))]
                source = finder.linked(inputs.get("model"))
        if index > 0 and "refiner" not in tags.values() and "refiner" in " ".join(words).lower():
            tags[sampler] = "refiner"
        else:
            tags[sampler] = 1 + sum(tag != "refiner" for tag in tags.values())
    return tags


def _sampler_unit(finder: _Finder, sampler: str) -> list[str]:
    """The sampler and the nodes feeding its noise/guider/sampler/sigmas inputs."""
    unit = [sampler]
    for node_id in unit:  # grows while we walk it
        for part in _SAMPLER_PARTS:
            source = finder.linked(finder.inputs(node_id).get(part))
            if source and source not in unit and source not in finder.samplers:
                unit.append(source)
    return unit


def _sampler_fields(finder: _Finder, sampler: str, tag: int | str) -> None:
    unit = _sampler_unit(finder, sampler)
    conditioning = finder.inputs(sampler)
    for inputs in map(finder.inputs, unit[1:]):
        if {"positive", "conditioning", "cond1"} & set(inputs):  # a guider
            positive = inputs.get("positive", inputs.get("conditioning", inputs.get("cond1")))
            conditioning = {"positive": positive, "negative": inputs.get("negative")}
    for key, role in (("positive", "prompt"), ("negative", "negative")):
        target = _text_target(finder, conditioning.get(key), set())
        if target:
            node_id, input_name = target
            twin, inputs = _TEXT_TWINS.get(input_name), finder.inputs(node_id)
            same = twin and finder.literal(node_id, twin) and inputs[twin] == inputs[input_name]
            finder.add(role, tag, node_id, input_name, also=((node_id, twin),) if same else ())
    for node_id in unit:
        for input_name, value in finder.inputs(node_id).items():
            target = (node_id, input_name) if not is_link(value) else finder.primitive(value)
            if input_name in _SAMPLER_INPUTS and target:
                finder.add(_SAMPLER_INPUTS[input_name], tag, *target)
    latent = _latent_source(finder, finder.inputs(sampler).get("latent_image"))
    for input_name in ("width", "height", "batch_size") if latent else ():
        finder.add(input_name, tag, latent, input_name)


def _text_target(finder: _Finder, link: Any, seen: set[str]) -> tuple[str, str] | None:
    """Follow conditioning links back to ``(node, text input)`` of the encoder."""
    node_id = finder.linked(link)
    if node_id is None or node_id in seen:
        return None
    seen.add(node_id)
    inputs = finder.inputs(node_id)
    for name in _TEXT_INPUTS:
        if isinstance(inputs.get(name), str):
            return node_id, name
        if finder.primitive(inputs.get(name)):
            return finder.primitive(inputs[name])
    if "positive" in inputs and "negative" in inputs:  # ControlNet apply, inpaint conditioning
        keys = ["positive" if link[1] == 0 else "negative"]
    else:
        keys = [k for k in inputs if k not in _NOT_CONDITIONING]
    return next(filter(None, (_text_target(finder, inputs[k], seen) for k in keys)), None)


def _latent_source(finder: _Finder, link: Any) -> str | None:
    """The node making a sampler's latent, or resizing its image (not through another sampler)."""
    node_id = finder.linked(link)
    for _ in finder.prompt:
        if node_id is None or node_id in finder.samplers:
            return None
        inputs = finder.inputs(node_id)
        if "width" in inputs and "height" in inputs:
            return node_id
        links = [inputs[k] for k in ("samples", "latent_image", "latent", "pixels", "image") if is_link(inputs.get(k))]
        node_id = finder.linked(links[0]) if links else None
    return None


def _normalise(title: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
    return _ALIASES.get(name, name)


def _title_fields(finder: _Finder) -> None:
    """Nodes whose ``_meta.title`` names a field (rule 2)."""
    for node_id in finder.order:
        title = str((finder.prompt[node_id].get("_meta") or {}).get("title") or "")
        name = _normalise(title)
        match = re.fullmatch(r"(refiner_)?(.+?)(?:_(\d+))?", name)
        if not match or not name[:1].isalpha():
            continue
        role = _ALIASES.get(match.group(2), match.group(2))
        literals = [k for k, v in finder.inputs(node_id).items() if not isinstance(v, list)]
        if role in ROLE_LABELS:
            wanted = _TEXT_INPUTS if role in ("prompt", "negative") else (
                *[k for k, r in _SAMPLER_INPUTS.items() if r == role], *[i for i, _, r in _CLASS_ROLES if r == role], role)
            only = literals[0] if len(literals) == 1 and role not in ("image", "mask", "control_image") else None
            input_name = next((k for k in wanted if k in literals), only)
            if input_name:
                finder.add(role, "refiner" if match.group(1) else int(match.group(3) or 1), node_id, input_name)
            continue
        class_type = finder.cls(node_id)
        display = ((finder.info or {}).get(class_type) or {}).get("display_name") or class_type
        if finder.info and len(literals) == 1 and all(_normalise(d) not in name for d in (class_type, display)):
            finder.add(name, 1, node_id, literals[0], title=title)


def _class_fields(finder: _Finder, tags: dict[str, int | str]) -> None:
    """Model, LoRA, image … inputs found by class and input name (rule 3)."""
    owners: dict[str, set] = {}
    for sampler in finder.samplers:
        for node_id in finder.upstream(sampler, stop=finder.samplers):
            owners.setdefault(node_id, set()).add(tags[sampler])
    control = set()
    for node_id in finder.order:
        image = finder.linked(finder.inputs(node_id).get("image"))
        if image and "ControlNet" in finder.cls(node_id):
            control |= finder.upstream(image)
    counts: dict[str, int] = {}
    for node_id in finder.order:
        class_type, roles = finder.cls(node_id), {}
        for input_name, needle, role in _CLASS_ROLES:
            if input_name in finder.inputs(node_id) and input_name not in roles and needle in class_type:
                roles[input_name] = "control_image" if role == "image" and node_id in control else role
        roles = {i: r for i, r in roles.items() if finder.literal(node_id, i)}
        if not roles:
            continue
        family = next(iter(roles.values()))
        if "refiner" in finder.title(node_id).lower() or owners.get(node_id) == {"refiner"}:
            tag: int | str = "refiner"
        else:
            tag = counts[family] = counts.get(family, 0) + 1
        for input_name, role in roles.items():
            finder.add(role, tag, node_id, input_name)
