//! Odd objects in a trail bucket: every one is counted and named in summary.json with its key
//! and reason, the good records around them are kept, nothing panics, and `--strict` turns a
//! failed object into a failed run after the outputs are written.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{analyze, summary};

const ACCOUNT: &str = "111122223333";

/// The path of a log file of minute `minute` of 2026-03-01 in us-east-1.
fn log_path(root: &Path, minute: u32, tag: &str) -> PathBuf {
    let dir = root.join(format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/03/01"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    // The random suffix of a real name is 16 characters: the tag keeps names apart.
    dir.join(format!(
        "{ACCOUNT}_CloudTrail_us-east-1_20260301T10{minute:02}Z_{tag:x<16}.json.gz"
    ))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

fn kms_decrypt(second: u32, agent: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "AssumedRole", "accountId": ACCOUNT,
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/app/session"),
            "sessionContext": {"sessionIssuer": {"type": "Role",
                "arn": format!("arn:aws:iam::{ACCOUNT}:role/app")}}},
        "eventTime": format!("2026-03-01T10:00:{second:02}Z"),
        "eventSource": "kms.amazonaws.com",
        "eventName": "Decrypt",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "10.0.0.1",
        "userAgent": agent,
        "eventID": format!("00000000-0000-4000-8000-0000000000{second:02}"),
        "recipientAccountId": ACCOUNT,
        "resources": [{"type": "AWS::KMS::Key",
            "ARN": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/1a2b3c4d-1111-4a4a-8b8b-0123456789a1")}]
    })
}

fn records(rs: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "Records": rs })).expect("json")
}

