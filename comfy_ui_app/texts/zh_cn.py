"""Simplified Chinese catalog: English source text -> translation (see ``i18n``).

Keys are the exact English text in the code (labels, ``tr("...")`` templates);
a translation keeps every ``{placeholder}`` of its key (a test checks this).
Tests list what is missing: ``tests/test_i18n.py``.
"""

ZH_CN: dict[str, str] = {
    # ---- page header, language switch, status banner (ui/__init__.py, comfy_ui_app.ui.status)
    "# ComfyUI — simple mode": "# ComfyUI — 简易模式",
    "Language": "语言",
    "Checking the connection to ComfyUI at {url} …": "正在检查与 ComfyUI（{url}）的连接…",
    "Connected to ComfyUI at {url}": "已连接到 ComfyUI：{url}",

    # ---- "Text to image" tab: labels, hints, buttons (comfy_ui_app.ui.txt2img_tab)
    "Text to image": "文生图",
    "Prompt": "提示词",
    "Describe the picture you want": "描述你想要的画面",
    "Negative prompt": "反向提示词",
    "What you do NOT want to see": "不想在画面中出现的内容",
    "Checkpoint": "模型",
    "The model that paints the picture": "用来生成画面的模型",
    "Seed": "种子",
    "Same seed + same settings = same picture": "相同的种子加相同的设置，得到相同的画面",
    "Random seed": "随机种子",
    "Steps": "步数",
    "More steps: slower, often more detail": "步数越多越慢，细节通常越丰富",
    "CFG": "CFG（提示词相关性）",
    "How strictly to follow the prompt": "画面遵循提示词的严格程度",
    "Width": "宽度",
    "Height": "高度",
    "Generate": "生成",
    "Interrupt": "中断",
    "Ready.": "就绪。",
    "Message": "消息",
    "Preview": "预览",
    "Images": "图像",
    "Video": "视频",
    "Audio": "音频",
    "3D model": "3D 模型",
    "Text": "文本",
    "Files": "文件",
    "Image": "图像",
    "♻ Reuse last seed": "♻ 沿用上次的种子",
    "Size": "尺寸",
    "Sampler": "采样器",
    "Scheduler": "调度器",
    "Batch size": "每批数量",
    "Pictures per job": "每个任务生成的图片数",
    "Batch count": "批次数",
    "Jobs one after another": "依次运行的任务数",
    "Advanced": "高级设置",
    "Denoise": "重绘幅度",
    "File name prefix": "文件名前缀",
    "Send to inpainting": "发送到局部重绘",

    # ---- form fields named after their role (fields.ROLE_LABELS, comfy_ui_app.ui.form)
    "LoRA": "LoRA",
    "LoRA strength": "LoRA 强度",
    "LoRA CLIP strength": "LoRA CLIP 强度",
    "Mask": "蒙版",
    "Control image": "控制图像",
    "ControlNet model": "ControlNet 模型",
    "ControlNet strength": "ControlNet 强度",
    "Upscale model": "放大模型",
    "Upscale by": "放大倍数",
    "Diffusion model": "扩散模型",
    "VAE": "VAE",
    "Grow mask": "扩展蒙版",

    # ---- "Inpainting" tab (comfy_ui_app.ui.inpaint_tab)
    "Inpainting": "局部重绘",
    "Clear mask": "清除蒙版",
    "Use as new input": "用作新的输入",
    "Invert mask": "反转蒙版",
    "Repaint everything except what you painted": "重绘除涂抹区域以外的所有部分",
    "Mask blur": "蒙版模糊",
    "Soften the mask's edge (pixels)": "柔化蒙版边缘（像素）",
    "Widen the painted area (pixels)": "扩大涂抹区域（像素）",
    "Mask sent to ComfyUI": "发送给 ComfyUI 的蒙版",
    "No inpainting workflow.": "没有局部重绘工作流。",
    "Please add a picture first.": "请先添加一张图片。",
    "Please paint over the part of the picture to change.": "请在图片上涂抹需要修改的部分。",

    # ---- "Custom workflow" tab (comfy_ui_app.ui.custom_tab)
    "Custom workflow": "自定义工作流",
    "Bundled workflow": "内置工作流",
    "Upload a workflow (.json, API or UI format)": "上传工作流（.json，API 或 UI 格式）",
    "Pick a bundled workflow or upload one to see its form.": "选择一个内置工作流或上传一个工作流，即可看到它的表单。",
    "Loaded {name}.": "已加载 {name}。",
    "Could not load this workflow: {reason}": "无法加载此工作流：{reason}",

    # ---- job progress and results (for tab handlers: tr(text, lang, ...))
    "Sending to ComfyUI…": "正在发送到 ComfyUI…",
    "Queued": "排队中",
    "Running": "运行中",
    "Done": "完成",
    "Stopped": "已停止",
    "Interrupted": "已中断",
    "Interrupted. The job was cancelled.": "已中断，任务已取消。",
    "next to run": "下一个运行",
    "position {n} in line": "排在第 {n} 位",
    "{name} (node {id})": "{name}（节点 {id}）",
    "node": "节点",
    "step {value}/{max} · {pct}%": "第 {value}/{max} 步 · {pct}%",
    "ETA {s} s": "预计还需 {s} 秒",
    "Job {i} of {n}": "第 {i}/{n} 个任务",
    "Done: {n} image(s) saved.": "完成：已保存 {n} 张图像。",
    "Done: {n} output(s) saved.": "完成：已保存 {n} 个输出。",
    "Kept as files to download (this page cannot show them): {names}": "已作为文件保留供下载（本页无法显示）：{names}",
    "Finished, but the workflow produced no images.": "已完成，但工作流没有生成任何图像。",
    "ComfyUI stopped sending news about the job. Please try again.":
        "ComfyUI 不再发送该任务的消息。请重试。",
    "Workflow template not found: {path}": "找不到工作流模板：{path}",
    "No workflow template.": "没有工作流模板。",

    # ---- "History" tab (comfy_ui_app.ui.history_tab)
    "History": "历史记录",
    "Refresh": "刷新",
    "Newer": "较新",
    "Older": "较早",
    "Page {page} of {pages}": "第 {page}/{pages} 页",
    "Job": "任务",
    "Pictures": "图片",
    "Parameters": "参数",
    "Re-run": "重新运行",
    "Load parameters": "载入参数",
    "Delete": "删除",
    "Clear my history": "清空我的历史记录",
    "From elsewhere": "来自其他地方",
    "You": "你",
    "Someone else": "其他人",
    "Outside the app": "应用之外",
    "Submitted {when}": "提交于 {when}",
    "By {name}": "提交者：{name}",
    "Took {t}": "耗时 {t}",
    "Error: {error}": "错误：{error}",
    "Open a job first.": "请先打开一个任务。",
    "Open one of the app's jobs first.": "请先打开一个通过本应用提交的任务。",
    "Choose one of your jobs first.": "请先选择一个你的任务。",
    "This job is gone, or it is not yours.": "这个任务已不存在，或者不属于你。",
    "This job belongs to someone else.": "这个任务属于其他人。",
    "ComfyUI no longer has this job.": "ComfyUI 中已没有这个任务。",
    "Queued again as a new job: see the Queue tab.": "已作为新任务重新排队，请查看“队列”标签页。",
    "Deleted.": "已删除。",
    "Deleted {n} finished jobs.": "已删除 {n} 个已完成的任务。",
    "Nothing to delete.": "没有可删除的内容。",
    "Parameters loaded.": "参数已载入。",

    # ---- "Queue" tab (comfy_ui_app.ui.queue_tab)
    "Queue": "队列",
    "Waiting": "等待中",
    "Cancel job": "取消任务",
    "Move to front": "移到最前",
    "Interrupt the running job": "中断正在运行的任务",
    "Clear the queue": "清空队列",
    "{n} s": "{n} 秒",
    "{n} min": "{n} 分钟",
    "{h} h {m} min": "{h} 小时 {m} 分钟",
    "{total} jobs in the queue, {mine} of them yours.": "队列中有 {total} 个任务，其中 {mine} 个是你的。",
    "The queue is empty.": "队列是空的。",
    "Nothing is running.": "当前没有正在运行的任务。",
    "The job was cancelled.": "任务已取消。",
    "The job will run next.": "该任务将在下一个运行。",
    "The job is no longer waiting.": "该任务已不在等待中。",
    "Removed {n} waiting jobs.": "已移除 {n} 个等待中的任务。",
    "The running job was interrupted.": "正在运行的任务已被中断。",
    "The running job belongs to someone else; only its owner or an admin can stop it.":
        "正在运行的任务属于其他人，只有它的所有者或管理员才能停止它。",
    "Only jobs submitted through this app can be moved.": "只有通过本应用提交的任务才能移动。",
    "Only an admin can clear the queue.": "只有管理员才能清空队列。",

    # ---- "System" tab (comfy_ui_app.ui.system_tab)
    "System": "系统",
    "ComfyUI": "ComfyUI",
    "Python": "Python",
    "PyTorch": "PyTorch",
    "Operating system": "操作系统",
    "Memory (RAM)": "内存（RAM）",
    "{free} free of {total}": "可用 {free}，共 {total}",
    "VRAM {free} free of {total}; torch {tfree} free of {ttotal}":
        "显存可用 {free}，共 {total}；torch 可用 {tfree}，共 {ttotal}",
    "Free memory": "释放内存",
    "Unload models": "卸载模型",
    "Only an admin can free memory or unload models.": "只有管理员才能释放内存或卸载模型。",
    "Asked ComfyUI to do it; it does so as soon as it is idle.": "已请求 ComfyUI 执行，它会在空闲时立即处理。",
    "Models": "模型",
    "Embeddings": "嵌入（Embeddings）",
    "Extensions": "扩展",
    "Node": "节点",
    "Node definition": "节点定义",
    "Outputs": "输出",

    # ---- error messages (comfy_ui_app.texts.messages templates, ready for when describe() takes a language)
    "Cannot reach ComfyUI at {url}. Is it running?": "无法连接到 ComfyUI（{url}）。它正在运行吗？",
    "Retrying automatically.": "正在自动重试。",
    "the configured address": "所配置的地址",
    "ComfyUI rejected the request. {problems}.": "ComfyUI 拒绝了请求。{problems}。",
    "ComfyUI rejected the request: {reason}.": "ComfyUI 拒绝了请求：{reason}。",
    "no reason given": "未说明原因",
    "ComfyUI answered with an error.": "ComfyUI 返回了错误。",
    "ComfyUI answered with an error (HTTP {status}) at {url}: {body}":
        "ComfyUI 返回了错误（HTTP {status}，{url}）：{body}",
    "Failed in {where}: {message}": "{where} 执行失败：{message}",
    "node {node}": "节点 {node}",
    "a node": "某个节点",
    "unknown error": "未知错误",
    "The job was interrupted before it finished.": "任务在完成前被中断。",
    "Not run: the ComfyUI server went away during job {after} of {count} of this batch, so the batch stopped there.":
        "未运行：本批次第 {after}/{count} 个任务进行时 ComfyUI 服务器已失去连接，批次就此停止。",
    "Not run: job {after} of {count} of this batch failed, so the batch stopped there.":
        "未运行：本批次第 {after}/{count} 个任务失败，批次就此停止。",
    "The job had already finished; nothing was changed.": "该任务已经结束，没有做任何更改。",
    "ComfyUI lost track of the job (it may have restarted or stopped answering). Please try again.":
        "ComfyUI 丢失了这个任务（它可能已重启或停止响应）。请重试。",
    "Please fix the form: {problems}.": "请修改表单：{problems}。",
    "The workflow is not valid.": "工作流无效。",
    "File not found: {name}": "找不到文件：{name}",
    "Permission denied: {name}": "没有访问权限：{name}",
    "Could not access {name}: {reason}": "无法访问 {name}：{reason}",
    "Network problem while talking to ComfyUI: {reason}": "与 ComfyUI 通信时出现网络问题：{reason}",
    "Unexpected error ({kind}): {text}": "意外错误（{kind}）：{text}",
    "Unexpected error ({kind}).": "意外错误（{kind}）。",
    "the required input '{word}' is missing": "缺少必需的输入“{word}”",
    "checkpoint '{value}' is not installed on the server": "服务器上没有安装模型“{value}”",
    "that checkpoint is not installed on the server": "服务器上没有安装该模型",
    "{word} '{value}' is not one of the allowed values": "{word}“{value}”不是允许的取值",
    "{word} must be at least {limit}": "{word}不能小于 {limit}",
    "{word} must be at most {limit}": "{word}不能大于 {limit}",
    "(choose from: {choices})": "（可选：{choices}）",
    "input '{word}' is connected to the wrong kind of output": "输入“{word}”连接到了类型不对的输出",
    "input '{word}' is not connected properly": "输入“{word}”没有正确连接",
    "a connection in the workflow is broken": "工作流中有一处连接已断开",
    "a node type is not installed on the server": "服务器上缺少某种节点类型",
    "the node type '{class_type}' is not installed on the server": "服务器上没有安装节点类型“{class_type}”",
    "the workflow contains a loop (a node depends on itself)": "工作流中存在循环（某个节点依赖于它自己）",
    "the workflow has no output node (such as Save Image), so there is nothing to run":
        "工作流没有输出节点（例如“保存图像”），因此没有可运行的内容",
    "no workflow was sent": "没有发送工作流",
    "there is no image '{name}' in ComfyUI's input folder (upload it first)":
        "ComfyUI 的输入文件夹中没有图像“{name}”（请先上传）",
    "a whole number": "整数",
    "a number": "数字",
    "text": "文本",
    "true or false": "是或否",

    # ---- more error messages (comfy_ui_app.texts.messages, comfy_ui_app.texts.problem_words)
    "Cannot reach ComfyUI at {url}. Is it running? Retrying automatically.":
        "无法连接到 ComfyUI（{url}）。它正在运行吗？正在自动重试。",
    "ComfyUI rejected the request: {reason}": "ComfyUI 拒绝了请求：{reason}",
    "ComfyUI answered with an error (HTTP {status}) at {url}.": "ComfyUI 返回了错误（HTTP {status}，{url}）。",
    "ComfyUI answered with an error (HTTP {status}): {body}": "ComfyUI 返回了错误（HTTP {status}）：{body}",
    "ComfyUI answered with an error (HTTP {status}).": "ComfyUI 返回了错误（HTTP {status}）。",
    "ComfyUI answered with an error at {url}: {body}": "ComfyUI 返回了错误（{url}）：{body}",
    "ComfyUI answered with an error at {url}.": "ComfyUI 返回了错误（{url}）。",
    "ComfyUI answered with an error: {body}": "ComfyUI 返回了错误：{body}",
    "node {node} ({node_type})": "节点 {node}（{node_type}）",
    "a node ({node_type})": "某个节点（{node_type}）",
    "; ": "；",
    "'{value}'": "“{value}”",
    "{name}: {text}": "{name}：{text}",
    "Node {node}: {text}": "节点 {node}：{text}",
    "Node {node} ({class_type}): {text}": "节点 {node}（{class_type}）：{text}",
    "invalid": "无效",
    "invalid value": "无效的值",
    "an input": "某个输入",
    "{text} (choose from: {choices})": "{text}（可选：{choices}）",
    "{text} (choose from: {choices} and {more} more)": "{text}（可选：{choices}，另有 {more} 项）",
    "{word} is not one of the allowed values": "{word}不是允许的取值",
    "{word} must be at least {limit} (got {value})": "{word}不能小于 {limit}（当前为 {value}）",
    "{word} must be at most {limit} (got {value})": "{word}不能大于 {limit}（当前为 {value}）",
    "{word} must be {wanted}, not '{value}'": "{word}应为{wanted}，而不是“{value}”",
    "a different type": "其他类型",
    "{word} has the wrong type": "{word}的类型不对",
    "input '{word}' is connected to the wrong kind of output ({value} instead of {expected})":
        "输入“{word}”连接到了类型不对的输出（收到 {value}，需要 {expected}）",
    "input '{word}' is not connected properly ({reason})": "输入“{word}”没有正确连接（{reason}）",
    "a node type is not installed on the server ({details})": "服务器上缺少某种节点类型（{details}）",
    "input '{word}' has a malformed link {link} (it must be [\"node id\", output number])":
        "输入“{word}”的连接 {link} 格式不对（应为 [\"节点 id\", 输出编号]）",
    "input '{word}' is linked to output {slot} of node {node}, which has only {count} output":
        "输入“{word}”连接到节点 {node} 的输出 {slot}，但该节点只有 {count} 个输出",
    "input '{word}' is linked to output {slot} of node {node}, which has only {count} outputs":
        "输入“{word}”连接到节点 {node} 的输出 {slot}，但该节点只有 {count} 个输出",
    "input '{word}' is linked to node {node}, which is not in the workflow":
        "输入“{word}”连接到了节点 {node}，但工作流中没有这个节点",
    "must be at least {limit}, not {value}": "不能小于 {limit}（当前为 {value}）",
    "must be at least {limit}": "不能小于 {limit}",
    "must be at most {limit}, not {value}": "不能大于 {limit}（当前为 {value}）",
    "must be at most {limit}": "不能大于 {limit}",
    "must be {wanted}, not {value}": "应为{wanted}，而不是{value}",
    "must be {wanted}": "应为{wanted}",
    "a different kind of value": "其他类型的值",
    "{value} is not installed on the server": "服务器上没有安装{value}",
    "{value} is not one of the allowed values": "{value}不是允许的取值",
    "that checkpoint is not one of the allowed values": "该模型不是允许的取值",
    "the server refused this value": "服务器拒绝了这个值",
    "is missing": "缺失",
    # input and field names in error messages (comfy_ui_app.texts.problem_words.INPUT_WORDS, FIELD_WORDS)
    "checkpoint": "模型",
    "sampler": "采样器",
    "scheduler": "调度器",
    "prompt text": "提示词文本",
    "seed": "种子",
    "steps": "步数",
    "width": "宽度",
    "height": "高度",
    "batch size": "每批数量",
    "denoise": "重绘幅度",
    "file name prefix": "文件名前缀",
    "image": "图像",
    "-1: a new random seed each time": "-1：每次使用新的随机种子",
    "Grow mask in ComfyUI": "在 ComfyUI 中扩展蒙版",
    # uploads (comfy_ui_app.jobs.uploads)
    "The file {name} is empty.": "文件 {name} 是空的。",
    "Nothing picked: the workflow's {name}.": "未选择文件：使用工作流自带的 {name}。",
    "Sound file (WAV, FLAC, MP3, OGG, M4A)": "音频文件（WAV、FLAC、MP3、OGG、M4A）",
    "Video (MP4, MOV, WebM, MKV, AVI, GIF, WebP)": "视频（MP4、MOV、WebM、MKV、AVI、GIF、WebP）",
    "3D model (GLB, glTF, OBJ, FBX, STL, PLY)": "3D 模型（GLB、glTF、OBJ、FBX、STL、PLY）",
    "Animated picture (GIF, WebP, PNG)": "动图（GIF、WebP、PNG）",
    "The file {name} is not a sound file (WAV, FLAC, MP3, OGG or M4A).":
        "文件 {name} 不是音频文件（WAV、FLAC、MP3、OGG 或 M4A）。",
    "The file {name} is not a video (MP4, MOV, WebM, MKV, AVI, GIF or WebP).":
        "文件 {name} 不是视频（MP4、MOV、WebM、MKV、AVI、GIF 或 WebP）。",
    "The file {name} is not a 3D model (GLB, glTF, OBJ, FBX, STL or PLY).":
        "文件 {name} 不是 3D 模型（GLB、glTF、OBJ、FBX、STL 或 PLY）。",
    "The file {name} is not an animated picture (GIF, WebP or PNG).": "文件 {name} 不是动图（GIF、WebP 或 PNG）。",
    "The file {name} is not a file this field takes.": "文件 {name} 不是此字段接受的文件。",
    "The file {name} is too large: {asked} MB, at most {allowed} MB per file allowed on this server.":
        "文件 {name} 太大：{asked} MB，本服务器每个文件最多允许 {allowed} MB。",
    "The file {name} is too large ({size}); this ComfyUI server accepts uploads up to {limit}.":
        "文件 {name} 太大（{size}）；此 ComfyUI 服务器最多接受 {limit} 的上传。",
    "The picture {name} is too large (over {limit} pixels).": "图片 {name} 太大（超过 {limit} 像素）。",
    "The file {name} is not a picture (PNG, JPEG or WebP).": "文件 {name} 不是图片（PNG、JPEG 或 WebP）。",
    "The picture {name} is {size} ({pixels}); at most {limit}.": "图片 {name} 为 {size}（{pixels}），最多允许 {limit}。",
    "{count} million pixels": "{count} 百万像素",
    "{count} pixels": "{count} 像素",
    "The picture has {count} layers; at most {limit}.": "图片有 {count} 个图层，最多 {limit} 个。",
    "The picture {name} is too large ({width}×{height} pixels); the limit is {limit} pixels.":
        "图片 {name} 太大（{width}×{height} 像素）；上限为 {limit} 像素。",
    # "Open from a picture" (ui/from_picture.py, issue 14 point 5)
    "Open from a picture: drop a PNG, WEBP or video made by ComfyUI, or a picture made by AUTOMATIC1111, Forge or "
    "SwarmUI": "从图片打开：拖入由 ComfyUI 生成的 PNG、WEBP 或视频，或由 AUTOMATIC1111、Forge 或 SwarmUI 生成的图片",
    "This picture carries no workflow or generation parameters.": "这张图片不含工作流，也不含生成参数。",
    "Opened the workflow of {name}, with the values it was made with.": "已打开 {name} 的工作流，数值与生成它时相同。",
    "Text to image filled from the parameters of {name}.": "已用 {name} 的参数填写文生图表单。",
    "Its checkpoint “{model}” is not on this server: the form keeps its own.":
        "它的模型“{model}”不在此服务器上：表单保留原来的模型。",
    "Could not open the workflow of this picture: {reason}": "无法打开这张图片中的工作流：{reason}",
    "The workflow in this picture is not valid JSON.": "这张图片中的工作流不是有效的 JSON。",
    "The workflow in this picture is not one ComfyUI can run.": "这张图片中的工作流不是 ComfyUI 能运行的工作流。",
    # table headers and states shown through tr(variable), which the source scan cannot see
    "Server": "服务器",
    "State": "状态",
    "Jobs in flight": "进行中的任务",
    "ComfyUI queue": "ComfyUI 队列",
    "Checkpoints": "模型",
    "Last checkpoint": "最近使用的模型",
    "#": "#",
    "Submitted by": "提交者",
    "Template": "模板",
    "Age": "已等待",
    "When": "时间",
    "Status": "状态",
    "Duration": "耗时",
    "Failed": "失败",
    "Lost": "丢失",
    "Cancelled": "已取消",
    "Success": "成功",
    "Error": "错误",
    "None of the {total} ComfyUI servers can be reached ({down}). Retrying automatically.":
        "{total} 台 ComfyUI 服务器都无法连接（{down}）。正在自动重试。",
    "{up} of {total} ComfyUI servers are up. Not usable now: {down}":
        "{total} 台 ComfyUI 服务器中有 {up} 台可用。暂不可用：{down}",
    "All {total} ComfyUI servers are up": "全部 {total} 台 ComfyUI 服务器均可用",
    # --- public demo limits (comfy_ui_app.jobs.limits, comfy_ui_app.texts.messages) ---
    "You already have 1 job waiting or running; the limit is {allowed}. Wait for it to finish.":
        "你已有 1 个任务在等待或运行；上限为 {allowed} 个。请等它完成。",
    "You already have {asked} jobs waiting or running; the limit is {allowed}. Wait for one to finish.":
        "你已有 {asked} 个任务在等待或运行；上限为 {allowed} 个。请等其中一个完成。",
    "Too many steps: {asked} asked, at most {allowed} allowed on this server.":
        "步数太多：要求 {asked} 步，此服务器最多允许 {allowed} 步。",
    "The picture {name} is too large: {size} is {asked} pixels, at most {allowed} allowed on this server.":
        "图片 {name} 太大：{size} 共 {asked} 像素，此服务器最多允许 {allowed} 像素。",
    "Picture too large: {size} is {asked} pixels, at most {allowed} allowed on this server.":
        "图片尺寸太大：{size} 共 {asked} 像素，此服务器最多允许 {allowed} 像素。",
    "Too many pictures at once: {asked} asked (batch size {batch_size} × batch count {count}), at most {allowed} "
    "allowed on this server.":
        "一次要求的图片太多：{asked} 张（每批 {batch_size} 张 × {count} 批），此服务器最多允许 {allowed} 张。",
    "Too many pictures at once: {asked} asked, at most {allowed} allowed on this server.":
        "一次要求的图片太多：{asked} 张，此服务器最多允许 {allowed} 张。",
    "The picture {name} is too large: {asked} MB, at most {allowed} MB per picture allowed on this server.":
        "图片 {name} 太大：{asked} MB，此服务器每张图片最多允许 {allowed} MB。",
    "Could not make a form of this workflow: {reason}": "无法为此工作流生成表单：{reason}",
    "This workflow has {total} inputs; the form shows the first {shown}. The others keep the workflow's values.":
        "此工作流有 {total} 个输入项；表单只显示前 {shown} 个，其余保持工作流中的值。",
    "This workflow has {nodes} nodes; this app accepts at most {allowed}.":
        "此工作流有 {nodes} 个节点；本应用最多接受 {allowed} 个。",
    "This workflow file is nested more than {allowed} levels deep, which no real workflow is. Please check the file.":
        "此工作流文件的嵌套超过 {allowed} 层，真正的工作流不会这样。请检查该文件。",
    # --- local ComfyUI (--comfyui-dir) ---
    "Starting ComfyUI…": "正在启动 ComfyUI…",
    "ComfyUI stopped unexpectedly; restarting (attempt {attempt} of {attempts})…":
        "ComfyUI 意外停止；正在重新启动（第 {attempt} 次，共 {attempts} 次）…",
    "No ComfyUI folder found. Looked in: {places}. Name the folder that holds ComfyUI's main.py with --comfyui-dir.":
        "未找到 ComfyUI 文件夹。已查找：{places}。请用 --comfyui-dir 指定包含 ComfyUI 的 main.py 的文件夹。",
    "{path} is not a ComfyUI folder: expected a folder with ComfyUI's main.py in it.":
        "{path} 不是 ComfyUI 文件夹：应为包含 ComfyUI 的 main.py 的文件夹。",
    "Could not start ComfyUI in {path}: {reason}": "无法启动 {path} 中的 ComfyUI：{reason}",
    "ComfyUI in {path} did not answer within {seconds} seconds.": "{path} 中的 ComfyUI 在 {seconds} 秒内没有响应。",
    "ComfyUI stopped and was not restarted after {attempts} attempts.":
        "ComfyUI 已停止，尝试 {attempts} 次后不再重新启动。",
    "ComfyUI stopped unexpectedly and restarting it is turned off.": "ComfyUI 意外停止，且已关闭自动重新启动。",
    "ComfyUI in {path} stopped before it was ready (exit code {code}).":
        "{path} 中的 ComfyUI 在就绪前已停止（退出码 {code}）。",
    "{message} Its log ({log}) is empty.": "{message}其日志（{log}）为空。",
    "{message} Last lines of its log ({log}):": "{message}其日志（{log}）的最后几行：",
    # --- operator numbers (System tab: jobs in the last hour) ---
    "Jobs in the last hour": "最近一小时的任务",
    "Succeeded": "成功",
    "Median wait": "排队时间中位数",
    "95% wait": "95% 排队时间",
    "Median run time": "运行时间中位数",
    "95% run time": "95% 运行时间",
    "Queue now": "当前队列",
    "The app's own queue": "本应用自己的队列",
    "All": "全部",
    # --- several servers: retry, lost jobs ---
    "Retry": "重试",
    "There is no failed job to retry.": "没有可重试的失败任务。",
    "ComfyUI at {url} stopped while this job ran. Please try again.": "ComfyUI（{url}）在运行此任务时停止了。请重试。",
    "ComfyUI at {url} no longer knows this job (it may have restarted). Please try again.":
        "ComfyUI（{url}）已不再记得此任务（它可能已重启）。请重试。",
    # --- lead: odd answers, Hugging Face names ---
    "ComfyUI sent something that is not an image for {file}.": "ComfyUI 为 {file} 返回的内容不是图片。",
    "ComfyUI sent something that is not a video for {file}.": "ComfyUI 为 {file} 返回的内容不是视频。",
    "ComfyUI sent something that is not an audio file for {file}.": "ComfyUI 为 {file} 返回的内容不是音频文件。",
    "ComfyUI sent something that is not a 3D model for {file}.": "ComfyUI 为 {file} 返回的内容不是 3D 模型。",
    "The pictures were made but this app could not save them ({reason}). Please tell whoever runs it.":
        "图片已生成，但本应用无法保存它们（{reason}）。请告知本服务的管理员。",
    "{name} (Hugging Face)": "{name}（Hugging Face）",
    # --- server labels (a public page names servers, never shows their addresses) ---
    "Cannot reach {server}. Is it running?": "无法连接到 {server}。它正在运行吗？",
    "Cannot reach {server}. Is it running? Retrying automatically.": "无法连接到 {server}。它正在运行吗？正在自动重试。",
    "{server} answered with an error (HTTP {status}): {body}": "{server} 返回了错误（HTTP {status}）：{body}",
    "{server} answered with an error (HTTP {status}).": "{server} 返回了错误（HTTP {status}）。",
    "{server} stopped while this job ran. Please try again.": "{server} 在运行此任务时停止了。请重试。",
    "{server} no longer knows this job (it may have restarted). Please try again.":
        "{server} 已不再记得此任务（它可能已重启）。请重试。",
    "Checking the connection to {server} …": "正在检查与 {server} 的连接…",
    "Connected to {server}": "已连接到 {server}",
    "Former server {n}": "以前的服务器 {n}",
    "ComfyUI servers": "ComfyUI 服务器",
    "Details below for": "下方详情对应",
    # --- runner / jobfeed (2026-12) ---
    "Lost contact with ComfyUI; waiting for it…": "与 ComfyUI 失去联系；正在等待它恢复…",
    "Lost contact with ComfyUI; waiting for it (up to {s} s)…": "与 ComfyUI 失去联系；正在等待它恢复（最多 {s} 秒）…",
    "No ComfyUI server can be reached; the job waits for one…": "无法连接到任何 ComfyUI 服务器；任务正在等待可用的服务器…",
    "No ComfyUI server can be reached; the job waits for one (up to {s} s)…":
        "无法连接到任何 ComfyUI 服务器；任务正在等待可用的服务器（最多 {s} 秒）…",
    # --- tabs and forms (2026-12) ---
    "Square 512×512": "方形 512×512",
    "Portrait 512×768": "竖图 512×768",
    "Landscape 768×512": "横图 768×512",
    "Square 768×768": "方形 768×768",
    "Portrait 768×1152": "竖图 768×1152",
    "Landscape 1152×768": "横图 1152×768",
    "Square 1024×1024": "方形 1024×1024",
    "Portrait 832×1216": "竖图 832×1216",
    "Landscape 1216×832": "横图 1216×832",
    "Custom": "自定义",
    "(none)": "（无）",
    "Optional: a style or character add-on": "可选：风格或角色的附加模型",
    "No LoRA was picked.": "未选择 LoRA。",
    "This workflow has no checkpoint loader to put a LoRA after.": "此工作流没有可在其后接入 LoRA 的模型加载节点。",
    "Nothing in this workflow uses the checkpoint's model, so a LoRA cannot apply.":
        "此工作流没有用到模型加载节点的模型，因此无法应用 LoRA。",
    "LoRA strength must be a number, not {value}": "LoRA 强度必须是数字，而不是 {value}",
    "{problem}; it is now {value}.": "{problem}；已改为 {value}。",
    # ---- values refused before anything is stored or sent (errors.BadValue, NotSendable, DiskNearlyFull)
    "{label} must be a finite number.": "{label}必须是有限的数字。",
    "{label} must be a number (got {value}).": "{label}必须是数字（当前为 {value}）。",
    "{label} must be a whole number (got {value}).": "{label}必须是整数（当前为 {value}）。",
    "{label} must be text.": "{label}必须是文本。",
    "{label} is {length} characters long; at most {limit}.": "{label}长 {length} 个字符，最多 {limit} 个。",
    "This job cannot be sent: it holds a number that is not finite (NaN or infinity) at node {node}, input {input}.":
        "无法发送此任务：节点 {node} 的输入 {input} 含有非有限数字（NaN 或无穷大）。",
    "This job cannot be sent: it holds a number that is not finite (NaN or infinity).":
        "无法发送此任务：其中含有非有限数字（NaN 或无穷大）。",
    "The server's disk is nearly full, so it takes no new jobs for now. Please tell whoever runs it.":
        "服务器磁盘即将用满，暂时不接受新任务。请告知管理员。",
    "Job id": "任务 ID",
    "The workflow holds {name}, which is not a number ComfyUI can take. Put a finite number in its place.":
        "工作流中含有 {name}，这不是 ComfyUI 能接受的数字。请换成一个有限的数字。",
    "Seed used": "使用的种子",
    "Soften seam in ComfyUI (grow_mask_by)": "在 ComfyUI 中柔化接缝（grow_mask_by）",
    "ComfyUI widens the mask by this much before encoding, so the repainted area blends in":
        "ComfyUI 在编码前将蒙版扩展这么多像素，让重绘区域与周围自然融合",
    "How much of the painted area is redrawn": "涂抹区域被重绘的程度",
    "Generate a picture first, then send it.": "请先生成一张图片，再发送。",
    "The parameters of this job cannot be loaded: it was not made in one of this app's tabs.":
        "无法载入此任务的参数：它不是在本应用的标签页中创建的。",
    "This job has no parameters to load.": "此任务没有可载入的参数。",
    "Parameters loaded into Text to image.": "参数已载入“文生图”。",
    "The Inpainting tab has no workflow to load them into.": "“局部重绘”标签页没有可载入参数的工作流。",
    "Parameters loaded into Inpainting, with the picture. Paint the mask again.":
        "参数和图片已载入“局部重绘”。请重新涂抹蒙版。",
    "Parameters loaded into Inpainting. The picture is no longer on the server: add it again, then paint the mask.":
        "参数已载入“局部重绘”。服务器上已没有这张图片：请重新添加，再涂抹蒙版。",
    "The parameters of this job cannot be loaded: {reason}": "无法载入此任务的参数：{reason}",
    "the workflow of this job is not known any more.": "已无法得知此任务的工作流。",
    "Parameters loaded into Custom workflow ({name}).": "参数已载入“自定义工作流”（{name}）。",
    "Parameters loaded into Custom workflow: the workflow this job ran ({name}).":
        "参数已载入“自定义工作流”：使用此任务运行时的工作流（{name}）。",
    # --- queue tab: move to front in the app's own queue (cluster) ---
    "The job is now first in the app's queue: it goes to the next free ComfyUI server.":
        "该任务现在排在本应用队列的第一位：它将被发送到下一台空闲的 ComfyUI 服务器。",
    "The job is now first of your jobs in the app's queue; other people's jobs still take turns with yours.":
        "该任务现在是你在本应用队列中的第一个任务；其他人的任务仍与你的任务轮流执行。",
    # --- errors of jobs (messages.describe; rows recorded before error codes: i18n.tr_stored) ---
    "The job ran for more than {span} on {server} without finishing, so the app stopped it. Please try again.":
        "任务在 {server} 上运行超过 {span} 仍未完成，本应用已将其停止。请重试。",
    "The app failed to record this job": "本应用未能记录此任务",
    "The ComfyUI server it was sent to is no longer configured; please run it again":
        "此任务被发送到的 ComfyUI 服务器已不在配置中；请重新运行。",
    # A job no server can run (errors.NoServerCanRun, worded by messages): clauses joined by "; ".
    "No ComfyUI server has the node type {nodes}": "没有任何 ComfyUI 服务器具有节点类型 {nodes}",
    "No ComfyUI server has the node types {nodes}": "没有任何 ComfyUI 服务器具有节点类型 {nodes}",
    "No ComfyUI server has the checkpoint {names}": "没有任何 ComfyUI 服务器具有模型 {names}",
    "No ComfyUI server has the checkpoints {names}": "没有任何 ComfyUI 服务器具有模型 {names}",
    "No ComfyUI server that answered has the node type {nodes}": "已应答的 ComfyUI 服务器都没有节点类型 {nodes}",
    "No ComfyUI server that answered has the node types {nodes}": "已应答的 ComfyUI 服务器都没有节点类型 {nodes}",
    "No ComfyUI server that answered has the checkpoint {names}": "已应答的 ComfyUI 服务器都没有模型 {names}",
    "No ComfyUI server that answered has the checkpoints {names}": "已应答的 ComfyUI 服务器都没有模型 {names}",
    "No single ComfyUI server has every node type and checkpoint this workflow needs":
        "没有一台 ComfyUI 服务器同时具有此工作流所需的全部节点类型和模型",
    "No single ComfyUI server that answered has every node type and checkpoint this workflow needs":
        "已应答的 ComfyUI 服务器中没有一台同时具有此工作流所需的全部节点类型和模型",
    "{names} could not be asked (it has not answered for {s} s)": "无法询问 {names}（已 {s} 秒没有应答）",
    "{names} could not be asked (they have not answered for {s} s)": "无法询问 {names}（已 {s} 秒没有应答）",
    # A graph a user may not run (errors.GraphRefused, worded by texts/rule_words).
    "Running a workflow of your own is turned off on this app.": "本应用已关闭运行自己的工作流。",
    "Only an admin may run a workflow of their own on this app.": "在本应用中，只有管理员可以运行自己的工作流。",
    "Node {node} ({class_type}) is a node type this app does not allow.": "节点 {node}（{class_type}）是本应用不允许的节点类型。",
    "Node {node} ({class_type}), input {input}": "节点 {node}（{class_type}）的输入 {input}",
    "{where}: “{value}” is not allowed: a file name may not contain folders (/, \\, ..).":
        "{where}：不允许“{value}”：文件名不能包含文件夹（/、\\、..）。",
    "{where}: “{value}” names a file in another ComfyUI folder; only a plain file name is allowed.":
        "{where}：“{value}”指向 ComfyUI 另一个文件夹中的文件；只允许普通文件名。",
    "{where}: “{value}” is not a file you uploaded. Upload it yourself.":
        "{where}：“{value}”不是你上传的文件。请自己上传。",
    "{where}: “{value}” is not a file on the ComfyUI server. Upload it first.":
        "{where}：“{value}”不是 ComfyUI 服务器上的文件。请先上传。",
    "This workflow is not allowed on this app.": "本应用不允许此工作流。",

    # ---- "Templates" tab: ComfyUI's template library and saved workflows (ui/templates_tab.py, texts/library_words.py)
    "Templates": "模板",
    "### What do you want to make?": "### 你想做什么？",
    "Category": "类别",
    "Your workflows saved in ComfyUI": "你保存在 ComfyUI 中的工作流",
    "Saved workflow": "已保存的工作流",
    "picture": "图片",
    "video": "视频",
    "audio": "音频",
    "models not known": "所需模型未知",
    "needs model {names}": "需要模型 {names}",
    "✓ models on this server": "✓ 本服务器有所需模型",
    "The templates cannot be shown: {reason}": "无法显示模板：{reason}",
    "This ComfyUI server lists no templates.": "此 ComfyUI 服务器没有列出任何模板。",
    "No workflows are saved in ComfyUI yet (in its editor: Workflow > Save).":
        "ComfyUI 中还没有保存的工作流（在其编辑器中：工作流 > 保存）。",
    "{server} has no template library: it is older than ComfyUI's templates. Update ComfyUI to pick from them here.":
        "{server}没有模板库：它的版本早于 ComfyUI 的模板功能。请更新 ComfyUI 后在这里选择模板。",
    "This ComfyUI server": "此 ComfyUI 服务器",
    "Only an admin can see the workflows saved in ComfyUI on this app.": "在本应用中，只有管理员可以查看保存在 ComfyUI 中的工作流。",
    "ComfyUI has no saved workflow “{name}” (it may have been renamed or deleted).":
        "ComfyUI 中没有名为“{name}”的已保存工作流（它可能已被重命名或删除）。",
    "ComfyUI's template library has no template “{name}”.": "ComfyUI 的模板库中没有模板“{name}”。",
    "ComfyUI's template library has no such template.": "ComfyUI 的模板库中没有这个模板。",
}

# Issue 15's features keep their words in catalogs of their own (one file each, no merge conflicts).
from comfy_ui_app.texts.zh_cn_actions import ZH_CN_ACTIONS  # noqa: E402
from comfy_ui_app.texts.zh_cn_notify import ZH_CN_NOTIFY  # noqa: E402
from comfy_ui_app.texts.zh_cn_presets import ZH_CN_PRESETS  # noqa: E402
from comfy_ui_app.texts.zh_cn_history import ZH_CN_HISTORY  # noqa: E402
from comfy_ui_app.texts.zh_cn_results import ZH_CN_RESULTS  # noqa: E402

for _catalog in (ZH_CN_ACTIONS, ZH_CN_NOTIFY, ZH_CN_PRESETS, ZH_CN_HISTORY, ZH_CN_RESULTS):
    ZH_CN.update(_catalog)
