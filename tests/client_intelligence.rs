//! SigV2 and legacy-TLS callers as their owners need them: the client and version, what to
//! upgrade to, SigV2 inferred on events older than `SignatureVersion` (only where SigV2 ever
//! worked), and presigned URLs, whose agent is not the signer's. Each test writes a small
//! trail into a temporary directory, runs the binary and reads the Parquet back.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use crate::support::{Row, analyze, read_table, sum_by, summary};

const ACCOUNT: &str = "111122223333";

/// Writes `records` as one delivered, gzipped log file of `region` under `root`.
fn write_log(root: &Path, region: &str, delivered: &str, records: &[Value]) {
    let (date, time) = delivered.split_once('T').expect("YYYY-MM-DDTHHMM");
    let (y, rest) = date.split_once('-').expect("date");
    let (m, d) = rest.split_once('-').expect("date");
    let dir = root.join(format!("AWSLogs/{ACCOUNT}/CloudTrail/{region}/{y}/{m}/{d}"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let name = format!("{ACCOUNT}_CloudTrail_{region}_{y}{m}{d}T{time}Z_Ab12Cd34Ef56Gh78.json.gz");
    let body = serde_json::to_vec(&json!({ "Records": records })).expect("json");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.join(name)).expect("create"),
        flate2::Compression::default(),
    );
    gz.write_all(&body).expect("write");
    gz.finish().expect("gzip");
}

fn user(name: &str) -> Value {
    json!({"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": ACCOUNT,
           "arn": format!("arn:aws:iam::{ACCOUNT}:user/{name}"), "userName": name})
}

/// An S3 data event as S3 logs it: agent in brackets, `additionalEventData` when given.
fn s3_event(
    time: &str,
    region: &str,
    identity: Value,
    agent: &str,
    additional: Option<Value>,
) -> Value {
    let mut e = json!({
        "eventVersion": "1.05", "eventTime": time, "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject", "awsRegion": region, "sourceIPAddress": "198.51.100.10",
        "userAgent": format!("[{agent}]"), "userIdentity": identity,
        "requestParameters": {"bucketName": "old-reports", "key": "q1.csv"},
        "eventCategory": "Data", "recipientAccountId": ACCOUNT,
        "eventID": format!("{time}-{agent}-{region}"),
    });
    if let Some(a) = additional {
        e["additionalEventData"] = a;
    }
    e
}

fn sigv2(auth: &str) -> Option<Value> {
    Some(
        json!({"SignatureVersion": "SigV2", "AuthenticationMethod": auth,
                "CipherSuite": "ECDHE-RSA-AES128-SHA"}),
    )
}

fn str_of<'a>(row: &'a Row, col: &str) -> Option<&'a str> {
    row[col].str()
}

const OLD_CLI: &str = "aws-cli/1.10.56 Python/2.7.12 Linux/4.4.0-1022-aws botocore/1.4.46";

