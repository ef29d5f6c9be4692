//! Counting each event once, whatever delivered it.
//!
//! Two things make one call appear twice in a trail (docs/CLOUDTRAIL.md §1):
//!
//! - **Redelivery, or two trails**: the same record is delivered again, or an organization
//!   trail and an account trail both deliver it, with the same `eventID` (and, being
//!   the same record, the same `eventTime`, `eventName` and recipient account: all four must
//!   match, so records that merely reuse an id are not taken for copies).
//! - **Cross-account calls**: a call with a key of another account is logged in the caller's
//!   account and in the key owner's account, with the same `sharedEventID`. The caller's copy
//!   is the one that counts: the calling account is throttled and billed, and only its copy
//!   names the principal. The key owner's copy (recipient account ≠ caller's account) counts
//!   only when the caller's copy is not in the input.
//!
//! ## Design: delivery epochs
//!
//! Objects are read in *epochs*, one per delivery hour (from the file name), oldest first.
//! Within an epoch the rayon workers read objects in parallel and check every record's
//! `eventID` against a shared set (64 mutex-guarded shards, so workers rarely wait on each
//! other; an object's records are keyed first and each shard is locked once per object);
//! the first copy is counted, later ones are duplicates. Copies of one event are
//! identical, so which worker wins does not change any output. Between epochs the set is
//! frozen (read without locks) and kept for `window` more hours, then dropped.
//!
//! A key owner's copy is not counted when read: it is set aside (owned, with its strings)
//! and decided once every epoch that could hold its caller's copy has been read, that is,
//! `window` hours of delivery later. It is then counted, or dropped as a duplicate.
//!
//! [`Dedup`] owns all of it: the window of frozen sets, the copies set aside and its
//! statistics; it is what a `--state` checkpoint saves of deduplication. [`EpochView`] is
//! the part the workers of one epoch share, handed back to [`Dedup::close`].
//!
//! What is matched depends only on the files' delivery hours, never on thread timing, so
//! the outputs are identical whatever `--threads` is.
//!
//! ## Bound
//!
//! Two copies are counted once when their files were delivered at most `window` delivery
//! hours apart (default 1: always when less than an hour apart, sometimes up to two); further
//! apart, both are counted. Memory: one 8-byte key per record with a UUID eventID delivered in the last
//! `window + 1` hours (about 16-20 bytes with the hash table's slack), one per caller-side
//! cross-account record over `2 × window + 1` hours, and the key owners' copies of
//! cross-account calls set aside over `window + 1` hours (a few hundred bytes each). A false
//! match needs two different eventIDs with equal 64-bit keys: for n records in the window
//! the chance is about n² / 2⁶⁵ (5 × 10⁻⁵ for 42 million, a day of the seed story's
//! 500 million calls spread over two hours).
//!
//! Files without a delivery time in their name (single files named on the command line)
//! form one epoch of their own, read first, and are deduplicated among themselves.
//!
//! Every record that passed the filters is deduplicated, whatever its source: every output
//! (the KMS tables, the SigV2 and TLS to-do lists, summary.json's counts) counts events, and
//! an event delivered twice must not count twice. Only an `eventID` shaped like CloudTrail's
//! (a UUID) identifies an event: published samples reuse placeholders (`redacted`, `1`,
//! `...-EXAMPLE826c0`), and records with those are never taken for copies.
//! `summary.json` `deduplication.peak_bytes_held` states the memory the window held.

use std::collections::VecDeque;
use std::hash::Hasher;
use std::sync::{Arc, Mutex};

use rustc_hash::{FxHashSet, FxHasher};

use crate::record::encryption_context::mix64;
use crate::record::{Identity, Record, RequestFacts, S3EventData, TlsDetails};
use crate::time::SECONDS_PER_HOUR;

/// Delivery hours after which two copies of one event are no longer matched (default).
pub const DEFAULT_WINDOW_HOURS: i64 = 1;

const SHARDS: usize = 64;

