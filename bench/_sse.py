"""A browser-like client for one Gradio event: POST ``queue/join``, read ``queue/data``.

Why not only ``gradio_client``: its reader thread hands messages over through a deque
polled every 50 ms (``gradio_client/utils.py`` ``stream_sse_v1plus``: ``time.sleep(0.05)``,
gradio_client 2.7.2), which adds 0-50 ms to every update it returns. A browser reads the
stream as it arrives; so does this: each ``data:`` message is stamped with
``time.perf_counter()`` the moment its bytes are read.

The request body is built from the page's ``/config`` like the page builds it: one value
per input of the event (``gr.State`` inputs as ``None``: the server keeps their values;
the ``gr.BrowserState`` gets this browser's id; other inputs by label, else their default).
"""
from __future__ import annotations

import json
import time
import uuid

import httpx


class PageClient:
    """One browser session of a Gradio app at ``url`` (its own session hash)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=httpx.Timeout(60.0))
        config = self.http.get(self.url + "/config").json()
        self.api = self.url + config.get("api_prefix", "/gradio_api")
        self.components = {c["id"]: c for c in config["components"]}
        self.events = {d["api_name"]: d for d in config["dependencies"] if d.get("api_name")}
        self.session_hash = uuid.uuid4().hex

    def inputs(self, api_name: str, values: dict, browser_id: str | None) -> list:
        data = []
        for cid in self.events[api_name]["inputs"]:
            comp = self.components[cid]
            kind, props = comp["type"], comp.get("props") or {}
            if kind == "state":
                data.append(None)
            elif kind == "browserstate":
                data.append(browser_id)
            else:
                data.append(values.get(props.get("label"), props.get("value")))
        return data

    def stream(self, api_name: str, values: dict, browser_id: str | None = None) -> list[tuple[float, dict]]:
        """Run the event; every message of it as ``(receive time, message)``, until completed."""
        event = self.events[api_name]
        body = {"data": self.inputs(api_name, values, browser_id), "fn_index": event["id"],
                "trigger_id": None, "session_hash": self.session_hash, "event_data": None}
        answer = self.http.post(self.api + "/queue/join", json=body)
        answer.raise_for_status()
        event_id = answer.json()["event_id"]
        got: list[tuple[float, dict]] = []
        with self.http.stream("GET", self.api + "/queue/data", params={"session_hash": self.session_hash}) as resp:
            buffer = b""
            for chunk in resp.iter_bytes():
                now = time.perf_counter()
                buffer += chunk
                while b"\n\n" in buffer:
                    line, buffer = buffer.split(b"\n\n", 1)
                    line = line.decode("utf-8").strip()
                    if not line.startswith("data:"):
                        continue
                    message = json.loads(line[5:])
                    if message.get("event_id") not in (None, event_id):
                        continue
                    got.append((now, message))
                    if message.get("msg") == "process_completed":
                        if not message.get("success", True):
                            raise RuntimeError(f"{api_name} failed: {message.get('output')}")
                        return got
                    if message.get("msg") == "close_stream":
                        return got
        return got

    def close(self) -> None:
        self.http.close()
