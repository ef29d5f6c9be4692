//! What to do about KMS, derived from the merged answers: what the calls cost, which
//! buckets an S3 Bucket Key would relieve, and which callers a data key cache would. Shared
//! by the Parquet writers, the terminal report and report.html, so they all say the same.
//!
//! Every figure here is an estimate with its method stated next to it (README, "Reading the
//! KMS insights"); the counts it starts from are exact.

use std::collections::BTreeMap;

use crate::attribute::kms::CallerKind;
use crate::attribute::kms::QuotaClass;
use crate::tables::kms_rates;
use crate::tables::{Rows, Tables, kms_bucket_keys, kms_cost, kms_data_key_caching};
use crate::time::SECONDS_PER_HOUR;

pub use crate::tables::kms_bucket_keys::BucketStatus;
pub use crate::tables::kms_cost::billable_per_month;
pub use crate::tables::projection::Projection;

pub type Text<'a> = Option<&'a str>;

/// An account and region: what the symmetric quota applies to.
pub type Scope<'a> = (Text<'a>, Text<'a>);

/// One hour of one account and region: its busiest second and who made it.
#[derive(Debug, Clone)]
pub struct HourPeak<'a> {
    pub hour: i64,
    pub peak: u64,
    pub peak_second: u16,
    pub calls: u64,
    pub throttled: u64,
    /// Calls of each principal in the busiest second, most first.
    pub by_principal: Vec<(Text<'a>, u64)>,
    /// Busiest second within each minute of the hour.
    pub minute_peaks: [u32; 60],
}

impl HourPeak<'_> {
    pub fn mean_rps(&self) -> f64 {
        self.calls as f64 / SECONDS_PER_HOUR as f64
    }
}

/// A busiest second that keeps falling in the same minute of the hour: a scheduled job
/// (the seed story's BI refresh "every hour, on the hour").
#[derive(Debug, Clone)]
pub struct RecurringSpike<'a> {
    pub account_id: Text<'a>,
    pub region: Text<'a>,
    /// Minute of the hour (0-59).
    pub minute: u16,
    /// Hours whose busiest second fell in that minute, of `hours` with symmetric calls.
    pub hours_with: usize,
    pub hours: usize,
    /// The principal with most calls in those busiest seconds, and its share of them.
    pub principal: Text<'a>,
    pub principal_share: f64,
    /// Median of those hours' peaks, and the mean rate over the whole span's hours.
    pub median_peak: u64,
    pub mean_rps: f64,
}

