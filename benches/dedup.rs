//! Cost of duplicate detection per KMS record (aggregate::dedup), alone, so that it can be
//! compared with what reading a record costs (about 1 µs per core, BENCHMARKS.md):
//!
//! - `key only`: building the 64-bit key from the eventID, time, name and account;
//! - `private set`: the key into a per-thread FxHashSet (no sharing: what a per-worker set
//!   would cost, and why it cannot see another worker's copy);
//! - `shared set`: `EpochView::admit`, the 64 mutex-guarded shards every worker writes to,
//!   with 1 and with N threads at once (contention).
//!
//! `cargo test --release --bench dedup -- --ignored --nocapture`.
//! `TRAILSIFT_BENCH_RECORDS` sets the records per thread (default 2,000,000);
//! `TRAILSIFT_BENCH_THREADS` the threads of the contended run (default: every core).

use std::hint::black_box;
use std::time::Instant;

use rustc_hash::FxHashSet;
use trailsift::aggregate::dedup::{Admission, Dedup, DeferredSink, record_key};
use trailsift::record::{Identity, Record};

struct Discard;

impl DeferredSink for Discard {
    fn count(&mut self, _: &Record<'_>) {}
    fn drop_duplicate(&mut self) {}
}

/// UUID-shaped event ids, distinct per thread.
fn ids(thread: usize, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let x = (thread as u64) << 48 | i as u64;
            let y = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            format!(
                "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                y >> 32,
                (y >> 16) & 0xffff,
                y & 0xfff,
                (x >> 4) & 0xfff,
                x & 0xffff_ffff_ffff
            )
        })
        .collect()
}

fn record(id: &str) -> Record<'_> {
    Record {
        event_time: 1_772_323_200,
        event_source: "kms.amazonaws.com",
        event_name: Some("Decrypt"),
        recipient_account_id: Some("111122223333"),
        event_id: Some(id),
        identity: Identity {
            account_id: Some("111122223333"),
            ..Identity::default()
        },
        ..Record::default()
    }
}

fn report(what: &str, records: usize, secs: f64) {
    println!(
        "dedup: {what:<28} {:>7.1} ns/record ({:.1} M records/s)",
        secs * 1e9 / records as f64,
        records as f64 / secs / 1e6
    );
}

#[cfg_attr(test, allow(dead_code))]
fn main() {
    let n: usize = std::env::var("TRAILSIFT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let threads: usize = std::env::var("TRAILSIFT_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |p| p.get()));
    let per_thread: Vec<Vec<String>> = (0..threads).map(|t| ids(t, n)).collect();

    let started = Instant::now();
    for id in &per_thread[0] {
        black_box(record_key(id, &record(id)));
    }
    report("key only", n, started.elapsed().as_secs_f64());

    let started = Instant::now();
    let mut set = FxHashSet::default();
    for id in &per_thread[0] {
        black_box(set.insert(record_key(id, &record(id))));
    }
    report("private set", n, started.elapsed().as_secs_f64());
    drop(set);

    let mut dedup = Dedup::new(1);
    let view = dedup.open(Some(0), &mut Vec::new(), &mut Discard);
    let started = Instant::now();
    for id in &per_thread[0] {
        assert_eq!(view.admit(&record(id)), Admission::New);
    }
    report("shared set, 1 thread", n, started.elapsed().as_secs_f64());
    // The same ids again: every one is now a duplicate.
    let started = Instant::now();
    for id in &per_thread[0] {
        assert_eq!(view.admit(&record(id)), Admission::Duplicate);
    }
    report(
        "shared set, all duplicates",
        n,
        started.elapsed().as_secs_f64(),
    );

    let view = dedup.open(Some(3600), &mut Vec::new(), &mut Discard);
    let started = Instant::now();
    std::thread::scope(|s| {
        for ids in &per_thread {
            let view = &view;
            s.spawn(move || {
                for id in ids {
                    black_box(view.admit(&record(id)));
                }
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    // Per record and thread: the time each worker spends, comparable with 1 thread.
    report(&format!("shared set, {threads} threads"), n, secs);
}

#[cfg(test)]
#[test]
#[ignore = "benchmark: cargo test --release --bench dedup -- --ignored --nocapture"]
fn shared_set_cost() {
    main()
}
