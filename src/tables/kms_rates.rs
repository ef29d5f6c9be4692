//! `kms_rates.parquet`: KMS cryptographic calls per second, per hour, for each account,
//! region and quota class (the scope a request quota applies to: attribute::kms::QuotaClass;
//! for the custom key store quota, each store) and for each principal in it: exact peaks,
//! percentiles over all 3,600 seconds of the hour, throttled calls, and the hour against the
//! account's quota of that class. The account is the caller's: KMS throttles the account
//! that makes a request, not the key owner (principal::caller_account_id).
//!
//! Counts are kept exactly (one entry per active second), so `peak_rps` and `peak_second`
//! are exact and partials merge by adding seconds: a second split between two workers (or
//! shards) is summed before its peak is taken, never the maximum of maxima. The HdrHistogram
//! is built at the end over all 3,600 seconds of the hour, zero seconds included, which is
//! what makes its percentiles mean "share of the hour".

use std::borrow::Cow;
use std::path::Path;
use std::sync::OnceLock;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Serializer, V2Serializer};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::closed::{self, ClosedHours, HourKey, Joined, SpilledTable, SpilledValue};
use super::columns::{self, Column};
use super::intern::{Interner, NULL, Sym};
use super::sessions::Sessions;
use super::{Common, TableAccumulator, TableKey, table_key};
use crate::attribute::Attribution;
use crate::attribute::kms::{Quota, QuotaClass, Quotas};
use crate::time::SECONDS_PER_HOUR;

pub const FILE: &str = "kms_rates.parquet";

table_key!(
    /// One row of the file; `principal == NULL` is the account-and-region scope, which sorts
    /// first within its hour (a null principal orders before any name).
    Key => Resolved {
        hour: i64,
        account_id: Sym,
        region: Sym,
        quota_class: QuotaClass,
        custom_key_store_id: Sym,
        principal: Sym,
    }
);

/// Rows close with their hour (closed).
impl HourKey for Key {
    fn hour(&self) -> i64 {
        self.hour
    }
}

/// Calls in each second of an hour that had any.
///
/// Most scopes of an organization trail see a few calls an hour (the quiet accounts): a
/// short list of (second, calls) sorted by second, where a hash map per row was the largest
/// part of this table's memory (431,460 rows on a month of an organization trail). A scope
/// busy in more than [`Seconds::SPARSE_MAX`] seconds gets a counter for every second of the
/// hour (14 KiB), so a hot hour costs an index per call, never a search and a shift.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Seconds {
    Sparse(Vec<(u16, u32)>),
    Dense(Box<[u32]>),
}

impl Default for Seconds {
    fn default() -> Self {
        Seconds::Sparse(Vec::new())
    }
}

impl Seconds {
    const SPARSE_MAX: usize = 64;

    /// Adds `calls` in `second` (0..3600; a later one counts in the last second).
    pub fn add(&mut self, second: u16, calls: u32) {
        let second = second.min(SECONDS_PER_HOUR as u16 - 1);
        match self {
            Seconds::Dense(all) => all[usize::from(second)] += calls,
            Seconds::Sparse(list) => {
                match list.last_mut() {
                    Some((last, c)) if *last == second => *c += calls,
                    Some((last, _)) if *last > second => {
                        match list.binary_search_by_key(&second, |&(s, _)| s) {
                            Ok(i) => list[i].1 += calls,
                            Err(i) => list.insert(i, (second, calls)),
                        }
                    }
                    _ => list.push((second, calls)),
                }
                if list.len() > Self::SPARSE_MAX {
                    let mut all = vec![0u32; SECONDS_PER_HOUR as usize].into_boxed_slice();
                    for &(s, c) in list.iter() {
                        all[usize::from(s)] = c;
                    }
                    *self = Seconds::Dense(all);
                }
            }
        }
    }

