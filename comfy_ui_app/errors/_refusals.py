"""Refusals: what the app will not send or run, found before anything reaches a server
(``comfy_ui_app.errors`` draws the tree)."""
from __future__ import annotations

from comfy_ui_app.errors._base import ComfyError, WorkflowError


class LimitExceeded(ComfyError, ValueError):
    """A request over a cap of a public app (``comfy_ui_app.jobs.limits.Limits``), refused before
    anything reaches ComfyUI. ``cap`` is one of ``limits.CAPS`` ("pending", "steps",
    "pixels", "images", "upload_mb"), ``asked`` what the request asks for (for "pending":
    the jobs the user already has), ``allowed`` the cap; ``field`` the form field at fault,
    if one is; ``detail`` more for the message (``{"size": "1536×1536"}``, the picture's name…).
    """

    code = "limit_exceeded"

    def __init__(self, cap: str, asked: int | float, allowed: int | float, *, field: str | None = None,
                 **detail) -> None:
        self.cap = cap
        self.asked = asked
        self.allowed = allowed
        self.field = field
        self.detail = detail
        super().__init__(f"Over the {cap} limit: {asked} asked, at most {allowed} allowed")


class NoServerCanRun(WorkflowError):
    """No server of a cluster can run a job: none has every node type and checkpoint it needs.

    ``missing_nodes`` / ``missing_checkpoints``: what no server (``answered``: no server that
    answered) has, both empty when each exists somewhere but on no single server; ``unasked``:
    the address of each server that could not be asked (it had not answered for ``waited``
    seconds). ``field`` is "checkpoint" unless only node types are missing."""

    code = "no_server_can_run"

    def __init__(self, missing_nodes: list[str] = (), missing_checkpoints: list[str] = (), *,
                 answered: bool = False, unasked: list[str] = (), waited: float | None = None) -> None:
        self.missing_nodes = list(missing_nodes)
        self.missing_checkpoints = list(missing_checkpoints)
        self.answered = answered
        self.unasked = list(unasked)
        self.waited = waited
        field = None if self.missing_nodes and not self.missing_checkpoints else "checkpoint"
        who = "no ComfyUI server that answered has" if answered else "no ComfyUI server has"
        parts = []
        if self.missing_nodes:
            kind = "node types" if len(self.missing_nodes) > 1 else "node type"
            parts.append(f"{who} the {kind} {', '.join(self.missing_nodes)}")
        if self.missing_checkpoints:
            kind = "checkpoints" if len(self.missing_checkpoints) > 1 else "checkpoint"
            parts.append(f"{who} the {kind} {', '.join(self.missing_checkpoints)}")
        if not parts:
            parts.append(f"no single ComfyUI server{' that answered' if answered else ''} has every node type and "
                         "checkpoint this workflow needs")
        if self.unasked:
            names = ", ".join(f"ComfyUI at {url}" for url in self.unasked)
            verb = "it has" if len(self.unasked) == 1 else "they have"
            parts.append(f"{names} could not be asked ({verb} not answered for {waited:g} s)")
        text = "; ".join(parts)
        super().__init__(text[0].upper() + text[1:], field)


class GraphRefused(WorkflowError):
    """A graph this user may not run (``comfy_ui_app.jobs.graph_rules``), refused before anything
    is recorded or sent. ``rule``: "custom_off" (nobody may run a workflow of their own),
    "custom_admins" (only admins may), "node_not_allowed" (a class outside ``--allow-nodes``),
    or a file-name input's value: "file_path" (folders, ``..``), "file_annotation" (``[output]``…),
    "file_not_yours" (another user's upload), "file_unknown" (not a file the server lists).
    ``node``/``class_type``/``input``/``value``: where; ``field``: the form field, when it is one."""

    code = "graph_refused"

    def __init__(self, rule: str, *, field: str | None = None, node: str | None = None,
                 class_type: str | None = None, input: str | None = None, value: str | None = None) -> None:
        self.rule = rule
        self.node = node
        self.class_type = class_type
        self.input = input
        self.value = value if value is None or len(value) <= 200 else value[:200] + "…"  # a 1 MB name: cut
        where = f" (node {node} {class_type}, input {input}: {value!r})" if input else (
            f" (node {node} {class_type})" if node else "")
        super().__init__(f"Graph refused: {rule}{where}", field)
