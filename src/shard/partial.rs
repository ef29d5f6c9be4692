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

pub use crate::shard_spec::PARTIAL_SUFFIX as SUFFIX;

const MAGIC: &[u8] = b"trailsift partial\n";
/// 1: the first layout. 2: the body's length before it and its CRC-32 after it, so that a
/// partial cut short (an upload that stopped, a disk that filled) or damaged is refused by
/// name instead of being decoded into wrong totals. 3: an object's location no longer
/// repeats its path or S3 key (source::Location), and kms_rates keeps its seconds as a
/// sorted list or a counter per second (tables::kms_rates::Seconds): format 2 does not decode.
/// 4: kms_data_key_caching keeps its groups of one call apart
/// (tables::kms_data_key_caching::OneCall).
const FORMAT: u32 = 4;

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
        let body = postcard::to_stdvec(self)
            .map_err(|e| anyhow::anyhow!("cannot encode the partial: {e}"))?;
        Ok(seal(&body))
    }

    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Partial> {
        let body = open(bytes, source)?;
        postcard::from_bytes(body).map_err(|e| {
            anyhow::anyhow!("{source} is damaged or cut short ({e}): run its shard again")
        })
    }
}

/// MAGIC, FORMAT, the body's length (u64), the body, its CRC-32 (all little-endian).
fn seal(body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(MAGIC.len() + 4 + 8 + body.len() + 4);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT.to_le_bytes());
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(body);
    bytes.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    bytes
}

/// The body of a sealed partial, once its length and checksum hold.
fn open<'b>(bytes: &'b [u8], source: &str) -> Result<&'b [u8]> {
    let Some(rest) = bytes.strip_prefix(MAGIC) else {
        bail!("{source} is not a trailsift partial");
    };
    let (format, rest) = rest.split_first_chunk::<4>().unwrap_or((&[0; 4], &[]));
    if u32::from_le_bytes(*format) != FORMAT {
        bail!("{source} was written by another trailsift version: run its shard again");
    }
    let Some((len, rest)) = rest.split_first_chunk::<8>() else {
        bail!("{source} is cut short: it ends before its length: run its shard again");
    };
    let len = u64::from_le_bytes(*len);
    let whole = len.checked_add(4);
    if whole != Some(rest.len() as u64) {
        let have = rest.len().saturating_sub(4);
        if whole.is_some_and(|w| (rest.len() as u64) < w) {
            bail!(
                "{source} is cut short: {have} of its {len} bytes are there: run its shard again"
            );
        }
        bail!("{source} is damaged: {have} bytes where its header says {len}: run its shard again");
    }
    let (body, crc) = rest.split_at(rest.len() - 4);
    let crc = u32::from_le_bytes(crc.try_into().unwrap_or([0; 4]));
    if crc32fast::hash(body) != crc {
        bail!("{source} is damaged: its checksum does not match its bytes: run its shard again");
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "shard-0001-of-0004.partial";

    #[test]
    fn a_sealed_body_opens_as_it_was() {
        let body = b"the partial's postcard bytes".to_vec();
        assert_eq!(open(&seal(&body), NAME).expect("opens"), &body[..]);
        assert_eq!(open(&seal(&[]), NAME).expect("empty body"), &[] as &[u8]);
    }

    #[test]
    fn a_partial_cut_anywhere_is_refused_by_name() {
        let sealed = seal(&[7u8; 300]);
        for cut in 0..sealed.len() {
            let err = open(&sealed[..cut], NAME)
                .expect_err("cut short")
                .to_string();
            assert!(err.contains(NAME), "{err}");
            // Past the header, the message says it is cut short, and by how much.
            if cut >= MAGIC.len() + 4 + 8 {
                assert!(err.contains("is cut short"), "cut at {cut}: {err}");
            }
        }
    }

    #[test]
    fn a_flipped_bit_anywhere_in_the_body_or_checksum_is_refused() {
        let sealed = seal(&[0x5au8; 64]);
        let start = MAGIC.len() + 4 + 8;
        for i in start..sealed.len() {
            let mut damaged = sealed.clone();
            damaged[i] ^= 0x10;
            let err = open(&damaged, NAME).expect_err("damaged").to_string();
            assert!(err.contains("checksum does not match"), "byte {i}: {err}");
        }
        let mut longer = sealed.clone();
        longer.push(0);
        let err = open(&longer, NAME).expect_err("trailing byte").to_string();
        assert!(err.contains("is damaged"), "{err}");
    }

    #[test]
    fn a_partial_of_the_first_layout_is_refused_as_another_version() {
        let mut old = MAGIC.to_vec();
        old.extend_from_slice(&1u32.to_le_bytes());
        old.extend_from_slice(b"postcard body");
        let err = open(&old, NAME).expect_err("format 1").to_string();
        assert!(err.contains("another trailsift version"), "{err}");
    }
}
