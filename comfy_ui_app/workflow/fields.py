"""Field discovery: the form a user expects, found in any API-format workflow.

Pure functions over the graph (node id -> ``{class_type, inputs, _meta}``) and, when
given, the server's ``/object_info`` (types, choices, min and max). Names are given by
these rules in this order; an input named by an earlier rule is not named again:

1. **Links.** Samplers (``latent_image`` plus ``positive`` or ``guider``), base before
   refiner: seed, steps, cfg, sampler, scheduler, denoise from the sampler and the nodes
   feeding its noise/guider/sampler/sigmas (or a primitive node linked in); prompt and
   negative by following its conditioning back to the text encoders (through ControlNet
   by output slot, through combine/concat/average nodes along every branch, the main one
   first: ``conditioning_to``, else the first input in ``/object_info`` order; a
   DualCFGGuider's ``cond2`` after ``cond1``). The main encoder is ``prompt``; the
   others are ``prompt_2``, ``prompt_3`` … (``negative_2`` …) unless their own title
   names them (rule 2). width/height/batch_size from its latent's source. The first
   sampler's names are plain; a later one's are ``refiner_steps`` if its title or its
   model loader's title or file says "refiner", else ``steps_2`` … Inputs shared by two
   samplers are named once.
2. **Titles.** ``_meta.title`` naming a field ("negative", "Seed", "refiner prompt",
   "steps 2") names the node's matching input; a one-literal node with a title of its own
   ("Style", not a decorated default like "Load Image - base") is named after it (needs
   object_info to know the default titles). A name links already gave away takes the
   next free number (``negative_2``): links say what an input does, titles cannot. The
   title of an editor Primitive folded into an input (``_meta.primitives``, see
   :mod:`comfy_ui_app.workflow.graph`) counts as that input's title.
3. **Classes.** checkpoint, lora/lora_strength/lora_clip_strength (one number per node,
   in chain order), image (``control_image`` when feeding a ControlNet; kind ``mask``
   when its MASK output is used), mask (LoadImageMask), controlnet, upscale_model …;
   ``refiner_`` when only the refiner sampler depends on the node.
4. ``{{name}}`` / ``{{name:default}}`` in strings: a text field per name not taken.
5. Every other literal input: an advanced field ``"<node>.<input>"``.

Inputs one editor Primitive filled are one field whatever rule names it (``also``).

:func:`form_fields` prefers the form the workflow's author chose in ComfyUI's App mode
(:mod:`comfy_ui_app.workflow.app_mode`), with discovery as the fallback.
"""

from __future__ import annotations

import re
from typing import Any

from comfy_ui_app.workflow.app_mode import app_fields, read_app_mode
from comfy_ui_app.workflow.graph import ROLE_LABELS, Field, Finder, input_spec, is_link, label_for, squash

__all__ = ["Field", "discover", "form_fields", "input_spec", "PLACEHOLDER", "ROLE_LABELS", "is_link"]

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*(?::([^}]*))?\}\}")

_FIRST = ("prompt", "negative", None, "image", "mask", "control_image")  # None: custom names, placeholders
_FORM_ORDER = _FIRST + tuple(r for r in ROLE_LABELS if r not in _FIRST)
_SAMPLER_INPUTS = {"seed": "seed", "noise_seed": "seed", "steps": "steps", "cfg": "cfg",
                   "sampler_name": "sampler", "scheduler": "scheduler", "denoise": "denoise"}  # fmt: skip
_SAMPLER_PARTS = ("noise", "guider", "sampler", "sigmas")
_GUIDER_POSITIVES = ("positive", "conditioning", "cond1", "cond2")  # DualCFGGuider: cond2 is a second prompt
_MAIN_CONDITIONING = ("conditioning_to", "conditioning_1")  # the main branch of a combine/concat/average
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


def discover(prompt: dict, object_info: dict | None = None) -> list[Field]:
    """Every field of ``prompt``: named ones first (in form order), then advanced ones."""
    finder = Finder(prompt, object_info)
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
                finder.put(Field(name, "text", node_id, input_name, (default or "").strip(), label_for(name, 1)[1],
                                 name if name in ROLE_LABELS else None, placeholder=True))  # fmt: skip
    named = sorted(finder.fields.values(), key=lambda f: _FORM_ORDER.index(f.role if f.role in _FORM_ORDER else None))
    advanced = []
    for node_id in finder.order:
        for input_name in [i for i in finder.inputs(node_id) if finder.literal(node_id, i)]:
            also = finder.partners(node_id, input_name)
            advanced.append(finder.make(f"{node_id}.{input_name}", node_id, input_name,
                                        f"{finder.title(node_id)} › {input_name}", None, advanced=True, also=also))
            finder.taken.update([(node_id, input_name), *also])
    return named + advanced


