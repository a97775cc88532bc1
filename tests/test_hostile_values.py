"""The hostile visitor's values (issue 13, points 3, 5 and 8), sent raw through Gradio's HTTP API.

A bare ``NaN`` (or ``Infinity``, ``-Infinity``, ``1e309``) for a number, text where a number goes, a
list, a dict for the prompt, ``None`` for a slider, a 5 MB prompt: each is refused with a plain
message next to its field, nothing is stored or sent, and the server's health is untouched
(``/healthz?ready=1`` stays 200 and another user's job runs at once).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from _hostile import assert_survived, generic_error

NAN, INF = float("nan"), float("inf")
SMALL = {"Steps": 2, "Width": 64, "Height": 64}


@pytest.fixture(scope="module")
def app(make_hostile_app):
    return make_hostile_app("values")


def _error_slots(outcome) -> str:
    """The texts of the field error slots (Markdown starting with ⚠) of the final outputs."""
    return "\n".join(line for line in outcome.texts().splitlines() if line.startswith("⚠"))


def _refused(app, outcome, expected: str) -> None:
    assert_survived(app, outcome)
    assert generic_error(outcome) is None, outcome.error
    assert outcome.output("Message") == expected, outcome.texts()[:500]
    assert "⚠ " + expected in _error_slots(outcome), outcome.texts()[:800]


@pytest.mark.parametrize("label, value, expected", [
    ("CFG", NAN, "CFG must be a finite number."),
    ("CFG", INF, "CFG must be a finite number."),
    ("CFG", -INF, "CFG must be a finite number."),
    ("CFG", "abc", "CFG must be a number (got 'abc')."),
    ("CFG", [1], "CFG must be a number (got [1])."),
    ("CFG", 45, "CFG must be at most 30 (got 45)"),
    ("Denoise", NAN, "Denoise must be a finite number."),
    ("Steps", "abc", "Steps must be a number (got 'abc')."),
    ("Steps", None, "Steps must be a number (got None)."),
    ("Steps", 2.5, "Steps must be a whole number (got 2.5)."),
    ("Seed", NAN, "Seed must be a finite number."),
    ("Seed", {"a": 1}, "Seed must be a number (got {'a': 1})."),
    ("Prompt", {"a": 1}, "Prompt must be text."),
    ("Prompt", ["x"], "Prompt must be text."),
    ("Negative prompt", 5, "Negative prompt must be text."),
    ("File name prefix", "x" * 1001, "File name prefix is 1,001 characters long; at most 1,000."),
])
def test_a_bad_value_is_refused_next_to_its_field(app, label, value, expected):
    data = app.inputs("generate", {**SMALL, label: value})
    _refused(app, app.call("generate", data), expected)


@pytest.mark.parametrize("value, expected", [
    (NAN, "Batch count must be a finite number."),
    ("two", "Batch count must be a number (got 'two')."),
    (99, "Batch count must be at most 16 (got 99)"),
])
def test_a_bad_batch_count_is_refused(app, value, expected):
    outcome = app.call("generate", app.inputs("generate", {**SMALL, "Batch count": value}))
    assert_survived(app, outcome)
    assert generic_error(outcome) is None, outcome.error
    assert outcome.output("Message") == expected


def test_a_lora_strength_nan_is_refused(app):
    outcome = app.call("generate", app.inputs("generate", {**SMALL, "LoRA strength": NAN}))
    assert_survived(app, outcome)
    assert generic_error(outcome) is None, outcome.error
    assert outcome.output("Message") == "LoRA strength must be a finite number."


def test_1e309_sent_as_json_is_infinity_and_refused(app):
    data = app.inputs("generate", {**SMALL, "CFG": "__CFG__"})
    body = json.dumps({"data": data}).replace('"__CFG__"', "1e309").encode()
    outcome = app.call("generate", body=body)
    assert_survived(app, outcome)
    assert outcome.output("Message") == "CFG must be a finite number."


def _ready(app) -> int:
    return requests.get(app.url + "/healthz?ready=1", timeout=10).status_code


def test_nan_never_marks_the_server_down_and_others_run_at_once(app):
    for label in ("CFG", "Denoise", "LoRA strength"):
        for value in (NAN, INF, -INF):
            app.call("generate", app.inputs("generate", {**SMALL, label: value}))
    polls = [_ready(app) for _ in range(12)]
    assert polls == [200] * 12, polls
    started = time.monotonic()
    outcome = app.call("generate", app.inputs("generate", {**SMALL, "Prompt": "another user's fox"}))
    assert_survived(app, outcome)
    assert "Done" in outcome.texts(), outcome.texts()[:500]
    assert time.monotonic() - started < 20


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def test_a_5_mb_prompt_is_refused_before_anything_is_stored(app):
    data_dir, tmp = app.data_dir, app.data_dir / "gradio-tmp"
    before = _size(data_dir) - _size(tmp), _size(tmp)
    prompt = "p" * 5_000_000
    outcome = app.call("generate", app.inputs("generate", {**SMALL, "Prompt": prompt, "Batch count": 2}),
                       forbidden=(prompt[:200],))
    _refused(app, outcome, "Prompt is 5,000,000 characters long; at most 10,000.")
    after = _size(data_dir) - _size(tmp), _size(tmp)
    grown = [(a - b) / 2**20 for a, b in zip(after, before)]
    print(f"5 MB prompt: data folder +{grown[0]:.2f} MB, Gradio temp folder +{grown[1]:.2f} MB")
    assert grown[0] < 1 and grown[1] < 1, grown


@pytest.mark.parametrize("body, words", [
    (b'{"data": [null, true]}', "This call needs 19 values, one per input; it sent 2."),
    (b'{"data": "abc"}', "must be a list of values"),
    (b'[1, 2]', "must be a JSON object"),
    (b'{"data": [', "not JSON"),
    (b'{"data": ' + b'[' * 100_000 + b']' * 100_000 + b'}', "nested too deeply"),
])
def test_a_malformed_call_gets_one_plain_line_before_gradio(app, body, words):
    """Gradio 6.31 refuses a short data list in Blocks.validate_inputs with an error event of no text;
    the app's CallGuard answers such a call first: 422 and one sentence."""
    outcome = app.call("generate", body=body)
    assert outcome.status == 422 and words in outcome.text, outcome.text[:300]
    assert not outcome.crashed and app.alive()


