#!/usr/bin/env python3
"""End-to-end cost of the KMS insights (deduplication by delivery epoch, data key caching
groups, cost/Bucket Key tables, report.html): runs `trailsift analyze` on a synthetic trail
with this checkout's release binary and, if given, a baseline binary built from an earlier
commit, alternating them so that both see the same machine load.

    scripts/bench-kms-insights.py [--baseline PATH] [--records N] [--runs K] [--threads 1,2]

Prints, per binary and thread count, the best and median wall time, records per second and
the peak resident memory (from /usr/bin/time, when installed), plus what
summary.json says deduplication held at its peak.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BINARY = TARGET / "release" / "trailsift"
TIME = pathlib.Path("/usr/bin/time")


def run(binary, trail, out, threads):
    """Wall seconds and peak RSS (KiB, None without /usr/bin/time) of one analyze run."""
    cmd = [str(binary), "analyze", str(trail), "--out", str(out), "--no-progress",
           "--threads", str(threads)]
    rss_file = out.parent / f"{out.name}.rss"
    if TIME.exists():
        cmd = [str(TIME), "-f", "%M", "-o", str(rss_file)] + cmd
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    rss = int(rss_file.read_text().split()[-1]) if TIME.exists() else None
    return wall, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", type=pathlib.Path)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()
    if not BINARY.exists():
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    binaries = [("this", BINARY)] + ([("baseline", args.baseline)] if args.baseline else [])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        trail = tmp / "trail"
        subprocess.run([str(BINARY), "gen", "--out", str(trail), "--records", str(args.records),
                        "--seed", "1"], check=True, stdout=subprocess.DEVNULL)
        results = {}
        for threads in [int(t) for t in args.threads.split(",")]:
            for i in range(args.runs):
                for name, binary in (binaries if i % 2 == 0 else binaries[::-1]):
                    out = tmp / f"out-{name}"
                    wall, rss = run(binary, trail, out, threads)
                    results.setdefault((name, threads), []).append((wall, rss))
        summary = json.loads((tmp / "out-this" / "summary.json").read_text())
    total = summary["records"]["total"]
    print(f"trail: trailsift gen --records {args.records} --seed 1 ({total} records, "
          f"{summary['records']['kms']} KMS); {args.runs} runs each, alternating")
    for (name, threads), runs in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        walls = sorted(w for w, _ in runs)
        rss = [r for _, r in runs if r is not None]
        peak = f", peak RSS {max(rss) / 1024:.0f} MiB" if rss else ""
        print(f"  {name:<8} --threads {threads}: best {walls[0]:.3f} s "
              f"({total / walls[0] / 1e6:.2f} M records/s), median {statistics.median(walls):.3f} s{peak}")
    d = summary["deduplication"]
    print(f"  deduplication: {d['delivery_epochs']} delivery epochs, at most "
          f"{d['peak_event_ids_held']} event keys and {d['peak_owner_copies_held']} owner copies held")


if __name__ == "__main__":
    main()
