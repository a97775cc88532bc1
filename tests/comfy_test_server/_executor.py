"""The execution worker: one prompt at a time, emitting ComfyUI's exact event sequence.

Sequence (``ws_txt2img_auto.json``; routing from ``ws_client_id_semantics.json``):
``execution_start``, ``execution_cached`` (always), then per node that runs
``progress_state`` + ``executing``; per sampler step ``progress_state``, a type-4
preview (metadata clients), ``progress``, a type-1 preview (everyone else); output
nodes ``executed``; then ``progress_state`` (finished); finally
``execution_success`` | ``execution_error`` (``post_prompt_errors.json`` ->
``runtime_error_execution_error``) | ``execution_interrupted``
(``queue_interrupt_free.json``). The worker then writes history, broadcasts
``status`` and sends the end marker ``executing {node: null}``.
A cached output node only replays ``executed`` + ``progress_state``.

Media outputs (video, animated WEBP, audio, 3D, text) are written by ``_media``.

Per-prompt messages go to ``extra_data.client_id`` only; without one they are not
sent at all, except ``progress_state``/``progress``/type-1 previews and
``execution_interrupted``, which are broadcast.
"""
from __future__ import annotations

import asyncio
import os
import random
import time

from . import _images, _media
from ._graph import ExecutionList, OutputCache, is_link, node_spec, signatures
from ._nodes import SAMPLER_CLASSES
from ._ws import encode_preview, encode_preview_with_metadata

IMAGE_OUTPUT_NODES = {"SaveImage": ("output", 4), "PreviewImage": ("temp", 1), "MaskPreview": ("temp", 1)}
FIRST = object()   # "whichever node runs first"
_TB = '  File "<comfyui-root>/{file}", line {line}, in {func}\n    <source line omitted>\n'
_FAIL_TB = [_TB.format(file=f, line=ln, func=fn) for f, ln, fn in (
    ("execution.py", 496, "execute"), ("execution.py", 315, "get_output_data"),
    ("execution.py", 289, "_async_map_node_over_list"), ("execution.py", 277, "process_inputs"),
    ("comfy_test_server", 1, "injected_failure"))]


class Interrupted(Exception):
    pass


class NodeFailure(Exception):
    def __init__(self, message: str, exception_type: str):
        super().__init__(message)
        self.message, self.exception_type = message, exception_type


def _now_ms() -> int:
    return int(time.time() * 1000)


def _full_type_name(exc: BaseException) -> str:
    klass = type(exc)
    return klass.__qualname__ if klass.__module__ == "builtins" else f"{klass.__module__}.{klass.__qualname__}"


def _format_value(value):
    return value if value is None or isinstance(value, (int, float, bool, str)) else str(value)


