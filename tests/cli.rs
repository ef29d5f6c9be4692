//! The command line itself: completion scripts, man pages, -q/-v, `analyze --json`, and help
//! that reads well on an 80-column terminal. Every test runs the real binary.

use std::path::Path;
use std::process::Output;

use crate::support::repo_root;

/// Runs `trailsift ARGS` and returns what it did, whatever the exit status.
fn trailsift(args: &[&str]) -> Output {
    trailsift_with(args, &[])
}

/// As [`trailsift`], with extra environment variables (`COLUMNS` for the help tests).
fn trailsift_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("trailsift").expect("binary built");
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("trailsift runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_success(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed ({:?}): {}",
        o.status.code(),
        stderr(o)
    );
}

fn fixture_trail() -> String {
    repo_root().join("fixtures/trail").display().to_string()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

#[test]
fn completions_name_the_subcommands_and_their_flags() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = trailsift(&["completions", shell]);
        assert_success(&o, &format!("completions {shell}"));
        let script = stdout(&o);
        assert!(
            script.contains("analyze") && script.contains("gen"),
            "{shell}: the script names no subcommand:\n{script}"
        );
        // fish spells long flags `-l out`; bash and zsh `--out`.
        let names_out = script.contains("--out") || script.contains("-l out");
        assert!(names_out, "{shell}: the script names no --out flag");
        assert!(
            script.contains("dedup-window-hours"),
            "{shell}: the script misses analyze's flags"
        );
    }
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    let o = trailsift(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(&o));
    assert!(o.stdout.is_empty(), "a script was printed for tcsh");
    assert!(
        stderr(&o).contains("bash"),
        "the error lists the shells: {}",
        stderr(&o)
    );
}

#[test]
fn man_prints_the_top_level_page_in_roff() {
    let o = trailsift(&["man"]);
    assert_success(&o, "man");
    let page = stdout(&o);
    assert!(page.contains(".TH"), "no .TH title line:\n{page}");
    assert!(
        page.contains("analyze"),
        "the page lists no analyze:\n{page}"
    );
    assert!(
        page.contains("completions"),
        "the page lists no completions"
    );
}

#[test]
fn man_out_writes_one_page_per_subcommand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("man1");
    let o = trailsift(&["man", "--out", path_str(&out)]);
    assert_success(&o, "man --out");
    for name in [
        "trailsift.1",
        "trailsift-analyze.1",
        "trailsift-gen.1",
        "trailsift-completions.1",
        "trailsift-man.1",
    ] {
        let page = std::fs::read_to_string(out.join(name))
            .unwrap_or_else(|e| panic!("{name} not written: {e}"));
        assert!(page.contains(".TH"), "{name} has no .TH title line");
    }
    assert!(
        !out.join("trailsift-help.1").exists(),
        "a page for clap's help subcommand, which SEE ALSO would name for nothing"
    );
    let analyze = std::fs::read_to_string(out.join("trailsift-analyze.1")).expect("read");
    assert!(
        analyze.contains("dedup\\-window\\-hours"),
        "the analyze page misses its flags"
    );
}

#[test]
fn quiet_analyze_prints_nothing_on_stdout_and_still_writes_summary() {
    let out = tempfile::tempdir().expect("tempdir");
    let o = trailsift(&[
        "analyze",
        &fixture_trail(),
        "--out",
        path_str(out.path()),
        "-q",
        "--no-progress",
    ]);
    assert_success(&o, "analyze -q");
    assert_eq!(stdout(&o), "", "-q printed on stdout");
    assert!(out.path().join("summary.json").is_file(), "no summary.json");
    assert!(out.path().join("report.html").is_file(), "no report.html");
}

#[test]
fn quiet_before_the_subcommand_silences_gen() {
    let out = tempfile::tempdir().expect("tempdir");
    let o = trailsift(&[
        "--quiet",
        "gen",
        "--out",
        path_str(out.path()),
        "--records",
        "200",
        "--hours",
        "1",
    ]);
    assert_success(&o, "--quiet gen");
    assert_eq!(stdout(&o), "", "--quiet gen printed on stdout");
    assert!(out.path().join("truth.json").is_file(), "no truth.json");
}

#[test]
fn json_prints_summary_json_byte_for_byte() {
    let out = tempfile::tempdir().expect("tempdir");
    let o = trailsift(&[
        "analyze",
        &fixture_trail(),
        "--out",
        path_str(out.path()),
        "--json",
        "--no-progress",
    ]);
    assert_success(&o, "analyze --json");
    let file = std::fs::read(out.path().join("summary.json")).expect("summary.json written");
    assert!(
        o.stdout == file,
        "stdout differs from summary.json:\n{}",
        stdout(&o)
    );
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert!(
        summary["records"]["total"].as_u64().is_some_and(|n| n > 0),
        "no records.total in {summary}"
    );
}

