//! The run: list the inputs, read every object on rayon workers (each folding into its own
//! accumulators, no locks on the hot path), merge, and hand the result to the writers.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use anyhow::{Context, Result};
use simd_json::{Buffers, INPUT_PADDING, tape::Tape};

use crate::aggregate::caching::DataKeyCaching;
use crate::aggregate::dedup::{self, Dedup, DedupStats, DeferredRecord};
use crate::aggregate::{Accumulators, RecordFilter};
use crate::decode::{DecodeError, Decoder};
use crate::log_file::{self, LogFileError};
use crate::progress::Progress;
use crate::record::Record;
use crate::resume::{self, Checkpoint, ResumeStats, RunIdentity, Saver, StateOptions};
use crate::source::fetch::{self, Fetched};
use crate::source::s3::{S3Options, S3Session, S3Stats, S3Url};
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
    /// Delivery hours within which two copies of one KMS call are counted once.
    pub dedup_window_hours: i64,
    /// Maximum age of a data key cache entry, seconds (data key caching candidates).
    pub cache_max_age: i64,
    /// KMS request price, US dollars per 10,000 requests.
    pub kms_price_per_10k: f64,
    /// How to reach S3 for `s3://` inputs.
    pub s3: S3Options,
    /// `--state FILE`: checkpoints to resume from after an interruption.
    pub state: Option<StateOptions>,
}

/// An object that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
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
    pub dedup: DedupStats,
    /// What the S3 side did, when an input was `s3://`.
    pub s3: Option<Arc<S3Stats>>,
    /// What `--state` did, when given.
    pub resume: Option<ResumeStats>,
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

    /// The JSON left by the last [`ObjectParser::decode`] (its first `len` bytes).
    pub fn json(&self) -> &[u8] {
        &self.json
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
        self.with_records(len, |records| {
            for value in records.iter() {
                match Record::from_tape(value) {
                    Ok(record) => acc.add(&record, filter),
                    Err(why) => acc.count_malformed(why),
                }
            }
        })
    }

    /// The parse floor, for the benches: builds the tape of the `len` bytes left by
    /// [`ObjectParser::decode`] and counts the records, reading none of their fields.
    pub fn count_records(&mut self, len: usize) -> Result<usize, LogFileError> {
        self.with_records(len, |records| records.len())
    }

    /// Builds the tape of the `len` bytes left by [`ObjectParser::decode`] (in the reused
    /// tape) and hands its `Records` array to `f`.
    fn with_records<T>(
        &mut self,
        len: usize,
        f: impl FnOnce(simd_json::tape::Array<'_, '_>) -> T,
    ) -> Result<T, LogFileError> {
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
            .map(f);
        self.tape = Some(tape.reset());
        outcome
    }
}

/// Empty accumulators configured for this run.
fn accumulators(cfg: &AnalyzeConfig) -> Accumulators {
    let mut acc = Accumulators::default();
    acc.caching = DataKeyCaching::new(cfg.cache_max_age);
    acc
}

/// What has been read: a worker's share, or the whole run's once merged. This is what a
/// `--state` checkpoint saves.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    pub acc: Accumulators,
    pub read: u64,
    pub failures: Vec<Failure>,
    pub bytes_compressed: u64,
    pub bytes_decompressed: u64,
}

impl Totals {
    fn new(cfg: &AnalyzeConfig) -> Totals {
        Totals {
            acc: accumulators(cfg),
            ..Totals::default()
        }
    }

    fn merge(&mut self, other: Totals) {
        self.acc.merge(other.acc);
        self.read += other.read;
        self.failures.extend(other.failures);
        self.bytes_compressed += other.bytes_compressed;
        self.bytes_decompressed += other.bytes_decompressed;
    }
}

/// One worker's share of the run and its reusable buffers.
struct Worker {
    totals: Totals,
    raw: Vec<u8>,
    parser: ObjectParser,
    /// `totals.acc.records.total` when progress was last told.
    records_reported: u64,
}

impl Worker {
    fn new(cfg: &AnalyzeConfig) -> Worker {
        Worker {
            totals: Totals::new(cfg),
            raw: Vec::new(),
            parser: ObjectParser::new(cfg.max_object_bytes),
            records_reported: 0,
        }
    }

    /// Hands over what the worker has read, leaving it empty (for a checkpoint).
    fn take_totals(&mut self, cfg: &AnalyzeConfig) -> Totals {
        self.records_reported = 0;
        std::mem::replace(&mut self.totals, Totals::new(cfg))
    }

    fn read_object(&mut self, obj: &ObjectRef, cfg: &AnalyzeConfig, progress: &Progress) {
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear();
        let read = match &obj.location {
            Location::File(path) => std::fs::File::open(path)
                .and_then(|mut f| f.read_to_end(&mut raw))
                .map_err(|e| format!("cannot read file: {e}")),
            Location::S3 { .. } => Err("an S3 object must be fetched first".to_owned()),
        };
        let outcome = read.and_then(|_| self.read_bytes(obj, &raw, cfg));
        self.finish_object(obj, outcome, raw.len() as u64, progress);
        self.raw = raw;
    }

