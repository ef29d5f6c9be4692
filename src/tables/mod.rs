//! The output tables. Each module declares one table, once: its key (the columns rows are
//! grouped by), what it accumulates per key, its row order, its Parquet columns with their
//! docs, and its file name. Adding a column is an edit to one of these modules (and the
//! README): see docs/ADDING_A_COLUMN.md.
//!
//! Every accumulating table follows one contract ([`TableAccumulator`], after DataFusion's
//! `Accumulator`): `add` folds one attributed record, `merge` joins another partial, and
//! `state`/`from_state` save and restore a partial. The rayon workers' merge, the `--state`
//! checkpoint and a shard's partial all go through it. Every value is a sum, a min/max or a
//! per-second count, so merging is commutative and associative: the answer does not depend
//! on how records were shared out.
//!
//! Keys hold interned strings ([`intern`]); a partial's symbols mean something only with the
//! strings saved beside it, so [`Tables`] saves both and `merge` re-maps symbols.

pub mod closed;
pub mod columns;
pub mod intern;
pub mod kms_bucket_keys;
pub mod kms_calls;
pub mod kms_cost;
pub mod kms_data_key_caching;
pub mod kms_rates;
pub mod projection;
pub mod records;
pub mod sessions;
pub mod sigv2_requests;
pub mod tls_legacy;
pub mod vpc_endpoint_events;

use std::borrow::Cow;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::attribute::kms::{CallerKind, QuotaClass, Quotas};
use crate::attribute::sigv2::Evidence;
use crate::attribute::{Attribution, Attributor};
use crate::dedup::DeferredSink;
use crate::record::Record;
use closed::{ClosedHours, HourKey, Joined, SpilledTable};
use intern::{Interner, Sym};
use projection::Projection;
use records::RecordCounts;
use sessions::Sessions;

/// Calls (or requests) of one group, and when they happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub count: u64,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl Tally {
    pub fn at(t: i64) -> Tally {
        Tally {
            count: 1,
            first_seen: t,
            last_seen: t,
        }
    }

    pub fn add(&mut self, t: i64) {
        self.count += 1;
        self.first_seen = self.first_seen.min(t);
        self.last_seen = self.last_seen.max(t);
    }

    pub fn merge(&mut self, o: Tally) {
        self.count += o.count;
        self.first_seen = self.first_seen.min(o.first_seen);
        self.last_seen = self.last_seen.max(o.last_seen);
    }
}

/// The tallies of a table that counts events per key, with the sessions behind each key
/// (kept apart: most rows have none, and `Tally` stays a small copyable value).
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound(serialize = "K: Serialize", deserialize = "K: DeserializeOwned"))]
pub struct Tallies<K: std::hash::Hash + Eq> {
    pub tallies: FxHashMap<K, Tally>,
    pub sessions: FxHashMap<K, Sessions>,
}

impl<K: std::hash::Hash + Eq> Default for Tallies<K> {
    fn default() -> Self {
        Tallies {
            tallies: FxHashMap::default(),
            sessions: FxHashMap::default(),
        }
    }
}

impl<K: TableKey> Tallies<K> {
    /// Counts one event of `key` at `t`, made in `session` when the principal has one.
    pub fn add(&mut self, key: K, t: i64, session: Option<&str>, strings: &mut Interner) {
        self.tallies
            .entry(key)
            .and_modify(|tally| tally.add(t))
            .or_insert_with(|| Tally::at(t));
        if let Some(name) = session {
            self.sessions.entry(key).or_default().add(name, strings);
        }
    }

    /// Joins another partial's tallies; `table` maps its symbols to ours.
    pub fn merge(&mut self, other: Tallies<K>, table: &[Sym]) {
        for (k, v) in other.tallies {
            self.tallies
                .entry(k.remap(table))
                .and_modify(|t| t.merge(v))
                .or_insert(v);
        }
        for (k, v) in other.sessions {
            self.sessions
                .entry(k.remap(table))
                .or_default()
                .merge(v, table);
        }
    }

    /// Takes out the counts of `copies` (TableAccumulator::retract).
    pub fn retract(&mut self, copies: Tallies<K>, table: &[Sym]) {
        for (k, v) in copies.tallies {
            if let Some(t) = self.tallies.get_mut(&k.remap(table)) {
                t.count = t.count.saturating_sub(v.count);
            }
        }
    }

