#!/usr/bin/env python3
"""Listing an organization trail from S3 behind a latency: how long before reading can start.

    python3 scripts/bench-org-listing.py --dir TRAIL [--latency 50] [--requests 16,64,256]
        [--rounds 2] [--json]

TRAIL is a trail made by `trailsift gen --org ...` (scripts/bench-org.py leaves one per span
in its --work folder; the month is org-20x4-30d: 20 accounts x 4 regions x 30 days, 2,400
day folders). It is served as bucket `trail` by examples/s3_file_server.rs (ListObjectsV2
over the folder, next to no CPU), behind examples/latency_proxy.rs, which holds every
request for --latency ms, as a far region would.

`trailsift plan s3://trail --shards 1` lists the trail exactly as `analyze` does
(source::s3::list: the organization, account, region, year, month and day folders walked
with a delimiter, every folder a window or filter excludes left out, at most --s3-requests
requests in flight) and reads nothing, so its wall time is the listing's (plus the plan's
own work, about 2 s of CPU for 691,000 objects: compare with `trailsift plan DIR` on disk). For each
--s3-requests, prints the wall seconds, the objects listed, and the lower bound the layout
sets: the walk's depth (7 levels to a day folder of an organization trail) times the
latency, since a folder's children are known only once it is listed.

With --analyze, it runs `trailsift analyze s3://trail` instead, for each of --binaries
(alternated, --rounds each, the server and proxy started afresh for every run), and prints
the seconds before the first GetObject (the wait for the listing, written by the server),
the wall, user and system seconds, and the peak RSS:

    python3 scripts/bench-org-listing.py --dir TRAIL --analyze --binaries OLD,NEW \
        [--requests 64] [--rounds 1] [--out DIR]
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BUCKET = "trail"
ENV = dict(
    os.environ,
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
    AWS_CONFIG_FILE="/nonexistent/trailsift-bench/config",
    AWS_SHARED_CREDENTIALS_FILE="/nonexistent/trailsift-bench/credentials",
)
for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    ENV.pop(var, None)
# Organization trail: AWSLogs/o-ID/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ is 7 listings deep
# below the bucket (AWSLogs/, o-ID/, ACCOUNT/, CloudTrail/, REGION/, YYYY/, MM/) before the
# day folder's own listing.
DEPTH = 8


class Served:
    """A child that prints its endpoint on its first line and lives while stdin is open."""

    def __init__(self, argv, env=None):
        self.proc = subprocess.Popen([str(a) for a in argv], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)
        self.endpoint = self.proc.stdout.readline().strip()
        if not self.endpoint.startswith("http://127.0.0.1:"):
            sys.exit(f"{argv[0]} did not start: {self.endpoint!r}")

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def plan(binary, endpoint, requests):
    started = time.perf_counter()
    out = subprocess.run(
        [binary, "plan", f"s3://{BUCKET}", "--shards", "1", "--no-progress",
         "--endpoint-url", endpoint, "--s3-region", "us-east-1",
         "--s3-requests", str(requests)],
        env=ENV, check=True, capture_output=True, text=True,
    )
    wall = time.perf_counter() - started
    # The table's first line: "N objects, X GiB of gzip, in 1 shards ...".
    return wall, int(out.stdout.split(" objects", 1)[0])


def analyze(binary, examples, trail, latency, requests, out=None):
    """One analyze run behind fresh server and proxy: (first GET s, wall, user, sys, RSS KiB)."""
    with tempfile.TemporaryDirectory() as root:
        os.symlink(trail.resolve(), pathlib.Path(root) / BUCKET)
        first_get = pathlib.Path(root) / "first-get"
        server_env = dict(os.environ, S3_FILE_SERVER_FIRST_GET=str(first_get))
        server = Served([examples / "s3_file_server", root], env=server_env)
        proxy = Served([examples / "latency_proxy", server.endpoint, latency])
        times = pathlib.Path(root) / "time"
        try:
            started = time.time()
            subprocess.run(
                ["/usr/bin/time", "-o", str(times), "-f", "%e %U %S %M",
                 binary, "analyze", f"s3://{BUCKET}", "--out", str(out or pathlib.Path(root) / "out"),
                 "--no-progress", "-q", "--endpoint-url", proxy.endpoint,
                 "--s3-region", "us-east-1", "--s3-requests", str(requests)],
                env=ENV, check=True, capture_output=True, text=True,
            )
            wall, user, sys_s, rss = times.read_text().split()[-4:]
            first = float(first_get.read_text()) - started
        finally:
            proxy.stop()
            server.stop()
    return first, float(wall), float(user), float(sys_s), int(rss)


def main_analyze(args, examples):
    binaries = [pathlib.Path(b) for b in args.binaries.split(",")] if args.binaries else [args.binary]
    requests = int(args.requests.split(",")[0])
    runs = {b: [] for b in binaries}
    for _ in range(args.rounds):
        for i, b in enumerate(binaries):
            out = args.out / str(i) if args.out else None
            runs[b].append(analyze(b, examples, args.dir, args.latency, requests, out))
    rows = []
    for b, rs in runs.items():
        med = [statistics.median(r[i] for r in rs) for i in range(5)]
        rows.append({"binary": str(b), "first_get_s": round(med[0], 2), "wall_s": med[1],
                     "user_s": med[2], "sys_s": med[3], "rss_mib": round(med[4] / 1024)})
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{args.dir.name} from S3 behind {args.latency} ms, --s3-requests {requests}, "
          f"median of {args.rounds}")
    print(f"{'binary':<40} {'first GET s':>11} {'wall s':>8} {'user s':>8} {'sys s':>7} {'RSS MiB':>8}")
    for r in rows:
        print(f"{r['binary']:<40} {r['first_get_s']:>11.2f} {r['wall_s']:>8.2f} {r['user_s']:>8.2f} "
              f"{r['sys_s']:>7.2f} {r['rss_mib']:>8}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, type=pathlib.Path, help="an organization trail from trailsift gen --org")
    ap.add_argument("--binary", type=pathlib.Path, default=TARGET / "release" / "trailsift")
    ap.add_argument("--latency", type=int, default=50, help="ms added to each request")
    ap.add_argument("--requests", default="16,64,256", help="--s3-requests values, one run each")
    ap.add_argument("--rounds", type=int, default=2, help="runs per value; the median is shown")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--analyze", action="store_true", help="time analyze runs, not the listing")
    ap.add_argument("--binaries", default="", help="with --analyze: trailsift binaries to alternate")
    ap.add_argument("--out", type=pathlib.Path, help="with --analyze: keep each binary's outputs in OUT/<its index>")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--example", "latency_proxy",
                    "--example", "s3_file_server"], cwd=ROOT, check=True)
    examples = TARGET / "release" / "examples"
    if args.analyze:
        main_analyze(args, examples)
        return
    with tempfile.TemporaryDirectory() as root:
        os.symlink(args.dir.resolve(), pathlib.Path(root) / BUCKET)
        server = Served([examples / "s3_file_server", root])
        proxy = Served([examples / "latency_proxy", server.endpoint, args.latency])
        rows = []
        try:
            for requests in [int(n) for n in args.requests.split(",")]:
                runs = [plan(args.binary, proxy.endpoint, requests) for _ in range(args.rounds)]
                wall = statistics.median(w for w, _ in runs)
                listed = runs[0][1]
                rows.append({"s3_requests": requests, "wall_s": round(wall, 3), "listed": listed,
                             "floor_s": DEPTH * args.latency / 1000})
        finally:
            proxy.stop()
            server.stop()
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{args.dir.name} behind {args.latency} ms, median of {args.rounds}")
    print(f"{'s3-requests':>11} {'objects listed':>15} {'wall s':>8} {'depth x latency s':>18}")
    for r in rows:
        print(f"{r['s3_requests']:>11} {r['listed']:>15} {r['wall_s']:>8.2f} {r['floor_s']:>18.2f}")


if __name__ == "__main__":
    main()
