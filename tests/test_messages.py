"""describe(): every error class becomes one plain line (payloads as recorded from ComfyUI 0.3.64)."""
import pytest

from comfy_ui_app import (
    ComfyError,
    JobFailed,
    JobInterrupted,
    JobLost,
    PromptRejected,
    ServerHTTPError,
    ServerUnreachable,
    WorkflowError,
)
from comfy_ui_app.texts import problem_words as _problem_words
from comfy_ui_app.errors import NotAnImage
from comfy_ui_app.workflow.check import Problem, PromptInvalid
from comfy_ui_app.texts.i18n import CATALOGS
from comfy_ui_app.texts.messages import describe, describe_problem
from comfy_ui_app.texts.problem_words import node_error_texts

URL = "http://127.0.0.1:8188"
FAILED_VALIDATION = {"type": "prompt_outputs_failed_validation",
                     "message": "Prompt outputs failed validation", "details": "", "extra_info": {}}


def rejected(node_errors, error=FAILED_VALIDATION):
    return PromptRejected(URL + "/prompt", error, node_errors)


def node(class_type, *errors):
    return {"errors": list(errors), "dependent_outputs": ["9"], "class_type": class_type}


def test_unreachable_names_url_and_retry():
    text = describe(ServerUnreachable(URL, "connection refused"))
    assert text == f"Cannot reach ComfyUI at {URL}. Is it running? Retrying automatically."
    assert describe(ServerUnreachable(URL), retrying=False) == f"Cannot reach ComfyUI at {URL}. Is it running?"


def test_rejected_checkpoint_not_on_server():
    exc = rejected({"4": node("CheckpointLoaderSimple", {
        "type": "value_not_in_list", "message": "Value not in list",
        "details": "ckpt_name: 'does-not-exist.safetensors' not in ['tiny-sd15-random.safetensors']",
        "extra_info": {"input_name": "ckpt_name",
                       "input_config": [["tiny-sd15-random.safetensors"], {}],
                       "received_value": "does-not-exist.safetensors"}})})
    text = describe(exc)
    assert text.startswith("ComfyUI rejected the request.")
    assert "Node 4 (CheckpointLoaderSimple)" in text
    assert "checkpoint 'does-not-exist.safetensors' is not installed on the server" in text
    assert "tiny-sd15-random.safetensors" in text  # the choices, since there are few


def test_rejected_sampler_and_limits_name_the_input():
    exc = rejected({"3": node(
        "KSampler",
        {"type": "value_not_in_list", "message": "Value not in list",
         "details": "sampler_name: 'nope' not in (list of length 42)",
         "extra_info": {"input_name": "sampler_name", "input_config": None, "received_value": "nope"}},
        {"type": "value_smaller_than_min", "message": "Value 0 smaller than min of 1", "details": "steps",
         "extra_info": {"input_name": "steps", "input_config": ["INT", {"min": 1, "max": 10000}],
                        "received_value": 0}},
        {"type": "value_bigger_than_max", "message": "Value 1000.0 bigger than max of 100.0",
         "details": "cfg", "extra_info": {"input_name": "cfg",
                                          "input_config": ["FLOAT", {"min": 0.0, "max": 100.0}],
                                          "received_value": 1000.0}},
        {"type": "required_input_missing", "message": "Required input is missing", "details": "seed",
         "extra_info": {"input_name": "seed"}},
        {"type": "invalid_input_type", "message": "Failed to convert an input value to a INT value",
         "details": "steps, four, invalid literal",
         "extra_info": {"input_name": "steps", "input_config": ["INT", {}], "received_value": "four"}},
    )})
    text = describe(exc)
    assert "\n" not in text
    assert "sampler 'nope' is not one of the allowed values" in text
    assert "steps must be at least 1 (got 0)" in text
    assert "CFG must be at most 100.0 (got 1000.0)" in text
    assert "the required input 'seed' is missing" in text
    assert "steps must be a whole number, not 'four'" in text


def test_rejected_without_node_errors_uses_server_message():
    exc = rejected({}, {"type": "invalid_prompt",
                        "message": "Cannot execute because node NoSuchNodeType does not exist.",
                        "details": "Node ID '#6'", "extra_info": {}})
    assert describe(exc) == ("ComfyUI rejected the request: Cannot execute because node NoSuchNodeType "
                             "does not exist (Node ID '#6').")
    no_outputs = rejected({}, {"type": "prompt_no_outputs", "message": "Prompt has no outputs",
                               "details": "", "extra_info": {}})
    assert "no output node" in describe(no_outputs)


