//! What bounds the speed: records per second on 1..=N threads, in memory (no disk, no
//! listing), for each prefix of the work done per object:
//!
//! - `inflate`: gunzip only (libdeflate, CRC checked), the floor of any `.json.gz` reader;
//! - `inflate+index`: plus the structural index (json::index, stage 1: the fastest kernel
//!   the CPU has); `+index/avx2` and `+index/portable` the same with those kernels;
//! - `inflate+walk`: plus the on-demand walk and every record's extraction (what a run
//!   parses), nothing folded;
//! - `inflate+tape`: simd-json's whole tape and the `Records` array instead, no field read;
//!   `inflate+tape+extract` plus the same extraction from the tape (the parse before the walk);
//! - `inflate+sonic-lazy`: sonic-rs's lazy iteration over records and one level of keys;
//! - `zlib chunks` and `zlib chunks+index`: zlib-rs inflating 64 KiB at a time, and the
//!   index fed after each chunk while it is still in cache (inflate fused with the scan);
//! - `everything`: the walk plus attribution and aggregation (what a run does), and
//!   `everything/tape` the same through simd-json's tape.
//!
//! `cargo bench --bench ceiling` (`TRAILSIFT_BENCH_RECORDS`, default 300,000; the best of
//! `TRAILSIFT_BENCH_ROUNDS`, default 3, per cell). Objects are shared out one at a time
//! from a counter, as the pipeline does.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use trailsift::engine::{
    Gate, IndexKernel as Kernel, JsonIndex, ObjectParser, RecordFilter, Tables,
};
use trailsift::synth::{GenConfig, generate};

#[derive(Clone, Copy)]
enum Work {
    Inflate,
    InflateIndex,
    InflateIndexWith(Kernel),
    InflateWalk,
    InflateTape,
    InflateTapeExtract,
    InflateOnDemand,
    ZlibChunks,
    ZlibChunksIndex,
    Everything,
    EverythingTape,
}

/// The chunk zlib-rs inflates into at a time: well inside a core's 512 KiB L2.
const CHUNK: usize = 64 << 10;

/// Inflates `gz` 64 KiB at a time into `json` (grown as needed); with `index`, feeds the
/// structural index after each chunk. Returns the bytes.
fn inflate_chunks(gz: &[u8], json: &mut Vec<u8>, mut index: Option<&mut JsonIndex>) -> u64 {
    use std::io::Read;
    let mut decoder = flate2::read::GzDecoder::new(gz);
    if let Some(index) = index.as_deref_mut() {
        index.reset();
    }
    let mut len = 0;
    loop {
        if json.len() < len + CHUNK {
            json.resize(len + CHUNK, 0);
        }
        let n = decoder.read(&mut json[len..len + CHUNK]).expect("gzip");
        if n == 0 {
            break;
        }
        len += n;
        if let Some(index) = index.as_deref_mut() {
            index.feed(&json[..len], false).expect("index");
        }
    }
    if let Some(index) = index {
        index.feed(&json[..len], true).expect("index");
        return index.finish(&json[..len]).expect("index").len() as u64;
    }
    len as u64
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
                    parser.tape_only = matches!(work, Work::EverythingTape);
                    let mut other = JsonIndex::default();
                    let mut chunked = (Vec::new(), JsonIndex::default());
                    let mut acc = Tables::default();
                    let filter = RecordFilter::default();
                    let mut records = 0u64;
                    while let Some(o) = objects.get(next.fetch_add(1, Ordering::Relaxed)) {
                        match work {
                            Work::ZlibChunks => {
                                records += inflate_chunks(o, &mut chunked.0, None);
                                continue;
                            }
                            Work::ZlibChunksIndex => {
                                let (json, index) = &mut chunked;
                                records += inflate_chunks(o, json, Some(index));
                                continue;
                            }
                            _ => {}
                        }
                        let len = parser.decode(o, true).expect("gzip");
                        records += match work {
                            // Bytes or tokens, only so that the work is not optimised away.
                            Work::Inflate | Work::ZlibChunks | Work::ZlibChunksIndex => len as u64,
                            Work::InflateIndex => parser.index_only(len).expect("index") as u64,
                            Work::InflateIndexWith(kernel) => other
                                .build_with(kernel, &parser.json()[..len])
                                .expect("index")
                                .len()
                                as u64,
                            Work::InflateWalk => parser.count_records(len).expect("json") as u64,
                            Work::InflateTape => {
                                parser.count_records_tape(len).expect("json") as u64
                            }
                            Work::InflateTapeExtract => {
                                let mut n = 0u64;
                                parser
                                    .for_each_record_tape(len, |r| n += u64::from(r.is_ok()))
                                    .expect("json");
                                n
                            }
                            Work::InflateOnDemand => walk_on_demand(&parser.json()[..len]),
                            Work::Everything | Work::EverythingTape => {
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
    println!("{:<16} {:>8} {:>14}", "work", "threads", "records/s");
    let only = std::env::var("TRAILSIFT_BENCH_ONLY").unwrap_or_default();
    for (name, work) in [
        ("inflate", Work::Inflate),
        ("inflate+index", Work::InflateIndex),
        ("+index/avx2", Work::InflateIndexWith(Kernel::Avx2)),
        ("+index/portable", Work::InflateIndexWith(Kernel::Portable)),
        ("inflate+walk", Work::InflateWalk),
        ("inflate+tape", Work::InflateTape),
        ("+tape+extract", Work::InflateTapeExtract),
        ("+sonic-lazy", Work::InflateOnDemand),
        ("zlib chunks", Work::ZlibChunks),
        ("zlib ch+index", Work::ZlibChunksIndex),
        ("everything", Work::Everything),
        ("everything/tape", Work::EverythingTape),
    ] {
        // TRAILSIFT_BENCH_ONLY=a,b: only the rows named (a quicker run).
        if !only.is_empty() && !only.split(',').any(|o| o == name) {
            continue;
        }
        for threads in 1..=cores {
            let mut best = f64::MAX;
            for _ in 0..rounds {
                let started = Instant::now();
                std::hint::black_box(run(&objects, threads, work));
                best = best.min(started.elapsed().as_secs_f64());
            }
            println!(
                "{name:<16} {threads:>8} {:>14.0}",
                truth.records_total as f64 / best
            );
        }
    }
}
