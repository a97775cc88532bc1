"""JSON routes: prompt, queue, history, interrupt, free and the informational GETs.

Sources (``tests/fixtures/comfyui``): ``http_get_endpoints.json`` (idle GET bodies),
``post_prompt_errors.json`` (POST /prompt), ``queue_ordering.json`` (number/front
semantics), ``queue_interrupt_free.json`` and ``history.json`` (POST bodies -> ``200``
with an empty body and no Content-Type). Malformed JSON simply raises, which aiohttp
turns into the recorded ``500`` ``text/plain`` "Server got itself in trouble" page.
"""
from __future__ import annotations

import copy
import json
import re
import uuid

from aiohttp import web

from ._nodes import FIXTURES, fixture_json
from ._ws import SERVER_FEATURES

#: The template library served at ``/templates/`` (``templates/make_fixture.py`` made it). A server whose
#: ``templates_dir`` is None has none: every ``/templates/...`` is a 404, as on a ComfyUI older than its library.
TEMPLATES = FIXTURES / "templates"
_SAFE_NAME = re.compile(r"^[\w .,()+-]+$")   # one file of a folder: no path, no ".." (ComfyUI's own checks)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _recorded(path: str):
    return fixture_json("http_get_endpoints.json")["responses"][path]["response"]["json"]


