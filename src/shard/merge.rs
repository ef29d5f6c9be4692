//! The merge: the partials of every shard joined into what one run over the same inputs
//! would have counted, to the record.
//!
//! Joining the tables' states is a sum (tables::TableAccumulator). What a sum alone would
//! get wrong is deduplication (dedup): a shard drops the second copy of an event only when
//! it read both copies, and an organization trail and an account trail, a redelivery, or the
//! two accounts' copies of a cross-account call can be read by different shards.
//!
//! So each shard writes down, per object, the key of every record with a UUID eventID
//! (dedup::record_key), and the merge replays one run's deduplication over all of them:
//! the same delivery epochs in the same order, the same window (dedup::matches_in_window).
//! Alongside it replays each shard's own deduplication, which it can, since that used only
//! the shard's keys. Copies of one event are identical, so all that differs between the two
//! is how many copies of a key were counted: a key counted `n` more times by the shards than
//! by the replay was counted `n` times too often. (Never fewer: the copies one run counts
//! are the fewest that leave no two within a window, and each shard's are fewest for its
//! own copies, which together cover all of them.)
//!
//! - Ordinary records counted too often are taken out again (TableAccumulator::retract)
//!   and counted as duplicates. The merge needs the record for that, and the partial holds
//!   only its key: it reads one object holding a copy again (from the trail, checking the
//!   ETag the shard read). The plan keeps an hour's organization and account trail copies on
//!   one shard, so this is rare, and summary.json says how many objects it read
//!   (`shards.objects_read_again`).
//! - Key owners' copies of cross-account calls were held by the shards, undecided. The
//!   merge keeps one per copy one run would have set aside, in that run's epoch, and
//!   decides it as one run would (dedup::caller_near), against the callers' copies one run
//!   would have counted.
//!
//! Memory: every partial's keys (8 bytes per record), and per epoch the keys of the window,
//! once for the replay and once per shard, as one run's deduplication holds them.

use std::collections::{BTreeMap, VecDeque};

use anyhow::{Result, bail};
use rustc_hash::{FxHashMap, FxHashSet};

use super::ShardSpec;
use super::partial::Partial;
use crate::dedup::{self, DedupStats, DeferredRecord, caller_near, matches_in_window};
use crate::source::{ObjectRef, SkippedObjects};
use crate::tables::Tables;
use crate::totals::Totals;

/// One run's deduplication by eventID, replayed over keys: the epochs it keeps.
struct Window {
    hours: i64,
    recent: VecDeque<(Option<i64>, FxHashSet<u64>)>,
    current: Option<(Option<i64>, FxHashSet<u64>)>,
}

impl Window {
    fn new(hours: i64) -> Window {
        Window {
            hours,
            recent: VecDeque::new(),
            current: None,
        }
    }

    /// Opens epoch `hour` (in increasing order, `None` first), as dedup::Dedup::open does.
    fn open(&mut self, hour: Option<i64>) {
        if let Some(done) = self.current.take() {
            self.recent.push_back(done);
        }
        self.recent
            .retain(|(e, _)| matches_in_window(*e, hour, self.hours));
        self.current = Some((hour, FxHashSet::default()));
    }

    /// True when the key is counted: first in the epoch and in none kept from earlier.
    fn admit(&mut self, key: u64) -> bool {
        if self.recent.iter().any(|(_, s)| s.contains(&key)) {
            return false;
        }
        self.current.as_mut().is_some_and(|(_, s)| s.insert(key))
    }
}

/// What the merge did beyond joining (summary.json `shards`).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MergeStats {
    pub shards: u32,
    pub partials: Vec<String>,
    pub partial_bytes: u64,
    /// Events two or more shards counted, taken out again.
    pub cross_shard_duplicates: u64,
    /// Objects read again to take them out.
    pub objects_read_again: u64,
    /// The slowest shard's wall time, seconds.
    pub slowest_shard_seconds: f64,
}

/// Everything joined: what pipeline::Analysis is built from.
pub struct Merged {
    pub totals: Totals,
    pub listed: u64,
    pub skipped: SkippedObjects,
    pub dedup: DedupStats,
    pub stats: MergeStats,
}

