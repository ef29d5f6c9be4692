//! A shard's partial: everything the merge needs to write what one run would have.
//!
//! - every table's mergeable state (tables::TableAccumulator::state), through the same
//!   [`TotalsState`] a `--state` checkpoint saves: KMS calls per second are kept per second,
//!   so a second split over shards is summed before its peak is taken, and the HdrHistograms
//!   are built from those seconds at the end, never merged from the shards' percentiles;
//! - its objects, with their accounting (read, failed and why, bytes);
//! - for deduplication across shards (merge): the key of every record with a UUID eventID,
//!   per object, the callers' copies' `sharedEventID`s, and the key owners' copies of
//!   cross-account calls, held undecided, since their caller's copy may be in another shard.
//!
//! Binary (postcard) behind a magic line and a format number, like the `--state` file:
//! about 8 bytes per record for the keys plus the tables' state (BENCHMARKS.md, "Shards and
//! the merge", gives measured sizes).

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::ShardSpec;
use crate::dedup::{DedupStats, DeferredRecord, OccurrenceLog};
use crate::resume::RunIdentity;
use crate::source::{ObjectRef, SkippedObjects};
use crate::totals::TotalsState;

/// A partial's file name ends so (ShardSpec::partial_name).
pub const SUFFIX: &str = ".partial";

const MAGIC: &[u8] = b"trailsift partial\n";
/// 1: the first layout.
const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
pub struct Partial {
    pub run: RunIdentity,
    /// Plan::id of the plan the shard read.
    pub plan_id: String,
    pub shard: ShardSpec,
    /// From the plan (the same in every shard): what one run's listing found.
    pub listed: u64,
    pub skipped: SkippedObjects,
    /// Delivery hours among all planned objects (the epochs one run opens).
    pub epochs: u64,
    /// This shard's objects, as planned (for reading one again at the merge).
    pub objects: Vec<ObjectRef>,
    pub totals: TotalsState,
    /// (index into `objects`, its records' keys).
    pub occurrences: Vec<(u32, OccurrenceLog)>,
    /// Key owners' copies of cross-account calls, undecided.
    pub held: Vec<DeferredRecord>,
    pub dedup: DedupStats,
    pub wall_seconds: f64,
}

impl Partial {
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&FORMAT.to_le_bytes());
        postcard::to_extend(self, bytes)
            .map_err(|e| anyhow::anyhow!("cannot encode the partial: {e}"))
    }

    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Partial> {
        let Some(body) = bytes.strip_prefix(MAGIC) else {
            bail!("{source} is not a trailsift partial");
        };
        let (format, body) = body.split_first_chunk::<4>().unwrap_or((&[0; 4], &[]));
        if u32::from_le_bytes(*format) != FORMAT {
            bail!("{source} was written by another trailsift version: run its shard again");
        }
        postcard::from_bytes(body).map_err(|e| {
            anyhow::anyhow!("{source} is damaged or cut short ({e}): run its shard again")
        })
    }
}
