"""Pure decoders for what ComfyUI sends over its WebSocket.

Text frames are JSON ``{"type": ..., "data": {...}}``; binary frames start with a
big-endian uint32 event type. Layouts are those of ComfyUI's ``protocol.py`` /
``server.py`` as recorded in ``tests/fixtures`` (``ws_txt2img_auto.json``:
``legacy_client_*`` carry type 1 frames, ``preview_metadata_client`` type 4).
"""

from __future__ import annotations

import enum
import json
import struct
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BinaryEventType",
    "ImageFormat",
    "MESSAGE_TYPES",
    "Message",
    "PreviewFrame",
    "TextFrame",
    "decode_binary",
    "decode_text",
    "FEATURE_FLAGS_HELLO",
]


class BinaryEventType(enum.IntEnum):
    """First uint32 of a binary frame (ComfyUI ``protocol.BinaryEventTypes``)."""

    PREVIEW_IMAGE = 1  # uint32 format, image bytes
    UNENCODED_PREVIEW_IMAGE = 2  # internal to the server, never sent
    TEXT = 3  # uint32 node_id length, node_id, utf-8 text
    PREVIEW_IMAGE_WITH_METADATA = 4  # uint32 json length, json metadata, image bytes


class ImageFormat(enum.IntEnum):
    """Second uint32 of a type-1 frame."""

    JPEG = 1
    PNG = 2


#: Every text message type seen in the recordings (others are passed through untouched).
MESSAGE_TYPES = frozenset(
    {
        "status",
        "feature_flags",
        "execution_start",
        "execution_cached",
        "progress_state",
        "executing",
        "progress",
        "executed",
        "execution_success",
        "execution_error",
        "execution_interrupted",
    }
)

#: Sent first on every connection so previews arrive as type 4 frames with their prompt_id.
FEATURE_FLAGS_HELLO = json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}})


@dataclass(frozen=True)
class Message:
    """One decoded text message."""

    type: str
    data: dict = field(default_factory=dict)

    @property
    def prompt_id(self) -> str | None:
        return self.data.get("prompt_id")

    @property
    def known(self) -> bool:
        return self.type in MESSAGE_TYPES


@dataclass(frozen=True)
class PreviewFrame:
    """A latent preview image (type 1, or type 4 with its metadata)."""

    image: bytes
    mime: str
    metadata: dict = field(default_factory=dict)

    @property
    def prompt_id(self) -> str | None:
        return self.metadata.get("prompt_id")

    @property
    def node_id(self) -> str | None:
        return self.metadata.get("node_id")


@dataclass(frozen=True)
class TextFrame:
    """A type 3 frame: text a node streams to the front-end."""

    node_id: str
    text: str


def decode_text(raw: str | bytes) -> Message:
    """Decode a text frame; raises ValueError when it is not a ``{type, data}`` object."""
    payload = json.loads(raw)
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise ValueError("not a ComfyUI message: expected an object with a 'type'")
    data = payload.get("data")
    return Message(payload["type"], data if isinstance(data, dict) else {})


def decode_binary(frame: bytes) -> PreviewFrame | TextFrame | None:
    """Decode a binary frame; ``None`` for event types we do not use.

    Raises ValueError for a frame too short for its declared layout.
    """
    if len(frame) < 8:
        raise ValueError(f"binary frame of {len(frame)} bytes is too short")
    event_type, second = struct.unpack(">II", frame[:8])
    if event_type == BinaryEventType.PREVIEW_IMAGE:
        mime = "image/png" if second == ImageFormat.PNG else "image/jpeg"
        return PreviewFrame(frame[8:], mime)
    if event_type == BinaryEventType.PREVIEW_IMAGE_WITH_METADATA:
        end = 8 + second
        if end > len(frame):
            raise ValueError("preview metadata runs past the end of the frame")
        metadata: Any = json.loads(frame[8:end].decode("utf-8"))
        if not isinstance(metadata, dict):
            raise ValueError("preview metadata is not an object")
        return PreviewFrame(frame[end:], str(metadata.get("image_type", "image/jpeg")), metadata)
    if event_type == BinaryEventType.TEXT:
        end = 8 + second
        if end > len(frame):
            raise ValueError("text frame node id runs past the end of the frame")
        return TextFrame(frame[8:end].decode("utf-8"), frame[end:].decode("utf-8", "replace"))
    return None
