"""Bundled prompt styles (comfy_ui_app.workflow.prompt_styles): wrapping, checks, the job record's keys."""
from __future__ import annotations

import pytest

from comfy_ui_app.errors import PresetRefused
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.workflow.prompt_styles import (
    MAX_STYLES, STYLES_KEY, Style, apply_styles, check_names, load_styles, style_names, styled_values, unstyled,
)

STYLES = {"A": Style("A", "a of {prompt}, shiny", "dull"), "B": Style("B", "[{prompt}] b", ""),
          "C": Style("C", "plain words", "bad, worse")}


@pytest.mark.parametrize("prompt, negative, names, want", [
    ("fox", "blurry", [], ("fox", "blurry")),
    ("fox", "blurry", ["A"], ("a of fox, shiny", "blurry, dull")),
    ("fox", "", ["A", "B"], ("[a of fox, shiny] b", "dull")),        # in order: B wraps what A made
    ("fox", "", ["B", "A"], ("a of [fox] b, shiny", "dull")),
    ("fox", "x", ["C"], ("fox, plain words", "x, bad, worse")),      # no {prompt}: the words follow
    ("", "", ["A"], ("a of, shiny", "dull")),                        # nothing typed: no dangling comma first
    ("  fox  ", None, ["B"], ("[fox] b", "")),
    ("fox", "", ["A", "A"], ("a of fox, shiny", "dull")),            # a repeat counts once
])
def test_apply_styles(prompt, negative, names, want):
    assert apply_styles(prompt, negative, names, STYLES) == want


@pytest.mark.parametrize("names, reason", [
    (["Nope"], "unknown_style"), ("A", None), (None, None), ("", None), ([1], "bad_value"),
    ({"A": 1}, "bad_value"), ([["A"]], "bad_value"), (["A"] + [f"x{i}" for i in range(MAX_STYLES)], "too_many_styles"),
])
def test_check_names(names, reason):
    if reason is None:
        assert check_names(names, STYLES) == ([names] if names else [])
        return
    with pytest.raises(PresetRefused) as caught:
        check_names(names, STYLES)
    assert caught.value.reason == reason and caught.value.field == "styles"


def test_the_job_record_keeps_what_was_sent_and_what_was_typed():
    values = {"prompt": "fox", "negative": "blurry", "steps": 4}
    sent, extra = styled_values(values, ["A", "B"], STYLES)
    assert sent == {"prompt": "[a of fox, shiny] b", "negative": "blurry, dull", "steps": 4}
    assert extra == {STYLES_KEY: {"names": ["A", "B"], "prompt": "fox", "negative": "blurry"}}
    assert styled_values(values, [], STYLES) == (values, {})
    assert values == {"prompt": "fox", "negative": "blurry", "steps": 4}  # the caller's dict untouched


def test_load_parameters_gets_the_typed_prompt_back_so_generate_wraps_once():
    sent, extra = styled_values({"prompt": "fox", "negative": ""}, ["Anime", "Cinematic"])
    typed, names = unstyled({**sent, **extra, "steps": 3})
    assert typed == {"prompt": "fox", "negative": "", "steps": 3} and names == ["Anime", "Cinematic"]
    again, _ = styled_values(typed, names)
    assert again == {**sent, "steps": 3}  # the same text, not wrapped twice
    assert unstyled({"prompt": "p"}) == ({"prompt": "p"}, [])
    assert unstyled({"prompt": "p", STYLES_KEY: "junk"}) == ({"prompt": "p"}, [])
    assert unstyled({"prompt": "p", STYLES_KEY: {"names": ["Gone", "Anime"], "prompt": 5}}) == ({"prompt": "p"},
                                                                                                 ["Anime"])


def test_the_bundled_styles():
    styles = load_styles()
    assert 10 <= len(styles) <= 16 and style_names()[:3] == ["Cinematic", "Photograph", "Anime"]
    for style in styles.values():
        assert "{prompt}" in style.prompt and style.negative
        assert tr(style.name, "zh-CN") != style.name, f"no Chinese name for {style.name}"
