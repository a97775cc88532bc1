"""The shared job runner (comfy_ui_app.ui.runner, comfy_ui_app.ui.jobfeed).

Over what the app builds (a Cluster and a JobService, tests/_app.py) and the bundled test
server: progress and its throttles, batches, checks, recording, Interrupt for the owner only,
abandoned streams, and reattaching a page to its jobs.
"""
from __future__ import annotations

import asyncio
import io
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from comfy_ui_app import load_workflow
from comfy_ui_app.workflow.fields import discover
from _png_text import text_chunks
from comfy_ui_app.ui.runner import RunRequest, run
from comfy_ui_app.texts.messages import describe_recorded

REPO = Path(__file__).resolve().parents[1]
OBJECT_INFO = json.loads((REPO / "tests" / "fixtures" / "comfyui" / "object_info.json").read_text())
CKPT = "tiny-sd15-random.safetensors"  # the only checkpoint in the recorded object_info


def png_bytes(size=(64, 64), fmt="PNG", text=None) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, fmt, **({"pnginfo": info} if fmt == "PNG" else {}))
    return buf.getvalue()


def txt2img_request(values=None, count=1, **kw):
    template = load_workflow(REPO / "workflows" / "txt2img.json")
    base = {"prompt": "a fox", "negative": "", "seed": -1, "steps": 4, "width": 64, "height": 64,
            "checkpoint": CKPT}
    return RunRequest(template, discover(template, OBJECT_INFO), {**base, **(values or {})}, count=count, **kw)


def collect(ctx, request, stop_when=None):
    async def go():
        outs = []
        gen = run(ctx, request, "en")
        async for out in gen:
            outs.append(out)
            if stop_when is not None and stop_when(out):
                await gen.aclose()  # what Gradio does when the user presses Interrupt
                break
        return outs
    return asyncio.run(go())


@pytest.mark.parametrize("value, maximum, bar", [
    (0, 20, "▱" * 10),
    (1, 20, "▱" * 10),          # 5 %: not yet a whole cell
    (2, 20, "▰" + "▱" * 9),
    (19, 20, "▰" * 9 + "▱"),    # 95 %: never full before the last step
    (20, 20, "▰" * 10),
    (25, 20, "▰" * 10),         # a server that overshoots
    (3, 0, "▱" * 10),           # no maximum known
])
def test_progress_bar_fills_whole_cells(value, maximum, bar):
    from comfy_ui_app.ui.jobfeed import progress_bar
    assert progress_bar(value, maximum) == bar


def test_success_streams_progress_and_saves_pngs_with_parameters(service_ctx):
    server, ctx = service_ctx(step_time=0.12, steps=4)  # slower than PROGRESS_INTERVAL_S: each step shows
    outs = collect(ctx, owned_request(ALICE))
    texts = [o.progress for o in outs if o.progress]
    assert any("KSampler (node 3)" in t and "▰▰▰▰▰▱▱▱▱▱ step 2/4 · 50% · ETA" in t for t in texts), texts
    assert "▰" * 10 + " 100%" in texts[-1]
    previews = [o.preview for o in outs if isinstance(o.preview, Image.Image)]
    assert 1 <= len(previews) <= 4  # the newest one always arrives (throttling: the test below)
    last = outs[-1]
    assert last.final and last.ok and last.message == "Done — 1 picture." and len(last.gallery) == 1
    (record,) = ctx.jobs.list(user=ALICE)
    saved = Path(last.gallery[0])
    assert saved == record.outputs[0].path
    chunks = text_chunks(saved.read_bytes())
    seed = server.received_prompts[0]["prompt"]["3"]["inputs"]["seed"]
    assert "prompt" in chunks and "workflow" in chunks
    assert chunks["parameters"].startswith("a fox\nSteps: 4, Sampler: euler, Schedule type: normal, CFG scale: 7, ")
    assert f"Seed: {seed}, Size: 64x64, Model: {CKPT}" in chunks["parameters"]
    assert last.seeds == [seed] and 0 <= seed < 2**53


