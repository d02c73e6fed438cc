#!/usr/bin/env bash
# Installs what esmlog needs on a fresh Debian machine: libzstd-dev and zlib1g-dev (only if absent); with
# --tests also chromium (for the HTML picture test) and the Python packages of the end-to-end
# tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg -s libzstd-dev zlib1g-dev pkg-config >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq libzstd-dev zlib1g-dev pkg-config
fi

if [ "${1:-}" = "--tests" ]; then
    if ! command -v chromium >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq chromium >/dev/null || echo "setup: chromium could not be installed; the HTML picture test will be skipped" >&2
    fi
    python3 -m pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
fi
