"""The hostile visitor against presets (issue 15 point 3): the Presets panel's private events called raw
on a real ``python app.py``, from two page sessions (two users: neither has a browser id).

One user's presets are never listed, applied or deleted by another, whatever id is sent; NaN, 5 MB of
text, a forged "share" and odd values come back as a plain sentence, never a crash."""
from __future__ import annotations

import json
import json as _json
import uuid

import _hostile

SECRET = "alice's secret prompt 5c1e"


def _event(app, elem_id: str, event: str = "click") -> dict:
    ids = {c["id"] for c in app.config["components"] if (c.get("props") or {}).get("elem_id") == elem_id}
    return next(d for d in app.config["dependencies"] if any(t[0] in ids and t[1] == event for t in d["targets"]))


def _labels(app, dep: dict) -> list[str]:
    by_id = {c["id"]: c for c in app.config["components"]}
    return [str((by_id[i].get("props") or {}).get("label") or by_id[i].get("type")) for i in dep["inputs"]]


def _run(app, elem_id, session, values: dict | None = None, *, event="click", first=None) -> dict:
    """Run the event of ``elem_id`` in ``session`` with the page's own values, ``values`` by input label
    instead, ``first`` as the inputs after the language; returns the completed message."""
    dep = _event(app, elem_id, event)
    by_id = {c["id"]: c for c in app.config["components"]}
    data = [(by_id[i].get("props") or {}).get("value") for i in dep["inputs"]]
    data = ["" if by_id[i].get("type") == "browserstate" else v for i, v in zip(dep["inputs"], data)]
    data[0] = "en"
    for n, value in enumerate(first or []):
        data[1 + n] = value
    for label, value in (values or {}).items():
        data[_labels(app, dep).index(label)] = value
    done = _join(app, dep["id"], data, session, trigger_id=dep["targets"][0][0])
    assert done.get("success"), f"{elem_id}: {json.dumps(done)[:500]}"
    return done["output"]["data"]


def _join(app, fn_index, data, session, trigger_id):
    """``_hostile.queue_join``, with the body as JSON text: a bare NaN goes as it is (requests' ``json=``
    refuses it)."""
    class Raw:
        def __init__(self, http):
            self.http = http

        def post(self, url, timeout, json):  # noqa: A002 - queue_join's keyword
            return self.http.post(url, timeout=timeout, data=_json.dumps(json),
                                  headers={"content-type": "application/json"})

        def get(self, *args, **kwargs):
            return self.http.get(*args, **kwargs)

    view = type("View", (), {"url": app.url, "http": Raw(app.http)})()
    return _hostile.queue_join(view, fn_index, data, session, trigger_id=trigger_id)


def _listed(app, session) -> list:
    return _run(app, "txt2img-presets", session, event="expand")[0]["choices"]


def test_one_user_never_sees_or_changes_anothers_presets(private_app):
    alice, bob = uuid.uuid4().hex[:12], uuid.uuid4().hex[:12]
    picker, message = _run(private_app, "txt2img-preset-save", alice, {"Prompt": SECRET}, first=["Alice's"])
    assert message == "Preset “Alice's” saved."
    (label, preset_id), = picker["choices"]
    assert _listed(private_app, bob) == [] and _listed(private_app, alice) == [[label, preset_id]]
    for forged in (preset_id, int(preset_id), f"{preset_id} OR 1=1", "-1", None, [preset_id], "9" * 5000):
        out = _run(private_app, "txt2img-preset-apply", bob, first=[forged])
        assert SECRET not in json.dumps(out)
        assert out[-1] in ("That preset is gone, or it is not yours.", "Please pick a preset first.")
        assert _run(private_app, "txt2img-preset-delete", bob, first=[forged])[1] in (
            "That preset is gone, or it is not yours.", "Please pick a preset first.")
    applied = _run(private_app, "txt2img-preset-apply", alice, first=[preset_id])
    assert SECRET in json.dumps(applied) and applied[-1] == "Preset “Alice's” applied."


def test_odd_values_come_back_as_words(private_app):
    user = uuid.uuid4().hex[:12]
    cases = [
        ({"Steps": float("nan")}, "“Steps” is not a number that can be kept (NaN or infinity)."),
        ({"Prompt": "x" * 5_000_000}, "“Prompt” is too long to keep (at most 20,000 characters)."),
    ]
    for values, words in cases:
        assert _run(private_app, "txt2img-preset-save", user, values, first=["odd"])[1] == words
    assert _run(private_app, "txt2img-preset-save", user, first=["x" * 5_000_000])[1] == (
        "A preset name can be at most 100 characters long.")
    assert _run(private_app, "txt2img-preset-save", user, first=[None])[1] == "Please give the preset a name."
    assert _run(private_app, "txt2img-preset-save", user, first=["shared?", True])[1] == (
        "Only an admin can share, unshare or delete a shared preset.")
    assert _listed(private_app, user) == []
