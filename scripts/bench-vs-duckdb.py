#!/usr/bin/env python3
"""trailsift against DuckDB on the same generated trail, the same answers, the same cores.

    scripts/bench-vs-duckdb.py [--records 1000000] [--rounds 3] [--threads N] [--dir DIR]

1. Generates a trail with `trailsift gen` (kept in DIR between runs; default
   target/bench-trail-<records>), which also writes truth.json: the planted answers.
2. Alternates, ROUNDS times: trailsift analyze, then DuckDB (PyPI duckdb, read_json over the
   .json.gz files, unnest(Records), all threads) in each configuration of --duckdb, computing
   the same four answers: KMS calls per principal and operation, the per-second KMS peak per
   hour, account and region, SigV2 requests per principal and user agent, legacy-TLS
   requests per principal and TLS version. The configurations: the schema auto-detected
   from a sample (`auto`) or from every record (`autofull`, `sample_size = -1`), read with
   `records = true` (`records`), or given as the only columns the answers read (`columns`);
   each with the records first read into a table (`+table`) or read again by each answer.
   A configuration DuckDB cannot run on the trail is reported with its error. The ratio is
   against DuckDB's fastest.
3. Checks both against truth.json, and prints wall time, records/s and peak RSS of each, and
   the ratio. Each tool runs in its own child process; peak RSS is that child's maxrss.
"""
import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "trailsift"

DUCKDB_CHILD = r'''
import json, os, sys, time, duckdb
trail, threads, config = sys.argv[1], int(sys.argv[2]), sys.argv[3]
con = duckdb.connect()
# Statements run first (scripts/bench-s3.py: load httpfs and point it at the S3 server).
for statement in filter(None, os.environ.get("DUCKDB_SETUP", "").split(";\n")):
    con.execute(statement)
con.execute(f"SET threads = {threads}")
con.execute("SET enable_progress_bar = false")
con.execute("SET TimeZone = 'UTC'")
files = f"{trail}/**/*_CloudTrail_*.json.gz"
# Only the fields the four answers read, typed: no schema detection, nothing else parsed.
SCHEMA = """STRUCT(eventTime VARCHAR, eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR,
  recipientAccountId VARCHAR, userAgent VARCHAR,
  userIdentity STRUCT(type VARCHAR, arn VARCHAR, accountId VARCHAR, invokedBy VARCHAR,
    sessionContext STRUCT(sessionIssuer STRUCT(arn VARCHAR))),
  additionalEventData STRUCT(SignatureVersion VARCHAR),
  tlsDetails STRUCT(tlsVersion VARCHAR))[]"""
READS = {
    # auto-detection of the whole schema (the default).
    "auto": f"read_json('{files}', maximum_object_size = 1073741824)",
    # auto-detection over every record, not a sample: slower to start, never misses a key.
    "autofull": f"read_json('{files}', sample_size = -1, maximum_object_size = 1073741824)",
    # records = true: each file's top-level object is a row, its keys the columns.
    "records": f"read_json('{files}', records = true, maximum_object_size = 1073741824)",
    # the columns given: DuckDB parses only these fields.
    "columns": f"read_json('{files}', columns = {{'Records': '{SCHEMA}'}}, maximum_object_size = 1073741824)",
}
read, table = READS[config.split("+")[0]], config.endswith("+table")
select = f"SELECT unnest(Records, recursive := false) AS r FROM {read}"
if table:
    # One read of the trail into a table of records; the four answers are queries over it.
    con.execute(f"CREATE TEMP TABLE rec AS {select}")
else:
    # No table step: every answer reads the trail again.
    con.execute(f"CREATE TEMP VIEW rec AS {select}")
principal = """CASE
  WHEN nullif(r.userIdentity.sessionContext.sessionIssuer.arn, '') IS NOT NULL THEN r.userIdentity.sessionContext.sessionIssuer.arn
  WHEN nullif(r.userIdentity.arn, '') IS NOT NULL THEN r.userIdentity.arn
  WHEN r.userIdentity.type = 'AWSService' AND r.userIdentity.invokedBy IS NOT NULL THEN r.userIdentity.invokedBy
  WHEN r.userIdentity.type = 'AWSAccount' AND r.userIdentity.accountId IS NOT NULL THEN 'account:' || r.userIdentity.accountId
  ELSE 'unknown' END"""
out = {}
out["records_total"] = con.execute("SELECT count(*) FROM rec").fetchone()[0]
kms = con.execute(f"""SELECT {principal} AS p, r.eventName, count(*) FROM rec
  WHERE r.eventSource = 'kms.amazonaws.com' GROUP BY ALL""").fetchall()
out["kms_calls"] = {}
for p, e, n in kms:
    out["kms_calls"].setdefault(p, {})[e] = n
peaks = con.execute("""
WITH per_second AS (
  SELECT date_trunc('hour', CAST(r.eventTime AS TIMESTAMPTZ)) AS hour, r.recipientAccountId AS account_id,
         r.awsRegion AS region, CAST(r.eventTime AS TIMESTAMPTZ) AS second, count(*) AS n
  FROM rec
  WHERE r.eventSource = 'kms.amazonaws.com' AND r.eventName IN ('Decrypt','Encrypt','GenerateDataKey',
    'GenerateDataKeyWithoutPlaintext','ReEncrypt','GenerateRandom','GenerateMac','VerifyMac')
  GROUP BY ALL)
SELECT strftime(hour, '%Y-%m-%dT%H:%M:%SZ'), account_id, region, sum(n)::BIGINT, max(n),
       strftime(arg_min(second, (-n, second)), '%Y-%m-%dT%H:%M:%SZ')
FROM per_second GROUP BY ALL ORDER BY 1, 2, 3""").fetchall()
out["kms_peaks"] = [dict(hour=h, account_id=a, region=g, calls=c, peak_rps=m, peak_second=s) for h, a, g, c, m, s in peaks]
out["sigv2"] = {}
for p, ua, n in con.execute(f"""SELECT {principal}, regexp_replace(r.userAgent, '^\\[(.*)\\]$', '\\1'), count(*)
  FROM rec WHERE r.eventSource = 's3.amazonaws.com' AND r.additionalEventData.SignatureVersion = 'SigV2'
  GROUP BY ALL""").fetchall():
    out["sigv2"].setdefault(p, {})[ua] = n
out["tls_legacy"] = {}
for p, v, n in con.execute(f"""SELECT {principal}, r.tlsDetails.tlsVersion, count(*) FROM rec
  WHERE r.tlsDetails.tlsVersion IN ('TLSv1', 'TLSv1.1') GROUP BY ALL""").fetchall():
    out["tls_legacy"].setdefault(p, {})[v] = n
print(json.dumps(out))
'''

