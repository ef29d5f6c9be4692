//! The report model: everything the terminal report and report.html show, computed once
//! from the run's results ([`ReportInput`]). Both renderers draw only from it, so they show
//! the same groupings, counts and sort orders.
//!
//! This is the one file of the report that reads the analysis, the rows and the KMS
//! insights: only the `build` functions below touch their types, so when those move, only
//! these functions need new paths. The model's own types hold plain values (strings from
//! the trail, unescaped; counts; dollars already projected).
//!
//! Every list knows its length and the number of items the report shows (`--top`): a
//! renderer draws [`Listing::shown`] and says how many more there are ([`Listing::more`]),
//! so nothing is cut silently. Lists bounded by principals, keys or buckets are kept whole;
//! the hours of every account, region and class, which grow with the span and the
//! organization, keep only the items shown ([`Listing::top_of`]) and their count.

use std::collections::{BTreeMap, BTreeSet};

use super::format::{count, percent};
use crate::attribute::kms::{
    CacheOperation, DAYS_PER_MONTH, FREE_TIER_REQUESTS_PER_MONTH, Quota, Quotas,
};
use crate::attribute::sigv2::Signing;
use crate::output::kms_insights::{BucketStatus, KmsInsights, Projection, RecurringSpike};
use crate::pipeline::Analysis;
use crate::tables::Rows;
use crate::tables::Tally;
use crate::tables::kms_bucket_keys::Row as BucketKeyRow;
use crate::tables::kms_calls::Row as KmsCallRow;
use crate::tables::kms_rates::Row as RateRow;
use crate::tables::sigv2_requests::Row as SigV2Row;
use crate::tables::tls_legacy::Row as TlsRow;
use crate::time::format_rfc3339;

/// A string from the trail, or nothing (shown as "-").
pub type Text<'a> = Option<&'a str>;

/// Everything the terminal report and report.html show.
pub struct ReportInput<'a> {
    pub analysis: &'a Analysis,
    pub rows: &'a Rows<'a>,
    pub insights: &'a KmsInsights<'a>,
    pub quotas: &'a Quotas,
    pub warnings: &'a [String],
    /// Rows per table.
    pub top: usize,
    pub wall_seconds: f64,
}

/// A list in full, and how many of its items the report shows.
#[derive(Debug, Clone)]
pub struct Listing<T> {
    /// The list, or its first `top` items when it was built by [`Listing::top_of`].
    pub items: Vec<T>,
    /// Items shown: `--top`.
    pub top: usize,
    /// What the items are, and where the rest can be read: "principals in kms_calls.parquet".
    pub what: &'static str,
    /// Items in the whole list, kept or not.
    total: usize,
}

impl<T> Listing<T> {
    pub fn new(items: Vec<T>, top: usize, what: &'static str) -> Self {
        let total = items.len();
        Listing {
            items,
            top,
            what,
            total,
        }
    }

    /// The first `top` of `items` in the order of `order`, as a stable sort of all of them
    /// would give, holding at most `2 * top` at a time.
    pub fn top_of(
        items: impl IntoIterator<Item = T>,
        top: usize,
        what: &'static str,
        order: impl Fn(&T, &T) -> std::cmp::Ordering,
    ) -> Self {
        let keep = top.max(1);
        let mut kept: Vec<T> = Vec::new();
        let mut total = 0;
        for item in items {
            total += 1;
            kept.push(item);
            // The kept items are sorted and came first, so a stable sort leaves ties in
            // the order they came: the same first items as sorting the whole list.
            if kept.len() >= 2 * keep {
                kept.sort_by(&order);
                kept.truncate(keep);
            }
        }
        kept.sort_by(&order);
        kept.truncate(top);
        Listing {
            items: kept,
            top,
            what,
            total,
        }
    }

    /// The items the report shows.
    pub fn shown(&self) -> &[T] {
        &self.items[..self.top.min(self.items.len())]
    }

    /// How many items are not shown.
    pub fn more(&self) -> usize {
        self.total.saturating_sub(self.top)
    }

