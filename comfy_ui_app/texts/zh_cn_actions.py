"""Chinese for issue 15's points 1 and 6: the action bar, the custom tab's bar without a form, how a
run that succeeded ends, and the System tab's memory chart and facts table."""

__all__ = ["ZH_CN_ACTIONS"]

ZH_CN_ACTIONS: dict[str, str] = {
    "Done — 1 picture.": "完成 — 1 张图片。",
    "Done — {n} pictures.": "完成 — {n} 张图片。",
    "Done — 1 file.": "完成 — 1 个文件。",
    "Done — {n} files.": "完成 — {n} 个文件。",
    "Pick a bundled workflow or upload one first.": "请先选择一个内置工作流或上传一个工作流。",
    "The new workflow's form is still being drawn. Press Generate again.": "新工作流的表单仍在生成中。请再按一次“生成”。",
    "Component": "组件",
    "Version or memory": "版本或内存",
    "Free memory (GiB)": "可用内存（GiB）",
    "Time": "时间",
    "GiB free": "可用 GiB",
}
