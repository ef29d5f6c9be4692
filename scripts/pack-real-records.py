#!/usr/bin/env python3
"""Pack the real CloudTrail records in fixtures/real into a delivered trail layout.

    python3 scripts/pack-real-records.py OUT_DIR [--data DIR]

The records were published by others; they ship with the repository under `fixtures/real/`,
each folder with its source (repository, path, commit) and licence in
`fixtures/real/SOURCES.md`, so that the tests need nothing outside the repository. The packed
trail is an output, not a source: OUT_DIR must not exist yet, or be empty, and must lie
outside this repository (a temporary directory). DIR defaults to `fixtures/real` in the
repository.

What is read (see fixtures/real/SOURCES.md):

- stratus-red-team/*.json        a JSON array of records per file.
- awsdocs/*.ndjson               one object per line, the record under "event".
- panther-analysis/*.ndjson      one object per line, the record under "event" (Panther rule
                                 tests; some are hand-edited and not complete records).
- trailscraper/*.json.gz         a delivered file, {"Records": [...]}.
- Security-Datasets/*.json       NDJSON of records as emitted by Logstash's cloudtrail codec,
                                 which *renames* eventTime to "@timestamp" and adds "@version".
                                 The script undoes that: eventTime = @timestamp (to the second),
                                 and drops both Logstash fields.

The same shapes are also recognised anywhere else under DIR (a JSON array, an object with
"Records", an NDJSON line with the record under "event"/"EventPayload"/"detail"/"record", or a
bare record), so new sources need no code.

An entry is kept when it is a JSON object with a string `eventSource` and an `eventTime` that
parses as a time. CloudTrail writes `YYYY-MM-DDTHH:MM:SSZ`; other spellings that mean a time
(Panther's `2019-01-01 00:00:00.000000000`, fractions, offsets) are rewritten to that form,
because the output claims to be a delivered trail. Everything else in a record is written
unchanged. Skipped entries are counted by reason.

Layout: records are grouped by (account, region, hour of eventTime), where account is
recipientAccountId, else userIdentity.accountId, and must be 12 digits (else 000000000000),
and region is awsRegion when it is a plain region-like token (else us-east-1). Each group is
split into files of at most 500 records, delivered (named) at the next 5-minute mark after its
newest record, so records of 23:55-23:59 land in the next day's folder as in real trails:

    OUT/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
        <account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<16 alnum>.json.gz

The 16-character suffix is derived from the file's content, gzip uses mtime 0 and level 6:
the same input gives the same bytes. The script prints a per-source table, then
`records=<N>`, and writes OUT/pack-count.json {"records": N, "objects": M}. That file sits
beside AWSLogs/, so point the analyzer at OUT/AWSLogs (or expect one not_cloudtrail object).
Python 3 standard library only.
"""

import argparse
import collections
import datetime as dt
import gzip
import hashlib
import io
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAX_RECORDS_PER_FILE = 500
DELIVERY_STEP = dt.timedelta(minutes=5)
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
WRAPPER_KEYS = ("event", "EventPayload", "detail", "record")
LOGSTASH_KEYS = ("@timestamp", "@version")

ACCOUNT_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+$")
# 2026-03-01T01:02:03Z, 2026-03-01 01:02:03, optional fraction, optional Z or +hh:mm
TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$"
)
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class SourceStats:
    def __init__(self):
        self.files = 0
        self.entries = 0
        self.kept = 0
        self.skipped = collections.Counter()
        self.notes = collections.Counter()


