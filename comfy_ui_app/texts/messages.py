"""Turn exceptions into one plain line for people (web page and CLI), in their language.

This is the ONLY place that translates errors into user-facing words. Every
function takes ``lang`` (a code from ``i18n.LANGUAGES``; English by default, which
is what the command line uses); each sentence is one ``tr`` template, its Chinese
in ``texts/zh_cn.py``. The server's own words (exception messages, details) stay as
they came. Errors carry servers' addresses; a page that must not show them passes its
``ServerNames`` (``names``): a server is then said by its name ("Cannot reach ComfyUI server 2"),
and any address left in the sentence is replaced by its name too. Validation problems are
phrased in ``problem_words``. It must not import gradio: the CLI imports it at start-up.

A job's recorded error is worded by the same :func:`describe`: :func:`describe_recorded`
rebuilds it from the record's ``error_code`` and ``error_data`` (``errors.error_from_record``).
Only rows recorded before codes were kept (and errors raised elsewhere with nothing but an
English line) go through ``i18n.tr_stored``, the catalog lookup of an English sentence.
"""
from __future__ import annotations

from comfy_ui_app.errors import (
    BatchStopped, ComfyError, ComfyUIStartFailed, JobFailed, JobInterrupted, JobLost, NoServerCanRun, NotAnImage,
    NotRecorded, OutputsNotSaved, PromptRejected, RunLimitExceeded, ServerHTTPError, ServerNoLongerConfigured,
    ServerUnreachable, WorkflowError, error_from_record,
)
from comfy_ui_app.texts.problem_words import (
    TOP_LEVEL, first_line, join, node_error_texts, one_line, problem_text,
)
from comfy_ui_app.texts.i18n import DEFAULT_LANGUAGE, tr, tr_stored
from comfy_ui_app.texts.refusal_words import refusal_text
from comfy_ui_app.texts.library_words import library_text
from comfy_ui_app.texts.preset_words import preset_text
from comfy_ui_app.texts.server_names import ServerNames

__all__ = ["ServerNames", "describe", "describe_problem", "describe_recorded"]

NO_NAMES = ServerNames()  # every address may be shown (the command line, a private page)


def _server(url: str, names: ServerNames) -> str:
    """How a sentence names the server at ``url``: its shown name, else "ComfyUI at <url>"."""
    return names.name_of(url) or f"ComfyUI at {url}"


def describe_problem(problem, *, name_first: bool = False, lang: str = DEFAULT_LANGUAGE) -> str:
    """A ``comfy_ui_app.workflow.check.Problem`` (local check or mapped rejection) in words.

    ``name_first`` (the command line): a problem with a field starts with the field's
    exact name, the one ``--set`` takes: ``"steps: must be at least 1, not 0"``.
    """
    return problem_text(problem, lang, name_first)


def _describe_rejected(exc: PromptRejected, lang: str) -> str:
    error = getattr(exc, "error", None) or {}
    node_parts = node_error_texts(getattr(exc, "node_errors", None), lang)
    if node_parts:
        return tr("ComfyUI rejected the request. {problems}.", lang, problems=join(node_parts, lang))
    etype = error.get("type") or ""
    if etype in TOP_LEVEL:
        return tr("ComfyUI rejected the request: {reason}.", lang, reason=tr(TOP_LEVEL[etype], lang))
    message = one_line(error.get("message"), 300).rstrip(".")
    details = one_line(error.get("details"), 200)
    if message:
        text = message if not details or details in message else f"{message} ({details})"
        return tr("ComfyUI rejected the request: {reason}.", lang, reason=text.rstrip("."))
    return tr("ComfyUI rejected the request: {reason}", lang,
              reason=one_line(str(exc)) or tr("no reason given", lang))


def _describe_unreachable(exc: ServerUnreachable, retrying: bool, lang: str, names: ServerNames) -> str:
    server = names.name_of(getattr(exc, "url", None))
    if server and retrying:
        return tr("Cannot reach {server}. Is it running? Retrying automatically.", lang, server=server)
    if server:
        return tr("Cannot reach {server}. Is it running?", lang, server=server)
    url = getattr(exc, "url", None) or tr("the configured address", lang)
    if retrying:
        return tr("Cannot reach ComfyUI at {url}. Is it running? Retrying automatically.", lang, url=url)
    return tr("Cannot reach ComfyUI at {url}. Is it running?", lang, url=url)


