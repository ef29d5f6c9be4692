//! KMS insights on small trails written by each test: duplicates counted once, quota
//! seconds, cost projections, S3 Bucket Key and data key caching candidates, coverage
//! warnings, and report.html that shows hostile strings as text.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{Cell, Row, analyze, read_table, sum_by, summary};

const A: &str = "111111111111";
const B: &str = "222222222222";
const KEY_A: &str = "arn:aws:kms:us-east-1:111111111111:key/aaaaaaaa-1111-4111-8111-111111111111";
const KEY_B: &str = "arn:aws:kms:us-east-1:222222222222:key/bbbbbbbb-2222-4222-8222-222222222222";

/// A trail under construction in a temporary directory, in the delivered key layout.
struct Trail {
    root: tempfile::TempDir,
    files: u32,
}

impl Trail {
    fn new() -> Trail {
        Trail {
            root: tempfile::tempdir().expect("tempdir"),
            files: 0,
        }
    }

    fn path(&self) -> PathBuf {
        self.root.path().join("trail")
    }

    /// Writes one log file of `account` in `region`, delivered at `delivered`
    /// (`2026-03-01T10:05`), holding `records`.
    fn file(&mut self, account: &str, region: &str, delivered: &str, records: Vec<Value>) {
        self.files += 1;
        let (date, time) = delivered.split_once('T').expect("date T time");
        let folder = date.replace('-', "/");
        let stamp = format!("{}T{}Z", date.replace('-', ""), time.replace(':', ""));
        let dir = self
            .path()
            .join(format!("AWSLogs/{account}/CloudTrail/{region}/{folder}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let name = format!(
            "{account}_CloudTrail_{region}_{stamp}_File{:011}.json",
            self.files
        );
        let body = json!({ "Records": records });
        std::fs::write(dir.join(name), body.to_string()).expect("write log file");
    }
}

fn event_id(n: u32) -> String {
    format!("0f000000-0000-4000-8000-{n:012}")
}

/// A direct KMS call by `role` of `account`.
fn kms_call(n: u32, time: &str, account: &str, role: &str, event: &str) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/s1"),
            "accountId": account,
            "sessionContext": {"sessionIssuer": {"arn": format!("arn:aws:iam::{account}:role/{role}")}}
        },
        "eventTime": time,
        "eventSource": "kms.amazonaws.com",
        "eventName": event,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-sdk-java/2.25.0",
        "requestParameters": {"keyId": KEY_A, "encryptionContext": {"app": "orders"}},
        "responseElements": null,
        "eventID": event_id(n),
        "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": KEY_A}],
        "recipientAccountId": account,
        "eventCategory": "Management"
    })
}

fn rows(out: &Path, file: &str) -> Vec<Row> {
    read_table(&out.join(file))
}

fn account_region_rates(out: &Path) -> Vec<Row> {
    rows(out, "kms_rates.parquet")
        .into_iter()
        .filter(|r| r["scope"].str() == Some("account_region"))
        .collect()
}

fn float(cell: &Cell) -> f64 {
    match cell {
        Cell::Float(f) => *f,
        other => panic!("not a float: {other:?}"),
    }
}

/// The trail of the deduplication tests:
/// - #1 is delivered four times: twice in the 10:00 delivery hour, once at 11:20 (the next
///   hour: inside the one-hour window), once at 14:05 (three hours later: outside);
/// - a cross-account Decrypt by role `app` of A with B's key, logged in A (#2, the caller's
///   copy) and in B (#3, the key owner's copy, delivered first), same sharedEventID;
/// - a key owner's copy in B whose caller's copy is not in the input (#4).
fn duplicated_trail() -> Trail {
    let mut t = Trail::new();
    let one = kms_call(1, "2026-03-01T10:01:00Z", A, "app", "Decrypt");
    let mut caller_copy = kms_call(2, "2026-03-01T10:02:00Z", A, "app", "Decrypt");
    caller_copy["sharedEventID"] = json!("5b6c7d8e-0000-4f00-a000-0000000000aa");
    caller_copy["resources"] = json!([{"accountId": B, "type": "AWS::KMS::Key", "ARN": KEY_B}]);
    let owner_copy = |n: u32, shared: &str| {
        json!({
            "eventVersion": "1.09",
            "userIdentity": {"type": "AWSAccount", "principalId": "AROAEXAMPLE:s1", "accountId": A},
            "eventTime": "2026-03-01T10:02:00Z",
            "eventSource": "kms.amazonaws.com",
            "eventName": "Decrypt",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.7",
            "userAgent": "aws-sdk-java/2.25.0",
            "requestParameters": {"encryptionContext": {"app": "orders"}},
            "eventID": event_id(n),
            "resources": [{"accountId": B, "type": "AWS::KMS::Key", "ARN": KEY_B}],
            "recipientAccountId": B,
            "sharedEventID": shared,
            "eventCategory": "Management"
        })
    };
    t.file(
        B,
        "us-east-1",
        "2026-03-01T10:04",
        vec![
            owner_copy(3, "5b6c7d8e-0000-4f00-a000-0000000000aa"),
            owner_copy(4, "5b6c7d8e-0000-4f00-a000-0000000000bb"),
        ],
    );
    t.file(
        A,
        "us-east-1",
        "2026-03-01T10:05",
        vec![one.clone(), caller_copy],
    );
    t.file(A, "us-east-1", "2026-03-01T10:10", vec![one.clone()]);
    t.file(A, "us-east-1", "2026-03-01T11:20", vec![one.clone()]);
    t.file(A, "us-east-1", "2026-03-01T14:05", vec![one]);
    t
}