def test_fast_progress_is_sent_at_most_ten_times_a_second_and_ends_on_the_latest(service_ctx):
    # 60 steps and previews in about 1.2 s; then saving takes a while, so the last news waits out its hold
    _server, ctx = service_ctx(step_time=0.02, steps=60, node_time={"SaveImage": 0.4})
    started = time.monotonic()
    outs = collect(ctx, owned_request(ALICE))
    took = time.monotonic() - started
    steps = [int(m.group(1)) for o in outs if (m := re.search(r"step (\d+)/60", o.progress or ""))]
    assert 3 <= len(steps) <= 10 * took + 2 and steps == sorted(steps), steps  # about every 0.1 s, not 60 times
    previews = [o.preview for o in outs if isinstance(o.preview, Image.Image)]
    assert 2 <= len(previews) <= 4 * took + 2  # at most one every 0.25 s
    assert any("SaveImage (node 9)" in (o.progress or "") for o in outs)  # the newest state still arrives
    assert outs[-1].final and outs[-1].ok


def test_a_waiting_jobs_place_in_line_is_sent_about_once_a_second(service_ctx):
    _server, ctx = service_ctx(step_time=0.05)  # the page's job samples 4 steps: its node line shows
    for seed in range(12):  # jobs ahead of the page's, each ending quickly (one step)
        ahead = small_prompt(seed=seed)
        ahead["3"]["inputs"]["steps"] = 1
        ctx.jobs.submit(owner=ALICE, template="t", values={}, prompt=ahead)
    started = time.monotonic()
    outs = collect(ctx, owned_request(ALICE))
    took = time.monotonic() - started
    shown = [int(m.group(1)) for o in outs if (m := re.search(r"position (\d+) in line", o.progress or ""))]
    assert shown and shown == sorted(shown, reverse=True), shown
    assert len(shown) <= took + 2, (shown, took)  # about once a second, not once per job ahead
    assert any("KSampler (node 3)" in (o.progress or "") for o in outs) and outs[-1].ok


def test_batch_count_runs_jobs_in_sequence_with_consecutive_seeds(service_ctx):
    # one at a time: ComfyUI gets them in the batch's order; each job longer than a run's first moments
    # (ui/_first_news: a batch done within them is one update), so that "Job 2 of 3" is seen
    server, ctx = service_ctx(per_server=1, step_time=0.06, steps=3)
    outs = collect(ctx, owned_request(ALICE, {"seed": 1000}, count=3))
    seeds = [p["prompt"]["3"]["inputs"]["seed"] for p in server.received_prompts]
    assert seeds == [1000, 1001, 1002]
    assert any("Job 2 of 3" in (o.progress or "") for o in outs)
    assert [o for o in outs if o.final] == [outs[-1]]  # one final update, after the last job
    assert outs[-1].message == "Done — 3 pictures." and len(outs[-1].gallery) == 3
    assert outs[-1].seeds == [1000, 1001, 1002]
    assert {Path(p).parent.name for p in outs[-1].gallery} == set(outs[-1].job_ids)


def test_random_seed_batch_draws_once_then_counts_up(service_ctx):
    server, ctx = service_ctx(per_server=1)  # one at a time: ComfyUI gets them in the batch's order
    collect(ctx, owned_request(ALICE, {"seed": -1}, count=2))
    first, second = (p["prompt"]["3"]["inputs"]["seed"] for p in server.received_prompts)
    assert second == first + 1 and first != -1


def test_a_failed_job_ends_the_batch(service_ctx):
    """Every job is sent up front; the first failure stops the ones after it."""
    # per_server=1: the second job waits in the app's queue (with 2 both go to ComfyUI at once,
    # each on its own thread, and may be queued there in either order)
    server, ctx = service_ctx(step_time=0.05, steps=10, per_server=1)
    server.fail_next("8", "boom\nmore")
    outs = collect(ctx, owned_request(ALICE, count=2))
    assert outs[-1].message == "Failed in node 8 (VAEDecode): boom" and "Stopped" in outs[-1].progress
    assert not outs[-1].ok and outs[-1].failed
    first, rest = outs[-1].job_ids
    record = ended(ctx, rest)
    # issue 13: stopped by the app, not interrupted by anyone, and the record says why
    assert record.status == "cancelled", ("the rest of the batch must be stopped", record.error, record.timeline)
    assert record.error_code == "batch_stopped" and record.error_data["after"] == 1, record.error_data
    assert describe_recorded(record) == "Not run: job 1 of 2 of this batch failed, so the batch stopped there."


