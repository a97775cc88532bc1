"""The Templates tab (issue 14 point 3): ComfyUI's template library as cards, and its saved workflows.

Pure parts (``workflow/library.py``: the index as cards, the models a template needs; the words of its
errors) are table-driven. The page is driven raw, as a visitor's browser or script drives it
(``tests/_hostile.py``: ``app.py`` in its own process over the ComfyUI test server, whose library is
``tests/fixtures/comfyui/templates``): the tab's private events joined in one session, the way the page
calls them, with whatever event data a caller chooses.
"""
from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
import requests
from PIL import Image

from comfy_ui_app.errors import LibraryRefused, NoTemplateLibrary
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.workflow.library import Card, missing_models, models_needed, parse_index
from _hostile import HostileApp, assert_survived

FIX = Path(__file__).parent / "fixtures" / "comfyui" / "templates"


# -- pure: the index, the models ------------------------------------------------------------------

@pytest.mark.parametrize("index, expected", [
    ([{"title": "Image", "type": "image", "templates": [
        {"name": "a", "title": "A", "mediaType": "image", "mediaSubtype": "webp", "description": "Makes  a\npicture"}]}],
     [("Image", [Card("a", "A", "Makes a picture", "image", "a-1.webp")])]),
    ([{"title": "Video", "type": "video", "templates": [{"name": "v"}]}],       # no title, type, subtype
     [("Video", [Card("v", "v", "", "image", "")])]),
    ([{"title": "Bad", "templates": [{"name": "../etc/passwd"}, {"name": "a/b"}, {"name": 7}, "x", None]}], []),
    ([{"title": "One", "templates": [{"name": "a"}]}, {"title": "Two", "templates": [{"name": "a"}]}],
     [("One", [Card("a", "a")])]),                                                 # listed twice: once
    ([{"title": "Odd subtype", "templates": [{"name": "a", "mediaSubtype": "../x"}]}], [("Odd subtype", [Card("a", "a")])]),
    ({"not": "a list"}, []),
    ([{"title": "No templates"}, 5], []),
])
def test_parse_index(index, expected):
    assert [(c.title, list(c.cards)) for c in parse_index(index)] == expected


def _node(*models):
    return {"id": 1, "type": "X", "properties": {"models": list(models)}}


@pytest.mark.parametrize("graph, expected", [
    ({"nodes": [_node({"name": "m.safetensors", "url": "u", "directory": "checkpoints"})]},
     [("checkpoints", "m.safetensors")]),
    ({"nodes": [_node({"name": "m", "directory": "vae"}), _node({"name": "m", "directory": "vae"})]}, [("vae", "m")]),
    ({"nodes": [], "definitions": {"subgraphs": [{"nodes": [_node({"name": "s", "directory": "loras"})]}]}},
     [("loras", "s")]),                                                            # inside a subgraph
    ({"nodes": [_node({"name": "", "directory": "vae"}), _node({"name": "x"}), _node("junk"),
                {"properties": {"models": "no"}}, "node"]}, []),
    ([], []),
])
def test_models_needed(graph, expected):
    assert models_needed(graph) == expected


@pytest.mark.parametrize("listed, expected", [
    ({"checkpoints": ["m.safetensors"]}, []),
    ({"checkpoints": ["SD1.5/m.safetensors"]}, []),                                # in a sub-folder: found
    ({"checkpoints": ["SD1.5\\m.safetensors"]}, []),                               # Windows server
    ({"checkpoints": ["other.safetensors"]}, ["m.safetensors"]),
    ({}, ["m.safetensors"]),
])
def test_missing_models(listed, expected):
    assert missing_models([("checkpoints", "m.safetensors")], lambda d: listed.get(d, [])) == expected


@pytest.mark.parametrize("error, expected", [
    (NoTemplateLibrary("http://h:1"), "This ComfyUI server has no template library: it is older than ComfyUI's "
                                      "templates. Update ComfyUI to pick from them here."),
    (LibraryRefused("saved_admins"), "Only an admin can see the workflows saved in ComfyUI on this app."),
    (LibraryRefused("unknown_saved", name="x.json"),
     "ComfyUI has no saved workflow “x.json” (it may have been renamed or deleted)."),
    (LibraryRefused("unknown_template", name="nope"), "ComfyUI's template library has no template “nope”."),
    (LibraryRefused("unknown_template"), "ComfyUI's template library has no such template."),
])
def test_words(error, expected):
    assert describe(error) == expected
    assert describe(error, lang="zh-CN") != expected   # and in Chinese


