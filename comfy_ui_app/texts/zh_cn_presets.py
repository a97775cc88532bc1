"""Simplified Chinese for presets and prompt styles (``ui._presets``, ``texts.preset_words``, the bundled
``workflow/prompt_styles.json``): merged into ``texts.zh_cn.ZH_CN``."""
from __future__ import annotations

__all__ = ["ZH_CN_PRESETS"]

ZH_CN_PRESETS: dict[str, str] = {
    # the panel and the picker
    "Styles": "风格",
    "Wrap your prompt in one or more looks": "用一种或多种风格包装你的提示词",
    "Presets": "预设",
    "Preset": "预设",
    "Preset name": "预设名称",
    "A name for the current settings": "为当前设置起个名字",
    "Share with everyone": "分享给所有人",
    "Save preset": "保存预设",
    "Apply": "应用",
    "Delete": "删除",
    "Unshare": "取消分享",
    "{name} (shared)": "{name}（共享）",
    "Preset “{name}” saved.": "预设“{name}”已保存。",
    "Preset “{name}” saved and shared with everyone.": "预设“{name}”已保存并分享给所有人。",
    "Preset “{name}” applied.": "预设“{name}”已应用。",
    "Preset “{name}” applied, except what no longer fits (said next to it).":
        "预设“{name}”已应用，不再适用的值除外（已在其旁说明）。",
    "Preset “{name}” deleted.": "预设“{name}”已删除。",
    "Preset “{name}” is no longer shared.": "预设“{name}”已取消分享。",
    "Please pick a preset first.": "请先选择一个预设。",
    # refusals (texts.preset_words)
    "Please give the preset a name.": "请为预设起个名字。",
    "That preset is gone, or it is not yours.": "该预设已不存在，或不属于你。",
    "These settings cannot be kept as a preset.": "这些设置无法保存为预设。",
    "These settings are too large to keep as a preset.": "这些设置太大，无法保存为预设。",
    "“{name}” is not a number that can be kept (NaN or infinity).": "“{name}”不是可以保存的数字（NaN 或无穷大）。",
    "“{name}” is too long to keep (at most {allowed} characters).": "“{name}”太长，无法保存（最多 {allowed} 个字符）。",
    "There is no style “{name}”.": "没有名为“{name}”的风格。",
    "Please choose at most {allowed} styles.": "最多只能选择 {allowed} 种风格。",
    "A preset name can be at most {allowed} characters long.": "预设名称最多 {allowed} 个字符。",
    "You have {allowed} presets already: delete one first.": "你已有 {allowed} 个预设：请先删除一个。",
    "Only an admin can share, unshare or delete a shared preset.": "只有管理员可以分享、取消分享或删除共享预设。",
    "“{value}” is not on the server any more; {name} was left as it is.": "服务器上已没有“{value}”；{name}保持不变。",
    "{value} is outside {low}..{high}; {name} was left as it is.": "{value} 超出 {low}..{high} 的范围；{name}保持不变。",
    # the bundled styles' names
    "Cinematic": "电影感",
    "Photograph": "摄影",
    "Anime": "动漫",
    "Digital art": "数字艺术",
    "Watercolor": "水彩",
    "Line art": "线稿",
    "Pixel art": "像素艺术",
    "3D render": "3D 渲染",
    "Comic book": "漫画",
    "Fantasy art": "奇幻艺术",
    "Neon punk": "霓虹朋克",
    "Low poly": "低多边形",
}
