"""The hostile visitor against identity (issue 13 point 4) and paths in messages (point 7).

A victim's browser holds an id the app issued (here minted with the app's own ``identity-key``,
as the page's load event would). The attacker, calling Gradio's API raw, claims to be the victim
with every id it can make up: the id's random part alone, a tampered signature, one signed with
the key ``/config`` publishes (BrowserState's ``secret``), an old-style uuid, a megabyte. None of
them is the victim: the attacker sees, re-runs, deletes and cancels nothing of the victim's.
"""
from __future__ import annotations

import re
import sqlite3

import pytest

from _hostile import assert_survived
from comfy_ui_app.jobs.identity import BrowserIds
from comfy_ui_app.jobs.policy import MAX_ID_CHARS

SECRET_PROMPT = "the victim's secret prompt 7f3a"
SMALL = {"Steps": 2, "Width": 64, "Height": 64}


def _ids(app) -> BrowserIds:
    return BrowserIds((app.data_dir / "identity-key").read_text().strip())


def _published_secret(app) -> str:
    return next(c["props"]["secret"] for c in app.config["components"]
                if (c.get("props") or {}).get("storage_key") == "comfy-ui-browser-id")


def _history(app, browser: str, forbidden=()) -> list[str]:
    """The job ids ``browser``'s History lists."""
    outcome = app.call("history_load", app.inputs("history_load", {"browserstate": browser}), forbidden=forbidden)
    assert_survived(app, outcome)
    choices = (outcome.final[outcome.labels.index("Job")] or {}).get("choices") or []
    return [value for _, value in choices]


@pytest.fixture(scope="module")
def victim(public_app):
    """A browser with an issued id, and the finished job it made."""
    me = _ids(public_app).issue()
    outcome = public_app.call("generate", public_app.inputs("generate", {"Prompt": SECRET_PROMPT, **SMALL,
                                                                         "browserstate": me}))
    assert_survived(public_app, outcome)
    assert "Done" in outcome.texts(), outcome.texts()[:500]
    (job_id,) = _history(public_app, me)
    files = re.findall(r"/gradio_api/file=[^\"'\s]+\.png", outcome.text)
    assert files, outcome.text[:1000]
    return me, job_id, files[0]


def _forgeries(app, me: str) -> dict[str, str]:
    random_part, mac = me.split(".")
    flipped = ("1" if mac[0] == "0" else "0") + mac[1:]
    return {
        "the random part alone": random_part,
        "a tampered signature": f"{random_part}.{flipped}",
        "signed with the key /config publishes": BrowserIds(_published_secret(app)).sign(random_part),
        "an old unsigned uuid": random_part,
        "1 MB": "a" * 1_000_000,
        "the id with a megabyte after it": me + "0" * 1_000_000,
        "none": "",
    }


FORGERIES = ["the random part alone", "a tampered signature", "signed with the key /config publishes",
             "an old unsigned uuid", "1 MB", "the id with a megabyte after it", "none"]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_made_up_id_is_nobody_else(public_app, victim, forgery):
    me, job_id, _ = victim
    claimed = _forgeries(public_app, me)[forgery]
    forbidden = (SECRET_PROMPT, job_id)
    assert _history(public_app, claimed, forbidden) == []
    opened = public_app.call("history_open", public_app.inputs("history_open", {"Job": job_id, "browserstate": claimed}),
                             forbidden=forbidden)
    assert_survived(public_app, opened)
    assert SECRET_PROMPT not in opened.text
    queue = public_app.call("queue_load", public_app.inputs("queue_load", {"browserstate": claimed}), forbidden=forbidden)
    assert_survived(public_app, queue)
    for api in ("history_rerun", "history_delete", "history_star", "queue_cancel"):
        outcome = public_app.call(api, public_app.inputs(api, {"Job": job_id, "browserstate": claimed}),
                                  forbidden=forbidden)
        assert_survived(public_app, outcome)
    assert _history(public_app, me) == [job_id]   # the victim's job is still there, and no re-run was added
    with sqlite3.connect(f"file:{public_app.data_dir / 'jobs.sqlite3'}?mode=ro", uri=True) as db:
        assert db.execute("SELECT starred FROM jobs WHERE job_id = ?", (job_id,)).fetchone()[0] != 1  # nor starred


def test_the_page_issues_a_fresh_signed_id_for_a_forged_one(public_app, victim):
    me, _, _ = victim
    for sent in ("", "alice", me.split(".")[0], "a" * 1_000_000):
        outcome = public_app.call("ensure_browser_id", [sent])
        if outcome.final is None:   # not callable from outside at all: as good
            continue
        (fresh,) = outcome.final
        assert _ids(public_app).verify(fresh) == fresh and fresh not in (sent, me)
    kept = public_app.call("ensure_browser_id", [me])
    assert kept.final in (None, [me])     # the page's own id is kept


