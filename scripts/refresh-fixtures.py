#!/usr/bin/env python3
"""Build fixtures/trail/ (the delivered S3 layout) from fixtures/records/ (readable sources).

    python3 scripts/refresh-fixtures.py           # rebuild fixtures/trail/
    python3 scripts/refresh-fixtures.py --check   # exit 1 if fixtures/trail/ is stale

Mapping, path for path under AWSLogs/:

- `<name>.json` (pretty-printed) -> `<name>.json.gz`: the JSON is minified the way CloudTrail
  delivers it (one line, no insignificant whitespace) and gzipped. Minifying only drops
  whitespace *outside* strings, so the escapes written in the sources (`\\/`, `\\u00e9`) reach
  the delivered file unchanged: the analyzer must unescape them itself.
- the one log file named in UNCOMPRESSED is minified but left as `.json` (the tool reads both).
- any other file (no `.json` suffix, e.g. Config's `ConfigWritabilityCheckFile`) is copied
  byte for byte.

Output is byte-for-byte reproducible: gzip header with mtime 0 and no file name, compression
level 9, files written in sorted order. (The bytes depend on zlib's deflate; every stock
CPython build uses zlib, whose output for a given level has not changed in decades. `--check`
tells a content change from a mere compressor difference.)

Files under fixtures/trail/ that no source produces are deleted, so the tree always mirrors
fixtures/records/. Python 3 standard library only.
"""

import argparse
import gzip
import io
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "fixtures" / "records"
TRAIL = REPO / "fixtures" / "trail"

# Delivered uncompressed, to exercise the tool's plain `.json` path.
UNCOMPRESSED = {
    "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01/"
    "111122223333_CloudTrail_eu-west-1_20260301T0930Z_Hj4Kl6Mn8Pq2Rs4T.json",
}

GZIP_LEVEL = 9


def minify(text: str) -> str:
    """Drop whitespace outside JSON strings; keep every string byte-exact (escapes included)."""
    out = []
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch not in " \t\r\n":
            out.append(ch)
    if in_string:
        raise ValueError("unterminated string")
    return "".join(out)


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    # filename="" keeps the source name out of the header; mtime=0 keeps the clock out.
    with gzip.GzipFile(filename="", mode="wb", compresslevel=GZIP_LEVEL, fileobj=buf, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def build() -> dict:
    """Return {relative output path: bytes} for every source file."""
    outputs = {}
    for src in sorted(p for p in SOURCES.rglob("*") if p.is_file()):
        rel = src.relative_to(SOURCES).as_posix()
        raw = src.read_bytes()
        if not rel.endswith(".json"):
            outputs[rel] = raw
            continue
        text = raw.decode("utf-8")
        try:
            parsed = json.loads(text)  # validity only: the output is built from `text`
        except json.JSONDecodeError as err:
            sys.exit(f"{rel}: not valid JSON: {err}")
        if "/CloudTrail/" in f"/{rel}" and not isinstance(parsed.get("Records"), list):
            sys.exit(f"{rel}: a CloudTrail log file needs a top-level \"Records\" array")
        body = minify(text).encode("utf-8")
        if json.loads(body) != parsed:
            sys.exit(f"{rel}: minifying changed the document (bug in minify)")
        if rel in UNCOMPRESSED:
            outputs[rel] = body
        else:
            outputs[rel + ".gz"] = gzip_bytes(body)
    missing = UNCOMPRESSED - {k for k in outputs}
    if missing:
        sys.exit(f"UNCOMPRESSED names files that do not exist: {sorted(missing)}")
    return outputs


def existing() -> dict:
    if not TRAIL.exists():
        return {}
    return {p.relative_to(TRAIL).as_posix(): p.read_bytes() for p in TRAIL.rglob("*") if p.is_file()}


def decompressed(rel: str, data: bytes) -> bytes:
    return gzip.decompress(data) if rel.endswith(".gz") else data


def check(wanted: dict) -> int:
    have = existing()
    problems = []
    for rel in sorted(set(wanted) | set(have)):
        if rel not in have:
            problems.append(f"missing: {rel}")
        elif rel not in wanted:
            problems.append(f"stale (no source): {rel}")
        elif have[rel] != wanted[rel]:
            try:
                same_content = decompressed(rel, have[rel]) == decompressed(rel, wanted[rel])
            except OSError:
                same_content = False
            if same_content:
                problems.append(f"same content, different gzip bytes (another zlib?): {rel}")
            else:
                problems.append(f"content differs: {rel}")
    for line in problems:
        print(line)
    if problems:
        print(f"fixtures/trail is out of date ({len(problems)} file(s)); run scripts/refresh-fixtures.py")
        return 1
    print(f"fixtures/trail is up to date ({len(wanted)} files)")
    return 0


def write(wanted: dict) -> None:
    for rel, data in wanted.items():
        dest = TRAIL / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists() or dest.read_bytes() != data:
            dest.write_bytes(data)
    for rel in existing().keys() - wanted.keys():
        (TRAIL / rel).unlink()
        print(f"removed stale {rel}")
    # Drop directories left empty by removals (deepest first).
    for d in sorted((p for p in TRAIL.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    print(f"wrote {len(wanted)} files under {TRAIL.relative_to(REPO)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 if stale")
    args = parser.parse_args()
    wanted = build()
    if args.check:
        return check(wanted)
    write(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
