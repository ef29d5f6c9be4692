//! Resuming an interrupted run: the `--state` file.
//!
//! Between two delivery hours (the epochs of dedup) every worker is idle, and what the run
//! has learned is exactly: which objects it finished (key and ETag), the totals folded from
//! them (every table's `state()`, tables::TableAccumulator) and deduplication's state (its
//! window of recent event ids and the key owners' copies still set aside). That is a
//! checkpoint. It is written beside `FILE` (store::write_local_atomically), synced and renamed over
//! `FILE`, so a SIGKILL at any moment leaves the previous checkpoint or the new one, never
//! half of one.
//!
//! Started again with the same command, a run lists the inputs again, checks that every
//! finished object is still there with the same ETag, skips the finished hours and goes on
//! from the saved totals: no object is read twice into the totals, and the outputs are those
//! of a run that was never interrupted. The work of the hour that was being read when the run
//! died is lost and done again; that is what bounds the cost of a kill.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::config::{AnalyzeConfig, StateOptions};
use crate::dedup::{Dedup, epoch_of};
use crate::source::ObjectRef;
use crate::time::format_rfc3339;
use crate::totals::{Totals, TotalsState};

/// First bytes of a state file: what it is, then the layout version of what follows.
const MAGIC: &[u8] = b"trailsift state\n";
/// 2: tables saved one by one through their `state()`, dedup owning its copies set aside.
/// 3: kms_rates keeps its seconds as a sorted list or a counter per second
/// (tables::kms_rates::Seconds), no longer a hash map. 4: kms_data_key_caching keeps its
/// groups of one call apart (tables::kms_data_key_caching::OneCall).
const FORMAT: u32 = 4;

/// Default seconds between checkpoints (`--state-interval`).
pub const DEFAULT_INTERVAL_SECONDS: u64 = 60;

/// What the saved totals depend on: a state file written by another command (other inputs,
/// filters or windows) would give wrong answers, so it is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    pub trailsift_version: String,
    pub inputs: Vec<String>,
    /// RFC 3339, as the user would compare them.
    pub start: Option<String>,
    pub end: Option<String>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub delivery_allowance: i64,
    pub max_object_bytes: u64,
    pub dedup_window_hours: i64,
    pub cache_max_age: i64,
}

impl RunIdentity {
    pub fn of(cfg: &AnalyzeConfig) -> RunIdentity {
        RunIdentity {
            trailsift_version: env!("CARGO_PKG_VERSION").to_owned(),
            inputs: cfg.inputs.clone(),
            start: cfg.filter.start.map(format_rfc3339),
            end: cfg.filter.end.map(format_rfc3339),
            accounts: cfg.filter.accounts.clone(),
            regions: cfg.filter.regions.clone(),
            delivery_allowance: cfg.delivery_allowance,
            max_object_bytes: cfg.max_object_bytes,
            dedup_window_hours: cfg.dedup_window_hours,
            cache_max_age: cfg.cache_max_age,
        }
    }

    /// The settings that differ from `now`, named as the user would look for them.
    fn differences(&self, now: &RunIdentity) -> Vec<String> {
        let (Ok(serde_json::Value::Object(saved)), Ok(serde_json::Value::Object(now))) =
            (serde_json::to_value(self), serde_json::to_value(now))
        else {
            return vec!["(unreadable settings)".to_owned()];
        };
        saved
            .iter()
            .filter(|(k, v)| now.get(*k) != Some(*v))
            .map(|(k, v)| {
                let current = now.get(k).map(ToString::to_string).unwrap_or_default();
                format!("{k}: {v} in the state file, {current} now")
            })
            .collect()
    }
}

/// An object whose records are in the saved totals (or whose failure is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedObject {
    pub key: String,
    pub etag: String,
}

/// A checkpoint as written; [`Checkpoint`] is the same fields, owned, as read back.
#[derive(Serialize)]
struct CheckpointRef<'a> {
    run: &'a RunIdentity,
    last_epoch: Option<i64>,
    finished: &'a [FinishedObject],
    totals: &'a TotalsState,
    dedup: &'a Dedup,
}

/// A saved checkpoint.
#[derive(Deserialize)]
pub struct Checkpoint {
    run: RunIdentity,
    /// The last delivery hour read whole (`None`: the hour of files without a delivery
    /// time, which comes first); every earlier one is done too.
    pub last_epoch: Option<i64>,
    pub finished: Vec<FinishedObject>,
    pub totals: TotalsState,
    pub dedup: Dedup,
}

impl Checkpoint {
    /// True when `obj` belongs to an hour the checkpoint finished.
    pub fn covers(&self, obj: &ObjectRef) -> bool {
        epoch_of(obj.layout.delivered_at) <= self.last_epoch
    }
}

