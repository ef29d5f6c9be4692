//! Throughput of the synthetic trail generator: records per second and bytes per record.
//!
//! With `[[bench]] name = "gen"` and `harness = false` in Cargo.toml: `cargo bench --bench gen`.
//! Under the default libtest harness: `cargo test --release --bench gen -- --ignored --nocapture`.
//! `TRAILSIFT_BENCH_RECORDS` sets the size (default 1,000,000).

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use trailsift::synth::{GenConfig, generate};

/// (objects, compressed bytes, uncompressed bytes) of the log files under `root`.
fn sizes(root: &Path) -> Result<(u64, u64, u64)> {
    let (mut objects, mut compressed, mut raw) = (0, 0, 0);
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().contains("/CloudTrail/") {
                objects += 1;
                compressed += path.metadata()?.len();
                let mut decoder = flate2::read::GzDecoder::new(std::fs::File::open(&path)?);
                raw += std::io::copy(&mut decoder, &mut std::io::sink())?;
            }
        }
    }
    Ok((objects, compressed, raw))
}

fn measure(records: u64) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let cfg = GenConfig {
        out: dir.path().join("trail"),
        records,
        ..GenConfig::default()
    };
    let started = Instant::now();
    let truth = generate(&cfg)?;
    let secs = started.elapsed().as_secs_f64();
    let (objects, compressed, raw) = sizes(&cfg.out)?;
    let per_record = |bytes: u64| bytes as f64 / truth.records_total.max(1) as f64;
    println!(
        "gen: {} records in {secs:.2} s = {:.0} records/s; {objects} log files, {compressed} bytes \
         gzipped ({:.0} B/record), {raw} bytes of JSON ({:.0} B/record)",
        truth.records_total,
        truth.records_total as f64 / secs,
        per_record(compressed),
        per_record(raw),
    );
    Ok(())
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<()> {
    let records = match std::env::var("TRAILSIFT_BENCH_RECORDS") {
        Ok(n) => n.parse()?,
        Err(_) => 1_000_000,
    };
    measure(records)
}

#[cfg(test)]
#[test]
#[ignore = "benchmark: cargo test --release --bench gen -- --ignored --nocapture"]
fn generate_one_million_records() -> Result<()> {
    main()
}
