//! Sharded runs: N processes with the schedulers' index variables set, each writing a
//! partial, merged into outputs byte-identical to one run over the same trail, locally and
//! over S3 (moto on loopback), for N = 1, 2, 3, 7, with every hard case of deduplication
//! (an organization trail and an account trail delivering the same events, redeliveries,
//! both halves of a cross-account call, a lone key owner's copy) forced into different
//! shards, and for random assignments of objects to shards.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use proptest::prelude::*;

use crate::support::s3::{self, CLEARED_ENV, TEST_ENV};
use crate::support::{analyze, repo_root};

/// Every output file that must come out byte for byte.
const PARQUET_FILES: [&str; 8] = crate::support::OUTPUT_PARQUET;

const INDEX_VARS: [&str; 2] = ["AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"];

/// The trail: the edge trail (redeliveries, a cross-account call's two copies, a lone key
/// owner's copy), the fixture trail (malformed records, files that are not log files), and
/// one generated trail delivered twice, by an account trail and by an organization trail.
struct Trail {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Trail {
    fn inputs(&self) -> Vec<PathBuf> {
        ["edge", "fixtures", "acct", "org"]
            .iter()
            .map(|d| self.root.join(d))
            .collect()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(from).expect("below");
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

fn generate(out: &Path, extra: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_trailsift"))
        .args(["gen", "--out"])
        .arg(out)
        .args([
            "--records",
            "3000",
            "--hours",
            "3",
            "--seed",
            "5",
            "--regions",
            "1",
        ])
        .args(extra)
        .output()
        .expect("gen runs");
    assert!(output.status.success(), "gen failed: {output:?}");
}

fn trail() -> &'static Trail {
    static TRAIL: OnceLock<Trail> = OnceLock::new();
    TRAIL.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        copy_dir(
            &repo_root().join("fixtures/golden/edge-trail"),
            &root.join("edge"),
        );
        copy_dir(&repo_root().join("fixtures/trail"), &root.join("fixtures"));
        generate(&root.join("acct"), &[]);
        generate(&root.join("org"), &["--org", "o-abc123def4"]);
        Trail { _dir: dir, root }
    })
}

fn trailsift() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trailsift"));
    for var in INDEX_VARS.iter().chain(CLEARED_ENV.iter()) {
        cmd.env_remove(var);
    }
    cmd.envs(TEST_ENV);
    cmd
}

fn ok(output: Output, what: &str) -> Output {
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    output
}

/// Runs shards 0..n as a scheduler would: the index in AWS Batch's variable for even
/// shards, in Kubernetes' for odd ones.
fn run_shards(inputs: &[String], n: u32, parts: &str, extra: &[&str]) {
    for i in 0..n {
        let out = trailsift()
            .env(INDEX_VARS[i as usize % 2], i.to_string())
            .arg("analyze")
            .args(inputs)
            .args([
                "--shard",
                &format!("auto/{n}"),
                "--out",
                parts,
                "--no-progress",
            ])
            .args(extra)
            .output()
            .expect("shard runs");
        ok(out, &format!("shard {i}/{n}"));
    }
}

/// `trailsift merge PARTS --out MERGED`, asserting success.
fn merge_local(parts: &Path, merged: &Path) {
    let out = merge(
        &[&parts.display().to_string()],
        &merged.display().to_string(),
        &[],
    );
    ok(out, "merge");
}

fn merge(partials: &[&str], out: &str, extra: &[&str]) -> Output {
    trailsift()
        .arg("merge")
        .args(partials)
        .args(["--out", out, "--no-progress"])
        .args(extra)
        .output()
        .expect("merge runs")
}

/// summary.json without what describes the run itself rather than the trail: its time,
/// the memory deduplication held (per machine), the S3 requests it made and the shards.
fn comparable_summary(dir: &Path) -> serde_json::Value {
    let mut s = crate::support::summary(dir);
    let o = s.as_object_mut().expect("object");
    for run_only in ["wall_seconds", "records_per_second", "s3", "shards"] {
        o.remove(run_only);
    }
    let dedup = o
        .get_mut("deduplication")
        .and_then(|d| d.as_object_mut())
        .expect("deduplication");
    for peak in [
        "peak_event_ids_held",
        "peak_owner_copies_held",
        "peak_bytes_held",
    ] {
        dedup.remove(peak);
    }
    s
}

/// report.html with the run's own time taken out (the one figure a second run changes).
fn comparable_report(dir: &Path) -> String {
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html");
    let summary = crate::support::summary(dir);
    let wall = summary["wall_seconds"].as_f64().expect("wall_seconds");
    html.replace(&format!(" in {wall:.2} s."), " in <wall> s.")
}