/// Reads the state file, if there is one. A file from another command or another version,
/// or one that cannot be read, is an error: the user decides whether to delete it.
pub fn load(path: &Path, run: &RunIdentity) -> Result<Option<Checkpoint>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let fix = "delete it to start over";
    let Some(body) = bytes.strip_prefix(MAGIC) else {
        bail!("{} is not a trailsift state file; {fix}", path.display());
    };
    let (format, body) = body.split_first_chunk::<4>().unwrap_or((&[0; 4], &[]));
    if u32::from_le_bytes(*format) != FORMAT {
        bail!(
            "{} was written by another trailsift version; {fix}",
            path.display()
        );
    }
    let checkpoint: Checkpoint = postcard::from_bytes(body)
        .map_err(|e| anyhow::anyhow!("{} is damaged ({e}); {fix}", path.display()))?;
    if checkpoint.run != *run {
        bail!(
            "{} was written by a different command ({}); run the same command to resume, or {fix}",
            path.display(),
            checkpoint.run.differences(run).join("; ")
        );
    }
    Ok(Some(checkpoint))
}

/// What resuming found when the listing was held against the checkpoint.
#[derive(Debug, Default)]
pub struct ResumePlan {
    /// Finished objects found again, unchanged: not read again.
    pub from_state: u64,
    /// Objects listed now in a finished hour that the checkpoint never saw (delivered after
    /// the interrupted run listed): counted as skipped and named, never read out of order.
    pub late: Vec<String>,
}

/// Holds the listing against the checkpoint. An object the checkpoint counted that is gone
/// or changed is an error: its records are in the totals and cannot be taken out.
pub fn plan(checkpoint: &Checkpoint, listed: &[ObjectRef]) -> Result<ResumePlan> {
    let mut finished: HashMap<&str, &str> = checkpoint
        .finished
        .iter()
        .map(|f| (f.key.as_str(), f.etag.as_str()))
        .collect();
    let mut plan = ResumePlan::default();
    for obj in listed.iter().filter(|o| checkpoint.covers(o)) {
        match finished.remove(obj.key.as_str()) {
            Some(etag) if etag == obj.etag.as_str() => plan.from_state += 1,
            Some(etag) => bail!(
                "{} changed since the state file counted it (ETag {etag}, now {}); its records \
                 cannot be taken back out: delete the state file to start over",
                obj.key,
                obj.etag
            ),
            None => plan.late.push(obj.key.clone()),
        }
    }
    if let Some(gone) = finished.keys().min() {
        bail!(
            "{} objects counted by the state file are no longer listed (first: {gone}); \
             delete the state file to start over",
            finished.len()
        );
    }
    Ok(plan)
}

/// What `--state` did in this run (summary.json, report).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResumeStats {
    pub state_file: String,
    /// Whether the run went on from a checkpoint of an earlier one.
    pub resumed: bool,
    /// Objects an earlier run finished: in the totals, not read again.
    pub objects_from_state: u64,
    /// Objects listed in an hour the checkpoint had finished but never saw, so not read
    /// (`objects.skipped.after_state`); a run with a new state file reads them.
    pub late_objects: Vec<String>,
    pub checkpoints_written: u64,
    /// Checkpoints that could not be written (the run went on without them).
    pub errors: Vec<String>,
}

/// Writes checkpoints as the run goes, and keeps what it did.
pub struct Saver {
    options: StateOptions,
    run: RunIdentity,
    finished: Vec<FinishedObject>,
    last_saved: Instant,
    pub stats: ResumeStats,
}

impl Saver {
    pub fn new(options: StateOptions, run: RunIdentity) -> Saver {
        let stats = ResumeStats {
            state_file: options.path.display().to_string(),
            ..ResumeStats::default()
        };
        Saver {
            options,
            run,
            finished: Vec::new(),
            last_saved: Instant::now(),
            stats,
        }
    }

    /// Goes on from a checkpoint whose objects `plan` found again.
    pub fn resume(&mut self, plan: ResumePlan, finished: Vec<FinishedObject>) {
        self.stats.resumed = true;
        self.stats.objects_from_state = plan.from_state;
        self.stats.late_objects = plan.late;
        self.finished = finished;
    }

    /// Marks an hour's objects finished.
    pub fn epoch_done(&mut self, epoch: &[ObjectRef]) {
        self.finished.extend(epoch.iter().map(|o| FinishedObject {
            key: o.key.clone(),
            etag: o.etag.to_string(),
        }));
    }

    /// Whether a checkpoint is due now (the last hour of a run always is).
    pub fn due(&self, last_epoch_of_run: bool) -> bool {
        last_epoch_of_run || self.last_saved.elapsed() >= self.options.interval
    }

    /// Writes a checkpoint: everything up to and including the hour `last_epoch`.
    pub fn save(&mut self, last_epoch: Option<i64>, totals: &Totals, dedup: &Dedup) -> Result<()> {
        let totals = totals.state().context("cannot encode the state")?;
        let checkpoint = CheckpointRef {
            run: &self.run,
            last_epoch,
            finished: &self.finished,
            totals: &totals,
            dedup,
        };
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&FORMAT.to_le_bytes());
        let bytes = postcard::to_extend(&checkpoint, bytes).context("cannot encode the state")?;
        crate::store::write_local_atomically(&self.options.path, &bytes)
            .context("cannot write the state file")?;
        self.last_saved = Instant::now();
        self.stats.checkpoints_written += 1;
        Ok(())
    }
}
