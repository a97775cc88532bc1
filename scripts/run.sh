#!/usr/bin/env bash
# Install the app into .venv (first time only) and start it. Works on a fresh
# Debian 12 (Python 3.11). Arguments go to app.py, e.g.:
#   bash scripts/run.sh --server http://127.0.0.1:8188 --port 7860
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
if [ ! -x "$VENV/bin/pip" ]; then
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
        PYVER="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        $SUDO apt-get update -q
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "python${PYVER}-venv"
        python3 -m venv "$VENV"
    fi
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt
exec "$VENV/bin/python" app.py "$@"
