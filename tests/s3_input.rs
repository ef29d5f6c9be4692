//! Reading a trail straight from S3 (`s3://bucket[/prefix]`), against a real S3-compatible
//! server on loopback: the same answers as from disk, byte for byte; listing that follows
//! the key layout and prunes by time, account and region; digests never fetched; retries
//! through a proxy that fails requests; clear errors.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::support::fault_proxy::{Fault, FaultProxy, share};
use crate::support::s3::{analyze_s3, put, run_analyze, server, upload_dir};
use crate::support::{analyze, repo_root, summary};

const PARQUET_FILES: [&str; 4] = [
    "kms_calls.parquet",
    "kms_rates.parquet",
    "sigv2_requests.parquet",
    "tls_legacy.parquet",
];

/// A bucket name no other test uses (the server is shared by the whole test run).
fn bucket(name: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn gen_trail(dir: &Path, records: u64, extra: &[&str]) {
    let mut cmd = assert_cmd::Command::cargo_bin("trailsift").expect("binary built");
    cmd.args(["gen", "--out"])
        .arg(dir)
        .args(["--records", &records.to_string()])
        .args(extra);
    let output = cmd.output().expect("gen runs");
    assert!(
        output.status.success(),
        "gen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn assert_same_parquet(a: &Path, b: &Path) {
    for file in PARQUET_FILES {
        let left = std::fs::read(a.join(file)).expect("parquet written");
        let right = std::fs::read(b.join(file)).expect("parquet written");
        assert!(
            left == right,
            "{file} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// Log files (by name) under `dir` whose path contains one of `needles`.
fn log_files_under(dir: &Path, needles: &[&str]) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            let p = e.path().to_string_lossy();
            p.contains("/CloudTrail/") && needles.iter().any(|n| p.contains(n))
        })
        .count() as u64
}

#[test]
fn fixture_trail_from_s3_matches_disk_and_never_opens_digest_or_config_folders() {
    let trail = repo_root().join("fixtures/trail");
    let bucket = bucket("fixture");
    upload_dir(&bucket, &trail, "");
    let dir = tempfile::tempdir().expect("tempdir");
    let (from_disk, from_s3) = (dir.path().join("disk"), dir.path().join("s3"));
    analyze(&[&trail], &from_disk, &[]);
    analyze_s3(&format!("s3://{bucket}"), &server().endpoint, &from_s3, &[]);
    assert_same_parquet(&from_disk, &from_s3);

    let (disk, s3) = (summary(&from_disk), summary(&from_s3));
    assert_eq!(s3["records"], disk["records"]);
    assert_eq!(s3["objects"]["read"], 9);
    assert_eq!(s3["objects"]["failed"], 0);
    // The layout walk does not list CloudTrail-Digest/, CloudTrail-Insight/ or Config/:
    // only the 9 log files are listed, and only they are fetched.
    assert_eq!(s3["objects"]["listed"], 9);
    assert_eq!(s3["objects"]["skipped"]["digest"], 0);
    assert_eq!(n(&s3["s3"]["folders_pruned"]["not_cloudtrail"]), 3);
    assert_eq!(s3["s3"]["get_requests"], 9);
    assert_eq!(s3["s3"]["objects_fetched"], 9);
    assert_eq!(s3["bytes"], disk["bytes"]);
    assert_eq!(s3["inputs"][0], format!("s3://{bucket}"));
    // Local runs have no s3 section.
    assert!(disk.get("s3").is_none());
}

#[test]
fn generated_trail_from_s3_gives_byte_identical_parquet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    gen_trail(
        &trail,
        20_000,
        &["--seed", "5", "--hours", "4", "--regions", "3"],
    );
    let bucket = bucket("generated");
    upload_dir(&bucket, &trail.join("AWSLogs"), "cloudtrail/AWSLogs/");
    let (from_disk, from_s3) = (dir.path().join("disk"), dir.path().join("s3"));
    analyze(&[&trail], &from_disk, &[]);
    analyze_s3(
        &format!("s3://{bucket}/cloudtrail"),
        &server().endpoint,
        &from_s3,
        &["--threads", "2"],
    );
    assert_same_parquet(&from_disk, &from_s3);
    let (disk, s3) = (summary(&from_disk), summary(&from_s3));
    assert_eq!(s3["records"], disk["records"]);
    assert_eq!(s3["objects"]["read"], disk["objects"]["read"]);
    assert_eq!(s3["objects"]["failed"], 0);
    // Digests sit beside the logs on disk and are skipped there; from S3 they are not
    // even listed, and nothing but the log files is fetched.
    assert!(n(&disk["objects"]["skipped"]["digest"]) > 0);
    assert_eq!(s3["objects"]["skipped"]["digest"], 0);
    assert_eq!(s3["s3"]["get_requests"], s3["objects"]["read"]);
}

#[test]
fn a_prefix_off_the_layout_is_listed_flat_and_digests_are_still_not_fetched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    gen_trail(&trail, 3_000, &["--seed", "8", "--hours", "2"]);
    let bucket = bucket("flat");
    // The trail one folder down, and the input names the bucket root: no AWSLogs/ there.
    upload_dir(&bucket, &trail.join("AWSLogs"), "exports/AWSLogs/");
    put(&bucket, "exports/README.txt", b"not a log".to_vec());
    let (from_disk, from_s3) = (dir.path().join("disk"), dir.path().join("s3"));
    analyze(&[&trail], &from_disk, &[]);
    analyze_s3(&format!("s3://{bucket}"), &server().endpoint, &from_s3, &[]);
    assert_same_parquet(&from_disk, &from_s3);
    let (disk, s3) = (summary(&from_disk), summary(&from_s3));
    // Every key is listed and classified, as on disk; only log files are fetched.
    // (truth.json beside the trail on disk, README.txt in the bucket.)
    assert_eq!(s3["objects"]["listed"], disk["objects"]["listed"]);
    assert_eq!(s3["objects"]["skipped"], disk["objects"]["skipped"]);
    assert_eq!(s3["objects"]["skipped"]["not_cloudtrail"], 1);
    assert_eq!(s3["s3"]["get_requests"], disk["objects"]["read"]);
}