def _describe_http(exc: ServerHTTPError, lang: str, names: ServerNames) -> str:
    status = getattr(exc, "status", None)
    url = getattr(exc, "url", None)
    body = one_line(getattr(exc, "body", "") or "", 200)
    server = names.name_of(url)
    if server and status:
        return (tr("{server} answered with an error (HTTP {status}): {body}", lang, server=server, status=status,
                   body=body) if body
                else tr("{server} answered with an error (HTTP {status}).", lang, server=server, status=status))
    if server:
        url = None  # the address is not to be shown: say what happened without it
    if status and url:
        return (tr("ComfyUI answered with an error (HTTP {status}) at {url}: {body}", lang,
                   status=status, url=url, body=body) if body
                else tr("ComfyUI answered with an error (HTTP {status}) at {url}.", lang, status=status, url=url))
    if status:
        return (tr("ComfyUI answered with an error (HTTP {status}): {body}", lang, status=status, body=body)
                if body else tr("ComfyUI answered with an error (HTTP {status}).", lang, status=status))
    if url:
        return (tr("ComfyUI answered with an error at {url}: {body}", lang, url=url, body=body) if body
                else tr("ComfyUI answered with an error at {url}.", lang, url=url))
    return (tr("ComfyUI answered with an error: {body}", lang, body=body) if body
            else tr("ComfyUI answered with an error.", lang))


def _describe_job_failed(exc: JobFailed, lang: str) -> str:
    node = getattr(exc, "node_id", None)
    node_type = getattr(exc, "node_type", None)
    msg = first_line(getattr(exc, "exception_message", "")) \
        or one_line(getattr(exc, "exception_type", "")) or tr("unknown error", lang)
    if node is not None:
        where = (tr("node {node} ({node_type})", lang, node=node, node_type=node_type) if node_type
                 else tr("node {node}", lang, node=node))
    else:
        where = tr("a node ({node_type})", lang, node_type=node_type) if node_type else tr("a node", lang)
    return one_line(tr("Failed in {where}: {message}", lang, where=where, message=msg))


def _describe_start_failed(exc: ComfyUIStartFailed, lang: str) -> str:
    """The local ComfyUI (--comfyui-dir) did not start or kept stopping; the log's last lines
    follow on lines of their own."""
    kind, path = exc.kind, exc.path or ""
    if kind == "not_found":
        return tr("No ComfyUI folder found. Looked in: {places}. Name the folder that holds ComfyUI's "
                  "main.py with --comfyui-dir.", lang, places=", ".join(exc.searched))
    if kind == "not_a_checkout":
        return tr("{path} is not a ComfyUI folder: expected a folder with ComfyUI's main.py in it.", lang, path=path)
    if kind == "not_started":
        return tr("Could not start ComfyUI in {path}: {reason}", lang, path=path, reason=one_line(exc.reason))
    if kind == "timeout":
        text = tr("ComfyUI in {path} did not answer within {seconds} seconds.", lang, path=path,
                  seconds=f"{exc.timeout:g}")
    elif kind == "gave_up" and exc.attempts:
        text = tr("ComfyUI stopped and was not restarted after {attempts} attempts.", lang, attempts=exc.attempts)
    elif kind == "gave_up":
        text = tr("ComfyUI stopped unexpectedly and restarting it is turned off.", lang)
    else:
        text = tr("ComfyUI in {path} stopped before it was ready (exit code {code}).", lang, path=path,
                  code=exc.returncode)
    if not exc.log_tail:
        return tr("{message} Its log ({log}) is empty.", lang, message=text, log=exc.log_path)
    return tr("{message} Last lines of its log ({log}):", lang, message=text, log=exc.log_path) + "\n" + exc.log_tail


def _missing_nodes(nodes: list[str], answered: bool, lang: str) -> str:
    names = ", ".join(nodes)
    if answered:
        return (tr("No ComfyUI server that answered has the node types {nodes}", lang, nodes=names) if len(nodes) > 1
                else tr("No ComfyUI server that answered has the node type {nodes}", lang, nodes=names))
    return (tr("No ComfyUI server has the node types {nodes}", lang, nodes=names) if len(nodes) > 1
            else tr("No ComfyUI server has the node type {nodes}", lang, nodes=names))