def test_link_errors_are_plain():
    exc = rejected({"3": node("KSampler", {
        "type": "return_type_mismatch", "message": "Return type mismatch between linked nodes",
        "details": "model, received_type(CLIP) mismatch input_type(MODEL)",
        "extra_info": {"input_name": "model", "input_config": ["MODEL", {}], "received_type": "CLIP",
                       "linked_node": ["4", 1]}})})
    assert "input 'model' is connected to the wrong kind of output (CLIP instead of MODEL)" in describe(exc)


def test_http_error_plain_text_500():
    exc = ServerHTTPError(500, URL + "/prompt", "500 Internal Server Error\n\nServer got itself in trouble")
    text = describe(exc)
    assert text.startswith("ComfyUI answered with an error (HTTP 500)")
    assert "\n" not in text and "Server got itself in trouble" in text


def test_job_failed_names_node_and_first_line():
    exc = JobFailed("pid", node_id="8", node_type="VAEDecode",
                    exception_message="Given groups=1, weight of size [4, 4, 1, 1]\nmore detail\n",
                    exception_type="RuntimeError", traceback=["  File x"])
    assert describe(exc) == "Failed in node 8 (VAEDecode): Given groups=1, weight of size [4, 4, 1, 1]"


@pytest.mark.parametrize("exc, expected", [
    (JobInterrupted("pid"), "The job was interrupted before it finished."),
    (JobLost("pid", "gone"), "ComfyUI lost track of the job"),
    (WorkflowError("This workflow has no field 'colour'", "colour"), "This workflow has no field 'colour'"),
    (ComfyError("Something plain"), "Something plain"),
    (FileNotFoundError(2, "No such file", "/x/y.json"), "File not found: /x/y.json"),
    (RuntimeError("boom\nline two"), "Unexpected error (RuntimeError): boom line two"),
])
def test_other_errors(exc, expected):
    text = describe(exc)
    assert text.startswith(expected)
    assert "\n" not in text and "Traceback" not in text


def test_node_errors_in_words_tolerate_junk():
    assert node_error_texts(None, "en") == []
    assert node_error_texts({"3": "weird", "4": {"errors": []}}, "en") == ["Node 4: invalid"]


def test_local_check_problems_in_words():
    exc = PromptInvalid([
        Problem("value_smaller_than_min", "3", "KSampler", "steps", "steps", 0, 1),
        Problem("value_not_in_list", "4", "CheckpointLoaderSimple", "ckpt_name", "checkpoint", "x.safetensors",
                ("a.safetensors", "b.safetensors")),
        Problem("invalid_input_type", "3", "KSampler", "cfg", "cfg", "lots", "FLOAT"),
        Problem("missing_node_type", "6", "NoSuchNode"),
    ])
    text = describe(exc)
    assert text.startswith("Please fix the form: ")
    assert "Node 3 (KSampler): Steps must be at least 1 (got 0)" in text
    assert "checkpoint 'x.safetensors' is not installed on the server (choose from: a.safetensors, b.safetensors)" in text
    assert "CFG must be a number, not 'lots'" in text
    assert "Node 6: the node type 'NoSuchNode' is not installed on the server" in text
    assert "\n" not in text


# ---- the same messages in Simplified Chinese (lang="zh-CN"); English stays the default ------------

ZH = "zh-CN"
CKPT_REJECTED = rejected({
    "4": node("CheckpointLoaderSimple", {
        "type": "value_not_in_list", "message": "Value not in list", "details": "",
        "extra_info": {"input_name": "ckpt_name", "input_config": [["a.safetensors"], {}],
                       "received_value": "b.safetensors"}}),
    "3": node("KSampler", {
        "type": "value_smaller_than_min", "message": "Value 0 smaller than min of 1", "details": "steps",
        "extra_info": {"input_name": "steps", "input_config": ["INT", {"min": 1}], "received_value": 0}}),
})


