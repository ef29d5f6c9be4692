#!/usr/bin/env python3
"""Where heaptrack's peak heap goes, by trailsift's own frames.

    heaptrack -o /tmp/ht target/release/trailsift analyze TRAIL --out /tmp/o --no-progress -q
    python3 scripts/heap-peak.py /tmp/ht.zst [--top 25] [--depth 3]

Folds heaptrack's peak-cost stacks (`heaptrack_print --flamegraph-cost-type peak`) and sums
each stack's bytes under its innermost `--depth` frames whose source file is one of src/'s
(mod.rs left out: too many of them), so that the peak reads as "which of our functions
held it": the lines BENCHMARKS.md quotes.
"""

import argparse
import collections
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile", help="heaptrack's .zst (or .gz) file")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--depth", type=int, default=3)
    args = ap.parse_args()
    folded = subprocess.run(
        ["heaptrack_print", "-f", args.profile, "-F", "/dev/stdout",
         "--flamegraph-cost-type", "peak"],
        check=True, capture_output=True, text=True,
    ).stdout
    own = {p.name for p in (ROOT / "src").rglob("*.rs")} - {"mod.rs"}
    by = collections.Counter()
    total = 0
    for line in folded.splitlines():
        stack, _, cost = line.rpartition(" ")
        if not cost.isdigit():
            continue
        cost = int(cost)
        total += cost
        chain = [
            f for f in stack.split(";")
            if f.rpartition("(")[2].rstrip(")") in own and not f.startswith("_R")
        ]
        by[" > ".join(chain[-args.depth:])] += cost
    print(f"peak heap {total / 1e6:.1f} MB")
    for where, cost in by.most_common(args.top):
        print(f"{cost / 1e6:8.1f} MB  {where or '(no trailsift frame)'}")


if __name__ == "__main__":
    main()