#[test]
fn a_time_window_prunes_the_days_listed_and_the_files_fetched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    gen_trail(&trail, 6_000, &["--seed", "9", "--hours", "72"]);
    let bucket = bucket("window");
    let uploaded = upload_dir(&bucket, &trail.join("AWSLogs"), "AWSLogs/");
    let window = [
        "--start",
        "2026-03-02T10:00:00Z",
        "--end",
        "2026-03-02T14:00:00Z",
    ];
    let (from_disk, from_s3, whole) = (
        dir.path().join("disk"),
        dir.path().join("s3"),
        dir.path().join("whole"),
    );
    analyze(&[&trail], &from_disk, &window);
    analyze_s3(
        &format!("s3://{bucket}"),
        &server().endpoint,
        &from_s3,
        &window,
    );
    assert_same_parquet(&from_disk, &from_s3);
    let (disk, s3) = (summary(&from_disk), summary(&from_s3));
    assert_eq!(s3["records"], disk["records"]);
    assert!(n(&s3["records"]["attributed"]) > 0);

    // 2 accounts x 2 regions: only the 2026/03/02 folders are listed (the window ends at
    // 14:00, an hour of delivery allowance stays on the same day); the other days of each
    // region are pruned without being listed.
    let day_files = log_files_under(&trail, &["/2026/03/02/"]);
    assert_eq!(n(&s3["objects"]["listed"]), day_files);
    assert!(n(&s3["s3"]["folders_pruned"]["outside_time_range"]) >= 4 * 2);
    // In the listed day, files delivered before 10:00 or after 15:00 are not fetched.
    let fetched = n(&s3["s3"]["get_requests"]);
    assert_eq!(fetched, n(&s3["objects"]["read"]));
    assert_eq!(
        fetched + n(&s3["objects"]["skipped"]["outside_time_range"]),
        day_files
    );
    assert_eq!(s3["objects"]["read"], disk["objects"]["read"]);
    assert!(fetched * 3 < day_files, "{fetched} of {day_files} fetched");

    // Without the window everything is listed: the pruning above is real.
    analyze_s3(&format!("s3://{bucket}"), &server().endpoint, &whole, &[]);
    let all = summary(&whole);
    assert_eq!(
        n(&all["objects"]["listed"]),
        log_files_under(&trail, &["/"])
    );
    assert!(n(&all["s3"]["list_requests"]) > n(&s3["s3"]["list_requests"]));
    assert!(
        uploaded as u64 > n(&all["objects"]["listed"]),
        "digests are not listed"
    );
}

