//! The run: list the inputs, read every object on rayon workers (each folding into its own
//! accumulators, no locks on the hot path), merge, and hand the result to the writers.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use rayon::prelude::*;
use simd_json::{Buffers, INPUT_PADDING, tape::Tape};

use crate::aggregate::{Accumulators, RecordFilter};
use crate::decode::{self, DecodeError};
use crate::log_file::{self, LogFileError};
use crate::progress::Progress;
use crate::record::Record;
use crate::source::{self, Listing, Location, ObjectFilter, ObjectRef, SkippedObjects};

/// Everything `analyze` needs, free of command-line concerns.
#[derive(Debug, Clone)]
pub struct AnalyzeConfig {
    pub inputs: Vec<String>,
    pub out_dir: PathBuf,
    pub filter: RecordFilter,
    /// Seconds after an event within which its file is delivered (object pruning).
    pub delivery_allowance: i64,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
    pub top: usize,
    /// `--quota REGION=RPS` overrides of the default symmetric quota.
    pub quota_overrides: BTreeMap<String, u64>,
    pub progress: bool,
    pub strict: bool,
    pub max_object_bytes: u64,
}

/// An object that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Failure {
    pub key: String,
    pub reason: String,
}

/// What the run did with the objects it listed.
#[derive(Debug, Clone, Default)]
pub struct ObjectCounts {
    pub listed: u64,
    pub read: u64,
    pub skipped: SkippedObjects,
    pub failed: u64,
}

/// The merged result of a run.
pub struct Analysis {
    pub acc: Accumulators,
    pub objects: ObjectCounts,
    /// Sorted by key.
    pub failures: Vec<Failure>,
    pub bytes_compressed: u64,
    pub bytes_decompressed: u64,
    pub wall_seconds: f64,
}

/// One worker's share of the run: its accumulators and reusable buffers.
struct Worker {
    acc: Accumulators,
    raw: Vec<u8>,
    json: Vec<u8>,
    buffers: Buffers,
    tape: Option<Tape<'static>>,
    read: u64,
    failures: Vec<Failure>,
    bytes_compressed: u64,
    bytes_decompressed: u64,
}

impl Worker {
    fn new() -> Worker {
        Worker {
            acc: Accumulators::default(),
            raw: Vec::new(),
            json: Vec::new(),
            buffers: Buffers::new(1 << 20),
            tape: None,
            read: 0,
            failures: Vec::new(),
            bytes_compressed: 0,
            bytes_decompressed: 0,
        }
    }

    fn merge(mut self, other: Worker) -> Worker {
        self.acc.merge(other.acc);
        self.read += other.read;
        self.failures.extend(other.failures);
        self.bytes_compressed += other.bytes_compressed;
        self.bytes_decompressed += other.bytes_decompressed;
        self
    }

    fn read_object(&mut self, obj: &ObjectRef, cfg: &AnalyzeConfig, progress: &Progress) {
        let before = self.acc.records.total;
        match self.try_read_object(obj, cfg) {
            Ok(()) => self.read += 1,
            Err(reason) => self.failures.push(Failure {
                key: obj.key.clone(),
                reason,
            }),
        }
        progress.object_done(self.raw.len() as u64, self.acc.records.total - before);
    }

    fn try_read_object(&mut self, obj: &ObjectRef, cfg: &AnalyzeConfig) -> Result<(), String> {
        self.raw.clear();
        match &obj.location {
            Location::File(path) => std::fs::File::open(path)
                .and_then(|mut f| f.read_to_end(&mut self.raw))
                .map_err(|e| format!("cannot read file: {e}"))?,
        };
        self.bytes_compressed += self.raw.len() as u64;
        decode::decode(
            &self.raw,
            obj.key.ends_with(".gz"),
            cfg.max_object_bytes,
            &mut self.json,
        )
        .map_err(|e: DecodeError| e.to_string())?;
        self.bytes_decompressed += self.json.len() as u64;
        let len = self.json.len();
        self.json.resize(len + INPUT_PADDING, 0);

        let mut tape = self.tape.take().unwrap_or_else(Tape::null).reset();
        let parsed = simd_json::fill_tape_padded(&mut self.json, len, &mut self.buffers, &mut tape);
        let outcome = parsed
            .map_err(|e| LogFileError::InvalidJson(e.to_string()))
            .and_then(|()| log_file::records(&tape))
            .map(|records| {
                for value in records.iter() {
                    match Record::from_tape(value) {
                        Ok(record) => self.acc.add(&record, &cfg.filter),
                        Err(why) => self.acc.count_malformed(why),
                    }
                }
            });
        self.tape = Some(tape.reset());
        outcome.map_err(|e| e.to_string())
    }
}

/// Lists the inputs into the objects to read.
pub fn list_inputs(cfg: &AnalyzeConfig) -> Result<Listing> {
    let filter = ObjectFilter {
        start: cfg.filter.start,
        end: cfg.filter.end,
        delivery_allowance: cfg.delivery_allowance,
        accounts: cfg.filter.accounts.clone(),
        regions: cfg.filter.regions.clone(),
    };
    let mut listing = Listing::default();
    for input in &cfg.inputs {
        source::local::list(input.as_ref(), &filter, &mut listing)?;
    }
    Ok(listing)
}

/// Runs the whole analysis (without writing outputs).
pub fn analyze(cfg: &AnalyzeConfig) -> Result<Analysis> {
    let started = Instant::now();
    let listing = list_inputs(cfg)?;
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = cfg.threads {
        pool = pool.num_threads(n);
    }
    let pool = pool.build().context("cannot start worker threads")?;
    let progress = Progress::new(listing.objects.len() as u64, cfg.progress);
    let merged = pool.install(|| {
        listing
            .objects
            .par_iter()
            .fold(Worker::new, |mut w, obj| {
                w.read_object(obj, cfg, &progress);
                w
            })
            .reduce_with(Worker::merge)
    });
    progress.finish();
    let mut merged = merged.unwrap_or_else(Worker::new);
    merged.failures.sort();
    Ok(Analysis {
        objects: ObjectCounts {
            listed: listing.listed,
            read: merged.read,
            skipped: listing.skipped,
            failed: merged.failures.len() as u64,
        },
        acc: merged.acc,
        failures: merged.failures,
        bytes_compressed: merged.bytes_compressed,
        bytes_decompressed: merged.bytes_decompressed,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}