    /// Moves the rows of hours `from..bound` out (tables::closed), with their sessions.
    pub fn take_hours(&mut self, from: i64, bound: i64) -> Vec<(K, (Tally, Option<Sessions>))>
    where
        K: HourKey,
    {
        let closing = |k: &K| (from..bound).contains(&k.hour());
        let taken: Vec<(K, Tally)> = self.tallies.extract_if(|k, _| closing(k)).collect();
        if taken.is_empty() {
            return Vec::new();
        }
        let rows = taken
            .into_iter()
            .map(|(k, tally)| (k, (tally, self.sessions.remove(&k))))
            .collect();
        // The maps shrink with what left them: a month's worth of capacity would stay
        // otherwise.
        self.tallies.shrink_to_fit();
        self.sessions.shrink_to_fit();
        rows
    }

    /// The rows in file order, each resolved only when it is read (TallyRows); `ranks` are
    /// `strings`' (Interner::ranks).
    pub fn sorted<'a>(&'a self, strings: &'a Interner, ranks: Vec<u32>) -> TallyRows<'a, K> {
        let mut rows: Vec<_> = self
            .tallies
            .iter()
            .map(|(k, tally)| (k, tally, self.sessions.get(k)))
            .collect();
        rows.sort_unstable_by(|a, b| a.0.cmp_ranked(b.0, &ranks));
        TallyRows {
            rows,
            strings,
            ranks,
            spilled: None,
            error: std::sync::OnceLock::new(),
        }
    }

    /// The rows, in file order.
    pub fn rows<'a>(&'a self, strings: &'a Interner) -> Vec<TallyRow<'a, K::Resolved<'a>>> {
        let mut rows: Vec<_> = self
            .tallies
            .iter()
            .map(|(&k, &tally)| {
                tally_row(k, tally, self.sessions.get(&k).map(Cow::Borrowed), strings)
            })
            .collect();
        rows.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        rows
    }
}

/// A table's rows in file order, resolved as they are read: a month of an organization trail
/// has 800,000 `kms_calls` rows, and holding them resolved (224 bytes each, every string a
/// pointer and a length) was the largest item of the output's heap peak (179 MB,
/// BENCHMARKS.md); here a row is three pointers into the table it is read from. The rows of
/// closed hours (closed) are read back from the spill file and joined in, each time the
/// rows are read.
pub struct TallyRows<'a, K: TableKey> {
    rows: Vec<(&'a K, &'a Tally, Option<&'a Sessions>)>,
    strings: &'a Interner,
    ranks: Vec<u32>,
    spilled: Option<(&'a ClosedHours, &'a SpilledTable)>,
    /// The first spill file read that failed: the rows stop there, and the writer says so.
    error: std::sync::OnceLock<String>,
}

impl<'a, K: HourKey> TallyRows<'a, K> {
    /// The rows joined with the rows of closed hours spilled in `table` of `closed`.
    pub fn with_spilled(mut self, closed: &'a ClosedHours, table: &'a SpilledTable) -> Self {
        self.spilled = Some((closed, table));
        self
    }

    /// Rows in the table. With closed hours, they are counted by reading them.
    pub fn len(&self) -> usize {
        match self.spilled {
            None => self.rows.len(),
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

    /// The rows, in file order.
    pub fn iter(&self) -> impl Iterator<Item = TallyRow<'a, K::Resolved<'a>>> + '_ {
        let strings = self.strings;
        let memory = self
            .rows
            .iter()
            .map(|&(k, tally, sessions)| (k, (tally, sessions)));
        closed::joined(memory, self.spilled, &self.ranks, &self.error).map(move |row| match row {
            Joined::Memory(&k, (&tally, sessions)) => {
                tally_row(k, tally, sessions.map(Cow::Borrowed), strings)
            }
            Joined::Spilled(k, (tally, sessions)) => {
                tally_row(k, tally, sessions.map(Cow::Owned), strings)
            }
            Joined::Both(&k, (&late, more), (mut tally, mut sessions)) => {
                tally.merge(late);
                if let Some(more) = more {
                    sessions.get_or_insert_with(Sessions::default).union(more);
                }
                tally_row(k, tally, sessions.map(Cow::Owned), strings)
            }
        })
    }
}

/// The row of `key`, its strings resolved.
fn tally_row<'a, K: TableKey>(
    key: K,
    tally: Tally,
    sessions: Option<Cow<'a, Sessions>>,
    strings: &'a Interner,
) -> TallyRow<'a, K::Resolved<'a>> {
    let example_session = sessions.as_ref().and_then(|s| s.example(strings));
    TallyRow {
        key: key.resolve(strings),
        tally,
        sessions,
        example_session,
    }
}