@pytest.mark.parametrize("exc, english, chinese", [
    (NotAnImage("ComfyUI_00001_.png"), "ComfyUI sent something that is not an image for ComfyUI_00001_.png.",
     "ComfyUI 为 ComfyUI_00001_.png 返回的内容不是图片。"),
    (JobLost("pid", "gone", url=URL, started=True), f"ComfyUI at {URL} stopped while this job ran. Please try again.",
     f"ComfyUI（{URL}）在运行此任务时停止了。请重试。"),
    (ServerUnreachable(URL), f"Cannot reach ComfyUI at {URL}. Is it running? Retrying automatically.",
     f"无法连接到 ComfyUI（{URL}）。它正在运行吗？正在自动重试。"),
    (ServerUnreachable(""), "Cannot reach ComfyUI at the configured address. Is it running? Retrying automatically.",
     "无法连接到 ComfyUI（所配置的地址）。它正在运行吗？正在自动重试。"),
    (CKPT_REJECTED,
     "ComfyUI rejected the request. Node 4 (CheckpointLoaderSimple): checkpoint 'b.safetensors' is not installed "
     "on the server (choose from: a.safetensors); Node 3 (KSampler): steps must be at least 1 (got 0).",
     "ComfyUI 拒绝了请求。节点 4（CheckpointLoaderSimple）：服务器上没有安装模型“b.safetensors”（可选：a.safetensors）；"
     "节点 3（KSampler）：步数不能小于 1（当前为 0）。"),
    (rejected({}, {"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": ""}),
     "ComfyUI rejected the request: the workflow has no output node (such as Save Image), so there is nothing to run.",
     "ComfyUI 拒绝了请求：工作流没有输出节点（例如“保存图像”），因此没有可运行的内容。"),
    (rejected({}, {"type": "invalid_prompt", "message": "Cannot execute because node X does not exist.",
                   "details": "Node ID '#6'"}),
     "ComfyUI rejected the request: Cannot execute because node X does not exist (Node ID '#6').",
     "ComfyUI 拒绝了请求：Cannot execute because node X does not exist (Node ID '#6')。"),  # the server's words
    (rejected({}, {}), "ComfyUI rejected the request: ComfyUI rejected the prompt: Prompt rejected",
     "ComfyUI 拒绝了请求：ComfyUI rejected the prompt: Prompt rejected"),
    (ServerHTTPError(500, URL + "/prompt", "500 Internal Server Error\n\nboom"),
     f"ComfyUI answered with an error (HTTP 500) at {URL}/prompt: 500 Internal Server Error boom",
     f"ComfyUI 返回了错误（HTTP 500，{URL}/prompt）：500 Internal Server Error boom"),
    (ServerHTTPError(404, URL + "/view"), f"ComfyUI answered with an error (HTTP 404) at {URL}/view.",
     f"ComfyUI 返回了错误（HTTP 404，{URL}/view）。"),
    (ServerHTTPError(0, ""), "ComfyUI answered with an error.", "ComfyUI 返回了错误。"),
    (JobFailed("pid", node_id="8", node_type="VAEDecode", exception_message="Given groups=1\nmore",
               exception_type="RuntimeError"),
     "Failed in node 8 (VAEDecode): Given groups=1", "节点 8（VAEDecode） 执行失败：Given groups=1"),
    (JobFailed("pid"), "Failed in a node: unknown error", "某个节点 执行失败：未知错误"),
    (JobInterrupted("pid"), "The job was interrupted before it finished.", "任务在完成前被中断。"),
    (JobLost("pid", "gone"),
     "ComfyUI lost track of the job (it may have restarted or stopped answering). Please try again.",
     "ComfyUI 丢失了这个任务（它可能已重启或停止响应）。请重试。"),
    (PromptInvalid([Problem("value_smaller_than_min", "3", "KSampler", "steps", "steps", 0, 1),
                    Problem("required_input_missing", "3", "KSampler", "seed", "seed")]),
     "Please fix the form: Node 3 (KSampler): Steps must be at least 1 (got 0); "
     "Node 3 (KSampler): the required input 'Seed' is missing.",
     "请修改表单：节点 3（KSampler）：步数不能小于 1（当前为 0）；节点 3（KSampler）：缺少必需的输入“种子”。"),
    (WorkflowError(""), "The workflow is not valid.", "工作流无效。"),
    (FileNotFoundError(2, "No such file", "/x/y.json"), "File not found: /x/y.json", "找不到文件：/x/y.json"),
    (PermissionError(13, "Denied", "/y"), "Permission denied: /y", "没有访问权限：/y"),
    (IsADirectoryError(21, "Is a directory", "/z"), "Could not access /z: Is a directory",
     "无法访问 /z：Is a directory"),
    (ConnectionResetError("reset"), "Network problem while talking to ComfyUI: reset",
     "与 ComfyUI 通信时出现网络问题：reset"),
    (RuntimeError("boom\nline two"), "Unexpected error (RuntimeError): boom line two",
     "意外错误（RuntimeError）：boom line two"),
    (ValueError(), "Unexpected error (ValueError).", "意外错误（ValueError）。"),
])
def test_describe_in_both_languages(exc, english, chinese):
    assert describe(exc) == english
    assert describe(exc, lang="en") == english
    assert describe(exc, lang=ZH) == chinese


