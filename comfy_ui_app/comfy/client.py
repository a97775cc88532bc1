"""HTTP client for ComfyUI: one method per route, a timeout on every call.

Routes and answers follow the recordings in ``comfyui-reference`` (copied into
``tests/fixtures``); where they differ from the older write-ups the recordings win
(``GET /queue`` is heap-ordered, ``/interrupt`` is POST only, POSTs answer empty bodies).
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import requests

from comfy_ui_app.errors import NoTemplateLibrary, NotSendable, PromptRejected, ServerHTTPError, ServerUnreachable

__all__ = ["ComfyClient", "raise_for_status", "json_of", "split_credentials"]


def raise_for_status(response: requests.Response) -> None:
    """Turn a failed ComfyUI response into a typed error: the only place that does so."""
    try:
        response.raise_for_status()
    except requests.HTTPError as e:
        body = response.text if response.content else ""
        if response.status_code == 400:
            try:
                data = response.json()
            except ValueError:
                data = None
            if isinstance(data, dict) and "error" in data:
                raise PromptRejected(
                    response.url, data.get("error") or {}, data.get("node_errors") or {}, body
                ) from e
        raise ServerHTTPError(response.status_code, response.url, body) from e


def json_of(response: requests.Response, expect: type | tuple[type, ...] | None = None) -> Any:
    """The JSON of a 2xx answer; ServerHTTPError when it is not JSON or not of type ``expect``."""
    try:
        data = response.json()
    except ValueError as e:
        raise ServerHTTPError(response.status_code, response.url,
                              "not a JSON answer: " + (response.text or "(empty)")) from e
    if expect is not None and not isinstance(data, expect):
        raise ServerHTTPError(response.status_code, response.url,
                              f"unexpected answer: {response.text[:200]}")
    return data


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``https://user:pw@host/x`` -> (``https://host/x``, ("user", "pw")): a ComfyUI behind a
    reverse proxy with a login. The address without them is what logs and errors show; the
    pair goes into every request (HTTP Basic) and the WebSocket handshake."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.netloc.rsplit("@", 1)[1]
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return bare, (unquote(parts.username or ""), unquote(parts.password or ""))


def encode_json(payload: Any) -> bytes:
    """``payload`` as strict JSON bytes; NotSendable (naming the node and input of a ``/prompt``
    body where it can) when it holds a number that is not finite."""
    try:
        return json.dumps(payload, allow_nan=False).encode()
    except ValueError as e:
        raise NotSendable(*_not_finite_at(payload)) from e


def _not_finite_at(payload: Any) -> tuple[str | None, str | None]:
    """``(node id, input name)`` of the first non-finite number in a ``/prompt`` body's graph."""
    prompt = payload.get("prompt") if isinstance(payload, dict) else None
    for node_id, node in (prompt.items() if isinstance(prompt, dict) else ()):
        inputs = node.get("inputs") if isinstance(node, dict) else None
        for name, value in (inputs.items() if isinstance(inputs, dict) else ()):
            try:
                json.dumps(value, allow_nan=False)
            except ValueError:
                return str(node_id), str(name)
    return None, None


def _image_bytes(data: Any) -> bytes:
    """Accept bytes, a path or a PIL image and return the bytes to upload."""
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, (str, Path)):
        return Path(data).read_bytes()
    if hasattr(data, "save"):  # a PIL image
        buffer = io.BytesIO()
        data.save(buffer, format="PNG")
        return buffer.getvalue()
    raise TypeError(f"cannot upload a {type(data).__name__}")


