//! Answers an AWS expert would sign, each on records shaped like the example AWS's
//! documentation gives: the request quota of each key type, the caller's account for a
//! cross-account call, network activity and service events that are not calls, who is
//! behind a call (access key, sessions, Identity Center and `AWSAccount` callers), one event
//! counted once whatever delivered it, a trail that logs write events only, and Bucket Key
//! estimates per requester. Every test writes a small trail, runs the binary and reads the
//! Parquet back; the expected numbers are derived by hand in the comments.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{Cell, Row, analyze, read_table, summary};

const CALLER: &str = "111122223333";
const OWNER: &str = "444455556666";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const OWNER_KEY: &str =
    "arn:aws:kms:us-east-1:444455556666:key/0987dcba-09fe-87dc-65ba-ab0987654321";

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

    /// One log file of `account` in us-east-1 delivered at `delivered` (`2026-03-01T10:05`).
    fn file(&mut self, account: &str, delivered: &str, records: Vec<Value>) {
        self.files += 1;
        let (date, time) = delivered.split_once('T').expect("date T time");
        let dir = self.path().join(format!(
            "AWSLogs/{account}/CloudTrail/us-east-1/{}",
            date.replace('-', "/")
        ));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let name = format!(
            "{account}_CloudTrail_us-east-1_{}T{}Z_File{:011}.json",
            date.replace('-', ""),
            time.replace(':', ""),
            self.files
        );
        std::fs::write(dir.join(name), json!({ "Records": records }).to_string())
            .expect("write log file");
    }

    fn analyze(&self, extra: &[&str]) -> (tempfile::TempDir, String) {
        let out = tempfile::tempdir().expect("tempdir");
        let report = analyze(&[&self.path()], out.path(), extra);
        (out, report)
    }
}

fn uuid(n: u32) -> String {
    format!("0f000000-0000-4000-8000-{n:012}")
}

fn table(out: &Path, file: &str) -> Vec<Row> {
    read_table(&out.join(file))
}

fn s(row: &Row, column: &str) -> Option<String> {
    match row.get(column) {
        Some(Cell::Str(v)) => Some(v.clone()),
        Some(Cell::Null) | None => None,
        Some(other) => panic!("{column} is not text: {other:?}"),
    }
}

fn f(row: &Row, column: &str) -> Option<f64> {
    match row.get(column) {
        Some(Cell::Float(v)) => Some(*v),
        Some(Cell::Null) | None => None,
        Some(other) => panic!("{column} is not a float: {other:?}"),
    }
}

/// An IAM user, shaped like the userIdentity of the KMS Developer Guide's examples.
fn alice() -> Value {
    json!({"type": "IAMUser", "principalId": "EX_PRINCIPAL_ID",
           "arn": format!("arn:aws:iam::{CALLER}:user/Alice"),
           "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "accountId": CALLER, "userName": "Alice"})
}

/// An assumed-role session of `role`.
fn role_session(role: &str, session: &str) -> Value {
    json!({"type": "AssumedRole", "principalId": format!("AROAEXAMPLEID:{session}"),
           "arn": format!("arn:aws:sts::{CALLER}:assumed-role/{role}/{session}"),
           "accountId": CALLER, "accessKeyId": "ASIAEXAMPLEKEY",
           "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEID",
               "arn": format!("arn:aws:iam::{CALLER}:role/{role}"), "accountId": CALLER,
               "userName": role}}})
}

/// A KMS cryptographic call shaped like the KMS Developer Guide's CloudTrail examples
/// ("Decrypt", "Sign", "GenerateDataKeyPair"...): `request` is its `requestParameters`.
fn kms(n: u32, time: &str, identity: Value, event: &str, request: Value, key: &str) -> Value {
    json!({
        "eventVersion": "1.08", "userIdentity": identity, "eventTime": time,
        "eventSource": "kms.amazonaws.com", "eventName": event, "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.0", "userAgent": "aws-cli/2.13.5 Python/3.11.4",
        "requestParameters": request, "responseElements": null,
        "requestID": "12345126-30d5-4b28-98b9-9153da559963", "eventID": uuid(n),
        "readOnly": true,
        "resources": [{"accountId": CALLER, "type": "AWS::KMS::Key", "ARN": key}],
        "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": CALLER,
        "eventCategory": "Management"
    })
}