# -- the page, raw ----------------------------------------------------------------------------------

def join(app: HostileApp, api: str, data: list, session: str, *, event_data=None) -> dict:
    """Run the page's (private) event ``api`` in ``session`` as the page does; its ``process_completed``."""
    dep = next(d for d in app.config["dependencies"] if d.get("api_name") == api)
    answer = app.http.post(f"{app.url}/gradio_api/queue/join", timeout=30, json={
        "data": data, "fn_index": dep["id"], "session_hash": session, "event_data": event_data,
        "trigger_id": dep["targets"][0][0]})
    answer.raise_for_status()
    with app.http.get(f"{app.url}/gradio_api/queue/data", params={"session_hash": session}, stream=True,
                      timeout=120) as stream:
        for line in stream.iter_lines(chunk_size=1 << 16, decode_unicode=True):
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    assert message.get("success"), message
                    return message
    raise AssertionError(f"{api}: the stream ended without an answer")


def outputs(message: dict) -> list:
    """The values of a completed event (an update's ``value`` or the update itself when it has none)."""
    return [v.get("value", v) if isinstance(v, dict) and v.get("__type__") == "update" else v
            for v in message["output"]["data"]]


def show(app, session, category=None) -> tuple:
    """(category update, gallery items, message, details) of the tab opened in ``session``."""
    done = join(app, "show", [category, "en"], session)
    radio, _, message, details, _ = done["output"]["data"]
    return radio, outputs(done)[1], message, details


def save_in_comfyui(comfy, name: str, workflow: dict) -> None:
    answer = requests.post(f"{comfy.url}/userdata/{requests.utils.quote('workflows/' + name, safe='')}",
                           params={"overwrite": "true"}, data=json.dumps(workflow).encode(), timeout=10)
    answer.raise_for_status()


def test_cards_by_category_with_thumbnails_served_by_the_app(private_app, hostile_comfy):
    session = uuid.uuid4().hex[:12]
    radio, items, message, details = show(private_app, session)
    assert [c[0] for c in radio["choices"]] == ["Getting Started", "Video"] and radio["value"] == "Getting Started"
    assert message == ""
    assert [i["caption"] for i in items] == [
        "Tiny fox · picture · ✓ models on this server",
        "Image Generation · picture · needs model v1-5-pruned-emaonly-fp16.safetensors"]
    assert "**Tiny fox** (picture): A small picture from a text prompt. — ✓ models on this server" in details
    for item in items:
        url = item["image"]["url"]
        assert url.startswith(private_app.url + "/gradio_api/file=") and hostile_comfy.url not in url
        picture = private_app.get(url[len(private_app.url):])
        assert picture.status_code == 200 and Image.open(io.BytesIO(picture.content)).format == "WEBP"
    assert private_app.get(items[0]["image"]["url"][len(private_app.url):]).content == (FIX / "tiny_fox-1.webp").read_bytes()
    _, video, _, _ = show(private_app, session, "Video")
    assert [i["caption"] for i in video] == ["Fox clip · video · ✓ models on this server"]
    placeholder = private_app.get(video[0]["image"]["url"][len(private_app.url):])   # no thumbnail: the app's own
    assert Image.open(io.BytesIO(placeholder.content)).format == "PNG"


def _rendered_values(app, session) -> list:
    """The starting values of the Custom workflow form rendered in ``session``."""
    deps = app.config["dependencies"]
    loaded = next(d for d in deps if d.get("api_name") == "open_template")["outputs"][0]
    render = next(d for d in deps if [loaded, "change"] in [list(t) for t in d.get("targets", [])])
    answer = app.http.post(f"{app.url}/gradio_api/queue/join", timeout=30, json={
        "data": [None, "en"], "fn_index": render["id"], "session_hash": session, "event_data": None,
        "trigger_id": loaded})
    answer.raise_for_status()
    with app.http.get(f"{app.url}/gradio_api/queue/data", params={"session_hash": session}, stream=True,
                      timeout=120) as stream:
        for line in stream.iter_lines(chunk_size=1 << 16, decode_unicode=True):
            if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_completed":
                config = json.loads(line[5:])["output"]["render_config"]
                return [(c.get("props") or {}).get("value") for c in config["components"]]
    raise AssertionError("no form was rendered")