    /// "... and N more principals in kms_calls.parquet" when the list is cut: both
    /// renderers say it in the same words.
    pub fn more_line(&self) -> Option<String> {
        let n = self.more();
        (n > 0).then(|| {
            // "1 more principal in ...": the first word of `what` is a plural noun.
            let what = match self.what.split_once(' ') {
                _ if n > 1 => self.what.to_owned(),
                Some((noun, rest)) => format!("{} {rest}", noun.strip_suffix('s').unwrap_or(noun)),
                None => self.what.strip_suffix('s').unwrap_or(self.what).to_owned(),
            };
            format!("... and {n} more {what}")
        })
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// The first line: what was read, and how long it took.
#[derive(Debug, Clone, Default)]
pub struct Headline {
    pub objects_read: u64,
    pub objects_skipped: u64,
    pub objects_failed: u64,
    pub records: u64,
    pub kms: u64,
    pub s3: u64,
    pub malformed: u64,
    pub duplicates: u64,
    pub wall_seconds: f64,
}

/// A run that went on from an interrupted one's checkpoint.
#[derive(Debug, Clone)]
pub struct Resumed<'a> {
    pub state_file: &'a str,
    pub objects_from_state: u64,
}

/// KMS records not counted because another copy of the same call was.
#[derive(Debug, Clone)]
pub struct Duplicates {
    pub total: u64,
    /// Delivered twice (same eventID).
    pub event_id: u64,
    /// The key owner's copy of a cross-account call (same sharedEventID).
    pub cross_account: u64,
}

/// The analysed span: from the hour of the earliest event to the end of the latest's hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    pub start: i64,
    pub end: i64,
    pub hours: i64,
    pub days: f64,
}

/// One principal's KMS calls.
#[derive(Debug, Clone)]
pub struct KmsCaller<'a> {
    pub principal: Text<'a>,
    pub calls: u64,
    /// Symmetric calls in its busiest second, and when (none without symmetric calls).
    pub peak: u64,
    pub peak_at: Option<i64>,
    pub throttled: u64,
    pub usd_per_month: Option<f64>,
}

/// One hour of one account and region against its quota of one class.
#[derive(Debug, Clone)]
pub struct QuotaHour<'a> {
    pub hour: i64,
    pub account_id: Text<'a>,
    pub region: Text<'a>,
    /// `quota_class`, and the custom key store for that class.
    pub quota_class: &'a str,
    pub custom_key_store_id: Text<'a>,
    pub peak: u64,
    /// The busiest second.
    pub peak_at: i64,
    /// Unknown without a region, or for a class without a documented quota.
    pub quota: Option<Quota>,
    /// `peak / quota`.
    pub share: Option<f64>,
    /// Seconds of the hour above 80% of the quota, and above the quota.
    pub seconds_over_80: Option<u64>,
    pub seconds_over_quota: Option<u64>,
    pub throttled: u64,
}

impl QuotaHour<'_> {
    /// "KMS: the busiest second came to 5.0% of its quota (...)": the reports' opening line
    /// on KMS (unescaped).
    pub fn summary(&self) -> String {
        let share = self.share.map_or("an unknown share".to_owned(), percent);
        let quota = self.quota.map_or("-".to_owned(), |q| q.to_string());
        format!(
            "KMS: the busiest second came to {share} of its quota ({}/s of {quota}/s, {} in {} {}, hour {}, {})",
            self.peak,
            self.quota_class,
            self.account_id.unwrap_or("-"),
            self.region.unwrap_or("-"),
            format_rfc3339(self.hour),
            count(self.throttled, "throttled call")
        )
    }
}

/// A busiest second that keeps falling in the same minute of the hour (kms_insights).
pub type Spike<'a> = RecurringSpike<'a>;

/// Calls projected to a day and a month, and what they cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projected {
    pub calls: u64,
    pub per_day: f64,
    pub usd_per_day: f64,
    pub usd_per_month: f64,
}

impl Projected {
    fn of(p: &Projection, calls: u64) -> Self {
        Projected {
            calls,
            per_day: p.per_day(calls),
            usd_per_day: p.usd(p.per_day(calls)),
            usd_per_month: p.usd(p.per_month(calls)),
        }
    }
}

/// One row of the cost table: an account, or a principal or a key in an account.
#[derive(Debug, Clone)]
pub struct CostLine<'a> {
    pub account_id: Text<'a>,
    /// The principal or the key; none for an account.
    pub name: Text<'a>,
    pub projected: Projected,
    pub throttled: u64,
}