#[test]
fn duplicates_are_counted_once_within_the_window_and_cross_account_calls_once() {
    let t = duplicated_trail();
    let out = tempfile::tempdir().expect("tempdir");
    let report = analyze(&[&t.path()], out.path(), &[]);
    let s = summary(out.path());
    let r = &s["records"];
    assert_eq!(r["total"], 7, "{s}");
    // Counted: #1 twice (first copy, and again beyond the window), #2, #4.
    assert_eq!(r["kms"], 4, "{s}");
    assert_eq!(r["duplicates"], 3, "{s}");
    assert_eq!(r["duplicate_reasons"]["same_event_id"], 2, "{s}");
    assert_eq!(r["duplicate_reasons"]["cross_account_copy"], 1, "{s}");
    assert_eq!(
        r["skipped"]["duplicate"], 3,
        "reconciliation keeps holding: {s}"
    );
    assert_eq!(
        r["attributed"].as_u64().unwrap() + r["skipped"]["duplicate"].as_u64().unwrap(),
        r["total"].as_u64().unwrap()
    );
    assert!(
        report.contains("3 duplicate records not counted"),
        "{report}"
    );

    let calls = rows(out.path(), "kms_calls.parquet");
    assert_eq!(
        sum_by(&calls, &["account_id", "principal"], "calls"),
        [
            (vec![A.to_owned(), format!("arn:aws:iam::{A}:role/app")], 3),
            // Only the owner's copy whose caller's copy never came: still the caller's
            // call (KMS throttles and bills the caller), named by its principalId.
            (vec![A.to_owned(), format!("account:{A}/AROAEXAMPLE")], 1),
        ]
        .into_iter()
        .collect()
    );
    // Every call counts toward the caller's account, each once: the cross-account call
    // whose two copies are in the input, and the one whose owner's copy alone is.
    let rates = account_region_rates(out.path());
    let by_account = sum_by(&rates, &["account_id"], "calls");
    assert_eq!(by_account[&vec![A.to_owned()]], 4);
    assert!(
        !by_account.contains_key(&vec![B.to_owned()]),
        "{by_account:?}"
    );
}

#[test]
fn a_wider_window_catches_the_late_redelivery_and_zero_keeps_one_delivery_hour() {
    let t = duplicated_trail();
    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&t.path()], out.path(), &["--dedup-window-hours", "4"]);
    let s = summary(out.path());
    assert_eq!(s["records"]["kms"], 3, "{s}");
    assert_eq!(s["records"]["duplicate_reasons"]["same_event_id"], 3, "{s}");
    assert_eq!(s["deduplication"]["window_hours"], 4);

    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&t.path()], out.path(), &["--dedup-window-hours", "0"]);
    let s = summary(out.path());
    // Only the 10:05/10:10 pair shares a delivery hour; the caller's copy (10:05) and the
    // owner's copy (10:04) do too.
    assert_eq!(s["records"]["duplicate_reasons"]["same_event_id"], 1, "{s}");
    assert_eq!(
        s["records"]["duplicate_reasons"]["cross_account_copy"], 1,
        "{s}"
    );
    assert_eq!(s["records"]["kms"], 5, "{s}");
}

#[test]
fn deduplicated_outputs_are_identical_whatever_the_thread_count() {
    let t = duplicated_trail();
    let one = tempfile::tempdir().expect("tempdir");
    let four = tempfile::tempdir().expect("tempdir");
    analyze(&[&t.path()], one.path(), &["--threads", "1"]);
    analyze(&[&t.path()], four.path(), &["--threads", "4"]);
    for file in [
        "kms_calls.parquet",
        "kms_rates.parquet",
        "kms_cost.parquet",
        "kms_bucket_keys.parquet",
        "kms_data_key_caching.parquet",
    ] {
        let a = std::fs::read(one.path().join(file)).expect("read");
        let b = std::fs::read(four.path().join(file)).expect("read");
        assert!(a == b, "{file} differs between --threads 1 and 4");
    }
    assert_eq!(
        summary(one.path())["records"],
        summary(four.path())["records"]
    );
}

