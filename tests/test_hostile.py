"""The hostile visitor: what a stranger can do to a public app through Gradio's own HTTP API.

Each case is the attack itself, sent raw (``tests/_hostile.py``) to ``python app.py`` running
in its own process. The run's figures (cases, crashes, leaks, peak RSS) are printed at the end.
"""
from __future__ import annotations

from _hostile import assert_survived

def test_the_harness_sees_a_plain_generate_through_raw_http(public_app):
    data = public_app.inputs("generate", {"Prompt": "a red fox", "Steps": 2, "Width": 64, "Height": 64})
    outcome = public_app.call("generate", data)
    assert_survived(public_app, outcome)
    assert "Done" in outcome.texts(), outcome.texts()[:500]

