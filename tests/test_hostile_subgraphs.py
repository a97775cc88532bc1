"""Editor saves with subgraphs, sent raw to ``python app.py`` (issue 14 point 1).

Posted to Gradio's upload route and loaded by the Custom workflow tab's ``load`` event, as the page
does (see tests/test_hostile_forms.py). A save whose subgraphs are unpacked becomes a form; one whose
subgraphs multiply (each level using the one below many times: 10**10 nodes once unpacked) is refused
from the count alone with its plain message next to the upload, and the app keeps serving.
"""

from __future__ import annotations

import json
import uuid

from _hostile import assert_survived, join
from test_convert import DECODE_ID, decode_graph, subgraph, ui_graph, ui_node, with_subgraphs


def load(app, content: bytes, name: str = "w.json") -> str:
    """Upload ``content`` and run the tab's load event: the load message."""
    outcome = join(app, "load", [app.upload(content, name), "en"], uuid.uuid4().hex)
    assert_survived(app, outcome)
    assert outcome.final is not None, outcome.events
    assert "Unexpected error" not in outcome.text and "RecursionError" not in outcome.text
    return str(outcome.final[1])


def multiplying() -> bytes:
    levels = [subgraph("0000-l0", "Level 0", [], [], [ui_node(1, "EmptyLatentImage", [64, 64, 1])], [])]
    for depth in range(1, 10):
        levels.append(subgraph(f"0000-l{depth}", f"Level {depth}", [], [],
                               [ui_node(i, f"0000-l{depth - 1}", None) for i in range(10)], []))
    return json.dumps(with_subgraphs(ui_graph(ui_node(1, "0000-l9", None)), *levels)).encode()


def test_a_save_with_subgraphs_loads_as_a_form(private_app):
    assert load(private_app, json.dumps(decode_graph(DECODE_ID)).encode(), "sub.json") == "Loaded sub.json."


def test_subgraphs_that_multiply_are_refused_with_a_plain_message(private_app):
    message = load(private_app, multiplying())
    assert message == ("Could not load this workflow: The subgraph 'Level 9' and those inside it make more than "
                       "100,000 nodes: open it in ComfyUI and save it with Workflow > Export (API)"), message