def test_picking_a_card_opens_its_form_in_the_custom_workflow_tab(private_app):
    session = uuid.uuid4().hex[:12]
    show(private_app, session)
    done = join(private_app, "open_template", ["", "en", ""], session, event_data={"index": 0, "value": None})
    _, message, tabs, under_cards = done["output"]["data"]
    assert (message, tabs.get("selected"), under_cards) == ("Loaded tiny_fox.json.", "custom", "")
    values = _rendered_values(private_app, session)
    assert "a red fox in the snow" in values and "tiny-sd15-random.safetensors" in values


@pytest.mark.parametrize("event_data", [{"index": 7, "value": None}, {"index": "0"}, {"index": -1}])
def test_a_pick_that_is_no_card_is_a_plain_message(private_app, event_data):
    session = uuid.uuid4().hex[:12]
    show(private_app, session)
    done = join(private_app, "open_template", ["", "en", ""], session, event_data=event_data)
    assert done["output"]["data"][3] == "Could not load this workflow: ComfyUI's template library has no such template."


def test_saved_workflows_listed_and_opened_on_a_private_app(private_app, hostile_comfy):
    save_in_comfyui(hostile_comfy, "my fox.json", json.loads((FIX / "tiny_fox.json").read_text()))
    session = uuid.uuid4().hex[:12]
    listed = join(private_app, "list_saved", ["en", ""], session)["output"]["data"]
    assert "my fox.json" in [c[0] for c in listed[0]["choices"]] and listed[1] == ""
    done = join(private_app, "open_saved", ["my fox.json", "en", ""], session)
    assert done["output"]["data"][1] == "Loaded my fox.json."
    assert "a red fox in the snow" in _rendered_values(private_app, session)
    refused = join(private_app, "open_saved", ["../../comfy.settings.json", "en", ""], session)
    assert refused["output"]["data"][3] == ("Could not load this workflow: ComfyUI has no saved workflow "
                                            "“../../comfy.settings.json” (it may have been renamed or deleted).")


def test_a_visitor_of_a_public_app_gets_no_saved_list_and_a_plain_refusal(public_app, hostile_comfy):
    save_in_comfyui(hostile_comfy, "secret plan.json", json.loads((FIX / "tiny_fox.json").read_text()))
    session = uuid.uuid4().hex[:12]
    done = join(public_app, "list_saved", ["en", ""], session)
    dropdown, message = done["output"]["data"]
    assert dropdown.get("visible") is False and dropdown.get("choices") == []
    assert message == "Only an admin can see the workflows saved in ComfyUI on this app."
    opened = join(public_app, "open_saved", ["secret plan.json", "en", ""], session)
    assert opened["output"]["data"][3] == "Only an admin can see the workflows saved in ComfyUI on this app."
    assert "secret plan" not in json.dumps(done) + json.dumps(opened)
    show(public_app, session)   # the cards are for everyone; opening one is the Custom workflow tab's rule
    picked = join(public_app, "open_template", ["", "en", ""], session, event_data={"index": 0, "value": None})
    assert picked["output"]["data"][3] == "Only an admin may run a workflow of their own on this app."


def test_an_admin_of_a_public_app_sees_the_saved_list(make_hostile_app, hostile_comfy):
    app = make_hostile_app("logins", "--auth", "root:root-pw,eve:eve-pw", "--admins", "root")
    save_in_comfyui(hostile_comfy, "my fox.json", json.loads((FIX / "tiny_fox.json").read_text()))
    root, eve = app.as_user("root", "root-pw"), app.as_user("eve", "eve-pw")
    session = uuid.uuid4().hex[:12]
    listed = join(root, "list_saved", ["en", ""], session)["output"]["data"]
    assert "my fox.json" in [c[0] for c in listed[0]["choices"]]
    assert join(root, "open_saved", ["my fox.json", "en", ""], session)["output"]["data"][1] == "Loaded my fox.json."
    other = uuid.uuid4().hex[:12]
    assert join(eve, "list_saved", ["en", ""], other)["output"]["data"][1] == (
        "Only an admin can see the workflows saved in ComfyUI on this app.")


def test_an_older_comfyui_without_templates_says_so(make_hostile_app, hostile_comfy):
    hostile_comfy.templates_dir = None
    try:
        app = make_hostile_app("old-comfyui", public=False)
        radio, items, message, _ = show(app, uuid.uuid4().hex[:12])
    finally:
        del hostile_comfy.templates_dir
    assert items == [] and message == ("The templates cannot be shown: This ComfyUI server has no template library: "
                                       "it is older than ComfyUI's templates. Update ComfyUI to pick from them here.")


