#!/usr/bin/env bash
# Headless Chromium screenshot (PNG) and A4 print (PDF) of an idrisk HTML report.
#
#   scripts/screenshot_report.sh [REPORT.html] [OUT.png] [WIDTH] [HEIGHT]
#   defaults: reports/demo.html reports/demo-screenshot.png 1280 3000
#
# Needs Debian's Chromium: `apt-get install -y chromium` (as root). The report is offline
# (CSS and images inline), so no server is needed: Chromium opens the file directly.
# Flags: headless, no sandbox (root in a container), no GPU, and no background networking
# (this machine's network is closed; without them Chromium retries connections at start).
# A PDF printed on A4 is written next to the PNG (OUT.pdf) to check the print layout.
set -euo pipefail
cd "$(dirname "$0")/.."
REPORT="${1:-reports/demo.html}"
OUT="${2:-reports/demo-screenshot.png}"
WIDTH="${3:-1280}"
HEIGHT="${4:-3000}"
CHROME="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [ -z "$CHROME" ]; then
  echo "chromium not found: apt-get install -y chromium" >&2
  exit 2
fi
[ -f "$REPORT" ] || { echo "report not found: $REPORT (run make demo first)" >&2; exit 2; }
PROFILE="$(mktemp -d)"
trap 'rm -rf "$PROFILE"' EXIT
URL="file://$(realpath "$REPORT")"
FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --hide-scrollbars --user-data-dir="$PROFILE")
"$CHROME" "${FLAGS[@]}" --window-size="${WIDTH},${HEIGHT}" --screenshot="$(realpath -m "$OUT")" "$URL" 2>/dev/null
"$CHROME" "${FLAGS[@]}" --no-pdf-header-footer --print-to-pdf="$(realpath -m "${OUT%.png}.pdf")" "$URL" 2>/dev/null
echo "wrote $OUT and ${OUT%.png}.pdf"