#[test]
fn day_folders_are_listed_as_the_reading_nears_them_while_earlier_days_are_fetched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    let shape = [
        "--seed",
        "11",
        "--hours",
        "96",
        "--accounts",
        "1",
        "--regions",
        "2",
    ];
    gen_trail(&trail, 200, &shape);
    // A file named for 03-01 23:xx, moved into the next day's folder: its hour is read
    // whole and once all the same (delivery_hours lists a day before its hour is read).
    let moved = walkdir::WalkDir::new(&trail)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.expect("walk"))
        .find(|e| {
            let p = e.path().to_string_lossy();
            p.contains("/CloudTrail/") && p.contains("/2026/03/01/") && p.contains("T23")
        })
        .expect("a file delivered at 23:xx on day 1");
    let day_1 = moved.path().parent().expect("its day folder");
    let day_2 = day_1.with_file_name("02");
    std::fs::rename(moved.path(), day_2.join(moved.file_name())).expect("moved");
    let bucket = bucket("days");
    upload_dir(&bucket, &trail.join("AWSLogs"), "AWSLogs/");
    let proxy = FaultProxy::start(&server().endpoint, |_, _| Fault::Pass);
    let (from_disk, from_s3) = (dir.path().join("disk"), dir.path().join("s3"));
    analyze(&[&trail], &from_disk, &[]);
    analyze_s3(
        &format!("s3://{bucket}"),
        &proxy.endpoint,
        &from_s3,
        &["--s3-requests", "2", "--threads", "2"],
    );
    assert_same_parquet(&from_disk, &from_s3);
    let (disk, s3) = (summary(&from_disk), summary(&from_s3));
    assert_eq!(s3["records"], disk["records"]);
    assert_eq!(s3["objects"]["read"], disk["objects"]["read"]);
    assert_eq!(n(&s3["objects"]["listed"]), log_files_under(&trail, &["/"]));
    assert_eq!(s3["s3"]["get_requests"], s3["objects"]["read"]);

    let log = proxy.log.lock().expect("log");
    let is_list = |path: &str| path.contains("list-type=");
    // A day folder is listed whole, without a delimiter; the folders above it with one.
    let day_listing = |path: &str, day: &str| {
        is_list(path) && !path.contains("delimiter=") && path.contains(&day.replace('/', "%2F"))
    };
    let first_get = log
        .iter()
        .position(|(r, _)| r.method == "GET" && !is_list(&r.path))
        .expect("objects fetched");
    let last_day = log
        .iter()
        .position(|(r, _)| day_listing(&r.path, "2026/03/05/"))
        .expect("the last day listed");
    assert!(
        first_get < last_day,
        "the first GET (request {first_get}) waited for the last day's listing (request {last_day})"
    );
    // Each day folder of the trail (2 regions x 4 or 5 days: the last hour's files are
    // delivered on 03-05 where it has any) listed once.
    let day_folders = walkdir::WalkDir::new(&trail)
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.file_type().is_dir() && e.depth() == 7)
        .filter(|e| e.path().to_string_lossy().contains("/CloudTrail/"))
        .count();
    assert!(day_folders >= 9, "{day_folders} day folders");
    let days_listed = log
        .iter()
        .filter(|(r, _)| day_listing(&r.path, "2026/03/0"))
        .count();
    assert_eq!(days_listed, day_folders);
}