/// What the KMS calls cost, projected from the analysed days.
#[derive(Debug, Clone)]
pub struct Cost<'a> {
    pub days: f64,
    pub price_per_10k: f64,
    pub days_per_month: f64,
    pub free_tier_per_month: u64,
    pub total: Projected,
    pub usd_per_month_after_free_tier: Option<f64>,
    /// Calls per caller kind (direct, s3_sse_kms, ...).
    pub by_kind: Vec<(&'static str, u64)>,
    pub accounts: Listing<CostLine<'a>>,
    pub principals: Listing<CostLine<'a>>,
    pub keys: Listing<CostLine<'a>>,
}

/// One principal's KMS calls S3 made for one bucket (in one account and region).
#[derive(Debug, Clone)]
pub struct BucketPrincipal<'a> {
    pub account_id: Text<'a>,
    pub region: Text<'a>,
    pub principal: Text<'a>,
    pub object_arn_calls: u64,
    pub bucket_arn_calls: u64,
    pub calls_with_bucket_key: u64,
    pub saved_calls: u64,
    pub usd_per_month_saved: Option<f64>,
}

/// A bucket an S3 Bucket Key (or re-copying its objects) would relieve.
#[derive(Debug, Clone)]
pub struct BucketCandidate<'a> {
    pub bucket: &'a str,
    /// What to do, in a few words (terminal) and in a sentence (page).
    pub todo: &'static str,
    pub advice: &'static str,
    pub object_arn_calls: u64,
    pub saved_calls: u64,
    pub usd_per_month_saved: Option<f64>,
    /// Its principals, most calls saved first: the first is the one to talk to.
    pub principals: Listing<BucketPrincipal<'a>>,
}

/// A principal, key and encryption context of direct data key or Decrypt calls a cache would
/// serve.
#[derive(Debug, Clone)]
pub struct CachingCandidate<'a> {
    /// Data key generation or Decrypt (whose estimate is an upper bound).
    pub operation: CacheOperation,
    pub principal: Text<'a>,
    pub key_arn: Text<'a>,
    /// The context's fingerprint, 16 hex digits.
    pub context: String,
    pub calls: u64,
    pub windows: u64,
    pub busiest_window: u64,
    pub saved: u64,
    pub usd_per_month_saved: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Caching<'a> {
    /// Seconds a cached data key lives (`--cache-max-age`).
    pub max_age: i64,
    pub candidates: Listing<CachingCandidate<'a>>,
}

/// One principal of a to-do list with its clients, most requests first.
#[derive(Debug, Clone)]
pub struct PrincipalToDo<'a, C> {
    pub principal: Text<'a>,
    pub requests: u64,
    pub clients: Listing<C>,
}

/// A client (user agent family and version) of one principal that signs S3 requests with
/// SigV2, summed over hours and buckets.
#[derive(Debug, Clone)]
pub struct SigV2Client<'a> {
    pub family: Text<'a>,
    pub version: Text<'a>,
    /// The requests were presigned URLs or POST form uploads: the agent is whoever fetched
    /// the URL or sent the form.
    pub signing: Signing,
    /// `observed` or `inferred`.
    pub evidence: &'static str,
    /// The first version of the family that signs SigV4.
    pub sigv4_min_version: Text<'a>,
    pub advice: &'a str,
    /// The user agents as logged.
    pub user_agents: BTreeSet<&'a str>,
    pub requests: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub buckets: BTreeSet<&'a str>,
}

impl SigV2Client<'_> {
    /// The client as the to-do list names it (unescaped).
    pub fn label(&self, principal: Text<'_>) -> String {
        let client = client_label(self.family, self.version);
        match self.signing {
            Signing::PresignedUrl => format!(
                "presigned URL fetched by {client} (the agent is the consumer's; {} signed it)",
                principal.unwrap_or("-")
            ),
            Signing::PostPolicy => format!(
                "POST form upload sent by {client} (the agent is the uploader's; {} signed its policy)",
                principal.unwrap_or("-")
            ),
            Signing::Header => client,
        }
    }
}