    /// The seconds with calls, in order, with their calls.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (u16, u32)> + '_> {
        match self {
            Seconds::Sparse(list) => Box::new(list.iter().copied()),
            Seconds::Dense(all) => Box::new(
                all.iter()
                    .enumerate()
                    .filter(|&(_, &c)| c > 0)
                    .map(|(s, &c)| (s as u16, c)),
            ),
        }
    }

    /// Calls in `second`.
    pub fn get(&self, second: u16) -> u32 {
        match self {
            Seconds::Sparse(list) => list
                .binary_search_by_key(&second, |&(s, _)| s)
                .map_or(0, |i| list[i].1),
            Seconds::Dense(all) => all.get(usize::from(second)).copied().unwrap_or(0),
        }
    }

    /// Seconds with calls.
    pub fn len(&self) -> usize {
        match self {
            Seconds::Sparse(list) => list.len(),
            Seconds::Dense(all) => all.iter().filter(|&&c| c > 0).count(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes `calls` out of `second`; a second left without calls has none.
    fn take(&mut self, second: u16, calls: u32) {
        match self {
            Seconds::Dense(all) => {
                if let Some(c) = all.get_mut(usize::from(second)) {
                    *c = c.saturating_sub(calls);
                }
            }
            Seconds::Sparse(list) => {
                if let Ok(i) = list.binary_search_by_key(&second, |&(s, _)| s) {
                    list[i].1 = list[i].1.saturating_sub(calls);
                    if list[i].1 == 0 {
                        list.remove(i);
                    }
                }
            }
        }
    }
}

/// (second, calls) pairs in any order; a second named twice gets both counts.
impl FromIterator<(u16, u32)> for Seconds {
    fn from_iter<I: IntoIterator<Item = (u16, u32)>>(pairs: I) -> Seconds {
        let mut seconds = Seconds::default();
        for (second, calls) in pairs {
            seconds.add(second, calls);
        }
        seconds
    }
}

/// Calls per second of one hour, for one scope (account and region, or one principal).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct SecondCounts {
    /// Second within the hour (0..3600) -> calls in that second.
    pub per_second: Seconds,
    pub throttled: u64,
    /// The sessions behind the calls (principal rows; tables::sessions).
    pub sessions: Sessions,
}

impl SecondCounts {
    pub fn record(&mut self, second_of_hour: u16, throttled: bool) {
        self.per_second.add(second_of_hour, 1);
        self.throttled += u64::from(throttled);
    }

    pub fn merge(&mut self, other: SecondCounts, table: &[Sym]) {
        if self.per_second.is_empty() {
            self.per_second = other.per_second;
        } else {
            for (second, calls) in other.per_second.iter() {
                self.per_second.add(second, calls);
            }
        }
        self.throttled += other.throttled;
        self.sessions.merge(other.sessions, table);
    }

    /// Adds the calls of `other`, whose sessions are in the same interner.
    fn join(&mut self, other: &SecondCounts) {
        for (second, calls) in other.per_second.iter() {
            self.per_second.add(second, calls);
        }
        self.throttled += other.throttled;
        self.sessions.union(&other.sessions);
    }

    /// Takes out the calls of `copies` (TableAccumulator::retract); sessions stay.
    pub fn retract(&mut self, copies: &SecondCounts) {
        for (second, calls) in copies.per_second.iter() {
            self.per_second.take(second, calls);
        }
        self.throttled = self.throttled.saturating_sub(copies.throttled);
    }

    /// The busiest second and its calls; the earliest second wins a tie, so the answer does
    /// not depend on hash order.
    pub fn peak(&self) -> (u16, u64) {
        self.per_second
            .iter()
            .map(|(s, c)| (s, u64::from(c)))
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .unwrap_or((0, 0))
    }

    pub fn calls(&self) -> u64 {
        self.per_second.iter().map(|(_, c)| u64::from(c)).sum()
    }

    /// Seconds of the hour whose calls were above `numerator / denominator` of `quota`
    /// (integer arithmetic: exact whatever the quota).
    pub fn seconds_over(&self, quota: Quota, numerator: u64, denominator: u64) -> u64 {
        self.per_second
            .iter()
            .filter(|&(_, c)| quota.exceeded_by(u64::from(c), numerator, denominator))
            .count() as u64
    }

    /// Summarises the hour.
    pub fn stats(&self) -> RateStats {
        let calls = self.calls();
        let (peak_second, peak) = self.peak();
        let mut histogram =
            Histogram::<u64>::new_with_bounds(1, peak.max(2), 3).expect("valid bounds");
        let active = self.per_second.len() as u64;
        let zero_seconds = SECONDS_PER_HOUR as u64 - active.min(SECONDS_PER_HOUR as u64);
        histogram.record_n(0, zero_seconds).expect("0 is in range");
        for (_, c) in self.per_second.iter() {
            histogram.record(u64::from(c)).expect("bounded by peak");
        }
        RateStats {
            calls,
            active_seconds: active,
            peak_rps: peak,
            peak_second_of_hour: peak_second,
            p50_rps: histogram.value_at_quantile(0.50),
            p90_rps: histogram.value_at_quantile(0.90),
            p99_rps: histogram.value_at_quantile(0.99),
            mean_rps: calls as f64 / SECONDS_PER_HOUR as f64,
            throttled: self.throttled,
            // Encoded at once: a histogram of 3 significant digits holds 16 KiB or more of
            // counters, and a run keeps every row's stats until the file is written (the
            // decoded histograms were 1.65 of 1.91 GB at the peak of a week-long organization
            // trail, measured with heaptrack); encoded, it is a few dozen bytes.
            histogram: serialize_histogram(&histogram),
        }
    }
}

#[derive(Debug)]
pub struct RateStats {
    pub calls: u64,
    pub active_seconds: u64,
    pub peak_rps: u64,
    pub peak_second_of_hour: u16,
    pub p50_rps: u64,
    pub p90_rps: u64,
    pub p99_rps: u64,
    pub mean_rps: f64,
    pub throttled: u64,
    /// Calls per second over the hour's 3,600 seconds, HdrHistogram V2 encoded.
    pub histogram: Vec<u8>,
}

/// The histogram in the standard HdrHistogram V2 encoding, readable by any HdrHistogram
/// library (Java, Go, Python `hdrh`, ...).
pub fn serialize_histogram(h: &Histogram<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut out)
        .expect("serializing to memory cannot fail");
    out
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct KmsRates {
    pub seconds: FxHashMap<Key, SecondCounts>,
}

impl KmsRates {
    /// Moves the rows of hours `from..bound` out (tables::closed).
    pub fn take_hours(&mut self, from: i64, bound: i64) -> Vec<(Key, SecondCounts)> {
        let rows: Vec<_> = self
            .seconds
            .extract_if(|k, _| (from..bound).contains(&k.hour))
            .collect();
        if !rows.is_empty() {
            self.seconds.shrink_to_fit();
        }
        rows
    }
}

/// A row's seconds, spilled with its hour (closed).
impl SpilledValue for SecondCounts {
    fn remapped(mut self, table: &[Sym]) -> Self {
        self.sessions = self.sessions.remapped(table);
        self
    }
    fn join(&mut self, other: &Self) {
        SecondCounts::join(self, other);
    }
}

impl TableAccumulator for KmsRates {
    const NAME: &'static str = "kms_rates";

    fn add(&mut self, a: &Attribution<'_>, c: &Common, s: &mut Interner) {
        let Some(kms) = &a.kms else { return };
        let Some(class) = kms.quota_class else { return };
        let second = (a.event_time - c.hour) as u16;
        let store = kms
            .custom_key_store
            .map(|id| (QuotaClass::CustomKeyStore, s.intern(id)));
        for (quota_class, custom_key_store_id) in std::iter::once((class, NULL)).chain(store) {
            for principal in [NULL, c.principal] {
                let key = Key {
                    hour: c.hour,
                    account_id: c.account_id,
                    region: c.region,
                    quota_class,
                    custom_key_store_id,
                    principal,
                };
                let counts = self.seconds.entry(key).or_default();
                counts.record(second, kms.throttled);
                if principal != NULL
                    && let Some(session) = a.session
                {
                    counts.sessions.add(session, s);
                }
            }
        }
    }

    fn merge(&mut self, other: Self, table: &[Sym]) {
        for (k, v) in other.seconds {
            self.seconds
                .entry(k.remap(table))
                .or_default()
                .merge(v, table);
        }
    }

    fn retract(&mut self, copies: Self, table: &[Sym]) {
        for (k, v) in copies.seconds {
            if let Some(mine) = self.seconds.get_mut(&k.remap(table)) {
                mine.retract(&v);
            }
        }
    }
}

/// A row: the key, resolved, and its seconds.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub key: Resolved<'a>,
    /// Borrowed from the table, or owned when read back from closed hours.
    pub counts: Cow<'a, SecondCounts>,
    /// One of the sessions by name (`example_session`).
    pub example_session: Option<&'a str>,
}

