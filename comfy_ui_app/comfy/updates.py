"""What a running job reports, as small immutable values a UI can render."""

from __future__ import annotations

import io
import itertools
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Union

from comfy_ui_app.comfy.outputs import media_of
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
    """One output file, its bytes already fetched through ``/view`` (a picture, or any other
    kind: :attr:`media`; a text output's bytes are its UTF-8 text, its name ``text_<node>_<n>.txt``).

    ``path`` is where the app stored it, when a ``save_outputs`` hook is installed
    on :class:`~comfy_ui_app.Comfy` (the job store does this).
    """

    filename: str
    subfolder: str
    type: str
    data: bytes = field(repr=False)
    path: Path | None = None

    def save(self, directory: str | Path, *, name: str | None = None, sep: str = "_",
             replace: bool = False) -> Path:
        """Write the bytes (PNG metadata intact) into ``directory``; returns the path. The one
        place the app writes an output file (the job store, the page, the CLI all come here).

        ``name`` (default: the server's file name) loses its folders: never trust a
        server-supplied path. A name already taken gets ``<sep>1``, ``<sep>2``… before its
        extension, so no file is overwritten. With ``replace`` that very file, which must exist,
        gets the new bytes instead, atomically (a reader never sees half a file); OSError if it or
        its folder is gone."""
        directory = Path(directory)
        base = Path(self.filename if name is None else name).name or "output.png"
        if replace:
            path = directory / base
            if not path.is_file():
                raise FileNotFoundError(path)
            tmp = path.with_name(f".{base}.{secrets.token_hex(4)}.tmp")
            try:
                tmp.write_bytes(self.data)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            return path
        directory.mkdir(parents=True, exist_ok=True)
        for n in itertools.count():
            path = directory / (base if n == 0 else f"{Path(base).stem}{sep}{n}{Path(base).suffix}")
            try:
                with open(path, "xb") as f:  # "x": fails rather than overwrite
                    f.write(self.data)
                return path
            except FileExistsError:
                continue
        raise AssertionError("unreachable")  # itertools.count() never ends

    @property
    def media(self) -> str:
        """``image``, ``video``, ``audio``, ``3d``, ``text`` or ``file`` (a kind no page shows:
        kept for download), from the file's name (see :mod:`comfy_ui_app.comfy.outputs`)."""
        return media_of(self.filename)

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
