"""The hostile visitor's workflow files (issue 13 points 5, 6 and 8), sent raw to ``python app.py``.

Each file is posted to Gradio's upload route, then the Custom workflow tab's ``load`` event
and the ``@gr.render`` that draws its form (api name ``apply``) run in one browser session
through Gradio's queue (``_hostile.join``), as the page runs them. What comes back is the
load message (next to the upload button) or a drawn form; never Gradio's generic error, a
RecursionError or an empty message, and the app keeps serving.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest

import test_workflow_limits as graphs   # the same stress graphs, as the pure tests build them
from _hostile import assert_survived, join

REPO = Path(__file__).resolve().parents[1]
BASE = json.loads((REPO / "workflows" / "txt2img.json").read_text())
FORM_DEADLINE = 30.0   # seconds for a 1,000-node upload to become a form: ~1 s on an idle 2-core machine
LOAD_MESSAGE = "markdown"   # the load event's second output: the line under the upload button


def samplers(nodes: int) -> bytes:
    return json.dumps(graphs.samplers(nodes)).encode()


def conditioning_chain(links: int) -> bytes:
    return json.dumps(graphs.conditioning_chain(links)).encode()


def nested(levels: int) -> bytes:
    return graphs.nested(levels).encode()


def load(app, content: bytes, name: str = "w.json") -> tuple[str, str, object]:
    """Upload ``content`` and run the tab's load event: (session, the load message, the Outcome)."""
    session = uuid.uuid4().hex
    outcome = join(app, "load", [app.upload(content, name), "en"], session)
    assert_survived(app, outcome)
    assert outcome.final is not None, outcome.events
    return session, str(outcome.final[1]), outcome


@pytest.fixture(scope="module")
def capped_app(make_hostile_app):
    """A private app (everyone may load a workflow) with a public app's node cap."""
    return make_hostile_app("forms-capped", "--max-nodes", "1000", public=False)


def test_a_workflow_over_the_node_cap_is_refused_next_to_the_upload(capped_app):
    session, message, _ = load(capped_app, samplers(1200))
    assert message == ("Could not load this workflow: This workflow has 1,200 nodes; this app accepts at most "
                       "1,000."), message


def test_a_public_app_refuses_an_oversized_workflow_without_crashing(public_app):
    """Its default cap is 1,000 nodes (a public app may also keep the tab to admins: either way, no form)."""
    _, message, _ = load(public_app, samplers(1200))
    assert message.startswith("Could not load this workflow") or "admin" in message.lower(), message
    assert "Loaded" not in message


BAD_FILES = {  # content -> words of the load message
    "nested-10000": (nested(10_000), "is nested more than 64 levels deep"),
    "nested-900": (nested(900), "is nested more than 64 levels deep"),
    "not-json": (b"this is not JSON", "is not valid JSON"),
    "zero-bytes": (b"", "is not valid JSON"),
    "not-utf8": (b"\xff\xfe\x00\x01", "is not a text (JSON) file."),
    "a-list": (b"[1, 2, 3]", "is not an API-format graph of nodes"),
    "node-not-object": (b'{"1": "KSampler"}', "Node 1 of the workflow has no class_type"),
    # point 3: json.loads takes these bare words; the graph sent to ComfyUI must never hold one
    "nan-cfg": (json.dumps(BASE).replace('"cfg": 7.0', '"cfg": NaN').encode(), "The workflow holds NaN"),
    "infinity-denoise": (json.dumps(BASE).replace('"denoise": 1.0', '"denoise": -Infinity').encode(),
                         "The workflow holds -Infinity"),
    "chain-10000-over-the-cap": (conditioning_chain(10_000), "This workflow has 10,007 nodes; this app accepts at "
                                                             "most 5,000."),
}


@pytest.mark.parametrize("content, words", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_workflow_file_gets_a_plain_message(private_app, content, words):
    _, message, outcome = load(private_app, content)
    assert message.startswith("Could not load this workflow: ") and words in message, message
    assert "RecursionError" not in outcome.text and "Unexpected error" not in outcome.text


def test_a_long_chain_loads_and_becomes_a_form(private_app):
    """4,000 nodes linked one after another (the conditioning walk once recursed: RecursionError at ~1,000)."""
    session, message, _ = load(private_app, conditioning_chain(4000))
    assert message == "Loaded w.json.", message
    form = join(private_app, "apply", [None, "en"], session)
    assert_survived(private_app, form)
    assert form.final is not None and "RecursionError" not in form.text, form.events


def test_a_thousand_node_form_is_drawn_in_time_while_another_user_generates(private_app):
    """The form of 1,000 KSamplers (5,971 fields; at most 300 drawn) within the deadline, and a
    text-to-image job sent meanwhile by someone else still finishes."""
    generated: dict = {}

    def someone_else():
        data = private_app.inputs("generate", {"Prompt": "a red fox", "Steps": 2, "Width": 64, "Height": 64})
        generated["outcome"] = private_app.call("generate", data)

    other = threading.Thread(target=someone_else)
    started = time.monotonic()
    session, message, _ = load(private_app, samplers(1000), "thousand.json")
    other.start()
    form = join(private_app, "apply", [None, "en"], session, timeout=FORM_DEADLINE)
    took = time.monotonic() - started
    assert_survived(private_app, form)
    assert message == "Loaded thousand.json.", message
    assert form.final is not None, form.events
    assert "the form shows the first 300" in form.text
    assert took < FORM_DEADLINE, f"1,000-node form took {took:.1f} s"
    other.join(timeout=120)
    assert not other.is_alive(), "the other user's generate did not end"
    assert_survived(private_app, generated["outcome"])
    assert "Done" in generated["outcome"].texts(), generated["outcome"].texts()[:500]
    print(f"\n1,000-node workflow: upload -> form drawn in {took:.2f} s")
