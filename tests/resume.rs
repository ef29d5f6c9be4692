//! `--state FILE`: a run killed with SIGKILL (again and again) and started again with the same
//! command writes the outputs of a run that was never interrupted, and no object is read
//! twice into the totals; from disk and from S3. A state file that does not fit the command
//! or the trail is refused with the reason, and objects delivered into hours the state had
//! finished are named, never silently dropped.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::s3::{analyze_command, analyze_s3, run_analyze, server, upload_dir};
use crate::support::{analyze, repo_root, summary};

const PARQUET_FILES: [&str; 7] = [
    "kms_calls.parquet",
    "kms_rates.parquet",
    "kms_cost.parquet",
    "kms_bucket_keys.parquet",
    "kms_data_key_caching.parquet",
    "sigv2_requests.parquet",
    "tls_legacy.parquet",
];

/// The parts of summary.json that must not depend on interruptions (all but timings, the
/// S3 request counts of this process and the resume block itself).
const SUMMARY_ANSWERS: [&str; 8] = [
    "objects",
    "failures",
    "bytes",
    "records",
    "event_time",
    "deduplication",
    "kms",
    "warnings",
];

fn gen_trail(dir: &Path, records: u64, hours: u32, seed: u64) {
    let output = Command::new(env!("CARGO_BIN_EXE_trailsift"))
        .args(["gen", "--out"])
        .arg(dir)
        .args(["--records", &records.to_string()])
        .args(["--hours", &hours.to_string(), "--seed", &seed.to_string()])
        .output()
        .expect("gen runs");
    assert!(output.status.success(), "gen failed: {output:?}");
}

fn local_command(trail: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trailsift"));
    cmd.arg("analyze")
        .arg(trail)
        .arg("--out")
        .arg(out)
        .arg("--no-progress")
        .args(extra);
    cmd
}

/// What tells one version of the state file from the next: every checkpoint replaces it.
fn state_version(state: &Path) -> Option<(u64, i64, i64, u64)> {
    let m = std::fs::metadata(state).ok()?;
    Some((m.ino(), m.mtime(), m.mtime_nsec(), m.size()))
}

/// How a run that was to be killed ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// Killed with SIGKILL after the checkpoints were seen.
    Killed,
    /// It finished on its own (exit 0) before it could be killed: a run faster than the
    /// polling, which saved its last hour and wrote its outputs.
    Finished,
}