/// The key that identifies one delivered record: its `eventID` ([`uuid_key`]), with the other fields this
/// tool reads mixed in (time, name, recipient account, error, agent, source IP, caller, key
/// and encryption context). CloudTrail redelivers a record unchanged, so its copies share
/// all of them; records that merely reuse an id (documentation examples, hand-made test
/// data) differ in one of them and are not taken for copies. Records that differ only in a
/// field this tool never reads count once: for its answers they are the same call.
pub fn record_key(id: u64, r: &Record<'_>) -> u64 {
    // FxHasher reads 8 bytes a step: the agent and ARNs cost a few ns, not one per byte.
    let mut h = FxHasher::default();
    for field in [
        Some(r.event_source),
        r.event_name,
        r.recipient_account_id,
        r.error_code,
        r.user_agent,
        r.source_ip,
        r.identity.arn,
        r.kms_key_arn,
    ] {
        match field {
            Some(text) => h.write(text.as_bytes()),
            None => h.write_u8(0xff),
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        h.write_u8(0);
    }
    h.write_u64(r.request.encryption_context_hash.unwrap_or(0));
    mix64(id ^ mix64(r.event_time as u64 ^ mix64(h.finish())))
}

/// A 64-bit key for an `eventID` or `sharedEventID` shaped like CloudTrail's (a UUID): its
/// 128 bits folded to 64 (they are random, so any 64 of them are as good). Anything else
/// (published samples reuse placeholders such as `redacted` or `1`, docs/CLOUDTRAIL.md §1)
/// identifies nothing and gives `None`.
pub fn uuid_key(id: &str) -> Option<u64> {
    let (hi, lo) = parse_uuid(id.as_bytes())?;
    Some(hi ^ lo)
}

/// Each byte's value as a hex digit; 0xff for a byte that is not one.
const HEX: [u8; 256] = {
    let mut t = [0xff_u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Where the 32 hex digits of `8-4-4-4-12` sit.
const DIGITS: [usize; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25, 26, 27, 28, 29,
    30, 31, 32, 33, 34, 35,
];

/// The UUID's 128 bits as (first 64, last 64). Every record of a run passes here, so the
/// digits go through a table with no branch per byte: a byte that is not a hex digit sets
/// the high bits of `bad`.
fn parse_uuid(b: &[u8]) -> Option<(u64, u64)> {
    let b: &[u8; 36] = b.try_into().ok()?;
    if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let (mut hi, mut lo, mut bad) = (0u64, 0u64, 0u8);
    for &at in &DIGITS[..16] {
        let d = HEX[usize::from(b[at])];
        bad |= d;
        hi = (hi << 4) | u64::from(d & 0xf);
    }
    for &at in &DIGITS[16..] {
        let d = HEX[usize::from(b[at])];
        bad |= d;
        lo = (lo << 4) | u64::from(d & 0xf);
    }
    (bad < 16).then_some((hi, lo))
}

/// A set of keys written by many workers at once: shards behind their own mutex, chosen by
/// the key's top bits. Each shard has a cache line of its own: two workers locking
/// neighbouring shards would otherwise pass one line back and forth.
struct ShardedSet {
    shards: Box<[Shard]>,
}

#[repr(align(64))]
#[derive(Default)]
struct Shard(Mutex<FxHashSet<u64>>);

fn shard_of(key: u64) -> usize {
    (key >> 58) as usize % SHARDS
}

impl ShardedSet {
    fn new() -> ShardedSet {
        ShardedSet {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
        }
    }

    fn lock(&self, shard: usize) -> std::sync::MutexGuard<'_, FxHashSet<u64>> {
        self.shards[shard]
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// True when the key was not there yet.
    fn insert(&self, key: u64) -> bool {
        self.lock(shard_of(key)).insert(key)
    }

    fn freeze(&self) -> FrozenSet {
        FrozenSet {
            shards: (0..SHARDS)
                .map(|s| std::mem::take(&mut *self.lock(s)))
                .collect(),
        }
    }
}

/// A finished epoch's keys, read without locks.
#[derive(serde::Serialize, serde::Deserialize)]
struct FrozenSet {
    shards: Vec<FxHashSet<u64>>,
}

impl FrozenSet {
    fn contains(&self, key: u64) -> bool {
        self.shards[shard_of(key)].contains(&key)
    }

    fn len(&self) -> usize {
        self.shards.iter().map(FxHashSet::len).sum()
    }

    /// Bytes the set's tables hold: 8 per slot plus hashbrown's control byte, slots being
    /// the capacity grown to a power of two (7/8 load).
    fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.capacity().div_ceil(7) * 8 * 9)
            .sum()
    }
}

/// What to do with a KMS record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// First copy: count it.
    New,
    /// Same `eventID` as a record already counted.
    Duplicate,
    /// The key owner's copy of a cross-account call: set it aside until its caller's copy
    /// can no longer appear.
    OwnerCopy { shared: u64 },
}

