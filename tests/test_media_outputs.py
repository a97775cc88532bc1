"""Outputs beyond still pictures, end to end (issue 14 point 2).

The recorded media workflow (``fixtures/comfyui/media_run.json``: a video from ``CreateVideo`` +
``SaveVideo``, an animated WEBP, ``SaveAudio``/``PreviewAudio`` of a ``LoadAudio``, a ``Preview3D``,
``PreviewAny`` text) run over the ComfyUI test server: through the Custom workflow tab raw
(``tests/_hostile.py``), each kind stored with its job and shown in its own component, a kind
never seen kept as a file with a note; and by ``python -m comfy_ui_app generate``, every kind
saved. Pure checks of :func:`comfy_ui_app.comfy.outputs.output_refs` come first.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _hostile import assert_survived, run_custom_workflow
from comfy_test_server import _media
from comfy_ui_app.comfy.outputs import check_media, media_of, output_refs
from comfy_ui_app.errors import NotAnImage
from comfy_ui_app.jobs.graph_rules import owner_tag, owns_input
from comfy_ui_app.texts.messages import describe

FIX = Path(__file__).parent / "fixtures" / "comfyui"
RUN = json.loads((FIX / "media_run.json").read_text())["media_run"]
RECORDED_OUTPUTS = next(iter(RUN["history"].values()))["outputs"]


@pytest.mark.parametrize("node, expected", [
    ("11", [("clip_00002_.mp4", "video", "output", "video")]),
    ("12", [("anim_00002_.webp", "", "output", "image")]),
    ("21", [("tone_00001_.flac", "audio", "output", "audio")]),
    ("22", [("ComfyUI_temp_cytqt_00001_.flac", "", "temp", "audio")]),
    ("30", [("example.glb", "3d", "input", "3d")]),
    ("40", [("text_40_1.txt", "", "text", "text")]),
])
def test_every_recorded_output_is_read(node, expected):
    refs = output_refs(node, RECORDED_OUTPUTS[node])
    assert [(r["filename"], r["subfolder"], r["type"], media_of(r["filename"])) for r in refs] == expected


@pytest.mark.parametrize("output, expected", [
    ({"gifs": [{"filename": "loop_00001_.gif", "subfolder": "", "type": "output", "format": "image/gif"}]},
     [("loop_00001_.gif", "image")]),
    ({"gifs": [{"filename": "vhs_00001.mp4", "subfolder": "", "type": "output"}]}, [("vhs_00001.mp4", "video")]),
    ({"3d": [{"filename": "mesh_00001_.glb", "subfolder": "mesh", "type": "output"}]}, [("mesh_00001_.glb", "3d")]),
    ({"never_seen": [{"filename": "data.bin", "type": "output"}]}, [("data.bin", "file")]),
    ({"result": ["../../etc/x.glb", None]}, []),               # out of the input folder: not fetched
    ({"result": ["notes.txt", None]}, []),                     # a Preview3D names a 3D file, nothing else
    ({"images": "not a list", "animated": [True], "x": {"y": 1}}, []),
])
def test_other_keys(output, expected):
    assert [(r["filename"], media_of(r["filename"])) for r in output_refs("9", output)] == expected


@pytest.mark.parametrize("data, name, message", [
    (b"<html>502 Bad Gateway</html>", "clip.mp4", "ComfyUI sent something that is not a video for clip.mp4."),
    (b"<!DOCTYPE html><p>oops", "tone.flac", "ComfyUI sent something that is not an audio file for tone.flac."),
    (b"{\"not\": \"a glb\"}", "mesh.glb", "ComfyUI sent something that is not a 3D model for mesh.glb."),
])
def test_an_error_page_is_no_video(data, name, message):
    with pytest.raises(NotAnImage) as caught:
        check_media(data, name)
    assert describe(caught.value) == message


def test_real_files_pass_the_check():
    check_media(_media.mp4_of_jpegs([b"\xff\xd8\xff\xd9"], 8, 8, 8), "clip.mp4")
    check_media(_media.flac_bytes(_media.tone(0.01), 8000), "tone.flac")
    check_media(_media.wav_bytes(_media.tone(0.01)), "tone.wav")
    check_media(_media.glb_triangle(), "mesh.glb")


def test_a_preview_of_another_users_upload_is_not_theirs():
    assert owns_input("ann", "example.glb")
    assert owns_input("ann", f"u-{owner_tag('ann')}-upload-0123456789abcdef01234567.glb")
    assert not owns_input("bob", f"u-{owner_tag('ann')}-upload-0123456789abcdef01234567.glb")


# -- end to end ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def media_comfy(hostile_comfy):
    """The hostile apps' test server with the recording's inputs: ``tone.wav``, ``3d/example.glb``."""
    _media.put_recorded_inputs(hostile_comfy)
    return hostile_comfy


@pytest.fixture(scope="module")
def private_app(make_hostile_app, media_comfy):
    """A private app of this module's own, started after the inputs exist: the shared one may hold a node
    table from before ``tone.wav`` was uploaded (cached 30 s), which would refuse the name."""
    return make_hostile_app("media-outputs", public=False)


def _names(value) -> list[str]:
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("image") or item.get("video") or item
            item = item.get("orig_name") or item.get("path") if isinstance(item, dict) else item
        names.append(Path(str(item)).name)
    return names


def test_the_custom_tab_shows_every_kind(private_app, media_comfy):
    outcome = run_custom_workflow(private_app, RUN["prompt"], name="media.json")
    assert_survived(private_app, outcome)
    assert outcome.output("Message") == "Done — 6 files.", outcome.texts()[:1500]
    assert [n.split("_0")[0] for n in _names(outcome.output("Images"))] == ["anim"]
    assert _names(outcome.output("Video"))[0].startswith("clip_") and _names(outcome.output("Video"))[0].endswith(".mp4")
    assert _names(outcome.output("Audio"))[0].endswith(".flac")
    assert _names(outcome.output("3D model")) == ["example.glb"]
    assert outcome.output("Text") == "a caption made by the graph"
    files = _names(outcome.output("Files"))
    assert len(files) == 5 and not any(n.endswith(".webp") for n in files)
    assert comfy_url_free(outcome.text, media_comfy.url)


def comfy_url_free(text: str, url: str) -> bool:
    """No ComfyUI address reaches the browser: every file is the app's."""
    return url not in text and "/view?" not in text


