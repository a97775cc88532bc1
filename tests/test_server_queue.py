"""Queue, interrupt, free and history behaviour vs queue_ordering.json,
queue_interrupt_free.json and history.json (tests/fixtures/comfyui)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from comfy_test_server._probe import WsProbe, normalize

FIX = Path(__file__).parent / "fixtures" / "comfyui"
ORDERING = json.loads((FIX / "queue_ordering.json").read_text())
INTERRUPT = json.loads((FIX / "queue_interrupt_free.json").read_text())
HISTORY = json.loads((FIX / "history.json").read_text())
SLOW_PROMPT = INTERRUPT["post_slow"]["request"]["json"]["prompt"]


def prompt(seed: int, steps: int = 4) -> dict:
    graph = json.loads(json.dumps(SLOW_PROMPT))
    graph["3"]["inputs"].update(seed=seed, steps=steps)
    return graph


def post(server, **body) -> requests.Response:
    response = requests.post(server.url + "/prompt", json=body)
    assert response.status_code == 200, response.text
    return response


def wait_running(server, probe: WsProbe, node="3"):
    probe.until(lambda k, d: k == "text" and d["type"] == "executing" and d["data"]["node"] == node)


def empty_200(response):
    assert response.status_code == 200 and response.content == b""
    assert "Content-Type" not in response.headers


def test_heap_order_front_and_number(comfy_server):
    """One running and five pending, posted like the recording; GET /queue is the raw heap."""
    probe = WsProbe(comfy_server.url, "ref-queue")
    recorded_slow = ORDERING["post_slow_running"]["response"]["json"]["number"]
    for _ in range(recorded_slow):  # failed validations count too: bring the counter to 23
        assert requests.post(comfy_server.url + "/prompt", json={"prompt": {}}).status_code == 400
    comfy_server.hang_next()
    slow = post(comfy_server, prompt=prompt(1, 150), client_id="ref-queue").json()
    assert slow["number"] == recorded_slow
    wait_running(comfy_server, probe)
    names = ["post_A_plain", "post_B_front_true", "post_C_number_3", "post_D_front_1_int",
             "post_E_number_string_2.5"]
    ids, numbers = {}, {}
    for i, name in enumerate(names):
        extra = {k: v for k, v in ORDERING[name]["request"]["json"].items() if k not in ("prompt", "client_id")}
        response = post(comfy_server, prompt=prompt(10 + i), client_id="ref-queue", **extra)
        ids[response.json()["prompt_id"]], numbers[name] = name, response.json()["number"]
        assert type(numbers[name]) is type(ORDERING[name]["response"]["json"]["number"]), name
    assert numbers == {name: ORDERING[name]["response"]["json"]["number"] for name in names}
    queue = requests.get(comfy_server.url + "/queue")
    recorded = ORDERING["get_queue_running_plus_pending"]["response"]
    assert queue.headers["Content-Type"] == recorded["headers"]["Content-Type"]
    recorded_ids = {r["response"]["json"]["prompt_id"]: name for name, r in ORDERING.items()
                    if name.startswith("post_")}
    pending = queue.json()["queue_pending"]
    assert [ids[item[1]] for item in pending] == \
        [recorded_ids[item[1]] for item in recorded["json"]["queue_pending"]]
    assert [item[0] for item in pending] == [item[0] for item in recorded["json"]["queue_pending"]]
    assert '3.0, "' in queue.text and all(len(item) == 5 for item in pending)
    assert queue.json()["queue_running"][0][:2] == [recorded_slow, slow["prompt_id"]]
    assert queue.json()["queue_running"][0][3:] == [{"client_id": "ref-queue"}, ["9"]]
    assert requests.get(comfy_server.url + "/prompt").json() == \
        ORDERING["get_prompt_running_plus_pending"]["response"]["json"]

    # reconnecting with the same clientId mid-run: status (with sid) then executing without prompt_id
    probe.close()
    again = WsProbe(comfy_server.url, "ref-queue", read_status=False)
    again.recv(), again.recv()
    recorded_first = ORDERING["reconnect_same_client_id_first_messages"]["messages"][:2]
    assert [d for _, d in again.messages] == [
        {**recorded_first[0]["data"], "data": {**recorded_first[0]["data"]["data"], "sid": "ref-queue"}},
        recorded_first[1]["data"]]

    requests.post(comfy_server.url + "/interrupt")
    again.until_done(ids_by_name(ids)["post_A_plain"])
    started = [ids.get(d["data"]["prompt_id"]) for d in again.texts("execution_start")]
    assert started == ORDERING["execution_order_observed_after_reconnect"]
    assert list(requests.get(comfy_server.url + "/history").json())[0] == slow["prompt_id"]


def ids_by_name(ids: dict) -> dict:
    return {name: pid for pid, name in ids.items()}


def test_delete_clear_and_interrupts(comfy_server):
    probe = WsProbe(comfy_server.url, "ref-int")
    probe.until_done(post(comfy_server, prompt=prompt(5), client_id="ref-int").json()["prompt_id"])
    del probe.messages[:]  # the warm-up: the recording ran with loader and text encoders cached
    comfy_server.hang_next()
    slow = post(comfy_server, prompt=prompt(1024, 400), client_id="ref-int").json()["prompt_id"]
    wait_running(comfy_server, probe)
    pending = [post(comfy_server, prompt=prompt(100 + i), client_id="ref-int").json()["prompt_id"] for i in range(3)]
    assert [i[1] for i in requests.get(comfy_server.url + "/queue").json()["queue_pending"]] == pending

    empty_200(requests.post(comfy_server.url + "/queue", json={"delete": [pending[0]]}))
    assert [i[1] for i in requests.get(comfy_server.url + "/queue").json()["queue_pending"]] == pending[1:]
    for noop in ([slow], ["no-such-id"]):
        empty_200(requests.post(comfy_server.url + "/queue", json={"delete": noop}))
        queue = requests.get(comfy_server.url + "/queue").json()
        assert [i[1] for i in queue["queue_pending"]] == pending[1:] and queue["queue_running"][0][1] == slow
    empty_200(requests.post(comfy_server.url + "/queue", json={"clear": True}))
    queue = requests.get(comfy_server.url + "/queue").json()
    assert queue["queue_pending"] == [] and queue["queue_running"][0][1] == slow

    empty_200(requests.post(comfy_server.url + "/interrupt", json={"prompt_id": "not-the-running-one"}))
    assert all(probe.summary(probe.quiet(0.15)))
    assert "execution_interrupted" not in probe.summary()
    assert requests.get(comfy_server.url + "/queue").json()["queue_running"][0][1] == slow
    empty_200(requests.post(comfy_server.url + "/interrupt"))
    probe.until_done(slow)

    def no_steps(summary):
        return [s for s in normalize(summary) if not s.startswith(("progress", "<binary"))]
    recorded = INTERRUPT["ws_interrupt_run"]["sequence_summary"]
    assert no_steps(probe.summary()) == no_steps(recorded)[1:]  # [0] is the connect-time status
    interrupted = probe.texts("execution_interrupted")[0]["data"]
    recorded_msg = next(m["data"]["data"] for m in INTERRUPT["ws_interrupt_run"]["websocket"]["messages"]
                        if m["kind"] == "text" and m["data"]["type"] == "execution_interrupted")
    assert list(interrupted) == list(recorded_msg)
    assert {k: interrupted[k] for k in ("node_id", "node_type", "executed")} == \
           {k: recorded_msg[k] for k in ("node_id", "node_type", "executed")}

    entry = requests.get(f"{comfy_server.url}/history/{slow}").json()[slow]
    recorded_entry = next(iter(INTERRUPT["history_of_interrupted"]["response"]["json"].values()))
    assert (entry["outputs"], entry["meta"]) == (recorded_entry["outputs"], recorded_entry["meta"])
    assert entry["status"]["status_str"] == "error" and entry["status"]["completed"] is False
    assert [m[0] for m in entry["status"]["messages"]] == [m[0] for m in recorded_entry["status"]["messages"]]
    assert requests.get(comfy_server.url + "/queue").json() == INTERRUPT["queue_after_interrupt"]["response"]["json"]
    assert requests.get(f"{comfy_server.url}/history/{pending[0]}").json() == {}  # deleted: never ran


def test_targeted_interrupt_and_idle_interrupt(comfy_server):
    probe = WsProbe(comfy_server.url, "ref-int")
    comfy_server.hang_next()
    pid = post(comfy_server, prompt=prompt(1), client_id="ref-int").json()["prompt_id"]
    wait_running(comfy_server, probe)
    empty_200(requests.post(comfy_server.url + "/interrupt", json={"prompt_id": pid}))
    probe.until_done(pid)
    assert normalize(probe.summary())[-3:] == INTERRUPT["ws_targeted_interrupt_summary"][-3:]

    empty_200(requests.post(comfy_server.url + "/interrupt", json={}))  # idle: no effect on the next run
    pid = post(comfy_server, prompt=prompt(2), client_id="ref-int").json()["prompt_id"]
    assert probe.summary(probe.until_done(pid))[-3:] == ["execution_success", "status(queue_remaining=0)",
                                                         "executing(node=None)"]


@pytest.mark.parametrize("path", ["/interrupt", "/api/interrupt"])
def test_get_interrupt_is_404(comfy_server, path):
    recorded = INTERRUPT["get_interrupt" if path == "/interrupt" else "get_api_interrupt"]["response"]
    response = requests.get(comfy_server.url + path)
    assert response.status_code == recorded["status"] and response.content == b""
    assert response.headers["Content-Type"] == recorded["headers"]["Content-Type"]


def test_free_memory_drops_the_cache(comfy_server):
    probe = WsProbe(comfy_server.url, "ref-free")
    for body in ({}, {"unload_models": True, "free_memory": True}):
        probe.until_done(post(comfy_server, prompt=prompt(1), client_id="ref-free").json()["prompt_id"])
        empty_200(requests.post(comfy_server.url + "/free", json=body))
        pid = post(comfy_server, prompt=prompt(2), client_id="ref-free").json()["prompt_id"]
        probe.until_done(pid)
        cached = probe.texts("execution_cached")[-1]["data"]["nodes"]
        assert cached == (["4", "6", "7", "5"] if body == {} else [])
    assert normalize(probe.summary())[-len(INTERRUPT["txt2img_after_free"]["sequence_summary"]) + 1:] == \
        normalize(INTERRUPT["txt2img_after_free"]["sequence_summary"])[1:]


def test_history_listing_offsets_and_deletion(comfy_server):
    probe = WsProbe(comfy_server.url, "ref-hist")
    ids = [post(comfy_server, prompt=prompt(i), client_id="ref-hist").json()["prompt_id"] for i in range(4)]
    probe.until_done(ids[-1])
    bad = requests.post(comfy_server.url + "/prompt", json={"prompt": {}})
    assert bad.status_code == 400
    url = comfy_server.url + "/history"
    assert list(requests.get(url).json()) == ids                               # completion order
    assert list(requests.get(url, params={"max_items": 1}).json()) == ids[-1:]
    assert list(requests.get(url, params={"max_items": 2, "offset": 1}).json()) == ids[1:3]
    assert list(requests.get(url, params={"offset": 2}).json()) == ids[2:]
    assert requests.get(url + "/no-such-id").json() == HISTORY["get_history_unknown_id"]["response"]["json"]
    entry = requests.get(f"{url}/{ids[1]}").json()[ids[1]]
    recorded = next(iter(HISTORY["get_history_success"]["response"]["json"].values()))
    assert list(entry) == list(recorded) and list(entry["status"]) == list(recorded["status"])
    assert entry["prompt"][3:] == [{"client_id": "ref-hist"}, ["9"]] and entry["meta"] == recorded["meta"]
    empty_200(requests.post(url, json={"delete": [ids[0]]}))
    assert requests.get(f"{url}/{ids[0]}").json() == {}
    empty_200(requests.post(url, json={"clear": True}))
    assert requests.get(url).json() == HISTORY["get_history_after_clear"]["response"]["json"]


def test_history_appears_after_execution_success_and_before_the_end_marker(comfy_server, monkeypatch):
    """README "Timing pitfall": /history read on execution_success is still {}."""
    monkeypatch.setattr(comfy_server, "HISTORY_DELAY", 0.3)
    probe = WsProbe(comfy_server.url, "ref-hist")
    pid = post(comfy_server, prompt=prompt(1), client_id="ref-hist").json()["prompt_id"]
    probe.until(lambda k, d: k == "text" and d["type"] == "execution_success")
    assert requests.get(f"{comfy_server.url}/history/{pid}").json() == {}
    assert requests.get(f"{comfy_server.url}/queue").json()["queue_running"][0][1] == pid
    probe.until_done(pid)
    assert pid in requests.get(f"{comfy_server.url}/history/{pid}").json()
    monkeypatch.setattr(comfy_server, "HISTORY_DELAY", 0)
    for i in range(2, 5):
        pid = post(comfy_server, prompt=prompt(i), client_id="ref-hist").json()["prompt_id"]
        probe.until_done(pid)
        assert pid in requests.get(f"{comfy_server.url}/history/{pid}").json()


def test_pending_queue_while_paused_runs_lowest_number_first(comfy_server):
    probe = WsProbe(comfy_server.url, "ref-pause")
    comfy_server.pause()
    a = post(comfy_server, prompt=prompt(1), client_id="ref-pause").json()
    b = post(comfy_server, prompt=prompt(2), client_id="ref-pause", front=True).json()
    c = post(comfy_server, prompt=prompt(3), client_id="ref-pause", number=-10).json()
    time.sleep(0.05)
    queue = requests.get(comfy_server.url + "/queue").json()
    assert queue["queue_running"] == [] and [i[1] for i in queue["queue_pending"]] == \
        [c["prompt_id"], a["prompt_id"], b["prompt_id"]]
    assert probe.summary(probe.quiet(0.1)) == [f"status(queue_remaining={n})" for n in (1, 2, 3)]
    comfy_server.resume()
    probe.until_done(a["prompt_id"])
    assert [d["data"]["prompt_id"] for d in probe.texts("execution_start")] == \
        [c["prompt_id"], b["prompt_id"], a["prompt_id"]]
