"""Presets and prompt styles in a real browser ("Text to image"): save the settings, change them, apply
the preset and see them back; two styles wrap the prompt the server receives. "Custom workflow": a
workflow's presets come back with the same graph, not with another one."""
from __future__ import annotations

import json
from pathlib import Path

from _browser import BROWSER_TESTS, opened_page, set_slider, upload_workflow
from _waiting import wait_for

REPO = Path(__file__).resolve().parents[1]

pytestmark = BROWSER_TESTS


def _pick_styles(page, *names):
    box = page.locator("#txt2img-styles input")
    for name in names:
        box.click()
        page.get_by_role("option", name=name, exact=True).click()
    page.keyboard.press("Escape")


def test_a_preset_brings_the_settings_back_and_styles_wrap_the_prompt(comfy_server, launch_app, browser):
    from playwright.sync_api import expect

    app = launch_app(comfy_server.url)
    with opened_page(browser, app.url) as page:
        prompt = page.get_by_label("Prompt", exact=True)
        prompt.fill("a fox in the snow")
        set_slider(page, "Steps", "7")
        _pick_styles(page, "Anime", "Watercolor")
        page.locator("#txt2img-presets").get_by_text("Presets").click()
        page.locator("#txt2img-preset-name textarea, #txt2img-preset-name input").first.fill("Snowy foxes")
        page.locator("#txt2img-preset-save").click()
        expect(page.locator("#txt2img-preset-message")).to_contain_text("Preset “Snowy foxes” saved.")
        expect(page.locator("#txt2img-preset-picker input")).to_have_value("Snowy foxes")

        prompt.fill("something else")  # change the fields, then apply the preset
        set_slider(page, "Steps", "3")
        page.locator("#txt2img-styles .remove-all").click()  # no style any more
        expect(page.locator("#txt2img-styles")).not_to_contain_text("Anime")
        page.locator("#txt2img-preset-apply").click()
        expect(page.locator("#txt2img-preset-message")).to_contain_text("Preset “Snowy foxes” applied.")
        expect(prompt).to_have_value("a fox in the snow")
        expect(page.get_by_label("number input for Steps", exact=True)).to_have_value("7")
        expect(page.locator("#txt2img-styles")).to_contain_text("Anime")
        expect(page.locator("#txt2img-styles")).to_contain_text("Watercolor")

        sent_before = len(comfy_server.received_prompts)
        page.get_by_role("button", name="Generate", exact=True).click()
        wait_for(lambda: len(comfy_server.received_prompts) > sent_before, what="the prompt sent")
        sent = comfy_server.received_prompts[-1]["prompt"]
        assert sent["6"]["inputs"]["text"].startswith("watercolor painting of anime artwork of a fox in the snow, ")
        assert "paper texture" in sent["6"]["inputs"]["text"] and "text, watermark, photo" in sent["7"]["inputs"]["text"]
        expect(page.locator("#txt2img-gallery img").first).to_be_visible()
    job = app.store.list(limit=1)[0]
    assert job.values["prompt"] == sent["6"]["inputs"]["text"]  # History shows what was sent
    assert job.values["_styles"] == {"names": ["Anime", "Watercolor"], "prompt": "a fox in the snow",
                                     "negative": "text, watermark"}


def _uploaded(page, path):
    from playwright.sync_api import expect

    upload_workflow(page, path)
    expect(page.locator("#custom-load-message")).to_contain_text(f"Loaded {path.name}")


def _offered(page, name) -> int:
    """How many options of the preset list of a newly drawn form (its "Presets" closed) are called ``name``."""
    from playwright.sync_api import expect

    page.locator("#custom-presets").get_by_text("Presets").click()
    picker = page.locator("#custom-preset-picker input")
    expect(picker).to_be_visible()
    picker.click()
    count = page.get_by_role("option", name=name, exact=True).count()
    page.keyboard.press("Escape")
    return count


def test_a_custom_workflows_presets_are_kept_for_that_workflow(comfy_server, launch_app, browser, tmp_path):
    from playwright.sync_api import expect

    workflows = tmp_path / "w"
    workflows.mkdir()
    mine, other, again = workflows / "mine.json", workflows / "other.json", workflows / "again.json"
    mine.write_text((REPO / "workflows" / "txt2img.json").read_text())
    other.write_text((REPO / "workflows" / "img2img.json").read_text())
    graph = json.loads(mine.read_text())
    graph["6"]["inputs"]["text"] = "a lighthouse at dusk"
    again.write_text(json.dumps(graph))    # the same graph with other values, under another name
    app = launch_app(comfy_server.url)
    with opened_page(browser, app.url) as page:
        _uploaded(page, mine)
        tab = page.locator("#custom-tab")
        set_slider(tab, "Steps", "9")
        page.locator("#custom-presets").get_by_text("Presets").click()
        page.locator("#custom-preset-name textarea, #custom-preset-name input").first.fill("Nine steps")
        page.locator("#custom-preset-save").click()
        expect(page.locator("#custom-preset-message")).to_contain_text("Preset “Nine steps” saved.")
        set_slider(tab, "Steps", "3")
        page.locator("#custom-preset-apply").click()
        expect(page.locator("#custom-preset-message")).to_contain_text("Preset “Nine steps” applied.")
        expect(tab.get_by_label("number input for Steps", exact=True)).to_have_value("9")

        width = tab.get_by_label("number input for Width", exact=True)   # txt2img's graph has a size, img2img's not
        _uploaded(page, other)    # another graph: its own presets, none yet
        expect(width).to_have_count(0)   # its form is drawn (the Presets with it)
        assert _offered(page, "Nine steps") == 0
        _uploaded(page, again)    # the first graph again: its preset is offered again
        expect(width).to_be_visible()
        assert _offered(page, "Nine steps") == 1
