"""The workflow graph as field discovery sees it: :class:`Field`, and ``Finder`` — the
graph, what is named so far, and small questions about both (used by :mod:`comfy_ui_app.workflow.fields`).

**Shared primitives.** An editor Primitive that feeds several widgets is folded into
each of them by :mod:`comfy_ui_app.workflow.convert`, which leaves a marker in each target's ``_meta``
(ComfyUI ignores ``_meta``)::

    "_meta": {"title": "KSampler", "primitives": {"seed": {"id": "12", "title": "Seed"}}}

Inputs with the same primitive ``id`` (and still the same value) are one field: the
first one named, with the others as ``also``; the primitive's own title, if it has one,
is the field's label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from collections.abc import Iterable
from typing import Any

from comfy_ui_app.workflow.file_inputs import upload_kind

__all__ = ["Field", "Finder", "ROLE_LABELS", "input_spec", "is_link", "label_for", "squash"]

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


@dataclass(frozen=True)
class Field:
    """One form field and the node input(s) it fills."""

    name: str
    kind: str  # text | int | float | bool | choice | image | mask (an image whose alpha is the mask)
    #            | audio | video | model3d | animation (a file of that kind: workflow.file_inputs.upload_kind)
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


def label_for(role: str, tag: int | str) -> tuple[str, str]:
    """Name and label of an instance of a role: tag 1 is plain, else a number, "refiner"
    or "refiner_<number>" (a refiner's second prompt)."""
    label = ROLE_LABELS.get(role) or role.replace("_", " ").capitalize()
    if isinstance(tag, str):
        number = tag.partition("_")[2]
        return (f"refiner_{role}_{number}", f"{label} (refiner {number})") if number else (
            f"refiner_{role}", f"{label} (refiner)")
    return (role, label) if tag == 1 else (f"{role}_{tag}", f"{label} ({tag})")


def squash(text: str) -> str:
    """``text`` in lower case letters and digits only, to compare titles with names."""
    return re.sub(r"[^a-z0-9]+", "", str(text).lower())


def _named(role: str, refiner: bool, number: int, title: str | None) -> tuple[str, str]:
    """Name and label of instance ``number`` of ``role`` (a refiner's, or one named by ``title``)."""
    if title:
        return (role, title) if number == 1 else (f"{role}_{number}", f"{title} ({number})")
    return label_for(role, (f"refiner_{number}" if number > 1 else "refiner") if refiner else number)


class Finder:
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
        self.sampler_set = frozenset(self.samplers)
        self._labels: set[str] = set()  # the labels of self.fields (kept by put)
        self._free: dict[tuple, tuple[int, int]] = {}  # add's search for a free name: (first, last) tried
        self._used_outputs: dict[str, set[int]] | None = None  # node -> its output slots linked (image_kind)
        groups: dict[str, list[tuple[str, str]]] = {}
        self.primitive_titles: dict[tuple[str, str], str] = {}  # (node, input) -> the Primitive's title
        for node_id in self.order:
            marks = (prompt[node_id].get("_meta") or {}).get("primitives")
            for input_name, mark in marks.items() if isinstance(marks, dict) else ():
                if isinstance(mark, dict) and input_name in self.inputs(node_id):
                    groups.setdefault(str(mark.get("id")), []).append((node_id, input_name))
                    if isinstance(mark.get("title"), str) and mark["title"].strip():
                        self.primitive_titles[node_id, input_name] = mark["title"].strip()
        self.shared = {target: group for group in groups.values() for target in group}

    def inputs(self, node_id: str) -> dict:
        return self.prompt[node_id].get("inputs") or {}

    def title(self, node_id: str) -> str:
        return str((self.prompt[node_id].get("_meta") or {}).get("title") or self.cls(node_id))

    def cls(self, node_id: str) -> str:
        return str(self.prompt[node_id].get("class_type") or "")

    def linked(self, value: Any) -> str | None:
        return str(value[0]) if is_link(value) and str(value[0]) in self.prompt else None

    def input_order(self, node_id: str) -> list[str]:
        """The node's input names in ``/object_info`` order where known, then as in the JSON."""
        info = (self.info or {}).get(self.cls(node_id)) or {}
        specs, order = info.get("input") or {}, info.get("input_order") or {}
        known = [n for s in ("required", "optional") for n in (order.get(s) or list(specs.get(s) or {}))]
        inputs = self.inputs(node_id)
        return [n for n in known if n in inputs] + [n for n in inputs if n not in known]

    def partners(self, node_id: str, input_name: str) -> tuple[tuple[str, str], ...]:
        """The other inputs one editor Primitive filled with this input's value, not named yet."""
        value = self.inputs(node_id).get(input_name)
        group = self.shared.get((node_id, input_name), ())
        return tuple(t for t in group if t != (node_id, input_name) and self.literal(*t) and self.inputs(t[0])[t[1]] == value)

    def primitive_label(self, node_id: str, input_name: str) -> str | None:
        """The title of the Primitive that filled an input, where it says more than the input's name."""
        title = self.primitive_titles.get((node_id, input_name))
        if not title or squash(title) in ("primitive", squash(input_name)):
            return None
        return None if title in self._labels else title

    def put(self, field: Field) -> None:
        """Record a named field (every named field goes through here)."""
        self.fields[field.name] = field
        self._labels.add(field.label)

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

    def upstream(self, *starts: str, stop: Iterable[str] = ()) -> set[str]:
        """The ``starts`` and every node they depend on, not looking past the nodes in ``stop``
        (a start is looked past); one walk for all of them."""
        seen, stack, stop, first = set(starts), list(starts), set(stop), set(starts)
        while stack:
            node_id = stack.pop()
            for source in self.sources(node_id) if node_id in first or node_id not in stop else ():
                if source not in seen:
                    seen.add(source)
                    stack.append(source)
        return seen

    def add(self, role: str, tag: int | str, node_id: str, input_name: str, *,
            title: str | None = None, also: tuple = ()) -> None:  # fmt: skip
        """Name an input after a role (or a custom title); a taken name takes the next free number."""
        if not self.literal(node_id, input_name):
            return
        refiner = isinstance(tag, str)
        number = int(str(tag).partition("_")[2] or 1) if refiner else tag
        name, label = _named(role, refiner, number, title)
        if name in self.fields:
            # Names are only ever added, so when a search went from ``first`` to ``last`` every
            # number between is taken: a later search starting there goes on from ``last`` (1,000
            # inputs titled "Seed" cost 1,000 steps, not half a million).
            start, (first, last) = number, self._free.get((role, refiner), (1, 0))
            if 1 <= first <= number <= last:
                number = last
                name, label = _named(role, refiner, number, title)
            while name in self.fields:
                number = number + 1 if number > 1 else 2
                name, label = _named(role, refiner, number, title)
            if start >= 1:
                self._free[role, refiner] = (first if first <= start <= last else start, number)
        also = (*also, *(t for t in self.partners(node_id, input_name) if t not in also))
        label = (None if title else self.primitive_label(node_id, input_name)) or label
        self.put(self.make(name, node_id, input_name, label, None if title else role, also=also))
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
        elif upload_kind(options) not in (None, "image"):  # LoadAudio, LoadVideo, Load3D: a file picker
            kind = upload_kind(options)
        if kind is None:
            kind = "bool" if isinstance(value, bool) else {int: "int", float: "float"}.get(type(value), "text")
        return Field(name, kind, node_id, input_name, value, label, role, choices,
                     minimum=options.get("min"), maximum=options.get("max"), step=options.get("step"),
                     multiline=bool(options.get("multiline")), advanced=advanced, also=also)  # fmt: skip

    def image_kind(self, node_id: str) -> str:
        """``mask`` for a mask loader, or an image whose MASK output (1 - alpha) is used."""
        class_type = self.cls(node_id)
        outputs = ((self.info or {}).get(class_type) or {}).get("output") or ["IMAGE", "MASK"]
        if self._used_outputs is None:  # built once: every node's linked outputs
            self._used_outputs = {}
            for n in self.prompt:
                for value in self.inputs(n).values():
                    source = self.linked(value)
                    if source is not None:
                        self._used_outputs.setdefault(source, set()).add(value[1])
        used = self._used_outputs.get(node_id, set())
        return "mask" if "Mask" in class_type or any(0 <= i < len(outputs) and outputs[i] == "MASK" for i in used) else "image"