impl Row<'_> {
    /// The quota this row's scope is held to (account-and-region rows; `region` is theirs).
    pub fn quota(&self, quotas: &Quotas, region: &str) -> Option<Quota> {
        quotas.get(self.account_id, region, self.key_quota_class())
    }

    fn key_quota_class(&self) -> QuotaClass {
        QuotaClass::parse(self.quota_class).unwrap_or(QuotaClass::AsymmetricUnknown)
    }
}

impl<'a> std::ops::Deref for Row<'a> {
    type Target = Resolved<'a>;
    fn deref(&self) -> &Resolved<'a> {
        &self.key
    }
}

/// The rows in file order: by hour, account and region, the account-and-region row before
/// its principals, principals by name. Each is sorted as two pointers on the strings' ranks
/// (Interner::ranks) and resolved only as it is read: resolved up front, the month's
/// 431,460 rows were 48 MB of the heap's peak (BENCHMARKS.md). The rows of closed hours
/// (closed) are read back from the spill file and joined in, each time the rows are read.
pub struct RateRows<'a> {
    strings: &'a Interner,
    ranks: Vec<u32>,
    sorted: Vec<(&'a Key, &'a SecondCounts)>,
    spilled: Option<(&'a ClosedHours, &'a SpilledTable)>,
    /// The first spill file read that failed: the rows stop there, and the writer says so.
    error: OnceLock<String>,
}

