"""The one place that decides whether a picked file may be sent to ComfyUI.

:func:`check_image` looks at the bytes only (never at a name the browser chose): it must
be non-empty, no larger than the server's ``/features`` ``max_upload_size`` (when the
server says one), an image PIL recognises, and at most :data:`MAX_PIXELS` pixels. The
size is read from the header, before any pixel is decoded, so a decompression bomb
costs nothing. ``limits`` (a :class:`~comfy_ui_app.jobs.limits.Limits`, given for users who
are not admins) adds the public app's caps: megabytes per picture and pixels per picture
(LimitExceeded naming the cap). :func:`upload_name` gives the file name to send: the last path part
only, tidied by the job store's rules. No Gradio here: the runner and the inpainting
code call these.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image

from comfy_ui_app.errors import ComfyError, WorkflowError
from comfy_ui_app.jobs.store import safe_filename

__all__ = ["MAX_PIXELS", "UploadRefused", "check_image", "is_picked_file", "server_upload_limit", "upload_name",
           "read_upload"]

MAX_PIXELS = 64_000_000  # about 8000 x 8000; ComfyUI would need far more memory than that


class UploadRefused(WorkflowError):
    """A file that may not be sent; ``template``/``params`` let ``messages.describe`` translate it."""

    def __init__(self, template: str, field: str | None = None, **params) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params), field)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} KB" if size >= 1000 \
        else f"{size} bytes"


def server_upload_limit(client) -> int | None:
    """The server's ``/features`` ``max_upload_size`` in bytes, or None if it gives none."""
    fetch = getattr(client, "features", None)  # older servers and test doubles may have none
    if fetch is None:
        return None
    try:
        features = fetch()
    except ComfyError:
        return None
    size = features.get("max_upload_size") if isinstance(features, dict) else None
    return int(size) if isinstance(size, (int, float)) and not isinstance(size, bool) and size > 0 else None


def check_image(data: bytes, name: str, *, max_bytes: int | None = None, max_pixels: int = MAX_PIXELS,
                field: str | None = None, limits=None) -> tuple[int, int]:
    """``(width, height)`` of the image in ``data``; WorkflowError (naming the limit) if unusable,
    LimitExceeded if over a cap of ``limits``."""
    label = upload_name(name)
    if not data:
        raise UploadRefused("The file {name} is empty.", field, name=label)
    if limits is not None:
        limits.check_upload(len(data), label, field=field)
    if max_bytes is not None and len(data) > max_bytes:
        raise UploadRefused("The file {name} is too large ({size}); this ComfyUI server accepts uploads up to "
                            "{limit}.", field, name=label, size=_mb(len(data)), limit=_mb(max_bytes))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                width, height = image.size
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, Image.DecompressionBombError):
            raise UploadRefused("The picture {name} is too large (over {limit} pixels).", field, name=label,
                                limit=f"{max_pixels:,}") from exc
        raise UploadRefused("The file {name} is not a picture (PNG, JPEG or WebP).", field, name=label) from exc
    if width * height > max_pixels:
        raise UploadRefused("The picture {name} is too large ({width}×{height} pixels); the limit is {limit} "
                            "pixels.", field, name=label, width=width, height=height, limit=f"{max_pixels:,}")
    if limits is not None:
        limits.check_pixels(width, height, field=field, name=label)
    return width, height


def upload_name(name: str | Path) -> str:
    """The name to upload under: no directories (``../``, absolute paths), odd characters replaced."""
    return safe_filename(str(name))


def is_picked_file(value, roots) -> bool:
    """Whether ``value`` is a file the browser uploaded: an absolute path, no ``..``, under one of
    ``roots`` (where the web framework keeps uploads). Anything else is never opened."""
    if not isinstance(value, str) or not value:
        return False
    path = Path(value)
    if not path.is_absolute() or ".." in path.parts:
        return False
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return real.is_file() and any(real.is_relative_to(Path(root).resolve()) for root in roots if root)


def read_upload(path: str | Path, client, *, field: str | None = None, limits=None) -> tuple[bytes, str]:
    """A picked file's bytes and upload name, checked; ``client`` gives the server's limit,
    ``limits`` the user's caps (None: an admin, or none configured)."""
    path = Path(path)
    data = path.read_bytes()
    check_image(data, path.name, max_bytes=server_upload_limit(client), field=field, limits=limits)
    return data, upload_name(path.name)