    /// An object fetched from S3 (or the reason it could not be).
    fn read_fetched(&mut self, fetched: Fetched, cfg: &AnalyzeConfig, progress: &Progress) {
        let Fetched { object, body } = fetched;
        let size = body.as_ref().map_or(0, |b| b.len() as u64);
        let outcome = body.and_then(|raw| self.read_bytes(&object, &raw, cfg));
        self.finish_object(&object, outcome, size, progress);
    }

    fn finish_object(
        &mut self,
        obj: &ObjectRef,
        outcome: Result<(), String>,
        size: u64,
        progress: &Progress,
    ) {
        match outcome {
            Ok(()) => self.totals.read += 1,
            Err(reason) => self.totals.failures.push(Failure {
                key: obj.key.clone(),
                reason,
            }),
        }
        progress.object_done(size, self.records_since_last_object());
    }

    /// Records folded since the last call (for progress).
    fn records_since_last_object(&mut self) -> u64 {
        let now = self.totals.acc.records.total;
        let new = now - self.records_reported;
        self.records_reported = now;
        new
    }

    /// Decodes, parses and folds one object's bytes, whatever they came from.
    fn read_bytes(
        &mut self,
        obj: &ObjectRef,
        raw: &[u8],
        cfg: &AnalyzeConfig,
    ) -> Result<(), String> {
        self.totals.bytes_compressed += raw.len() as u64;
        let len = self
            .parser
            .decode(raw, obj.key.ends_with(".gz"))
            .map_err(|e| e.to_string())?;
        self.totals.bytes_decompressed += len as u64;
        self.parser
            .fold(len, &mut self.totals.acc, &cfg.filter)
            .map_err(|e| e.to_string())
    }
}

/// Lists the inputs into the objects to read. The S3 session, made at the first `s3://`
/// input, is handed back to fetch with.
pub fn list_inputs(
    cfg: &AnalyzeConfig,
    progress: &Progress,
) -> Result<(Listing, Option<S3Session>)> {
    let filter = ObjectFilter {
        start: cfg.filter.start,
        end: cfg.filter.end,
        delivery_allowance: cfg.delivery_allowance,
        accounts: cfg.filter.accounts.clone(),
        regions: cfg.filter.regions.clone(),
    };
    let mut listing = Listing::default();
    let mut session: Option<S3Session> = None;
    for input in &cfg.inputs {
        match S3Url::parse(input) {
            Some(url) => {
                let url = url?;
                let s3 = match session.take() {
                    Some(s) => s,
                    None => {
                        let s = S3Session::connect(&cfg.s3)?;
                        progress.watch_s3(s.stats.clone());
                        s
                    }
                };
                source::s3::list(&s3, &url, &filter, &mut listing, progress)?;
                session = Some(s3);
            }
            None => source::local::list(input.as_ref(), &filter, &mut listing)?,
        }
        progress.listed(listing.listed);
    }
    Ok((listing, session))
}