/// kms_rates rows of the account_region scope, by quota class.
fn account_rows(out: &Path) -> Vec<Row> {
    table(out, "kms_rates.parquet")
        .into_iter()
        .filter(|r| s(r, "scope").as_deref() == Some("account_region"))
        .collect()
}

fn by_class<'r>(rows: &'r [Row], class: &str) -> &'r Row {
    rows.iter()
        .find(|r| s(r, "quota_class").as_deref() == Some(class))
        .unwrap_or_else(|| panic!("no {class} row in {rows:?}"))
}

#[test]
fn each_key_type_is_held_to_its_own_quota() {
    let mut trail = Trail::new();
    let t = "2026-03-01T10:00:01Z";
    trail.file(
        CALLER,
        "2026-03-01T10:05",
        vec![
            // Symmetric: Decrypt with SYMMETRIC_DEFAULT, and GenerateMac (an HMAC key counts
            // toward the symmetric quota too).
            kms(
                1,
                t,
                alice(),
                "Decrypt",
                json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
                KEY,
            ),
            kms(
                2,
                t,
                alice(),
                "GenerateMac",
                json!({"macAlgorithm": "HMAC_SHA_384", "keyId": KEY}),
                KEY,
            ),
            // RSA: Decrypt with an RSAES algorithm, and Sign with RSASSA.
            kms(
                3,
                t,
                alice(),
                "Decrypt",
                json!({"encryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
                KEY,
            ),
            kms(
                4,
                t,
                alice(),
                "Sign",
                json!({"signingAlgorithm": "RSASSA_PSS_SHA_256", "messageType": "RAW"}),
                KEY,
            ),
            // ECC: Sign with ECDSA.
            kms(
                5,
                t,
                alice(),
                "Sign",
                json!({"signingAlgorithm": "ECDSA_SHA_256", "messageType": "RAW"}),
                KEY,
            ),
            // A data key pair: its own quota, per key pair spec (RSA_2048: 20/s).
            kms(
                6,
                t,
                alice(),
                "GenerateDataKeyPair",
                json!({"keyPairSpec": "RSA_2048", "keyId": KEY}),
                KEY,
            ),
            // A symmetric Decrypt on a key in a custom key store: counts toward both the
            // symmetric quota and the store's own 1,800/s.
            {
                let mut e = kms(
                    7,
                    t,
                    alice(),
                    "Decrypt",
                    json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
                    KEY,
                );
                e["additionalEventData"] = json!({"customKeyStoreId": "cks-1234567890abcdef0"});
                e
            },
            // Not a cryptographic operation: no quota class, not in kms_rates.
            kms(8, t, alice(), "DescribeKey", json!({"keyId": KEY}), KEY),
        ],
    );
    let (out, report) = trail.analyze(&["--quota", &format!("{CALLER}:us-east-1:rsa=2000")]);
    let rows = account_rows(out.path());
    // symmetric: Decrypt (1) + GenerateMac (2) + the custom key store Decrypt (7) = 3.
    let symmetric = by_class(&rows, "symmetric");
    assert_eq!(symmetric["calls"].int(), 3);
    assert_eq!(
        symmetric["quota_rps"].int(),
        100_000,
        "us-east-1's symmetric default"
    );
    // rsa: Decrypt (3) + Sign (4) = 2, against the account's raised 2,000/s.
    let rsa = by_class(&rows, "rsa");
    assert_eq!(rsa["calls"].int(), 2);
    assert_eq!(
        rsa["quota_rps"].int(),
        2_000,
        "--quota ACCOUNT:REGION:CLASS"
    );
    assert_eq!(f(rsa, "quota_utilization"), Some(2.0 / 2000.0));
    let ecc = by_class(&rows, "ecc_sm2");
    assert_eq!((ecc["calls"].int(), ecc["quota_rps"].int()), (1, 1_000));
    let pair = by_class(&rows, "data_key_pair_rsa_2048");
    assert_eq!((pair["calls"].int(), pair["quota_rps"].int()), (1, 20));
    let store = by_class(&rows, "custom_key_store");
    assert_eq!(store["calls"].int(), 1);
    assert_eq!(store["quota_rps"].int(), 1_800);
    assert_eq!(
        s(store, "custom_key_store_id").as_deref(),
        Some("cks-1234567890abcdef0")
    );
    assert_eq!(rows.len(), 5, "DescribeKey has no row: {rows:?}");
    // The report's table of hours closest to the quota names each class.
    for class in [
        "symmetric",
        "rsa",
        "ecc_sm2",
        "data_key_pair_rsa_2048",
        "custom_key_store",
    ] {
        assert!(
            report.contains(class),
            "{class} missing from the report:\n{report}"
        );
    }
    assert_eq!(summary(out.path())["records"]["kms_symmetric"], 3);
}

#[test]
fn a_cross_account_call_is_charged_to_the_callers_account() {
    let mut trail = Trail::new();
    // Only the key owner's copy is in the input (the organization trail of the key's
    // account): recipientAccountId is the owner, userIdentity.accountId the caller. KMS
    // throttles and bills the caller.
    let mut owner_copy = kms(
        1,
        "2026-03-01T10:00:01Z",
        alice(),
        "Decrypt",
        json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
        OWNER_KEY,
    );
    owner_copy["recipientAccountId"] = json!(OWNER);
    owner_copy["sharedEventID"] = json!("5b6c7d8e-0000-4f00-a000-0000000000aa");
    trail.file(OWNER, "2026-03-01T10:05", vec![owner_copy]);
    let (out, _) = trail.analyze(&[]);
    let calls = table(out.path(), "kms_calls.parquet");
    assert_eq!(calls.len(), 1);
    assert_eq!(s(&calls[0], "account_id").as_deref(), Some(CALLER));
    assert_eq!(s(&calls[0], "key_account_id").as_deref(), Some(OWNER));
    for r in account_rows(out.path()) {
        assert_eq!(
            s(&r, "account_id").as_deref(),
            Some(CALLER),
            "kms_rates: {r:?}"
        );
    }
    let cost = table(out.path(), "kms_cost.parquet");
    let accounts: Vec<_> = cost
        .iter()
        .filter(|r| s(r, "scope").as_deref() == Some("account"))
        .map(|r| s(r, "account_id"))
        .collect();
    assert_eq!(accounts, vec![Some(CALLER.to_owned())]);
}

#[test]
fn network_activity_and_service_events_are_not_calls() {
    let mut trail = Trail::new();
    // The CloudTrail user guide's network activity example: a KMS ListKeys through a VPC
    // endpoint, denied by its policy, from another account's caller (its eventID made a
    // UUID: the documented one is a placeholder).
    let denied = json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "AWSAccount", "principalId": "AKIAIOSFODNN7EXAMPLE",
                         "accountId": "777788889999"},
        "eventTime": "2024-07-15T23:57:12Z", "eventSource": "kms.amazonaws.com",
        "eventName": "ListKeys", "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.0",
        "errorCode": "VpceAccessDenied",
        "errorMessage": "The request was denied due to a VPC endpoint policy",
        "requestID": "899003b8-abc4-42bb-ad95-EXAMPLE0c374", "eventID": uuid(1),
        "eventType": "AwsVpceEvent", "recipientAccountId": CALLER,
        "sharedEventID": "702f74c4-f692-4bfd-8491-0000000b1ac4",
        "vpcEndpointId": "vpce-EXAMPLE08c1b6b9b7", "vpcEndpointAccountId": CALLER,
        "eventCategory": "NetworkActivity"
    });
    // An allowed call through the endpoint: its network activity event and the API call
    // itself (with vpcEndpointId, as the KMS guide's "Logging requests that use a VPC
    // endpoint" example), two records for one call.
    let mut allowed = denied.clone();
    allowed["eventID"] = json!(uuid(2));
    allowed["eventName"] = json!("GenerateDataKey");
    allowed["userIdentity"] = alice();
    allowed["sharedEventID"] = json!("702f74c4-f692-4bfd-8491-0000000b1ac5");
    allowed.as_object_mut().expect("object").remove("errorCode");
    allowed
        .as_object_mut()
        .expect("object")
        .remove("errorMessage");
    let mut call = kms(
        3,
        "2024-07-15T23:57:12Z",
        alice(),
        "GenerateDataKey",
        json!({"keySpec": "AES_256", "keyId": KEY}),
        KEY,
    );
    call["vpcEndpointId"] = json!("vpce-EXAMPLE08c1b6b9b7");
    // The KMS guide's automatic rotation example: an AwsServiceEvent, not billed.
    let rotation = json!({
        "eventVersion": "1.08", "userIdentity": {"accountId": CALLER, "invokedBy": "kms.amazonaws.com"},
        "eventTime": "2024-07-15T23:58:00Z", "eventSource": "kms.amazonaws.com",
        "eventName": "RotateKey", "awsRegion": "us-east-1", "sourceIPAddress": "kms.amazonaws.com",
        "requestParameters": null, "responseElements": null, "eventID": uuid(4),
        "readOnly": false, "resources": [{"accountId": CALLER, "type": "AWS::KMS::Key", "ARN": KEY}],
        "eventType": "AwsServiceEvent", "recipientAccountId": CALLER,
        "serviceEventDetails": {"keyOrigin": "AWS_KMS"}, "eventCategory": "Management"
    });
    trail.file(
        CALLER,
        "2024-07-16T00:05",
        vec![denied, allowed, call, rotation],
    );
    let (out, report) = trail.analyze(&[]);
    // One KMS call: the API call. Neither network activity event, nor the rotation.
    let calls = table(out.path(), "kms_calls.parquet");
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        s(&calls[0], "event_name").as_deref(),
        Some("GenerateDataKey")
    );
    assert_eq!(calls[0]["calls"].int(), 1);
    let vpce = table(out.path(), "vpc_endpoint_events.parquet");
    assert_eq!(vpce.len(), 2);
    let denied = vpce
        .iter()
        .find(|r| s(r, "outcome").as_deref() == Some("denied"))
        .expect("a denied row");
    assert_eq!(s(denied, "event_name").as_deref(), Some("ListKeys"));
    assert_eq!(
        s(denied, "vpc_endpoint_id").as_deref(),
        Some("vpce-EXAMPLE08c1b6b9b7")
    );
    assert_eq!(
        s(denied, "caller_account_id").as_deref(),
        Some("777788889999")
    );
    assert_eq!(
        s(denied, "principal").as_deref(),
        Some("account:777788889999/AKIAIOSFODNN7EXAMPLE")
    );
    let sum = summary(out.path());
    assert_eq!(sum["records"]["network_activity"], 2);
    assert_eq!(sum["records"]["network_activity_denied"], 1);
    assert_eq!(sum["records"]["service_events"], 1);
    assert_eq!(sum["records"]["kms"], 1);
    assert!(report.contains("VpceAccessDenied"), "{report}");
}