def test_unreachable_without_retry_in_chinese():
    assert describe(ServerUnreachable(URL), retrying=False, lang=ZH) == f"无法连接到 ComfyUI（{URL}）。它正在运行吗？"


PROBLEMS = [  # (problem, English, Chinese) as the web page shows them
    (Problem("required_input_missing", "3", "KSampler", "seed", "seed"),
     "Node 3 (KSampler): the required input 'Seed' is missing", "节点 3（KSampler）：缺少必需的输入“种子”"),
    (Problem("value_not_in_list", "4", "CheckpointLoaderSimple", "ckpt_name", "checkpoint", "x.safetensors",
             ("a.safetensors", "b.safetensors")),
     "Node 4 (CheckpointLoaderSimple): checkpoint 'x.safetensors' is not installed on the server "
     "(choose from: a.safetensors, b.safetensors)",
     "节点 4（CheckpointLoaderSimple）：服务器上没有安装模型“x.safetensors”（可选：a.safetensors, b.safetensors）"),
    (Problem("value_not_in_list", "3", "KSampler", "sampler_name", "sampler", "nope"),
     "Node 3 (KSampler): sampler 'nope' is not one of the allowed values",
     "节点 3（KSampler）：采样器“nope”不是允许的取值"),
    (Problem("value_smaller_than_min", "3", "KSampler", "steps", "steps", 0, 1),
     "Node 3 (KSampler): Steps must be at least 1 (got 0)", "节点 3（KSampler）：步数不能小于 1（当前为 0）"),
    (Problem("value_bigger_than_max", None, None, "width", "width", 9000, 8192),
     "Width must be at most 8192 (got 9000)", "宽度不能大于 8192（当前为 9000）"),
    (Problem("invalid_input_type", "3", "KSampler", "steps", "steps", "four", "INT"),
     "Node 3 (KSampler): Steps must be a whole number, not 'four'", "节点 3（KSampler）：步数应为整数，而不是“four”"),
    (Problem("return_type_mismatch", "3", "KSampler", "model", None, "CLIP", "MODEL"),
     "Node 3 (KSampler): input 'model' is connected to the wrong kind of output (CLIP instead of MODEL)",
     "节点 3（KSampler）：输入“model”连接到了类型不对的输出（收到 CLIP，需要 MODEL）"),
    (Problem("bad_linked_input", "3", "KSampler", "model", None, ["9", 0]),
     "Node 3 (KSampler): input 'model' is linked to node 9, which is not in the workflow",
     "节点 3（KSampler）：输入“model”连接到了节点 9，但工作流中没有这个节点"),
    (Problem("bad_linked_input", "3", "KSampler", "model", None, ["4", 3], ("MODEL", "CLIP", "VAE")),
     "Node 3 (KSampler): input 'model' is linked to output 3 of node 4, which has only 3 outputs",
     "节点 3（KSampler）：输入“model”连接到节点 4 的输出 3，但该节点只有 3 个输出"),
    (Problem("bad_linked_input", "3", "KSampler", "model", None, [4]),
     "Node 3 (KSampler): input 'model' has a malformed link [4] (it must be [\"node id\", output number])",
     "节点 3（KSampler）：输入“model”的连接 [4] 格式不对（应为 [\"节点 id\", 输出编号]）"),
    (Problem("exception_during_inner_validation", "3", "KSampler", "model", None, None, None, "KeyError: '9'"),
     "Node 3 (KSampler): input 'model' is not connected properly (KeyError: '9')",
     "节点 3（KSampler）：输入“model”没有正确连接（KeyError: '9'）"),
    (Problem("missing_node_type", "6", "NoSuchNode"),
     "Node 6: the node type 'NoSuchNode' is not installed on the server", "节点 6：服务器上没有安装节点类型“NoSuchNode”"),
    (Problem("missing_node_type"), "A node type is not installed on the server", "服务器上缺少某种节点类型"),
    (Problem("dependency_cycle"), "The workflow contains a loop (a node depends on itself)",
     "工作流中存在循环（某个节点依赖于它自己）"),
    (Problem("prompt_no_outputs"),
     "The workflow has no output node (such as Save Image), so there is nothing to run",
     "工作流没有输出节点（例如“保存图像”），因此没有可运行的内容"),
    (Problem("custom_validation_failed", "10", "LoadImage", "image", "image", "cat.png", None,
             "Invalid image file: cat.png"),
     "image: there is no image 'cat.png' in ComfyUI's input folder (upload it first)",
     "图像：ComfyUI 的输入文件夹中没有图像“cat.png”（请先上传）"),
]


