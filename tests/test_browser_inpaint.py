"""The Inpainting tab: over the Gradio API, and in Chromium with a painted mouse stroke.

The app here is a small Blocks with only this tab (the lead wires it into build_app).
The mask check is exact: the set of pixels ComfyUI's merged file has transparent must
equal the set of pixels the editor's layer(s) have alpha > 0 in the value the page
itself sent to the Generate handler (recorded by wrapping ``InpaintTab.generate``).
"""
from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import _browser

TIMEOUT_MS = 30_000  # a loaded 2-core machine renders the canvas slowly
ROOT = Path(__file__).resolve().parents[1]
H, W = 192, 256



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tab_app(tmp_path, monkeypatch):
    """tab_app(comfy_url) -> (url, sent): a page with only the Inpainting tab.

    ``sent`` collects every ImageEditor value the Generate handler received.
    """
    import gradio as gr

    from _app import app_context, job_service
    from comfy_ui_app.jobs.store import JobStore
    from comfy_ui_app.ui import inpaint_tab as inpaint

    sent: list = []
    original = inpaint.InpaintTab.generate

    async def recording(self, form, request, lang, value, *rest):
        sent.append(value)
        async for outputs in original(self, form, request, lang, value, *rest):
            yield outputs

    monkeypatch.setattr(inpaint.InpaintTab, "generate", recording)
    started = []

    def launch(comfy_url):
        store = JobStore(tmp_path / "data")
        jobs = job_service(comfy_url, store)  # what the app builds: a Cluster and a JobService
        out = tmp_path / "outputs"
        out.mkdir()
        with gr.Blocks() as demo:
            ctx = app_context(jobs, out, workflows_dir=ROOT / "workflows", lang=gr.State("en"))
            with gr.Tabs():
                inpaint.build_tab(ctx)
        demo.queue(default_concurrency_limit=None)
        started.append((demo, jobs, store))
        _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(),
                                allowed_paths=[str(out), str(store.outputs_dir)], quiet=True)  # fmt: skip
        return url, sent

    yield launch
    for demo, jobs, store in started:
        demo.close()
        jobs.cluster.close()
        store.close()


def source_png(path: Path) -> Path:
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[..., 1] = 140
    rgb[..., 2] = np.arange(W, dtype=np.uint8)[None, :]
    Image.fromarray(rgb).save(path)
    return path


def merged_transparent(server) -> set:
    """Pixels with alpha 0 in the image file ComfyUI's LoadImage got (= its MASK)."""
    name = server.received_prompts[-1]["prompt"]["10"]["inputs"]["image"]
    with Image.open(Path(server.root) / "input" / name) as im:
        assert im.mode == "RGBA" and im.size == (W, H)
        alpha = np.asarray(im.getchannel("A"))
    assert set(np.unique(alpha)) <= {0, 255}  # no blur, no grow: a hard mask
    return {(int(y), int(x)) for y, x in zip(*np.nonzero(alpha == 0))}


def painted(value) -> set:
    """Pixels any layer of an editor value has alpha > 0 in (independent of comfy_ui_app)."""
    union = np.zeros((H, W), bool)
    for layer in value["layers"]:  # the editor hands over files (issue 13: never decoded before a size check)
        if isinstance(layer, (str, Path)):
            with Image.open(layer) as opened:
                layer = opened.convert("RGBA")
        layer = np.asarray(layer)
        assert layer.shape == (H, W, 4)
        union |= layer[..., 3] > 0
    return {(int(y), int(x)) for y, x in zip(*np.nonzero(union))}


# ---- over the API (no browser) --------------------------------------------------------------


def _api_args(client, editor):
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/inpaint"]["parameters"]
    return [editor if p["label"] == "Image" else p.get("parameter_default") for p in params]


def test_api_inpaint_sends_exactly_the_painted_pixels(comfy_server, tab_app, tmp_path):
    from gradio_client import Client, handle_file

    url, sent = tab_app(comfy_server.url)
    layer = np.zeros((H, W, 4), np.uint8)
    layer[50:60, 100:140] = (255, 0, 0, 153)
    layer[10, 10] = (255, 0, 0, 1)  # a barely touched pixel counts
    Image.fromarray(layer).save(tmp_path / "layer.png")
    editor = {"background": handle_file(str(source_png(tmp_path / "src.png"))),
              "layers": [handle_file(str(tmp_path / "layer.png"))], "composite": None, "id": None}  # fmt: skip
    client = Client(url, verbose=False)
    result = client.predict(*_api_args(client, editor), api_name="/inpaint")
    assert result[3] == "Done — 1 picture.", result
    assert result[2] and Path(result[2][0]["image"]).is_file()
    expected = {(int(y), int(x)) for y, x in zip(*np.nonzero(layer[..., 3]))}
    assert merged_transparent(comfy_server) == painted(sent[-1]) == expected