/// Starts `cmd`, waits until it has replaced the state file `checkpoints` times, and kills it
/// with SIGKILL, wherever it is. The kill point comes from progress (checkpoints written),
/// never from time; a run that finishes first is not an error, and is reported as such.
fn kill_after_checkpoints(mut cmd: Command, state: &Path, checkpoints: usize) -> Ended {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("trailsift starts");
    let mut seen = state_version(state);
    let mut new = 0;
    let deadline = Instant::now() + Duration::from_secs(300);
    while new < checkpoints {
        if let Some(status) = child.try_wait().expect("poll child") {
            assert!(
                status.success(),
                "the run failed ({status}) before it could be killed"
            );
            return Ended::Finished;
        }
        assert!(Instant::now() < deadline, "no checkpoint was written");
        let now = state_version(state);
        if now.is_some() && now != seen {
            new += 1;
            seen = now;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    if status.success() {
        // It exited between the last look and the kill.
        return Ended::Finished;
    }
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status}");
    Ended::Killed
}

/// Checks where the kills came, judged from the summary of the run that finished after them,
/// against what the killed runs did. Either the kills came before the end: the state file was
/// partial, no run ended on its own and none wrote outputs (outputs come only after the last
/// hour is saved). Or a run reached its last checkpoint before it could be killed (a fast
/// machine): the state file was complete and the run from it read nothing again; its
/// outputs, compared by the caller, must still be those of the uninterrupted run.
fn check_kill_points(s: &Value, ended: &[Ended], outputs_before: bool) {
    let (from_state, read) = (objects_from_state(s), count(&s["objects"]["read"]));
    assert!(from_state <= read, "{from_state} of {read}");
    if from_state < read {
        assert!(
            !ended.contains(&Ended::Finished),
            "a run ended on its own but left a partial state: {ended:?}"
        );
        assert!(!outputs_before, "killed runs write no outputs");
    } else {
        eprintln!(
            "resume: a run reached its last checkpoint before it could be killed ({ended:?}); \
             checked the resume from the complete state file"
        );
    }
}

fn assert_same_answers(uninterrupted: &Path, resumed: &Path) {
    assert_same_answers_but(uninterrupted, resumed, &[]);
}

/// The same, leaving out the summary parts in `except`.
fn assert_same_answers_but(uninterrupted: &Path, resumed: &Path, except: &[&str]) {
    for file in PARQUET_FILES {
        let left = std::fs::read(uninterrupted.join(file)).expect("parquet written");
        let right = std::fs::read(resumed.join(file)).expect("parquet written");
        assert!(left == right, "{file} differs after resuming");
    }
    let (a, b) = (summary(uninterrupted), summary(resumed));
    for part in SUMMARY_ANSWERS.iter().filter(|p| !except.contains(p)) {
        assert_eq!(
            a[part], b[part],
            "summary.json {part} differs after resuming"
        );
    }
}

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// From the summary of the run that finished: objects the killed runs had finished.
fn objects_from_state(s: &Value) -> u64 {
    assert_eq!(s["resume"]["resumed"], true, "{}", s["resume"]);
    count(&s["resume"]["objects_from_state"])
}

#[test]
fn local_run_killed_three_times_resumes_to_the_uninterrupted_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    gen_trail(&trail, 60_000, 48, 11);
    let uninterrupted = dir.path().join("uninterrupted");
    analyze(&[&trail], &uninterrupted, &["--threads", "2"]);

    let state = dir.path().join("run.state");
    let out = dir.path().join("resumed");
    let state_arg = state.to_str().expect("utf-8 path");
    let args = ["--state", state_arg, "--state-interval", "0"];
    // Killed after 1, then 3, then 5 more checkpoints: each run goes on from the last. A run
    // that finishes first leaves a complete state: the next ones would only read it again.
    let mut ended = Vec::new();
    for checkpoints in [1, 3, 5] {
        let mut cmd = local_command(&trail, &out, &args);
        cmd.args(["--threads", "2"]);
        ended.push(kill_after_checkpoints(cmd, &state, checkpoints));
        if ended.contains(&Ended::Finished) {
            break;
        }
    }
    let outputs_before = out.join("summary.json").exists();
    // The last run also uses another thread count: the answers do not depend on it.
    let mut finish = args.to_vec();
    finish.extend(["--threads", "1"]);
    let report = analyze(&[&trail], &out, &finish);
    assert!(report.contains("Resumed from"), "{report}");

    assert_same_answers(&uninterrupted, &out);
    let s = summary(&out);
    let from_state = objects_from_state(&s);
    // Every checkpoint finishes at least one delivery hour of at least one object.
    assert!(from_state >= 9, "{from_state} objects from the state");
    check_kill_points(&s, &ended, outputs_before);
    let o = &s["objects"];
    assert_eq!(
        count(&o["listed"]),
        count(&o["read"]) + count(&o["failed"]) + skipped_objects(o),
        "objects reconcile: {o}"
    );
}

fn skipped_objects(objects: &Value) -> u64 {
    objects["skipped"]
        .as_object()
        .expect("skipped")
        .values()
        .map(count)
        .sum()
}

