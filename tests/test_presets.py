"""Presets: the store (comfy_ui_app.jobs.presets), what fits a control (ui._preset_form) and the
panel's handlers on the real page (ui._presets), called as Gradio calls them."""
from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from comfy_ui_app.errors import PresetRefused
from comfy_ui_app.jobs.presets import MAX_NAME, MAX_PER_OWNER, MAX_TAB, PresetStore
from comfy_ui_app.jobs.store import JobStore
from comfy_ui_app.ui._preset_form import Slot, fit, restore, snapshot
from comfy_ui_app.ui._custom_form import preset_key
from comfy_ui_app.ui._presets import Control, PresetPanel

REPO = Path(__file__).resolve().parents[1]
CKPT = "tiny-sd15-random.safetensors"


@pytest.fixture
def presets(tmp_path):
    store = JobStore(tmp_path / "data")
    yield PresetStore(store)
    store.close()


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(PresetRefused) as caught:
        call(*args, **kwargs)
    return caught.value.reason


# ---- the store ----------------------------------------------------------------------------------

def test_each_user_sees_and_deletes_only_their_own(presets):
    mine = presets.save("alice", "txt2img", "  Portraits\n  v2 ", {"steps": 30, "styles": ["Anime"]})
    assert mine.name == "Portraits v2" and mine.values == {"steps": 30, "styles": ["Anime"]}
    presets.save("bob", "txt2img", "Portraits v2", {"steps": 5})
    presets.save("alice", "inpaint", "Portraits v2", {"steps": 7})
    assert [p.values["steps"] for p in presets.visible("alice", "txt2img")] == [30]
    assert [p.values["steps"] for p in presets.visible("bob", "txt2img")] == [5]
    assert presets.get(mine.preset_id, "bob", "txt2img") is None            # someone else's id
    assert presets.get(mine.preset_id, "alice", "inpaint") is None          # another tab's
    assert presets.get(str(mine.preset_id), "alice", "txt2img") == mine     # the dropdown sends text
    for forged in (None, "", "1 OR 1=1", -1, 2**70, 1.5, True, [1], "9" * 40):
        assert presets.get(forged, "alice", "txt2img") is None
    assert refused(presets.delete, mine.preset_id, "bob", "txt2img") == "not_found"
    again = presets.save("alice", "txt2img", "Portraits v2", {"steps": 31})  # the same name: replaced
    assert again.preset_id == mine.preset_id and again.values == {"steps": 31}
    assert presets.delete(mine.preset_id, "alice", "txt2img").name == "Portraits v2"
    assert presets.visible("alice", "txt2img") == [] and len(presets.visible("bob", "txt2img")) == 1


def test_shared_presets_are_listed_for_everyone_and_only_admins_change_them(presets):
    assert refused(presets.save, "bob", "txt2img", "House look", {"cfg": 5}, shared=True) == "admins_only"
    shared = presets.save("admin", "txt2img", "House look", {"cfg": 6}, shared=True, admin=True)
    presets.save("bob", "txt2img", "House look", {"cfg": 4})
    listed = presets.visible("bob", "txt2img")
    assert [(p.name, p.shared) for p in listed] == [("House look", False), ("House look", True)]  # own first
    assert presets.get(shared.preset_id, "carol", "txt2img").values == {"cfg": 6}
    assert refused(presets.delete, shared.preset_id, "bob", "txt2img") == "admins_only"
    assert refused(presets.unshare, shared.preset_id, "bob", "txt2img") == "admins_only"
    assert presets.unshare(shared.preset_id, "other-admin", "txt2img", admin=True).shared is False
    assert presets.get(shared.preset_id, "carol", "txt2img") is None       # the admin's own now
    assert presets.get(shared.preset_id, "admin", "txt2img").values == {"cfg": 6}


@pytest.mark.parametrize("name, values, reason", [
    ("", {}, "name_empty"), ("  \n\t ", {}, "name_empty"), (None, {}, "name_empty"), (5, {}, "name_empty"),
    ("x" * (MAX_NAME + 1), {}, "name_too_long"), ("x" * 5_000_000, {}, "name_too_long"),
    ("ok", {"cfg": math.nan}, "not_finite"), ("ok", {"cfg": math.inf}, "not_finite"),
    ("ok", {"prompt": "x" * 5_000_000}, "too_large"), ("ok", {"a": {"b": 1}}, "bad_value"),
    ("ok", {"a": [[1]]}, "bad_value"), ("ok", {"a": [math.nan]}, "not_finite"), ("ok", [1, 2], "bad_value"),
    ("ok", "values", "bad_value"), ("ok", {"": 1}, "bad_value"), ("ok", {f"k{i}": "y" * 19_000 for i in range(4)},
                                                                     "too_large"),
])
def test_what_is_not_kept(presets, name, values, reason):
    assert refused(presets.save, "alice", "txt2img", name, values) == reason
    assert presets.visible("alice", "txt2img") == []


