"""``python -m comfy_ui_app history`` and the recording of ``generate`` runs in the job store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from comfy_ui_app.cli.main import main
from comfy_ui_app.jobs.store import JobStore

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = str(REPO / "workflows" / "txt2img.json")
SMALL = ["--set", "steps=2", "--set", "width=64", "--set", "height=64", "--set", "seed=7"]


@pytest.fixture
def cli(capsys, monkeypatch):
    monkeypatch.delenv("COMFYUI_URL", raising=False)
    monkeypatch.delenv("COMFY_UI_DATA", raising=False)

    def call(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return call


def test_a_generate_run_is_recorded_with_its_outputs_and_listed(cli, comfy_server, tmp_path):
    data = tmp_path / "data"
    code, out, err = cli("generate", "--workflow", WORKFLOW, *SMALL, "--set", "prompt=a red fox",
                         "--out", tmp_path / "out", "--server", comfy_server.url, "--data", data, "--quiet")
    assert code == 0, err
    code, out, err = cli("history", "--json", "--data", data)
    assert code == 0 and err == ""
    (job,) = json.loads(out)
    assert job["client"] == "cli" and job["owner"].startswith("cli:") and job["template"] == "txt2img"
    assert job["status"] == "success" and job["duration"] is not None and job["server"] == comfy_server.url
    assert job["values"]["prompt"] == "a red fox" and job["values"]["seed"] == "7"
    assert len(job["outputs"]) == 1 and Path(job["outputs"][0]).is_file()
    assert Path(job["outputs"][0]).read_bytes() == next((tmp_path / "out").iterdir()).read_bytes()
    code, out, _ = cli("history", "--data", data)
    assert code == 0 and "success" in out and "txt2img" in out and job["job_id"] in out and "1 image(s)" in out


def test_history_lists_web_jobs_newest_first_with_errors_and_filters_by_owner(cli, tmp_path, monkeypatch):
    store = JobStore(tmp_path / "d")
    first = store.create(owner="user:alice", template="txt2img", values={}, prompt={}, server="s", prompt_id="p1")
    second = store.create(owner="user:bob", template="inpaint", values={}, prompt={}, server="s", prompt_id="p2")
    store.update_status(second.job_id, "error", error="KSampler failed:\n out of memory")
    store.close()
    monkeypatch.setenv("COMFY_UI_DATA", str(tmp_path / "d"))  # the environment names the folder
    code, out, _ = cli("history")
    lines = out.splitlines()
    assert code == 0 and second.job_id in lines[0] and "error" in lines[0] and first.job_id in lines[2]
    assert lines[1].strip() == "KSampler failed: out of memory"
    code, out, _ = cli("history", "--json", "--user", "user:alice")
    assert [j["job_id"] for j in json.loads(out)] == [first.job_id]
    code, out, _ = cli("history", "--json", "--limit", "1")
    assert [j["job_id"] for j in json.loads(out)] == [second.job_id]
    code, _, err = cli("history", "--limit", "0")
    assert code == 2 and "--limit" in err


def test_history_of_an_empty_folder_says_so_and_creates_nothing(cli, tmp_path):
    code, out, _ = cli("history", "--data", tmp_path / "none")
    assert code == 0 and out.strip() == f"No jobs recorded in {tmp_path / 'none'}."
    code, out, _ = cli("history", "--json", "--data", tmp_path / "none")
    assert json.loads(out) == [] and not (tmp_path / "none").exists()


def test_a_run_that_fails_before_submitting_creates_no_store(cli, tmp_path, dead_url):
    code, _, err = cli("generate", "--workflow", WORKFLOW, "--out", tmp_path / "out", "--server", dead_url,
                       "--data", tmp_path / "data")
    assert code == 1 and "Cannot reach ComfyUI" in err
    assert not (tmp_path / "data").exists()
