//! `trailsift bench`: the figures a user gets on their own machine, from the binary alone.

use std::process::Command;

use crate::support::repo_root;

fn bench(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_trailsift"))
        .arg("bench")
        .args(args)
        .args(["--warmup", "0", "--repeats", "1", "--json"])
        .current_dir(repo_root())
        .output()
        .expect("bench runs");
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

#[test]
fn every_stage_is_measured_for_every_thread_count_on_a_generated_trail() {
    let r = bench(&["--records", "3000", "--threads", "1,2"]);
    assert_eq!(r["generated"], true);
    assert_eq!(r["records"], 3000, "{r}");
    let rows = r["rows"].as_array().expect("rows");
    let got: Vec<(String, u64)> = rows
        .iter()
        .map(|row| {
            (
                row["stage"].as_str().expect("stage").to_owned(),
                row["threads"].as_u64().expect("threads"),
            )
        })
        .collect();
    for stage in ["inflate", "inflate+parse", "analysis"] {
        for t in [1, 2] {
            assert!(
                got.contains(&(stage.to_owned(), t)),
                "{stage} at {t}: {got:?}"
            );
        }
    }
    for row in rows {
        assert_eq!(row["records"], 3000);
        assert!(
            row["records_per_second"].as_f64().expect("rate") > 0.0,
            "{row}"
        );
        assert!(
            row["json_gb_per_second"].as_f64().expect("GB/s") > 0.0,
            "{row}"
        );
        assert!(
            row["best_seconds"].as_f64() <= row["median_seconds"].as_f64(),
            "{row}"
        );
        // Linux: the high-water mark is reset per stage; a process holds a few MiB at least.
        assert!(
            row["peak_rss_mib"].as_f64().expect("RSS on Linux") > 1.0,
            "{row}"
        );
    }
    let trail = r["trail"].as_str().expect("trail");
    assert!(
        !std::path::Path::new(trail).exists(),
        "the generated trail is removed: {trail}"
    );
}

#[test]
fn a_trail_of_the_users_is_measured_as_it_is() {
    let r = bench(&["fixtures/trail", "--threads", "1"]);
    assert_eq!(r["generated"], false);
    // The fixture trail's 66 records (2 of them malformed: still parsed), in 9 log files.
    assert_eq!(
        (r["records"].as_u64(), r["objects"].as_u64()),
        (Some(66), Some(9))
    );
    assert_eq!(r["rows"].as_array().expect("rows").len(), 3);
    let table = Command::new(env!("CARGO_BIN_EXE_trailsift"))
        .args([
            "bench",
            "fixtures/trail",
            "--threads",
            "1",
            "--warmup",
            "0",
            "--repeats",
            "1",
        ])
        .current_dir(repo_root())
        .output()
        .expect("bench runs");
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("inflate+parse") && text.contains("records/s") && text.contains("yours"),
        "{text}"
    );
}

/// The figures say which kernel of the structural index the parse used, and
/// TRAILSIFT_INDEX_KERNEL makes it use another, so a user can measure one against another.
#[test]
fn the_report_names_the_index_kernel_and_the_variable_changes_it() {
    let default = bench(&["fixtures/trail", "--threads", "1"]);
    let chosen = default["index_kernel"].as_str().expect("index_kernel");
    assert!(["avx512", "avx2", "portable"].contains(&chosen), "{chosen}");
    let out = Command::new(env!("CARGO_BIN_EXE_trailsift"))
        .args(["bench", "fixtures/trail", "--threads", "1"])
        .args(["--warmup", "0", "--repeats", "1", "--json"])
        .env("TRAILSIFT_INDEX_KERNEL", "portable")
        .current_dir(repo_root())
        .output()
        .expect("bench runs");
    let portable: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(portable["index_kernel"], "portable");
    assert_eq!(portable["records"], default["records"]);
}