/// A client of one principal that speaks TLS older than 1.2.
#[derive(Debug, Clone)]
pub struct TlsClient<'a> {
    pub family: Text<'a>,
    pub version: Text<'a>,
    pub tls_version: Text<'a>,
    pub advice: &'a str,
    pub user_agents: BTreeSet<&'a str>,
    pub requests: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    /// Services called (`s3`, `kms`, ...).
    pub services: BTreeSet<&'a str>,
    pub cipher_suites: BTreeSet<&'a str>,
}

impl TlsClient<'_> {
    pub fn label(&self) -> String {
        client_label(self.family, self.version)
    }
}

/// `family/version`, the family alone, or "unknown client".
pub fn client_label(family: Text<'_>, version: Text<'_>) -> String {
    match (family, version) {
        (Some(f), Some(v)) => format!("{f}/{v}"),
        (Some(f), None) => f.to_owned(),
        (None, _) => "unknown client".to_owned(),
    }
}

#[derive(Debug, Clone)]
pub struct SigV2<'a> {
    /// S3 data events in the input: without any, SigV2 cannot be seen at all.
    pub s3_data_events: u64,
    pub principals: Listing<PrincipalToDo<'a, SigV2Client<'a>>>,
}

#[derive(Debug, Clone)]
pub struct FailedObject<'a> {
    pub key: &'a str,
    pub reason: &'a str,
}

/// One hour's bar in a chart.
#[derive(Debug, Clone)]
pub struct Bar<'a> {
    pub hour: i64,
    pub peak: u64,
    pub peak_second: u16,
    pub throttled: u64,
    pub mean_rps: f64,
    /// Calls of each principal in the busiest second, most first.
    pub by_principal: &'a [(Text<'a>, u64)],
}

/// The busiest second of each hour of one account and region, against its quota.
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    pub account_id: Text<'a>,
    pub region: Text<'a>,
    pub quota: u64,
    pub highest_peak: u64,
    pub bars: Vec<Bar<'a>>,
    /// Over all the hours: the busiest second within each minute of the hour, and how many
    /// hours had their busiest second in that minute.
    pub minute_peaks: &'a [u32; 60],
    pub busiest_in: &'a [u32; 60],
}

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct ReportModel<'a> {
    pub headline: Headline,
    /// None when nothing was attributed.
    pub period: Option<Period>,
    pub resumed: Option<Resumed<'a>>,
    pub duplicates: Option<Duplicates>,
    pub kms_callers: Listing<KmsCaller<'a>>,
    /// Closest to the quota first.
    pub quota_hours: Listing<QuotaHour<'a>>,
    pub recurring_spikes: Vec<Spike<'a>>,
    /// None without a projection or without KMS calls.
    pub cost: Option<Cost<'a>>,
    pub bucket_keys: Listing<BucketCandidate<'a>>,
    pub caching: Caching<'a>,
    pub sigv2: SigV2<'a>,
    pub tls: Listing<PrincipalToDo<'a, TlsClient<'a>>>,
    pub failures: Listing<FailedObject<'a>>,
    pub warnings: &'a [String],
    /// The accounts and regions closest to their quota, closest first (at most
    /// `kms_insights::CHARTED_SCOPES`).
    pub charts: Vec<Chart<'a>>,
    /// Accounts and regions with symmetric KMS calls, charted or not.
    pub chart_scopes: usize,
}

/// Requests over a to-do list's principals, shown or not.
pub fn todo_requests<C>(principals: &[PrincipalToDo<'_, C>]) -> u64 {
    principals.iter().map(|p| p.requests).sum()
}

impl ReportModel<'_> {
    /// The answers both reports open with: principals and requests still on SigV2, the same
    /// for legacy TLS, and the hour of an account, region and quota class that came closest
    /// to its quota.
    pub fn answers(&self) -> Answers<'_> {
        let sigv2 = &self.sigv2.principals.items;
        let tls = &self.tls.items;
        Answers {
            sigv2_visible: !sigv2.is_empty() || self.sigv2.s3_data_events > 0,
            sigv2_principals: sigv2.len() as u64,
            sigv2_requests: todo_requests(sigv2),
            tls_principals: tls.len() as u64,
            tls_requests: todo_requests(tls),
            closest_hour: self.quota_hours.items.first(),
        }
    }
}