#[test]
fn json_with_quiet_is_a_usage_error() {
    let out = tempfile::tempdir().expect("tempdir");
    let o = trailsift(&[
        "-q",
        "analyze",
        &fixture_trail(),
        "--out",
        path_str(out.path()),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(&o));
    assert!(
        !out.path().join("summary.json").exists(),
        "the run went ahead"
    );
}

/// The text clap shows for one flag of `gen --help`: from its name to the next flag's,
/// whitespace folded so that wrapping does not matter.
fn flag_help<'a>(help: &'a str, flag: &str, next: &str) -> &'a str {
    let start = help
        .find(flag)
        .unwrap_or_else(|| panic!("{flag} not in gen --help:\n{help}"));
    let rest = &help[start + flag.len()..];
    let end = rest
        .find(next)
        .unwrap_or_else(|| panic!("{next} not after {flag}"));
    &rest[..end]
}

#[test]
fn gen_help_describes_seed_accounts_regions_and_hours() {
    let o = trailsift(&["gen", "--help"]);
    assert_success(&o, "gen --help");
    let help = stdout(&o).split_whitespace().collect::<Vec<_>>().join(" ");
    for (flag, next, says) in [
        ("--seed <SEED>", "--accounts", "byte-identical"),
        ("--accounts <ACCOUNTS>", "--regions", "Accounts"),
        ("--regions <REGIONS>", "--hours", "us-east-1"),
        ("--hours <HOURS>", "--org", "2026-03-01T00:00:00Z"),
    ] {
        let text = flag_help(&help, flag, next);
        assert!(
            text.contains(says),
            "{flag} is not described (wanted {says:?}): {text:?}"
        );
    }
}

/// Asserts that the help of `args` fits 80 columns and that its examples are whole: every
/// line of the Examples block starts a command, none is the tail of a wrapped one.
fn assert_examples_unbroken(args: &[&str], whole: &[&str]) {
    let o = trailsift_with(args, &[("COLUMNS", "80")]);
    assert_success(&o, &args.join(" "));
    let help = stdout(&o);
    for line in help.lines() {
        assert!(
            line.chars().count() <= 80,
            "{args:?}: a line longer than 80 columns: {line:?}"
        );
    }
    let block: Vec<&str> = help
        .lines()
        .skip_while(|l| *l != "Examples:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert!(block.len() >= 3, "{args:?}: no Examples block:\n{help}");
    for line in &block {
        assert!(
            line.starts_with("  trailsift "),
            "{args:?}: an example was wrapped; this line continues one: {line:?}\n{help}"
        );
    }
    for example in whole {
        assert!(
            block.contains(example),
            "{args:?}: {example:?} is not one line of the examples:\n{help}"
        );
    }
}

#[test]
fn help_examples_fit_80_columns() {
    assert_examples_unbroken(
        &["--help"],
        &[
            "  trailsift analyze fixtures/trail --out out",
            "  trailsift analyze s3://my-trail --start 2026-03-01 --end 2026-03-02 --out out",
            "  trailsift analyze ./trail --region us-east-1 --start 2026-03-01 --out out",
            "  trailsift gen --out /tmp/trail --records 1000000 --seed 7",
        ],
    );
    assert_examples_unbroken(
        &["analyze", "--help"],
        &[
            "  trailsift analyze s3://my-trail --start 2026-03-01 --end 2026-03-02 --out out",
            "  trailsift analyze s3://my-trail --account 111122223333 --out out",
            "  trailsift analyze s3://trail/logs --endpoint-url http://127.0.0.1:9000",
            "  trailsift analyze trail --start 2026-03-01T06:00:00Z --end 2026-03-02",
            "  trailsift analyze trail/AWSLogs/111122223333 --quota us-east-1=150000",
        ],
    );
}

#[test]
fn quiet_and_verbose_together_are_a_usage_error() {
    for args in [
        &["-q", "-v", "man"][..],
        &["man", "--quiet", "--verbose"],
        &["-q", "man", "-v"],
    ] {
        let o = trailsift(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?} printed a page");
    }
}

/// `analyze EXTRA` into an --out under a regular file: it cannot create the directory.
/// EXTRA comes after the subcommand, where the global flags must work too.
fn failing_run(extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"").expect("write file");
    let out = file.join("out");
    let trail = fixture_trail();
    let mut args = vec!["analyze"];
    args.extend(extra);
    args.extend([trail.as_str(), "--no-progress", "--out", path_str(&out)]);
    let o = trailsift(&args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    o
}

fn error_lines(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter(|l| l.starts_with("trailsift: error:") || l.starts_with("caused by: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn verbose_prints_every_cause_of_an_error_on_its_own_line() {
    let verbose = error_lines(&failing_run(&["-v"]));
    assert!(
        verbose.len() > 1,
        "-v printed the error on one line: {verbose:?}"
    );
    assert!(verbose[0].starts_with("trailsift: error: cannot create the --out directory"));
    assert!(verbose[1..].iter().all(|l| l.starts_with("caused by: ")));

    let plain = error_lines(&failing_run(&[]));
    assert_eq!(plain.len(), 1, "without -v, one error line: {plain:?}");
    // The one line still carries every cause.
    let cause = verbose[1].trim_start_matches("caused by: ");
    assert!(plain[0].contains(cause), "{plain:?} lacks {cause:?}");
}

#[test]
fn quiet_still_reports_errors_with_the_same_status() {
    let o = failing_run(&["-q"]);
    assert!(o.stdout.is_empty(), "-q printed on stdout");
    assert_eq!(error_lines(&o).len(), 1, "-q hid the error: {}", stderr(&o));
}