/// What a shard writes down of one object's records for the merge (shard::merge): the key
/// ([`record_key`]) of every record with a UUID eventID that passed the filters, in the
/// order read, and for the callers' copies of cross-account calls, their `sharedEventID`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OccurrenceLog {
    pub keys: Vec<u64>,
    /// (key, sharedEventID key) of the callers' copies.
    pub callers: Vec<(u64, u64)>,
}

/// What the workers of one epoch share.
pub struct EpochView {
    hour: Option<i64>,
    events: ShardedSet,
    callers: ShardedSet,
    /// Frozen `eventID` sets of the earlier epochs still inside the window.
    earlier_events: Vec<Arc<FrozenSet>>,
    /// Key owners' copies read in this epoch, set aside until their window is read.
    set_aside: Mutex<Vec<DeferredRecord>>,
}

impl std::fmt::Debug for EpochView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpochView")
            .field("hour", &self.hour)
            .finish_non_exhaustive()
    }
}

impl EpochView {
    /// Decides a record's fate (see the module comment). Only an id shaped like a real
    /// eventID (a UUID) can make two records one: records without one are always new, as
    /// are cross-account copies whose `sharedEventID` is not a UUID.
    pub fn admit(&self, r: &Record<'_>) -> Admission {
        self.admit_all(&[r], None)[0]
    }

    /// [`EpochView::admit`] for one object's records at once, writing down in `log` (a
    /// shard's run: see shard::merge) the key of every record with a UUID eventID,
    /// duplicates included, and the `sharedEventID` of the callers' copies: what the merge
    /// needs to take the same decisions over all shards as one run would. Returns each
    /// record's admission, in order.
    ///
    /// The keys are looked up shard by shard, each shard locked once per object instead of
    /// once per record (the lock was most of deduplication's cost: an atomic exchange per
    /// record on a line the other worker also writes). Within a shard the keys keep the
    /// records' order, so the first of two copies in one object is the one counted, as
    /// when they are admitted one by one.
    pub fn admit_all(
        &self,
        records: &[&Record<'_>],
        mut log: Option<&mut OccurrenceLog>,
    ) -> Vec<Admission> {
        let mut decided = vec![Admission::New; records.len()];
        let mut keyed = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            let Some(id) = r.event_id.and_then(uuid_key) else {
                continue;
            };
            let key = record_key(id, r);
            if let Some(log) = log.as_deref_mut() {
                log.keys.push(key);
            }
            keyed.push((key, i));
        }
        // A counting sort by shard, stable: each shard's keys in the records' order.
        let mut starts = [0usize; SHARDS + 1];
        for &(key, _) in &keyed {
            starts[shard_of(key) + 1] += 1;
        }
        for s in 0..SHARDS {
            starts[s + 1] += starts[s];
        }
        let mut by_shard = vec![(0u64, 0usize); keyed.len()];
        let mut next = starts;
        for &(key, i) in &keyed {
            let s = shard_of(key);
            by_shard[next[s]] = (key, i);
            next[s] += 1;
        }
        // The key of each record counted so far that may be a caller's copy.
        let mut first_copies = vec![None; records.len()];
        for s in 0..SHARDS {
            let run = &by_shard[starts[s]..starts[s + 1]];
            if run.is_empty() {
                continue;
            }
            let mut events = self.events.lock(s);
            for &(key, i) in run {
                if self
                    .earlier_events
                    .iter()
                    .any(|e| e.shards[s].contains(&key))
                    || !events.insert(key)
                {
                    decided[i] = Admission::Duplicate;
                } else {
                    first_copies[i] = Some(key);
                }
            }
        }
        for ((r, key), decision) in records.iter().zip(first_copies).zip(&mut decided) {
            let (Some(key), Some(shared)) = (key, r.shared_event_id.and_then(uuid_key)) else {
                continue;
            };
            match (r.recipient_account_id, r.identity.account_id) {
                (Some(recipient), Some(caller)) if recipient != caller => {
                    *decision = Admission::OwnerCopy { shared };
                }
                _ => {
                    self.callers.insert(shared);
                    if let Some(log) = log.as_deref_mut() {
                        log.callers.push((key, shared));
                    }
                }
            }
        }
        decided
    }

    pub fn hour(&self) -> Option<i64> {
        self.hour
    }

    /// Keeps a key owner's copy (an [`Admission::OwnerCopy`]) until it can be decided.
    pub fn set_aside(&self, r: &Record<'_>, shared: u64) {
        let copy = DeferredRecord::new(r, shared, self.hour);
        self.set_aside
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(copy);
    }
}

