"""Simplified Chinese catalog: English source text -> translation (see ``i18n``)."""

ZH_CN: dict[str, str] = {
    "Prompt": "提示词",
    "Negative prompt": "反向提示词",
    "Generate": "生成",
    "Interrupt": "中断",
    "Image": "图像",
}
