"""Caps per user for a public app (a demo where strangers share one GPU).

:class:`Limits` holds the caps, every one off (``None``) unless configured (``app.py``):

* ``max_pending``: jobs of one user waiting or running at once (counted from the job store);
* ``max_pixels``: width × height of one picture (a latent's size, a resize target, a
  picture sent for img2img or inpainting);
* ``max_steps``: every steps input of the prompt (``steps``, ``refiner_steps``, ``steps_2``,
  a scheduler's steps, a primitive number linked into one);
* ``max_images``: pictures asked for at once, batch size × batch count;
* ``max_upload_mb``: megabytes of one picture sent to ComfyUI.

The checks are pure: they look at the filled prompt (what would be sent, so no form value
can slip past under another name), a count and a number of pending jobs, and raise
:class:`~comfy_ui_app.errors.LimitExceeded` naming the cap, what was asked and what is
allowed (``messages.describe`` words it). Admins are exempt: :func:`limits_for` gives
``None`` for them. :func:`admitted` makes "count the pending jobs, then record one more"
one step, so parallel requests of one user cannot all slip under ``max_pending``.
The command line is a trusted local tool: it never passes limits.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from comfy_ui_app.errors import LimitExceeded
from comfy_ui_app.workflow.fields import Field, discover, is_link
from comfy_ui_app.workflow.values import finite_number

__all__ = ["Limits", "CAPS", "LimitExceeded", "parse_pixels", "limits_for", "count_pending", "admitted",
           "prompt_sizes", "check_run"]

CAPS = ("pending", "steps", "pixels", "images", "upload_mb")
# Nodes whose width/height make a picture of that size (not e.g. CLIPTextEncodeSDXL's size conditioning).
_SIZE_CLASSES = ("Empty", "Scale", "Resize")
_PIXELS = re.compile(r"\s*(\d+)\s*[x×X*]\s*(\d+)\s*")


def parse_pixels(text: str | int) -> int:
    """``"1048576"``, ``"1024x1024"`` or ``"1024×1024"`` -> 1048576; ValueError otherwise."""
    text = str(text).strip().replace("_", "").replace(",", "")
    match = _PIXELS.fullmatch(text)
    value = int(match.group(1)) * int(match.group(2)) if match else int(text) if text.isdigit() else 0
    if value < 1:
        raise ValueError(f"expected a number of pixels (1048576) or a size (1024x1024), got {text!r}")
    return value


@dataclass(frozen=True)
class Limits:
    """The caps (None: no cap). ``check_*`` raise LimitExceeded; they never change anything."""

    max_pending: int | None = None
    max_pixels: int | None = None
    max_steps: int | None = None
    max_images: int | None = None
    max_upload_mb: float | None = None
    _lock: Any = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def any(self) -> bool:
        """Whether any cap is set."""
        return any(v is not None for v in (self.max_pending, self.max_pixels, self.max_steps, self.max_images,
                                           self.max_upload_mb))

    def check_pending(self, pending: int) -> None:
        """``pending``: the user's jobs waiting or running now; one more must fit."""
        if self.max_pending is not None and pending >= self.max_pending:
            raise LimitExceeded("pending", pending, self.max_pending)

    def check_prompt(self, prompt: dict, *, count: int = 1, fields: list[Field] | None = None) -> None:
        """Steps, pixels and batch size × ``count`` of a filled API-format prompt."""
        sizes = prompt_sizes(prompt, fields)
        if self.max_steps is not None:
            for steps, name in sizes["steps"]:
                if steps > self.max_steps:
                    raise LimitExceeded("steps", steps, self.max_steps, field=name)
        if self.max_pixels is not None:
            for (width, height), name in sizes["sizes"]:
                self.check_pixels(width, height, field=name)
        if self.max_images is not None:
            batch, name = max(sizes["batch"], default=(1, None), key=lambda b: b[0])
            count = max(1, int(count or 1))
            if batch * count > self.max_images:
                raise LimitExceeded("images", batch * count, self.max_images, field=name if count == 1 else None,
                                    batch_size=batch, count=count)

    def check_pixels(self, width: int, height: int, *, field: str | None = None, name: str | None = None) -> None:
        """One picture of ``width`` × ``height`` (``name``: an uploaded file's)."""
        if self.max_pixels is not None and width * height > self.max_pixels:
            detail = {"name": name} if name else {}
            raise LimitExceeded("pixels", width * height, self.max_pixels, field=field, size=f"{width}×{height}",
                                **detail)

    def check_upload(self, size: int, name: str, *, field: str | None = None) -> None:
        """A picture of ``size`` bytes about to be sent to ComfyUI."""
        if self.max_upload_mb is not None and size > self.max_upload_mb * 1_000_000:
            raise LimitExceeded("upload_mb", round(size / 1_000_000, 2), self.max_upload_mb, field=field,
                                name=name)

    def check(self, prompt: dict, *, pending: int | None = None, count: int = 1,
              fields: list[Field] | None = None) -> None:
        """Every cap: the pending jobs first (when counted), then the prompt."""
        if pending is not None:
            self.check_pending(pending)
        self.check_prompt(prompt, count=count, fields=fields)


