"""The Custom workflow tab with an App-mode workflow (issue 14 point 4), driven raw through
Gradio's HTTP API as its page drives it (``tests/_hostile.py``): upload, the form's render,
Generate. The form is exactly the author's inputs, in order, with the author's labels; the
result area shows only the chosen output node's pictures while the job keeps them all; a
workflow without ``linearData`` keeps the discovered form.
"""
from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

from _hostile import queue_join

APP_WORKFLOW = json.loads((Path(__file__).parent / "fixtures" / "app_mode" / "txt2img_app.json").read_text())
for _node in APP_WORKFLOW["nodes"]:  # the test server's one checkpoint: the author left it out of the form
    if _node["type"] == "CheckpointLoaderSimple":
        _node["widgets_values"] = ["tiny-sd15-random.safetensors"]
NOT_INPUTS = ("state", "browserstate")


def open_form(app, workflow: dict) -> tuple[str, dict, dict, list[dict]]:
    """Upload ``workflow`` and render its form in a new session: ``(session, components by id,
    Generate's dependency, the form's fields as components)``."""
    session = uuid.uuid4().hex[:12]
    deps = app.config["dependencies"]
    load = next(d for d in deps if d.get("api_name") == "load")
    loaded = load["outputs"][0]
    render = next(d for d in deps if [loaded, "change"] in [list(t) for t in d.get("targets", [])])
    upload = app.http.post(f"{app.url}/gradio_api/upload", timeout=60,
                           files={"files": ("app.json", json.dumps(workflow).encode())})
    upload.raise_for_status()
    file = {"path": upload.json()[0], "orig_name": "app.json", "meta": {"_type": "gradio.FileData"}}
    done = queue_join(app, load["id"], [file, "en"], session, trigger_id=load["targets"][0][0])
    assert done.get("success"), done
    rendered = queue_join(app, render["id"], [None, "en"], session, trigger_id=loaded)
    config = (rendered.get("output") or {}).get("render_config") or {}
    components = {c["id"]: c for c in app.config["components"]}
    components.update({c["id"]: c for c in config.get("components", [])})
    generate = next(d for d in config.get("dependencies", []) for t in d["targets"]
                    if (components.get(t[0], {}).get("props") or {}).get("elem_id") == "custom-generate")
    rendered_ids = {c["id"] for c in config.get("components", [])}
    form = [components[i] for i in generate["inputs"] if i in rendered_ids
            and components[i].get("type") not in NOT_INPUTS
            and (components[i].get("props") or {}).get("label") != "Batch count"]
    return session, components, generate, form


def generate_in(app, session: str, components: dict, generate: dict) -> dict:
    """Press the rendered Generate with the form's own values; the last update's outputs by label."""
    lang = generate["inputs"][0]
    data = ["en" if i == lang else "" if components.get(i, {}).get("type") == "browserstate"
            else (components.get(i, {}).get("props") or {}).get("value") for i in generate["inputs"]]
    ran = queue_join(app, generate["id"], data, session, trigger_id=generate["targets"][0][0])
    assert ran.get("success"), ran
    labels = [str((components.get(i, {}).get("props") or {}).get("label") or i) for i in generate["outputs"]]
    return dict(zip(labels, ran["output"]["data"]))


def gallery_names(update) -> list[str]:
    return sorted(Path((item.get("image") or {}).get("path") or "").name for item in update or [])


def test_an_app_mode_workflow_gets_the_authors_form_and_only_the_chosen_outputs(private_app, hostile_comfy):
    session, components, generate, form = open_form(private_app, APP_WORKFLOW)
    assert [(c["props"].get("label"), c["type"]) for c in form] == [
        ("Describe your picture", "textbox"), ("Lucky number", "number"), ("Picture width", "slider"),
        ("Steps", "slider")]
    before = len(hostile_comfy.received_prompts)
    outputs = generate_in(private_app, session, components, generate)
    assert outputs["Message"].startswith("Done"), outputs["Message"]
    sent = hostile_comfy.received_prompts[before:]
    assert len(sent) == 1 and {"9", "10"} <= set(sent[0]["prompt"]), "the whole workflow runs, as in the editor"
    shown = gallery_names(outputs["Images"])
    assert shown and all("temp" not in name for name in shown), shown  # SaveImage's (9), not PreviewImage's (10)

    without = copy.deepcopy(APP_WORKFLOW)
    del without["extra"]["linearData"]
    session, components, generate, form = open_form(private_app, without)
    labels = [c["props"].get("label") for c in form]
    assert labels[:2] == ["Prompt", "Negative prompt"] and "Lucky number" not in labels  # discovery's form
    everything = gallery_names(generate_in(private_app, session, components, generate)["Images"])
    assert len(everything) > len(shown) and any("temp" in name for name in everything), everything
