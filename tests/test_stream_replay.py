"""Replay WebSocket sequences recorded from a real ComfyUI through Comfy and its Jobs.

The socket factory and the HTTP session are passed in (no monkeypatching): the socket
plays back the recorded frames of ``tests/fixtures/comfyui/*.json`` once our prompt
is posted, with the recorded prompt_id replaced by ours; the session answers the few
HTTP calls with recorded bodies. This pins the client to the real server's message
order (type 1 and type 4 previews, the end marker after execution_success, errors).
"""

import io
import json
import struct
import threading
from collections import deque
from pathlib import Path

import pytest
import requests
import websocket
from PIL import Image
from requests.adapters import BaseAdapter

from comfy_ui_app import Comfy, Executing, Finished, JobFailed, JobInterrupted, Output, Preview, Progress

RECORDINGS = Path(__file__).parent / "fixtures" / "comfyui"


def _recording(entry: dict, websocket: dict) -> dict:
    post = entry["post_prompt"] if "post_prompt" in entry else entry
    return {
        "prompt": post["request"]["json"]["prompt"],
        "post_response": post["response"]["json"],
        "prompt_id": post["response"]["json"]["prompt_id"],
        "messages": websocket["messages"],
    }


def _load() -> dict:
    auto = json.loads((RECORDINGS / "ws_txt2img_auto.json").read_text())
    errors = json.loads((RECORDINGS / "post_prompt_errors.json").read_text())["cases"]
    interrupt = json.loads((RECORDINGS / "queue_interrupt_free.json").read_text())
    sequences = {
        name: _recording(auto[name], auto[name]["websocket"])
        for name in ("legacy_client_cold", "preview_metadata_client", "identical_prompt_again_fully_cached")
    }
    runtime = errors["runtime_error_execution_error"]
    sequences["runtime_error"] = _recording(runtime, runtime["websocket"])
    sequences["interrupted"] = _recording(interrupt["post_slow"], interrupt["ws_interrupt_run"]["websocket"])
    return sequences


SEQUENCES = _load()


def _jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buffer, format="PNG")
    return buffer.getvalue()


class RecordedServer(BaseAdapter):
    """Answers HTTP like the recorded server for one replayed prompt."""

    def __init__(self, recording):
        super().__init__()
        self.recording = recording
        self.posted = threading.Event()
        self.prompt_id = None
        self.requests = []

    def send(self, request, **kwargs):
        self.requests.append((request.method, request.path_url))
        response = requests.Response()
        response.status_code, response.url, response.request = 200, request.url, request
        body: object = {}
        if request.method == "POST" and request.path_url == "/prompt":
            self.prompt_id = json.loads(request.body)["prompt_id"]
            body = dict(self.recording["post_response"], prompt_id=self.prompt_id)
            self.posted.set()
        elif request.path_url.startswith("/view"):
            response._content = _png()
            return response
        elif request.path_url.startswith("/queue"):
            body = {"queue_running": [], "queue_pending": []}
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        return response

    def close(self):
        pass


class ReplaySocket:
    """A websocket-client lookalike that plays a recording after our POST /prompt."""

    def __init__(self, server: RecordedServer):
        self.server = server
        self.sent = []
        self.frames = None
        self.closed = threading.Event()

    def send(self, data):
        self.sent.append(data)

    def settimeout(self, timeout):
        pass

    def ping(self):
        pass

    def close(self, timeout=None):
        self.closed.set()

    def _frames(self):
        old, new = self.server.recording["prompt_id"], self.server.prompt_id
        frames = deque()
        for message in self.server.recording["messages"]:
            if message["kind"] == "text":
                text = json.dumps(message["data"]).replace(old, new)
                frames.append((websocket.ABNF.OPCODE_TEXT, text.encode()))
            elif message["kind"] == "binary":
                if message["event_type"] == 4:
                    meta = json.dumps(message["metadata"]).replace(old, new).encode()
                    head = struct.pack(">II", 4, len(meta)) + meta
                else:
                    head = bytes.fromhex(message["first8_hex"])
                frames.append((websocket.ABNF.OPCODE_BINARY, head + _jpeg()))
        return frames

    def recv_data(self, control_frame=False):
        if self.frames is None:
            if not self.server.posted.wait(10):
                raise websocket.WebSocketTimeoutException("nothing posted")
            self.frames = self._frames()
        if self.frames:
            return self.frames.popleft()
        self.closed.wait()
        return websocket.ABNF.OPCODE_CLOSE, b""


def replay(name):
    recording = SEQUENCES[name]
    server = RecordedServer(recording)
    session = requests.Session()
    session.mount("http://", server)
    sockets = []

    def factory(url, timeout):
        sockets.append(ReplaySocket(server))
        return sockets[-1]

    comfy = Comfy("http://comfy.test", session=session, socket_factory=factory).start()
    assert comfy.wait_connected(5)
    job = comfy.submit(recording["prompt"])
    updates = list(job.updates(timeout=10))
    comfy.close()
    return updates, sockets, server, job


@pytest.mark.parametrize("name", ["legacy_client_cold", "preview_metadata_client"])
def test_recorded_txt2img_runs_to_success(name):
    updates, sockets, server, job = replay(name)
    assert json.loads(sockets[0].sent[0]) == {"type": "feature_flags", "data": {"supports_preview_metadata": True}}
    assert [u.node for u in updates if isinstance(u, Executing)][-2:] == ["8", "9"]
    assert [(u.value, u.max) for u in updates if isinstance(u, Progress)] == [(i, 4) for i in range(1, 5)]
    # a fast replay may batch the previews with Finished, when only the newest is kept
    assert isinstance(job.preview, Preview) and job.preview.to_pil().size == (8, 8)
    (output,) = [u for u in updates if isinstance(u, Output)]
    assert output.node == "9" and output.images[0].filename.startswith("ref_txt2img_")
    assert ("GET", f"/view?filename={output.images[0].filename}&subfolder=&type=output") in server.requests
    assert isinstance(updates[-1], Finished) and updates[-1].ok


def test_recorded_fully_cached_prompt_still_delivers_its_outputs():
    updates, _, _, _ = replay("identical_prompt_again_fully_cached")
    assert not any(isinstance(u, Progress) for u in updates)
    assert updates[-1].ok and len(updates[-1].images) == 1


def test_recorded_runtime_error_names_node_and_message():
    updates, _, _, _ = replay("runtime_error")
    finished = updates[-1]
    assert finished.status == "error" and isinstance(finished.error, JobFailed)
    assert (finished.error.node_id, finished.error.node_type) == ("3", "VAEDecode")
    assert finished.error.exception_message
    assert finished.error.traceback


def test_recorded_interrupt_ends_as_interrupted():
    updates, _, _, _ = replay("interrupted")
    assert updates[-1].status == "interrupted" and isinstance(updates[-1].error, JobInterrupted)
    assert [u.value for u in updates if isinstance(u, Progress)][-1] == 11