/// A key owner's copy of a cross-account call, owned so it can outlive its object's buffer:
/// its strings in one buffer, each field a range of it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DeferredRecord {
    epoch_hour: Option<i64>,
    shared: u64,
    event_time: i64,
    odd_fields: u32,
    encryption_context_hash: Option<u64>,
    read_only: Option<bool>,
    text: String,
    /// (start, end) in `text`; `NONE` for a null field.
    fields: Vec<(u32, u32)>,
}

const STRING_FIELDS: usize = 36;
const NONE: (u32, u32) = (u32::MAX, u32::MAX);

impl DeferredRecord {
    /// The delivery hour of the epoch that read this copy.
    pub fn epoch_hour(&self) -> Option<i64> {
        self.epoch_hour
    }

    /// The `sharedEventID` key that pairs it with its caller's copy.
    pub fn shared(&self) -> u64 {
        self.shared
    }

    /// Its [`record_key`] (a held copy always has a UUID eventID).
    pub fn key(&self) -> Option<u64> {
        let r = self.as_record();
        Some(record_key(r.event_id.and_then(uuid_key)?, &r))
    }

    /// Bytes this copy holds (its strings, their ranges and the fixed fields).
    fn bytes(&self) -> usize {
        std::mem::size_of::<DeferredRecord>() + self.text.capacity()
    }

    pub fn new(r: &Record<'_>, shared: u64, epoch_hour: Option<i64>) -> DeferredRecord {
        // Every field of Record, in the order `as_record` reads them back. A field added to
        // Record fails to compile here until it is carried over.
        let Record {
            event_time,
            event_source,
            event_name,
            aws_region,
            recipient_account_id,
            source_ip,
            user_agent,
            error_code,
            event_id,
            shared_event_id,
            event_category,
            event_type,
            read_only,
            vpc_endpoint_id,
            vpc_endpoint_account_id,
            custom_key_store_id,
            identity:
                Identity {
                    kind,
                    arn,
                    account_id,
                    invoked_by,
                    session_issuer_arn,
                    principal_id,
                    access_key_id,
                    on_behalf_of_user_id,
                    identity_store_arn,
                },
            request:
                RequestFacts {
                    bucket_name,
                    key_id,
                    s3_arn,
                    cloudtrail_arn,
                    encryption_context_hash,
                    key_algorithm,
                    server_side_encryption,
                },
            s3:
                S3EventData {
                    signature_version,
                    authentication_method,
                    cipher_suite: s3_cipher_suite,
                },
            tls:
                TlsDetails {
                    version: tls_version,
                    cipher_suite: tls_cipher_suite,
                },
            kms_key_arn,
            response_server_side_encryption,
            odd_fields,
        } = *r;
        let values: [Option<&str>; STRING_FIELDS] = [
            Some(event_source),
            event_name,
            aws_region,
            recipient_account_id,
            source_ip,
            user_agent,
            error_code,
            event_id,
            shared_event_id,
            event_category,
            kind,
            arn,
            account_id,
            invoked_by,
            session_issuer_arn,
            bucket_name,
            key_id,
            s3_arn,
            cloudtrail_arn,
            signature_version,
            authentication_method,
            s3_cipher_suite,
            tls_version,
            tls_cipher_suite,
            kms_key_arn,
            event_type,
            vpc_endpoint_id,
            vpc_endpoint_account_id,
            custom_key_store_id,
            principal_id,
            access_key_id,
            on_behalf_of_user_id,
            identity_store_arn,
            key_algorithm,
            server_side_encryption,
            response_server_side_encryption,
        ];
        let mut text = String::with_capacity(values.iter().flatten().map(|v| v.len()).sum());
        let mut fields = vec![NONE; STRING_FIELDS];
        for (field, value) in fields.iter_mut().zip(values) {
            if let Some(v) = value {
                // A record is one JSON file's slice, far below 4 GiB.
                let start = text.len() as u32;
                text.push_str(v);
                *field = (start, text.len() as u32);
            }
        }
        DeferredRecord {
            epoch_hour,
            shared,
            event_time,
            odd_fields,
            encryption_context_hash,
            read_only,
            text,
            fields,
        }
    }

