#!/usr/bin/env python3
"""End-to-end cost of client intelligence: records per second of `trailsift analyze` on a
synthetic trail as generated (every S3 event carries SignatureVersion: the common case), and
on the same trail moved to 2017 with SignatureVersion removed (every S3 event goes through
the SigV2 inference: cached agent lookup, region and version checks).

    scripts/bench-sigv2-inference.py [--records N] [--runs R] [--threads T]
                                     [--binary PATH] [--baseline PATH]

--baseline runs another trailsift binary (say, one built from main) on the same trails,
interleaved with --binary, so both see the same machine load.
"""
import argparse
import gzip
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def to_2017_without_signature_version(src: pathlib.Path, dst: pathlib.Path) -> None:
    """Copies the trail, rewriting event times to 2017 and dropping SignatureVersion."""
    for path in src.rglob("*"):
        if path.is_dir() or path.name == "truth.json":
            continue
        out = dst / path.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        if path.suffix == ".gz" and "/CloudTrail/" in str(path):
            body = gzip.decompress(data)
            body = body.replace(b'"eventTime":"2026-', b'"eventTime":"2017-')
            body = body.replace(b'"SignatureVersion":"SigV4",', b"")
            body = body.replace(b'"SignatureVersion":"SigV2",', b"")
            data = gzip.compress(body, compresslevel=6)
        out.write_bytes(data)


def run(binary: str, trail: pathlib.Path, out: pathlib.Path, threads: int) -> dict:
    cmd = [binary, "analyze", str(trail), "--out", str(out), "--no-progress"]
    if threads:
        cmd += ["--threads", str(threads)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "summary.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--binary", default=str(ROOT / "target" / "release" / "trailsift"))
    ap.add_argument("--baseline")
    args = ap.parse_args()

    binaries = [("branch", args.binary)] + ([("baseline", args.baseline)] if args.baseline else [])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        modern = tmp / "modern"
        subprocess.run([args.binary, "gen", "--out", str(modern), "--records", str(args.records),
                        "--seed", "7"], check=True, stdout=subprocess.DEVNULL)
        old = tmp / "old"
        to_2017_without_signature_version(modern, old)
        for trail_name, trail in [("as generated", modern), ("2017, no SignatureVersion", old)]:
            rates = {name: [] for name, _ in binaries}
            last = {}
            for _ in range(args.runs):
                for name, binary in binaries:
                    s = run(binary, trail, tmp / f"out-{name}", args.threads)
                    rates[name].append(s["records_per_second"])
                    last[name] = s["records"]
            for name, _ in binaries:
                r = last[name]
                print(f"{trail_name:>26} {name:>8}: median {statistics.median(rates[name]):>10,.0f} "
                      f"records/s over {args.runs} runs (min {min(rates[name]):,.0f}, "
                      f"max {max(rates[name]):,.0f}); records {r['total']:,}, "
                      f"sigv2 {r['sigv2']:,} (inferred {r.get('sigv2_inferred', 0):,})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