@pytest.mark.parametrize("problem, english, chinese", PROBLEMS, ids=[p.kind for p, _, _ in PROBLEMS])
def test_problems_in_both_languages(problem, english, chinese):
    assert describe_problem(problem) == english
    assert describe_problem(problem, lang="en") == english
    assert describe_problem(problem, lang=ZH) == chinese


@pytest.mark.parametrize("problem, english, chinese", [  # the command line's form: the field's name first
    (Problem("value_smaller_than_min", "3", "KSampler", "steps", "steps", 0, 1),
     "steps: must be at least 1, not 0", "steps：不能小于 1（当前为 0）"),
    (Problem("value_bigger_than_max", "3", "KSampler", "cfg", "cfg", 1000.0, 100.0),
     "cfg: must be at most 100.0, not 1000.0", "cfg：不能大于 100.0（当前为 1000.0）"),
    (Problem("invalid_input_type", "3", "KSampler", "steps", "steps", "four", "INT"),
     "steps: must be a whole number, not 'four'", "steps：应为整数，而不是“four”"),
    (Problem("value_not_in_list", "4", "CheckpointLoaderSimple", "ckpt_name", "checkpoint", "x.safetensors",
             ("a.safetensors",)),
     "checkpoint: 'x.safetensors' is not installed on the server (choose from: a.safetensors)",
     "checkpoint：服务器上没有安装“x.safetensors”（可选：a.safetensors）"),
    (Problem("value_not_in_list", "3", "KSampler", "sampler_name", "sampler", "z", tuple("abcdefgh")),
     "sampler: 'z' is not one of the allowed values (choose from: a, b, c, d, e, f and 2 more)",
     "sampler：“z”不是允许的取值（可选：a, b, c, d, e, f，另有 2 项）"),
    (Problem("required_input_missing", "3", "KSampler", "seed", "seed"), "seed: is missing", "seed：缺失"),
    (Problem("custom_validation_failed", "10", "LoadImage", "image", "image", "x", None,
             "Custom validation failed for node image - too small"),
     "image: too small", "image：too small"),  # the server's words
    (Problem("custom_validation_failed", "10", "LoadImage", "image", "image", "x", None,
             "Custom validation failed for node image -"),
     "image: the server refused this value", "image：服务器拒绝了这个值"),
])
def test_problems_name_first_in_both_languages(problem, english, chinese):
    assert describe_problem(problem, name_first=True) == english
    assert describe_problem(problem, name_first=True, lang=ZH) == chinese


def test_node_errors_in_chinese():
    assert node_error_texts({"3": "weird", "4": {"errors": []}}, ZH) == ["节点 4：无效"]
    assert node_error_texts(CKPT_REJECTED.node_errors, ZH) == [
        "节点 4（CheckpointLoaderSimple）：服务器上没有安装模型“b.safetensors”（可选：a.safetensors）",
        "节点 3（KSampler）：步数不能小于 1（当前为 0）"]


def test_unknown_language_is_english():
    assert describe(JobInterrupted("pid"), lang="fr") == "The job was interrupted before it finished."
    assert describe_problem(PROBLEMS[0][0], lang="fr") == PROBLEMS[0][1]