def test_a_batch_whose_server_went_away_records_the_rest_as_not_run(service_ctx):
    """Issue 13 point 9: ComfyUI dies during job 1 of 3; jobs 2 and 3 were never run and nobody
    interrupted them: each is recorded as cancelled, with why (batch_stopped, the server went away)."""
    server, ctx = service_ctx(step_time=0.05, steps=40, per_server=1, give_up_after=3)  # lost in 3 s, not 60
    stopped = []

    def stop_the_server_once_running(update) -> bool:
        if not stopped and re.search(r"step \d+/40", update.progress or ""):
            stopped.append(True)
            server.stop()
        return False

    outs = collect(ctx, owned_request(ALICE, count=3), stop_when=stop_the_server_once_running)
    assert stopped and not outs[-1].ok and "stopped while this job ran" in outs[-1].message, outs[-1].message
    first, *rest = outs[-1].job_ids
    assert ended(ctx, first).status == "lost"
    for job_id in rest:
        record = ended(ctx, job_id)
        assert (record.status, record.error_code) == ("cancelled", "batch_stopped"), (record.status, record.error)
        assert record.error_data["server_gone"] and record.error_data["after"] == 1
        assert describe_recorded(record) == ("Not run: the ComfyUI server went away during job 1 of 3 of this "
                                             "batch, so the batch stopped there.")


def test_local_check_names_the_field_and_sends_nothing(service_ctx):
    server, ctx = service_ctx()
    outs = collect(ctx, owned_request(ALICE, {"steps": 0, "checkpoint": "nope.safetensors"}))
    assert server.received_prompts == []
    errors = outs[-1].errors
    assert set(errors) == {"steps", "checkpoint"}
    assert "at least 1" in errors["steps"] and "Node" not in errors["steps"]
    assert "nope.safetensors" in errors["checkpoint"] and "not installed" in errors["checkpoint"]
    assert "nope.safetensors" in outs[-1].message


def test_a_prompt_comfyui_refuses_names_the_field(service_ctx):
    """The app's queue sends the job later, so ComfyUI's refusal ends the job; its field is marked.
    (Issue 13: a file the server does not list is refused by the app itself for a user; an admin's
    name goes to ComfyUI, which refuses it.)"""
    server, ctx = service_ctx()
    template = load_workflow(REPO / "workflows" / "img2img.json")
    fields = discover(template, OBJECT_INFO)
    image = next(f for f in fields if f.kind == "image")
    request = RunRequest(template, fields, {"checkpoint": CKPT, image.name: "gone.png"}, owner=ALICE)
    outs = collect(ctx, request)
    assert len(server.received_prompts) == 0 and outs[-1].final and not outs[-1].ok
    assert outs[-1].errors == {image.name: outs[-1].message}
    assert outs[-1].message == f"{image.name}: “gone.png” is not a file on the ComfyUI server. Upload it first."
    ctx.jobs.admins = frozenset({ALICE})
    outs = collect(ctx, request)
    assert len(server.received_prompts) == 0 and outs[-1].final and not outs[-1].ok
    assert list(outs[-1].errors) == [image.name] and "gone.png" in outs[-1].errors[image.name], outs[-1]
    assert outs[-1].message.startswith("ComfyUI rejected"), outs[-1].message


def test_bad_value_type_names_the_field(service_ctx):
    _server, ctx = service_ctx()
    outs = collect(ctx, owned_request(ALICE, {"steps": 2.5}))
    assert list(outs[-1].errors) == ["steps"] and "whole number" in outs[-1].errors["steps"]