#[test]
fn seconds_over_80_percent_and_over_the_quota_are_counted_per_hour() {
    let mut t = Trail::new();
    let mut records = Vec::new();
    let mut n = 0;
    // 9 calls in 10:00:05, 11 in 10:00:06 (two of them throttled), 3 in 10:00:07.
    for (second, calls) in [(5, 9), (6, 11), (7, 3)] {
        for i in 0..calls {
            n += 1;
            let mut r = kms_call(
                n,
                &format!("2026-03-01T10:00:{second:02}Z"),
                A,
                "bi",
                "Decrypt",
            );
            r["awsRegion"] = json!("sa-east-1");
            if second == 6 && i < 2 {
                r["errorCode"] = json!("ThrottlingException");
            }
            records.push(r);
        }
    }
    t.file(A, "sa-east-1", "2026-03-01T10:05", records);
    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&t.path()], out.path(), &["--quota", "sa-east-1=10"]);
    let rates = rows(out.path(), "kms_rates.parquet");
    let ar = rates
        .iter()
        .find(|r| r["scope"].str() == Some("account_region"))
        .expect("account row");
    assert_eq!(ar["quota_rps"], Cell::Int(10));
    assert_eq!(ar["peak_rps"], Cell::Int(11));
    assert_eq!(
        ar["seconds_over_80pct"],
        Cell::Int(2),
        "9 and 11 are above 8"
    );
    assert_eq!(
        ar["seconds_over_quota"],
        Cell::Int(1),
        "only 11 is above 10"
    );
    assert_eq!(ar["throttled"], Cell::Int(2));
    let principal = rates
        .iter()
        .find(|r| r["scope"].str() == Some("principal"))
        .expect("principal row");
    assert_eq!(principal["throttled"], Cell::Int(2));
    assert_eq!(principal["seconds_over_quota"], Cell::Null);
}

#[test]
fn cost_is_projected_from_the_analysed_span() {
    let mut t = Trail::new();
    // 60 calls by `app` in 10:00 and 12:00, 30 by `etl` with another key: a 3-hour span.
    let mut records = Vec::new();
    for i in 0..60 {
        let hour = if i < 30 { 10 } else { 12 };
        records.push(kms_call(
            i,
            &format!("2026-03-01T{hour}:00:{:02}Z", i % 60),
            A,
            "app",
            "Decrypt",
        ));
    }
    for i in 60..90 {
        let mut r = kms_call(i, "2026-03-01T11:30:00Z", A, "etl", "Encrypt");
        r["resources"][0]["ARN"] = json!(KEY_B);
        records.push(r);
    }
    t.file(A, "us-east-1", "2026-03-01T12:05", records);
    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&t.path()], out.path(), &["--kms-price", "0.05"]);
    let cost = rows(out.path(), "kms_cost.parquet");
    let find = |scope: &str, col: &str, name: &str| {
        cost.iter()
            .find(|r| r["scope"].str() == Some(scope) && r[col].str() == Some(name))
            .unwrap_or_else(|| panic!("no {scope} row {name}: {cost:?}"))
    };
    let account = find("account", "account_id", A);
    assert_eq!(account["calls"], Cell::Int(90));
    assert_eq!(account["span_start"].str(), Some("2026-03-01T10:00:00Z"));
    assert_eq!(account["span_end"].str(), Some("2026-03-01T13:00:00Z"));
    let close =
        |got: f64, want: f64| assert!((got - want).abs() < 1e-9 * want.max(1.0), "{got} != {want}");
    close(float(&account["span_days"]), 0.125);
    close(float(&account["calls_per_day"]), 720.0);
    close(float(&account["calls_per_month"]), 720.0 * 30.4);
    close(float(&account["usd_per_day"]), 720.0 * 0.05 / 10_000.0);
    close(
        float(&account["usd_per_month"]),
        720.0 * 30.4 * 0.05 / 10_000.0,
    );
    close(
        float(&account["usd_per_month_after_free_tier"]),
        (720.0 * 30.4 - 20_000.0) * 0.05 / 10_000.0,
    );
    assert_eq!(account["free_tier_requests_per_month"], Cell::Int(20_000));
    assert_eq!(
        find(
            "principal",
            "principal",
            &format!("arn:aws:iam::{A}:role/app")
        )["calls"],
        Cell::Int(60)
    );
    assert_eq!(find("key", "key_arn", KEY_B)["calls"], Cell::Int(30));
    assert_eq!(find("key", "key_arn", KEY_A)["calls"], Cell::Int(60));
    let s = summary(out.path());
    assert_eq!(s["kms"]["calls"], 90);
    assert_eq!(s["kms"]["price_per_10k_usd"], 0.05);
}

/// A KMS call S3 made for `role` on an object (or the bucket) of `bucket`.
fn via_s3(
    n: u32,
    time: &str,
    role: &str,
    bucket: &str,
    object: Option<&str>,
    event: &str,
) -> Value {
    let arn = match object {
        Some(o) => format!("arn:aws:s3:::{bucket}/{o}"),
        None => format!("arn:aws:s3:::{bucket}"),
    };
    let mut r = kms_call(n, time, A, role, event);
    r["userIdentity"]["invokedBy"] = json!("fas.s3.amazonaws.com");
    r["sourceIPAddress"] = json!("fas.s3.amazonaws.com");
    r["userAgent"] = json!("fas.s3.amazonaws.com");
    r["requestParameters"] = json!({"encryptionContext": {"aws:s3:arn": arn}});
    r
}