def test_the_log_holds_no_browser_id(public_app, victim):
    me, job_id, _ = victim
    log = public_app.log()
    assert job_id in log                 # the job's lines are there ...
    assert me.split(".")[0] not in log   # ... with a tag, never the id (nor its random part)


def test_output_files_are_served_only_by_an_unguessable_link(public_app, victim):
    me, job_id, link = victim
    # the link the victim got: a copy under a SHA-256 name, given to no one else
    assert re.search(r"/[0-9a-f]{64}/[^/]+\.png$", link), link
    assert public_app.get(link.split("127.0.0.1:" + str(public_app.port))[-1] if "://" in link else link).status_code == 200
    stranger = public_app.call("history_load", public_app.inputs("history_load", {"browserstate": ""}),
                               forbidden=(link.rsplit("/", 2)[-2],))
    assert_survived(public_app, stranger)
    outputs = public_app.data_dir / "outputs"
    guesses = [
        f"{outputs}/{'0' * 32}/ComfyUI_00001_.png",                      # a guessed job id
        f"{public_app.data_dir}/identity-key",                            # the key itself
        f"{public_app.data_dir}/browser-secret",
        f"{outputs}/../identity-key",                                     # climbing out of an allowed folder
        f"{outputs}/{job_id}/../../identity-key",
        "/etc/passwd",
        "../../../../etc/passwd",
    ]
    key = (public_app.data_dir / "identity-key").read_text().strip()
    for path in guesses:
        answer = public_app.get(f"/gradio_api/file={path}")
        assert answer.status_code in (403, 404), (path, answer.status_code)
        assert key not in answer.text and "root:x:0" not in answer.text


def test_a_public_page_says_no_server_path(public_app, hostile_comfy):
    root = str(hostile_comfy.root)
    long_name = "p" * 300
    hostile_comfy.fail_next(message=f"[Errno 36] File name too long: '{root}/output/{long_name}_00001_.png'",
                            exception_type="OSError")
    me = _ids(public_app).issue()
    outcome = public_app.call("generate", public_app.inputs("generate", {"Prompt": "long name", **SMALL,
                                                                         "browserstate": me}), forbidden=(root,))
    assert_survived(public_app, outcome)
    assert "File name too long: '…/ppp" in outcome.texts(), outcome.texts()[:800]
    assert root not in outcome.text
    (job_id,) = _history(public_app, me, forbidden=(root,))
    opened = public_app.call("history_open", public_app.inputs("history_open", {"Job": job_id, "browserstate": me}),
                             forbidden=(root,))   # the recorded error, as History words it
    assert_survived(public_app, opened)
    assert "File name too long" in opened.texts() and root not in opened.text


def test_a_private_page_still_shows_the_path(private_app, hostile_comfy):
    root = str(hostile_comfy.root)
    hostile_comfy.fail_next(message=f"[Errno 2] No such file or directory: '{root}/output/x.png'",
                            exception_type="FileNotFoundError")
    outcome = private_app.call("generate", private_app.inputs("generate", {"Prompt": "private", **SMALL}))
    assert_survived(private_app, outcome)
    assert f"{root}/output/x.png" in outcome.texts(), outcome.texts()[:800]


@pytest.mark.parametrize("chosen", ["0123456789abcdef0123456789abcdef", "alice", "b" * 1_000_000])
def test_an_id_the_caller_chose_is_no_identity_at_all(public_app, chosen):
    """Before ids were signed, any string was a user: whoever sent "alice" next was that user too
    (and a megabyte was stored as an owner). Now a made-up id leaves the caller its own session."""
    made = public_app.call("generate", public_app.inputs("generate", {"Prompt": "chosen id", **SMALL,
                                                                      "browserstate": chosen}))
    assert_survived(public_app, made)
    assert "Done" in made.texts(), made.texts()[:500]
    assert _history(public_app, chosen) == []   # the next caller claiming the same id is someone else
    with sqlite3.connect(f"file:{public_app.data_dir / 'jobs.sqlite3'}?mode=ro", uri=True) as db:
        longest, = db.execute("SELECT max(length(owner)) FROM jobs").fetchone()
        chosen_owners = db.execute("SELECT count(*) FROM jobs WHERE owner = ?", (f"browser:{chosen}",)).fetchone()[0]
    assert longest <= 8 + MAX_ID_CHARS and chosen_owners == 0
