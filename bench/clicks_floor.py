"""The click floor: the smallest Gradio page whose button puts a picture in a gallery.

``python bench/clicks_floor.py --port N`` serves one ``gr.Button("Generate")`` and one
``gr.Gallery`` (``elem_id="floor-gallery"``, PNG, file paths); the button's async generator
handler yields one file path: a new 64x64 PNG per click, with bytes of its own
(``_floor_app.write_png``), so that Gradio hashes and copies it into its cache and the page
gets a new address every time, as it does for the real app's pictures. Launched as ``app.py``
launches the page: its own interpreter, ``queue(default_concurrency_limit=None)``, the event's
``concurrency_limit=None`` and ``show_progress="hidden"``, on ``127.0.0.1:N``.
``bench/clicks.py`` clicks it in Chromium next to the real page.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["build", "GALLERY_ID"]

GALLERY_ID = "floor-gallery"


def build(folder: Path):
    import gradio as gr

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _floor_app import png_bytes, write_png

    base, numbers = png_bytes(), itertools.count()

    async def generate():
        yield [write_png(folder, base, next(numbers))]

    with gr.Blocks() as demo:
        button = gr.Button("Generate", variant="primary")
        gallery = gr.Gallery(label="Images", format="png", type="filepath", columns=2, interactive=False,
                             elem_id=GALLERY_ID)
        button.click(generate, outputs=[gallery], api_name="generate", concurrency_limit=None,
                     show_progress="hidden")
    return demo


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    with tempfile.TemporaryDirectory(prefix="bench-clicks-floor-") as tmp:
        demo = build(Path(tmp))
        demo.queue(default_concurrency_limit=None)
        demo.launch(server_name="127.0.0.1", server_port=args.port, allowed_paths=[tmp], quiet=True)


if __name__ == "__main__":
    main()
