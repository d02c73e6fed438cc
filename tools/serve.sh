#!/usr/bin/env bash
# Builds esmlog and serves the ESM API on 127.0.0.1:9321 with the data folder var/data.
# Extra arguments go to `esmlog serve` (see `esmlog serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift build -c release --product esmlog
exec .build/release/esmlog serve "$@"
