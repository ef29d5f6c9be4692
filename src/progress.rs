//! Progress on stderr: objects, bytes and records per second. Off when stderr is not a
//! terminal (CI logs, pipes) or with `--no-progress`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    bytes: AtomicU64,
    records: AtomicU64,
}

impl Progress {
    pub fn new(objects: u64, enabled: bool) -> Progress {
        let bar = if enabled && std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(objects), ProgressDrawTarget::stderr_with_hz(4))
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} objects  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress {
            bar,
            started: Instant::now(),
            bytes: AtomicU64::new(0),
            records: AtomicU64::new(0),
        }
    }

    /// Called by a worker after each object.
    pub fn object_done(&self, compressed_bytes: u64, records: u64) {
        let bytes = self.bytes.fetch_add(compressed_bytes, Ordering::Relaxed) + compressed_bytes;
        let records = self.records.fetch_add(records, Ordering::Relaxed) + records;
        if self.bar.is_hidden() {
            return;
        }
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(format!(
            "{}  {} records  {:.0} records/s",
            HumanBytes(bytes),
            records,
            records as f64 / secs
        ));
        self.bar.inc(1);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