def test_the_inpaint_endpoint_refuses_nan_next_to_its_field(app):
    point = app.endpoint("inpaint")
    data = app.inputs("inpaint", {"Denoise": NAN})
    outcome = app.call("inpaint", data)
    assert_survived(app, outcome)
    assert generic_error(outcome) is None, outcome.error
    assert outcome.output("Message") == "Denoise must be a finite number.", (point["inputs"], outcome.texts()[:500])


@pytest.mark.parametrize("label, value, expected", [
    ("Grow mask", "abc", "Grow mask must be a number (got 'abc')."),
    ("Mask blur", NAN, "Mask blur must be a finite number."),
])
def test_the_inpaint_mask_tools_refuse_bad_values(app, label, value, expected):
    outcome = app.call("inpaint", app.inputs("inpaint", {label: value}))
    assert_survived(app, outcome)
    assert generic_error(outcome) is None, outcome.error
    assert outcome.output("Message") == expected


ID_TOO_LONG = "Job id is 1,000,000 characters long; at most 200."


@pytest.mark.parametrize("api, label, value, expected", [
    ("queue_cancel", "Job", "j" * 1_000_000, ID_TOO_LONG),
    ("queue_front", "Job", {"job": 1}, "Job id must be text."),
    ("history_open", "Job", "j" * 1_000_000, ID_TOO_LONG),
    ("history_rerun", "Job", "j" * 1_000_000, ID_TOO_LONG),
    ("history_delete", "Job", ["a", "b"], "Job id must be text."),
    ("history_load_parameters", "Job", "j" * 1_000_000, ID_TOO_LONG),
    ("history_star", "Job", "j" * 1_000_000, ID_TOO_LONG),
    ("history_unstar", "Job", {"job": 1}, "Job id must be text."),
])
def test_an_id_over_the_cap_is_refused_before_any_look_up(app, api, label, value, expected):
    outcome = app.call(api, app.inputs(api, {label: value}))
    assert_survived(app, outcome)
    assert generic_error(outcome) is None, outcome.error
    assert expected in outcome.texts(), outcome.texts()[:300]
    assert "j" * 1000 not in outcome.text  # the id is not echoed back


def test_a_nearly_full_disk_refuses_new_jobs_with_a_plain_message(make_hostile_app):
    full = make_hostile_app("values-disk", "--min-free-disk-mb", str(10**9))
    outcome = full.call("generate", full.inputs("generate", {**SMALL, "Prompt": "a fox"}))
    assert_survived(full, outcome)
    assert outcome.output("Message") == ("The server's disk is nearly full, so it takes no new jobs for now. "
                                         "Please tell whoever runs it.")
    assert not list((full.data_dir / "outputs").rglob("*.png"))


@pytest.mark.parametrize("values, expected", [
    ({"Page": NAN}, ""), ({"Page": INF}, ""), ({"Page": 1e308}, ""), ({"Page": "2; DROP TABLE jobs"}, ""),
    ({"Page": [1, 2]}, ""), ({"Prompt contains": "x" * 5_000_000}, "The text filter takes at most 200 characters."),
    ({"Prompt contains": {"$like": "%"}}, "The text filter takes at most 200 characters."),
    ({"From": "yesterday-ish"}, "Dates are written 2026-12-31."), ({"To": {"a": 1}}, "Dates are written 2026-12-31."),
    ({"From": "now - 99999999999999d"}, "Dates are written 2026-12-31."),
    ({"★ Favourites only": "yes", "Prompt contains": "%_%"}, ""),
])
def test_the_history_grid_takes_any_page_number_and_refuses_bad_filters_plainly(app, values, expected):
    outcome = app.call("history_refresh", app.inputs("history_refresh", values))
    assert_survived(app, outcome)
    assert generic_error(outcome) is None, outcome.error
    assert "x" * 1000 not in outcome.text
    if expected:   # said under the filters; the page stays as it was
        assert expected in outcome.texts(), outcome.texts()[:300]
    else:          # a page number that is no page number is the first page
        assert outcome.output("Page") == 1 and "Dates are written" not in outcome.texts(), outcome.texts()[:300]


def test_the_history_star_of_a_forged_or_someone_elses_job_is_refused(app):
    outcome = app.call("history_star", app.inputs("history_star", {"Job": "0" * 32}))
    assert_survived(app, outcome)
    assert "This job is gone, or it is not yours." in outcome.texts()
