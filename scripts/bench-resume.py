#!/usr/bin/env python3
"""What `--state` costs, and what a kill costs with it: on one synthetic trail, alternating,

  plain       trailsift analyze TRAIL
  state       the same with --state (default interval, 60 s)
  state-0     the same with --state-interval 0 (a checkpoint after every delivery hour:
              the worst case)
  killed      --state-interval 0, SIGKILLed halfway through the wall time of a plain run,
              then started again with the same command: the sum of both runs

and checks that every variant wrote byte-identical Parquet.

    scripts/bench-resume.py [--records N] [--hours H] [--runs K] [--threads T]

Prints best and median wall time per variant, peak RSS (from /usr/bin/time when installed),
the size of the state file and the checkpoints written.
"""
import argparse
import json
import os
import pathlib
import signal
import statistics
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BINARY = TARGET / "release" / "trailsift"
TIME = pathlib.Path("/usr/bin/time")
PARQUET = ["kms_calls", "kms_rates", "kms_cost", "kms_bucket_keys", "kms_data_key_caching",
           "sigv2_requests", "tls_legacy"]


def command(trail, out, threads, extra):
    return [str(BINARY), "analyze", str(trail), "--out", str(out), "--no-progress",
            "--threads", str(threads)] + extra


def timed(cmd, rss_file, kill_after=None):
    """Wall seconds and peak RSS (KiB) of one run; SIGKILLed after `kill_after` seconds."""
    if TIME.exists():
        cmd = [str(TIME), "-f", "%M", "-o", str(rss_file)] + cmd
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kill_after is None:
        if proc.wait() != 0:
            raise SystemExit(f"run failed: {' '.join(cmd)}")
    else:
        time.sleep(kill_after)
        # /usr/bin/time is the parent: kill the whole group of trailsift's process.
        for pid in children(proc.pid) + [proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
    wall = time.perf_counter() - started
    rss = None
    if TIME.exists() and kill_after is None:
        rss = int(rss_file.read_text().split()[-1])
    return wall, rss


def children(pid):
    try:
        text = pathlib.Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    if not BINARY.exists():
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        trail = tmp / "trail"
        subprocess.run([str(BINARY), "gen", "--out", str(trail), "--records", str(args.records),
                        "--hours", str(args.hours), "--seed", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        results, facts = {}, {}
        variants = ["plain", "state", "state-0", "killed"]
        for i in range(args.runs):
            for name in (variants if i % 2 == 0 else variants[::-1]):
                out, state = tmp / f"out-{name}", tmp / f"{name}.state"
                state.unlink(missing_ok=True)
                rss_file = tmp / f"{name}.rss"
                extra = {"plain": [], "state": ["--state", str(state)]}.get(
                    name, ["--state", str(state), "--state-interval", "0"])
                cmd = command(trail, out, args.threads, extra)
                if name == "killed":
                    plain_best = min(w for w, _ in results.get("plain", [(4.0, None)]))
                    first, _ = timed(cmd, rss_file, kill_after=plain_best / 2)
                    second, rss = timed(cmd, rss_file)
                    summary = json.loads((out / "summary.json").read_text())
                    facts["killed"] = summary["resume"]
                    results.setdefault(name, []).append((first + second, rss))
                else:
                    results.setdefault(name, []).append(timed(cmd, rss_file))
                    if name != "plain":
                        summary = json.loads((out / "summary.json").read_text())
                        facts[name] = dict(summary["resume"], bytes=state.stat().st_size)
        for name in variants[1:]:
            for table in PARQUET:
                a = (tmp / "out-plain" / f"{table}.parquet").read_bytes()
                b = (tmp / f"out-{name}" / f"{table}.parquet").read_bytes()
                if a != b:
                    raise SystemExit(f"{table}.parquet differs between plain and {name}")
        summary = json.loads((tmp / "out-plain" / "summary.json").read_text())
    total = summary["records"]["total"]
    print(f"trail: trailsift gen --records {args.records} --hours {args.hours} --seed 1 "
          f"({total} records, {summary['objects']['read']} objects); --threads {args.threads}; "
          f"{args.runs} runs each, alternating; Parquet identical in every variant")
    plain = statistics.median(w for w, _ in results["plain"])
    for name in variants:
        walls = sorted(w for w, _ in results[name])
        rss = [r for _, r in results[name] if r is not None]
        peak = f", peak RSS {max(rss) / 1024:.0f} MiB" if rss else ""
        print(f"  {name:<8} best {walls[0]:.3f} s, median {statistics.median(walls):.3f} s "
              f"({statistics.median(walls) / plain:.2f}x plain){peak}")
    for name in ["state", "state-0"]:
        f = facts[name]
        print(f"  {name}: {f['checkpoints_written']} checkpoints, state file {f['bytes'] / 1e6:.1f} MB")
    k = facts["killed"]
    print(f"  killed: the second run took {k['objects_from_state']} objects from the state "
          f"and wrote {k['checkpoints_written']} checkpoints")


if __name__ == "__main__":
    main()
