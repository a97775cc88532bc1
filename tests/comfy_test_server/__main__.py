"""``python tests/comfy_test_server [--listen HOST] [--port N] [--step-time S] ...``

Accepts the ComfyUI flags a stand-in needs (``--listen``, ``--port``,
``--preview-method``), prints the URL and serves until Ctrl-C / SIGTERM.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

if __package__ in (None, ""):  # run as a directory path: make the package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from comfy_test_server import ComfyTestServer  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="comfy_test_server", description=__doc__.splitlines()[0])
    p.add_argument("--listen", nargs="?", const="0.0.0.0", default="127.0.0.1", metavar="HOST",
                   help="address to bind (bare --listen means 0.0.0.0, like ComfyUI)")
    p.add_argument("--port", type=int, default=8188)
    p.add_argument("--preview-method", choices=["none", "auto", "latent2rgb", "taesd"], default="auto",
                   help="'none' sends no binary preview frames (ComfyUI's default is none)")
    p.add_argument("--preview-size", type=int, default=512)
    p.add_argument("--step-time", type=float, default=0.1, help="seconds per sampler step")
    p.add_argument("--steps", type=int, default=None, help="override every sampler's step count")
    p.add_argument("--root", default=None, help="directory for input/ output/ temp/ (default: a temp dir)")
    p.add_argument("--checkpoint", action="append", dest="checkpoints", default=None,
                   help="checkpoint file name to advertise (repeatable)")
    p.add_argument("--lora", action="append", dest="loras", default=None,
                   help="LoRA file name to advertise (repeatable; the recorded server had none)")
    p.add_argument("--upscale-model", action="append", dest="upscale_models", default=None,
                   help="upscale model file name UpscaleModelLoader lists (repeatable; none recorded)")
    p.add_argument("--newer-server", action="store_true",
                   help="newer ComfyUI errors: missing_node_type, invalid_prompt_id")
    p.add_argument("--cpu", action="store_true", help="accepted and ignored (ComfyUI flag)")
    args = p.parse_args(argv)
    kwargs = {}
    if args.checkpoints:
        kwargs["checkpoints"] = args.checkpoints
    if args.upscale_models:
        kwargs["upscale_models"] = args.upscale_models
    if args.loras:
        kwargs["loras"] = args.loras
    server = ComfyTestServer(root=args.root, host=args.listen.split(",")[0], port=args.port,
                             step_time=args.step_time, steps=args.steps,
                             preview=args.preview_method != "none", preview_size=args.preview_size,
                             newer_server=args.newer_server, **kwargs)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    server.start()
    print(f"To see the GUI go to: {server.url}", flush=True)
    print(f"comfy test server: {server.url} (root {server.root}); Ctrl-C to stop", flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
