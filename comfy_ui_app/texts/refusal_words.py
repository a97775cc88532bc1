"""Words for the refusals (``comfy_ui_app.errors._refusals``): what the app will not send or run.

:func:`refusal_text` words a cap of a public app (LimitExceeded), a value a field cannot take
(BadValue), a graph this user may not run (GraphRefused: ``texts.rule_words``), a number JSON
cannot carry (NotSendable), a nearly full disk, a workflow too large or too deep, and a picture
refused from its header; ``messages.describe`` calls it (None: not a refusal).
"""
from __future__ import annotations

from comfy_ui_app.errors import (
    BadValue, DiskNearlyFull, FileRefused, GraphRefused, LimitExceeded, NothingEmbedded, NotSendable, PictureRefused,
    WorkflowTooDeep, WorkflowTooLarge,
)
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.texts.problem_words import one_line
from comfy_ui_app.texts.rule_words import graph_refused_text

__all__ = ["refusal_text"]


def refusal_text(exc: BaseException, lang: str) -> str | None:
    """``exc`` in words when it is a refusal, else None."""
    if isinstance(exc, LimitExceeded):
        return _describe_limit(exc, lang)
    if isinstance(exc, GraphRefused):
        return graph_refused_text(exc, lang)
    if isinstance(exc, BadValue):
        return _describe_bad_value(exc, lang)
    if isinstance(exc, NotSendable):
        return (tr("This job cannot be sent: it holds a number that is not finite (NaN or infinity) at node {node}, "
                   "input {input}.", lang, node=exc.node, input=exc.input) if exc.node is not None
                else tr("This job cannot be sent: it holds a number that is not finite (NaN or infinity).", lang))
    if isinstance(exc, DiskNearlyFull):
        return tr("The server's disk is nearly full, so it takes no new jobs for now. Please tell whoever runs it.",
                  lang)
    if isinstance(exc, WorkflowTooLarge):
        return tr("This workflow has {nodes} nodes; this app accepts at most {allowed}.", lang,
                  nodes=_number(exc.nodes), allowed=_number(exc.allowed))
    if isinstance(exc, WorkflowTooDeep):
        return tr("This workflow file is nested more than {allowed} levels deep, which no real workflow is. Please "
                  "check the file.", lang, allowed=_number(exc.allowed))
    if isinstance(exc, PictureRefused):
        return _describe_picture(exc, lang)
    if isinstance(exc, NothingEmbedded):
        return tr("This picture carries no workflow or generation parameters.", lang)
    if isinstance(exc, FileRefused):
        return _describe_file(exc, lang)
    return None


