#!/usr/bin/env bash
# Builds esmlog and runs every test: the Swift suites (against a throwaway PostgreSQL from
# tools/postgres.sh for the log on PostgreSQL), the storage and server suites again under
# ThreadSanitizer, then the end-to-end suite (boto3, the AWS CLI, Terraform) against real
# `esmlog serve` processes on 127.0.0.1. ESMLOG_SKIP_TSAN=1 leaves out the sanitizer run.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --tests
swift build --build-tests
# A throwaway PostgreSQL for the suites of the log on PostgreSQL (the end-to-end ones start their own).
pg_dir=$(mktemp -d)
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ESMLOG_TEST_POSTGRES_URL=$(tools/postgres.sh start "$pg_dir" "$pg_port")
export ESMLOG_TEST_POSTGRES_URL
trap 'tools/postgres.sh stop "$pg_dir" immediate || true; rm -rf "$pg_dir"' EXIT
swift test --skip-build
if [ "${ESMLOG_SKIP_TSAN:-}" != "1" ]; then
    tools/tsan.sh
fi
ESMLOG_BIN="$PWD/.build/debug/esmlog" python3 -m pytest Tests/e2e -q -rs -p no:cacheprovider
