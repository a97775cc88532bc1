"""Cluster against two or three test servers: routing, fairness, queue positions, faults."""

import threading
import time

import pytest

from comfy_ui_app import (Comfy, ComfyClient, Finished, JobInterrupted, JobLost, ServerUnreachable, Started,
                          WorkflowError)
from comfy_ui_app.texts.messages import describe
from comfy_ui_app.cluster.dispatch import ClusterJob, FairQueue
from comfy_ui_app.errors import RunLimitExceeded
from comfy_ui_app.cluster.cluster import Cluster
from test_client import CKPT, closed_port_url, small_prompt
from _updates import positions
from _waiting import wait_for as eventually

X, Y = "x.safetensors", "y.safetensors"


def fast_comfy(url):
    return Comfy(url, timeout=2, poll_interval=0.1, stall_after=0.5, give_up_after=1.0)


@pytest.fixture
def make_cluster():
    made = []

    def make(urls, **kwargs):
        kwargs.setdefault("health_interval", 0.1)
        cluster = Cluster([fast_comfy(url) for url in urls], **kwargs).start()
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.close()


def healthy(cluster, count=None):
    count = len(cluster.servers) if count is None else count
    eventually(lambda: sum(s.healthy for s in cluster.servers) == count, what=f"{count} healthy servers")


def prompt_for(ckpt=CKPT, text="a red fox", seed=1):
    prompt = small_prompt(text, seed)
    prompt["4"]["inputs"]["ckpt_name"] = ckpt
    return prompt


def texts(server):
    return [p["prompt"]["6"]["inputs"]["text"] for p in server.received_prompts]


