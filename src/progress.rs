//! Progress on stderr: objects listed, then objects read (and, from S3, fetched), bytes and
//! records per second. Off when stderr is not a terminal (CI logs, pipes) or with
//! `--no-progress`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What a remote source tells progress about its requests (the S3 session's counters).
pub trait RemoteCounters: Send + Sync {
    fn list_requests(&self) -> u64;
    fn objects_fetched(&self) -> u64;
    fn bytes_fetched(&self) -> u64;
}

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    bytes: AtomicU64,
    /// What the listing said there is to read, compressed.
    listed_bytes: AtomicU64,
    /// Some objects were listed without their sizes: `listed_bytes` is not the whole.
    sizes_unknown: AtomicBool,
    records: AtomicU64,
    /// Set when objects come from S3: fetched counts and bytes are read from it.
    remote: OnceLock<Arc<dyn RemoteCounters>>,
}

impl Progress {
    /// Starts as a spinner for the listing.
    pub fn new(enabled: bool) -> Progress {
        let bar = if enabled && std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4))
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} {spinner} listing: {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress {
            bar,
            started: Instant::now(),
            bytes: AtomicU64::new(0),
            listed_bytes: AtomicU64::new(0),
            sizes_unknown: AtomicBool::new(false),
            records: AtomicU64::new(0),
            remote: OnceLock::new(),
        }
    }

    /// Shows the fetch counts of a remote source from now on.
    pub fn watch_remote(&self, counters: Arc<dyn RemoteCounters>) {
        let _ = self.remote.set(counters);
    }

    /// Objects listed so far.
    pub fn listed(&self, objects: u64) {
        if self.bar.is_hidden() {
            return;
        }
        let requests = self.remote.get().map(|s| s.list_requests()).unwrap_or(0);
        self.bar.set_message(if requests > 0 {
            format!("{objects} objects listed  {requests} list requests")
        } else {
            format!("{objects} objects listed")
        });
    }

    /// The listing is done: `objects` of `bytes` (compressed, as listed) are to be read.
    pub fn start_reading(&self, objects: u64, bytes: u64) {
        self.listed_bytes.store(bytes, Ordering::Relaxed);
        self.bar.set_length(objects);
        self.bar.set_position(0);
        self.bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} objects  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
    }

    /// More objects to read, listed as the reading went on without their sizes
    /// (delivery_hours, local::list_days): from then on the bar says the bytes read only.
    pub fn more_to_read(&self, objects: u64) {
        self.sizes_unknown.store(true, Ordering::Relaxed);
        self.bar.inc_length(objects);
    }

    /// Called by a worker after each object.
    pub fn object_done(&self, compressed_bytes: u64, records: u64) {
        let bytes = self.bytes.fetch_add(compressed_bytes, Ordering::Relaxed) + compressed_bytes;
        let records = self.records.fetch_add(records, Ordering::Relaxed) + records;
        if self.bar.is_hidden() {
            return;
        }
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let fetched = self
            .remote
            .get()
            .map(|s| {
                let got = s.bytes_fetched();
                format!(
                    "  fetched {} objects, {} ({}/s)",
                    s.objects_fetched(),
                    HumanBytes(got),
                    HumanBytes((got as f64 / secs) as u64)
                )
            })
            .unwrap_or_default();
        let of = if self.sizes_unknown.load(Ordering::Relaxed) {
            " read".to_owned()
        } else {
            format!(
                " of {}",
                HumanBytes(self.listed_bytes.load(Ordering::Relaxed))
            )
        };
        self.bar.set_message(format!(
            "{}{of}  {} records  {:.0} records/s{fetched}",
            HumanBytes(bytes),
            records,
            records as f64 / secs
        ));
        self.bar.inc(1);
    }

    /// A problem worth saying at once; it is also in summary.json and the report.
    pub fn warn(&self, message: &str) {
        self.bar
            .suspend(|| eprintln!("trailsift: warning: {message}"));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
