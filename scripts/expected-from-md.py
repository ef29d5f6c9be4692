#!/usr/bin/env python3
"""Write fixtures/expected.json from the tables in fixtures/EXPECTED.md.

    python3 scripts/expected-from-md.py           # rewrite fixtures/expected.json
    python3 scripts/expected-from-md.py --check   # exit 1 if expected.json is stale

The numbers are derived by hand in EXPECTED.md; this script only transcribes the tables marked
`<!-- table: NAME -->` into JSON, so the two files cannot drift apart. It never reads the
fixture records. Cell conventions: `null` is null, `true`/`false` are booleans, count columns
are integers (a trailing note such as `1 (#24)` is ignored), `mean_rps` is written as a
fraction `calls/3600`, key names K1.. are replaced by their ARN from the `keys` table, and the
columns `src`, `records` and `why` (notes for readers) are dropped. Python 3 standard library only.
"""

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MD = REPO / "fixtures" / "EXPECTED.md"
OUT = REPO / "fixtures" / "expected.json"

INT_COLUMNS = {
    "calls", "requests", "active_seconds", "peak_rps", "throttled", "p50_rps", "p90_rps",
    "p99_rps", "quota_rps", "value", "total", "kms", "s3", "s3_data", "sigv2", "tls_legacy",
    "other", "malformed", "sessions",
}
NOTE_COLUMNS = {"src", "records", "why"}
MARKER = re.compile(r"^<!-- table: ([a-z0-9_]+) -->$")


def split_row(line: str) -> list:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def read_tables(text: str) -> dict:
    tables = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i].strip())
        i += 1
        if not m:
            continue
        header = split_row(lines[i])
        i += 2  # header and the |---| rule
        rows = []
        while i < len(lines) and lines[i].startswith("|"):
            rows.append(split_row(lines[i]))
            i += 1
        tables[m.group(1)] = (header, rows)
    return tables


def convert(column: str, cell: str, keys: dict):
    cell = cell.strip().strip("`")
    if cell == "null":
        return None
    if cell in ("true", "false"):
        return cell == "true"
    if column in INT_COLUMNS:
        m = re.match(r"^(\d+)", cell)
        if not m:
            raise ValueError(f"column {column}: not a count: {cell!r}")
        return int(m.group(1))
    if column == "mean_rps":
        num, den = cell.split("/")
        return int(num) / int(den)
    if column == "key_arn":
        return keys.get(cell, cell)
    return cell


def build() -> dict:
    tables = read_tables(MD.read_text(encoding="utf-8"))
    keys = {name: arn for name, arn in tables["keys"][1]}
    out = {"source": "fixtures/EXPECTED.md (hand-derived)", "keys": keys}
    for name, (header, rows) in tables.items():
        if name == "keys":
            continue
        records = []
        for row in rows:
            if row[0].startswith("**"):  # a totals row
                continue
            if len(row) != len(header):
                raise ValueError(f"table {name}: row has {len(row)} cells, header {len(header)}: {row}")
            records.append({col: convert(col, cell, keys) for col, cell in zip(header, row) if col not in NOTE_COLUMNS})
        out[name] = records
    # summary: dotted field names -> nested object
    summary = {}
    for rec in out.pop("summary"):
        node = summary
        *path, leaf = rec["field"].split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = rec["value"]
    out["summary"] = summary
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if expected.json differs")
    args = parser.parse_args()
    text = json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print("fixtures/expected.json is stale; run scripts/expected-from-md.py")
            return 1
        print("fixtures/expected.json is up to date")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