fn assert_same_outputs(single: &Path, merged: &Path, what: &str) {
    for name in PARQUET_FILES {
        let a = std::fs::read(single.join(name)).expect("single run's file");
        let b = std::fs::read(merged.join(name)).unwrap_or_else(|_| panic!("{what}: {name}"));
        assert!(a == b, "{what}: {name} differs from the single run's");
    }
    assert_eq!(
        comparable_summary(merged),
        comparable_summary(single),
        "{what}: summary.json"
    );
    assert_eq!(
        comparable_report(merged),
        comparable_report(single),
        "{what}: report.html"
    );
}

fn strings(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}

fn single_run() -> &'static (tempfile::TempDir, serde_json::Value) {
    static SINGLE: OnceLock<(tempfile::TempDir, serde_json::Value)> = OnceLock::new();
    SINGLE.get_or_init(|| {
        let out = tempfile::tempdir().expect("tempdir");
        let inputs = trail().inputs();
        let refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
        analyze(&refs, out.path(), &[]);
        let summary = crate::support::summary(out.path());
        (out, summary)
    })
}

#[test]
fn the_trail_holds_every_kind_of_copy() {
    let (_, s) = single_run();
    let dup = &s["records"]["duplicate_reasons"];
    // The generated trail twice: every one of its events has a second copy.
    assert!(dup["same_event_id"].as_u64().expect("count") >= 2500, "{s}");
    assert!(
        dup["cross_account_copy"].as_u64().expect("count") >= 1,
        "{s}"
    );
    assert!(s["records"]["kms"].as_u64().expect("kms") > 100, "{s}");
}

#[test]
fn n_local_shards_merge_byte_identical_to_one_run() {
    let (single, _) = single_run();
    let inputs = strings(&trail().inputs());
    for n in [1, 2, 3, 7] {
        let work = tempfile::tempdir().expect("tempdir");
        let parts = work.path().join("partials");
        run_shards(&inputs, n, &parts.display().to_string(), &[]);
        let names: Vec<_> = std::fs::read_dir(&parts)
            .expect("partials written")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), n as usize, "one partial per shard: {names:?}");
        let merged = work.path().join("merged");
        merge_local(&parts, &merged);
        assert_same_outputs(single.path(), &merged, &format!("{n} shards"));
        let shards = &crate::support::summary(&merged)["shards"];
        assert_eq!(shards["shards"], n, "{shards}");
    }
}

/// A plan written by `trailsift plan`, then each object's shard set by `shard_of(key, i)`.
fn edited_plan(dir: &Path, n: u32, shard_of: impl Fn(&str, usize) -> u32) -> PathBuf {
    let plan = dir.join("plan.json");
    let out = trailsift()
        .arg("plan")
        .args(strings(&trail().inputs()))
        .args(["--shards", &n.to_string(), "--no-progress", "--out"])
        .arg(&plan)
        .output()
        .expect("plan runs");
    let out = ok(out, "plan");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("predicted"),
        "the plan's table is printed"
    );
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&plan).expect("plan written")).expect("JSON");
    let objects = json["objects"].as_array_mut().expect("objects");
    for (i, o) in objects.iter_mut().enumerate() {
        let key = o["key"].as_str().expect("key").to_owned();
        o["shard"] = serde_json::json!(shard_of(&key, i) % n);
    }
    std::fs::write(&plan, serde_json::to_vec_pretty(&json).expect("JSON")).expect("write");
    plan
}

/// Shards following `plan`, merged into `dir/merged`.
fn run_plan(dir: &Path, n: u32, plan: &Path) -> PathBuf {
    let parts = dir.join("partials");
    let plan_arg = plan.display().to_string();
    run_shards(&[], n, &parts.display().to_string(), &["--plan", &plan_arg]);
    let merged = dir.join("merged");
    merge_local(&parts, &merged);
    merged
}

#[test]
fn copies_forced_into_different_shards_are_counted_once() {
    let (single, _) = single_run();
    let work = tempfile::tempdir().expect("tempdir");
    // The organization trail on shard 0, the account trail on shard 1, the key owner's
    // account on shard 2, the edge trail's other hours (and their redeliveries) alternating.
    let plan = edited_plan(work.path(), 3, |key, i| {
        if key.contains("/org/") {
            0
        } else if key.contains("/acct/") {
            1
        } else if key.contains("444455556666") {
            2
        } else {
            1 + (i as u32 % 2)
        }
    });
    let merged = run_plan(work.path(), 3, &plan);
    assert_same_outputs(single.path(), &merged, "copies apart");
    let shards = &crate::support::summary(&merged)["shards"];
    assert!(
        shards["cross_shard_duplicates"].as_u64().expect("count") >= 2500,
        "every event of the generated trail was counted by two shards: {shards}"
    );
    assert!(
        shards["objects_read_again"].as_u64().expect("count") > 0,
        "{shards}"
    );
}

