//! Real CloudTrail records published by others (../shared/data), packed into the delivered
//! layout by scripts/pack-shared-data.py: every one must be read, none lost.

use std::process::Command;

use crate::support::{analyze, repo_root, summary};

#[test]
fn every_published_record_is_read_with_no_failed_object() {
    let packed = tempfile::tempdir().expect("tempdir");
    let status = Command::new("python3")
        .arg(repo_root().join("scripts/pack-shared-data.py"))
        .arg(packed.path().join("trail"))
        .arg("--data")
        .arg(repo_root().join("../shared/data"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs");
    assert!(status.success(), "pack-shared-data.py failed");
    let count: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(packed.path().join("trail/pack-count.json"))
            .expect("pack-count.json"),
    )
    .expect("JSON");
    let packed_records = count["records"].as_u64().expect("records");
    assert!(
        packed_records > 900,
        "the shared data holds about 959 usable records, got {packed_records}"
    );

    let out = tempfile::tempdir().expect("tempdir");
    analyze(&[&packed.path().join("trail/AWSLogs")], out.path(), &[]);
    let s = summary(out.path());
    assert_eq!(s["objects"]["failed"], 0, "{}", s["failures"]);
    assert_eq!(s["objects"]["read"], count["objects"], "{s}");
    assert_eq!(s["records"]["total"].as_u64(), Some(packed_records), "{s}");
    assert_eq!(s["records"]["malformed"], 0, "{s}");
    // Documentation examples reuse eventIDs on different events. Six KMS pairs share
    // eventID, time, name and recipient; four differ in a field trailsift reads (error code,
    // agent, encryption context) and both copies count. Two differ only in fields it never
    // reads, and count once: GenerateRandom 239cb9f7-ae05-... with and
    // without a Nitro attestation document, and a ScheduleKeyDeletion (eventID "1") with and
    // without `resources`.
    assert_eq!(s["records"]["duplicates"], 2, "{s}");
    assert_eq!(s["records"]["duplicate_reasons"]["same_event_id"], 2, "{s}");
}