/// Reads an object again for the merge and calls back with each of its records that passes
/// the filters (the caller folds those it needs).
pub trait ReadAgain {
    fn read_again(
        &mut self,
        object: &ObjectRef,
        each: &mut dyn FnMut(&crate::record::Record<'_>),
    ) -> Result<()>;
}

/// Refuses partials that one run could not have written together: from different commands
/// or plans, or a shard missing or repeated.
pub fn check(partials: &[(String, Partial)]) -> Result<()> {
    let Some((first_name, first)) = partials.first() else {
        bail!(
            "no partial to merge: name the partials, or the folder or s3:// prefix that holds them"
        );
    };
    let count = first.shard.count;
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    for (name, p) in partials {
        if p.run != first.run {
            bail!(
                "{name} and {first_name} were written by different commands ({}): merge the \
                 partials of one run",
                run_differences(&first.run, &p.run).join("; ")
            );
        }
        if p.shard.count != count {
            bail!(
                "{name} is shard {} but {first_name} is shard {}: merge the partials of one run",
                p.shard,
                first.shard
            );
        }
        if p.plan_id != first.plan_id {
            bail!(
                "{name} and {first_name} read different shard plans (plan {} and {}): the \
                 shards listed different objects. Write the plan once with `trailsift plan \
                 --out`, run every shard with `--plan`, then merge",
                p.plan_id,
                first.plan_id
            );
        }
        if let Some(other) = seen.insert(p.shard.index, name) {
            bail!(
                "shard {} is given twice ({other} and {name}): give each shard's partial once",
                p.shard
            );
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|i| !seen.contains_key(i))
        .map(|i| ShardSpec { index: i, count }.to_string())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} of {count} shards missing: {} (run them, or wait for them, then merge)",
            missing.len(),
            missing.join(", ")
        );
    }
    Ok(())
}

fn run_differences(a: &crate::resume::RunIdentity, b: &crate::resume::RunIdentity) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return vec!["(unreadable settings)".to_owned()];
    };
    a.iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, v)| {
            let other = b.get(k).map(ToString::to_string).unwrap_or_default();
            format!("{k}: {v} and {other}")
        })
        .collect()
}

/// One occurrence of a key: in shard `shard`'s object `object`.
struct Occurrence<'a> {
    shard: usize,
    object: &'a ObjectRef,
    keys: &'a [u64],
}

