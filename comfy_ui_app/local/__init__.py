"""A ComfyUI checkout on this computer, started and minded by the app (``--comfyui-dir``):
``checkout`` finds it, ``managed.LocalComfyUI`` runs it. Layer 1: imports only ``errors``."""
