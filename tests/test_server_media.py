"""The test server's media outputs against the real ComfyUI run in ``fixtures/comfyui/media_run.json``
(video, animated WEBP, audio, 3D preview, text): the same ``executed`` outputs, the same
``/history`` entry, each file served by ``/view`` with ComfyUI's content type and first bytes,
and files a reader of each kind opens (Pillow for the WEBP, ``wave``/FLAC header, the MP4's
box tree, the GLB's chunks)."""
from __future__ import annotations

import io
import json
import re
import struct
from pathlib import Path

import pytest
import requests
from PIL import Image

from comfy_test_server import _media
from comfy_test_server._probe import WsProbe

FIX = Path(__file__).parent / "fixtures" / "comfyui"
MEDIA = json.loads((FIX / "media_run.json").read_text())
RUN = MEDIA["media_run"]
COUNTER = re.compile(r"_\d{5}_\.")


def _normal(value):
    """Outputs with file counters and PreviewAudio's random temp names made comparable."""
    text = COUNTER.sub("_N_.", json.dumps(value, sort_keys=True))
    return json.loads(re.sub(r"ComfyUI_temp_[a-z]{5}", "ComfyUI_temp_X", text))


@pytest.fixture
def media_server(comfy_server):
    wav = _media.wav_bytes(_media.tone())
    answer = requests.post(comfy_server.url + "/upload/image", files={"image": ("tone.wav", wav, "audio/wav")})
    assert answer.status_code == MEDIA["upload_wav"]["status"]
    assert answer.json() == MEDIA["upload_wav"]["body"]
    folder = Path(comfy_server.dirs["input"]) / "3d"
    folder.mkdir(exist_ok=True)
    (folder / "example.glb").write_bytes(_media.glb_triangle())
    return comfy_server


def _run(server):
    probe = WsProbe(server.url, "media")
    try:
        response = requests.post(server.url + "/prompt", json={"prompt": RUN["prompt"], "client_id": "media"})
        assert response.status_code == 200, response.text
        prompt_id = response.json()["prompt_id"]
        probe.until_done(prompt_id, timeout=20)
        return prompt_id, probe.texts("executed")
    finally:
        probe.close()


def test_load_audio_lists_the_uploaded_wav(media_server):
    listed = requests.get(media_server.url + "/object_info/LoadAudio").json()["LoadAudio"]["input"]["required"]
    assert listed["audio"][0] == ["tone.wav"]


def test_media_outputs_are_reported_as_comfyui_reports_them(media_server):
    prompt_id, executed = _run(media_server)
    recorded = {m["data"]["node"]: m["data"]["output"] for m in RUN["ws_messages"] if m["type"] == "executed"}
    ours = {m["data"]["node"]: m["data"]["output"] for m in executed}
    assert _normal(ours) == _normal(recorded)  # "40" (text) included: the recording ran it uncached
    history = requests.get(f"{media_server.url}/history/{prompt_id}").json()[prompt_id]
    recorded_history = next(iter(RUN["history"].values()))
    assert _normal(history["outputs"]) == _normal(recorded_history["outputs"])
    assert history["status"]["status_str"] == "success"


def test_each_media_file_is_served_with_comfyuis_type_and_first_bytes(media_server):
    prompt_id, _ = _run(media_server)
    outputs = requests.get(f"{media_server.url}/history/{prompt_id}").json()[prompt_id]["outputs"]
    served = {}
    for node, output in outputs.items():
        for key, items in output.items():
            for ref in (i for i in items if isinstance(i, dict)):
                answer = requests.get(media_server.url + "/view", params=ref)
                served[f"{node}/{key}/{ref['filename']}"] = answer
    assert len(served) == len(RUN["view"])
    for name, recorded in RUN["view"].items():
        answer = served[COUNTER.sub("_00001_.", re.sub(r"ComfyUI_temp_[a-z]{5}", _temp_name(served), name))]
        assert answer.status_code == recorded["status"]
        assert answer.headers["Content-Type"] == recorded["content_type"]
        magic = bytes.fromhex(recorded["magic"])
        if recorded["content_type"] == "video/mp4":  # "....ftypisom": the box size differs with the brands
            assert answer.content[4:12] == magic[4:12]
        elif recorded["content_type"] == "image/webp":  # "RIFF<size>WEBP"
            assert answer.content[:4] == magic[:4] and answer.content[8:12] == magic[8:12]
        else:
            assert answer.content[:12] == magic
    # the 3D preview names a file of the input folder: it is served from there
    glb = requests.get(media_server.url + "/view", params={"filename": "example.glb", "subfolder": "3d",
                                                          "type": "input"})
    assert glb.status_code == 200 and glb.content[:4] == b"glTF"


def _temp_name(served) -> str:
    return next(re.search(r"ComfyUI_temp_[a-z]{5}", name).group(0) for name in served if "ComfyUI_temp_" in name)


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    end = len(data) if end is None else end
    while start < end:
        size, kind = struct.unpack(">I4s", data[start:start + 8])
        assert size >= 8 and start + size <= end, (kind, size)
        yield kind, start + 8, start + size
        start += size


def test_the_files_are_real_of_their_kind():
    mp4 = _media.mp4_of_jpegs([b"\xff\xd8a\xff\xd9", b"\xff\xd8bb\xff\xd9"], 32, 24, 8.0)
    top = {kind: (a, b) for kind, a, b in _boxes(mp4)}
    assert list(top) == [b"ftyp", b"moov", b"mdat"]
    assert mp4[top[b"mdat"][0]:top[b"mdat"][1]] == b"\xff\xd8a\xff\xd9\xff\xd8bb\xff\xd9"
    stco = mp4.index(b"stco")
    assert struct.unpack(">I", mp4[stco + 12:stco + 16])[0] == top[b"mdat"][0]  # the chunk offset points at it
    flac = _media.flac_bytes(_media.tone(0.3), 8000)
    assert flac[:4] == b"fLaC" and struct.unpack(">Q", flac[18:26])[0] & ((1 << 36) - 1) == 2400
    assert flac[42] == 0x84  # the last metadata block: VORBIS_COMMENT
    glb = _media.glb_triangle()
    magic, version, length = struct.unpack("<III", glb[:12])
    assert (magic, version, length) == (0x46546C67, 2, len(glb))
    assert json.loads(glb[20:20 + struct.unpack("<I", glb[12:16])[0]])["accessors"][0]["count"] == 3


def test_the_animated_webp_is_animated(media_server):
    prompt_id, executed = _run(media_server)
    ref = next(m["data"]["output"]["images"][0] for m in executed if m["data"]["node"] == "12")
    data = requests.get(media_server.url + "/view", params=ref).content
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP" and image.n_frames == 4  # one frame per picture of the batch of 4