def _missing_checkpoints(checkpoints: list[str], answered: bool, lang: str) -> str:
    names = ", ".join(checkpoints)
    if answered:
        return (tr("No ComfyUI server that answered has the checkpoints {names}", lang, names=names)
                if len(checkpoints) > 1
                else tr("No ComfyUI server that answered has the checkpoint {names}", lang, names=names))
    return (tr("No ComfyUI server has the checkpoints {names}", lang, names=names) if len(checkpoints) > 1
            else tr("No ComfyUI server has the checkpoint {names}", lang, names=names))


def _describe_no_server(exc: NoServerCanRun, lang: str, names: ServerNames) -> str:
    """What no server has, one clause each (the catalog's sentence for one or for several,
    chosen by the count), then the servers that could not be asked."""
    clauses = []
    if exc.missing_nodes:
        clauses.append(_missing_nodes(exc.missing_nodes, exc.answered, lang))
    if exc.missing_checkpoints:
        clauses.append(_missing_checkpoints(exc.missing_checkpoints, exc.answered, lang))
    if not clauses:
        clauses.append(tr("No single ComfyUI server that answered has every node type and checkpoint this workflow "
                          "needs", lang) if exc.answered
                       else tr("No single ComfyUI server has every node type and checkpoint this workflow needs", lang))
    clauses[1:] = [c[:1].lower() + c[1:] for c in clauses[1:]]  # "…; no ComfyUI server has…" mid-sentence
    if exc.unasked:
        urls = [entry[0] if isinstance(entry, list) else entry for entry in exc.unasked]  # [url, label]: old rows
        servers, waited = ", ".join(_server(url, names) for url in urls), f"{exc.waited:g}"
        clauses.append(tr("{names} could not be asked (it has not answered for {s} s)", lang, names=servers, s=waited)
                       if len(urls) == 1
                       else tr("{names} could not be asked (they have not answered for {s} s)", lang, names=servers,
                               s=waited))
    return tr("; ", lang).join(clauses)


def _describe_os_error(exc: OSError, lang: str) -> str | None:
    if isinstance(exc, FileNotFoundError):
        return tr("File not found: {name}", lang, name=exc.filename or one_line(exc))
    if isinstance(exc, PermissionError):
        return tr("Permission denied: {name}", lang, name=exc.filename or one_line(exc))
    if exc.filename:
        return tr("Could not access {name}: {reason}", lang, name=exc.filename, reason=exc.strerror or one_line(exc))
    return None


_NOT_THE_MEDIA = {  # NotAnImage.media -> its words (an image: the line below)
    "video": "ComfyUI sent something that is not a video for {file}.",
    "audio": "ComfyUI sent something that is not an audio file for {file}.",
    "3d": "ComfyUI sent something that is not a 3D model for {file}.",
}


def describe(exc: BaseException, *, retrying: bool = True, lang: str = DEFAULT_LANGUAGE,
             names: ServerNames = NO_NAMES) -> str:
    """Return one plain line describing ``exc`` for a non-technical user, in ``lang``.

    ``retrying`` says whether the caller keeps re-checking an unreachable server
    (the web page does, the CLI does not). ``names``: what the page calls its servers
    (none: addresses are shown); no address of a named server is left in the line.
    """
    text = _describe(exc, retrying, lang, names)
    return names.hide(text) if names else text


