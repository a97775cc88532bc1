"""Pictures follow the job over several servers: uploaded to the server that runs it.

An inpainting job is staged against the first server (``stage_files``: nothing sent) and
goes to the second one, the only one with its checkpoint; a job whose server stops before it
started is uploaded again where it goes next; a prompt sent again without its files (Retry,
Re-run) finds them in the cluster's memory.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from comfy_ui_app import Comfy
from comfy_ui_app.comfy.inputs import InputFile, content_name, upload_inputs
from comfy_ui_app.cluster.cluster import Cluster
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.workflow.inpaint import inpaint_shape
from comfy_ui_app.jobs.inpaint import make_files, stage_files
from comfy_ui_app.jobs.graph_rules import owner_tag
from comfy_ui_app.jobs.service import JobService, current_server
from comfy_ui_app.workflow.file_inputs import tagged_name
from comfy_ui_app.jobs.store import JobStore
from comfy_ui_app.workflow.templates import apply_values
from test_inpaint import CHECKPOINT, PAINTED, SOURCE, TEMPLATE_A, TEMPLATE_B
from _waiting import wait_for as eventually

OTHER = ["other.safetensors"]


@pytest.fixture
def service(tmp_path):
    made = []

    def make(urls):
        comfies = [Comfy(u, timeout=2, poll_interval=0.1, stall_after=0.5, give_up_after=1.0) for u in urls]
        cluster = Cluster(comfies, per_server=2, health_interval=0.1)
        store = JobStore(tmp_path / f"data{len(made)}")
        jobs = JobService(cluster, store)
        cluster.start()
        made.append((cluster, store))
        return jobs

    yield make
    for cluster, store in made:
        # the followers write the last states before the store closes
        eventually(lambda: not store.unfinished(), timeout=5, what="every job recorded as ended")
        followers = {f"follow-{record.job_id}" for record in store.list(limit=1000)}  # JobService names them so
        eventually(lambda: not any(t.name in followers for t in threading.enumerate()), timeout=5,
                   what="the job followers to finish")
        cluster.close()
        store.close()


def staged(template, client):
    fields = discover(template)
    shape = inpaint_shape(fields)
    files = make_files(shape, template, SOURCE, PAINTED)
    values, inputs = stage_files(client, shape, files)
    prompt = apply_values(template, {**values, "checkpoint": CHECKPOINT, "prompt": "a cat"}, fields=fields)
    return prompt, inputs


def input_names(server) -> list[str]:
    return sorted(p.name for p in (Path(server.root) / "input").glob("*inpaint-*"))


def sent_name(item, owner: str = "u") -> str:
    """The name ``item`` is uploaded under: the job service tags each upload with its owner (issue 13)."""
    return tagged_name(item.name, owner_tag(owner))


@pytest.mark.parametrize("template", [TEMPLATE_A, TEMPLATE_B], ids=["alpha", "mask-loader"])
def test_an_inpaint_job_on_the_second_server_gets_its_pictures_there(make_comfy_server, service, template):
    first, second = make_comfy_server(checkpoints=OTHER), make_comfy_server()
    jobs = service([first.url, second.url])
    eventually(lambda: all(s.healthy for s in jobs.cluster.servers), what="both servers healthy")
    prompt, inputs = staged(template, jobs.comfy.client)
    assert first.uploads == [] and second.uploads == []  # staging sends nothing
    record, job = jobs.submit(owner="u", template="inpaint.json", values={}, prompt=prompt, kind="inpaint",
                              inputs=inputs)
    finished = job.wait(timeout=30)
    assert finished.ok, finished.error
    assert job.server == second.url and first.uploads == [] and first.received_prompts == []
    assert [u["route"] for u in second.uploads] == ["/upload/image"] * len(inputs)
    assert input_names(second) == sorted(sent_name(i) for i in inputs)
    for item in inputs:  # exactly the bytes staged, under the name the prompt uses
        assert (Path(second.root) / "input" / sent_name(item)).read_bytes() == item.data
    if template is TEMPLATE_A:  # the merged picture: alpha 0 where painted, as /upload/mask would write
        with Image.open(Path(second.root) / "input" / sent_name(inputs[0])) as merged:
            alpha = np.asarray(merged.getchannel("A"))
        assert np.array_equal(alpha == 0, PAINTED == 255)
    done = eventually(lambda: jobs.store.get(record.job_id).done and jobs.store.get(record.job_id))
    assert done.status == "success" and current_server(done) == second.url
    assert done.outputs and all(o.path.is_file() for o in done.outputs)


def test_a_job_moved_to_another_server_is_uploaded_there_again(make_comfy_server, service, dead_url):
    first = make_comfy_server()
    first.pause()  # our job waits in its queue
    port = int(dead_url.rsplit(":", 1)[1])
    jobs = service([first.url, dead_url])
    eventually(lambda: jobs.cluster.servers[0].healthy, what="the first server healthy")
    prompt, inputs = staged(TEMPLATE_A, jobs.comfy.client)
    _, job = jobs.submit(owner="u", template="inpaint.json", values={}, prompt=prompt, kind="inpaint", inputs=inputs)
    eventually(lambda: job.server == first.url, what="the job sent to the first server")
    assert [u["fields"]["overwrite"] for u in first.uploads] == ["true"]
    second = make_comfy_server(port=port)
    eventually(lambda: jobs.cluster.servers[1].healthy, what="the second server healthy")
    first.stop()  # before our job started there: it goes on elsewhere
    finished = job.wait(timeout=30)
    assert finished.ok, finished.error
    assert job.server == second.url and job.attempts == 2
    assert input_names(second) == [sent_name(inputs[0])]


def test_a_prompt_sent_again_without_its_files_finds_them(make_comfy_server, service, dead_url):
    first = make_comfy_server()
    port = int(dead_url.rsplit(":", 1)[1])
    jobs = service([first.url, dead_url])
    eventually(lambda: jobs.cluster.servers[0].healthy, what="the first server healthy")
    prompt, inputs = staged(TEMPLATE_A, jobs.comfy.client)
    record, job = jobs.submit(owner="u", template="inpaint.json", values={}, prompt=prompt, kind="inpaint",
                              inputs=inputs)
    assert job.wait(timeout=30).ok and job.server == first.url
    first.stop()
    second = make_comfy_server(port=port)
    eventually(lambda: [s.healthy for s in jobs.cluster.servers] == [False, True], what="only the second healthy")
    again, job2 = jobs.submit(owner="u", template="inpaint.json", values={}, prompt=record.prompt, kind="inpaint")
    assert job2.wait(timeout=30).ok and job2.server == second.url
    assert input_names(second) == [sent_name(inputs[0])]


def test_content_names_are_stable_and_repeat_uploads_write_one_file(comfy_server):
    png = staged(TEMPLATE_B, Comfy(comfy_server.url).client)[1][0].data
    assert content_name(png, "Photo.PNG") == content_name(png, "other.png")
    assert content_name(png, "x.png") != content_name(png + b"\0", "x.png")
    assert content_name(png, "x.exe").endswith(".png")
    client = Comfy(comfy_server.url).client
    item = InputFile(png, content_name(png, "p.png"))
    upload_inputs(client, [item])
    upload_inputs(client, [item])
    assert sorted(p.name for p in (Path(comfy_server.root) / "input").glob("upload-*")) == [item.name]
