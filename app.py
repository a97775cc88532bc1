"""Start the web app: ``python app.py [--server URL] [--host H] [--port P] ...``.

This is the only module that launches a server. Its flags and environment variables are
declared, read and checked in ``comfy_ui_app.settings.web_app``.
"""
from __future__ import annotations

import ipaddress
import secrets
import shlex
import signal
import sys
import threading
from pathlib import Path

from comfy_ui_app.settings import SettingsParser, web_app


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``localhost``, ``::1``: a page only this computer can open."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def is_public(args) -> bool:
    """Can a stranger open the page? On a Space, with ``--share``, or listening beyond this computer."""
    return args.system == "spaces" or bool(args.share) or not is_loopback(args.host)


def show_server_urls(args) -> bool:
    """May the page show ComfyUI's addresses? ``--show-server-urls`` / ``--no-show-server-urls``
    (or COMFY_UI_SHOW_SERVER_URLS) decide; without them: yes for a private app, no when the
    page is public (on a Space, with ``--share``, or listening beyond this computer)."""
    if args.show_server_urls is not None:
        return args.show_server_urls
    return not is_public(args)


def build_policy(args):
    """What a visitor may send (``comfy_ui_app.jobs.policy``): a public app's stricter defaults,
    or a private one's, with the flags of README's "Running it in public" on top."""
    from comfy_ui_app.jobs.policy import Policy

    return Policy.for_app(is_public(args), custom_workflows=args.custom_workflows, allowed_nodes=args.allow_nodes,
                          max_prompt_chars=args.max_prompt_chars, max_text_chars=args.max_text_chars,
                          max_nodes=args.max_nodes, min_free_mb=args.min_free_mb)


def server_labels(urls: list[str], show: bool) -> list[str | None]:
    """What the page shows of each server: its address (None), or "ComfyUI server 1", 2…"""
    return [None if show else f"ComfyUI server {n}" for n in range(1, len(urls) + 1)]


def build_parser(env=None) -> SettingsParser:
    """The parser of ``python app.py``: its ``parse_args`` reads the flags, then the environment
    (``env``, else ``os.environ``), then the defaults, as :mod:`comfy_ui_app.settings.web_app` declares."""
    parser = SettingsParser(prog="python app.py", env=env, show_defaults=True,
                            description="A simple web page for running ComfyUI workflows (Gradio).")
    parser.declare(web_app.MAIN)
    parser.declare(web_app.LOCAL, parser.add_argument_group(web_app.LOCAL_TITLE))
    parser.declare(web_app.LIMITS, parser.add_argument_group(web_app.LIMITS_TITLE))
    parser.declare(web_app.PUBLIC, parser.add_argument_group(web_app.PUBLIC_TITLE))
    return parser


def build_limits(args):
    """The caps of ``--max-*`` (None when none is set: a private app)."""
    from comfy_ui_app.jobs.limits import Limits

    limits = Limits(max_pending=args.max_pending_per_user, max_pixels=args.max_pixels, max_steps=args.max_steps,
                    max_images=args.max_images, max_upload_mb=args.max_user_upload_mb)
    return limits if limits.any else None


def hf_login_problem(args) -> str | None:
    """Why "Sign in with Hugging Face" cannot work here, or None. On a Space (Gradio reads
    SYSTEM=spaces and SPACE_ID) it is real OAuth; elsewhere Gradio signs everyone in as the
    account this machine is logged in to, and refuses to start without one."""
    if args.system == "spaces" and args.space_id:
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


def _kept_key(data_dir: Path, name: str) -> str:
    """A random key kept in the data folder as ``name`` (made once, readable by this user only)."""
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def browser_secret(data_dir: Path) -> str:
    """The key that scrambles the browser id in localStorage. Gradio publishes it in ``/config``:
    it protects nothing (``identity_key`` does)."""
    return _kept_key(data_dir, "browser-secret")


def identity_key(data_dir: Path) -> str:
    """The key that signs the browser ids the page issues (``comfy_ui_app.jobs.identity``), kept in
    the data folder so ids survive an app restart; it never leaves the server."""
    return _kept_key(data_dir, "identity-key")


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
    except ComfyUIStartFailed as exc:
        sys.exit(describe(exc, retrying=False))
    extra_args = shlex.split(args.comfyui_args)   # the settings checked that it splits
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

    urls = args.server
    if args.hf_login and (problem := hf_login_problem(args)):
        sys.exit(problem)
    admins = admin_ids(args.admins, hf_login=args.hf_login)
    data_dir = Path(args.data).resolve()
    output_dir = Path(args.output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    local = local_comfyui(args, data_dir)   # before the Cluster: the page needs its address
    stop_on_signals(local)
    if local is not None:
        local.start()   # returns at once; the banner says "Starting ComfyUI…" until it answers
        urls = [local.url, *urls] if "server" in args.given else [local.url]
    labels = server_labels(urls, show_server_urls(args))   # a public page names servers, never shows them
    log_jobs_to_stderr()   # one line per job state change (README: Operating it)
    try:
        app = assemble(urls, labels=labels, per_server=args.per_server,
                       run_limit=args.run_limit * 60 if args.run_limit > 0 else None,
                       data_dir=data_dir, output_dir=output_dir, workflows_dir=Path(args.workflows),
                       admins=admins, log_prompts=args.log_prompts, limits=build_limits(args),
                       policy=build_policy(args), browser_secret=browser_secret(data_dir),
                       identity_key=identity_key(data_dir), hf_login=args.hf_login, local=local)
    except BaseException:
        if local is not None:
            local.stop()
        raise
    try:
        print(f"ComfyUI server{'s' if len(urls) > 1 else ''}: {', '.join(c.url for c in app.cluster.comfies)}",
              flush=True)
        launch(app, host=args.host, port=args.port, share=args.share, auth=args.auth,
               max_file_size=int(args.max_upload_mb * 1_000_000))
    finally:
        app.close()
        if local is not None:
            local.stop()   # ComfyUI and anything it started (an atexit hook does it otherwise)


if __name__ == "__main__":
    main()
