#!/usr/bin/env python3
"""Reading a trail from S3 at CPU speed: trailsift from a fast S3 server behind a latency
proxy, against the same trail on local disk, DuckDB's httpfs and `aws s3 cp --recursive`.

    python3 scripts/bench-s3.py [--dir TRAIL | --records 1000000] [--latency 0,20,50,100,200]
        [--sweep-requests 4,8,16,32,64,128] [--sweep-latency 50] [--peer-latency 50]
        [--repeat 2] [--threads 2] [--server s3s|moto] [--no-duckdb] [--no-cp]

1. The trail: --dir (a directory with the trail and its truth.json, as `trailsift gen`
   writes) or one generated with --records into target/bench-trail-N.
2. The server, on loopback: `file` (default), examples/s3_file_server.rs, a read-only S3
   endpoint over a directory that sends each body with sendfile and costs next to no CPU,
   so the reader is what is measured; `s3s`, s3s-fs (the s3s crate's file-system server,
   installed with `cargo install` into target/tools), which spends about 40 ms and 3.5 ms
   of CPU per GET of a 300 KB object (it hashes every body for its ETag), on the same
   cores as the reader; or `moto` (about 120 GETs/s). The trail is hard-linked into the
   server's directory (file, s3s) or uploaded with boto3 (moto).
3. The latency: examples/latency_proxy.rs in front of the server holds each request for
   L ms, a fresh proxy for each L of --latency.
4. Timed, each --repeat times, alternated in one run on the same cores:
   - `trailsift analyze TRAIL` from local disk (the rate to match);
   - `trailsift analyze s3://...` through the proxy at each latency, default --s3-requests;
   - the same at --sweep-latency with each --s3-requests of --sweep-requests;
   - at --peer-latency: `aws s3 cp --recursive` of the same prefix to disk, and DuckDB
     (read_json over s3:// through httpfs, the `columns+table` configuration of
     scripts/bench-vs-duckdb.py: its fastest on local disk) computing the same answers.
   Each trailsift run is checked: every log file read, none failed, the answers equal to
   truth.json. DuckDB's answers are checked the same way.
5. Printed: wall time, records/s, the share of local disk's rate, and how busy the cores
   were: trailsift's CPU seconds over wall seconds (2.0 = both of 2 cores all the time),
   and the server's and proxy's CPU seconds (they share the machine's cores).

DuckDB's httpfs extension comes from PyPI (duckdb-extension-httpfs), which lags the duckdb
release by a patch version, so DuckDB runs in its own virtualenv (target/bench-venv-httpfs,
scripts/requirements-s3-bench.txt) with the duckdb version the extension was built for.
Everything runs on loopback with dummy credentials.
"""

import argparse
import concurrent.futures
import importlib.util
import json
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
TOOLS = ROOT / "target" / "tools"
VENV = ROOT / "target" / "bench-venv-httpfs"
BUCKET = "trail-bench"
S3S_FS = "s3s-fs@0.14.1"  # the last release that builds with rustc 1.95 (0.17 needs 1.96)

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


