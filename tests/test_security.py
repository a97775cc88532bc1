"""Security: the browser cannot pick a ComfyUI server, sees only the app's own files, and
uploads are size-limited; server-chosen file names never leave the store's folders."""
from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import gradio as gr
import pytest
import requests
from gradio_client import Client

import app as app_module
from fault_proxy import FaultProxy
from test_bad_input import editor_of, inpaint
from test_ui_api import generate, outputs_of

URLISH = re.compile(r"url|server|host|endpoint|address|base", re.I)


def test_no_endpoint_takes_a_server_or_url_from_the_browser(comfy_server, launch_app):
    client = Client(launch_app(comfy_server.url).url, verbose=False)
    api = client.view_api(print_info=False, return_format="dict")
    endpoints = {**api["named_endpoints"], **api["unnamed_endpoints"]}
    assert "/generate" in endpoints and "/inpaint" in endpoints
    for name, endpoint in endpoints.items():
        for p in endpoint["parameters"]:
            label = f"{p.get('label')} {p.get('parameter_name')}"
            assert not URLISH.search(label), (name, p)
            assert p.get("component") not in ("Textbox",) or p.get("label") in (
                "Prompt", "Negative prompt", "File name prefix", "Prompt contains"), (name, p)  # no free text but these


def _walk_files(value):
    if isinstance(value, dict):
        for key in ("path", "image", "url", "name"):
            if isinstance(value.get(key), (str, dict)):
                yield from _walk_files(value[key])
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk_files(item)
    elif isinstance(value, str) and value.startswith("/"):
        yield value


def test_the_browser_gets_images_only_from_the_apps_store(comfy_server, launch_app, monkeypatch):
    yielded = []
    postprocess = gr.Gallery.postprocess

    def recording(self, value):  # every gallery value any handler hands to the page
        yielded.extend(item[0] if isinstance(item, (list, tuple)) else item for item in value or [])
        return postprocess(self, value)

    monkeypatch.setattr(gr.Gallery, "postprocess", recording)
    app = launch_app(comfy_server.url)
    client = Client(app.url, verbose=False)
    outputs_of(generate(client, {"Batch count": 2}))
    assert len(set(yielded)) == 2, yielded
    roots = (app.store.outputs_dir.resolve(), app.output_dir.resolve())
    assert all(isinstance(p, str) and any(Path(p).resolve().is_relative_to(r) for r in roots) for p in yielded)
    records = app.store.list()
    stored = {o.path.resolve() for r in records for o in r.outputs}
    assert len(stored) == 2 and all(p.is_relative_to(app.store.outputs_dir.resolve()) for p in stored)
    # a file outside the app's folders is not served, whatever path the browser asks for
    for path in ("/etc/passwd", str(Path(__file__).resolve())):
        answer = requests.get(f"{app.url.rstrip('/')}/gradio_api/file={path}", timeout=10)
        assert answer.status_code in (403, 404), (path, answer.status_code)
    inside = next(iter(stored))
    answer = requests.get(f"{app.url.rstrip('/')}/gradio_api/file={inside}", timeout=10)
    assert answer.status_code == 200 and answer.content == inside.read_bytes()


@pytest.fixture
def proxy(comfy_server):
    proxy = FaultProxy(comfy_server.url).start()
    yield proxy
    proxy.stop()


def test_server_chosen_file_names_stay_in_the_store(comfy_server, proxy, launch_app):
    """A (fake) ComfyUI that names its outputs ``../../x.png`` or ``/tmp/absolute.png``: the
    files land in the store's job folder under a safe name, nowhere else."""
    evil = iter(["../../escape.png", "/tmp/absolute.png"])

    def rename(message):
        data = message.get("data") or {}
        for image in ((data.get("output") or {}).get("images") or []):
            image["filename"] = next(evil, "..")
            image["subfolder"] = "../.."
        return message

    proxy.rewrite_ws(rename)
    png = Path(comfy_server.root, "input", "example.png")
    proxy.answer("/view", png.read_bytes(), content_type="image/png")
    app = launch_app(proxy.url)
    client = Client(app.url, verbose=False)
    outs = outputs_of(generate(client, {"Batch count": 2}))
    assert outs[-1][3].startswith("Done — 2 pictures"), outs[-1]
    paths = [o.path.resolve() for r in app.store.list() for o in r.outputs]
    assert sorted(p.name for p in paths) == ["absolute.png", "escape.png"]
    assert all(p.parent.parent == app.store.outputs_dir.resolve() for p in paths), paths
    assert not Path("/tmp/absolute.png").exists() or Path("/tmp/absolute.png").read_bytes() != png.read_bytes()
    assert not (app.store.outputs_dir.parent.parent / "escape.png").exists()