def test_a_user_keeps_a_bounded_number(presets):
    for i in range(MAX_PER_OWNER):
        presets.save("alice", "txt2img" if i % 2 else "inpaint", f"p{i}", {"i": i})
    assert refused(presets.save, "alice", "txt2img", "one more", {}) == "too_many"
    presets.save("alice", "txt2img", "p1", {"i": "replaced"})  # replacing one is still fine
    presets.save("bob", "txt2img", "p1", {})                  # others are not counted against alice


def test_an_older_data_folder_opens_keeps_its_jobs_and_gains_presets(tmp_path):
    data = tmp_path / "old"
    data.mkdir()
    db = sqlite3.connect(data / "jobs.sqlite3")  # the schema before error codes and presets existed
    db.executescript(
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, job_id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL,"
        " template TEXT NOT NULL, kind TEXT NOT NULL, client TEXT NOT NULL, values_json TEXT NOT NULL,"
        " prompt_json TEXT NOT NULL, server TEXT NOT NULL, prompt_id TEXT NOT NULL, status TEXT NOT NULL,"
        " error TEXT, created_at REAL NOT NULL, started_at REAL, finished_at REAL, timeline_json TEXT NOT NULL);"
        "CREATE TABLE outputs (id INTEGER PRIMARY KEY, job_id TEXT NOT NULL, path TEXT NOT NULL,"
        " filename TEXT NOT NULL, node TEXT NOT NULL, kind TEXT NOT NULL);")
    db.execute("INSERT INTO jobs (job_id, owner, template, kind, client, values_json, prompt_json, server,"
               " prompt_id, status, error, created_at, timeline_json) VALUES"
               " ('old1', 'alice', 'txt2img.json', 'txt2img', 'web', '{\"prompt\": \"a fox\"}', '{}', 'http://x',"
               " 'p1', 'success', NULL, 1.0, '[]')")
    db.commit()
    db.close()
    store = JobStore(data)
    try:
        presets = PresetStore(store)
        assert store.get("old1").values == {"prompt": "a fox"}
        presets.save("alice", "txt2img", "kept", {"steps": 3})
    finally:
        store.close()
    store = JobStore(data)  # and once more: the table is there, nothing is lost
    try:
        assert [p.name for p in PresetStore(store).visible("alice", "txt2img")] == ["kept"]
        assert store.count(owner="alice") == 1
    finally:
        store.close()


# ---- what fits a control ------------------------------------------------------------------------

@pytest.mark.parametrize("slot, value, want", [
    (Slot("steps", "int", "Steps", low=1, high=150), 20, 20),
    (Slot("steps", "int", "Steps", low=1, high=150), 20.0, 20),
    (Slot("steps", "int", "Steps", low=1, high=150), 151, "out_of_range"),
    (Slot("steps", "int", "Steps", low=1, high=150), 2.5, "bad_value"),
    (Slot("steps", "int", "Steps", low=1, high=150), "20", "bad_value"),
    (Slot("steps", "int", "Steps", low=1, high=150), True, "bad_value"),
    (Slot("cfg", "float", "CFG", low=0, high=30), math.nan, "not_finite"),
    (Slot("cfg", "float", "CFG", low=0, high=30), 7.5, 7.5),
    (Slot("seed", "int", "Seed", low=-1, high=None), 2**40, 2**40),
    (Slot("random_seed", "bool"), False, False),
    (Slot("random_seed", "bool"), "yes", "bad_value"),
    (Slot("checkpoint", "choice", "Checkpoint", ("a.safetensors",)), "a.safetensors", "a.safetensors"),
    (Slot("checkpoint", "choice", "Checkpoint", ("a.safetensors",)), "gone.safetensors", "not_on_server"),
    (Slot("checkpoint", "choice", "Checkpoint", None), "gone.safetensors", "gone.safetensors"),  # server down
    (Slot("styles", "multi", "Styles", ("Anime", "Cinematic")), ["Cinematic", "Anime"], ["Cinematic", "Anime"]),
    (Slot("styles", "multi", "Styles", ("Anime",)), ["Gone"], "not_on_server"),
    (Slot("styles", "multi", "Styles", ("Anime",)), "Anime", "bad_value"),
    (Slot("prompt", "text", "Prompt"), "a fox", "a fox"),
    (Slot("prompt", "text", "Prompt"), None, ""),
    (Slot("prompt", "text", "Prompt"), 5, "bad_value"),
])
def test_fit(slot, value, want):
    if isinstance(want, str) and want in ("out_of_range", "bad_value", "not_finite", "not_on_server"):
        with pytest.raises(PresetRefused) as caught:
            fit(slot, value)
        assert caught.value.reason == want and caught.value.field == slot.key
    else:
        assert fit(slot, value) == want and type(fit(slot, value)) is type(want)


