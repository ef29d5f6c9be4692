#!/usr/bin/env python3
"""Reading a trail from S3: trailsift's whole analysis vs `aws s3 sync` of the same prefix.

    python3 scripts/bench-s3.py [--records 1000000] [--hours 72] [--accounts 3] [--regions 2]
                                [--requests 8,16,32,64,128] [--repeat 3]

Starts the local S3-compatible server (scripts/s3-test-server.py, moto), writes a synthetic
trail with `trailsift gen` (the defaults give over 5,000 log files), uploads it with boto3,
then times, on the same bucket and prefix:

- `aws s3 sync s3://BUCKET/AWSLogs/ DIR` (the AWS CLI's default of 10 requests in flight),
- `trailsift analyze s3://BUCKET/AWSLogs/` for each value of --s3-requests in --requests.

Prints a Markdown table (objects/s and MB/s of compressed log files) for BENCHMARKS.md.
Everything runs on loopback with dummy credentials. Builds trailsift in release first.
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUCKET = "trail-bench"

ENV = dict(
    os.environ,
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_REGION="us-east-1",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
    AWS_CONFIG_FILE="/nonexistent/trailsift-bench/config",
    AWS_SHARED_CREDENTIALS_FILE="/nonexistent/trailsift-bench/credentials",
)
for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    ENV.pop(var, None)


def binary() -> pathlib.Path:
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "trailsift"


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts/s3-test-server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    endpoint = proc.stdout.readline().strip()
    if not endpoint.startswith("http://127.0.0.1:"):
        sys.exit(f"the S3 test server did not start: {endpoint!r}")
    return proc, endpoint


def upload(endpoint: str, trail: pathlib.Path) -> tuple[int, int, int]:
    """Uploads the trail; returns (objects, log files, bytes of log files)."""
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=32, s3={"addressing_style": "path"}),
    )
    s3.create_bucket(Bucket=BUCKET)
    files = sorted(p for p in trail.rglob("*") if p.is_file() and p.name != "truth.json")

    def put(path: pathlib.Path) -> None:
        s3.put_object(Bucket=BUCKET, Key=path.relative_to(trail).as_posix(), Body=path.read_bytes())

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(put, files))
    logs = [p for p in files if "/CloudTrail/" in p.as_posix()]
    return len(files), len(logs), sum(p.stat().st_size for p in logs)


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=ENV, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--hours", type=int, default=72)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--regions", type=int, default=2)
    parser.add_argument("--requests", default="8,16,32,64,128")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    trailsift = binary()
    server, endpoint = start_server()
    work = pathlib.Path(tempfile.mkdtemp(prefix="trailsift-bench-s3-"))
    try:
        trail = work / "trail"
        subprocess.run(
            [str(trailsift), "gen", "--out", str(trail), "--records", str(args.records),
             "--hours", str(args.hours), "--accounts", str(args.accounts),
             "--regions", str(args.regions), "--seed", "7"],
            check=True, stdout=subprocess.DEVNULL,
        )
        objects, logs, log_bytes = upload(endpoint, trail)
        print(f"trail: {objects} objects ({logs} log files, {log_bytes / 1e6:.1f} MB of them), "
              f"{args.records} records; server {endpoint}", file=sys.stderr)

        rows = []

        def record(name: str, secs: list[float], n_objects: int, n_bytes: int) -> None:
            best, med = min(secs), statistics.median(secs)
            rows.append((name, med, best, n_objects / med, n_bytes / 1e6 / med))
            print(f"{name}: median {med:.2f} s (best {best:.2f} s)", file=sys.stderr)

        sync_secs = []
        for _ in range(args.repeat):
            dest = work / "sync"
            shutil.rmtree(dest, ignore_errors=True)
            sync_secs.append(timed(["aws", "s3", "sync", "--quiet", "--endpoint-url", endpoint,
                                    f"s3://{BUCKET}/AWSLogs/", str(dest / "AWSLogs")]))
        synced = [p for p in (work / "sync").rglob("*") if p.is_file()]
        record(f"aws s3 sync (all {len(synced)} objects, to disk)", sync_secs, len(synced),
               sum(p.stat().st_size for p in synced))

        for n in [int(x) for x in args.requests.split(",")]:
            secs = []
            for _ in range(args.repeat):
                out = work / f"out-{n}"
                secs.append(timed([str(trailsift), "analyze", f"s3://{BUCKET}/AWSLogs/", "--out", str(out),
                                   "--no-progress", "--endpoint-url", endpoint, "--s3-requests", str(n)]))
                summary = json.loads((out / "summary.json").read_text())
                assert summary["objects"]["failed"] == 0, summary["failures"]
                assert summary["objects"]["read"] == logs, summary["objects"]
            record(f"trailsift analyze --s3-requests {n} (whole analysis)", secs, logs,
                   summary["bytes"]["compressed"])

        print(f"\n{logs} log files + {objects - logs} digests, {log_bytes / 1e6:.1f} MB of log files, "
              f"{args.records} records; median of {args.repeat} runs\n")
        print("| command | median s | best s | objects/s | MB/s |")
        print("|---|---:|---:|---:|---:|")
        for name, med, best, ops, mbs in rows:
            print(f"| {name} | {med:.2f} | {best:.2f} | {ops:.0f} | {mbs:.1f} |")
    finally:
        server.stdin.close()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
