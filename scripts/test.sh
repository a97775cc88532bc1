#!/usr/bin/env bash
# Install everything the tests need and run them. Works on a fresh Debian 12
# (Python 3.11) as root or as a user with sudo. Extra arguments go to pytest.
#   bash scripts/test.sh            # whole suite
#   bash scripts/test.sh -m "not browser" -x
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
APT_UPDATED=0
apt_install() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
        APT_UPDATED=1
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# Debian's Chromium for the browser tests (never `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
    echo "== installing Debian chromium"
    apt_install chromium
fi

# A virtual environment; Debian ships venv/ensurepip in a separate package.
VENV=.venv
if [ ! -x "$VENV/bin/pip" ]; then
    echo "== creating $VENV"
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        PYVER="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        apt_install "python${PYVER}-venv" || apt_install python3-venv
        python3 -m venv "$VENV"
    fi
fi

echo "== installing Python packages"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt

if [ "$#" -gt 0 ]; then
    exec "$VENV/bin/python" -m pytest "$@"
fi
# Two runs: the browser tests apart from the rest, so a browser hiccup cannot disturb
# the event loops of the tests after it.
echo "== running the tests (without a browser)"
# A test that fails is run once more before it counts: these machines are shared and
# noisy, and timing-sensitive tests (streams, reconnects) can miss a beat. Reruns are
# listed in the summary ("R"), so a flaky test stays visible.
"$VENV/bin/python" -m pytest -m "not browser" --reruns 1 --reruns-delay 1
echo "== running the browser tests (Chromium)"
exec "$VENV/bin/python" -m pytest -m browser
