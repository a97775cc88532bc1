"""(g) Click to picture: Chromium clicks Generate and waits for the new picture to be drawn.

Three ways to the same picture, interleaved in one run (A B C D A B C D ...), after warm-ups:

* **the page**: ``python app.py`` as its own process (as users run it) over a test server in this
  process with zero work (``step_time=0``, previews off), opened in Debian's Chromium (headless,
  Playwright, never a downloaded browser) at 1280x800; Generate on "Text to image" is clicked
  with a real (trusted) mouse click;
* **the minimal Gradio app** (``bench/clicks_floor.py``, its own process): one button whose
  handler yields one new file path into a ``gr.Gallery``; same browser, same click, same
  measurement: the floor any Gradio page pays;
* **the direct client**, no browser: the very graph the page sent (a new seed each time) through
  ``comfy_ui_app``'s ``Comfy.submit(...).wait()`` and through a plain requests + websocket-client
  submit-and-wait (``bench/overhead.Baseline``): what ComfyUI's side takes.

In the page (``MEASURE_JS``): a capture-phase ``click`` listener on ``window`` stamps
``performance.now()`` when the click reaches the page; a ``MutationObserver`` and capture-phase
``load`` listener look for an ``<img>`` in the gallery whose address was not there before the
click and that is ``complete && naturalWidth > 0``; then ``img.decode()`` and one
``requestAnimationFrame``: the time in that frame's callback, minus the click's, is the figure.
Between runs the machine settles (the server's queue empty, then ``SETTLE_S``), alike for all.

Target: the page's median within 100 ms of the minimal app's median.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
import time
from pathlib import Path

from . import Report, median, percentile
from ._servers import ROOT, app_process, comfy_server, page_process
from .clicks_floor import GALLERY_ID
from .overhead import Baseline, wait_idle

__all__ = ["run", "MEASURE_JS", "TARGET_MS"]

TARGET_MS = 100.0
SETTLE_S = 0.25        # between two runs: the previous one's last messages and garbage out of the way
TIMEOUT_MS = 30_000
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SEEDS = itertools.count(7000)

#: Arms one measurement: call with the gallery's CSS selector, then click, then await ``window.__clickRun``.
MEASURE_JS = """(sel) => {
  const imgs = () => [...document.querySelectorAll(sel + ' img')];
  const before = new Set(imgs().map(i => i.currentSrc || i.src));
  let t0 = null, found = false, done = false, observer = null, timer = null;
  window.__clickRun = new Promise((resolve, reject) => {
    const finish = (value, error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (observer) observer.disconnect();
      document.removeEventListener('load', check, true);
      error ? reject(new Error(error)) : resolve(value);
    };
    function check() {
      if (done || found || t0 === null) return;
      const img = imgs().find(i => { const s = i.currentSrc || i.src; return s && !before.has(s); });
      if (!img || !(img.complete && img.naturalWidth > 0)) return;
      found = true;
      const drawn = () => requestAnimationFrame(() => finish({ms: performance.now() - t0, src: img.src,
        width: img.naturalWidth, visibility: document.visibilityState}));
      img.decode().then(drawn, drawn);
    }
    window.addEventListener('click', () => { if (t0 === null) { t0 = performance.now(); check(); } },
                            {capture: true, once: true});
    observer = new MutationObserver(check);
    observer.observe(document.body, {subtree: true, childList: true, attributes: true,
                                     attributeFilter: ['src']});
    document.addEventListener('load', check, true);
    timer = setTimeout(() => finish(null, 'no new picture in ' + sel), %d);
  });
}""" % TIMEOUT_MS


class ClickPage:
    """One opened page: a Generate button and a gallery to watch."""

    def __init__(self, page, button, gallery_selector: str, name: str) -> None:
        self.page, self.button, self.gallery, self.name = page, button, gallery_selector, name

    def measure(self) -> float:
        """ms from the click to the frame after the new picture was drawn."""
        self.page.evaluate(MEASURE_JS, self.gallery)
        self.button.click()
        result = self.page.evaluate("() => window.__clickRun")
        if not result or result.get("width", 0) <= 0:
            raise RuntimeError(f"{self.name}: no picture drawn ({result})")
        return float(result["ms"])


def open_app_page(context, url: str) -> ClickPage:
    from playwright.sync_api import expect

    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    expect(page.locator("#server-status")).to_contain_text("Connected to ComfyUI", timeout=TIMEOUT_MS)
    button = page.get_by_role("button", name="Generate", exact=True).first
    expect(button).to_be_enabled(timeout=TIMEOUT_MS)
    return ClickPage(page, button, "#txt2img-gallery", "the page")


def open_floor_page(context, url: str) -> ClickPage:
    from playwright.sync_api import expect

    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    button = page.get_by_role("button", name="Generate", exact=True)
    expect(button).to_be_enabled(timeout=TIMEOUT_MS)
    return ClickPage(page, button, f"#{GALLERY_ID}", "minimal Gradio app")


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} is not installed (apt-get install chromium; never `playwright install`)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def direct_clients(server):
    """(name -> one run returning ms, closer) for the two clients without a browser."""
    from comfy_ui_app import Comfy

    comfy = Comfy(server.url).start()
    comfy.wait_connected(10)
    baseline = Baseline(server.url)

    def graph() -> dict:
        sent = dict(server.received_prompts[-1]["prompt"])   # what the page sent, a new seed
        sent = {k: {**v, "inputs": dict(v["inputs"])} for k, v in sent.items()}
        for node in sent.values():
            if "seed" in node["inputs"]:
                node["inputs"]["seed"] = next(SEEDS)
        return sent

    def ours() -> float:
        g = graph()
        start = time.perf_counter()
        finished = comfy.submit(g).wait(timeout=30)
        elapsed = (time.perf_counter() - start) * 1000
        assert finished.ok and finished.images, finished
        return elapsed

    def plain() -> float:
        g = graph()
        start = time.perf_counter()
        images = baseline.run(g)
        elapsed = (time.perf_counter() - start) * 1000
        assert images and images[0].startswith(b"\x89PNG"), images
        return elapsed

    def close() -> None:
        baseline.close()
        comfy.close()

    return {"direct: Comfy.submit().wait()": ours, "direct: requests + websocket": plain}, close


def measure(runs: int, warmup: int, report: Report) -> dict[str, list[float]]:
    with comfy_server(preview=False) as server, tempfile.TemporaryDirectory(prefix="bench-clicks-") as tmp, \
            app_process(server.url, Path(tmp) / "data") as app, \
            page_process([str(ROOT / "bench" / "clicks_floor.py"), "--port", "{port}"], "clicks_floor.py") as floor, \
            chromium() as browser:
        contexts = [browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(2)]
        try:
            pages = [open_app_page(contexts[0], app.url), open_floor_page(contexts[1], floor.url)]
            pages[0].measure()   # a first job, so that the direct clients can send the page's very graph
            wait_idle(server)
            direct, close = direct_clients(server)
            try:
                times = _interleaved(server, pages, direct, runs, warmup)
            finally:
                close()
        finally:
            for context in contexts:
                context.close()
        report.say(f"the page sent {len(server.received_prompts)} prompts; steps "
                   f"{server.received_prompts[-1]['prompt'].get('3', {}).get('inputs', {}).get('steps')}, "
                   f"previews off, step time 0")
    return times


def _interleaved(server, pages: list[ClickPage], direct: dict, runs: int, warmup: int) -> dict[str, list[float]]:
    runners = {p.name: p.measure for p in pages} | direct
    times: dict[str, list[float]] = {name: [] for name in runners}
    for i in range(warmup + runs):
        for name, one in runners.items():
            wait_idle(server)
            time.sleep(SETTLE_S)
            elapsed = one()
            if i >= warmup:
                times[name].append(elapsed)
    return times


def run(quick: bool = False) -> Report:
    report = Report("clicks")
    runs, warmup = (3, 1) if quick else (20, 3)
    report.say(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    times = measure(runs, warmup, report)
    for name, values in times.items():
        report.say(f"{name}: median {median(values):.1f} ms, p90 {percentile(values, 90):.1f} ms, "
                   f"min {min(values):.1f}, max {max(values):.1f} ({len(values)} runs after {warmup} warm-up)")
    page, floor = median(times["the page"]), median(times["minimal Gradio app"])
    direct = median(times["direct: Comfy.submit().wait()"])
    report.say(f"page - minimal app = {page - floor:+.1f} ms; page - direct client = {page - direct:+.1f} ms; "
               f"minimal app - direct client = {floor - direct:+.1f} ms (medians)")
    report.check("click to picture, page - minimal Gradio app (medians)", page - floor, "ms",
                 f"<= {TARGET_MS:.0f} ms", page - floor <= TARGET_MS)
    return report