/// See [`ReportModel::answers`].
#[derive(Debug, Clone, Copy)]
pub struct Answers<'m> {
    /// False without S3 data events: SigV2 cannot be seen at all.
    pub sigv2_visible: bool,
    pub sigv2_principals: u64,
    pub sigv2_requests: u64,
    pub tls_principals: u64,
    pub tls_requests: u64,
    pub closest_hour: Option<&'m QuotaHour<'m>>,
}

impl<'a> ReportModel<'a> {
    pub fn build(input: &ReportInput<'a>) -> ReportModel<'a> {
        let ReportInput {
            analysis,
            rows,
            insights,
            quotas,
            warnings,
            top,
            wall_seconds,
        } = *input;
        let projection = insights.projection;
        let r = &analysis.tables.records;
        ReportModel {
            headline: Headline {
                objects_read: analysis.objects.read,
                objects_skipped: analysis.objects.skipped.total(),
                objects_failed: analysis.objects.failed,
                records: r.total,
                kms: r.kms,
                s3: r.s3,
                malformed: r.malformed_total(),
                duplicates: r.duplicates(),
                wall_seconds,
            },
            period: projection.map(|p| Period {
                start: p.span.start,
                end: p.span.end,
                hours: p.span.hours(),
                days: p.span.days(),
            }),
            resumed: analysis
                .resume
                .as_ref()
                .filter(|r| r.resumed)
                .map(|r| Resumed {
                    state_file: &r.state_file,
                    objects_from_state: r.objects_from_state,
                }),
            duplicates: (r.duplicates() > 0).then(|| Duplicates {
                total: r.duplicates(),
                event_id: r.duplicate_event_id,
                cross_account: r.duplicate_cross_account,
            }),
            kms_callers: Listing::new(
                kms_callers(rows.kms_calls.iter(), rows.kms_rates.iter(), projection),
                top,
                "principals in kms_calls.parquet",
            ),
            quota_hours: quota_hours(rows.kms_rates.iter(), quotas, top),
            recurring_spikes: recurring_spikes(insights),
            cost: cost(insights, top),
            bucket_keys: Listing::new(
                bucket_keys(insights.bucket_keys, projection, top),
                top,
                "buckets in kms_bucket_keys.parquet",
            ),
            caching: Caching {
                max_age: insights.cache_max_age,
                candidates: Listing::new(
                    caching(insights),
                    top,
                    "candidates in kms_data_key_caching.parquet",
                ),
            },
            sigv2: SigV2 {
                s3_data_events: r.s3_data,
                principals: sigv2_todo(rows.sigv2.iter(), top),
            },
            tls: tls_todo(rows.tls.iter(), top),
            failures: Listing::new(
                analysis
                    .failures
                    .iter()
                    .map(|f| FailedObject {
                        key: &f.key,
                        reason: &f.reason,
                    })
                    .collect(),
                top,
                "in summary.json",
            ),
            warnings,
            charts: charts(insights),
            chart_scopes: insights.hour_peaks.scopes,
        }
    }
}

/// Principals by KMS calls, most first, with their busiest second and throttled calls.
fn kms_callers<'a>(
    calls: impl IntoIterator<Item = KmsCallRow<'a>>,
    rates: impl IntoIterator<Item = RateRow<'a>>,
    projection: Option<Projection>,
) -> Vec<KmsCaller<'a>> {
    #[derive(Default)]
    struct Acc {
        calls: u64,
        throttled: u64,
        peak: u64,
        peak_at: i64,
    }
    let mut by: BTreeMap<Text<'a>, Acc> = BTreeMap::new();
    for r in calls {
        by.entry(r.principal).or_default().calls += r.tally.count;
    }
    for r in rates.into_iter().filter(|r| r.principal.is_some()) {
        let (second, calls) = r.counts.peak();
        let c = by.entry(r.principal).or_default();
        c.throttled += r.counts.throttled;
        if calls > c.peak {
            c.peak = calls;
            c.peak_at = r.hour + i64::from(second);
        }
    }
    let mut callers: Vec<KmsCaller<'a>> = by
        .into_iter()
        .map(|(principal, c)| KmsCaller {
            principal,
            calls: c.calls,
            peak: c.peak,
            peak_at: (c.peak > 0).then_some(c.peak_at),
            throttled: c.throttled,
            usd_per_month: projection.map(|p| p.usd(p.per_month(c.calls))),
        })
        .collect();
    callers.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.principal.cmp(&b.principal)));
    callers
}