def test_empty_checkpoint_takes_the_servers_first_and_images_are_uploaded(service_ctx, tmp_path):
    server, ctx = service_ctx()
    template = load_workflow(REPO / "workflows" / "img2img.json")
    fields = discover(template, OBJECT_INFO)
    image = next(f for f in fields if f.kind == "image")
    picture = tmp_path / "mine.png"
    picture.write_bytes(png_bytes())
    request = RunRequest(template, fields, {"checkpoint": None, image.name: str(picture)}, owner=ALICE,
                         workflow={"nodes": [], "links": []})
    outs = collect(ctx, request)
    assert outs[-1].ok, outs[-1]
    sent = server.received_prompts[0]["prompt"]
    (upload,) = server.uploads
    name = sent[image.node_id]["inputs"][image.input_name]  # the name the server gave the upload
    assert name == upload["filename"] and name.endswith(".png")
    assert (Path(server.dirs["input"]) / name).is_file()
    ckpt = next(f for f in fields if f.role == "checkpoint")
    assert sent[ckpt.node_id]["inputs"][ckpt.input_name] == CKPT


@pytest.mark.parametrize("count", [0, None])
def test_count_below_one_runs_once(service_ctx, count):
    server, ctx = service_ctx()
    collect(ctx, owned_request(ALICE, count=count))
    assert len(server.received_prompts) == 1


def test_a_seed_that_is_not_a_number_names_the_field(service_ctx):
    server, ctx = service_ctx()
    outs = collect(ctx, owned_request(ALICE, {"seed": "lucky"}))
    assert server.received_prompts == [] and list(outs[-1].errors) == ["seed"]
    assert "whole number" in outs[-1].errors["seed"]


# ---- with the job service (the real test server; what the page runs with) -------------------

from comfy_ui_app import Comfy  # noqa: E402
from comfy_ui_app.jobs.service import JobService  # noqa: E402
from comfy_ui_app.jobs.store import JobStore  # noqa: E402
from comfy_ui_app.ui import reattach as jobfeed_reattach  # noqa: E402
from comfy_ui_app.ui.runner import interrupt_handler  # noqa: E402
from _waiting import wait_for as wait_until
from _app import app_context, job_service
from test_client import small_prompt

ALICE, BOB = "browser:alice", "browser:bob"


@pytest.fixture
def service_ctx(make_comfy_server, tmp_path):
    """``service_ctx(per_server=2, give_up_after=None, **server knobs)`` -> a context with a JobService over a
    fresh test server (``give_up_after``: seconds without an answer before its jobs end, else the app's own)."""
    made = []

    def make(per_server=2, give_up_after=None, **knobs):
        server = make_comfy_server(**knobs)
        comfy = {} if give_up_after is None else {"give_up_after": give_up_after}
        jobs = job_service(server.url, JobStore(tmp_path / f"data{len(made)}"),
                           cluster_options={"per_server": per_server}, comfy_options=comfy)
        ctx = app_context(jobs, tmp_path / f"out{len(made)}")
        made.append(ctx)
        return server, ctx

    yield make
    for ctx in made:
        for record in ctx.jobs.store.unfinished():
            ctx.jobs.cancel(record.job_id, user=record.owner)
        wait_until(lambda c=ctx: not c.jobs.store.unfinished(), what="jobs to end")
        ctx.cluster.close()
        ctx.jobs.store.close()


def ended(ctx, job_id, timeout=15.0):
    """The job's record once it has ended."""
    return wait_until(lambda: (r := ctx.jobs.store.get(job_id)).done and r, timeout, what=f"job {job_id} to end")


def owned_request(owner, values=None, count=1):
    return txt2img_request(values, count=count, owner=owner, template_name="txt2img.json", kind="txt2img")


async def run_until(ctx, request, predicate):
    """Run until ``predicate(update)``; then drop the stream as a closed page does."""
    gen = run(ctx, request, "en")
    outs = []
    async for out in gen:
        outs.append(out)
        if predicate(out):
            break
    await gen.aclose()
    return outs


