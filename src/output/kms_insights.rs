//! What to do about KMS, derived from the merged answers: what the calls cost, which
//! buckets an S3 Bucket Key would relieve, and which callers a data key cache would. Shared
//! by the Parquet writers, the terminal report and report.html, so they all say the same.
//!
//! Every figure here is an estimate with its method stated next to it (README, "Reading the
//! KMS insights"); the counts it starts from are exact.

use std::collections::{BTreeMap, BTreeSet};

use super::rows::{KmsCallRow, RateRow, Rows, Text};
use crate::aggregate::Accumulators;
use crate::aggregate::caching::CachingGroup;
use crate::aggregate::rates::SecondCounts;
use crate::attribute::kms::{
    CallerKind, DAYS_PER_MONTH, FREE_TIER_REQUESTS_PER_MONTH, THROTTLING_ERROR,
};
use crate::time::{SECONDS_PER_DAY, SECONDS_PER_HOUR, hour_of};

/// The analysed span: from the hour of the earliest attributed event to the end of the hour
/// of the latest. Projections divide by it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    pub fn days(&self) -> f64 {
        (self.end - self.start) as f64 / SECONDS_PER_DAY as f64
    }

    pub fn hours(&self) -> i64 {
        (self.end - self.start) / SECONDS_PER_HOUR
    }
}

/// Turns calls over the span into projected calls and dollars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    pub span: Span,
    /// US dollars per 10,000 requests.
    pub price_per_10k: f64,
}

impl Projection {
    pub fn per_day(&self, calls: u64) -> f64 {
        calls as f64 / self.span.days()
    }

    pub fn per_month(&self, calls: u64) -> f64 {
        self.per_day(calls) * DAYS_PER_MONTH
    }

    pub fn usd(&self, requests: f64) -> f64 {
        requests * self.price_per_10k / 10_000.0
    }
}

/// `kms_cost.parquet`: calls and their cost per account, per principal and per key.
#[derive(Debug, Clone)]
pub struct CostRow<'a> {
    /// `account`, `principal` or `key`.
    pub scope: &'static str,
    pub account_id: Text<'a>,
    pub principal: Text<'a>,
    pub key_arn: Text<'a>,
    pub calls: u64,
    pub throttled: u64,
}

/// `kms_bucket_keys.parquet`: KMS calls S3 made for one principal on one bucket.
#[derive(Debug, Clone)]
pub struct BucketKeyRow<'a> {
    pub account_id: Text<'a>,
    pub region: Text<'a>,
    pub s3_bucket: &'a str,
    pub principal: Text<'a>,
    /// Calls whose context is an object ARN: one data key per object, no Bucket Key.
    pub object_arn_calls: u64,
    /// Calls whose context is the bucket ARN: served by a Bucket Key.
    pub bucket_arn_calls: u64,
    /// Of the object-ARN calls, what would remain with a Bucket Key: one per (hour, key,
    /// operation) in which this principal made any (see `bucket_key_estimate`).
    pub calls_with_bucket_key: u64,
    pub bucket_status: BucketStatus,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl BucketKeyRow<'_> {
    pub fn saved_calls(&self) -> u64 {
        self.object_arn_calls - self.calls_with_bucket_key
    }
}

/// What the calls say about a bucket's Bucket Key, over every principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BucketStatus {
    /// Only object ARNs: no Bucket Key. Enable it, then re-copy the objects read often.
    Off,
    /// Bucket ARNs and object ARNs: a Bucket Key is on, but objects written before it was
    /// enabled still call KMS per object until they are copied onto themselves.
    OnWithOlderObjects,
    /// Only bucket ARNs: nothing to do.
    On,
}

impl BucketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BucketStatus::Off => "bucket_key_off",
            BucketStatus::OnWithOlderObjects => "bucket_key_on_older_objects",
            BucketStatus::On => "bucket_key_on",
        }
    }

    pub fn advice(self) -> &'static str {
        match self {
            BucketStatus::Off => "enable an S3 Bucket Key, then re-copy the objects read often",
            BucketStatus::OnWithOlderObjects => {
                "Bucket Key on: re-copy the objects written before it (S3 Batch Operations copy)"
            }
            BucketStatus::On => "Bucket Key on",
        }
    }
}

