"""Decoding of WebSocket frames, checked against frames recorded from a real ComfyUI."""

import base64
import io
import json
import struct
from pathlib import Path

import pytest
from PIL import Image

from comfy_ui_app import BinaryEventType, PreviewFrame, TextFrame, decode_binary, decode_text

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "ws_binary_frames.json").read_text())


def _rebuild(record: dict, image: bytes) -> bytes:
    """Re-assemble a frame from the recording's header fields and an image payload."""
    header = bytes.fromhex(record["first8_hex"])
    if record["event_type"] == BinaryEventType.PREVIEW_IMAGE_WITH_METADATA:
        meta = json.dumps(record["metadata"], separators=(", ", ": ")).encode()
        header = struct.pack(">II", 4, len(meta)) + meta
    return header + image


def test_recorded_legacy_frame_decodes_to_the_recorded_jpeg():
    record = RECORDED["legacy_client_cold"][0]
    frame = bytes.fromhex(record["first8_hex"]) + base64.b64decode(record["image_base64"])
    assert len(frame) == record["length"]  # the recording keeps the image, not the header
    decoded = decode_binary(frame)
    assert isinstance(decoded, PreviewFrame)
    assert decoded.mime == "image/jpeg"
    assert decoded.prompt_id is None
    assert len(decoded.image) == record["image_bytes_length"]
    image = Image.open(io.BytesIO(decoded.image))
    assert [image.format, list(image.size)] == [record["image"]["format"], record["image"]["size"]]


@pytest.mark.parametrize("record", RECORDED["preview_metadata_client"], ids=lambda r: f"seq{r['seq']}")
def test_recorded_type4_layout_gives_prompt_id_and_node(record):
    jpeg = b"\xff\xd8fake-jpeg\xff\xd9"
    decoded = decode_binary(_rebuild(record, jpeg))
    assert isinstance(decoded, PreviewFrame)
    assert decoded.image == jpeg
    assert decoded.prompt_id == record["metadata"]["prompt_id"]
    assert decoded.node_id == record["metadata"]["node_id"]
    assert decoded.mime == record["metadata"]["image_type"]


def test_png_format_code_and_text_frames():
    png = decode_binary(struct.pack(">II", 1, 2) + b"png-bytes")
    assert png.mime == "image/png" and png.image == b"png-bytes"
    text = decode_binary(struct.pack(">II", 3, 2) + b"12hello \xe2\x9c\x93")
    assert text == TextFrame("12", "hello \u2713")


def test_unused_event_types_are_skipped():
    assert decode_binary(struct.pack(">II", 2, 0) + b"raw") is None


@pytest.mark.parametrize(
    "frame, message",
    [
        (b"\x00\x00\x00\x01", "too short"),
        (struct.pack(">II", 4, 500) + b"{}", "runs past the end"),
        (struct.pack(">II", 4, 2) + b"[]jpeg", "not an object"),
        (struct.pack(">II", 3, 9) + b"1", "runs past the end"),
    ],
)
def test_malformed_binary_frames_raise_value_error(frame, message):
    with pytest.raises(ValueError, match=message):
        decode_binary(frame)


@pytest.mark.parametrize(
    "raw, kind, prompt_id",
    [
        ('{"type":"status","data":{"status":{"exec_info":{"queue_remaining":0}},"sid":"x"}}', "status", None),
        ('{"type":"progress","data":{"value":1,"max":4,"prompt_id":"p1","node":"3"}}', "progress", "p1"),
        ('{"type":"executing","data":{"node":null,"prompt_id":"p1"}}', "executing", "p1"),
        ('{"type":"some_future_event","data":{"prompt_id":"p2"}}', "some_future_event", "p2"),
    ],
)
def test_text_messages(raw, kind, prompt_id):
    message = decode_text(raw)
    assert message.type == kind
    assert message.prompt_id == prompt_id
    assert message.known == (kind != "some_future_event")


@pytest.mark.parametrize("raw", ["not json", "[1,2]", '{"data":{}}'])
def test_malformed_text_messages_raise_value_error(raw):
    with pytest.raises(ValueError):
        decode_text(raw)
