"""History's filters: text in the prompt, favourites only, the tab that made the job, and when.

"When" offers the last day, week or month (one tap on a phone), and optional From / To dates
(``gr.DateTime`` without a time: a calendar on a phone). Every value is checked here, whatever
a raw call sends: text of at most ``MAX_TEXT_CHARS``, a tab and a period from the lists, dates as
``YYYY-MM-DD`` (a time after it is allowed); a problem is a plain message under the filters and the
page stays as it was.
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

import gradio as gr

from comfy_ui_app.jobs.history_query import MAX_TEXT_CHARS, OTHER_KIND, TAB_KINDS, HistoryFilter
from comfy_ui_app.texts.i18n import tr
from comfy_ui_app.ui._lenient import Textbox

__all__ = ["DateBox", "Filters", "TAB_CHOICES", "WHEN_CHOICES", "read_filter", "parse_date"]

TAB_CHOICES = (("All tabs", "all"), ("Text to image", "txt2img"), ("Inpainting", "inpaint"),
               ("Custom workflow", "custom"), ("Other", OTHER_KIND))
WHEN_CHOICES = (("Any time", "all"), ("Last 24 hours", "day"), ("Last 7 days", "week"), ("Last 30 days", "month"))
_PERIODS = {"all": None, "day": 86_400, "week": 7 * 86_400, "month": 30 * 86_400}
_DAY = 86_400


class DateBox(gr.DateTime):
    """``gr.DateTime`` that hands what the caller sent to the handler unread (Gradio's own reading
    fails on a non-text value, or on its "now - N d" shorthand with a huge N); :func:`parse_date` checks it."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        return payload


def parse_date(value: Any) -> float | None | str:
    """The start of the day ``value`` names (``YYYY-MM-DD``, a time after it ignored), local time, as
    ``time.time()`` seconds; None for an empty box; ``"bad"`` for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return "bad"
    if isinstance(value, (int, float)):  # a timestamp (what DateTime's own value type sends)
        try:
            day = dt.date.fromtimestamp(value)
        except (ValueError, OverflowError, OSError):
            return "bad"
    else:
        try:
            day = dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return "bad"
    return time.mktime(day.timetuple())


def read_filter(text, starred, tab, when, since, until, lang: str, now: float | None = None
                ) -> tuple[HistoryFilter | None, str]:
    """(the filter, "") from the filter boxes' values, or (None, the problem in ``lang``). The owner is
    left None: the view puts in whose jobs the asking user may see."""
    if text is None:
        text = ""
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
        return None, tr("The text filter takes at most {n} characters.", lang, n=MAX_TEXT_CHARS)
    if tab not in (None, "all", *TAB_KINDS, OTHER_KIND) or when not in (None, *_PERIODS):
        return None, tr("Pick a tab and a period from the lists.", lang)
    start, end = parse_date(since), parse_date(until)
    if "bad" in (start, end):
        return None, tr("Dates are written 2026-12-31.", lang)
    period = _PERIODS.get(when or "all")
    if period is not None:
        recent = (time.time() if now is None else now) - period
        start = recent if start is None else max(start, recent)
    end = None if end is None else end + _DAY  # "To 12-31": up to the end of that day
    return HistoryFilter(None, text, starred is True, None if tab in (None, "all") else tab, start, end), ""


class Filters:
    """The filter boxes (built where they are created) and the message under them."""

    def __init__(self) -> None:
        with gr.Row(elem_id="history-filters", equal_height=True):
            self.text = Textbox(value="", label="Prompt contains", max_lines=1, max_length=MAX_TEXT_CHARS,
                                elem_id="history-text", scale=3, min_width=200)
            self.starred = gr.Checkbox(label="★ Favourites only", value=False, elem_id="history-starred",
                                       scale=1, min_width=200)
        with gr.Accordion("More filters", open=False, elem_id="history-more-filters"):
            with gr.Row(elem_id="history-dates"):
                self.tab = gr.Dropdown(choices=list(TAB_CHOICES), value="all", label="Tab", elem_id="history-kind",
                                       elem_classes=["i18n-choices"], min_width=150)
                self.when = gr.Dropdown(choices=list(WHEN_CHOICES), value="all", label="When",
                                        elem_id="history-when", elem_classes=["i18n-choices"], min_width=150)
                self.since = DateBox(label="From", include_time=False, type="string", elem_id="history-from",
                                     min_width=150)
                self.until = DateBox(label="To", include_time=False, type="string", elem_id="history-to",
                                     min_width=150)
        self.message = gr.Markdown("", elem_id="history-filter-message", elem_classes=["no-i18n"])
        self.components = [self.text, self.starred, self.tab, self.when, self.since, self.until]

    def wire(self, fn, inputs: list, outputs: list, **common) -> None:
        """Any filter changed: ``fn`` (the first page of what it finds)."""
        self.text.submit(fn, inputs, outputs, api_visibility="private", **common)
        for box in (self.starred, self.tab, self.when):
            box.input(fn, inputs, outputs, api_visibility="private", **common)
        for box in (self.since, self.until):
            box.change(fn, inputs, outputs, api_visibility="private", **common)
