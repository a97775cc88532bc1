"""The hostile visitor's pictures (issue 13 points 2 and 8): bombs, non-pictures and empty files sent
raw to every picture input of ``python app.py`` (its own app, so its memory figure is its own).

A 37 KB PNG that claims 13000×13000 one-bit pixels would take gigabytes decoded: it must be refused
from its header, with a plain message next to the editor, and the app's memory must stay low, four
at once too. The pure header check is tested table-driven at the end.
"""
from __future__ import annotations

import concurrent.futures
import functools
import io

import pytest
from PIL import Image

from _hostile import assert_survived

from comfy_ui_app.errors import PictureRefused
from comfy_ui_app.jobs.uploads import MAX_PIXELS, open_picture, picture_header
from comfy_ui_app.texts.messages import describe

BOMB_MESSAGE = "The picture bomb.png is 13000×13000 (169 million pixels); at most 64 million pixels."
RSS_LIMIT_MB = 400


@functools.lru_cache(maxsize=None)
def bomb_png(width: int = 13000, height: int = 13000) -> bytes:
    """A real one-bit PNG of ``width``×``height`` black pixels: a few KB that decode to gigabytes."""
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def small_png(size=(64, 64), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "orange" if mode == "RGB" else (255, 0, 0, 255)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def app(make_hostile_app):
    return make_hostile_app("pictures")


def editor(background, layers=(), composite=None) -> dict:
    """An ImageEditor value as the API takes it (FileData dicts)."""
    return {"background": background, "layers": list(layers), "composite": composite or background, "id": None}


def inpaint(app, value):
    data = app.inputs("inpaint", {"Image": value, "Prompt": "a cat", "Steps": 2})
    return app.call("inpaint", data)


def assert_refused(app, outcome, message: str) -> None:
    """Refused with ``message`` in the message box and in the slot under the editor; app alive."""
    assert_survived(app, outcome)
    assert outcome.output("Message") == message, outcome.texts()[:500]
    assert message in outcome.texts().replace(outcome.output("Message"), "", 1), "not next to the editor"


CASES = {  # what is uploaded as the editor's background (name, bytes) -> the message
    "bomb": ("bomb.png", lambda: bomb_png(), BOMB_MESSAGE),
    "not-a-picture": ("notes.png", lambda: b"hello, I am text, not a PNG", 
                      "The file notes.png is not a picture (PNG, JPEG or WebP)."),
    "empty": ("empty.png", lambda: b"", "The file empty.png is empty."),
    "truncated": ("cut.png", lambda: small_png((256, 256))[:200],
                  "The file cut.png is not a picture (PNG, JPEG or WebP)."),
}


@pytest.mark.parametrize("name, content, message", CASES.values(), ids=CASES.keys())
def test_a_bad_background_is_refused_next_to_the_editor(app, name, content, message):
    uploaded = app.upload(content(), name)
    assert_refused(app, inpaint(app, editor(uploaded)), message)


def test_a_bomb_as_a_painted_layer_is_refused_too(app):
    picture = app.upload(small_png(), "p.png")
    bomb = app.upload(bomb_png(), "bomb.png")  # a layer may not be larger than its picture (or 1 million pixels)
    assert_refused(app, inpaint(app, editor(picture, [bomb])),
                   "The picture bomb.png is 13000×13000 (169 million pixels); at most 1.0 million pixels.")


def test_a_layer_larger_than_its_picture_is_refused(app):
    """The editor's layers have the picture's size: a 4000×4000 "layer" on a 64×64 picture is not one
    (64 such layers would otherwise each be decoded to 64 MB)."""
    picture = app.upload(small_png(), "p.png")
    big = app.upload(bomb_png(4000, 4000), "big.png")
    assert_refused(app, inpaint(app, editor(picture, [big])),
                   "The picture big.png is 4000×4000 (16 million pixels); at most 1.0 million pixels.")


def test_a_pile_of_layers_is_refused(app):
    picture, layer = app.upload(small_png(), "p.png"), app.upload(small_png(mode="RGBA"), "layer.png")
    assert_refused(app, inpaint(app, editor(picture, [layer] * 50)), "The picture has 50 layers; at most 4.")


def test_a_bomb_as_a_composite_is_never_decoded(app):
    """The composite is not needed (the mask comes from the layers): a bomb there costs nothing."""
    picture, layer = app.upload(small_png(), "p.png"), app.upload(small_png(mode="RGBA"), "layer.png")
    outcome = inpaint(app, editor(picture, [layer], composite=app.upload(bomb_png(), "bomb.png")))
    assert_survived(app, outcome)
    assert app.rss_mb()[1] < RSS_LIMIT_MB


def test_four_bombs_at_once_are_each_refused_and_memory_stays_low(app):
    uploads = [app.upload(bomb_png(), "bomb.png") for _ in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda u: inpaint(app, editor(u)), uploads))
    for outcome in outcomes:
        assert_refused(app, outcome, BOMB_MESSAGE)
    now, peak = app.rss_mb()
    assert peak < RSS_LIMIT_MB, f"peak RSS {peak:.0f} MB during four bombs (now {now:.0f} MB)"


