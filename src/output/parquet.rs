//! The Parquet files of the output contract (DESIGN.md). Column names are a contract with
//! users' SQL: add columns freely, never rename or drop one.
//!
//! Types chosen for DuckDB and Athena engine v3: timestamps are INT64 milliseconds marked
//! UTC, counts INT64, unknown strings null; Snappy compression; one row group per file.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Float64Array, Int64Array, StringArray,
    TimestampMillisecondArray,
};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::kms_insights::{
    BucketKeyRow, CachingRow, CostRow, KmsInsights, Projection, billable_per_month,
};
use super::rows::{KmsCallRow, RateRow, Rows, SigV2Row, Text, TlsRow};
use crate::aggregate::rates::{SecondCounts, serialize_histogram};
use crate::attribute::kms::{FREE_TIER_REQUESTS_PER_MONTH, Quotas};

fn text<'a, R>(rows: &'a [R], f: impl Fn(&'a R) -> Text<'a>) -> ArrayRef {
    Arc::new(rows.iter().map(f).collect::<StringArray>())
}

fn int<R>(rows: &[R], f: impl Fn(&R) -> i64) -> ArrayRef {
    Arc::new(
        rows.iter()
            .map(f)
            .collect::<Vec<_>>()
            .into_iter()
            .collect::<Int64Array>(),
    )
}

fn float<R>(rows: &[R], f: impl Fn(&R) -> Option<f64>) -> ArrayRef {
    Arc::new(rows.iter().map(f).collect::<Float64Array>())
}

fn opt_int<R>(rows: &[R], f: impl Fn(&R) -> Option<i64>) -> ArrayRef {
    Arc::new(rows.iter().map(f).collect::<Int64Array>())
}

fn opt_timestamp<R>(rows: &[R], f: impl Fn(&R) -> Option<i64>) -> ArrayRef {
    let millis: Vec<Option<i64>> = rows.iter().map(|r| f(r).map(|s| s * 1000)).collect();
    Arc::new(TimestampMillisecondArray::from(millis).with_timezone("UTC"))
}

/// Epoch seconds to a UTC millisecond timestamp column.
fn timestamp<R>(rows: &[R], f: impl Fn(&R) -> i64) -> ArrayRef {
    let millis: Vec<i64> = rows.iter().map(|r| f(r) * 1000).collect();
    Arc::new(TimestampMillisecondArray::from(millis).with_timezone("UTC"))
}

fn write(path: &Path, columns: Vec<(&str, ArrayRef)>) -> Result<()> {
    let batch = RecordBatch::try_from_iter(columns).context("building Arrow batch")?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("trailsift {}", env!("CARGO_PKG_VERSION")))
        .build();
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))?;
    writer.write(&batch)?;
    writer
        .close()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub fn write_all(
    dir: &Path,
    rows: &Rows<'_>,
    quotas: &Quotas,
    insights: &KmsInsights<'_>,
) -> Result<()> {
    write_kms_calls(&dir.join("kms_calls.parquet"), &rows.kms_calls)?;
    write_kms_rates(&dir.join("kms_rates.parquet"), &rows.kms_rates, quotas)?;
    write_kms_cost(&dir.join("kms_cost.parquet"), insights)?;
    write_bucket_keys(&dir.join("kms_bucket_keys.parquet"), insights)?;
    write_caching(&dir.join("kms_data_key_caching.parquet"), insights)?;
    write_sigv2(&dir.join("sigv2_requests.parquet"), &rows.sigv2)?;
    write_tls(&dir.join("tls_legacy.parquet"), &rows.tls)?;
    Ok(())
}

