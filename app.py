"""Start the web app: ``python app.py [--server URL] [--host H] [--port P] ...``.

This is the only module that reads the environment and launches a server.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import shlex
import signal
import sys
import threading
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


def _env_minutes(env, name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        sys.exit(f"{name} must be a number of minutes (0 for none), got {raw!r}")
    return value


def _env_switch(env, name: str) -> bool | None:
    """``1``/``0`` (also true/false, yes/no, on/off) -> True/False; unset or empty -> None."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return raw in ("1", "true", "yes", "on")
    sys.exit(f"{name} must be 1 or 0, got {raw!r}")


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``localhost``, ``::1``: a page only this computer can open."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where there is one to show (not "(default: None)" or an empty one)."""

    def _get_help_string(self, action):
        if action.default in (None, "", False, argparse.SUPPRESS):
            return action.help
        return super()._get_help_string(action)


def show_server_urls(args, env=None) -> bool:
    """May the page show ComfyUI's addresses? ``--show-server-urls`` / ``--no-show-server-urls``
    (or COMFY_UI_SHOW_SERVER_URLS) decide; without them: yes for a private app, no when the
    page is public (on a Space, with ``--share``, or listening beyond this computer)."""
    env = os.environ if env is None else env
    if args.show_server_urls is not None:
        return args.show_server_urls
    return not (env.get("SYSTEM") == "spaces" or args.share or not is_loopback(args.host))


def server_labels(urls: list[str], show: bool) -> list[str | None]:
    """What the page shows of each server: its address (None), or "ComfyUI server 1", 2…"""
    return [None if show else f"ComfyUI server {n}" for n in range(1, len(urls) + 1)]


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
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--server", metavar="URL[,URL...]",
                        default=env.get("COMFYUI_URL") or DEFAULT_SERVER,
                        help="address of the ComfyUI server, or several separated by commas: jobs go to "
                             "a healthy one that has what they need (env COMFYUI_URL)")
    parser.add_argument("--per-server", metavar="N", type=int,
                        default=_env_int(env, "COMFY_UI_PER_SERVER", 2),
                        help="at most this many jobs of the app at a time on each ComfyUI server; the rest "
                             "wait in the app's own queue, users taking turns (env COMFY_UI_PER_SERVER)")
    parser.add_argument("--run-limit", metavar="MIN", type=float,
                        default=_env_minutes(env, "COMFY_UI_RUN_LIMIT_MIN", 30.0),
                        help="minutes a job may run on a ComfyUI server before the app interrupts it there and "
                             "frees its place (a hung server or node); 0 for no limit (env COMFY_UI_RUN_LIMIT_MIN)")
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
                             "a Space with hf_oauth: true, which sets OAUTH_CLIENT_ID; off a Space, that is without "
                             "SYSTEM=spaces and SPACE_ID, it needs a Hugging Face login on this machine)")
    parser.add_argument("--log-prompts", action=argparse.BooleanOptionalAction,
                        default=(env.get("COMFY_UI_LOG_PROMPTS") or "").lower() in ("1", "true", "yes", "on"),
                        help="also write each job's prompt text in the job log lines on stderr; off by "
                             "default, as prompts may be private (env COMFY_UI_LOG_PROMPTS=1)")
    parser.add_argument("--share", action="store_true",
                        help="also publish a temporary public gradio.live link (off by default)")
    parser.add_argument("--show-server-urls", action=argparse.BooleanOptionalAction,
                        default=_env_switch(env, "COMFY_UI_SHOW_SERVER_URLS"),
                        help="show ComfyUI's addresses on the page (status banner, messages, System tab); "
                             "--no-show-server-urls names them \"ComfyUI server 1\", 2… instead. Left unset, it is "
                             "on for a private app and off when the page is public: on a Space (SYSTEM=spaces), "
                             "with --share, or with --host other than 127.0.0.1, localhost or ::1 "
                             "(env COMFY_UI_SHOW_SERVER_URLS=1 or 0)")
    parser.add_argument("--max-upload-mb", metavar="MB", type=float, default=env.get("COMFY_UI_MAX_UPLOAD_MB") or 20,
                        help="largest file a browser may upload, in megabytes (env COMFY_UI_MAX_UPLOAD_MB)")
    local = parser.add_argument_group("start ComfyUI from a folder on this computer (README: Run with your own "
                                      "ComfyUI checkout)")
    local.add_argument("--comfyui-dir", metavar="PATH|auto", default=env.get("COMFYUI_DIR") or None,
                       help="start ComfyUI from this folder (the one with its main.py) on a free local port, "
                            "restart it when it stops and stop it with the app; the page uses it instead of "
                            "the default --server, or besides the servers --server / COMFYUI_URL name. 'auto' "
                            "looks in ~/comfy/ComfyUI (~/Documents/comfy/ComfyUI on Windows and macOS), "
                            "./ComfyUI and ../ComfyUI (env COMFYUI_DIR)")
    local.add_argument("--comfyui-args", metavar="ARGS", default=env.get("COMFYUI_ARGS") or "",
                       help="more options for that ComfyUI, in one string, written with '=': "
                            "--comfyui-args=\"--lowvram\" (env COMFYUI_ARGS)")
    local.add_argument("--comfyui-start-timeout", metavar="S", type=float,
                       default=env.get("COMFYUI_START_TIMEOUT") or 120,
                       help="seconds that ComfyUI may take to start before the page says it failed "
                            "(env COMFYUI_START_TIMEOUT)")
    local.add_argument("--comfyui-restarts", metavar="N", type=int, default=env.get("COMFYUI_RESTARTS") or 3,
                       help="restart that ComfyUI at most N times within 10 minutes when it stops; 0: never "
                            "(env COMFYUI_RESTARTS)")
    limits = parser.add_argument_group("limits per user for a public demo (off by default; admins are exempt)")
    limits.add_argument("--max-pending-per-user", metavar="N", type=_cap(int), default=env.get("COMFY_UI_MAX_PENDING"),
                        help="jobs one user may have waiting or running at once (env COMFY_UI_MAX_PENDING)")
    limits.add_argument("--max-pixels", metavar="N|WxH", type=_cap("pixels"), default=env.get("COMFY_UI_MAX_PIXELS"),
                        help="width × height of one picture, e.g. 1048576 or 1024x1024 (env COMFY_UI_MAX_PIXELS)")
    limits.add_argument("--max-steps", metavar="N", type=_cap(int), default=env.get("COMFY_UI_MAX_STEPS"),
                        help="sampling steps of any sampler, refiner included (env COMFY_UI_MAX_STEPS)")
    limits.add_argument("--max-images", metavar="N", type=_cap(int), default=env.get("COMFY_UI_MAX_IMAGES"),
                        help="pictures asked for at once: batch size × batch count (env COMFY_UI_MAX_IMAGES)")
    limits.add_argument("--max-user-upload-mb", metavar="MB", type=_cap(float),
                        default=env.get("COMFY_UI_MAX_USER_UPLOAD_MB"),
                        help="megabytes of one picture a user sends to ComfyUI; --max-upload-mb stays the limit "
                             "for everyone, admins included (env COMFY_UI_MAX_USER_UPLOAD_MB)")
    return parser


