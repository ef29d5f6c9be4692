//! Real CloudTrail records published by others (fixtures/real, sources and licences in
//! fixtures/real/SOURCES.md), packed into the delivered layout by
//! scripts/pack-real-records.py: every one must be read, none lost.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{analyze, repo_root, summary};

fn real_records() -> PathBuf {
    repo_root().join("fixtures/real")
}

/// Runs the packer with python3 into `out`. Python is a requirement of the test suite, not
/// something a test installs: without it the test fails and says so.
pub fn pack(out: &Path) {
    let script = repo_root().join("scripts/pack-real-records.py");
    let output = match Command::new("python3")
        .arg(&script)
        .arg(out)
        .arg("--data")
        .arg(real_records())
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "python3 was not found on PATH: this test needs Python 3 (standard library only) \
             to run {}; install python3 and run the tests again",
            script.display()
        ),
        Err(e) => panic!("python3 {} could not start: {e}", script.display()),
    };
    assert!(
        output.status.success(),
        "pack-real-records.py failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_published_record_is_read_with_no_failed_object() {
    let packed = tempfile::tempdir().expect("tempdir");
    pack(&packed.path().join("trail"));
    let count: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(packed.path().join("trail/pack-count.json"))
            .expect("pack-count.json"),
    )
    .expect("JSON");
    let packed_records = count["records"].as_u64().expect("records");
    assert!(
        packed_records > 900,
        "fixtures/real holds about 959 usable records, got {packed_records}"
    );

    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&packed.path().join("trail/AWSLogs")], out.path(), &[]);
    let s = summary(out.path());
    assert_eq!(s["objects"]["failed"], 0, "{}", s["failures"]);
    assert_eq!(s["objects"]["read"], count["objects"], "{s}");
    assert_eq!(s["records"]["total"].as_u64(), Some(packed_records), "{s}");
    assert_eq!(s["records"]["malformed"], 0, "{s}");
    // Only a UUID-shaped eventID makes two records one (docs/CLOUDTRAIL.md §1). The
    // published sets repeat 38 records with the same UUID eventID and the same fields (the
    // same documentation example copied into more than one project): each counts once,
    // whatever its source. Pairs that reuse a placeholder id (`1`, `...-EXAMPLE...`) on
    // different records are all counted.
    assert_eq!(s["records"]["duplicates"], 38, "{s}");
    assert_eq!(
        s["records"]["duplicate_reasons"]["same_event_id"], 38,
        "{s}"
    );
}

/// Files published by others ship only with their origin and licence named.
#[test]
fn every_real_record_file_names_its_source_and_licence() {
    let sources = std::fs::read_to_string(real_records().join("SOURCES.md"))
        .expect("fixtures/real/SOURCES.md");
    let mut data_files = 0;
    for entry in walkdir::WalkDir::new(real_records()).min_depth(2) {
        let entry = entry.expect("walk fixtures/real");
        if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_str().expect("utf-8 name");
        let folder = entry
            .path()
            .parent()
            .and_then(Path::file_name)
            .and_then(|f| f.to_str())
            .expect("a folder per source");
        if name.starts_with("LICENSE") || name == "NOTICE" {
            assert!(
                sources.contains(&format!("`{folder}/{name}`"))
                    || sources.contains(&format!("`{name}`")),
                "{folder}/{name} is not mentioned in SOURCES.md"
            );
            continue;
        }
        data_files += 1;
        assert!(
            sources.contains(&format!("`{name}`")),
            "{folder}/{name} has no entry in fixtures/real/SOURCES.md"
        );
        let has_licence = std::fs::read_dir(entry.path().parent().expect("folder"))
            .expect("read folder")
            .any(|e| {
                e.expect("entry")
                    .file_name()
                    .to_str()
                    .is_some_and(|n| n.starts_with("LICENSE"))
            });
        assert!(has_licence, "{folder}/ has no LICENSE beside its data");
    }
    assert!(
        data_files >= 39,
        "only {data_files} data files in fixtures/real"
    );
}