#[test]
fn the_default_plan_keeps_trail_pairs_together() {
    let work = tempfile::tempdir().expect("tempdir");
    let parts = work.path().join("partials");
    run_shards(
        &strings(&trail().inputs()),
        3,
        &parts.display().to_string(),
        &[],
    );
    let merged = work.path().join("merged");
    merge_local(&parts, &merged);
    let shards = &crate::support::summary(&merged)["shards"];
    assert_eq!(
        shards["objects_read_again"], 0,
        "the organization and account copies of an hour share a shard: {shards}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn any_assignment_of_objects_to_shards_merges_to_the_single_run(
        n in 1u32..=5,
        assignment in proptest::collection::vec(0u32..5, 64),
    ) {
        let (single, _) = single_run();
        let work = tempfile::tempdir().expect("tempdir");
        let plan = edited_plan(work.path(), n, |_, i| assignment[i % assignment.len()]);
        let merged = run_plan(work.path(), n, &plan);
        assert_same_outputs(single.path(), &merged, &format!("assignment {assignment:?} over {n}"));
    }
}

#[test]
fn the_merge_refuses_partials_it_cannot_join_and_says_why() {
    let work = tempfile::tempdir().expect("tempdir");
    let inputs = strings(&trail().inputs());
    let parts = work.path().join("partials");
    let parts_arg = parts.display().to_string();
    run_shards(&inputs, 3, &parts_arg, &[]);
    let out = work.path().join("out").display().to_string();
    let p = |i: u32| {
        parts
            .join(format!("shard-{i:04}-of-0003.partial"))
            .display()
            .to_string()
    };

    let missing = merge(&[&p(0), &p(2)], &out, &[]);
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("1 of 3 shards missing: 1/3"), "{err}");

    let twice = merge(&[&parts_arg, &p(1)], &out, &[]);
    let err = String::from_utf8_lossy(&twice.stderr);
    assert!(
        !twice.status.success() && err.contains("shard 1/3 is given twice"),
        "{err}"
    );

    // Shard 1 again with another window: another command.
    let other = work.path().join("other");
    let out1 = trailsift()
        .env("JOB_COMPLETION_INDEX", "1")
        .arg("analyze")
        .args(&inputs)
        .args([
            "--shard",
            "auto/3",
            "--start",
            "2026-03-01",
            "--no-progress",
            "--out",
        ])
        .arg(&other)
        .output()
        .expect("runs");
    ok(out1, "shard with --start");
    let other1 = other
        .join("shard-0001-of-0003.partial")
        .display()
        .to_string();
    let mixed = merge(&[&p(0), &other1, &p(2)], &out, &[]);
    let err = String::from_utf8_lossy(&mixed.stderr);
    assert!(
        !mixed.status.success() && err.contains("different commands") && err.contains("start"),
        "{err}"
    );
    assert!(
        !Path::new(&out).join("summary.json").exists(),
        "nothing written"
    );

    let garbage = work.path().join("bad.partial");
    std::fs::write(&garbage, b"not a partial").expect("write");
    let bad = merge(&[&garbage.display().to_string()], &out, &[]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && err.contains("is not a trailsift partial"),
        "{err}"
    );

    // A partial cut short (an upload that stopped halfway) and one with a flipped byte are
    // refused by name, and nothing is written.
    let whole = std::fs::read(p(1)).expect("partial");
    let cut = work.path().join("shard-0001-of-0003.cut.partial");
    std::fs::write(&cut, &whole[..whole.len() / 2]).expect("write");
    let cut = cut.display().to_string();
    let short = merge(&[&p(0), &cut, &p(2)], &out, &[]);
    let err = String::from_utf8_lossy(&short.stderr);
    assert!(
        !short.status.success() && err.contains(&cut) && err.contains("is cut short"),
        "{err}"
    );
    let mut flipped = whole.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let damaged = work.path().join("shard-0001-of-0003.flipped.partial");
    std::fs::write(&damaged, &flipped).expect("write");
    let damaged = damaged.display().to_string();
    let bad = merge(&[&p(0), &damaged, &p(2)], &out, &[]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && err.contains(&damaged) && err.contains("checksum does not match"),
        "{err}"
    );
    assert!(
        !Path::new(&out).join("summary.json").exists(),
        "nothing written"
    );
}

