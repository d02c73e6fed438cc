#!/usr/bin/env bash
# Installs what esmlog needs on a fresh Debian machine: libzstd-dev (only if absent) and the
# Python packages of the end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg -s libzstd-dev >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq libzstd-dev pkg-config
fi

if [ "${1:-}" = "--tests" ]; then
    python3 -m pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
fi
