"""(a) Client overhead per job: ours vs a minimal client vs comfy-api-simplified.

The same job three ways against one test server (zero work: ``step_time=0``, previews
off, 2 sampler steps, a 64x64 PNG), each ending with the PNG bytes in hand:

* **ours**: ``Comfy.submit(prompt).wait()`` -> ``Finished`` with its images (fetched
  through ``/view`` when ``executed`` arrives);
* **baseline**: ``requests.Session`` + ``websocket-client`` kept open: POST /prompt with
  a client_id, read the socket until ``executing {node: null}`` for that prompt_id,
  GET /history/{id}, GET /view for each image (the floor any client pays);
* **comfy-api-simplified** 1.6 (PyPI): ``ComfyApiWrapper(url).queue_and_wait_images(
  prompt, "Save Image")`` (it queues, then opens a socket per job, waits for the end,
  reads /history and /view). With previews on it would return preview frames as the
  images, so previews stay off for all three.

Runs are interleaved (A B C A B C ...) after a warm-up, so noise hits all alike; medians.
Two passes: ``HISTORY_DELAY=0`` (pure client cost, the target) and the recorded 20 ms
gap between ``execution_success`` and ``/history`` (ours needs no /history, so it gains).
"""
from __future__ import annotations

import itertools
import json
import time
import uuid

import requests
import websocket

from . import Report, median
from ._servers import comfy_server, prompt

SEEDS = itertools.count(1)


class Baseline:
    """The minimal client: one session, one socket, nothing else."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client_id = uuid.uuid4().hex
        self.session = requests.Session()
        self.ws = websocket.create_connection(url.replace("http", "ws", 1) + f"/ws?clientId={self.client_id}",
                                              timeout=30)

    def run(self, graph: dict) -> list[bytes]:
        answer = self.session.post(self.url + "/prompt", json={"prompt": graph, "client_id": self.client_id},
                                   timeout=30)
        answer.raise_for_status()
        prompt_id = answer.json()["prompt_id"]
        while True:
            frame = self.ws.recv()
            if isinstance(frame, str):
                message = json.loads(frame)
                data = message.get("data") or {}
                if message.get("type") == "executing" and data.get("node") is None \
                        and data.get("prompt_id") == prompt_id:
                    break
        entry = self.session.get(f"{self.url}/history/{prompt_id}", timeout=30).json()[prompt_id]
        images = []
        for output in entry["outputs"].values():
            for ref in output.get("images", []):
                view = self.session.get(self.url + "/view", params=ref, timeout=30)
                view.raise_for_status()
                images.append(view.content)
        return images

    def close(self) -> None:
        self.ws.close()
        self.session.close()


def _ours(comfy):
    def run(graph):
        finished = comfy.submit(graph).wait(timeout=30)
        assert finished.ok, finished
        return [image.data for image in finished.images]
    return run


def _simplified(url):
    from comfy_api_simplified import ComfyApiWrapper

    wrapper = ComfyApiWrapper(url)

    def run(graph):
        return list(wrapper.queue_and_wait_images(graph, "Save Image").values())
    return run


def wait_idle(server, timeout: float = 10.0) -> None:
    """Until the server's queue is empty and its history written: a client that stops at
    ``execution_success`` (ours) leaves the server busy for HISTORY_DELAY more, which the
    next client in the round would otherwise pay for."""
    deadline = time.monotonic() + timeout
    while server.queue.tasks_remaining() and time.monotonic() < deadline:
        time.sleep(0.0005)


def measure(server, rounds: int, warmup: int) -> dict[str, list[float]]:
    """ms per job for each client, interleaved; every run must bring back one PNG."""
    from comfy_ui_app import Comfy

    url = server.url
    comfy = Comfy(url).start()
    comfy.wait_connected(10)
    baseline = Baseline(url)
    clients = {"ours": _ours(comfy), "baseline": baseline.run, "comfy-api-simplified": _simplified(url)}
    times: dict[str, list[float]] = {name: [] for name in clients}
    try:
        for i in range(warmup + rounds):
            for name, run in clients.items():
                graph = prompt(next(SEEDS))
                wait_idle(server)
                start = time.perf_counter()
                images = run(graph)
                elapsed = (time.perf_counter() - start) * 1000
                assert len(images) == 1 and images[0].startswith(b"\x89PNG"), (name, images)
                if i >= warmup:
                    times[name].append(elapsed)
    finally:
        baseline.close()
        comfy.close()
    return times


def run(quick: bool = False) -> Report:
    report = Report("overhead")
    rounds, warmup = (15, 3) if quick else (150, 10)
    results = {}
    for label, delay in (("no history gap", 0.0), ("recorded 20 ms history gap", None)):
        with comfy_server(preview=False, history_delay=delay) as server:
            times = measure(server, rounds, warmup)
        med = {name: median(v) for name, v in times.items()}
        results[label] = med
        report.say(f"{label}: {rounds} interleaved jobs each, median ms/job: "
                   + ", ".join(f"{name} {value:.2f}" for name, value in med.items()))
        report.say(f"  ours - baseline = {med['ours'] - med['baseline']:+.2f} ms; "
                   f"ours/baseline = {med['ours'] / med['baseline']:.2f}x; "
                   f"ours/comfy-api-simplified = {med['ours'] / med['comfy-api-simplified']:.2f}x")
    med = results["no history gap"]
    extra = med["ours"] - med["baseline"]
    report.check("overhead over the minimal client", extra, "ms/job", "<= 5 ms", extra <= 5.0)
    ratio = med["ours"] / med["comfy-api-simplified"]
    report.check("ours / comfy-api-simplified", ratio, "x", "<= 1.0x", ratio <= 1.0)
    return report
