//! `summary.json`: what was read and what was not, so that nothing is lost silently.
//! Counts reconcile: `objects.listed = read + skipped + failed` and
//! `records.total = attributed + skipped + malformed`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::kms_insights::KmsInsights;
use super::warnings::Warning;
use crate::attribute::kms::CacheOperation;
use crate::config::AnalyzeConfig;
use crate::failure::Failure;
use crate::pipeline::Analysis;
use crate::record::Malformed;
use crate::resume::ResumeStats;
use crate::shard::merge::MergeStats;
use crate::source::SkippedObjects;
use crate::source::s3::S3Stats;
use crate::time::format_rfc3339;

#[derive(Serialize)]
pub struct Summary<'a> {
    pub version: &'static str,
    pub inputs: &'a [String],
    pub filters: Filters,
    pub objects: Objects<'a>,
    pub failures: &'a [Failure],
    pub bytes: Bytes,
    pub records: Records,
    pub event_time: EventTime,
    pub deduplication: Deduplication,
    pub kms: KmsSummary,
    pub warnings: Vec<String>,
    pub wall_seconds: f64,
    pub records_per_second: u64,
    /// Present when an input was `s3://`: requests made, folders pruned, bytes fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<&'a S3Stats>,
    /// Present with `--state`: whether the run went on from a checkpoint, and how much of
    /// the totals came from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume: Option<&'a ResumeStats>,
    /// Present in the outputs of `trailsift merge`: the shards joined, and what the merge
    /// did to keep every event counted once across them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<&'a MergeStats>,
}

#[derive(Serialize)]
pub struct Filters {
    pub start: Option<String>,
    pub end: Option<String>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

#[derive(Serialize)]
pub struct Objects<'a> {
    pub listed: u64,
    pub read: u64,
    pub skipped: &'a SkippedObjects,
    pub failed: u64,
}

#[derive(Serialize)]
pub struct Bytes {
    pub compressed: u64,
    pub decompressed: u64,
}

#[derive(Serialize)]
pub struct Records {
    pub total: u64,
    pub attributed: u64,
    pub skipped: RecordsSkipped,
    pub malformed: u64,
    pub malformed_reasons: BTreeMap<&'static str, u64>,
    pub kms: u64,
    pub kms_symmetric: u64,
    /// KMS calls that are read-only events (cryptographic calls among them).
    pub kms_read_only: u64,
    /// `AwsServiceEvent` records (AWS acting on its own): in no table, never billed.
    pub service_events: u64,
    /// `AwsVpceEvent` records (calls seen at a VPC endpoint): in vpc_endpoint_events only.
    pub network_activity: u64,
    pub network_activity_denied: u64,
    pub s3: u64,
    pub s3_data: u64,
    /// SigV2 requests, observed and inferred: `sum(requests)` of sigv2_requests.parquet.
    pub sigv2: u64,
    /// Of `sigv2`, those the event says were SigV2 (`evidence = observed`).
    pub sigv2_observed: u64,
    /// Of `sigv2`, those inferred from a client below its SigV4 minimum (`evidence = inferred`).
    pub sigv2_inferred: u64,
    /// S3 records from before S3 logged `SignatureVersion` (2019): SigV2 can only be inferred.
    pub s3_before_signature_logging: u64,
    pub tls_legacy: u64,
    pub odd_field_types: u64,
    /// Records not counted because they repeat a counted one (also in
    /// `skipped.duplicate`, so that `total = attributed + skipped + malformed` holds).
    pub duplicates: u64,
    pub duplicate_reasons: DuplicateReasons,
}

#[derive(Serialize)]
pub struct DuplicateReasons {
    /// Same `eventID` as a record already counted (redelivery).
    pub same_event_id: u64,
    /// Key owner's copy of a cross-account call whose caller's copy was counted.
    pub cross_account_copy: u64,
}

/// Earliest and latest `eventTime` of the attributed records.
#[derive(Serialize)]
pub struct EventTime {
    pub first: Option<String>,
    pub last: Option<String>,
}

/// How duplicates were looked for (dedup): the window and what it held.
#[derive(Serialize)]
pub struct Deduplication {
    pub window_hours: i64,
    pub delivery_epochs: u64,
    pub peak_event_ids_held: u64,
    pub peak_owner_copies_held: u64,
    /// Memory the window held at its largest: id sets and copies set aside.
    pub peak_bytes_held: u64,
}

/// The KMS bill and what could be saved, as projected in kms_cost.parquet and friends.
#[derive(Serialize)]
pub struct KmsSummary {
    pub calls: u64,
    pub span_start: Option<String>,
    pub span_end: Option<String>,
    pub span_days: Option<f64>,
    pub price_per_10k_usd: f64,
    pub usd_per_day: Option<f64>,
    pub usd_per_month: Option<f64>,
    pub usd_per_month_after_free_tier: Option<f64>,
    pub bucket_key_est_saved_calls: u64,
    /// Data key generation rows of kms_data_key_caching (their estimate is conservative).
    pub data_key_caching_est_saved_calls: u64,
    pub cache_max_age_seconds: i64,
    /// Decrypt rows of kms_data_key_caching: an upper bound, so never added to the above.
    pub data_key_caching_decrypt_est_saved_calls_max: u64,
}