#[test]
fn bucket_key_candidates_estimate_the_calls_a_bucket_key_saves() {
    let mut t = Trail::new();
    let mut records = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    // `reports`: no Bucket Key. `bi` reads 5 objects in 10:00 and 3 in 11:00 and writes 2
    // in 10:00: with a Bucket Key it would still make 3 calls (10:00 Decrypt, 11:00 Decrypt,
    // 10:00 GenerateDataKey), so 10 - 3 = 7 are saved.
    for i in 0..5 {
        records.push(via_s3(
            next(),
            &format!("2026-03-01T10:0{i}:00Z"),
            "bi",
            "reports",
            Some(&format!("d/{i}.csv")),
            "Decrypt",
        ));
    }
    for i in 0..3 {
        records.push(via_s3(
            next(),
            &format!("2026-03-01T11:0{i}:00Z"),
            "bi",
            "reports",
            Some(&format!("d/{i}.csv")),
            "Decrypt",
        ));
    }
    for i in 0..2 {
        records.push(via_s3(
            next(),
            "2026-03-01T10:30:00Z",
            "bi",
            "reports",
            Some(&format!("w/{i}")),
            "GenerateDataKey",
        ));
    }
    // `warehouse`: Bucket Key on (bucket ARN) but older objects still per object.
    for _ in 0..4 {
        records.push(via_s3(
            next(),
            "2026-03-01T10:10:00Z",
            "etl",
            "warehouse",
            None,
            "Decrypt",
        ));
    }
    for i in 0..4 {
        records.push(via_s3(
            next(),
            "2026-03-01T10:11:00Z",
            "etl",
            "warehouse",
            Some(&format!("2019/{i}")),
            "Decrypt",
        ));
    }
    // `lake`: Bucket Key on, nothing to do.
    records.push(via_s3(
        next(),
        "2026-03-01T10:12:00Z",
        "etl",
        "lake",
        None,
        "Decrypt",
    ));
    // CloudTrail encrypting its log objects is not an S3 Bucket Key matter.
    let mut ct = kms_call(next(), "2026-03-01T10:13:00Z", A, "x", "GenerateDataKey");
    ct["userIdentity"] = json!({"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"});
    ct["sourceIPAddress"] = json!("cloudtrail.amazonaws.com");
    ct["requestParameters"] = json!({"encryptionContext": {
        "aws:cloudtrail:arn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/main",
        "aws:s3:arn": "arn:aws:s3:::trail-logs/AWSLogs/111111111111/CloudTrail/x.json.gz"}});
    records.push(ct);
    t.file(A, "us-east-1", "2026-03-01T11:05", records);

    let out = tempfile::tempdir().expect("tempdir");
    let report = analyze(&[&t.path()], out.path(), &[]);
    let keys = rows(out.path(), "kms_bucket_keys.parquet");
    let bucket = |name: &str| {
        keys.iter()
            .find(|r| r["s3_bucket"].str() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}: {keys:?}"))
    };
    let reports = bucket("reports");
    assert_eq!(reports["bucket_status"].str(), Some("bucket_key_off"));
    assert_eq!(reports["object_arn_calls"], Cell::Int(10));
    assert_eq!(reports["est_calls_with_bucket_key"], Cell::Int(3));
    assert_eq!(reports["est_saved_calls"], Cell::Int(7));
    let warehouse = bucket("warehouse");
    assert_eq!(
        warehouse["bucket_status"].str(),
        Some("bucket_key_on_older_objects")
    );
    assert_eq!(warehouse["object_arn_calls"], Cell::Int(4));
    assert_eq!(warehouse["bucket_arn_calls"], Cell::Int(4));
    assert_eq!(warehouse["est_saved_calls"], Cell::Int(3));
    assert_eq!(bucket("lake")["bucket_status"].str(), Some("bucket_key_on"));
    assert!(
        keys.iter()
            .all(|r| r["s3_bucket"].str() != Some("trail-logs")),
        "CloudTrail log encryption is not an S3 SSE-KMS call"
    );
    assert!(report.contains("enable Bucket Key + re-copy"), "{report}");
    assert!(
        report.contains("Bucket Key on: re-copy old objects"),
        "{report}"
    );

    let calls = rows(out.path(), "kms_calls.parquet");
    let kinds = sum_by(&calls, &["caller_kind"], "calls");
    assert_eq!(kinds[&vec!["s3_sse_kms".to_owned()]], 19);
    assert_eq!(kinds[&vec!["cloudtrail_log_encryption".to_owned()]], 1);
}