def test_a_run_is_recorded_with_owner_values_and_stored_outputs(service_ctx):
    _server, ctx = service_ctx()
    outs = collect(ctx, owned_request(ALICE, {"seed": -1}))
    last = outs[-1]
    assert last.ok and last.message == "Done — 1 picture.", last
    (record,) = ctx.jobs.list(user=ALICE)
    assert last.job_ids == [record.job_id] and all(o.job_ids == [record.job_id] for o in outs[2:])
    assert (record.owner, record.template, record.kind, record.status) == (ALICE, "txt2img.json", "txt2img", "success")
    seed = record.prompt["3"]["inputs"]["seed"]
    assert record.values["seed"] == seed == last.seeds[0] and seed >= 0  # the real seed, not -1
    assert record.values["prompt"] == "a fox" and record.values["checkpoint"] == CKPT
    # the gallery shows the store's own files (no second copy), each with the A1111 chunk
    assert last.gallery == [str(o.path) for o in record.outputs] and len(record.outputs) == 1
    assert not ctx.output_dir.exists() or not any(ctx.output_dir.rglob("*.png"))
    chunks = text_chunks(record.outputs[0].path.read_bytes())
    assert f"Seed: {seed}, Size: 64x64, Model: {CKPT}" in chunks["parameters"] and '"KSampler"' in chunks["prompt"]
    assert ctx.jobs.list(user=BOB) == []


def test_interrupt_button_stops_only_the_callers_job(service_ctx):
    server, ctx = service_ctx(step_time=0.05, steps=40)
    mine = asyncio.run(run_until(ctx, owned_request(ALICE), lambda o: "step" in (o.progress or "")))
    theirs = asyncio.run(run_until(ctx, owned_request(BOB), lambda o: o.job_ids))  # queued behind mine
    my_id, their_id = mine[-1].job_ids[0], theirs[-1].job_ids[0]
    # Alice's page holds its own id; a forged list with Bob's id must not stop Bob's job.
    progress, message = interrupt_handler(ctx)(SimpleNamespace(username=None), "en", [my_id, their_id], "alice")
    assert progress.startswith("**Interrupted**<span class=\"job-state job-interrupted\"")  # the mark: ui.job_state
    assert message == "Interrupted. The job was cancelled."
    assert ended(ctx, my_id, timeout=1.5).status == "interrupted"  # long before its 40 steps (2 s)
    their = ctx.jobs.store.get(their_id)
    assert their.status in ("queued", "running")
    assert ended(ctx, their_id, timeout=30).status == "success"
    assert len(server.received_prompts) == 2


def test_a_closed_page_leaves_the_job_running_and_recorded(service_ctx):
    _server, ctx = service_ctx(step_time=0.02, steps=20)
    outs = asyncio.run(run_until(ctx, owned_request(ALICE), lambda o: "step" in (o.progress or "")))
    (job_id,) = outs[-1].job_ids
    assert not ctx.jobs.store.get(job_id).done
    record = ended(ctx, job_id)
    assert record.status == "success" and len(record.outputs) == 1 and record.outputs[0].path.is_file()


def collect_reattach(ctx, user, kind="txt2img"):
    async def go():
        return [u async for u in jobfeed_reattach.reattach(ctx, user, kind, "en")]
    return asyncio.run(go())


def test_reattach_streams_a_running_job_from_the_start(service_ctx):
    _server, ctx = service_ctx(step_time=0.02, steps=30)
    first = asyncio.run(run_until(ctx, owned_request(ALICE), lambda o: re.search(r"step \d+/30", o.progress or "")))
    (job_id,) = first[-1].job_ids
    assert collect_reattach(ctx, BOB) == [] and collect_reattach(ctx, None) == []  # nobody else's
    assert collect_reattach(ctx, ALICE, kind="custom") == []
    outs = collect_reattach(ctx, ALICE)
    assert all(u.job_ids == [job_id] for u in outs)
    steps = [int(m.group(1)) for u in outs if (m := re.search(r"step (\d+)/30", u.progress or ""))]
    assert steps and steps == sorted(steps) and max(steps) >= 25, [u.progress for u in outs]  # the story so far, then on to the end
    last = outs[-1]
    record = ctx.jobs.store.get(job_id)
    assert last.final and last.ok and last.message == "Done — 1 picture."
    assert last.gallery == [str(record.outputs[0].path)] and last.seeds == [record.values["seed"]]
    assert "parameters" in text_chunks(record.outputs[0].path.read_bytes())


