"""Reading a picture's or video's own workflow (comfy_ui_app.workflow.embedded, video_tags).

Every file is made here: Pillow writes PNG text chunks and WEBP/JPEG EXIF; MP4 and WEBM
metadata are built box by box as PyAV/ffmpeg lay them out (moov/udta/meta/keys+ilst;
Tags/SimpleTag). The caps are tested with the attack itself: a zTXt chunk that inflates to
hundreds of megabytes, a text chunk claiming gigabytes, a picture claiming 100,000² pixels.
"""
from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zlib

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from comfy_ui_app.workflow.embedded import MAX_TEXT, exif_texts, file_kind, read_embedded

PROMPT = {"3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 12}}}
WORKFLOW = {"nodes": [{"id": 3, "type": "KSampler", "widgets_values": [42, "fixed", 12]}], "links": []}
A1111 = "a red fox\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x768"


def png(chunks: dict[str, str] | None = None, *, itxt: bool = False, ztxt: bool = False) -> bytes:
    info = PngInfo()
    for key, value in (chunks or {}).items():
        if itxt or ztxt:
            info.add_itxt(key, value, zip=ztxt)
        else:
            info.add_text(key, value)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def comfy_exif(**keys) -> Image.Exif:
    """EXIF as ComfyUI's SaveImage-WEBP / SaveAnimatedWEBP write it."""
    exif = Image.Exif()
    tag = 0x010F
    for key, value in keys.items():
        if key == "prompt":
            exif[0x0110] = "prompt:" + value
        else:
            exif[tag] = f"{key}:{value}"
            tag -= 1
    return exif


def webp(exif: Image.Exif | None, *, animated: bool = False) -> bytes:
    buf = io.BytesIO()
    frames = [Image.new("RGB", (8, 8), (i * 60, 0, 0)) for i in range(3 if animated else 1)]
    kwargs = {"exif": exif.tobytes()} if exif is not None else {}
    frames[0].save(buf, "WEBP", save_all=animated, append_images=frames[1:], **kwargs)
    return buf.getvalue()


def a1111_exif(text: str) -> Image.Exif:
    """A1111's WEBP/JPEG: EXIF UserComment (in the Exif IFD), charset UNICODE, UTF-16 big-endian."""
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + text.encode("utf-16-be")
    return exif


def jpeg(exif: Image.Exif) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def box(kind: bytes, content: bytes) -> bytes:
    return struct.pack(">I", 8 + len(content)) + kind + content


def mp4(tags: dict[str, str], *, itunes_comment: str | None = None, moov_first: bool = True) -> bytes:
    """An MP4 whose moov/udta/meta holds ``tags`` as PyAV's ``movflags=use_metadata_tags`` writes them."""
    names = list(tags)
    keys = box(b"keys", b"\0\0\0\0" + struct.pack(">I", len(names))
               + b"".join(box(b"mdta", n.encode()) for n in names))
    items = b"".join(box(struct.pack(">I", i + 1), box(b"data", b"\0\0\0\1\0\0\0\0" + tags[n].encode()))
                     for i, n in enumerate(names))
    if itunes_comment is not None:
        items += box(b"\xa9cmt", box(b"data", b"\0\0\0\1\0\0\0\0" + itunes_comment.encode()))
    meta = box(b"meta", b"\0\0\0\0" + box(b"hdlr", b"\0" * 8 + b"mdta" + b"\0" * 13) + keys + box(b"ilst", items))
    moov = box(b"moov", box(b"mvhd", b"\0" * 100) + box(b"udta", meta))
    mdat = box(b"mdat", b"\0" * 5000)
    ftyp = box(b"ftyp", b"isom\0\0\2\0isomiso2avc1mp41")
    return ftyp + (moov + mdat if moov_first else mdat + moov)


def ebml(element_id: bytes, content: bytes) -> bytes:
    """An EBML element with an 8-byte size (ffmpeg writes sizes of several lengths; any is valid)."""
    return element_id + b"\x01" + struct.pack(">Q", len(content))[1:] + content


def webm(tags: dict[str, str]) -> bytes:
    simple = b"".join(ebml(b"\x67\xc8", ebml(b"\x45\xa3", k.encode()) + ebml(b"\x44\x87", v.encode()))
                      for k, v in tags.items())
    header = ebml(b"\x1a\x45\xdf\xa3", ebml(b"\x42\x82", b"webm"))
    segment = ebml(b"\x18\x53\x80\x67", ebml(b"\x12\x54\xc3\x67", ebml(b"\x73\x73", simple))
                   + ebml(b"\x1f\x43\xb6\x75", b"\0" * 3000))
    return header + segment


P, W = json.dumps(PROMPT), json.dumps(WORKFLOW)
VHS = json.dumps({"prompt": P, "workflow": WORKFLOW})

CASES = [
    # (name, bytes, kind, prompt, workflow, parameters)
    ("ComfyUI PNG (tEXt)", png({"prompt": P, "workflow": W}), "png", P, W, None),
    ("iTXt, a Chinese prompt", png({"prompt": P.replace("42", "'狐狸'")}, itxt=True), "png",
     P.replace("42", "'狐狸'"), None, None),
    ("zTXt (compressed iTXt)", png({"workflow": W}, ztxt=True), "png", None, W, None),
    ("A1111 PNG", png({"parameters": A1111}), "png", None, None, A1111),
    ("plain PNG", png(), "png", None, None, None),
    ("ComfyUI WEBP", webp(comfy_exif(prompt=P, workflow=W)), "webp", P, W, None),
    ("animated WEBP", webp(comfy_exif(prompt=P, workflow=W), animated=True), "webp", P, W, None),
    ("workflow 3rd of extra_pnginfo (tag 0x010D)", webp(comfy_exif(prompt=P, a="1", b="2", workflow=W)), "webp",
     P, W, None),
    ("A1111 WEBP (UserComment)", webp(a1111_exif(A1111)), "webp", None, None, A1111),
    ("plain WEBP", webp(None), "webp", None, None, None),
    ("A1111 JPEG", jpeg(a1111_exif(A1111)), "jpeg", None, None, A1111),
    ("ComfyUI JPEG", jpeg(comfy_exif(prompt=P, workflow=W)), "jpeg", P, W, None),
    ("SaveVideo MP4", mp4({"prompt": P, "workflow": W}), "mp4", P, W, None),
    ("MP4, moov at the end", mp4({"prompt": P, "workflow": W}, moov_first=False), "mp4", P, W, None),
    ("VideoHelperSuite MP4 (©cmt)", mp4({}, itunes_comment=VHS), "mp4", P, W, None),
    ("MP4 with only an encoder tag", mp4({"encoder": "Lavf"}), "mp4", None, None, None),
    ("WEBM (ffmpeg's capital names)", webm({"PROMPT": P, "WORKFLOW": W, "ENCODER": "Lavf"}), "webm", P, W, None),
    ("VideoHelperSuite WEBM (COMMENT)", webm({"COMMENT": VHS}), "webm", P, W, None),
    ("not a picture", b"hello, world", "", None, None, None),
]


@pytest.mark.parametrize("name, data, kind, prompt, workflow, parameters", CASES, ids=[c[0] for c in CASES])
def test_reads_what_each_file_carries(tmp_path, name, data, kind, prompt, workflow, parameters):
    path = tmp_path / "file"
    path.write_bytes(data)
    found = read_embedded(path)
    assert (found.kind, found.prompt, found.workflow, found.parameters) == (kind, prompt, workflow, parameters)
    assert found.empty == (prompt is None and workflow is None and parameters is None)


def test_the_test_servers_own_outputs_carry_their_graph(tmp_path):
    from comfy_test_server import _images

    ui = _images.save_images({"w": 16, "h": 16}, "x", str(tmp_path), "output", PROMPT, {"workflow": WORKFLOW}, 1)
    found = read_embedded(tmp_path / ui[0]["subfolder"] / ui[0]["filename"])
    assert json.loads(found.prompt) == PROMPT and json.loads(found.workflow) == WORKFLOW


def png_chunk(kind: bytes, data: bytes, *, claimed: int | None = None) -> bytes:
    length = len(data) if claimed is None else claimed
    return struct.pack(">I", length) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_a_zip_bomb_in_a_text_chunk_is_not_inflated(tmp_path):
    bomb = zlib.compress(b"{" + b" " * (300 * 1024 * 1024), 9)  # 300 MB of text in ~300 KB
    plain = png()
    data = plain[:-12] + png_chunk(b"zTXt", b"prompt\0\0" + bomb) + png_chunk(b"tEXt", b"workflow\0" + W.encode()) \
        + plain[-12:]
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    tracemalloc.start()
    found = read_embedded(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert found.prompt is None and found.workflow == W  # the bomb skipped, the rest still read
    assert peak < 4 * MAX_TEXT


def test_a_chunk_claiming_gigabytes_is_skipped_not_read(tmp_path):
    plain = png()
    data = plain[:-12] + struct.pack(">I", 0x7FFFFFFF) + b"tEXt" + b"prompt\0{}"
    path = tmp_path / "liar.png"
    path.write_bytes(data)
    tracemalloc.start()
    assert read_embedded(path).empty
    assert tracemalloc.get_traced_memory()[1] < 1024 * 1024
    tracemalloc.stop()


def test_a_picture_claiming_huge_pixels_is_read_without_decoding(tmp_path):
    """A 100,000 × 100,000 PNG header with a workflow chunk: the text is read, no pixel decoded."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
    data = b"\x89PNG\r\n\x1a\n" + ihdr + png_chunk(b"tEXt", b"prompt\0" + P.encode()) \
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b"")
    path = tmp_path / "huge.png"
    path.write_bytes(data)
    assert read_embedded(path).prompt == P


@pytest.mark.parametrize("head, kind", [(b"\x89PNG\r\n\x1a\n", "png"), (b"RIFF\0\0\0\0WEBPVP8 ", "webp"),
                                        (b"\xff\xd8\xff\xe0", "jpeg"), (b"\0\0\0\x20ftypisom", "mp4"),
                                        (b"\x1a\x45\xdf\xa3\x9f", "webm"), (b"GIF89a", ""), (b"", "")])
def test_file_kind(head, kind):
    assert file_kind(head) == kind


def test_exif_with_and_without_its_prefix():
    raw = comfy_exif(prompt=P).tobytes()  # Pillow's bytes start with "Exif\0\0"; a WEBP's EXIF chunk may not
    assert exif_texts(raw) == exif_texts(raw.removeprefix(b"Exif\0\0")) == {"prompt": P}
    assert exif_texts(b"junk") == {}
