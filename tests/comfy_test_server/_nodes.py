"""The node table: the recorded ``GET /object_info`` body plus per-server choices.

Source of truth: ``tests/fixtures/comfyui/object_info.json``, a verbatim copy of
``comfyui-reference/object_info.json`` (ComfyUI 0.3.64, 496 node classes). With the
default knobs and an ``input/`` holding only ``example.png`` the served body is
byte-identical to that file.

Dynamic parts, as recorded:

* every ``ckpt_name`` combo that lists the recorded checkpoint lists the configured
  ``checkpoints`` instead (``http_get_endpoints.json`` ->
  ``/object_info/CheckpointLoaderSimple``);
* ``LoadImage.image`` / ``LoadImageMask.image`` list the image files directly in
  ``input/``, sorted (``upload.json`` -> ``object_info_LoadImage_after_uploads``:
  sub-folders and ``notes.txt`` are not listed);
* ``LoadAudio.audio`` lists the audio and video files of ``input/``, ``LoadVideo.file`` the
  videos, ``Load3D.model_file`` ``3d/<name>`` of ``input/3d`` (``media_outputs_and_templates.json``:
  the uploaded ``tone.wav`` is what ``LoadAudio`` then reads);
* ``LoraLoader`` / ``LoraLoaderModelOnly`` list the configured ``loras`` (the recorded
  server had none: an empty list), as ComfyUI lists the files of ``models/loras``;
* ``UpscaleModelLoader.model_name`` (a newer ``["COMBO", {"options"}]`` spec) lists the configured
  ``upscale_models`` (none recorded), as ComfyUI lists ``models/upscale_models``.
"""
from __future__ import annotations

import copy
import functools
import json
import mimetypes
import os
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "comfyui"

RECORDED_CHECKPOINTS = ["tiny-sd15-random.safetensors"]
INPUT_LISTING_NODES = ("LoadImage", "LoadImageMask")
LORA_NODES = ("LoraLoader", "LoraLoaderModelOnly")
MEDIA_LISTING_NODES = ("LoadAudio", "LoadVideo", "Load3D")
UPSCALE_NODE = "UpscaleModelLoader"

# Classes whose step loop reports progress and latent previews (one per step).
SAMPLER_CLASSES = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")


@functools.lru_cache(maxsize=None)
def _raw_table() -> bytes:
    return (FIXTURES / "object_info.json").read_bytes()


@functools.lru_cache(maxsize=None)
def base_table() -> dict:
    """The recorded table, parsed once per process. Treat as read-only."""
    return json.loads(_raw_table())


def fixture_json(name: str):
    """Load one of the copied recordings from ``tests/fixtures/comfyui``."""
    return json.loads((FIXTURES / name).read_text())


def is_image_file(name: str) -> bool:
    """ComfyUI's ``filter_files_content_types(files, ["image"])`` (mimetype guess)."""
    mime, _ = mimetypes.guess_type(name, strict=False)
    return bool(mime) and mime.split("/")[0] == "image"


class NodeTable:
    """Read access to node definitions with this server's dynamic combo choices."""

    def __init__(self, checkpoints: list[str], input_dir: Path, loras: list[str] = (),
                 upscale_models: list[str] = ()):
        self.checkpoints = list(checkpoints)
        self.loras = list(loras)
        self.upscale_models = list(upscale_models)
        self.input_dir = Path(input_dir)
        self._base = base_table()

    def __contains__(self, class_type) -> bool:
        return isinstance(class_type, str) and class_type in self._base

    def input_files(self) -> list[str]:
        try:
            names = [e.name for e in os.scandir(self.input_dir) if e.is_file()]
        except FileNotFoundError:
            return []
        return sorted(n for n in names if is_image_file(n))

    def media_files(self, kinds: tuple[str, ...]) -> list[str]:
        """Files directly in ``input/`` whose mimetype is one of ``kinds`` (``LoadAudio``:
        audio and video, ``LoadVideo``: video), sorted."""
        try:
            names = [e.name for e in os.scandir(self.input_dir) if e.is_file()]
        except FileNotFoundError:
            return []
        return sorted(n for n in names if (mimetypes.guess_type(n)[0] or "").split("/")[0] in kinds)

    def model_files(self) -> list[str]:
        """``Load3D.model_file``: ``3d/<name>`` of every 3D file in ``input/3d``."""
        try:
            names = [e.name for e in os.scandir(self.input_dir / "3d") if e.is_file()]
        except FileNotFoundError:
            return []
        return sorted(f"3d/{n}" for n in names if n.lower().endswith((".gltf", ".glb", ".obj", ".fbx", ".stl")))

    def _is_dynamic(self, class_type: str) -> bool:
        return (class_type in INPUT_LISTING_NODES or class_type in MEDIA_LISTING_NODES or class_type in _ckpt_classes()
                or (bool(self.loras) and class_type in LORA_NODES)
                or (bool(self.upscale_models) and class_type == UPSCALE_NODE))

    def info(self, class_type: str) -> dict:
        """One ``object_info`` entry (a private copy when it has dynamic parts)."""
        entry = self._base[class_type]
        if not self._is_dynamic(class_type):
            return entry
        entry = dict(entry)
        entry["input"] = copy.deepcopy(entry["input"])
        required = entry["input"].get("required", {})
        if class_type in INPUT_LISTING_NODES:
            required["image"][0] = self.input_files()
        if class_type in LORA_NODES:
            required["lora_name"][0] = list(self.loras)
        if class_type == UPSCALE_NODE:
            required["model_name"][1]["options"] = list(self.upscale_models)
        if class_type == "LoadAudio":
            required["audio"][0] = self.media_files(("audio", "video"))
        elif class_type == "LoadVideo":
            required["file"][1]["options"] = self.media_files(("video",))
        elif class_type == "Load3D":
            required["model_file"][0] = self.model_files()
        for section in ("required", "optional"):
            spec = entry["input"].get(section, {}).get("ckpt_name")
            if spec is not None:
                spec[0] = list(self.checkpoints)
        return entry

    def all(self) -> dict:
        if (self.checkpoints == RECORDED_CHECKPOINTS and not self.loras and not self.upscale_models and self.input_files() == ["example.png"]
                and not self.media_files(("audio", "video")) and not self.model_files()):
            return self._base
        return {name: self.info(name) for name in self._base}

    def all_bytes(self) -> bytes:
        """The full ``/object_info`` body; the verbatim recording when nothing changed."""
        table = self.all()
        if table is self._base:
            return _raw_table()
        return json.dumps(table).encode()

    def return_types(self, class_type: str) -> tuple:
        return tuple(self._base[class_type]["output"])

    def is_output_node(self, class_type: str) -> bool:
        return self._base[class_type].get("output_node") is True


@functools.lru_cache(maxsize=None)
def _ckpt_classes() -> frozenset:
    out = set()
    for name, entry in base_table().items():
        for section in ("required", "optional"):
            spec = entry["input"].get(section, {}).get("ckpt_name")
            if spec and spec[0] == RECORDED_CHECKPOINTS:
                out.add(name)
    return frozenset(out)
