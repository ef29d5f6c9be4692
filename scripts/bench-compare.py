#!/usr/bin/env python3
"""Two trailsift binaries on one generated trail, runs alternated, in one session.

    python3 scripts/bench-compare.py BEFORE AFTER [--records 1000000] [--rounds 7] [--threads 2]

BEFORE and AFTER are paths to `trailsift` binaries (for instance one built from an earlier
commit with `cargo build --release` in a worktree, and target/release/trailsift). A trail
of --records records is generated once (by AFTER; `gen` writes the same bytes whatever the
version, tests/golden.rs holds it to that), then the binaries analyze it in turn, --rounds
times each, alternating so that a noisy neighbour slows both alike. Prints each run's wall
time and records/s, the medians, and their ratio; checks that both wrote byte-identical
Parquet files (with --outputs-differ, for a change that means to alter an output, it only
names the files that differ). Machines here are noisy: the ratio is what holds.
"""

import argparse
import filecmp
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(binary, trail, out, threads):
    started = time.perf_counter()
    subprocess.run(
        [binary, "analyze", trail, "--out", out, "--no-progress", "--threads", str(threads)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--outputs-differ", action="store_true",
                    help="the change alters outputs: name differing files, do not fail")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trail = tmp / "trail"
        subprocess.run(
            [args.after, "gen", "--out", trail, "--records", str(args.records),
             "--seed", str(args.seed)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # One untimed run each warms the page cache for both.
        for name, binary in (("before", args.before), ("after", args.after)):
            run(binary, trail, tmp / f"warm-{name}", args.threads)
        times = {"before": [], "after": []}
        for i in range(args.rounds):
            order = [("before", args.before), ("after", args.after)]
            if i % 2:
                order.reverse()
            for name, binary in order:
                secs = run(binary, trail, tmp / name, args.threads)
                times[name].append(secs)
                print(f"round {i + 1} {name:6} {secs:6.3f} s  "
                      f"{args.records / secs:10,.0f} records/s", flush=True)
        same = [
            f.name
            for f in sorted((tmp / "before").glob("*.parquet"))
            if not filecmp.cmp(f, tmp / "after" / f.name, shallow=False)
        ]
        b, a = statistics.median(times["before"]), statistics.median(times["after"])
        print(f"median before {b:.3f} s ({args.records / b:,.0f} records/s), "
              f"after {a:.3f} s ({args.records / a:,.0f} records/s): "
              f"after/before time {a / b:.3f}")
        if same:
            print(f"Parquet differs: {', '.join(same)}", file=sys.stderr)
            if not args.outputs_differ:
                sys.exit(1)
            return
        print("Parquet files byte-identical")


if __name__ == "__main__":
    main()
