"""Hugging Face sign-in on a Space: a signed-in user's jobs belong to the account.

Gradio's OAuth keeps the login in a signed session cookie (``oauth_info``); the end-to-end
test starts ``app.py`` the way a Space with ``hf_oauth: true`` does (SPACE_ID and the
OAUTH_* variables set) and presents such a cookie, signed with the key Gradio derives
from OAUTH_CLIENT_SECRET — what the browser holds after "Sign in with Hugging Face".
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from itsdangerous import TimestampSigner

import app
from comfy_ui_app.jobs.store import JobStore
from comfy_ui_app.ui.context import current_user, hf_username

REPO = Path(__file__).resolve().parents[1]
SECRET = "test-oauth-secret"


def _request(session=None, username=None):
    """A gr.Request as handlers get it: the Starlette request's scope holds the session."""
    scope = {"type": "http"} if session is None else {"type": "http", "session": session}
    return SimpleNamespace(username=username, request=SimpleNamespace(scope=scope))


def _signed_in(name, expires_in=3600):
    return {"oauth_info": {"userinfo": {"preferred_username": name}, "expires_at": time.time() + expires_in}}


@pytest.mark.parametrize("request_, browser_id, expected", [
    (_request(_signed_in("alice")), "b1", "hf:alice"),
    (_request(_signed_in("alice"), username="bob"), "b1", "user:bob"),        # a Gradio login wins
    (_request(_signed_in("alice", expires_in=-10)), "b1", "browser:b1"),     # an expired login is none
    (_request({}), "b1", "browser:b1"),                                       # session, not signed in
    (_request(None), "b1", "browser:b1"),                                     # no OAuth in this app
    (_request({"oauth_info": {"userinfo": {}}}), "b1", "browser:b1"),        # no user name
    (_request({"oauth_info": "garbage"}), "", "anonymous"),
    (None, None, "anonymous"),
])
def test_who_is_asking(request_, browser_id, expected):
    assert current_user(request_, browser_id) == expected


def test_a_request_without_the_session_middleware_is_not_signed_in():
    class NoSession:  # Starlette asserts when .session is read without the middleware
        scope = {"type": "http"}

        @property
        def session(self):
            raise AssertionError("SessionMiddleware must be installed")

    assert hf_username(SimpleNamespace(request=NoSession())) is None


@pytest.mark.parametrize("text, hf_login, expected", [
    ("alice, bob", False, {"user:alice", "user:bob"}),
    ("alice", True, {"user:alice", "hf:alice"}),
    (" , ", True, set()),
])
def test_admins_name_hugging_face_accounts_when_sign_in_is_on(text, hf_login, expected):
    assert app.admin_ids(text, hf_login=hf_login) == expected


def test_sign_in_is_on_by_itself_on_a_space_with_oauth():
    assert app.build_parser(env={"OAUTH_CLIENT_ID": "x"}).parse_args([]).hf_login is True
    assert app.build_parser(env={}).parse_args([]).hf_login is False
    assert app.build_parser(env={"OAUTH_CLIENT_ID": "x"}).parse_args(["--no-hf-login"]).hf_login is False


def _session_cookie(session: dict) -> str:
    """The cookie Starlette's SessionMiddleware writes, with the key gradio/oauth.py uses."""
    key = hashlib.sha256((SECRET + "-v4").encode()).hexdigest()
    payload = base64.b64encode(json.dumps(session).encode())
    return TimestampSigner(key).sign(payload).decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def space_app(tmp_path, comfy_server):
    port = _free_port()
    env = dict(os.environ, COMFYUI_URL=comfy_server.url, GRADIO_SERVER_PORT=str(port),
               COMFY_UI_DATA=str(tmp_path), GRADIO_ANALYTICS_ENABLED="False", COMFY_UI_ADMINS="root",
               SPACE_ID="someone/comfy-ui", SYSTEM="spaces", OAUTH_CLIENT_ID="client-id",
               OAUTH_CLIENT_SECRET=SECRET, OAUTH_SCOPES="openid profile",
               OPENID_PROVIDER_URL="http://127.0.0.1:9")  # never asked: nobody goes through the login page
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                requests.get(url, timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert proc.poll() is None, proc.stdout.read()
        yield SimpleNamespace(url=url, data=tmp_path)
    finally:
        proc.terminate()
        proc.wait(15)


def test_a_signed_in_user_owns_jobs_across_browsers(space_app):
    from gradio_client import Client

    from test_sessions import history_of
    from test_ui_api import generate

    config = requests.get(f"{space_app.url}config", timeout=10).json()
    assert any(c.get("props", {}).get("elem_id") == "hf-login" for c in config["components"]), "no sign-in"
    assert requests.get(f"{space_app.url}login/huggingface", allow_redirects=False, timeout=10).status_code \
        in (302, 307, 500)  # the route exists (it would go on to huggingface.co)

    cookie = {"Cookie": f"session={_session_cookie(_signed_in('alice'))}"}
    alice = Client(space_app.url, verbose=False, headers=cookie)
    outputs = generate(alice, Prompt="signed in", browser="laptop").result(timeout=60)
    assert outputs, "the job did not finish"
    store = JobStore(space_app.data)
    try:
        (record,) = store.list()
        assert record.owner == "hf:alice"      # the account, not the browser "laptop"
    finally:
        store.close()

    # The same account on another browser sees the job; a stranger on that browser does not.
    phone = Client(space_app.url, verbose=False, headers=cookie)
    stranger = Client(space_app.url, verbose=False)
    assert history_of(phone, "phone") == [record.job_id]
    assert history_of(stranger, "phone") == []


def test_sign_in_off_a_space_without_a_hugging_face_login_is_one_plain_line(tmp_path, dead_url):
    env = dict(os.environ, COMFYUI_URL=dead_url, COMFY_UI_DATA=str(tmp_path), HF_HOME=str(tmp_path / "hf"),
               GRADIO_ANALYTICS_ENABLED="False")
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "SPACE_ID", "SYSTEM", "OAUTH_CLIENT_ID"):
        env.pop(name, None)
    result = subprocess.run([sys.executable, "app.py", "--hf-login", "--port", str(_free_port())], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "--hf-login needs a Hugging Face Space with hf_oauth: true; elsewhere Gradio signs you in as the account "
        "of `hf auth login` (or HF_TOKEN), and this machine has none. Start without --hf-login."]