/// `kms_data_key_caching.parquet`: one (principal, key, encryption context) of direct data
/// key requests a cache could serve.
#[derive(Debug, Clone)]
pub struct CachingRow<'a> {
    pub account_id: Text<'a>,
    pub region: Text<'a>,
    pub principal: Text<'a>,
    pub key_arn: Text<'a>,
    pub context: u64,
    pub group: &'a CachingGroup,
}

impl CachingRow<'_> {
    /// The fingerprint as users see it: 16 lower-case hex digits.
    pub fn context_hex(&self) -> String {
        format!("{:016x}", self.context)
    }
}

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

/// Exact peak of an hour, earliest second on a tie (as `SecondCounts::stats`).
pub fn peak(counts: &SecondCounts) -> (u16, u64) {
    counts
        .per_second
        .iter()
        .map(|(&s, &c)| (s, u64::from(c)))
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .unwrap_or((0, 0))
}

/// Per account and region, the hours in order. Relies on `Rows`' order: by hour, account
/// and region, the account-and-region row before its principals.
pub fn hour_peaks<'a>(rates: &[RateRow<'a>]) -> BTreeMap<Scope<'a>, Vec<HourPeak<'a>>> {
    let mut scopes: BTreeMap<Scope<'a>, Vec<HourPeak<'a>>> = BTreeMap::new();
    let mut current: Option<(Scope<'a>, i64)> = None;
    for row in rates {
        let scope = (row.account_id, row.region);
        match row.principal {
            None => {
                let (second, calls) = peak(row.counts);
                let mut minute_peaks = [0u32; 60];
                for (&s, &c) in &row.counts.per_second {
                    let m = &mut minute_peaks[usize::from(s / 60).min(59)];
                    *m = (*m).max(c);
                }
                scopes.entry(scope).or_default().push(HourPeak {
                    hour: row.hour,
                    peak: calls,
                    peak_second: second,
                    calls: row.counts.per_second.values().map(|&c| u64::from(c)).sum(),
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
                let calls = row
                    .counts
                    .per_second
                    .get(&bar.peak_second)
                    .copied()
                    .map_or(0, u64::from);
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
    pub cost: Vec<CostRow<'a>>,
    pub bucket_keys: Vec<BucketKeyRow<'a>>,
    pub caching: Vec<CachingRow<'a>>,
    /// KMS calls per caller kind over the span.
    pub calls_by_kind: BTreeMap<CallerKind, u64>,
}

impl<'a> KmsInsights<'a> {
    pub fn build(acc: &'a Accumulators, rows: &Rows<'a>, price_per_10k: f64) -> KmsInsights<'a> {
        let projection = match (acc.records.first_event, acc.records.last_event) {
            (Some(first), Some(last)) => Some(Projection {
                span: Span {
                    start: hour_of(first),
                    end: hour_of(last) + SECONDS_PER_HOUR,
                },
                price_per_10k,
            }),
            _ => None,
        };
        let mut calls_by_kind = BTreeMap::new();
        for r in &rows.kms_calls {
            *calls_by_kind.entry(r.caller_kind).or_default() += r.tally.count;
        }
        let hour_peaks = hour_peaks(&rows.kms_rates);
        KmsInsights {
            recurring_spikes: recurring_spikes(&hour_peaks),
            hour_peaks,
            projection,
            price_per_10k,
            cache_max_age: acc.caching.max_age,
            cost: cost_rows(&rows.kms_calls),
            bucket_keys: bucket_key_rows(&rows.kms_calls),
            caching: caching_rows(acc),
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

/// Requests a month beyond the free tier (per account, all regions together).
pub fn billable_per_month(requests_per_month: f64) -> f64 {
    (requests_per_month - FREE_TIER_REQUESTS_PER_MONTH as f64).max(0.0)
}

fn cost_rows<'a>(calls: &[KmsCallRow<'a>]) -> Vec<CostRow<'a>> {
    type Group<'a> = (&'static str, Text<'a>, Text<'a>, Text<'a>);
    let mut groups: BTreeMap<Group<'a>, (u64, u64)> = BTreeMap::new();
    for r in calls {
        let throttled = u64::from(r.error_code == Some(THROTTLING_ERROR)) * r.tally.count;
        for g in [
            ("account", r.account_id, None, None),
            ("principal", r.account_id, r.principal, None),
            ("key", r.account_id, None, r.key_arn),
        ] {
            let e = groups.entry(g).or_default();
            e.0 += r.tally.count;
            e.1 += throttled;
        }
    }
    let mut rows: Vec<CostRow<'a>> = groups
        .into_iter()
        .map(
            |((scope, account_id, principal, key_arn), (calls, throttled))| CostRow {
                scope,
                account_id,
                principal,
                key_arn,
                calls,
                throttled,
            },
        )
        .collect();
    let rank = |s: &str| match s {
        "account" => 0,
        "principal" => 1,
        _ => 2,
    };
    rows.sort_by(|a, b| {
        rank(a.scope)
            .cmp(&rank(b.scope))
            .then(b.calls.cmp(&a.calls))
            .then((a.account_id, a.principal, a.key_arn).cmp(&(
                b.account_id,
                b.principal,
                b.key_arn,
            )))
    });
    rows
}

/// The Bucket Key estimate. With an S3 Bucket Key, S3 asks KMS for a bucket-level key and
/// reuses it for a limited time for the same requester, instead of one data key per object.
/// AWS does not publish that lifetime; this assumes at most an hour, so that a principal
/// still makes one call per (hour, key, operation) in which it calls at all. That is an upper
/// bound on what remains, so the savings are a lower bound (AWS quotes "up to 99%").
fn bucket_key_rows<'a>(calls: &[KmsCallRow<'a>]) -> Vec<BucketKeyRow<'a>> {
    type Group<'a> = (Text<'a>, Text<'a>, &'a str, Text<'a>);
    struct Acc<'a> {
        object: u64,
        bucket: u64,
        slots: BTreeSet<(i64, Text<'a>, Text<'a>)>,
        first: i64,
        last: i64,
    }
    let mut groups: BTreeMap<Group<'a>, Acc<'a>> = BTreeMap::new();
    // bucket -> (seen with a bucket ARN, seen with an object ARN)
    let mut buckets: BTreeMap<&'a str, (bool, bool)> = BTreeMap::new();
    for r in calls {
        let (Some(bucket), Some(bucket_key)) = (r.s3_bucket, r.bucket_key) else {
            continue;
        };
        if r.caller_kind != CallerKind::S3SseKms {
            continue;
        }
        let g = groups
            .entry((r.account_id, r.region, bucket, r.principal))
            .or_insert_with(|| Acc {
                object: 0,
                bucket: 0,
                slots: BTreeSet::new(),
                first: r.tally.first_seen,
                last: r.tally.last_seen,
            });
        g.first = g.first.min(r.tally.first_seen);
        g.last = g.last.max(r.tally.last_seen);
        let seen = buckets.entry(bucket).or_default();
        if bucket_key {
            g.bucket += r.tally.count;
            seen.0 = true;
        } else {
            g.object += r.tally.count;
            g.slots.insert((r.hour, r.key_arn, r.event_name));
            seen.1 = true;
        }
    }
    let mut rows: Vec<BucketKeyRow<'a>> = groups
        .into_iter()
        .map(|((account_id, region, s3_bucket, principal), g)| {
            let bucket_status = match buckets.get(s3_bucket) {
                Some((true, true)) => BucketStatus::OnWithOlderObjects,
                Some((true, false)) => BucketStatus::On,
                _ => BucketStatus::Off,
            };
            BucketKeyRow {
                account_id,
                region,
                s3_bucket,
                principal,
                object_arn_calls: g.object,
                bucket_arn_calls: g.bucket,
                calls_with_bucket_key: g.slots.len() as u64,
                bucket_status,
                first_seen: g.first,
                last_seen: g.last,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.saved_calls().cmp(&a.saved_calls()).then(
            (a.s3_bucket, a.account_id, a.region, a.principal).cmp(&(
                b.s3_bucket,
                b.account_id,
                b.region,
                b.principal,
            )),
        )
    });
    rows
}

/// Groups a cache would relieve (at least one call saved), most saved first.
fn caching_rows(acc: &Accumulators) -> Vec<CachingRow<'_>> {
    let s = |id| acc.strings.resolve(id);
    let mut rows: Vec<CachingRow<'_>> = acc
        .caching
        .groups
        .iter()
        .filter(|(_, g)| g.saved() > 0)
        .map(|(k, group)| CachingRow {
            account_id: s(k.account_id),
            region: s(k.region),
            principal: s(k.principal),
            key_arn: s(k.key_arn),
            context: k.context,
            group,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.group.saved().cmp(&a.group.saved()).then(
            (a.account_id, a.region, a.principal, a.key_arn, a.context).cmp(&(
                b.account_id,
                b.region,
                b.principal,
                b.key_arn,
                b.context,
            )),
        )
    });
    rows
}
