"""comfy_ui_app.workflow.masks: editor value -> mask -> the PNG bytes ComfyUI receives."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from comfy_ui_app.workflow import masks


def rgba(h, w, points=(), alpha=255):
    """An RGBA layer, transparent except ``points`` ((y, x) or (y, x, alpha))."""
    a = np.zeros((h, w, 4), np.uint8)
    for p in points:
        y, x = p[:2]
        a[y, x] = (10, 20, 30, p[2] if len(p) > 2 else alpha)
    return a


def as_set(mask):
    return {(int(y), int(x)) for y, x in zip(*np.nonzero(mask))}


def reference_grow(mask, r):
    """Brute force: a pixel is masked if any masked pixel lies within distance r."""
    src = np.argwhere(mask > 0)
    out = mask.copy()
    h, w = mask.shape
    for y in range(h):
        for x in range(w):
            if not out[y, x] and len(src) and (((src - (y, x)) ** 2).sum(1) <= r * r).any():
                out[y, x] = 255
    return out


BG = np.full((6, 8, 4), 200, np.uint8)

EDITOR_CASES = [
    ("no value", None, None),
    ("no layers", {"background": BG, "layers": [], "composite": BG}, set()),
    ("layers None", {"background": BG, "layers": None, "composite": None}, set()),
    ("one pixel", {"background": BG, "layers": [rgba(6, 8, [(1, 2)])]}, {(1, 2)}),
    ("faint rim counts", {"background": BG, "layers": [rgba(6, 8, [(0, 0, 1), (5, 7, 254)])]}, {(0, 0), (5, 7)}),
    ("union of layers", {"background": BG, "layers": [rgba(6, 8, [(1, 1)]), rgba(6, 8, [(4, 6)])]}, {(1, 1), (4, 6)}),
    ("smaller canvas, nearest", {"background": BG, "layers": [rgba(3, 4, [(0, 0)])]}, {(0, 0), (0, 1), (1, 0), (1, 1)}),
    ("pil layers", {"background": Image.fromarray(BG), "layers": [Image.fromarray(rgba(6, 8, [(2, 3)]))]}, {(2, 3)}),
    ("layer without alpha", {"background": BG, "layers": [np.zeros((6, 8, 3), np.uint8)]},
     {(y, x) for y in range(6) for x in range(8)}),
    ("no background: layer size", {"background": None, "layers": [rgba(6, 8, [(3, 3)])]}, {(3, 3)}),
]  # fmt: skip


@pytest.mark.parametrize("name,value,expected", EDITOR_CASES, ids=[c[0] for c in EDITOR_CASES])
def test_mask_from_editor(name, value, expected):
    mask = masks.mask_from_editor(value)
    if expected is None:
        assert mask is None
        return
    assert mask.shape == (6, 8) and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 255}
    assert as_set(mask) == expected


def test_mask_from_editor_reads_paths(tmp_path):
    bg, layer = tmp_path / "bg.png", tmp_path / "layer.png"
    Image.fromarray(BG).save(bg)
    Image.fromarray(rgba(6, 8, [(5, 0)])).save(layer)
    assert as_set(masks.mask_from_editor({"background": str(bg), "layers": [str(layer)]})) == {(5, 0)}


def test_mask_from_editor_explicit_size():
    mask = masks.mask_from_editor({"background": BG, "layers": [rgba(6, 8, [(0, 7)])]}, size=(16, 12))
    assert mask.shape == (12, 16) and as_set(mask) == {(0, 14), (0, 15), (1, 14), (1, 15)}


@pytest.mark.parametrize("values,expected", [([0, 255], [255, 0]), ([10, 128], [245, 127])])
def test_invert(values, expected):
    assert masks.invert(np.array([values], np.uint8)).tolist() == [expected]


def single(h=9, w=9, y=4, x=4):
    m = np.zeros((h, w), np.uint8)
    m[y, x] = 255
    return m


GROW_CASES = [
    ("zero", single(), 0, 1),
    ("negative", single(), -3, 1),
    ("r1 plus", single(), 1, 5),
    ("r2 disc", single(), 2, 13),
    ("r3 disc", single(), 3, 29),
    ("corner clipped", single(y=0, x=0), 2, 6),
    ("larger than image", single(3, 3, 1, 1), 10, 9),
    ("empty stays empty", np.zeros((5, 5), np.uint8), 3, 0),
]  # fmt: skip


@pytest.mark.parametrize("name,mask,r,count", GROW_CASES, ids=[c[0] for c in GROW_CASES])
def test_grow_counts(name, mask, r, count):
    out = masks.grow(mask, r)
    assert int((out > 0).sum()) == count
    assert np.array_equal(out, reference_grow(mask, max(r, 0)))


@pytest.mark.parametrize("seed,r", [(1, 1), (2, 2), (3, 4), (4, 7)])
def test_grow_matches_brute_force(seed, r):
    rng = np.random.default_rng(seed)
    mask = np.where(rng.random((17, 23)) > 0.93, 255, 0).astype(np.uint8)
    assert np.array_equal(masks.grow(mask, r), reference_grow(mask, r))


def test_grow_keeps_soft_values_inside():
    mask = np.zeros((5, 5), np.uint8)
    mask[2, 2] = 100
    out = masks.grow(mask, 1)
    assert out[2, 2] == 100 and out[1, 2] == out[2, 1] == 255 and out[0, 0] == 0


def test_blur_zero_is_identity_and_positive_is_soft_and_symmetric():
    mask = np.zeros((21, 21), np.uint8)
    mask[8:13, 8:13] = 255
    assert np.array_equal(masks.blur(mask, 0), mask)
    out = masks.blur(mask, 2)
    assert out.dtype == np.uint8 and out.shape == mask.shape
    soft = (out > 0) & (out < 255)
    assert soft.any()  # kept soft, not thresholded
    assert (out > 0).sum() > (mask > 0).sum()  # spreads outward
    assert np.array_equal(out, out.T) and np.array_equal(out, out[::-1, ::-1])
    assert out[10, 10] == out.max() > 128 and out[0, 0] == 0
    full = np.full((9, 9), 255, np.uint8)
    assert np.array_equal(masks.blur(full, 3), full)  # edges repeat: a full mask stays full


def test_process_order_invert_grow_blur():
    mask = np.full((7, 7), 255, np.uint8)
    mask[3, 3] = 0  # inverted: one pixel
    out = masks.process(mask, inverted=True, grow_px=1)
    assert as_set(out) == {(3, 3), (2, 3), (4, 3), (3, 2), (3, 4)}
    assert np.array_equal(masks.process(mask), mask)
    blurred = masks.process(mask, inverted=True, grow_px=1, blur_px=1)
    assert np.array_equal(blurred, masks.blur(out, 1))


def load(png):
    with Image.open(io.BytesIO(png)) as im:
        im.load()
        return im.copy()


SOURCE = np.dstack([np.arange(48).reshape(6, 8) * 5 % 256] * 3).astype(np.uint8)
MASK = np.zeros((6, 8), np.uint8)
MASK[1:3, 2:5] = 255
MASK[5, 7] = 128  # a soft pixel (after blur) survives encoding exactly


def loadimagemask(png, channel):
    """ComfyUI's LoadImageMask, as 0..255: the channel, or 255 - alpha for "alpha"."""
    im = load(png)
    im = im if im.getbands() == ("R", "G", "B", "A") else im.convert("RGBA")
    band = np.asarray(im.getchannel(channel[0].upper()), np.uint8)
    return 255 - band if channel == "alpha" else band