impl<'a, K: HourKey> std::fmt::Debug for TallyRows<'a, K>
where
    K::Resolved<'a>: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A field of a table key: how it moves to another interner and what it reads as once its
/// strings are resolved. The resolved key's order (field by field, as declared) is the
/// table's row order, so it never depends on which worker saw a string first.
pub trait KeyField: Copy {
    type Resolved<'a>: Ord + Copy;
    /// What the field sorts as without its strings: a string's rank (Interner::ranks), any
    /// other field itself. Ordered exactly as `Resolved`.
    type Ranked: Ord;
    fn remap(self, table: &[Sym]) -> Self;
    fn resolve(self, strings: &Interner) -> Self::Resolved<'_>;
    fn rank(self, ranks: &[u32]) -> Self::Ranked;
}

/// An interned string; `None` once resolved when unknown.
impl KeyField for Sym {
    type Resolved<'a> = Option<&'a str>;
    type Ranked = u32;
    fn remap(self, table: &[Sym]) -> Sym {
        table[self as usize]
    }
    fn resolve(self, strings: &Interner) -> Option<&str> {
        strings.resolve(self)
    }
    fn rank(self, ranks: &[u32]) -> u32 {
        ranks[self as usize]
    }
}

/// The hour, epoch seconds.
impl KeyField for i64 {
    type Resolved<'a> = i64;
    type Ranked = i64;
    fn remap(self, _: &[Sym]) -> i64 {
        self
    }
    fn resolve(self, _: &Interner) -> i64 {
        self
    }
    fn rank(self, _: &[u32]) -> i64 {
        self
    }
}

impl KeyField for Option<bool> {
    type Resolved<'a> = Option<bool>;
    type Ranked = Option<bool>;
    fn remap(self, _: &[Sym]) -> Self {
        self
    }
    fn resolve(self, _: &Interner) -> Self {
        self
    }
    fn rank(self, _: &[u32]) -> Option<bool> {
        self
    }
}

/// Ordered as written (`quota_class` names).
impl KeyField for QuotaClass {
    type Resolved<'a> = &'static str;
    type Ranked = &'static str;
    fn remap(self, _: &[Sym]) -> Self {
        self
    }
    fn resolve(self, _: &Interner) -> &'static str {
        self.as_str()
    }
    fn rank(self, _: &[u32]) -> &'static str {
        self.as_str()
    }
}

impl KeyField for CallerKind {
    type Resolved<'a> = CallerKind;
    type Ranked = CallerKind;
    fn remap(self, _: &[Sym]) -> Self {
        self
    }
    fn resolve(self, _: &Interner) -> Self {
        self
    }
    fn rank(self, _: &[u32]) -> CallerKind {
        self
    }
}

/// Ordered as written (`inferred` before `observed`).
impl KeyField for Evidence {
    type Resolved<'a> = &'static str;
    type Ranked = &'static str;
    fn remap(self, _: &[Sym]) -> Self {
        self
    }
    fn resolve(self, _: &Interner) -> &'static str {
        self.as_str()
    }
    fn rank(self, _: &[u32]) -> &'static str {
        self.as_str()
    }
}

/// A table key: moves to another interner, and resolves to strings whose order is the
/// table's row order. Declared with [`table_key!`].
pub trait TableKey: Copy + Eq + std::hash::Hash {
    type Resolved<'a>: Ord + Copy;
    fn remap(self, table: &[Sym]) -> Self;
    fn resolve(self, strings: &Interner) -> Self::Resolved<'_>;
    /// The order of the resolved keys, from the strings' ranks (Interner::ranks) alone.
    fn cmp_ranked(&self, other: &Self, ranks: &[u32]) -> std::cmp::Ordering;
}

/// A row of a table that counts events per key: the key, resolved, its tally and its
/// sessions. Reads as its key (`row.principal`), plus `row.tally`.
#[derive(Debug, Clone)]
pub struct TallyRow<'a, R> {
    pub key: R,
    pub tally: Tally,
    /// Borrowed from the table, or owned when read back from closed hours.
    pub sessions: Option<Cow<'a, Sessions>>,
    /// One session by name (`example_session`).
    pub example_session: Option<&'a str>,
}