    /// The record again, borrowing from this copy.
    pub fn as_record(&self) -> Record<'_> {
        let s = |i: usize| {
            let (start, end) = self.fields.get(i).copied().unwrap_or(NONE);
            (start != u32::MAX).then(|| &self.text[start as usize..end as usize])
        };
        Record {
            event_time: self.event_time,
            event_source: s(0).unwrap_or_default(),
            event_name: s(1),
            aws_region: s(2),
            recipient_account_id: s(3),
            source_ip: s(4),
            user_agent: s(5),
            error_code: s(6),
            event_id: s(7),
            shared_event_id: s(8),
            event_category: s(9),
            event_type: s(25),
            read_only: self.read_only,
            vpc_endpoint_id: s(26),
            vpc_endpoint_account_id: s(27),
            custom_key_store_id: s(28),
            identity: Identity {
                kind: s(10),
                arn: s(11),
                account_id: s(12),
                invoked_by: s(13),
                session_issuer_arn: s(14),
                principal_id: s(29),
                access_key_id: s(30),
                on_behalf_of_user_id: s(31),
                identity_store_arn: s(32),
            },
            request: RequestFacts {
                bucket_name: s(15),
                key_id: s(16),
                s3_arn: s(17),
                cloudtrail_arn: s(18),
                encryption_context_hash: self.encryption_context_hash,
                key_algorithm: s(33),
                server_side_encryption: s(34),
            },
            s3: S3EventData {
                signature_version: s(19),
                authentication_method: s(20),
                cipher_suite: s(21),
            },
            tls: TlsDetails {
                version: s(22),
                cipher_suite: s(23),
            },
            kms_key_arn: s(24),
            response_server_side_encryption: s(35),
            odd_fields: self.odd_fields,
        }
    }
}

/// What deduplication did in a run (summary.json, report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DedupStats {
    pub window_hours: i64,
    pub epochs: u64,
    /// Largest number of `eventID` keys held at once.
    pub peak_event_keys: u64,
    /// Largest number of key owners' copies set aside at once.
    pub peak_deferred: u64,
    /// Largest memory deduplication held at once: the id sets of the window and the copies
    /// set aside, in bytes (summary.json `deduplication.peak_bytes_held`).
    pub peak_bytes: u64,
}

/// The run-level side: opens and closes epochs, drops what left the window, and decides the
/// key owners' copies set aside.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Dedup {
    window_hours: i64,
    frozen_events: VecDeque<(Option<i64>, Arc<FrozenSet>)>,
    frozen_callers: VecDeque<(Option<i64>, FrozenSet)>,
    /// Key owners' copies set aside, not decided yet.
    deferred: Vec<DeferredRecord>,
    stats: DedupStats,
    /// A shard's run: the copies set aside are never decided here but handed to the merge
    /// ([`Dedup::take_held`]), since their callers' copies may be in another shard.
    #[serde(default)]
    hold_owner_copies: bool,
}

/// Where a decided key owner's copy goes.
pub trait DeferredSink {
    /// The caller's copy was not seen: count this copy.
    fn count(&mut self, record: &Record<'_>);
    /// The caller's copy was seen: this one is a duplicate.
    fn drop_duplicate(&mut self);
}

impl Dedup {
    pub fn new(window_hours: i64) -> Dedup {
        let window_hours = window_hours.max(0);
        Dedup {
            window_hours,
            frozen_events: VecDeque::new(),
            frozen_callers: VecDeque::new(),
            deferred: Vec::new(),
            stats: DedupStats {
                window_hours,
                ..DedupStats::default()
            },
            hold_owner_copies: false,
        }
    }

    /// Deduplication for one shard of a sharded run: key owners' copies are held for the
    /// merge, never decided.
    pub fn for_shard(window_hours: i64) -> Dedup {
        Dedup {
            hold_owner_copies: true,
            ..Dedup::new(window_hours)
        }
    }

    /// The key owners' copies held for the merge (a shard's run), leaving none.
    pub fn take_held(&mut self) -> Vec<DeferredRecord> {
        std::mem::take(&mut self.deferred)
    }

    pub fn stats(&self) -> DedupStats {
        self.stats
    }