class ComfyClient:
    """Blocking client for one ComfyUI server.

    ``session`` may be passed in (tests, connection pooling); ``client_id`` is the id
    our WebSocket registers with, sent with every prompt so its events reach us.
    Its errors carry the server's address (``url``); which name a page shows for it is not its
    concern (``texts.server_names``).
    """

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        client_id: str | None = None,
    ) -> None:
        self.base_url, self.credentials = split_credentials(base_url.rstrip("/"))
        self.session = session or requests.Session()
        if self.credentials is not None:
            self.session.auth = self.credentials
        self.timeout = timeout
        self.client_id = client_id or uuid.uuid4().hex

    def __repr__(self) -> str:
        return f"ComfyClient({self.base_url!r})"

    # -- plumbing ------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        url = self.base_url + path
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.Timeout as e:
            raise ServerUnreachable(self.base_url, "timed out") from e
        except requests.ConnectionError as e:
            raise ServerUnreachable(self.base_url, "connection refused or lost") from e
        except requests.RequestException as e:  # e.g. ChunkedEncodingError: the answer was cut off
            raise ServerUnreachable(self.base_url, "the answer was cut off") from e
        raise_for_status(response)
        return response

    def _get_json(self, path: str, params: dict | None = None, expect: type | None = None) -> Any:
        return json_of(self._request("GET", path, params=params), expect)

    def _post_json(self, path: str, payload: dict | None = None) -> requests.Response:
        """POST ``payload`` as JSON, encoded here: a NaN or infinity (which JSON has no words for)
        raises :class:`~comfy_ui_app.errors.NotSendable` before anything is sent, so a bad job
        never reads as a server that stopped answering."""
        return self._request("POST", path, data=encode_json(payload if payload is not None else {}),
                             headers={"Content-Type": "application/json"})

    # -- prompts and queue ---------------------------------------------------------

    def queue_prompt(
        self,
        prompt: dict,
        *,
        prompt_id: str | None = None,
        client_id: str | None = None,
        extra_data: dict | None = None,
        number: float | None = None,
        front: bool = False,
    ) -> dict:
        """``POST /prompt``; returns ``{"prompt_id", "number", "node_errors"}``.

        We choose the prompt_id (a lowercase UUID, which newer servers require) so that
        events arriving before this call returns can already be routed to the job.
        """
        payload: dict[str, Any] = {
            "prompt": prompt,
            "client_id": client_id or self.client_id,
            "prompt_id": prompt_id or str(uuid.uuid4()),
        }
        if extra_data:
            payload["extra_data"] = extra_data
        if number is not None:
            payload["number"] = number
        if front:
            payload["front"] = True
        return json_of(self._post_json("/prompt", payload), dict)

    def get_queue(self) -> dict:
        """``GET /queue`` with ``queue_pending`` sorted by number (the server sends heap order)."""
        queue = self._get_json("/queue", expect=dict)
        running, pending = queue.get("queue_running", []), queue.get("queue_pending", [])
        items = [*running, *pending] if isinstance(running, list) and isinstance(pending, list) else None
        if items is None or not all(isinstance(i, list) and len(i) >= 2 and isinstance(i[0], (int, float))
                                    for i in items):
            raise ServerHTTPError(200, self.base_url + "/queue", "unexpected answer: " + json.dumps(queue)[:200])
        queue["queue_pending"] = sorted(pending, key=lambda item: float(item[0]))
        queue["queue_running"] = running
        return queue

    def delete_from_queue(self, prompt_ids: list[str]) -> None:
        """Remove pending prompts; the running one and unknown ids are ignored by the server."""
        self._post_json("/queue", {"delete": list(prompt_ids)})

    def clear_queue(self) -> None:
        self._post_json("/queue", {"clear": True})

    def interrupt(self, prompt_id: str | None = None) -> None:
        """``POST /interrupt``: only that prompt if given (ignored unless it runs), else global."""
        self._post_json("/interrupt", {"prompt_id": prompt_id} if prompt_id else {})

    def free(self, *, unload_models: bool = False, free_memory: bool = False) -> None:
        self._post_json("/free", {"unload_models": unload_models, "free_memory": free_memory})

    # -- history -------------------------------------------------------------------

    def get_history(self, max_items: int | None = None, offset: int | None = None) -> dict:
        params = {k: v for k, v in (("max_items", max_items), ("offset", offset)) if v is not None}
        return self._get_json("/history", params or None, expect=dict)

    def get_history_item(self, prompt_id: str) -> dict:
        """``GET /history/{id}``: ``{}`` while unknown or not finished yet."""
        return self._get_json(f"/history/{requests.utils.quote(prompt_id, safe='')}", expect=dict)

    def delete_history(self, prompt_ids: list[str]) -> None:
        self._post_json("/history", {"delete": list(prompt_ids)})

    # -- server information --------------------------------------------------------

    def object_info(self, node_class: str | None = None) -> dict:
        """All node definitions, or one class's (``{}`` for an unknown class)."""
        path = "/object_info" + (f"/{requests.utils.quote(node_class, safe='')}" if node_class else "")
        return self._get_json(path, expect=dict)

    def models(self, folder: str | None = None) -> list[str]:
        """Model folder names, or the files in one folder (404 for an unknown folder)."""
        return self._get_json("/models" + (f"/{requests.utils.quote(folder, safe='')}" if folder else ""),
                              expect=list)

    def embeddings(self) -> list[str]:
        return self._get_json("/embeddings", expect=list)

    def extensions(self) -> list[str]:
        return self._get_json("/extensions", expect=list)

    def system_stats(self) -> dict:
        return self._get_json("/system_stats", expect=dict)

    def features(self) -> dict:
        return self._get_json("/features", expect=dict)

    # -- the server's template library and the workflows saved in its editor -------

    def templates_index(self) -> list:
        """``GET /templates/index.json``: the template library's categories (NoTemplateLibrary on a 404)."""
        try:
            return self._get_json("/templates/index.json", expect=list)
        except ServerHTTPError as e:
            if e.status == 404:
                raise NoTemplateLibrary(self.base_url) from e
            raise

    def template_file(self, filename: str) -> bytes:
        """``GET /templates/<filename>``: a template's workflow (``NAME.json``) or thumbnail (``NAME-1.webp``)."""
        return self._request("GET", "/templates/" + requests.utils.quote(filename, safe="")).content

    def user_workflows(self) -> list[str]:
        """``GET /userdata?dir=workflows&recurse=true``: the workflows saved in the editor, those in its
        sub-folders as ``folder/name.json`` (the 404 before the first save: [])."""
        try:
            names = self._get_json("/userdata", {"dir": "workflows", "recurse": "true"}, expect=list)
        except ServerHTTPError as e:
            if e.status == 404:
                return []
            raise
        return [n for n in names if isinstance(n, str)]

    def user_workflow(self, name: str) -> bytes:
        """``GET /userdata/workflows%2FNAME``: one saved workflow's file (the ``/`` must be ``%2F``)."""
        return self._request("GET", "/userdata/" + requests.utils.quote("workflows/" + name, safe="")).content

    # -- files ---------------------------------------------------------------------

    def _upload(self, route: str, data: Any, filename: str, fields: dict[str, str]) -> dict:
        files = {"image": (filename, _image_bytes(data), "application/octet-stream")}
        answer = json_of(self._request("POST", route, files=files, data=fields), dict)
        if not isinstance(answer.get("name"), str) or not answer["name"]:
            raise ServerHTTPError(200, self.base_url + route, "unexpected answer: " + json.dumps(answer)[:200])
        return answer

    def upload_image(
        self, data: Any, filename: str, *, type: str = "input", subfolder: str = "", overwrite: bool = False
    ) -> dict:
        """``POST /upload/image``; the returned ``name`` may differ from ``filename``."""
        fields = {"type": type, "subfolder": subfolder, "overwrite": "true" if overwrite else "false"}
        return self._upload("/upload/image", data, filename, fields)

    def view(
        self,
        filename: str,
        *,
        subfolder: str = "",
        type: str = "output",
        preview: str | None = None,
        channel: str | None = None,
    ) -> bytes:
        """``GET /view``: the file's bytes (PNG metadata kept unless preview/channel is set)."""
        params = {"filename": filename, "subfolder": subfolder, "type": type}
        if preview:
            params["preview"] = preview
        if channel:
            params["channel"] = channel
        return self._request("GET", "/view", params=params).content