impl<R> std::ops::Deref for TallyRow<'_, R> {
    type Target = R;
    fn deref(&self) -> &R {
        &self.key
    }
}

impl<R> TallyRow<'_, R> {
    /// Distinct sessions (`sessions` column).
    pub fn session_count(&self) -> i64 {
        self.sessions.as_ref().map_or(0, |s| s.count() as i64)
    }
}

/// Declares a table key: the interned struct the workers hash, and its resolved twin (same
/// fields, strings instead of symbols) whose derived order is the table's row order.
macro_rules! table_key {
    ($(#[$doc:meta])* $name:ident => $resolved:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $(pub $field: $ty,)*
        }

        impl $crate::tables::TableKey for $name {
            type Resolved<'a> = $resolved<'a>;

            /// The same key in the interner whose symbols `table` maps to.
            fn remap(self, table: &[$crate::tables::intern::Sym]) -> Self {
                $name {
                    $($field: $crate::tables::KeyField::remap(self.$field, table),)*
                }
            }

            fn resolve(self, strings: &$crate::tables::intern::Interner) -> $resolved<'_> {
                $resolved {
                    $($field: $crate::tables::KeyField::resolve(self.$field, strings),)*
                }
            }

            /// Field by field, as declared: the derived order of the resolved twin.
            fn cmp_ranked(&self, other: &Self, ranks: &[u32]) -> std::cmp::Ordering {
                std::cmp::Ordering::Equal
                    $(.then_with(|| {
                        $crate::tables::KeyField::rank(self.$field, ranks)
                            .cmp(&$crate::tables::KeyField::rank(other.$field, ranks))
                    }))*
            }
        }

        /// The key with its strings resolved; its order is the file's row order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub struct $resolved<'a> {
            $(pub $field: <$ty as $crate::tables::KeyField>::Resolved<'a>,)*
        }
    };
}
pub(crate) use table_key;

/// The symbols every table keys on, interned once per record.
#[derive(Debug, Clone, Copy)]
pub struct Common {
    pub hour: i64,
    pub account_id: Sym,
    pub region: Sym,
    pub principal: Sym,
    pub principal_type: Sym,
}

/// One table's accumulator (see the module comment).
pub trait TableAccumulator: Default + Serialize + DeserializeOwned {
    /// The table's name in a saved partial.
    const NAME: &'static str;

    /// Folds one attributed record; `common` holds its interned shared fields.
    fn add(&mut self, a: &Attribution<'_>, common: &Common, strings: &mut Interner);

    /// Joins another partial; `table` maps its symbols to ours.
    fn merge(&mut self, other: Self, table: &[Sym]);

    /// Takes out the counts of `copies`: the second copies of events that two shards both
    /// counted (shard::merge), each of which is also in `self` through its first copy.
    /// Only counts go down. Times (first/last seen), sessions and sets stay: the first
    /// copy, identical, gave them the same values, so no row empties or moves.
    fn retract(&mut self, copies: Self, table: &[Sym]);

    /// The partial as bytes (its symbols refer to the strings saved beside it).
    fn state(&self) -> Result<Vec<u8>, postcard::Error> {
        postcard::to_stdvec(self)
    }

    fn from_state(bytes: &[u8]) -> Result<Self, postcard::Error> {
        postcard::from_bytes(bytes)
    }
}

/// Every table of one worker, or of the whole run once merged, with the strings their keys
/// intern and the record counts.
#[derive(Debug, Default)]
pub struct Tables {
    pub strings: Interner,
    pub records: RecordCounts,
    pub kms_calls: kms_calls::KmsCalls,
    pub kms_rates: kms_rates::KmsRates,
    pub sigv2: sigv2_requests::SigV2Requests,
    pub tls: tls_legacy::TlsLegacy,
    pub caching: kms_data_key_caching::DataKeyCaching,
    pub vpce: vpc_endpoint_events::VpcEndpointEvents,
    /// Buckets written with DSSE-KMS, for `kms_bucket_keys`.
    pub dsse: kms_bucket_keys::DsseBuckets,
    /// Caches of attribution; not part of the state.
    attributor: Attributor,
}

impl Tables {
    /// Empty tables; `cache_max_age` is the data key cache's maximum age, seconds.
    pub fn new(cache_max_age: i64) -> Tables {
        Tables {
            caching: kms_data_key_caching::DataKeyCaching::new(cache_max_age),
            ..Tables::default()
        }
    }

