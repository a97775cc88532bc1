"""Command line: ``python -m comfy_ui_app {generate,fields,convert,history} ...``.

``generate`` fills a workflow, checks it against the server's ``/object_info``, runs
it and saves every output (see ``cli.generate``); ``fields`` prints the fields a workflow
offers as JSON (a workflow saved in ComfyUI's App mode: the inputs its author chose);
``convert`` turns an editor (UI-format) save into API format; ``history``
lists recorded jobs (``cli.history``). The options are declared in
``comfy_ui_app.settings.command_line``; what the commands share is in ``cli.common``.
Any failure exits non-zero with ONE plain line on stderr (worded by
``comfy_ui_app.texts.messages``). Deliberately does not import gradio, so it starts fast.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Sequence

from comfy_ui_app.cli import history
from comfy_ui_app.cli.common import (
    EXIT_CTRL_C, EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandFailed, UsageError, fetch_object_info, load_object_info,
    read_workflow_file, server_url, to_api, workflow_fields,
)
from comfy_ui_app.settings import SettingsParser
from comfy_ui_app.settings.command_line import CONVERT, FIELDS, GENERATE


def field_json(field) -> dict[str, Any]:
    return {
        "name": field.name, "label": field.label, "type": field.kind, "default": field.default,
        "choices": list(field.choices), "min": field.minimum, "max": field.maximum, "step": field.step,
        "node_id": field.node_id, "input_name": field.input_name,
        "advanced": field.advanced, "placeholder": field.placeholder,
    }  # fmt: skip


def fields_command(args, out=None) -> int:
    from comfy_ui_app.errors import ServerUnreachable
    from comfy_ui_app.workflow.app_mode import read_app_mode
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
    fields = workflow_fields(prompt, object_info, graph if is_ui else None)
    if is_ui and fields and read_app_mode(graph, prompt):
        print("App mode: the inputs the workflow's author chose, in their order.", file=sys.stderr, flush=True)
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
    from comfy_ui_app.cli.generate import generate   # lazily: it needs the server's modules

    return generate(args, out)


_EPILOG = """\
exit status: 0 done; 1 failed (server unreachable, prompt rejected by ComfyUI, a node failed,
job interrupted); 2 usage (bad arguments, unreadable workflow, unknown --set name, values the
check against the server's node list refuses); 130 Ctrl-C (the job is cancelled on the server).
Any failure prints one plain line on stderr."""


def build_parser(env=None) -> SettingsParser:
    """The commands and their options (declared in ``comfy_ui_app.settings.command_line``); its
    ``parse_args`` reads COMFYUI_URL and COMFY_UI_DATA from ``env`` (else ``os.environ``)."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = SettingsParser(env=env,
        prog="python -m comfy_ui_app", formatter_class=fmt, epilog=_EPILOG,
        description="Run ComfyUI workflows from the command line.\n\n"
                    "Workflows may be API format (Workflow > Export (API)) or UI format (Workflow > Save);\n"
                    "UI format is converted with the server's node list (/object_info).\n"
                    "Run `python -m comfy_ui_app COMMAND --help` for each command's options.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gen = sub.add_parser(
        "generate", formatter_class=fmt, epilog=_EPILOG,
        help="fill a workflow, check it, run it on ComfyUI and save its outputs",
        description="Fill a workflow with --set values, check them against the server's node list (unknown\n"
                    "node, missing input, value not in the list, out of range, broken link: each reported\n"
                    "by field name, nothing is sent), queue it on ComfyUI, print progress and save the\n"
                    "outputs (pictures, video, audio, 3D models, text) to --out. A template checkpoint the\n"
                    "server lacks is replaced by the first "
                    "one it lists unless you --set checkpoint.\n\n"
                    "example:\n  python -m comfy_ui_app generate --workflow workflows/txt2img.json \\\n"
                    "      --set prompt='a red fox' --set seed=-1 --set 3.denoise=0.9 --out out/")
    gen.declare(GENERATE)
    gen.set_defaults(run=generate_command)

    fields = sub.add_parser(
        "fields", formatter_class=fmt, epilog=_EPILOG,
        help="print the fields a workflow offers, as JSON",
        description="Print the workflow's fields as a JSON list, named fields first, then advanced ones.\n"
                    "Each has: name (what --set takes), label, type (text, int, float, bool, choice, image,\n"
                    "mask), default, choices, min, max, step, node_id, input_name, advanced, placeholder.\n"
                    "Types, choices, min and max come from the server's node list; when the server cannot\n"
                    "be reached (or with --offline) the fields are found without it, which stderr says\n"
                    "(exit status 0). A UI-format workflow needs the node list (server or --object-info).\n"
                    "A workflow saved with ComfyUI's App mode lists the inputs its author chose, in order,\n"
                    "with the author's labels (generate --set takes those names, and every other field's).\n\n"
                    "example:\n  python -m comfy_ui_app fields workflows/txt2img.json --server http://127.0.0.1:8188")
    fields.declare(FIELDS)
    fields.set_defaults(run=fields_command)

    conv = sub.add_parser(
        "convert", formatter_class=fmt, epilog=_EPILOG,
        help="convert a UI-format workflow (editor save) to API format",
        description="Convert a workflow saved in the ComfyUI editor (UI format) into the API format that\n"
                    "POST /prompt and `generate` take, using the server's node list (or --object-info).\n"
                    "Writes the API JSON to stdout, or to -o FILE. A workflow already in API format is\n"
                    "written out as it is (re-indented; stderr says so) with exit status 0.\n\n"
                    "example:\n  python -m comfy_ui_app convert my_workflow.json > my_workflow_api.json")
    conv.declare(CONVERT)
    conv.set_defaults(run=convert_command)

    history.add_parser(sub, formatter_class=fmt, epilog=_EPILOG)   # `history [--json] [--data DIR]`
    return parser


def _say_error(text: str) -> None:
    print(re.sub(r"\s+", " ", text).strip(), file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:   # --help, or a bad option or value (argparse said so on stderr)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
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
