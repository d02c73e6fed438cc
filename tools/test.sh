#!/usr/bin/env bash
# Builds esmlog and runs every test: the Swift suites, the storage and server suites again under
# ThreadSanitizer, then the end-to-end suite (boto3, the AWS CLI, Terraform) against real
# `esmlog serve` processes on 127.0.0.1. ESMLOG_SKIP_TSAN=1 leaves out the sanitizer run.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --tests
swift build --build-tests
swift test --skip-build
if [ "${ESMLOG_SKIP_TSAN:-}" != "1" ]; then
    tools/tsan.sh
fi
ESMLOG_BIN="$PWD/.build/debug/esmlog" python3 -m pytest Tests/e2e -q -rs -p no:cacheprovider
