#!/usr/bin/env bash
# Installs everything the kiosk needs on a fresh Debian/Ubuntu machine:
# Debian packages (only those missing), a virtualenv at .venv, and the project.
#   ./install.sh          runtime only (then: .venv/bin/kiosk demo)
#   ./install.sh --dev    runtime + test tools (then: .venv/bin/python -m pytest)
set -euo pipefail
cd "$(dirname "$0")"

dev=0
[ "${1:-}" = "--dev" ] && dev=1

# Runtime: a C toolchain and kernel headers for evdev's build, the GL and GLib
# libraries OpenCV (pulled in by mediapipe) links against, a CJK font for the
# screens and the proof sheets.
apt_runtime="python3 python3-venv python3-dev gcc linux-libc-dev libgl1 libglib2.0-0 fonts-wqy-zenhei"
# Tests: pdftoppm to render proof sheets, systemd-analyze for the units,
# debootstrap for the Debian 12 root the image installer is tested on,
# openssl for the sync's throw-away test CA, shellcheck for the scripts, and
# a headless Chromium with its driver for the office pages' browser tests, and
# the PostgreSQL server the receiver's tests start in a temporary folder
# (postgresql-15 on Debian 12; the distribution's default major elsewhere).
apt_dev="poppler-utils systemd shellcheck debootstrap openssl chromium chromium-driver"
postgres="postgresql-15"
if [ "$dev" = 1 ] && ! apt-cache policy "$postgres" 2>/dev/null | grep -q "Candidate: [0-9]"; then
  postgres="postgresql"
fi
apt_dev="$apt_dev $postgres"

wanted="$apt_runtime"
[ "$dev" = 1 ] && wanted="$wanted $apt_dev"

missing=""
for pkg in $wanted; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "install.sh: installing Debian packages:$missing"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086  # the package list splits into words on purpose
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$dev" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[dev]"
else
  .venv/bin/python -m pip install -q -e .
fi
if [ "$dev" = 1 ]; then
  # The Tasks-API path of the face check (Raspberry Pi OS Trixie, Python
  # 3.13: mediapipe 1.2.x has no solutions graphs and no models), tested
  # beside the main one by tests/test_tasks_path.py in a venv of its own.
  if [ ! -x .venv-tasks/bin/python ]; then
    "$python" -m venv .venv-tasks
  fi
  .venv-tasks/bin/python -m pip install -q --upgrade pip
  .venv-tasks/bin/python -m pip install -q "mediapipe==1.2.3" "ai-edge-litert==2.3.0" \
    "Pillow==13.0.0" "sqlite-utils==4.2.1" "pytest==9.2.0" "pytest-xdist==3.8.0" \
    "hypothesis==6.155.2"
  .venv-tasks/bin/python -m pip install -q --no-deps -e .
fi
echo "install.sh: ready: .venv/bin/kiosk"
