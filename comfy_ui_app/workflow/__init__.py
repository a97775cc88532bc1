"""Pure workflow logic (layer 1): functions over a workflow's graph and the server's
``/object_info``, no I/O. ``templates`` loads and fills, ``fields`` finds the form in any graph,
``check`` validates as ComfyUI would, ``convert`` turns an editor save into a prompt (with
``editor_widgets``, ``subgraphs`` and ``group_nodes``; ``editor_format`` the reverse), ``lora``,
``masks``, ``inpaint``, ``pnginfo``."""
