//! `kms_data_key_caching.parquet`: data key caching candidates (AWS Encryption SDK): direct
//! callers that ask KMS for a new data key, or to decrypt one, again and again under the same
//! key and the same encryption context.
//!
//! Both kinds of call are cached by the Encryption SDK's caching cryptographic materials
//! manager (AWS Encryption SDK Developer Guide, "Data key caching details", "How data key
//! caching works": "When you use data key caching in a request to encrypt or decrypt data,
//! the AWS Encryption SDK first searches the cache for a data key that matches the request";
//! https://docs.aws.amazon.com/encryption-sdk/latest/developer-guide/data-caching-details.html).
//! A cached entry is reused only when the algorithm suite, the encryption context (even
//! when empty) and the partition match, and, for decryption only, the encrypted data keys
//! (same page). So the groups are (principal, key, context) per `operation`
//! (attribute::kms::CacheOperation): `generate_data_key` rows (GenerateDataKey and
//! GenerateDataKeyWithoutPlaintext) and `decrypt` rows are never merged.
//!
//! For `decrypt` rows the estimate is an upper bound: a decryption hit also needs the same
//! encrypted data keys, i.e. messages encrypted under one (cached) data key, and CloudTrail
//! does not log the ciphertext a Decrypt call was given. Calls of one group within a window
//! may carry different encrypted data keys, each its own cache entry; this counts them as one.
//! For `generate_data_key` rows nothing like it applies (encryption materials are matched on
//! suite, context and partition), and the estimate below is conservative.
//!
//! A cache with a maximum age of `max_age` seconds serves every call of one (principal, key,
//! context) within its entry's lifetime from one KMS call. Time is cut into fixed windows of
//! `max_age` seconds (from the Unix epoch); the calls a cache would still make are the windows
//! with at least one call, so it saves `calls - windows`. A real cache starts its entry at the
//! first miss, not at a window boundary: two of its misses are always more than `max_age`
//! apart, hence in different windows, so the real cache misses at most as often as this count
//! and the estimate of what it saves is conservative. The other thresholds (messages, bytes)
//! are left at the Encryption SDK's defaults (2^32 messages, 2^63 - 1 bytes), which such
//! callers do not reach within minutes.
//!
//! Counts per window are kept exactly and merged by summing, so the answer does not depend on
//! how objects were shared among workers. Memory: one entry per (principal, key, context,
//! window with calls).

use std::path::Path;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::columns::{self, Column};
use super::intern::{Interner, Sym};
use super::projection::Projection;
use super::sessions::Sessions;
use super::{Common, TableAccumulator};
use crate::attribute::Attribution;
use crate::attribute::kms::CacheOperation;

pub const FILE: &str = "kms_data_key_caching.parquet";

/// Default maximum age of a cache entry, seconds (`--cache-max-age`).
pub const DEFAULT_MAX_AGE_SECONDS: i64 = 300;

/// One group of interchangeable data key requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CachingKey {
    pub account_id: Sym,
    pub region: Sym,
    pub principal: Sym,
    pub key_arn: Sym,
    /// `attribute::encryption_context` fingerprint.
    pub context: u64,
    /// Encryption materials (data key generation) or decryption materials (Decrypt).
    pub operation: CacheOperation,
}

impl CachingKey {
    pub(crate) fn remap(self, table: &[Sym]) -> CachingKey {
        CachingKey {
            account_id: table[self.account_id as usize],
            region: table[self.region as usize],
            principal: table[self.principal as usize],
            key_arn: table[self.key_arn as usize],
            context: self.context,
            operation: self.operation,
        }
    }
}

/// A group's calls per cache window: (window index, calls) pairs sorted by index.
///
/// A sorted vector, not a hash map per group: a month of an organization trail has hundreds
/// of thousands of groups, most with a few windows, and a hash map's table and its spare
/// room per group were the largest item of the heap after kms_calls (BENCHMARKS.md). Calls
/// arrive nearly in time order, so a call's window is almost always the last one or new
/// after it; anything else is a binary search.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Windows(Vec<(u32, u32)>);