class BadValue(WorkflowError):
    """A value sent for a field (from the form, Gradio's API, ``--set`` or a stored job) that cannot be
    used, found before anything is stored or sent. ``problem``: "not_finite" (NaN, infinity),
    "not_a_number", "not_whole", "not_text", "too_long" (``length`` characters, at most ``limit``),
    "too_small" / "too_big" (``value`` past ``limit``); ``label``: the field's shown name (English; the
    words translate it); ``field``: the field's name (where the message goes)."""

    code = "bad_value"
    PROBLEMS = ("not_finite", "not_a_number", "not_whole", "not_text", "too_long", "too_small", "too_big")

    def __init__(self, field: str | None, problem: str, *, label: str | None = None, value: object = None,
                 limit: int | float | None = None, length: int | None = None) -> None:
        if problem not in self.PROBLEMS:
            raise ValueError(f"unknown problem {problem!r}")
        self.problem = problem
        self.label = label or field or "value"
        finite = isinstance(value, (int, float)) and abs(value) < 1e30 and value == value
        self.value = value if finite or value is None else _short(repr(value))  # JSON-safe, short
        self.limit = limit
        self.length = length
        WorkflowError.__init__(self, f"{self.label}: {problem.replace('_', ' ')}"
                                     + (f" ({length} characters, at most {limit})" if length is not None else
                                        f" ({self.value!r}, limit {limit})" if limit is not None else
                                        f" ({self.value})"), field)


def _short(text: str, most: int = 40) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"


class NotSendable(WorkflowError):
    """A job's graph holds a value JSON cannot carry (NaN, infinity) at node ``node``, input ``input``:
    refused on this side, before any byte reaches a server (so it says nothing about that server)."""

    code = "not_sendable"

    def __init__(self, node: str | None = None, input: str | None = None) -> None:
        self.node = node
        self.input = input
        where = f" at node {node}, input {input}" if node is not None else ""
        WorkflowError.__init__(self, f"The job cannot be sent: it holds a number that is not finite{where}")


class DiskNearlyFull(ComfyError):
    """New jobs are refused: the disk of the app's data folder has ``free_mb`` MB free, less than the
    ``min_free_mb`` its policy wants (``jobs.policy.Policy.min_free_mb``)."""

    code = "disk_nearly_full"

    def __init__(self, free_mb: float, min_free_mb: float) -> None:
        self.free_mb = round(float(free_mb), 1)
        self.min_free_mb = float(min_free_mb)
        super().__init__(f"The data folder's disk is nearly full: {self.free_mb:g} MB free, "
                         f"{self.min_free_mb:g} MB wanted")


class WorkflowTooLarge(WorkflowError):
    """A workflow with more nodes than this app accepts (``jobs.policy.Policy.max_nodes``), refused
    before any conversion, form or job is made of it. ``nodes``: how many it has; ``allowed``: the cap."""

    code = "workflow_too_large"

    def __init__(self, nodes: int, allowed: int, field: str | None = None) -> None:
        self.nodes = nodes
        self.allowed = allowed
        super().__init__(f"The workflow has {nodes} nodes; at most {allowed} are accepted", field)


class WorkflowTooDeep(WorkflowError):
    """A workflow file nested deeper than any workflow is (lists in lists in lists…), or a graph
    whose links run deeper than the app follows. ``allowed``: the deepest accepted."""

    code = "workflow_too_deep"

    def __init__(self, allowed: int, field: str | None = None) -> None:
        self.allowed = allowed
        super().__init__(f"The workflow is nested more than {allowed} levels deep", field)
