//! The first hour with trailsift: what a new user meets. The report fits a 100-column
//! terminal and opens with the answers, report.html opens with them too and never cuts a
//! list without saying so, and mistakes (an --out that cannot be written, an input with no
//! log file) are said before any work is lost, with what to do.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use unicode_width::UnicodeWidthStr;

use crate::support::{analyze, read_table, repo_root};

fn run(args: &[&str], out: &Path) -> Output {
    assert_cmd::Command::cargo_bin("trailsift")
        .expect("binary built")
        .arg("analyze")
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--no-progress")
        .output()
        .expect("trailsift runs")
}

fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_report_fits_100_columns_and_opens_with_the_answers() {
    let out = tempfile::tempdir().expect("tempdir");
    let report = analyze(&[&repo_root().join("fixtures/trail")], out.path(), &[]);
    // Every line but the output directory's (a path of the user's choosing) fits.
    for line in report
        .lines()
        .filter(|l| !l.starts_with("Outputs written to"))
    {
        assert!(line.width() <= 100, "{} columns: {line}", line.width());
    }
    // The first line answers both S3 questions (fixtures/EXPECTED.md: 17 SigV2 requests from
    // 6 principals; 6 legacy-TLS requests from 4), the next the KMS one.
    let mut lines = report.lines();
    let first = lines.next().expect("a first line");
    assert!(
        first.contains(
            "17 SigV2 requests from 6 principals, 6 legacy-TLS requests from 4 principals"
        ),
        "{first}"
    );
    let second = lines.next().expect("a second line");
    assert!(
        second.contains("KMS: the busiest second came to"),
        "{second}"
    );
    // Counts of one are singular; nothing says "1 requests".
    for wrong in ["1 requests", "1 objects", "1 hours", "1 records", "1 calls"] {
        assert!(
            !report.contains(&format!(" {wrong}")),
            "{wrong:?} in\n{report}"
        );
    }
    assert!(report.contains(": 1 request\n"), "{report}");
    // Each distinct advice once: app-reader's and alice's presigned URLs were fetched by
    // different clients (two advices), aws-powershell's two requests share one.
    let flat = flat(&report);
    let powershell =
        "aws-powershell/3.1.0.0 cannot sign SigV4: upgrade aws-powershell to 3.3.0.0 or later";
    assert_eq!(flat.matches(powershell).count(), 1, "{report}");
    assert_eq!(flat.matches("only fetched it").count(), 2, "{report}");
    // A client points to its advice by number.
    assert!(
        report.contains("aws-cli/1.10.1  observed  5 requests  [1]"),
        "{report}"
    );
    assert!(
        flat.contains("[1] botocore 1.4.1 signs for aws-cli/1.10.1"),
        "{report}"
    );
}

