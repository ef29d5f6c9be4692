//! What to do about KMS, derived from the merged answers: what the calls cost, which
//! buckets an S3 Bucket Key would relieve, and which callers a data key cache would. Shared
//! by the Parquet writers, the terminal report and report.html, so they all say the same.
//!
//! Every figure here is an estimate with its method stated next to it (README, "Reading the
//! KMS insights"); the counts it starts from are exact.

use std::collections::BTreeMap;

use crate::attribute::kms::CallerKind;
use crate::attribute::kms::{Quota, QuotaClass, Quotas};
use crate::tables::kms_rates;
use crate::tables::{Rows, Tables, kms_bucket_keys, kms_cost, kms_data_key_caching};
use crate::time::SECONDS_PER_HOUR;

pub use crate::tables::kms_bucket_keys::BucketStatus;
pub use crate::tables::kms_cost::billable_per_month;
pub use crate::tables::projection::Projection;

pub type Text<'a> = Option<&'a str>;

/// An account and region: what the symmetric quota applies to.
pub type Scope<'a> = (Text<'a>, Text<'a>);

/// Accounts and regions that report.html draws a chart of: the ones closest to their quota.
/// Only their hours are kept (below), so the report's memory does not grow with the
/// organization.
pub const CHARTED_SCOPES: usize = 8;

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
}

impl HourPeak<'_> {
    pub fn mean_rps(&self) -> f64 {
        self.calls as f64 / SECONDS_PER_HOUR as f64
    }
}

/// The busiest second of every hour of one account and region, against its quota.
#[derive(Debug, Clone)]
pub struct ScopeChart<'a> {
    pub account_id: Text<'a>,
    pub region: Text<'a>,
    /// The symmetric quota in calls per second (u64::MAX when the region has none).
    pub quota: u64,
    pub highest_peak: u64,
    /// Every hour with symmetric calls, in order.
    pub hours: Vec<HourPeak<'a>>,
    /// Over all its hours: the busiest second within each minute of the hour, and how many
    /// hours had their busiest second in that minute.
    pub minute_peaks: [u32; 60],
    pub busiest_in: [u32; 60],
}

/// The charts of report.html, and how many accounts and regions could have had one.
#[derive(Debug, Clone, Default)]
pub struct HourPeaks<'a> {
    /// Closest to the quota first, at most [`CHARTED_SCOPES`].
    pub charts: Vec<ScopeChart<'a>>,
    /// Accounts and regions with symmetric calls.
    pub scopes: usize,
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

/// What the first pass keeps of one account and region: a fixed size, whatever its hours.
#[derive(Debug, Clone)]
struct ScopeSummary {
    hours: usize,
    calls: u64,
    highest_peak: u64,
    minute_peaks: [u32; 60],
    busiest_in: [u32; 60],
}

impl Default for ScopeSummary {
    fn default() -> Self {
        ScopeSummary {
            hours: 0,
            calls: 0,
            highest_peak: 0,
            minute_peaks: [0; 60],
            busiest_in: [0; 60],
        }
    }
}

/// Hours needed before a repeated minute is called a pattern.
const MIN_SPIKE_HOURS: usize = 3;

impl ScopeSummary {
    /// The minute most hours had their busiest second in, when that is a pattern: by chance
    /// it is one minute in sixty, so a pattern is at least half the hours (and 3 or more).
    fn spike_minute(&self) -> Option<(u16, usize)> {
        if self.hours < MIN_SPIKE_HOURS {
            return None;
        }
        let (minute, &hours_with) = self
            .busiest_in
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))?;
        let hours_with = hours_with as usize;
        (hours_with >= MIN_SPIKE_HOURS && hours_with * 2 >= self.hours)
            .then_some((minute as u16, hours_with))
    }
}

/// What the second pass gathers for a scope with a recurring spike: the peaks of the hours
/// whose busiest second fell in its minute, and who made them.
struct SpikeHours<'a> {
    minute: u16,
    hours_with: usize,
    peaks: Vec<u64>,
    by: BTreeMap<Text<'a>, u64>,
}

