"""Command line: ``python -m comfy_ui_app {generate,fields,convert} ...``.

``generate`` fills a workflow, checks it against the server's ``/object_info``, runs
it and saves the PNGs (see ``_cli_generate.py``); ``fields`` prints the fields a
workflow offers as JSON; ``convert`` turns an editor (UI-format) save into API format.
Any failure exits non-zero with ONE plain line on stderr (worded by
``comfy_ui_app.texts.messages``). Deliberately does not import gradio, so it starts fast.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Sequence

from comfy_ui_app.workflow.templates import (
    choose_checkpoint,
)  # noqa: F401  (re-exported: the web page imported it from here)

DEFAULT_SERVER = "http://127.0.0.1:8188"

EXIT_OK = 0
EXIT_FAILED = 1        # server unreachable, rejected, execution error, interrupted
EXIT_USAGE = 2         # bad arguments, bad workflow, unknown --set name, values the local check refuses
EXIT_CTRL_C = 130


class UsageError(Exception):
    """A plain-worded problem with the command line itself (exit 2)."""


class CommandFailed(Exception):
    """A plain-worded failure with its exit status."""

    def __init__(self, line: str, code: int = EXIT_FAILED) -> None:
        super().__init__(line)
        self.code = code


def parse_sets(items: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--set needs the form name=value, got '{item}'.")
        values[name] = value
    return values


def server_url(args) -> str:
    return args.server or os.environ.get("COMFYUI_URL") or DEFAULT_SERVER


def read_workflow_file(path: str | Path) -> tuple[dict, bool]:
    """``(graph, is_ui)``: an API-format graph checked by ``load_workflow``, or a UI-format save."""
    from comfy_ui_app.workflow.convert import is_ui_workflow
    from comfy_ui_app.errors import WorkflowError
    from comfy_ui_app.workflow.templates import load_workflow

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"Workflow file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read the workflow file {path}: {exc}") from exc
    if not text.lstrip().startswith(("{", "[")):
        raise WorkflowError(f"{path.name} is not a JSON workflow.")
    try:
        data = json.loads(text)
    except ValueError:
        data = None  # load_workflow words the JSON error
    if is_ui_workflow(data):
        return data, True
    return load_workflow(text), False


def load_object_info(path: str | Path) -> dict:
    """A saved ``/object_info`` answer (``curl http://127.0.0.1:8188/object_info > info.json``)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"Cannot read the node list {path}: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise UsageError(f"{path} is not a saved /object_info (a JSON object of node classes).")
    return data


def fetch_object_info(url: str) -> dict:
    """The server's ``/object_info``; raises ServerUnreachable (or ServerHTTPError)."""
    from comfy_ui_app.comfy.client import ComfyClient

    client = ComfyClient(url)
    try:
        return client.object_info()
    finally:
        client.session.close()


def to_api(graph: dict, is_ui: bool, object_info: dict | None, url: str, *, offline: bool = False) -> dict:
    """``graph`` as an API prompt: a UI-format save is converted with ``object_info``."""
    if not is_ui:
        return graph
    if not object_info:
        why, fix = (("you asked for --offline", "leave out --offline") if offline
                    else (f"ComfyUI at {url} cannot be reached", "start ComfyUI"))
        raise CommandFailed(f"This is a UI-format workflow, and converting it needs ComfyUI's node list, but {why}. "
                            f"To convert it, {fix}, or pass --object-info FILE (a saved /object_info).")
    from comfy_ui_app.workflow.convert import ui_to_api

    return ui_to_api(graph, object_info)


def problems_line(lead: str, problems: list) -> str:
    """``lead: first problem; second problem.`` with each problem named after its field."""
    from comfy_ui_app.texts.messages import describe_problem

    return f"{lead}: " + "; ".join(describe_problem(p, name_first=True) for p in problems) + "."


def field_json(field) -> dict[str, Any]:
    return {
        "name": field.name, "label": field.label, "type": field.kind, "default": field.default,
        "choices": list(field.choices), "min": field.minimum, "max": field.maximum, "step": field.step,
        "node_id": field.node_id, "input_name": field.input_name,
        "advanced": field.advanced, "placeholder": field.placeholder,
    }  # fmt: skip


def fields_command(args, out=None) -> int:
    from comfy_ui_app.errors import ServerUnreachable
    from comfy_ui_app.workflow.fields import discover
    from comfy_ui_app.texts.messages import describe

    out = out or sys.stdout
    graph, is_ui = read_workflow_file(args.workflow)
    url, object_info, note = server_url(args), None, None
    if args.object_info:
        object_info = load_object_info(args.object_info)
    elif args.offline:
        note = "Offline (--offline). "
    else:
        try:
            object_info = fetch_object_info(url)
        except ServerUnreachable as exc:
            note = describe(exc, retrying=False) + " "
    prompt = to_api(graph, is_ui, object_info, url, offline=args.offline)
    if note:
        print(note + "Fields listed without the server's node list, so without choices, min or max.",
              file=sys.stderr, flush=True)
    fields = discover(prompt, object_info)
    print(json.dumps([field_json(f) for f in fields], indent=2, ensure_ascii=False), file=out, flush=True)
    return EXIT_OK


def convert_command(args, out=None) -> int:
    out = out or sys.stdout
    graph, is_ui = read_workflow_file(args.workflow)
    if is_ui:
        url = server_url(args)
        object_info = load_object_info(args.object_info) if args.object_info else _info_or_none(url)
        graph = to_api(graph, True, object_info, url)
    else:
        print(f"{Path(args.workflow).name} is already in API format; written out as it is.",
              file=sys.stderr, flush=True)
    text = json.dumps(graph, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        out.write(text)
        out.flush()
    return EXIT_OK


def _info_or_none(url: str) -> dict | None:
    from comfy_ui_app.errors import ServerUnreachable

    try:
        return fetch_object_info(url)
    except ServerUnreachable:
        return None


def generate_command(args, out=None) -> int:
    from comfy_ui_app.cli.generate import generate

    return generate(args, out)


_SERVER_HELP = f"ComfyUI address (default: env COMFYUI_URL, else {DEFAULT_SERVER})"
_SET_HELP = ("set a field; repeatable. NAME is any name `fields` lists: the named fields (prompt, negative, "
             "seed (-1 = random), steps, cfg, width, height, batch_size, checkpoint, sampler, scheduler, "
             "denoise, refiner_steps, lora_strength, image …), {{placeholder}} names, and any other node "
             "input as NODE.INPUT (e.g. 3.denoise)")
_EPILOG = """\
exit status: 0 done; 1 failed (server unreachable, prompt rejected by ComfyUI, a node failed,
job interrupted); 2 usage (bad arguments, unreadable workflow, unknown --set name, values the
check against the server's node list refuses); 130 Ctrl-C (the job is cancelled on the server).
Any failure prints one plain line on stderr."""


def build_parser() -> argparse.ArgumentParser:
    from comfy_ui_app.cli.history import DATA_HELP
    from comfy_ui_app.cli.history import add_parser as add_history_parser  # `history [--json] [--data DIR]`
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="python -m comfy_ui_app", formatter_class=fmt, epilog=_EPILOG,
        description="Run ComfyUI workflows from the command line.\n\n"
                    "Workflows may be API format (Workflow > Export (API)) or UI format (Workflow > Save);\n"
                    "UI format is converted with the server's node list (/object_info).\n"
                    "Run `python -m comfy_ui_app COMMAND --help` for each command's options.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gen = sub.add_parser(
        "generate", formatter_class=fmt, epilog=_EPILOG,
        help="fill a workflow, check it, run it on ComfyUI and save the images",
        description="Fill a workflow with --set values, check them against the server's node list (unknown\n"
                    "node, missing input, value not in the list, out of range, broken link: each reported\n"
                    "by field name, nothing is sent), queue it on ComfyUI, print progress and save the\n"
                    "output PNGs to --out. A template checkpoint the server lacks is replaced by the first\n"
                    "one it lists unless you --set checkpoint.\n\n"
                    "example:\n  python -m comfy_ui_app generate --workflow workflows/txt2img.json \\\n"
                    "      --set prompt='a red fox' --set seed=-1 --set 3.denoise=0.9 --out out/")
    gen.add_argument("--workflow", required=True, metavar="FILE",
                     help="workflow JSON, API or UI format (e.g. workflows/txt2img.json)")
    gen.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE", help=_SET_HELP)
    gen.add_argument("--out", required=True, metavar="DIR", help="folder for the output PNGs")
    gen.add_argument("--server", metavar="URL", default=None, help=_SERVER_HELP)
    gen.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                     help="give up after this many seconds without any news from the server (default 600)")
    gen.add_argument("--quiet", action="store_true", help="print only the saved file paths")
    gen.add_argument("--data", metavar="DIR", default=None,
                     help=f"record the job in {DATA_HELP}, as the web app does; see `history`")
    gen.set_defaults(run=generate_command)

    fields = sub.add_parser(
        "fields", formatter_class=fmt, epilog=_EPILOG,
        help="print the fields a workflow offers, as JSON",
        description="Print the workflow's fields as a JSON list, named fields first, then advanced ones.\n"
                    "Each has: name (what --set takes), label, type (text, int, float, bool, choice, image,\n"
                    "mask), default, choices, min, max, step, node_id, input_name, advanced, placeholder.\n"
                    "Types, choices, min and max come from the server's node list; when the server cannot\n"
                    "be reached (or with --offline) the fields are found without it, which stderr says\n"
                    "(exit status 0). A UI-format workflow needs the node list (server or --object-info).\n\n"
                    "example:\n  python -m comfy_ui_app fields workflows/txt2img.json --server http://127.0.0.1:8188")
    fields.add_argument("workflow", metavar="WORKFLOW.json", help="workflow JSON, API or UI format")
    fields.add_argument("--server", metavar="URL", default=None, help=_SERVER_HELP)
    fields.add_argument("--offline", action="store_true", help="do not contact the server")
    fields.add_argument("--object-info", metavar="FILE", help="use a saved /object_info JSON instead of the server")
    fields.set_defaults(run=fields_command)

    conv = sub.add_parser(
        "convert", formatter_class=fmt, epilog=_EPILOG,
        help="convert a UI-format workflow (editor save) to API format",
        description="Convert a workflow saved in the ComfyUI editor (UI format) into the API format that\n"
                    "POST /prompt and `generate` take, using the server's node list (or --object-info).\n"
                    "Writes the API JSON to stdout, or to -o FILE. A workflow already in API format is\n"
                    "written out as it is (re-indented; stderr says so) with exit status 0.\n\n"
                    "example:\n  python -m comfy_ui_app convert my_workflow.json > my_workflow_api.json")
    conv.add_argument("workflow", metavar="UI.json", help="workflow saved from the ComfyUI editor")
    conv.add_argument("-o", "--output", metavar="API.json", help="write here instead of stdout")
    conv.add_argument("--server", metavar="URL", default=None, help=_SERVER_HELP)
    conv.add_argument("--object-info", metavar="FILE", help="convert offline with a saved /object_info JSON")
    conv.set_defaults(run=convert_command)


    add_history_parser(sub, formatter_class=fmt, epilog=_EPILOG)
    return parser


def _say_error(text: str) -> None:
    print(re.sub(r"\s+", " ", text).strip(), file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from comfy_ui_app.errors import WorkflowError
    from comfy_ui_app.texts.messages import describe

    try:
        return args.run(args)
    except KeyboardInterrupt:
        _say_error("Interrupted by you" + ("; the job was cancelled." if args.command == "generate" else "."))
        return EXIT_CTRL_C
    except CommandFailed as exc:
        _say_error(str(exc))
        return exc.code
    except UsageError as exc:
        _say_error(str(exc))
        return EXIT_USAGE
    except WorkflowError as exc:
        _say_error(describe(exc, retrying=False))
        return EXIT_USAGE
    except Exception as exc:  # every failure becomes one plain line
        _say_error(describe(exc, retrying=False))
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
