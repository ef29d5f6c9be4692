//! A synthetic trail with planted answers (`trailsift gen`, which writes truth.json): the
//! Parquet outputs must reproduce every answer exactly.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::support::{Row, analyze, read_table, sum_by, summary};

fn generate(dir: &Path, records: u64, extra: &[&str]) -> Value {
    let mut cmd = assert_cmd::Command::cargo_bin("trailsift").expect("binary built");
    cmd.args(["gen", "--out"])
        .arg(dir)
        .args(["--records", &records.to_string()])
        .args(extra);
    let output = cmd.output().expect("trailsift gen runs");
    assert!(
        output.status.success(),
        "gen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).expect("truth.json"))
        .expect("JSON")
}

/// `{a: {b: n}}` from truth.json as the same shape as `sum_by` gives.
fn nested(truth: &Value) -> BTreeMap<Vec<String>, i64> {
    let mut out = BTreeMap::new();
    for (a, inner) in truth.as_object().expect("object") {
        for (b, n) in inner.as_object().expect("object") {
            out.insert(vec![a.clone(), b.clone()], n.as_i64().expect("count"));
        }
    }
    out
}

fn flat(truth: &Value) -> BTreeMap<Vec<String>, i64> {
    truth
        .as_object()
        .expect("object")
        .iter()
        .map(|(k, n)| (vec![k.clone()], n.as_i64().expect("count")))
        .collect()
}

fn check_against_truth(out: &Path, truth: &Value) {
    let s = summary(out);
    assert_eq!(s["objects"]["failed"], 0, "{}", s["failures"]);
    assert_eq!(s["records"]["total"], truth["records_total"]);
    assert_eq!(s["records"]["kms"], truth["kms_records"]);
    assert_eq!(s["records"]["s3"], truth["s3_records"]);
    assert_eq!(s["records"]["s3_data"], truth["s3_data_records"]);
    assert_eq!(s["records"]["sigv2"], truth["sigv2_records"]);
    assert_eq!(s["records"]["tls_legacy"], truth["tls_legacy_records"]);
    assert_eq!(s["objects"]["read"], truth["log_objects"]);
    assert_eq!(s["objects"]["skipped"]["digest"], truth["digest_objects"]);

    let kms = read_table(&out.join("kms_calls.parquet"));
    assert_eq!(
        sum_by(&kms, &["principal", "event_name"], "calls"),
        nested(&truth["kms_calls"])
    );
    let throttled: Vec<Row> = kms
        .iter()
        .filter(|r| r["error_code"].str() == Some("ThrottlingException"))
        .cloned()
        .collect();
    assert_eq!(
        sum_by(&throttled, &["principal"], "calls"),
        flat(&truth["kms_throttled"])
    );
    let with_bucket: Vec<Row> = kms
        .iter()
        .filter(|r| r["s3_bucket"].str().is_some())
        .cloned()
        .collect();
    assert_eq!(
        sum_by(&with_bucket, &["s3_bucket"], "calls"),
        flat(&truth["s3_bucket_kms_calls"])
    );

    let rates = read_table(&out.join("kms_rates.parquet"));
    let peaks: Vec<(String, String, String, i64, i64, String)> = rates
        .iter()
        .filter(|r| {
            r["scope"].str() == Some("account_region")
                && r["quota_class"].str() == Some("symmetric")
        })
        .map(|r| {
            (
                r["hour"].str().unwrap().to_owned(),
                r["account_id"].str().unwrap().to_owned(),
                r["region"].str().unwrap().to_owned(),
                r["calls"].int(),
                r["peak_rps"].int(),
                r["peak_second"].str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String, String, i64, i64, String)> = truth["kms_peaks"]
        .as_array()
        .expect("peaks")
        .iter()
        .map(|p| {
            (
                p["hour"].as_str().unwrap().to_owned(),
                p["account_id"].as_str().unwrap().to_owned(),
                p["region"].as_str().unwrap().to_owned(),
                p["calls"].as_i64().unwrap(),
                p["peak_rps"].as_i64().unwrap(),
                p["peak_second"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(peaks, want, "per-hour peaks per account and region");

    let sigv2 = read_table(&out.join("sigv2_requests.parquet"));
    assert_eq!(
        sum_by(&sigv2, &["principal", "user_agent"], "requests"),
        nested(&truth["sigv2"])
    );
    let tls = read_table(&out.join("tls_legacy.parquet"));
    assert_eq!(
        sum_by(&tls, &["principal", "tls_version"], "requests"),
        nested(&truth["tls_legacy"])
    );
}

#[test]
fn generated_trail_answers_are_reproduced_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    let truth = generate(&trail, 30_000, &["--seed", "11", "--hours", "3"]);
    assert!(
        truth["sigv2_records"].as_u64().unwrap() > 0
            && truth["tls_legacy_records"].as_u64().unwrap() > 0
    );
    let out = dir.path().join("out");
    analyze(&[&trail], &out, &[]);
    check_against_truth(&out, &truth);
}

#[test]
fn generated_organization_trail_is_read_through_the_org_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    let truth = generate(
        &trail,
        5_000,
        &[
            "--seed",
            "3",
            "--hours",
            "2",
            "--org",
            "o-abc123def4",
            "--accounts",
            "3",
        ],
    );
    assert!(trail.join("AWSLogs/o-abc123def4").is_dir());
    let out = dir.path().join("out");
    analyze(&[&trail.join("AWSLogs")], &out, &["--threads", "2"]);
    check_against_truth(&out, &truth);
}
