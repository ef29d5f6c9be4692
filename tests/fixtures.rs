//! The hand-written fixture trail: every answer in fixtures/expected.json (derived by hand
//! in fixtures/EXPECTED.md) must come out of the Parquet files exactly.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{Cell, Row, analyze, read_table, repo_root, summary};

fn expected() -> Value {
    let text =
        std::fs::read_to_string(repo_root().join("fixtures/expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

fn cell_matches(cell: &Cell, want: &Value) -> bool {
    match (cell, want) {
        (Cell::Null, Value::Null) => true,
        (Cell::Str(s), Value::String(w)) => s == w,
        (Cell::Int(i), Value::Number(n)) => n.as_i64() == Some(*i),
        (Cell::Float(f), Value::Number(n)) => n
            .as_f64()
            .is_some_and(|w| (f - w).abs() <= 1e-9 * w.abs().max(1.0)),
        (Cell::Bool(b), Value::Bool(w)) => b == w,
        _ => false,
    }
}

/// Asserts that `rows` are exactly the expected rows, comparing the columns the expectation
/// names (every row of the file must be expected, and every expected row present).
fn assert_rows(file: &str, rows: &[Row], want: &[Value]) {
    let render = |row: &Row, cols: &[&String]| -> String {
        cols.iter()
            .map(|c| format!("{c}={:?}", row.get(*c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut unmatched: Vec<&Row> = rows.iter().collect();
    let mut missing = Vec::new();
    for w in want {
        let w = w.as_object().expect("expected row is an object");
        let pos = unmatched.iter().position(|row| {
            w.iter()
                .all(|(col, value)| row.get(col).is_some_and(|cell| cell_matches(cell, value)))
        });
        match pos {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(serde_json::to_string(w).unwrap_or_default()),
        }
    }
    let cols: Vec<&String> = want
        .first()
        .and_then(Value::as_object)
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    let extra: Vec<String> = unmatched.iter().map(|r| render(r, &cols)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{file}: {} expected rows missing:\n  {}\n{} unexpected rows:\n  {}",
        missing.len(),
        missing.join("\n  "),
        extra.len(),
        extra.join("\n  ")
    );
}

#[test]
fn fixture_trail_gives_the_hand_derived_answers() {
    let out = tempfile::tempdir().expect("tempdir");
    let report = analyze(&[&repo_root().join("fixtures/trail")], out.path(), &[]);
    let want = expected();

    for (file, key) in [
        ("kms_calls.parquet", "kms_calls"),
        ("kms_rates.parquet", "kms_rates"),
        ("sigv2_requests.parquet", "sigv2_requests"),
        ("tls_legacy.parquet", "tls_legacy"),
    ] {
        let rows = read_table(&out.path().join(file));
        let expected_rows = want[key].as_array().expect("rows");
        assert_rows(file, &rows, expected_rows);
    }

    let got = summary(out.path());
    let objects = &want["summary"]["objects"];
    for field in ["listed", "read", "failed"] {
        assert_eq!(got["objects"][field], objects[field], "objects.{field}");
    }
    for (reason, n) in objects["skipped"].as_object().expect("skipped") {
        assert_eq!(
            &got["objects"]["skipped"][reason], n,
            "objects.skipped.{reason}"
        );
    }
    for (field, n) in want["summary"]["records"].as_object().expect("records") {
        assert_eq!(&got["records"][field], n, "records.{field}");
    }
    assert_eq!(got["failures"], serde_json::json!([]));

    // The report names the hottest caller with its peak, and the SigV2 to-do list.
    assert!(
        report.contains("arn:aws:iam::111122223333:role/app-reader"),
        "{report}"
    );
    // Its busiest second (a table cell: the year is in the period line).
    assert!(report.contains("03-01 01:02:03"), "{report}");
    assert!(report.contains("aws-cli/1.10.1"), "{report}");
    assert!(report.contains("presigned URL"), "{report}");
}

#[test]
fn outputs_are_identical_whatever_the_thread_count() {
    let one = tempfile::tempdir().expect("tempdir");
    let two = tempfile::tempdir().expect("tempdir");
    let trail = repo_root().join("fixtures/trail");
    analyze(&[&trail], one.path(), &["--threads", "1"]);
    analyze(&[&trail], two.path(), &["--threads", "4"]);
    for file in [
        "kms_calls.parquet",
        "kms_rates.parquet",
        "sigv2_requests.parquet",
        "tls_legacy.parquet",
    ] {
        let a = std::fs::read(one.path().join(file)).expect("read");
        let b = std::fs::read(two.path().join(file)).expect("read");
        assert!(a == b, "{file} differs between --threads 1 and 4");
    }
}

/// Runs with `flags` and returns summary.json.
fn filtered_summary(flags: &[&str]) -> (tempfile::TempDir, Value) {
    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&repo_root().join("fixtures/trail")], out.path(), flags);
    let s = summary(out.path());
    let records = &s["records"];
    let reconciled = records["attributed"].as_u64().unwrap()
        + records["skipped"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>()
        + records["malformed"].as_u64().unwrap();
    assert_eq!(
        records["total"].as_u64().unwrap(),
        reconciled,
        "records reconcile: {s}"
    );
    (out, s)
}

#[test]
fn time_window_prunes_files_by_delivery_time_then_records_by_event_time() {
    // Only U1 (01:05) and U2 (01:10) are delivered between 01:00 and 02:00 + 1 h allowance.
    let (out, s) = filtered_summary(&[
        "--start",
        "2026-03-01T01:00:00Z",
        "--end",
        "2026-03-01T02:00:00Z",
    ]);
    assert_eq!(s["objects"]["skipped"]["outside_time_range"], 7, "{s}");
    assert_eq!(s["objects"]["read"], 2, "{s}");
    let rates = read_table(&out.path().join("kms_rates.parquet"));
    let hours: BTreeSet<_> = rates
        .iter()
        .map(|r| r["hour"].str().unwrap().to_owned())
        .collect();
    assert_eq!(hours, BTreeSet::from(["2026-03-01T01:00:00Z".to_owned()]));

    // A window inside U1's events: its files are read, records outside are skipped by eventTime.
    let (_, s) = filtered_summary(&[
        "--start",
        "2026-03-01T01:02:03Z",
        "--end",
        "2026-03-01T01:02:04Z",
    ]);
    assert_eq!(s["objects"]["read"], 2, "{s}");
    assert!(
        s["records"]["skipped"]["outside_time_range"]
            .as_u64()
            .unwrap()
            > 0,
        "{s}"
    );
    assert_eq!(
        s["records"]["kms_symmetric"], 5,
        "the five Decrypts of 01:02:03: {s}"
    );
}

#[test]
fn account_and_region_filters_prune_by_key() {
    let (_, s) = filtered_summary(&["--account", "444455556666"]);
    assert_eq!(s["objects"]["skipped"]["other_account"], 7, "{s}");
    assert_eq!(s["objects"]["read"], 2, "{s}");
    let (_, s) = filtered_summary(&["--region", "us-east-1"]);
    assert_eq!(s["objects"]["skipped"]["other_region"], 4, "{s}");
    assert_eq!(s["objects"]["read"], 5, "{s}");
}
