"""The hostile visitor against Upscale / Vary / Extend (``txt2img_upscale``…), called raw on a real ``app.py``.

The picture an action works on is named by the caller; the job store's output folders are in launch's
``allowed_paths``. Another user's job id, another user's stored file by its path, a file outside Gradio's
folders, a megabyte of text: each is refused in plain words, nothing is run, nothing of the victim's leaks.
The owner naming their own stored picture gets a job of their own.
"""
from __future__ import annotations

import pytest

from _hostile import assert_survived
from comfy_ui_app.jobs.identity import BrowserIds

SECRET_PROMPT = "the owner's secret lighthouse 91c2"
REFUSED = "This picture cannot be used."


def _ids(app) -> BrowserIds:
    return BrowserIds((app.data_dir / "identity-key").read_text().strip())


def _history(app, browser: str) -> list[str]:
    outcome = app.call("history_load", app.inputs("history_load", {"browserstate": browser}))
    assert_survived(app, outcome)
    return [value for _, value in (outcome.final[outcome.labels.index("Job")] or {}).get("choices") or []]


@pytest.fixture(scope="module")
def owner_job(public_app):
    """A browser with an issued id, its finished job and that job's stored picture."""
    me = _ids(public_app).issue()
    made = public_app.call("generate", public_app.inputs("generate", {"Prompt": SECRET_PROMPT, "Steps": 2, "Width": 64,
                                                                      "Height": 64, "browserstate": me}))
    assert_survived(public_app, made)
    (job_id,) = _history(public_app, me)
    (stored,) = (public_app.data_dir / "outputs" / job_id).glob("*.png")
    return me, job_id, stored


def _upscale(app, browser, picture, **more):
    values = {"Picture": picture, "Upscale with": "pixels", "Factor": 2.0, "browserstate": browser, **more}
    return app.call("txt2img_upscale", app.inputs("txt2img_upscale", values), forbidden=(SECRET_PROMPT,))


@pytest.mark.parametrize("how", ["job id", "stored path", "path with ..", "outside file",
                                 "a megabyte", "the identity key"])
def test_another_users_picture_or_a_forged_path_is_refused(public_app, owner_job, how):
    me, job_id, stored = owner_job
    stranger = _ids(public_app).issue()
    picture = {"job id": f"job:{job_id}:0", "stored path": str(stored),
               "path with ..": str(stored.parent / ".." / job_id / stored.name), "outside file": "/etc/hostname",
               "a megabyte": "p" * 1_000_000, "the identity key": str(public_app.data_dir / "identity-key")}[how]
    outcome = _upscale(public_app, stranger, picture)
    assert_survived(public_app, outcome)
    assert REFUSED in outcome.texts() or "Click a picture first." in outcome.texts(), outcome.texts()[:500]
    assert _history(public_app, stranger) == []          # nothing was run for the stranger
    assert job_id in _history(public_app, me)            # the owner's job is as it was


def test_the_owner_upscales_their_own_stored_picture(public_app, owner_job):
    me, job_id, stored = owner_job
    before = _history(public_app, me)
    outcome = _upscale(public_app, me, str(stored))
    assert_survived(public_app, outcome)
    assert REFUSED not in outcome.texts()
    assert len(_history(public_app, me)) == len(before) + 1
    after = _history(public_app, me)
    for more in ({"Factor": float("nan")}, {"Factor": 64.0}, {"Upscale with": "model", "Upscale model": "../x.pth"}):
        bad = _upscale(public_app, me, f"job:{job_id}:0", **more)
        assert_survived(public_app, bad)
        assert _history(public_app, me) == after        # refused before anything was recorded