def test_alpha_mask_file():
    files = masks.mask_files(SOURCE, MASK, masks.ALPHA)
    image, mask = load(files.image_png), load(files.mask_png)
    assert image.mode == "RGB" and np.array_equal(np.asarray(image), SOURCE)
    assert mask.mode == "RGBA" and mask.size == (8, 6)
    assert np.array_equal(np.asarray(mask.getchannel("A")), 255 - MASK)  # transparent = repaint
    assert np.array_equal(masks.decode_mask(files.mask_png, masks.ALPHA), MASK)


@pytest.mark.parametrize("channel", ["alpha", "red", "green", "blue"])
def test_separate_mask_file_reads_right_in_its_channel(channel):
    files = masks.mask_files(SOURCE, MASK, masks.SEPARATE, channel)
    assert np.array_equal(loadimagemask(files.mask_png, channel), MASK)
    assert np.array_equal(masks.decode_mask(files.mask_png, masks.SEPARATE, channel), MASK)


def test_separate_alpha_file_reads_right_in_every_channel():
    files = masks.mask_files(SOURCE, MASK, masks.SEPARATE, "alpha")
    for channel in masks.CHANNELS:
        assert np.array_equal(loadimagemask(files.mask_png, channel), MASK), channel


def test_mask_files_resize_mask_nearest_and_accept_rgba():
    small = np.zeros((3, 4), np.uint8)
    small[0, 0] = 255
    source = np.dstack([SOURCE, np.full((6, 8), 7, np.uint8)])  # RGBA source: alpha dropped
    files = masks.mask_files(source, small)
    assert load(files.image_png).mode == "RGB"
    assert as_set(masks.decode_mask(files.mask_png)) == {(0, 0), (0, 1), (1, 0), (1, 1)}


@pytest.mark.parametrize("kind,channel", [("bogus", "alpha"), (masks.SEPARATE, "luma")])
def test_mask_files_rejects_unknown(kind, channel):
    with pytest.raises(ValueError):
        masks.mask_files(SOURCE, MASK, kind, channel)


def test_digest_depends_on_content():
    a = masks.mask_files(SOURCE, MASK)
    b = masks.mask_files(SOURCE, masks.invert(MASK))
    assert a.digest() == masks.mask_files(SOURCE, MASK).digest() != b.digest()


@pytest.mark.parametrize("kind,channel", [(masks.ALPHA, "alpha"), (masks.SEPARATE, "red"), (masks.SEPARATE, "alpha")])
def test_preview_is_rendered_from_the_bytes(kind, channel):
    files = masks.mask_files(SOURCE, MASK, kind, channel)
    preview = np.asarray(masks.preview_from_files(files)).astype(int)
    assert preview.shape == (6, 8, 3)
    untouched = MASK == 0
    assert np.array_equal(preview[untouched], SOURCE[untouched])
    full = SOURCE[1, 2].astype(float)
    k = masks.TINT_STRENGTH
    assert np.abs(preview[1, 2] - (full * (1 - k) + np.array(masks.TINT) * k)).max() <= 1
    assert preview[5, 7, 0] > SOURCE[5, 7, 0] and preview[5, 7, 1] < SOURCE[5, 7, 1]  # half tint
    # the preview follows the bytes, not the array: change the bytes, the preview changes
    other = masks.MaskFiles(files.image_png, masks.mask_files(SOURCE, masks.invert(MASK), kind, channel).mask_png,
                            kind, channel)  # fmt: skip
    assert np.array_equal(np.asarray(masks.preview_from_files(other))[1, 2], SOURCE[1, 2])