/// An S3 GetObject signed with SigV2, as S3 logs it in CloudTrail.
fn s3_sigv2(id: &str, time: &str, identity: Value) -> Value {
    json!({
        "eventVersion": "1.08", "userIdentity": identity, "eventTime": time,
        "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.10", "userAgent": "[aws-cli/1.10.1 Python/2.7.9 botocore/1.4.1]",
        "requestParameters": {"bucketName": "old-reports", "key": "q1.csv"},
        "additionalEventData": {"SignatureVersion": "SigV2", "AuthenticationMethod": "AuthHeader",
                                "CipherSuite": "ECDHE-RSA-AES128-SHA"},
        "eventID": id, "readOnly": true, "eventType": "AwsApiCall", "managementEvent": false,
        "recipientAccountId": CALLER, "eventCategory": "Data"
    })
}

/// The KMS Developer Guide's Decrypt example, made by role `etl` in `session`.
fn decrypt_in_session(n: u32, session: &str) -> Value {
    kms(
        n,
        "2026-03-01T10:00:02Z",
        role_session("etl", session),
        "Decrypt",
        json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT",
               "encryptionContext": {"Department": "Engineering", "Project": "Alpha"}}),
        KEY,
    )
}

#[test]
fn who_is_behind_a_call_access_key_sessions_and_names() {
    let mut trail = Trail::new();
    let t = "2026-03-01T10:00:01Z";
    trail.file(
        CALLER,
        "2026-03-01T10:05",
        vec![
            s3_sigv2(&uuid(1), t, alice()),
            s3_sigv2(&uuid(2), t, role_session("etl", "i-0aaaaaaaaaaaaaaaa")),
            s3_sigv2(&uuid(3), t, role_session("etl", "i-0bbbbbbbbbbbbbbbb")),
            s3_sigv2(&uuid(4), t, role_session("etl", "i-0aaaaaaaaaaaaaaaa")),
            // The CloudTrail user guide's IAM Identity Center userIdentity.
            s3_sigv2(&uuid(5), t, json!({"type": "IdentityCenterUser", "accountId": CALLER,
                "onBehalfOf": {"userId": "544894e8-80c1-707f-60e3-3ba6510dfac1",
                    "identityStoreArn": "arn:aws:identitystore::123456789012:identitystore/d-9067642ac7"},
                "credentialId": "EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE"})),
            // Direct Decrypt calls of the same role under one key and context, from two
            // instances within one cache window: a data key caching candidate whose
            // sessions say how many caches (one per instance) it would take.
            decrypt_in_session(6, "i-0aaaaaaaaaaaaaaaa"),
            decrypt_in_session(7, "i-0bbbbbbbbbbbbbbbb"),
            decrypt_in_session(8, "i-0aaaaaaaaaaaaaaaa"),
        ],
    );
    let (out, _) = trail.analyze(&[]);
    let caching = table(out.path(), "kms_data_key_caching.parquet");
    assert_eq!(caching.len(), 1, "{caching:?}");
    assert_eq!(caching[0]["calls"].int(), 3);
    assert_eq!(caching[0]["sessions"].int(), 2);
    let example = s(&caching[0], "example_session").expect("an example session");
    assert!(example.starts_with("i-0"), "{example}");
    let rows = table(out.path(), "sigv2_requests.parquet");
    let of = |p: &str| {
        rows.iter()
            .filter(|r| s(r, "principal").as_deref() == Some(p))
            .collect::<Vec<_>>()
    };
    let alice = of(&format!("arn:aws:iam::{CALLER}:user/Alice"));
    assert_eq!(alice.len(), 1);
    assert_eq!(
        s(alice[0], "access_key_id").as_deref(),
        Some("AKIAIOSFODNN7EXAMPLE")
    );
    assert_eq!(alice[0]["sessions"].int(), 0, "an IAM user has no sessions");
    let etl = of(&format!("arn:aws:iam::{CALLER}:role/etl"));
    assert_eq!(etl.len(), 1);
    assert_eq!(etl[0]["requests"].int(), 3);
    assert_eq!(
        etl[0]["sessions"].int(),
        2,
        "two instances, one of them twice"
    );
    let example = s(etl[0], "example_session").expect("an example session");
    assert!(example.starts_with("i-0"), "{example}");
    let idc = of("arn:aws:identitystore:::user/544894e8-80c1-707f-60e3-3ba6510dfac1");
    assert_eq!(idc.len(), 1, "{rows:?}");
    assert!(of("unknown").is_empty());
}

