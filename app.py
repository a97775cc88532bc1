"""Start the web app: ``python app.py [--server URL] [--host H] [--port P] ...``.

This is the only module that reads the environment and launches a server.
"""
from __future__ import annotations

import argparse
import os
import secrets
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


def _env_int(env, name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        sys.exit(f"{name} must be a whole number of at least 1, got {raw!r}")
    return value


def server_urls(text: str) -> list[str]:
    """``"http://a:8188, http://b:8188"`` -> both, in order, without blanks or repeats."""
    urls = []
    for part in (p.strip().rstrip("/") for p in text.split(",")):
        if part and part not in urls:
            urls.append(part)
    if not urls:
        sys.exit("--server / COMFYUI_URL must name at least one ComfyUI address")
    return urls


def build_parser(env=None) -> argparse.ArgumentParser:
    env = os.environ if env is None else env
    data_dir = Path(env.get("COMFY_UI_DATA") or "data")
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="A simple web page for running ComfyUI workflows (Gradio).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--server", metavar="URL[,URL...]",
                        default=env.get("COMFYUI_URL") or DEFAULT_SERVER,
                        help="address of the ComfyUI server, or several separated by commas: jobs go to "
                             "a healthy one that has what they need (env COMFYUI_URL)")
    parser.add_argument("--per-server", metavar="N", type=int,
                        default=_env_int(env, "COMFY_UI_PER_SERVER", 2),
                        help="at most this many jobs of the app at a time on each ComfyUI server; the rest "
                             "wait in the app's own queue, users taking turns (env COMFY_UI_PER_SERVER)")
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
    parser.add_argument("--data", metavar="DIR", default=str(data_dir),
                        help="folder for the job database, stored outputs and the browser-id key "
                             "(env COMFY_UI_DATA)")
    parser.add_argument("--auth", metavar="USER:PASS[,USER:PASS...]", default=env.get("COMFY_UI_AUTH") or "",
                        help="turn on login with these users (env COMFY_UI_AUTH); off by default")
    parser.add_argument("--admins", metavar="USER[,USER...]", default=env.get("COMFY_UI_ADMINS") or "",
                        help="logged-in users who may see and cancel everyone's jobs, clear the queue "
                             "and free memory (env COMFY_UI_ADMINS; needs --auth or --hf-login)")
    parser.add_argument("--hf-login", action=argparse.BooleanOptionalAction,
                        default=bool(env.get("OAUTH_CLIENT_ID")),
                        help="show \"Sign in with Hugging Face\": a signed-in user's jobs follow the account "
                             "across browsers, and --admins names Hugging Face accounts too (on by itself on "
                             "a Space with hf_oauth: true, which sets OAUTH_CLIENT_ID)")
    parser.add_argument("--share", action="store_true",
                        help="also publish a temporary public gradio.live link (off by default)")
    parser.add_argument("--max-upload-mb", metavar="MB", type=float, default=env.get("COMFY_UI_MAX_UPLOAD_MB") or 20,
                        help="largest file a browser may upload, in megabytes (env COMFY_UI_MAX_UPLOAD_MB)")
    return parser


def parse_auth(text: str) -> list[tuple[str, str]]:
    """``"alice:pw1,bob:pw2"`` -> ``[("alice", "pw1"), ("bob", "pw2")]``."""
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        user, sep, password = item.partition(":")
        if not sep or not user or not password:
            sys.exit(f"--auth / COMFY_UI_AUTH must look like user:password[,user:password], got {item!r}")
        pairs.append((user, password))
    return pairs


def admin_ids(text: str, *, hf_login: bool = False) -> set[str]:
    """``"alice,bob"`` -> the owner ids of those logins (``user:alice``...), and of those
    Hugging Face accounts (``hf:alice``...) when "Sign in with Hugging Face" is on."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    kinds = ("user", "hf") if hf_login else ("user",)
    return {f"{kind}:{name}" for name in names for kind in kinds}


def browser_secret(data_dir: Path) -> str:
    """A random key kept in the data folder, so browser ids survive an app restart."""
    path = data_dir / "browser-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def main(argv=None) -> None:
    args = build_parser().parse_args(argv)

    from comfy_ui_app import Comfy
    from comfy_ui_app.cluster import Cluster
    from comfy_ui_app.service import JobService
    from comfy_ui_app.store import JobStore
    from comfy_ui_app.ui import build_app

    urls = server_urls(args.server)
    if args.per_server < 1:
        sys.exit("--per-server must be at least 1")
    auth = parse_auth(args.auth)
    admins = admin_ids(args.admins, hf_login=args.hf_login)
    data_dir = Path(args.data).resolve()
    output_dir = Path(args.output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    store = JobStore(data_dir)
    # One queue of the app's own over every server (one server too: users take turns there).
    cluster = Cluster([Comfy(url) for url in urls], per_server=args.per_server)
    try:
        jobs = JobService(cluster, store, admins=admins)   # before start: it installs the dispatch hook
        cluster.start()   # never raises when ComfyUI is down; keeps retrying
        jobs.resume()   # jobs that were queued or running when the app last stopped
        demo = build_app(cluster, workflows_dir=Path(args.workflows), output_dir=output_dir, jobs=jobs,
                         browser_secret=browser_secret(data_dir), hf_login=args.hf_login)
        print(f"ComfyUI server{'s' if len(urls) > 1 else ''}: {', '.join(urls)}", flush=True)
        demo.queue(default_concurrency_limit=None)
        demo.launch(server_name=args.host, server_port=args.port, share=args.share,
                    auth=auth or None, allowed_paths=[str(output_dir), str(store.outputs_dir)],
                    max_file_size=int(args.max_upload_mb * 1_000_000))
    finally:
        cluster.close()
        store.close()


if __name__ == "__main__":
    main()