def _number(value) -> str:
    """``1048576`` -> ``"1,048,576"``; ``2.0`` -> ``"2"``; ``0.25`` -> ``"0.25"``."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0")
    return f"{int(value):,}" if isinstance(value, (int, float)) else str(value)


def _describe_limit(exc: LimitExceeded, lang: str) -> str:
    """A cap of a public app (``limits.Limits``): which one, what was asked, what is allowed."""
    detail = exc.detail or {}
    words = {"asked": _number(exc.asked), "allowed": _number(exc.allowed), **detail}
    if exc.cap == "pending":
        if exc.asked == 1:
            return tr("You already have 1 job waiting or running; the limit is {allowed}. Wait for it to finish.",
                      lang, **words)
        return tr("You already have {asked} jobs waiting or running; the limit is {allowed}. Wait for one to "
                  "finish.", lang, **words)
    if exc.cap == "steps":
        return tr("Too many steps: {asked} asked, at most {allowed} allowed on this server.", lang, **words)
    if exc.cap == "pixels" and detail.get("name"):
        return tr("The picture {name} is too large: {size} is {asked} pixels, at most {allowed} allowed on this "
                  "server.", lang, **words)
    if exc.cap == "pixels":
        return tr("Picture too large: {size} is {asked} pixels, at most {allowed} allowed on this server.", lang,
                  **words)
    if exc.cap == "images" and int(detail.get("count") or 1) > 1:
        return tr("Too many pictures at once: {asked} asked (batch size {batch_size} × batch count {count}), at "
                  "most {allowed} allowed on this server.", lang, **words)
    if exc.cap == "images":
        return tr("Too many pictures at once: {asked} asked, at most {allowed} allowed on this server.", lang,
                  **words)
    if exc.cap == "upload_mb" and detail.get("media"):  # a sound, video or 3D model (jobs.media_files)
        return tr("The file {name} is too large: {asked} MB, at most {allowed} MB per file allowed on this server.",
                  lang, **words)
    if exc.cap == "upload_mb":
        return tr("The picture {name} is too large: {asked} MB, at most {allowed} MB per picture allowed on this "
                  "server.", lang, **words)
    return one_line(str(exc))


def _describe_bad_value(exc: BadValue, lang: str) -> str:
    """A field's value refused before anything was stored or sent (``errors.BadValue``)."""
    label = tr(exc.label, lang)
    problem = exc.problem
    if problem == "not_finite":
        return tr("{label} must be a finite number.", lang, label=label)
    if problem == "not_a_number":
        return tr("{label} must be a number (got {value}).", lang, label=label, value=exc.value)
    if problem == "not_whole":
        return tr("{label} must be a whole number (got {value}).", lang, label=label, value=exc.value)
    if problem == "not_text":
        return tr("{label} must be text.", lang, label=label)
    if problem == "too_long":
        return tr("{label} is {length} characters long; at most {limit}.", lang, label=label,
                  length=_number(exc.length), limit=_number(exc.limit))
    if problem == "too_small":
        return tr("{word} must be at least {limit} (got {value})", lang, word=label, limit=exc.limit, value=exc.value)
    return tr("{word} must be at most {limit} (got {value})", lang, word=label, limit=exc.limit, value=exc.value)


def _pixels(count: int, lang: str) -> str:
    """``169_000_000`` -> "169 million pixels", ``1_048_576`` -> "1.0 million pixels", ``4096`` -> "4,096 pixels"."""
    if count >= 1_000_000:
        millions = f"{count / 1e6:.0f}" if count >= 9_950_000 else f"{count / 1e6:.1f}"
        return tr("{count} million pixels", lang, count=millions)
    return tr("{count} pixels", lang, count=f"{count:,}")


def _describe_picture(exc: PictureRefused, lang: str) -> str:
    """A picture refused from its header: empty, not a picture, or too many pixels."""
    if exc.reason == "empty":
        return tr("The file {name} is empty.", lang, name=exc.name)
    if exc.reason == "too_large":
        return tr("The picture {name} is {size} ({pixels}); at most {limit}.", lang, name=exc.name,
                  size=f"{exc.width}×{exc.height}", pixels=_pixels(exc.width * exc.height, lang),
                  limit=_pixels(exc.limit, lang))
    if exc.reason == "too_many_layers":
        return tr("The picture has {count} layers; at most {limit}.", lang, count=exc.count, limit=exc.limit)
    return tr("The file {name} is not a picture (PNG, JPEG or WebP).", lang, name=exc.name)


_KIND_WORDS = {  # what a field of each kind takes (jobs.media_files.FORMATS), as a refusal says it
    "audio": "The file {name} is not a sound file (WAV, FLAC, MP3, OGG or M4A).",
    "video": "The file {name} is not a video (MP4, MOV, WebM, MKV, AVI, GIF or WebP).",
    "model3d": "The file {name} is not a 3D model (GLB, glTF, OBJ, FBX, STL or PLY).",
    "animation": "The file {name} is not an animated picture (GIF, WebP or PNG).",
}


def _describe_file(exc: FileRefused, lang: str) -> str:
    """A picked sound, video or 3D model refused from its first bytes: empty, or not of its field's kind."""
    if exc.reason == "empty":
        return tr("The file {name} is empty.", lang, name=exc.name)
    return tr(_KIND_WORDS.get(exc.media, "The file {name} is not a file this field takes."), lang, name=exc.name)
