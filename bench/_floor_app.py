"""The Gradio floor: a minimal Gradio app shaped like the real ``/generate``, with no ComfyUI.

``python bench/_floor_app.py --port N --inputs I --outputs M --updates K --work S`` serves one
endpoint ``/generate`` (``I`` Textbox inputs; ``M`` outputs: a Markdown progress line, a
Gallery, the rest Markdown) whose async generator handler yields ``K`` updates per job, every
output but the progress line (and, in the last, the gallery) ``gr.skip()``: "Sending",
"Queued", ``K - 3`` progress lines while it "works", then "Done" with one 64x64 PNG path in
the gallery (``K = 1``: "Done" alone, as the app sends a job that ends within its first moments,
``ui/_first_news``) - the real app's updates for a job, without the app. Each job's PNG is a new file
with bytes of its own (a text chunk with the job's number), written when the job ends, as the
real app writes each job's picture: Gradio hashes and copies it into its cache every time. Built and launched as
``app.py`` is: its own interpreter, ``demo.queue(default_concurrency_limit=None)``, the
event's ``concurrency_limit=None``, on ``127.0.0.1:N``.

The "work" stands in for one ComfyUI server: a worker task per job holds one process-wide
``asyncio.Lock`` for ``S`` seconds (so 50 jobs take 50 x S, one after another, as on one
server) and signals the progress points; the handler yields as they come, never holding the
lock while Gradio sends an update (ComfyUI does not wait for the page either).
``bench/concurrency.py`` starts it to measure what Gradio and gradio_client cost by themselves.

``--fast-skips`` builds it on the app's own ``Blocks`` (``comfy_ui_app/ui/_blocks.py``) instead
of ``gr.Blocks``: Gradio then does no work for the outputs an update skips, as in the app. Without
it every skipped output costs Gradio a component rebuild (≈ 0.7 ms), which a bare Gradio app pays.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import struct
import sys
import tempfile
import zlib
from pathlib import Path


def build(inputs: int, outputs: int, updates: int, work: float, folder: Path, fast_skips: bool = False):
    import gradio as gr

    blocks = gr.Blocks
    if fast_skips:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from comfy_ui_app.ui._blocks import Blocks as blocks

    if outputs < 2 or updates < 1:
        raise ValueError("need at least 2 outputs (progress, gallery) and 1 update")
    lock = asyncio.Lock()   # one "GPU" for the whole process, created on first use's loop
    milestones = max(0, updates - 3)
    base, numbers = png_bytes(), itertools.count()

    async def work_on_the_gpu(signals: asyncio.Queue) -> None:
        async with lock:
            for _ in range(milestones):
                signals.put_nowait(None)
                await asyncio.sleep(work / milestones)
            if not milestones and work:
                await asyncio.sleep(work)

    def update(progress, gallery=None) -> tuple:
        skip = gr.skip()
        return (progress, gallery if gallery is not None else skip, *(skip for _ in range(outputs - 2)))

    async def generate(*values):
        if updates >= 2:   # one update: the app's fast job, whose first moments go with its "Done" (ui/_first_news)
            yield update("**Sending to ComfyUI…**")
        signals: asyncio.Queue = asyncio.Queue()
        worker = asyncio.create_task(work_on_the_gpu(signals))
        try:
            if updates >= 3:
                yield update("**Queued**")
            for step in range(milestones):
                await signals.get()
                yield update(f"**Running** · step {step + 1}/{milestones}")
            await worker
        finally:
            worker.cancel()
        yield update("**Done** · 100%", [write_png(folder, base, next(numbers))])

    with blocks() as demo:
        boxes = [gr.Textbox(label=f"in{i}") for i in range(inputs)]
        outs = [gr.Markdown("Ready."), gr.Gallery(label="Images", format="png", type="filepath", interactive=False)]
        outs += [gr.Markdown() for _ in range(outputs - 2)]
        button = gr.Button("Generate")
        button.click(generate, inputs=boxes, outputs=outs, api_name="generate", concurrency_limit=None,
                     show_progress="hidden")
    return demo


def png_bytes() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def write_png(folder: Path, base: bytes, number: int) -> str:
    """A new file ``floor-<number>.png``: ``base`` with a ``tEXt`` chunk naming the job after its
    IHDR (so no two jobs' files hash alike in Gradio's cache)."""
    body = b"job\0" + str(number).encode()
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    path = folder / f"floor-{number}.png"
    path.write_bytes(base[:33] + chunk + base[33:])  # signature 8 + IHDR 25 bytes
    return str(path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--inputs", type=int, default=16, help="inputs of /generate (what a client sends)")
    parser.add_argument("--outputs", type=int, default=22, help="outputs of /generate")
    parser.add_argument("--updates", type=int, default=4, help="updates (yields) per job, the last one included")
    parser.add_argument("--work", type=float, default=0.0, help="seconds of serialised 'GPU' work per job")
    parser.add_argument("--fast-skips", action="store_true", help="build on comfy_ui_app.ui._blocks.Blocks")
    args = parser.parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        demo = build(args.inputs, args.outputs, args.updates, args.work, Path(tmp), args.fast_skips)
        demo.queue(default_concurrency_limit=None)
        demo.launch(server_name="127.0.0.1", server_port=args.port, allowed_paths=[tmp], quiet=True)


if __name__ == "__main__":
    main()
