#!/usr/bin/env bash
# Fuzzes the object decoder and record parser for a fixed time (tests/decoder_fuzz.rs):
#   scripts/fuzz.sh [SECONDS]     # default 600
# Prints the number of inputs tried; fails with the shrunk input on any panic, output past
# the size cap, or records that do not reconcile.
set -euo pipefail
cd "$(dirname "$0")/.."
TRAILSIFT_FUZZ_SECONDS=${1:-600} cargo test --release --locked --test tests decoder_fuzz -- --nocapture