def test_app_py_limits_uploads(monkeypatch, tmp_path, dead_url):
    seen = {}

    def fake_launch(self, **kwargs):  # Blocks.launch without a server: what it returns, (app, url, share url)
        seen.update(kwargs)
        return None, "http://127.0.0.1:7860/", None

    monkeypatch.setattr(gr.Blocks, "launch", fake_launch)
    monkeypatch.setenv("COMFY_UI_MAX_UPLOAD_MB", "3")
    app_module.main(["--server", dead_url, "--data", str(tmp_path / "d"), "--output-dir", str(tmp_path / "o")])
    assert seen["max_file_size"] == 3_000_000
    app_module.main(["--server", dead_url, "--data", str(tmp_path / "d"), "--output-dir", str(tmp_path / "o"),
                     "--max-upload-mb", "0.5"])
    assert seen["max_file_size"] == 500_000
    assert app_module.build_parser({}).parse_args([]).max_upload_mb == 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_over_size_upload_is_refused_with_a_plain_message(comfy_server, tmp_path):
    from _app import job_service
    from comfy_ui_app.jobs.store import JobStore
    from comfy_ui_app.ui import build_app

    jobs = job_service(comfy_server.url, JobStore(tmp_path / "data"))
    demo = build_app(jobs.cluster, jobs, workflows_dir=Path(app_module.__file__).resolve().parent / "workflows", output_dir=tmp_path)
    demo.queue(default_concurrency_limit=None)
    try:
        _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(),
                                quiet=True, max_file_size=10_000)
        big = tmp_path / "big.png"
        big.write_bytes(b"\x89PNG" + b"0" * 20_000)
        answer = requests.post(f"{url.rstrip('/')}/gradio_api/upload", files={"files": ("big.png", big.read_bytes())},
                               timeout=10)
        assert answer.status_code == 413 and "File size exceeded maximum allowed size of 10000 bytes." in answer.text
        client = Client(url, verbose=False)
        message = inpaint(client, editor_of(big))
        assert "exceeds the maximum file size of 10000 bytes" in message, message  # gradio_client checks first
        assert outputs_of(generate(client))[-1][3].startswith("Done")  # still serving
    finally:
        demo.close()
        jobs.cluster.close()
        jobs.store.close()


def test_a_path_the_browser_names_is_not_read(comfy_server, launch_app):
    """The editor's file must be one the browser uploaded: a path on the app's machine is refused."""
    url = launch_app(comfy_server.url).url.rstrip("/")
    client = Client(url, verbose=False)
    payload = {"background": {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}, "layers": [],
               "composite": None, "id": None}
    # Raw, as a stranger sends it (gradio_client would upload its own machine's /etc/passwd instead)
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/inpaint"]["parameters"]
    data = [payload if p["parameter_name"] == "image" else p["parameter_default"] for p in params]
    event = requests.post(f"{url}/gradio_api/call/inpaint", json={"data": data}, timeout=30).json()["event_id"]
    with requests.get(f"{url}/gradio_api/call/inpaint/{event}", stream=True, timeout=60) as stream:
        answer = "\n".join(line for line in stream.iter_lines(decode_unicode=True) if line)
    assert "event: error" in answer and "event: complete" not in answer, answer[-2000:]
    assert "passwd" not in json.dumps(client.predict(api_name="/server_status"))
    assert "root:" not in answer
