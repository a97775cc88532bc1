"""The template library and saved-workflow routes: the test server against the recording, and the client.

``tests/fixtures/comfyui/templates_and_userdata.json`` holds what real ComfyUI 0.3.64 answered
(``GET /templates/index.json``, ``/templates/default.json``, ``/templates/default-1.webp``, a missing
template, ``/userdata?dir=workflows`` before and after a save, ``full_info``, one saved file). The test
server serves its own small library (``tests/fixtures/comfyui/templates/``) in the same shape.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import requests
from PIL import Image

from comfy_ui_app.comfy.client import ComfyClient
from comfy_ui_app.errors import NoTemplateLibrary, ServerHTTPError, ServerUnreachable
from comfy_ui_app.workflow.convert import is_ui_workflow

FIX = Path(__file__).parent / "fixtures" / "comfyui"
REC = json.loads((FIX / "templates_and_userdata.json").read_text())


def _shape(value):
    """Keys and leaf types (a list: the shapes of its items, distinct)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        out = []
        for item in map(_shape, value):
            if item not in out:
                out.append(item)
        return out
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def _save(server, name: str, workflow: dict) -> requests.Response:
    """Save ``workflow`` as the editor does (``POST /userdata/workflows%2FNAME?overwrite=true``)."""
    return requests.post(f"{server.url}/userdata/{requests.utils.quote('workflows/' + name, safe='')}",
                         params={"overwrite": "true"}, data=json.dumps(workflow).encode(), timeout=10)


# -- the test server against the recording ----------------------------------------------------

def test_index_has_the_recorded_shape(comfy_server):
    answer = requests.get(comfy_server.url + "/templates/index.json", timeout=10)
    recorded = REC["templates_index"]
    assert answer.status_code == recorded["status"]
    assert answer.headers["Content-Type"].startswith(recorded["content_type"])
    index = answer.json()
    assert isinstance(index, list) and len(index) >= 2
    first = recorded["first_category"]
    template_keys = set(first["templates"][0]) - {"tutorialUrl", "thumbnailVariant"}   # optional in the library
    for category in index:
        assert {"moduleName", "title", "type", "templates"} <= set(category)
        assert category["type"] in {c["type"] for c in recorded["categories"]}
        for template in category["templates"]:
            assert template_keys <= set(template), template["name"]
            assert _shape({k: template[k] for k in template_keys}) == _shape(
                {k: first["templates"][0][k] for k in template_keys})


def test_template_thumbnail_and_missing_as_recorded(comfy_server):
    index = requests.get(comfy_server.url + "/templates/index.json", timeout=10).json()
    name = index[0]["templates"][0]["name"]
    workflow = requests.get(f"{comfy_server.url}/templates/{name}.json", timeout=10)
    assert workflow.status_code == REC["template_default"]["status"]
    assert workflow.headers["Content-Type"].startswith(REC["template_default"]["content_type"])
    assert set(REC["template_default"]["top_keys"]) <= set(workflow.json())
    thumb = requests.get(f"{comfy_server.url}/templates/{name}-1.webp", timeout=10)
    assert thumb.status_code == 200
    assert thumb.headers["Content-Type"] == REC["template_thumbnail"]["content_type"]
    assert Image.open(io.BytesIO(thumb.content)).format == "WEBP"
    missing = requests.get(comfy_server.url + "/templates/no_such_template.json", timeout=10)
    assert (missing.status_code, missing.text) == (REC["template_missing"]["status"], REC["template_missing"]["body"])


def test_every_template_of_the_fixture_is_an_editor_save_with_its_models(comfy_server):
    index = requests.get(comfy_server.url + "/templates/index.json", timeout=10).json()
    for template in (t for c in index for t in c["templates"]):
        graph = requests.get(f"{comfy_server.url}/templates/{template['name']}.json", timeout=10).json()
        assert is_ui_workflow(graph)
        models = [m for n in graph["nodes"] for m in (n.get("properties") or {}).get("models", [])]
        assert models and all({"name", "url", "directory"} <= set(m) for m in models)


def test_userdata_before_and_after_a_save_as_recorded(comfy_server):
    before = requests.get(comfy_server.url + "/userdata", params={"dir": "workflows"}, timeout=10)
    assert (before.status_code, before.text) == (404, "Directory not found")   # the recording's first answer
    fox = json.loads((FIX / "templates" / "tiny_fox.json").read_text())
    saved = _save(comfy_server, "my fox.json", fox)
    assert (saved.status_code, saved.json()) == (REC["userdata_save"]["status"], json.loads(REC["userdata_save"]["body"]))
    listed = requests.get(comfy_server.url + "/userdata", params={"dir": "workflows"}, timeout=10)
    assert (listed.status_code, listed.json()) == (REC["userdata_list"]["status"], REC["userdata_list"]["body"])
    full = requests.get(comfy_server.url + "/userdata", timeout=10,
                        params={"dir": "workflows", "full_info": "true", "recurse": "true"}).json()
    assert _shape(full) == _shape(REC["userdata_list_full_info"]["body"])
    one = requests.get(comfy_server.url + "/userdata/workflows%2Fmy%20fox.json", timeout=10)
    assert one.status_code == 200 and one.headers["Content-Type"].startswith(REC["userdata_get"]["content_type"])
    assert one.json() == fox


def test_userdata_paths_cannot_leave_the_user_folder(comfy_server):
    for path in ("/userdata/..%2F..%2Fetc%2Fpasswd", "/userdata/workflows%2F..%2F..%2Fx"):
        assert requests.get(comfy_server.url + path, timeout=10).status_code in (400, 404)


# -- the client ---------------------------------------------------------------------------------

def test_client_reads_the_library(comfy_server):
    client = ComfyClient(comfy_server.url)
    index = client.templates_index()
    assert [c["title"] for c in index] == ["Getting Started", "Video"]
    assert json.loads(client.template_file("tiny_fox.json"))["nodes"]
    assert client.template_file("tiny_fox-1.webp")[:4] == b"RIFF"
    with pytest.raises(ServerHTTPError) as missing:
        client.template_file("fox_clip-1.webp")
    assert missing.value.status == 404


def test_client_quotes_a_name_so_it_stays_one_file(comfy_server):
    with pytest.raises(ServerHTTPError) as refused:
        ComfyClient(comfy_server.url).template_file("../object_info")
    assert refused.value.status == 404


def test_client_user_workflows_empty_before_the_first_save_then_listed(comfy_server):
    client = ComfyClient(comfy_server.url)
    assert client.user_workflows() == []
    _save(comfy_server, "my fox.json", {"nodes": [], "links": []})
    assert client.user_workflows() == ["my fox.json"]
    assert json.loads(client.user_workflow("my fox.json")) == {"nodes": [], "links": []}
    _save(comfy_server, "animals/cat.json", {"nodes": [1], "links": []})   # a sub-folder of the editor's list
    assert client.user_workflows() == ["animals/cat.json", "my fox.json"]
    assert json.loads(client.user_workflow("animals/cat.json")) == {"nodes": [1], "links": []}


def test_an_older_comfyui_without_templates_is_a_typed_error(make_comfy_server):
    server = make_comfy_server()
    server.templates_dir = None
    with pytest.raises(NoTemplateLibrary) as older:
        ComfyClient(server.url).templates_index()
    assert older.value.status == 404 and older.value.url == server.url


def test_a_server_that_is_down_is_unreachable(dead_url):
    with pytest.raises(ServerUnreachable):
        ComfyClient(dead_url, timeout=2).templates_index()
