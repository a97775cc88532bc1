"""Start the web app: ``python app.py [--server URL] [--host H] [--port P] ...``.

This is the only module that reads the environment and launches a server.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SERVER = "http://127.0.0.1:8188"


def _env_port(env, name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        sys.exit(f"{name} must be a port number, got {raw!r}")


def build_parser(env=None) -> argparse.ArgumentParser:
    env = os.environ if env is None else env
    data_dir = Path(env.get("COMFY_UI_DATA") or "data")
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="A simple web page for running ComfyUI workflows (Gradio).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--server", metavar="URL",
                        default=env.get("COMFYUI_URL") or DEFAULT_SERVER,
                        help="address of the ComfyUI server (env COMFYUI_URL)")
    parser.add_argument("--host", default=env.get("GRADIO_SERVER_NAME") or "127.0.0.1",
                        help="interface the web page listens on; 0.0.0.0 for every interface "
                             "(env GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int,
                        default=_env_port(env, "GRADIO_SERVER_PORT", 7860),
                        help="port of the web page (env GRADIO_SERVER_PORT)")
    parser.add_argument("--workflows", metavar="DIR", default=str(HERE / "workflows"),
                        help="folder with the workflow templates (txt2img.json, ...)")
    parser.add_argument("--output-dir", metavar="DIR", default=str(data_dir / "outputs"),
                        help="folder where generated images are saved "
                             "(env COMFY_UI_DATA + /outputs)")
    parser.add_argument("--share", action="store_true",
                        help="also publish a temporary public gradio.live link (off by default)")
    return parser


def main(argv=None) -> None:
    args = build_parser().parse_args(argv)

    from comfy_ui_app import Comfy
    from comfy_ui_app.ui import build_app

    output_dir = Path(args.output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    comfy = Comfy(args.server).start()   # never raises when ComfyUI is down; keeps retrying
    try:
        demo = build_app(comfy, workflows_dir=Path(args.workflows), output_dir=output_dir)
        print(f"ComfyUI server: {args.server}", flush=True)
        demo.queue(default_concurrency_limit=None)
        demo.launch(server_name=args.host, server_port=args.port, share=args.share,
                    allowed_paths=[str(output_dir)])
    finally:
        comfy.close()


if __name__ == "__main__":
    main()