def test_reattach_after_the_job_ended_shows_its_outputs(service_ctx):
    _server, ctx = service_ctx(step_time=0.01, steps=5)
    first = asyncio.run(run_until(ctx, owned_request(ALICE), lambda o: o.job_ids))
    (job_id,) = first[-1].job_ids
    record = ended(ctx, job_id)
    wait_until(lambda: ctx.jobs.live(job_id) is None, what="the follower to let go")
    (update,) = collect_reattach(ctx, ALICE)
    assert update.final and update.ok and update.message == "Done — 1 picture."
    assert update.gallery == [str(record.outputs[0].path)] and update.job_ids == [job_id]
    # the page that started it was gone before the outputs came: the chunk is added now
    assert "parameters" in text_chunks(record.outputs[0].path.read_bytes())
    # long ago: a fresh page starts empty
    assert jobfeed_reattach.latest(ctx.jobs, ALICE, "txt2img", now=record.finished_at + jobfeed_reattach.RECENT_S + 1) is None


def test_interrupt_when_nothing_runs_leaves_the_result_alone(service_ctx):
    import gradio as gr

    _server, ctx = service_ctx()
    outs = collect(ctx, owned_request(ALICE))
    assert outs[-1].ok
    (job_id,) = outs[-1].job_ids
    page = SimpleNamespace(username=None, session_hash="s1")
    progress, message = interrupt_handler(ctx)(page, "en", [job_id], "alice")
    assert message == "Nothing is running." and progress == gr.skip()
    assert interrupt_handler(ctx)(page, "zh-CN", [], "alice")[1] == "当前没有正在运行的任务。"
    assert ctx.jobs.store.get(job_id).status == "success"


def test_a_job_sent_before_the_browser_id_arrived_can_still_be_interrupted(service_ctx):
    _server, ctx = service_ctx(step_time=0.05, steps=40)
    page = SimpleNamespace(username=None, session_hash="early")
    from comfy_ui_app.ui.context import current_user

    owner = current_user(page, "")  # the page pressed Generate before its id was set
    outs = asyncio.run(run_until(ctx, owned_request(owner), lambda o: "step" in (o.progress or "")))
    (job_id,) = outs[-1].job_ids
    assert owner == "session:early"
    assert interrupt_handler(ctx)(page, "en", [job_id], "alice")[1] == "Interrupted. The job was cancelled."
    assert ended(ctx, job_id, timeout=5).status == "interrupted"


def test_reattach_follows_every_job_of_a_batch(service_ctx):
    _server, ctx = service_ctx(step_time=0.02, steps=15)
    first = asyncio.run(run_until(ctx, owned_request(ALICE, {"seed": 300}, count=3),
                                  lambda o: "step" in (o.progress or "")))
    ids = first[-1].job_ids
    assert len(ids) == 3  # all sent up front, all known to the page (Interrupt stops them all)
    outs = collect_reattach(ctx, ALICE)  # the reloaded page
    lines = [u.progress or "" for u in outs]
    assert any("Job 1 of 3" in t for t in lines) and any("Job 3 of 3" in t for t in lines), lines
    assert [u for u in outs if u.final] == [outs[-1]]
    last = outs[-1]
    records = [ctx.jobs.store.get(i) for i in ids]
    assert all(r.status == "success" for r in records)
    assert last.ok and last.message == "Done — 3 pictures." and last.job_ids == ids
    assert last.gallery == [str(r.outputs[0].path) for r in records] and last.seeds == [300, 301, 302]
    # once it has ended, a reload still shows the whole batch
    wait_until(lambda: all(ctx.jobs.live(i) is None for i in ids), what="the followers to let go")
    again = collect_reattach(ctx, ALICE)[-1]
    assert again.final and again.message == "Done — 3 pictures." and again.gallery == last.gallery


