"""An optional LoRA for a template that has none: pure functions over the API graph.

A1111 and Fooocus users expect to pick a LoRA and a weight. ``txt2img.json`` has no
``LoraLoader``, so when one is picked :func:`insert_lora` puts a ``LoraLoader``
between the checkpoint loader and every consumer of its MODEL and CLIP outputs (the
sampler, both text encoders…), in a deep copy with a new node id and a
``_meta.title``. :func:`lora_fields` are the form fields of that node (``lora``,
``lora_strength``, one weight for model and CLIP, as AUTOMATIC1111's ``<lora:x:w>``)
so that the local check and the server's answer point at the LoRA controls.

:func:`lora_names` reads the server's list (``LoraLoader``'s choices in
``/object_info``, else ``/models/loras``). No I/O here, no gradio.
"""

from __future__ import annotations

import copy
from typing import Any

from comfy_ui_app.errors import WorkflowError
from comfy_ui_app.workflow.fields import Field, input_spec, is_link

__all__ = ["NONE", "LORA_CLASS", "LoraProblem", "lora_names", "find_checkpoint_loader", "insert_lora", "lora_fields",
           "has_lora", "with_lora", "DEFAULT_STRENGTH"]

NONE = "(none)"  # the picker's first choice: no LoRA
LORA_CLASS = "LoraLoader"
DEFAULT_STRENGTH = 1.0
STRENGTH_RANGE = (-100.0, 100.0)  # LoraLoader's own limits (object_info)
# Loaders whose outputs start MODEL, CLIP (used when the node table is not known).
_KNOWN_LOADERS = {"CheckpointLoaderSimple": (0, 1), "CheckpointLoader": (0, 1), "unCLIPCheckpointLoader": (0, 1)}
_LORA_ROLES = ("lora", "lora_strength", "lora_clip_strength")


class LoraProblem(WorkflowError):
    """Why a LoRA cannot be added; ``template``/``params`` let ``messages.describe`` translate it."""

    def __init__(self, template: str, field: str = "lora", **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params), field)


def lora_names(object_info: dict | None, models: list[str] | None = None) -> list[str]:
    """The LoRA files the server has: ``LoraLoader``'s list, else ``models`` (``/models/loras``)."""
    spec = input_spec(object_info, LORA_CLASS, "lora_name")
    names = list(spec[0]) if spec and isinstance(spec[0], list) else []
    if not names and models:
        names = list(models)
    return [str(n) for n in names if str(n) and str(n) != NONE]


def has_lora(fields: list[Field]) -> bool:
    """Whether the template has LoRA fields of its own (then those are used, not a picker)."""
    return any(f.role in _LORA_ROLES for f in fields)


def _slots(class_type: str, object_info: dict | None) -> tuple[int, int] | None:
    """(MODEL output index, CLIP output index) of a loader class, or None."""
    outputs = ((object_info or {}).get(class_type) or {}).get("output")
    if isinstance(outputs, list) and "MODEL" in outputs and "CLIP" in outputs:
        return outputs.index("MODEL"), outputs.index("CLIP")
    return _KNOWN_LOADERS.get(class_type)


def _order(node_id: str) -> tuple:
    return (0, int(node_id), "") if str(node_id).isdigit() else (1, 0, str(node_id))


def find_checkpoint_loader(prompt: dict, object_info: dict | None = None) -> str | None:
    """The first node (by id) that makes MODEL and CLIP from a file and has no model input."""
    for node_id in sorted(prompt, key=_order):
        node = prompt[node_id]
        inputs = node.get("inputs") or {}
        if _slots(node.get("class_type", ""), object_info) and not any(
                is_link(inputs.get(k)) for k in ("model", "clip")):
            return node_id
    return None


def _new_id(prompt: dict) -> str:
    numbers = [int(k) for k in prompt if str(k).isdigit()]
    candidate = max(numbers, default=0) + 1
    while str(candidate) in prompt:
        candidate += 1
    return str(candidate)


def insert_lora(prompt: dict, lora_name: str, strength: float = DEFAULT_STRENGTH, clip_strength: float | None = None,
                *, object_info: dict | None = None, loader_id: str | None = None,
                title: str = "LoRA") -> tuple[dict, str]:
    """``(new prompt, LoRA node id)``: ``prompt`` (unchanged) with a LoraLoader after its checkpoint.

    Every input linked to the loader's MODEL or CLIP output is relinked to the LoRA's;
    ``clip_strength`` defaults to ``strength``. :class:`LoraProblem` (a WorkflowError of
    field ``lora``) when the graph has no checkpoint loader or nothing uses its model.
    """
    if not lora_name or lora_name == NONE:
        raise LoraProblem("No LoRA was picked.")
    loader_id = loader_id if loader_id is not None else find_checkpoint_loader(prompt, object_info)
    slots = _slots((prompt.get(loader_id) or {}).get("class_type", ""), object_info) if loader_id else None
    if slots is None:
        raise LoraProblem("This workflow has no checkpoint loader to put a LoRA after.")
    model_slot, clip_slot = slots
    new = copy.deepcopy(prompt)
    node_id = _new_id(new)
    relinked = 0
    for node in new.values():
        inputs = node.get("inputs") or {}
        for name, value in inputs.items():
            if is_link(value) and str(value[0]) == str(loader_id) and value[1] in (model_slot, clip_slot):
                inputs[name] = [node_id, 0 if value[1] == model_slot else 1]
                relinked += 1
    if not relinked:
        raise LoraProblem("Nothing in this workflow uses the checkpoint's model, so a LoRA cannot apply.")
    new[node_id] = {
        "inputs": {"model": [str(loader_id), model_slot], "clip": [str(loader_id), clip_slot],
                   "lora_name": str(lora_name), "strength_model": float(strength),
                   "strength_clip": float(strength if clip_strength is None else clip_strength)},
        "class_type": LORA_CLASS,
        "_meta": {"title": title},
    }
    return new, node_id


def lora_fields(node_id: str, lora_name: str, strength: float = DEFAULT_STRENGTH,
                names: list[str] | tuple = ()) -> list[Field]:
    """The fields of an inserted LoRA node: ``lora`` and ``lora_strength`` (model and CLIP)."""
    low, high = STRENGTH_RANGE
    return [
        Field("lora", "choice", node_id, "lora_name", lora_name, "LoRA", role="lora", choices=tuple(names)),
        Field("lora_strength", "float", node_id, "strength_model", float(strength), "LoRA strength",
              role="lora_strength", minimum=low, maximum=high, step=0.01, also=((node_id, "strength_clip"),)),
    ]


def with_lora(template: dict, fields: list[Field], values: dict[str, Any], lora_name: Any, strength: Any,
              *, object_info: dict | None = None) -> tuple[dict, list[Field], dict[str, Any]]:
    """``(template, fields, values)`` for a run: unchanged when no LoRA is picked, else with
    the LoRA node inserted, its fields added and their values set."""
    if not lora_name or lora_name == NONE:
        return template, fields, values
    try:
        weight = float(DEFAULT_STRENGTH if strength is None or strength == "" else strength)
    except (TypeError, ValueError) as exc:
        raise LoraProblem("LoRA strength must be a number, not {value}", "lora_strength", value=repr(strength)) from exc
    new, node_id = insert_lora(template, str(lora_name), weight, object_info=object_info)
    extra = lora_fields(node_id, str(lora_name), weight, lora_names(object_info))
    return new, [*fields, *extra], {**values, "lora": str(lora_name), "lora_strength": weight}
