#!/usr/bin/env bash
# Renders an HTML export in headless Chromium and checks the screenshot shows a page, not a
# blank or error screen, and that the lanes of the visual timeline are drawn in each state's
# colour. Installs chromium (Debian) if it is missing.
#
#     tools/html_screenshot.sh DATA_DIR [OUT.png] [COLOURS]
#
# COLOURS: comma-separated #rrggbb:min-pixels that the picture must hold (png_check.py --colors).
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir="$1"
png="${2:-/tmp/esmlog-export.png}"
colors="${3:-}"
esmlog="${ESMLOG_BIN:-.build/debug/esmlog}"
html="$(mktemp --suffix=.html)"
if ! command -v chromium >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
"$esmlog" export --data-dir "$data_dir" --format html --output "$html"
# Network off: the page must render from the file alone.
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --proxy-server=127.0.0.1:9 \
    --window-size=1400,1000 --screenshot="$png" "file://$html" >/dev/null 2>&1
python3 tools/png_check.py "$png" ${colors:+--colors "$colors"}
echo "screenshot: $png"