#[test]
fn organization_trail_from_s3_with_account_and_region_filters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    gen_trail(
        &trail,
        8_000,
        &[
            "--seed",
            "4",
            "--hours",
            "3",
            "--org",
            "o-s3test0001",
            "--accounts",
            "3",
            "--regions",
            "3",
        ],
    );
    let bucket = bucket("org");
    upload_dir(&bucket, &trail, "");
    // Pick one account and one region that the trail has.
    let account_dir = std::fs::read_dir(trail.join("AWSLogs/o-s3test0001"))
        .expect("org folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .min()
        .expect("an account");
    let filters = ["--account", account_dir.as_str(), "--region", "eu-west-1"];
    let (from_disk, from_s3) = (dir.path().join("disk"), dir.path().join("s3"));
    analyze(&[&trail], &from_disk, &filters);
    analyze_s3(
        &format!("s3://{bucket}/AWSLogs/"),
        &server().endpoint,
        &from_s3,
        &filters,
    );
    assert_same_parquet(&from_disk, &from_s3);
    let (disk, s3) = (summary(&from_disk), summary(&from_s3));
    assert_eq!(s3["records"], disk["records"]);
    assert!(n(&s3["records"]["attributed"]) > 0);
    assert_eq!(n(&s3["s3"]["folders_pruned"]["other_account"]), 2);
    assert_eq!(n(&s3["s3"]["folders_pruned"]["other_region"]), 2);
    let wanted = log_files_under(
        &trail,
        &[&format!(
            "/o-s3test0001/{account_dir}/CloudTrail/eu-west-1/"
        )],
    );
    assert_eq!(n(&s3["objects"]["listed"]), wanted);
    assert_eq!(n(&s3["s3"]["get_requests"]), wanted);
    assert_eq!(s3["objects"]["read"], disk["objects"]["read"]);
}

#[test]
fn answers_stay_exact_when_requests_fail_and_connections_drop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    gen_trail(&trail, 10_000, &["--seed", "21", "--hours", "3"]);
    let bucket = bucket("faults");
    upload_dir(&bucket, &trail, "");
    // About a third of requests fail: 503 SlowDown, 500, a dropped connection, or a body
    // cut in half.
    let proxy = FaultProxy::start(&server().endpoint, |_req, n| {
        if !share(n, 1, 33) {
            return Fault::Pass;
        }
        match n % 4 {
            0 => Fault::SlowDown,
            1 => Fault::InternalError,
            2 => Fault::Drop,
            _ => Fault::Truncate,
        }
    });
    let (from_disk, from_s3) = (dir.path().join("disk"), dir.path().join("s3"));
    analyze(&[&trail], &from_disk, &[]);
    analyze_s3(
        &format!("s3://{bucket}"),
        &proxy.endpoint,
        &from_s3,
        &["--s3-requests", "8"],
    );
    assert_same_parquet(&from_disk, &from_s3);
    let (disk, s3) = (summary(&from_disk), summary(&from_s3));
    assert_eq!(s3["objects"]["failed"], 0, "{}", s3["failures"]);
    assert_eq!(s3["records"], disk["records"]);
    for fault in [
        Fault::SlowDown,
        Fault::InternalError,
        Fault::Drop,
        Fault::Truncate,
    ] {
        assert!(proxy.count(fault) > 0, "{fault:?} was never injected");
    }
    // The SDK retried the failed calls; the cut bodies were fetched again.
    let calls = n(&s3["s3"]["list_requests"]) + n(&s3["s3"]["get_requests"]);
    assert!(n(&s3["s3"]["attempts"]) > calls);
    assert!(n(&s3["s3"]["body_retries"]) > 0);
    assert_eq!(n(&s3["s3"]["objects_fetched"]), n(&s3["objects"]["read"]));
    // Read-only: every request the run made was a GET (ListObjectsV2 or GetObject), so
    // s3:ListBucket and s3:GetObject are all it needs, and the trail is never written.
    let log = proxy.log.lock().expect("log");
    let writes: Vec<_> = log.iter().filter(|(r, _)| r.method != "GET").collect();
    assert!(writes.is_empty(), "requests other than GET: {writes:?}");
}

