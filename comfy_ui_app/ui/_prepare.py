"""Preparing a run's values before anything is sent (for :mod:`comfy_ui_app.ui.runner`): empty model choices
get the server's pick, seeds get their bases, picked pictures (and sounds, videos, 3D models) are checked
and uploaded."""
from __future__ import annotations

import json
import secrets

import gradio as gr

from comfy_ui_app.workflow.fields import Field, input_spec
from comfy_ui_app.jobs.limits import limits_for
from comfy_ui_app.comfy.inputs import InputFile, content_name
from comfy_ui_app.jobs.uploads import is_picked_file, read_upload
from comfy_ui_app.jobs.media_files import MEDIA_KINDS, read_media
from comfy_ui_app.workflow.templates import choose_checkpoint

__all__ = ["MAX_UI_SEED", "MODEL_ROLES", "complete_models", "seed_bases", "upload_images", "json_safe"]

MAX_UI_SEED = 2**53 - 1        # random seeds a browser can show exactly (JS numbers)
MODEL_ROLES = ("checkpoint", "lora", "upscale_model", "controlnet", "unet", "vae")


def complete_models(values: dict, fields: list[Field], template: dict, object_info: dict | None) -> dict:
    """Empty model choices (an API call, a page not refreshed yet) -> the server's pick."""
    values = dict(values)
    for f in fields:
        if f.role in MODEL_ROLES and f.kind == "choice" and f.name in values and not values[f.name]:
            spec = input_spec(object_info, template[f.node_id].get("class_type"), f.input_name)
            choice = choose_checkpoint(f.default, spec[0] if spec and isinstance(spec[0], list) else [])
            if choice:
                values[f.name] = choice
            else:
                del values[f.name]
    return values


def seed_bases(values: dict, fields: list[Field]) -> dict[str, tuple[int, int]]:
    """``{seed field: (first seed, largest seed)}``; -1 / empty draws a random one."""
    bases = {}
    for f in fields:
        if f.role == "seed" and f.name in values:
            top = int(f.maximum) if f.maximum is not None else 2**64 - 1
            value = values[f.name]
            try:
                if value is None or value == "" or float(value) < 0:
                    # leave room for a batch count to count up without leaving the range
                    value = secrets.randbelow(max(1, min(top, MAX_UI_SEED) - 1024))
                bases[f.name] = (int(float(value)), top)
            except (TypeError, ValueError, OverflowError):
                pass  # apply_values names the field and says what is wrong
    return bases


def _upload_roots() -> list[str]:
    """Where picked files may live: Gradio's upload folder only (``GRADIO_TEMP_DIR``, else
    ``<temp>/gradio``) — not the whole temp folder, where other programs keep their files."""
    return [gr.utils.get_upload_folder()]


def upload_images(ctx, fields: list[Field], values: dict, owner: str | None, staged: list) -> dict:
    """Stage each picked image for upload; the value becomes the name it will have on the server.

    Only a file the browser uploaded is read (:func:`comfy_ui_app.jobs.uploads.is_picked_file`);
    any other text goes to ComfyUI as a file name there, which the check refuses if unknown.
    Every picture is checked (with ``owner``'s caps). Nothing is sent here: each picture goes
    into ``staged`` under a content-hash name, and the cluster uploads it to the server the job
    goes to. A sound, video or 3D model (``LoadAudio``…) is judged from its first bytes
    (:func:`comfy_ui_app.jobs.media_files.read_media`) the same way.
    """
    values = dict(values)
    limits = limits_for(ctx.jobs, owner)
    picked = []
    for f in fields:
        if f.kind not in ("image", "mask", *MEDIA_KINDS) or f.name not in values:
            continue
        path = values[f.name]
        if not path:
            del values[f.name]  # nothing picked: keep the template's file
            continue
        if not is_picked_file(path, _upload_roots()):
            continue
        if f.kind in MEDIA_KINDS:  # kind (first bytes), size, the user's cap: checked
            picked.append((f, *read_media(path, f.kind, ctx.comfy.client, field=f.name, limits=limits)))
        else:  # type, size, pixels, the user's caps: checked
            picked.append((f, *read_upload(path, ctx.comfy.client, field=f.name, limits=limits)))
    for f, data, name in picked:  # sent later, where the job runs
        staged.append(InputFile(data, content_name(data, name)))
        values[f.name] = staged[-1].ref
    return values


def json_safe(values: dict) -> dict:
    """The values as the job store can keep them (anything odd becomes its text)."""
    return json.loads(json.dumps(values, default=str))