/// The account-and-region hours, closest to the quota first: a 20,000/s region at
/// 15,000/s matters more than us-east-1 at 20,000/s. Then the highest peak, then the
/// earliest hour.
/// The hours closest to their quota, of every account, region and class: only the `top`
/// shown are kept (a month of a 20-account, 4-region organization has 100,000 of them).
fn quota_hours<'a>(
    rates: impl IntoIterator<Item = RateRow<'a>>,
    quotas: &Quotas,
    top: usize,
) -> Listing<QuotaHour<'a>> {
    let hours = rates
        .into_iter()
        .filter(|r| r.principal.is_none())
        .map(|r| {
            let (second, calls) = r.counts.peak();
            let quota = r.region.and_then(|g| r.quota(quotas, g));
            let over = |num: u64, den: u64| quota.map(|q| r.counts.seconds_over(q, num, den));
            QuotaHour {
                hour: r.hour,
                account_id: r.account_id,
                region: r.region,
                quota_class: r.quota_class,
                custom_key_store_id: r.custom_key_store_id,
                peak: calls,
                peak_at: r.hour + i64::from(second),
                quota,
                share: quota.map(|q| calls as f64 / q.per_second()),
                seconds_over_80: over(4, 5),
                seconds_over_quota: over(1, 1),
                throttled: r.counts.throttled,
            }
        });
    Listing::top_of(hours, top, "hours in kms_rates.parquet", |a, b| {
        b.share
            .unwrap_or(0.0)
            .total_cmp(&a.share.unwrap_or(0.0))
            .then(b.peak.cmp(&a.peak))
            .then(a.hour.cmp(&b.hour))
    })
}

fn recurring_spikes<'a>(insights: &KmsInsights<'a>) -> Vec<Spike<'a>> {
    insights.recurring_spikes.clone()
}

fn cost<'a>(insights: &KmsInsights<'a>, top: usize) -> Option<Cost<'a>> {
    let p = insights.projection?;
    let calls = insights.total_calls();
    if calls == 0 {
        return None;
    }
    let scope = |scope: &str, what: &'static str| {
        let lines = insights
            .cost
            .iter()
            .filter(|r| r.scope == scope)
            .map(|r| CostLine {
                account_id: r.account_id,
                name: match scope {
                    "principal" => r.principal,
                    "key" => r.key_arn,
                    _ => None,
                },
                projected: Projected::of(&p, r.calls),
                throttled: r.throttled,
            })
            .collect();
        Listing::new(lines, top, what)
    };
    Some(Cost {
        days: p.span.days(),
        price_per_10k: insights.price_per_10k,
        days_per_month: DAYS_PER_MONTH,
        free_tier_per_month: FREE_TIER_REQUESTS_PER_MONTH,
        total: Projected::of(&p, calls),
        usd_per_month_after_free_tier: insights.usd_per_month_after_free_tier(),
        by_kind: insights
            .calls_by_kind
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect(),
        accounts: scope("account", "accounts in kms_cost.parquet"),
        principals: scope("principal", "principals in kms_cost.parquet"),
        keys: scope("key", "keys in kms_cost.parquet"),
    })
}