    /// Folds a record that passed the filters and deduplication. The hot path: no allocation
    /// unless a string is new.
    pub fn add(&mut self, r: &Record<'_>) {
        let a = self.attributor.attribute(r);
        self.records.count_attributed(&a);
        if a.feeds_no_table() {
            return;
        }
        let s = &mut self.strings;
        let common = Common {
            hour: a.hour,
            account_id: s.intern_opt(a.account_id),
            region: s.intern_opt(a.region),
            principal: s.intern(a.principal),
            principal_type: s.intern_opt(a.principal_type),
        };
        self.kms_calls.add(&a, &common, s);
        self.caching.add(&a, &common, s);
        self.kms_rates.add(&a, &common, s);
        self.sigv2.add(&a, &common, s);
        self.tls.add(&a, &common, s);
        self.vpce.add(&a, &common, s);
        self.dsse.add(&a, &common, s);
    }

    /// Whether nothing was ever folded here: every record folded or counted moves the
    /// record counts, and every table row interns its principal.
    fn is_fresh(&self) -> bool {
        self.records == RecordCounts::default() && self.strings.is_empty()
    }

    /// Joins another partial into this one.
    pub fn merge(&mut self, other: Tables) {
        // Into nothing, the other partial is the result: the run's end joins each worker's
        // tables into empty ones, and re-hashing the first worker's rows was a tenth of the
        // output tail on a long trail. Rows are ordered on their strings, never on symbols,
        // so the outputs are the same.
        if self.is_fresh() && self.caching.max_age == other.caching.max_age {
            *self = other;
            return;
        }
        let table = self.strings.absorb(&other.strings);
        self.records.merge(&other.records);
        self.kms_calls.merge(other.kms_calls, &table);
        self.kms_rates.merge(other.kms_rates, &table);
        self.sigv2.merge(other.sigv2, &table);
        self.tls.merge(other.tls, &table);
        self.caching.merge(other.caching, &table);
        self.vpce.merge(other.vpce, &table);
        self.dsse.merge(other.dsse, &table);
    }

    /// Takes out `copies`: records two shards both counted (TableAccumulator::retract),
    /// which are then counted as duplicates.
    pub fn retract(&mut self, copies: Tables) {
        let table = self.strings.absorb(&copies.strings);
        self.records.retract(&copies.records);
        self.kms_calls.retract(copies.kms_calls, &table);
        self.kms_rates.retract(copies.kms_rates, &table);
        self.sigv2.retract(copies.sigv2, &table);
        self.tls.retract(copies.tls, &table);
        self.caching.retract(copies.caching, &table);
        self.vpce.retract(copies.vpce, &table);
        self.dsse.retract(copies.dsse, &table);
    }

    /// The partial state: the strings, the counts and every table's state.
    pub fn state(&self) -> Result<TablesState, postcard::Error> {
        Ok(TablesState {
            strings: self.strings.clone(),
            records: self.records.clone(),
            tables: vec![
                state_of(&self.kms_calls)?,
                state_of(&self.kms_rates)?,
                state_of(&self.sigv2)?,
                state_of(&self.tls)?,
                state_of(&self.caching)?,
                state_of(&self.vpce)?,
                state_of(&self.dsse)?,
            ],
        })
    }

    /// Tables again from a saved state; a table missing from it is an error.
    pub fn from_state(state: TablesState) -> Result<Tables, String> {
        let TablesState {
            strings,
            records,
            tables,
        } = state;
        Ok(Tables {
            strings,
            records,
            kms_calls: restore(&tables)?,
            kms_rates: restore(&tables)?,
            sigv2: restore(&tables)?,
            tls: restore(&tables)?,
            caching: restore(&tables)?,
            vpce: restore(&tables)?,
            dsse: restore(&tables)?,
            attributor: Attributor::default(),
        })
    }
}

/// Key owners' copies decided at the end of their window (pipeline::dedup) land here.
impl DeferredSink for Tables {
    fn count(&mut self, record: &Record<'_>) {
        self.add(record);
    }

