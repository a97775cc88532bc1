"""Every UI-format workflow of ComfyUI's official template library converts (issue 14 point 1).

The library is the PyPI package ``comfyui-workflow-templates`` 0.1.95 (the version that matches the
ComfyUI of the recorded ``/object_info``), a test-only dependency (requirements-dev.txt; it is GPL:
no template is copied into this repository). Each of its editor saves is converted against the
recorded node table and the result checked as ComfyUI's validator would check it
(:func:`comfy_ui_app.workflow.check.check_prompt`: every required input present, every link to an
existing output of a real node of a matching type, values in their lists and ranges). A file name the
recorded server lacks (a model, an example picture: a combo of files) is fine: the user's server has
its own. The only refusal allowed is a node the server lacks, and it must be named.

The run's figure, "N of M converted", is printed at the end of the test session (``conftest.py``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from _template_corpus import TALLY
from comfy_ui_app.workflow.check import check_prompt
from comfy_ui_app.workflow.convert import ConversionError, is_ui_workflow, ui_to_api
from comfy_ui_app.workflow.fields import discover

templates_package = pytest.importorskip("comfyui_workflow_templates")

OBJECT_INFO = json.loads((Path(__file__).parent / "fixtures" / "comfyui" / "object_info.json").read_text())
TEMPLATES = Path(templates_package.__file__).parent / "templates"
MISSING_NODE = re.compile(r"^Node \S+ '([^']+)' is not installed on this ComfyUI server")
FILE_NAME = re.compile(r"\.[A-Za-z0-9]{2,12}$")  # "model.safetensors", "input.png", "clip.gguf"


def _ui_workflows() -> list[str]:
    names = []
    for path in sorted(TEMPLATES.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if is_ui_workflow(data):
            names.append(path.name)
    return names


UI_WORKFLOWS = _ui_workflows()


def _file_choice(problem) -> bool:
    """A combo value that names a file the recorded server lacks (a model, an example picture)."""
    choices = problem.limit or ()
    named_file = isinstance(problem.value, str) and bool(FILE_NAME.search(problem.value.strip()))
    return problem.kind == "value_not_in_list" and (
        named_file or all(isinstance(c, str) and FILE_NAME.search(c) for c in choices))


def test_the_library_is_there():
    assert len(UI_WORKFLOWS) >= 150, f"only {len(UI_WORKFLOWS)} UI-format workflows in {TEMPLATES}"


@pytest.mark.parametrize("name", UI_WORKFLOWS)
def test_template_converts_to_a_prompt_the_server_accepts(name):
    workflow = json.loads((TEMPLATES / name).read_text(encoding="utf-8"))
    TALLY.total += 1
    try:
        prompt = ui_to_api(workflow, OBJECT_INFO)
    except ConversionError as e:
        missing = MISSING_NODE.match(str(e))
        assert missing, f"{name} refused: {e}"
        assert missing.group(1) not in OBJECT_INFO
        TALLY.refused.append(f"{name}: {missing.group(1)} is not on the server")
        return
    problems = [p for p in check_prompt(prompt, OBJECT_INFO) if not _file_choice(p)]
    assert problems == [], f"{name}: the server would refuse {problems[:3]}"
    TALLY.converted += 1


def test_the_default_workflow_gets_the_form_of_text_to_image():
    """ComfyUI's default "Image Generation" workflow, converted, shows the same fields as the app's own
    workflows/txt2img.json: same names, kinds, nodes, inputs, labels and limits (its values are its own)."""
    def shape(fields):
        return [dataclasses.replace(field, default=None) for field in fields]

    default = json.loads((TEMPLATES / "default.json").read_text(encoding="utf-8"))
    txt2img = json.loads((Path(__file__).parent.parent / "workflows" / "txt2img.json").read_text())
    converted = discover(ui_to_api(default, OBJECT_INFO), OBJECT_INFO)
    assert [f.name for f in converted][:4] == ["prompt", "negative", "seed", "steps"]
    assert shape(converted) == shape(discover(txt2img, OBJECT_INFO))
