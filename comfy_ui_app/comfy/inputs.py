"""Input files a job carries: the pictures its ``LoadImage`` nodes read (and the sounds, videos, 3D
models of ``LoadAudio``, ``LoadVideo``, ``Load3D``).

On one server a picture is uploaded before the job is sent and the prompt names the
upload. Over a :class:`~comfy_ui_app.cluster.cluster.Cluster` the server is chosen later, so the
job carries its pictures as :class:`InputFile` s (bytes, name, subfolder, type) and the
cluster uploads them to the chosen server right before sending the prompt there (and again
to the next server if the job moves). Names are content hashes (:func:`content_name`)
uploaded with ``overwrite``: sending the same file twice, to the same server or another,
writes the same file under the same name the prompt already refers to.

:class:`InputCache` remembers recent inputs by name, so a job sent again from its record
(Retry, History's Re-run) finds its pictures although the record keeps only the prompt.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from comfy_ui_app.errors import ComfyError

__all__ = ["InputFile", "InputCache", "content_name", "referenced", "upload_inputs"]

SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff",
            # sounds, videos, 3D models of LoadAudio, LoadVideo, Load3D (jobs.media_files names them by format)
            ".wav", ".flac", ".mp3", ".ogg", ".m4a", ".mp4", ".mov", ".webm", ".avi", ".glb", ".gltf", ".obj",
            ".fbx", ".stl", ".ply")


def content_name(data: bytes, name: str = "", prefix: str = "upload-") -> str:
    """``<prefix><hash of data><suffix of name>``: the same bytes always get the same name."""
    suffix = PurePosixPath(str(name)).suffix.lower()
    return f"{prefix}{hashlib.sha256(data).hexdigest()[:24]}{suffix if suffix in SUFFIXES else '.png'}"


@dataclass(frozen=True)
class InputFile:
    """One file to ``POST /upload/image`` (with ``overwrite``) before the prompt is sent."""

    data: bytes
    name: str
    subfolder: str = ""
    type: str = "input"

    def __repr__(self) -> str:
        return f"InputFile({self.ref!r}, {len(self.data)} bytes)"

    @property
    def ref(self) -> str:
        """The value a ``LoadImage`` input takes for it (``subfolder/name``)."""
        return f"{self.subfolder}/{self.name}" if self.subfolder else self.name


def _answer_ref(answer: dict) -> str:
    name, subfolder = str(answer.get("name") or ""), str(answer.get("subfolder") or "")
    return f"{subfolder}/{name}" if subfolder else name


def upload_inputs(client, inputs: Iterable[InputFile]) -> None:
    """Upload every input to ``client``'s server; raises what the upload raises, and a
    ComfyError if the server stored one under another name than the prompt uses."""
    for item in inputs:
        answer = client.upload_image(item.data, item.name, type=item.type, subfolder=item.subfolder, overwrite=True)
        if _answer_ref(answer) != item.ref:
            raise ComfyError(f"ComfyUI at {client.base_url} saved the picture {item.ref} as {_answer_ref(answer)}")


def referenced(prompt: dict, refs: Iterable[str]) -> set[str]:
    """Those of ``refs`` that some node input of ``prompt`` names (as a string value)."""
    wanted = set(refs)
    found = set()
    for node in prompt.values():
        for value in ((node or {}).get("inputs") or {}).values() if isinstance(node, dict) else ():
            if isinstance(value, str) and value in wanted:
                found.add(value)
    return found


class InputCache:
    """The most recent inputs by ``ref``, at most ``max_bytes`` in all (thread-safe)."""

    def __init__(self, max_bytes: int = 256_000_000) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, InputFile] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def add(self, inputs: Iterable[InputFile]) -> None:
        with self._lock:
            for item in inputs:
                old = self._items.pop(item.ref, None)
                self._size -= len(old.data) if old is not None else 0
                self._items[item.ref] = item
                self._size += len(item.data)
            while self._size > self.max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped.data)

    def for_prompt(self, prompt: dict) -> list[InputFile]:
        """The remembered inputs ``prompt`` refers to (and they count as used just now)."""
        with self._lock:
            refs = referenced(prompt, self._items)
            for ref in refs:
                self._items.move_to_end(ref)
            return [self._items[ref] for ref in sorted(refs)]