def form_fields(prompt: dict, object_info: dict | None = None, workflow: dict | None = None) -> list[Field]:
    """The form of ``prompt``: the inputs its author chose in App mode when ``workflow`` (the
    editor save it was converted from) has them, else every field :func:`discover` finds."""
    fields = discover(prompt, object_info)
    app = read_app_mode(workflow, prompt)
    return app_fields(app, fields, prompt, object_info) if app and app.inputs else fields


def _sampler_tags(finder: Finder) -> dict[str, int | str]:
    """1, 2 … per sampler in order; "refiner" for a later one whose title or model says so."""
    tags: dict[str, int | str] = {}
    says: dict[str, bool] = {}  # node -> its "model" chain (it included) mentions "refiner"
    numbered = 0
    for index, sampler in enumerate(finder.samplers):
        if index > 0 and "refiner" not in tags.values() and (
                "refiner" in finder.title(sampler).lower()
                or any(_model_says_refiner(finder, finder.linked(finder.inputs(node_id).get("model")), says)
                       for node_id in _sampler_unit(finder, sampler))):  # follow "model" links up to the loader
            tags[sampler] = "refiner"
        else:
            numbered += 1
            tags[sampler] = numbered
    return tags


def _model_says_refiner(finder: Finder, source: str | None, says: dict[str, bool]) -> bool:
    """Whether a node or any node up its chain of ``model`` links has "refiner" in its title or
    model file; remembered per node in ``says``, so samplers sharing a chain walk it once."""
    path: list[str] = []
    while source is not None and source not in says and source not in path:
        path.append(source)
        source = finder.linked(finder.inputs(source).get("model"))
    tail = says.get(source, False) if source is not None else False
    if source in path:  # a loop: every node on it sees the whole loop
        tail = any(_mentions_refiner(finder, n) for n in path[path.index(source):])
    for node_id in reversed(path):
        tail = tail or _mentions_refiner(finder, node_id)
        says[node_id] = tail
    return tail


def _mentions_refiner(finder: Finder, node_id: str) -> bool:
    inputs = finder.inputs(node_id)
    words = (finder.title(node_id), str(inputs.get("ckpt_name", "")), str(inputs.get("unet_name", "")))
    return "refiner" in " ".join(words).lower()


def _sampler_unit(finder: Finder, sampler: str) -> list[str]:
    """The sampler and the nodes feeding its noise/guider/sampler/sigmas inputs."""
    unit, seen = [sampler], {sampler}
    for node_id in unit:  # grows while we walk it
        for part in _SAMPLER_PARTS:
            source = finder.linked(finder.inputs(node_id).get(part))
            if source and source not in seen and source not in finder.sampler_set:
                unit.append(source)
                seen.add(source)
    return unit


def _sampler_fields(finder: Finder, sampler: str, tag: int | str) -> None:
    unit = _sampler_unit(finder, sampler)
    inputs = finder.inputs(sampler)
    conditioning = {"positive": [inputs.get("positive")], "negative": [inputs.get("negative")]}
    for inputs in map(finder.inputs, unit[1:]):
        if set(_GUIDER_POSITIVES) & set(inputs):  # a guider
            conditioning = {"positive": [inputs[k] for k in _GUIDER_POSITIVES if k in inputs],
                            "negative": [inputs.get("negative")]}  # fmt: skip
    extra_tag = f"{tag}_2" if tag == "refiner" else max(2, int(tag))  # prompt_2, refiner_prompt_2
    for key, role in (("positive", "prompt"), ("negative", "negative")):
        seen: set[str] = set()
        targets = [t for link in conditioning[key] for t in _text_targets(finder, link, seen)]
        for index, (node_id, input_name) in enumerate(targets):
            if index and _own_title(finder, node_id):
                continue  # an extra encoder with a title of its own is named by it (rule 2)
            twin, inputs = _TEXT_TWINS.get(input_name), finder.inputs(node_id)
            same = twin and finder.literal(node_id, twin) and inputs[twin] == inputs[input_name]
            finder.add(role, extra_tag if index else tag, node_id, input_name, also=((node_id, twin),) if same else ())
    for node_id in unit:
        for input_name, value in finder.inputs(node_id).items():
            target = (node_id, input_name) if not is_link(value) else finder.primitive(value)
            if input_name in _SAMPLER_INPUTS and target:
                finder.add(_SAMPLER_INPUTS[input_name], tag, *target)
    latent = _latent_source(finder, finder.inputs(sampler).get("latent_image"))
    for input_name in ("width", "height", "batch_size") if latent else ():
        finder.add(input_name, tag, latent, input_name)