def test_a_server_that_is_down_says_so(dead_url, tmp_path):
    app = HostileApp("comfyui-down", dead_url, tmp_path / "data", public=False)
    try:
        session = uuid.uuid4().hex[:12]
        _, items, message, _ = show(app, session)
        assert items == [] and message.startswith("The templates cannot be shown: Cannot reach ComfyUI at")
        listed = join(app, "list_saved", ["en", ""], session)["output"]["data"]
        assert listed[1].startswith("Cannot reach ComfyUI at")
        assert app.alive()
    finally:
        app.stop()


# -- a server that sends what no real library holds (in-process: the tab's data part) ------------------

def test_a_library_with_bad_files_shows_placeholders_and_plain_words(make_comfy_server, tmp_path):
    from _app import app_context, job_service
    from comfy_ui_app.jobs.store import JobStore
    from comfy_ui_app.ui import custom_tab as custom
    from comfy_ui_app.ui._library import TemplateLibrary

    library_dir = tmp_path / "library"
    library_dir.mkdir()
    entries = [{"name": n, "title": n, "mediaType": "image", "mediaSubtype": "webp"} for n in ("notpic", "deep", "nan")]
    (library_dir / "index.json").write_text(json.dumps([{"title": "Odd", "type": "image", "templates": entries}]))
    (library_dir / "notpic-1.webp").write_bytes(b"<html>not a picture</html>")
    (library_dir / "notpic.json").write_text((FIX / "tiny_fox.json").read_text())
    (library_dir / "deep-1.webp").write_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 ")   # a cut header
    (library_dir / "deep.json").write_text('{"nodes": ' + "[" * 5000 + "]" * 5000 + ', "links": []}')
    (library_dir / "nan.json").write_text('{"nodes": [], "links": [], "x": NaN}')
    server = make_comfy_server()
    server.templates_dir = library_dir
    jobs = job_service(server.url, JobStore(tmp_path / "data"))
    try:
        ctx = app_context(jobs, tmp_path / "out")
        library = TemplateLibrary(ctx, str(tmp_path / "cache"))
        (category,) = library.categories()
        shown = {card.name: (thumb, missing) for card, thumb, missing in library.cards(category)}
        placeholder = library.placeholder()
        assert shown == {"notpic": (placeholder, []), "deep": (placeholder, None), "nan": (placeholder, None)}
        assert Path(placeholder).is_relative_to(tmp_path / "cache")
        for name, words in (("deep", "nested more than"), ("nan", "NaN")):
            loaded, message = custom.opening(ctx, name, lambda n=name: custom.workflow_from_text(
                n + ".json", library.template_text(library.card(n)), ctx.catalog.object_info_or_none()), "en")
            assert message.startswith("Could not load this workflow: ") and words in message, message
    finally:
        jobs.cluster.close()


@pytest.mark.parametrize("api, data", [
    ("open_saved", [123, "en", ""]),
    ("open_saved", [["my fox.json"], "en", ""]),
    ("open_saved", ["x" * 100_000, "en", ""]),
    ("open_saved", ["workflows/../../../user/default/comfy.settings.json", "en", ""]),
    ("show", [{"title": "Video"}, "en"]),
    ("show", ["No such category", 42]),
    ("list_saved", [None, "forged-id"]),
])
def test_junk_values_get_plain_answers(private_app, api, data):
    session = uuid.uuid4().hex[:12]
    dep = next(d for d in private_app.config["dependencies"] if d.get("api_name") == api)
    answer = private_app.http.post(f"{private_app.url}/gradio_api/queue/join", timeout=30, json={
        "data": data, "fn_index": dep["id"], "session_hash": session, "event_data": None,
        "trigger_id": dep["targets"][0][0]})
    answer.raise_for_status()
    with private_app.http.get(f"{private_app.url}/gradio_api/queue/data", params={"session_hash": session},
                              stream=True, timeout=120) as stream:
        done = next(json.loads(line[5:]) for line in stream.iter_lines(chunk_size=1 << 16, decode_unicode=True)
                    if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_completed")
    assert done.get("success"), done   # no Gradio error: the handler answered
    text = json.dumps(done["output"]["data"], ensure_ascii=False)
    assert "x" * 300 not in text and "Traceback" not in text
    assert private_app.alive()