    fn drop_duplicate(&mut self) {
        self.records.duplicate_cross_account += 1;
    }
}

/// What a partial saves: the strings its symbols point into, the record counts and each
/// table's [`TableAccumulator::state`] under its name.
#[derive(Debug, Serialize, Deserialize)]
pub struct TablesState {
    pub strings: Interner,
    pub records: RecordCounts,
    pub tables: Vec<(String, Vec<u8>)>,
}

fn state_of<T: TableAccumulator>(table: &T) -> Result<(String, Vec<u8>), postcard::Error> {
    Ok((T::NAME.to_owned(), table.state()?))
}

fn restore<T: TableAccumulator>(tables: &[(String, Vec<u8>)]) -> Result<T, String> {
    let (_, bytes) = tables
        .iter()
        .find(|(name, _)| name == T::NAME)
        .ok_or_else(|| format!("the saved state has no {} table", T::NAME))?;
    T::from_state(bytes).map_err(|e| format!("the saved {} table is damaged: {e}", T::NAME))
}

/// Every table's rows in file order, with their strings resolved.
pub struct Rows<'a> {
    pub kms_calls: TallyRows<'a, kms_calls::Key>,
    pub kms_rates: kms_rates::RateRows<'a>,
    pub sigv2: TallyRows<'a, sigv2_requests::Key>,
    pub tls: TallyRows<'a, tls_legacy::Key>,
    pub caching: Vec<kms_data_key_caching::Row<'a>>,
    pub cost: Vec<kms_cost::Row<'a>>,
    pub bucket_keys: Vec<kms_bucket_keys::Row<'a>>,
    pub vpce: Vec<vpc_endpoint_events::Row<'a>>,
}

impl<'a> Rows<'a> {
    /// The tables' rows are resolved and sorted on two threads: this runs after the
    /// workers have finished, when every core but one would otherwise be idle.
    pub fn of(t: &'a Tables) -> Rows<'a> {
        Rows::with_closed(t, None)
    }

    /// The rows of `t` joined with those of the hours closed during the run (closed), whose
    /// strings [`ClosedHours::finish`] has absorbed into `t`'s.
    pub fn with_closed(t: &'a Tables, closed: Option<&'a ClosedHours>) -> Rows<'a> {
        let s = &t.strings;
        let ranks = s.ranks();
        let ((kms_calls, cost, bucket_keys), (kms_rates, (sigv2, tls, caching, vpce))) =
            rayon::join(
                || {
                    let mut calls = kms_calls::rows(&t.kms_calls, s, ranks.clone());
                    if let Some(closed) = closed {
                        calls = calls.with_spilled(closed, &closed.kms_calls);
                    }
                    let cost = kms_cost::rows(calls.iter(), s);
                    let bucket_keys = kms_bucket_keys::rows(calls.iter(), s, &t.dsse.names(s));
                    (calls, cost, bucket_keys)
                },
                || {
                    rayon::join(
                        || {
                            let mut rates = kms_rates::rows(&t.kms_rates, s, ranks.clone());
                            if let Some(closed) = closed {
                                rates = rates.with_spilled(closed, &closed.kms_rates);
                            }
                            rates
                        },
                        || {
                            let mut sigv2 = sigv2_requests::rows(&t.sigv2, s, ranks.clone());
                            let mut tls = tls_legacy::rows(&t.tls, s, ranks.clone());
                            if let Some(closed) = closed {
                                sigv2 = sigv2.with_spilled(closed, &closed.sigv2_requests);
                                tls = tls.with_spilled(closed, &closed.tls_legacy);
                            }
                            (
                                sigv2,
                                tls,
                                kms_data_key_caching::rows(&t.caching, s),
                                vpc_endpoint_events::rows(&t.vpce, s),
                            )
                        },
                    )
                },
            );
        Rows {
            kms_calls,
            kms_rates,
            sigv2,
            tls,
            caching,
            cost,
            bucket_keys,
            vpce,
        }
    }
}

/// What the derived columns need beyond the rows.
pub struct OutputContext<'q> {
    pub quotas: &'q Quotas,
    pub projection: Option<Projection>,
    pub price_per_10k: f64,
    pub cache_max_age: i64,
}

