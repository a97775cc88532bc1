"""The caps of a public demo, end to end: the real page through gradio_client, the test server.

A request over a cap gets the exact message and nothing reaches ComfyUI (no prompt, no
upload, no record); the same request from an admin goes through. The pending cap is
watched with a paused test server. ``app.py``'s flags and environment variables build
the caps; the command line ignores them.
"""
from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from gradio_client import Client
from PIL import Image

import app as app_module
from comfy_ui_app import load_workflow
from comfy_ui_app.errors import LimitExceeded
from comfy_ui_app.workflow.fields import discover
from comfy_ui_app.jobs.limits import Limits
from test_bad_input import editor_of, inpaint
from test_ui_api import CKPT, error_slot, generate, outputs_of
from _waiting import wait_for

REPO = Path(__file__).resolve().parents[1]
USERS = [("alice", "pw-alice"), ("root", "pw-root")]


CAP_CASES = {  # limits, form values -> the message, the field it shows next to (None: the message only)
    "steps": (Limits(max_steps=50), {"Steps": 80},
              "Too many steps: 80 asked, at most 50 allowed on this server.", "Steps"),
    "pixels": (Limits(max_pixels=4096), {"Width": 128, "Height": 64},
               "Picture too large: 128×64 is 8,192 pixels, at most 4,096 allowed on this server.", "Width"),
    "batch-size": (Limits(max_images=4), {"Batch size": 5},
                   "Too many pictures at once: 5 asked, at most 4 allowed on this server.", "Batch size"),
    "batch-size-times-count": (Limits(max_images=4), {"Batch size": 2, "Batch count": 3},
                               "Too many pictures at once: 6 asked (batch size 2 × batch count 3), at most 4 allowed "
                               "on this server.", None),
}


@pytest.mark.parametrize("limits, values, message, field", CAP_CASES.values(), ids=CAP_CASES.keys())
def test_over_a_cap_is_refused_before_comfyui_but_not_for_an_admin(make_comfy_server, launch_app, limits, values,
                                                                   message, field):
    server = make_comfy_server()
    app = launch_app(server.url, auth=USERS, admins={"user:root"}, limits=limits)
    alice = Client(app.url, auth=USERS[0], verbose=False)
    last = outputs_of(generate(alice, values))[-1]
    assert last[3] == message
    assert "Stopped" in last[0]
    if field:
        assert error_slot(alice, last, field) == f"⚠ {message}"  # next to the field, as other refusals
    assert server.received_prompts == [] and server.uploads == []
    assert app.store.list() == []  # nothing recorded either
    root = Client(app.url, auth=USERS[1], verbose=False)
    last = outputs_of(generate(root, values))[-1]
    assert last[3].startswith("Done"), last[3]
    assert len(server.received_prompts) == values.get("Batch count", 1)


def test_pending_cap_per_user(make_comfy_server, launch_app):
    server = make_comfy_server()
    app = launch_app(server.url, limits=Limits(max_pending=2), per_server=3)  # every job goes on to ComfyUI
    client = Client(app.url, verbose=False)
    server.pause()  # jobs wait in ComfyUI's queue
    waiting = [generate(client, browser="b1") for _ in range(2)]
    wait_for(lambda: len(server.received_prompts) == 2, what="two queued jobs")
    refused = outputs_of(generate(client, browser="b1"))[-1][3]
    assert refused == "You already have 2 jobs waiting or running; the limit is 2. Wait for one to finish."
    assert len(server.received_prompts) == 2
    other = generate(client, browser="b2")  # another user has a budget of their own
    wait_for(lambda: len(server.received_prompts) == 3, what="the other user's job")
    server.resume()
    for job in [*waiting, other]:
        assert outputs_of(job)[-1][3].startswith("Done")
    assert outputs_of(generate(client, browser="b1"))[-1][3].startswith("Done")  # a place is free again
    assert len(server.received_prompts) == 4


def test_a_batch_count_runs_whole_under_a_pending_cap_of_one(comfy_server, launch_app):
    """Batch count jobs run one after another: each finished one leaves room for the next (the
    pending cap is not the batch count's business; ``max_images`` is)."""
    app = launch_app(comfy_server.url, limits=Limits(max_pending=1))
    client = Client(app.url, verbose=False)
    last = outputs_of(generate(client, {"Batch count": 4}, browser="b1"))[-1]
    assert last[3] == "Done — 4 pictures.", last[3]
    assert len(comfy_server.received_prompts) == 4