class Routes:
    """Handlers bound to a running ``ComfyTestServer`` (``srv``)."""

    def __init__(self, srv):
        self.srv = srv

    def table(self):
        g = self.get_routes()
        return g + [("POST", "/prompt", self.post_prompt), ("POST", "/queue", self.post_queue),
                    ("POST", "/interrupt", self.post_interrupt), ("POST", "/free", self.post_free),
                    ("POST", "/history", self.post_history)]

    def get_routes(self):
        def recorded(path):
            async def handler(request):
                return web.json_response(_recorded(path))
            return handler
        fixed = [("GET", p, recorded(p)) for p in ("/embeddings", "/extensions", "/settings", "/users")]
        return fixed + [
            ("GET", "/system_stats", self.system_stats), ("GET", "/features", self.features),
            ("GET", "/models", self.models), ("GET", "/models/{folder}", self.models_folder),
            ("GET", "/experiment/models", self.experiment_models),
            ("GET", "/experiment/models/{folder}", self.experiment_models_folder),
            ("GET", "/userdata", self.userdata), ("GET", "/userdata/{file}", self.userdata_file),
            ("POST", "/userdata/{file}", self.post_userdata_file), ("GET", "/templates/{filename}", self.template_file),
            ("GET", "/object_info", self.object_info), ("GET", "/object_info/{node_class}", self.object_info_node),
            ("GET", "/prompt", self.get_prompt), ("GET", "/queue", self.get_queue),
            ("GET", "/history", self.get_history), ("GET", "/history/{prompt_id}", self.get_history_id)]

    # -- informational -----------------------------------------------------------
    async def system_stats(self, request):
        stats = copy.deepcopy(_recorded("/system_stats"))
        stats["system"]["argv"] = self.srv.argv
        return web.json_response(stats)

    async def features(self, request):
        return web.json_response(dict(SERVER_FEATURES))

    def _folders(self) -> list[str]:
        return _recorded("/models")

    def _files_in(self, folder: str) -> list[str]:
        return {"checkpoints": list(self.srv.checkpoints), "loras": list(self.srv.loras),
                "upscale_models": list(self.srv.upscale_models)}.get(folder, [])

    async def models(self, request):
        return web.json_response(self._folders())

    async def models_folder(self, request):
        folder = request.match_info["folder"]
        if folder not in self._folders():
            return web.Response(status=404)
        return web.json_response(self._files_in(folder))

    async def experiment_models(self, request):
        text = json.dumps(_recorded("/experiment/models")).replace("<comfyui-root>", str(self.srv.root))
        return web.json_response(json.loads(text))

    async def experiment_models_folder(self, request):
        folder = request.match_info["folder"]
        if folder not in self._folders():
            return web.Response(status=404)
        stamp = self.srv.started_at
        return web.json_response([{"name": name, "pathIndex": 0, "modified": stamp, "created": stamp,
                                   "size": 465089622} for name in self._files_in(folder)])

    # -- user data and templates (templates_and_userdata.json) --------------------
    def _user_dir(self):
        return self.srv.root / "user" / "default"

    def _user_path(self, relative: str):
        """The file ``relative`` of the default user's folder, or None for a path leaving it."""
        parts = relative.split("/")
        if not relative or any(not part or part in (".", "..") for part in parts):
            return None
        return self._user_dir().joinpath(*parts)

    async def userdata(self, request):
        """``GET /userdata?dir=workflows[&recurse=true][&full_info=true]``: the files of that folder."""
        query = request.rel_url.query
        folder = self._user_path(query.get("dir", ""))
        if not query.get("dir", ""):
            return web.Response(status=400, text="Directory not provided")
        if folder is None or not folder.is_dir():
            return web.Response(status=404, text="Directory not found")
        files = sorted(p for p in (folder.rglob("*") if query.get("recurse") == "true" else folder.glob("*"))
                       if p.is_file())
        if query.get("full_info") == "true":
            return web.json_response([{"path": p.relative_to(folder).as_posix(), "size": p.stat().st_size,
                                       "modified": p.stat().st_mtime, "created": p.stat().st_ctime} for p in files])
        return web.json_response([p.relative_to(folder).as_posix() for p in files])

    async def userdata_file(self, request):
        path = self._user_path(request.match_info["file"])
        if path is None or not path.is_file():
            return web.Response(status=404)
        return web.FileResponse(path)

    async def post_userdata_file(self, request):
        """``POST /userdata/workflows%2FNAME.json?overwrite=true``: saves the body, answers its path as JSON."""
        relative = request.match_info["file"]
        path = self._user_path(relative)
        if path is None:
            return web.Response(status=400, text="Invalid path")
        if path.exists() and request.rel_url.query.get("overwrite", "true") == "false":
            return web.Response(status=409, text="File already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(await request.read())
        return web.json_response(relative)

    async def template_file(self, request):
        """A static file of the template library: JSON as ``application/json``, a thumbnail as
        ``application/octet-stream`` (as recorded); 404 with an empty body when missing."""
        folder = getattr(self.srv, "templates_dir", TEMPLATES)
        name = request.match_info["filename"]
        path = folder / name if folder is not None and _SAFE_NAME.match(name) else None
        if path is None or not path.is_file():
            return web.Response(status=404)
        kind = "application/json" if name.endswith(".json") else "application/octet-stream"
        return web.Response(body=path.read_bytes(), content_type=kind)

    async def object_info(self, request):
        return web.Response(body=self.srv.nodes.all_bytes(), content_type="application/json", charset="utf-8")

    async def object_info_node(self, request):
        node_class = request.match_info["node_class"]
        out = {}
        if node_class in self.srv.nodes:
            out[node_class] = self.srv.nodes.info(node_class)
        return web.json_response(out)

    # -- queue -------------------------------------------------------------------
    async def get_prompt(self, request):
        return web.json_response(self.srv.queue_info())

    async def get_queue(self, request):
        running, pending = self.srv.queue.current()
        return web.json_response({"queue_running": running, "queue_pending": pending})

    async def post_prompt(self, request):
        srv = self.srv
        json_data = await request.json()
        body = copy.deepcopy(json_data)
        if "number" in json_data:
            number = float(json_data["number"])
        else:
            number = srv.number
            if "front" in json_data and json_data["front"]:
                number = -number
            srv.number += 1
        if "prompt" not in json_data:
            return _error_response({"type": "no_prompt", "message": "No prompt provided",
                                    "details": "No prompt provided", "extra_info": {}}, {})
        prompt = json_data["prompt"]
        if srv.newer_server and json_data.get("prompt_id") is not None:
            prompt_id = json_data["prompt_id"]
            if not isinstance(prompt_id, str) or not _UUID.match(prompt_id):
                return _error_response({
                    "type": "invalid_prompt_id", "message": "prompt_id must be a valid UUID",
                    "details": "prompt_id must be a UUID string in canonical lowercase hyphenated form; "
                               "omit it to let the server generate one", "extra_info": {}}, {})
        else:
            prompt_id = str(json_data.get("prompt_id", uuid.uuid4()))
        ok, error, outputs, node_errors = srv.validator.validate_prompt(
            prompt, json_data.get("partial_execution_targets"))
        extra_data = json_data.get("extra_data", {})
        if "client_id" in json_data:
            extra_data["client_id"] = json_data["client_id"]
        if not ok:
            return _error_response(error, node_errors)
        srv.received_prompts.append(body)
        srv.queue.put((number, prompt_id, prompt, extra_data, outputs))
        srv.wake_worker()
        return web.json_response({"prompt_id": prompt_id, "number": number, "node_errors": node_errors})

    async def post_queue(self, request):
        json_data = await request.json()
        if "clear" in json_data and json_data["clear"]:
            self.srv.queue.wipe()
        if "delete" in json_data:
            for prompt_id in json_data["delete"]:
                self.srv.queue.delete(prompt_id)
        return web.Response(status=200)

    async def post_interrupt(self, request):
        try:
            json_data = await request.json()
        except json.JSONDecodeError:
            json_data = {}
        prompt_id = json_data.get("prompt_id")
        if not prompt_id or prompt_id in self.srv.queue.running_prompt_ids():
            self.srv.executor.request_interrupt()
        return web.Response(status=200)

    async def post_free(self, request):
        json_data = await request.json()
        for flag in ("unload_models", "free_memory"):
            if json_data.get(flag, False):
                self.srv.queue.set_flag(flag, json_data[flag])
        self.srv.wake_worker()
        return web.Response(status=200)

    # -- history -----------------------------------------------------------------
    async def get_history(self, request):
        query = request.rel_url.query
        max_items = int(query["max_items"]) if "max_items" in query else None
        offset = int(query["offset"]) if "offset" in query else -1
        return web.json_response(self.srv.queue.get_history(max_items=max_items, offset=offset))

    async def get_history_id(self, request):
        return web.json_response(self.srv.queue.get_history(prompt_id=request.match_info["prompt_id"]))

    async def post_history(self, request):
        json_data = await request.json()
        if "clear" in json_data and json_data["clear"]:
            self.srv.queue.wipe_history()
        if "delete" in json_data:
            for prompt_id in json_data["delete"]:
                self.srv.queue.delete_history_item(prompt_id)
        return web.Response(status=200)


def _error_response(error: dict, node_errors: dict) -> web.Response:
    return web.json_response({"error": error, "node_errors": node_errors}, status=400)