#[test]
fn data_key_caching_candidates_count_calls_a_cache_would_serve() {
    let mut t = Trail::new();
    let mut records = Vec::new();
    // Six GenerateDataKey calls by `writer` under one key and context (written in two key
    // orders, each with its own Encryption SDK public key): five within 10:00:00-10:04:59,
    // one at 10:12. A 300 s cache makes 2 calls (saves 4); a 1000 s cache 1 (saves 5).
    for (i, time) in [
        "10:00:00", "10:01:00", "10:02:00", "10:03:00", "10:04:59", "10:12:00",
    ]
    .iter()
    .enumerate()
    {
        let mut r = kms_call(
            i as u32,
            &format!("2026-03-01T{time}Z"),
            A,
            "writer",
            "GenerateDataKey",
        );
        r["requestParameters"]["encryptionContext"] = if i % 2 == 0 {
            json!({"tenant": "t-1", "service": "orders", "aws-crypto-public-key": format!("Ak{i}")})
        } else {
            json!({"aws-crypto-public-key": format!("Bx{i}"), "service": "orders", "tenant": "t-1"})
        };
        records.push(r);
    }
    // Another tenant: its own cache entry, one call, nothing saved.
    let mut other = kms_call(10, "2026-03-01T10:00:30Z", A, "writer", "GenerateDataKey");
    other["requestParameters"]["encryptionContext"] = json!({"tenant": "t-2", "service": "orders"});
    records.push(other);
    // Through S3: not a direct caller, not a candidate.
    for i in 0..3 {
        records.push(via_s3(
            20 + i,
            "2026-03-01T10:00:00Z",
            "writer",
            "reports",
            Some("a"),
            "GenerateDataKey",
        ));
    }
    t.file(A, "us-east-1", "2026-03-01T10:15", records);

    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&t.path()], out.path(), &[]);
    let caching = rows(out.path(), "kms_data_key_caching.parquet");
    assert_eq!(caching.len(), 1, "{caching:?}");
    let c = &caching[0];
    assert_eq!(
        c["principal"].str(),
        Some(&*format!("arn:aws:iam::{A}:role/writer"))
    );
    assert_eq!(c["key_arn"].str(), Some(KEY_A));
    assert_eq!(c["calls"], Cell::Int(6));
    assert_eq!(c["cache_windows"], Cell::Int(2));
    assert_eq!(c["est_saved_calls"], Cell::Int(4));
    assert_eq!(c["busiest_window_calls"], Cell::Int(5));
    assert_eq!(c["cache_max_age_seconds"], Cell::Int(300));
    assert_eq!(c["encryption_context_hash"].str().map(str::len), Some(16));

    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&t.path()], out.path(), &["--cache-max-age", "1000"]);
    let caching = rows(out.path(), "kms_data_key_caching.parquet");
    assert_eq!(caching[0]["est_saved_calls"], Cell::Int(5));
    assert_eq!(
        summary(out.path())["kms"]["data_key_caching_est_saved_calls"],
        5
    );
}

