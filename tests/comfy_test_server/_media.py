"""Real files of the kinds ComfyUI's media nodes write, made by code (no ffmpeg, nothing copied).

What the recording ``media_outputs_and_templates.json`` -> ``media_run`` shows, and what is
written here:

* ``SaveVideo`` (of ``CreateVideo``): ``images: [{clip_00001_.mp4, subfolder video}]``,
  ``animated: [true]``; ``/view`` serves ``video/mp4`` starting ``....ftypisom``. Here: an
  ISO-BMFF MP4 whose one track holds the frames as JPEGs (sample entry ``jpeg``), one box
  tree a demuxer reads (ftyp, moov/mvhd/trak/…/stbl, mdat);
* ``SaveAnimatedWEBP``: ``images: [{anim_00001_.webp}]``, ``animated: [true]``: Pillow's
  animated WEBP (``RIFF....WEBPVP8X`` with ``ANIM``);
* ``SaveAudio`` / ``PreviewAudio`` (of ``LoadAudio``): ``audio: [{tone_00001_.flac}]``
  (``audio/flac``, ``fLaC\\0\\0\\0\\x22``): a FLAC of verbatim frames holding the loaded WAV's
  samples (or a tone);
* ``Preview3D``: ``result: [model_file, null]``; ``SaveGLB``: ``3d: [{…glb, subfolder mesh}]``:
  a glTF binary of one triangle;
* ``PreviewAny``: ``text: [str(source)]``.
"""
from __future__ import annotations

import io
import json
import math
import os
import struct
import wave

from PIL import Image

from . import _images

# -- video: an MP4 of JPEG frames ---------------------------------------------------------


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full(kind: bytes, version_flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version_flags), *parts)


def mp4_of_jpegs(frames: list[bytes], width: int, height: int, fps: float) -> bytes:
    """An MP4 (ISO BMFF, brand isom) with one video track of ``frames`` (JPEG bytes)."""
    timescale, delta = 1000, max(1, round(1000 / max(fps, 0.01)))
    duration = delta * len(frames)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2mp41")
    mdat_header = struct.pack(">I", 8 + sum(map(len, frames))) + b"mdat"

    def moov(first_offset: int) -> bytes:
        mvhd = _full(b"mvhd", 0, struct.pack(">IIII", 0, 0, timescale, duration), struct.pack(">IH", 0x10000, 0x100),
                     bytes(10), matrix, bytes(24), struct.pack(">I", 2))
        tkhd = _full(b"tkhd", 3, struct.pack(">IIIII", 0, 0, 1, 0, duration), bytes(8), struct.pack(">hhHH", 0, 0, 0, 0),
                     matrix, struct.pack(">II", width << 16, height << 16))
        mdhd = _full(b"mdhd", 0, struct.pack(">IIII", 0, 0, timescale, duration), struct.pack(">HH", 0x55C4, 0))
        hdlr = _full(b"hdlr", 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00")
        entry = _box(b"jpeg", bytes(6), struct.pack(">H", 1), bytes(16), struct.pack(">HH", width, height),
                     struct.pack(">II", 0x480000, 0x480000), bytes(4), struct.pack(">H", 1), bytes(32),
                     struct.pack(">Hh", 24, -1))
        stbl = _box(b"stbl", _full(b"stsd", 0, struct.pack(">I", 1), entry),
                    _full(b"stts", 0, struct.pack(">III", 1, len(frames), delta)),
                    _full(b"stsc", 0, struct.pack(">IIII", 1, 1, len(frames), 1)),
                    _full(b"stsz", 0, struct.pack(">II", 0, len(frames)), *(struct.pack(">I", len(f)) for f in frames)),
                    _full(b"stco", 0, struct.pack(">II", 1, first_offset)))
        dinf = _box(b"dinf", _full(b"dref", 0, struct.pack(">I", 1), _full(b"url ", 1)))
        minf = _box(b"minf", _full(b"vmhd", 1, bytes(8)), dinf, stbl)
        return _box(b"moov", mvhd, _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf)))

    size = len(moov(0))  # the offset of the first frame depends on moov's size, not its content
    return ftyp + moov(len(ftyp) + size + len(mdat_header)) + mdat_header + b"".join(frames)


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def _frames(spec: dict) -> list[Image.Image]:
    spec = {"w": 512, "h": 512, "batch": 1, "seed": 0, **spec}
    return [_images.render(spec["w"], spec["h"], spec["seed"] + n) for n in range(max(1, int(spec["batch"])))]


