"""Languages: ``tr``, ``pick_language``, the catalog, and the page's language switch.

``test_every_visible_string_has_a_translation`` and ``test_tr_literals_have_translations``
list every English string that the Chinese catalog (``comfy_ui_app/texts/zh_cn.py``) lacks.
"""
from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import gradio as gr
import pytest

from comfy_ui_app.texts.i18n import CATALOGS, LANGUAGES, pick_language, tr
from comfy_ui_app.ui import language_switch as ui_i18n
from comfy_ui_app.ui.status import ServerStatus, banner_markdown

PACKAGE = Path(__file__).resolve().parents[1] / "comfy_ui_app"
ZH = CATALOGS["zh-CN"]


@pytest.mark.parametrize("preferred, expected", [
    ("zh-CN", "zh-CN"),
    ("zh", "zh-CN"),
    ("zh-Hans-CN", "zh-CN"),
    ("zh_CN", "zh-CN"),
    ("ZH-cn", "zh-CN"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    ("fr-FR,zh-CN,en", "zh-CN"),        # first supported one wins
    ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
    ("en-GB", "en"),
    ("de-DE,fr", "en"),                 # nothing supported: English
    ("", "en"),
    (None, "en"),
])
def test_pick_language(preferred, expected):
    assert pick_language(preferred) == expected


@pytest.mark.parametrize("text, lang, values, expected", [
    ("Generate", "zh-CN", {}, "生成"),
    ("Generate", "en", {}, "Generate"),
    ("Generate", None, {}, "Generate"),
    ("Generate", "xx", {}, "Generate"),                       # unknown language: English
    ("Not in any catalog", "zh-CN", {}, "Not in any catalog"),  # missing: English
    ("Done — {n} pictures.", "en", {"n": 2}, "Done — 2 pictures."),
    ("Done — {n} pictures.", "zh-CN", {"n": 2}, "完成 — 2 张图片。"),
    ("Connected to ComfyUI at {url}", "zh-CN", {"url": "http://h:1"}, "已连接到 ComfyUI：http://h:1"),
])
def test_tr(text, lang, values, expected):
    assert tr(text, lang, **values) == expected


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_catalog_translations_keep_their_placeholders():
    wrong = {k: v for k, v in ZH.items() if _fields(k) != _fields(v) or not v.strip()}
    assert not wrong, f"translations whose {{placeholders}} differ from the English: {wrong}"


def test_language_names_are_shown_in_their_own_language():
    assert LANGUAGES == {"en": "English", "zh-CN": "简体中文"}


@pytest.mark.parametrize("saved, browser, expected", [
    ("zh-CN", "en-US", "zh-CN"),      # the earlier choice wins over the browser
    ("en", "zh-CN,zh", "en"),
    ("", "zh-CN,zh", "zh-CN"),        # no choice yet: the browser's languages
    (None, "en-US", "en"),
    ("klingon", "zh-CN", "zh-CN"),    # a stored value that is no language is ignored
])
def test_initial_language(saved, browser, expected):
    assert ui_i18n.initial_language(saved, browser) == expected


# ---- the switch on a small page ----------------------------------------------------------

def _small_page():
    with gr.Blocks() as demo:
        title = gr.Markdown("# ComfyUI — simple mode")
        with gr.Tab("Text to image") as tab:
            prompt = gr.Textbox(label="Prompt", placeholder="Describe the picture you want",
                                info="Not in any catalog")
            with gr.Accordion("Advanced") as acc:
                steps = gr.Slider(1, 10, label="Steps")
            go = gr.Button("Generate")
            progress = gr.Markdown("Ready.")
            name = gr.Markdown("model-v1.safetensors", elem_classes=["no-i18n"])
            marked = gr.Markdown("Ready.", elem_classes=["i18n"])
            gr.Markdown("")                 # nothing to translate
            gr.State("Generate")            # never relabeled
            go.click(lambda: ("x", "y"), outputs=[progress, marked])
    return demo, dict(title=title, tab=tab, prompt=prompt, acc=acc, steps=steps, go=go,
                      progress=progress, name=name, marked=marked)


def test_collect_finds_static_text_and_knows_what_handlers_write():
    demo, b = _small_page()
    found = {t.block: t for t in ui_i18n.collect(demo)}
    assert list(found) == [b["title"], b["tab"], b["prompt"], b["acc"], b["steps"], b["go"],
                           b["progress"], b["marked"]]
    assert found[b["prompt"]].props == {"label": "Prompt", "placeholder": "Describe the picture you want",
                                        "info": "Not in any catalog"}
    assert found[b["tab"]].props == {"label": "Text to image"}
    assert found[b["acc"]].props == {"label": "Advanced"}
    assert found[b["go"]].props == {"value": "Generate"}
    assert (found[b["title"]].dynamic, found[b["title"]].required) == (False, True)
    assert (found[b["progress"]].dynamic, found[b["progress"]].required) == (True, False)
    assert (found[b["marked"]].dynamic, found[b["marked"]].required) == (True, True)
    missing = ui_i18n.missing_translations(list(found.values()))
    assert "Not in any catalog" in missing and "Prompt" not in missing and "Ready." not in missing


def test_relabel_updates_translate_static_props_only():
    demo, b = _small_page()
    targets = ui_i18n.collect(demo)
    by_block = dict(zip([t.block for t in targets], ui_i18n.relabel(targets, "zh-CN")))
    assert by_block[b["prompt"]] == gr.update(label="提示词", placeholder="描述你想要的画面",
                                              info="Not in any catalog")
    assert by_block[b["go"]] == gr.update(value="生成")
    assert by_block[b["tab"]] == gr.update(label="文生图")
    assert by_block[b["title"]] == gr.update(value="# ComfyUI — 简易模式")
    back = dict(zip([t.block for t in targets], ui_i18n.relabel(targets, "en")))
    assert back[b["prompt"]]["label"] == "Prompt" and back[b["go"]] == gr.update(value="Generate")


@pytest.mark.parametrize("shown, lang, expected", [
    ("Ready.", "zh-CN", gr.update(value="就绪。")),       # still its build-time text
    ("就绪。", "en", gr.update(value="Ready.")),          # ... in another language
    ("**Running** · step 3/20", "zh-CN", gr.skip()),     # a handler wrote it: leave it
    (None, "zh-CN", gr.skip()),
])
def test_dynamic_markdown_is_translated_only_while_unchanged(shown, lang, expected):
    demo, b = _small_page()
    targets = ui_i18n.collect(demo)
    updates = dict(zip([t.block for t in targets], ui_i18n.relabel(targets, lang, {b["progress"]: shown})))
    assert updates[b["progress"]] == expected


def test_status_banner_in_both_languages():
    ok = ServerStatus(True, "Connected to ComfyUI at {url}", (("url", "http://h:8188"),))
    assert banner_markdown(ok) == "✔ Connected to ComfyUI at http://h:8188"
    assert banner_markdown(ok, "zh-CN") == "✔ 已连接到 ComfyUI：http://h:8188"
    assert ok.text == "Connected to ComfyUI at http://h:8188"


def test_labelled_choices_are_translated_only_where_marked():
    with gr.Blocks() as demo:
        sizes = gr.Dropdown([("Square 512×512", "512x512"), ("Custom", "custom")], value="512x512",
                            label="Size", elem_classes=[ui_i18n.I18N_CHOICES_CLASS])
        models = gr.Dropdown([("Square 512×512", "a.safetensors")], label="Checkpoint")  # not marked
    found = {t.block: t for t in ui_i18n.collect(demo)}
    assert found[sizes].choices == [("Square 512×512", "512x512"), ("Custom", "custom")]
    assert found[models].choices is None and "Square 512×512" in found[sizes].strings()
    zh = dict(zip(found, ui_i18n.relabel(list(found.values()), "zh-CN")))
    assert zh[sizes] == gr.update(label="尺寸", choices=[("方形 512×512", "512x512"), ("自定义", "custom")])
    assert "choices" not in zh[models]


# ---- completeness: what the lead fills in when new tabs land ------------------------------

@pytest.fixture
def real_app(dead_url, tmp_path):
    from _app import job_service
    from comfy_ui_app.jobs.store import JobStore
    from comfy_ui_app.ui import build_app

    store = JobStore(tmp_path / "data")
    jobs = job_service(dead_url, store, healthy=False)
    try:
        yield build_app(jobs.cluster, jobs, workflows_dir=PACKAGE.parent / "workflows", output_dir=tmp_path)
    finally:
        jobs.cluster.close()
        store.close()


def test_the_switch_relabels_exactly_what_collect_finds(real_app):
    switch = [fn for fn in real_app.fns.values() if getattr(fn.fn, "i18n_switch", False)]
    assert len(switch) == 1, "install_language_switch must be wired exactly once"
    targets = ui_i18n.collect(real_app)
    assert [t.block for t in targets] == switch[0].outputs[1:]
    assert len(targets) > 10   # the walk did find the tabs' components


def test_every_visible_string_has_a_translation(real_app):
    missing = ui_i18n.missing_translations(ui_i18n.collect(real_app), "zh-CN")
    assert not missing, ("add these to comfy_ui_app/texts/zh_cn.py:\n"
                         + "\n".join(f"    {s!r}: \"\"," for s in missing))


# Words that stay as they are in Chinese (names of things, not sentences).
KEPT_WORDS = re.compile(r"LoRA|CFG|ComfyUI|VAE|grow_mask_by|PNG|JSON|API|UI")


def _descendants(block):
    for child in getattr(block, "children", None) or []:
        yield child
        yield from _descendants(child)


def _english_left(block, update) -> list[str]:
    """The texts of ``block`` as the Chinese page shows them that still hold English words."""
    config = dict(block.get_config())
    config.update({k: v for k, v in (update or {}).items() if k != "__type__"})
    texts = [config.get(name) for name in ("label", "info", "placeholder")]
    if isinstance(block, (gr.Button, gr.Markdown)):
        texts.append(config.get("value"))
    texts += [label for label, value in config.get("choices") or () if label != value]  # not server lists
    return [t for t in texts if isinstance(t, str) and re.search(r"[A-Za-z]{2,}", KEPT_WORDS.sub("", t))]


@pytest.mark.parametrize("tab_id", ["txt2img", "inpaint"])
def test_the_chinese_page_leaves_no_english_in_the_creative_tabs(real_app, tab_id):
    targets = ui_i18n.collect(real_app)
    shown = {t.block: t.block.value for t in targets if t.dynamic}  # a fresh page: handlers wrote nothing yet
    zh = {id(t.block): u for t, u in zip(targets, ui_i18n.relabel(targets, "zh-CN", shown))}
    (tab,) = [b for b in real_app.blocks.values() if isinstance(b, gr.Tab) and b.id == tab_id]
    blocks = [b for b in (tab, *_descendants(tab)) if ui_i18n.NO_I18N_CLASS not in (b.elem_classes or [])]
    assert len(blocks) > 20
    left = {text for b in blocks for text in _english_left(b, zh.get(id(b)))}
    assert not left, f"still English on the Chinese page: {sorted(left)}"


def _tr_calls(path: Path):
    """(line, first argument) of each ``tr(...)`` call in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and (
                (isinstance(node.func, ast.Name) and node.func.id == "tr")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "tr")):
            yield node.lineno, node.args[0]


def test_tr_literals_have_translations():
    missing, formatted = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, arg in _tr_calls(path):
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            if isinstance(arg, ast.JoinedStr):
                formatted.append(where)   # tr(f"...") can never match the catalog
            elif isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                    and arg.value not in ZH and re.search(r"[A-Za-z]", arg.value):
                missing.append(f"{arg.value!r}  ({where})")
    assert not formatted, "tr() of an f-string; use tr('... {name}', lang, name=...): " + ", ".join(formatted)
    assert not missing, "add these to comfy_ui_app/texts/zh_cn.py:\n" + "\n".join(missing)


def test_the_source_scan_can_see_a_missing_literal(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('from x import tr\nA = tr("Generate", "zh-CN")\nB = tr(f"{A} x", lang)\n')
    calls = list(_tr_calls(sample))
    assert [(line, type(arg).__name__) for line, arg in calls] == [(2, "Constant"), (3, "JoinedStr")]


def test_catalog_has_no_key_twice():
    tree = ast.parse((PACKAGE / "texts" / "zh_cn.py").read_text(encoding="utf-8"))
    keys = [k.value for node in ast.walk(tree) if isinstance(node, ast.Dict) for k in node.keys]
    assert not {k for k in keys if keys.count(k) > 1}, "a later entry silently replaces an earlier one"


@pytest.mark.parametrize("english, chinese", [
    ("The ComfyUI server it was sent to is no longer configured; please run it again",
     "此任务被发送到的 ComfyUI 服务器已不在配置中；请重新运行。"),
    ("The job ran for more than 30 min on ComfyUI server 2 without finishing, so the app stopped it. "
     "Please try again.", "任务在 ComfyUI server 2 上运行超过 30 min 仍未完成，本应用已将其停止。请重试。"),
    ("Cannot reach ComfyUI at http://gpu:8188. Is it running?", "无法连接到 ComfyUI（http://gpu:8188）。它正在运行吗？"),
    ("something no catalog knows", "something no catalog knows"),
    ("", ""),
    # clauses joined by "; " (a job no server can run, comfy_ui_app.cluster.verdicts), each from the catalog
    ("No ComfyUI server has the node types Foo, Bar; no ComfyUI server has the checkpoint x.safetensors",
     "没有任何 ComfyUI 服务器具有节点类型 Foo, Bar；没有任何 ComfyUI 服务器具有模型 x.safetensors"),
    ("No ComfyUI server that answered has the checkpoint y.ckpt; ComfyUI at http://gpu:8188 could not be "
     "asked (it has not answered for 0.5 s)",
     "已应答的 ComfyUI 服务器都没有模型 y.ckpt；无法询问 ComfyUI at http://gpu:8188（已 0.5 秒没有应答）"),
])
def test_recorded_english_errors_are_shown_in_chinese(english, chinese):
    """A job's error is recorded in English; History and a reloaded page show it in the
    page's language: a catalog sentence, or a catalog template filled with the same values."""
    from comfy_ui_app.texts.i18n import tr_stored

    assert tr_stored(english, "zh-CN") == chinese
    assert tr_stored(english, "en") == english


def test_a_run_limit_error_is_described_in_chinese():
    from comfy_ui_app import RunLimitExceeded
    from comfy_ui_app.texts import messages

    error = RunLimitExceeded("p1", 1800, url="http://gpu:8188")
    names = messages.ServerNames({"http://gpu:8188": "ComfyUI server 1"})  # a public page's
    assert messages.describe(error, lang="zh-CN", names=names) == \
        "任务在 ComfyUI server 1 上运行超过 30 min 仍未完成，本应用已将其停止。请重试。"
    assert "http://gpu" not in messages.describe(error, lang="en", names=names)