def _cap(kind):
    """An argparse type for a cap: a positive number (``"pixels"``: also ``WxH``); empty is no cap."""
    def parse(text):
        if text is None or not str(text).strip():
            return None
        if kind == "pixels":
            from comfy_ui_app.jobs.limits import parse_pixels
            return parse_pixels(text)
        value = kind(text)
        if not value > 0:
            raise ValueError(text)
        return value
    parse.__name__ = "number of pixels" if kind == "pixels" else f"positive {kind.__name__}"
    return parse


def build_limits(args):
    """The caps of ``--max-*`` (None when none is set: a private app)."""
    from comfy_ui_app.jobs.limits import Limits

    limits = Limits(max_pending=args.max_pending_per_user, max_pixels=args.max_pixels, max_steps=args.max_steps,
                    max_images=args.max_images, max_upload_mb=args.max_user_upload_mb)
    return limits if limits.any else None


def parse_auth(text: str) -> list[tuple[str, str]]:
    """``"alice:pw1,bob:pw2"`` -> ``[("alice", "pw1"), ("bob", "pw2")]``."""
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        user, sep, password = item.partition(":")
        if not sep or not user or not password:
            sys.exit(f"--auth / COMFY_UI_AUTH must look like user:password[,user:password], got {item!r}")
        pairs.append((user, password))
    return pairs


def hf_login_problem(env) -> str | None:
    """Why "Sign in with Hugging Face" cannot work here, or None. On a Space (Gradio reads
    SYSTEM=spaces and SPACE_ID) it is real OAuth; elsewhere Gradio signs everyone in as the
    account this machine is logged in to, and refuses to start without one."""
    if env.get("SYSTEM") == "spaces" and env.get("SPACE_ID"):
        return None
    from huggingface_hub import get_token

    if get_token():
        return None
    return ("--hf-login needs a Hugging Face Space with hf_oauth: true; elsewhere Gradio signs you in as "
            "the account of `hf auth login` (or HF_TOKEN), and this machine has none. Start without --hf-login.")


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