impl Windows {
    /// Adds `n` calls in window `w`.
    pub fn add(&mut self, w: u32, n: u32) {
        match self.0.last_mut() {
            Some((last, calls)) if *last == w => *calls += n,
            Some((last, _)) if *last > w => match self.0.binary_search_by_key(&w, |&(i, _)| i) {
                Ok(i) => self.0[i].1 += n,
                Err(i) => self.0.insert(i, (w, n)),
            },
            _ => self.0.push((w, n)),
        }
    }

    /// Windows with calls.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Calls in the busiest window.
    pub fn busiest(&self) -> u64 {
        self.0.iter().map(|&(_, n)| n).max().map_or(0, u64::from)
    }

    /// Adds another group's windows (a sorted merge).
    fn merge(&mut self, other: &Windows) {
        if self.0.is_empty() {
            self.0.clone_from(&other.0);
            return;
        }
        let mut out = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&(wa, na)), Some(&&(wb, nb))) if wa == wb => {
                    a.next();
                    b.next();
                    (wa, na + nb)
                }
                (Some(&&x), Some(&&y)) if x.0 < y.0 => {
                    a.next();
                    x
                }
                (_, Some(&&y)) => {
                    b.next();
                    y
                }
                (Some(&&x), None) => {
                    a.next();
                    x
                }
                (None, None) => break,
            };
            out.push(next);
        }
        self.0 = out;
    }

    /// Takes out the calls of `copies` (TableAccumulator::retract): counts only go down.
    fn retract(&mut self, copies: &Windows) {
        for &(w, n) in &copies.0 {
            if let Ok(i) = self.0.binary_search_by_key(&w, |&(i, _)| i) {
                self.0[i].1 = self.0[i].1.saturating_sub(n);
            }
        }
    }
}

/// Calls of one group, per cache window.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CachingGroup {
    pub calls: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    /// Windows with calls, by index (`eventTime / max_age`).
    pub per_window: Windows,
    /// The sessions that made the calls (a role's instances, each with a cache of its own).
    pub sessions: Sessions,
}

impl CachingGroup {
    /// The group of a single call.
    fn of(one: OneCall, max_age: i64) -> CachingGroup {
        let mut group = CachingGroup {
            first_seen: one.at,
            last_seen: one.at,
            ..CachingGroup::default()
        };
        group.add(one, max_age);
        group
    }

    /// Counts one more call.
    fn add(&mut self, call: OneCall, max_age: i64) {
        let window = u32::try_from(call.at.div_euclid(max_age)).unwrap_or(u32::MAX);
        self.calls += 1;
        self.first_seen = self.first_seen.min(call.at);
        self.last_seen = self.last_seen.max(call.at);
        self.per_window.add(window, 1);
        if let Some(one) = call.session {
            self.sessions.union(&Sessions::of_one(one));
        }
    }

    /// Calls a cache would still make: one per window with calls.
    pub fn windows(&self) -> u64 {
        self.per_window.len() as u64
    }

    pub fn saved(&self) -> u64 {
        self.calls - self.windows()
    }

    pub fn busiest_window(&self) -> u64 {
        self.per_window.busiest()
    }

    fn merge(&mut self, o: CachingGroup, table: &[Sym]) {
        self.sessions.merge(o.sessions, table);
        if self.calls == 0 {
            self.calls = o.calls;
            self.first_seen = o.first_seen;
            self.last_seen = o.last_seen;
            self.per_window = o.per_window;
            return;
        }
        self.calls += o.calls;
        self.first_seen = self.first_seen.min(o.first_seen);
        self.last_seen = self.last_seen.max(o.last_seen);
        self.per_window.merge(&o.per_window);
    }
}

/// A group of one call so far: its time and session, all its row would need.
///
/// Most groups never see a second call: on a month of an organization trail about 600,000
/// groups (one per direct call's encryption context) give 210 rows, and a whole
/// [`CachingGroup`] each (windows, sessions) was the largest item of the heap's peak
/// (144 MB, BENCHMARKS.md). A second call makes it a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneCall {
    pub at: i64,
    /// The session's hash and name (tables::sessions::Sessions::one).
    pub session: Option<(u64, Sym)>,
}

