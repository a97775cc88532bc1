"""Unpack group nodes (``extra.groupNodes``) of an editor save (for :mod:`comfy_ui_app.workflow.subgraphs`)."""

from __future__ import annotations

__all__ = ["unpack_group_nodes"]


def unpack_group_nodes(workflow: dict) -> dict:
    return workflow