/// Per account and region, the hours of the symmetric quota in order (the quota nearly all
/// KMS load counts against: S3, DynamoDB and every data key). Relies on `Rows`' order: by
/// hour, account, region and class, the account-and-region row before its principals.
pub fn hour_peaks<'a>(
    rates: impl IntoIterator<Item = kms_rates::Row<'a>>,
) -> BTreeMap<Scope<'a>, Vec<HourPeak<'a>>> {
    let mut scopes: BTreeMap<Scope<'a>, Vec<HourPeak<'a>>> = BTreeMap::new();
    let mut current: Option<(Scope<'a>, i64)> = None;
    let symmetric = QuotaClass::Symmetric.as_str();
    for row in rates.into_iter().filter(|r| r.quota_class == symmetric) {
        let scope = (row.account_id, row.region);
        match row.principal {
            None => {
                let (second, calls) = row.counts.peak();
                let mut minute_peaks = [0u32; 60];
                for (s, c) in row.counts.per_second.iter() {
                    let m = &mut minute_peaks[usize::from(s / 60).min(59)];
                    *m = (*m).max(c);
                }
                scopes.entry(scope).or_default().push(HourPeak {
                    hour: row.hour,
                    peak: calls,
                    peak_second: second,
                    calls: row.counts.calls(),
                    throttled: row.counts.throttled,
                    by_principal: Vec::new(),
                    minute_peaks,
                });
                current = Some((scope, row.hour));
            }
            Some(_) => {
                if current != Some((scope, row.hour)) {
                    continue;
                }
                let Some(bar) = scopes.get_mut(&scope).and_then(|b| b.last_mut()) else {
                    continue;
                };
                let calls = u64::from(row.counts.per_second.get(bar.peak_second));
                if calls > 0 {
                    bar.by_principal.push((row.principal, calls));
                }
            }
        }
    }
    for bars in scopes.values_mut() {
        for b in bars.iter_mut() {
            b.by_principal
                .sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        }
    }
    scopes
}

/// Hours needed before a repeated minute is called a pattern.
const MIN_SPIKE_HOURS: usize = 3;

fn recurring_spikes<'a>(peaks: &BTreeMap<Scope<'a>, Vec<HourPeak<'a>>>) -> Vec<RecurringSpike<'a>> {
    let mut out = Vec::new();
    for (&(account_id, region), bars) in peaks {
        let hours = bars.len();
        if hours < MIN_SPIKE_HOURS {
            continue;
        }
        let mut per_minute = [0usize; 60];
        for b in bars {
            per_minute[usize::from(b.peak_second / 60).min(59)] += 1;
        }
        let (minute, &hours_with) = per_minute
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
            .unwrap_or((0, &0));
        // By chance, one minute in sixty: a pattern is at least half the hours.
        if hours_with < MIN_SPIKE_HOURS || hours_with * 2 < hours {
            continue;
        }
        let spiking: Vec<&HourPeak<'a>> = bars
            .iter()
            .filter(|b| usize::from(b.peak_second / 60) == minute)
            .collect();
        let mut by: BTreeMap<Text<'a>, u64> = BTreeMap::new();
        for b in &spiking {
            for (p, n) in &b.by_principal {
                *by.entry(*p).or_default() += n;
            }
        }
        let total: u64 = spiking.iter().map(|b| b.peak).sum();
        let (principal, top) = by
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .unwrap_or((None, 0));
        let mut peaks_sorted: Vec<u64> = spiking.iter().map(|b| b.peak).collect();
        peaks_sorted.sort_unstable();
        let calls: u64 = bars.iter().map(|b| b.calls).sum();
        out.push(RecurringSpike {
            account_id,
            region,
            minute: minute as u16,
            hours_with,
            hours,
            principal,
            principal_share: if total > 0 {
                top as f64 / total as f64
            } else {
                0.0
            },
            median_peak: peaks_sorted[peaks_sorted.len() / 2],
            mean_rps: calls as f64 / (hours as f64 * SECONDS_PER_HOUR as f64),
        });
    }
    out.sort_by(|a, b| {
        b.median_peak
            .cmp(&a.median_peak)
            .then((a.account_id, a.region).cmp(&(b.account_id, b.region)))
    });
    out
}

pub struct KmsInsights<'a> {
    /// Per account and region, each hour's busiest second and who made it.
    pub hour_peaks: BTreeMap<Scope<'a>, Vec<HourPeak<'a>>>,
    pub recurring_spikes: Vec<RecurringSpike<'a>>,
    /// None when nothing was attributed.
    pub projection: Option<Projection>,
    pub price_per_10k: f64,
    pub cache_max_age: i64,
    pub cost: &'a [kms_cost::Row<'a>],
    pub bucket_keys: &'a [kms_bucket_keys::Row<'a>],
    pub caching: &'a [kms_data_key_caching::Row<'a>],
    /// KMS calls per caller kind over the span.
    pub calls_by_kind: BTreeMap<CallerKind, u64>,
}

impl<'a> KmsInsights<'a> {
    pub fn build(tables: &'a Tables, rows: &'a Rows<'a>, price_per_10k: f64) -> KmsInsights<'a> {
        let r = &tables.records;
        let projection = Projection::of(r.first_event, r.last_event, price_per_10k);
        let mut calls_by_kind = BTreeMap::new();
        for r in rows.kms_calls.iter() {
            *calls_by_kind.entry(r.caller_kind).or_default() += r.tally.count;
        }
        let hour_peaks = hour_peaks(rows.kms_rates.iter());
        KmsInsights {
            recurring_spikes: recurring_spikes(&hour_peaks),
            hour_peaks,
            projection,
            price_per_10k,
            cache_max_age: tables.caching.max_age,
            cost: &rows.cost,
            bucket_keys: &rows.bucket_keys,
            caching: &rows.caching,
            calls_by_kind,
        }
    }

    pub fn total_calls(&self) -> u64 {
        self.cost
            .iter()
            .filter(|r| r.scope == "account")
            .map(|r| r.calls)
            .sum()
    }

    /// Projected monthly bill of the account rows, after each account's free tier.
    pub fn usd_per_month_after_free_tier(&self) -> Option<f64> {
        let p = self.projection?;
        Some(
            self.cost
                .iter()
                .filter(|r| r.scope == "account")
                .map(|r| p.usd(billable_per_month(p.per_month(r.calls))))
                .sum(),
        )
    }
}
