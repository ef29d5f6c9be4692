//! Per-stage throughput on a generated trail: gunzip (both backends), parse + attribute +
//! aggregate, merge, and Parquet write. `cargo bench --bench stages`.
//!
//! `TRAILSIFT_BENCH_RECORDS` sets the trail size (default 50,000 records: big enough for
//! real-sized objects, small enough to keep in memory).

use std::io::Read;
use std::path::Path;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use trailsift::engine::{
    DEFAULT_PRICE_PER_10K_REQUESTS, Gate, KmsInsights, ObjectParser, OutputContext, Quotas,
    RecordFilter, Rows, Tables, write_all,
};
use trailsift::synth::{GenConfig, generate};

struct Trail {
    objects: Vec<Vec<u8>>,
    records: u64,
    decompressed: u64,
}

fn log_files(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            log_files(&path, out);
        } else if path.to_string_lossy().contains("/CloudTrail/") {
            out.push(std::fs::read(&path).expect("read"));
        }
    }
}

fn trail() -> Trail {
    let records = std::env::var("TRAILSIFT_BENCH_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = GenConfig {
        out: dir.path().to_path_buf(),
        records,
        seed: 7,
        ..GenConfig::default()
    };
    let truth = generate(&cfg).expect("generate");
    let mut objects = Vec::new();
    log_files(dir.path(), &mut objects);
    let mut parser = ObjectParser::new(u64::MAX);
    let decompressed = objects
        .iter()
        .map(|o| parser.decode(o, true).expect("gzip") as u64)
        .sum();
    Trail {
        objects,
        records: truth.records_total,
        decompressed,
    }
}

fn fold_all(trail: &Trail, parser: &mut ObjectParser) -> Tables {
    let mut acc = Tables::default();
    let filter = RecordFilter::default();
    let gate = Gate {
        filter: &filter,
        epoch: None,
        log: None,
    };
    for o in &trail.objects {
        let len = parser.decode(o, true).expect("gzip");
        parser.fold(len, &mut acc, &gate).expect("log file");
    }
    acc
}

fn stages(c: &mut Criterion) {
    let trail = trail();
    let mut parser = ObjectParser::new(u64::MAX);

    let mut g = c.benchmark_group("gunzip");
    g.throughput(Throughput::Bytes(trail.decompressed));
    g.sample_size(10);
    g.bench_function("libdeflate (used)", |b| {
        b.iter(|| {
            trail
                .objects
                .iter()
                .map(|o| parser.decode(o, true).expect("gzip"))
                .sum::<usize>()
        })
    });
    let mut out = Vec::new();
    g.bench_function("flate2 zlib-rs streaming", |b| {
        b.iter(|| {
            trail
                .objects
                .iter()
                .map(|o| {
                    out.clear();
                    flate2::read::MultiGzDecoder::new(&o[..])
                        .read_to_end(&mut out)
                        .expect("gzip")
                })
                .sum::<usize>()
        })
    });
    g.finish();

    // Decompressed once up front, so this measures parse + attribute + aggregate alone.
    let json: Vec<Vec<u8>> = trail
        .objects
        .iter()
        .map(|o| {
            let mut raw = Vec::new();
            flate2::read::MultiGzDecoder::new(&o[..])
                .read_to_end(&mut raw)
                .expect("gzip");
            raw
        })
        .collect();
    for (name, throughput) in [
        (
            "parse+attribute+aggregate (bytes)",
            Throughput::Bytes(trail.decompressed),
        ),
        (
            "parse+attribute+aggregate (records)",
            Throughput::Elements(trail.records),
        ),
    ] {
        let mut g = c.benchmark_group(name);
        g.throughput(throughput);
        g.sample_size(10);
        g.bench_function("tape", |b| {
            b.iter(|| {
                let mut acc = Tables::default();
                let filter = RecordFilter::default();
                let gate = Gate {
                    filter: &filter,
                    epoch: None,
                    log: None,
                };
                for j in &json {
                    let len = parser.decode(j, false).expect("copy");
                    parser.fold(len, &mut acc, &gate).expect("log file");
                }
                acc.records.total
            })
        });
        g.finish();
    }

    let mut g = c.benchmark_group("end to end in memory (records)");
    g.throughput(Throughput::Elements(trail.records));
    g.sample_size(10);
    g.bench_function("gunzip+parse+attribute+aggregate", |b| {
        b.iter(|| fold_all(&trail, &mut parser).records.total)
    });
    g.finish();

    let mut g = c.benchmark_group("merge + write");
    g.sample_size(10);
    g.bench_function("merge two workers", |b| {
        b.iter_batched(
            || (fold_all(&trail, &mut parser), fold_all(&trail, &mut parser)),
            |(mut a, other)| {
                a.merge(other);
                a.records.total
            },
            BatchSize::PerIteration,
        )
    });
    let acc = fold_all(&trail, &mut parser);
    let dir = tempfile::tempdir().expect("tempdir");
    g.bench_function("parquet write (every file)", |b| {
        b.iter(|| {
            let rows = Rows::of(&acc);
            let quotas = Quotas::default();
            let insights = KmsInsights::build(&acc, &rows, &quotas, DEFAULT_PRICE_PER_10K_REQUESTS);
            let output = OutputContext {
                quotas: &quotas,
                projection: insights.projection,
                price_per_10k: insights.price_per_10k,
                cache_max_age: insights.cache_max_age,
            };
            write_all(dir.path(), &rows, &output).expect("write")
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