def noise_png(path, size) -> Path:
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, "PNG")
    return path


def test_inpaint_picture_over_the_upload_cap(make_comfy_server, launch_app, tmp_path):
    server = make_comfy_server()
    app = launch_app(server.url, auth=USERS, admins={"user:root"}, limits=Limits(max_upload_mb=0.5))
    picture = noise_png(tmp_path / "p.png", (512, 512))  # about 0.79 MB as the PNG sent to ComfyUI
    layer = tmp_path / "layer.png"
    Image.new("RGBA", (512, 512), (255, 0, 0, 255)).save(layer)
    message = inpaint(Client(app.url, auth=USERS[0], verbose=False), editor_of(picture, layer))
    assert message.startswith("The picture Image is too large: 0.7"), message
    assert message.endswith(" MB, at most 0.5 MB per picture allowed on this server."), message
    assert server.uploads == [] and server.received_prompts == []
    message = inpaint(Client(app.url, auth=USERS[1], verbose=False), editor_of(picture, layer))
    assert message.startswith("Done"), message
    assert server.uploads and len(server.received_prompts) == 1


def test_inpaint_steps_over_the_cap_upload_nothing(comfy_server, launch_app, tmp_path):
    app = launch_app(comfy_server.url, limits=Limits(max_steps=10))
    picture, layer = noise_png(tmp_path / "p.png", (64, 64)), tmp_path / "layer.png"
    Image.new("RGBA", (64, 64), (255, 0, 0, 255)).save(layer)
    message = inpaint(Client(app.url, verbose=False), editor_of(picture, layer), Steps=11)
    assert message == "Too many steps: 11 asked, at most 10 allowed on this server."
    assert comfy_server.uploads == [] and comfy_server.received_prompts == []


def run_img2img(app, tmp_path, picture: Path, owner: str):
    """The last update of the page's runner for the bundled img2img template (as the Custom tab runs it)."""
    from _app import app_context
    from comfy_ui_app.ui.runner import RunRequest, run

    template = load_workflow(REPO / "workflows" / "img2img.json")
    ctx = app_context(app.jobs, tmp_path)
    fields = discover(template, ctx.catalog.object_info_or_none())
    image = next(f for f in fields if f.kind == "image")
    request = RunRequest(template, fields, {image.name: str(picture), "steps": 2, "checkpoint": None},
                         owner=owner, kind="custom")

    async def last():
        final = None
        async for update in run(ctx, request, "en"):
            final = update
        return final

    return anyio.run(last)


IMG2IMG_CASES = {  # limits, picture size -> message
    "megabytes": (Limits(max_upload_mb=0.1), (256, 256),
                  "The picture p.png is too large: {mb} MB, at most 0.1 MB per picture allowed on this server."),
    "pixels": (Limits(max_pixels=64 * 64), (128, 128),
               "The picture p.png is too large: 128×128 is 16,384 pixels, at most 4,096 allowed on this server."),
}


@pytest.mark.parametrize("limits, size, message", IMG2IMG_CASES.values(), ids=IMG2IMG_CASES.keys())
def test_img2img_picture_over_a_cap(make_comfy_server, launch_app, tmp_path, limits, size, message):
    server = make_comfy_server()
    app = launch_app(server.url, admins={"user:root"}, limits=limits)
    picture = noise_png(tmp_path / "p.png", size)  # under pytest's temp folder: a picked file
    update = run_img2img(app, tmp_path, picture, "browser:b1")
    assert update.message == message.format(mb=f"{picture.stat().st_size / 1e6:.2f}".rstrip("0")), update.message
    assert update.errors == {"image": update.message} and not update.ok  # next to the image field
    assert server.uploads == [] and server.received_prompts == []
    update = run_img2img(app, tmp_path, picture, "user:root")
    assert update.ok, update.message
    assert len(server.uploads) == 1 and len(server.received_prompts) == 1


