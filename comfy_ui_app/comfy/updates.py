"""What a running job reports, as small immutable values a UI can render."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Union

from comfy_ui_app.errors import ComfyError

__all__ = [
    "Queued",
    "Started",
    "Executing",
    "Progress",
    "Preview",
    "Output",
    "Finished",
    "OutputImage",
    "Update",
]


def _open_image(data: bytes):
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@dataclass(frozen=True)
class OutputImage:
    """One output file, its bytes already fetched through ``/view``.

    ``path`` is where the app stored it, when a ``save_outputs`` hook is installed
    on :class:`~comfy_ui_app.Comfy` (the job store does this).
    """

    filename: str
    subfolder: str
    type: str
    data: bytes = field(repr=False)
    path: Path | None = None

    def save(self, directory: str | Path) -> Path:
        """Write the bytes (PNG metadata intact) into ``directory``; returns the path."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / Path(self.filename).name  # never trust a server-supplied path
        path.write_bytes(self.data)
        return path

    def to_pil(self):
        return _open_image(self.data)


@dataclass(frozen=True)
class Queued:
    """Waiting in ComfyUI's queue; ``position`` counts the prompts ahead (running included)."""

    position: int | None = None


@dataclass(frozen=True)
class Started:
    """ComfyUI took the job from its queue."""


@dataclass(frozen=True)
class Executing:
    """A node started running."""

    node: str
    class_type: str | None = None


@dataclass(frozen=True)
class Progress:
    """Step ``value`` of ``max`` inside a node, with an estimate of the time left."""

    value: int
    max: int
    node: str | None = None
    eta_s: float | None = None

    @property
    def fraction(self) -> float:
        return min(1.0, self.value / self.max) if self.max else 0.0


@dataclass(frozen=True)
class Preview:
    """The newest latent preview (older ones are dropped, never queued up)."""

    image: bytes = field(repr=False)
    mime: str = "image/jpeg"
    node: str | None = None

    def to_pil(self):
        return _open_image(self.image)


@dataclass(frozen=True)
class Output:
    """An output node finished; its images are fetched."""

    node: str
    images: tuple[OutputImage, ...]


@dataclass(frozen=True)
class Finished:
    """The last update of every job."""

    status: Literal["success", "error", "interrupted"]
    images: tuple[OutputImage, ...] = ()
    error: ComfyError | None = None

    @property
    def ok(self) -> bool:
        return self.status == "success"


Update = Union[Queued, Started, Executing, Progress, Preview, Output, Finished]