@pytest.mark.parametrize("table", ["INPUT_WORDS", "FIELD_WORDS", "TYPE_WORDS", "TOP_LEVEL"])
def test_words_looked_up_by_name_have_translations(table):
    """These reach ``tr`` through a variable, so the source scan in test_i18n cannot see them."""
    words = set(getattr(_problem_words, table).values()) | {"a different kind of value"}
    assert not words - set(CATALOGS[ZH]), f"add to comfy_ui_app/texts/zh_cn.py: {sorted(words - set(CATALOGS[ZH]))}"


def test_status_banner_describes_the_failure_in_the_page_language():
    from comfy_ui_app.ui.status import ServerStatus, banner_markdown

    down = ServerStatus(False, "", error=ServerUnreachable(URL))
    assert banner_markdown(down) == f"⚠ Cannot reach ComfyUI at {URL}. Is it running? Retrying automatically."
    assert banner_markdown(down, ZH) == f"⚠ 无法连接到 ComfyUI（{URL}）。它正在运行吗？正在自动重试。"
    assert down.text == f"Cannot reach ComfyUI at {URL}. Is it running? Retrying automatically."


# ---- errors as codes with data: recorded, rebuilt, worded once -----------------------------------

from comfy_ui_app import errors as errors_module  # noqa: E402
from comfy_ui_app.errors import LibraryRefused, NoTemplateLibrary, PresetRefused  # noqa: E402
from comfy_ui_app.errors import (  # noqa: E402
    BadValue, BatchStopped, ComfyError, ComfyUIStartFailed, DiskNearlyFull, GraphRefused, LimitExceeded,
    NoServerCanRun, NotRecorded, NotSendable, OutputsNotSaved, PictureRefused, FileRefused, RunLimitExceeded,
    ServerNoLongerConfigured, WorkflowTooDeep, WorkflowTooLarge, error_from_record, error_record,
)
from comfy_ui_app.errors import NothingEmbedded  # noqa: E402
from comfy_ui_app.texts.messages import describe_recorded  # noqa: E402
from comfy_ui_app.texts.server_names import ServerNames  # noqa: E402

PUBLIC = ServerNames({URL: "ComfyUI server 2"})  # a public page names its server

EVERY_ERROR = [
    ServerUnreachable(URL, "timed out"),
    ServerHTTPError(500, URL + "/prompt", "Internal Server Error"),
    rejected({"3": node("KSampler", {"type": "value_smaller_than_min", "message": "Value 0 smaller than min of 1",
                                     "details": "steps", "extra_info": {"input_name": "steps"}})}),
    JobFailed("pid", node_id="8", node_type="VAEDecode", exception_message="boom", traceback=["a", "b"]),
    JobInterrupted("pid"),
    JobLost("pid", url=URL, started=True),
    RunLimitExceeded("pid", 1800, url=URL),
    NotAnImage("ComfyUI_00001_.png"),
    OutputsNotSaved("pid", "No space left on device"),
    WorkflowError("Workflow template not found: x.json", field="template"),
    LimitExceeded("pixels", 4_000_000, 1_000_000, field="width", size="2000×2000"),
    ComfyUIStartFailed("gave_up", path="/opt/ComfyUI", log_tail="last", log_path="/tmp/l", attempts=2),
    NoServerCanRun(["FancySampler"], ["a.safetensors", "b.safetensors"], answered=True,
                   unasked=[URL], waited=30),
    ServerNoLongerConfigured(URL),
    NotRecorded(),
    # issue 13: refusals of what a visitor sends, and a batch stopped by its server going away
    BatchStopped("pid", 1, 3, server_gone=True),
    BatchStopped("pid", 2, 3),
    GraphRefused("file_path", field="image", node="10", class_type="LoadImage", input="image", value="../x.png"),
    GraphRefused("custom_admins"),
    BadValue("cfg", "not_finite", label="CFG"),
    BadValue("prompt", "too_long", label="Prompt", length=5_000_000, limit=10_000),
    NotSendable("3", "cfg"),
    DiskNearlyFull(120.5, 500),
    WorkflowTooLarge(1200, 1000),
    WorkflowTooDeep(64),
    PictureRefused("too_large", name="bomb.png", width=13000, height=13000, limit=64_000_000),
    PictureRefused("empty", name="empty.png"),
    NothingEmbedded("cat.png", field="picture"),  # issue 14: a picture dropped to open its workflow
    # issue 14 point 3: the template library and the workflows saved in ComfyUI
    NoTemplateLibrary(URL),
    LibraryRefused("saved_admins", field="saved"),
    LibraryRefused("unknown_saved", name="x.json", field="saved"),
    FileRefused("wrong_kind", media="audio", name="notes.txt", field="1.audio"),
    # issue 15 point 3: presets and prompt styles
    PresetRefused("out_of_range", name="Steps", field="steps", value=999, low=1, high=150),
    PresetRefused("too_many", name="p", field="name", allowed=100),
]