/// The KMS Developer Guide's "Decrypt" CloudTrail example (ct-decrypt.md, the first
/// example), at another time and with its own event id: IAM user Alice decrypts directly
/// (`sourceIPAddress` an address, no `invokedBy`) under `Department`/`Project`.
fn documented_decrypt(n: u32, time: &str) -> Value {
    json!({
        "eventVersion": "1.05",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "EX_PRINCIPAL_ID",
            "arn": "arn:aws:iam::111122223333:user/Alice",
            "accountId": "111122223333",
            "accessKeyId": "EXAMPLE_KEY_ID",
            "userName": "Alice"
        },
        "eventTime": time,
        "eventSource": "kms.amazonaws.com",
        "eventName": "Decrypt",
        "awsRegion": "us-west-2",
        "sourceIPAddress": "192.0.2.0",
        "userAgent": "AWS Internal",
        "requestParameters": {
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "keyId": DOC_KEY,
            "encryptionContext": {"Department": "Engineering", "Project": "Alpha"}
        },
        "responseElements": null,
        "requestID": "12345126-30d5-4b28-98b9-9153da559963",
        "eventID": event_id(n),
        "readOnly": true,
        "resources": [{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": DOC_KEY}],
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333"
    })
}

const DOC_ACCOUNT: &str = "111122223333";
const DOC_KEY: &str = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

#[test]
fn direct_decrypt_calls_are_caching_candidates_of_their_own() {
    let mut t = Trail::new();
    let mut records = Vec::new();
    // Alice decrypts under one key and context seven times; 300 s windows from the epoch:
    // [22:55:00, 23:00:00) holds 22:58:24, 22:58:25, 22:59:10, 22:59:59 (4 calls),
    // [23:00:00, 23:05:00) holds 23:00:00, 23:03:00 (2), [23:20:00, 23:25:00) 23:20:00 (1).
    // A cache would make 3 calls: 7 - 3 = 4 saved at most; busiest window 4. Two of them
    // name the context's pairs in the other order: the same context to KMS.
    for (i, time) in [
        "22:58:24", "22:58:25", "22:59:10", "22:59:59", "23:00:00", "23:03:00", "23:20:00",
    ]
    .iter()
    .enumerate()
    {
        let mut r = documented_decrypt(i as u32, &format!("2020-07-27T{time}Z"));
        if i % 3 == 1 {
            r["requestParameters"]["encryptionContext"] =
                json!({"Project": "Alpha", "Department": "Engineering"});
        }
        records.push(r);
    }
    // The KMS Developer Guide's "GenerateDataKey" example (ct-generatedatakey.md) by Alice
    // under the same key and context, twice in [22:55:00, 23:00:00): its own row, one
    // window, 2 - 1 = 1 saved. (The example's key is a bare id; the ARN is in `resources`.)
    for (i, time) in ["22:58:00", "22:58:10"].iter().enumerate() {
        let mut r = documented_decrypt(10 + i as u32, &format!("2020-07-27T{time}Z"));
        r["eventName"] = json!("GenerateDataKey");
        r["requestParameters"] = json!({
            "keyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
            "keySpec": "AES_256",
            "encryptionContext": {"Department": "Engineering", "Project": "Alpha"}
        });
        records.push(r);
    }
    // An AWS service decrypting for Alice (the guide's later example logs `sourceIPAddress:
    // AWS Internal`): not a direct call, not a candidate, however often.
    for i in 0..3 {
        let mut r = documented_decrypt(20 + i, "2020-07-27T22:58:30Z");
        r["sourceIPAddress"] = json!("AWS Internal");
        records.push(r);
    }
    // Another context (the guide's second example), once: nothing to save, no row.
    let mut other = documented_decrypt(30, "2020-07-27T22:58:40Z");
    other["requestParameters"]["encryptionContext"] =
        json!({"Department": "Development", "Purpose": "Test"});
    records.push(other);
    t.file(DOC_ACCOUNT, "us-west-2", "2020-07-27T23:25", records);

    let out = tempfile::tempdir().expect("tempdir");
    let report = analyze(&[&t.path()], out.path(), &[]);
    let caching = rows(out.path(), "kms_data_key_caching.parquet");
    assert_eq!(caching.len(), 2, "{caching:?}");
    // Most saved first: the Decrypt row.
    let (decrypt, generate) = (&caching[0], &caching[1]);
    assert_eq!(decrypt["operation"].str(), Some("decrypt"));
    assert_eq!(
        decrypt["principal"].str(),
        Some("arn:aws:iam::111122223333:user/Alice")
    );
    assert_eq!(decrypt["key_arn"].str(), Some(DOC_KEY));
    assert_eq!(decrypt["calls"], Cell::Int(7));
    assert_eq!(decrypt["cache_windows"], Cell::Int(3));
    assert_eq!(decrypt["est_saved_calls"], Cell::Int(4));
    assert_eq!(decrypt["busiest_window_calls"], Cell::Int(4));
    assert_eq!(generate["operation"].str(), Some("generate_data_key"));
    assert_eq!(generate["calls"], Cell::Int(2));
    assert_eq!(generate["est_saved_calls"], Cell::Int(1));
    assert_eq!(
        decrypt["encryption_context_hash"], generate["encryption_context_hash"],
        "one context, two cache entries"
    );
    // The summary keeps the conservative data key figure apart from the Decrypt upper bound.
    let s = summary(out.path());
    assert_eq!(s["kms"]["data_key_caching_est_saved_calls"], 1);
    assert_eq!(s["kms"]["data_key_caching_decrypt_est_saved_calls_max"], 4);
    assert!(report.contains("decrypt"), "{report}");
}

/// An S3 data event of a write to `bucket`, shaped like the S3 User Guide's CloudTrail
/// PutObject example (cloudtrail-logging-understanding-s3-entries.md): the request's
/// `x-amz-server-side-encryption` header in `requestParameters`, S3's response header in
/// `responseElements`. `None` leaves the header out of that side.
fn s3_write(
    n: u32,
    event: &str,
    bucket: &str,
    request_sse: Option<&str>,
    response_sse: Option<&str>,
) -> Value {
    let mut request = json!({
        "bucketName": bucket,
        "Host": format!("{bucket}.s3.us-east-1.amazonaws.com"),
        "key": format!("in/{n}.csv")
    });
    if let Some(sse) = request_sse {
        request["x-amz-server-side-encryption"] = json!(sse);
        request["x-amz-server-side-encryption-aws-kms-key-id"] = json!(KEY_A);
    }
    let mut response = json!({"x-amz-version-id": "001"});
    if let Some(sse) = response_sse {
        response["x-amz-server-side-encryption"] = json!(sse);
        response["x-amz-server-side-encryption-aws-kms-key-id"] = json!(KEY_A);
    }
    json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::{A}:assumed-role/bi/s1"),
            "accountId": A,
            "sessionContext": {"sessionIssuer": {"arn": format!("arn:aws:iam::{A}:role/bi")}}
        },
        "eventTime": "2026-03-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": event,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "[aws-cli/2.15.0 md/awscrt#0.19.0 ua/2.0 os/linux#6.1]",
        "requestParameters": request,
        "responseElements": response,
        "additionalEventData": {
            "SignatureVersion": "SigV4",
            "CipherSuite": "ECDHE-RSA-AES128-GCM-SHA256",
            "bytesTransferredIn": 10,
            "AuthenticationMethod": "AuthHeader"
        },
        "eventID": event_id(n),
        "readOnly": false,
        "resources": [
            {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/in/{n}.csv")},
            {"accountId": A, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}
        ],
        "eventType": "AwsApiCall",
        "managementEvent": false,
        "recipientAccountId": A,
        "eventCategory": "Data"
    })
}