impl<'a> RateRows<'a> {
    /// The rows joined with the rows of closed hours spilled in `table` of `closed`.
    pub fn with_spilled(mut self, closed: &'a ClosedHours, table: &'a SpilledTable) -> Self {
        self.spilled = Some((closed, table));
        self
    }

    pub fn iter(&self) -> impl Iterator<Item = Row<'a>> + '_ {
        let strings = self.strings;
        let memory = self.sorted.iter().copied();
        closed::joined(memory, self.spilled, &self.ranks, &self.error).map(move |row| {
            let (key, counts) = match row {
                Joined::Memory(&key, counts) => (key, Cow::Borrowed(counts)),
                Joined::Spilled(key, counts) => (key, Cow::Owned(counts)),
                Joined::Both(&key, late, mut counts) => {
                    counts.join(late);
                    (key, Cow::Owned(counts))
                }
            };
            let example_session = counts.sessions.example(strings);
            Row {
                key: key.resolve(strings),
                counts,
                example_session,
            }
        })
    }

    /// Rows in the table. With closed hours, they are counted by reading them.
    pub fn len(&self) -> usize {
        match self.spilled {
            None => self.sorted.len(),
            Some(_) => self.iter().count(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Why the rows stopped short, when a spilled block could not be read back.
    pub fn error(&self) -> Option<&str> {
        self.error.get().map(String::as_str)
    }
}

impl std::fmt::Debug for RateRows<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The rows of `table` in file order; `ranks` are `strings`' (Interner::ranks).
pub fn rows<'a>(table: &'a KmsRates, strings: &'a Interner, ranks: Vec<u32>) -> RateRows<'a> {
    let mut sorted: Vec<(&'a Key, &'a SecondCounts)> = table.seconds.iter().collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp_ranked(b.0, &ranks));
    RateRows {
        strings,
        ranks,
        sorted,
        spilled: None,
        error: OnceLock::new(),
    }
}

/// A row with what the file says of it.
pub(super) struct Out<'a> {
    row: Row<'a>,
    stats: RateStats,
    /// Only the account-and-region rows carry the quota: it applies to them as a whole.
    quota: Option<Quota>,
}

pub(super) fn columns<'a>() -> Vec<Column<'a, Out<'a>>> {
    let c = columns::of::<Out<'a>>();
    vec![
        c.timestamp("hour", "Hour (UTC)", |o| o.row.hour),
        c.text("account_id", "The account", |o| o.row.account_id),
        c.text("region", "The region", |o| o.row.region),
        c.text(
            "scope",
            "account_region (the quota's scope) or principal",
            |o| {
                Some(if o.row.principal.is_none() {
                    "account_region"
                } else {
                    "principal"
                })
            },
        ),
        c.text(
            "principal",
            "The principal, null for the account_region scope",
            |o| o.row.principal,
        ),
        c.int("calls", "Symmetric calls in the hour", |o| {
            o.stats.calls as i64
        }),
        c.int("active_seconds", "Seconds with at least one call", |o| {
            o.stats.active_seconds as i64
        }),
        c.int("peak_rps", "Calls in the busiest second (exact)", |o| {
            o.stats.peak_rps as i64
        }),
        c.timestamp(
            "peak_second",
            "The busiest second (earliest on a tie)",
            |o| o.row.hour + i64::from(o.stats.peak_second_of_hour),
        ),
        c.int(
            "p50_rps",
            "Median calls per second over the 3,600 seconds",
            |o| o.stats.p50_rps as i64,
        ),
        c.int("p90_rps", "90th percentile over the 3,600 seconds", |o| {
            o.stats.p90_rps as i64
        }),
        c.int("p99_rps", "99th percentile over the 3,600 seconds", |o| {
            o.stats.p99_rps as i64
        }),
        c.float("mean_rps", "calls / 3,600", |o| Some(o.stats.mean_rps)),
        c.int("throttled", "Calls refused with ThrottlingException", |o| {
            o.stats.throttled as i64
        }),
        c.int_opt(
            "quota_rps",
            "The quota of the account, region and class (account_region rows; null when not a whole number: see quota_per_second)",
            |o| o.quota.and_then(Quota::whole_rps).map(|q| q as i64),
        ),
        c.float("quota_utilization", "peak_rps / quota_per_second", |o| {
            o.quota.map(|q| o.stats.peak_rps as f64 / q.per_second())
        }),
        c.binary(
            "histogram",
            "HdrHistogram V2 of calls per second over the hour",
            |o| o.stats.histogram.as_slice(),
        ),
        c.int_opt(
            "seconds_over_80pct",
            "Seconds above 80% of the quota",
            |o| o.quota.map(|q| o.row.counts.seconds_over(q, 4, 5) as i64),
        ),
        c.int_opt("seconds_over_quota", "Seconds above the quota", |o| {
            o.quota.map(|q| o.row.counts.seconds_over(q, 1, 1) as i64)
        }),
        c.text(
            "quota_class",
            "The request quota the calls count against: symmetric, rsa, ecc_sm2, ml_dsa, custom_key_store, data_key_pair_<spec>, asymmetric_unknown",
            |o| Some(o.row.quota_class),
        ),
        c.text(
            "custom_key_store_id",
            "The custom key store, for quota_class custom_key_store (its quota is per store)",
            |o| o.row.custom_key_store_id,
        ),
        c.int_opt(
            "sessions",
            "Distinct sessions of the principal (principal rows), 0 without sessions",
            |o| {
                o.row
                    .principal
                    .map(|_| o.row.counts.sessions.count() as i64)
            },
        ),
        c.text(
            "example_session",
            "One of those sessions by name (principal rows)",
            |o| o.row.example_session,
        ),
        c.float(
            "quota_per_second",
            "The quota in requests per second, exactly (0.5 and 0.1 exist: RSA key pairs in the China Regions)",
            |o| o.quota.map(Quota::per_second),
        ),
    ]
}

