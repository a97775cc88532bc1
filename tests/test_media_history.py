"""Outputs beyond still pictures, end to end over the ComfyUI test server (issue 14 point 2): a job that
made a video, sounds, a 3D model and a text, opened in History, shows each in its player (raw
``history_open``, as the page calls it); an App-mode workflow whose author chose one output node shows
only that node's files in the media players, as it does in the gallery (the job keeps them all)."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from _hostile import assert_survived, join, run_custom_workflow
from comfy_test_server import _media
from test_app_mode_page import generate_in, open_form

FIX = Path(__file__).parent / "fixtures" / "comfyui"
RUN = json.loads((FIX / "media_run.json").read_text())["media_run"]


@pytest.fixture(scope="module")
def inputs(hostile_comfy):
    """The recording's input files on the test server: ``tone.wav``, ``3d/example.glb``."""
    _media.put_recorded_inputs(hostile_comfy)
    return hostile_comfy


@pytest.fixture(scope="module")
def private_app(make_hostile_app, inputs):
    """A private app of this module's own, started after the inputs exist (its node table, cached
    30 s, lists them)."""
    return make_hostile_app("media-history", public=False)


def _name(value) -> str:
    if isinstance(value, dict):
        value = value.get("video") or value.get("image") or value
        value = value.get("orig_name") or value.get("path") if isinstance(value, dict) else value
    return Path(str(value)).name


def test_history_opens_a_media_job_in_its_players(private_app, inputs):
    session = uuid.uuid4().hex[:12]   # one page: its runs are its History's (owner session:<hash>)
    ran = run_custom_workflow(private_app, RUN["prompt"], name="media-history.json", session=session)
    assert_survived(private_app, ran)
    assert ran.output("Message") == "Done — 6 files.", ran.texts()[:1500]
    listed = join(private_app, "history_load", private_app.inputs("history_load", {"browserstate": ""}), session)
    choices = (listed.final[listed.labels.index("Job")] or {}).get("choices") or []
    assert len(choices) == 1, choices
    opened = join(private_app, "history_open",
                  private_app.inputs("history_open", {"Job": choices[0][1], "browserstate": ""}), session)
    assert_survived(private_app, opened)
    assert [_name(i) for i in opened.output("Outputs")][0].startswith("anim_")
    assert _name(opened.output("Video")).startswith("clip_") and _name(opened.output("Video")).endswith(".mp4")
    assert _name(opened.output("Audio")).endswith(".flac")
    assert _name(opened.output("3D model")) == "example.glb"
    assert opened.output("Text") == "a caption made by the graph"
    assert len(opened.output("Files")) == 5
    assert inputs.url not in opened.text and "/view?" not in opened.text   # the app's files, never ComfyUI's


def _audio_app_workflow() -> dict:
    """LoadAudio -> SaveAudio (chosen in App mode) and PreviewAudio; a string -> PreviewAny (not chosen)."""
    def node(nid, kind, widgets, inputs=(), outputs=()):
        return {"id": nid, "type": kind, "pos": [0, 0], "size": [200, 100], "flags": {}, "order": 0, "mode": 0,
                "inputs": [{"name": n, "type": t, "link": link} for n, t, link in inputs],
                "outputs": [{"name": n, "type": t, "links": links} for n, t, links in outputs],
                "properties": {"Node name for S&R": kind}, "widgets_values": widgets}
    nodes = [node(20, "LoadAudio", ["tone.wav", "image"], outputs=[("AUDIO", "AUDIO", [1, 2])]),
             node(21, "SaveAudio", ["audio/chosen"], inputs=[("audio", "AUDIO", 1)]),
             node(22, "PreviewAudio", [], inputs=[("audio", "AUDIO", 2)]),
             node(23, "PrimitiveString", ["not chosen"], outputs=[("STRING", "STRING", [3])]),
             node(24, "PreviewAny", [], inputs=[("source", "*", 3)])]
    links = [[1, 20, 0, 21, 0, "AUDIO"], [2, 20, 0, 22, 0, "AUDIO"], [3, 23, 0, 24, 0, "STRING"]]
    return {"id": str(uuid.uuid4()), "last_node_id": 24, "last_link_id": 3, "nodes": nodes, "links": links,
            "groups": [], "config": {}, "version": 0.4,
            "extra": {"linearData": {"inputs": [[20, "audio"]], "outputs": [21]}}}


def test_app_mode_shows_only_the_chosen_outputs_in_the_media_players(private_app, inputs):
    session, components, generate, form = open_form(private_app, _audio_app_workflow())
    assert [c["type"] for c in form] == ["file"]                       # the author's one input: a sound picker
    outputs = generate_in(private_app, session, components, generate)
    assert outputs["Message"].startswith("Done"), outputs["Message"]
    audio = outputs["Audio"]["value"]
    assert _name(audio).startswith("chosen_") and _name(audio).endswith(".flac")   # SaveAudio's, not the preview's
    assert outputs["Text"]["visible"] is False                           # PreviewAny was not chosen
    assert [_name(f) for f in outputs["Files"]["value"]] == [_name(audio)]
