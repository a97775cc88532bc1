"""The web app's settings (``python app.py``): every flag and environment variable it reads."""
from __future__ import annotations

from pathlib import Path

from comfy_ui_app.jobs.policy import CUSTOM_WORKFLOWS
from comfy_ui_app.settings.core import (
    CAP_COUNT, CAP_MEGABYTES, CAP_PIXELS, CHOICE, COUNT, COUNT_OR_ZERO, LOGINS, MEGABYTES, MEGABYTES_OR_ZERO,
    MINUTES, NAMES, OPTIONAL_COUNT, PORT, PRESENT, SECONDS, SERVERS, SHELL_WORDS, SWITCH, Setting,
)

DEFAULT_SERVER = "http://127.0.0.1:8188"
DATA_ENV = "COMFY_UI_DATA"
DEFAULT_DATA = "data"
REPO = Path(__file__).resolve().parents[2]   # where app.py and workflows/ are


def _data(env) -> str:
    return env.get(DATA_ENV) or DEFAULT_DATA


MAIN = [
    Setting("server", ("--server",), "COMFYUI_URL", SERVERS, [DEFAULT_SERVER], metavar="URL[,URL...]",
            help="address of the ComfyUI server, or several separated by commas: jobs go to "
                 "a healthy one that has what they need (env COMFYUI_URL)"),
    Setting("per_server", ("--per-server",), "COMFY_UI_PER_SERVER", COUNT, 2, metavar="N",
            help="at most this many jobs of the app at a time on each ComfyUI server; the rest "
                 "wait in the app's own queue, users taking turns (env COMFY_UI_PER_SERVER)"),
    Setting("run_limit", ("--run-limit",), "COMFY_UI_RUN_LIMIT_MIN", MINUTES, 30.0, metavar="MIN",
            help="minutes a job may run on a ComfyUI server before the app interrupts it there and "
                 "frees its place (a hung server or node); 0 for no limit (env COMFY_UI_RUN_LIMIT_MIN)"),
    Setting("host", ("--host",), "GRADIO_SERVER_NAME", default="127.0.0.1",
            help="interface the web page listens on; 0.0.0.0 for every interface (env GRADIO_SERVER_NAME)"),
    Setting("port", ("--port",), "GRADIO_SERVER_PORT", PORT, 7860,
            help="port of the web page (env GRADIO_SERVER_PORT)"),
    Setting("workflows", ("--workflows",), default=str(REPO / "workflows"), metavar="DIR",
            help="folder with the workflow templates (txt2img.json, ...)"),
    Setting("output_dir", ("--output-dir",), default=lambda env: str(Path(_data(env)) / "outputs"), metavar="DIR",
            help="folder where generated images are saved (env COMFY_UI_DATA + /outputs)"),
    Setting("data", ("--data",), DATA_ENV, default=DEFAULT_DATA, metavar="DIR",
            help="folder for the job database, stored outputs and the browser-id key (env COMFY_UI_DATA)"),
    Setting("auth", ("--auth",), "COMFY_UI_AUTH", LOGINS, [], metavar="USER:PASS[,USER:PASS...]",
            help="turn on login with these users (env COMFY_UI_AUTH); off by default"),
    Setting("admins", ("--admins",), "COMFY_UI_ADMINS", default="", metavar="USER[,USER...]",
            help="logged-in users who may see and cancel everyone's jobs, clear the queue "
                 "and free memory (env COMFY_UI_ADMINS; needs --auth or --hf-login)"),
    Setting("hf_login", ("--hf-login",), "OAUTH_CLIENT_ID", PRESENT, False, action="switch",
            help="show \"Sign in with Hugging Face\": a signed-in user's jobs follow the account "
                 "across browsers, and --admins names Hugging Face accounts too (on by itself on "
                 "a Space with hf_oauth: true, which sets OAUTH_CLIENT_ID; off a Space, that is without "
                 "SYSTEM=spaces and SPACE_ID, it needs a Hugging Face login on this machine)"),
    Setting("log_prompts", ("--log-prompts",), "COMFY_UI_LOG_PROMPTS", SWITCH, False, action="switch",
            help="also write each job's prompt text in the job log lines on stderr; off by "
                 "default, as prompts may be private (env COMFY_UI_LOG_PROMPTS=1)"),
    Setting("share", ("--share",), default=False, action="flag",
            help="also publish a temporary public gradio.live link (off by default)"),
    Setting("show_server_urls", ("--show-server-urls",), "COMFY_UI_SHOW_SERVER_URLS", SWITCH, action="switch",
            help="show ComfyUI's addresses on the page (status banner, messages, System tab); "
                 "--no-show-server-urls names them \"ComfyUI server 1\", 2… instead. Left unset, it is "
                 "on for a private app and off when the page is public: on a Space (SYSTEM=spaces), "
                 "with --share, or with --host other than 127.0.0.1, localhost or ::1 "
                 "(env COMFY_UI_SHOW_SERVER_URLS=1 or 0)"),
    Setting("max_upload_mb", ("--max-upload-mb",), "COMFY_UI_MAX_UPLOAD_MB", MEGABYTES, 20, metavar="MB",
            help="largest file a browser may upload, in megabytes (env COMFY_UI_MAX_UPLOAD_MB)"),
    # Variables only, set by Hugging Face on a Space (README: On Hugging Face Spaces).
    Setting("system", (), "SYSTEM", help="\"spaces\" on a Hugging Face Space: the page is public"),
    Setting("space_id", (), "SPACE_ID", help="the Space's name, with SYSTEM=spaces: real Hugging Face sign-in"),
]

