#!/usr/bin/env python3
"""An organization trail over 1 day and over longer spans: speed and peak memory per span.

    python3 scripts/bench-org.py [--binary target/release/trailsift] [--accounts 20]
        [--regions 4] [--records-per-day 100000] [--days 1,7,30] [--threads 2]
        [--work DIR] [--max-rss-mib N] [--max-rss-growth PCT]

Each span is a trail of `trailsift gen --org` with the same organization (accounts,
regions, seed) and the same records per day, so a longer span only adds hours: hundreds of
thousands of log files of a few records each, like the quiet accounts of a real
organization. Each is analysed in a process of its own, whose peak RSS, user and system
CPU come from wait4(2), and whose KMS calls per principal and operation (kms_calls.parquet
read back with DuckDB) must equal the calls planted in truth.json.

Prints one row per span: files, records, wall seconds, records/s, MB/s of JSON, user and
system CPU, peak RSS. --max-rss-mib fails when a span's peak RSS is above it;
--max-rss-growth fails when the longest span's RSS is more than PCT% above the shortest's
(the flat-memory target: memory bounded by the window, not the span). --json prints the rows
as JSON.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent


def generate(binary, out, args, days):
    if (out / "truth.json").exists():
        return
    subprocess.run(
        [binary, "gen", "--out", out, "--records", str(args.records_per_day * days),
         "--hours", str(24 * days), "--accounts", str(args.accounts),
         "--regions", str(args.regions), "--org", args.org, "--seed", str(args.seed)],
        check=True, stdout=subprocess.DEVNULL,
    )


def analyze(binary, trail, out, threads):
    """Runs one analysis; returns wall seconds and the child's own rusage."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [binary, "analyze", trail, "--out", out, "--no-progress", "-q",
         "--threads", str(threads)],
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"trailsift analyze {trail} failed ({status})")
    return wall, usage


def check_answers(trail, out):
    """kms_calls.parquet's calls per principal and operation against truth.json."""
    truth = json.loads((trail / "truth.json").read_text())
    got = {}
    rows = duckdb.sql(
        f"SELECT principal, event_name, sum(calls) FROM '{out}/kms_calls.parquet' "
        "GROUP BY ALL"
    ).fetchall()
    for principal, event, calls in rows:
        got.setdefault(principal, {})[event] = int(calls)
    if got != truth["kms_calls"]:
        sys.exit(f"{out}: kms_calls do not match {trail}/truth.json")
    return truth["records_total"], truth["log_objects"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=str(ROOT / "target/release/trailsift"))
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--regions", type=int, default=4)
    ap.add_argument("--records-per-day", type=int, default=100_000)
    ap.add_argument("--days", default="1,7,30")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--org", default="o-a1b2c3d4e5")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", help="keep the trails here (reused when present)")
    ap.add_argument("--max-rss-mib", type=float)
    ap.add_argument("--max-rss-growth", type=float)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    spans = [int(d) for d in args.days.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work) if args.work else Path(tmp)
        rows = []
        for days in spans:
            trail = work / f"org-{args.accounts}x{args.regions}-{days}d"
            generate(args.binary, trail, args, days)
            out = Path(tmp) / f"out-{days}d"
            wall, usage = analyze(args.binary, trail, out, args.threads)
            records, files = check_answers(trail, out)
            summary = json.loads((out / "summary.json").read_text())
            json_bytes = summary["bytes"]["decompressed"]
            rows.append({
                "days": days,
                "log_files": files,
                "records": records,
                "wall_s": round(wall, 3),
                "records_per_s": round(records / wall),
                "json_mb_per_s": round(json_bytes / wall / 1e6, 1),
                "user_s": round(usage.ru_utime, 2),
                "system_s": round(usage.ru_stime, 2),
                # ru_maxrss is in KiB on Linux.
                "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            })

    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"organization of {args.accounts} accounts x {args.regions} regions, "
              f"{args.records_per_day} records a day, {args.threads} threads")
        print(f"{'days':>4} {'log files':>10} {'records':>10} {'wall s':>8} {'records/s':>10} "
              f"{'MB/s JSON':>10} {'user s':>7} {'sys s':>6} {'peak RSS MiB':>13}")
        for r in rows:
            print(f"{r['days']:>4} {r['log_files']:>10} {r['records']:>10} {r['wall_s']:>8} "
                  f"{r['records_per_s']:>10} {r['json_mb_per_s']:>10} {r['user_s']:>7} "
                  f"{r['system_s']:>6} {r['peak_rss_mib']:>13}")
    failed = False
    if args.max_rss_mib is not None:
        for r in rows:
            if r["peak_rss_mib"] > args.max_rss_mib:
                print(f"FAIL: {r['days']} days peaked at {r['peak_rss_mib']} MiB, "
                      f"above {args.max_rss_mib} MiB", file=sys.stderr)
                failed = True
    if args.max_rss_growth is not None and len(rows) > 1:
        low, high = rows[0]["peak_rss_mib"], rows[-1]["peak_rss_mib"]
        growth = (high / low - 1) * 100
        if growth > args.max_rss_growth:
            print(f"FAIL: {rows[-1]['days']} days took {growth:.0f}% more memory than "
                  f"{rows[0]['days']} (limit {args.max_rss_growth}%)", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