def test_restore_sets_what_fits_and_names_the_rest():
    slots = [Slot("steps", "int", low=1, high=10), Slot("checkpoint", "choice", choices=("a",)), Slot("prompt", "text")]
    assert snapshot(slots, [3, "a", "fox"]) == {"steps": 3, "checkpoint": "a", "prompt": "fox"}
    values, problems = restore(slots, {"steps": 99, "checkpoint": "a", "unknown": 1})
    assert values == {"checkpoint": "a"} and set(problems) == {"steps"}   # prompt: not in the preset, left


# ---- "Custom workflow": presets per workflow ----------------------------------------------------

KSAMPLER = {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20}}


@pytest.mark.parametrize("a, b, same", [
    ({"3": KSAMPLER}, {"3": {**KSAMPLER, "inputs": {"seed": 2, "steps": 9}}}, True),   # other values: same graph
    ({"3": KSAMPLER, "4": {"class_type": "CheckpointLoaderSimple"}},
     {"4": {"class_type": "CheckpointLoaderSimple"}, "3": KSAMPLER}, True),           # key order does not matter
    ({"3": KSAMPLER}, {"3": {**KSAMPLER, "class_type": "KSamplerAdvanced"}}, False),  # another node
    ({"3": KSAMPLER}, {"9": KSAMPLER}, False),                                         # another id
    ({"3": KSAMPLER}, {"3": "not a node"}, False),
])
def test_a_workflows_preset_key_follows_its_graph(a, b, same):
    assert (preset_key(a) == preset_key(b)) is same
    assert preset_key(a).startswith("custom:") and len(preset_key(a)) <= MAX_TAB


def test_a_panel_keeps_its_presets_under_its_key(tmp_path):
    store = JobStore(tmp_path / "data")
    try:
        ctx = SimpleNamespace(jobs=SimpleNamespace(store=store, is_admin=lambda user: False), browser_id=None,
                              catalog=SimpleNamespace(object_info_or_none=lambda: None))
        steps = Control("steps", gr.Number(5), None, lambda info: Slot("steps", "int", "Steps", None, 1, 99))
        panel = PresetPanel(ctx, "custom", [steps], key=preset_key({"3": KSAMPLER}))
        picker, message = panel.save(None, "en", "Mine", False, 7, "alice")
        assert message == "Preset “Mine” saved."
        other = PresetPanel(ctx, "custom", [steps], key=preset_key({"9": KSAMPLER}))
        assert other.choices("browser:alice", "en") == [] and panel.choices("browser:alice", "en")
        assert [p.tab for p in PresetStore(store).visible("browser:alice", preset_key({"3": KSAMPLER}))] == [
            preset_key({"3": KSAMPLER})]
        *updates, message = panel.apply(None, "en", picker["value"], "alice")
        assert message == "Preset “Mine” applied." and changed(updates[0]) == 7
    finally:
        store.close()


# ---- the panel on the real page -----------------------------------------------------------------

@pytest.fixture
def page(comfy_server, tmp_path):
    """The txt2img tab's PresetPanel on the real page over the test server; 'root' is an admin."""
    from comfy_ui_app.ui import build_app

    from _app import job_service

    store = JobStore(tmp_path / "data")
    jobs = job_service(comfy_server.url, store, admins=["browser:root"])
    demo = build_app(jobs.cluster, jobs, workflows_dir=REPO / "workflows", output_dir=tmp_path / "out")
    panels = {f.fn.__self__.tab: f.fn.__self__ for f in demo.fns.values()
              if isinstance(getattr(f.fn, "__self__", None), PresetPanel)}
    try:
        yield panels
    finally:
        jobs.cluster.close()
        store.close()


