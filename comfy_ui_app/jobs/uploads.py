"""The one place that decides whether a picked file may be sent to ComfyUI.

:func:`check_image` looks at the bytes only (never at a name the browser chose): it must
be non-empty, no larger than the server's ``/features`` ``max_upload_size`` (when the
server says one), an image PIL recognises, and at most :data:`MAX_PIXELS` pixels. The
size is read from the header, before any pixel is decoded, so a decompression bomb
costs nothing: :func:`picture_header` does that for a path or bytes (every picture a visitor
sends, the Inpainting editor's too), :func:`open_picture` decodes only after it, and
:data:`DECODING` lets two pictures at most be decoded at once, app-wide.
:func:`set_pillow_limit` (called once at start, by ``assembly``) makes Pillow's own bomb
guard refuse anything over our limit, wherever a picture is opened. ``limits`` (a :class:`~comfy_ui_app.jobs.limits.Limits`, given for users who
are not admins) adds the public app's caps: megabytes per picture and pixels per picture
(LimitExceeded naming the cap). :func:`upload_name` gives the file name to send: the last path part
only, tidied by the job store's rules. No Gradio here: the runner and the inpainting
code call these.
"""
from __future__ import annotations

import io
import threading
import warnings
from pathlib import Path

from PIL import Image

from comfy_ui_app.errors import ComfyError, PictureRefused, WorkflowError
from comfy_ui_app.jobs.store import safe_filename
from comfy_ui_app.workflow import masks

__all__ = ["MAX_PIXELS", "DECODING", "UploadRefused", "check_image", "is_picked_file", "server_upload_limit",
           "upload_name", "read_upload", "picture_header", "open_picture", "set_pillow_limit"]

MAX_PIXELS = 64_000_000  # about 8000 x 8000; ComfyUI would need far more memory than that
DECODING = threading.BoundedSemaphore(2)  # hold it while decoding pictures: two at once, app-wide


def set_pillow_limit(max_pixels: int = MAX_PIXELS) -> None:
    """Pillow refuses to open (DecompressionBombError) a picture of more than twice its
    ``MAX_IMAGE_PIXELS``: set to half of ``max_pixels``, it refuses what we refuse, in any code
    that opens a picture (Gradio's own included). Called once, at start."""
    Image.MAX_IMAGE_PIXELS = max(1, max_pixels // 2)


def _size_past_the_guard(stream) -> tuple[int, int] | None:
    """The size in the header of a picture Pillow's bomb guard refused to open (to say how big)."""
    stream.seek(0)
    prefix = stream.read(16)
    for kind in Image.ID:
        factory, accept = Image.OPEN[kind]
        if accept and not accept(prefix):
            continue
        stream.seek(0)
        try:
            with factory(stream, "") as image:  # the plugin reads the header; the guard is Image.open's
                return image.size
        except (OSError, ValueError, SyntaxError, IndexError, TypeError):
            continue
    return None


def _header_size(source) -> tuple[int, int] | None:
    """``(width, height)`` from the header of a path or bytes; None if not a picture Pillow knows."""
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(source, "rb")
    with stream:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(stream) as image:  # reads the header only
                    return image.size
        except Image.DecompressionBombError:
            return _size_past_the_guard(stream)
        except (OSError, ValueError):
            return None


def picture_header(source, *, name: str | None = None, field: str | None = None, max_pixels: int = MAX_PIXELS,
                   limits=None) -> tuple[int, int]:
    """``(width, height)`` of the picture at ``source`` (a path or bytes), read from its header
    only; PictureRefused if it is empty, not a picture, or over ``max_pixels``; LimitExceeded if
    over ``limits``' pixel cap (``limits``: the user's caps, None for an admin)."""
    if name is None:
        name = Path(source).name if isinstance(source, (str, Path)) else "image"
    label = upload_name(name)
    try:
        empty = not source if isinstance(source, (bytes, bytearray)) else Path(source).stat().st_size == 0
    except OSError:
        raise PictureRefused("not_a_picture", name=label, field=field) from None
    if empty:
        raise PictureRefused("empty", name=label, field=field)
    size = _header_size(source)
    if size is None:
        raise PictureRefused("not_a_picture", name=label, field=field)
    width, height = size
    if width * height > max_pixels:
        raise PictureRefused("too_large", name=label, field=field, width=width, height=height, limit=max_pixels)
    if limits is not None:
        limits.check_pixels(width, height, field=field, name=label)
    return width, height


def open_picture(source, *, name: str | None = None, field: str | None = None, max_pixels: int = MAX_PIXELS,
                 limits=None) -> Image.Image:
    """The picture at ``source`` (a path or bytes; a PIL image is returned as is), decoded only
    after :func:`picture_header` passed it. Hold :data:`DECODING` around the work that needs it."""
    if not isinstance(source, (str, Path, bytes, bytearray)):
        return masks.to_pil(source)  # decoded in this process already (a PIL image, an array): nothing to guard
    picture_header(source, name=name, field=field, max_pixels=max_pixels, limits=limits)
    label = upload_name(name or (Path(source).name if isinstance(source, (str, Path)) else "image"))
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    try:
        with Image.open(stream) as opened:
            opened.load()
            return opened.copy()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # a header fine, the pixels not
        raise PictureRefused("not_a_picture", name=label, field=field) from exc


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
        raise PictureRefused("empty", name=label, field=field)
    if limits is not None:
        limits.check_upload(len(data), label, field=field)
    if max_bytes is not None and len(data) > max_bytes:
        raise UploadRefused("The file {name} is too large ({size}); this ComfyUI server accepts uploads up to "
                            "{limit}.", field, name=label, size=_mb(len(data)), limit=_mb(max_bytes))
    return picture_header(data, name=name, field=field, max_pixels=max_pixels, limits=limits)


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