#[test]
fn dsse_kms_buckets_get_no_bucket_key_advice() {
    let mut t = Trail::new();
    let mut records = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    // `dual-layer`: a PutObject asked for DSSE-KMS (request and response header). Its KMS
    // calls look like SSE-KMS ones (object ARNs): 4 Decrypts in 10:00 and a GenerateDataKey
    // at 10:30. As SSE-KMS that would be bucket_key_off with 5 - 2 = 3 saved (one Decrypt
    // and one GenerateDataKey slot in 10:00 remain); S3 Bucket Keys aren't supported for
    // DSSE-KMS, so all 5 remain and 0 are saved.
    records.push(s3_write(
        next(),
        "PutObject",
        "dual-layer",
        Some("aws:kms:dsse"),
        Some("aws:kms:dsse"),
    ));
    for i in 0..4 {
        records.push(via_s3(
            next(),
            &format!("2026-03-01T10:0{i}:00Z"),
            "bi",
            "dual-layer",
            Some(&format!("d/{i}.csv")),
            "Decrypt",
        ));
    }
    records.push(via_s3(
        next(),
        "2026-03-01T10:30:00Z",
        "bi",
        "dual-layer",
        Some("w/0"),
        "GenerateDataKey",
    ));
    // `dual-default`: a CopyObject without the header, DSSE-KMS chosen by the bucket's
    // default encryption: only S3's response header says so. 2 Decrypts: 0 saved.
    records.push(s3_write(
        next(),
        "CopyObject",
        "dual-default",
        None,
        Some("aws:kms:dsse"),
    ));
    for i in 0..2 {
        records.push(via_s3(
            next(),
            &format!("2026-03-01T10:1{i}:00Z"),
            "bi",
            "dual-default",
            Some(&format!("d/{i}.csv")),
            "Decrypt",
        ));
    }
    // `single-layer`: SSE-KMS writes. 3 Decrypts in 10:00: one would remain, 2 saved.
    records.push(s3_write(
        next(),
        "PutObject",
        "single-layer",
        Some("aws:kms"),
        Some("aws:kms"),
    ));
    for i in 0..3 {
        records.push(via_s3(
            next(),
            &format!("2026-03-01T10:2{i}:00Z"),
            "bi",
            "single-layer",
            Some(&format!("d/{i}.csv")),
            "Decrypt",
        ));
    }
    t.file(A, "us-east-1", "2026-03-01T11:05", records);

    let out = tempfile::tempdir().expect("tempdir");
    let report = analyze(&[&t.path()], out.path(), &[]);
    let keys = rows(out.path(), "kms_bucket_keys.parquet");
    let bucket = |name: &str| {
        keys.iter()
            .find(|r| r["s3_bucket"].str() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}: {keys:?}"))
    };
    let dual = bucket("dual-layer");
    assert_eq!(dual["bucket_status"].str(), Some("dsse_kms"));
    assert_eq!(dual["object_arn_calls"], Cell::Int(5));
    assert_eq!(dual["est_calls_with_bucket_key"], Cell::Int(5));
    assert_eq!(dual["est_saved_calls"], Cell::Int(0));
    assert_eq!(float(&dual["est_saved_usd_per_month"]), 0.0);
    let default = bucket("dual-default");
    assert_eq!(default["bucket_status"].str(), Some("dsse_kms"));
    assert_eq!(default["est_saved_calls"], Cell::Int(0));
    let single = bucket("single-layer");
    assert_eq!(single["bucket_status"].str(), Some("bucket_key_off"));
    assert_eq!(single["est_calls_with_bucket_key"], Cell::Int(1));
    assert_eq!(single["est_saved_calls"], Cell::Int(2));
    assert_eq!(summary(out.path())["kms"]["bucket_key_est_saved_calls"], 2);
    // The report advises only the SSE-KMS bucket.
    assert!(report.contains("single-layer"), "{report}");
    assert!(!report.contains("dual-layer"), "{report}");
    assert!(!report.contains("dual-default"), "{report}");
}

#[test]
fn a_requested_range_the_input_covers_only_in_part_is_warned_about() {
    let mut t = Trail::new();
    t.file(
        A,
        "us-east-1",
        "2026-03-01T10:05",
        vec![kms_call(1, "2026-03-01T10:01:00Z", A, "app", "Decrypt")],
    );
    let out = tempfile::tempdir().expect("tempdir");
    let report = analyze(
        &[&t.path()],
        out.path(),
        &[
            "--start",
            "2026-03-01T06:00:00Z",
            "--end",
            "2026-03-01T11:00:00Z",
        ],
    );
    let warnings = summary(out.path())["warnings"].to_string();
    assert!(
        warnings.contains("earliest event is 2026-03-01T10:01:00Z, 4 h 01 min after --start"),
        "{warnings}"
    );
    assert!(
        !warnings.contains("before --end"),
        "10:01 is within an hour of 11:00: {warnings}"
    );
    // Sentences are wrapped at 100 columns in the report.
    let flat = report.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("covers the requested range only in part"),
        "{report}"
    );

    let out = tempfile::tempdir().expect("tempdir");
    analyze(
        &[&t.path()],
        out.path(),
        &["--start", "2026-03-01T10:00:00Z", "--end", "2026-03-02"],
    );
    let warnings = summary(out.path())["warnings"].to_string();
    assert!(
        warnings.contains("before --end 2026-03-02T00:00:00Z"),
        "{warnings}"
    );
    assert!(!warnings.contains("after --start"), "{warnings}");

    // Without --start/--end there is nothing to compare against.
    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&t.path()], out.path(), &[]);
    assert!(
        !summary(out.path())["warnings"]
            .to_string()
            .contains("in part")
    );
}

