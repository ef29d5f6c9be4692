//! Cost of duplicate detection per KMS record (aggregate::dedup), alone, so that it can be
//! compared with what reading a record costs (BENCHMARKS.md):
//!
//! - `key only`: building the 64-bit key from the eventID, time, name and account;
//! - `private set`: the key into a per-thread FxHashSet (no sharing: what a per-worker set
//!   would cost, and why it cannot see another worker's copy);
//! - `shared set`: `EpochView::admit`, the 64 mutex-guarded shards every worker writes to,
//!   with 1 thread (new keys, then the same keys again: all duplicates) and with N threads
//!   at once (contention).
//!
//! `cargo bench --bench dedup`. Throughput is in records (elements) per thread: for the
//! contended run, the wall time while every thread admits its own records, so that it
//! compares with 1 thread. `TRAILSIFT_BENCH_RECORDS` sets the records per thread (default
//! 200,000); `TRAILSIFT_BENCH_THREADS` the threads of the contended run (default: every
//! core).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rustc_hash::FxHashSet;
use trailsift::engine::{
    Admission, Dedup, DeferredSink, EpochView, Identity, Record, record_key, uuid_key,
};

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

fn env(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// A view of a fresh epoch: empty sets, as when a delivery hour opens.
fn fresh_view() -> std::sync::Arc<EpochView> {
    Dedup::new(1).open(Some(0), &mut Discard)
}

fn bench(c: &mut Criterion) {
    let n = env("TRAILSIFT_BENCH_RECORDS").unwrap_or(200_000);
    let threads = env("TRAILSIFT_BENCH_THREADS")
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |p| p.get()));
    let per_thread: Vec<Vec<String>> = (0..threads.max(1)).map(|t| ids(t, n)).collect();
    let first = &per_thread[0];

    let mut group = c.benchmark_group("dedup");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("key only", |b| {
        b.iter(|| {
            let mut x = 0u64;
            for id in first {
                x ^= uuid_key(black_box(id)).map_or(0, |k| record_key(k, &record(id)));
            }
            x
        })
    });
    group.bench_function("private set", |b| {
        b.iter(|| {
            let mut set = FxHashSet::default();
            for id in first {
                set.insert(uuid_key(black_box(id)).map(|k| record_key(k, &record(id))));
            }
            set.len()
        })
    });
    // Every iteration admits into empty shards; making them is not timed.
    group.bench_function("shared set, 1 thread", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let view = fresh_view();
                let started = Instant::now();
                for id in first {
                    black_box(view.admit(&record(id)));
                }
                spent += started.elapsed();
                assert_eq!(view.admit(&record(&first[0])), Admission::Duplicate);
            }
            spent
        })
    });
    // The same ids again: every one is a duplicate.
    group.bench_function("shared set, all duplicates", |b| {
        let view = fresh_view();
        for id in first {
            assert_eq!(view.admit(&record(id)), Admission::New);
        }
        b.iter(|| {
            let mut duplicates = 0u64;
            for id in first {
                duplicates += u64::from(view.admit(&record(id)) == Admission::Duplicate);
            }
            assert_eq!(duplicates, n as u64);
            duplicates
        })
    });
    // Every thread admits its own ids into the same shards at once; the wall time of the
    // slowest, per record of one thread.
    group.bench_function(format!("shared set, {threads} threads"), |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let view = fresh_view();
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
                spent += started.elapsed();
            }
            spent
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
