"""Graph helpers for execution: cache signatures, execution order, image sizes.

* Caching (``ws_txt2img_auto.json``: ``execution_cached`` lists ``4,6,7,5`` on a warm
  run and every node for an identical prompt; ``post_prompt_errors.json`` ->
  ``runtime_error_execution_error`` shows a loader cached under a *different* node id):
  outputs are keyed by an input signature (class + widget values + the signatures of
  linked nodes), like ComfyUI's classic ``CacheKeySetInputSignature``. Entries whose
  signature is absent from the next prompt are dropped (``clean_unused``);
  ``POST /free`` with ``free_memory`` clears everything
  (``queue_interrupt_free.json`` -> ``txt2img_after_free``).
* Order (``ws_txt2img_auto.json``: ``4,5,7,6,3,8,9``; ``ws_inpaint.json``): a port of
  ComfyUI's ``ExecutionList``: nodes are staged by a LIFO walk from the outputs,
  and among the ready ones an output node wins, then a node feeding an output, then
  one two links away, else the first ready node.
* Sizes: width/height/batch come from the inputs (``EmptyLatentImage``), a loaded
  input file (``LoadImage``) or the first linked node that has one. Size-changing nodes give
  ComfyUI's sizes (``comfy_extras/nodes_upscale_model.py``, ``nodes.py``): ``ImageScaleBy``
  ``round(w * scale_by)``; ``ImageScale`` a width or height of 0 keeps the aspect ratio; ``LatentUpscaleBy`` rounds the latent's size (eighths of the
  picture's); ``ImageUpscaleWithModel`` multiplies by the model's scale (read here from its
  name, "4x-…" / "…_x2…", as ComfyUI reads it from the weights); ``ImagePadForOutpaint`` adds
  its ``left``/``right``/``top``/``bottom``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re

from PIL import Image

from ._validation import annotated_filepath

FILE_NODES = ("LoadImage", "LoadImageMask")


def is_link(value) -> bool:
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], (int, float)) and not isinstance(value[1], bool))


def _file_fingerprint(name, dirs) -> str:
    """``LoadImage.IS_CHANGED``: the file's sha256 (a missing file never matches)."""
    if not isinstance(name, str):
        return "nan"
    name, base = annotated_filepath(name, dirs)
    try:
        with open(os.path.join(base or dirs["input"], name), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return os.urandom(8).hex()


def signatures(prompt: dict, dirs: dict) -> dict:
    """Map every node id to a hashable signature of everything that feeds it."""
    sigs: dict = {}

    def sig(node_id, stack=()):
        if node_id in sigs:
            return sigs[node_id]
        node = prompt.get(node_id) if isinstance(node_id, str) else None
        if node is None or node_id in stack:
            return ["missing", str(node_id)]
        inputs = node.get("inputs", {})
        parts = [node["class_type"]]
        if node["class_type"] in FILE_NODES:
            parts.append(_file_fingerprint(inputs.get("image"), dirs))
        for name in sorted(inputs):
            value = inputs[name]
            if is_link(value):
                parts.append([name, "link", sig(value[0], stack + (node_id,)), value[1]])
            else:
                parts.append([name, value])
        sigs[node_id] = hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
        return sigs[node_id]

    for node_id in prompt:
        sig(node_id)
    return sigs


class OutputCache:
    """signature -> (spec, ui) for nodes that finished."""

    def __init__(self):
        self.entries: dict[str, tuple] = {}

    def clean_unused(self, keep) -> None:
        self.entries = {k: v for k, v in self.entries.items() if k in keep}

    def clear(self) -> None:
        self.entries = {}


class ExecutionList:
    """Which node runs next (``comfy_execution.graph.ExecutionList`` behaviour)."""

    def __init__(self, prompt: dict, is_cached, is_output):
        self.prompt, self.is_cached, self.is_output = prompt, is_cached, is_output
        self.pending: dict[str, bool] = {}
        self.block_count: dict[str, int] = {}
        self.blocking: dict[str, dict] = {}

    def add_node(self, node_id) -> None:
        stack, links = [node_id], []
        while stack:
            unique_id = stack.pop()
            if unique_id in self.pending:
                continue
            self.pending[unique_id] = True
            self.block_count[unique_id] = 0
            self.blocking[unique_id] = {}
            for value in self.prompt[unique_id]["inputs"].values():
                if is_link(value) and value[0] in self.prompt:
                    if not self.is_cached(value[0]):
                        stack.append(value[0])
                    links.append((value[0], unique_id))
        for from_id, to_id in links:
            if not self.is_cached(from_id):
                self.add_node(from_id)
                if to_id not in self.blocking[from_id]:
                    self.blocking[from_id][to_id] = True
                    self.block_count[to_id] += 1

    def is_empty(self) -> bool:
        return not self.pending

    def next_node(self):
        ready = [n for n in self.pending if self.block_count[n] == 0]
        if not ready:
            raise RuntimeError("Dependency cycle detected")
        for n in ready:
            if self.is_output(n):
                return n
        for n in ready:
            if any(self.is_output(b) for b in self.blocking[n]):
                return n
        for n in ready:
            if any(self.is_output(b2) for b in self.blocking[n] for b2 in self.blocking[b]):
                return n
        return ready[0]

    def complete(self, node_id) -> None:
        for blocked in self.blocking[node_id]:
            self.block_count[blocked] -= 1
        self.pending.pop(node_id)


_MODEL_SCALE = re.compile(r"(?:^|[^a-z0-9])(?:x(\d{1,2})(?!\d)|(\d{1,2})x(?![a-z]))", re.IGNORECASE)


def model_scale(name) -> int:
    """An upscale model's factor from its file name (4 when the name does not say)."""
    found = _MODEL_SCALE.search(str(name).rsplit("/", 1)[-1])
    return int(found.group(1) or found.group(2)) if found else 4


def _resize(class_type: str, inputs: dict, ints: dict, spec: dict, upstream: list) -> None:
    """The size a size-changing node gives (see the module docstring)."""
    w, h = spec.get("w", 512), spec.get("h", 512)
    if class_type == "UpscaleModelLoader":
        spec["model_scale"] = model_scale(inputs.get("model_name"))
    elif class_type == "ImageUpscaleWithModel":
        scale = next((up["model_scale"] for up in upstream if up and "model_scale" in up), 4)
        spec.pop("model_scale", None)
        spec["w"], spec["h"] = w * scale, h * scale
    elif class_type == "ImagePadForOutpaint":
        pad = {k: int(ints.get(k, 0)) for k in ("left", "right", "top", "bottom")}
        spec["w"], spec["h"] = w + pad["left"] + pad["right"], h + pad["top"] + pad["bottom"]
    elif class_type == "LatentUpscaleBy" and "scale_by" in ints:
        spec["w"], spec["h"] = (max(1, round((side // 8) * ints["scale_by"])) * 8 for side in (w, h))
    elif class_type == "ImageScale" and "width" in ints and "height" in ints:
        width, height = int(ints["width"]), int(ints["height"])  # 0: keeps the aspect ratio (ImageScale.upscale)
        width = width or max(1, round(w * height / h)) if height else width or w
        spec["w"], spec["h"] = width, height or max(1, round(h * width / w))
    elif "width" in ints and "height" in ints:
        spec["w"], spec["h"] = int(ints["width"]), int(ints["height"])
    elif "scale_by" in ints:
        spec["w"], spec["h"] = (max(1, round(side * ints["scale_by"])) for side in (w, h))


def node_spec(node: dict, upstream: list, dirs: dict) -> dict:
    """Picture size/batch/seed produced by a node, from its inputs and upstream specs.

    Keys are only present when known; consumers default to 512x512, batch 1, seed 0."""
    spec = {}
    sized = [up for up in upstream if up and "w" in up]
    if sized:
        spec.update(sized[0])
    for up in upstream:  # a seed or batch from anywhere upstream
        for key in ("seed", "batch"):
            if up and key in up:
                spec.setdefault(key, up[key])
    inputs = node["inputs"]
    ints = {k: v for k, v in inputs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if node["class_type"] in FILE_NODES and isinstance(inputs.get("image"), str):
        name, base = annotated_filepath(inputs["image"], dirs)
        try:
            with Image.open(os.path.join(base or dirs["input"], name)) as img:
                spec["w"], spec["h"] = img.size
            spec["batch"] = 1
        except Exception:
            pass
    _resize(node["class_type"], inputs, ints, spec, upstream)
    if "batch_size" in ints:
        spec["batch"] = int(ints["batch_size"])
    for key in ("seed", "noise_seed"):
        if key in ints:
            spec["seed"] = int(ints[key])
    return spec