def save_video(spec: dict, path: str, fps: float) -> None:
    frames = _frames(spec)
    with open(path, "wb") as f:
        f.write(mp4_of_jpegs([_jpeg(im) for im in frames], frames[0].width, frames[0].height, fps))


def save_animated_webp(spec: dict, path: str, fps: float) -> None:
    frames = _frames(spec)
    frames[0].save(path, format="WEBP", save_all=True, append_images=frames[1:], duration=round(1000 / fps), loop=0)


# -- audio: WAV (stdlib) and FLAC of verbatim frames -------------------------------------


def tone(seconds: float = 0.25, rate: int = 8000, hz: float = 440.0) -> list[int]:
    return [round(8000 * math.sin(2 * math.pi * hz * n / rate)) for n in range(int(seconds * rate))]


def wav_bytes(samples: list[int], rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buf.getvalue()


def read_wav(path: str) -> tuple[list[int], int]:
    """A mono 16-bit WAV's samples and rate; a tone when the file is anything else."""
    try:
        with wave.open(path, "rb") as w:
            if w.getnchannels() == 1 and w.getsampwidth() == 2:
                raw = w.readframes(w.getnframes())
                return list(struct.unpack(f"<{len(raw) // 2}h", raw)), w.getframerate()
    except (OSError, EOFError, wave.Error):
        pass
    return tone(), 8000


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def flac_bytes(samples: list[int], rate: int, block: int = 1152) -> bytes:
    """A mono 16-bit FLAC: STREAMINFO, a VORBIS_COMMENT, then frames of one verbatim subframe each."""
    samples = samples or [0]
    info = struct.pack(">HH", block, block) + bytes(6)  # min/max block size, frame sizes unknown
    info += ((rate << 44) | (0 << 41) | (15 << 36) | len(samples)).to_bytes(8, "big") + bytes(16)
    vendor = b"comfy_test_server"
    comment = struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)  # VORBIS_COMMENT, as ComfyUI's has
    out = [b"fLaC", bytes([0x00]) + len(info).to_bytes(3, "big"), info,
           bytes([0x84]) + len(comment).to_bytes(3, "big"), comment]
    for number, start in enumerate(range(0, len(samples), block)):
        chunk = samples[start:start + block]
        if number >= 128:
            raise ValueError("test audio is kept short: at most 128 frames")
        header = bytes([0xFF, 0xF8, 0x70, 0x08, number]) + struct.pack(">H", len(chunk) - 1)
        header += bytes([_crc8(header)])
        frame = header + b"\x02" + struct.pack(f">{len(chunk)}h", *chunk)
        out.append(frame + struct.pack(">H", _crc16(frame)))
    return b"".join(out)


def save_flac(source: str | None, path: str) -> None:
    samples, rate = read_wav(source) if source else (tone(), 8000)
    with open(path, "wb") as f:
        f.write(flac_bytes(samples, rate))


# -- 3D: a glTF binary of one triangle ---------------------------------------------------


def glb_triangle() -> bytes:
    positions = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    gltf = {"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
            "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
            "buffers": [{"byteLength": len(positions)}],
            "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(positions)}],
            "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3",
                           "min": [0, 0, 0], "max": [1, 1, 0]}]}
    text = json.dumps(gltf).encode()
    text += b" " * (-len(text) % 4)
    chunks = struct.pack("<I", len(text)) + b"JSON" + text + struct.pack("<I", len(positions)) + b"BIN\x00" + positions
    return struct.pack("<III", 0x46546C67, 2, 12 + len(chunks)) + chunks


