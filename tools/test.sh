#!/usr/bin/env bash
# Builds esmlog and runs every test: the Swift suites, then the end-to-end suite (boto3, the
# AWS CLI) against real `esmlog serve` processes on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --tests
swift build --build-tests
swift test --skip-build
ESMLOG_BIN="$PWD/.build/debug/esmlog" python3 -m pytest Tests/e2e -q -p no:cacheprovider