impl OneCall {
    pub(crate) fn remap(self, table: &[Sym]) -> OneCall {
        OneCall {
            at: self.at,
            session: self.session.map(|(h, s)| (h, table[s as usize])),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataKeyCaching {
    pub max_age: i64,
    /// Groups of two calls or more.
    pub groups: FxHashMap<CachingKey, CachingGroup>,
    /// Groups of one call.
    pub singles: FxHashMap<CachingKey, OneCall>,
}

impl Default for DataKeyCaching {
    fn default() -> Self {
        DataKeyCaching::new(DEFAULT_MAX_AGE_SECONDS)
    }
}

impl DataKeyCaching {
    pub fn new(max_age: i64) -> DataKeyCaching {
        DataKeyCaching {
            max_age: max_age.max(1),
            groups: FxHashMap::default(),
            singles: FxHashMap::default(),
        }
    }

    /// Counts one call without a session.
    pub fn add_call(&mut self, key: CachingKey, event_time: i64) {
        self.add_one(
            key,
            OneCall {
                at: event_time,
                session: None,
            },
        );
    }

    /// Counts one call: a group's, or a single that it makes a group.
    fn add_one(&mut self, key: CachingKey, call: OneCall) {
        match self.groups.get_mut(&key) {
            Some(group) => group.add(call, self.max_age),
            None => self.add_single(key, call),
        }
    }

    /// Counts one call of a key that has no group: a single, or a group with the single it
    /// had.
    fn add_single(&mut self, key: CachingKey, call: OneCall) {
        match self.singles.remove(&key) {
            None => {
                self.singles.insert(key, call);
            }
            Some(first) => {
                let mut group = CachingGroup::of(first, self.max_age);
                group.add(call, self.max_age);
                self.groups.insert(key, group);
            }
        }
    }

    /// Adds a group of another partial (already in our symbols).
    fn add_group(&mut self, key: CachingKey, group: CachingGroup, table: &[Sym]) {
        let mine = match self.singles.remove(&key) {
            Some(single) => self
                .groups
                .entry(key)
                .or_insert(CachingGroup::of(single, self.max_age)),
            None => self.groups.entry(key).or_default(),
        };
        mine.merge(group, table);
    }

    /// The cache window of a call at `at` (an index, as [`CachingGroup::per_window`]'s).
    pub fn window_of(&self, at: i64) -> i64 {
        at.div_euclid(self.max_age)
    }

    /// Takes out the groups of one call whose cache window ended at or before `bound`
    /// (tables::closed): no call still to come in time order can join them in their window,
    /// and on a month of an organization trail they were the largest item of the output's
    /// heap peak (73 MB of 315, BENCHMARKS.md). A late call can, and is joined back
    /// ([`DataKeyCaching::rejoin`]).
    pub fn take_closed_singles(&mut self, bound: i64) -> Vec<(CachingKey, OneCall)> {
        let max_age = self.max_age;
        let ended = |at: i64| {
            at.div_euclid(max_age)
                .saturating_add(1)
                .saturating_mul(max_age)
                <= bound
        };
        self.singles.extract_if(|_, one| ended(one.at)).collect()
    }

    /// True when `key` has calls in memory, so that a spilled call of it must be joined.
    pub fn holds(&self, key: &CachingKey) -> bool {
        self.groups.contains_key(key) || self.singles.contains_key(key)
    }

    /// Counts a call taken out by [`DataKeyCaching::take_closed_singles`] again, as if it had
    /// never left.
    pub fn rejoin(&mut self, key: CachingKey, call: OneCall) {
        self.add_one(key, call);
    }

    /// The group of `key`, of one call or more.
    pub fn group(&self, key: &CachingKey) -> Option<CachingGroup> {
        self.groups.get(key).cloned().or_else(|| {
            self.singles
                .get(key)
                .map(|&one| CachingGroup::of(one, self.max_age))
        })
    }
}

impl TableAccumulator for DataKeyCaching {
    const NAME: &'static str = "kms_data_key_caching";

    fn add(&mut self, a: &Attribution<'_>, c: &Common, strings: &mut Interner) {
        let Some(kms) = &a.kms else { return };
        let Some((operation, context)) = kms.cacheable_context else {
            return;
        };
        let key = CachingKey {
            account_id: c.account_id,
            region: c.region,
            principal: c.principal,
            key_arn: strings.intern_opt(kms.key_arn),
            context,
            operation,
        };
        let at = a.event_time;
        if let Some(group) = self.groups.get_mut(&key) {
            // A group's session is interned only if it becomes the example (Sessions::add).
            group.add(OneCall { at, session: None }, self.max_age);
            if let Some(name) = a.session {
                group.sessions.add(name, strings);
            }
            return;
        }
        let call = OneCall {
            at,
            session: a.session.map(|name| Sessions::one(name, strings)),
        };
        self.add_single(key, call);
    }

    /// Joins another partial's groups; `table` maps its symbols to ours.
    fn merge(&mut self, other: DataKeyCaching, table: &[Sym]) {
        for (k, g) in other.groups {
            self.add_group(k.remap(table), g, table);
        }
        for (k, one) in other.singles {
            self.add_one(k.remap(table), one.remap(table));
        }
    }

    fn retract(&mut self, copies: Self, table: &[Sym]) {
        let max_age = self.max_age;
        let copied = copies.singles.into_iter().map(|(k, one)| {
            let group = CachingGroup::of(one, max_age);
            (k, group)
        });
        for (k, g) in copies.groups.into_iter().chain(copied) {
            let k = k.remap(table);
            if let Some(mine) = self.groups.get_mut(&k) {
                mine.calls = mine.calls.saturating_sub(g.calls);
                mine.per_window.retract(&g.per_window);
            } else if g.calls > 0 {
                // A single counted twice over is not counted.
                self.singles.remove(&k);
            }
        }
    }
}

/// One (principal, key, encryption context, operation) of direct calls a cache could serve.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub account_id: Option<&'a str>,
    pub region: Option<&'a str>,
    pub principal: Option<&'a str>,
    pub key_arn: Option<&'a str>,
    pub context: u64,
    pub operation: CacheOperation,
    pub group: &'a CachingGroup,
    pub example_session: Option<&'a str>,
}

impl Row<'_> {
    /// The fingerprint as users see it: 16 lower-case hex digits.
    pub fn context_hex(&self) -> String {
        format!("{:016x}", self.context)
    }
}

/// Groups a cache would relieve (at least one call saved), most saved first.
pub fn rows<'a>(table: &'a DataKeyCaching, strings: &'a Interner) -> Vec<Row<'a>> {
    let s = |id| strings.resolve(id);
    let mut rows: Vec<Row<'a>> = table
        .groups
        .iter()
        .filter(|(_, g)| g.saved() > 0)
        .map(|(k, group)| Row {
            account_id: s(k.account_id),
            region: s(k.region),
            principal: s(k.principal),
            key_arn: s(k.key_arn),
            context: k.context,
            operation: k.operation,
            group,
            example_session: group.sessions.example(strings),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.group.saved().cmp(&a.group.saved()).then(
            (
                a.account_id,
                a.region,
                a.principal,
                a.key_arn,
                a.context,
                a.operation,
            )
                .cmp(&(
                    b.account_id,
                    b.region,
                    b.principal,
                    b.key_arn,
                    b.context,
                    b.operation,
                )),
        )
    });
    rows
}

/// A row with what the file says of it.
pub(super) struct Out<'r, 'a> {
    row: &'r Row<'a>,
    hex: String,
    max_age: i64,
    projection: Option<Projection>,
}

pub(super) fn columns<'r, 'a: 'r>() -> Vec<Column<'r, Out<'r, 'a>>> {
    let c = columns::of::<Out<'r, 'a>>();
    vec![
        c.text("account_id", "The account", |o| o.row.account_id),
        c.text("region", "The region", |o| o.row.region),
        c.text("principal", "The direct caller", |o| o.row.principal),
        c.text("key_arn", "The KMS key", |o| o.row.key_arn),
        c.text(
            "encryption_context_hash",
            "Fingerprint of the whole encryption context, 16 hex digits",
            |o| Some(o.hex.as_str()),
        ),
        c.int(
            "calls",
            "Calls of the group (data key requests, or Decrypt calls)",
            |o| o.row.group.calls as i64,
        ),
        c.int(
            "cache_max_age_seconds",
            "The cache's maximum age (--cache-max-age)",
            |o| o.max_age,
        ),
        c.int(
            "cache_windows",
            "Windows of that age with calls: the calls a cache would still make",
            |o| o.row.group.windows() as i64,
        ),
        c.int("est_saved_calls", "calls - cache_windows", |o| {
            o.row.group.saved() as i64
        }),
        c.int("busiest_window_calls", "Calls in the busiest window", |o| {
            o.row.group.busiest_window() as i64
        }),
        c.float(
            "est_saved_usd_per_month",
            "What the saved calls cost a month, projected",
            |o| {
                o.projection
                    .map(|p| p.usd(p.per_month(o.row.group.saved())))
            },
        ),
        c.timestamp("first_seen", "Earliest call", |o| o.row.group.first_seen),
        c.timestamp("last_seen", "Latest call", |o| o.row.group.last_seen),
        c.text(
            "operation",
            "generate_data_key (GenerateDataKey, GenerateDataKeyWithoutPlaintext) or decrypt (an upper bound)",
            |o| Some(o.row.operation.as_str()),
        ),
        c.int(
            "sessions",
            "Distinct sessions of the principal in the group, 0 without sessions",
            |o| o.row.group.sessions.count() as i64,
        ),
        c.text("example_session", "One of those sessions by name", |o| {
            o.row.example_session
        }),
    ]
}

pub fn write(
    dir: &Path,
    rows: &[Row<'_>],
    max_age: i64,
    projection: Option<Projection>,
) -> anyhow::Result<()> {
    let out: Vec<Out<'_, '_>> = rows
        .iter()
        .map(|row| Out {
            row,
            hex: row.context_hex(),
            max_age,
            projection,
        })
        .collect();
    columns::write(&dir.join(FILE), &columns(), &out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::TableAccumulator;

    fn key(context: u64) -> CachingKey {
        CachingKey {
            account_id: 1,
            region: 2,
            principal: 3,
            key_arn: 4,
            context,
            operation: CacheOperation::GenerateDataKey,
        }
    }

    #[test]
    fn a_cache_would_make_one_call_per_window() {
        let mut c = DataKeyCaching::new(300);
        // 10 calls in the first 5 minutes, 1 in the next, 3 an hour later.
        let t0 = 1_772_323_200;
        for i in 0..10 {
            c.add_call(key(7), t0 + i * 20);
        }
        c.add_call(key(7), t0 + 301);
        for i in 0..3 {
            c.add_call(key(7), t0 + 3600 + i);
        }
        c.add_call(key(8), t0); // another context: its own cache entry
        let g = c.group(&key(7)).expect("a group");
        assert_eq!((g.calls, g.windows(), g.saved()), (14, 3, 11));
        assert_eq!(g.busiest_window(), 10);
        let single = c.group(&key(8)).expect("a group of one call");
        assert_eq!((single.calls, single.windows(), single.saved()), (1, 1, 0));
        assert_eq!((c.groups.len(), c.singles.len()), (1, 1));
    }

    #[test]
    fn decrypt_and_data_key_calls_of_one_context_are_separate_entries() {
        let mut c = DataKeyCaching::new(300);
        let t0 = 1_772_323_200;
        let decrypt = CachingKey {
            operation: CacheOperation::Decrypt,
            ..key(7)
        };
        for i in 0..3 {
            c.add_call(key(7), t0 + i);
            c.add_call(decrypt, t0 + i);
        }
        assert_eq!(c.groups.len(), 2);
        assert_eq!(c.groups[&key(7)].saved(), 2);
        assert_eq!(c.groups[&decrypt].saved(), 2);
    }

    #[test]
    fn windows_stay_sorted_and_summed_whatever_the_order_of_calls() {
        let mut w = Windows::default();
        for (i, n) in [(5, 1), (5, 2), (9, 1), (2, 4), (7, 1), (2, 1), (9, 3)] {
            w.add(i, n);
        }
        assert_eq!(w.0, vec![(2, 5), (5, 3), (7, 1), (9, 4)]);
        assert_eq!((w.len(), w.busiest()), (4, 5));
        let mut other = Windows::default();
        for (i, n) in [(1, 1), (5, 1), (10, 2)] {
            other.add(i, n);
        }
        w.merge(&other);
        assert_eq!(w.0, vec![(1, 1), (2, 5), (5, 4), (7, 1), (9, 4), (10, 2)]);
        w.retract(&other);
        assert_eq!(w.0, vec![(1, 0), (2, 5), (5, 3), (7, 1), (9, 4), (10, 0)]);
    }

    #[test]
    fn merging_workers_sums_windows() {
        let t0 = 1_772_323_200;
        let mut a = DataKeyCaching::new(300);
        let mut b = DataKeyCaching::new(300);
        a.add_call(key(7), t0);
        b.add_call(key(7), t0 + 5);
        b.add_call(key(7), t0 + 400);
        let identity: Vec<Sym> = (0..8).collect();
        a.merge(b, &identity);
        let g = a.group(&key(7)).expect("a group");
        assert_eq!((g.calls, g.windows(), g.saved()), (3, 2, 1));
        assert_eq!((g.first_seen, g.last_seen), (t0, t0 + 400));
    }

    #[test]
    fn single_calls_of_one_group_on_two_workers_make_the_group_one_worker_would() {
        let t0 = 1_772_323_200;
        let mut strings = Interner::default();
        let first = OneCall {
            at: t0 + 10,
            session: Some(Sessions::one("i-1", &mut strings)),
        };
        let second = OneCall {
            at: t0,
            session: Some(Sessions::one("i-2", &mut strings)),
        };
        let identity: Vec<Sym> = (0..16).collect();

        let mut whole = DataKeyCaching::new(300);
        whole.add_one(key(7), first);
        assert_eq!((whole.singles.len(), whole.groups.len()), (1, 0));
        whole.add_one(key(7), second);
        assert_eq!((whole.singles.len(), whole.groups.len()), (0, 1));

        let (mut a, mut b) = (DataKeyCaching::new(300), DataKeyCaching::new(300));
        a.add_one(key(7), first);
        b.add_one(key(7), second);
        a.merge(b, &identity);
        assert_eq!((a.singles.len(), a.groups.len()), (0, 1));
        let g = a.group(&key(7)).expect("a group");
        assert_eq!(
            (g.calls, g.windows(), g.saved(), g.sessions.count()),
            (2, 1, 1, 2)
        );
        assert_eq!((g.first_seen, g.last_seen), (t0, t0 + 10));
        assert_eq!(
            Some(g.sessions.clone()),
            whole.group(&key(7)).map(|w| w.sessions)
        );

        // A single merged into a group of the other worker joins it.
        let mut c = DataKeyCaching::new(300);
        c.add_one(
            key(7),
            OneCall {
                at: t0 + 400,
                session: None,
            },
        );
        c.merge(a, &identity);
        let g = c.group(&key(7)).expect("a group");
        assert_eq!((g.calls, g.windows(), g.saved()), (3, 2, 1));
        assert_eq!(c.singles.len(), 0);

        // A call two shards both counted is taken out once.
        let mut copy = DataKeyCaching::new(300);
        copy.add_one(
            key(7),
            OneCall {
                at: t0 + 400,
                session: None,
            },
        );
        c.retract(copy, &identity);
        assert_eq!(c.group(&key(7)).map(|g| g.calls), Some(2));
    }
}
