"""comfy_ui_app: a Gradio front-end over ComfyUI's HTTP and WebSocket API.

The public surface is what ``__all__`` lists; modules starting with ``_`` are private.

    from comfy_ui_app import Comfy, load_workflow, apply_values

    with Comfy("http://127.0.0.1:8188") as comfy:
        prompt = apply_values(load_workflow("workflows/txt2img.json"), {"prompt": "a red fox"})
        for update in comfy.submit(prompt).updates():
            print(update)
"""

from comfy_ui_app.comfy.client import ComfyClient
from comfy_ui_app.comfy.connection import Comfy
from comfy_ui_app.comfy.frames import (
    BinaryEventType, Message, PreviewFrame, TextFrame, decode_binary, decode_text,
)
from comfy_ui_app.comfy.jobs import Job
from comfy_ui_app.comfy.updates import (
    Executing, Finished, Output, OutputImage, Preview, Progress, Queued, Started, Update,
)
from comfy_ui_app.errors import (
    ComfyError, ComfyUIStartFailed, JobFailed, JobInterrupted, JobLost, LimitExceeded, NotAllowed,
    NotAnImage, OutputsNotSaved, PromptRejected, RunLimitExceeded, ServerHTTPError,
    ServerUnreachable, WorkflowError,
)
from comfy_ui_app.workflow.templates import (
    FIELD_NAMES, SEED_MAX, apply_values, find_fields, load_workflow, workflow_defaults,
)

__all__ = [
    "Comfy",
    "ComfyClient",
    "Job",
    # updates a job yields
    "Queued",
    "Started",
    "Executing",
    "Progress",
    "Preview",
    "Output",
    "Finished",
    "OutputImage",
    "Update",
    # WebSocket frames
    "BinaryEventType",
    "Message",
    "PreviewFrame",
    "TextFrame",
    "decode_binary",
    "decode_text",
    # errors
    "ComfyError",
    "ServerUnreachable",
    "ServerHTTPError",
    "PromptRejected",
    "JobFailed",
    "JobInterrupted",
    "JobLost",
    "RunLimitExceeded",
    "NotAnImage",
    "OutputsNotSaved",
    "WorkflowError",
    "LimitExceeded",
    "ComfyUIStartFailed",
    "NotAllowed",
    # workflow templates
    "FIELD_NAMES",
    "SEED_MAX",
    "load_workflow",
    "workflow_defaults",
    "apply_values",
    "find_fields",
]
