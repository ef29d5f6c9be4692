#!/usr/bin/env bash
# Fuzzes the object decoder and record parser for a fixed time (tests/decoder_fuzz.rs):
#   scripts/fuzz.sh [SECONDS] [SEED]     # default 600 s and a fresh random seed
# Prints the seed first and the number of inputs tried at the end; fails with the shrunk
# input on any panic, output past the size cap, or records that do not reconcile, and then
# writes ${CARGO_TARGET_DIR:-target}/fuzz-failures/<seed>.txt with the seed and the command
# that replays the run. SEED (or TRAILSIFT_FUZZ_SEED in the environment) runs a given seed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ge 2 ]; then
    export TRAILSIFT_FUZZ_SEED=$2
fi
TRAILSIFT_FUZZ_SECONDS=${1:-600} cargo test --release --locked --test tests decoder_fuzz -- --nocapture
