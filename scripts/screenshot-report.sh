#!/usr/bin/env bash
# Renders report.html in a real headless browser (Debian's chromium), fails on any console
# error or on a page that pulls anything from the network, and takes the README's screenshot.
#
#   scripts/screenshot-report.sh                 # synthetic trail -> docs/report.png
#   scripts/screenshot-report.sh OUT_DIR         # check an existing output folder only
#
# Installs chromium with apt-get when it is missing (idempotent; needs root, as in CI).
# Uses the release binary (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/trailsift

if ! command -v chromium >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
[ -x "$BIN" ] || cargo build --release --locked --quiet

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ $# -ge 1 ]; then
    OUT=$1
    SHOT=$WORK/report.png
else
    # A day of two accounts in two regions, with the BI role's burst at minute 0 of every hour.
    # The burst peaks near 100 calls/s, a thousandth of the default quotas of these regions,
    # which the chart would only name; the picture sets the quota to 120 calls/s (--quota)
    # so that the quota and 80% lines are drawn against the peaks.
    "$BIN" gen --out "$WORK/trail" --records 400000 --seed 7 --hours 24 >/dev/null
    OUT=$WORK/out
    "$BIN" analyze "$WORK/trail" --out "$OUT" --no-progress \
        --quota us-east-1=120 --quota eu-west-1=120 >/dev/null
    mkdir -p docs
    SHOT=$ROOT/docs/report.png
fi
PAGE=$OUT/report.html
[ -s "$PAGE" ] || { echo "screenshot-report: no $PAGE" >&2; exit 1; }

# Self-contained: no http(s) reference anywhere (the SVG namespace is a name, not a fetch).
if grep -Eo '(src|href)="[^"]*"' "$PAGE" | grep -Eq '//'; then
    echo "screenshot-report: $PAGE references an external resource" >&2
    exit 1
fi

FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$(mktemp -d -p "$WORK")")

# Console messages go to stderr with --enable-logging; a JavaScript or rendering error shows
# as "CONSOLE" / "Uncaught" lines.
chromium "${FLAGS[@]}" --enable-logging=stderr --v=0 --dump-dom "file://$PAGE" \
    >"$WORK/dom.html" 2>"$WORK/console.log" || true
if grep -Eiq 'CONSOLE|Uncaught|SyntaxError' "$WORK/console.log"; then
    echo "screenshot-report: console errors while rendering $PAGE:" >&2
    grep -Ei 'CONSOLE|Uncaught|SyntaxError' "$WORK/console.log" >&2
    exit 1
fi
# The DOM the browser built must still hold the charts and tables: a stray '<' from the
# trail would have cut it short.
grep -q '<svg' "$WORK/dom.html" || { echo "screenshot-report: no chart in the rendered DOM" >&2; exit 1; }
grep -q '</table>' "$WORK/dom.html" || { echo "screenshot-report: no table in the rendered DOM" >&2; exit 1; }
if grep -q '<script' "$WORK/dom.html"; then
    echo "screenshot-report: a <script> element made it into the rendered DOM" >&2
    exit 1
fi

# The top of the page: header, spike notes and the first chart with its minute profile.
chromium "${FLAGS[@]}" --hide-scrollbars --window-size=1200,1080 --screenshot="$SHOT" \
    "file://$PAGE" >/dev/null 2>&1
[ -s "$SHOT" ] || { echo "screenshot-report: no screenshot written" >&2; exit 1; }
echo "screenshot-report: $PAGE renders without console errors; screenshot in $SHOT"