class _ProxyOnPort:
    """A FaultProxy started again on a port another one used (the server "comes back")."""

    def __init__(self, upstream, port):
        from fault_proxy import FaultProxy

        self.proxy = FaultProxy(upstream)
        self.proxy.port = port
        self.proxy._thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy._start(), self.proxy._loop).result(10)


def test_progress_says_when_contact_is_lost_and_goes_back_when_it_returns(make_comfy_server, tmp_path):
    from fault_proxy import FaultProxy

    server = make_comfy_server(step_time=0.1, steps=60)  # 6 s of sampling
    proxy = FaultProxy(server.url).start()
    store = JobStore(tmp_path / "data")
    comfy = Comfy(proxy.url, timeout=2, poll_interval=0.2)  # gives up after its default 60 s
    ctx = app_context(job_service(comfy, store), tmp_path / "out")
    back = []

    async def go():
        seen, cut_at = [], None
        async for out in run(ctx, owned_request(ALICE), "en"):
            now = time.monotonic()
            seen.append((now, out.progress or ""))
            if cut_at is None and "step" in (out.progress or ""):
                cut_at = now
                await asyncio.to_thread(proxy.stop)  # ComfyUI is gone, mid-job
            elif cut_at is not None and not back and "Lost contact" in (out.progress or ""):
                back.append(await asyncio.to_thread(_ProxyOnPort, server.url, proxy.port))
            if out.final:
                return seen, cut_at

    try:
        seen, cut_at = asyncio.run(go())
    finally:
        for again in back:
            again.proxy.stop()
        ctx.cluster.close()
        store.close()
    lost = [(t, p) for t, p in seen if "Lost contact" in p]
    assert lost and lost[0][1].startswith("**Lost contact with ComfyUI; waiting for it (up to 60 s)…**<"), seen
    assert 'class="job-state job-running"' in lost[0][1]  # still a running job for the page's scripts
    assert lost[0][0] - cut_at < 3.0  # at once, not when ComfyUI is given up on a minute later
    after = [p for t, p in seen if t > lost[-1][0]]
    assert any(re.search(r"step \d+/60", p) for p in after), after  # the job's own progress again
    assert "Done" in seen[-1][1]


def test_a_job_in_the_apps_queue_says_when_no_server_can_be_reached(make_comfy_server, tmp_path):
    from comfy_ui_app.cluster.cluster import Cluster

    server = make_comfy_server()
    port = server.port
    comfy = Comfy(server.url, timeout=2, poll_interval=0.1, stall_after=0.5, give_up_after=5)
    cluster = Cluster([comfy], per_server=1, health_interval=0.2, give_up_after=30)
    store = JobStore(tmp_path / "data")
    jobs = JobService(cluster, store)
    cluster.start()
    ctx = app_context(jobs, tmp_path / "out")
    try:
        wait_until(lambda: all(s.healthy for s in cluster.servers), what="a healthy server")
        server.stop()
        wait_until(lambda: not any(s.healthy for s in cluster.servers), what="no healthy server")

        async def go():
            seen, restarted = [], False
            async for out in run(ctx, owned_request(ALICE), "en"):
                seen.append(out.progress or "")
                if not restarted and "No ComfyUI server" in (out.progress or ""):
                    restarted = True
                    await asyncio.to_thread(make_comfy_server, port=port)  # a server comes back
                if out.final:
                    return seen, out
        seen, last = asyncio.run(go())
    finally:
        cluster.close()
        store.close()
    assert any(p.startswith("**No ComfyUI server can be reached; the job waits for one (up to 30 s)…**")
               for p in seen), seen
    assert last.ok and last.message == "Done — 1 picture.", (seen, last)