def parse_time(value):
    """Return an aware UTC datetime for a CloudTrail-ish time string, else None."""
    if not isinstance(value, str):
        return None
    m = TIME_RE.match(value.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, tz = m.groups()
    try:
        t = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        t -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return t


def fmt_time(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def source_name(data_dir: Path, path: Path) -> str:
    rel = path.relative_to(data_dir)
    return rel.parts[0] if len(rel.parts) > 1 else "(top level)"


def entries_of(path: Path):
    """Yield the candidate records of one file, unwrapping the known containers."""
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8")
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError:
                yield ("skip", f"line {n} is not JSON")
    for doc in docs:
        yield from unwrap(doc)


def unwrap(doc):
    if isinstance(doc, list):
        for item in doc:
            yield from unwrap(item)
        return
    if isinstance(doc, dict):
        if isinstance(doc.get("Records"), list):
            for item in doc["Records"]:
                yield ("entry", item)
            return
        if "eventSource" not in doc and "eventTime" not in doc:
            for key in WRAPPER_KEYS:
                if isinstance(doc.get(key), (dict, list)):
                    yield from unwrap(doc[key])
                    return
    yield ("entry", doc)


def normalise(entry, stats: SourceStats):
    """Return (record, event_time) or (None, reason)."""
    if not isinstance(entry, dict):
        return None, "not a JSON object"
    record = entry
    if "eventTime" not in record and "@timestamp" in record:
        record = {k: v for k, v in record.items() if k not in LOGSTASH_KEYS}
        record["eventTime"] = entry["@timestamp"]
        stats.notes["eventTime restored from Logstash @timestamp (@timestamp/@version dropped)"] += 1
    if not isinstance(record.get("eventSource"), str) or not record["eventSource"]:
        return None, "no eventSource"
    if "eventTime" not in record or record["eventTime"] is None:
        return None, "no eventTime"
    t = parse_time(record["eventTime"])
    if t is None:
        return None, "eventTime is not a time"
    canonical = fmt_time(t)
    if record["eventTime"] != canonical:
        if record is entry:
            record = dict(entry)
        if "@timestamp" not in entry:
            stats.notes["eventTime rewritten to YYYY-MM-DDTHH:MM:SSZ"] += 1
        record["eventTime"] = canonical
    return (record, t), None


def placement(record, stats: SourceStats):
    account = record.get("recipientAccountId")
    if not isinstance(account, str) or not account:
        ui = record.get("userIdentity")
        account = ui.get("accountId") if isinstance(ui, dict) else None
    if not isinstance(account, str) or not ACCOUNT_RE.match(account):
        stats.notes["account missing or not 12 digits: filed under 000000000000"] += 1
        account = DEFAULT_ACCOUNT
    region = record.get("awsRegion")
    if not isinstance(region, str) or not REGION_RE.match(region):
        stats.notes["awsRegion missing or not region-like: filed under us-east-1"] += 1
        region = DEFAULT_REGION
    return account, region


def suffix_for(body: bytes) -> str:
    n = int.from_bytes(hashlib.sha256(body).digest(), "big")
    chars = []
    for _ in range(16):
        n, r = divmod(n, len(ALNUM))
        chars.append(ALNUM[r])
    return "".join(chars)


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=buf, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Pack the real CloudTrail records of fixtures/real into a delivered trail layout.",
        epilog="Example: python3 scripts/pack-real-records.py \"$(mktemp -d)/trail\"",
    )
    parser.add_argument("out", type=Path, help="output directory (new or empty, outside the repo)")
    parser.add_argument("--data", type=Path, default=REPO / "fixtures" / "real",
                        help="directory of published records (default: fixtures/real)")
    args = parser.parse_args()

    data_dir = args.data.resolve()
    out = args.out.resolve()
    if not data_dir.is_dir():
        sys.exit(f"no data directory at {data_dir}")
    if out == REPO or REPO in out.parents:
        sys.exit(f"refusing to write inside the repository ({REPO}): give a directory outside it")
    if out.exists() and any(out.iterdir()):
        sys.exit(f"{out} is not empty: give a new or empty directory")

    stats = collections.OrderedDict()
    groups = collections.defaultdict(list)  # (account, region, hour) -> [(time, order, record)]
    order = 0
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        if not (path.name.endswith(".json") or path.name.endswith(".ndjson") or path.name.endswith(".json.gz")):
            continue
        st = stats.setdefault(source_name(data_dir, path), SourceStats())
        st.files += 1
        for kind, item in entries_of(path):
            st.entries += 1
            if kind == "skip":
                st.skipped[item] += 1
                continue
            kept, reason = normalise(item, st)
            if kept is None:
                st.skipped[reason] += 1
                continue
            record, t = kept
            account, region = placement(record, st)
            hour = t.replace(minute=0, second=0)
            groups[(account, region, hour)].append((t, order, record))
            order += 1
            st.kept += 1

    objects = 0
    records = 0
    for (account, region, hour) in sorted(groups):
        members = groups[(account, region, hour)]
        for start in range(0, len(members), MAX_RECORDS_PER_FILE):
            chunk = members[start:start + MAX_RECORDS_PER_FILE]
            newest = max(t for t, _, _ in chunk)
            # next 5-minute mark strictly after the newest record
            delivered = newest.replace(second=0, minute=newest.minute - newest.minute % 5) + DELIVERY_STEP
            body = json.dumps({"Records": [r for _, _, r in chunk]}, ensure_ascii=False,
                              separators=(",", ":")).encode("utf-8")
            name = f"{account}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_{suffix_for(body)}.json.gz"
            dest = out / "AWSLogs" / account / "CloudTrail" / region / f"{delivered:%Y/%m/%d}" / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(gzip_bytes(body))
            objects += 1
            records += len(chunk)

    out.mkdir(parents=True, exist_ok=True)
    (out / "pack-count.json").write_text(json.dumps({"records": records, "objects": objects}) + "\n")

    print(f"{'source':<20} {'files':>5} {'entries':>7} {'kept':>5} {'skipped':>7}")
    for name, st in stats.items():
        print(f"{name:<20} {st.files:>5} {st.entries:>7} {st.kept:>5} {sum(st.skipped.values()):>7}")
        for reason, n in sorted(st.skipped.items()):
            print(f"    skipped {n:>4}: {reason}")
        for note, n in sorted(st.notes.items()):
            print(f"    note    {n:>4}: {note}")
    print(f"objects={objects} under {out / 'AWSLogs'}")
    print(f"records={records}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
