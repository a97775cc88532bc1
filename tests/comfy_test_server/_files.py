"""File routes: ``/upload/image``, ``/upload/mask``, ``/view``, ``/view_metadata``, ``/internal/*``.

Sources (``tests/fixtures/comfyui``):

* ``upload.json``: multipart ``image``/``type``/``subfolder``/``overwrite`` (only the
  exact strings ``true``/``1``); name collisions try ``stem (1).ext``, ``(2)`` ... with a
  content-hash check at each step (identical bytes reuse that name); ``../`` in the
  filename or subfolder -> 400; ``type=bogus`` -> 500; no ``image`` field -> 400;
  ``/abs-path/x.png`` -> 500 (it lands in a missing sub-directory of ``input/``);
  ``/upload/mask`` copies the mask's alpha into ``original_ref`` and silently writes
  nothing when that reference is bad or missing;
* ``view.json``: ``filename`` / ``type`` / ``subfolder`` / ``preview`` / ``channel`` and
  every error status (404/400/403, empty bodies), file responses with
  ``Content-Disposition`` and a Content-Type from the extension;
* ``http_get_endpoints.json``: ``/view_metadata/checkpoints`` and ``/internal/*``.
"""
from __future__ import annotations

import hashlib
import io
import json
import mimetypes
import os

from aiohttp import web
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from ._nodes import fixture_json
from ._validation import annotated_filepath

SAFETENSORS_METADATA = {"modelspec.title": "tiny-sd15-random", "note": "random weights, for protocol tests"}


