"""The Text-to-image handlers with a scripted fake server (fast, no network, no browser)."""
from __future__ import annotations

import asyncio
import io
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from comfy_ui_app import (
    Executing,
    Finished,
    JobFailed,
    Output,
    OutputImage,
    Preview,
    Progress,
    Queued,
    ServerUnreachable,
    Started,
)
from comfy_ui_app.ui.txt2img import Txt2Img, pick_seed, snap8

REPO = Path(__file__).resolve().parents[1]


def png_bytes(size=(64, 64), fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, fmt)
    return buf.getvalue()


class FakeJob:
    def __init__(self, script, delay=0.0, block=None):
        self.prompt_id = "job-1"
        self.script = script
        self.delay = delay
        self.block = block            # threading.Event the script waits on before the end
        self.interrupted = threading.Event()

    def updates(self, timeout=None):
        for item in self.script:
            if self.delay:
                time.sleep(self.delay)
            yield item
        if self.block is not None:
            self.interrupted.wait(10)
            yield Finished("interrupted", (), None)

    def interrupt(self):
        self.interrupted.set()


class FakeClient:
    def __init__(self, names):
        self.names = names

    def models(self, folder):
        assert folder == "checkpoints"
        return list(self.names)


class FakeComfy:
    url = "http://fake:8188"

    def __init__(self, job=None, submit_error=None, names=("tiny.safetensors",)):
        self.job, self.submit_error = job, submit_error
        self.client = FakeClient(names)
        self.submitted = []

    def submit(self, prompt, **kw):
        if self.submit_error:
            raise self.submit_error
        self.submitted.append(prompt)
        return self.job


def run(handler, args=("a fox", "", -1, True, 4, 7.0, 64, 64, None), stop_after=None):
    async def collect():
        outs = []
        gen = handler.generate(*args)
        async for out in gen:
            outs.append(out)
            if stop_after is not None and len(outs) >= stop_after:
                await gen.aclose()  # what Gradio does when the user presses Interrupt
                break
        return outs
    return asyncio.run(collect())


def make(tmp_path, comfy):
    return Txt2Img(comfy, workflow_path=REPO / "workflows" / "txt2img.json", output_dir=tmp_path)


def test_success_streams_and_saves_pngs(tmp_path):
    img = OutputImage("ComfyUI_00001_.png", "", "output", png_bytes())
    script = [Queued(1), Queued(0), Started(), Executing("3", "KSampler"),
              *[x for i in range(1, 5) for x in (Progress(i, 4, "3", 0.5 * (4 - i)),
                                                 Preview(png_bytes(fmt="JPEG"), "image/jpeg", "3"))],
              Executing("9", "SaveImage"), Output("9", (img,)), Finished("success", (img,), None)]
    comfy = FakeComfy(FakeJob(script, delay=0.01))
    outs = run(make(tmp_path, comfy))
    texts = [o[0] for o in outs]
    assert any("position 1 in line" in t for t in texts)
    assert any("KSampler (node 3)" in t and "step 2/4 · 50% · ETA 1 s" in t for t in texts), texts
    previews = [o[1] for o in outs if isinstance(o[1], Image.Image)]
    assert 1 <= len(previews) < 4  # throttled, but the newest one always arrives
    progress, _, gallery, message, seed = outs[-1]
    assert message == "Done: 1 image(s) saved." and len(gallery) == 1
    saved = Path(gallery[0])
    assert saved == tmp_path / "job-1" / "ComfyUI_00001_.png" and saved.read_bytes() == img.data
    sent = comfy.submitted[0]
    assert sent["4"]["inputs"]["ckpt_name"] == "tiny.safetensors"  # template's one is not on the server
    assert sent["3"]["inputs"]["seed"] == seed and 0 <= seed < 2**53


def test_interrupt_cancels_only_the_running_job(tmp_path):
    job = FakeJob([Queued(0), Started(), Progress(1, 20, "3", None)], block=True)
    run(make(tmp_path, FakeComfy(job)), stop_after=3)
    assert job.interrupted.wait(5), "closing the handler must interrupt the job"


def test_finished_job_is_not_interrupted(tmp_path):
    job = FakeJob([Finished("success", (), None)])
    outs = run(make(tmp_path, FakeComfy(job)))
    assert outs[-1][3] == "Finished, but the workflow produced no images."
    time.sleep(0.05)
    assert not job.interrupted.is_set()


def test_errors_become_plain_messages(tmp_path):
    outs = run(make(tmp_path, FakeComfy(submit_error=ServerUnreachable("http://fake:8188"))))
    assert outs[-1][3] == "Cannot reach ComfyUI at http://fake:8188. Is it running? Retrying automatically."
    failed = FakeJob([Started(), Finished("error", (), JobFailed("job-1", "8", "VAEDecode", "boom\nmore"))])
    outs = run(make(tmp_path, FakeComfy(failed)))
    assert outs[-1][3] == "Failed in node 8 (VAEDecode): boom"
    assert "Stopped" in outs[-1][0]


def test_missing_template_is_reported(tmp_path):
    handler = Txt2Img(FakeComfy(), workflow_path=tmp_path / "none.json", output_dir=tmp_path)
    outs = run(handler)
    assert outs[-1][3].startswith("Workflow template not found")


def test_checkpoint_dropdown_prefers_template_else_first(tmp_path):
    handler = make(tmp_path, FakeComfy(names=("a.safetensors", "v1-5-pruned-emaonly.safetensors")))
    update = handler.checkpoint_update()
    assert update.value == "v1-5-pruned-emaonly.safetensors"
    handler = make(tmp_path, FakeComfy(names=("a.safetensors", "b.safetensors")))
    assert handler.checkpoint_update().value == "a.safetensors"


@pytest.mark.parametrize("value, expected", [(63, 64), (70, 72), (513, 512), (5000, 2048), (1, 64)])
def test_snap8(value, expected):
    assert snap8(value) == expected


def test_pick_seed():
    assert pick_seed(42, False) == 42
    assert pick_seed(42, True) != 42 or pick_seed(42, True) != 42
    assert 0 <= pick_seed(-1, False) < 2**53
