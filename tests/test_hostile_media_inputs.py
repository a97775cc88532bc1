"""Non-picture upload fields attacked raw (issue 14 point 2, inputs): ``python app.py`` as a public app
that lets everyone run a workflow of their own, driven through Gradio's HTTP API like a visitor's page
(tests/_hostile.py). A WAV picked for LoadAudio runs and the graph that reaches the ComfyUI test server
names the owner-tagged upload; a file that is not a sound, one over the user's cap, ``../x.wav`` and
another user's tagged upload are refused with their own messages, next to the field, nothing sent."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from _hostile import assert_survived, generic_error, run_custom_workflow
from comfy_test_server import _media
from comfy_ui_app.jobs.graph_rules import owner_tag

WAV = _media.wav_bytes(_media.tone())
AUDIO_LABEL = "LoadAudio › audio"
TAGGED_WAV = re.compile(r"^u-[0-9a-f]{12}-upload-[0-9a-f]{24}\.wav$")


def audio_graph(value: str = "tone.wav") -> dict:
    return {"20": {"class_type": "LoadAudio", "inputs": {"audio": value}},
            "21": {"class_type": "SaveAudio", "inputs": {"audio": ["20", 0], "filename_prefix": "audio/picked"}}}


@pytest.fixture(scope="module")
def app(make_hostile_app, hostile_comfy):
    """A public app where everyone may run a workflow of their own, 1 MB a user's upload; the test
    server lists ``3d/listed.glb`` before the app first asks for its node table (cached 30 s)."""
    folder = Path(hostile_comfy.dirs["input"]) / "3d"
    folder.mkdir(exist_ok=True)
    (folder / "listed.glb").write_bytes(_media.glb_triangle())
    return make_hostile_app("media-inputs", "--custom-workflows", "everyone", "--max-user-upload-mb", "1")


def _prompts(comfy_url: str) -> list[dict]:
    history = requests.get(comfy_url + "/history", timeout=10).json()
    return [entry["prompt"][2] for entry in history.values()]


def _refused(app, hostile_comfy, outcome, message: str) -> None:
    assert_survived(app, outcome)
    assert generic_error(outcome) is None, outcome.error
    assert message in outcome.texts(), outcome.texts()[:2000]


def test_a_picked_wav_runs_and_the_server_gets_its_tagged_upload(app, hostile_comfy):
    picked = app.upload(WAV, "my tone.wav")
    outcome = run_custom_workflow(app, audio_graph("missing.wav"), name="audio.json", values={AUDIO_LABEL: picked})
    assert_survived(app, outcome)
    assert outcome.output("Message") == "Done — 1 file.", outcome.texts()[:2000]
    assert str(outcome.output("Audio")).find(".flac") > 0
    sent = [p["20"]["inputs"]["audio"] for p in _prompts(hostile_comfy.url)
            if p.get("20", {}).get("class_type") == "LoadAudio" and p["21"]["inputs"]["filename_prefix"] == "audio/picked"]
    assert sent and TAGGED_WAV.match(sent[-1]), sent
    assert (Path(hostile_comfy.dirs["input"]) / sent[-1]).read_bytes() == WAV   # uploaded as it was, undecoded
    assert hostile_comfy.url not in outcome.text


@pytest.mark.parametrize("content, name, message", [
    (b"%PDF-1.7\n not a sound", "notes.wav", "The file notes.wav is not a sound file (WAV, FLAC, MP3, OGG or M4A)."),
    (_media.glb_triangle(), "model.wav", "The file model.wav is not a sound file (WAV, FLAC, MP3, OGG or M4A)."),
    (b"", "empty.wav", "The file empty.wav is empty."),
    (WAV + bytes(1_500_000), "big.wav",
     "The file big.wav is too large: 1.5 MB, at most 1 MB per file allowed on this server."),
])
def test_a_bad_file_for_an_audio_field_is_refused_next_to_it(app, hostile_comfy, content, name, message):
    before = len(_prompts(hostile_comfy.url))
    outcome = run_custom_workflow(app, audio_graph(), name="audio.json", values={AUDIO_LABEL: app.upload(content, name)})
    _refused(app, hostile_comfy, outcome, "⚠ " + message)   # in the field's own error slot
    assert len(_prompts(hostile_comfy.url)) == before   # nothing reached ComfyUI


@pytest.mark.parametrize("value, message", [
    ("../x.wav", "20.audio: “…/x.wav” is not allowed: a file name may not contain folders (/, \\, ..)."),
    ("tone.wav [output]", "“tone.wav [output]” names a file in another ComfyUI folder"),
    (f"u-{owner_tag('someone else')}-upload-0123456789abcdef01234567.wav",
     f"“u-{owner_tag('someone else')}-upload-0123456789abcdef01234567.wav” is not a file you uploaded."),
])
def test_a_workflow_naming_a_file_it_may_not_is_refused(app, hostile_comfy, value, message):
    before = len(_prompts(hostile_comfy.url))
    outcome = run_custom_workflow(app, audio_graph(value), name="audio.json")
    _refused(app, hostile_comfy, outcome, message)
    assert len(_prompts(hostile_comfy.url)) == before


def test_load3d_may_name_a_model_the_server_lists_in_its_3d_folder(app, hostile_comfy):
    """``Load3D.model_file`` takes ``3d/<name>``: a value with a folder passes only when the server lists it."""
    def graph(value: str) -> dict:
        return {"3": {"class_type": "Load3D", "inputs": {"model_file": value, "image": "", "width": 64, "height": 64}},
                "4": {"class_type": "PreviewAny", "inputs": {"source": ["3", 2]}}}

    listed = run_custom_workflow(app, graph("3d/listed.glb"), name="model.json")
    assert_survived(app, listed)
    assert "may not contain folders" not in listed.texts(), listed.texts()[:2000]
    assert listed.output("Message") == "Done — 1 file.", listed.texts()[:2000]
    before = len(_prompts(hostile_comfy.url))
    unlisted = run_custom_workflow(app, graph("3d/unlisted.glb"), name="model.json")
    assert_survived(app, unlisted)
    # refused under its field: by the file-name rule, or first by the check against the server's list
    assert re.search(r"⚠ 3\.model.file.*unlisted\.glb.*(may not contain folders|not one of the allowed values)",
                     unlisted.texts()), unlisted.texts()[:2000]
    assert len(_prompts(hostile_comfy.url)) == before