/// Writes one object of every bad kind next to good ones; returns (key fragment, expected
/// `kind` and words of the reason) for each object that must fail.
fn hostile_trail(root: &Path) -> Vec<(String, &'static str, &'static str)> {
    let mut failing = Vec::new();
    let mut put =
        |minute: u32, tag: &str, bytes: Vec<u8>, fails: Option<(&'static str, &'static str)>| {
            let path = log_path(root, minute, tag);
            std::fs::write(&path, bytes).expect("write");
            if let Some((kind, reason)) = fails {
                let name = path
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned();
                failing.push((name, kind, reason));
            }
        };
    // Good objects: 3 KMS records in all.
    put(
        0,
        "good1",
        gzip(&records(&[kms_decrypt(1, "aws-cli/2.15.0")])),
        None,
    );
    let whole = gzip(&records(&[kms_decrypt(2, "aws-cli/2.15.0")]));

    put(1, "empty", Vec::new(), Some(("decode", "empty object")));
    put(
        2,
        "notgzip",
        b"hello, not gzip".to_vec(),
        Some(("decode", "not gzip")),
    );
    put(
        3,
        "truncated",
        whole[..whole.len() / 2].to_vec(),
        Some(("decode", "truncated")),
    );
    let mut bad_crc = whole.clone();
    let n = bad_crc.len();
    bad_crc[n - 6] ^= 0xff;
    put(4, "badcrc", bad_crc, Some(("decode", "corrupt")));
    put(
        5,
        "notjson",
        gzip(b"this is text, not JSON"),
        Some(("invalid_json", "invalid JSON")),
    );
    put(
        6,
        "norecords",
        gzip(br#"{"Events": []}"#),
        Some(("not_a_log_file", "no \"Records\" key")),
    );
    put(
        7,
        "recordsobj",
        gzip(br#"{"Records": {"a": 1}}"#),
        Some(("not_a_log_file", "\"Records\" is not an array")),
    );
    // Invalid UTF-8 inside a string makes the whole document invalid JSON.
    let mut bad_utf8 = records(&[kms_decrypt(3, "AGENT")]);
    let at = bad_utf8
        .windows(5)
        .position(|w| w == b"AGENT")
        .expect("agent in the JSON");
    bad_utf8[at..at + 2].copy_from_slice(&[0xff, 0xfe]);
    put(
        8,
        "badutf8",
        gzip(&bad_utf8),
        Some(("invalid_json", "invalid JSON")),
    );
    // A bomb: 64 MiB of zeros that gzip to about 64 KB, over a 16 MiB cap.
    put(
        9,
        "bomb",
        gzip(&vec![b'0'; 64 << 20]),
        Some(("too_large", "--max-object-bytes")),
    );
    // Nested 100,000 deep: beyond the parser's depth limit, a named failure, not a crash.
    let deep = format!(
        r#"{{"Records": [{{"eventTime": "2026-03-01T10:00:00Z", "eventSource": "kms.amazonaws.com", "requestParameters": {}1{}}}]}}"#,
        r#"{"d":"#.repeat(100_000),
        "}".repeat(100_000)
    );
    put(
        11,
        "toodeep",
        gzip(deep.as_bytes()),
        Some(("invalid_json", "invalid JSON")),
    );

    // Partly bad, kept where the format allows: a number and a string among the records
    // (2 malformed), a record of odd field types, one with 100 KB of requestParameters, one
    // nested 64 deep, and one with NUL characters in its agent: 4 good KMS records.
    let mut odd = kms_decrypt(10, "aws-sdk-go/1.44.0");
    odd["sourceIPAddress"] = json!(12345);
    odd["userAgent"] = json!({"not": "a string"});
    let mut big = kms_decrypt(11, "aws-sdk-go/1.44.0");
    big["requestParameters"] = json!({ "blob": "x".repeat(100 * 1024) });
    let mut deep = json!("bottom");
    for _ in 0..64 {
        deep = json!({ "d": deep });
    }
    let mut nested = kms_decrypt(12, "aws-sdk-go/1.44.0");
    nested["requestParameters"] = deep;
    let nul = kms_decrypt(13, "curl/7.0\u{0}\u{0}evil");
    put(
        10,
        "partly",
        gzip(&records(&[json!(1), odd, json!("text"), big, nested, nul])),
        None,
    );
    failing
}

#[test]
fn every_bad_object_is_named_and_the_good_records_are_kept() {
    let trail = tempfile::tempdir().expect("tempdir");
    let failing = hostile_trail(trail.path());
    let out = tempfile::tempdir().expect("tempdir");
    let report = analyze(
        &[trail.path()],
        out.path(),
        &["--max-object-bytes", "16777216"],
    );
    let s = summary(out.path());

    // Every object is accounted for: 2 read, 10 failed, none skipped.
    assert_eq!(s["objects"]["listed"], 12, "{s}");
    assert_eq!(s["objects"]["read"], 2, "{s}");
    assert_eq!(s["objects"]["failed"], failing.len() as u64, "{s}");
    let failures = s["failures"].as_array().expect("failures");
    assert_eq!(failures.len(), failing.len(), "{s}");
    for (name, kind, reason) in &failing {
        let f = failures
            .iter()
            .find(|f| {
                f["key"]
                    .as_str()
                    .is_some_and(|k| k.ends_with(name.as_str()))
            })
            .unwrap_or_else(|| panic!("{name} is not named in failures: {s}"));
        assert_eq!(f["kind"], *kind, "{name}: {f}");
        let got = f["reason"].as_str().expect("reason");
        assert!(
            got.contains(reason),
            "{name}: reason {got:?} lacks {reason:?}"
        );
        assert!(
            report.contains(name.as_str()),
            "the report does not name {name}"
        );
    }

    // The records: 1 from the good object, 6 in the partly bad one (2 malformed).
    let r = &s["records"];
    assert_eq!(r["total"], 7, "{s}");
    assert_eq!(r["malformed"], 2, "{s}");
    assert_eq!(
        r["malformed_reasons"]["record is not a JSON object"], 2,
        "{s}"
    );
    assert_eq!(r["attributed"], 5, "{s}");
    assert_eq!(r["kms"], 5, "{s}");
    assert!(r["odd_field_types"].as_u64().unwrap_or(0) >= 2, "{s}");
    // Reconciliation, as the README promises.
    let skipped: u64 = r["skipped"]
        .as_object()
        .expect("skipped")
        .values()
        .map(|v| v.as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        r["total"].as_u64(),
        Some(r["attributed"].as_u64().unwrap_or(0) + skipped + 2),
        "{s}"
    );
    let warned = s["warnings"].to_string();
    assert!(warned.contains("10 objects failed"), "{warned}");
}

#[test]
fn strict_fails_the_run_after_writing_the_outputs() {
    let trail = tempfile::tempdir().expect("tempdir");
    hostile_trail(trail.path());
    let out = tempfile::tempdir().expect("tempdir");
    let output = assert_cmd::Command::cargo_bin("trailsift")
        .expect("binary")
        .arg("analyze")
        .arg(trail.path())
        .arg("--out")
        .arg(out.path())
        .args([
            "--no-progress",
            "--strict",
            "--max-object-bytes",
            "16777216",
        ])
        .output()
        .expect("runs");
    assert!(!output.status.success(), "--strict must fail the run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("10 objects failed"), "{stderr}");
    let s = summary(out.path());
    assert_eq!(s["objects"]["failed"], 10, "{s}");
    assert!(out.path().join("kms_calls.parquet").exists());
}

#[test]
fn trail_strings_cannot_drive_the_terminal() {
    // A forged agent, principal and bucket carrying escape sequences (clear screen, set the
    // window title, ring the bell), and an object whose very name carries one.
    let trail = tempfile::tempdir().expect("tempdir");
    let esc = "\u{1b}[2J\u{1b}]0;owned\u{7}";
    let sigv2_get = json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "accountId": ACCOUNT,
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/mallory{esc}")},
        "eventTime": "2026-03-01T10:00:05Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": format!("[aws-cli/1.10.0{esc}]"),
        "requestParameters": {"bucketName": format!("bucket{esc}"), "key": "k"},
        "additionalEventData": {"SignatureVersion": "SigV2", "AuthenticationMethod": "AuthHeader",
            "CipherSuite": "ECDHE-RSA-AES128-SHA"},
        "tlsDetails": {"tlsVersion": "TLSv1", "cipherSuite": "ECDHE-RSA-AES128-SHA"},
        "eventID": "00000000-0000-4000-8000-000000000099",
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Data"
    });
    let kms = kms_decrypt(1, &format!("aws-sdk-java/1.12.0{esc}"));
    std::fs::write(
        log_path(trail.path(), 1, "Good"),
        gzip(&records(&[sigv2_get, kms])),
    )
    .expect("write");
    // Named on the command line, a file is read whatever its name.
    let evil_name = trail.path().join("evil\u{1b}[31m.json.gz");
    std::fs::write(&evil_name, b"not gzip").expect("write");

    let out = tempfile::tempdir().expect("tempdir");
    let output = assert_cmd::Command::cargo_bin("trailsift")
        .expect("binary")
        .arg("analyze")
        .arg(trail.path().join("AWSLogs"))
        .arg(&evil_name)
        .arg("--out")
        .arg(out.path())
        .args(["--no-progress", "--top", "50"])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{output:?}");
    let report = String::from_utf8(output.stdout).expect("utf-8 report");
    // The report names every one of them, each shown escaped, never obeyed. (The agent is
    // shown as the client parsed from it, which stops at the escape.)
    for shown in [
        "user/mallory\\u{1b}[2J\\u{1b}]0;owned\\u{7}: 1 request",
        "buckets: bucket\\u{1b}[2J\\u{1b}]0;owned\\u{7}",
        "evil\\u{1b}[31m.json.gz:\n",
    ] {
        assert!(
            report.contains(shown),
            "{shown} not in the report:\n{report}"
        );
    }
    for output in [
        &report,
        &String::from_utf8_lossy(&output.stderr).into_owned(),
    ] {
        assert!(
            !output.contains(['\u{1b}', '\u{7}']),
            "a control character reached the terminal:\n{output}"
        );
    }
    let s = summary(out.path());
    assert_eq!(s["records"]["sigv2"], 1, "{s}");
    assert_eq!(s["objects"]["failed"], 1, "{s}");
}