class PictureRefused(WorkflowError):
    """A picture the app will not decode, judged from its first bytes only (no pixel is decoded).

    ``reason``: "empty" (no bytes), "not_a_picture" (no picture format Pillow knows), "too_large"
    (``width`` × ``height`` over ``limit`` pixels), "too_many_layers" (an editor value with ``count``
    layers, over ``limit``). ``name``: the file's name; ``field``: the form field it came from (its
    error slot shows the message)."""

    code = "picture_refused"

    def __init__(self, reason: str, *, name: str = "", field: str | None = None, width: int = 0, height: int = 0,
                 limit: int = 0, count: int = 0) -> None:
        self.reason = reason
        self.name = name
        self.width, self.height, self.limit, self.count = width, height, limit, count
        if reason == "too_large":
            text = f"The picture {name} is {width}×{height} ({width * height} pixels); at most {limit} pixels"
        elif reason == "too_many_layers":
            text = f"The picture has {count} layers; at most {limit}"
        else:
            text = f"The file {name} is " + ("empty" if reason == "empty" else "not a picture")
        super().__init__(text, field)


class NothingEmbedded(WorkflowError):
    """A picture or video dropped to open its workflow that carries none: no ComfyUI ``prompt`` or
    ``workflow``, no A1111-style ``parameters`` (``workflow.embedded``). ``name``: the file's name;
    ``field``: the drop zone (its message slot shows the words)."""

    code = "nothing_embedded"

    def __init__(self, name: str = "", field: str | None = None) -> None:
        self.name = name
        super().__init__(f"The file {name} carries no workflow or generation parameters", field)


class LibraryRefused(WorkflowError):
    """A template or saved workflow the app will not list or open (``ui.templates_tab``).

    ``reason``: "saved_admins" (on a public app only admins see the workflows saved in ComfyUI),
    "unknown_template" (``name`` is not in the server's template index), "unknown_saved" (the server
    lists no saved workflow ``name``). ``field``: "templates" or "saved", the picker it came from."""

    code = "library_refused"

    def __init__(self, reason: str, *, name: str = "", field: str | None = None) -> None:
        self.reason = reason
        self.name = name if len(name) <= 200 else name[:200] + "…"
        super().__init__(f"Refused: {reason}" + (f" ({self.name!r})" if name else ""), field)


class FileRefused(WorkflowError):
    """A picked file that is not a picture (sound, video, 3D model…), refused from its first bytes only.

    ``reason``: "empty" (no bytes) or "wrong_kind" (its first bytes are none of ``media``'s formats);
    ``media``: what the field takes (``audio``, ``video``, ``model3d``, ``animation``); ``name``: the
    file's name; ``field``: the form field it came from (its error slot shows the message)."""

    code = "file_refused"

    def __init__(self, reason: str, *, media: str = "", name: str = "", field: str | None = None) -> None:
        self.reason, self.media, self.name = reason, media, name
        super().__init__(f"The file {name} is " + ("empty" if reason == "empty" else f"not of the kind {media}"),
                         field)


class PresetRefused(WorkflowError):
    """A preset or a prompt style the app will not save, apply or use (``jobs.presets``,
    ``workflow.prompt_styles``, ``ui._presets``).

    ``reason``: "name_empty", "name_too_long", "too_many" (``allowed`` presets already), "too_large"
    (the values over ``allowed`` bytes), "not_finite" (NaN or infinity), "bad_value" (not a value a
    form holds), "not_found" (no such preset visible to the user), "admins_only" (sharing, unsharing
    or deleting a shared preset), "unknown_style" (``name``), "too_many_styles", "not_on_server"
    (``value``: a choice the server no longer offers), "out_of_range" (``value`` outside
    ``low``..``high``). ``name``: the preset, style or field label; ``field``: the field at fault."""

    code = "preset_refused"

    def __init__(self, reason: str, *, name: str = "", field: str | None = None, allowed: int | None = None,
                 value=None, low=None, high=None) -> None:
        self.reason = reason
        self.name = name if len(name) <= 200 else name[:200] + "…"
        self.allowed, self.low, self.high = allowed, low, high
        self.value = value if value is None or len(str(value)) <= 200 else str(value)[:200] + "…"
        super().__init__(f"Preset refused: {reason}" + (f" ({self.name!r})" if name else ""), field)
