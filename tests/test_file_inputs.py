"""workflow.file_inputs (which inputs name a file, which names a user may send) and jobs.graph_rules
(the policy on top: workflows of one's own, the node allow-list, uploads carrying their owner's tag)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from comfy_ui_app.comfy.inputs import InputFile
from comfy_ui_app.errors import GraphRefused
from comfy_ui_app.jobs.graph_rules import GraphRules, may_run_custom, owner_tag
from comfy_ui_app.jobs.policy import Policy
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.workflow.file_inputs import (
    FileInput, file_inputs, file_verdict, hide_file_lists, is_file_spec, path_problem, tagged_name, upload_tag,
)

INFO = {
    "LoadImage": {"input": {"required": {"image": [["example.png", "upload-0123456789abcdef01234567.png"],
                                                   {"image_upload": True}]}}},
    "LoadVideo": {"input": {"required": {"file": ["COMBO", {"options": ["clip.mp4"], "video_upload": True}]}}},
    "PickPicture": {"input": {"required": {"picture": [["a.png", "b.jpg [output]"]]}}},
    "CheckpointLoaderSimple": {"input": {"required": {"ckpt_name": [["sd15/v1-5.safetensors"]]}}},
    "KSampler": {"input": {"required": {"seed": ["INT", {}], "sampler_name": [["euler", "dpmpp_2m"]]}}},
    "CLIPTextEncode": {"input": {"required": {"text": ["STRING", {"multiline": True}]}}},
}
ALICE = owner_tag("alice")


@pytest.mark.parametrize("spec, expected", [
    ([["example.png"], {"image_upload": True}], True),
    ([[], {"image_upload": True}], True),                              # no uploads yet: still a file input
    (["COMBO", {"options": [], "audio_upload": True}], True),
    ([["a.png", "b.webp"]], True),                                     # a combo of media files
    ([["a.png", "none"]], False),
    ([["sd15/v1-5.safetensors"]], False),                              # models are not input/output files
    ([["euler"]], False),
    (["STRING", {}], False),
    (None, False),
])
def test_which_specs_take_a_file_name(spec, expected):
    assert is_file_spec(spec) is expected


def test_file_inputs_are_literal_strings_of_file_name_inputs():
    prompt = {"1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}},
              "2": {"class_type": "LoadVideo", "inputs": {"file": "clip.mp4"}},
              "3": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "../m.safetensors"}},
              "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "../x.png", "clip": ["3", 1]}},
              "5": {"class_type": "PickPicture", "inputs": {"picture": ["9", 0]}},     # a link: not a name
              "6": {"class_type": "Unknown", "inputs": {"image": "y.png"}}}
    found = file_inputs(prompt, INFO)
    assert [(f.node_id, f.input_name, f.value) for f in found] == [("1", "image", "x.png"), ("2", "file", "clip.mp4")]
    assert found[0].choices == ("example.png", "upload-0123456789abcdef01234567.png")
    # no node table: the inputs named like file inputs
    assert [(f.node_id, f.value) for f in file_inputs(prompt, None)] == [("1", "x.png"), ("2", "clip.mp4"),
                                                                          ("6", "y.png")]


@pytest.mark.parametrize("value, expected", [
    ("photo.png", None),
    ("photo [1].png", None),
    ("../x.png", "path"),
    ("..", "path"),
    ("/etc/passwd", "path"),
    ("sub/x.png", "path"),
    ("..\\x.png", "path"),
    ("C:x.png", "path"),
    ("x.png\x00.txt", "path"),
    ("x.png [output]", "annotation"),
    ("x.png [input]", "annotation"),
    ("x.png[temp] ", "annotation"),
])
def test_path_problem(value, expected):
    assert path_problem(value) == expected


@pytest.mark.parametrize("name, expected", [
    ("upload-0123456789abcdef01234567.png", (True, None)),
    ("inpaint-0123456789abcdef-mask.png", (True, None)),
    (f"u-{ALICE}-upload-0123456789abcdef01234567.png", (True, ALICE)),
    ("example.png", (False, None)),
    ("upload-photo.png", (False, None)),
])
def test_upload_tag(name, expected):
    assert upload_tag(name) == expected


def test_tagged_name_adds_the_tag_once():
    name = tagged_name("upload-0123456789abcdef01234567.png", ALICE)
    assert name == f"u-{ALICE}-upload-0123456789abcdef01234567.png"
    assert tagged_name(name, "ffffffffffff") == name


LISTED = ("example.png", "upload-0123456789abcdef01234567.png", f"u-{owner_tag('bob')}-upload-0123456789abcdef.png")


@pytest.mark.parametrize("value, kwargs, expected", [
    ("example.png", {}, None),                                          # listed, not an upload of the app
    ("missing.png", {}, "unknown"),
    ("../x.png", {}, "path"),
    ("/etc/passwd", {}, "path"),
    ("x.png [output]", {}, "annotation"),
    ("upload-0123456789abcdef01234567.png", {}, "not_yours"),           # listed, but an upload (untagged)
    (LISTED[2], {"own_tag": ALICE}, "not_yours"),                       # bob's upload, listed to everyone
    (LISTED[2], {"own_tag": owner_tag("bob")}, None),                   # bob's own, in a re-run
    ("sub/u.png", {"own_refs": {"sub/u.png"}}, None),                   # uploaded for this very job
    ("../x.png", {"trusted": True}, "path"),                            # the command line: paths still refused
    ("missing.png", {"trusted": True}, None),                           # ... and nothing more
    (LISTED[1], {"trusted": True}, None),
])
def test_file_verdict(value, kwargs, expected):
    item = FileInput("10", "LoadImage", "image", value, LISTED)
    assert file_verdict(item, **kwargs) == expected


def test_hide_file_lists_empties_file_choices_without_touching_the_shared_table():
    hidden = hide_file_lists(INFO)
    assert hidden["LoadImage"]["input"]["required"]["image"] == [[], {"image_upload": True}]
    assert hidden["LoadVideo"]["input"]["required"]["file"] == ["COMBO", {"options": [], "video_upload": True}]
    assert hidden["PickPicture"]["input"]["required"]["picture"] == [[]]
    assert hidden["KSampler"] is INFO["KSampler"]
    assert INFO["LoadImage"]["input"]["required"]["image"][0] == ["example.png", "upload-0123456789abcdef01234567.png"]


# -- jobs.graph_rules ------------------------------------------------------------------------------

@pytest.mark.parametrize("setting, admin, expected", [
    ("everyone", False, None), ("admins", False, "custom_admins"), ("admins", True, None),
    ("off", False, "custom_off"), ("off", True, "custom_off"),
])
def test_who_may_run_a_workflow_of_their_own(setting, admin, expected):
    assert may_run_custom(Policy(custom_workflows=setting), admin) == expected


def _load(value, node="10"):
    return {node: {"class_type": "LoadImage", "inputs": {"image": value}},
            "11": {"class_type": "KSampler", "inputs": {"seed": 1, "sampler_name": "euler"}}}


RULES = GraphRules(lambda: INFO)
FIELD = SimpleNamespace(node_id="10", input_name="image", name="image")


@pytest.mark.parametrize("policy, prompt, kw, rule, message", [
    (Policy(custom_workflows="admins"), _load("example.png"), {"kind": "custom"}, "custom_admins",
     "Only an admin may run a workflow of their own on this app."),
    (Policy(custom_workflows="off"), _load("example.png"), {"kind": "custom", "admin": True}, "custom_off",
     "Running a workflow of your own is turned off on this app."),
    (Policy(allowed_nodes=frozenset({"LoadImage"})), _load("example.png"), {"kind": "custom"}, "node_not_allowed",
     "Node 11 (KSampler) is a node type this app does not allow."),
    (Policy(), _load("../x.png"), {"kind": "custom"}, "file_path",
     "Node 10 (LoadImage), input image: “../x.png” is not allowed: a file name may not contain folders (/, \\, ..)."),
    (Policy(), _load("/etc/passwd"), {"kind": "inpaint", "fields": [FIELD]}, "file_path",
     "image: “/etc/passwd” is not allowed: a file name may not contain folders (/, \\, ..)."),
    (Policy(), _load("x.png [output]"), {"kind": "txt2img"}, "file_annotation",
     "Node 10 (LoadImage), input image: “x.png [output]” names a file in another ComfyUI folder; only a plain "
     "file name is allowed."),
    (Policy(), _load("upload-0123456789abcdef01234567.png"), {"kind": "custom"}, "file_not_yours",
     "Node 10 (LoadImage), input image: “upload-0123456789abcdef01234567.png” is not a file you uploaded. "
     "Upload it yourself."),
    (Policy(), _load("nope.png"), {"kind": "external"}, "file_unknown",
     "Node 10 (LoadImage), input image: “nope.png” is not a file on the ComfyUI server. Upload it first."),
])
def test_refused_graphs_and_their_messages(policy, prompt, kw, rule, message):
    kw = {"owner": "alice", "admin": False, **kw}
    with pytest.raises(GraphRefused) as caught:
        RULES.check(policy, prompt, **kw)
    assert caught.value.rule == rule
    assert describe(caught.value) == message
    assert caught.value.field == ("image" if kw.get("fields") else None)


@pytest.mark.parametrize("policy, prompt, kw", [
    (Policy(), _load("example.png"), {"kind": "custom"}),
    (Policy(custom_workflows="admins"), _load("example.png"), {"kind": "txt2img"}),      # the app's own template
    (Policy(custom_workflows="admins"), _load("/etc/passwd"), {"kind": "custom", "admin": True}),  # admins: exempt
    (Policy(allowed_nodes=frozenset({"LoadImage"})), _load("example.png"), {"kind": "custom", "admin": True}),
    (Policy(allowed_nodes=frozenset({"LoadImage", "KSampler"})), _load("example.png"), {"kind": "custom"}),
    (Policy(custom_workflows="off"), _load("missing.png"), {"kind": "txt2img", "client": "cli"}),  # CLI: names ok
    (Policy(), _load(f"u-{ALICE}-upload-0123456789abcdef01234567.png"), {"kind": "custom"}),       # alice's own
    (Policy(), _load("mine.png"), {"kind": "inpaint", "inputs": [InputFile(b"x", "mine.png")]}),    # this job's
])
def test_allowed_graphs(policy, prompt, kw):
    RULES.check(policy, prompt, **{"owner": "alice", "admin": False, **kw})


def test_the_command_line_still_refuses_paths():
    with pytest.raises(GraphRefused):
        RULES.check(Policy(), _load("../../x.png"), owner="cli:me", admin=False, kind="txt2img", client="cli")


def test_tag_inputs_renames_uploads_with_the_prompt_and_values():
    item = InputFile(b"png", "upload-0123456789abcdef01234567.png")
    prompt, values, inputs = GraphRules.tag_inputs("alice", _load(item.ref), {"image": item.ref, "steps": 3}, [item])
    tagged = f"u-{ALICE}-upload-0123456789abcdef01234567.png"
    assert [i.name for i in inputs] == [tagged] and inputs[0].data == b"png"
    assert prompt["10"]["inputs"]["image"] == tagged and prompt["11"]["inputs"]["seed"] == 1
    assert values == {"image": tagged, "steps": 3}
    RULES.check(Policy(), prompt, owner="alice", admin=False, kind="custom", inputs=inputs)
    with pytest.raises(GraphRefused):   # bob names alice's upload: refused
        RULES.check(Policy(), prompt, owner="bob", admin=False, kind="custom")
