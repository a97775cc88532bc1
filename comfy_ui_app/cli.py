"""Command line: ``python -m comfy_ui_app generate --workflow W --set name=value --out DIR``.

Prints progress lines on stdout and the paths of the saved PNGs.  Any failure
exits non-zero with ONE plain line on stderr (worded by ``messages.describe``).
Deliberately does not import gradio, so it starts fast.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

DEFAULT_SERVER = "http://127.0.0.1:8188"

EXIT_OK = 0
EXIT_FAILED = 1        # server unreachable, rejected, execution error, interrupted
EXIT_USAGE = 2         # bad arguments, bad workflow, unknown --set name
EXIT_CTRL_C = 130


class UsageError(Exception):
    """A plain-worded problem with the command line itself."""


def choose_checkpoint(current: str | None, available: Sequence[str]) -> str | None:
    """Keep ``current`` if the server has it, else the first one the server lists.

    Returns None when the server lists none (then the workflow is left untouched).
    Shared by the CLI and the web page.
    """
    available = list(available or [])
    if current in available:
        return current
    return available[0] if available else None


def parse_sets(items: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--set needs the form name=value, got '{item}'.")
        values[name] = value
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m comfy_ui_app",
        description="Run ComfyUI workflows from the command line.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    gen = sub.add_parser(
        "generate",
        help="fill a workflow template, run it on ComfyUI and save the images",
        description="Fill an API-format workflow template with --set values, queue it on "
                    "ComfyUI, print progress and save the output PNGs to --out.",
    )
    gen.add_argument("--workflow", required=True, metavar="FILE",
                     help="API-format workflow JSON (e.g. workflows/txt2img.json)")
    gen.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                     help="set a field; repeatable. Names: prompt, negative, seed (-1 = random), "
                          "steps, cfg, width, height, batch_size, checkpoint, sampler, scheduler")
    gen.add_argument("--out", required=True, metavar="DIR", help="folder for the output PNGs")
    gen.add_argument("--server", metavar="URL", default=None,
                     help=f"ComfyUI address (default: env COMFYUI_URL, else {DEFAULT_SERVER})")
    gen.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                     help="give up after this many seconds without any news from the server "
                          "(default 600)")
    gen.add_argument("--quiet", action="store_true", help="print only the saved file paths")
    return parser


def _progress_line(update) -> str | None:
    from . import Executing, Progress, Queued, Started

    if isinstance(update, Queued):
        if update.position is None:
            return "Queued"
        if update.position == 0:
            return "Queued: next to run"
        return f"Queued: position {update.position}"
    if isinstance(update, Started):
        return "Started"
    if isinstance(update, Executing):
        return f"Running node {update.node}" + (f" ({update.class_type})" if update.class_type else "")
    if isinstance(update, Progress):
        pct = int(round(100 * update.value / update.max)) if update.max else 0
        line = f"Step {update.value}/{update.max} ({pct}%)"
        if update.eta_s is not None and update.eta_s >= 0.5:
            line += f", about {round(update.eta_s)} s left"
        return line
    return None


def generate(args, out=sys.stdout) -> int:
    from . import Comfy, Finished, Output, apply_values, load_workflow, workflow_defaults

    def say(line: str) -> None:
        if not args.quiet:
            print(line, file=out, flush=True)

    workflow_path = Path(args.workflow)
    if not workflow_path.is_file():
        raise UsageError(f"Workflow file not found: {workflow_path}")
    template = load_workflow(workflow_path)
    values = parse_sets(args.sets)
    prompt = apply_values(template, values)   # unknown names / bad values fail before any network

    url = args.server or os.environ.get("COMFYUI_URL") or DEFAULT_SERVER
    comfy = Comfy(url)
    job = None
    try:
        comfy.check()
        if "checkpoint" not in values:
            current = workflow_defaults(prompt).get("checkpoint")
            if current is not None:
                chosen = choose_checkpoint(current, comfy.client.models("checkpoints"))
                if chosen and chosen != current:
                    say(f"Checkpoint {current} is not on the server; using {chosen}")
                    prompt = apply_values(prompt, {"checkpoint": chosen})
        seed = workflow_defaults(prompt).get("seed")
        if seed is not None:
            say(f"Seed {seed}")
        comfy.start()
        comfy.wait_connected(5.0)  # so no early event is missed (the job recovers anyway)
        job = comfy.submit(prompt)
        say(f"Submitted job {job.prompt_id}")
        out_dir = Path(args.out)
        saved: dict[tuple, Path] = {}

        def save(images) -> None:
            for img in images:
                key = (img.type, img.subfolder, img.filename)
                if key not in saved:
                    saved[key] = _save_new(img, out_dir)
                    print(str(saved[key]), file=out, flush=True)

        finished = None
        for update in job.updates(timeout=args.timeout):
            if isinstance(update, Output):
                save(update.images)
            elif isinstance(update, Finished):
                finished = update
            else:
                line = _progress_line(update)
                if line:
                    say(line)
        if finished is None:  # updates() always ends with Finished; be defensive anyway
            raise RuntimeError("the server stopped sending updates")
        if finished.status != "success":
            if finished.error is not None:
                raise finished.error
            from . import JobInterrupted
            raise JobInterrupted(job.prompt_id)
        save(finished.images)
        if not saved:
            say("Finished, but the workflow produced no images")
        else:
            say(f"Done: {len(saved)} image(s) in {out_dir}")
        job = None
        return EXIT_OK
    except KeyboardInterrupt:
        if job is not None:
            try:
                job.interrupt()
            except Exception:
                pass
        raise
    finally:
        try:
            comfy.close()
        except Exception:
            pass


def _save_new(img, out_dir: Path) -> Path:
    """Save without overwriting an older file of the same name (e.g. after a server restart)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = Path(img.filename).name or "output.png"
    path, n = out_dir / name, 1
    while path.exists():
        path = out_dir / f"{Path(name).stem}-{n}{Path(name).suffix}"
        n += 1
    path.write_bytes(img.data)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "generate":
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from . import WorkflowError
    from .messages import describe

    try:
        return generate(args)
    except KeyboardInterrupt:
        print("Interrupted by you; the job was cancelled.", file=sys.stderr, flush=True)
        return EXIT_CTRL_C
    except UsageError as exc:
        print(str(exc), file=sys.stderr, flush=True)
        return EXIT_USAGE
    except WorkflowError as exc:
        print(describe(exc, retrying=False), file=sys.stderr, flush=True)
        return EXIT_USAGE
    except Exception as exc:  # every failure becomes one plain line
        print(describe(exc, retrying=False), file=sys.stderr, flush=True)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