/// Buckets without a Bucket Key, or with objects older than it, most calls saved first;
/// each with its principals, most calls saved first.
fn bucket_keys<'a>(
    rows: &[BucketKeyRow<'a>],
    projection: Option<Projection>,
    top: usize,
) -> Vec<BucketCandidate<'a>> {
    let usd = |calls: u64| projection.map(|p| p.usd(p.per_month(calls)));
    let mut buckets: BTreeMap<&'a str, (BucketStatus, Vec<BucketPrincipal<'a>>)> = BTreeMap::new();
    for r in rows {
        let (_, principals) = buckets
            .entry(r.s3_bucket)
            .or_insert_with(|| (r.bucket_status, Vec::new()));
        // A principal whose calls all carry the bucket ARN has nothing to save.
        if r.object_arn_calls == 0 {
            continue;
        }
        principals.push(BucketPrincipal {
            account_id: r.account_id,
            region: r.region,
            principal: r.principal,
            object_arn_calls: r.object_arn_calls,
            bucket_arn_calls: r.bucket_arn_calls,
            calls_with_bucket_key: r.calls_with_bucket_key,
            saved_calls: r.saved_calls(),
            usd_per_month_saved: usd(r.saved_calls()),
        });
    }
    let mut candidates: Vec<BucketCandidate<'a>> = buckets
        .into_iter()
        .filter_map(|(bucket, (status, mut principals))| {
            let todo = match status {
                BucketStatus::Off => "enable Bucket Key + re-copy",
                BucketStatus::OnWithOlderObjects => "Bucket Key on: re-copy old objects",
                BucketStatus::On | BucketStatus::DsseKms => return None,
            };
            let object_arn_calls = principals.iter().map(|p| p.object_arn_calls).sum();
            if object_arn_calls == 0 {
                return None;
            }
            let saved_calls = principals.iter().map(|p| p.saved_calls).sum();
            principals.sort_by(|a, b| {
                b.saved_calls.cmp(&a.saved_calls).then(
                    (a.account_id, a.region, a.principal).cmp(&(
                        b.account_id,
                        b.region,
                        b.principal,
                    )),
                )
            });
            Some(BucketCandidate {
                bucket,
                todo,
                advice: status.advice(),
                object_arn_calls,
                saved_calls,
                usd_per_month_saved: usd(saved_calls),
                principals: Listing::new(principals, top, "principals"),
            })
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.saved_calls
            .cmp(&a.saved_calls)
            .then(a.bucket.cmp(b.bucket))
    });
    candidates
}

fn caching<'a>(insights: &KmsInsights<'a>) -> Vec<CachingCandidate<'a>> {
    insights
        .caching
        .iter()
        .map(|c| CachingCandidate {
            operation: c.operation,
            principal: c.principal,
            key_arn: c.key_arn,
            context: c.context_hex(),
            calls: c.group.calls,
            windows: c.group.windows(),
            busiest_window: c.group.busiest_window(),
            saved: c.group.saved(),
            usd_per_month_saved: insights
                .projection
                .map(|p| p.usd(p.per_month(c.group.saved()))),
        })
        .collect()
}

/// One client's requests, summed over hours and places.
struct ClientAcc<'a> {
    requests: u64,
    first_seen: i64,
    last_seen: i64,
    user_agents: BTreeSet<&'a str>,
    /// Buckets (SigV2) or services (TLS).
    places: BTreeSet<&'a str>,
    cipher_suites: BTreeSet<&'a str>,
}

impl<'a> ClientAcc<'a> {
    fn new() -> Self {
        ClientAcc {
            requests: 0,
            first_seen: i64::MAX,
            last_seen: i64::MIN,
            user_agents: BTreeSet::new(),
            places: BTreeSet::new(),
            cipher_suites: BTreeSet::new(),
        }
    }

    fn add(&mut self, t: &Tally, agent: Text<'a>, place: Text<'a>, cipher: Text<'a>) {
        self.requests += t.count;
        self.first_seen = self.first_seen.min(t.first_seen);
        self.last_seen = self.last_seen.max(t.last_seen);
        self.user_agents.extend(agent);
        self.places.extend(place);
        self.cipher_suites.extend(cipher);
    }
}

/// One row's part in a to-do list: whose, which client, and what it adds.
struct Contribution<'a, K> {
    principal: Text<'a>,
    client: K,
    tally: Tally,
    agent: Text<'a>,
    place: Text<'a>,
    cipher: Text<'a>,
}

