"""Which inputs of a graph name a file, and which names a user may send there (pure, no I/O).

A ComfyUI node that reads a file takes its *name*: ``LoadImage.image`` is ``"photo.png"``,
read from the server's input folder. ComfyUI also accepts ``"../x.png"``, an absolute
path on some versions, and an *annotated* name (``"x.png [output]"``: the output folder),
so a graph can read files its sender never uploaded. This module finds those inputs and
judges one value; :mod:`comfy_ui_app.jobs.graph_rules` applies it to a user's job.

* :func:`file_inputs`: every literal string value of a *file-name input*: one whose spec in
  ``/object_info`` carries an upload flag (``image_upload``, ``video_upload``…), or a combo whose
  choices are all media files (``*.png``, ``*.mp4``…; model files are not: they live in the
  models folders, not in input/output). Without a node table, inputs named ``image``,
  ``video``, ``audio``, ``file`` are taken to be file names.
* :func:`path_problem`: ``"path"`` (``/``, ``\\``, ``..``, a drive letter, a NUL) or
  ``"annotation"`` (a trailing ``[input]``, ``[output]``, ``[temp]``…), else None. A value with
  folders (``Load3D``'s ``3d/x.glb``) passes only when it is EXACTLY one of the server's listed
  choices for that input and has no ``..``, no absolute path, no annotation (:func:`listed_subpath`).
* :func:`upload_kind`: what a file-name input's upload flag asks for (``audio``, ``video``,
  ``model3d``, ``animation``, ``image``): the form gives it a file picker of that kind.
* The app's own uploads carry their owner's tag (:func:`tagged_name`):
  ``u-<tag>-upload-<hash>.png``. :func:`upload_tag` reads a name back: whether it is one of the
  app's uploads, and whose tag it carries (None: an untagged one, from before tags).
* :func:`file_verdict`: why a value may not be sent for a user (None: it may).
* :func:`hide_file_lists`: a node table with the choices of file-name inputs emptied (what a
  visitor of a public app sees: not the names of everyone's uploads).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from comfy_ui_app.workflow.editor_widgets import UPLOAD_FLAGS

__all__ = ["FILE_FLAGS", "FileInput", "MEDIA_SUFFIXES", "UPLOAD_KINDS", "file_inputs", "file_verdict",
           "hide_file_lists", "is_file_spec", "listed_subpath", "path_problem", "spec_choices", "tagged_name",
           "upload_kind", "upload_tag"]

MEDIA_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".exr", ".mp4", ".webm",
                  ".mov", ".mkv", ".avi", ".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus", ".svg")
#: the upload flag of a file-name input -> the kind of file it takes (``Load3D``'s flag is ``file_upload``)
UPLOAD_KINDS = {"image_upload": "image", "animated_image_upload": "animation", "video_upload": "video",
                "audio_upload": "audio", "file_upload": "model3d"}
FILE_FLAGS = (*UPLOAD_FLAGS, *(flag for flag in UPLOAD_KINDS if flag not in UPLOAD_FLAGS))
FALLBACK_FILE_INPUTS = ("image", "video", "audio", "file")  # no node table: inputs that name a file
_ANNOTATION = re.compile(r"\s*\[[^\[\]]*\]\s*$")
_DRIVE = re.compile(r"^[A-Za-z]:")
# the app's upload names: comfy.inputs.content_name ("upload-<hex>") and workflow.inpaint ("inpaint-<hex>"),
# with the owner's tag in front ("u-<tag>-") since uploads carry one
_APP_UPLOAD = re.compile(r"^(?:u-(?P<tag>[0-9a-f]{8,32})-)?(?:upload|inpaint)-[0-9a-f]{8,}")


@dataclass(frozen=True)
class FileInput:
    """One literal value of a file-name input; ``choices``: what the server lists there (None: unknown)."""

    node_id: str
    class_type: str
    input_name: str
    value: str
    choices: tuple | None = None


def spec_choices(spec: Any) -> tuple[list | None, dict]:
    """``(choices or None, options)`` of an input spec: ``[[...], {...}]`` or newer ``["COMBO", {"options"}]``."""
    if not isinstance(spec, (list, tuple)) or not spec:
        return None, {}
    options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    if isinstance(spec[0], list):
        return spec[0], options
    if spec[0] == "COMBO":
        return list(options.get("options") or []), options
    return None, options


def _is_media(name: Any) -> bool:
    return isinstance(name, str) and _ANNOTATION.sub("", name).lower().endswith(MEDIA_SUFFIXES)


def is_file_spec(spec: Any) -> bool:
    """Whether an input of this spec takes a file name: an upload flag, or a combo of media files."""
    choices, options = spec_choices(spec)
    if any(options.get(flag) for flag in FILE_FLAGS):
        return True
    return bool(choices) and all(_is_media(c) for c in choices)


def upload_kind(options: dict | None) -> str | None:
    """The kind of file an input with these spec ``options`` takes by upload (None: no upload flag)."""
    return next((kind for flag, kind in UPLOAD_KINDS.items() if (options or {}).get(flag)), None)


def _specs(object_info: dict | None, class_type: Any) -> dict:
    node = (object_info or {}).get(class_type) if isinstance(class_type, str) else None
    inputs = (node or {}).get("input") if isinstance(node, dict) else None
    specs: dict = {}
    for section in ("optional", "required"):  # required wins a name both have
        specs.update(((inputs or {}).get(section) or {}) if isinstance(inputs, dict) else {})
    return specs


def file_inputs(prompt: dict, object_info: dict | None) -> list[FileInput]:
    """Every literal string a file-name input of ``prompt`` gets (links and other types are not file names)."""
    found = []
    for node_id, node in (prompt or {}).items():
        if not isinstance(node, dict) or not isinstance(node.get("inputs"), dict):
            continue
        class_type = node.get("class_type")
        specs = _specs(object_info, class_type) if object_info else None
        for name, value in node["inputs"].items():
            if not isinstance(value, str):
                continue
            if specs is None:
                if name in FALLBACK_FILE_INPUTS:
                    found.append(FileInput(str(node_id), str(class_type), name, value))
            elif is_file_spec(specs.get(name)):
                choices, _ = spec_choices(specs.get(name))
                found.append(FileInput(str(node_id), str(class_type), name, value,
                                       tuple(str(c) for c in choices) if choices is not None else None))
    return found


def path_problem(value: str) -> str | None:
    """``"path"`` if ``value`` reaches outside its folder, ``"annotation"`` if it names another folder, else None."""
    if "\x00" in value or "/" in value or "\\" in value or _DRIVE.match(value) or value.strip() in (".", ".."):
        return "path"
    if _ANNOTATION.search(value):
        return "annotation"
    return None


def listed_subpath(value: str, choices: tuple | None) -> bool:
    """Whether ``value`` is a name in a folder of the input folder (``3d/x.glb``) that the server
    lists for this input, exactly: forward slashes only, no empty, ``.`` or ``..`` part, nothing a
    path outside (a drive, a NUL, a backslash) and no annotation."""
    if not choices or value not in choices or "/" not in value:
        return False
    parts = value.split("/")
    return (not any(part in ("", ".", "..") for part in parts) and "\\" not in value and "\x00" not in value
            and not _DRIVE.match(value) and not _ANNOTATION.search(value))


def tagged_name(name: str, tag: str) -> str:
    """An upload's name with its owner's tag (``u-<tag>-<name>``); a name tagged already is kept."""
    return name if _APP_UPLOAD.match(name) and _APP_UPLOAD.match(name).group("tag") else f"u-{tag}-{name}"


def upload_tag(name: str) -> tuple[bool, str | None]:
    """``(one of the app's uploads, its owner's tag or None)``."""
    match = _APP_UPLOAD.match(name)
    return (True, match.group("tag")) if match else (False, None)


def file_verdict(item: FileInput, *, own_refs=frozenset(), own_tag: str | None = None,
                 trusted: bool = False) -> str | None:
    """Why ``item`` may not be sent, or None.

    ``own_refs``: the files uploaded for this very job (always allowed); ``own_tag``: the
    user's tag, which makes their earlier uploads theirs (a re-run); ``trusted`` (the command
    line): only the path rules hold. Otherwise: ``"path"``, ``"annotation"``, ``"not_yours"``
    (one of the app's uploads, of someone else or untagged), ``"unknown"`` (the server does
    not list it for this input).
    """
    value = item.value
    if value in own_refs:
        return None
    problem = path_problem(value)
    if problem == "path" and listed_subpath(value, item.choices):
        problem = None  # Load3D's "3d/x.glb": listed by the server, exactly
    if problem or trusted:
        return problem
    app_upload, tag = upload_tag(value.rsplit("/", 1)[-1])
    if app_upload:
        return None if own_tag is not None and tag == own_tag else "not_yours"
    if item.choices is not None and value not in item.choices:
        return "unknown"
    return None


def hide_file_lists(object_info: dict | None) -> dict | None:
    """``object_info`` with the choices of every file-name input emptied (a shallow copy: the
    original, shared by every page, is not changed)."""
    if not object_info:
        return object_info
    hidden = dict(object_info)
    for class_type, node in object_info.items():
        inputs = (node or {}).get("input") if isinstance(node, dict) else None
        if not isinstance(inputs, dict):
            continue
        new_inputs = None
        for section, specs in inputs.items():
            if not isinstance(specs, dict):
                continue
            for name, spec in specs.items():
                if not is_file_spec(spec):
                    continue
                new_inputs = new_inputs if new_inputs is not None else {s: dict(v) if isinstance(v, dict) else v
                                                                       for s, v in inputs.items()}
                _, options = spec_choices(spec)
                new_inputs[section][name] = (["COMBO", {**options, "options": []}] if spec[0] == "COMBO"
                                             else [[], *spec[1:]])
        if new_inputs is not None:
            hidden[class_type] = {**node, "input": new_inputs}
    return hidden
