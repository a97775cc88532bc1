"""(f) Forms: an uploaded workflow of 200, 1,000 and 2,000 nodes turned into a form.

The workflow is the bundled text-to-image graph with more KSampler nodes added (each one a
sampler of its own: 6 fields), as the issue measured it; the UI-format (editor save) copy of
the same graph is made by ``workflow.editor_format.api_to_ui``. Two measurements, side by side:

* **the code** (in this process, no Gradio): ``custom_tab.read_workflow`` (parse, node cap,
  conversion of a UI save) + ``fields.discover`` with the test server's ``/object_info``;
* **the page**: the real app (``_servers.launched_app``) over a test server; the file is posted
  to Gradio's upload route, then, in one browser session as the page does it, the tab's ``load``
  event and the ``@gr.render`` that draws the form (api name ``apply``) run through
  ``/gradio_api/queue/join``; the time is from the upload to the form's last byte.

Target: a 1,000-node workflow's form (the page, API format) in under 2 s on 2 cores (wall time,
and the CPU seconds this process spent meanwhile: on a machine others load the wall time is
mostly waiting for a core), and the
growth from 1,000 to 2,000 nodes linear (at most 2.5x; the form itself is capped at
``_custom_form.MAX_FORM_FIELDS`` components, so the page's time grows more slowly than that).
"""
from __future__ import annotations

import copy
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import requests

from . import Report, median
from ._servers import ROOT, WORKFLOWS, comfy_server, launched_app

SIZES = (200, 1000, 2000)


def sampler_graph(nodes: int) -> dict:
    """The bundled txt2img graph grown to ``nodes`` nodes with KSamplers sharing its inputs."""
    base = json.loads((WORKFLOWS / "txt2img.json").read_text())
    graph, next_id = copy.deepcopy(base), 100
    while len(graph) < nodes:
        graph[str(next_id)] = copy.deepcopy(base["3"])
        next_id += 1
    return graph


def _object_info() -> dict:
    return json.loads((ROOT / "tests" / "fixtures" / "comfyui" / "object_info.json").read_text())


def code_seconds(text: str, info: dict, repeats: int) -> float:
    """Median seconds of read_workflow + discover for the file ``text``."""
    from comfy_ui_app.ui.custom_tab import read_workflow
    from comfy_ui_app.workflow.fields import discover

    times = []
    with tempfile.TemporaryDirectory(prefix="bench-forms-") as tmp:
        path = Path(tmp) / "w.json"
        path.write_text(text)
        for _ in range(repeats):
            start = time.perf_counter()
            discover(read_workflow(path, info)["prompt"], info)
            times.append(time.perf_counter() - start)
    return median(times)


class _Session:
    """One browser session of the page: events run through Gradio's queue, as the page runs them."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        config = requests.get(self.url + "/config", timeout=30).json()
        self.fn = {d["api_name"]: d.get("id", n) for n, d in enumerate(config["dependencies"])}
        self.session = uuid.uuid4().hex

    def run(self, api: str, data: list) -> dict:
        """Run event ``api``; its ``process_completed`` message (raises if it did not succeed)."""
        answer = requests.post(f"{self.url}/gradio_api/queue/join", timeout=60,
                               json={"data": data, "fn_index": self.fn[api], "session_hash": self.session})
        answer.raise_for_status()
        event_id = answer.json()["event_id"]
        with requests.get(f"{self.url}/gradio_api/queue/data", params={"session_hash": self.session},
                          stream=True, timeout=120) as stream:
            for line in stream.iter_lines(chunk_size=1 << 16, decode_unicode=True):
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                        if not message.get("success"):
                            raise RuntimeError(f"{api} failed: {str(message)[:300]}")
                        return message
        raise RuntimeError(f"{api}: the stream ended without its result")


def page_seconds(url: str, text: str, name: str) -> tuple[float, float, int]:
    """(seconds from upload to the drawn form, CPU seconds of this process meanwhile: the app, the
    idle test server and this client, bytes of the form's answer) for one file."""
    session = _Session(url)
    start, cpu = time.perf_counter(), time.process_time()
    answer = requests.post(f"{session.url}/gradio_api/upload", files={"files": (name, text.encode())}, timeout=60)
    answer.raise_for_status()
    upload = {"path": answer.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}
    loaded = session.run("load", [upload, "en"])
    message = str((loaded.get("output") or {}).get("data"))
    if "Loaded" not in message:
        raise RuntimeError(f"the workflow did not load: {message[:300]}")
    form = session.run("apply", [None, "en"])
    return time.perf_counter() - start, time.process_time() - cpu, len(json.dumps(form))


def run(quick: bool = False) -> Report:
    from comfy_ui_app.ui._custom_form import MAX_FORM_FIELDS
    from comfy_ui_app.workflow.editor_format import api_to_ui
    from comfy_ui_app.workflow.fields import discover

    report = Report("forms")
    report.say(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")
    sizes = (50, 200, 400) if quick else SIZES
    repeats = 1 if quick else 3
    info = _object_info()
    files = {}
    for nodes in sizes:
        graph = sampler_graph(nodes)
        files[nodes] = {"API": json.dumps(graph), "UI": json.dumps(api_to_ui(graph, info))}
        fields = len(discover(graph, info))
        code = {kind: code_seconds(text, info, repeats) for kind, text in files[nodes].items()}
        report.say(f"{nodes} nodes ({fields} fields): read + discover {code['API'] * 1000:.0f} ms API format, "
                   f"{code['UI'] * 1000:.0f} ms UI format (converted)")
    page: dict[tuple[int, str], float] = {}
    page_cpu: dict[tuple[int, str], float] = {}
    with comfy_server() as server, launched_app(server.url) as app:
        page_seconds(app.url, files[sizes[0]]["API"], "warm.json")  # the first render imports and warms up
        for nodes in sizes:
            for kind in ("API", "UI"):
                seconds, cpu = [], []
                for _ in range(repeats):
                    took, used, size = page_seconds(app.url, files[nodes][kind], f"w{nodes}.json")
                    seconds.append(took)
                    cpu.append(used)
                page[nodes, kind], page_cpu[nodes, kind] = median(seconds), median(cpu)
                report.say(f"page, {nodes} nodes {kind} format: upload -> form drawn {page[nodes, kind]:.2f} s "
                           f"(min {min(seconds):.2f} s; CPU {median(cpu):.2f} s; form {size / 1e6:.1f} MB, at most "
                           f"{MAX_FORM_FIELDS} fields)")
    middle, last = sizes[1], sizes[2]
    report.check(f"{middle}-node workflow -> form (page, API format)", page[middle, "API"], "s", "< 2 s",
                 page[middle, "API"] < 2)
    report.check(f"{middle}-node workflow -> form, CPU (page, API format)", page_cpu[middle, "API"], "s",
                 "< 2 s (what the wall time is on an idle machine)", page_cpu[middle, "API"] < 2)
    growth = page[last, "API"] / page[middle, "API"]
    report.check(f"{last} / {middle} nodes (page, API format)", growth, "x", "<= 2.5x (linear or better)",
                 growth <= 2.5)
    return report