#[test]
fn one_event_counts_once_whatever_delivered_it() {
    let mut trail = Trail::new();
    let t = "2026-03-01T10:00:01Z";
    // The organization trail and the account trail deliver the same S3 event (same
    // eventID): one request. Two records with the placeholder id `redacted` are two
    // requests: such an id identifies nothing.
    let same = s3_sigv2(&uuid(1), t, alice());
    let placeholder = s3_sigv2("redacted", t, alice());
    trail.file(
        CALLER,
        "2026-03-01T10:05",
        vec![same.clone(), placeholder.clone()],
    );
    trail.file(CALLER, "2026-03-01T10:10", vec![same, placeholder]);
    let (out, _) = trail.analyze(&[]);
    let rows = table(out.path(), "sigv2_requests.parquet");
    let requests: i64 = rows.iter().map(|r| r["requests"].int()).sum();
    assert_eq!(
        requests, 3,
        "one for the UUID pair, two for the placeholders"
    );
    let sum = summary(out.path());
    assert_eq!(sum["records"]["sigv2"], 3);
    assert_eq!(sum["records"]["duplicate_reasons"]["same_event_id"], 1);
    assert!(
        sum["deduplication"]["peak_bytes_held"]
            .as_u64()
            .is_some_and(|b| b > 0)
    );
}