#[test]
fn a_retried_shard_overwrites_its_partial_and_the_merge_is_unchanged() {
    let (single, _) = single_run();
    let work = tempfile::tempdir().expect("tempdir");
    let parts = work.path().join("partials").display().to_string();
    let inputs = strings(&trail().inputs());
    run_shards(&inputs, 2, &parts, &[]);
    // The scheduler retries shard 1 (its first attempt counted as lost).
    let again = trailsift()
        .env("AWS_BATCH_JOB_ARRAY_INDEX", "1")
        .arg("analyze")
        .args(&inputs)
        .args(["--shard", "auto/2", "--no-progress", "--out", &parts])
        .output()
        .expect("runs");
    ok(again, "retried shard");
    let names = std::fs::read_dir(work.path().join("partials"))
        .expect("list")
        .count();
    assert_eq!(names, 2, "no temporary file left beside the partials");
    let merged = work.path().join("merged");
    ok(
        merge(&[&parts], &merged.display().to_string(), &[]),
        "merge",
    );
    assert_same_outputs(single.path(), &merged, "retried shard");
}

#[test]
fn a_shard_without_an_index_says_where_it_looks() {
    let out = trailsift()
        .args([
            "analyze",
            "fixtures/trail",
            "--shard",
            "auto/4",
            "--out",
            "/tmp/x",
        ])
        .current_dir(repo_root())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("AWS_BATCH_JOB_ARRAY_INDEX nor JOB_COMPLETION_INDEX"),
        "{err}"
    );
}

fn s3_trail() -> &'static Vec<String> {
    static URLS: OnceLock<Vec<String>> = OnceLock::new();
    URLS.get_or_init(|| {
        let t = trail();
        s3::upload_dir("shard-trail", &t.root, "");
        s3::create_bucket("shard-results");
        ["edge", "fixtures", "acct", "org"]
            .iter()
            .map(|d| format!("s3://shard-trail/{d}/"))
            .collect()
    })
}

#[test]
fn shards_over_s3_write_partials_and_outputs_to_s3_byte_identical_to_one_run() {
    let urls = s3_trail();
    let endpoint = s3::server().endpoint.clone();
    let s3_flags = ["--endpoint-url", endpoint.as_str()];
    let single = tempfile::tempdir().expect("tempdir");
    let run = trailsift()
        .arg("analyze")
        .args(urls)
        .args(["--no-progress", "--out"])
        .arg(single.path())
        .args(s3_flags)
        .output()
        .expect("runs");
    ok(run, "single run over S3");
    for n in [1u32, 2, 3, 7] {
        let parts = format!("s3://shard-results/{n}/partials/");
        run_shards(urls, n, &parts, &s3_flags);
        assert_eq!(
            s3::keys("shard-results", &format!("{n}/partials/")).len(),
            n as usize
        );
        let out = format!("s3://shard-results/{n}/merged");
        ok(merge(&[&parts], &out, &s3_flags), "merge over S3");
        let local = tempfile::tempdir().expect("tempdir");
        let keys = s3::keys("shard-results", &format!("{n}/merged/"));
        assert_eq!(keys.len(), PARQUET_FILES.len() + 2, "{keys:?}");
        for key in keys {
            let name = key.rsplit('/').next().expect("name");
            std::fs::write(local.path().join(name), s3::get("shard-results", &key)).expect("write");
        }
        assert_same_outputs(single.path(), local.path(), &format!("{n} shards over S3"));
    }
}

#[test]
fn a_plan_on_s3_is_read_by_every_shard() {
    let urls = s3_trail();
    let endpoint = s3::server().endpoint.clone();
    let s3_flags = ["--endpoint-url", endpoint.as_str()];
    let plan = "s3://shard-results/planned/plan.json";
    let out = trailsift()
        .arg("plan")
        .args(urls)
        .args(["--shards", "2", "--no-progress", "--out", plan])
        .args(s3_flags)
        .output()
        .expect("runs");
    let out = ok(out, "plan to S3");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Plan written to s3://"));
    let parts = "s3://shard-results/planned/partials/";
    let mut extra = vec!["--plan", plan];
    extra.extend(s3_flags);
    run_shards(&[], 2, parts, &extra);
    let merged = tempfile::tempdir().expect("tempdir");
    ok(
        merge(&[parts], &merged.path().display().to_string(), &s3_flags),
        "merge",
    );
    let s = crate::support::summary(merged.path());
    assert_eq!(s["inputs"], serde_json::json!(urls), "the plan's inputs");
    assert!(s["records"]["kms"].as_u64().expect("kms") > 100);
}

