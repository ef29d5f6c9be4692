#!/usr/bin/env python3
"""Shards and the merge, measured: partial sizes and merge time for N shards of a trail.

    python3 scripts/bench-shards.py [--records 1000000] [--shards 1,4,16] [--trail DIR]
                                    [--repeats 3] [--bin target/release/trailsift]

Generates the trail (`trailsift gen --seed 7`) unless --trail names one, runs it once whole
(2 threads: the per-core rate the projections use), then for each N runs the N shards one
after the other (each on the machine's cores, as N machines would), and the merge
`--repeats` times. Every merge is checked byte for byte against the single run's Parquet.
Prints a Markdown table for BENCHMARKS.md and the projection for 1 TB/day of trail.
"""

import argparse
import filecmp
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PARQUET = [
    "kms_calls.parquet",
    "kms_rates.parquet",
    "kms_cost.parquet",
    "kms_bucket_keys.parquet",
    "kms_data_key_caching.parquet",
    "sigv2_requests.parquet",
    "tls_legacy.parquet",
    "vpc_endpoint_events.parquet",
]


def run(cmd, env=None):
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    secs = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return secs


def run_rss(cmd):
    """Seconds and peak RSS (MiB) of one run, through GNU time (Debian's `time` package)."""
    with tempfile.NamedTemporaryFile("r") as rss:
        secs = run(["/usr/bin/time", "-f", "%M", "-o", rss.name] + cmd)
        return secs, int(rss.read().split()[-1]) / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--shards", default="1,4,16")
    ap.add_argument("--trail")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "trailsift"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="trailsift-bench-shards-")
    try:
        trail = args.trail
        if not trail:
            trail = os.path.join(work, "trail")
            run([args.bin, "gen", "--out", trail, "--records", str(args.records), "--seed", "7", "-q"])
        single = os.path.join(work, "single")
        # The cost of writing down the keys: one run and one 1-shard run, alternated.
        singles, one_shard = [], []
        for _ in range(args.repeats):
            singles.append(run([args.bin, "analyze", trail, "--out", single, "--threads", str(args.threads), "-q"]))
            one_shard.append(run([args.bin, "analyze", trail, "--shard", "0/1", "--out", os.path.join(work, "p"),
                                  "--threads", str(args.threads), "-q"]))
        single_secs = statistics.median(singles)
        summary = json.load(open(os.path.join(single, "summary.json")))
        gz = summary["bytes"]["compressed"]
        records = summary["records"]["total"]
        per_core = gz / single_secs / args.threads
        rows = []
        for n in [int(x) for x in args.shards.split(",")]:
            parts = os.path.join(work, f"p{n}")
            shard_secs = []
            for i in range(n):
                env = dict(os.environ, AWS_BATCH_JOB_ARRAY_INDEX=str(i))
                shard_secs.append(run([args.bin, "analyze", trail, "--shard", f"auto/{n}", "--out", parts,
                                       "--threads", str(args.threads), "-q"], env))
            sizes = [os.path.getsize(os.path.join(parts, f)) for f in sorted(os.listdir(parts))]
            merges, rss = [], []
            for r in range(args.repeats):
                out = os.path.join(work, f"m{n}-{r}")
                secs, mib = run_rss([args.bin, "merge", parts, "--out", out, "-q"])
                merges.append(secs)
                rss.append(mib)
                for name in PARQUET:
                    if not filecmp.cmp(os.path.join(single, name), os.path.join(out, name), shallow=False):
                        sys.exit(f"{n} shards: {name} differs from the single run's")
                shutil.rmtree(out)
            rows.append({
                "shards": n,
                "partial_bytes_total": sum(sizes),
                "partial_bytes_max": max(sizes),
                "slowest_shard_seconds": max(shard_secs),
                "merge_seconds_median": statistics.median(merges),
                "merge_seconds": merges,
                "merge_peak_rss_mib": max(rss),
            })
            shutil.rmtree(parts)
        print(f"trail: {records:,} records, {gz / 1e6:.1f} MB of gzip; single run on {args.threads} threads: "
              f"{single_secs:.2f} s ({records / single_secs:,.0f} records/s, {per_core / 1e6:.1f} MB/s of gzip per core); "
              f"the same as one shard (--shard 0/1): {statistics.median(one_shard):.2f} s "
              f"({statistics.median(one_shard) / single_secs:.2f}x; medians of {args.repeats}, alternated)\n")
        print("| shards | partials, total | largest partial | slowest shard | merge (median of %d) | merge peak RSS | merged Parquet = single run |" % args.repeats)
        print("|---:|---:|---:|---:|---:|---:|---|")
        for r in rows:
            print(f"| {r['shards']} | {r['partial_bytes_total'] / 1e6:.1f} MB | {r['partial_bytes_max'] / 1e6:.1f} MB | "
                  f"{r['slowest_shard_seconds']:.2f} s | {r['merge_seconds_median']:.2f} s | {r['merge_peak_rss_mib']:.0f} MiB | byte-identical |")
        tb = 1e12
        core_hours = tb / per_core / 3600
        print(f"\n1 TB/day of gzip at {per_core / 1e6:.1f} MB/s per core: {core_hours:,.1f} core-hours per day "
              f"({core_hours / args.threads:,.1f} h on one {args.threads}-core machine; "
              f"{core_hours / 16:,.1f} h on 16 cores; {core_hours * 60 / (16 * args.threads):,.0f} min on 16 shards of {args.threads} cores).")
        last = rows[-1]
        per_record = last["partial_bytes_total"] / records
        tb_records = tb / (gz / records)
        print(f"Partials weigh {per_record:.1f} bytes per record at {last['shards']} shards: "
              f"{per_record * tb_records / 1e9:,.1f} GB for 1 TB of gzip ({tb_records / 1e9:,.2f} billion records).")
        print("\n" + json.dumps({"records": records, "gzip_bytes": gz, "single_seconds": single_secs, "rows": rows}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