def test_a_good_picture_still_runs(app):
    """The editor hands over files now: a real picture with a painted layer still makes a job."""
    picture, layer = app.upload(small_png(), "p.png"), app.upload(small_png(mode="RGBA"), "layer.png")
    outcome = inpaint(app, editor(picture, [layer]))
    assert_survived(app, outcome)
    assert "Done" in outcome.texts(), outcome.texts()[:500]


# -- the header check, pure ---------------------------------------------------------------

def png_header(width: int, height: int) -> bytes:
    """A PNG that only claims ``width``×``height`` (no pixel data)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IEND", b""))


HEADER_CASES = {  # bytes, max pixels -> (width, height) or the refusal's words
    "small": (lambda: small_png((64, 32)), MAX_PIXELS, (64, 32)),
    "at-the-limit": (lambda: png_header(8000, 8000), MAX_PIXELS, (8000, 8000)),
    "one-row-over": (lambda: png_header(8000, 8001), MAX_PIXELS,
                     "The picture x.png is 8000×8001 (64 million pixels); at most 64 million pixels."),
    "bomb": (lambda: bomb_png(), MAX_PIXELS,
             "The picture x.png is 13000×13000 (169 million pixels); at most 64 million pixels."),
    "claims-a-billion": (lambda: png_header(40000, 40000), MAX_PIXELS,
                         "The picture x.png is 40000×40000 (1600 million pixels); at most 64 million pixels."),
    "small-limit": (lambda: small_png((128, 128)), 4096,
                    "The picture x.png is 128×128 (16,384 pixels); at most 4,096 pixels."),
    "megapixel-limit": (lambda: png_header(1500, 1000), 1_048_576,
                        "The picture x.png is 1500×1000 (1.5 million pixels); at most 1.0 million pixels."),
    "empty": (lambda: b"", MAX_PIXELS, "The file x.png is empty."),
    "text": (lambda: b"GIF89a? no, text", MAX_PIXELS, "The file x.png is not a picture (PNG, JPEG or WebP)."),
}


@pytest.mark.parametrize("content, limit, expected", HEADER_CASES.values(), ids=HEADER_CASES.keys())
def test_picture_header(tmp_path, content, limit, expected):
    data = content()
    path = tmp_path / "x.png"
    path.write_bytes(data)
    for source in (data, str(path)):  # bytes and a path read alike
        if isinstance(expected, tuple):
            assert picture_header(source, name="x.png", max_pixels=limit) == expected
            continue
        with pytest.raises(PictureRefused) as caught:
            picture_header(source, name="x.png", field="image", max_pixels=limit)
        assert describe(caught.value) == expected and caught.value.field == "image"


def test_the_page_components_hand_over_files_undecoded(tmp_path, monkeypatch):
    """Gradio's own preprocess would open these; ours pass the path on (a non-picture too: the
    handler then says what it is, next to its field)."""
    import gradio as gr
    from gradio.data_classes import FileData

    from comfy_ui_app.ui._pictures import picture_editor, picture_input

    def never(*args, **kwargs):
        raise AssertionError("a picture was opened in preprocess")

    monkeypatch.setattr(Image, "open", never)
    notes, blob = tmp_path / "notes.png", b"not a picture either"
    notes.write_bytes(b"hello")
    with gr.Blocks():
        image, edit = picture_input(label="Image"), picture_editor(label="Image")
    assert image.preprocess(FileData(path=str(notes), orig_name="notes.png")) == str(notes)
    value = edit.preprocess(edit.data_model(background=FileData(path=str(notes)), layers=[FileData(path=str(notes))],
                                            composite=None))
    assert value == {"background": str(notes), "layers": [str(notes)], "composite": None}
    assert open(edit.convert_and_format_image(blob), "rb").read() == blob  # a blob from the page: saved as is


def test_a_bomb_is_refused_whatever_pillows_own_limit(monkeypatch):
    """Pillow's guard may refuse first (set from ours at start): the message still gives the size."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", MAX_PIXELS // 2)
    with pytest.raises(PictureRefused) as caught:
        open_picture(bomb_png(), name="bomb.png")
    assert describe(caught.value) == BOMB_MESSAGE
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # no guard at all: ours still holds
    with pytest.raises(PictureRefused):
        open_picture(bomb_png(), name="bomb.png")


