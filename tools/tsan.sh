#!/usr/bin/env bash
# Builds the Swift suites with ThreadSanitizer (in .build-tsan, beside the normal build) and runs
# the storage and server suites under it (all suites but the PostgreSQL ones with --all). A data
# race fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
filter=(--filter 'ESMStorageTests|ESMServerTests')
[ "${1:-}" = "--all" ] && filter=()
# Without the PostgreSQL log and the command line (see the end of Package.swift): the storage
# suites test the store's shared-log path with an in-memory backend.
export ESMLOG_SANITIZER_SUITES=1
swift build --build-tests --sanitize=thread --scratch-path .build-tsan
TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}" \
    swift test --skip-build --sanitize=thread --scratch-path .build-tsan "${filter[@]}"
