"""A plain answer to a malformed call of Gradio's API, before Gradio's own generic error.

The app's handlers word every bad *value* next to its field; a call whose *shape* is wrong never
reaches them: Gradio 6.31 checks the number of values in ``Blocks.validate_inputs`` and a caller
without ``show_error`` gets an error event with no text (``{"error": null}``), the same as for a
crash. :class:`CallGuard` is an ASGI middleware that reads the JSON body of the routes that run an
event (``POST /gradio_api/call/<api>``, ``/gradio_api/call/v2/<api>``, ``/gradio_api/run/<api>``,
``/gradio_api/queue/join``) and answers 422 with one plain sentence when the body is not a JSON
object, its ``data`` not a list, or the list too short for the event; and 413 when the body is
larger than any real call (``MAX_CALL_BYTES``: files travel through the upload route, not here).
Everything else passes through untouched, the body replayed as it came; so does every call of a
caller who is not logged in to an app with ``--auth`` (Gradio answers 401: a stranger learns
nothing of the app's events here).
"""
from __future__ import annotations

import json
from http.cookies import CookieError, SimpleCookie
from typing import Any

__all__ = ["CallGuard", "MAX_CALL_BYTES", "call_problem"]

MAX_CALL_BYTES = 16 * 1024 * 1024   # a 100,000-character prompt is 0.4 MB of JSON at most
_PREFIX = "/gradio_api/"
_NAMED = ("call/v2/", "call/", "run/")


def _event_of(path: str) -> tuple[str | None, bool]:
    """``(api name, named)`` for a route that runs an event; ``(None, True)`` for queue/join; else ``(None, False)``."""
    rest = path[len(_PREFIX):] if path.startswith(_PREFIX) else ""
    if rest.rstrip("/") == "queue/join":
        return None, True
    for head in _NAMED:
        if rest.startswith(head):
            name = rest[len(head):].strip("/")
            return (name, True) if name and "/" not in name else (None, False)
    return None, False


def call_problem(body: bytes, fns: dict, api_name: str | None) -> str | None:
    """Why ``body`` cannot be a call of event ``api_name`` (None: ``fn_index`` in the body) of the Blocks
    whose events are ``fns``; None when it can (or when the event is not one this Blocks knows:
    Gradio answers that)."""
    try:
        payload = json.loads(body or b"null")
    except RecursionError:
        return "The request is nested too deeply to read."
    except ValueError:
        return "The request is not JSON."
    if not isinstance(payload, dict):
        return "The request must be a JSON object with a \"data\" list."
    data = payload.get("data")
    if not isinstance(data, list):
        return "The request's \"data\" must be a list of values, one per input."
    if api_name is not None:
        fn = next((f for f in fns.values() if getattr(f, "api_name", None) == api_name), None)
    else:
        index = payload.get("fn_index")
        fn = fns.get(index) if isinstance(index, int) and not isinstance(index, bool) else None
    if fn is None:
        return None
    inputs = list(getattr(fn, "inputs", []))
    shown = [b for b in inputs if not getattr(b, "skip_api", False)]
    fits = len(data) >= len(inputs) or (api_name is not None and len(data) == len(shown))
    if fits:
        return None
    needed = len(shown) if api_name is not None else len(inputs)
    return f"This call needs {needed} values, one per input; it sent {len(data)}."


def _logged_out(scope) -> bool:
    """Does Gradio's app (``scope["app"]``) want a login this request lacks? (Its own check, read here:
    the ``access-token-<cookie id>`` cookie among the tokens it issued.)"""
    app = scope.get("app")
    if getattr(app, "auth_dependency", None) is not None:
        return True   # a login of another kind: leave every call to Gradio
    if getattr(app, "auth", None) is None:
        return False
    cookie = SimpleCookie()
    try:
        cookie.load(b"; ".join(v for k, v in scope.get("headers", []) if k == b"cookie").decode("latin-1"))
    except CookieError:
        return True
    cookie_id = getattr(app, "cookie_id", "")
    token = next((cookie[name].value for name in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}")
                  if name in cookie), None)
    return getattr(app, "tokens", {}).get(token) is None


class CallGuard:
    """ASGI middleware over Gradio's app; ``blocks``: the ``gr.Blocks`` whose events it checks."""

    def __init__(self, app: Any, blocks: Any) -> None:
        self.app = app
        self.blocks = blocks

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        api_name, runs = _event_of(scope.get("path", ""))
        if not runs or _logged_out(scope):
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":   # the caller went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_CALL_BYTES:
                await _answer(send, 413, f"The request is larger than {MAX_CALL_BYTES // (1024 * 1024)} MB.")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = call_problem(body, getattr(self.blocks, "fns", {}), api_name)
        if problem is not None:
            await _answer(send, 422, problem)
            return
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _answer(send, status: int, text: str) -> None:
    body = json.dumps({"error": text}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
