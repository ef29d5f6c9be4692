//! Byte-identical outputs: the Parquet files of four trails, kept in `fixtures/golden/` from
//! the engine as it was before it was reshaped, must be written again byte for byte.
//!
//! - `fixtures/`: the fixture trail.
//! - `edge/`: `fixtures/golden/edge-trail` (made by `make-edge-trail.py` beside it), which
//!   walks the rarer paths: redeliveries, a cross-account call's two copies and a lone key
//!   owner's copy, inferred SigV2, a presigned URL, missing agents, legacy TLS, data key
//!   caching and Bucket Key candidates.
//! - `generated/`: a generated trail (`trailsift gen`, seeded, so its bytes are fixed too).
//! - `real/`: the published real records of `fixtures/real`, packed by
//!   scripts/pack-real-records.py (its output is fixed for fixed input).
//!
//! Each trail but the fixtures' is also read again from a `--state` file that holds the
//! whole run (every answer then comes from the saved state, through `from_state` and
//! `merge`), and on one thread.
//!
//! A change that means to change an output (a new column, a fixed answer) refreshes the
//! files with `scripts/refresh-golden.sh` and says so in its commit and in the Changelog;
//! any other difference is a regression.

use std::path::Path;

use crate::support::{analyze, repo_root};

const PARQUET_FILES: [&str; 7] = [
    "kms_calls.parquet",
    "kms_rates.parquet",
    "kms_cost.parquet",
    "kms_bucket_keys.parquet",
    "kms_data_key_caching.parquet",
    "sigv2_requests.parquet",
    "tls_legacy.parquet",
];

/// The generated trail of `generated/` (also in scripts/refresh-golden.sh).
const GEN_ARGS: [&str; 6] = ["--records", "30000", "--hours", "6", "--seed", "11"];

fn assert_same_parquet(out: &Path, golden: &Path) {
    for name in PARQUET_FILES {
        let written = std::fs::read(out.join(name)).expect("output written");
        let kept = std::fs::read(golden.join(name)).expect("golden file kept");
        assert!(
            written == kept,
            "{name} differs from {}: {} bytes written, {} kept (refresh with \
             scripts/refresh-golden.sh only when the change means to alter outputs)",
            golden.display(),
            written.len(),
            kept.len()
        );
    }
}

fn gen_trail(dir: &Path) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_trailsift"))
        .args(["gen", "--out"])
        .arg(dir)
        .args(GEN_ARGS)
        .output()
        .expect("gen runs");
    assert!(output.status.success(), "gen failed: {output:?}");
}

#[test]
fn fixture_outputs_are_byte_identical_to_the_kept_ones() {
    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&repo_root().join("fixtures/trail")], out.path(), &[]);
    assert_same_parquet(out.path(), &repo_root().join("fixtures/golden/fixtures"));
}

/// The outputs of `trail` in one run with `--state`, in a run that resumes from that state
/// (every hour finished: all of it comes from the saved state), and on one thread.
fn assert_same_parquet_fresh_resumed_and_single_threaded(trail: &Path, golden: &Path) {
    let out = tempfile::tempdir().expect("tempdir");
    let state_dir = tempfile::tempdir().expect("tempdir");
    let state = state_dir.path().join("run.state");
    let state_arg = state.to_str().expect("utf-8 path");
    analyze(&[trail], out.path(), &["--state", state_arg]);
    assert_same_parquet(out.path(), golden);

    // Every hour is finished in the state file: the second run reads no object and writes
    // its outputs from the saved state alone.
    let resumed = tempfile::tempdir().expect("tempdir");
    let report = analyze(&[trail], resumed.path(), &["--state", state_arg]);
    assert!(report.contains("Resumed from"), "{report}");
    let s = crate::support::summary(resumed.path());
    assert_eq!(s["resume"]["resumed"], true, "{s}");
    assert_eq!(
        s["resume"]["objects_from_state"], s["objects"]["read"],
        "every object comes from the state: {s}"
    );
    assert_same_parquet(resumed.path(), golden);

    // One thread: the worker merge is not what makes the bytes.
    let one = tempfile::tempdir().expect("tempdir");
    analyze(&[trail], one.path(), &["--threads", "1"]);
    assert_same_parquet(one.path(), golden);
}

#[test]
fn edge_trail_outputs_are_byte_identical_to_the_kept_ones() {
    assert_same_parquet_fresh_resumed_and_single_threaded(
        &repo_root().join("fixtures/golden/edge-trail"),
        &repo_root().join("fixtures/golden/edge"),
    );
}

#[test]
fn generated_trail_outputs_are_byte_identical_to_the_kept_ones() {
    let trail = tempfile::tempdir().expect("tempdir");
    gen_trail(trail.path());
    assert_same_parquet_fresh_resumed_and_single_threaded(
        trail.path(),
        &repo_root().join("fixtures/golden/generated"),
    );
}

#[test]
fn real_records_outputs_are_byte_identical_to_the_kept_ones() {
    let packed = tempfile::tempdir().expect("tempdir");
    crate::real_records::pack(&packed.path().join("trail"));
    assert_same_parquet_fresh_resumed_and_single_threaded(
        &packed.path().join("trail/AWSLogs"),
        &repo_root().join("fixtures/golden/real"),
    );
}