def vs_duckdb():
    """scripts/bench-vs-duckdb.py as a module: its DuckDB query and its answer checks."""
    spec = importlib.util.spec_from_file_location("bench_vs_duckdb", ROOT / "scripts" / "bench-vs-duckdb.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(bin_arg):
    cargo = ["cargo", "build", "--release", "--locked", "--quiet"]
    if not bin_arg:
        subprocess.run(cargo, cwd=ROOT, check=True)
    subprocess.run(cargo + ["--example", "latency_proxy", "--example", "s3_file_server"], cwd=ROOT, check=True)
    trailsift = pathlib.Path(bin_arg) if bin_arg else TARGET / "release" / "trailsift"
    return trailsift, TARGET / "release" / "examples" / "latency_proxy"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The S3 server on loopback, with its pid for its CPU time."""

    def __init__(self, kind, work):
        self.root = None
        if kind == "moto":
            self.proc = subprocess.Popen([sys.executable, str(ROOT / "scripts/s3-test-server.py")],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            self.endpoint = self.proc.stdout.readline().strip()
        elif kind == "file":
            root = self.root = work / "file-root"
            (root / BUCKET).mkdir(parents=True)
            self.proc = subprocess.Popen([str(TARGET / "release" / "examples" / "s3_file_server"), str(root)],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            self.endpoint = self.proc.stdout.readline().strip()
        else:
            binary = TOOLS / "bin" / "s3s-fs"
            if not binary.exists():
                print(f"installing {S3S_FS} into {TOOLS} (once)", file=sys.stderr)
                subprocess.run(["cargo", "install", S3S_FS, "--locked", "--features", "binary",
                                "--root", str(TOOLS)], check=True)
            root = self.root = work / "s3s-root"
            (root / BUCKET).mkdir(parents=True)
            port = free_port()
            self.proc = subprocess.Popen([str(binary), "--host", "127.0.0.1", "--port", str(port),
                                          "--access-key", "testing", "--secret-key", "testing", str(root)],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            self.endpoint = f"http://127.0.0.1:{port}"
            wait_listening(port)
        if not self.endpoint.startswith("http://127.0.0.1:"):
            sys.exit(f"the S3 server did not start: {self.endpoint!r}")

    def stop(self):
        if self.proc.stdin:
            self.proc.stdin.close()
        else:
            self.proc.terminate()
        self.proc.wait(timeout=30)


def wait_listening(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on 127.0.0.1:{port}")


class Proxy:
    def __init__(self, binary, upstream, latency_ms):
        self.proc = subprocess.Popen([str(binary), upstream, str(latency_ms)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.endpoint = self.proc.stdout.readline().strip()
        if not self.endpoint.startswith("http://127.0.0.1:"):
            sys.exit(f"the latency proxy did not start: {self.endpoint!r}")

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def cpu_seconds(pid):
    """User + system CPU seconds a live process has used so far (/proc/PID/stat)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seed(server, trail):
    """Puts the trail in the bucket; returns (objects, log files). s3s-fs keeps each object
    as the file ROOT/BUCKET/KEY, so its bucket is filled by hard links (a copy across file
    systems), without 1.5 GB of PUTs; moto is uploaded to with boto3."""
    files = sorted(p for p in trail.rglob("*") if p.is_file() and p.name != "truth.json")
    if server.root:
        for path in files:
            dest = server.root / BUCKET / path.relative_to(trail)
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, dest)
            except OSError:
                shutil.copyfile(path, dest)
    else:
        upload(server.endpoint, trail, files)
    return len(files), sum(1 for p in files if "_CloudTrail_" in p.name)