#[derive(Serialize)]
pub struct RecordsSkipped {
    pub outside_time_range: u64,
    pub other_account: u64,
    pub other_region: u64,
    pub duplicate: u64,
}

pub fn build<'a>(
    cfg: &'a AnalyzeConfig,
    a: &'a Analysis,
    insights: &KmsInsights<'_>,
    warnings: &[Warning],
    wall_seconds: f64,
) -> Summary<'a> {
    let r = &a.tables.records;
    let malformed_reasons = [
        Malformed::NotAnObject,
        Malformed::MissingEventTime,
        Malformed::InvalidEventTime,
        Malformed::MissingEventSource,
    ]
    .into_iter()
    .filter(|m| r.malformed[*m as usize] > 0)
    .map(|m| (m.reason(), r.malformed[m as usize]))
    .collect();
    Summary {
        version: env!("CARGO_PKG_VERSION"),
        inputs: &cfg.inputs,
        filters: Filters {
            start: cfg.filter.start.map(format_rfc3339),
            end: cfg.filter.end.map(format_rfc3339),
            accounts: cfg.filter.accounts.clone(),
            regions: cfg.filter.regions.clone(),
        },
        objects: Objects {
            listed: a.objects.listed,
            read: a.objects.read,
            skipped: &a.objects.skipped,
            failed: a.objects.failed,
        },
        failures: &a.failures,
        bytes: Bytes {
            compressed: a.bytes_compressed,
            decompressed: a.bytes_decompressed,
        },
        records: Records {
            total: r.total,
            attributed: r.attributed,
            skipped: RecordsSkipped {
                outside_time_range: r.skipped_outside_time_range,
                other_account: r.skipped_other_account,
                other_region: r.skipped_other_region,
                duplicate: r.duplicates(),
            },
            malformed: r.malformed_total(),
            malformed_reasons,
            kms: r.kms,
            kms_symmetric: r.kms_symmetric,
            kms_read_only: r.kms_read_only,
            service_events: r.service_events,
            network_activity: r.network_activity,
            network_activity_denied: r.network_activity_denied,
            s3: r.s3,
            s3_data: r.s3_data,
            sigv2: r.sigv2,
            sigv2_observed: r.sigv2 - r.sigv2_inferred,
            sigv2_inferred: r.sigv2_inferred,
            s3_before_signature_logging: r.s3_before_signature_logging,
            tls_legacy: r.tls_legacy,
            odd_field_types: r.odd_fields,
            duplicates: r.duplicates(),
            duplicate_reasons: DuplicateReasons {
                same_event_id: r.duplicate_event_id,
                cross_account_copy: r.duplicate_cross_account,
            },
        },
        event_time: EventTime {
            first: r.first_event.map(format_rfc3339),
            last: r.last_event.map(format_rfc3339),
        },
        deduplication: Deduplication {
            window_hours: a.dedup.window_hours,
            delivery_epochs: a.dedup.epochs,
            peak_event_ids_held: a.dedup.peak_event_keys,
            peak_owner_copies_held: a.dedup.peak_deferred,
            peak_bytes_held: a.dedup.peak_bytes,
        },
        kms: kms_summary(insights),
        warnings: warnings.iter().map(ToString::to_string).collect(),
        wall_seconds,
        records_per_second: if wall_seconds > 0.0 {
            (r.total as f64 / wall_seconds) as u64
        } else {
            0
        },
        s3: a.s3.as_deref(),
        resume: a.resume.as_ref(),
        shards: a.merge.as_ref(),
    }
}

fn kms_summary(i: &KmsInsights<'_>) -> KmsSummary {
    let p = i.projection;
    let calls = i.total_calls();
    KmsSummary {
        calls,
        span_start: p.map(|p| format_rfc3339(p.span.start)),
        span_end: p.map(|p| format_rfc3339(p.span.end)),
        span_days: p.map(|p| p.span.days()),
        price_per_10k_usd: i.price_per_10k,
        usd_per_day: p.map(|p| p.usd(p.per_day(calls))),
        usd_per_month: p.map(|p| p.usd(p.per_month(calls))),
        usd_per_month_after_free_tier: i.usd_per_month_after_free_tier(),
        bucket_key_est_saved_calls: i.bucket_keys.iter().map(|b| b.saved_calls()).sum(),
        data_key_caching_est_saved_calls: caching_saved(i, CacheOperation::GenerateDataKey),
        cache_max_age_seconds: i.cache_max_age,
        data_key_caching_decrypt_est_saved_calls_max: caching_saved(i, CacheOperation::Decrypt),
    }
}

/// Calls a data key cache would save, of one operation.
fn caching_saved(i: &KmsInsights<'_>, operation: CacheOperation) -> u64 {
    i.caching
        .iter()
        .filter(|c| c.operation == operation)
        .map(|c| c.group.saved())
        .sum()
}

/// Writes the summary to `path` and returns the very text written, so that `analyze --json`
/// prints the file's bytes rather than a second serialization that could drift from it.
pub fn write(path: &Path, summary: &Summary<'_>) -> Result<String> {
    let json = serde_json::to_string_pretty(summary)?;
    std::fs::write(path, &json).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(json)
}
