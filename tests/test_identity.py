"""Browser ids the app issues and verifies (jobs/identity.py, ui/identity.py), and log tags."""
from __future__ import annotations

import hashlib
import json

import gradio as gr
import pytest

from comfy_ui_app.jobs.identity import BrowserIds, owner_tag
from comfy_ui_app.jobs.policy import MAX_ID_CHARS
from comfy_ui_app.ui.identity import BrowserIdState, issue_browser_id

IDS = BrowserIds("k1")
GOOD = IDS.issue()
RANDOM, MAC = GOOD.split(".")


def _flip(hex_text: str) -> str:
    return ("1" if hex_text[0] == "0" else "0") + hex_text[1:]


VERIFY_CASES = {
    "an id this key issued": (GOOD, GOOD),
    "the same random part signed by another key": (BrowserIds("k2").sign(RANDOM), None),
    "a tampered signature": (f"{RANDOM}.{_flip(MAC)}", None),
    "a tampered random part": (f"{_flip(RANDOM)}.{MAC}", None),
    "an old unsigned uuid": ("0123456789abcdef0123456789abcdef", None),
    "no signature": (f"{RANDOM}.", None),
    "upper-case hex": (GOOD.upper(), None),
    "surrounding space": (f" {GOOD}", None),
    "a name": ("alice", None),
    "empty": ("", None),
    "None": (None, None),
    "a number": (12345, None),
    "a list": ([GOOD], None),
    "a dict": ({"id": GOOD}, None),
    "1 MB": ("a" * 1_000_000, None),
    "a valid id with a megabyte after it": (GOOD + "0" * 1_000_000, None),
}


@pytest.mark.parametrize("sent, expected", VERIFY_CASES.values(), ids=VERIFY_CASES.keys())
def test_only_ids_this_key_issued_are_believed(sent, expected):
    assert IDS.verify(sent) == expected


def test_issued_ids_are_fresh_short_and_verifiable():
    ids = {IDS.issue() for _ in range(200)}
    assert len(ids) == 200
    assert all(IDS.verify(i) == i and len(i) == 65 <= MAX_ID_CHARS for i in ids)


def test_the_key_is_never_in_the_repr_and_must_not_be_empty():
    assert "k1" not in repr(IDS)
    with pytest.raises(ValueError):
        BrowserIds("")
    with pytest.raises(ValueError):
        IDS.sign("not hex")


def _sha8(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


TAG_CASES = {
    "a browser id": (f"browser:{GOOD}", f"browser:{_sha8('browser:' + GOOD)}"),
    "a session": ("session:abc", f"session:{_sha8('session:abc')}"),
    "a login name is no secret": ("user:alice", "user:alice"),
    "a Hugging Face account": ("hf:bob", "hf:bob"),
    "the command line": ("cli:carol", "cli:carol"),
    "no kind": ("anonymous", "anonymous"),
}


@pytest.mark.parametrize("owner, expected", TAG_CASES.values(), ids=TAG_CASES.keys())
def test_log_tags(owner, expected):
    assert owner_tag(owner) == expected


def test_the_page_component_lets_through_only_verified_ids_and_publishes_no_key():
    key = "a-key-that-must-stay-home"
    ids = BrowserIds(key)
    with gr.Blocks() as demo:
        state = BrowserIdState("", storage_key="comfy-ui-browser-id", secret="published", ids=ids)
    good = ids.issue()
    assert state.preprocess(good) == good
    assert state.preprocess(BrowserIds("other").issue()) == ""
    assert state.preprocess("alice") == "" and state.preprocess(None) == ""
    config = json.dumps(demo.get_config_file(), default=str)
    assert key not in config
    (component,) = [c for c in demo.get_config_file()["components"] if c.get("props", {}).get("storage_key")]
    assert component["type"] == "browserstate"   # the page draws Gradio's own BrowserState
    ensure = issue_browser_id(state)
    assert ensure(good) == good                     # a verified id is kept
    fresh = ensure("")                              # none (or a forged one, made "" above): a new one
    assert ids.verify(fresh) == fresh and fresh != good