def test_the_service_refuses_too(comfy_server, launch_app):
    """History's re-run and any other caller of JobService.submit meet the same caps."""
    app = launch_app(comfy_server.url, admins={"user:root"}, limits=Limits(max_steps=10))
    prompt = load_workflow(REPO / "workflows" / "txt2img.json")  # 20 steps
    prompt["4"]["inputs"]["ckpt_name"] = CKPT
    prompt["5"]["inputs"].update(width=64, height=64)
    with pytest.raises(LimitExceeded) as caught:
        app.jobs.submit(owner="browser:b1", template="txt2img.json", values={}, prompt=prompt)
    assert (caught.value.cap, caught.value.asked, caught.value.allowed) == ("steps", 20, 10)
    assert comfy_server.received_prompts == [] and app.store.list() == []
    record, job = app.jobs.submit(owner="user:root", template="txt2img.json", values={}, prompt=prompt)
    assert job.wait(timeout=30).status == "success"
    assert len(comfy_server.received_prompts) == 1


ENV = {"COMFY_UI_MAX_PENDING": "3", "COMFY_UI_MAX_PIXELS": "1024x1024", "COMFY_UI_MAX_STEPS": "50",
       "COMFY_UI_MAX_IMAGES": "8", "COMFY_UI_MAX_USER_UPLOAD_MB": "2.5"}
CONFIG_CASES = {  # argv, environment -> the caps
    "none": ([], {}, None),
    "env": ([], ENV, Limits(max_pending=3, max_pixels=1048576, max_steps=50, max_images=8, max_upload_mb=2.5)),
    "flags": (["--max-pending-per-user", "1", "--max-pixels", "786432", "--max-steps", "30", "--max-images", "4",
               "--max-user-upload-mb", "1"], {},
              Limits(max_pending=1, max_pixels=786432, max_steps=30, max_images=4, max_upload_mb=1.0)),
    "flags-win": (["--max-steps", "20", "--max-pixels", "512×512"], ENV,
                  Limits(max_pending=3, max_pixels=262144, max_steps=20, max_images=8, max_upload_mb=2.5)),
    "empty-env-is-off": ([], {"COMFY_UI_MAX_STEPS": ""}, None),
}


@pytest.mark.parametrize("argv, env, limits", CONFIG_CASES.values(), ids=CONFIG_CASES.keys())
def test_flags_and_environment(argv, env, limits):
    assert app_module.build_limits(app_module.build_parser(env).parse_args(argv)) == limits


@pytest.mark.parametrize("argv, env", [
    (["--max-steps", "0"], {}), (["--max-pixels", "big"], {}), (["--max-images", "2.5"], {}),
    ([], {"COMFY_UI_MAX_PENDING": "-1"}), ([], {"COMFY_UI_MAX_PIXELS": "1024x"}),
])
def test_bad_caps_are_refused_at_start(argv, env, capsys):
    with pytest.raises(SystemExit) as caught:
        app_module.build_parser(env).parse_args(argv)
    assert caught.value.code == 2
    assert "--max-" in capsys.readouterr().err


def test_the_command_line_has_no_caps(comfy_server, tmp_path, monkeypatch, capsys):
    from comfy_ui_app.cli.main import main

    for name, value in {**ENV, "COMFY_UI_MAX_STEPS": "1", "COMFY_UI_MAX_PIXELS": "16"}.items():
        monkeypatch.setenv(name, value)
    code = main(["generate", "--workflow", str(REPO / "workflows" / "txt2img.json"), "--set", "steps=4",
                 "--set", "width=64", "--set", "height=64", "--out", str(tmp_path / "out"),
                 "--server", comfy_server.url])
    assert code == 0, capsys.readouterr().err
    assert comfy_server.received_prompts[-1]["prompt"]["3"]["inputs"]["steps"] == 4


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="/usr/bin/chromium is not installed")
@pytest.mark.flaky(reruns=2, reruns_delay=2)
def test_the_page_shows_the_refusal_and_keeps_the_form(comfy_server, launch_app, browser):
    from playwright.sync_api import expect

    from _browser import opened_page

    app = launch_app(comfy_server.url, limits=Limits(max_steps=50))
    with opened_page(browser, app.url) as page:
        page.get_by_label("Prompt", exact=True).fill("a red fox")
        steps = page.get_by_label("number input for Steps", exact=True)
        steps.fill("80")
        steps.press("Enter")
        page.get_by_role("button", name="Generate").click()
        message = "Too many steps: 80 asked, at most 50 allowed on this server."
        expect(page.get_by_label("Message")).to_have_value(message)
        expect(page.locator(".field-error").filter(has_text=message).first).to_be_visible()  # next to Steps
        expect(steps).to_have_value("80")  # nothing lost: fix it and press Generate again
        expect(page.get_by_label("Prompt", exact=True)).to_have_value("a red fox")
        assert comfy_server.received_prompts == []