LOCAL_TITLE = "start ComfyUI from a folder on this computer (README: Run with your own ComfyUI checkout)"
LOCAL = [
    Setting("comfyui_dir", ("--comfyui-dir",), "COMFYUI_DIR", metavar="PATH|auto",
            help="start ComfyUI from this folder (the one with its main.py) on a free local port, "
                 "restart it when it stops and stop it with the app; the page uses it instead of "
                 "the default --server, or besides the servers --server / COMFYUI_URL name. 'auto' "
                 "looks in ~/comfy/ComfyUI (~/Documents/comfy/ComfyUI on Windows and macOS), "
                 "./ComfyUI and ../ComfyUI (env COMFYUI_DIR)"),
    Setting("comfyui_args", ("--comfyui-args",), "COMFYUI_ARGS", SHELL_WORDS, "", metavar="ARGS",
            help="more options for that ComfyUI, in one string, written with '=': "
                 "--comfyui-args=\"--lowvram\" (env COMFYUI_ARGS)"),
    Setting("comfyui_start_timeout", ("--comfyui-start-timeout",), "COMFYUI_START_TIMEOUT", SECONDS, 120.0,
            metavar="S", help="seconds that ComfyUI may take to start before the page says it failed "
                              "(env COMFYUI_START_TIMEOUT)"),
    Setting("comfyui_restarts", ("--comfyui-restarts",), "COMFYUI_RESTARTS", COUNT_OR_ZERO, 3, metavar="N",
            help="restart that ComfyUI at most N times within 10 minutes when it stops; 0: never "
                 "(env COMFYUI_RESTARTS)"),
]

LIMITS_TITLE = "limits per user for a public demo (off by default; admins are exempt)"
LIMITS = [
    Setting("max_pending_per_user", ("--max-pending-per-user",), "COMFY_UI_MAX_PENDING", CAP_COUNT, metavar="N",
            help="jobs one user may have waiting or running at once (env COMFY_UI_MAX_PENDING)"),
    Setting("max_pixels", ("--max-pixels",), "COMFY_UI_MAX_PIXELS", CAP_PIXELS, metavar="N|WxH",
            help="width × height of one picture, e.g. 1048576 or 1024x1024 (env COMFY_UI_MAX_PIXELS)"),
    Setting("max_steps", ("--max-steps",), "COMFY_UI_MAX_STEPS", CAP_COUNT, metavar="N",
            help="sampling steps of any sampler, refiner included (env COMFY_UI_MAX_STEPS)"),
    Setting("max_images", ("--max-images",), "COMFY_UI_MAX_IMAGES", CAP_COUNT, metavar="N",
            help="pictures asked for at once: batch size × batch count (env COMFY_UI_MAX_IMAGES)"),
    Setting("max_user_upload_mb", ("--max-user-upload-mb",), "COMFY_UI_MAX_USER_UPLOAD_MB", CAP_MEGABYTES,
            metavar="MB", help="megabytes of one picture a user sends to ComfyUI; --max-upload-mb stays the limit "
                               "for everyone, admins included (env COMFY_UI_MAX_USER_UPLOAD_MB)"),
]

PUBLIC_TITLE = ("what a visitor may send (README: Running it in public); left unset, a public app (a Space, "
                "--share, --host beyond this computer) gets the stricter default")
PUBLIC = [
    Setting("custom_workflows", ("--custom-workflows",), "COMFY_UI_CUSTOM_WORKFLOWS", CHOICE(CUSTOM_WORKFLOWS),
            metavar="everyone|admins|off",
            help="who may run a workflow of their own (Custom workflow tab): everyone, admins or nobody; "
                 "default everyone on a private app, admins on a public one (env COMFY_UI_CUSTOM_WORKFLOWS)"),
    Setting("allow_nodes", ("--allow-nodes",), "COMFY_UI_ALLOW_NODES", NAMES, metavar="CLASS[,CLASS...]",
            help="node classes a non-admin's workflow may use, e.g. KSampler,SaveImage (empty: any node the "
                 "server has) (env COMFY_UI_ALLOW_NODES)"),
    Setting("max_prompt_chars", ("--max-prompt-chars",), "COMFY_UI_MAX_PROMPT_CHARS", OPTIONAL_COUNT, metavar="N",
            help="longest prompt, in characters; default 100000, 10000 on a public app (env COMFY_UI_MAX_PROMPT_CHARS)"),
    Setting("max_text_chars", ("--max-text-chars",), "COMFY_UI_MAX_TEXT_CHARS", OPTIONAL_COUNT, metavar="N",
            help="longest other text field (file name prefix, a workflow's text input); default 10000, 1000 on "
                 "a public app (env COMFY_UI_MAX_TEXT_CHARS)"),
    Setting("max_nodes", ("--max-nodes",), "COMFY_UI_MAX_NODES", OPTIONAL_COUNT, metavar="N",
            help="nodes of one workflow (an upload, or any graph a job sends); default 5000, 1000 on a public app "
                 "(env COMFY_UI_MAX_NODES)"),
    Setting("min_free_mb", ("--min-free-disk-mb",), "COMFY_UI_MIN_FREE_DISK_MB", MEGABYTES_OR_ZERO, metavar="MB",
            help="refuse new jobs while the data folder's disk has less free space than this; 0: never "
                 "(default 500) (env COMFY_UI_MIN_FREE_DISK_MB)"),
]

ALL = [*MAIN, *LOCAL, *LIMITS, *PUBLIC]
