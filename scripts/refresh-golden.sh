#!/usr/bin/env bash
# Rewrites fixtures/golden/ (the Parquet that tests/golden.rs holds every run to) with the
# outputs of the binary built from this tree:
#   scripts/refresh-golden.sh
# Run it only in a change that means to alter an output (a new column, a corrected answer),
# and say so in that commit and in the README's Changelog: any other difference is a
# regression the test exists to catch.
set -euo pipefail
cd "$(dirname "$0")/.."

# The binary the test build makes (the same one `cargo build --release` makes: Cargo.toml
# aligns the features of the two builds).
cargo test --release --locked --no-run
BIN="${CARGO_TARGET_DIR:-target}/release/trailsift"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

rm -rf fixtures/golden/fixtures fixtures/golden/edge fixtures/golden/generated fixtures/golden/real
mkdir -p fixtures/golden/fixtures fixtures/golden/edge fixtures/golden/generated fixtures/golden/real

"$BIN" analyze fixtures/trail --out "$WORK/fixtures" --no-progress >/dev/null
cp "$WORK"/fixtures/*.parquet fixtures/golden/fixtures/

"$BIN" analyze fixtures/golden/edge-trail --out "$WORK/edge" --no-progress >/dev/null
cp "$WORK"/edge/*.parquet fixtures/golden/edge/

# Keep these arguments equal to GEN_ARGS in tests/golden.rs.
"$BIN" gen --out "$WORK/trail" --records 30000 --hours 6 --seed 11 >/dev/null
"$BIN" analyze "$WORK/trail" --out "$WORK/generated" --no-progress >/dev/null
cp "$WORK"/generated/*.parquet fixtures/golden/generated/
python3 scripts/pack-real-records.py "$WORK/real-trail" >/dev/null
"$BIN" analyze "$WORK/real-trail/AWSLogs" --out "$WORK/real" --no-progress >/dev/null
cp "$WORK"/real/*.parquet fixtures/golden/real/
ls -l fixtures/golden/*