#[test]
fn a_trail_of_write_events_only_is_said_to_hide_kms_callers() {
    let mut trail = Trail::new();
    let mut create = kms(
        1,
        "2026-03-01T10:00:01Z",
        alice(),
        "CreateKey",
        json!({"keySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT"}),
        KEY,
    );
    create["readOnly"] = json!(false);
    let mut schedule = kms(
        2,
        "2026-03-01T10:01:01Z",
        alice(),
        "ScheduleKeyDeletion",
        json!({"keyId": KEY, "pendingWindowInDays": 30}),
        KEY,
    );
    schedule["readOnly"] = json!(false);
    trail.file(CALLER, "2026-03-01T10:05", vec![create, schedule]);
    let (out, report) = trail.analyze(&[]);
    let warnings = summary(out.path())["warnings"].to_string();
    assert!(
        warnings.contains("write-only management events"),
        "{warnings}"
    );
    // Sentences are wrapped at 100 columns in the report.
    let flat = report.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("write-only management events"), "{report}");
    // With one read-only call the trail logs reads: no warning.
    let mut trail = Trail::new();
    let mut create = kms(
        1,
        "2026-03-01T10:00:01Z",
        alice(),
        "CreateKey",
        json!({}),
        KEY,
    );
    create["readOnly"] = json!(false);
    let describe = kms(
        2,
        "2026-03-01T10:00:02Z",
        alice(),
        "DescribeKey",
        json!({"keyId": KEY}),
        KEY,
    );
    trail.file(CALLER, "2026-03-01T10:05", vec![create, describe]);
    let (out, _) = trail.analyze(&[]);
    let warnings = summary(out.path())["warnings"].to_string();
    assert!(!warnings.contains("write-only"), "{warnings}");
}