class Executor:
    def __init__(self, messenger, table, dirs, *, step_time, steps, preview, preview_size, node_time=None):
        self.msg, self.table, self.dirs = messenger, table, dirs
        self.step_time, self.steps = step_time, steps
        self.node_time = dict(node_time or {})  # class_type -> seconds the node works after ``executing``
        self.preview, self.preview_size = preview, preview_size
        self.cache = OutputCache()
        self.interrupt_requested = False
        self.wake = asyncio.Event()
        self.fail = None      # armed by ComfyTestServer.fail_next
        self.hang = False     # armed by ComfyTestServer.hang_next
        self.extra_outputs: dict = {}  # class_type -> {ui key: (filename, bytes)}: ComfyTestServer.add_output_kind

    def request_interrupt(self) -> None:
        self.interrupt_requested = True
        self.wake.set()

    # -- messages ----------------------------------------------------------------
    def _send(self, event, data, broadcast_without_client=False):
        if self.client is not None or broadcast_without_client:
            self.msg.send_sync(event, data, self.client)

    def _add_message(self, event, data, broadcast=False):
        data = {**data, "timestamp": _now_ms()}
        self.messages.append([event, data])
        self._send(event, data, broadcast)

    def _progress(self, node_id, value=None, max_value=None, state=None):
        entry = self.progress.setdefault(node_id, {
            "value": 0, "max": 1, "state": "pending", "node_id": node_id, "prompt_id": self.prompt_id,
            "display_node_id": node_id, "parent_node_id": None, "real_node_id": node_id})
        if state == "running" and value is None:
            entry.update(value=0.0, max=1.0, state="running")
        elif state == "finished":
            entry.update(value=entry["max"], state="finished")
        else:
            entry.update(value=value, max=max_value)
        nodes = {k: dict(v) for k, v in self.progress.items() if v["state"] != "pending"}
        self._send("progress_state", {"prompt_id": self.prompt_id, "nodes": nodes}, True)

    # -- one prompt --------------------------------------------------------------
    async def execute(self, item):
        """Run a queue item; returns ``(history_result, status)`` for ``task_done``."""
        number, self.prompt_id, prompt, extra_data, outputs = item
        self.client = extra_data.get("client_id") if isinstance(extra_data, dict) else None
        self.msg.client_id = self.client
        self.interrupt_requested = False
        self.wake.clear()
        self.messages, self.progress, self.current = [], {}, None
        pid = self.prompt_id
        self._add_message("execution_start", {"prompt_id": pid})
        sigs = signatures(prompt, self.dirs)
        self.cache.clean_unused(set(sigs.values()))
        entries = self.cache.entries
        cached = lambda n: sigs.get(n) in entries  # noqa: E731
        self._add_message("execution_cached", {"nodes": [n for n in prompt if cached(n)], "prompt_id": pid})
        order = ExecutionList(prompt, cached, lambda n: self.table.is_output_node(prompt[n]["class_type"]))
        for output_id in outputs:
            order.add_node(output_id)
        to_run = [n for n in order.pending if not cached(n)]
        fail_at, hang_at = self._arm(to_run, prompt)
        executed, ui_outputs, meta, specs = [], {}, {}, {}

        def spec_of(node_id):
            return entries[sigs[node_id]][0] if cached(node_id) else specs.get(node_id)

        try:
            while not order.is_empty():
                nid = order.next_node()
                if cached(nid):
                    spec, ui = entries[sigs[nid]]
                    self._send("executed", {"node": nid, "display_node": nid, "output": ui, "prompt_id": pid})
                    self._progress(nid, state="finished")
                else:
                    first = not executed
                    hits = [t is not None and (t == nid or (t is FIRST and first)) for t in (fail_at, hang_at)]
                    spec, ui = await self._run_node(nid, prompt, extra_data, spec_of, *hits)
                    executed.append(nid)
                    entries[sigs[nid]] = (spec, ui)
                specs[nid] = spec
                if ui:
                    ui_outputs[nid] = ui
                    meta[nid] = {"node_id": nid, "display_node": nid, "parent_node": None, "real_node_id": nid}
                order.complete(nid)
            self._add_message("execution_success", {"prompt_id": pid})
            status = ("success", True)
        except Interrupted as exc:
            node_id = str(exc)
            self._add_message("execution_interrupted", {
                "prompt_id": pid, "node_id": node_id, "node_type": prompt[node_id]["class_type"],
                "executed": list(executed)}, broadcast=True)
            status = ("error", False)
        except Exception as exc:  # NodeFailure, or a node "crashing" (e.g. a bad filename_prefix)
            if not isinstance(exc, NodeFailure):
                exc = NodeFailure(str(exc), _full_type_name(exc))
            node_id = self.current if self.current in prompt else next(iter(prompt))
            self._add_message("execution_error", {
                "prompt_id": pid, "node_id": node_id, "node_type": prompt[node_id]["class_type"],
                "executed": list(executed), "exception_message": exc.message,
                "exception_type": exc.exception_type, "traceback": list(_FAIL_TB),
                "current_inputs": self._current_inputs(prompt, node_id), "current_outputs": list(prompt)})
            status = ("error", False)
        self.msg.last_node_id = None
        return ({"outputs": ui_outputs, "meta": meta},
                {"status_str": status[0], "completed": status[1], "messages": self.messages})

    def _arm(self, to_run, prompt):
        """Consume ``fail_next``/``hang_next`` if this prompt runs the targeted node."""
        samplers = [n for n in to_run if prompt[n]["class_type"] in SAMPLER_CLASSES]
        default = samplers[0] if samplers else (FIRST if to_run else None)
        fail_at = hang_at = None
        if self.fail is not None:
            wanted = self.fail["node_id"]
            fail_at = default if wanted is None else (wanted if wanted in to_run else None)
            if fail_at is not None:
                self.fail_spec, self.fail = self.fail, None
        if self.hang and default is not None:
            hang_at, self.hang = default, False
        return fail_at, hang_at

    async def _run_node(self, nid, prompt, extra_data, spec_of, fail, hang):
        node = prompt[nid]
        class_type = node["class_type"]
        self.current = nid
        self._progress(nid, state="running")
        self._send("executing", {"node": nid, "display_node": nid, "prompt_id": self.prompt_id})
        self.msg.last_node_id = nid
        await asyncio.sleep(0)
        self._check_interrupt(nid)
        if hang:
            await self.wake.wait()
            self._check_interrupt(nid)
        if fail:
            raise NodeFailure(self.fail_spec["message"], self.fail_spec["exception_type"])
        if self.node_time.get(class_type):
            await asyncio.sleep(self.node_time[class_type])
        upstream = [spec_of(v[0]) for v in node["inputs"].values() if is_link(v)]
        spec = _media.node_values(class_type, node["inputs"], node_spec(node, upstream, self.dirs), upstream,
                                  self.dirs)
        if class_type in SAMPLER_CLASSES:
            await self._sample(nid, node, prompt, spec)
        ui = None
        if class_type in IMAGE_OUTPUT_NODES:
            kind, level = IMAGE_OUTPUT_NODES[class_type]
            prefix = str(node["inputs"].get("filename_prefix", "ComfyUI"))
            if kind == "temp":
                prefix += "_temp_" + "".join(random.choice("abcdefghijklmnopqrstupvxyz") for _ in range(5))
            pnginfo = extra_data.get("extra_pnginfo") if isinstance(extra_data, dict) else None
            ui = {"images": _images.save_images(spec, prefix, self.dirs[kind], kind, prompt, pnginfo, level)}
        elif class_type in _media.MEDIA_OUTPUT_NODES:
            ui = _media.run_output(class_type, node["inputs"], spec, self.dirs, "ComfyUI_temp_" + "".join(
                random.choice("abcdefghijklmnopqrstupvxyz") for _ in range(5)))
        if ui is not None:
            for key, (filename, data) in self.extra_outputs.get(class_type, {}).items():
                with open(os.path.join(self.dirs["output"], filename), "wb") as f:
                    f.write(data)
                ui[key] = [{"filename": filename, "subfolder": "", "type": "output"}]
            self._send("executed", {"node": nid, "display_node": nid, "output": ui, "prompt_id": self.prompt_id})
        self._progress(nid, state="finished")
        return spec, ui

    def _check_interrupt(self, nid):
        if self.interrupt_requested:
            self.interrupt_requested = False
            raise Interrupted(nid)

    def _sampler_steps(self, node, prompt) -> int:
        if self.steps is not None:
            return int(self.steps)
        inputs = node["inputs"]
        steps = inputs.get("steps")
        if not isinstance(steps, int) and is_link(inputs.get("sigmas")) and inputs["sigmas"][0] in prompt:
            steps = prompt[inputs["sigmas"][0]]["inputs"].get("steps")
        if not isinstance(steps, int):
            return 20
        if node["class_type"] == "KSamplerAdvanced":
            start, end = inputs.get("start_at_step", 0), inputs.get("end_at_step", 10000)
            if isinstance(start, int) and isinstance(end, int):
                return max(0, min(end, steps) - start)
        return steps

    async def _sample(self, nid, node, prompt, spec):
        total = self._sampler_steps(node, prompt)
        size = (spec.get("w", 512), spec.get("h", 512))
        jpeg = _images.preview_jpeg(*size, self.preview_size) if self.preview else None
        for step in range(1, total + 1):
            if self.step_time > 0:
                try:
                    await asyncio.wait_for(self.wake.wait(), self.step_time)
                except asyncio.TimeoutError:
                    pass
            else:
                await asyncio.sleep(0)
            self._check_interrupt(nid)
            self._progress(nid, step, total)
            with_meta = self.client is not None and self.msg.supports_preview_metadata(self.client)
            if jpeg is not None and with_meta:
                self.msg.send_sync("binary", encode_preview_with_metadata(jpeg, {
                    "node_id": nid, "prompt_id": self.prompt_id, "display_node_id": nid,
                    "parent_node_id": None, "real_node_id": nid, "image_type": "image/jpeg"}), self.client)
            self.msg.send_sync("progress", {"value": step, "max": total, "prompt_id": self.prompt_id,
                                            "node": nid}, self.client)
            if jpeg is not None and not with_meta:
                self.msg.send_sync("binary", encode_preview(jpeg), self.client)

    def _current_inputs(self, prompt, node_id):
        out = {}
        for name, value in prompt[node_id]["inputs"].items():
            if is_link(value) and value[0] in prompt:
                value = f"<{prompt[value[0]]['class_type']} output {value[1]}>"
            out[name] = [_format_value(value)]
        return out
