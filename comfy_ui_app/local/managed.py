"""Start and mind a local ComfyUI checkout (``python app.py --comfyui-dir PATH``).

``LocalComfyUI(checkout, log_path=...)`` runs ``python main.py --listen 127.0.0.1 --port
<free port> --preview-method auto [extra args]`` in the checkout, in a process group of its
own, its output going to ``log_path`` (the last lines kept in memory too). ``start()``
returns at once; a watchdog thread waits until ``GET /system_stats`` answers, restarts
ComfyUI when it stops (at most ``max_restarts`` times within ``restart_window`` seconds)
and keeps ``state()`` up to date for the banner. A first start that fails (it exits, or
no answer within ``start_timeout``) is not retried: the state is FAILED with a
``ComfyUIStartFailed`` carrying the log's last lines. ``stop()`` ends the whole group
(SIGTERM, SIGKILL after ``grace`` s); an ``atexit`` hook calls it if nobody else did.
``resolve_checkout(value)`` reads ``--comfyui-dir`` (a folder, or ``auto``).
``on_message`` gets each line for the terminal, and on failure the ``ComfyUIStartFailed``
itself: whoever prints it words it (``texts.messages.describe``). Nothing happens at import; the python executable, environment and readiness probe are passed in.
"""
from __future__ import annotations

import atexit
import collections
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import requests

from comfy_ui_app.local.checkout import (
    default_candidates, find_checkout, is_checkout, resolve_checkout,
)  # noqa: F401 (public here)
from comfy_ui_app.errors import ComfyUIStartFailed

__all__ = ["LocalComfyUI", "LocalState", "default_candidates", "find_checkout", "free_port", "http_probe",
           "is_checkout", "resolve_checkout"]

STARTING, RUNNING, RESTARTING, FAILED, STOPPED = "starting", "running", "restarting", "failed", "stopped"
# Banner texts (English ``tr`` keys; Chinese in comfy_ui_app.texts.zh_cn). Failures are worded by
# comfy_ui_app.texts.messages.describe.
STARTING_TEXT = "Starting ComfyUI…"
RESTARTING_TEXT = "ComfyUI stopped unexpectedly; restarting (attempt {attempt} of {attempts})…"
TAIL_LINES = 15
_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)


@dataclass(frozen=True)
class LocalState:
    """Where the local ComfyUI stands, for the banner."""

    phase: str                               # STARTING, RUNNING, RESTARTING, FAILED or STOPPED
    url: str
    attempt: int = 0                         # RESTARTING: this restart's number (1-based) ...
    attempts: int = 0                        # ... of at most this many
    error: ComfyUIStartFailed | None = None  # FAILED: why, with the log's last lines
    pid: int | None = None                   # RUNNING: ComfyUI's process id


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def http_probe(session: requests.Session | None = None, timeout: float = 2.0) -> Callable[[str], bool]:
    """``probe(url) -> bool``: does ``url/system_stats`` answer 200?"""
    session = session or requests.Session()

    def probe(url: str) -> bool:
        try:
            return session.get(url + "/system_stats", timeout=timeout).status_code == 200
        except requests.RequestException:
            return False
    return probe


def _group_options() -> dict:
    if os.name == "posix":
        return {"start_new_session": True}
    return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}  # Windows


def _signal_group(proc: subprocess.Popen, sig) -> None:
    if os.name != "posix":  # no process groups to signal: end the process itself
        if proc.poll() is None:
            proc.kill()
        return
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):  # the group is gone (macOS: only a zombie left)
        pass


