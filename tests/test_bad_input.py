"""Bad input, one table-driven case per test: form values, uploads, templates and server answers.

Each case checks the plain words the user gets (not just "an error") and that the app
keeps serving: after the case a normal generate still finishes. One app (with a
:class:`fault_proxy.FaultProxy` between it and the test server, for broken server
answers) serves the whole module.
"""
from __future__ import annotations

import io
import json
import socket
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import anyio
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from comfy_test_server import ComfyTestServer
from comfy_ui_app import ComfyClient, ServerHTTPError, load_workflow
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.ui import custom_tab as custom
from fault_proxy import FaultProxy
from test_ui_api import generate, outputs_of

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(proxy, app namespace, client): one app over a fault proxy over the test server."""
    from comfy_ui_app.jobs.store import JobStore
    from comfy_ui_app.ui import build_app

    server = ComfyTestServer(step_time=0.0, root=tmp_path_factory.mktemp("comfy")).start()
    proxy = FaultProxy(server.url).start()
    out = tmp_path_factory.mktemp("outputs")
    store = JobStore(tmp_path_factory.mktemp("data"))
    from _app import job_service

    jobs = job_service(proxy.url, store, healthy=False)
    comfy = jobs.comfy
    demo = build_app(jobs.cluster, jobs, workflows_dir=REPO / "workflows", output_dir=out, browser_secret="s")
    demo.queue(default_concurrency_limit=None)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(),
                            allowed_paths=[str(out), str(store.outputs_dir)], quiet=True)
    app = SimpleNamespace(url=url, comfy=comfy, jobs=jobs, store=store, server=server, output_dir=out)
    yield proxy, app, Client(url, verbose=False)
    demo.close()
    jobs.cluster.close()
    store.close()
    proxy.stop()
    server.stop()


@pytest.fixture
def fresh(served):
    proxy, app, client = served
    proxy.clear()
    yield served
    proxy.clear()
    # the app keeps serving: a normal run after every case
    last = outputs_of(generate(client), timeout=60)[-1]
    assert last[3].startswith("Done — 1 picture"), last


def final_message(client, values) -> str:
    """The message of a /generate run, or the error Gradio answered with."""
    try:
        return outputs_of(generate(client, values), timeout=60)[-1][3]
    except Exception as exc:  # noqa: BLE001 - Gradio's own refusals come back as an AppError
        return f"{type(exc).__name__}: {exc}"


# -- form values through /generate -------------------------------------------------------

FORM_CASES = {  # past a slider's ends: the plain field message (issue 13 point 8), no longer Gradio's pop-up
    "steps-zero": ({"Steps": 0}, "Steps must be at least 1 (got 0)"),
    "width-huge": ({"Width": 100000}, "Width must be at most 2048 (got 100000)"),
    "batch-count-zero": ({"Batch count": 0}, "Batch count must be at least 1 (got 0)"),
    "batch-count-huge": ({"Batch count": 1000}, "Batch count must be at most 16 (got 1000)"),
    "denoise-over-one": ({"Denoise": 5}, "Denoise must be at most 1 (got 5)"),
    "steps-text": ({"Steps": "abc"}, "Steps must be a number (got 'abc')."),
    "unknown-checkpoint": ({"Checkpoint": "nope.safetensors"},
                           "checkpoint 'nope.safetensors' is not installed on the server"),
    "checkpoint-path": ({"Checkpoint": "../../secret.safetensors"},
                        "checkpoint '../../secret.safetensors' is not installed on the server"),
    "unknown-sampler": ({"Sampler": "warp-drive"}, "sampler 'warp-drive' is not one of the allowed values"),
    "empty-scheduler": ({"Scheduler": ""}, "scheduler '' is not one of the allowed values"),
    "prefix-escapes-output": ({"File name prefix": "../../etc/x"},
                              "Saving image outside the output folder is not allowed"),
}


@pytest.mark.parametrize("values, words", FORM_CASES.values(), ids=FORM_CASES.keys())
def test_form_value(fresh, values, words):
    proxy, app, client = fresh
    message = final_message(client, values)
    assert words.lower() in message.lower(), message
    assert "Traceback" not in message


# -- server answers through /generate ----------------------------------------------------

SERVER_CASES = {
    "prompt-plain-500": (("/prompt", "Internal Server Error", 500, "POST"),
                         "ComfyUI answered with an error (HTTP 500) at {url}/prompt: Internal Server Error"),
    "prompt-malformed-json": (("/prompt", "{not json", 200, "POST"),
                              "ComfyUI answered with an error (HTTP 200) at {url}/prompt: not a JSON answer: {not json"),
    "prompt-json-list": (("/prompt", [1, 2], 200, "POST"),
                         "ComfyUI answered with an error (HTTP 200) at {url}/prompt: unexpected answer: [1, 2]"),
    "prompt-html-400": (("/prompt", "<html>bad gateway</html>", 400, "POST"),
                        "ComfyUI answered with an error (HTTP 400) at {url}/prompt: <html>bad gateway</html>"),
    "prompt-unexpected-fields": (("/prompt", {"weird": 1, "number": "x"}, 200, "POST"),
                                 "ComfyUI at {url} no longer knows this job"),
    "view-plain-500": (("/view", "oops", 500, "GET"), "ComfyUI answered with an error (HTTP 500) at {url}/view"),
}


@pytest.mark.parametrize("fault, words", SERVER_CASES.values(), ids=SERVER_CASES.keys())
def test_server_answer(fresh, fault, words):
    proxy, app, client = fresh
    path, body, status, method = fault
    proxy.answer(path, body, status=status, method=method,
                 content_type="text/plain" if isinstance(body, str) else "application/json")
    message = final_message(client, {})
    assert words.replace("{url}", proxy.url) in message, message
    assert "Traceback" not in message and "JSONDecodeError" not in message


CLIENT_CASES = {  # every route the app reads, answered wrongly: a ServerHTTPError with the words
    "queue-malformed": ("get_queue", "/queue", "{bad", "not a JSON answer: {bad"),
    "queue-unexpected-fields": ("get_queue", "/queue", {"queue_running": "x"}, "unexpected answer"),
    "object-info-list": ("object_info", "/object_info", [], "unexpected answer: []"),
    "object-info-malformed": ("object_info", "/object_info", "<html>", "not a JSON answer: <html>"),
    "system-stats-empty": ("system_stats", "/system_stats", "", "not a JSON answer: (empty)"),
    "features-string": ("features", "/features", '"yes"', "unexpected answer"),
    "history-list": ("get_history", "/history", [1], "unexpected answer"),
}


@pytest.mark.parametrize("method, path, body, words", CLIENT_CASES.values(), ids=CLIENT_CASES.keys())
def test_client_answer(fresh, method, path, body, words):
    proxy, app, client = fresh
    proxy.answer(path, body, content_type="text/plain" if isinstance(body, str) else "application/json")
    with pytest.raises(ServerHTTPError) as info:
        getattr(ComfyClient(proxy.url), method)()
    message = describe(info.value)
    assert message.startswith(f"ComfyUI answered with an error (HTTP 200) at {proxy.url}{path}") and words in message


def test_system_tab_with_a_plain_text_500(fresh):
    proxy, app, client = fresh
    proxy.answer("/system_stats", "Internal Server Error", status=500, content_type="text/plain")
    text = json.dumps(client.predict(None, api_name="/system_refresh"))
    assert "HTTP 500" in text and "Internal Server Error" in text, text


# -- uploads: the image field of a custom workflow, through the runner ---------------------

def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width``×``height`` (no pixel data: never decode it)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) \
        + chunk(b"IEND", b"")


def small_png(size=(64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "orange").save(buffer, "PNG")
    return buffer.getvalue()


UPLOAD_CASES = {  # file name, bytes, canned answers -> words
    "not-an-image": ("notes.png", b"hello, I am text", {}, "The file notes.png is not a picture (PNG, JPEG or WebP)."),
    "empty-file": ("empty.png", b"", {}, "The file empty.png is empty."),
    "over-server-limit": ("big.png", small_png((256, 256)), {"/features": {"max_upload_size": 300}},
                          "this ComfyUI server accepts uploads up to 300 bytes."),
    "bomb-20000x20000": ("bomb.png", png_header(20000, 20000), {},
                         "The picture bomb.png is 20000×20000 (400 million pixels); at most 64 million pixels."),
    "9000x9000": ("wide.png", png_header(9000, 9000), {},
                  "The picture wide.png is 9000×9000 (81 million pixels); at most 64 million pixels."),
    "upload-answer-malformed": ("ok.png", small_png(), {("POST", "/upload/image"): "{nope"},
                                "at {url}/upload/image: not a JSON answer: {nope"),
    "upload-answer-no-name": ("ok.png", small_png(), {("POST", "/upload/image"): {"unexpected": True}},
                              "at {url}/upload/image: unexpected answer"),
    "upload-plain-500": ("ok.png", small_png(), {("POST", "/upload/image"): ("Internal Server Error", 500)},
                         "ComfyUI answered with an error (HTTP 500) at {url}/upload/image: Internal Server Error"),
}


def run_img2img(app_jobs, tmp_path, image_value) -> str:
    """The final message of the runner for the bundled img2img template with this image value."""
    from _app import app_context
    from comfy_ui_app.ui.runner import RunRequest, run

    template = load_workflow(REPO / "workflows" / "img2img.json")
    ctx = app_context(app_jobs, tmp_path)
    fields = discover(template, ctx.catalog.object_info_or_none())
    image = next(f for f in fields if f.kind == "image")
    request = RunRequest(template, fields, {image.name: image_value, "steps": 2, "checkpoint": None}, kind="custom")

    async def last():
        final = None
        async for update in run(ctx, request, "en"):
            final = update
        return final

    return anyio.run(last)


@pytest.mark.parametrize("name, data, faults, words", UPLOAD_CASES.values(), ids=UPLOAD_CASES.keys())
def test_upload(fresh, tmp_path, name, data, faults, words):
    proxy, app, client = fresh
    for route, body in faults.items():
        method, path = route if isinstance(route, tuple) else ("GET", route)
        body, status = body if isinstance(body, tuple) else (body, 200)
        proxy.answer(path, body, method=method, status=status,
                     content_type="text/plain" if isinstance(body, str) else "application/json")
    picked = tmp_path / name
    picked.write_bytes(data)
    before = len(app.server.uploads)
    update = run_img2img(app.jobs, tmp_path, str(picked))
    assert words.replace("{url}", proxy.url) in update.message and not update.ok, update.message
    if not faults.get(("POST", "/upload/image")):
        assert update.errors == {"image": update.message}  # shown next to the image field
        assert len(app.server.uploads) == before  # refused before sending anything


def test_upload_names_lose_their_directories(fresh, tmp_path):
    """A picked file is sent under its last name part only; a path that is not a picked file
    is never read, and (issue 13) never sent as a name either: refused next to its field."""
    proxy, app, client = fresh
    from comfy_ui_app.comfy.inputs import content_name
    from comfy_ui_app.jobs.uploads import upload_name

    assert upload_name("../../evil.png") == "evil.png" and upload_name("/etc/passwd") == "passwd"
    assert upload_name("C:\\Windows\\x.png") == "x.png" and upload_name("..") == "output"
    for path in ("../../../../../../etc/passwd", "/etc/passwd", str(REPO / "README.md")):
        before = len(app.server.uploads)
        prompts = len(app.server.received_prompts)
        update = run_img2img(app.jobs, tmp_path, path)
        assert len(app.server.uploads) == before, f"{path} was read and uploaded"
        assert len(app.server.received_prompts) == prompts, f"{path} was sent as a name"
        assert "a file name may not contain folders" in update.message and update.errors == {"image": update.message}
    picked = tmp_path / "ok.png"
    picked.write_bytes(small_png())
    update = run_img2img(app.jobs, tmp_path, str(picked))
    assert update.ok, update.message
    # the app's queue uploads it under a name made of its bytes (tagged with its owner: issue 13), never the
    # folder it was picked from
    assert app.server.uploads[-1]["filename"].endswith("-" + content_name(small_png(), "ok.png"))


# -- the Inpainting tab through /inpaint ----------------------------------------------------

def inpaint(client, editor, **values):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/inpaint"]["parameters"]
    wanted = {"Image": editor, "Prompt": "a cat", "Steps": 2, "Seed": 1, **values}
    args = [None if p.get("component") == "Browserstate" else wanted.get(p["label"], p.get("parameter_default"))
            for p in api]
    try:
        return outputs_of(client.submit(*args, api_name="/inpaint"))[-1][3]
    except Exception as exc:  # noqa: BLE001 - Gradio's own refusals come back as an AppError
        return f"{type(exc).__name__}: {exc}"


def editor_of(path, layer=None):
    return {"background": handle_file(str(path)), "layers": [handle_file(str(layer))] if layer else [],
            "composite": handle_file(str(path)), "id": None}


def test_inpaint_without_a_picture(fresh):
    proxy, app, client = fresh
    assert inpaint(client, None) == "Please add a picture first."


def test_inpaint_without_a_mask(fresh, tmp_path):
    proxy, app, client = fresh
    picture = tmp_path / "p.png"
    picture.write_bytes(small_png())
    assert inpaint(client, editor_of(picture)) == "Please paint over the part of the picture to change."


def test_inpaint_over_the_servers_upload_limit(fresh, tmp_path):
    proxy, app, client = fresh
    picture, layer = tmp_path / "p.png", tmp_path / "layer.png"
    picture.write_bytes(small_png((128, 128)))
    Image.new("RGBA", (128, 128), (255, 0, 0, 255)).save(layer)
    proxy.answer("/features", {"max_upload_size": 200})
    message = inpaint(client, editor_of(picture, layer))
    assert "is too large" in message and "this ComfyUI server accepts uploads up to 200 bytes." in message, message


# -- templates: the Custom tab's loader (its upload handler is not in the API) ----------------

TEMPLATE_CASES = {  # file bytes, object_info given? -> words
    "bad-json": (b'{"1": {"class_type": ', True, "is not valid JSON"),
    "not-utf8": (b"\xff\xfe\x00garbage", True, "is not a text (JSON) file."),
    "empty": (b"", True, "is not valid JSON"),
    "json-list": (b"[1, 2, 3]", True, "is not an API-format graph of nodes"),
    "unknown-node": (json.dumps({"1": {"class_type": "FancyNode", "inputs": {}}}).encode(), True,
                     "node types that are not installed on this ComfyUI server: FancyNode."),
    "ui-format-server-down": (json.dumps({"nodes": [], "links": []}).encode(), False,
                              "This is a UI-format workflow; converting it needs ComfyUI's node list"),
    "ui-format-unknown-node": (json.dumps({"nodes": [{"id": 1, "type": "FancyNode", "inputs": [], "outputs": [],
                                                     "widgets_values": []}], "links": []}).encode(), True,
                               "FancyNode"),
}


@pytest.mark.parametrize("data, with_info, words", TEMPLATE_CASES.values(), ids=TEMPLATE_CASES.keys())
def test_template(fresh, tmp_path, data, with_info, words):
    proxy, app, client = fresh
    path = tmp_path / "mine.json"
    path.write_bytes(data)
    info = app.comfy.client.object_info() if with_info else None
    with pytest.raises(Exception) as caught:  # what the tab's loader turns into "Could not load ...: <words>"
        custom.read_workflow(path, info)
    message = describe(caught.value)
    assert words in message, message
    assert not message.startswith("Unexpected error"), message


def test_template_too_large(fresh, tmp_path, monkeypatch):
    proxy, app, client = fresh
    monkeypatch.setattr(custom, "MAX_WORKFLOW_BYTES", 10)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"1": {"class_type": "SaveImage", "inputs": {}}}))
    with pytest.raises(Exception) as caught:
        custom.read_workflow(path, None)
    assert describe(caught.value) == "big.json is too large to be a workflow (over 5 MB)."


# -- the command line ---------------------------------------------------------------------

CLI_CASES = {
    "set-not-a-number": (["--set", "steps=many"], "steps"),
    "missing-workflow": (["--workflow", "/nonexistent/x.json"], "/nonexistent/x.json"),
}


@pytest.mark.parametrize("args, words", CLI_CASES.values(), ids=CLI_CASES.keys())
def test_cli(fresh, tmp_path, capsys, args, words):
    from comfy_ui_app.cli.main import main

    proxy, app, client = fresh
    args = args if "--workflow" in args else ["--workflow", str(REPO / "workflows" / "txt2img.json"), *args]
    code = main(["generate", "--server", proxy.url, "--out", str(tmp_path), *args])
    out, err = capsys.readouterr()
    assert code != 0 and words in err and "Traceback" not in err, (code, out, err)
