"""Upload fields that are not pictures (issue 14 point 2, inputs): LoadAudio's sound, LoadVideo's video,
Load3D's model. Pure tables: the kind a field takes (workflow.file_inputs.upload_kind, the form's Field
kind), the first-bytes judge (jobs.media_files), the file-name rule relaxed for a listed choice with
folders (Load3D's ``3d/x.glb``), and the messages. The attacks themselves, raw over HTTP:
tests/test_hostile_media_inputs.py."""
from __future__ import annotations

import json
import struct
from pathlib import Path
from types import SimpleNamespace

import pytest

from comfy_test_server import _media
from comfy_ui_app.errors import FileRefused, LimitExceeded
from comfy_ui_app.jobs.media_files import media_problem, read_media, sniff
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.workflow.fields import form_fields
from comfy_ui_app.workflow.file_inputs import FileInput, file_inputs, file_verdict, is_file_spec, upload_kind

INFO = json.loads((Path(__file__).parent / "fixtures/comfyui/object_info.json").read_text())
WAV = _media.wav_bytes(_media.tone())
MP4 = _media.mp4_of_jpegs([_media._jpeg(__import__("PIL.Image").Image.new("RGB", (8, 8)))], 8, 8, 8.0)
GLB = _media.glb_triangle()
STL_BINARY = b"\x00" * 80 + struct.pack("<I", 1) + b"\x00" * 50


# -- which kind of file a field takes -------------------------------------------------------------

def test_every_upload_flagged_loader_gets_a_picker_of_its_kind():
    graph = {"1": {"class_type": "LoadAudio", "inputs": {"audio": "tone.wav"}},
             "2": {"class_type": "LoadVideo", "inputs": {"file": "clip.mp4"}},
             "3": {"class_type": "Load3D", "inputs": {"model_file": "3d/example.glb", "image": "", "width": 64,
                                                      "height": 64}},
             "4": {"class_type": "LoadImage", "inputs": {"image": "example.png"}}}
    kinds = {(f.node_id, f.input_name): f.kind for f in form_fields(graph, INFO, None)}
    assert kinds[("1", "audio")] == "audio" and kinds[("2", "file")] == "video"
    assert kinds[("3", "model_file")] == "model3d" and kinds[("4", "image")] == "image"
    assert kinds[("3", "width")] == "int"


@pytest.mark.parametrize("options, expected", [
    ({"audio_upload": True}, "audio"), ({"video_upload": True}, "video"), ({"file_upload": True}, "model3d"),
    ({"animated_image_upload": True}, "animation"), ({"image_upload": True}, "image"), ({}, None), (None, None),
])
def test_upload_kind(options, expected):
    assert upload_kind(options) == expected


def test_load3d_model_file_is_a_file_name_input_now():
    assert is_file_spec([[], {"file_upload": True}])
    prompt = {"3": {"class_type": "Load3D", "inputs": {"model_file": "../../x.glb", "image": ""}}}
    assert [(f.input_name, f.value) for f in file_inputs(prompt, INFO)] == [("model_file", "../../x.glb")]


# -- the file-name rule: folders only for a choice the server lists, exactly -----------------------

LISTED_3D = ("3d/example.glb", "3d/sub/deep.obj", "3d/../x.glb", "3d//x.glb", "3d/x.glb [output]", "C:/x.glb",
             "/abs/x.glb", "3d\\x.glb")


@pytest.mark.parametrize("value, kwargs, expected", [
    ("3d/example.glb", {}, None),                       # listed exactly: the one shape with folders allowed
    ("3d/sub/deep.obj", {}, None),
    ("3d/other.glb", {}, "path"),                       # folders, but not listed
    ("3d/example.glb ", {}, "path"),                    # not EXACTLY a listed one
    ("3d/../x.glb", {}, "path"),                        # listed (a hostile server list), still a way out
    ("3d//x.glb", {}, "path"),
    ("3d/x.glb [output]", {}, "path"),                  # an annotation is never allowed
    ("C:/x.glb", {}, "path"),
    ("/abs/x.glb", {}, "path"),
    ("3d\\x.glb", {}, "path"),
    ("../3d/example.glb", {}, "path"),
    ("3d/example.glb", {"trusted": True}, None),        # the command line too
    ("../x.glb", {"trusted": True}, "path"),
])
def test_a_listed_choice_with_folders(value, kwargs, expected):
    assert file_verdict(FileInput("3", "Load3D", "model_file", value, LISTED_3D), **kwargs) == expected


def test_a_listed_subfolder_upload_of_someone_else_is_still_not_yours():
    from comfy_ui_app.jobs.graph_rules import owner_tag

    theirs = f"3d/u-{owner_tag('bob')}-upload-0123456789abcdef01234567.glb"
    item = FileInput("3", "Load3D", "model_file", theirs, (theirs,))
    assert file_verdict(item, own_tag=owner_tag("alice")) == "not_yours"
    assert file_verdict(item, own_tag=owner_tag("bob")) is None