class FileRoutes:
    def __init__(self, srv):
        self.srv = srv

    def table(self):
        return [("POST", "/upload/image", self.upload_image), ("POST", "/upload/mask", self.upload_mask),
                ("GET", "/view", self.view), ("GET", "/view_metadata/{folder_name}", self.view_metadata)]

    def internal_table(self):
        return [("GET", "/internal/folder_paths", self.folder_paths),
                ("GET", "/internal/files/{directory_type}", self.internal_files)]

    # -- uploads -----------------------------------------------------------------
    def _dir_by_type(self, dir_type):
        dir_type = "input" if dir_type is None else dir_type
        if dir_type not in ("input", "temp", "output"):
            raise ValueError(f"unknown upload type {dir_type!r}")  # the real server crashes: 500
        return self.srv.dirs[dir_type], dir_type

    async def _record(self, request, post):
        image = post.get("image")
        is_file = hasattr(image, "file")
        self.srv.uploads.append({
            "route": request.path[4:] if request.path.startswith("/api/") else request.path,
            "path": request.path,
            "fields": {k: v for k, v in post.items() if isinstance(v, str)},
            "filename": image.filename if is_file else None,
            "bytes": _read(image) if is_file else None,
        })

    async def upload_image(self, request):
        post = await request.post()
        await self._record(request, post)
        return self._image_upload(post)

    async def upload_mask(self, request):
        post = await request.post()
        await self._record(request, post)
        return self._image_upload(post, self._save_mask)

    def _image_upload(self, post, save_function=None):
        image = post.get("image")
        overwrite = post.get("overwrite")
        upload_dir, upload_type = self._dir_by_type(post.get("type"))
        if not (image is not None and hasattr(image, "file") and image.file):
            return web.Response(status=400)
        filename = image.filename
        if not filename:
            return web.Response(status=400)
        subfolder = post.get("subfolder", "")
        folder = os.path.join(upload_dir, os.path.normpath(subfolder))
        filepath = os.path.abspath(os.path.join(folder, filename))
        if os.path.commonpath((upload_dir, filepath)) != upload_dir:
            return web.Response(status=400)
        os.makedirs(folder, exist_ok=True)
        stem, ext = os.path.splitext(filename)
        duplicate = False
        if overwrite is None or overwrite not in ("true", "1"):
            i = 1
            while os.path.exists(filepath):
                if _same_content(filepath, image):
                    duplicate = True
                    break
                filename = f"{stem} ({i}){ext}"
                filepath = os.path.join(folder, filename)
                i += 1
        if not duplicate:
            if save_function is not None:
                save_function(image, post, filepath)
            else:
                with open(filepath, "wb") as f:
                    f.write(_read(image))
        return web.json_response({"name": filename, "subfolder": subfolder, "type": upload_type})

    def _save_mask(self, image, post, filepath):
        """Alpha of the uploaded mask -> original image; bad references write nothing."""
        original_ref = json.loads(post.get("original_ref"))
        filename, output_dir = annotated_filepath(original_ref["filename"], self.srv.dirs)
        if not filename or filename[0] == "/" or ".." in filename:
            return
        if output_dir is None:
            output_dir = self.srv.dirs.get(original_ref.get("type", "output"))
        if output_dir is None:
            return
        if original_ref.get("subfolder", "") != "":
            full = os.path.join(output_dir, original_ref["subfolder"])
            if os.path.commonpath((os.path.abspath(full), output_dir)) != output_dir:
                return
            output_dir = full
        file = os.path.join(output_dir, filename)
        if os.path.isfile(file):
            with Image.open(file) as original:
                meta = PngInfo()
                for key, value in getattr(original, "text", {}).items():
                    meta.add_text(key, value)
                original = original.convert("RGBA")
                mask = Image.open(io.BytesIO(_read(image))).convert("RGBA")
                original.putalpha(mask.getchannel("A"))
                original.save(filepath, compress_level=4, pnginfo=meta)

    # -- view --------------------------------------------------------------------
    async def view(self, request):
        query = request.rel_url.query
        if "filename" not in query:
            return web.Response(status=404)
        filename, output_dir = annotated_filepath(query["filename"], self.srv.dirs)
        if not filename:
            return web.Response(status=400)
        if filename[0] == "/" or ".." in filename:
            return web.Response(status=400)
        if output_dir is None:
            output_dir = self.srv.dirs.get(query.get("type", "output"))
        if output_dir is None:
            return web.Response(status=400)
        if "subfolder" in query:
            full = os.path.join(output_dir, query["subfolder"])
            if os.path.commonpath((os.path.abspath(full), output_dir)) != output_dir:
                return web.Response(status=403)
            output_dir = full
        filename = os.path.basename(filename)
        file = os.path.join(output_dir, filename)
        if not os.path.isfile(file):
            return web.Response(status=404)
        disposition = {"Content-Disposition": f'filename="{filename}"'}
        channel = query.get("channel", "rgba")
        if "preview" in query:
            info = query["preview"].split(";")
            fmt = info[0] if info[0] in ("webp", "jpeg") and "a" not in query.get("channel", "") else "webp"
            quality = int(info[-1]) if info[-1].isdigit() else 90
            with Image.open(file) as img:
                if fmt == "jpeg" or query.get("channel", "") == "rgb":
                    img = img.convert("RGB")
                return _image_response(img, fmt, disposition, quality=quality)
        if channel == "rgb":
            with Image.open(file) as img:
                rgb = Image.merge("RGB", img.split()[:3]) if img.mode == "RGBA" else img.convert("RGB")
                return _image_response(rgb, "png", disposition)
        if channel == "a":
            with Image.open(file) as img:
                alpha = img.split()[3] if img.mode == "RGBA" else Image.new("L", img.size, 255)
                out = Image.new("RGBA", img.size)
                out.putalpha(alpha)
                return _image_response(out, "png", disposition)
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if content_type in {"text/html", "text/html-sandboxed", "application/xhtml+xml",
                            "text/javascript", "text/css"}:
            content_type = "application/octet-stream"
        return web.FileResponse(file, headers={**disposition, "Content-Type": content_type})

    async def view_metadata(self, request):
        folder = request.match_info["folder_name"]
        filename = request.rel_url.query.get("filename")
        if filename is None or not filename.endswith(".safetensors"):
            return web.Response(status=404)
        if folder != "checkpoints" or filename not in self.srv.checkpoints:
            return web.Response(status=404)
        meta = dict(SAFETENSORS_METADATA, **{"modelspec.title": os.path.splitext(filename)[0]})
        return web.json_response(meta)

    # -- /internal (no /api twin) --------------------------------------------------
    async def folder_paths(self, request):
        recorded = fixture_json("http_get_endpoints.json")["responses"]["/internal/folder_paths"]
        text = json.dumps(recorded["response"]["json"]).replace("<comfyui-root>", str(self.srv.root))
        return web.json_response(json.loads(text))

    async def internal_files(self, request):
        kind = request.match_info["directory_type"]
        if kind not in ("output", "input", "temp"):
            return web.json_response({"error": "Invalid directory type"}, status=400)
        entries = [e for e in os.scandir(self.srv.dirs[kind]) if e.is_file() and not e.name.startswith(".")]
        entries.sort(key=lambda e: -e.stat().st_mtime)
        return web.json_response([e.name for e in entries])


def _read(field) -> bytes:
    field.file.seek(0)
    data = field.file.read()
    field.file.seek(0)
    return data


def _same_content(filepath: str, field) -> bool:
    with open(filepath, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest() == hashlib.sha256(_read(field)).hexdigest()


def _image_response(img, fmt: str, headers: dict, **save_args) -> web.Response:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **save_args)
    return web.Response(body=buf.getvalue(), content_type=f"image/{fmt}", headers=headers)