/// With a slow network, GETs run ahead of the hour being read, up to `--s3-requests` at once
/// and never more. The fixture's 9 log files are delivered in 6 hours (01h 2, 09h 1, 12h 2,
/// 14h 2, 23h 1, 00h 1): a fetcher kept within one hour of the workers could never have more
/// than the busiest two consecutive hours' 4 in flight, and each hour would wait a round
/// trip of its own.
#[test]
fn gets_run_ahead_across_delivery_hours_up_to_the_requests_in_flight() {
    let trail = repo_root().join("fixtures/trail");
    let bucket = bucket("ahead");
    upload_dir(&bucket, &trail, "");
    let dir = tempfile::tempdir().expect("tempdir");
    // Only the GETs of objects are slow, so the listing stays quick.
    let proxy = FaultProxy::start(&server().endpoint, |r, _| {
        if r.path.contains("list-type=") {
            Fault::Pass
        } else {
            Fault::Slow
        }
    });
    let (from_disk, from_s3) = (dir.path().join("disk"), dir.path().join("s3"));
    analyze(&[&trail], &from_disk, &[]);
    analyze_s3(
        &format!("s3://{bucket}"),
        &proxy.endpoint,
        &from_s3,
        &["--s3-requests", "6"],
    );
    assert_same_parquet(&from_disk, &from_s3);
    assert_eq!(n(&summary(&from_s3)["objects"]["read"]), 9);
    let most = proxy.gets.max.load(Ordering::SeqCst);
    assert!(
        (5..=6).contains(&most),
        "{most} GETs at once: expected more than one hour ahead (over 4), and at most 6"
    );
}

#[test]
fn an_object_that_keeps_failing_is_named_and_the_run_goes_on() {
    let trail = repo_root().join("fixtures/trail");
    let bucket = bucket("failing");
    upload_dir(&bucket, &trail, "");
    let broken = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T0110Z_R7tYw2Nq8VbHc4Ds.json.gz";
    // Always 500 for that object's GETs; also a corrupt body for another one.
    let target = format!("/{bucket}/{broken}");
    let proxy = FaultProxy::start(&server().endpoint, move |req, _| {
        if req.method == "GET" && req.object_path() == target {
            Fault::InternalError
        } else {
            Fault::Pass
        }
    });
    let corrupt = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T0000Z_CorruptCorrupt00.json.gz";
    put(&bucket, corrupt, b"\x1f\x8b\x08\x00garbage".to_vec());
    let out = tempfile::tempdir().expect("tempdir");
    let output = run_analyze(
        &format!("s3://{bucket}"),
        &proxy.endpoint,
        out.path(),
        &["--s3-max-attempts", "2", "--strict"],
    );
    // --strict: outputs written, exit 1.
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let s = summary(out.path());
    assert_eq!(s["objects"]["failed"], 2, "{s:#}");
    assert_eq!(s["objects"]["read"], 8);
    // Sorted by key: the corrupt object's delivery minute (00:00) comes first.
    let failures = s["failures"].as_array().expect("failures");
    assert_eq!(failures[0]["key"], format!("s3://{bucket}/{corrupt}"));
    assert_eq!(
        failures[0]["reason"],
        "truncated gzip stream after 0 decompressed bytes"
    );
    assert_eq!(failures[1]["key"], format!("s3://{bucket}/{broken}"));
    let reason = failures[1]["reason"].as_str().expect("reason");
    assert!(reason.contains("InternalError"), "{reason}");
    // Two attempts at the broken object, as asked.
    let gets = proxy
        .log
        .lock()
        .expect("log")
        .iter()
        .filter(|(r, _)| r.object_path().ends_with(broken))
        .count();
    assert_eq!(gets, 2);
    // The report names the failure too.
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("2 objects failed"), "{report}");
}