def _text_targets(finder: Finder, link: Any, seen: set[str]) -> list[tuple[str, str]]:
    """Follow conditioning links back to ``(node, text input)`` of every encoder, main one first.

    Depth first, in input order (an explicit stack: a chain of any length is no recursion)."""
    targets: list[tuple[str, str]] = []
    stack = [link]
    while stack:
        link = stack.pop()
        node_id = finder.linked(link)
        if node_id is None or node_id in seen:
            continue
        seen.add(node_id)
        inputs = finder.inputs(node_id)
        found = next((name for name in _TEXT_INPUTS
                      if isinstance(inputs.get(name), str) or finder.primitive(inputs.get(name))), None)
        if found:
            targets.append((node_id, found) if isinstance(inputs[found], str) else finder.primitive(inputs[found]))
            continue
        if "positive" in inputs and "negative" in inputs:  # ControlNet apply, inpaint conditioning
            keys = ["positive" if link[1] == 0 else "negative"]
        else:
            keys = sorted((k for k in finder.input_order(node_id) if k not in _NOT_CONDITIONING),
                          key=lambda k: k not in _MAIN_CONDITIONING)  # fmt: skip
        stack.extend(inputs[k] for k in reversed(keys))
    return targets


def _own_title(finder: Finder, node_id: str) -> bool:
    """The node has a title of its own: not its class or display name ("CLIP Text Encode (Prompt)")."""
    title = squash((finder.prompt[node_id].get("_meta") or {}).get("title") or "")
    class_type = finder.cls(node_id)
    display = ((finder.info or {}).get(class_type) or {}).get("display_name") or class_type
    return bool(title) and all(squash(d) not in title for d in (class_type, display))


def _latent_source(finder: Finder, link: Any) -> str | None:
    """The node making a sampler's latent, or resizing its image (not through another sampler)."""
    node_id = finder.linked(link)
    for _ in finder.prompt:
        if node_id is None or node_id in finder.sampler_set:
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


def _title_fields(finder: Finder) -> None:
    """Nodes whose ``_meta.title`` names a field, and inputs filled by a titled Primitive (rule 2)."""
    for node_id in finder.order:
        title = str((finder.prompt[node_id].get("_meta") or {}).get("title") or "")
        literals = [k for k, v in finder.inputs(node_id).items() if not isinstance(v, list)]
        _title_field(finder, node_id, title, literals, bool(finder.info) and _own_title(finder, node_id))
        for input_name in literals:
            title = finder.primitive_titles.get((node_id, input_name), "")
            _title_field(finder, node_id, title, [input_name], squash(title) not in ("primitive", squash(input_name)))


def _title_field(finder: Finder, node_id: str, title: str, literals: list[str], own: bool) -> None:
    """Name the input of ``literals`` that ``title`` names: a role, or (``own``, one literal) a custom name."""
    name = _normalise(title)
    match = re.fullmatch(r"(refiner_)?(.+?)(?:_(\d+))?", name)
    if not match or not name[:1].isalpha():
        return
    role = _ALIASES.get(match.group(2), match.group(2))
    if role in ROLE_LABELS:
        wanted = _TEXT_INPUTS if role in ("prompt", "negative") else (
            *[k for k, r in _SAMPLER_INPUTS.items() if r == role], *[i for i, _, r in _CLASS_ROLES if r == role], role)
        only = literals[0] if len(literals) == 1 and role not in ("image", "mask", "control_image") else None
        input_name = next((k for k in wanted if k in literals), only)
        if input_name:
            finder.add(role, "refiner" if match.group(1) else int(match.group(3) or 1), node_id, input_name)
    elif own and len(literals) == 1:
        finder.add(name, 1, node_id, literals[0], title=title)


def _class_fields(finder: Finder, tags: dict[str, int | str]) -> None:
    """Model, LoRA, image … inputs found by class and input name (rule 3)."""
    refiners = [s for s in finder.samplers if tags[s] == "refiner"]
    others = [s for s in finder.samplers if tags[s] != "refiner"]
    # Nodes only the refiner depends on (not looking past another sampler): one walk from each
    # group of samplers at once, not one per sampler.
    refiner_only = finder.upstream(*refiners, stop=finder.sampler_set) - finder.upstream(
        *others, stop=finder.sampler_set) if refiners else set()
    controls = [image for node_id in finder.order if "ControlNet" in finder.cls(node_id)
                for image in [finder.linked(finder.inputs(node_id).get("image"))] if image]
    control = finder.upstream(*controls) if controls else set()
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
        if "refiner" in finder.title(node_id).lower() or node_id in refiner_only:
            tag: int | str = "refiner"
        else:
            tag = counts[family] = counts.get(family, 0) + 1
        for input_name, role in roles.items():
            finder.add(role, tag, node_id, input_name)
