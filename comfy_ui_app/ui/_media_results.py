"""The result area's players for outputs that are not still pictures (the Custom workflow tab, History).

A run's outputs arrive as one list of stored files (``RunUpdate.gallery``: the app's own files,
never a ComfyUI address). :func:`split` sorts them by media
(:func:`comfy_ui_app.comfy.outputs.media_of`): pictures to the gallery, the newest video to a
``gr.Video``, the newest audio to a ``gr.Audio``, the newest 3D model to a ``gr.Model3D``, text
to a text box; every file that is not a picture also goes to a ``gr.File`` list to download,
and a file of a kind the page cannot show gets a note saying it was kept. Each player is
hidden until it has something.
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from comfy_ui_app.comfy.outputs import media_of
from comfy_ui_app.texts.i18n import tr

__all__ = ["MediaResults", "split", "pictures"]

_TEXT_SHOWN = 20_000  # characters of text outputs shown (the whole file downloads)


def pictures(paths: list[str] | None) -> list[str] | None:
    """The still (or animated) pictures among ``paths``: what a gallery shows."""
    return None if paths is None else [p for p in paths if media_of(p) == "image"]


def split(paths: list[str]) -> dict[str, list[str]]:
    """``paths`` by media: ``{"image": [...], "video": [...], ...}`` (every media present, in order)."""
    out: dict[str, list[str]] = {}
    for path in paths:
        out.setdefault(media_of(path), []).append(path)
    return out


def _read_text(paths: list[str]) -> str:
    texts = []
    for path in paths:
        try:
            texts.append(Path(path).read_text(encoding="utf-8", errors="replace")[:_TEXT_SHOWN])
        except OSError:
            continue  # deleted meanwhile (History): nothing to show
    return "\n\n".join(texts)


class MediaResults:
    """Video, audio, 3D, text, files-to-download and a note, for one result area (``prefix``:
    the tab's element ids, ``custom-video``…)."""

    def __init__(self, prefix: str) -> None:
        self.video = gr.Video(label="Video", interactive=False, visible=False, elem_id=f"{prefix}-video")
        self.audio = gr.Audio(label="Audio", type="filepath", interactive=False, visible=False,
                              elem_id=f"{prefix}-audio")
        self.model3d = gr.Model3D(label="3D model", interactive=False, visible=False, elem_id=f"{prefix}-model3d")
        self.text = gr.Textbox(label="Text", interactive=False, lines=3, visible=False, elem_id=f"{prefix}-text")
        self.files = gr.File(label="Files", file_count="multiple", interactive=False, visible=False,
                             elem_id=f"{prefix}-files")
        self.note = gr.Markdown("", visible=False, elem_id=f"{prefix}-media-note")
        self.components = [self.video, self.audio, self.model3d, self.text, self.files, self.note]

    @staticmethod
    def updates(paths: list[str] | None, lang: str) -> tuple:
        """One update per component for the run's stored files (``None``: leave them as they are)."""
        if paths is None:
            return tuple(gr.skip() for _ in range(6))
        kinds = split(paths)
        others = [p for p in paths if media_of(p) != "image"]
        kept = [Path(p).name for p in kinds.get("file", [])]
        note = tr("Kept as files to download (this page cannot show them): {names}", lang,
                  names=", ".join(kept)) if kept else ""

        def last(media: str):
            found = kinds.get(media)
            return gr.update(value=found[-1], visible=True) if found else gr.update(value=None, visible=False)

        text = _read_text(kinds.get("text", []))
        return (last("video"), last("audio"), last("3d"),
                gr.update(value=text, visible=bool(text)),
                gr.update(value=others or None, visible=bool(others)),
                gr.update(value=note, visible=bool(note)))