/// Writes every table's file into `dir`.
/// The files are independent, so they are encoded and written on two threads (the largest,
/// kms_rates, on one; the rest on the other). An error on either thread fails the whole.
pub fn write_all(dir: &Path, rows: &Rows<'_>, cx: &OutputContext<'_>) -> anyhow::Result<()> {
    let (rates, rest) = rayon::join(
        || kms_rates::write(dir, &rows.kms_rates, cx.quotas),
        || -> anyhow::Result<()> {
            kms_calls::write(dir, &rows.kms_calls)?;
            kms_cost::write(dir, &rows.cost, cx.projection, cx.price_per_10k)?;
            kms_bucket_keys::write(dir, &rows.bucket_keys, cx.projection)?;
            kms_data_key_caching::write(dir, &rows.caching, cx.cache_max_age, cx.projection)?;
            sigv2_requests::write(dir, &rows.sigv2)?;
            tls_legacy::write(dir, &rows.tls)?;
            vpc_endpoint_events::write(dir, &rows.vpce)?;
            Ok(())
        },
    );
    rates.and(rest)
}

/// One output file's columns with their one-line docs, in file order.
pub struct FileColumns {
    pub file: &'static str,
    pub columns: Vec<(&'static str, &'static str)>,
}

/// Every output file's columns (the README documents each one).
pub fn column_docs() -> Vec<FileColumns> {
    fn of<R>(file: &'static str, columns: Vec<columns::Column<'_, R>>) -> FileColumns {
        FileColumns {
            file,
            columns: columns.iter().map(|c| (c.name, c.doc)).collect(),
        }
    }
    vec![
        of(kms_calls::FILE, kms_calls::columns()),
        of(kms_rates::FILE, kms_rates::columns()),
        of(kms_cost::FILE, kms_cost::columns()),
        of(kms_bucket_keys::FILE, kms_bucket_keys::columns()),
        of(kms_data_key_caching::FILE, kms_data_key_caching::columns()),
        of(sigv2_requests::FILE, sigv2_requests::columns()),
        of(tls_legacy::FILE, tls_legacy::columns()),
        of(vpc_endpoint_events::FILE, vpc_endpoint_events::columns()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KMS: &str = r#"{"Records":[
        {"eventTime":"2026-03-01T10:00:01Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt",
         "awsRegion":"us-east-1","recipientAccountId":"111122223333",
         "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/bi/s1",
           "accountId":"111122223333",
           "sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/bi"}}},
         "resources":[{"type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:111122223333:key/k1"}]},
        {"eventTime":"2026-03-01T10:00:01Z","eventSource":"s3.amazonaws.com","eventName":"GetObject",
         "awsRegion":"us-east-1","recipientAccountId":"111122223333","eventCategory":"Data",
         "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/old","accountId":"111122223333"},
         "userAgent":"[aws-cli/1.10.56 Python/2.7.12 Linux/4.4.0 botocore/1.4.46]",
         "requestParameters":{"bucketName":"legacy"},
         "additionalEventData":{"SignatureVersion":"SigV2","AuthenticationMethod":"AuthHeader"},
         "tlsDetails":{"tlsVersion":"TLSv1.1"}}
    ]}"#;

    /// Tables folded from `take` records of `json` from the `skip`th, in order.
    fn fold(json: &str, skip: usize, take: usize) -> Tables {
        let mut bytes = json.as_bytes().to_vec();
        let tape = simd_json::to_tape(&mut bytes).expect("valid json");
        let root = tape.as_value();
        let records = root
            .get("Records")
            .and_then(|r| r.as_array())
            .expect("records");
        let mut t = Tables::new(300);
        for v in records.iter().skip(skip).take(take) {
            t.add(&Record::from_tape(v).expect("record"));
        }
        t
    }

    fn snapshot(t: &Tables) -> String {
        let rows = Rows::of(t);
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            rows.kms_calls, rows.kms_rates, rows.sigv2, rows.tls, t.records
        )
    }

    #[test]
    fn a_record_is_attributed_once_and_reaches_every_table_it_belongs_to() {
        let t = fold(KMS, 0, 2);
        let rows = Rows::of(&t);
        assert_eq!(rows.kms_calls.len(), 1);
        assert_eq!(
            rows.kms_rates.len(),
            2,
            "account_region and principal scopes"
        );
        assert_eq!(rows.sigv2.len(), 1);
        assert_eq!(rows.tls.len(), 1);
        let s = rows.sigv2.iter().next().expect("a SigV2 row");
        assert_eq!(s.ua_family, Some("aws-cli"));
        assert_eq!(s.sigv4_min_version, Some("1.11.108"));
        assert_eq!(s.ua_kind, Some("cli"));
        assert!(
            s.upgrade_advice
                .is_some_and(|a| a.contains("botocore 1.4.46")),
            "{:?}",
            s.upgrade_advice
        );
        assert_eq!(t.records.attributed, 2);
        assert_eq!(
            (t.records.kms, t.records.sigv2, t.records.tls_legacy),
            (1, 1, 1)
        );
    }

    #[test]
    fn merge_and_state_round_trip_give_the_tables_of_one_fold() {
        let whole = fold(KMS, 0, 2);
        // Two workers, merged into tables whose interner has seen neither: every symbol is
        // re-mapped, and the rows come out as one fold's.
        let mut merged = Tables::new(300);
        merged.merge(fold(KMS, 1, 1));
        merged.merge(fold(KMS, 0, 1));
        assert_eq!(snapshot(&merged), snapshot(&whole));
        let restored = Tables::from_state(whole.state().expect("state")).expect("from_state");
        assert_eq!(snapshot(&restored), snapshot(&whole));
        // Merging a restored partial adds, it does not replace.
        let mut twice = Tables::from_state(whole.state().expect("state")).expect("from_state");
        twice.merge(fold(KMS, 0, 2));
        assert_eq!(twice.records.attributed, 4);
        let rows = Rows::of(&twice);
        let first = rows.kms_calls.iter().next().expect("a row");
        assert_eq!(first.tally.count, 2);
    }

    #[test]
    fn rows_sorted_on_ranks_come_in_the_order_of_their_strings() {
        // Strings interned in an order unlike their own, with null and empty ones: symbols'
        // order says nothing of the strings', the ranks do.
        let mut strings = Interner::default();
        let names = ["role/z", "", "role/a", "Role/m", "role/ab", "role/a0"];
        let syms: Vec<Sym> = names.iter().map(|n| strings.intern(n)).collect();
        let mut t: Tallies<kms_calls::Key> = Tallies::default();
        for (i, &p) in syms.iter().chain([&intern::NULL]).enumerate() {
            for (j, &k) in syms.iter().rev().enumerate() {
                let key = kms_calls::Key {
                    hour: 3600 * ((i + j) % 3) as i64,
                    account_id: p,
                    region: intern::NULL,
                    principal: k,
                    principal_type: intern::NULL,
                    event_name: p,
                    key_arn: k,
                    via_service: intern::NULL,
                    s3_bucket: intern::NULL,
                    bucket_key: [None, Some(true), Some(false)][j % 3],
                    error_code: intern::NULL,
                    caller_kind: CallerKind::Direct,
                    key_account_id: intern::NULL,
                };
                t.add(key, 7, (j % 2 == 0).then_some("i-0abc"), &mut strings);
            }
        }
        let resolved: Vec<_> = t.rows(&strings).iter().map(|r| (r.key, r.tally)).collect();
        let sorted = t.sorted(&strings, strings.ranks());
        let lazily: Vec<_> = sorted.iter().map(|r| (r.key, r.tally)).collect();
        assert_eq!(sorted.len(), 42);
        assert_eq!(lazily, resolved);
        let with_sessions = sorted.iter().filter(|r| r.session_count() == 1).count();
        assert_eq!(with_sessions, 21);
    }

    #[test]
    fn a_state_without_a_table_is_refused_by_name() {
        let mut state = fold(KMS, 0, 2).state().expect("state");
        state.tables.retain(|(name, _)| name != "kms_rates");
        let err = Tables::from_state(state).expect_err("refused");
        assert!(err.contains("kms_rates"), "{err}");
    }

    /// True when `word` stands in `line` as a whole identifier.
    fn names(line: &str, word: &str) -> bool {
        let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
        line.match_indices(word).any(|(i, _)| {
            !line[..i].chars().next_back().is_some_and(ident)
                && !line[i + word.len()..].chars().next().is_some_and(ident)
        })
    }

    #[test]
    fn every_column_is_documented_in_the_readme() {
        let readme = include_str!("../../README.md");
        for f in column_docs() {
            let row = format!("| `{}` |", f.file);
            let line = readme
                .lines()
                .find(|l| l.starts_with(&row))
                .unwrap_or_else(|| panic!("README's output table has no row for {}", f.file));
            for (name, doc) in f.columns {
                assert!(!doc.is_empty(), "{}.{name} has no doc", f.file);
                assert!(
                    names(line, name),
                    "README's row for {} does not name the column {name}",
                    f.file
                );
            }
        }
    }
}