fn failed_run(url: &str, endpoint: &str, env: &[(&str, &str)]) -> String {
    let out = tempfile::tempdir().expect("tempdir");
    let mut cmd = assert_cmd::Command::cargo_bin("trailsift").expect("binary built");
    for var in crate::support::s3::CLEARED_ENV {
        cmd.env_remove(var);
    }
    cmd.envs(crate::support::s3::TEST_ENV)
        .envs(env.iter().copied())
        .args([
            "analyze",
            url,
            "--no-progress",
            "--s3-max-attempts",
            "2",
            "--endpoint-url",
            endpoint,
            "--out",
        ])
        .arg(out.path());
    let output = cmd.output().expect("trailsift runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn listing_errors_name_the_bucket_and_say_what_to_check() {
    let missing = bucket("missing");
    let err = failed_run(&format!("s3://{missing}/AWSLogs/"), &server().endpoint, &[]);
    assert!(
        err.contains(&format!("bucket '{missing}' does not exist")),
        "{err}"
    );

    let denied = FaultProxy::start(&server().endpoint, |_, _| Fault::AccessDenied);
    let err = failed_run("s3://locked-trail", &denied.endpoint, &[]);
    assert!(
        err.contains("access denied listing bucket 'locked-trail'"),
        "{err}"
    );
    assert!(err.contains("--profile"), "{err}");

    let moved = FaultProxy::start(&server().endpoint, |_, _| Fault::WrongRegion);
    let err = failed_run("s3://far-trail", &moved.endpoint, &[]);
    assert!(
        err.contains(
            "bucket 'far-trail' is in region eu-west-1, not us-east-1: pass --s3-region eu-west-1"
        ),
        "{err}"
    );

    // Nothing listens on this port once the listener is dropped.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let err = failed_run("s3://gone-trail", &format!("http://127.0.0.1:{port}"), &[]);
    assert!(err.contains("cannot reach http://127.0.0.1"), "{err}");
    assert!(err.contains("'gone-trail'"), "{err}");
}

/// An instance metadata service that refuses everything (HTTP 403), as one does where
/// IMDS access is blocked: what the credential chain meets on a machine without a role.
fn refusing_metadata_service() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn no_credentials_is_a_clear_error() {
    // Without credentials anywhere, and with the instance metadata service either off or
    // answering 403: both are missing credentials, never "the network".
    let imds = refusing_metadata_service();
    for metadata in [None, Some(imds.as_str())] {
        no_credentials_run(metadata);
    }
}

fn no_credentials_run(metadata_endpoint: Option<&str>) {
    let out = tempfile::tempdir().expect("tempdir");
    let mut cmd = assert_cmd::Command::cargo_bin("trailsift").expect("binary built");
    for var in crate::support::s3::CLEARED_ENV {
        cmd.env_remove(var);
    }
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env("HOME", out.path())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", out.path().join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            out.path().join("credentials"),
        )
        .args([
            "analyze",
            "s3://some-trail",
            "--no-progress",
            "--endpoint-url",
        ])
        .arg(&server().endpoint)
        .arg("--out")
        .arg(out.path().join("out"));
    match metadata_endpoint {
        None => cmd.env("AWS_EC2_METADATA_DISABLED", "true"),
        Some(endpoint) => cmd
            .env_remove("AWS_EC2_METADATA_DISABLED")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint),
    };
    let output = cmd.output().expect("trailsift runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("no AWS credentials to list bucket 'some-trail'"),
        "{metadata_endpoint:?}: {err}"
    );
    assert!(
        !err.contains("cannot reach"),
        "{metadata_endpoint:?}: {err}"
    );
    assert_eq!(err.lines().count(), 1, "one line without -v: {err}");
}

#[test]
fn a_named_profile_supplies_credentials_and_region() {
    let trail = repo_root().join("fixtures/trail");
    let bucket = bucket("profile");
    upload_dir(&bucket, &trail, "");
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("config");
    let credentials = home.path().join("credentials");
    std::fs::write(&config, "[profile incident]\nregion = us-east-1\n").expect("config");
    std::fs::write(
        &credentials,
        "[incident]\naws_access_key_id = profilekey\naws_secret_access_key = profilesecret\n",
    )
    .expect("credentials");
    let out = home.path().join("out");
    let mut cmd = assert_cmd::Command::cargo_bin("trailsift").expect("binary built");
    for var in crate::support::s3::CLEARED_ENV {
        cmd.env_remove(var);
    }
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_REGION")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .args([
            "analyze",
            &format!("s3://{bucket}"),
            "--no-progress",
            "--profile",
            "incident",
        ])
        .args(["--endpoint-url", &server().endpoint, "--out"])
        .arg(&out);
    let output = cmd.output().expect("trailsift runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(summary(&out)["objects"]["read"], 9);
    // The credentials appear nowhere: not on the terminal, not in any output file.
    let mut printed = vec![output.stdout, output.stderr];
    for file in std::fs::read_dir(&out).expect("outputs") {
        printed.push(std::fs::read(file.expect("entry").path()).expect("output file"));
    }
    for bytes in printed {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("profilesecret") && !text.contains("profilekey"));
    }
}