/// The principals of a to-do table of report.html (the rows that head each principal).
fn page_principals(page: &str, section: &str) -> BTreeSet<String> {
    let part = page.split(section).nth(1).expect("section");
    let part = part.split("</table>").next().unwrap_or(part);
    part.split("<tr class=\"principal\"><td colspan=\"7\">")
        .skip(1)
        .filter_map(|s| s.split(": ").next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn report_html_opens_with_the_answers_and_counts_every_sigv2_row() {
    let out = tempfile::tempdir().expect("tempdir");
    // --top 2: four of the six SigV2 principals are not shown, and must be counted.
    analyze(
        &[&repo_root().join("fixtures/trail")],
        out.path(),
        &["--top", "2"],
    );
    let page = std::fs::read_to_string(out.path().join("report.html")).expect("report.html");
    let answers = page
        .split("<ul class=\"answers\">")
        .nth(1)
        .and_then(|s| s.split("</ul>").next())
        .expect("the answers at the top");
    assert!(
        answers.contains("<b>6 principals</b> still sign S3 requests with SigV2</a> (17 requests)"),
        "{answers}"
    );
    assert!(
        answers.contains("<b>4 principals</b> still use TLS 1.0 or 1.1</a> (6 requests)"),
        "{answers}"
    );
    assert!(
        answers.contains("KMS: the busiest second came to"),
        "{answers}"
    );
    let top = page.find("<ul class=\"answers\">").expect("answers");
    assert!(
        top < page.find("<h2").expect("a section"),
        "answers come first"
    );

    // Every principal of sigv2_requests.parquet is in the page or counted in "N more".
    let rows = read_table(&out.path().join("sigv2_requests.parquet"));
    let principals: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r["principal"].str().map(str::to_owned))
        .collect();
    let shown = page_principals(&page, "SigV2 callers (S3)");
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(shown.is_subset(&principals), "{shown:?} vs {principals:?}");
    let hidden = principals.len() - shown.len();
    assert!(
        page.contains(&format!("... and {hidden} more principals</p>")),
        "{hidden} hidden principals not counted"
    );
    // Each shown client carries its advice and its buckets.
    let sigv2 = page.split("SigV2 callers (S3)").nth(1).expect("section");
    let sigv2 = sigv2.split("</table>").next().unwrap_or(sigv2);
    assert!(sigv2.contains("<tr class=\"advice\">"), "advice rows");
    assert!(sigv2.contains("legacy-reports"), "buckets");
}

#[test]
fn an_out_that_cannot_be_written_is_refused_before_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let trail = repo_root().join("fixtures/trail");
    let trail = trail.to_str().expect("utf-8 path");
    for (out, says) in [
        (Path::new("/dev/null").to_path_buf(), "is not a directory"),
        (file.clone(), "is not a directory"),
        (file.join("sub"), "cannot create the --out directory"),
    ] {
        let output = run(&[trail], &out);
        assert_eq!(output.status.code(), Some(2), "{out:?}: {output:?}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(err.contains(says), "{out:?}: {err}");
        assert!(!err.contains("File exists"), "{err}");
        assert!(
            output.stdout.is_empty(),
            "nothing was read, so no report: {output:?}"
        );
    }
}

#[test]
fn an_input_without_log_files_fails_and_says_why_each_file_was_skipped() {
    let out = tempfile::tempdir().expect("tempdir");
    let empty = tempfile::tempdir().expect("tempdir");
    let path = empty.path().to_str().expect("utf-8 path");
    let output = run(&[path], &out.path().join("empty"));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains(&format!(
            "no CloudTrail log file was read: no file was found in {path}"
        )),
        "{err}"
    );

    // Three files whose names are not CloudTrail log file names, and a digest.
    let odd = tempfile::tempdir().expect("tempdir");
    for name in ["events.json", "export.json.gz", "notes.txt"] {
        std::fs::write(odd.path().join(name), "{\"Records\": []}").expect("write");
    }
    let digest = odd
        .path()
        .join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01");
    std::fs::create_dir_all(&digest).expect("mkdir");
    std::fs::write(
        digest.join(
            "111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20260301T020000Z.json.gz",
        ),
        "x",
    )
    .expect("write");
    let output = run(
        &[odd.path().to_str().expect("utf-8")],
        &out.path().join("odd"),
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let err = flat(&String::from_utf8_lossy(&output.stderr));
    assert!(
        err.contains("3 files skipped: their names are not CloudTrail log file names (pass a file by name to read it anyway)"),
        "{err}"
    );
    assert!(
        err.contains("1 file skipped: CloudTrail digest files"),
        "{err}"
    );
    // The accounting is still written: the user can see what was and was not read.
    let summary = crate::support::summary(&out.path().join("odd"));
    assert_eq!(
        summary["objects"]["skipped"]["not_cloudtrail"], 3,
        "{summary}"
    );

    // Passed by name, such a file is read, and the run succeeds.
    let output = run(
        &[odd.path().join("events.json").to_str().expect("utf-8")],
        &out.path().join("named"),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}