def server_given(argv=None, env=None) -> bool:
    """Did --server or COMFYUI_URL name servers (rather than leave the default)?"""
    env = os.environ if env is None else env
    parser = build_parser(env)
    parser.set_defaults(server=None)
    return bool(env.get("COMFYUI_URL")) or parser.parse_args(argv).server is not None


def _say(message) -> None:
    """A line of the local ComfyUI's for the terminal; its failure (an error) worded here."""
    if isinstance(message, BaseException):
        from comfy_ui_app.texts.messages import describe

        message = describe(message, retrying=False)
    print(message, file=sys.stderr, flush=True)


def local_comfyui(args, data_dir: Path):
    """``--comfyui-dir``: that ComfyUI (``comfy_ui_app.local.managed``, not started yet), its log in
    ``data_dir/comfyui.log``; None without the option. Exits with one plain line when the
    folder is not a ComfyUI checkout."""
    if not args.comfyui_dir:
        return None
    from comfy_ui_app.errors import ComfyUIStartFailed
    from comfy_ui_app.local.managed import LocalComfyUI, resolve_checkout
    from comfy_ui_app.texts.messages import describe

    try:
        checkout = resolve_checkout(args.comfyui_dir)
        extra_args = shlex.split(args.comfyui_args)
    except ComfyUIStartFailed as exc:
        sys.exit(describe(exc, retrying=False))
    except ValueError as exc:  # shlex: an unclosed quote
        sys.exit(f"--comfyui-args / COMFYUI_ARGS cannot be read: {exc}")
    if args.comfyui_start_timeout <= 0 or args.comfyui_restarts < 0:
        sys.exit("--comfyui-start-timeout must be above 0 and --comfyui-restarts at least 0")
    return LocalComfyUI(checkout, log_path=data_dir / "comfyui.log", extra_args=extra_args,
                        start_timeout=args.comfyui_start_timeout, max_restarts=args.comfyui_restarts,
                        on_message=_say)


def stop_on_signals(local) -> None:
    """SIGTERM stops the app like Ctrl-C (Gradio closes its server, main's ``finally`` runs);
    both set the local ComfyUI stopping at once, as Gradio may wait 5 s for open pages."""
    def on_stop_signal(signum, frame):
        if local is not None:
            threading.Thread(target=local.stop, name="comfyui-stop", daemon=True).start()
        raise KeyboardInterrupt

    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, on_stop_signal)
    except ValueError:  # not the main thread (main() run from a test's thread): keep the defaults
        pass


def main(argv=None) -> None:
    args = build_parser().parse_args(argv)

    from comfy_ui_app.assembly import assemble, launch
    from comfy_ui_app.jobs.joblog import configure as log_jobs_to_stderr

    urls = server_urls(args.server)
    if not args.run_limit >= 0:
        sys.exit("--run-limit must be a number of minutes, 0 for no limit")
    if args.per_server < 1:
        sys.exit("--per-server must be at least 1")
    auth = parse_auth(args.auth)
    if args.hf_login and (problem := hf_login_problem(os.environ)):
        sys.exit(problem)
    admins = admin_ids(args.admins, hf_login=args.hf_login)
    data_dir = Path(args.data).resolve()
    output_dir = Path(args.output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    local = local_comfyui(args, data_dir)   # before the Cluster: the page needs its address
    stop_on_signals(local)
    if local is not None:
        local.start()   # returns at once; the banner says "Starting ComfyUI…" until it answers
        urls = [local.url, *urls] if server_given(argv) else [local.url]
    labels = server_labels(urls, show_server_urls(args))   # a public page names servers, never shows them
    log_jobs_to_stderr()   # one line per job state change (README: Operating it)
    try:
        app = assemble(urls, labels=labels, per_server=args.per_server,
                       run_limit=args.run_limit * 60 if args.run_limit > 0 else None,
                       data_dir=data_dir, output_dir=output_dir, workflows_dir=Path(args.workflows),
                       admins=admins, log_prompts=args.log_prompts, limits=build_limits(args),
                       browser_secret=browser_secret(data_dir), hf_login=args.hf_login, local=local)
    except BaseException:
        if local is not None:
            local.stop()
        raise
    try:
        print(f"ComfyUI server{'s' if len(urls) > 1 else ''}: {', '.join(c.url for c in app.cluster.comfies)}",
              flush=True)
        launch(app, host=args.host, port=args.port, share=args.share, auth=auth,
               max_file_size=int(args.max_upload_mb * 1_000_000))
    finally:
        app.close()
        if local is not None:
            local.stop()   # ComfyUI and anything it started (an atexit hook does it otherwise)


if __name__ == "__main__":
    main()