def _number(value: Any) -> int | None:
    """A size or step count as a whole number (None: not a finite number)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value   # any size: 10**400 steps is over every cap, not an error of ours
    number = finite_number(value)
    return None if number is None else int(number)


def _resolve(prompt: dict, node_id: str, input_name: str) -> tuple[int | None, tuple[str, str]]:
    """An input's number and where it is written: through links to one-input nodes (primitives)."""
    for _ in range(len(prompt) + 1):
        value = ((prompt.get(node_id) or {}).get("inputs") or {}).get(input_name)
        source = str(value[0]) if is_link(value) else None
        inputs = (prompt.get(source) or {}).get("inputs") or {} if source is not None else {}
        if len(inputs) != 1:
            return (None if is_link(value) else _number(value)), (node_id, input_name)
        node_id, input_name = source, next(iter(inputs))
    return None, (node_id, input_name)


def prompt_sizes(prompt: dict, fields: list[Field] | None = None) -> dict[str, list]:
    """What a prompt asks of the GPU: ``{"steps": [(n, field)], "sizes": [((w, h), field)],
    "batch": [(n, field)]}``; ``field`` is the form field that holds the number, if any."""
    fields = discover(prompt) if fields is None else fields
    names = {(f.node_id, f.input_name): f.name for f in fields}
    steps_targets = {(f.node_id, f.input_name) for f in fields if f.role == "steps"}
    sized = {f.node_id for f in fields if f.role in ("width", "height")}
    found: dict[str, list] = {"steps": [], "sizes": [], "batch": []}
    for node_id, node in prompt.items():
        inputs = (node or {}).get("inputs") or {} if isinstance(node, dict) else {}
        class_type = str((node or {}).get("class_type") or "") if isinstance(node, dict) else ""
        for input_name in inputs:
            if input_name == "steps" or (node_id, input_name) in steps_targets:
                value, where = _resolve(prompt, node_id, input_name)
                if value is not None:
                    found["steps"].append((value, names.get(where)))
            elif input_name == "batch_size":
                value, where = _resolve(prompt, node_id, input_name)
                if value is not None:
                    found["batch"].append((value, names.get(where)))
        if "width" in inputs and "height" in inputs and (
                node_id in sized or any(word in class_type for word in _SIZE_CLASSES)):
            (width, w_at), (height, h_at) = _resolve(prompt, node_id, "width"), _resolve(prompt, node_id, "height")
            if width is not None and height is not None:
                found["sizes"].append(((width, height), names.get(w_at) or names.get(h_at)))
    return found


def limits_for(jobs, owner: str | None) -> Limits | None:
    """The caps that apply to ``owner`` on a JobService (None: no caps, or an admin)."""
    limits = getattr(jobs, "limits", None)
    if limits is None or not limits.any or jobs.is_admin(owner):
        return None
    return limits


def count_pending(store, owner: str, live: Callable[[str], Any] | None = None) -> int:
    """``owner``'s jobs waiting or running: unfinished in ``store``, less those whose live
    Job (``live(job_id)``) has just ended and is not written down yet."""
    from comfy_ui_app.jobs.store import UNFINISHED

    records = store.list(owner=owner, statuses=UNFINISHED, limit=10_000)
    ended = (lambda job_id: (job := live(job_id)) is not None and job.done) if live is not None else (lambda _: False)
    return sum(1 for record in records if not ended(record.job_id))


@contextmanager
def admitted(limits: Limits | None, prompt: dict, *, pending: Callable[[], int], count: int = 1,
             fields: list[Field] | None = None) -> Iterator[None]:
    """Check every cap, then run the block (recording the job) before any other request
    of these limits is checked; nothing is checked when ``limits`` is None."""
    if limits is None or not limits.any:
        yield
        return
    with limits._lock:
        limits.check(prompt, pending=pending() if limits.max_pending is not None else None, count=count,
                     fields=fields)
        yield


def check_run(jobs, owner: str | None, template: dict, fields: list[Field], values: dict, *, count: int = 1,
              pictures: dict[str, bytes] | None = None) -> None:
    """A whole run of the page (``count`` jobs of ``template`` filled with ``values``) against
    ``owner``'s caps on a JobService, before anything is sent: the pending jobs, steps, pixels,
    batch size × count, and ``pictures`` (``{field name: bytes}`` about to be uploaded). Image
    fields keep the template's files here (their uploads are checked by ``uploads.read_upload``)."""
    from comfy_ui_app.jobs.uploads import check_image
    from comfy_ui_app.workflow.templates import apply_values

    limits = limits_for(jobs, owner)
    if limits is None:
        return
    labels = {f.name: f.label for f in fields}
    for name, data in (pictures or {}).items():
        check_image(data, labels.get(name, name), field=name, limits=limits)
    images = {f.name for f in fields if f.kind in ("image", "mask")}
    filled = apply_values(template, {k: v for k, v in values.items() if k not in images}, fields=fields)
    pending = count_pending(jobs.store, owner, jobs.live) if limits.max_pending is not None else None
    limits.check(filled, pending=pending, count=count, fields=fields)
