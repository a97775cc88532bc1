"""Who may run which graph, and which files its inputs may name (the job service asks before recording a job).

Every graph the app sends passes :meth:`GraphRules.check` (from ``JobService.submit``), so a raw
API call meets the same rules as the page, which only mirrors them:

* **Workflows of one's own** (any kind but the app's own templates, :data:`APP_KINDS`: the Custom
  workflow tab, its re-runs, a re-run of a job found in ComfyUI's history): ``policy.custom_workflows``
  ``everyone``, ``admins`` (others refused) or ``off`` (nobody, admins included).
* **Node allow-list** (``policy.allowed_nodes``, for non-admins, on such workflows): a node of
  another class is refused, naming node and class.
* **File names** (every graph, every kind): each file-name input
  (:func:`comfy_ui_app.workflow.file_inputs.file_inputs`) must name a file uploaded for this
  job, or one of the user's own earlier uploads, or a file the server lists there that is not
  one of the app's uploads; never a path or an annotated name. Admins are exempt; the command
  line (``client="cli"``, a trusted local tool) keeps only the path rules.

The app's uploads carry their owner's tag (:func:`owner_tag`): :meth:`GraphRules.tag_inputs`
renames a job's uploads ``u-<tag>-upload-….png`` (and the prompt and values with them), so a
name another user's upload has, listed by ComfyUI to everyone, is refused for anyone else.
The tag is a hash of the owner, not a secret: knowing it does not make a name usable, being
that owner does.

The node table comes from :class:`NodeTable`: the healthy servers' ``/object_info``, cached
for ``ttl`` seconds, the last one kept while no server answers (nothing known yet: inputs
named ``image``/``video``/``audio``/``file`` are taken to be file names, and a name is not
checked against a list).
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from comfy_ui_app.errors import ComfyError, GraphRefused
from comfy_ui_app.jobs.policy import Policy
from comfy_ui_app.workflow.check import merge_node_tables
from comfy_ui_app.workflow.file_inputs import file_inputs, file_verdict, tagged_name, upload_tag

__all__ = ["APP_KINDS", "GraphRules", "NodeTable", "owner_tag", "owns_input", "may_run_custom"]

APP_KINDS = ("txt2img", "inpaint", "upscale", "vary", "extend")  # the app's own templates (+ result actions)
TRUSTED_CLIENTS = ("cli",)


def owner_tag(owner: str) -> str:
    """The tag an owner's uploads carry: 12 hex digits of a hash of the owner."""
    return hashlib.sha256(f"comfy-ui-app upload owner\n{owner}".encode()).hexdigest()[:12]


def owns_input(owner: str, filename: str) -> bool:
    """Whether ``owner`` may see the input-folder file ``filename`` a job reported as its output
    (``Preview3D`` shows a file of the input folder): not another user's upload."""
    app_upload, tag = upload_tag(filename)
    return not app_upload or tag == owner_tag(owner)


def may_run_custom(policy: Policy, admin: bool) -> str | None:
    """None if a workflow of one's own may run, else the GraphRefused rule that refuses it."""
    if policy.custom_workflows == "off":
        return "custom_off"
    if policy.custom_workflows == "admins" and not admin:
        return "custom_admins"
    return None


class NodeTable:
    """The servers' ``/object_info`` with the file lists of all of them, cached (thread-safe)."""

    def __init__(self, cluster, ttl: float = 30.0) -> None:
        self._cluster = cluster
        self._ttl = ttl
        self._lock = threading.Lock()
        self._table: dict | None = None
        self._at = 0.0

    def __call__(self) -> dict | None:
        with self._lock:
            if self._table is not None and time.monotonic() - self._at < self._ttl:
                return self._table
        return self.refresh()

    def refresh(self) -> dict | None:
        """Ask the servers now (a file uploaded to ComfyUI since the table was cached is in its lists)."""
        fresh = self._fetch()
        with self._lock:
            if fresh is not None:
                self._table, self._at = fresh, time.monotonic()
            return self._table

    def _fetch(self) -> dict | None:
        healthy = {s.url for s in getattr(self._cluster, "servers", ()) if s.healthy}
        merged = None
        for comfy in self._cluster.comfies:
            if comfy.url not in healthy:
                continue  # a server that does not answer would make the caller wait
            try:
                info = comfy.client.object_info()
            except ComfyError:
                continue
            merged = dict(info) if merged is None else merge_node_tables(merged, info)
        return merged


class GraphRules:
    """The rules for a job service; ``node_table()`` gives ``/object_info`` or None."""

    def __init__(self, node_table) -> None:
        self.node_table = node_table

    def check(self, policy: Policy, prompt: dict, *, owner: str, admin: bool, kind: str, client: str = "web",
              inputs: Iterable[Any] = (), fields: Iterable[Any] = ()) -> None:
        """Raise GraphRefused for the first rule of ``policy`` that ``prompt`` breaks (see the module
        docstring); ``inputs``: the files uploaded for this job; ``fields``: the form's, to name one."""
        trusted = client in TRUSTED_CLIENTS
        if kind not in APP_KINDS and not trusted:
            rule = may_run_custom(policy, admin)
            if rule:
                raise GraphRefused(rule)
            allowed = policy.allowed_nodes
            if allowed is not None and not admin:
                for node_id, node in prompt.items():
                    class_type = node.get("class_type") if isinstance(node, dict) else None
                    if class_type not in allowed:
                        raise GraphRefused("node_not_allowed", node=str(node_id), class_type=str(class_type))
        if admin:
            return
        own_refs = {getattr(item, "ref", item) for item in inputs}
        names = {(f.node_id, f.input_name): f.name for f in fields}
        tag = owner_tag(owner)
        table = self.node_table()
        for attempt in range(2):
            refusal = next(((item, verdict) for item in file_inputs(prompt, table)
                            if (verdict := file_verdict(item, own_refs=own_refs, own_tag=tag, trusted=trusted))), None)
            if refusal is None:
                return
            item, verdict = refusal
            if verdict == "unknown" and attempt == 0 and hasattr(self.node_table, "refresh"):
                table = self.node_table.refresh()   # the cached lists may predate a file put on the server since
                continue
            raise GraphRefused(f"file_{verdict}", field=names.get((item.node_id, item.input_name)),
                               node=item.node_id, class_type=item.class_type, input=item.input_name,
                               value=item.value)

    @staticmethod
    def tag_inputs(owner: str, prompt: dict, values: dict, inputs: Iterable[Any]) -> tuple[dict, dict, list]:
        """``(prompt, values, inputs)`` with each upload renamed to carry ``owner``'s tag, and every
        string of the prompt's inputs and of the values that named it renamed with it."""
        inputs = list(inputs)
        tag = owner_tag(owner)
        renames = {}
        for i, item in enumerate(inputs):
            name = tagged_name(item.name, tag)
            if name != item.name:
                inputs[i] = replace(item, name=name)
                renames[item.ref] = inputs[i].ref
        if not renames:
            return prompt, values, inputs
        prompt = {node_id: ({**node, "inputs": {k: renames.get(v, v) if isinstance(v, str) else v
                                                 for k, v in node["inputs"].items()}}
                            if isinstance(node, dict) and isinstance(node.get("inputs"), dict) else node)
                  for node_id, node in prompt.items()}
        values = {k: renames.get(v, v) if isinstance(v, str) else v for k, v in values.items()}
        return prompt, values, inputs