class LocalComfyUI:
    """One ComfyUI started from a checkout, restarted when it stops, stopped with the app."""

    def __init__(self, checkout, *, log_path, python: str = sys.executable, extra_args=(), env=None,
                 host: str = "127.0.0.1", port: int | None = None, start_timeout: float = 120.0,
                 max_restarts: int = 3, restart_window: float = 600.0, restart_delay: float = 1.0,
                 grace: float = 5.0, poll_interval: float = 0.25, probe: Callable[[str], bool] | None = None,
                 on_message: Callable[[str | ComfyUIStartFailed], None] | None = None, clock: Callable[[], float] = time.monotonic):
        self.checkout, self.log_path = Path(checkout), Path(log_path)
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.command = [python, "main.py", "--listen", host, "--port", str(self.port),
                        "--preview-method", "auto", *extra_args]
        self.start_timeout, self.max_restarts, self.restart_window = start_timeout, max_restarts, restart_window
        self.restart_delay, self.grace, self.poll_interval = restart_delay, grace, poll_interval
        self._env = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"}
        self._probe = probe or http_probe()
        self._on_message, self._clock = on_message, clock
        self._lines: collections.deque[str] = collections.deque(maxlen=200)
        self._state_lock = threading.Lock()   # guards _state and _proc
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._state = LocalState(STARTING, self.url)
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._thread: threading.Thread | None = None
        self._log = None
        self._restarts: collections.deque[float] = collections.deque()

    # -- reading ---------------------------------------------------------------------

    def state(self) -> LocalState:
        with self._state_lock:
            return self._state

    def log_tail(self, lines: int = TAIL_LINES) -> str:
        """The last ``lines`` lines ComfyUI wrote (of its latest start)."""
        with self._log_lock:
            return "\n".join(list(self._lines)[-lines:])

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> LocalComfyUI:
        """Start ComfyUI and the watchdog; returns at once (see ``state()``)."""
        if self._thread is not None:
            return self
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w", encoding="utf-8", errors="replace")
        atexit.register(self.stop)   # safety net: never leave ComfyUI running behind the app
        self._say(f"Starting ComfyUI from {self.checkout} at {self.url} (its log: {self.log_path})")
        self._thread = threading.Thread(target=self._watch, name="comfyui-watchdog", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop ComfyUI and everything it started; safe to call more than once."""
        with self._state_lock:
            self._stopping.set()
            proc = self._proc
        if proc is not None:
            self._end(proc, terminate=True)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.grace + 5)
        with self._log_lock:
            if self._log is not None:
                self._log.close()
        self._set(LocalState(STOPPED, self.url))
        atexit.unregister(self.stop)

    # -- the watchdog ----------------------------------------------------------------

    def _watch(self) -> None:
        ever_ready = False
        while True:
            try:
                proc = self._launch()
            except OSError as exc:
                self._fail(ComfyUIStartFailed("not_started", path=str(self.checkout), reason=str(exc)))
                return
            if proc is None:
                return
            failure = self._wait_ready(proc)
            if self._stopping.is_set():
                return
            if failure is None:
                ever_ready = True
                self._set(LocalState(RUNNING, self.url, pid=proc.pid))
                self._say(f"ComfyUI is ready at {self.url}")
                code = proc.wait()
                if self._stopping.is_set():
                    return
                self._end(proc)
                failure = self._failure("exited", returncode=code)
            if not ever_ready:   # a first start that fails is a setup problem: say so, once
                self._fail(failure)
                return
            attempt = self._next_attempt()
            if attempt is None:
                self._fail(self._failure("gave_up", attempts=self.max_restarts))
                return
            self._set(LocalState(RESTARTING, self.url, attempt=attempt, attempts=self.max_restarts))
            why = f" (exit code {failure.returncode})" if failure.returncode is not None else f" ({failure.kind})"
            self._say(RESTARTING_TEXT.format(attempt=attempt, attempts=self.max_restarts) + why)
            if self._stopping.wait(self.restart_delay):
                return

    def _launch(self) -> subprocess.Popen | None:
        """Start one ComfyUI process (None when stopping); raises OSError if it cannot be run."""
        with self._log_lock:
            self._lines.clear()
        with self._state_lock:
            if self._stopping.is_set():
                return None
            self._write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} in {self.checkout}: {shlex.join(self.command)}\n")
            proc = subprocess.Popen(self.command, cwd=self.checkout, env=self._env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **_group_options())
            self._proc = proc
        self._reader = threading.Thread(target=self._read, args=(proc,), name="comfyui-log", daemon=True)
        self._reader.start()
        return proc

    def _read(self, proc: subprocess.Popen) -> None:
        for raw in proc.stdout:
            text = raw.decode("utf-8", "replace")
            line = text.rstrip("\r\n").rsplit("\r", 1)[-1].rstrip()  # a progress bar's last state
            self._write(text, line[:500])
        proc.stdout.close()

    def _write(self, text: str, line: str = "") -> None:
        with self._log_lock:
            if line:
                self._lines.append(line)
            if self._log is not None and not self._log.closed:
                self._log.write(text)
                self._log.flush()

    def _wait_ready(self, proc: subprocess.Popen) -> ComfyUIStartFailed | None:
        deadline = self._clock() + self.start_timeout
        while not self._stopping.is_set():
            code = proc.poll()
            if code is not None:
                self._end(proc)
                return self._failure("exited", returncode=code)
            if self._probe(self.url):
                return None
            if self._clock() >= deadline:
                self._end(proc, terminate=True)
                return self._failure("timeout", timeout=self.start_timeout)
            self._stopping.wait(self.poll_interval)
        return None

    def _end(self, proc: subprocess.Popen, terminate: bool = False) -> None:
        """Stop ``proc``'s whole group (politely first if ``terminate``) and read its last words."""
        if terminate and proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(self.grace)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(proc, _KILL)   # what ignored SIGTERM, and anything it left behind
        proc.wait()
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(2)

    def _next_attempt(self) -> int | None:
        now = self._clock()
        while self._restarts and now - self._restarts[0] > self.restart_window:
            self._restarts.popleft()
        if len(self._restarts) >= self.max_restarts:
            return None
        self._restarts.append(now)
        return len(self._restarts)

    def _failure(self, kind: str, **data) -> ComfyUIStartFailed:
        return ComfyUIStartFailed(kind, path=str(self.checkout), log_path=str(self.log_path),
                                  log_tail=self.log_tail(), **data)

    def _fail(self, error: ComfyUIStartFailed) -> None:
        self._set(LocalState(FAILED, self.url, error=error))
        self._say(error)

    def _set(self, state: LocalState) -> None:
        with self._state_lock:
            self._state = state

    def _say(self, message: str | ComfyUIStartFailed) -> None:
        if self._on_message is not None:
            self._on_message(message)
