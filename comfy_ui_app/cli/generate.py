"""``python -m comfy_ui_app generate``: fill, check, run, save (its options: ``settings.command_line``).

Order: read the workflow and ``--set`` syntax (no network), reach the server and read
its ``/object_info``, convert a UI-format save, discover the fields (so every name
``fields`` lists is accepted), fill them, check the prompt locally (a file-name input with a path or an annotation is
refused: ``jobs.graph_rules``), then submit. A
problem found locally or a server rejection is reported by field name on one line.
"""
from __future__ import annotations

import sys
from pathlib import Path

from comfy_ui_app.cli.common import (
    EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandFailed, parse_sets, problems_line, read_workflow_file,
    server_url, to_api, workflow_fields,
)
from comfy_ui_app.cli.history import Recording
from comfy_ui_app.comfy.outputs import media_of
from comfy_ui_app.workflow.templates import choose_checkpoint


def _progress_line(update) -> str | None:
    from comfy_ui_app.comfy.updates import Executing, Progress, Queued, Started

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


def _checkpoint_value(comfy, fields, values: dict, say) -> dict:
    """``values`` plus a checkpoint the server has, when the template's is missing there."""
    field = next((f for f in fields if f.name == "checkpoint"), None)
    if field is None or "checkpoint" in values or field.default is None:
        return values
    available = field.choices or comfy.client.models("checkpoints")
    chosen = choose_checkpoint(field.default, available)
    if chosen and chosen != field.default:
        say(f"Checkpoint {field.default} is not on the server; using {chosen}")
        return {**values, "checkpoint": chosen}
    return values


def _by_field_name(values: dict, fields) -> dict:
    """``NODE.INPUT`` of an input that has a field name (``3.steps``) -> that name (``steps``)."""
    names = {f.name for f in fields}
    aliases = {f"{f.node_id}.{f.input_name}": f.name for f in fields if not f.placeholder}
    return {(name if name in names else aliases.get(name, name)): value for name, value in values.items()}


def _rejection(exc, fields, prompt: dict, object_info: dict) -> CommandFailed:
    """A 400 from ``POST /prompt`` as one line naming the fields, like the local check."""
    from comfy_ui_app.workflow.check import problems_from_rejection
    from comfy_ui_app.texts.messages import describe

    problems = problems_from_rejection(exc, fields, prompt=prompt, object_info=object_info)
    if exc.node_errors or any(p.kind == "missing_node_type" for p in problems):
        return CommandFailed(problems_line("ComfyUI rejected the workflow", problems), EXIT_FAILED)
    return CommandFailed(describe(exc, retrying=False), EXIT_FAILED)


def _prepare(comfy, args, say) -> tuple[dict, list, dict]:
    """The filled and checked prompt, its fields and the server's node list."""
    from comfy_ui_app.workflow.templates import apply_values
    from comfy_ui_app.workflow.check import check_prompt

    graph, is_ui = read_workflow_file(args.workflow)  # file and --set problems: before any network
    values = parse_sets(args.sets)
    comfy.check()
    object_info = comfy.client.object_info()
    prompt = to_api(graph, is_ui, object_info, comfy.url)
    if is_ui:
        say("Converted the UI-format workflow to API format")
    fields = workflow_fields(prompt, object_info, graph if is_ui else None, every=True)  # App mode's names first
    prompt = apply_values(prompt, _checkpoint_value(comfy, fields, _by_field_name(values, fields), say),
                          fields=fields)
    problems = check_prompt(prompt, object_info, fields)
    if problems:
        raise CommandFailed(problems_line("Please fix", problems), EXIT_USAGE)
    _check_file_names(prompt, object_info, fields)
    return prompt, fields, object_info


def _check_file_names(prompt: dict, object_info: dict, fields) -> None:
    """GraphRefused (named after its ``--set`` field) for a file-name input with a path or an
    annotation: they read outside ComfyUI's input folder. The command line is a trusted local
    tool: nothing more is refused (``jobs.graph_rules``, ``client="cli"``)."""
    from comfy_ui_app.cli.history import cli_owner
    from comfy_ui_app.jobs.graph_rules import GraphRules
    from comfy_ui_app.jobs.policy import Policy

    GraphRules(lambda: object_info).check(Policy(), prompt, owner=cli_owner(), admin=False, kind="cli",
                                          client="cli", fields=fields)


def generate(args, out=None) -> int:
    from comfy_ui_app.comfy.connection import Comfy
    from comfy_ui_app.comfy.updates import Finished, Output
    from comfy_ui_app.errors import JobInterrupted, PromptRejected

    out = out or sys.stdout

    def say(line: str) -> None:
        if not args.quiet:
            print(line, file=out, flush=True)

    recording = Recording(args.data)  # the job is stored like a web job (`history` lists it)
    comfy = Comfy(server_url(args), save_outputs=recording.save_outputs)   # the first of --server's list
    job = None
    try:
        prompt, fields, object_info = _prepare(comfy, args, say)
        seed = next((f for f in fields if f.name == "seed"), None)
        if seed is not None:
            say(f"Seed {prompt[seed.node_id]['inputs'][seed.input_name]}")
        comfy.start()
        comfy.wait_connected(5.0)  # so no early event is missed (the job recovers anyway)
        try:
            job = recording.submit(comfy, prompt, template=Path(args.workflow).stem, values=parse_sets(args.sets))
        except PromptRejected as exc:
            raise _rejection(exc, fields, prompt, object_info) from exc
        say(f"Submitted job {job.prompt_id}")
        out_dir = Path(args.out)
        saved: dict[tuple, Path] = {}

        def save(images) -> None:
            for img in images:
                key = (img.type, img.subfolder, img.filename)
                if key not in saved:
                    saved[key] = img.save(out_dir, sep="-")  # never over an older file (a server restart)
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
        if isinstance(finished.error, PromptRejected):  # refused when sent from the app's queue
            raise _rejection(finished.error, fields, prompt, object_info) from finished.error
        if finished.status != "success":
            raise finished.error if finished.error is not None else JobInterrupted(job.prompt_id)
        save(finished.images)
        what = "image(s)" if all(media_of(str(p)) == "image" for p in saved.values()) else "output(s)"
        say(f"Done: {len(saved)} {what} in {out_dir}" if saved else "Finished, but the workflow produced no images")
        job = None
        return EXIT_OK
    except KeyboardInterrupt:
        if job is not None:
            try:
                job.interrupt()
            except Exception:  # noqa: BLE001 - best effort while exiting on Ctrl-C
                pass
        raise
    finally:
        try:
            comfy.close()
        except Exception:  # noqa: BLE001 - closing must not hide the real outcome
            pass
        recording.close()