#[test]
fn report_html_shows_hostile_strings_as_text() {
    let hostile_role = "evil</title><script>alert(\"role\")</script>'x";
    let hostile_agent = "\"><img src=x onerror=alert(1)><script>alert('ua')</script>";
    let mut t = Trail::new();
    let mut records = Vec::new();
    for i in 0..3 {
        let mut r = kms_call(i, "2026-03-01T10:00:01Z", A, hostile_role, "Decrypt");
        r["userAgent"] = json!(hostile_agent);
        records.push(r);
    }
    // The same strings on a SigV2 S3 call, where the agent is shown.
    records.push(json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{A}:user/<b>bold</b>"), "accountId": A},
        "eventTime": "2026-03-01T10:00:02Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": format!("[{hostile_agent}]"),
        "requestParameters": {"bucketName": "b<script>", "key": "k"},
        "additionalEventData": {"SignatureVersion": "SigV2", "AuthenticationMethod": "AuthHeader"},
        "eventID": event_id(99),
        "recipientAccountId": A,
        "eventCategory": "Data"
    }));
    t.file(A, "us-east-1", "2026-03-01T10:05", records);
    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&t.path()], out.path(), &[]);
    let html = std::fs::read_to_string(out.path().join("report.html")).expect("report.html");
    assert!(!html.contains("<script"), "a script element got through");
    assert!(!html.contains("<img"), "an img element got through");
    assert!(
        !html.contains("<b>bold"),
        "markup from a principal got through"
    );
    assert!(
        !html.contains("</title><script"),
        "a title was closed by trail data"
    );
    assert!(
        html.contains(
            "evil&lt;/title&gt;&lt;script&gt;alert(&quot;role&quot;)&lt;/script&gt;&#39;x"
        ),
        "the role is shown escaped"
    );
    assert!(
        html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
        "the agent is shown escaped"
    );
    // Self-contained: nothing fetched from anywhere.
    for needle in ["src=\"http", "href=\"http", "<link", "@import", "url("] {
        assert!(!html.contains(needle), "report.html references {needle}");
    }
}

#[test]
fn report_html_shows_a_hostile_encryption_context_as_text() {
    // The encryption context reaches the page as the bucket of `aws:s3:arn` (everything up
    // to the first '/'); the agent and context of direct calls must not break it either.
    let script = "<script>alert(1)</script>";
    let img = "\"><img src=x onerror=alert(1)>";
    let hostile_bucket = format!("{img}{script}");
    let mut t = Trail::new();
    let mut records = Vec::new();
    for i in 0..3 {
        let mut r = via_s3(
            i,
            &format!("2026-03-01T10:0{i}:00Z"),
            "bi",
            &hostile_bucket,
            Some("k"),
            "Decrypt",
        );
        r["userAgent"] = json!(format!("{script}{img}"));
        records.push(r);
    }
    for i in 3..6 {
        let mut r = kms_call(i, "2026-03-01T10:10:00Z", A, "writer", "GenerateDataKey");
        r["userAgent"] = json!(format!("{img}{script}"));
        r["requestParameters"]["encryptionContext"] = json!({ script: img, "tenant": script });
        records.push(r);
    }
    t.file(A, "us-east-1", "2026-03-01T10:15", records);
    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&t.path()], out.path(), &[]);
    let html = std::fs::read_to_string(out.path().join("report.html")).expect("report.html");
    assert!(
        !html.contains("<script>alert"),
        "a script element got through"
    );
    assert!(!html.contains("<img src=x"), "an img element got through");
    // The bucket, cut at the '/' of </script>, is in the Bucket Key table as text.
    assert!(
        html.contains(
            "<td class=\"wrap\">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(1)&lt;</td>"
        ),
        "the bucket is shown escaped"
    );
    assert!(html.contains("S3 Bucket Key candidates"));
    assert!(html.contains("Data key caching candidates"));
}

#[test]
fn the_generated_bi_burst_is_found_as_a_recurring_spike() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    let mut cmd = assert_cmd::Command::cargo_bin("trailsift").expect("binary built");
    let status = cmd
        .args(["gen", "--out"])
        .arg(&trail)
        .args([
            "--records",
            "40000",
            "--seed",
            "4",
            "--hours",
            "6",
            "--accounts",
            "1",
            "--regions",
            "1",
        ])
        .output()
        .expect("gen runs");
    assert!(status.status.success());
    let out = dir.path().join("out");
    let report = analyze(&[&trail], &out, &[]);
    let spikes = report
        .split("Recurring spikes")
        .nth(1)
        .unwrap_or_else(|| panic!("no recurring spike found:\n{report}"));
    // The spike's sentence, wrapped at 100 columns: its first line and what continues it.
    let sentence: String = spikes
        .lines()
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with("What to do"))
        .collect::<Vec<_>>()
        .join(" ");
    let line = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(line.contains("minute :00 in 6 of 6 hours"), "{line}");
    assert!(line.contains("role/BI-Reporting"), "{line}");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(html.contains("<svg"), "the picture is in the page");
    assert!(html.contains("Recurring spike"));
    assert!(html.contains("role/BI-Reporting"));
}
