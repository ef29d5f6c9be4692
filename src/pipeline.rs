//! The run: list the inputs, read every object on rayon workers (each folding into its own
//! tables, no locks on the hot path), merge, and hand the result to the writers.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result};
use bumpalo::Bump;
use simd_json::{Buffers, INPUT_PADDING, tape::Tape};

use crate::config::{AnalyzeConfig, RecordFilter};
use crate::decode::{DecodeError, Decoder};
use crate::dedup::{self, Admission, Dedup, DedupStats, EpochView, OccurrenceLog};
use crate::delivery_hours::DeliveryHours;
use crate::failure::{Failure, ObjectError};
use crate::json;
use crate::log_file::{self, LogFileError};
use crate::progress::Progress;
use crate::record::{self, Malformed, Record};
use crate::resume::{self, Checkpoint, ResumeStats, RunIdentity, Saver};
use crate::source::fetch::{self, Fetched};
use crate::source::local_file::FileReader;
use crate::source::s3::{S3Session, S3Stats, S3Url};
use crate::source::{self, Listing, ObjectFilter, ObjectRef, SkippedObjects};
use crate::tables::Tables;
use crate::tables::closed::ClosedHours;
use crate::totals::Totals;

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
    pub tables: Tables,
    pub objects: ObjectCounts,
    /// Sorted by key.
    pub failures: Vec<Failure>,
    pub bytes_compressed: u64,
    pub bytes_decompressed: u64,
    pub dedup: DedupStats,
    /// What the S3 side did, when an input was `s3://`.
    pub s3: Option<Arc<S3Stats>>,
    /// What `--state` did, when given.
    pub resume: Option<ResumeStats>,
    /// A shard's run (`--shard`): what the merge needs beyond the totals.
    pub shard: Option<ShardLog>,
    /// The outputs of `trailsift merge`: what the merge did.
    pub merge: Option<crate::shard::merge::MergeStats>,
    /// The hours closed during the run, spilled out of memory (tables::closed); their rows
    /// join `tables`' as the outputs are written.
    pub closed: Option<ClosedHours>,
}

/// What a shard's run keeps for the merge (shard::partial).
#[derive(Debug, Default)]
pub struct ShardLog {
    /// Per object read (by key): its records' keys.
    pub occurrences: Vec<(String, OccurrenceLog)>,
    /// Key owners' copies of cross-account calls, undecided.
    pub held: Vec<dedup::DeferredRecord>,
}

/// Turns an object's bytes into folded records: gunzip, parse, attribute, aggregate. Holds
/// the buffers that are reused from one object to the next (public for the benches).
///
/// Parsing takes the on-demand path (json: a structural index and a walk that opens only
/// the fields extraction reads); an object it refuses or gives up on (a syntax error, an
/// escape or number it leaves to simd-json, a repeated key) is parsed again with simd-json's
/// tape, which is the authority on what it holds. Records are extracted before any is
/// folded, so an object found invalid halfway folds nothing.
pub struct ObjectParser {
    /// Decompressed JSON; only grows, with simd-json's padding after the data.
    json: Vec<u8>,
    decoder: Decoder,
    buffers: Buffers,
    tape: Option<Tape<'static>>,
    index: json::Index,
    /// Unescaped strings of the object being read.
    arena: Bump,
    /// The extracted records' storage, kept empty between objects (see [`recycle`]).
    records: Vec<Result<Record<'static>, Malformed>>,
    /// Objects the on-demand path handed to simd-json.
    pub handed_to_tape: u64,
    /// Every object through simd-json's tape (the benches' comparison with the old path).
    pub tape_only: bool,
}

/// An empty vector of records of another lifetime, in the same allocation: `collect` reuses
/// a vector's buffer when the element layout is the same, and no element survives.
// `filter_map` because it changes the element type (its lifetime); `filter` cannot.
#[allow(clippy::unnecessary_filter_map)]
fn recycle<'b>(v: Vec<Result<Record<'_>, Malformed>>) -> Vec<Result<Record<'b>, Malformed>> {
    v.into_iter().filter_map(|_| None).collect()
}