/// A store writing through `endpoint` with the test credentials.
fn store_at(endpoint: &str) -> trailsift::engine::Store {
    use trailsift::engine::{S3Options, S3Session, S3Stats, Store};
    let session = S3Session {
        runtime: s3::runtime(),
        client: s3::client(endpoint),
        stats: std::sync::Arc::new(S3Stats::default()),
        endpoint: endpoint.to_owned(),
        region: "us-east-1".to_owned(),
    };
    Store::with_session(S3Options::default(), Some(session))
}

/// Uploads in progress under `bucket` (parts a failed upload would leave billed).
fn multipart_uploads(bucket: &str) -> usize {
    let client = s3::client(&s3::server().endpoint);
    s3::runtime().block_on(async move {
        let out = client
            .list_multipart_uploads()
            .bucket(bucket)
            .send()
            .await
            .expect("list uploads");
        out.uploads().len()
    })
}

#[test]
fn a_large_output_goes_up_in_parts_and_a_failed_one_leaves_nothing() {
    use crate::support::fault_proxy::{Fault, FaultProxy};
    use trailsift::engine::{MULTIPART_THRESHOLD, PART_SIZE, Place};
    let server = s3::server();
    s3::create_bucket("shard-uploads");
    // Above the threshold: parts of PART_SIZE and a shorter last one.
    let size = MULTIPART_THRESHOLD + PART_SIZE / 2 + 7;
    let body: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let proxy = FaultProxy::start(&server.endpoint, |_, _| Fault::Pass);
    let place = Place::parse("s3://shard-uploads/whole.partial").expect("url");
    store_at(&proxy.endpoint)
        .write(&place, body.clone())
        .expect("uploaded");
    assert!(
        s3::get("shard-uploads", "whole.partial") == body,
        "read back whole"
    );
    let parts = proxy
        .log
        .lock()
        .expect("log")
        .iter()
        .filter(|(r, _)| r.path.contains("partNumber="))
        .count();
    assert_eq!(parts, size.div_ceil(PART_SIZE), "one UploadPart per part");

    // The third part is refused: the upload is aborted, nothing appears under the name.
    let failing = FaultProxy::start(&server.endpoint, |r, _| {
        if r.path.contains("partNumber=3") {
            Fault::AccessDenied
        } else {
            Fault::Pass
        }
    });
    let place = Place::parse("s3://shard-uploads/half.partial").expect("url");
    let err = store_at(&failing.endpoint)
        .write(&place, body)
        .expect_err("refused");
    assert!(format!("{err:#}").contains("UploadPart 3"), "{err:#}");
    assert_eq!(
        s3::keys("shard-uploads", "half"),
        Vec::<String>::new(),
        "no half-written object"
    );
    assert_eq!(
        multipart_uploads("shard-uploads"),
        0,
        "the upload was aborted"
    );
}

#[test]
fn an_s3_out_that_cannot_be_written_is_refused_before_anything_is_read() {
    let endpoint = s3::server().endpoint.clone();
    let fixtures = repo_root().join("fixtures/trail").display().to_string();
    for shard in [None, Some("0/2")] {
        let mut cmd = trailsift();
        cmd.args([
            "analyze",
            &fixtures,
            "--no-progress",
            "--endpoint-url",
            &endpoint,
        ])
        .args(["--out", "s3://no-such-results-bucket/runs/1/"]);
        if let Some(s) = shard {
            cmd.args(["--shard", s]);
        }
        let out = cmd.output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{shard:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cannot write under s3://no-such-results-bucket/runs/1/")
                && err.contains("nothing was read")
                && err.contains("NoSuchBucket"),
            "{shard:?}: {err}"
        );
    }
    // A writable prefix is left as it was: the probe's upload is aborted.
    s3::create_bucket("shard-probe");
    let out = trailsift()
        .args([
            "analyze",
            &fixtures,
            "--no-progress",
            "--endpoint-url",
            &endpoint,
        ])
        .args(["--out", "s3://shard-probe/out/"])
        .output()
        .expect("runs");
    ok(out, "analyze to S3");
    assert_eq!(multipart_uploads("shard-probe"), 0);
    let keys = s3::keys("shard-probe", "");
    assert!(
        keys.iter().all(|k| !k.contains("write-check")) && keys.len() == PARQUET_FILES.len() + 2,
        "{keys:?}"
    );
}