/// Joins checked partials (see [`check`]) into one run's totals.
pub fn merge(
    partials: Vec<(String, Partial)>,
    cache_max_age: i64,
    reader: &mut dyn ReadAgain,
) -> Result<Merged> {
    check(&partials)?;
    let mut partials = partials;
    partials.sort_by_key(|(_, p)| p.shard.index);
    let first = &partials[0].1;
    let window_hours = first.run.dedup_window_hours;
    let mut stats = MergeStats {
        shards: first.shard.count,
        ..MergeStats::default()
    };

    // The replay (module comment): every occurrence by epoch, None first.
    let mut by_epoch: BTreeMap<Option<i64>, Vec<Occurrence<'_>>> = BTreeMap::new();
    let mut callers: FxHashMap<u64, u64> = FxHashMap::default();
    let mut owners: FxHashMap<u64, &DeferredRecord> = FxHashMap::default();
    for (s, (_, p)) in partials.iter().enumerate() {
        for (i, log) in &p.occurrences {
            let Some(object) = p.objects.get(*i as usize) else {
                bail!(
                    "a partial of shard {} names an object it does not list",
                    p.shard
                );
            };
            by_epoch
                .entry(dedup::epoch_of(object.layout.delivered_at))
                .or_default()
                .push(Occurrence {
                    shard: s,
                    object,
                    keys: &log.keys,
                });
            callers.extend(log.callers.iter().copied());
        }
        for held in &p.held {
            if let Some(key) = held.key() {
                owners.entry(key).or_insert(held);
            }
        }
    }
    let mut replay = Window::new(window_hours);
    let mut shard_windows: Vec<Window> = (0..partials.len())
        .map(|_| Window::new(window_hours))
        .collect();
    // Key -> copies counted too often, and an object holding one.
    let mut extra: FxHashMap<u64, (i64, &ObjectRef)> = FxHashMap::default();
    let mut owner_copies: Vec<(Option<i64>, u64)> = Vec::new();
    let mut caller_copies: Vec<(Option<i64>, FxHashSet<u64>)> = Vec::new();
    for (&hour, occurrences) in &by_epoch {
        replay.open(hour);
        for w in &mut shard_windows {
            w.open(hour);
        }
        let mut callers_now = FxHashSet::default();
        for occ in occurrences {
            for &key in occ.keys {
                let by_shard = shard_windows[occ.shard].admit(key);
                let by_run = replay.admit(key);
                if by_shard != by_run {
                    let e = extra.entry(key).or_insert((0, occ.object));
                    e.0 += i64::from(by_shard) - i64::from(by_run);
                }
                if !by_run {
                    continue;
                }
                if owners.contains_key(&key) {
                    owner_copies.push((hour, key));
                } else if let Some(&shared) = callers.get(&key) {
                    callers_now.insert(shared);
                }
            }
        }
        caller_copies.push((hour, callers_now));
    }

    let mut totals = Totals::new(cache_max_age);
    let mut dedup_stats = DedupStats {
        window_hours,
        epochs: first.epochs,
        ..DedupStats::default()
    };
    let (listed, skipped) = (first.listed, first.skipped.clone());
    for (_, p) in &partials {
        stats.slowest_shard_seconds = stats.slowest_shard_seconds.max(p.wall_seconds);
        dedup_stats.peak_event_keys = dedup_stats.peak_event_keys.max(p.dedup.peak_event_keys);
        dedup_stats.peak_deferred = dedup_stats.peak_deferred.max(p.dedup.peak_deferred);
        dedup_stats.peak_bytes = dedup_stats.peak_bytes.max(p.dedup.peak_bytes);
    }
    stats.partials = partials.iter().map(|(n, _)| n.clone()).collect();

    // Ordinary records counted too often: read one copy again, take it out.
    let mut again: BTreeMap<&str, (&ObjectRef, FxHashMap<u64, u64>)> = BTreeMap::new();
    for (&key, &(n, object)) in &extra {
        if n < 0 {
            bail!(
                "the partials disagree with themselves (an event counted fewer times than one \
                 run would): a partial is damaged; run its shard again"
            );
        }
        if n == 0 {
            continue;
        }
        stats.cross_shard_duplicates += n as u64;
        if owners.contains_key(&key) {
            // Held, never counted by a shard: only its duplicates are counted.
            totals.tables.records.duplicate_event_id += n as u64;
            continue;
        }
        again
            .entry(object.key.as_str())
            .or_insert_with(|| (object, FxHashMap::default()))
            .1
            .insert(key, n as u64);
    }
    let mut copies = Tables::new(cache_max_age);
    for (_, (object, mut wanted)) in again {
        stats.objects_read_again += 1;
        reader.read_again(object, &mut |r| {
            let Some(id) = r.event_id.and_then(dedup::uuid_key) else {
                return;
            };
            if let Some(n) = wanted.remove(&dedup::record_key(id, r)) {
                for _ in 0..n {
                    copies.add(r);
                }
            }
        })?;
        if !wanted.is_empty() {
            bail!(
                "{} changed since its shard read it ({} of its events are gone): run the \
                 shards again",
                object.key,
                wanted.len()
            );
        }
    }

    // Key owners' copies, decided as one run decides them.
    let mut decided = Tables::new(cache_max_age);
    for (hour, key) in owner_copies {
        let Some(copy) = owners.get(&key) else {
            continue;
        };
        let shared = copy.shared();
        let seen = caller_copies
            .iter()
            .any(|(e, set)| caller_near(*e, hour, window_hours) && set.contains(&shared));
        if seen {
            decided.records.duplicate_cross_account += 1;
        } else {
            decided.add(&copy.as_record());
        }
    }

    for (_, p) in partials {
        let state = Totals::from_state(p.totals).map_err(|e| {
            anyhow::anyhow!(
                "the partial of shard {} is damaged ({e}): run it again",
                p.shard
            )
        })?;
        totals.merge(state);
    }
    totals.tables.retract(copies);
    totals.tables.merge(decided);
    totals.failures.sort();
    Ok(Merged {
        totals,
        listed,
        skipped,
        dedup: dedup_stats,
        stats,
    })
}
