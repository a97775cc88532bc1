"""Which picture a result action works on, checked: the caller's own job output, or a file Gradio holds.

A raw API caller can send any value, and the job store's output folders are in launch's
``allowed_paths``; so a picture is never taken as a path the caller chose there. It is one of:

* ``{"job_id": ..., "index": n}`` or ``"job:<job id>:<n>"`` (History's opened job): the ``n``-th picture of that job, read
  from the store's record, for its owner (any identity the caller holds) or an admin;
* a path the store itself wrote (``outputs/<job id>/<file>``, what a tab's own state holds right
  after a run): taken as that job's output of that name, with the same owner check;
* a file in Gradio's upload folder (a gallery's pictures come back from the browser as copies
  Gradio put there under a hash of their content; an uploaded picture lives there too).

Anything else is refused with a plain reason (:class:`~comfy_ui_app.errors.WorkflowError`); someone
else's job is refused in the same words as a job that does not exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from comfy_ui_app.errors import WorkflowError
from comfy_ui_app.jobs.uploads import is_picked_file

__all__ = ["Source", "resolve", "gallery_pick", "gallery_paths", "acted_on", "item_path", "PICTURE"]

PICTURE = "picture"  # the name problems with the picture are reported under
_MAX_REF = 4096


@dataclass(frozen=True)
class Source:
    """A usable picture: its file, and the job that made it when known."""

    path: Path
    job_id: str | None = None


def item_path(item: Any) -> str | None:
    """A gallery item's file: ``(path, caption)``, ``{"path": ...}`` or a bare path; None for anything else."""
    item = item[0] if isinstance(item, (list, tuple)) and item else item
    item = item.get("path") if isinstance(item, dict) else item
    return item if isinstance(item, str) and item else None


def gallery_paths(gallery: Any) -> list[str]:
    """The files a gallery's value shows, in order (items that name none left out)."""
    return [path for path in map(item_path, gallery or []) if path]


def gallery_pick(gallery: Any, picks: Any) -> str | None:
    """The picture to act on: the last one clicked when it is still in the gallery, else the first."""
    items = gallery_paths(gallery)
    picked = picks[-1] if isinstance(picks, list) and picks else None
    return picked if picked in items else (items[0] if items else None)


def acted_on(picture: Any, gallery: Any) -> Any:
    """The picture a panel's action works on: ``picture`` (the one last clicked) while it is still in the
    gallery, else the gallery's first (new results make the first the one again); with no gallery at all
    (an API caller naming its picture), ``picture`` as it came (:func:`resolve` checks it)."""
    if picture and not gallery:
        return picture
    return gallery_pick(gallery, [picture] if picture else None)


def _job_output(jobs, users: list[str], job_id: Any, index: Any = None, name: str | None = None) -> Source:
    if not isinstance(job_id, str) or not job_id or len(job_id) > 200:
        raise WorkflowError("This picture cannot be used.", PICTURE)
    record = jobs.store.get(job_id)
    if record is None:
        raise WorkflowError("This picture cannot be used.", PICTURE)
    if not any(jobs.visible(record, user) for user in users):
        raise WorkflowError("This picture cannot be used.", PICTURE)  # as for no such job: ids stay unknowable
    pictures = [o for o in record.outputs if o.media == "image"]
    if name is not None:
        chosen = next((o for o in pictures if o.filename == name), None)
    else:
        ok = isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(pictures)
        chosen = pictures[index] if ok else None
    if chosen is None or not Path(chosen.path).is_file():
        raise WorkflowError("This picture cannot be used.", PICTURE)
    return Source(Path(chosen.path), record.job_id)


def _stored(jobs, path: str) -> tuple[str, str] | None:
    """``(job id, file name)`` when ``path`` names a file directly in a job's output folder."""
    try:
        candidate = Path(path)
        if not candidate.is_absolute() or ".." in candidate.parts:
            return None
        relative = candidate.relative_to(Path(jobs.store.outputs_dir))
    except (ValueError, OSError):
        return None
    return (relative.parts[0], relative.parts[1]) if len(relative.parts) == 2 else None


def resolve(jobs, users: list[str], ref: Any) -> Source:
    """The picture ``ref`` names, if the caller (``users``: every identity they hold) may use it."""
    if isinstance(ref, str) and ref.startswith("job:"):
        job_id, _, index = ref[4:].rpartition(":")
        ref = {"job_id": job_id, "index": int(index) if index.isdigit() and len(index) < 6 else None}
    if isinstance(ref, dict):
        return _job_output(jobs, users, ref.get("job_id"), ref.get("index"))
    if not isinstance(ref, str) or not ref or len(ref) > _MAX_REF or "\x00" in ref:
        raise WorkflowError("Click a picture first.", PICTURE)
    stored = _stored(jobs, ref)
    if stored is not None:
        return _job_output(jobs, users, stored[0], name=stored[1])
    if is_picked_file(ref, [gr.utils.get_upload_folder()]):
        return Source(Path(ref).resolve())
    raise WorkflowError("This picture cannot be used.", PICTURE)