def _describe(exc: BaseException, retrying: bool, lang: str, names: ServerNames) -> str:
    if (library := library_text(exc, lang, names)) is not None:   # templates, saved workflows
        return library
    if (preset := preset_text(exc, lang)) is not None:   # presets, prompt styles
        return preset
    if isinstance(exc, ServerUnreachable):
        return _describe_unreachable(exc, retrying, lang, names)
    if isinstance(exc, PromptRejected):
        return one_line(_describe_rejected(exc, lang), 2000)
    if isinstance(exc, ServerHTTPError):
        return _describe_http(exc, lang, names)
    if isinstance(exc, JobFailed):
        return _describe_job_failed(exc, lang)
    if isinstance(exc, JobInterrupted):
        return tr("The job was interrupted before it finished.", lang)
    if isinstance(exc, BatchStopped) and exc.server_gone:
        return tr("Not run: the ComfyUI server went away during job {after} of {count} of this batch, so the batch "
                  "stopped there.", lang, after=exc.after, count=exc.count)
    if isinstance(exc, BatchStopped):
        return tr("Not run: job {after} of {count} of this batch failed, so the batch stopped there.", lang,
                  after=exc.after, count=exc.count)
    server = names.name_of(getattr(exc, "url", None)) if isinstance(exc, JobLost) else None
    if server:
        if exc.started:
            return tr("{server} stopped while this job ran. Please try again.", lang, server=server)
        return tr("{server} no longer knows this job (it may have restarted). Please try again.", lang,
                  server=server)
    if isinstance(exc, JobLost) and getattr(exc, "url", None):
        if exc.started:
            return tr("ComfyUI at {url} stopped while this job ran. Please try again.", lang, url=exc.url)
        return tr("ComfyUI at {url} no longer knows this job (it may have restarted). Please try again.", lang,
                  url=exc.url)
    if isinstance(exc, JobLost):
        return tr("ComfyUI lost track of the job (it may have restarted or stopped answering). Please try again.",
                  lang)
    if isinstance(exc, ServerNoLongerConfigured):
        return tr("The ComfyUI server it was sent to is no longer configured; please run it again", lang)
    if isinstance(exc, NotRecorded):
        return tr("The app failed to record this job", lang)
    if (refused := refusal_text(exc, lang)) is not None:   # what the app will not send: texts/refusal_words
        return one_line(refused, 2000)
    if isinstance(exc, RunLimitExceeded):
        return tr("The job ran for more than {span} on {server} without finishing, so the app stopped it. Please "
                  "try again.", lang, span=exc.span, server=_server(exc.url, names))
    if isinstance(exc, NoServerCanRun):
        return one_line(_describe_no_server(exc, lang, names), 2000)
    if isinstance(exc, WorkflowError) and isinstance(getattr(exc, "template", None), str):
        return one_line(tr(exc.template, lang, **getattr(exc, "params", {})), 2000)  # uploads.UploadRefused
    if isinstance(exc, WorkflowError):
        problems = getattr(exc, "problems", None)
        if problems:  # comfy_ui_app.workflow.check.PromptInvalid: found before sending
            text = join((problem_text(p, lang, False) for p in problems), lang)
            return one_line(tr("Please fix the form: {problems}.", lang, problems=text), 2000)
        return tr_stored(one_line(str(exc)), lang) or tr("The workflow is not valid.", lang)
    if isinstance(exc, ComfyUIStartFailed):
        return _describe_start_failed(exc, lang)
    if isinstance(exc, NotAnImage) and getattr(exc, "media", "image") in _NOT_THE_MEDIA:
        return tr(_NOT_THE_MEDIA[exc.media], lang, file=exc.filename)
    if isinstance(exc, NotAnImage):
        return tr("ComfyUI sent something that is not an image for {file}.", lang, file=exc.filename)
    if isinstance(exc, OutputsNotSaved):
        return tr("The pictures were made but this app could not save them ({reason}). Please tell whoever runs it.",
                  lang, reason=one_line(exc.reason, 200))
    if isinstance(exc, ComfyError):  # raised elsewhere with only an English line: the catalog's words if any
        return tr_stored(one_line(str(exc)), lang) or type(exc).__name__
    if isinstance(exc, OSError):
        text = _describe_os_error(exc, lang)
        if text:
            return text
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return tr("Network problem while talking to ComfyUI: {reason}", lang,
                  reason=one_line(exc) or type(exc).__name__)
    text = one_line(exc)
    if text:
        return tr("Unexpected error ({kind}): {text}", lang, kind=type(exc).__name__, text=text)
    return tr("Unexpected error ({kind}).", lang, kind=type(exc).__name__)


def describe_recorded(record, *, lang: str = DEFAULT_LANGUAGE, names: ServerNames = NO_NAMES) -> str:
    """A job record's error in words, in ``lang`` ("" when it has none): rebuilt from its
    ``error_code`` and ``error_data`` and worded by :func:`describe` with the page's current
    ``names``, as the page said it when the job failed; a row recorded before errors were kept
    as codes (only its English ``error`` line) is translated from the catalog as it was then."""
    if record.error_code:
        return describe(error_from_record(record.error or "", record.error_code, record.error_data),
                        retrying=False, lang=lang, names=names)
    text = tr_stored(record.error or "", lang)
    return names.hide(text) if names else text
