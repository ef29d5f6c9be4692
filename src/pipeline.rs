//! The run: list the inputs, read every object on rayon workers (each folding into its own
//! accumulators, no locks on the hot path), merge, and hand the result to the writers.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use simd_json::{Buffers, INPUT_PADDING, tape::Tape};

use crate::aggregate::{Accumulators, RecordFilter};
use crate::decode::{DecodeError, Decoder};
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

/// Turns an object's bytes into folded records: gunzip, parse, attribute, aggregate. Holds
/// the buffers that are reused from one object to the next (public for the benches).
pub struct ObjectParser {
    /// Decompressed JSON; only grows, with simd-json's padding after the data.
    json: Vec<u8>,
    decoder: Decoder,
    buffers: Buffers,
    tape: Option<Tape<'static>>,
}

impl ObjectParser {
    pub fn new(max_object_bytes: u64) -> ObjectParser {
        ObjectParser {
            json: Vec::new(),
            decoder: Decoder::new(max_object_bytes, INPUT_PADDING),
            buffers: Buffers::new(1 << 20),
            tape: None,
        }
    }

    /// Decompresses `raw` into the parser's buffer; returns the JSON length.
    pub fn decode(&mut self, raw: &[u8], named_gzip: bool) -> Result<usize, DecodeError> {
        self.decoder.decode(raw, named_gzip, &mut self.json)
    }

    /// Parses the `len` bytes left by [`ObjectParser::decode`] and folds every record into `acc`.
    pub fn fold(
        &mut self,
        len: usize,
        acc: &mut Accumulators,
        filter: &RecordFilter,
    ) -> Result<(), LogFileError> {
        let mut tape = self.tape.take().unwrap_or_else(Tape::null).reset();
        let parsed = simd_json::fill_tape_padded(
            &mut self.json[..len + INPUT_PADDING],
            len,
            &mut self.buffers,
            &mut tape,
        );
        let outcome = parsed
            .map_err(|e| LogFileError::InvalidJson(e.to_string()))
            .and_then(|()| log_file::records(&tape))
            .map(|records| {
                for value in records.iter() {
                    match Record::from_tape(value) {
                        Ok(record) => acc.add(&record, filter),
                        Err(why) => acc.count_malformed(why),
                    }
                }
            });
        self.tape = Some(tape.reset());
        outcome
    }
}

/// One worker's share of the run: its accumulators and reusable buffers.
struct Worker {
    acc: Accumulators,
    raw: Vec<u8>,
    parser: ObjectParser,
    read: u64,
    failures: Vec<Failure>,
    bytes_compressed: u64,
    bytes_decompressed: u64,
}

impl Worker {
    fn new(cfg: &AnalyzeConfig) -> Worker {
        Worker {
            acc: Accumulators::default(),
            raw: Vec::new(),
            parser: ObjectParser::new(cfg.max_object_bytes),
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
        let len = self
            .parser
            .decode(&self.raw, obj.key.ends_with(".gz"))
            .map_err(|e| e.to_string())?;
        self.bytes_decompressed += len as u64;
        self.parser
            .fold(len, &mut self.acc, &cfg.filter)
            .map_err(|e| e.to_string())
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
    // Exactly one worker per thread, each taking the next object from a shared counter:
    // memory is (threads x buffers of the largest object) + aggregates, whatever the count
    // of objects, and a slow object never leaves a thread idle.
    let next = AtomicUsize::new(0);
    let workers = pool.broadcast(|_| {
        let mut worker = Worker::new(cfg);
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(obj) = listing.objects.get(i) else {
                break;
            };
            worker.read_object(obj, cfg, &progress);
        }
        worker
    });
    let merged = workers.into_iter().reduce(Worker::merge);
    progress.finish();
    let mut merged = merged.unwrap_or_else(|| Worker::new(cfg));
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
