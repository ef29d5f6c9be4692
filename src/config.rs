//! What a run is asked to do, free of command-line concerns: read by the pipeline, by the
//! `--state` checkpoint (which refuses a state file written for another command) and by the
//! outputs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::attribute::kms::{Quota, QuotaScope};
use crate::attribute::principal;
use crate::record::Record;
use crate::shard_spec::ShardSpec;
use crate::source::s3::S3Options;
use crate::store::Place;

/// Everything `analyze` needs.
#[derive(Debug, Clone)]
pub struct AnalyzeConfig {
    pub inputs: Vec<String>,
    /// `--out`: a local directory, or an `s3://` prefix the outputs are uploaded under.
    pub out: Place,
    pub filter: RecordFilter,
    /// Seconds after an event within which its file is delivered (object pruning).
    pub delivery_allowance: i64,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
    pub top: usize,
    /// `--quota [ACCOUNT:]REGION[:CLASS]=RPS` overrides of the default quotas.
    pub quota_overrides: BTreeMap<QuotaScope, Quota>,
    /// Off with `--no-progress` or `-q`.
    pub progress: bool,
    /// `-v`: the user asked for detail. The binary prints an error's every cause under it;
    /// it is here, beside `progress`, so that any part of a run can say more on stderr
    /// without a flag of its own.
    pub verbose: bool,
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
    /// `--shard I/N`: read one shard's share and write its partial (shard).
    pub shard: Option<ShardOptions>,
}

/// `--shard` and the plan it follows.
#[derive(Debug, Clone)]
pub struct ShardOptions {
    pub spec: ShardSpec,
    /// `--plan`: the plan `trailsift plan` wrote; else the shard lists and plans itself.
    pub plan: Option<Place>,
}

/// `--state FILE` and how often to write it.
#[derive(Debug, Clone)]
pub struct StateOptions {
    pub path: PathBuf,
    /// At least this long between checkpoints; the last hour of a run is always saved.
    pub interval: Duration,
}

/// Which records the user asked for (`--start`, `--end`, `--account`, `--region`).
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    pub start: Option<i64>,
    /// Exclusive.
    pub end: Option<i64>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

/// Why a readable record was left out of the answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    OutsideTimeRange,
    OtherAccount,
    OtherRegion,
}

impl RecordFilter {
    /// Whether the record is one the user asked for; the account is the one whose trail
    /// holds it (principal::account_id).
    pub fn check(&self, r: &Record<'_>) -> Result<(), SkipReason> {
        if self.start.is_some_and(|s| r.event_time < s)
            || self.end.is_some_and(|e| r.event_time >= e)
        {
            return Err(SkipReason::OutsideTimeRange);
        }
        if !self.accounts.is_empty()
            && !principal::account_id(r).is_some_and(|a| self.accounts.iter().any(|x| x == a))
        {
            return Err(SkipReason::OtherAccount);
        }
        if !self.regions.is_empty()
            && !r
                .aws_region
                .is_some_and(|g| self.regions.iter().any(|x| x == g))
        {
            return Err(SkipReason::OtherRegion);
        }
        Ok(())
    }
}

/// Everything `trailsift plan` needs: the listing's inputs and filters (in `listing`, as
/// analyze has them), and how to share the objects out.
#[derive(Debug, Clone)]
pub struct PlanConfig {
    pub listing: AnalyzeConfig,
    pub shards: u32,
    /// Cores each shard has (the predicted times).
    pub threads_per_shard: u32,
    /// Where to write the plan (JSON); printed only when absent.
    pub out: Option<Place>,
}

/// Everything `trailsift merge` needs; what the run was (inputs, filters, windows) comes
/// from the partials.
#[derive(Debug, Clone)]
pub struct MergeConfig {
    pub partials: Vec<String>,
    pub out: Place,
    pub top: usize,
    pub quota_overrides: BTreeMap<QuotaScope, Quota>,
    pub kms_price_per_10k: f64,
    pub progress: bool,
    pub verbose: bool,
    pub strict: bool,
    pub s3: S3Options,
}
