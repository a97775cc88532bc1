"""(f) Picture bombs: four 13000×13000 one-bit PNGs (a few KB each) sent to the Inpainting tab at once.

``python app.py`` runs as a child process over a test server (as users start it). The bomb is a
real PNG (all pixels black, so it compresses to a few KB) that would take 169 million pixels,
gigabytes once decoded. It is uploaded four times through Gradio's upload route, then four
``/gradio_api/call/inpaint`` requests carrying it as the editor's background are sent at once, raw
JSON as an attacker sends them. Measured: the app's resident memory before, and its peak
(``VmHWM`` of ``/proc/<pid>/status``) after all four answered; each answer must be the refusal
message (the picture is judged from its header, never decoded). Target: peak under 400 MB.
"""
from __future__ import annotations

import concurrent.futures
import io
import json
import tempfile
import time
from pathlib import Path

from . import Report
from ._servers import app_process, comfy_server

SIZE = 13000
AT_ONCE = 4
RSS_TARGET_MB = 400
MESSAGE = f"The picture bomb.png is {SIZE}×{SIZE} (169 million pixels); at most 64 million pixels."


def bomb_png(size: int = SIZE) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (size, size)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def inpaint_data(url: str, background: dict) -> list:
    """The /inpaint data list: the page's defaults, the bomb as the editor's background."""
    import requests

    config = requests.get(url + "config", timeout=10).json()
    components = {c["id"]: c for c in config["components"]}
    dep = next(d for d in config["dependencies"] if d.get("api_name") == "inpaint")
    data = []
    for i in dep["inputs"]:
        props = components.get(i, {}).get("props") or {}
        label = props.get("label")
        data.append({"background": background, "layers": [], "composite": background, "id": None}
                    if label == "Image" else "a cat" if label == "Prompt" else props.get("value"))
    return data


def call(url: str, data: list) -> str:
    """POST the call raw, read its event stream; the final Message output (or the error event)."""
    import requests

    answer = requests.post(f"{url}gradio_api/call/inpaint", data=json.dumps({"data": data}), timeout=60,
                           headers={"content-type": "application/json"})
    event_id = answer.json()["event_id"]
    name, last = None, None
    with requests.get(f"{url}gradio_api/call/inpaint/{event_id}", stream=True, timeout=120) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                last = line.split(":", 1)[1].strip()
                if name in ("complete", "error"):
                    break
    if name != "complete":
        return f"{name}: {last}"
    return str(json.loads(last)[3])  # progress, preview, gallery, message, ...


def run(quick: bool = False) -> Report:
    import requests

    report = Report("bombs")
    bomb = bomb_png()
    report.say(f"bomb: a {SIZE}×{SIZE} one-bit PNG of {len(bomb) / 1000:.0f} KB "
               f"({SIZE * SIZE / 1e6:.0f} million pixels; about {SIZE * SIZE * 4 / 1e9:.1f} GB as RGBA)")
    with comfy_server() as server, tempfile.TemporaryDirectory(prefix="bench-bombs-") as tmp:
        with app_process(server.url, Path(tmp) / "data") as app:
            time.sleep(1.0)  # let start-up settle before the baseline
            base_rss, base_peak = memory_mb(app.proc.pid)
            uploads = []
            for _ in range(AT_ONCE):
                answer = requests.post(f"{app.url}gradio_api/upload", files={"files": ("bomb.png", bomb)}, timeout=60)
                uploads.append({"path": answer.json()[0], "orig_name": "bomb.png", "meta": {"_type": "gradio.FileData"}})
            datas = [inpaint_data(app.url, u) for u in uploads]
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(AT_ONCE) as pool:
                messages = list(pool.map(lambda d: call(app.url, d), datas))
            seconds = time.perf_counter() - started
            rss, peak = memory_mb(app.proc.pid)
    refused = sum(m == MESSAGE for m in messages)
    report.say(f"app RSS before {base_rss:.0f} MB (peak so far {base_peak:.0f} MB); after {AT_ONCE} bombs at once: "
               f"RSS {rss:.0f} MB, peak {peak:.0f} MB; all answered in {seconds:.2f} s")
    report.say(f"{refused} of {AT_ONCE} refused with: {MESSAGE}")
    for message in messages:
        if message != MESSAGE:
            report.say(f"  unexpected answer: {message[:200]}")
    report.check("app peak RSS during 4 bombs", peak, "MB", f"< {RSS_TARGET_MB} MB", peak < RSS_TARGET_MB)
    report.check("bombs refused with the message", refused, f"of {AT_ONCE}", f"{AT_ONCE} of {AT_ONCE}",
                 refused == AT_ONCE)
    return report
