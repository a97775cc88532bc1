"""The History tab's "From elsewhere" (admins): prompts ComfyUI ran that the app has no
record of, read from ``/history`` of every server of the app (a cluster's, or the one).

A server that does not answer is skipped (the app's own history still shows); prompt ids are
UUIDs, so a job from elsewhere is found again by asking each server in turn.
"""

from __future__ import annotations

from comfy_ui_app.jobs.records import history_times
from comfy_ui_app.errors import ComfyError

__all__ = ["entries", "find", "status_of"]


def status_of(entry: dict) -> tuple[str, float | None, float | None, str | None]:
    """(status, started, finished, error) of a ComfyUI ``/history`` entry."""
    status = entry.get("status") or {}
    messages = {m[0]: m[1] for m in status.get("messages") or [] if isinstance(m, list) and len(m) == 2}
    word = next((w for name, w in (("execution_success", "success"), ("execution_error", "error"),
                                   ("execution_interrupted", "interrupted")) if name in messages), None)
    error = (messages.get("execution_error") or {}).get("exception_message")
    started, finished = history_times(entry)
    return word or ("success" if status.get("status_str") == "success" else "error"), started, finished, error


def entries(comfies: list, store, max_items: int) -> list:
    """``(comfy, prompt_id, entry)`` of the newest ``max_items`` prompts of every server in
    ``comfies`` that ``store`` has no record of, newest first (by start time); a server that
    does not answer is skipped."""
    found = []
    for comfy in comfies:
        try:
            history = comfy.client.get_history(max_items=max_items)
        except ComfyError:
            continue
        for order, (prompt_id, entry) in enumerate(history.items()):  # ComfyUI keeps them oldest first
            if store.by_prompt_id(prompt_id) is None:
                found.append((status_of(entry)[1] or 0, order, comfy, prompt_id, entry))
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [(comfy, prompt_id, entry) for _, _, comfy, prompt_id, entry in found[:max_items]]


def find(comfies: list, prompt_id: str) -> tuple[object, dict | None]:
    """``(comfy, entry)`` of the server whose ``/history`` has ``prompt_id``; ``(first, None)``
    if none has it. A server that does not answer is skipped; if none answers, its error is raised."""
    failures: list[ComfyError] = []
    for comfy in comfies:
        try:
            entry = comfy.client.get_history_item(prompt_id).get(prompt_id)
        except ComfyError as e:
            failures.append(e)
            continue
        if entry:
            return comfy, entry
    if len(failures) == len(comfies):
        raise failures[0]
    return comfies[0], None
