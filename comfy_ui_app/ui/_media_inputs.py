"""File pickers for a workflow's upload fields that are not pictures: ``LoadAudio``'s sound,
``LoadVideo``'s video, ``Load3D``'s model (a field's kind: ``audio``, ``video``, ``model3d``,
``animation``; :func:`comfy_ui_app.workflow.file_inputs.upload_kind`).

Each is Gradio's ``gr.File`` whose value is the picked file's PATH, untouched: nothing is
decoded or converted here (``gr.Audio``/``gr.Video`` would re-encode what a visitor sends), and
no browser-side type filter turns a wrong file into Gradio's generic error. The runner judges the
file from its first bytes (:func:`comfy_ui_app.jobs.media_files.read_media`) and refuses it next
to its field. Left empty, the workflow keeps its own file, named under the picker.
"""
from __future__ import annotations

import gradio as gr

from comfy_ui_app.texts.i18n import tr

__all__ = ["media_input", "KIND_LABELS"]

#: what each kind's picker says it takes (its formats: jobs.media_files.FORMATS)
KIND_LABELS = {"audio": "Sound file (WAV, FLAC, MP3, OGG, M4A)",
               "video": "Video (MP4, MOV, WebM, MKV, AVI, GIF, WebP)",
               "model3d": "3D model (GLB, glTF, OBJ, FBX, STL, PLY)",
               "animation": "Animated picture (GIF, WebP, PNG)"}


def _file_path(payload) -> str | None:
    """A ``gr.File`` payload as its path, never opened."""
    if payload is None or getattr(payload, "path", None) is None:
        return None
    return str(payload.path)


def media_input(kind: str, *, label: str, current=None, lang: str | None = None, **kwargs) -> gr.File:
    """A picker for a file of ``kind``; ``current``: the workflow's own file, kept when none is picked."""
    if isinstance(current, str) and current:
        gr.Markdown(tr("Nothing picked: the workflow's {name}.", lang, name=f"`{current}`"),
                    elem_classes=["form-note"])
    picker = gr.File(label=f"{label} · {tr(KIND_LABELS.get(kind, 'File'), lang)}", type="filepath",
                     file_count="single", height=120, **kwargs)
    picker.preprocess = _file_path
    return picker