    /// Opens the epoch of delivery hour `hour` (epoch seconds, or `None` for files without a
    /// delivery time). Epochs must be opened in increasing order, `None` first. Decides the
    /// set-aside copies that can no longer meet their caller's copy, and drops keys that can
    /// no longer match anything.
    pub fn open(&mut self, hour: Option<i64>, sink: &mut impl DeferredSink) -> Arc<EpochView> {
        let w = self.window_hours * SECONDS_PER_HOUR;
        // A copy set aside in epoch e can meet callers of epochs up to e + w. A shard's run
        // holds every copy for the merge, which alone sees all the callers.
        if !self.hold_owner_copies {
            self.decide(sink, |e| match (e, hour) {
                (None, Some(_)) => true,
                (Some(e), Some(h)) => e + w < h,
                _ => false,
            });
        }
        // A record of epoch h is matched against eventIDs of epochs h - w ..= h.
        self.frozen_events
            .retain(|(e, _)| matches_in_window(*e, hour, self.window_hours));
        // Copies still set aside (epoch >= h - w) need callers from epoch >= h - 2w.
        self.frozen_callers.retain(|(e, _)| match (e, hour) {
            (None, Some(_)) => false,
            (Some(e), Some(h)) => *e >= h - 2 * w,
            _ => true,
        });
        self.stats.epochs += 1;
        Arc::new(EpochView {
            hour,
            events: ShardedSet::new(),
            callers: ShardedSet::new(),
            earlier_events: self
                .frozen_events
                .iter()
                .map(|(_, s)| Arc::clone(s))
                .collect(),
            set_aside: Mutex::new(Vec::new()),
        })
    }

