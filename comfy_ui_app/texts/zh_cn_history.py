"""Simplified Chinese for the History tab's grid, filters and star (comfy_ui_app.ui.history_tab and its
_history_* modules); merged into :data:`comfy_ui_app.texts.zh_cn.ZH_CN` at the end of that module."""
from __future__ import annotations

__all__ = ["ZH_CN_HISTORY"]

ZH_CN_HISTORY: dict[str, str] = {
    # the grid and its paging
    "Jobs": "任务",
    "Page": "页码",
    "of {pages} · {total} jobs": "共 {pages} 页 · {total} 个任务",
    "Other": "其他",
    # filters
    "Prompt contains": "提示词包含",
    "★ Favourites only": "★ 只看收藏",
    "Tab": "标签页",
    "All tabs": "全部标签页",
    "Any time": "任何时间",
    "Last 24 hours": "最近 24 小时",
    "Last 7 days": "最近 7 天",
    "Last 30 days": "最近 30 天",
    "More filters": "更多筛选",
    "From": "从",
    "To": "到",
    "The text filter takes at most {n} characters.": "文本筛选最多 {n} 个字符。",
    "Pick a tab and a period from the lists.": "请从列表中选择标签页和时间段。",
    "Dates are written 2026-12-31.": "日期的写法是 2026-12-31。",
    # the opened job
    "← All jobs": "← 全部任务",
    "☆ Star": "☆ 收藏",
    "★ Starred": "★ 已收藏",
    "Starred: see ★ Favourites only.": "已收藏：见“★ 只看收藏”。",
    "Star taken off.": "已取消收藏。",
}