fn write_kms_calls(path: &Path, rows: &[KmsCallRow<'_>]) -> Result<()> {
    write(
        path,
        vec![
            ("hour", timestamp(rows, |r| r.hour)),
            ("account_id", text(rows, |r| r.account_id)),
            ("region", text(rows, |r| r.region)),
            ("principal", text(rows, |r| r.principal)),
            ("principal_type", text(rows, |r| r.principal_type)),
            ("event_name", text(rows, |r| r.event_name)),
            ("key_arn", text(rows, |r| r.key_arn)),
            ("via_service", text(rows, |r| r.via_service)),
            ("s3_bucket", text(rows, |r| r.s3_bucket)),
            (
                "bucket_key",
                Arc::new(rows.iter().map(|r| r.bucket_key).collect::<BooleanArray>()),
            ),
            ("error_code", text(rows, |r| r.error_code)),
            ("calls", int(rows, |r| r.tally.count as i64)),
            ("first_seen", timestamp(rows, |r| r.tally.first_seen)),
            ("last_seen", timestamp(rows, |r| r.tally.last_seen)),
            ("caller_kind", text(rows, |r| Some(r.caller_kind.as_str()))),
        ],
    )
}

/// Seconds of the hour whose calls were above `numerator / denominator` of the quota
/// (integer arithmetic: exact whatever the quota).
fn seconds_over(counts: &SecondCounts, quota: u64, numerator: u64, denominator: u64) -> i64 {
    counts
        .per_second
        .values()
        .filter(|&&c| u64::from(c) * denominator > quota * numerator)
        .count() as i64
}

fn write_kms_rates(path: &Path, rows: &[RateRow<'_>], quotas: &Quotas) -> Result<()> {
    let stats: Vec<_> = rows.iter().map(|r| r.counts.stats()).collect();
    // The quota applies to the account and region as a whole, so only those rows carry it.
    let quota: Vec<Option<u64>> = rows
        .iter()
        .map(|r| match (r.principal, r.region) {
            (None, Some(region)) => Some(quotas.rps(region)),
            _ => None,
        })
        .collect();
    let histograms: Vec<Vec<u8>> = stats
        .iter()
        .map(|s| serialize_histogram(&s.histogram))
        .collect();
    write(
        path,
        vec![
            ("hour", timestamp(rows, |r| r.hour)),
            ("account_id", text(rows, |r| r.account_id)),
            ("region", text(rows, |r| r.region)),
            (
                "scope",
                text(rows, |r| {
                    Some(if r.principal.is_none() {
                        "account_region"
                    } else {
                        "principal"
                    })
                }),
            ),
            ("principal", text(rows, |r| r.principal)),
            ("calls", int(&stats, |s| s.calls as i64)),
            ("active_seconds", int(&stats, |s| s.active_seconds as i64)),
            ("peak_rps", int(&stats, |s| s.peak_rps as i64)),
            (
                "peak_second",
                timestamp(&rows.iter().zip(&stats).collect::<Vec<_>>(), |(r, s)| {
                    r.hour + i64::from(s.peak_second_of_hour)
                }),
            ),
            ("p50_rps", int(&stats, |s| s.p50_rps as i64)),
            ("p90_rps", int(&stats, |s| s.p90_rps as i64)),
            ("p99_rps", int(&stats, |s| s.p99_rps as i64)),
            (
                "mean_rps",
                Arc::new(
                    stats
                        .iter()
                        .map(|s| s.mean_rps)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .collect::<Float64Array>(),
                ),
            ),
            ("throttled", int(&stats, |s| s.throttled as i64)),
            (
                "quota_rps",
                Arc::new(
                    quota
                        .iter()
                        .map(|q| q.map(|q| q as i64))
                        .collect::<Int64Array>(),
                ),
            ),
            (
                "quota_utilization",
                Arc::new(
                    quota
                        .iter()
                        .zip(&stats)
                        .map(|(q, s)| q.map(|q| s.peak_rps as f64 / q as f64))
                        .collect::<Float64Array>(),
                ),
            ),
            (
                "histogram",
                Arc::new(
                    histograms
                        .iter()
                        .map(|h| Some(h.as_slice()))
                        .collect::<BinaryArray>(),
                ),
            ),
            (
                "seconds_over_80pct",
                opt_int(&rows.iter().zip(&quota).collect::<Vec<_>>(), |(r, q)| {
                    q.map(|q| seconds_over(r.counts, q, 4, 5))
                }),
            ),
            (
                "seconds_over_quota",
                opt_int(&rows.iter().zip(&quota).collect::<Vec<_>>(), |(r, q)| {
                    q.map(|q| seconds_over(r.counts, q, 1, 1))
                }),
            ),
        ],
    )
}

fn write_kms_cost(path: &Path, insights: &KmsInsights<'_>) -> Result<()> {
    let rows: &[CostRow<'_>] = &insights.cost;
    let p: Option<Projection> = insights.projection;
    let account = |r: &CostRow<'_>| r.scope == "account";
    write(
        path,
        vec![
            ("scope", text(rows, |r| Some(r.scope))),
            ("account_id", text(rows, |r| r.account_id)),
            ("principal", text(rows, |r| r.principal)),
            ("key_arn", text(rows, |r| r.key_arn)),
            ("calls", int(rows, |r| r.calls as i64)),
            ("throttled", int(rows, |r| r.throttled as i64)),
            (
                "span_start",
                opt_timestamp(rows, |_| p.map(|p| p.span.start)),
            ),
            ("span_end", opt_timestamp(rows, |_| p.map(|p| p.span.end))),
            ("span_days", float(rows, |_| p.map(|p| p.span.days()))),
            (
                "calls_per_day",
                float(rows, |r| p.map(|p| p.per_day(r.calls))),
            ),
            (
                "calls_per_month",
                float(rows, |r| p.map(|p| p.per_month(r.calls))),
            ),
            (
                "price_per_10k_usd",
                float(rows, |_| Some(insights.price_per_10k)),
            ),
            (
                "usd_per_day",
                float(rows, |r| p.map(|p| p.usd(p.per_day(r.calls)))),
            ),
            (
                "usd_per_month",
                float(rows, |r| p.map(|p| p.usd(p.per_month(r.calls)))),
            ),
            (
                "free_tier_requests_per_month",
                opt_int(rows, |r| {
                    account(r).then_some(FREE_TIER_REQUESTS_PER_MONTH as i64)
                }),
            ),
            (
                "usd_per_month_after_free_tier",
                float(rows, |r| {
                    p.filter(|_| account(r))
                        .map(|p| p.usd(billable_per_month(p.per_month(r.calls))))
                }),
            ),
        ],
    )
}

fn write_bucket_keys(path: &Path, insights: &KmsInsights<'_>) -> Result<()> {
    let rows: &[BucketKeyRow<'_>] = &insights.bucket_keys;
    let p = insights.projection;
    write(
        path,
        vec![
            ("account_id", text(rows, |r| r.account_id)),
            ("region", text(rows, |r| r.region)),
            ("s3_bucket", text(rows, |r| Some(r.s3_bucket))),
            ("principal", text(rows, |r| r.principal)),
            (
                "bucket_status",
                text(rows, |r| Some(r.bucket_status.as_str())),
            ),
            ("object_arn_calls", int(rows, |r| r.object_arn_calls as i64)),
            ("bucket_arn_calls", int(rows, |r| r.bucket_arn_calls as i64)),
            (
                "est_calls_with_bucket_key",
                int(rows, |r| r.calls_with_bucket_key as i64),
            ),
            ("est_saved_calls", int(rows, |r| r.saved_calls() as i64)),
            (
                "est_saved_usd_per_month",
                float(rows, |r| p.map(|p| p.usd(p.per_month(r.saved_calls())))),
            ),
            ("first_seen", timestamp(rows, |r| r.first_seen)),
            ("last_seen", timestamp(rows, |r| r.last_seen)),
        ],
    )
}

fn write_caching(path: &Path, insights: &KmsInsights<'_>) -> Result<()> {
    let rows: &[CachingRow<'_>] = &insights.caching;
    let p = insights.projection;
    let hex: Vec<String> = rows.iter().map(CachingRow::context_hex).collect();
    write(
        path,
        vec![
            ("account_id", text(rows, |r| r.account_id)),
            ("region", text(rows, |r| r.region)),
            ("principal", text(rows, |r| r.principal)),
            ("key_arn", text(rows, |r| r.key_arn)),
            (
                "encryption_context_hash",
                Arc::new(
                    hex.iter()
                        .map(|h| Some(h.as_str()))
                        .collect::<StringArray>(),
                ),
            ),
            ("calls", int(rows, |r| r.group.calls as i64)),
            (
                "cache_max_age_seconds",
                int(rows, |_| insights.cache_max_age),
            ),
            ("cache_windows", int(rows, |r| r.group.windows() as i64)),
            ("est_saved_calls", int(rows, |r| r.group.saved() as i64)),
            (
                "busiest_window_calls",
                int(rows, |r| r.group.busiest_window() as i64),
            ),
            (
                "est_saved_usd_per_month",
                float(rows, |r| p.map(|p| p.usd(p.per_month(r.group.saved())))),
            ),
            ("first_seen", timestamp(rows, |r| r.group.first_seen)),
            ("last_seen", timestamp(rows, |r| r.group.last_seen)),
        ],
    )
}

fn write_sigv2(path: &Path, rows: &[SigV2Row<'_>]) -> Result<()> {
    write(
        path,
        vec![
            ("hour", timestamp(rows, |r| r.hour)),
            ("account_id", text(rows, |r| r.account_id)),
            ("region", text(rows, |r| r.region)),
            ("principal", text(rows, |r| r.principal)),
            ("principal_type", text(rows, |r| r.principal_type)),
            ("user_agent", text(rows, |r| r.user_agent)),
            ("ua_family", text(rows, |r| r.ua_family)),
            ("ua_version", text(rows, |r| r.ua_version)),
            ("event_name", text(rows, |r| r.event_name)),
            ("bucket", text(rows, |r| r.bucket)),
            ("source_ip", text(rows, |r| r.source_ip)),
            ("auth_method", text(rows, |r| r.auth_method)),
            ("evidence", text(rows, |r| Some(r.evidence))),
            ("requests", int(rows, |r| r.tally.count as i64)),
            ("first_seen", timestamp(rows, |r| r.tally.first_seen)),
            ("last_seen", timestamp(rows, |r| r.tally.last_seen)),
            (
                "sigv4_min_version",
                text(rows, |r| r.client.sigv4_min_version),
            ),
            ("ua_kind", text(rows, |r| r.client.ua_kind)),
            (
                "upgrade_advice",
                text(rows, |r| Some(r.client.upgrade_advice.as_str())),
            ),
        ],
    )
}

fn write_tls(path: &Path, rows: &[TlsRow<'_>]) -> Result<()> {
    write(
        path,
        vec![
            ("hour", timestamp(rows, |r| r.hour)),
            ("account_id", text(rows, |r| r.account_id)),
            ("region", text(rows, |r| r.region)),
            ("event_source", text(rows, |r| r.event_source)),
            ("principal", text(rows, |r| r.principal)),
            ("principal_type", text(rows, |r| r.principal_type)),
            ("user_agent", text(rows, |r| r.user_agent)),
            ("ua_family", text(rows, |r| r.ua_family)),
            ("ua_version", text(rows, |r| r.ua_version)),
            ("tls_version", text(rows, |r| r.tls_version)),
            ("cipher_suite", text(rows, |r| r.cipher_suite)),
            ("source_ip", text(rows, |r| r.source_ip)),
            ("requests", int(rows, |r| r.tally.count as i64)),
            ("first_seen", timestamp(rows, |r| r.tally.first_seen)),
            ("last_seen", timestamp(rows, |r| r.tally.last_seen)),
            ("ua_kind", text(rows, |r| r.client.ua_kind)),
            (
                "upgrade_advice",
                text(rows, |r| Some(r.client.upgrade_advice.as_str())),
            ),
        ],
    )
}
