"""Running a result action (Upscale, Vary, Extend) on a picture as an ordinary job.

:class:`ResultRuns` is shared by every user: it loads the bundled templates
(:mod:`comfy_ui_app.workflow.result_templates`), checks what a caller asks (the picture is theirs:
:func:`comfy_ui_app.ui._result_source.resolve`; a factor, strength, side or border from the lists;
the result's size within the user's ``--max-pixels`` and the app's own ceiling), and builds a
:class:`~comfy_ui_app.ui.runner.RunRequest`: the picture travels with the job (the cluster uploads it
where the job runs), the prompt and settings come from the picture's own ``parameters`` text (the app
writes one into every picture it makes) where the template has such fields, the seed is new. The
job is then run by :func:`comfy_ui_app.ui.runner.run`, so it is recorded in History, waits its turn
in the fair queue and stops with Interrupt like any other.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comfy_ui_app.comfy.inputs import InputFile, content_name
from comfy_ui_app.errors import LimitExceeded, WorkflowError
from comfy_ui_app.jobs.limits import limits_for
from comfy_ui_app.jobs.uploads import picture_header, read_upload
from comfy_ui_app.ui._result_source import PICTURE, Source, resolve
from comfy_ui_app.ui.form import choices_for
from comfy_ui_app.ui.runner import RunRequest
from comfy_ui_app.workflow import result_templates as rt
from comfy_ui_app.workflow.a1111 import match_model, parse_parameters
from comfy_ui_app.workflow.embedded import read_embedded
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.workflow.templates import load_workflow

__all__ = ["ResultRuns", "Prepared", "RESULT_CEILING", "ACTIONS", "MODEL"]

RESULT_CEILING = 4096 * 4096   # the app's own cap on a result's pixels (admins too; ``--max-pixels`` may be lower)
ACTIONS = ("upscale", "vary", "extend")
MODEL = "model"                # Upscale with the model chosen in its own list
_SETTINGS = ("prompt", "negative", "steps", "cfg", "sampler", "scheduler", "checkpoint")


@dataclass
class Prepared:
    """A checked action: the job to run and the picture it started from (for "before / after")."""

    request: RunRequest
    source: Source
    size: tuple[int, int]


class ResultRuns:
    """The templates and the checks; no per-user state."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._loaded: dict[str, tuple[dict, list]] = {}

    def template(self, key: str) -> tuple[dict, list]:
        """``(template, fields)`` of ``result_templates.TEMPLATES[key]`` (read once)."""
        if key not in self._loaded:
            template = load_workflow(Path(self.ctx.workflows_dir) / rt.TEMPLATES[key])
            self._loaded[key] = (template, discover(template, self.ctx.catalog.object_info_or_none()))
        return self._loaded[key]

    def upscale_models(self) -> list[str]:
        """The upscale models the servers list (``UpscaleModelLoader``), [] when none or unknown."""
        try:
            template, fields = self.template("upscale_model")
            name = rt.field_name(template, fields, "UpscaleModelLoader", "model_name")
            field = next(f for f in fields if f.name == name)
            return choices_for(self.ctx, template, field, self.ctx.catalog.object_info_or_none())
        except Exception:  # noqa: BLE001 - no template or no server: pixel and latent upscales remain
            return []

    # -- checking what was asked -------------------------------------------------------------

    def _upscale(self, options: dict, size: tuple[int, int]) -> tuple[str, dict, tuple[int, int]]:
        factor = _number(options.get("factor"))
        if factor is None or not any(math.isclose(factor, f) for f in rt.FACTORS):
            raise WorkflowError("Choose a factor from the list.", "factor")
        method = options.get("method")
        if method == MODEL:
            method = options.get("model")
            if not isinstance(method, str) or method not in self.upscale_models():
                raise WorkflowError("Choose an upscale model this server has.", "model")
        elif method not in (rt.PIXELS, rt.LATENT):
            raise WorkflowError("Choose an upscale method from the list.", "method")
        key = {rt.PIXELS: "upscale_pixels", rt.LATENT: "upscale_latent"}.get(method, "upscale_model")
        template, fields = self.template(key)
        values = rt.upscale_values(template, fields, factor=factor, method=method)
        return key, values, rt.upscaled_size(*size, factor, method)

    def _vary(self, options: dict, size: tuple[int, int]) -> tuple[str, dict, tuple[int, int]]:
        strength = options.get("strength")
        if strength not in rt.VARY_DENOISE:
            raise WorkflowError("Choose Subtle or Strong.", "strength")
        template, fields = self.template("vary")
        return "vary", rt.vary_values(template, fields, strength), size

    def _extend(self, options: dict, size: tuple[int, int]) -> tuple[str, dict, tuple[int, int]]:
        sides = options.get("sides")
        if not isinstance(sides, list) or not sides or any(s not in rt.SIDES for s in sides):
            raise WorkflowError("Choose at least one side to extend.", "sides")
        pixels = _number(options.get("pixels"))
        low, high = rt.EXTEND_PIXELS
        if pixels is None or not low <= pixels <= high:
            raise WorkflowError("Choose a border between 64 and 512 pixels.", "pixels")
        pad = rt.padding(sides, int(round(pixels / 8) * 8))
        template, fields = self.template("extend")
        return "extend", rt.extend_values(template, fields, pad), rt.extended_size(*size, pad)

    def _settings(self, path: Path, template: dict, fields: list) -> dict:
        """Prompt and settings from the picture's ``parameters`` text, where the template has them (a
        sampler, scheduler or checkpoint only when the server lists it, as "Open from a picture" does)."""
        try:
            params = parse_parameters(read_embedded(path).parameters or "")
        except Exception:  # noqa: BLE001 - a picture without readable parameters keeps the template's
            params = {}
        info, values = self.ctx.catalog.object_info_or_none(), {}
        for role, value in params.items():
            field = next((f for f in fields if f.role == role and not f.placeholder), None)
            if role not in _SETTINGS or field is None:
                continue
            if field.kind == "choice":
                choices = choices_for(self.ctx, template, field, info)
                value = match_model(value, choices) if role == "checkpoint" else (value if value in choices else None)
                if value is None:
                    continue
            values[field.name] = value
        checkpoint = rt.field_name(template, fields, "CheckpointLoaderSimple", "ckpt_name")
        if checkpoint and checkpoint not in values:
            values[checkpoint] = ""  # the server's pick (the runner completes it)
        return values

    def prepare(self, action: str, users: list[str], owner: str, ref: Any, options: dict) -> Prepared:
        """A checked job for ``action`` on the picture ``ref`` (raises WorkflowError,
        PictureRefused or LimitExceeded, each naming what is at fault)."""
        if action not in ACTIONS:
            raise WorkflowError("Unknown action.")
        source = resolve(self.ctx.jobs, users, ref)
        limits = limits_for(self.ctx.jobs, owner)
        data, name = read_upload(source.path, self.ctx.comfy.client, field=PICTURE, limits=limits)
        size = picture_header(data, name=name, field=PICTURE)
        key, values, result = getattr(self, f"_{action}")(options, size)
        field = {"upscale": "factor", "extend": "pixels"}.get(action)
        allowed = min(RESULT_CEILING, limits.max_pixels or RESULT_CEILING) if limits else RESULT_CEILING
        if result[0] * result[1] > allowed:
            raise LimitExceeded("pixels", result[0] * result[1], allowed, field=field, size=f"{result[0]}×{result[1]}")
        template, fields = self.template(key)
        staged = InputFile(data, content_name(data, name))
        values = {**self._settings(source.path, template, fields), **values,
                  **rt.picture_value(template, fields, staged.ref)}
        request = RunRequest(template, fields, values, owner=owner, template_name=rt.TEMPLATES[key], kind=action,
                             inputs=[staged])
        return Prepared(request, source, result)


def _number(value: Any) -> float | None:
    """A finite number (a choice may arrive as text, "2" or "2.0"), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, (int, float, str)) and len(str(value)) < 32 else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None