# -- the mask preview: the handler the page calls on every upload (through the queue, by fn_index) --

def queue_call(app, fn_index: int, data: list, timeout: float = 60.0) -> tuple[str, object]:
    """Call an event the way the page does (``/gradio_api/queue/join`` then its event stream), which
    reaches the private ones too; ``(last message kind, its output)``."""
    import json
    import secrets

    import requests

    session = secrets.token_hex(8)
    joined = requests.post(f"{app.url}/gradio_api/queue/join", timeout=30, json={
        "data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": None})
    assert joined.status_code == 200, joined.text[:300]
    with requests.get(f"{app.url}/gradio_api/queue/data", params={"session_hash": session}, stream=True,
                      timeout=timeout) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                return ("ok" if message.get("success") else "error"), message.get("output")
    return "none", None


def test_bombs_sent_to_the_mask_preview_take_no_memory(app):
    """Four bombs at once through the preview handler (it runs on every upload): each gives no
    preview and its refusal under the editor, nothing crashes, and the memory stays low."""
    index, dep = next((dep.get("id", n), dep) for n, dep in enumerate(app.config["dependencies"])
                      if dep.get("api_name") == "show_mask")
    values = [editor(app.upload(bomb_png(), "bomb.png")), False, 0, 0]
    values += [None] * (len(dep["inputs"]) - len(values))  # the page's language, the browser id
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: queue_call(app, index, values), range(4)))
    assert [kind for kind, _ in answers] == ["ok"] * 4, answers
    for _, output in answers:
        preview, slot = output["data"]
        assert preview is None and BOMB_MESSAGE in str(slot), output
    assert app.alive() and app.rss_mb()[1] < RSS_LIMIT_MB, app.rss_mb()


def test_the_preview_keeps_the_users_pixel_cap(make_hostile_app):
    """With ``--max-pixels``, a picture over the cap is not decoded for the preview either: the
    cap's message shows under the editor at once."""
    capped = make_hostile_app("pictures", "--max-pixels", "32x32")
    index, dep = next((dep.get("id", n), dep) for n, dep in enumerate(capped.config["dependencies"])
                      if dep.get("api_name") == "show_mask")
    values = [editor(capped.upload(small_png(), "p.png")), False, 0, 0]
    values += [None] * (len(dep["inputs"]) - len(values))
    kind, output = queue_call(capped, index, values)
    preview, slot = output["data"]
    assert kind == "ok" and preview is None, output
    assert "The picture p.png is too large: 64×64 is 4,096 pixels, at most 1,024 allowed on this server." in str(slot)