/// Groups rows per principal and client: principals most requests first, each with its
/// clients most requests first (ties by name).
fn by_principal<'a, K: Ord, C>(
    rows: impl Iterator<Item = Contribution<'a, K>>,
    top: usize,
    what: &'static str,
    client: impl Fn(K, ClientAcc<'a>) -> C,
) -> Listing<PrincipalToDo<'a, C>> {
    let mut grouped: BTreeMap<Text<'a>, BTreeMap<K, ClientAcc<'a>>> = BTreeMap::new();
    for c in rows {
        grouped
            .entry(c.principal)
            .or_default()
            .entry(c.client)
            .or_insert_with(ClientAcc::new)
            .add(&c.tally, c.agent, c.place, c.cipher);
    }
    let mut principals: Vec<PrincipalToDo<'a, C>> = grouped
        .into_iter()
        .map(|(principal, clients)| {
            let mut clients: Vec<(K, ClientAcc<'a>)> = clients.into_iter().collect();
            clients.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then(a.0.cmp(&b.0)));
            let requests = clients.iter().map(|(_, c)| c.requests).sum();
            PrincipalToDo {
                principal,
                requests,
                clients: Listing::new(
                    clients.into_iter().map(|(k, acc)| client(k, acc)).collect(),
                    top,
                    "clients",
                ),
            }
        })
        .collect();
    principals.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then(a.principal.cmp(&b.principal))
    });
    Listing::new(principals, top, what)
}

/// The SigV2 to-do list: per principal, each client with its version, evidence and what to
/// upgrade to, the buckets, how many requests and when.
fn sigv2_todo<'a>(
    rows: impl IntoIterator<Item = SigV2Row<'a>>,
    top: usize,
) -> Listing<PrincipalToDo<'a, SigV2Client<'a>>> {
    by_principal(
        rows.into_iter().map(|r| Contribution {
            principal: r.principal,
            client: (
                r.ua_family,
                r.ua_version,
                Signing::of(r.auth_method),
                r.evidence,
                r.upgrade_advice.unwrap_or_default(),
                r.sigv4_min_version,
            ),
            tally: r.tally,
            agent: r.user_agent,
            place: r.bucket,
            cipher: None,
        }),
        top,
        "principals",
        |(family, version, signing, evidence, advice, sigv4_min_version), acc| SigV2Client {
            family,
            version,
            signing,
            evidence,
            sigv4_min_version,
            advice,
            user_agents: acc.user_agents,
            requests: acc.requests,
            first_seen: acc.first_seen,
            last_seen: acc.last_seen,
            buckets: acc.places,
        },
    )
}

/// The legacy TLS to-do list: per principal, each client with the TLS version and cipher
/// suites it used, the services it called, and what to change.
fn tls_todo<'a>(
    rows: impl IntoIterator<Item = TlsRow<'a>>,
    top: usize,
) -> Listing<PrincipalToDo<'a, TlsClient<'a>>> {
    by_principal(
        rows.into_iter().map(|r| Contribution {
            principal: r.principal,
            client: (
                r.ua_family,
                r.ua_version,
                r.tls_version,
                r.upgrade_advice.unwrap_or_default(),
            ),
            tally: r.tally,
            agent: r.user_agent,
            place: r.event_source.map(|s| s.trim_end_matches(".amazonaws.com")),
            cipher: r.cipher_suite,
        }),
        top,
        "principals",
        |(family, version, tls_version, advice), acc| TlsClient {
            family,
            version,
            tls_version,
            advice,
            user_agents: acc.user_agents,
            requests: acc.requests,
            first_seen: acc.first_seen,
            last_seen: acc.last_seen,
            services: acc.places,
            cipher_suites: acc.cipher_suites,
        },
    )
}

/// The charted accounts and regions, closest to the quota first (kms_insights picks them).
fn charts<'a>(insights: &'a KmsInsights<'a>) -> Vec<Chart<'a>> {
    insights
        .hour_peaks
        .charts
        .iter()
        .map(|c| Chart {
            account_id: c.account_id,
            region: c.region,
            quota: c.quota,
            highest_peak: c.highest_peak,
            bars: c
                .hours
                .iter()
                .map(|b| Bar {
                    hour: b.hour,
                    peak: b.peak,
                    peak_second: b.peak_second,
                    throttled: b.throttled,
                    mean_rps: b.mean_rps(),
                    by_principal: &b.by_principal,
                })
                .collect(),
            minute_peaks: &c.minute_peaks,
            busiest_in: &c.busiest_in,
        })
        .collect()
}

#[cfg(test)]
mod tests;