#[test]
fn old_clients_on_events_without_signature_version_are_inferred_sigv2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    let t = "2017-06-01T10:00:00Z";
    let batch = user("old-batch");
    // An agent cut at 1 KB: no closing bracket, the last token a stump.
    let mut cut = format!("{OLD_CLI} exec-env/");
    while cut.len() < 1020 {
        cut.push_str("padding ");
    }
    cut.push_str("botocore/1.1");
    let records = vec![
        // Below the minimum: inferred.
        s3_event(t, "us-east-1", batch.clone(), OLD_CLI, None),
        s3_event(
            "2017-06-01T10:20:00Z",
            "us-east-1",
            batch.clone(),
            OLD_CLI,
            None,
        ),
        s3_event(
            t,
            "us-east-1",
            batch.clone(),
            "aws-sdk-java/1.10.77 Linux/4.9 OpenJDK_64-Bit_Server_VM/25.121-b13 java/1.8.0_121",
            None,
        ),
        // boto3 is above its own minimum, but the botocore under it is not.
        s3_event(
            t,
            "us-east-1",
            batch.clone(),
            "Boto3/1.4.7 Python/2.7.12 Linux/4.4 Botocore/1.5.60",
            None,
        ),
        s3_event(
            t,
            "us-east-1",
            batch.clone(),
            "aws-sdk-ruby2/2.3.22 ruby/2.3.1 x86_64-linux",
            None,
        ),
        // At or above the minimum, or always SigV4: nothing inferred.
        s3_event(
            t,
            "us-east-1",
            batch.clone(),
            "aws-cli/1.16.19 Python/2.7.10 Linux/4.14 botocore/1.12.9",
            None,
        ),
        s3_event(
            t,
            "us-east-1",
            batch.clone(),
            "aws-sdk-java/1.11.1000 Linux/4.9",
            None,
        ),
        s3_event(
            t,
            "us-east-1",
            batch.clone(),
            "aws-sdk-java/2.0.0 Linux/4.9",
            None,
        ),
        s3_event(
            t,
            "us-east-1",
            batch.clone(),
            "aws-sdk-ruby3/3.2.0 ruby/2.5.0",
            None,
        ),
        s3_event(t, "us-east-1", batch.clone(), "curl/7.29.0", None),
        // Anonymous requests are not signed at all.
        s3_event(
            t,
            "us-east-1",
            json!({"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}),
            OLD_CLI,
            None,
        ),
        // The event says how it was signed: observed, whatever the client.
        s3_event(
            t,
            "us-east-1",
            user("says-so"),
            "aws-cli/1.16.19 Python/2.7.10 Linux/4.14 botocore/1.12.9",
            sigv2("AuthHeader"),
        ),
        // A recent event without SignatureVersion is not a candidate.
        s3_event(
            "2021-06-01T10:00:00Z",
            "us-east-1",
            batch.clone(),
            OLD_CLI,
            None,
        ),
    ];
    let (old, recent) = records.split_at(records.len() - 1);
    write_log(&trail, "us-east-1", "2017-06-01T1105", old);
    write_log(&trail, "us-east-1", "2021-06-01T1105", recent);
    let mut cut_event = s3_event(t, "us-east-1", user("long-agent"), "", None);
    cut_event["userAgent"] = json!(format!("[{cut}"));
    write_log(&trail, "us-east-1", "2017-06-01T1110", &[cut_event]);
    let out = dir.path().join("out");
    let report = analyze(&[&trail], &out, &[]);
    let rows = read_table(&out.join("sigv2_requests.parquet"));

    let inferred: Vec<Row> = rows
        .iter()
        .filter(|r| str_of(r, "evidence") == Some("inferred"))
        .cloned()
        .collect();
    let by_client = sum_by(
        &inferred,
        &["principal", "ua_family", "ua_version"],
        "requests",
    );
    let want: BTreeMap<Vec<String>, i64> = [
        (["old-batch", "aws-cli", "1.10.56"], 2),
        (["old-batch", "aws-sdk-java", "1.10.77"], 1),
        (["old-batch", "boto3", "1.4.7"], 1),
        (["old-batch", "aws-sdk-ruby", "2.3.22"], 1),
        (["long-agent", "aws-cli", "1.10.56"], 1),
    ]
    .into_iter()
    .map(|(k, n)| {
        let mut k: Vec<String> = k.iter().map(|s| s.to_string()).collect();
        k[0] = format!("arn:aws:iam::{ACCOUNT}:user/{}", k[0]);
        (k, n)
    })
    .collect();
    assert_eq!(by_client, want);

    let facts: BTreeSet<(String, String, String)> = inferred
        .iter()
        .map(|r| {
            (
                str_of(r, "ua_family").unwrap().to_owned(),
                str_of(r, "sigv4_min_version").unwrap().to_owned(),
                str_of(r, "ua_kind").unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        facts,
        BTreeSet::from([
            ("aws-cli".into(), "1.11.108".into(), "cli".into()),
            ("aws-sdk-java".into(), "1.11.201".into(), "sdk".into()),
            ("boto3".into(), "1.4.6".into(), "sdk".into()),
            ("aws-sdk-ruby".into(), "3.0.0".into(), "sdk".into()),
        ])
    );
    for r in &inferred {
        assert_eq!(r["auth_method"], crate::support::Cell::Null, "{r:?}");
        assert!(!str_of(r, "user_agent").unwrap().starts_with('['), "{r:?}");
    }
    let advice_of = |family: &str| {
        inferred
            .iter()
            .find(|r| str_of(r, "ua_family") == Some(family))
            .and_then(|r| str_of(r, "upgrade_advice"))
            .unwrap()
            .to_owned()
    };
    assert!(
        advice_of("boto3").contains("botocore 1.5.60"),
        "botocore decides"
    );
    assert!(advice_of("boto3").contains("1.5.71"));
    assert!(advice_of("aws-cli").contains("aws-cli to 1.11.108 or later"));
    assert!(advice_of("aws-sdk-ruby").contains("Ruby v3"));

    let observed: Vec<&Row> = rows
        .iter()
        .filter(|r| str_of(r, "evidence") == Some("observed"))
        .collect();
    assert_eq!(observed.len(), 1);
    assert_eq!(
        str_of(observed[0], "principal"),
        Some("arn:aws:iam::111122223333:user/says-so")
    );

    let s = summary(&out);
    let records = &s["records"];
    assert_eq!(records["sigv2"], 7, "{s}");
    assert_eq!(records["sigv2_inferred"], 6, "{s}");
    assert_eq!(records["sigv2_observed"], 1, "{s}");
    assert_eq!(records["s3_before_signature_logging"], 12, "{s}");
    let total: i64 = rows.iter().map(|r| r["requests"].int()).sum();
    assert_eq!(records["sigv2"].as_i64(), Some(total));
    assert!(
        s["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("predate SignatureVersion")),
        "{s}"
    );

    // The report is a to-do list: principal, client, evidence, what to upgrade to, buckets.
    assert!(
        report.contains("arn:aws:iam::111122223333:user/old-batch: 5 requests"),
        "{report}"
    );
    assert!(
        report.contains("aws-cli/1.10.56  inferred  2 requests"),
        "{report}"
    );
    assert!(report.contains("buckets: old-reports"), "{report}");
    // Each distinct advice once, as a note the client points to (wrapped at 100 columns).
    let flat = report.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("] botocore 1.4.46 signs for aws-cli/1.10.56 and cannot sign SigV4: upgrade aws-cli to 1.11.108 or later"),
        "{report}"
    );
}

#[test]
fn sigv2_is_inferred_only_in_regions_that_accepted_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    let regions = [
        ("us-east-1", true),
        ("us-west-1", true),
        ("sa-east-1", true),
        ("ap-northeast-1", true),
        ("eu-central-1", false),
        ("us-east-2", false),
        ("ap-northeast-2", false),
        ("ap-south-1", false),
    ];
    for (region, _) in regions {
        let e = s3_event("2016-03-01T08:00:00Z", region, user("app"), OLD_CLI, None);
        write_log(&trail, region, "2016-03-01T0805", &[e]);
    }
    let out = dir.path().join("out");
    analyze(&[&trail], &out, &[]);
    let rows = read_table(&out.join("sigv2_requests.parquet"));
    let got: BTreeSet<&str> = rows.iter().map(|r| str_of(r, "region").unwrap()).collect();
    let want: BTreeSet<&str> = regions
        .iter()
        .filter(|(_, took)| *took)
        .map(|(r, _)| *r)
        .collect();
    assert_eq!(got, want);
    assert!(
        rows.iter()
            .all(|r| str_of(r, "evidence") == Some("inferred"))
    );
    let s = summary(&out);
    assert_eq!(s["records"]["s3_before_signature_logging"], 8, "{s}");
    assert_eq!(s["records"]["sigv2_inferred"], 4, "{s}");
}

#[test]
fn presigned_urls_keep_their_auth_method_and_name_the_signer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    let role = json!({
        "type": "AssumedRole", "accountId": ACCOUNT,
        "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/url-signer/session-9"),
        "sessionContext": {"sessionIssuer": {"type": "Role",
            "arn": format!("arn:aws:iam::{ACCOUNT}:role/url-signer")}}
    });
    let browser = "Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0";
    let mut empty_agent = s3_event(
        "2026-03-01T12:03:00Z",
        "us-east-1",
        user("no-agent"),
        "",
        sigv2("AuthHeader"),
    );
    empty_agent["userAgent"] = json!("[]");
    let mut tls10 = s3_event(
        "2026-03-01T12:04:00Z",
        "us-east-1",
        user("reporting"),
        "aws-sdk-dotnet-45/3.3.1.0 aws-sdk-dotnet-core/3.3.2.0 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_6.2.9200.0 ClientSync",
        Some(json!({"SignatureVersion": "SigV4", "CipherSuite": "ECDHE-RSA-AES256-SHA"})),
    );
    tls10["tlsDetails"] = json!({"tlsVersion": "TLSv1", "cipherSuite": "ECDHE-RSA-AES256-SHA"});
    write_log(
        &trail,
        "us-east-1",
        "2026-03-01T1205",
        &[
            s3_event(
                "2026-03-01T12:01:00Z",
                "us-east-1",
                role.clone(),
                browser,
                sigv2("QueryString"),
            ),
            s3_event(
                "2026-03-01T12:02:00Z",
                "us-east-1",
                role,
                "curl/7.68.0",
                sigv2("QueryString"),
            ),
            empty_agent,
            tls10,
        ],
    );
    let out = dir.path().join("out");
    let report = analyze(&[&trail], &out, &[]);
    let rows = read_table(&out.join("sigv2_requests.parquet"));
    let presigned: Vec<&Row> = rows
        .iter()
        .filter(|r| str_of(r, "auth_method") == Some("QueryString"))
        .collect();
    assert_eq!(presigned.len(), 2);
    for r in &presigned {
        assert_eq!(
            str_of(r, "principal"),
            Some("arn:aws:iam::111122223333:role/url-signer")
        );
        assert!(
            str_of(r, "upgrade_advice")
                .unwrap()
                .starts_with("presigned URL: the principal signed it with SigV2"),
            "{r:?}"
        );
    }
    let kinds: BTreeSet<(&str, &str)> = presigned
        .iter()
        .map(|r| {
            (
                str_of(r, "ua_family").unwrap(),
                str_of(r, "ua_kind").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([("Mozilla", "browser"), ("curl", "http_client")])
    );

    // S3's empty agent `[]` is unknown: null, not an empty string.
    let no_agent = rows
        .iter()
        .find(|r| str_of(r, "principal") == Some("arn:aws:iam::111122223333:user/no-agent"))
        .expect("no-agent row");
    assert_eq!(no_agent["user_agent"], crate::support::Cell::Null);
    assert_eq!(no_agent["ua_kind"], crate::support::Cell::Null);

    assert!(
        report.contains("\n  arn:aws:iam::111122223333:role/url-signer: ")
            && report.contains("\n    presigned URL fetched by Mozilla/5.0  observed"),
        "the signer heads its presigned URLs: {report}"
    );
    assert!(
        report.contains("presigned URL fetched by curl/7.68.0"),
        "{report}"
    );

    // Legacy TLS: the client, the cipher suite, and what to change on its runtime.
    let tls = read_table(&out.join("tls_legacy.parquet"));
    assert_eq!(tls.len(), 1);
    assert_eq!(str_of(&tls[0], "ua_kind"), Some("sdk"));
    assert!(
        str_of(&tls[0], "upgrade_advice")
            .unwrap()
            .contains(".NET Framework 4.x")
    );
    assert!(
        report.contains("aws-sdk-dotnet/3.3.1.0  TLSv1  1 request  ["),
        "{report}"
    );
    assert!(
        report.contains("cipher suites: ECDHE-RSA-AES256-SHA"),
        "{report}"
    );
    assert!(report.contains("4.6.2 or later"), "{report}");
}

#[test]
fn a_trail_without_s3_data_events_says_sigv2_callers_are_invisible() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    let mut list_buckets = s3_event(
        "2026-03-01T12:01:00Z",
        "us-east-1",
        user("admin"),
        "aws-cli/2.15.0",
        None,
    );
    list_buckets["eventName"] = json!("ListBuckets");
    list_buckets["eventCategory"] = json!("Management");
    write_log(&trail, "us-east-1", "2026-03-01T1205", &[list_buckets]);
    let out = dir.path().join("out");
    let report = analyze(&[&trail], &out, &[]);
    let s = summary(&out);
    assert!(
        s["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().starts_with("no S3 data events")),
        "{s}"
    );
    assert!(
        report.contains("none visible: the input has no S3 data events"),
        "{report}"
    );
    assert!(read_table(&out.join("sigv2_requests.parquet")).is_empty());
}

/// `s3_event` with another operation.
fn s3_op(time: &str, region: &str, identity: Value, agent: &str, op: &str) -> Value {
    let mut e = s3_event(time, region, identity, agent, None);
    e["eventName"] = json!(op);
    e["eventID"] = json!(format!("{time}-{agent}-{region}-{op}"));
    e
}

const RUBY2: &str = "aws-sdk-ruby2/2.3.22 ruby/2.3.1 x86_64-linux";
const RUBY1: &str = "aws-sdk-ruby/1.66.0 ruby/2.1.5 x86_64-linux";

#[test]
fn sigv2_is_inferred_where_each_sdk_signs_it_and_post_uploads_name_the_policy_signer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    let t = "2017-06-01T10:00:00Z";
    let app = user("ruby-app");
    // Ruby v2's S3 signer: SigV2 in us-east-1, and only uploads in the other SigV2 regions.
    write_log(
        &trail,
        "us-east-1",
        "2017-06-01T1005",
        &[
            s3_op(t, "us-east-1", app.clone(), RUBY2, "GetObject"),
            s3_op(t, "us-east-1", app.clone(), RUBY2, "ListObjects"),
            // JavaScript v3 previews log a package number: still v3, never SigV2.
            s3_op(
                t,
                "us-east-1",
                app.clone(),
                "aws-sdk-nodejs-v3-@aws-sdk/client-s3/1.0.0-gamma.8 linux/v12.16.1",
                "GetObject",
            ),
        ],
    );
    write_log(
        &trail,
        "eu-west-1",
        "2017-06-01T1005",
        &[
            s3_op(t, "eu-west-1", app.clone(), RUBY2, "GetObject"),
            s3_op(t, "eu-west-1", app.clone(), RUBY2, "PutObject"),
            s3_op(t, "eu-west-1", app.clone(), RUBY2, "UploadPart"),
        ],
    );
    write_log(
        &trail,
        "eu-central-1",
        "2017-06-01T1005",
        &[s3_op(t, "eu-central-1", app.clone(), RUBY2, "PutObject")],
    );
    // AWS GovCloud (US-West) accepted SigV2: Ruby v1 signs SigV2 there.
    write_log(
        &trail,
        "us-gov-west-1",
        "2017-06-01T1005",
        &[s3_op(
            t,
            "us-gov-west-1",
            user("gov-app"),
            RUBY1,
            "GetObject",
        )],
    );
    // Today's events say how they were signed: a browser POST upload whose policy was signed
    // with SigV2, and a SigV2 request carrying a .NET v4 agent.
    let mut post = s3_event(
        "2026-03-01T12:01:00Z",
        "us-east-1",
        user("uploader"),
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        sigv2("HttpPost"),
    );
    post["eventName"] = json!("PutObject");
    let dotnet4 = s3_event(
        "2026-03-01T12:02:00Z",
        "us-east-1",
        user("dotnet-app"),
        "aws-sdk-dotnet-framework/4.0.0.1 ua/2.0 os/windows#10.0 lang/.NET_Runtime#4.0 md/.NET_Framework#4.8.09037 md/aws-sdk-dotnet-core#4.0.0.6 api/S3#4.0.0.1",
        sigv2("AuthHeader"),
    );
    write_log(&trail, "us-east-1", "2026-03-01T1205", &[post, dotnet4]);
    let out = dir.path().join("out");
    let report = analyze(&[&trail], &out, &[]);
    let rows = read_table(&out.join("sigv2_requests.parquet"));

    let inferred: BTreeSet<(String, String, String)> = rows
        .iter()
        .filter(|r| str_of(r, "evidence") == Some("inferred"))
        .map(|r| {
            (
                str_of(r, "region").unwrap().to_owned(),
                str_of(r, "event_name").unwrap().to_owned(),
                str_of(r, "ua_version").unwrap().to_owned(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = [
        ("us-east-1", "GetObject", "2.3.22"),
        ("us-east-1", "ListObjects", "2.3.22"),
        ("eu-west-1", "PutObject", "2.3.22"),
        ("eu-west-1", "UploadPart", "2.3.22"),
        ("us-gov-west-1", "GetObject", "1.66.0"),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    .collect();
    assert_eq!(inferred, want);

    let ruby2_advice = rows
        .iter()
        .find(|r| str_of(r, "ua_version") == Some("2.3.22"))
        .and_then(|r| str_of(r, "upgrade_advice"))
        .unwrap();
    assert!(
        ruby2_advice
            .contains("AWS SDK for Ruby v2 signs S3 requests with SigV2 by default in us-east-1"),
        "{ruby2_advice}"
    );
    assert!(
        ruby2_advice.contains("move to AWS SDK for Ruby v3"),
        "{ruby2_advice}"
    );

    let post_row = rows
        .iter()
        .find(|r| str_of(r, "auth_method") == Some("HttpPost"))
        .expect("POST row");
    assert_eq!(str_of(post_row, "evidence"), Some("observed"));
    assert_eq!(str_of(post_row, "ua_kind"), Some("browser"));
    let advice = str_of(post_row, "upgrade_advice").unwrap();
    assert!(
        advice.starts_with("POST form upload: the principal signed the POST policy with SigV2"),
        "{advice}"
    );
    assert!(advice.contains("generate_presigned_post"), "{advice}");
    assert!(
        report.contains("\n  arn:aws:iam::111122223333:user/uploader: ")
            && report.contains("\n    POST form sent by Mozilla/5.0  observed"),
        "the policy's signer heads its POST uploads: {report}"
    );

    let dotnet = rows
        .iter()
        .find(|r| str_of(r, "ua_version") == Some("4.0.0.1"))
        .expect(".NET v4 row");
    assert_eq!(str_of(dotnet, "sigv4_min_version"), Some("4.0.0.0"));
    let advice = str_of(dotnet, "upgrade_advice").unwrap();
    assert!(
        advice.starts_with("AWS SDK for .NET v4 signs S3 requests with SigV4 only"),
        "{advice}"
    );
    assert!(!advice.contains("UseSignatureVersion4"), "{advice}");

    let s = summary(&out);
    assert_eq!(s["records"]["sigv2_inferred"], 5, "{s}");
    assert_eq!(s["records"]["sigv2_observed"], 2, "{s}");
}

#[test]
fn tls_advice_names_the_dotnet_framework_release_and_the_java_property() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    // Shaped like AWS's example records of event version 1.08 (tlsDetails beside S3's own
    // CipherSuite).
    let tls = |time: &str, who: &str, agent: &str, version: &str| {
        let mut e = s3_event(
            time,
            "us-east-1",
            user(who),
            agent,
            Some(
                json!({"SignatureVersion": "SigV4", "CipherSuite": "ECDHE-RSA-AES128-SHA",
                        "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader"}),
            ),
        );
        e["eventVersion"] = json!("1.08");
        e["tlsDetails"] = json!({"tlsVersion": version, "cipherSuite": "ECDHE-RSA-AES128-SHA",
            "clientProvidedHostHeader": "old-reports.s3.us-east-1.amazonaws.com"});
        e
    };
    write_log(
        &trail,
        "us-east-1",
        "2026-03-01T1205",
        &[
            tls(
                "2026-03-01T12:01:00Z",
                "dotnet-48",
                "aws-sdk-dotnet-45/3.7.300.16 md/aws-sdk-dotnet-core#3.7.300.16 ua/2.0 os/windows#6.2.9200.0 lang/.NET_Runtime#4.0 md/.NET_Framework#4.8.09037",
                "TLSv1",
            ),
            tls(
                "2026-03-01T12:02:00Z",
                "dotnet-45",
                "aws-sdk-dotnet-framework/4.0.0.1 ua/2.0 os/windows#6.1 lang/.NET_Runtime#4.0 md/.NET_Framework#4.5.51209 md/aws-sdk-dotnet-core#4.0.0.6",
                "TLSv1.1",
            ),
            tls(
                "2026-03-01T12:03:00Z",
                "java7",
                "aws-sdk-java/1.11.100 Linux/3.10 Java_HotSpot(TM)_64-Bit_Server_VM/24.80-b11 java/1.7.0_80",
                "TLSv1",
            ),
            tls(
                "2026-03-01T12:04:00Z",
                "modern",
                "aws-cli/2.15.0 md/awscrt#0.19.0 ua/2.0 os/linux#6.1 lang/python#3.11.6",
                "TLSv1.2",
            ),
        ],
    );
    let out = dir.path().join("out");
    analyze(&[&trail], &out, &[]);
    let rows = read_table(&out.join("tls_legacy.parquet"));
    assert_eq!(rows.len(), 3, "TLS 1.2 is not legacy");
    let advice_of = |who: &str| {
        rows.iter()
            .find(|r| str_of(r, "principal") == Some(&format!("arn:aws:iam::{ACCOUNT}:user/{who}")))
            .and_then(|r| str_of(r, "upgrade_advice"))
            .unwrap_or_else(|| panic!("{who}"))
            .to_owned()
    };
    let a = advice_of("dotnet-48");
    assert!(
        a.contains(".NET Framework 4.8.09037, which offers TLS 1.2"),
        "{a}"
    );
    assert!(a.contains("ServicePointManager.SecurityProtocol"), "{a}");
    let a = advice_of("dotnet-45");
    assert!(a.contains(".NET Framework 4.5.51209: before 4.6.2"), "{a}");
    let a = advice_of("java7");
    assert!(a.contains("-Djdk.tls.client.protocols=TLSv1.2"), "{a}");
    assert!(!a.contains("https.protocols"), "{a}");
}