def test_a_kind_never_seen_is_kept_with_a_note(private_app, media_comfy):
    media_comfy.add_output_kind("PreviewAny", "gifs", "loop_00001_.gif", _gif())
    media_comfy.add_output_kind("PreviewAny", "blobs", "data_00001_.bin", b"\x00\x01 opaque")
    graph = {"1": {"class_type": "PrimitiveString", "inputs": {"value": "hello"}},
             "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}}}
    try:
        outcome = run_custom_workflow(private_app, graph, name="kinds.json")
    finally:
        media_comfy.clear_output_kinds()   # the session's other tests share this server
    assert_survived(private_app, outcome)
    assert outcome.output("Message") == "Done — 3 files.", outcome.texts()[:1500]
    assert _names(outcome.output("Images")) == ["loop_00001_.gif"]
    assert outcome.output("Text") == "hello"
    assert "data_00001_.bin" in _names(outcome.output("Files"))
    assert "Kept as files to download (this page cannot show them): data_00001_.bin" in outcome.texts()


def _gif() -> bytes:
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("P", (4, 4)).save(buf, format="GIF")
    return buf.getvalue()


def test_the_cli_saves_every_kind(media_comfy, tmp_path):
    workflow = tmp_path / "media.json"
    workflow.write_text(json.dumps(RUN["prompt"]))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "comfy_ui_app", "generate", "--server", media_comfy.url,
                           "--workflow", str(workflow), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    saved = sorted(p.name for p in out.rglob("*") if p.is_file()
                   and not p.name.startswith(("loop_", "data_")))  # the kinds another test taught PreviewAny
    kinds = sorted(media_of(n) for n in saved)
    assert kinds == ["3d", "audio", "audio", "image", "text", "video"], saved
    text = next(p for p in out.rglob("*.txt"))
    assert text.read_text() == "a caption made by the graph"


def test_history_and_results_sort_files_by_media(tmp_path):
    """What History's "open" and the Custom tab's results send each component (``MediaResults.updates``)."""
    from comfy_ui_app.ui._media_results import MediaResults, pictures

    names = ["a_00001_.png", "clip_00001_.mp4", "tone_00001_.flac", "example.glb", "text_40_1.txt", "x.bin"]
    paths = [str(tmp_path / n) for n in names]
    (tmp_path / "text_40_1.txt").write_text("a caption")
    assert pictures(paths) == paths[:1]
    video, audio, model, text, files, note = MediaResults.updates(paths, "zh-CN")
    assert (video["value"], audio["value"], model["value"]) == tuple(paths[1:4])
    assert text["value"] == "a caption" and files["value"] == paths[1:]
    assert note["value"] == "已作为文件保留供下载（本页无法显示）：x.bin"
    hidden = MediaResults.updates(paths[:1], "en")
    assert [u["visible"] for u in hidden] == [False] * 6