def write_next(folder_prefix: str, base_dir: str, suffix: str, write) -> dict:
    """Name the file as ComfyUI's ``get_save_image_path`` does and let ``write(path)`` fill it."""
    folder, filename, counter, subfolder = _images.save_image_path(folder_prefix, base_dir)
    name = f"{filename}_{counter:05}_{suffix}"
    write(os.path.join(folder, name))
    return {"filename": name, "subfolder": subfolder}


MEDIA_OUTPUT_NODES = ("SaveVideo", "SaveAnimatedWEBP", "SaveAudio", "PreviewAudio", "Preview3D", "PreviewAny",
                      "SaveGLB")


def node_values(class_type: str, inputs: dict, spec: dict, upstream: list, dirs: dict) -> dict:
    """What a media node passes on, kept in its spec: the loaded audio file, a video's fps, a string."""
    if class_type == "LoadAudio" and isinstance(inputs.get("audio"), str):
        spec["audio_path"] = os.path.join(dirs["input"], inputs["audio"])
    elif class_type == "CreateVideo":
        spec["fps"] = float(inputs.get("fps") or 30)
    elif class_type in ("PrimitiveString", "PrimitiveStringMultiline", "PrimitiveInt", "PrimitiveFloat"):
        spec["text"] = str(inputs.get("value"))
    for up in upstream:
        for key in ("audio_path", "fps", "text"):
            if up and key in up:
                spec.setdefault(key, up[key])
    return spec


def run_output(class_type: str, inputs: dict, spec: dict, dirs: dict, temp_prefix: str) -> dict:
    """The ``ui`` dict a media output node reports, its files written as ComfyUI names them."""
    prefix = str(inputs.get("filename_prefix", "ComfyUI"))
    if class_type == "SaveVideo":
        ref = write_next(prefix, dirs["output"], ".mp4", lambda p: save_video(spec, p, spec.get("fps", 30.0)))
        return {"images": [{**ref, "type": "output"}], "animated": [True]}
    if class_type == "SaveAnimatedWEBP":
        fps = float(inputs.get("fps") or 6.0)
        ref = write_next(prefix, dirs["output"], ".webp", lambda p: save_animated_webp(spec, p, fps))
        return {"images": [{**ref, "type": "output"}], "animated": [True]}
    if class_type in ("SaveAudio", "PreviewAudio"):
        temp = class_type == "PreviewAudio"
        where = dirs["temp" if temp else "output"]
        ref = write_next(temp_prefix if temp else prefix, where, ".flac", lambda p: save_flac(spec.get("audio_path"), p))
        return {"audio": [{**ref, "type": "temp" if temp else "output"}]}
    if class_type == "SaveGLB":
        def write(path):
            with open(path, "wb") as f:
                f.write(glb_triangle())
        return {"3d": [{**write_next(prefix, dirs["output"], ".glb", write), "type": "output"}]}
    if class_type == "Preview3D":
        return {"result": [inputs.get("model_file"), None]}
    if class_type == "PreviewAny":
        source = inputs.get("source")
        return {"text": [spec.get("text", "") if isinstance(source, list) else str(source)]}
    raise KeyError(class_type)


def put_recorded_inputs(server) -> None:
    """The input files of the recorded media run (media_outputs_and_templates.json) in ``server``'s input
    folder, where ComfyUI lists them: ``tone.wav`` (a LoadAudio's) and ``3d/example.glb`` (a Preview3D's)."""
    folder = os.path.join(server.dirs["input"], "3d")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(server.dirs["input"], "tone.wav"), "wb") as out:
        out.write(wav_bytes(tone()))
    with open(os.path.join(folder, "example.glb"), "wb") as out:
        out.write(glb_triangle())
