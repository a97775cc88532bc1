"""Chinese for "tell me when a job ends": the tab title's words, the notification, the header's switches."""

__all__ = ["ZH_CN_NOTIFY"]

ZH_CN_NOTIFY: dict[str, str] = {
    "queued": "排队",
    "The job is done": "任务已完成",
    "The job failed": "任务失败",
    "The job was interrupted": "任务已中断",
    "🔔 Notify me when a job ends": "🔔 任务结束时通知我",
    "🔊 Sound when a job ends": "🔊 任务结束时播放提示音",
    "This browser does not allow notifications for this page (blocked in its site settings, "
    "or the page is not on https).":
        "此浏览器不允许本页面发送通知（已在网站设置中屏蔽，或页面不是 https）。",
}