impl ObjectParser {
    pub fn new(max_object_bytes: u64) -> ObjectParser {
        ObjectParser {
            json: Vec::new(),
            decoder: Decoder::new(max_object_bytes, INPUT_PADDING),
            buffers: Buffers::new(1 << 20),
            tape: None,
            index: json::Index::default(),
            arena: Bump::new(),
            records: Vec::new(),
            handed_to_tape: 0,
            tape_only: false,
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

    /// Parses the `len` bytes left by [`ObjectParser::decode`] and folds every record that
    /// passes `gate` into `tables`.
    pub fn fold(
        &mut self,
        len: usize,
        tables: &mut Tables,
        gate: &Gate<'_>,
    ) -> Result<(), LogFileError> {
        self.each_object(len, |records| gate.fold_object(records, tables))
    }

    /// Calls `f` with every record of the `len` bytes left by [`ObjectParser::decode`]
    /// (malformed ones left out): the merge reading an object again.
    pub fn for_each_record(
        &mut self,
        len: usize,
        mut f: impl FnMut(&Record<'_>),
    ) -> Result<(), LogFileError> {
        self.each(len, |record| {
            if let Ok(record) = record {
                f(record);
            }
        })
    }

    /// The parse alone, for `trailsift bench` and the benches: extracts every record of the
    /// `len` bytes left by [`ObjectParser::decode`] and counts them, folding none.
    pub fn count_records(&mut self, len: usize) -> Result<usize, LogFileError> {
        let mut n = 0;
        self.each(len, |_| n += 1)?;
        Ok(n)
    }

    /// simd-json's floor, for the benches: builds the tape and counts the records, reading
    /// none of their fields.
    pub fn count_records_tape(&mut self, len: usize) -> Result<usize, LogFileError> {
        self.with_tape(len, |records| records.len())
    }

    /// simd-json's tape and the same extraction (`Record::from_tape`), for the benches and
    /// the tests that hold the on-demand path to it.
    pub fn for_each_record_tape(
        &mut self,
        len: usize,
        mut f: impl FnMut(Result<&Record<'_>, Malformed>),
    ) -> Result<(), LogFileError> {
        self.with_tape(len, |records| {
            for value in records.iter() {
                f(Record::from_tape(value).as_ref().map_err(|why| *why));
            }
        })
    }

    /// Stage 1 alone, for the benches: the structural index of the `len` bytes; its tokens.
    pub fn index_only(&mut self, len: usize) -> Option<usize> {
        self.index.build(&self.json[..len]).ok()?;
        Some(self.index.tokens().len())
    }

    /// Whether the on-demand path reads the `len` bytes without handing them to simd-json.
    pub fn on_demand_reads(&mut self, len: usize) -> bool {
        let before = self.handed_to_tape;
        let _ = self.count_records(len);
        self.handed_to_tape == before
    }

    /// Every record of the `len` bytes, in order, to `f`.
    fn each(
        &mut self,
        len: usize,
        mut f: impl FnMut(&Result<Record<'_>, Malformed>),
    ) -> Result<(), LogFileError> {
        self.each_object(len, |records| records.iter().for_each(&mut f))
    }

    /// All the records of the `len` bytes at once, in order, to `f`: on demand when it can,
    /// else from simd-json's tape.
    fn each_object(
        &mut self,
        len: usize,
        mut f: impl FnMut(&[Result<Record<'_>, Malformed>]),
    ) -> Result<(), LogFileError> {
        self.arena.reset();
        let mut records = recycle(std::mem::take(&mut self.records));
        let walked = !self.tape_only && {
            let bytes = &self.json[..len];
            // In slices first (the usual shape); else the whole object indexed, then walked.
            match simdutf8::basic::from_utf8(bytes) {
                Ok(text) => {
                    record::walk::records_in_slices(
                        text,
                        &mut self.index,
                        &self.arena,
                        &mut records,
                    )
                    .is_ok()
                        || {
                            records.clear();
                            self.index.build(bytes).is_ok_and(|text| {
                                let doc = json::Doc::new(text, &self.index, &self.arena);
                                record::walk::records(&doc, &mut records).is_ok()
                            })
                        }
                }
                Err(_) => false,
            }
        };
        if walked {
            f(&records);
        }
        records.clear();
        self.records = recycle(records);
        if walked {
            return Ok(());
        }
        self.handed_to_tape += u64::from(!self.tape_only);
        self.with_tape(len, |records| {
            let records: Vec<_> = records.iter().map(Record::from_tape).collect();
            f(&records);
        })
    }

    /// Builds the tape of the `len` bytes left by [`ObjectParser::decode`] (in the reused
    /// tape) and hands its `Records` array to `f`.
    fn with_tape<T>(
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

/// What decides whether a parsed record counts: the user's filter, then the epoch's
/// deduplication (every record: dedup); without an epoch every record that passes the filter counts.
pub struct Gate<'a> {
    pub filter: &'a RecordFilter,
    pub epoch: Option<&'a EpochView>,
    /// A shard's run: where the object's record keys are written down for the merge.
    pub log: Option<&'a RefCell<OccurrenceLog>>,
}

impl Gate<'_> {
    /// Counts one object's records, and folds each into `tables` unless it is malformed,
    /// filtered out, a duplicate, or a key owner's copy set aside for dedup to decide later.
    /// The object's records are admitted at once ([`EpochView::admit_all`]), then folded in
    /// their order.
    pub fn fold_object(&self, records: &[Result<Record<'_>, Malformed>], tables: &mut Tables) {
        let mut passed = Vec::with_capacity(records.len());
        for record in records {
            match record {
                Ok(r) => {
                    tables.records.count_read(r.odd_fields);
                    match self.filter.check(r) {
                        Ok(()) => passed.push(r),
                        Err(why) => tables.records.count_skipped(why),
                    }
                }
                Err(why) => tables.records.count_malformed(*why),
            }
        }
        let Some(epoch) = self.epoch else {
            passed.iter().for_each(|r| tables.add(r));
            return;
        };
        let mut log = self.log.map(RefCell::borrow_mut);
        let admitted = epoch.admit_all(&passed, log.as_deref_mut());
        for (r, admission) in passed.iter().zip(admitted) {
            match admission {
                Admission::New => tables.add(r),
                Admission::Duplicate => tables.records.duplicate_event_id += 1,
                Admission::OwnerCopy { shared } => epoch.set_aside(r, shared),
            }
        }
    }
}

/// One worker's share of the run and its reusable buffers.
struct Worker {
    totals: Totals,
    /// The delivery epoch being read, while one is.
    epoch: Option<Arc<EpochView>>,
    raw: Vec<u8>,
    files: FileReader,
    parser: ObjectParser,
    /// `totals.acc.records.total` when progress was last told.
    records_reported: u64,
    /// A shard's run: each object's record keys, for the merge.
    occurrences: Option<Vec<(String, OccurrenceLog)>>,
}

impl Worker {
    fn new(cfg: &AnalyzeConfig) -> Worker {
        Worker {
            totals: Totals::new(cfg.cache_max_age),
            epoch: None,
            raw: Vec::new(),
            files: FileReader::default(),
            parser: ObjectParser::new(cfg.max_object_bytes),
            records_reported: 0,
            occurrences: cfg.shard.is_some().then(Vec::new),
        }
    }

    /// Hands over what the worker has read, leaving it empty (for a checkpoint).
    fn take_totals(&mut self, cfg: &AnalyzeConfig) -> Totals {
        self.records_reported = 0;
        std::mem::replace(&mut self.totals, Totals::new(cfg.cache_max_age))
    }

    fn read_object(&mut self, obj: &ObjectRef, cfg: &AnalyzeConfig, progress: &Progress) {
        let mut raw = std::mem::take(&mut self.raw);
        let read = match obj.path() {
            Some(path) => self
                .files
                .read(path, obj.size, &mut raw)
                .map_err(ObjectError::Read),
            None => Err(ObjectError::Fetch(
                "an S3 object must be fetched first".to_owned(),
            )),
        };
        let size = read.as_ref().map_or(0, |&n| n);
        let outcome = read.and_then(|n| self.read_bytes(obj, &raw[..n], cfg));
        self.finish_object(obj, outcome, size as u64, progress);
        self.raw = raw;
    }

    /// An object fetched from S3 (or the reason it could not be).
    fn read_fetched(&mut self, fetched: Fetched, cfg: &AnalyzeConfig, progress: &Progress) {
        let Fetched { object, body, slot } = fetched;
        let size = body.as_ref().map_or(0, |b| b.len() as u64);
        let outcome = body.and_then(|raw| self.read_bytes(&object, &raw, cfg));
        // The body is read (and dropped): its place in memory goes to the next GET.
        drop(slot);
        self.finish_object(&object, outcome, size, progress);
    }

    fn finish_object(
        &mut self,
        obj: &ObjectRef,
        outcome: Result<(), ObjectError>,
        size: u64,
        progress: &Progress,
    ) {
        match outcome {
            Ok(()) => self.totals.read += 1,
            Err(error) => self.totals.failures.push(Failure::new(&obj.key, &error)),
        }
        progress.object_done(size, self.records_since_last_object());
    }

    /// Records folded since the last call (for progress).
    fn records_since_last_object(&mut self) -> u64 {
        let now = self.totals.tables.records.total;
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
    ) -> Result<(), ObjectError> {
        self.totals.bytes_compressed += raw.len() as u64;
        let len = self.parser.decode(raw, obj.key.ends_with(".gz"))?;
        self.totals.bytes_decompressed += len as u64;
        let log = self.occurrences.as_ref().map(|_| RefCell::default());
        let gate = Gate {
            filter: &cfg.filter,
            epoch: self.epoch.as_deref(),
            log: log.as_ref(),
        };
        self.parser.fold(len, &mut self.totals.tables, &gate)?;
        if let (Some(all), Some(log)) = (&mut self.occurrences, log) {
            let log: OccurrenceLog = log.into_inner();
            if !log.keys.is_empty() {
                all.push((obj.key.clone(), log));
            }
        }
        Ok(())
    }
}

/// Lists the inputs into the objects to read. The S3 session, made at the first `s3://`
/// input, is handed back to fetch with.
///
/// With `defer_days`, day folders (local and S3) are left for the run to list as it reaches
/// them (delivery_hours): only a run that reads its listing in order, whole, and alone can,
/// so not a shard's plan, a shard, or a run with `--state` (whose checkpoint is matched
/// against the whole listing, resume).
pub fn list_inputs(
    cfg: &AnalyzeConfig,
    progress: &Progress,
    defer_days: bool,
) -> Result<(Listing, Option<S3Session>)> {
    let filter = object_filter(cfg);
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
                        progress.watch_remote(s.stats.clone());
                        s
                    }
                };
                source::s3::list(&s3, &url, &filter, &mut listing, progress, defer_days)?;
                session = Some(s3);
            }
            // Folders are walked on `--threads` threads (source::local).
            None if defer_days => listing_pool(cfg)?.install(|| {
                source::local::list_deferring_days(input.as_ref(), &filter, &mut listing)
            })?,
            None => listing_pool(cfg)?
                .install(|| source::local::list(input.as_ref(), &filter, &mut listing))?,
        }
        progress.listed(listing.listed);
    }
    Ok((listing, session))
}

/// Which objects the run's filters can want, judged from their keys.
fn object_filter(cfg: &AnalyzeConfig) -> ObjectFilter {
    ObjectFilter {
        start: cfg.filter.start,
        end: cfg.filter.end,
        delivery_allowance: cfg.delivery_allowance,
        accounts: cfg.filter.accounts.clone(),
        regions: cfg.filter.regions.clone(),
    }
}

/// The threads a local listing walks folders on: as many as will read.
fn listing_pool(cfg: &AnalyzeConfig) -> Result<rayon::ThreadPool> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = cfg.threads {
        pool = pool.num_threads(n);
    }
    pool.build().context("cannot start listing threads")
}

/// Runs the whole analysis (without writing outputs).
///
/// Objects are read one delivery hour at a time, oldest first, each hour's objects in
/// parallel: that is what lets deduplication (dedup) keep only a window of
/// recent event ids and still give the same answer whatever the number of threads, and what
/// gives `--state` its checkpoints (resume).
pub fn analyze(cfg: &AnalyzeConfig) -> Result<Analysis> {
    let progress = Progress::new(cfg.progress);
    let run = RunIdentity::of(cfg);
    let checkpoint = match &cfg.state {
        Some(state) => resume::load(&state.path, &run)?,
        None => None,
    };
    let defer_days = cfg.state.is_none() && cfg.shard.is_none();
    let (listing, session) = list_inputs(cfg, &progress, defer_days)?;
    analyze_listing(cfg, listing, session, checkpoint, progress)
}

/// Reads the objects of `listing` (a run's, or one shard's share): see [`analyze`]. In a
/// shard's run (`cfg.shard`) key owners' copies are held for the merge, and every object's
/// record keys are written down (shard::partial).
pub fn analyze_listing(
    cfg: &AnalyzeConfig,
    mut listing: Listing,
    session: Option<S3Session>,
    checkpoint: Option<Checkpoint>,
    progress: Progress,
) -> Result<Analysis> {
    let run = RunIdentity::of(cfg);
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = cfg.threads {
        pool = pool.num_threads(n);
    }
    let pool = pool.build().context("cannot start worker threads")?;
    let Start {
        mut carried,
        mut dedup,
        mut saver,
    } = start(cfg, run, checkpoint, &mut listing)?;

    progress.start_reading(
        listing.objects.len() as u64,
        listing.objects.iter().map(|o| o.size).sum(),
    );
    // Each delivery hour's objects in a vector of their own, dropped once the hour is read;
    // day folders left unlisted are listed as the reading reaches them (delivery_hours), S3
    // ones in the background, a day or so ahead.
    let listed = listing.listed;
    let mut skipped = std::mem::take(&mut listing.skipped);
    let filter = object_filter(cfg);
    let lister = session.as_ref().map(|s| s.day_lister(filter.clone()));
    let mut hours = DeliveryHours::new(
        std::mem::take(&mut listing.objects),
        std::mem::take(&mut listing.days),
        filter,
        lister,
    );
    // S3 bodies are fetched in reading order, as far ahead of the workers as
    // `--s3-requests` allows (fetch): memory holds at most twice that many bodies. Each hour
    // goes to the fetcher once it is known in full (delivery_hours settles it), while the
    // later days are still being listed. The S3 objects move to the fetcher, which drops
    // each once read; `--state` needs every object of an hour once it is read (resume), so
    // with a state file they are copied instead.
    let fetcher = session
        .as_ref()
        .map(|s| fetch::Fetcher::start(s, cfg.max_object_bytes));
    let mut fetching: VecDeque<Option<flume::Receiver<Fetched>>> = VecDeque::new();
    let copy_remote = saver.is_some();
    // Exactly one worker per thread, for the whole run, each taking the next object of the
    // epoch from a shared counter (local files) or channel (S3 bodies): memory is (threads x
    // buffers of the largest object) + aggregates, whatever the count of objects, and a slow
    // object never leaves a thread idle. The mutexes are taken once per thread and epoch,
    // never per object.
    let workers: Vec<Mutex<Worker>> = (0..pool.current_num_threads())
        .map(|_| Mutex::new(Worker::new(cfg)))
        .collect();
    // The key owners' copies dedup decided to count.
    let mut decided = Tables::new(cfg.cache_max_age);
    let mut closed = closing(cfg, &progress);
    let mut k = 0;
    while let Some((hour, epoch)) = hours.next(&pool, &progress, |hour| {
        if let Some(fetcher) = &fetcher {
            fetching.push_back(fetcher.add(remote_of(hour, copy_remote)));
        }
    })? {
        // Every hour handed out was settled first, so its channel (if any) is at the front.
        let fetched = fetching.pop_front().flatten();
        let view = dedup.open(hour, &mut decided);
        let next = AtomicUsize::new(0);
        pool.broadcast(|ctx| {
            let Some(slot) = workers.get(ctx.index()) else {
                return;
            };
            let mut worker = slot.lock().unwrap_or_else(PoisonError::into_inner);
            worker.epoch = Some(Arc::clone(&view));
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(obj) = epoch.get(i) else {
                    break;
                };
                if !obj.is_remote() {
                    worker.read_object(obj, cfg, &progress);
                }
            }
            // Every worker drains the channel until the epoch's fetcher closes it.
            if let Some(rx) = &fetched {
                for f in rx.iter() {
                    worker.read_fetched(f, cfg, &progress);
                }
            }
            worker.epoch = None;
        });
        dedup.close(&view);
        if let (Some(spill), Some(hour)) = (&mut closed, hour) {
            // Every worker is idle between delivery hours.
            let mut guards: Vec<_> = workers
                .iter()
                .map(|w| w.lock().unwrap_or_else(PoisonError::into_inner))
                .collect();
            let mut sources: Vec<&mut Tables> =
                guards.iter_mut().map(|w| &mut w.totals.tables).collect();
            sources.push(&mut decided);
            if let Some(e) = spill.close(closed_before(hour, cfg.delivery_allowance), &mut sources)
            {
                // Nothing is lost: what could not be written stays in memory, encoded.
                progress.warn(&format!(
                    "cannot write closed hours to a temporary file ({e}); they stay in memory"
                ));
            }
            // The hours' objects and closed rows are freed: the pages go back, once a day of
            // delivery hours (a trim walks every free chunk: after every hour it added 2-4 s
            // to the 14 s of a month of an organization trail).
            if k % GIVE_BACK_EVERY == 0 {
                crate::memory::give_back();
            }
        }
        if let Some(saver) = &mut saver {
            saver.epoch_done(&epoch);
            if saver.due(hours.is_empty()) {
                // Every worker is idle: fold what they hold into the carried totals, which
                // are then the whole run so far.
                for slot in &workers {
                    let mut worker = slot.lock().unwrap_or_else(PoisonError::into_inner);
                    carried.merge(worker.take_totals(cfg));
                }
                carried.tables.merge(std::mem::replace(
                    &mut decided,
                    Tables::new(cfg.cache_max_age),
                ));
                if let Err(e) = saver.save(hour, &carried, &dedup) {
                    let e = format!("{e:#}");
                    progress.warn(&e);
                    saver.stats.errors.push(e);
                }
            }
        }
        k += 1;
    }
    if hours.out_of_order > 0 {
        progress.warn(&format!(
            "{} log files were listed after the delivery hour in their names had been read \
             (their day folder is more than a day later, or their name has no time): each \
             was read once, with the next hour",
            hours.out_of_order
        ));
    }
    let listed = listed + hours.listed;
    skipped.add(&hours.skipped);
    dedup.finish(&mut decided);
    progress.finish();
    crate::memory::give_back();
    let mut shard = cfg.shard.as_ref().map(|_| ShardLog {
        occurrences: Vec::new(),
        held: dedup.take_held(),
    });
    for slot in workers {
        let worker = slot.into_inner().unwrap_or_else(PoisonError::into_inner);
        if let (Some(shard), Some(mut log)) = (&mut shard, worker.occurrences) {
            shard.occurrences.append(&mut log);
        }
        carried.merge(worker.totals);
    }
    carried.tables.merge(decided);
    if let Some(closed) = &mut closed {
        closed.finish(&mut carried.tables.strings);
        closed.rejoin_singles(&mut carried.tables.caching);
    }
    carried.failures.sort();
    let s3 = session.map(|s| s.stats.clone());
    Ok(Analysis {
        objects: ObjectCounts {
            listed,
            read: carried.read,
            skipped,
            failed: carried.failures.len() as u64,
        },
        tables: carried.tables,
        failures: carried.failures,
        bytes_compressed: carried.bytes_compressed,
        bytes_decompressed: carried.bytes_decompressed,
        dedup: dedup.stats(),
        s3,
        resume: saver.map(|s| s.stats),
        shard,
        merge: None,
        closed,
    })
}

/// The S3 objects of `hour`, for the fetcher: moved out of it, or copied when the hour's
/// objects are needed once it is read (`--state`).
fn remote_of((_, objects): &mut crate::delivery_hours::Hour, copy: bool) -> Vec<ObjectRef> {
    if copy {
        objects.iter().filter(|o| o.is_remote()).cloned().collect()
    } else {
        let (remote, local) = std::mem::take(objects)
            .into_iter()
            .partition(ObjectRef::is_remote);
        *objects = local;
        remote
    }
}

/// The spill of closed hours, in a plain run. A `--state` checkpoint and a shard's partial
/// save the tables whole (what they hold is the run so far), so those runs keep every hour
/// in memory; the spill is also left out when no temporary file can be made.
fn closing(cfg: &AnalyzeConfig, progress: &Progress) -> Option<ClosedHours> {
    if cfg.state.is_some() || cfg.shard.is_some() {
        return None;
    }
    match ClosedHours::new() {
        Ok(closed) => Some(closed),
        Err(e) => {
            progress.warn(&format!(
                "cannot make a temporary file for closed hours ({e}); the run keeps every hour in memory"
            ));
            None
        }
    }
}

/// Delivery hours read between two hand-backs of freed memory (memory).
const GIVE_BACK_EVERY: usize = 24;

/// The hours closed once delivery hour `delivered` is read: those that ended at least
/// `allowance` before the next delivery hour begins. A later record of a closed hour is still
/// counted (tables::closed): the bound decides what stays in memory, not the answer.
fn closed_before(delivered: i64, allowance: i64) -> i64 {
    crate::time::hour_of(delivered.saturating_sub(allowance.max(0))) + 3600
}

/// Where a run starts: from nothing, or from the checkpoint of an interrupted run.
struct Start {
    carried: Totals,
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
        carried: Totals::new(cfg.cache_max_age),
        dedup: if cfg.shard.is_some() {
            Dedup::for_shard(cfg.dedup_window_hours)
        } else {
            Dedup::new(cfg.dedup_window_hours)
        },
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
        start.carried = Totals::from_state(c.totals).map_err(|e| {
            anyhow::anyhow!(
                "{} is damaged ({e}); delete it to start over",
                state.path.display()
            )
        })?;
        start.dedup = c.dedup;
    }
    start.saver = Some(saver);
    Ok(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_closes_once_the_allowance_after_its_end_has_been_read() {
        let ten = 1_772_359_200; // 2026-03-01T10:00Z
        // Delivery hour 10:00 read: with an hour's allowance, hour 09:00 (ended 10:00, due
        // by 11:00, when the next delivery hour begins) closes, hour 10:00 does not.
        assert_eq!(closed_before(ten, 3600), ten);
        assert_eq!(closed_before(ten + 1800, 3600), ten, "any time in the hour");
        // Without an allowance, the hour just read closes too; with two, one hour less.
        assert_eq!(closed_before(ten, 0), ten + 3600);
        assert_eq!(closed_before(ten, 7200), ten - 3600);
        // An allowance not on the hour keeps the hour it reaches into open.
        assert_eq!(closed_before(ten, 5400), ten - 3600);
    }
}