/// Each row's statistics are computed as its batch is encoded (columns::write_iter), not
/// for every row first: on a month of an organization trail those were 67 MB of the heap
/// peak, with the file's rows still to encode.
pub fn write(dir: &Path, rows: &RateRows<'_>, quotas: &Quotas) -> anyhow::Result<()> {
    let out = rows.iter().map(|row| Out {
        stats: row.counts.stats(),
        quota: match (row.principal, row.region) {
            (None, Some(region)) => row.quota(quotas, region),
            _ => None,
        },
        row,
    });
    columns::write_iter(&dir.join(FILE), &columns(), out)
}
#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::Deserializer;

    #[test]
    fn peak_is_exact_and_histogram_covers_the_whole_hour() {
        let mut counts = SecondCounts::default();
        for _ in 0..5 {
            counts.record(10, false);
        }
        for _ in 0..5 {
            counts.record(3, true);
        }
        counts.record(4, false);
        let stats = counts.stats();
        assert_eq!(stats.calls, 11);
        assert_eq!(stats.peak_rps, 5);
        assert_eq!(stats.peak_second_of_hour, 3, "earliest second of a tie");
        assert_eq!(stats.active_seconds, 3);
        assert_eq!(stats.throttled, 5);
        assert_eq!(stats.p50_rps, 0);
        let back: Histogram<u64> = Deserializer::new()
            .deserialize(&mut &stats.histogram[..])
            .unwrap();
        assert_eq!(back.len(), 3600);
        assert_eq!(back.max(), 5);
    }

    #[test]
    fn a_scope_busy_in_many_seconds_counts_the_same_as_a_quiet_one() {
        // Out of order, repeated, then past the sparse limit: the counts stay exact.
        let mut seconds = Seconds::default();
        for s in [9u16, 3, 9, 5] {
            seconds.add(s, 1);
        }
        assert!(matches!(seconds, Seconds::Sparse(_)));
        assert_eq!(
            seconds.iter().collect::<Vec<_>>(),
            vec![(3, 1), (5, 1), (9, 2)]
        );
        for s in (100..100 + Seconds::SPARSE_MAX as u16).rev() {
            seconds.add(s, 2);
        }
        assert!(matches!(seconds, Seconds::Dense(_)));
        assert_eq!(seconds.len(), 3 + Seconds::SPARSE_MAX);
        assert_eq!(
            (seconds.get(9), seconds.get(100), seconds.get(4)),
            (2, 2, 0)
        );
        assert_eq!(seconds.iter().next(), Some((3, 1)), "in order of second");
        // Taking calls out leaves a second without calls uncounted, in either form.
        seconds.take(9, 2);
        assert_eq!(seconds.len(), 2 + Seconds::SPARSE_MAX);
        let mut sparse: Seconds = [(7u16, 1u32), (7, 1), (2, 5)].into_iter().collect();
        sparse.take(7, 2);
        assert_eq!(sparse.iter().collect::<Vec<_>>(), vec![(2, 5)]);
    }

    #[test]
    fn merging_adds_per_second() {
        let mut a = SecondCounts::default();
        a.record(7, false);
        let mut b = SecondCounts::default();
        b.record(7, false);
        b.record(8, true);
        a.merge(b, &[]);
        let stats = a.stats();
        assert_eq!((stats.calls, stats.peak_rps, stats.throttled), (3, 2, 1));
    }
}
