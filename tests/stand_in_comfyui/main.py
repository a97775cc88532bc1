"""A stand-in ComfyUI checkout: ``python main.py --listen H --port N --preview-method M [...]``.

Started exactly the way ``comfy_ui_app.local.managed.LocalComfyUI`` starts ComfyUI; serves the
protocol-faithful ``tests/comfy_test_server`` on that port. Unknown options are accepted
and printed. Its first line is ``stand-in ComfyUI pid <pid> argv <json list>``; SIGTERM or
SIGINT stops it (exit 0). Knobs (environment variables), for the tests:

- ``STAND_IN_DELAY=S``: wait S seconds before listening;
- ``STAND_IN_WAIT_FILE=PATH``: do not listen until PATH exists;
- ``STAND_IN_FAIL=TEXT``: print a few lines and TEXT, then exit with status 3 at once;
- ``STAND_IN_DIE_AFTER=S``: exit with status 4 S seconds after it started listening;
- ``STAND_IN_DIE_FILE=PATH``: exit with status 4 as soon as PATH exists (checked every 0.05 s);
- ``STAND_IN_IGNORE_TERM=1``: ignore SIGTERM (only SIGKILL ends it);
- ``STAND_IN_GRANDCHILD=1``: start a sleeping child process, printing ``grandchild pid <pid>``;
- ``STAND_IN_ROOT=DIR``: the test server's input/output/temp folder (default: a temp dir).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


def main() -> int:
    print(f"stand-in ComfyUI pid {os.getpid()} argv {json.dumps(sys.argv[1:])}", flush=True)
    parser = argparse.ArgumentParser(prog="main.py")
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8188)
    parser.add_argument("--preview-method", default="none")
    args, extra = parser.parse_known_args()
    print(f"extra args {json.dumps(extra)}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, signal.SIG_IGN if os.environ.get("STAND_IN_IGNORE_TERM") else lambda *_: done.set())
    if os.environ.get("STAND_IN_GRANDCHILD"):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        print(f"grandchild pid {child.pid}", flush=True)
    if os.environ.get("STAND_IN_FAIL"):
        print("Traceback (most recent call last):", flush=True)
        print('  File "main.py", line 1, in <module>', flush=True)
        print(os.environ["STAND_IN_FAIL"], flush=True)
        return 3
    if done.wait(float(os.environ.get("STAND_IN_DELAY") or 0)):
        return 0
    wait_file = os.environ.get("STAND_IN_WAIT_FILE")
    while wait_file and not os.path.exists(wait_file):
        if done.wait(0.05):
            return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: comfy_test_server
    from comfy_test_server import ComfyTestServer   # only now: the lines above come at once

    server = ComfyTestServer(root=os.environ.get("STAND_IN_ROOT") or None, host=args.listen, port=args.port,
                             preview=args.preview_method != "none").start()
    server.argv = ["main.py", *sys.argv[1:]]
    print(f"To see the GUI go to: {server.url}", flush=True)
    die_after = os.environ.get("STAND_IN_DIE_AFTER")
    die_at = time.monotonic() + float(die_after) if die_after else None
    die_file = os.environ.get("STAND_IN_DIE_FILE")
    try:
        while not done.wait(0.05):
            if (die_at is not None and time.monotonic() >= die_at) or (die_file and os.path.exists(die_file)):
                print("stand-in ComfyUI: dying as asked", flush=True)
                os._exit(4)
    finally:
        server.stop()
    print("stand-in ComfyUI: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
