"""The hostile visitor against workflows of their own (issue 13 point 1) and the file lists (point 7).

Every attack goes raw through Gradio's HTTP API to ``python app.py`` in its own process
(``tests/_hostile.py``): the Custom workflow tab driven as its page drives it (upload, render,
Generate: ``run_custom_workflow``), the System tab's node browser called by its API name. Each
refusal is checked for its message and for nothing having reached the ComfyUI test server.
"""
from __future__ import annotations

import io
import json

import pytest
import requests
from PIL import Image

from _hostile import TALLY, assert_survived, queue_join, run_custom_workflow
from comfy_ui_app.jobs.graph_rules import owner_tag


def loads(image: str) -> dict:
    """A small API workflow whose LoadImage reads ``image``."""
    return {"1": {"class_type": "LoadImage", "inputs": {"image": image}},
            "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}


def put_input(comfy, name: str) -> None:
    """A file in the test server's input folder, as another user's upload would be (ComfyUI lists it)."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    requests.post(comfy.url + "/upload/image", files={"image": (name, buffer.getvalue(), "image/png")},
                  data={"overwrite": "true"}, timeout=10).raise_for_status()


def message(outcome) -> str:
    return outcome.output("Message") or ""


def refused(app, comfy, workflow: dict, expected: str):
    before = len(comfy.received_prompts)
    outcome = run_custom_workflow(app, workflow)
    assert_survived(app, outcome)
    assert message(outcome) == expected, outcome.texts()[:800]
    assert len(comfy.received_prompts) == before, "the graph reached ComfyUI"
    return outcome


OTHERS_UPLOAD = f"u-{owner_tag('someone else')}-upload-0123456789abcdef01234567.png"
FILE_CASES = {
    "another user's upload": (OTHERS_UPLOAD, f"image: “{OTHERS_UPLOAD}” is not a file you uploaded. Upload it "
                                             "yourself."),
    "an untagged upload": ("upload-0123456789abcdef01234567.png", "image: “upload-0123456789abcdef01234567.png” is "
                                                                  "not a file you uploaded. Upload it yourself."),
    "a relative path": ("../x.png", "image: “../x.png” is not allowed: a file name may not contain folders "
                                    "(/, \\, ..)."),
    "an absolute path": ("/etc/passwd", "image: “/etc/passwd” is not allowed: a file name may not contain folders "
                                        "(/, \\, ..)."),
    "an annotated name": ("x.png [output]", "image: “x.png [output]” names a file in another ComfyUI folder; only "
                                            "a plain file name is allowed."),
    "a file the server lacks": ("nowhere.png", "image: “nowhere.png” is not a file on the ComfyUI server. Upload it "
                                               "first."),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_a_custom_workflow_may_not_read_a_file_that_is_not_the_visitors(private_app, hostile_comfy, case):
    put_input(hostile_comfy, OTHERS_UPLOAD)
    put_input(hostile_comfy, "upload-0123456789abcdef01234567.png")
    value, expected = FILE_CASES[case]
    outcome = refused(private_app, hostile_comfy, loads(value), expected)
    assert expected in outcome.texts().replace(message(outcome), "", 1)   # next to the field too


def test_a_custom_workflow_of_listed_files_still_runs(private_app, hostile_comfy):
    before = len(hostile_comfy.received_prompts)
    outcome = run_custom_workflow(private_app, loads("example.png"))
    assert_survived(private_app, outcome)
    assert "Done" in outcome.texts() or "Finished" in outcome.texts(), outcome.texts()[:800]
    assert len(hostile_comfy.received_prompts) == before + 1


def test_a_public_app_runs_no_visitors_workflow(public_app, hostile_comfy):
    refused(public_app, hostile_comfy, loads("example.png"), "Only an admin may run a workflow of their own on this app.")


def test_custom_workflows_off_means_nobody(make_hostile_app, hostile_comfy):
    app = make_hostile_app("custom-off", "--custom-workflows", "off", public=False)
    refused(app, hostile_comfy, loads("example.png"), "Running a workflow of your own is turned off on this app.")


def test_a_node_outside_the_allow_list_is_refused(make_hostile_app, hostile_comfy):
    app = make_hostile_app("allow-nodes", "--custom-workflows", "everyone", "--allow-nodes", "LoadImage,SaveImage")
    refused(app, hostile_comfy, loads("example.png"), "Node 2 (PreviewImage) is a node type this app does not allow.")


def _node_browser(app, name: str) -> str:
    """LoadImage's definition as the System tab's node browser shows it, asked raw in one session:
    the tab opened (its Refresh fills the node list), then the node picked."""
    import uuid

    session = uuid.uuid4().hex[:12]
    opened = queue_join(app, app.endpoint("system_refresh")["fn_index"], ["", "en", 1], session)
    assert opened.get("success"), opened
    shown = queue_join(app, app.endpoint("system_node")["fn_index"], [name, "en", 1, ""], session)
    assert shown.get("success"), shown
    assert app.alive()
    return json.dumps(shown["output"]["data"])


def test_the_node_browser_lists_uploads_to_admins_only_on_a_public_app(public_app, private_app, hostile_comfy):
    put_input(hostile_comfy, OTHERS_UPLOAD)
    TALLY.cases += 3
    assert OTHERS_UPLOAD not in _node_browser(public_app, "LoadImage")
    assert "image_upload" in _node_browser(public_app, "LoadImage")
    assert OTHERS_UPLOAD in _node_browser(private_app, "LoadImage")   # a private app: as before


@pytest.fixture(scope="module")
def logins(make_hostile_app):
    """A public app with logins: root is an admin, eve is not (``--auth`` + ``--admins``)."""
    app = make_hostile_app("logins", "--auth", "root:root-pw,eve:eve-pw", "--admins", "root")
    return app.as_user("root", "root-pw"), app.as_user("eve", "eve-pw")


def test_an_admin_is_exempt_where_a_logged_in_visitor_is_refused(logins, hostile_comfy):
    """On a public app the Custom workflow tab is for admins (the default ``--custom-workflows admins``),
    and an admin's graph may name any file; the same calls by a visitor who is not an admin are refused."""
    admin, visitor = logins
    put_input(hostile_comfy, OTHERS_UPLOAD)
    refused(visitor, hostile_comfy, loads("example.png"), "Only an admin may run a workflow of their own on this app.")
    before = len(hostile_comfy.received_prompts)
    outcome = run_custom_workflow(admin, loads(OTHERS_UPLOAD))   # someone's upload: fine for an admin
    assert_survived(admin, outcome)
    assert "Done" in outcome.texts() or "Finished" in outcome.texts(), outcome.texts()[:800]
    assert len(hostile_comfy.received_prompts) == before + 1
    assert hostile_comfy.received_prompts[-1]["prompt"]["1"]["inputs"]["image"] == OTHERS_UPLOAD


@pytest.mark.parametrize("body", [b'{"data": []}', b'not json', b'{"data": [1], "fn_index": 0}'])
@pytest.mark.parametrize("route", ["/gradio_api/call/generate", "/gradio_api/queue/join"])
def test_without_a_login_an_app_with_auth_answers_nothing_but_401(logins, route, body):
    """A malformed call of a stranger meets Gradio's login check first (ui/call_guard.py steps aside):
    nothing about the app's events (their number of inputs) leaks before a login."""
    admin, _ = logins
    answer = requests.post(admin.url + route, data=body, headers={"content-type": "application/json"}, timeout=30)
    if body == b"not json":   # FastAPI refuses the body itself (422 json_invalid) before any login check
        assert answer.status_code in (401, 422) and "The request is not JSON" not in answer.text, answer.text[:200]
    else:
        assert answer.status_code == 401, (answer.status_code, answer.text[:200])
    assert "values" not in answer.text
    logged_in = admin.http.post(admin.url + "/gradio_api/call/generate", data=b'{"data": []}', timeout=30,
                                headers={"content-type": "application/json"})
    assert logged_in.status_code == 422 and "This call needs" in logged_in.text   # the guard, for a login