/// Runs the whole analysis (without writing outputs).
///
/// Objects are read one delivery hour at a time, oldest first, each hour's objects in
/// parallel: that is what lets deduplication (aggregate::dedup) keep only a window of
/// recent event ids and still give the same answer whatever the number of threads, and what
/// gives `--state` its checkpoints (resume).
pub fn analyze(cfg: &AnalyzeConfig) -> Result<Analysis> {
    let started = Instant::now();
    let progress = Progress::new(cfg.progress);
    let run = RunIdentity::of(cfg);
    let checkpoint = match &cfg.state {
        Some(state) => resume::load(&state.path, &run)?,
        None => None,
    };
    let (mut listing, session) = list_inputs(cfg, &progress)?;
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = cfg.threads {
        pool = pool.num_threads(n);
    }
    let pool = pool.build().context("cannot start worker threads")?;
    // Stable: within an epoch, objects keep their listing (key) order.
    listing
        .objects
        .sort_by_key(|o| dedup::epoch_of(o.layout.delivered_at));

    let Start {
        mut carried,
        mut deferred,
        mut dedup,
        mut saver,
    } = start(cfg, run, checkpoint, &mut listing)?;

    progress.start_reading(listing.objects.len() as u64);
    let epochs: Vec<&[ObjectRef]> = listing
        .objects
        .chunk_by(|a, b| {
            dedup::epoch_of(a.layout.delivered_at) == dedup::epoch_of(b.layout.delivered_at)
        })
        .collect();
    // S3 bodies of an epoch are fetched while the epoch before is read: at most two
    // fetchers run, so memory holds at most 2 x (requests in flight + queued) bodies.
    let queued = 2 * pool.current_num_threads();
    let start_fetch = |epoch: Option<&&[ObjectRef]>| {
        let session = session.as_ref()?;
        let remote: Vec<ObjectRef> = epoch?
            .iter()
            .filter(|o| matches!(o.location, Location::S3 { .. }))
            .cloned()
            .collect();
        (!remote.is_empty()).then(|| fetch::start(session, remote, queued, cfg.max_object_bytes))
    };
    // Exactly one worker per thread, for the whole run, each taking the next object of the
    // epoch from a shared counter (local files) or channel (S3 bodies): memory is (threads x
    // buffers of the largest object) + aggregates, whatever the count of objects, and a slow
    // object never leaves a thread idle. The mutexes are taken once per thread and epoch,
    // never per object.
    let workers: Vec<Mutex<Worker>> = (0..pool.current_num_threads())
        .map(|_| Mutex::new(Worker::new(cfg)))
        .collect();
    // The key owners' copies decided by dedup (those set aside wait in `deferred`).
    let mut decided = accumulators(cfg);
    let mut next_fetch = start_fetch(epochs.first());
    for (k, epoch) in epochs.iter().enumerate() {
        let fetched = next_fetch.take();
        next_fetch = start_fetch(epochs.get(k + 1));
        let hour = dedup::epoch_of(epoch[0].layout.delivered_at);
        let view = dedup.open(hour, &mut deferred, &mut decided);
        let next = AtomicUsize::new(0);
        pool.broadcast(|ctx| {
            let Some(slot) = workers.get(ctx.index()) else {
                return;
            };
            let mut worker = slot.lock().unwrap_or_else(PoisonError::into_inner);
            worker.totals.acc.epoch = Some(Arc::clone(&view));
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(obj) = epoch.get(i) else {
                    break;
                };
                if matches!(obj.location, Location::File(_)) {
                    worker.read_object(obj, cfg, &progress);
                }
            }
            // Every worker drains the channel until the epoch's fetcher closes it.
            if let Some(rx) = &fetched {
                for f in rx.iter() {
                    worker.read_fetched(f, cfg, &progress);
                }
            }
            worker.totals.acc.epoch = None;
        });
        for slot in &workers {
            let mut worker = slot.lock().unwrap_or_else(PoisonError::into_inner);
            deferred.append(&mut worker.totals.acc.deferred);
        }
        dedup.close(&view, deferred.len());
        if let Some(saver) = &mut saver {
            saver.epoch_done(epoch);
            if saver.due(k + 1 == epochs.len()) {
                // Every worker is idle: fold what they hold into the carried totals, which
                // are then the whole run so far.
                for slot in &workers {
                    let mut worker = slot.lock().unwrap_or_else(PoisonError::into_inner);
                    carried.merge(worker.take_totals(cfg));
                }
                carried
                    .acc
                    .merge(std::mem::replace(&mut decided, accumulators(cfg)));
                if let Err(e) = saver.save(hour, &carried, &deferred, &dedup) {
                    let e = format!("{e:#}");
                    progress.warn(&e);
                    saver.stats.errors.push(e);
                }
            }
        }
    }
    dedup.finish(&mut deferred, &mut decided);
    progress.finish();
    for slot in workers {
        carried.merge(
            slot.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .totals,
        );
    }
    carried.acc.merge(decided);
    carried.failures.sort();
    let s3 = session.map(|s| s.stats.clone());
    Ok(Analysis {
        objects: ObjectCounts {
            listed: listing.listed,
            read: carried.read,
            skipped: listing.skipped,
            failed: carried.failures.len() as u64,
        },
        acc: carried.acc,
        failures: carried.failures,
        bytes_compressed: carried.bytes_compressed,
        bytes_decompressed: carried.bytes_decompressed,
        wall_seconds: started.elapsed().as_secs_f64(),
        dedup: dedup.stats(),
        s3,
        resume: saver.map(|s| s.stats),
    })
}

/// Where a run starts: from nothing, or from the checkpoint of an interrupted run.
struct Start {
    carried: Totals,
    /// Key owners' copies set aside by dedup.
    deferred: Vec<DeferredRecord>,
    dedup: Dedup,
    /// With `--state`.
    saver: Option<Saver>,
}

/// Holds the listing against the checkpoint, if there is one, and leaves in it only the
/// objects of the hours the checkpoint has not finished.
fn start(
    cfg: &AnalyzeConfig,
    run: RunIdentity,
    checkpoint: Option<Checkpoint>,
    listing: &mut Listing,
) -> Result<Start> {
    let mut start = Start {
        carried: Totals::new(cfg),
        deferred: Vec::new(),
        dedup: Dedup::new(cfg.dedup_window_hours),
        saver: None,
    };
    let Some(state) = &cfg.state else {
        return Ok(start);
    };
    let mut saver = Saver::new(state.clone(), run);
    if let Some(c) = checkpoint {
        let plan = resume::plan(&c, &listing.objects)?;
        listing.objects.retain(|o| !c.covers(o));
        listing.skipped.after_state = plan.late.len() as u64;
        saver.resume(plan, c.finished);
        (start.carried, start.deferred, start.dedup) = (c.totals, c.deferred, c.dedup);
    }
    start.saver = Some(saver);
    Ok(start)
}
