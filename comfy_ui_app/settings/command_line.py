"""The command line's settings (``python -m comfy_ui_app COMMAND``): every flag and variable
of each command. The server list and the data folder are read as the web app reads them."""
from __future__ import annotations

from comfy_ui_app.settings.core import COUNT, SECONDS, SERVERS, Setting
from comfy_ui_app.settings.web_app import DATA_ENV, DEFAULT_DATA, DEFAULT_SERVER

SERVER_HELP = (f"ComfyUI address; of several separated by commas (as the web app takes them) the first "
               f"is used (default: env COMFYUI_URL, else {DEFAULT_SERVER})")
DATA_HELP = f"the app's data folder (default: env {DATA_ENV}, else ./{DEFAULT_DATA})"
SET_HELP = ("set a field; repeatable. NAME is any name `fields` lists: the named fields (prompt, negative, "
            "seed (-1 = random), steps, cfg, width, height, batch_size, checkpoint, sampler, scheduler, "
            "denoise, refiner_steps, lora_strength, image …), {{placeholder}} names, and any other node "
            "input as NODE.INPUT (e.g. 3.denoise)")


def _server() -> Setting:
    return Setting("server", ("--server",), "COMFYUI_URL", SERVERS, [DEFAULT_SERVER], SERVER_HELP,
                   metavar="URL[,URL...]")


def _data(help_text: str) -> Setting:
    return Setting("data", ("--data",), DATA_ENV, default=DEFAULT_DATA, help=help_text, metavar="DIR")


GENERATE = [
    Setting("workflow", ("--workflow",), help="workflow JSON, API or UI format (e.g. workflows/txt2img.json)",
            metavar="FILE", required=True),
    Setting("sets", ("--set",), default=[], help=SET_HELP, metavar="NAME=VALUE", action="repeat"),
    Setting("out", ("--out",), help="folder for the outputs (pictures, video, audio, 3D models, text)", metavar="DIR", required=True),
    _server(),
    Setting("timeout", ("--timeout",), kind=SECONDS, default=600.0, metavar="SECONDS",
            help="give up after this many seconds without any news from the server (default 600)"),
    Setting("quiet", ("--quiet",), default=False, help="print only the saved file paths", action="flag"),
    _data(f"record the job in {DATA_HELP}, as the web app does; see `history`"),
]

FIELDS = [
    Setting("workflow", ("workflow",), help="workflow JSON, API or UI format", metavar="WORKFLOW.json"),
    _server(),
    Setting("offline", ("--offline",), default=False, help="do not contact the server", action="flag"),
    Setting("object_info", ("--object-info",), metavar="FILE",
            help="use a saved /object_info JSON instead of the server"),
]

CONVERT = [
    Setting("workflow", ("workflow",), help="workflow saved from the ComfyUI editor", metavar="UI.json"),
    Setting("output", ("-o", "--output"), help="write here instead of stdout", metavar="API.json"),
    _server(),
    Setting("object_info", ("--object-info",), metavar="FILE",
            help="convert offline with a saved /object_info JSON"),
]

HISTORY = [
    Setting("json", ("--json",), default=False, action="flag",
            help="print a JSON list (with values and output paths)"),
    _data(DATA_HELP),
    Setting("limit", ("--limit",), kind=COUNT, default=50, metavar="N", help="at most N jobs (default 50)"),
    Setting("user", ("--user",), metavar="OWNER",
            help="only this owner's jobs, as stored: user:NAME, browser:ID or cli:NAME"),
]