def holds_for(predicate, seconds, what):
    """Fail as soon as ``predicate`` turns false within ``seconds``: a state that must last
    (something that must not happen can only be watched for a while, not waited for)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert predicate(), f"no longer {what}"
        time.sleep(0.02)


def test_fair_queue_gives_turns_and_newcomers_go_first():
    def job(owner, n):
        j = ClusterJob.__new__(ClusterJob)
        j.owner, j.name = owner, f"{owner}{n}"
        return j

    queue = FairQueue()
    a = [job("a", i) for i in range(4)]
    for j in a:
        queue.push(j)
    queue.take(a[0])  # a was served once
    b = job("b", 0)
    queue.push(b)
    c = [job("c", i) for i in range(2)]
    for j in c:
        queue.push(j)
    assert [j.name for j in queue.order()] == ["b0", "c0", "a1", "c1", "a2", "a3"]
    queue.take(b)
    queue.take(c[0])
    assert [j.name for j in queue.order()] == ["a1", "c1", "a2", "a3"]
    assert queue.remove(a[2]) and not queue.remove(a[2]) and len(queue) == 3
    queue.take(a[1]), queue.take(a[3]), queue.take(c[1])
    assert len(queue) == 0
    queue.push(job("a", 9))  # a and c were served (c last); d never was
    queue.push(job("c", 9))
    queue.push(job("d", 9))
    assert [j.name for j in queue.order()] == ["d9", "a9", "c9"]


def test_jobs_spread_over_servers_and_per_server_is_respected(make_comfy_server, make_cluster):
    one, two = make_comfy_server(), make_comfy_server()
    one.pause(), two.pause()
    cluster = make_cluster([one.url, two.url], per_server=2)
    healthy(cluster)
    jobs = [cluster.submit(prompt_for(text=f"job {i}"), owner="alice") for i in range(6)]
    eventually(lambda: len(one.received_prompts) + len(two.received_prompts) == 4, what="4 sent")
    # both servers full, as they themselves report it: nothing more may go out from here on
    eventually(lambda: [s.queue_remaining for s in cluster.servers] == [2, 2], what="both servers' queues of 2")
    holds_for(lambda: len(one.received_prompts) + len(two.received_prompts) == 4, 0.3, what="4 sent")
    assert len(one.received_prompts) == 2 and len(two.received_prompts) == 2
    assert [s.in_flight for s in cluster.servers] == [2, 2]
    waiting = cluster.waiting()
    assert waiting == jobs[4:] and all(j.waiting and j.server is None for j in waiting)
    eventually(lambda: positions(jobs[4])[-1:] == [0] and positions(jobs[5])[-1:] == [1],
               what="positions 0 and 1 read from the waiting jobs")
    one.resume(), two.resume()
    finished = [job.wait(timeout=20) for job in jobs]
    assert all(f.ok and f.images for f in finished)
    assert {job.server for job in jobs} == {one.url, two.url}
    assert len(one.received_prompts) + len(two.received_prompts) == 6
    assert [s.in_flight for s in cluster.servers] == [0, 0]


def test_a_job_goes_only_where_its_checkpoint_is(make_comfy_server, make_cluster):
    plain, rich = make_comfy_server(checkpoints=[X]), make_comfy_server(checkpoints=[X, Y])
    cluster = make_cluster([plain.url, rich.url])
    healthy(cluster)
    assert [s.checkpoints for s in cluster.servers] == [[X], [X, Y]]
    assert "KSampler" in cluster.servers[0].node_classes
    jobs = [cluster.submit(prompt_for(Y, seed=i), owner="alice") for i in range(4)]
    assert all(job.wait(timeout=20).ok for job in jobs)
    assert plain.received_prompts == [] and len(rich.received_prompts) == 4


def test_a_job_no_server_can_run_ends_at_once_naming_what_is_missing(make_comfy_server, make_cluster):
    server = make_comfy_server(checkpoints=[X])
    cluster = make_cluster([server.url])
    healthy(cluster)
    finished = cluster.submit(prompt_for("nowhere.safetensors"), owner="alice").wait(timeout=5)
    assert finished.status == "error" and isinstance(finished.error, WorkflowError)
    assert "nowhere.safetensors" in str(finished.error) and finished.error.field == "checkpoint"
    prompt = prompt_for(X)
    prompt["3"]["class_type"] = "FancySampler"
    finished = cluster.submit(prompt, owner="alice").wait(timeout=5)
    assert isinstance(finished.error, WorkflowError) and "FancySampler" in str(finished.error)
    assert server.received_prompts == []


def test_the_server_with_the_checkpoint_loaded_is_preferred(make_comfy_server, make_cluster):
    first, second = make_comfy_server(checkpoints=[X, Y]), make_comfy_server(checkpoints=[X, Y])
    first.pause(), second.pause()
    cluster = make_cluster([first.url, second.url])
    healthy(cluster)
    a, b = cluster.submit(prompt_for(X), owner="u"), cluster.submit(prompt_for(Y), owner="u")
    eventually(lambda: a.server and b.server, what="both sent")
    assert (a.server, b.server) == (first.url, second.url)  # the idle one took the second
    first.resume(), second.resume()
    assert a.wait(timeout=20).ok and b.wait(timeout=20).ok
    assert [s.last_checkpoint for s in cluster.servers] == [X, Y]
    c = cluster.submit(prompt_for(Y, seed=3), owner="u")  # both idle: Y is loaded on the second
    assert c.wait(timeout=20).ok and c.server == second.url
    d = cluster.submit(prompt_for(X, seed=4), owner="u")
    assert d.wait(timeout=20).ok and d.server == first.url


def test_owners_take_turns_and_see_their_place_in_the_queue(make_comfy_server, make_cluster):
    server = make_comfy_server()
    server.pause()
    cluster = make_cluster([server.url], per_server=1)
    healthy(cluster)
    alice = [cluster.submit(prompt_for(text=f"alice {i}", seed=i), owner="alice") for i in range(5)]
    eventually(lambda: alice[0].server == server.url, what="alice's first job sent")
    bob = cluster.submit(prompt_for(text="bob 0"), owner="bob")
    assert cluster.waiting() == [bob] + alice[1:]
    eventually(lambda: positions(bob) == [0] and positions(alice[4])[-1:] == [4]
               and positions(alice[1])[-2:] == [0, 1],  # it was next until bob came
               what="bob next, alice's second job after him")
    server.resume()
    assert all(job.wait(timeout=20).ok for job in alice + [bob])
    assert texts(server)[:3] == ["alice 0", "bob 0", "alice 1"]


def test_interrupt_while_waiting_in_our_queue(make_comfy_server, make_cluster):
    server = make_comfy_server()
    server.pause()
    cluster = make_cluster([server.url], per_server=1)
    healthy(cluster)
    jobs = [cluster.submit(prompt_for(text=f"job {i}"), owner="u") for i in range(3)]
    eventually(lambda: jobs[0].server is not None, what="first job sent")
    eventually(lambda: positions(jobs[2])[-1:] == [1], what="the third job second in line")
    jobs[1].interrupt()
    finished = jobs[1].wait(timeout=5)
    assert finished.status == "interrupted" and isinstance(finished.error, JobInterrupted)
    eventually(lambda: positions(jobs[2])[-1:] == [0], what="the third job next")
    assert cluster.waiting() == [jobs[2]]
    server.resume()
    assert jobs[0].wait(timeout=20).ok and jobs[2].wait(timeout=20).ok
    assert texts(server) == ["job 0", "job 2"]


def test_a_reader_silence_timeout_does_not_end_a_job_waiting_in_our_queue(make_comfy_server, make_cluster):
    server = make_comfy_server()
    server.pause()
    cluster = make_cluster([server.url], per_server=1)
    healthy(cluster)
    first, second = cluster.submit(prompt_for(seed=1), owner="u"), cluster.submit(prompt_for(seed=2), owner="u")
    eventually(lambda: first.server is not None, what="first job sent")
    read = []
    reader = threading.Thread(target=lambda: read.extend(second.updates(timeout=0.2)), daemon=True)
    reader.start()
    holds_for(lambda: not second.done and second.waiting and reader.is_alive(), 0.7,  # three silences
              what="waiting in our queue with its reader reading on")
    server.resume()
    reader.join(20)
    assert isinstance(read[-1], Finished) and read[-1].ok


def test_interrupt_a_running_job(make_comfy_server, make_cluster):
    server = make_comfy_server(step_time=0.05, steps=200)
    cluster = make_cluster([server.url])
    job = cluster.submit(prompt_for(), owner="u")
    for update in job.updates(timeout=20):
        if isinstance(update, Started):
            break
    job.interrupt()
    assert job.wait(timeout=10).status == "interrupted"


def test_no_server_up_jobs_wait_then_run_when_one_comes_up(make_comfy_server, make_cluster):
    url = closed_port_url()
    cluster = make_cluster([url])
    jobs = [cluster.submit(prompt_for(seed=i), owner="u") for i in range(2)]
    eventually(lambda: url in cluster.servers[0].reason, what="a health check finding the server down")
    (state,) = cluster.servers
    assert not state.healthy and url in state.reason
    eventually(lambda: [positions(job) for job in jobs] == [[0], [1]], what="positions 0 and 1")
    holds_for(lambda: not any(job.done for job in jobs), 0.3, what="both jobs waiting for a server")
    make_comfy_server(port=int(url.rsplit(":", 1)[1]))
    finished = [job.wait(timeout=20) for job in jobs]
    assert all(f.ok and f.images for f in finished) and {job.server for job in jobs} == {url}


def test_a_job_waiting_on_a_dead_server_moves_to_another(make_comfy_server, make_cluster):
    first = make_comfy_server()
    first.pause()  # our job sits in its queue, not started
    spare_url = closed_port_url()
    cluster = make_cluster([first.url, spare_url])
    healthy(cluster, 1)
    job = cluster.submit(prompt_for(), owner="u")
    eventually(lambda: job.server == first.url, what="sent to the first server")
    first_id = job.prompt_id
    spare = make_comfy_server(port=int(spare_url.rsplit(":", 1)[1]))
    healthy(cluster, 2)
    first.stop()
    finished = job.wait(timeout=20)
    assert finished.ok and finished.images
    assert job.server == spare_url and job.attempts == 2 and job.prompt_id != first_id
    assert [p["prompt_id"] for p in spare.received_prompts] == [job.prompt_id]
    kinds = [type(u).__name__ for u in job.updates()]
    assert kinds.count("Finished") == 1 and kinds.index("Started") < kinds.index("Finished")


def test_a_server_dying_mid_run_ends_the_job_naming_it(make_comfy_server, make_cluster):
    doomed, other = make_comfy_server(step_time=0.05, steps=200), make_comfy_server()
    cluster = make_cluster([doomed.url, other.url])
    healthy(cluster)
    job = cluster.submit(prompt_for(), owner="u")
    for update in job.updates(timeout=20):
        if isinstance(update, Started):
            break
    assert job.server == doomed.url
    doomed.stop()
    finished = job.wait(timeout=20)
    assert finished.status == "error" and isinstance(finished.error, JobLost) and finished.error.started
    assert str(finished.error).startswith(f"ComfyUI at {doomed.url} stopped while this job ran")
    assert describe(finished.error) == f"ComfyUI at {doomed.url} stopped while this job ran. Please try again."
    assert other.received_prompts == []  # it had started: not run twice
    eventually(lambda: not cluster.servers[0].healthy, what="the dead server marked unhealthy")
    assert cluster.submit(prompt_for(seed=2), owner="u").wait(timeout=20).ok  # the other one takes over


def test_a_restarted_server_forgets_a_running_job_and_the_error_names_it(make_comfy_server, make_cluster):
    server = make_comfy_server(step_time=0.05, steps=200)
    cluster = make_cluster([server.url])
    job = cluster.submit(prompt_for(), owner="u")
    for update in job.updates(timeout=20):
        if isinstance(update, Started):
            break
    port = server.port
    server.stop()
    make_comfy_server(port=port)
    finished = job.wait(timeout=20)
    assert finished.status == "error" and server.url in str(finished.error)


def test_a_socket_drop_mid_run_is_survived(make_comfy_server, make_cluster):
    server = make_comfy_server(step_time=0.02, steps=30)
    cluster = make_cluster([server.url])
    job = cluster.submit(prompt_for(), owner="u")
    for update in job.updates(timeout=20):
        if isinstance(update, Started):
            server.drop_websockets()
            break
    finished = job.wait(timeout=20)
    assert finished.ok and finished.images


def test_dispatch_hook_sees_every_send(make_comfy_server, make_cluster):
    server = make_comfy_server()
    seen, lock = [], threading.Lock()

    def on_dispatch(job, url, prompt_id):
        with lock:
            seen.append((job.owner, url, prompt_id))

    cluster = make_cluster([server.url], on_dispatch=on_dispatch)
    job = cluster.submit(prompt_for(), owner="u", prompt_id="00000000-0000-4000-8000-000000000001")
    assert job.wait(timeout=20).ok
    assert seen == [("u", server.url, "00000000-0000-4000-8000-000000000001")]
    assert isinstance(job.wait(), Finished)


def test_a_success_whose_images_cannot_be_fetched_is_an_error(make_comfy_server, make_cluster):
    server = make_comfy_server()
    cluster = make_cluster([server.url])

    def view(*args, **kwargs):
        raise ServerUnreachable(server.url, "gone")

    cluster.comfies[0].client.view = view  # the server died right after the job
    job = cluster.submit(prompt_for(), owner="u")
    finished = job.wait(timeout=20)
    assert finished.status == "error" and isinstance(finished.error, ServerUnreachable)
    assert server.url in str(finished.error) and "images" in str(finished.error)
    assert job.server_job.fetch_errors and job.server_job.state == "error"  # the server job itself ends as an error too


def test_a_job_no_server_can_take_gives_up_after_a_while(make_cluster):
    url = closed_port_url()
    cluster = make_cluster([url], give_up_after=0.5)
    finished = cluster.submit(prompt_for(), owner="u").wait(timeout=10)
    assert finished.status == "error" and isinstance(finished.error, ServerUnreachable)
    assert url in str(finished.error) and cluster.waiting() == []


# -- a job that hangs on a server; a job that ends while it is there ---------------------

def interrupted_there(server, prompt_id):
    """The test server recorded ``prompt_id`` as interrupted (its /history says so)."""
    entry = ComfyClient(server.url).get_history_item(prompt_id).get(prompt_id) or {}
    return any(m[0] == "execution_interrupted" for m in (entry.get("status") or {}).get("messages") or [])


def started(job):
    for update in job.updates(timeout=20):
        if isinstance(update, Started):
            return
    raise AssertionError(f"{job} never started")


def test_a_job_hanging_past_the_run_limit_is_stopped_there_and_frees_its_slot(make_comfy_server, make_cluster):
    server = make_comfy_server()
    cluster = make_cluster([server.url], per_server=1, run_limit=0.5)
    healthy(cluster)
    server.hang_next()  # it stays in queue_running and sends nothing more
    job = cluster.submit(prompt_for(), owner="u")
    started(job)
    hung_id = job.prompt_id
    finished = job.wait()  # no reader timeout: the cluster alone must end it
    assert finished.status == "error" and isinstance(finished.error, RunLimitExceeded)
    assert str(finished.error) == (f"The job ran for more than 0.5 s on ComfyUI at {server.url} without finishing, "
                                   "so the app stopped it. Please try again.")
    assert describe(finished.error) == str(finished.error)
    eventually(lambda: interrupted_there(server, hung_id), what="the hung prompt interrupted on its server")
    eventually(lambda: cluster.servers[0].in_flight == 0, what="its slot freed")
    assert cluster.submit(prompt_for(seed=2), owner="u").wait(timeout=20).ok  # the one slot serves again


def test_a_job_a_reader_gave_up_on_is_stopped_on_its_server_and_frees_its_slot(make_comfy_server, make_cluster):
    server = make_comfy_server()
    cluster = make_cluster([server.url], per_server=1, run_limit=None)
    healthy(cluster)
    server.hang_next()
    job = cluster.submit(prompt_for(), owner="u")
    started(job)
    finished = job.wait(timeout=0.5)  # the page's silence timeout, shortened
    assert isinstance(finished.error, JobLost)
    eventually(lambda: interrupted_there(server, job.prompt_id), what="the prompt interrupted on its server")
    eventually(lambda: cluster.servers[0].in_flight == 0, what="its slot freed")
    assert cluster.submit(prompt_for(seed=2), owner="u").wait(timeout=20).ok


# -- a checkpoint only a server we could not ask yet may have ------------------------------

def test_a_job_needing_a_checkpoint_only_an_unasked_server_may_have_waits_for_it(make_comfy_server, make_cluster):
    known = make_comfy_server(checkpoints=[X])
    later = closed_port_url()  # down since the start: its model list is unknown
    cluster = make_cluster([known.url, later], give_up_after=30)
    healthy(cluster, 1)
    job = cluster.submit(prompt_for(Y), owner="u")
    eventually(lambda: later in cluster.servers[1].reason, what="the unasked server found down")
    holds_for(lambda: not job.done and job.waiting and cluster.waiting() == [job], 0.5,
              what="waiting for the unasked server")
    make_comfy_server(port=int(later.rsplit(":", 1)[1]), checkpoints=[X, Y])
    finished = job.wait(timeout=20)
    assert finished.ok and job.server == later and known.received_prompts == []


def test_waiting_for_an_unasked_server_gives_up_naming_it(make_comfy_server, make_cluster):
    known = make_comfy_server(checkpoints=[X])
    later = closed_port_url()
    cluster = make_cluster([known.url, later], give_up_after=0.5)
    healthy(cluster, 1)
    finished = cluster.submit(prompt_for(Y), owner="u").wait(timeout=10)
    assert finished.status == "error" and isinstance(finished.error, WorkflowError)
    assert str(finished.error) == (f"No ComfyUI server that answered has the checkpoint {Y}; ComfyUI at {later} "
                                   "could not be asked (it has not answered for 0.5 s)")
    assert describe(finished.error, lang="zh-CN") == (f"已应答的 ComfyUI 服务器都没有模型 {Y}；"
                                                      f"无法询问 ComfyUI at {later}（已 0.5 秒没有应答）")
    assert finished.error.field == "checkpoint" and cluster.waiting() == []


def test_an_admins_move_goes_before_every_owners_turn():
    def job(owner, n):
        j = ClusterJob.__new__(ClusterJob)
        j.owner, j.name = owner, f"{owner}{n}"
        return j

    queue = FairQueue()
    a, b = [job("a", i) for i in range(3)], [job("b", i) for i in range(2)]
    for j in a + b:
        queue.push(j)
    assert [j.name for j in queue.order()] == ["a0", "b0", "a1", "b1", "a2"]
    queue.remove(a[2])
    queue.push(a[2], everyone=True)
    assert [j.name for j in queue.order()] == ["a2", "a0", "b0", "a1", "b1"] and a[2] in queue and len(queue) == 5
    queue.take(a[2])  # a's turn is used: b goes next
    assert [j.name for j in queue.order()] == ["b0", "a0", "b1", "a1"]


def test_a_job_holding_nan_fails_alone_and_the_server_stays_healthy(make_comfy_server, make_cluster):
    """Issue 13 point 3: a graph JSON cannot carry is refused on this side (NotSendable), never read as
    "Cannot reach ComfyUI"; the server is not marked down and the next job runs at once."""
    from comfy_ui_app.errors import NotSendable

    server = make_comfy_server()
    cluster = make_cluster([server.url])
    healthy(cluster)
    prompt = prompt_for()
    prompt["3"]["inputs"]["cfg"] = float("nan")
    finished = cluster.submit(prompt, owner="mallory").wait(timeout=5)
    assert finished.status == "error" and isinstance(finished.error, NotSendable), finished.error
    assert (finished.error.node, finished.error.input) == ("3", "cfg")
    assert not isinstance(finished.error, ServerUnreachable) and "reach" not in describe(finished.error)
    holds_for(lambda: all(s.healthy for s in cluster.servers), 0.5, what="healthy")
    assert server.received_prompts == []
    assert cluster.submit(prompt_for(text="alice's fox"), owner="alice").wait(timeout=10).ok
