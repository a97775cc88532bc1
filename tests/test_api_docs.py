"""The Gradio API as a stranger reads it: named, documented parameters and returns on every public
endpoint (``ui._api``), the page's hidden events left out, the README's gradio_client example run as
it is written, keyword calls filled with the page's values, and raw positional calls as before."""
from __future__ import annotations

import asyncio
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import gradio as gr
import requests
from gradio_client import Client
from PIL import Image

from comfy_ui_app.ui._api import api_handler, identifier
from _identity import browser_id

README = Path(__file__).resolve().parents[1] / "README.md"
NUMBERED = re.compile(r"^(param|parameter|value)_\d+$")


def api_of(client: Client) -> dict:
    return client.view_api(print_info=False, return_format="dict")["named_endpoints"]


def readme_example() -> str:
    """The first Python block of README's "Calling it from Python" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Calling it from Python (gradio_client)", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_every_public_endpoint_has_named_documented_parameters_and_returns(comfy_server, launch_app):
    app = launch_app(comfy_server.url)
    api = api_of(Client(app.url, verbose=False))
    public = {f"/{f.api_name}" for f in app.demo.fns.values() if f.api_visibility == "public" and f.api_name}
    hidden = {f"/{f.api_name}" for f in app.demo.fns.values() if f.api_visibility == "private" and f.api_name}
    assert set(api) == public and len(public) > 20
    assert not hidden & set(api), "a hidden per-page event is listed"
    assert {"/history_tab_opened", "/queue_tab_opened"} <= hidden   # named, yet hidden
    for path, endpoint in api.items():
        names = [p["parameter_name"] for p in endpoint["parameters"]]
        assert len(set(names)) == len(names), (path, names)
        assert endpoint["description"].strip(), path
        for p in endpoint["parameters"]:
            name = p["parameter_name"]
            assert name.isidentifier() and not NUMBERED.match(name), (path, name)
            assert len(p["python_type"]["description"]) > 8, (path, name)
        for r in endpoint["returns"]:
            assert r["label"].isidentifier() and not NUMBERED.match(r["label"]), (path, r["label"])
            assert len(r["python_type"]["description"]) > 8, (path, r["label"])
    generate = api["/generate"]
    names = [p["parameter_name"] for p in generate["parameters"]]
    assert names[:5] == ["random_seed", "batch_count", "prompt", "negative", "checkpoint"]
    assert {"seed", "steps", "cfg", "sampler", "scheduler", "width", "height", "batch_size", "browser_id"} <= set(names)
    assert all(p["parameter_has_default"] for p in generate["parameters"])   # keyword calls: the page's values
    assert "same picture" in generate["parameters"][names.index("seed")]["python_type"]["description"]
    labels = [r["label"] for r in generate["returns"]]
    assert labels[:5] == ["progress", "preview", "images", "message", "seed"] and "steps_error" in labels
    inpaint = [p["parameter_name"] for p in api["/inpaint"]["parameters"]]
    assert inpaint[:4] == ["image", "invert_mask", "mask_grow", "mask_blur"] and "grow_mask" in inpaint
    assert [r["label"] for r in api["/queue_refresh"]["returns"]] == ["message", "summary", "jobs", "job"]
    info = requests.get(f"{app.url.rstrip('/')}/gradio_api/info", timeout=10).json()   # what "Use via API" shows
    assert info["named_endpoints"]["/generate"]["description"].startswith("Text to image")


def test_readme_example_makes_a_picture(comfy_server, launch_app, tmp_path):
    app = launch_app(comfy_server.url)
    code = readme_example()
    assert len(code.strip().splitlines()) == 5 and 'Client("http://127.0.0.1:7860/")' in code
    script = tmp_path / "example.py"
    script.write_text(code.replace("http://127.0.0.1:7860/", app.url.rstrip("/") + "/"), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    picture = Path(done.stdout.strip().splitlines()[-1])
    with Image.open(picture) as image:
        assert image.format == "PNG" and image.size == (512, 512)   # the page's default size
    sent = comfy_server.received_prompts[-1]["prompt"]
    assert sent["6"]["inputs"]["text"] == "a lighthouse at dusk" and sent["3"]["inputs"]["steps"] == 20


def test_keyword_calls_and_raw_positional_calls(comfy_server, launch_app):
    app = launch_app(comfy_server.url)
    client = Client(app.url, verbose=False)
    me = browser_id("kim")
    out = client.predict(prompt="a red fox", steps=4, width=64, height=64, random_seed=False, seed=7,
                         browser_id=me, api_name="/generate")
    assert out[4] == 7 and out[2] and not out[3].startswith("Stopped")
    listing = client.predict(browser_id=me, api_name="/history_load")   # the other endpoints too
    assert len(listing[2]) == 1   # the grid's tiles: kim's job
    assert client.predict(api_name="/history_load")[2] == []   # no id: not kim's
    names = [p["parameter_name"] for p in api_of(client)["/generate"]["parameters"]]
    values = {"random_seed": False, "batch_count": 1, "prompt": "raw fox", "negative": "", "seed": 11,
              "width": 64, "height": 64, "steps": 2, "cfg": 7, "batch_size": 1, "browser_id": None}
    defaults = {p["parameter_name"]: p["parameter_default"] for p in api_of(client)["/generate"]["parameters"]}
    data = [values.get(n, defaults[n]) for n in names]   # positional, one per parameter, as before
    answer = requests.post(f"{app.url.rstrip('/')}/gradio_api/call/generate", json={"data": data}, timeout=30)
    assert answer.status_code == 200, answer.text
    event = answer.json()["event_id"]
    with requests.get(f"{app.url.rstrip('/')}/gradio_api/call/generate/{event}", stream=True, timeout=60) as stream:
        lines = [line for line in stream.iter_lines(decode_unicode=True) if line]
    final = next(json.loads(lines[i + 1][len("data: "):]) for i, line in enumerate(lines)
                 if line == "event: complete")
    assert final[4] == 11 and final[2][0]["image"]["path"].endswith(".png")


def test_names_are_unique_identifiers_and_handlers_keep_their_kind():
    assert identifier("Batch count") == "batch_count" and identifier("3D model") == "field_3d_model"
    assert identifier("class") == "class_" and identifier("api_name") == "api_name_" and identifier("") == "value"
    assert identifier("seed", {"seed", "seed_2"}) == "seed_3" and identifier("KSampler.seed") == "ksampler_seed"

    async def stream(request: gr.Request, lang, *values):
        yield (request, lang, values)

    def plain(*values):
        return values

    with gr.Blocks():
        state, box, other = gr.State("en"), gr.Textbox(label="Prompt"), gr.Textbox(label="Prompt")
        shown = api_handler(stream, [state, box, other], [box], names={state: "lang"})
        flat = api_handler(plain, [box], [other])
    assert inspect.isasyncgenfunction(shown) and not inspect.isgeneratorfunction(flat)
    assert list(inspect.signature(shown).parameters) == ["request", "lang", "prompt", "prompt_2"]
    assert all(p.default is None for n, p in inspect.signature(shown).parameters.items() if n != "request")
    assert shown.__annotations__ == {"request": gr.Request} and "prompt_2: Prompt." in shown.__doc__

    async def first():
        return [item async for item in shown("req", "en", "a", "b")]
    assert asyncio.run(first()) == [("req", "en", ("a", "b"))] and flat(1, 2) == (1, 2)
    assert flat.__api_returns__ == (("prompt", "The page's \u201cPrompt\u201d."),)
