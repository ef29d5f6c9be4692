#!/usr/bin/env python3
"""Reads trailsift's outputs back with DuckDB, the way users do.

Runs the release binary over the fixture trail, then checks with DuckDB (PyPI) that:
- every Parquet file opens, with the contract's column names and types
  (UTC timestamps, BIGINT counts);
- the outputs reconcile with summary.json (no record lost or counted twice);
- every query in scripts/queries/ runs, returns rows on the fixtures, and appears in the
  README verbatim (so the README's SQL is the SQL that is tested).
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import duckdb

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "trailsift"

EXPECTED_TYPES = {
    "kms_calls": {"hour": "TIMESTAMP WITH TIME ZONE", "calls": "BIGINT", "principal": "VARCHAR",
                  "bucket_key": "BOOLEAN", "first_seen": "TIMESTAMP WITH TIME ZONE"},
    "kms_rates": {"hour": "TIMESTAMP WITH TIME ZONE", "calls": "BIGINT", "peak_rps": "BIGINT",
                  "peak_second": "TIMESTAMP WITH TIME ZONE", "quota_rps": "BIGINT",
                  "quota_utilization": "DOUBLE", "histogram": "BLOB", "mean_rps": "DOUBLE"},
    "sigv2_requests": {"hour": "TIMESTAMP WITH TIME ZONE", "requests": "BIGINT",
                       "evidence": "VARCHAR", "sigv4_min_version": "VARCHAR",
                       "ua_kind": "VARCHAR", "upgrade_advice": "VARCHAR"},
    "tls_legacy": {"hour": "TIMESTAMP WITH TIME ZONE", "requests": "BIGINT", "tls_version": "VARCHAR",
                   "ua_kind": "VARCHAR", "upgrade_advice": "VARCHAR"},
}


def fail(msg):
    print(f"check-with-duckdb: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    if not BINARY.exists():
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    readme = (ROOT / "README.md").read_text()
    passed = 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        subprocess.run([str(BINARY), "analyze", str(ROOT / "fixtures" / "trail"), "--out", str(tmp / "out"),
                        "--no-progress"], check=True, stdout=subprocess.DEVNULL)
        summary = json.loads((tmp / "out" / "summary.json").read_text())
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")

        for table, want in EXPECTED_TYPES.items():
            path = tmp / "out" / f"{table}.parquet"
            cols = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()}
            for col, typ in want.items():
                if cols.get(col) != typ:
                    fail(f"{table}.{col} is {cols.get(col)}, want {typ}")
            passed += 1

        def one(sql):
            return con.execute(sql.replace("out/", f"{tmp}/out/")).fetchone()[0]

        recs = summary["records"]
        checks = {
            "kms calls add up to KMS records": (one("SELECT sum(calls) FROM 'out/kms_calls.parquet'"), recs["kms"]),
            "account_region rate calls add up to symmetric KMS records":
                (one("SELECT sum(calls) FROM 'out/kms_rates.parquet' WHERE scope='account_region' AND quota_class='symmetric'"), recs["kms_symmetric"]),
            "principal rate calls add up to symmetric KMS records":
                (one("SELECT sum(calls) FROM 'out/kms_rates.parquet' WHERE scope='principal' AND quota_class='symmetric'"), recs["kms_symmetric"]),
            "SigV2 requests add up": (one("SELECT sum(requests) FROM 'out/sigv2_requests.parquet'"), recs["sigv2"]),
            "legacy TLS requests add up": (one("SELECT sum(requests) FROM 'out/tls_legacy.parquet'"), recs["tls_legacy"]),
            "records reconcile": (recs["attributed"] + sum(recs["skipped"].values()) + recs["malformed"], recs["total"]),
            "objects reconcile": (summary["objects"]["read"] + sum(summary["objects"]["skipped"].values())
                                  + summary["objects"]["failed"], summary["objects"]["listed"]),
        }
        for name, (got, want) in checks.items():
            if got != want:
                fail(f"{name}: {got} != {want}")
            passed += 1

        for query in sorted((ROOT / "scripts" / "queries").glob("*.sql")):
            sql = query.read_text()
            body = "\n".join(l for l in sql.splitlines() if not l.startswith("--")).strip()
            if body not in readme:
                fail(f"README.md does not show the query of {query.name} verbatim")
            rows = con.execute(sql.replace("out/", f"{tmp}/out/")).fetchall()
            if not rows:
                fail(f"{query.name} returned no rows on the fixtures")
            passed += 1
    print(f"check-with-duckdb: {passed} passed, 0 failed")


if __name__ == "__main__":
    main()