#[test]
fn s3_run_killed_twice_resumes_without_fetching_finished_objects_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = dir.path().join("trail");
    gen_trail(&trail, 16_000, 8, 12);
    let bucket = format!("resume-{}", std::process::id());
    upload_dir(&bucket, &trail.join("AWSLogs"), "AWSLogs/");
    let url = format!("s3://{bucket}");
    let endpoint = &server().endpoint;
    let uninterrupted = dir.path().join("uninterrupted");
    analyze(&[&trail], &uninterrupted, &[]);

    let state = dir.path().join("s3.state");
    let out = dir.path().join("resumed");
    let state_arg = state.to_str().expect("utf-8 path");
    let args = ["--state", state_arg, "--state-interval", "0"];
    let mut ended = Vec::new();
    for checkpoints in [1, 2] {
        ended.push(kill_after_checkpoints(
            analyze_command(&url, endpoint, &out, &args),
            &state,
            checkpoints,
        ));
        if ended.contains(&Ended::Finished) {
            break;
        }
    }
    let outputs_before = out.join("summary.json").exists();
    let report = analyze_s3(&url, endpoint, &out, &args);
    assert!(report.contains("Resumed from"), "{report}");

    // Disk uninterrupted, S3 killed twice: the same answers. (Only the listing differs: S3's
    // never lists the digests a local walk counts.)
    assert_same_answers_but(&uninterrupted, &out, &["objects"]);
    let s = summary(&out);
    assert_eq!(
        s["objects"]["read"],
        summary(&uninterrupted)["objects"]["read"]
    );
    let (from_state, read) = (objects_from_state(&s), count(&s["objects"]["read"]));
    assert!(from_state >= 3, "{from_state} of {read}");
    check_kill_points(&s, &ended, outputs_before);
    // The finished objects were not fetched again.
    assert_eq!(count(&s["s3"]["objects_fetched"]), read - from_state);

    // Started once more, the finished run reads nothing and answers the same.
    let again = dir.path().join("again");
    let output = run_analyze(&url, endpoint, &again, &args);
    assert!(output.status.success(), "{output:?}");
    assert_same_answers_but(&uninterrupted, &again, &["objects"]);
    let s = summary(&again);
    assert_eq!(objects_from_state(&s), read);
    assert_eq!(count(&s["s3"]["objects_fetched"]), 0);
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let target = to.join(entry.path().strip_prefix(from).expect("below"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A copy of the fixture trail, finished once with a state file.
struct Finished {
    _dir: tempfile::TempDir,
    trail: PathBuf,
    state: PathBuf,
    out: PathBuf,
}

impl Finished {
    fn new() -> Finished {
        let dir = tempfile::tempdir().expect("tempdir");
        let trail = dir.path().join("trail");
        copy_dir(&repo_root().join("fixtures/trail"), &trail);
        let state = dir.path().join("fixture.state");
        let out = dir.path().join("first");
        let f = Finished {
            trail,
            state,
            out,
            _dir: dir,
        };
        analyze(&[&f.trail], &f.out, &f.state_args());
        f
    }

    fn state_args(&self) -> Vec<&str> {
        vec!["--state", self.state.to_str().expect("utf-8 path")]
    }

    /// Runs again with the state and `extra`; returns the exit code and stderr.
    fn rerun(&self, out: &str, extra: &[&str]) -> (Option<i32>, String) {
        let mut args = self.state_args();
        args.extend(extra);
        let output = local_command(&self.trail, &self.out.with_file_name(out), &args)
            .output()
            .expect("trailsift runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), stderr)
    }

    fn log_file(&self) -> PathBuf {
        self.trail.join("AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T0105Z_Xk3f9QpL2mZ7aB1c.json.gz")
    }
}

#[test]
fn a_state_file_that_does_not_fit_the_command_or_the_trail_is_refused_with_the_reason() {
    let f = Finished::new();
    // The same command again: nothing is read again, the answers are the same.
    let (code, stderr) = f.rerun("same", &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_same_answers(&f.out, &f.out.with_file_name("same"));
    let s = summary(&f.out.with_file_name("same"));
    assert_eq!(objects_from_state(&s), 9);
    assert_eq!(s["objects"]["read"], 9);

    // Another window would make the saved totals wrong.
    let (code, stderr) = f.rerun("other", &["--start", "2026-03-01T06:00:00Z"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("different command"), "{stderr}");
    assert!(
        stderr.contains("start: null in the state file, \"2026-03-01T06:00:00Z\" now"),
        "{stderr}"
    );

    // A counted object that changed: its records cannot be taken back out.
    let log = f.log_file();
    let file = std::fs::File::options()
        .write(true)
        .open(&log)
        .expect("open");
    file.set_modified(std::time::SystemTime::now() + Duration::from_secs(3600))
        .expect("touch");
    drop(file);
    let (code, stderr) = f.rerun("changed", &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("changed since the state file counted it"),
        "{stderr}"
    );
    assert!(stderr.contains("Xk3f9QpL2mZ7aB1c"), "{stderr}");

    // A counted object that is gone.
    std::fs::remove_file(&log).expect("rm");
    let (code, stderr) = f.rerun("gone", &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("1 objects counted by the state file are no longer listed"),
        "{stderr}"
    );

    // Not a state file at all.
    std::fs::write(&f.state, b"{\"not\": \"state\"}").expect("write");
    let (code, stderr) = f.rerun("garbage", &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("is not a trailsift state file"), "{stderr}");
    assert!(stderr.contains("delete it to start over"), "{stderr}");
}

#[test]
fn objects_delivered_into_finished_hours_are_named_and_counted_not_lost() {
    let f = Finished::new();
    let log = f.log_file();
    let late = log.with_file_name(
        "111122223333_CloudTrail_us-east-1_20260301T0120Z_LateLateLate0001.json.gz",
    );
    std::fs::copy(&log, &late).expect("copy");
    let (code, stderr) = f.rerun("late", &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let s = summary(&f.out.with_file_name("late"));
    assert_eq!(s["objects"]["skipped"]["after_state"], 1);
    assert_eq!(
        s["resume"]["late_objects"][0],
        late.to_str().expect("utf-8 path")
    );
    assert!(
        s["warnings"]
            .to_string()
            .contains("see resume.late_objects"),
        "{}",
        s["warnings"]
    );
    let o = &s["objects"];
    let listed_first = count(&summary(&f.out)["objects"]["listed"]);
    assert_eq!(count(&o["listed"]), listed_first + 1);
    assert_eq!(
        count(&o["listed"]),
        count(&o["read"]) + count(&o["failed"]) + skipped_objects(o)
    );
    // The answers are those of the first run: the late copy was not read.
    for file in PARQUET_FILES {
        let first = std::fs::read(f.out.join(file)).expect("parquet");
        let now = std::fs::read(f.out.with_file_name("late").join(file)).expect("parquet");
        assert!(first == now, "{file}");
    }
}
