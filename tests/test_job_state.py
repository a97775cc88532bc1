"""The run's hidden mark at the end of a progress line (comfy_ui_app.ui.job_state), for notify.js.

The words the page's script shows come from the server in the page's language; the state is a
class name. Over a real run (the bundled test server): every line of a run carries a mark, the
percent grows over a batch, a job before the last one of a batch does not end the run, and the
last line says done or failed with the final message for the notification.
"""
from __future__ import annotations

import re

import pytest

from comfy_ui_app.ui import job_state
from comfy_ui_app.ui.jobfeed import progress_markdown
from test_ui_handlers import ALICE, collect, owned_request, service_ctx  # noqa: F401 - service_ctx: a fixture

MARK = re.compile(r'<span class="job-state job-(\w+)" title="([^"]*)" hidden>(.*?)</span>$')


def mark_of(progress: str) -> tuple[str, str, str] | None:
    """(kind, title, inner HTML) of the mark a progress line ends with, or None."""
    found = MARK.search(progress or "")
    return found.groups() if found else None


def test_marks_say_the_state_in_a_class_and_the_words_in_the_pages_language():
    assert job_state.queued("en") == '<span class="job-state job-queued" title="[queued]" hidden></span>'
    assert mark_of(job_state.queued("zh-CN", 3))[:2] == ("queued", "[排队 3]")
    assert mark_of(job_state.running(42))[:2] == ("running", "[42%]")
    assert mark_of(job_state.running(250))[1] == "[100%]"
    kind, title, inner = mark_of(job_state.ended("done", "zh-CN", "完成：已保存 1 张图像。"))
    assert (kind, title) == ("done", "✓ 完成")
    assert '<span class="job-note" title="任务已完成" hidden></span>' in inner and 'title="完成：已保存 1 张图像。"' in inner
    kind, title, inner = mark_of(job_state.ended("failed", "en", ""))
    assert (kind, title) == ("failed", "✗ Failed") and "job-body" not in inner  # no message: no body
    with pytest.raises(ValueError):
        job_state.ended("running", "en")


def test_a_message_cannot_break_out_of_its_attribute():
    """An error message is text from a server: quotes, tags and new lines stay inside the title."""
    body = 'Error: "x" <img src=y onerror=alert(1)>\n\nnext line & more ' + "z" * 400
    mark = job_state.ended("failed", "en", body)
    (inner_body,) = re.findall(r'<span class="job-body" title="([^"]*)" hidden></span>', mark)
    assert "<" not in inner_body and "\n" not in inner_body and "&quot;x&quot;" in inner_body
    assert inner_body.endswith("…") and len(inner_body) < 300
    line = progress_markdown("Stopped", state=mark)
    assert line.startswith("**Stopped**<span") and mark_of(line)[0] == "failed"


@pytest.mark.parametrize("share, part, percent", [
    (0.0, (0, 1), 0), (0.5, (0, 1), 50), (1.0, (0, 1), 100),
    (0.5, (0, 2), 25), (0.0, (1, 2), 50), (1.0, (1, 2), 100),
    (2.0, (0, 1), 100), (-1.0, (0, 1), 0), (float("nan"), (0, 1), 0),  # a server that overshoots, nonsense
    (0.5, (5, 2), 75),                                                 # an index past the end: the last job
])
def test_the_run_share_spans_a_batch(share, part, percent):
    assert job_state.run_share(share, part) == percent


def test_every_line_of_a_batch_is_marked_and_only_its_last_job_ends_it(service_ctx):  # noqa: F811
    _server, ctx = service_ctx(step_time=0.12, steps=4)
    outs = collect(ctx, owned_request(ALICE, count=2))
    lines = [o.progress for o in outs if o.progress]
    marks = [mark_of(line) for line in lines]
    assert None not in marks, lines
    # the run's first moments are one line (ui/_first_news): "Sending…"/"Queued", or job 1 already started
    assert marks[0][:2] == ("queued", "[queued]") or (marks[0][0] == "running" and int(marks[0][1][1:-2]) < 50), marks
    kinds = [m[0] for m in marks]
    assert kinds[-1] == "done" and "done" not in kinds[:-1], kinds  # job 1's "Done" leaves the run running
    percents = [int(m[1][1:-2]) for m in marks if m[0] == "running"]
    assert percents == sorted(percents) and percents[0] < 50 and 50 in percents, percents  # 0: started, no step yet
    job1_done = next(line for line in lines if line.startswith("**Done** · Job 1 of 2"))
    assert mark_of(job1_done)[:2] == ("running", "[50%]")
    _, title, inner = marks[-1]
    assert title == "✓ Done" and 'title="The job is done"' in inner
    assert f'title="{outs[-1].message}"' in inner  # the final message is the notification's body


def test_a_failed_job_ends_the_run_as_failed(service_ctx):  # noqa: F811
    server, ctx = service_ctx(step_time=0.02, steps=2)
    server.fail_next("8", "boom")
    outs = collect(ctx, owned_request(ALICE))
    kind, title, inner = mark_of(outs[-1].progress)
    assert (kind, title) == ("failed", "✗ Failed") and outs[-1].failed
    assert 'title="The job failed"' in inner and "boom" in inner
