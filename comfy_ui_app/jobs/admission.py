"""Checks the job service makes before it records a job: whatever the entry (a tab, Gradio's API,
a re-run), a job that fails one is refused whole and nothing is stored or sent.

* :func:`check_disk`: the data folder's disk has at least ``policy.min_free_mb`` free
  (``errors.DiskNearlyFull`` otherwise);
* :func:`check_texts`: no text the job carries is longer than the policy allows: a value
  (``{field name: value}``) or a string input of the graph longer than ``max_prompt_chars``
  (the longest any field may be; the page holds each field to its own cap first:
  ``ui.form.Form.check``) is refused as ``errors.BadValue`` naming its field;
* :func:`check_sendable`: the graph is JSON a server can read (no NaN or infinity:
  ``errors.NotSendable``), checked here so it never reaches a server's queue.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from comfy_ui_app.comfy.client import encode_json
from comfy_ui_app.errors import BadValue, DiskNearlyFull
from comfy_ui_app.jobs.policy import Policy

__all__ = ["check_disk", "check_texts", "check_sendable", "free_mb"]


def free_mb(folder: str | Path) -> float:
    """Free space, in MB, on the disk that holds ``folder``."""
    return shutil.disk_usage(folder).free / 2**20


def check_disk(folder: str | Path, policy: Policy) -> None:
    """DiskNearlyFull when ``folder``'s disk has less than ``policy.min_free_mb`` free."""
    if policy.min_free_mb and policy.min_free_mb > 0:
        free = free_mb(folder)
        if free < policy.min_free_mb:
            raise DiskNearlyFull(free, policy.min_free_mb)


def check_texts(policy: Policy, values: dict, prompt: dict) -> None:
    """BadValue ("too_long") for the first value, or string input of ``prompt``, over the cap."""
    limit = policy.max_prompt_chars
    for name, value in (values or {}).items():
        if isinstance(value, str) and len(value) > limit:
            raise BadValue(str(name), "too_long", label=str(name), length=len(value), limit=limit)
    for node_id, node in (prompt or {}).items():
        inputs = node.get("inputs") if isinstance(node, dict) else None
        for name, value in (inputs.items() if isinstance(inputs, dict) else ()):
            if isinstance(value, str) and len(value) > limit:
                raise BadValue(None, "too_long", label=f"{node_id}.{name}", length=len(value), limit=limit)


def check_sendable(prompt: dict) -> None:
    """NotSendable when ``prompt`` holds a number JSON cannot carry."""
    encode_json({"prompt": prompt})