def upload(endpoint, trail, files):
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing",
                      config=Config(max_pool_connections=16, s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=BUCKET)

    def put(path):
        s3.put_object(Bucket=BUCKET, Key=path.relative_to(trail).as_posix(), Body=path.read_bytes())

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(put, files))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=pathlib.Path, help="a trail with its truth.json (default: generate one)")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--latency", default="0,20,50,100,200", help="ms added to each request, one run each")
    ap.add_argument("--sweep-requests", default="4,8,16,32,64,128")
    ap.add_argument("--sweep-latency", type=int, default=50)
    ap.add_argument("--peer-latency", type=int, default=50, help="latency for aws s3 cp and DuckDB")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--server", choices=["file", "s3s", "moto"], default="file")
    ap.add_argument("--no-duckdb", action="store_true")
    ap.add_argument("--no-cp", action="store_true")
    ap.add_argument("--bin", help="a trailsift binary to use as it is (default: build this tree's)")
    args = ap.parse_args()

    trailsift, proxy_bin = build(args.bin)
    duck = vs_duckdb()
    trail = args.dir or ROOT / "target" / f"bench-trail-{args.records}"
    if not (trail / "truth.json").exists():
        subprocess.run([str(trailsift), "gen", "--out", str(trail), "--records", str(args.records), "--seed", "7"],
                       check=True, stdout=subprocess.DEVNULL)
    truth = json.loads((trail / "truth.json").read_text())
    records = truth["records_total"]
    duck_python = None if args.no_duckdb else duckdb_venv()

    work = pathlib.Path(tempfile.mkdtemp(prefix="trailsift-bench-s3-"))
    server = Server(args.server, work)
    rows = {}  # name -> list of (wall, cpu, server+proxy cpu)
    order = []
    try:
        t = time.perf_counter()
        objects, logs = seed(server, trail)
        print(f"trail: {records} records, {logs} log files ({objects} objects); put in {args.server} "
              f"at {server.endpoint} in {time.perf_counter() - t:.1f} s; threads={args.threads}, "
              f"cpus={os.cpu_count()}", file=sys.stderr)

        def timed(name, cmd, proxy=None, env=ENV, check=None):
            watched = [server.proc.pid] + ([proxy.proc.pid] if proxy else [])
            before = sum(cpu_seconds(p) for p in watched)
            started = time.perf_counter()
            # Output to files, not pipes: a child blocked on a full pipe would never exit.
            with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
                proc = subprocess.Popen(cmd, env=env, stdout=out_f, stderr=err_f)
                _, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - started
                out_f.seek(0)
                err_f.seek(0)
                out, err = out_f.read(), err_f.read()
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"{name} failed: {err.decode(errors='replace')[-3000:]}")
            others = sum(cpu_seconds(p) for p in watched) - before
            if check:
                check(out)
            if name not in rows:
                rows[name] = []
                order.append(name)
            rows[name].append((wall, usage.ru_utime + usage.ru_stime, others))
            print(f"  {name}: {wall:.2f} s, {(usage.ru_utime + usage.ru_stime) / wall:.2f} cores busy", file=sys.stderr)

        def analyze(name, source, out, extra=(), proxy=None):
            cmd = [str(trailsift), "analyze", source, "--out", str(out), "--no-progress",
                   "--threads", str(args.threads), *extra]

            def check(_):
                summary = json.loads((out / "summary.json").read_text())
                assert summary["objects"]["failed"] == 0, summary["failures"]
                assert summary["objects"]["read"] == logs, summary["objects"]
                if not duck.agrees(name, duck.trailsift_answers(out), truth):
                    sys.exit(f"{name}: answers differ from truth.json")
            timed(name, cmd, proxy, check=check)

        latencies = [int(x) for x in args.latency.split(",") if x]
        sweep = [int(x) for x in args.sweep_requests.split(",") if x]
        for round_ in range(args.repeat):
            analyze("local disk", str(trail), work / "out-local")
            for latency in sorted(set(latencies) | {args.sweep_latency, args.peer_latency}):
                proxy = Proxy(proxy_bin, server.endpoint, latency)
                try:
                    source = f"s3://{BUCKET}/AWSLogs/"
                    endpoint = ["--endpoint-url", proxy.endpoint]
                    if latency in latencies:
                        analyze(f"s3, {latency} ms, default --s3-requests", source, work / "out-s3", endpoint, proxy)
                    if latency == args.sweep_latency:
                        for n in sweep:
                            analyze(f"s3, {latency} ms, --s3-requests {n}", source, work / "out-s3",
                                    [*endpoint, "--s3-requests", str(n)], proxy)
                    if latency == args.peer_latency and not args.no_cp:
                        dest = work / "cp"
                        shutil.rmtree(dest, ignore_errors=True)
                        timed(f"aws s3 cp --recursive, {latency} ms (to disk, no analysis)",
                              ["aws", "s3", "cp", "--recursive", "--quiet", "--endpoint-url", proxy.endpoint,
                               f"s3://{BUCKET}/AWSLogs/", str(dest / "AWSLogs")], proxy)
                    if latency == args.peer_latency and duck_python:
                        env = dict(ENV, DUCKDB_SETUP=duckdb_setup(proxy.endpoint))

                        def check_duck(out, name=f"duckdb columns+table via httpfs, {latency} ms"):
                            got = json.loads(out.decode().strip().splitlines()[-1])
                            if not duck.agrees(name, got, truth):
                                sys.exit(f"{name}: answers differ from truth.json")
                        timed(f"duckdb columns+table via httpfs, {latency} ms",
                              [str(duck_python), "-c", duck.DUCKDB_CHILD, f"s3://{BUCKET}/AWSLogs",
                               str(args.threads), "columns+table"], proxy, env=env, check=check_duck)
                finally:
                    proxy.stop()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    local = min(w for w, _, _ in rows["local disk"])
    print(f"\n{records:,} records, {logs} log files; {args.server} on loopback behind the latency proxy; "
          f"--threads {args.threads} on {os.cpu_count()} cores; best of {args.repeat}, alternated\n")
    print("| run | best s | records/s | of local disk | CPU s | cores busy | server + proxy CPU s | machine cores busy |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in order:
        wall, cpu, others = min(rows[name])
        print(f"| {name} | {wall:.2f} | {records / wall:,.0f} | {local / wall:.0%} | {cpu:.1f} | {cpu / wall:.2f} "
              f"| {others:.1f} | {(cpu + others) / wall:.2f} |")
    print("\nCPU s and cores busy: the timed command's own (user + system, all its threads); "
          "machine cores busy adds the server's and the proxy's, which share the same cores.")


def duckdb_venv():
    """A virtualenv with DuckDB and the httpfs extension built for it (PyPI)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r",
                        str(ROOT / "scripts" / "requirements-s3-bench.txt")], check=True)
    return python


def duckdb_setup(endpoint):
    """SQL run by the DuckDB child before its query: httpfs, and the loopback endpoint."""
    ext = subprocess.run([str(VENV / "bin" / "python"), "-c",
                          "import duckdb, duckdb_extension_httpfs, pathlib; "
                          "print(next(pathlib.Path(duckdb_extension_httpfs.__file__).parent.rglob('httpfs.duckdb_extension')))"],
                         check=True, capture_output=True, text=True).stdout.strip()
    host = endpoint.removeprefix("http://")
    return ";\n".join([
        f"LOAD '{ext}'",
        f"CREATE SECRET trail (TYPE s3, KEY_ID 'testing', SECRET 'testing', REGION 'us-east-1', "
        f"ENDPOINT '{host}', URL_STYLE 'path', USE_SSL false)",
    ])


if __name__ == "__main__":
    main()