# -- the first-bytes judge --------------------------------------------------------------------------

@pytest.mark.parametrize("head, size, expected", [
    (WAV, None, "wav"),
    (b"fLaC\x00\x00\x00\x22", None, "flac"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00", None, "mp3"),
    (b"\xff\xfb\x90\x64", None, "mp3"),                        # an MPEG frame, no ID3 tag
    (b"OggS\x00\x02", None, "ogg"),
    (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", None, "m4a"),
    (MP4, None, "mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", None, "mov"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", None, "webm"),
    (b"RIFF\x00\x00\x00\x00AVI LIST", None, "avi"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8X", None, "webp"),
    (b"GIF89a\x01\x00", None, "gif"),
    (b"\x89PNG\r\n\x1a\n\x00", None, "png"),
    (GLB, None, "glb"),
    (b'{"asset": {"version": "2.0"}, "scenes": []}', None, "gltf"),
    (b"# Blender OBJ\nv 0 0 0\nv 1 0 0\nf 1 2 3\n", None, "obj"),
    (b"v 0 0 0\n", None, "obj"),
    (b"Kaydara FBX Binary  \x00\x1a\x00", None, "fbx"),
    (b"; FBX 7.4.0 project file\n", None, "fbx"),
    (b"solid cube\n facet normal 0 0 1\n", None, "stl"),
    (STL_BINARY, len(STL_BINARY), "stl"),
    (b"ply\nformat ascii 1.0\n", None, "ply"),
    (b"hello, these are notes\n", None, None),
    (b"%PDF-1.7\n", None, None),
    (b"MZ\x90\x00", None, None),                                 # a program
    (STL_BINARY, len(STL_BINARY) + 1, None),                     # a count that does not match the size
])
def test_sniff(head, size, expected):
    assert sniff(head[:512], size) == expected


@pytest.mark.parametrize("head, media, expected", [
    (WAV, "audio", None), (MP4, "audio", "wrong_kind"), (GLB, "audio", "wrong_kind"), (b"", "audio", "empty"),
    (MP4, "video", None), (WAV, "video", "wrong_kind"), (b"GIF89a", "video", None),
    (GLB, "model3d", None), (WAV, "model3d", "wrong_kind"), (b"\x89PNG\r\n\x1a\n", "model3d", "wrong_kind"),
    (b"GIF89a", "animation", None), (MP4, "animation", "wrong_kind"),
])
def test_media_problem(head, media, expected):
    assert media_problem(head, media) == expected


def _client(max_upload_size=None):
    return SimpleNamespace(features=lambda: {"max_upload_size": max_upload_size} if max_upload_size else {})


def test_read_media_names_the_upload_by_the_format_found(tmp_path):
    path = tmp_path / "my song.mp3"              # the browser's name says MP3; the bytes are a WAV
    path.write_bytes(WAV)
    data, name = read_media(path, "audio", _client())
    assert data == WAV and name == "my song.wav"


@pytest.mark.parametrize("content, media, limits, server, expected", [
    (b"just some notes\n", "audio", None, None,
     "The file notes.wav is not a sound file (WAV, FLAC, MP3, OGG or M4A)."),
    (WAV, "video", None, None, "The file notes.wav is not a video (MP4, MOV, WebM, MKV, AVI, GIF or WebP)."),
    (WAV, "model3d", None, None, "The file notes.wav is not a 3D model (GLB, glTF, OBJ, FBX, STL or PLY)."),
    (b"", "audio", None, None, "The file notes.wav is empty."),
    (WAV + bytes(2_500_000), "audio", SimpleNamespace(max_upload_mb=1), None,
     "The file notes.wav is too large: 2.5 MB, at most 1 MB per file allowed on this server."),
    (WAV, "audio", None, 100, "The file notes.wav is too large (4 KB); this ComfyUI server accepts uploads up "
                              "to 100 bytes."),
])
def test_read_media_refusals_name_their_field(tmp_path, content, media, limits, server, expected):
    path = tmp_path / "notes.wav"
    path.write_bytes(content)
    with pytest.raises((FileRefused, LimitExceeded, ValueError)) as caught:
        read_media(path, media, _client(server), field="1.audio", limits=limits)
    assert caught.value.field == "1.audio"
    assert describe(caught.value) == expected


def test_refusals_in_chinese():
    error = FileRefused("wrong_kind", media="audio", name="x.txt", field="1.audio")
    assert describe(error, lang="zh-CN") == "文件 x.txt 不是音频文件（WAV、FLAC、MP3、OGG 或 M4A）。"