#[test]
fn a_bucket_key_is_estimated_per_requester() {
    let mut trail = Trail::new();
    // The S3 user guide's SSE-KMS pattern: S3 calls Decrypt for the requester (invokedBy
    // and sourceIPAddress s3), the context names the object: no Bucket Key. One role,
    // three sessions, ten object reads in one hour. With a Bucket Key each requester
    // (session) still makes one call per hour, key and operation: 3 remain, 7 are saved.
    let mut records = Vec::new();
    for n in 0..10u32 {
        let session = ["i-01", "i-02", "i-03"][(n % 3) as usize];
        let mut e = kms(
            n + 1,
            &format!("2026-03-01T10:00:{:02}Z", n + 1),
            role_session("reader", session),
            "Decrypt",
            json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                   "encryptionContext": {"aws:s3:arn": format!("arn:aws:s3:::reports/o{n}.csv")}}),
            KEY,
        );
        e["userIdentity"]["invokedBy"] = json!("s3.amazonaws.com");
        e["sourceIPAddress"] = json!("s3.amazonaws.com");
        records.push(e);
    }
    trail.file(CALLER, "2026-03-01T10:05", records);
    let (out, _) = trail.analyze(&[]);
    let rows = table(out.path(), "kms_bucket_keys.parquet");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["object_arn_calls"].int(), 10);
    assert_eq!(rows[0]["est_calls_with_bucket_key"].int(), 3);
    assert_eq!(rows[0]["est_saved_calls"].int(), 7);
    let calls = table(out.path(), "kms_calls.parquet");
    assert_eq!(calls[0]["sessions"].int(), 3);
}