    /// Closes an epoch once every object of it was read, taking the copies it set aside.
    pub fn close(&mut self, view: &EpochView) {
        self.deferred.append(
            &mut view
                .set_aside
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let deferred_now = self.deferred.len();
        let events = view.events.freeze();
        let callers = view.callers.freeze();
        self.frozen_events
            .push_back((view.hour(), Arc::new(events)));
        self.frozen_callers.push_back((view.hour(), callers));
        let held: usize = self.frozen_events.iter().map(|(_, s)| s.len()).sum();
        self.stats.peak_event_keys = self.stats.peak_event_keys.max(held as u64);
        let bytes = self
            .frozen_events
            .iter()
            .map(|(_, s)| s.bytes())
            .sum::<usize>()
            + self
                .frozen_callers
                .iter()
                .map(|(_, s)| s.bytes())
                .sum::<usize>()
            + self
                .deferred
                .iter()
                .map(DeferredRecord::bytes)
                .sum::<usize>();
        self.stats.peak_bytes = self.stats.peak_bytes.max(bytes as u64);
        self.stats.peak_deferred = self.stats.peak_deferred.max(deferred_now as u64);
    }

    /// Decides every copy still set aside (end of the run).
    pub fn finish(&mut self, sink: &mut impl DeferredSink) {
        if !self.hold_owner_copies {
            self.decide(sink, |_| true);
        }
        self.frozen_events.clear();
        self.frozen_callers.clear();
    }

    /// Copies set aside and not decided yet.
    pub fn deferred(&self) -> usize {
        self.deferred.len()
    }

    fn decide(&mut self, sink: &mut impl DeferredSink, ready: impl Fn(Option<i64>) -> bool) {
        let mut keep = Vec::new();
        for d in std::mem::take(&mut self.deferred) {
            if !ready(d.epoch_hour) {
                keep.push(d);
                continue;
            }
            let near = |e: &Option<i64>| caller_near(*e, d.epoch_hour, self.window_hours);
            let caller_seen = self
                .frozen_callers
                .iter()
                .any(|(e, s)| near(e) && s.contains(d.shared));
            if caller_seen {
                sink.drop_duplicate();
            } else {
                sink.count(&d.as_record());
            }
        }
        self.deferred = keep;
    }
}

/// Whether a record of epoch `hour` is matched against the eventIDs kept from epoch
/// `earlier` (`window_hours` apart at most; the epoch without a delivery time only with
/// itself). One rule for a run and for the merge of a sharded one (shard::merge).
pub fn matches_in_window(earlier: Option<i64>, hour: Option<i64>, window_hours: i64) -> bool {
    match (earlier, hour) {
        (None, Some(_)) => false,
        (Some(e), Some(h)) => e >= h - window_hours * SECONDS_PER_HOUR,
        _ => true,
    }
}

/// Whether a caller's copy read in epoch `caller` can be the other half of a key owner's
/// copy read in epoch `owner`.
pub fn caller_near(caller: Option<i64>, owner: Option<i64>, window_hours: i64) -> bool {
    match (caller, owner) {
        (Some(e), Some(h)) => (e - h).abs() <= window_hours * SECONDS_PER_HOUR,
        (None, None) => true,
        _ => false,
    }
}

/// The delivery hour that decides an object's epoch.
pub fn epoch_of(delivered_at: Option<i64>) -> Option<i64> {
    delivered_at.map(crate::time::hour_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(
        id: &'a str,
        shared: Option<&'a str>,
        recipient: &'a str,
        caller: &'a str,
    ) -> Record<'a> {
        Record {
            event_time: 1_772_323_200,
            event_source: "kms.amazonaws.com",
            event_name: Some("Decrypt"),
            event_id: Some(id),
            shared_event_id: shared,
            recipient_account_id: Some(recipient),
            identity: Identity {
                account_id: Some(caller),
                ..Identity::default()
            },
            ..Record::default()
        }
    }

    #[derive(Default)]
    struct Tally {
        counted: Vec<String>,
        dropped: usize,
    }

    impl DeferredSink for Tally {
        fn count(&mut self, r: &Record<'_>) {
            self.counted.push(r.event_id.unwrap_or_default().to_owned());
        }
        fn drop_duplicate(&mut self) {
            self.dropped += 1;
        }
    }

    const A: &str = "0f000000-0000-4000-8000-000000000001";
    const B: &str = "0f000000-0000-4000-8000-000000000002";
    const S: &str = "5b6c7d8e-0000-4f00-a000-0000000000aa";

    #[test]
    fn only_uuid_shaped_ids_identify_an_event() {
        assert_ne!(uuid_key(A), uuid_key(B));
        assert_eq!(uuid_key(A), uuid_key(&A.to_uppercase()));
        for placeholder in [
            "redacted",
            "1",
            "",
            "EXAMPLE8-0000-4000-8000-000000000001",
            "0f000000-0000-4000-8000-00000000000g",
            "0f000000-0000-4000-8000+000000000001",
            "0f0000000-000-4000-8000-000000000001",
        ] {
            assert_eq!(uuid_key(placeholder), None, "{placeholder}");
        }
        // The 128 bits folded: the first 64 xor the last 64.
        assert_eq!(uuid_key("00000000-0000-0000-0000-000000000001"), Some(1));
        assert_eq!(
            uuid_key("ffffffff-ffff-fffF-0000-0000000000a0"),
            Some(u64::MAX ^ 0xa0)
        );
    }

    #[test]
    fn records_with_placeholder_ids_are_never_duplicates() {
        let mut dedup = Dedup::new(1);
        let e = dedup.open(Some(0), &mut Tally::default());
        let r = record("redacted", None, "1", "1");
        assert_eq!(e.admit(&r), Admission::New);
        assert_eq!(e.admit(&r), Admission::New);
        // A placeholder sharedEventID makes no owner's copy either.
        let owner = record(A, Some("redacted"), "2", "1");
        assert_eq!(e.admit(&owner), Admission::New);
    }

    #[test]
    fn a_reused_event_id_on_another_event_is_not_a_copy() {
        let mut dedup = Dedup::new(1);
        let e = dedup.open(Some(0), &mut Tally::default());
        let first = record(A, None, "1", "1");
        let mut later = first;
        later.event_time += 60;
        let mut other_name = first;
        other_name.event_name = Some("Encrypt");
        assert_eq!(e.admit(&first), Admission::New);
        assert_eq!(e.admit(&later), Admission::New);
        assert_eq!(e.admit(&other_name), Admission::New);
        assert_eq!(e.admit(&first), Admission::Duplicate);
    }

    #[test]
    fn same_event_id_is_a_duplicate_within_the_window_only() {
        let h = 1_772_323_200;
        let mut dedup = Dedup::new(1);
        let mut sink = Tally::default();
        let e0 = dedup.open(Some(h), &mut sink);
        assert_eq!(e0.admit(&record(A, None, "1", "1")), Admission::New);
        assert_eq!(e0.admit(&record(A, None, "1", "1")), Admission::Duplicate);
        dedup.close(&e0);
        let e1 = dedup.open(Some(h + 3600), &mut sink);
        assert_eq!(e1.admit(&record(A, None, "1", "1")), Admission::Duplicate);
        dedup.close(&e1);
        // Three delivery hours later the first copy is forgotten: counted again.
        let e3 = dedup.open(Some(h + 3 * 3600), &mut sink);
        assert_eq!(e3.admit(&record(A, None, "1", "1")), Admission::New);
    }

    #[test]
    fn owner_copy_is_dropped_when_the_callers_copy_is_near_and_counted_otherwise() {
        let h = 1_772_323_200;
        let mut dedup = Dedup::new(1);
        let mut sink = Tally::default();
        let e0 = dedup.open(Some(h), &mut sink);
        // Owner's copy first (account 2 holds the key, account 1 called).
        match e0.admit(&record(A, Some(S), "2", "1")) {
            Admission::OwnerCopy { shared } => e0.set_aside(&record(A, Some(S), "2", "1"), shared),
            other => panic!("{other:?}"),
        }
        // An owner's copy whose caller never shows up.
        let lonely = "5b6c7d8e-0000-4f00-a000-0000000000bb";
        match e0.admit(&record(B, Some(lonely), "2", "1")) {
            Admission::OwnerCopy { shared } => {
                e0.set_aside(&record(B, Some(lonely), "2", "1"), shared)
            }
            other => panic!("{other:?}"),
        }
        dedup.close(&e0);
        // The caller's copy, delivered in the next hour.
        let e1 = dedup.open(Some(h + 3600), &mut sink);
        assert_eq!(
            dedup.deferred(),
            2,
            "not decided while the caller's copy may come"
        );
        let caller = "0f000000-0000-4000-8000-000000000003";
        assert_eq!(e1.admit(&record(caller, Some(S), "1", "1")), Admission::New);
        dedup.close(&e1);
        dedup.finish(&mut sink);
        assert_eq!(sink.dropped, 1);
        assert_eq!(sink.counted, vec![B.to_owned()]);
        assert_eq!(dedup.deferred(), 0);
    }

    /// One object's records admitted at once get the decisions, and write the log, that
    /// admitting them one by one does: copies within the object and from the hour before,
    /// placeholders, an owner's copy and a caller's copy, across many shards.
    #[test]
    fn an_object_admitted_at_once_is_decided_as_record_by_record() {
        let h = 1_772_323_200;
        let ids: Vec<String> = (0..200)
            .map(|n| format!("{:08x}-0000-4000-8000-{:012x}", n * 0x0123_4567_u64, n))
            .collect();
        let mut object: Vec<Record<'_>> = Vec::new();
        for (n, id) in ids.iter().enumerate() {
            object.push(record(id, None, "1", "1"));
            if n % 7 == 0 {
                object.push(record(id, None, "1", "1"));
            }
        }
        object.push(record("redacted", None, "1", "1"));
        object.push(record("redacted", None, "1", "1"));
        object.push(record(A, Some(S), "2", "1"));
        object.push(record(B, Some(S), "1", "1"));
        object.push(record(B, Some(S), "1", "1"));
        let refs: Vec<&Record<'_>> = object.iter().collect();
        let earlier = record(&ids[3], None, "1", "1");

        let run = |at_once: bool| {
            let mut dedup = Dedup::new(1);
            let mut sink = Tally::default();
            let e0 = dedup.open(Some(h), &mut sink);
            e0.admit(&earlier);
            dedup.close(&e0);
            let e1 = dedup.open(Some(h + 3600), &mut sink);
            let mut log = OccurrenceLog::default();
            let decided = if at_once {
                e1.admit_all(&refs, Some(&mut log))
            } else {
                refs.iter()
                    .map(|r| e1.admit_all(&[r], Some(&mut log))[0])
                    .collect()
            };
            (decided, log)
        };
        let (at_once, log_at_once) = run(true);
        let (one_by_one, log_one_by_one) = run(false);
        assert_eq!(at_once, one_by_one);
        assert_eq!(log_at_once, log_one_by_one);
        let duplicates = at_once
            .iter()
            .filter(|a| **a == Admission::Duplicate)
            .count();
        // 29 second copies in the object, the id read the hour before, and B's second copy.
        assert_eq!(duplicates, 29 + 1 + 1);
        assert!(matches!(
            at_once[at_once.len() - 3],
            Admission::OwnerCopy { .. }
        ));
        assert_eq!(log_at_once.callers.len(), 1);
        assert_eq!(log_at_once.keys.len(), 200 + 29 + 3);
    }

    #[test]
    fn a_deferred_record_reads_back_as_it_was() {
        let mut r = record(A, Some(S), "2", "1");
        r.user_agent = Some("aws-sdk-go-v2/1.24.0 <script>\"");
        r.request.encryption_context_hash = Some(42);
        r.tls.version = Some("TLSv1.1");
        r.request.server_side_encryption = Some("aws:kms:dsse");
        r.response_server_side_encryption = Some("aws:kms");
        let d = DeferredRecord::new(&r, uuid_key(S).expect("uuid"), None);
        assert_eq!(format!("{:?}", d.as_record()), format!("{r:?}"));
    }
}
