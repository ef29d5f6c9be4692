//! What bounds the speed: records per second on 1..=N threads, in memory (no disk, no
//! listing), for each prefix of the work done per object:
//!
//! - `inflate`: gunzip only (libdeflate, CRC checked), the floor of any `.json.gz` reader;
//! - `inflate+tape`: plus simd-json's whole tape and the `Records` array, no field read;
//! - `everything`: plus record extraction, attribution and aggregation (what a run does).
//!
//! `cargo bench --bench ceiling` (`TRAILSIFT_BENCH_RECORDS`, default 300,000; the best of
//! `TRAILSIFT_BENCH_ROUNDS`, default 3, per cell). Objects are shared out one at a time
//! from a counter, as the pipeline does.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use trailsift::engine::{Gate, ObjectParser, RecordFilter, Tables};
use trailsift::synth::{GenConfig, generate};

#[derive(Clone, Copy)]
enum Work {
    Inflate,
    InflateTape,
    InflateOnDemand,
    Everything,
}

/// Keys whose values a record's extraction opens (the others are skipped unread).
const NESTED: [&str; 5] = [
    "userIdentity",
    "requestParameters",
    "additionalEventData",
    "tlsDetails",
    "resources",
];

/// What an on-demand parser must do at least: walk `Records`, every record's keys, and one
/// level into the nested values extraction reads; every other value is skipped by SIMD
/// scanning, never materialised. Returns the records walked.
fn walk_on_demand(json: &[u8]) -> u64 {
    let Ok(records) = sonic_rs::get_from_slice(json, &["Records"]) else {
        return 0;
    };
    let mut n = 0;
    for record in sonic_rs::to_array_iter(records.as_raw_str()) {
        let Ok(record) = record else { break };
        n += 1;
        for entry in sonic_rs::to_object_iter(record.as_raw_str()) {
            let Ok((key, value)) = entry else { break };
            if NESTED.contains(&key.as_ref()) {
                for inner in sonic_rs::to_object_iter(value.as_raw_str()) {
                    std::hint::black_box(inner.map(|(k, v)| (k.len(), v.as_raw_str().len())).ok());
                }
            } else {
                std::hint::black_box(value.as_raw_str().len());
            }
        }
    }
    n
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn log_files(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.expect("walk");
        let path = entry.path().to_string_lossy().into_owned();
        if entry.file_type().is_file() && path.contains("/CloudTrail/") {
            out.push(std::fs::read(entry.path()).expect("read"));
        }
    }
}

/// Runs `work` over every object on `threads` threads; returns what it counted.
fn run(objects: &[Vec<u8>], threads: usize, work: Work) -> u64 {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut parser = ObjectParser::new(u64::MAX);
                    let mut acc = Tables::default();
                    let filter = RecordFilter::default();
                    let mut records = 0u64;
                    while let Some(o) = objects.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let len = parser.decode(o, true).expect("gzip");
                        records += match work {
                            // Bytes, only so that the work is not optimised away.
                            Work::Inflate => len as u64,
                            Work::InflateTape => parser.count_records(len).expect("json") as u64,
                            Work::InflateOnDemand => walk_on_demand(&parser.json()[..len]),
                            Work::Everything => {
                                let before = acc.records.total;
                                parser
                                    .fold(
                                        len,
                                        &mut acc,
                                        &Gate {
                                            filter: &filter,
                                            epoch: None,
                                            log: None,
                                        },
                                    )
                                    .expect("json");
                                acc.records.total - before
                            }
                        };
                    }
                    records
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("worker")).sum()
    })
}

fn main() {
    let records = env_or("TRAILSIFT_BENCH_RECORDS", 300_000);
    let rounds = env_or("TRAILSIFT_BENCH_ROUNDS", 3).max(1);
    let dir = tempfile::tempdir().expect("tempdir");
    let truth = generate(&GenConfig {
        out: dir.path().to_path_buf(),
        records,
        seed: 7,
        ..GenConfig::default()
    })
    .expect("generate");
    let mut objects = Vec::new();
    log_files(dir.path(), &mut objects);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    println!(
        "{} records in {} objects; records/s, best of {rounds} (in memory)",
        truth.records_total,
        objects.len()
    );
    println!("{:<14} {:>8} {:>14}", "work", "threads", "records/s");
    for (name, work) in [
        ("inflate", Work::Inflate),
        ("inflate+tape", Work::InflateTape),
        ("inflate+lazy", Work::InflateOnDemand),
        ("everything", Work::Everything),
    ] {
        for threads in 1..=cores {
            let mut best = f64::MAX;
            for _ in 0..rounds {
                let started = Instant::now();
                std::hint::black_box(run(&objects, threads, work));
                best = best.min(started.elapsed().as_secs_f64());
            }
            println!(
                "{name:<14} {threads:>8} {:>14.0}",
                truth.records_total as f64 / best
            );
        }
    }
}