def test_every_error_class_is_worded_here():
    """EVERY_ERROR holds one of each class the package exports, so each is worded and round-tripped."""
    exported = {getattr(errors_module, n) for n in errors_module.__all__}
    classes = {c for c in exported if isinstance(c, type) and issubclass(c, ComfyError) and c is not ComfyError}
    assert classes - {type(e) for e in EVERY_ERROR} == set()


def test_every_error_class_has_its_own_stable_code():
    classes = [c for c in vars(errors_module).values() if isinstance(c, type) and issubclass(c, Exception)]
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes))
    assert all(c.__dict__.get("code") for c in classes), "each class in errors.py names its code itself"
    assert JobLost.code == "job_lost" and NoServerCanRun.code == "no_server_can_run"


@pytest.mark.parametrize("error", EVERY_ERROR, ids=lambda e: type(e).__name__)
def test_a_recorded_error_is_worded_as_the_live_one_in_both_languages(error):
    import json

    line, code, data = error_record(error)
    assert line == str(error) and code == type(error).code
    data = json.loads(json.dumps(data))  # as the store keeps it
    record = type("Record", (), {"error": line, "error_code": code, "error_data": data})()
    for lang in ("en", "zh-CN"):
        assert describe_recorded(record, lang=lang) == describe(error, retrying=False, lang=lang)
        named = describe_recorded(record, lang=lang, names=PUBLIC)  # worded with the page's names when shown
        assert named == describe(error, retrying=False, lang=lang, names=PUBLIC) and "127.0.0.1:8188" not in named
    rebuilt = error_from_record(line, code, data)
    assert type(rebuilt) is type(error) and str(rebuilt) == str(error)


def test_an_unknown_code_is_still_worded_from_its_line():
    record = type("Record", (), {"error": "The job was interrupted", "error_code": "from_the_future",
                                 "error_data": {"x": 1}})()
    assert describe_recorded(record) == "The job was interrupted"


@pytest.mark.parametrize("missing_nodes, missing_checkpoints, field", [
    (["A"], [], None), ([], ["c.safetensors"], "checkpoint"), (["A"], ["c"], "checkpoint"), ([], [], "checkpoint"),
])
def test_no_server_can_run_sets_its_field_from_its_data(missing_nodes, missing_checkpoints, field):
    assert NoServerCanRun(missing_nodes, missing_checkpoints).field == field


def test_no_server_can_run_counts_for_its_plurals_in_both_languages():
    one, two = NoServerCanRun(["A"], ["c"]), NoServerCanRun(["A", "B"], ["c", "d"])
    assert describe(one) == "No ComfyUI server has the node type A; no ComfyUI server has the checkpoint c"
    assert describe(two) == "No ComfyUI server has the node types A, B; no ComfyUI server has the checkpoints c, d"
    assert describe(two, lang="zh-CN") == "没有任何 ComfyUI 服务器具有节点类型 A, B；没有任何 ComfyUI 服务器具有模型 c, d"
    waited = NoServerCanRun([], ["c"], answered=True, unasked=[URL, URL + "1"], waited=2.5)
    names = ServerNames({URL: "ComfyUI server 2"})  # the page names one server, shows the other's address
    assert describe(waited, names=names) == (f"No ComfyUI server that answered has the checkpoint c; ComfyUI server 2, ComfyUI "
                                f"at {URL}1 could not be asked (they have not answered for 2.5 s)")
    assert describe(waited, lang="zh-CN", names=names) == (f"已应答的 ComfyUI 服务器都没有模型 c；无法询问 ComfyUI server 2, ComfyUI at "
                                              f"{URL}1（已 2.5 秒没有应答）")