/// The busiest second of each hour, per account and region, of the symmetric quota (the
/// quota nearly all KMS load counts against: S3, DynamoDB and every data key), for the
/// charts and the recurring spikes. Relies on `Rows`' order: by hour, account, region and
/// class, the account-and-region row before its principals.
///
/// Two passes over `rates`, so that memory is bounded by the charts drawn, not by accounts
/// x regions x hours (a month of a 20-account, 4-region organization held 57,600 hours,
/// 30 MB): the first keeps a fixed-size summary per account and region, which picks the
/// charts and the recurring spikes; the second keeps the hours of those alone.
pub fn hour_peaks<'a, I>(
    rates: impl Fn() -> I,
    quotas: &Quotas,
) -> (HourPeaks<'a>, Vec<RecurringSpike<'a>>)
where
    I: IntoIterator<Item = kms_rates::Row<'a>>,
{
    let symmetric = QuotaClass::Symmetric.as_str();
    let mut summaries: BTreeMap<Scope<'a>, ScopeSummary> = BTreeMap::new();
    for row in rates().into_iter() {
        if row.quota_class != symmetric || row.principal.is_some() {
            continue;
        }
        let s = summaries.entry((row.account_id, row.region)).or_default();
        let (second, peak) = row.counts.peak();
        s.hours += 1;
        s.calls += row.counts.calls();
        s.highest_peak = s.highest_peak.max(peak);
        for (sec, c) in row.counts.per_second.iter() {
            let m = &mut s.minute_peaks[usize::from(sec / 60).min(59)];
            *m = (*m).max(c);
        }
        s.busiest_in[usize::from(second / 60).min(59)] += 1;
    }

    let quota_of = |(account, region): Scope<'a>| {
        quotas
            .get(account, region.unwrap_or(""), QuotaClass::Symmetric)
            .and_then(Quota::whole_rps)
            .unwrap_or(u64::MAX)
    };
    let mut ranked: Vec<(Scope<'a>, u64, u64)> = summaries
        .iter()
        .map(|(&scope, s)| (scope, quota_of(scope), s.highest_peak))
        .collect();
    ranked.sort_by(|a, b| {
        (b.2 as f64 / b.1 as f64)
            .total_cmp(&(a.2 as f64 / a.1 as f64))
            .then(a.0.cmp(&b.0))
    });
    ranked.truncate(CHARTED_SCOPES);
    let mut charts: BTreeMap<Scope<'a>, ScopeChart<'a>> = ranked
        .iter()
        .map(|&(scope, quota, highest_peak)| {
            let s = &summaries[&scope];
            let chart = ScopeChart {
                account_id: scope.0,
                region: scope.1,
                quota,
                highest_peak,
                hours: Vec::new(),
                minute_peaks: s.minute_peaks,
                busiest_in: s.busiest_in,
            };
            (scope, chart)
        })
        .collect();
    let mut spikes: BTreeMap<Scope<'a>, SpikeHours<'a>> = summaries
        .iter()
        .filter_map(|(&scope, s)| {
            let (minute, hours_with) = s.spike_minute()?;
            let hours = SpikeHours {
                minute,
                hours_with,
                peaks: Vec::with_capacity(hours_with),
                by: BTreeMap::new(),
            };
            Some((scope, hours))
        })
        .collect();

    if !charts.is_empty() || !spikes.is_empty() {
        // The hour being read: its account and region, and its busiest second when that
        // fell in the scope's spike minute.
        let mut current: Option<(Scope<'a>, i64, u16, bool)> = None;
        for row in rates().into_iter() {
            if row.quota_class != symmetric {
                continue;
            }
            let scope = (row.account_id, row.region);
            let chart = charts.get_mut(&scope);
            let spike = spikes.get_mut(&scope);
            if chart.is_none() && spike.is_none() {
                continue;
            }
            match row.principal {
                None => {
                    let (second, peak) = row.counts.peak();
                    let in_spike = spike.is_some_and(|s| {
                        let hit = second / 60 == s.minute;
                        if hit {
                            s.peaks.push(peak);
                        }
                        hit
                    });
                    if let Some(c) = chart {
                        c.hours.push(HourPeak {
                            hour: row.hour,
                            peak,
                            peak_second: second,
                            calls: row.counts.calls(),
                            throttled: row.counts.throttled,
                            by_principal: Vec::new(),
                        });
                    }
                    current = Some((scope, row.hour, second, in_spike));
                }
                Some(_) => {
                    let Some((at, hour, second, in_spike)) = current else {
                        continue;
                    };
                    if (at, hour) != (scope, row.hour) {
                        continue;
                    }
                    let calls = u64::from(row.counts.per_second.get(second));
                    if calls == 0 {
                        continue;
                    }
                    if let Some(bar) = chart.and_then(|c| c.hours.last_mut()) {
                        bar.by_principal.push((row.principal, calls));
                    }
                    if let Some(s) = spike.filter(|_| in_spike) {
                        *s.by.entry(row.principal).or_default() += calls;
                    }
                }
            }
        }
    }

    let mut drawn: Vec<ScopeChart<'a>> = Vec::with_capacity(ranked.len());
    for (scope, _, _) in &ranked {
        if let Some(mut c) = charts.remove(scope) {
            for b in &mut c.hours {
                b.by_principal
                    .sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            }
            drawn.push(c);
        }
    }
    let peaks = HourPeaks {
        charts: drawn,
        scopes: summaries.len(),
    };
    let mut recurring: Vec<RecurringSpike<'a>> = spikes
        .into_iter()
        .map(|(scope, mut s)| {
            let summary = &summaries[&scope];
            let total: u64 = s.peaks.iter().sum();
            let (principal, top) =
                s.by.into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                    .unwrap_or((None, 0));
            s.peaks.sort_unstable();
            RecurringSpike {
                account_id: scope.0,
                region: scope.1,
                minute: s.minute,
                hours_with: s.hours_with,
                hours: summary.hours,
                principal,
                principal_share: if total > 0 {
                    top as f64 / total as f64
                } else {
                    0.0
                },
                median_peak: s.peaks.get(s.peaks.len() / 2).copied().unwrap_or(0),
                mean_rps: summary.calls as f64 / (summary.hours as f64 * SECONDS_PER_HOUR as f64),
            }
        })
        .collect();
    recurring.sort_by(|a, b| {
        b.median_peak
            .cmp(&a.median_peak)
            .then((a.account_id, a.region).cmp(&(b.account_id, b.region)))
    });
    (peaks, recurring)
}

pub struct KmsInsights<'a> {
    /// The charts of the accounts and regions closest to their quota.
    pub hour_peaks: HourPeaks<'a>,
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
    pub fn build(
        tables: &'a Tables,
        rows: &'a Rows<'a>,
        quotas: &Quotas,
        price_per_10k: f64,
    ) -> KmsInsights<'a> {
        let r = &tables.records;
        let projection = Projection::of(r.first_event, r.last_event, price_per_10k);
        let mut calls_by_kind = BTreeMap::new();
        for r in rows.kms_calls.iter() {
            *calls_by_kind.entry(r.caller_kind).or_default() += r.tally.count;
        }
        let (hour_peaks, recurring_spikes) = hour_peaks(|| rows.kms_rates.iter(), quotas);
        KmsInsights {
            recurring_spikes,
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::tables::kms_rates::{Resolved, SecondCounts};

    const HOUR: i64 = 1_772_323_200; // 2026-03-01T00:00:00Z
    const ACCOUNTS: [&str; 10] = [
        "100000000000",
        "100000000001",
        "100000000002",
        "100000000003",
        "100000000004",
        "100000000005",
        "100000000006",
        "100000000007",
        "100000000008",
        "100000000009",
    ];

    fn rate(
        hour: i64,
        account: &'static str,
        class: &'static str,
        principal: Option<&'static str>,
        seconds: &[(u16, u32)],
    ) -> kms_rates::Row<'static> {
        kms_rates::Row {
            key: Resolved {
                hour,
                account_id: Some(account),
                region: Some("eu-north-1"),
                quota_class: class,
                custom_key_store_id: None,
                principal,
            },
            counts: Cow::Owned(SecondCounts {
                per_second: seconds.iter().copied().collect(),
                ..SecondCounts::default()
            }),
            example_session: None,
        }
    }

    /// Ten accounts in eu-north-1 (10,000/s): account 9 has four hours, three of them
    /// peaking in minute :00 (a scheduled job); accounts 0-8 one hour each, account i
    /// peaking at i x 100/s. An RSA row of account 0 at 9,999/s counts against another
    /// quota and must be ignored.
    fn rates() -> Vec<kms_rates::Row<'static>> {
        let busy = ACCOUNTS[9];
        let mut rows = Vec::new();
        // Hour 0, in the order of Rows: account, class, the account's row before its
        // principals.
        for (i, account) in ACCOUNTS.iter().enumerate().take(9) {
            rows.push(rate(
                HOUR,
                account,
                "symmetric",
                None,
                &[(10, i as u32 * 100)],
            ));
            if i == 0 {
                rows.push(rate(HOUR, account, "rsa", None, &[(3000, 9_999)]));
            }
        }
        rows.push(rate(HOUR, busy, "symmetric", None, &[(5, 900), (125, 50)]));
        rows.push(rate(
            HOUR,
            busy,
            "symmetric",
            Some("role/bi"),
            &[(5, 600), (125, 50)],
        ));
        rows.push(rate(HOUR, busy, "symmetric", Some("role/etl"), &[(5, 300)]));
        let h1 = HOUR + 3600;
        rows.push(rate(h1, busy, "symmetric", None, &[(7, 700)]));
        rows.push(rate(h1, busy, "symmetric", Some("role/bi"), &[(7, 700)]));
        let h2 = HOUR + 7200;
        rows.push(rate(h2, busy, "symmetric", None, &[(0, 800)]));
        rows.push(rate(h2, busy, "symmetric", Some("role/etl"), &[(0, 800)]));
        let h3 = HOUR + 3 * 3600;
        rows.push(rate(h3, busy, "symmetric", None, &[(1800, 600)]));
        rows.push(rate(
            h3,
            busy,
            "symmetric",
            Some("role/etl"),
            &[(1800, 600)],
        ));
        rows
    }

    #[test]
    fn only_the_scopes_closest_to_their_quota_keep_their_hours() {
        let rows = rates();
        let (peaks, _) = hour_peaks(|| rows.iter().cloned(), &Quotas::default());
        assert_eq!(peaks.scopes, 10);
        let charted: Vec<Text<'_>> = peaks.charts.iter().map(|c| c.account_id).collect();
        let expected: Vec<Text<'_>> = (2..10).rev().map(|i| Some(ACCOUNTS[i])).collect();
        assert_eq!(
            charted, expected,
            "8 charts, highest share of the quota first"
        );

        let busy = &peaks.charts[0];
        assert_eq!((busy.quota, busy.highest_peak), (10_000, 900));
        let hours: Vec<(i64, u64, u16)> = busy
            .hours
            .iter()
            .map(|h| (h.hour - HOUR, h.peak, h.peak_second))
            .collect();
        assert_eq!(
            hours,
            [
                (0, 900, 5),
                (3600, 700, 7),
                (7200, 800, 0),
                (10_800, 600, 1800)
            ]
        );
        assert_eq!(busy.hours[0].calls, 950);
        assert_eq!(
            busy.hours[0].by_principal,
            [(Some("role/bi"), 600), (Some("role/etl"), 300)]
        );
        // The minute profile: the busiest second of each minute over all hours, and how
        // many hours peaked in it.
        assert_eq!(
            (
                busy.minute_peaks[0],
                busy.minute_peaks[2],
                busy.minute_peaks[30]
            ),
            (900, 50, 600)
        );
        assert_eq!(busy.minute_peaks.iter().filter(|&&m| m > 0).count(), 3);
        assert_eq!((busy.busiest_in[0], busy.busiest_in[30]), (3, 1));
        assert_eq!(busy.busiest_in.iter().sum::<u32>(), 4);
        // The RSA row's 9,999/s is not a symmetric peak.
        assert!(peaks.charts.iter().all(|c| c.highest_peak < 1_000));
    }

    #[test]
    fn a_busiest_second_in_the_same_minute_most_hours_is_a_recurring_spike() {
        let rows = rates();
        let (_, spikes) = hour_peaks(|| rows.iter().cloned(), &Quotas::default());
        assert_eq!(spikes.len(), 1, "{spikes:?}");
        let s = &spikes[0];
        assert_eq!((s.account_id, s.minute), (Some(ACCOUNTS[9]), 0));
        assert_eq!((s.hours_with, s.hours), (3, 4));
        // Of the three peaks in minute :00 (900, 700, 800): role/bi made 600 + 700, role/etl
        // 300 + 800; the 600 of hour 3 (minute :30) is not one of them.
        assert_eq!(s.principal, Some("role/bi"));
        assert!((s.principal_share - 1300.0 / 2400.0).abs() < 1e-12);
        assert_eq!(s.median_peak, 800);
        assert!((s.mean_rps - 3050.0 / (4.0 * 3600.0)).abs() < 1e-12);
    }
}
