"""System tab: server facts, the shared memory sampler, models, nodes, admin-only /free."""

from __future__ import annotations

import gradio as gr
import pytest

from comfy_ui_app.ui import system_tab
from comfy_ui_app.ui.context import AppContext
from comfy_ui_app.ui.system_tab import StatsSampler, SystemView, memory_points, stats_markdown
from test_queue_tab import ADMIN, close_ctx, fake_request, make_ctx

GIB = 1024**3


@pytest.fixture
def ctx(comfy_server, tmp_path):
    ctx = make_ctx(comfy_server, tmp_path)
    yield ctx
    close_ctx(ctx)


def test_stats_are_shown_in_words(ctx):
    text = stats_markdown(ctx.comfy.client.system_stats(), "en")
    for expected in ("| Operating system | posix |", "| Python | 3.11.7 |", "| PyTorch | 2.14.1+cu130 |",
                     "| ComfyUI | 0.3.64 |", "22.6 GiB free of 23.5 GiB", "cpu (cpu)",
                     "VRAM 22.6 GiB free of 23.5 GiB; torch 22.6 GiB free of 23.5 GiB"):
        assert expected in text


def test_memory_points_cover_ram_and_every_device():
    stats = {"system": {"ram_free": 2 * GIB},
             "devices": [{"name": "cuda:0", "vram_free": GIB}, {"name": "cuda:1", "vram_free": 3 * GIB}]}
    assert memory_points(stats) == [("RAM free", 2.0), ("cuda:0 VRAM free", 1.0), ("cuda:1 VRAM free", 3.0)]


def test_the_sampler_asks_at_most_once_per_period_and_keeps_a_ring(ctx):
    sampler = StatsSampler(ctx.comfy, every=60)
    for _ in range(5):
        sampler.stats()
    assert sampler.requests == 1
    frame = sampler.frame()
    assert list(frame.columns) == ["time", "series", "GiB"]
    assert set(frame["series"]) == {"RAM free", "cpu VRAM free"}
    assert frame["GiB"].iloc[0] == pytest.approx(24258199552 / GIB)

    ring = StatsSampler(ctx.comfy, every=0, keep=1)  # room for 8 points
    for _ in range(6):
        ring.stats()
    assert ring.requests == 6 and len(ring.frame()) == 8


def test_models_and_nodes(ctx):
    view = SystemView(ctx)
    rows = {folder: (count, names) for folder, count, names in view.models()}
    assert rows["checkpoints"][0] == len(ctx.server.models("checkpoints")) > 0
    assert rows["loras"] == (0, "")
    assert "KSampler" in view.node_classes()
    assert "required" in view.node("KSampler")["input"]
    assert view.node("NoSuchNode") == {} and view.node(None) == {}


def test_only_an_admin_frees_memory(ctx, monkeypatch):
    calls = []
    real = ctx.comfy.client.free
    monkeypatch.setattr(ctx.comfy.client, "free", lambda **kw: calls.append(kw) or real(**kw))
    view = SystemView(ctx)
    assert view.free("user:alice", "en", unload_models=True) == "Only an admin can free memory or unload models."
    assert calls == []
    assert view.free(ADMIN, "en", unload_models=True).startswith("Asked ComfyUI")
    assert view.free(ADMIN, "en", unload_models=False).startswith("Asked ComfyUI")
    assert calls == [{"unload_models": True, "free_memory": False}, {"unload_models": False, "free_memory": True}]


def test_opening_the_tab_shows_admin_buttons_to_admins_only(ctx):
    with gr.Blocks() as demo:
        tab_ctx = AppContext(ctx.comfy, ctx.workflows_dir, ctx.output_dir, ctx.server, gr.State("en"), ctx.jobs,
                             gr.BrowserState(""))
        system_tab.build_tab(tab_ctx)
    refresh = next(f.fn for f in demo.fns.values() if f.api_name == "system_refresh")
    summary, chart, admin_row, models, embeddings, extensions, nodes, timer = refresh("", "en", fake_request("alice"))
    assert "0.3.64" in summary and len(chart) >= 2
    assert admin_row.visible is False and timer.active is True
    assert "KSampler" in [value for _, value in nodes.choices]
    assert "/extensions/core/groupNode.js" in extensions and embeddings == ""
    assert refresh("", "en", fake_request("root"))[2].visible is True
