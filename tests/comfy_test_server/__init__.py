"""A protocol-faithful ComfyUI test server (HTTP + WebSocket), for the test suite.

It answers like the real ComfyUI 0.3.64 recorded in ``tests/fixtures/comfyui/``
(copied from ``comfyui-reference``): same routes, status codes, JSON bodies, empty
bodies, WebSocket message order and binary preview frame layout. "Execution" is only
the event sequence plus real PNG files; nothing is diffused.

    from comfy_test_server import ComfyTestServer

    with ComfyTestServer(step_time=0.05) as srv:
        requests.post(srv.url + "/prompt", json={"prompt": graph, "client_id": "me"})

Knobs: ``root`` (holds input/ output/ temp/; a temp dir if None), ``host``, ``port``
(0 = free port), ``step_time`` (seconds per sampler step), ``steps`` (override the
prompt's sampler steps), ``preview`` (``--preview-method auto`` vs none),
``preview_size``, ``checkpoints``, ``loras`` (LoRA files LoraLoader lists; none by
default, as recorded), ``upscale_models`` (what ``UpscaleModelLoader`` lists; none by
default), ``newer_server`` (newer ComfyUI's
``missing_node_type`` and ``invalid_prompt_id`` errors), ``node_time`` (``{class_type: seconds}``
a node of that class works after its ``executing`` message, e.g. a slow ``SaveImage``).

Controls: ``fail_next()``, ``hang_next()``, ``drop_websockets()``, ``pause()`` /
``resume()``; records: ``received_prompts``, ``uploads``. ``HISTORY_DELAY`` (class
attribute, 0.02 s) keeps ``/history`` empty for a moment after ``execution_success``,
as recorded. ``comfy_test_server._probe.WsProbe`` is a small recording WS client.
Standalone: ``python tests/comfy_test_server --port 8188 --step-time 0.2``.
"""
from ._server import ComfyTestServer

__all__ = ["ComfyTestServer"]
