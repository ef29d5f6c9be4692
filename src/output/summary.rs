//! `summary.json`: what was read and what was not, so that nothing is lost silently.
//! Counts reconcile: `objects.listed = read + skipped + failed` and
//! `records.total = attributed + skipped + malformed`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::pipeline::{Analysis, AnalyzeConfig, Failure};
use crate::record::Malformed;
use crate::source::SkippedObjects;
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
    pub warnings: &'a [String],
    pub wall_seconds: f64,
    pub records_per_second: u64,
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
}

#[derive(Serialize)]
pub struct RecordsSkipped {
    pub outside_time_range: u64,
    pub other_account: u64,
    pub other_region: u64,
}

pub fn build<'a>(
    cfg: &'a AnalyzeConfig,
    a: &'a Analysis,
    warnings: &'a [String],
    wall_seconds: f64,
) -> Summary<'a> {
    let r = &a.acc.records;
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
            },
            malformed: r.malformed_total(),
            malformed_reasons,
            kms: r.kms,
            kms_symmetric: r.kms_symmetric,
            s3: r.s3,
            s3_data: r.s3_data,
            sigv2: r.sigv2,
            sigv2_observed: r.sigv2 - r.sigv2_inferred,
            sigv2_inferred: r.sigv2_inferred,
            s3_before_signature_logging: r.s3_before_signature_logging,
            tls_legacy: r.tls_legacy,
            odd_field_types: r.odd_fields,
        },
        warnings,
        wall_seconds,
        records_per_second: if wall_seconds > 0.0 {
            (r.total as f64 / wall_seconds) as u64
        } else {
            0
        },
    }
}

/// What a reader of an empty or partial answer must know.
pub fn warnings(a: &Analysis) -> Vec<String> {
    let r = &a.acc.records;
    let mut w = Vec::new();
    if a.objects.read == 0 {
        w.push("no CloudTrail log files were read: check the input path and filters".to_owned());
    }
    if r.attributed > 0 && r.kms == 0 {
        w.push("no KMS events: the trail may exclude them (ExcludeManagementEventSources kms.amazonaws.com), so KMS callers cannot be seen".to_owned());
    }
    if r.attributed > 0 && r.s3_data == 0 {
        w.push(
            "no S3 data events: SigV2 callers cannot be seen (enable S3 data events on the trail)"
                .to_owned(),
        );
    }
    if r.s3_before_signature_logging > 0 {
        w.push(format!(
            "{} S3 records predate SignatureVersion logging (2019): SigV2 among them is inferred from client versions (evidence = inferred), not seen",
            r.s3_before_signature_logging
        ));
    }
    if a.objects.failed > 0 {
        w.push(format!(
            "{} objects failed and were not read: see failures",
            a.objects.failed
        ));
    }
    if r.malformed_total() > 0 {
        w.push(format!(
            "{} records were malformed and not counted: see records.malformed_reasons",
            r.malformed_total()
        ));
    }
    w
}

pub fn write(path: &Path, summary: &Summary<'_>) -> Result<()> {
    let json = serde_json::to_vec_pretty(summary)?;
    std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))
}
