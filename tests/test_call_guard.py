"""ui/call_guard.call_problem: which call bodies get one plain line instead of Gradio's empty error."""
from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from comfy_ui_app.ui.call_guard import _event_of, call_problem

STATE = NS(skip_api=True)
BOX = NS(skip_api=False)
FNS = {0: NS(api_name="generate", inputs=[BOX, BOX, STATE]), 1: NS(api_name="other", inputs=[])}


@pytest.mark.parametrize("body, api, expected", [
    (b'{"data": [1, 2]}', "generate", None),                 # the API's values (the state left out)
    (b'{"data": [1, 2, null]}', "generate", None),           # every input, as the page sends
    (b'{"data": [1, 2, 3, 4]}', "generate", None),              # extra values: Gradio ignores them
    (b'{"data": [1]}', "generate", "This call needs 2 values, one per input; it sent 1."),
    (b'{"data": [1, 2], "fn_index": 0}', None, "This call needs 3 values, one per input; it sent 2."),
    (b'{"data": [1, 2, 3, 4], "fn_index": 0}', None, None),  # extra values: Gradio ignores them
    (b'{"data": [], "fn_index": 99}', None, None),           # an event this Blocks does not know: Gradio says so
    (b'{"data": [], "fn_index": true}', None, None),
    (b'{"data": []}', "nowhere", None),
    (b'{"data": null}', "generate", 'The request\'s "data" must be a list of values, one per input.'),
    (b'"text"', "generate", 'The request must be a JSON object with a "data" list.'),
    (b'{"data": [NaN', "generate", "The request is not JSON."),
    (b'', "generate", 'The request must be a JSON object with a "data" list.'),
    (b'[' * 50_000 + b']' * 50_000, "generate", "The request is nested too deeply to read."),
])
def test_call_problem(body, api, expected):
    assert call_problem(body, FNS, api) == expected


@pytest.mark.parametrize("path, expected", [
    ("/gradio_api/call/generate", ("generate", True)),
    ("/gradio_api/call/v2/generate/", ("generate", True)),
    ("/gradio_api/run/generate", ("generate", True)),
    ("/gradio_api/queue/join", (None, True)),
    ("/gradio_api/upload", (None, False)),
    ("/gradio_api/call/generate/abc123", (None, False)),   # the event stream's GET path, not a call
    ("/healthz", (None, False)),
])
def test_event_of(path, expected):
    assert _event_of(path) == expected