def current(panel) -> list:
    return [c.component.value for c in panel.controls]


def changed(update) -> object:
    return update.get("value") if isinstance(update, dict) and "value" in update else update


def test_the_panel_saves_every_setting_and_applies_it_back(page):
    panel = page["txt2img"]
    keys = [c.key for c in panel.controls]
    for key in ("prompt", "negative", "checkpoint", "seed", "steps", "cfg", "width", "random_seed", "batch_count",
                "size_preset", "styles", "filename_prefix"):
        assert key in keys, key
    assert "lora" in keys or "lora_strength" not in keys
    values = dict(zip(keys, current(panel)))
    values.update(prompt="a red fox", steps=33, checkpoint=CKPT, styles=["Anime", "Watercolor"], batch_count=3,
                  random_seed=False, seed=1234)
    picker, message = panel.save(None, "en", "Foxes", False, *values.values(), "alice")
    assert message == "Preset “Foxes” saved." and picker["choices"] == [("Foxes", picker["value"])]
    assert panel.listing(None, "en", "bob")[0]["choices"] == []          # bob sees none of alice's
    *updates, message = panel.apply(None, "en", picker["value"], "alice")
    assert message == "Preset “Foxes” applied."
    applied = dict(zip(keys, (changed(u) for u in updates[:len(keys)])))
    assert {k: applied[k] for k in ("prompt", "steps", "checkpoint", "styles", "batch_count", "random_seed",
                                    "seed")} == {k: values[k] for k in ("prompt", "steps", "checkpoint", "styles",
                                                                         "batch_count", "random_seed", "seed")}
    *_, message = panel.apply(None, "zh-CN", picker["value"], "bob")       # bob with alice's id
    assert message == "该预设已不存在，或不属于你。"
    assert panel.delete(None, "en", picker["value"], "bob")[1] == "That preset is gone, or it is not yours."
    assert panel.listing(None, "en", "alice")[0]["choices"] == [("Foxes", picker["value"])]


def test_a_value_that_no_longer_fits_is_said_next_to_its_field(page):
    panel = page["txt2img"]
    keys = [c.key for c in panel.controls]
    saved = panel.store.save("browser:alice", "txt2img", "Old", {"checkpoint": "gone.safetensors", "steps": 999,
                                                                  "prompt": "kept", "styles": ["Anime"]})
    *updates, message = panel.apply(None, "en", str(saved.preset_id), "alice")
    assert "except what no longer fits" in message
    by_key = dict(zip(keys, updates))
    assert by_key["checkpoint"] == gr.skip() and by_key["steps"] == gr.skip()
    assert changed(by_key["prompt"]) == "kept" and changed(by_key["styles"]) == ["Anime"]
    slots = [c for c in panel.controls if c.error is not None]
    errors = dict(zip([c.key for c in slots], updates[len(keys):]))
    assert "“gone.safetensors” is not on the server any more" in errors["checkpoint"]["value"]
    assert errors["steps"]["visible"] and "999 is outside 1..150" in errors["steps"]["value"]
    assert errors["prompt"]["visible"] is False


def test_sharing_is_for_admins(page):
    panel = page["inpaint"]
    n = len(panel.controls)
    values = [c.component.value for c in panel.controls]
    assert [u["visible"] for u in panel.listing(None, "en", "bob")[1:]] == [False, False]  # Share, Unshare
    assert [u["visible"] for u in panel.listing(None, "en", "root")[1:]] == [True, True]
    _, message = panel.save(None, "en", "Team", True, *values, "bob")
    assert message == "Only an admin can share, unshare or delete a shared preset."
    picker, message = panel.save(None, "en", "Team", True, *values, "root")
    assert message == "Preset “Team” saved and shared with everyone." and n == len(values)
    assert panel.listing(None, "zh-CN", "bob")[0]["choices"] == [("Team（共享）", picker["value"])]
    assert panel.delete(None, "en", picker["value"], "bob")[1] == (
        "Only an admin can share, unshare or delete a shared preset.")
    assert panel.unshare(None, "en", picker["value"], "root")[1] == "Preset “Team” is no longer shared."
    assert panel.listing(None, "en", "bob")[0]["choices"] == []
    odd = panel.save(None, ["odd"], {"x": 1}, "yes", *values, "bob")  # what a raw caller may send: words back
    assert odd == (gr.skip(), "Please give the preset a name.")
