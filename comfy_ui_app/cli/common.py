"""What every command of the command line shares: exit statuses, the two plain-worded
failures (``UsageError``, ``CommandFailed``), reading a workflow file and ``--set`` values,
and reaching the server's node list. The commands import this; ``cli.main`` imports the
commands, never the reverse.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

EXIT_OK = 0
EXIT_FAILED = 1        # server unreachable, rejected, execution error, interrupted
EXIT_USAGE = 2         # bad arguments, bad workflow, unknown --set name, values the local check refuses
EXIT_CTRL_C = 130


class UsageError(Exception):
    """A plain-worded problem with the command line itself (exit 2)."""


class CommandFailed(Exception):
    """A plain-worded failure with its exit status."""

    def __init__(self, line: str, code: int = EXIT_FAILED) -> None:
        super().__init__(line)
        self.code = code


def parse_sets(items: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--set needs the form name=value, got '{item}'.")
        values[name] = value
    return values


def server_url(args) -> str:
    """The server a command talks to: the first of ``--server`` / COMFYUI_URL (a comma list, as
    the web app reads it; the settings split it), else the default."""
    return args.server[0]


def read_workflow_file(path: str | Path) -> tuple[dict, bool]:
    """``(graph, is_ui)``: an API-format graph checked by ``load_workflow``, or a UI-format save.

    A file nested too deep, or of more nodes than a private app accepts (``Policy().max_nodes``,
    5,000: the command line is a trusted local tool, with no flag of its own for it), is
    refused before it is converted or its fields are looked for."""
    from comfy_ui_app.jobs.policy import Policy
    from comfy_ui_app.workflow.convert import is_ui_workflow
    from comfy_ui_app.errors import WorkflowError
    from comfy_ui_app.workflow.source import check_nodes, parse_json
    from comfy_ui_app.workflow.templates import api_graph, load_workflow

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"Workflow file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read the workflow file {path}: {exc}") from exc
    if not text.lstrip().startswith(("{", "[")):
        raise WorkflowError(f"{path.name} is not a JSON workflow.")
    try:
        data = parse_json(text)
    except json.JSONDecodeError:
        return load_workflow(text), False  # load_workflow words the JSON error
    check_nodes(data, Policy().max_nodes)
    if is_ui_workflow(data):
        return data, True
    return api_graph(data), False


def load_object_info(path: str | Path) -> dict:
    """A saved ``/object_info`` answer (``curl http://127.0.0.1:8188/object_info > info.json``)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"Cannot read the node list {path}: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise UsageError(f"{path} is not a saved /object_info (a JSON object of node classes).")
    return data


def fetch_object_info(url: str) -> dict:
    """The server's ``/object_info``; raises ServerUnreachable (or ServerHTTPError)."""
    from comfy_ui_app.comfy.client import ComfyClient

    client = ComfyClient(url)
    try:
        return client.object_info()
    finally:
        client.session.close()


def to_api(graph: dict, is_ui: bool, object_info: dict | None, url: str, *, offline: bool = False) -> dict:
    """``graph`` as an API prompt: a UI-format save is converted with ``object_info``."""
    if not is_ui:
        return graph
    if not object_info:
        why, fix = (("you asked for --offline", "leave out --offline") if offline
                    else (f"ComfyUI at {url} cannot be reached", "start ComfyUI"))
        raise CommandFailed(f"This is a UI-format workflow, and converting it needs ComfyUI's node list, but {why}. "
                            f"To convert it, {fix}, or pass --object-info FILE (a saved /object_info).")
    from comfy_ui_app.workflow.convert import ui_to_api

    return ui_to_api(graph, object_info)


def problems_line(lead: str, problems: list) -> str:
    """``lead: first problem; second problem.`` with each problem named after its field."""
    from comfy_ui_app.texts.messages import describe_problem

    return f"{lead}: " + "; ".join(describe_problem(p, name_first=True) for p in problems) + "."


def workflow_fields(prompt: dict, object_info: dict | None, graph: dict | None, *, every: bool = False) -> list:
    """The fields of a workflow for the command line: the inputs its author chose in ComfyUI's App
    mode when ``graph`` (the UI-format save) has them, else every field discovery finds.

    ``every`` (``generate``): App mode's fields first, then discovery's others (advanced, under
    names App mode left free), so ``--set`` takes the author's names and any other input too,
    and a checkpoint the server lacks is still replaced."""
    import dataclasses

    from comfy_ui_app.workflow.fields import discover, form_fields

    fields = form_fields(prompt, object_info, graph)
    if not every:
        return fields
    names = {f.name for f in fields}
    targets = {t for f in fields for t in ((f.node_id, f.input_name), *f.also)}
    return fields + [dataclasses.replace(f, advanced=True) for f in discover(prompt, object_info)
                     if f.name not in names and (f.node_id, f.input_name) not in targets]