MEASURE = r'''
import resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)
wall = time.perf_counter() - t
sys.stderr.write(f"MEASURE {wall} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} {p.returncode}\n")
sys.stdout.buffer.write(p.stdout)
'''


class Failed(Exception):
    pass


def measured(cmd):
    """Runs cmd in a fresh process; returns (stdout, wall seconds, peak RSS in MiB)."""
    p = subprocess.run([sys.executable, "-c", MEASURE, *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = [l for l in p.stderr.splitlines() if l.startswith("MEASURE ")]
    if not line:
        sys.exit(f"measurement failed: {p.stderr}")
    _, wall, rss_kib, code = line[-1].split()
    if int(code) != 0:
        errors = [l for l in p.stderr.splitlines() if "Error" in l]
        raise Failed(errors[-1] if errors else p.stderr.strip().splitlines()[-1])
    return p.stdout, float(wall), int(rss_kib) / 1024


def trailsift_answers(out):
    """The same four answers, read back from trailsift's Parquet with DuckDB (not timed)."""
    import duckdb
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ans = {"records_total": json.loads((out / "summary.json").read_text())["records"]["total"], "kms_calls": {}, "sigv2": {}, "tls_legacy": {}}
    for p, e, n in con.execute(f"SELECT principal, event_name, sum(calls)::BIGINT FROM '{out}/kms_calls.parquet' GROUP BY ALL").fetchall():
        ans["kms_calls"].setdefault(p, {})[e] = n
    ans["kms_peaks"] = [dict(hour=h, account_id=a, region=g, calls=c, peak_rps=m, peak_second=s) for h, a, g, c, m, s in con.execute(
        f"""SELECT strftime(hour, '%Y-%m-%dT%H:%M:%SZ'), account_id, region, calls, peak_rps, strftime(peak_second, '%Y-%m-%dT%H:%M:%SZ')
            FROM '{out}/kms_rates.parquet' WHERE scope = 'account_region' AND quota_class = 'symmetric'
            ORDER BY 1, 2, 3""").fetchall()]
    for p, ua, n in con.execute(f"SELECT principal, user_agent, sum(requests)::BIGINT FROM '{out}/sigv2_requests.parquet' GROUP BY ALL").fetchall():
        ans["sigv2"].setdefault(p, {})[ua] = n
    for p, v, n in con.execute(f"SELECT principal, tls_version, sum(requests)::BIGINT FROM '{out}/tls_legacy.parquet' GROUP BY ALL").fetchall():
        ans["tls_legacy"].setdefault(p, {})[v] = n
    return ans


def agrees(name, got, truth):
    keys = ["records_total", "kms_calls", "kms_peaks", "sigv2", "tls_legacy"]
    bad = [k for k in keys if got.get(k) != truth.get(k)]
    if bad:
        print(f"  {name} DISAGREES with truth.json on: {', '.join(bad)}")
        return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--dir", type=pathlib.Path)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--duckdb", default="auto+table,auto,autofull+table,records+table,columns+table,columns",
                    help="DuckDB configurations, comma-separated: auto, autofull (sample_size = -1), records "
                         "or columns (how read_json gets the schema), +table to read the trail once into a table")
    ap.add_argument("--bin", type=pathlib.Path, help="a trailsift binary to use as it is (default: build this tree's)")
    args = ap.parse_args()
    global BINARY
    if args.bin:
        BINARY = args.bin
    else:
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    trail = args.dir or ROOT / "target" / f"bench-trail-{args.records}"
    if not (trail / "truth.json").exists():
        t = time.perf_counter()
        subprocess.run([str(BINARY), "gen", "--out", str(trail), "--records", str(args.records), "--seed", str(args.seed)],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"generated {args.records} records in {time.perf_counter() - t:.1f} s into {trail}")
    truth = json.loads((trail / "truth.json").read_text())
    size = sum(f.stat().st_size for f in trail.rglob("*.json.gz"))
    n = truth["records_total"]
    print(f"trail: {n} records, {size / 2**20:.0f} MiB gzip; threads={args.threads}; cpus={os.cpu_count()}")

    configs = args.duckdb.split(",")
    results = {"trailsift": [], **{f"duckdb {c}": [] for c in configs}}
    failed = {}
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "out"
        for round_ in range(args.rounds):
            _, wall, rss = measured([str(BINARY), "analyze", str(trail), "--out", str(out), "--no-progress",
                                     "--threads", str(args.threads)])
            results["trailsift"].append((wall, rss))
            if round_ == 0:
                ok &= agrees("trailsift", trailsift_answers(out), truth)
            for c in configs:
                if f"duckdb {c}" in failed:
                    continue
                try:
                    stdout, wall, rss = measured([sys.executable, "-c", DUCKDB_CHILD, str(trail), str(args.threads), c])
                except Failed as e:
                    # A configuration DuckDB cannot run on this trail is reported, not timed.
                    failed[f"duckdb {c}"] = str(e)[:300]
                    del results[f"duckdb {c}"]
                    continue
                results[f"duckdb {c}"].append((wall, rss))
                if round_ == 0:
                    ok &= agrees(f"duckdb {c}", json.loads(stdout.strip().splitlines()[-1]), truth)
            print(f"  round {round_ + 1}: " + ", ".join(f"{t} {r[-1][0]:.2f} s" for t, r in results.items()))

    print(f"\n| tool | best wall (s) | median wall (s) | records/s (best) | MB/s gzip (best) | peak RSS (MiB) |")
    print(f"|---|---|---|---|---|---|")
    best = {}
    for tool, runs in results.items():
        walls = sorted(w for w, _ in runs)
        best[tool] = walls[0]
        print(f"| {tool} | {walls[0]:.2f} | {walls[len(walls) // 2]:.2f} | {n / walls[0]:,.0f} | {size / 1e6 / walls[0]:.1f} | {max(r for _, r in runs):.0f} |")
    for tool, why in failed.items():
        print(f"| {tool} | failed: {why} | | | | |")
    duck = min((t for t in best if t.startswith("duckdb")), key=lambda t: best[t])
    print(f"\ntrailsift is {best[duck] / best['trailsift']:.1f}x DuckDB at its best ({duck}) "
          f"in records/s (best of {args.rounds} each, alternated)")
    print("answers: both agree with truth.json" if ok else "answers: DISAGREEMENT (see above)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