@pytest.mark.parametrize("layers,words", [([], "Please paint over"), (None, "Please add a picture")])
def test_api_inpaint_without_mask_or_picture_says_so(comfy_server, tab_app, tmp_path, layers, words):
    from gradio_client import Client, handle_file

    url, _ = tab_app(comfy_server.url)
    background = handle_file(str(source_png(tmp_path / "src.png"))) if layers is not None else None
    editor = {"background": background, "layers": layers or [], "composite": None, "id": None}
    client = Client(url, verbose=False)
    result = client.predict(*_api_args(client, editor), api_name="/inpaint")
    assert words in result[3]
    # ... and right under the editor, as the other fields show theirs
    slot = result[5]
    assert words in (slot if isinstance(slot, str) else (slot or {}).get("value") or ""), slot
    assert comfy_server.uploads == [] and comfy_server.received_prompts == []


# ---- in Chromium ----------------------------------------------------------------------------


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


@pytest.mark.timeout(240)
@pytest.mark.browser
@_browser.NEEDS_CHROMIUM
@_browser.RETRY
def test_paint_a_stroke_generate_and_check_the_mask(make_comfy_server, tab_app, page, tmp_path):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    server = make_comfy_server(step_time=0.15)  # 20 steps: 3 s, long enough to see progress
    url, sent = tab_app(server.url)
    page.goto(url)
    editor = page.locator("#inpaint-editor")
    mask_preview = page.locator("#inpaint-mask img")
    expect(editor.get_by_text("Upload an image")).to_be_visible()
    for _attempt in range(3):  # a file given while the editor is still starting is lost
        with page.expect_file_chooser() as chooser:  # as a user does: click the drop zone
            editor.get_by_text("Upload an image").click()
        chooser.value.set_files(str(source_png(tmp_path / "src.png")))
        try:  # the picture arrived: its mask preview shows, nothing painted yet
            expect(mask_preview).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            continue
    expect(mask_preview).to_be_visible()
    untouched = mask_preview.get_attribute("src")
    box = editor.locator("canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for _attempt in range(3):  # a stroke made while the canvas is still loading is lost
        page.mouse.move(cx - 120, cy)
        page.mouse.down()
        page.mouse.move(cx + 120, cy, steps=6)  # few events: the canvas renders slowly without a GPU
        page.mouse.up()
        try:  # the preview is rendered from the bytes that will be uploaded
            expect(mask_preview).not_to_have_attribute("src", untouched, timeout=10_000)
            break
        except AssertionError:
            continue
    expect(mask_preview).not_to_have_attribute("src", untouched)
    page.get_by_role("button", name="Generate").click()
    progress = page.locator("#inpaint-progress")
    expect(progress).to_contain_text("step", timeout=TIMEOUT_MS)
    expect(page.locator("#inpaint-preview img")).to_be_visible()
    expect(page.locator("#inpaint-gallery img").first).to_be_visible()
    expect(page.get_by_label("Message")).to_have_value("Done — 1 picture.")
    expect(progress).to_contain_text("Done")
    expect(page.locator("#inpaint-preview")).to_be_hidden()  # the picture is in the gallery beside it

    # What ComfyUI got is exactly what the brush touched in the layer the page sent.
    assert sent, "the Generate handler was not called"
    touched = painted(sent[-1])
    assert merged_transparent(server) == touched
    # ... and that is a horizontal stroke across the middle, not the whole picture.
    ys, xs = zip(*touched)
    assert 0 < len(touched) < H * W / 2
    assert max(xs) - min(xs) > max(ys) - min(ys)
    assert abs((min(ys) + max(ys)) / 2 - H / 2) < H / 8 and abs((min(xs) + max(xs)) / 2 - W / 2) < W / 4
    # over the cluster (what app.py builds) the merged picture is made here and sent as one file
    assert [u["route"] for u in server.uploads] == ["/upload/image"]

    # "Use as new input" puts the result into the editor; the mask preview follows it.
    before = mask_preview.get_attribute("src")
    page.locator("#inpaint-gallery img").first.click()
    page.get_by_role("button", name="Use as new input").click()
    expect(mask_preview).not_to_have_attribute("src", before or "")



@pytest.mark.timeout(180)
@pytest.mark.browser
@_browser.NEEDS_CHROMIUM
@_browser.RETRY
def test_phone_width_is_one_column_with_the_gallery_below_the_controls(comfy_server, tab_app, browser, tmp_path):
    from playwright.sync_api import expect

    url, _ = tab_app(comfy_server.url)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        expect(page.locator("#inpaint-editor")).to_be_visible()
        expect(page.locator("#inpaint-gallery")).to_be_attached()
        page.screenshot(path=str(tmp_path / "inpaint-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        editor = page.locator("#inpaint-editor").bounding_box()
        grow, blur = page.locator("#inpaint-grow").bounding_box(), page.locator("#inpaint-blur").bounding_box()
        gallery = page.locator("#inpaint-gallery").bounding_box()
        generate = page.get_by_role("button", name="Generate").bounding_box()
        # Grow and blur stack, each the column's width (not one word per line side by side)
        assert blur["y"] >= grow["y"] + grow["height"] - 1 and grow["width"] > 300 and blur["width"] > 300
        # one column: Generate first (in view, as on every generating tab), the results (gallery) below
        # every control, full width
        assert generate["y"] + generate["height"] <= min(editor["y"], 844)
        assert gallery["y"] > blur["y"] + blur["height"] and gallery["x"] < 60 and gallery["width"] > 300
    finally:
        context.close()
