//! `kms_bucket_keys.parquet`: KMS calls S3 made for one principal on one bucket, and what an
//! S3 Bucket Key would save; derived from `kms_calls`, plus the buckets S3 data events show
//! written with DSSE-KMS ([`DsseBuckets`], the one accumulator of this module).
//!
//! DSSE-KMS buckets get no advice and no estimate: "S3 Bucket Keys aren't supported for
//! DSSE-KMS" (S3 User Guide, "Using dual-layer server-side encryption with AWS KMS keys
//! (DSSE-KMS)", https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingDSSEncryption.html).
//! The KMS record S3 makes for a DSSE-KMS object is not documented to differ from an SSE-KMS
//! one (the same `aws:s3:arn` context), so the KMS record cannot tell; the S3 data event of
//! the write can (attribute::kms::is_dsse_kms). A bucket with at least one write logged with
//! DSSE-KMS in the run is `dsse_kms`: its object-ARN calls may be DSSE-KMS objects', which no
//! Bucket Key would relieve, so none is counted as saved. Without S3 data events in the
//! input (they are off by default), a DSSE-KMS bucket cannot be told from an SSE-KMS one.
//!
//! The estimate: with an S3 Bucket Key, S3 asks KMS for a bucket-level key and reuses it for
//! a limited time for the same requester, instead of one data key per object. S3 keeps one
//! per distinct requester: the S3 user guide ("Reducing the cost of SSE-KMS with Amazon S3
//! Bucket Keys", https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html) says
//! a Bucket Key is shared only by requests of the same requester, and a role assumed in
//! another session (or with another session policy) is another requester. So each distinct
//! session of the principal (tables::sessions) is counted as a requester; a principal
//! without sessions (an IAM user) is one. AWS does not publish the key's lifetime; this
//! assumes at most an hour, so each requester still makes one call per (hour, key,
//! operation) in which it calls at all. Both choices over-count what remains, so the
//! savings are a lower bound (AWS quotes "up to 99%").

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use super::columns::{self, Column};
use super::intern::{Interner, Sym};
use super::kms_calls;
use super::projection::Projection;
use super::sessions::Sessions;
use super::{Common, TableAccumulator};
use crate::attribute::Attribution;
use crate::attribute::kms::CallerKind;

pub const FILE: &str = "kms_bucket_keys.parquet";

type Text<'a> = Option<&'a str>;

/// Buckets seen written with DSSE-KMS (S3 data events), by name: bucket names are unique.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DsseBuckets {
    pub buckets: FxHashSet<Sym>,
}

impl TableAccumulator for DsseBuckets {
    const NAME: &'static str = "kms_bucket_keys_dsse";

    fn add(&mut self, a: &Attribution<'_>, _: &Common, strings: &mut Interner) {
        if let Some(bucket) = a.dsse_bucket {
            self.buckets.insert(strings.intern(bucket));
        }
    }

    fn merge(&mut self, other: Self, table: &[Sym]) {
        self.buckets
            .extend(other.buckets.into_iter().map(|b| table[b as usize]));
    }

    /// A set: a second copy added nothing to take out.
    fn retract(&mut self, _: Self, _: &[Sym]) {}
}

impl DsseBuckets {
    /// The buckets' names.
    pub fn names<'a>(&self, strings: &'a Interner) -> BTreeSet<&'a str> {
        self.buckets
            .iter()
            .filter_map(|&b| strings.resolve(b))
            .collect()
    }
}

/// One row: a principal's SSE-KMS calls on one bucket.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub account_id: Text<'a>,
    pub region: Text<'a>,
    pub s3_bucket: &'a str,
    pub principal: Text<'a>,
    /// Calls whose context is an object ARN: one data key per object, no Bucket Key.
    pub object_arn_calls: u64,
    /// Calls whose context is the bucket ARN: served by a Bucket Key.
    pub bucket_arn_calls: u64,
    /// Of the object-ARN calls, what would remain with a Bucket Key: one per requester
    /// (session) and (hour, key, operation) in which it made any.
    pub calls_with_bucket_key: u64,
    pub bucket_status: BucketStatus,
    /// Distinct sessions of the principal on this bucket (the requesters), and one of them.
    pub sessions: u64,
    pub example_session: Text<'a>,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl Row<'_> {
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
    /// Written with DSSE-KMS: S3 Bucket Keys are not supported, nothing to do or estimate.
    DsseKms,
}

impl BucketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BucketStatus::Off => "bucket_key_off",
            BucketStatus::OnWithOlderObjects => "bucket_key_on_older_objects",
            BucketStatus::On => "bucket_key_on",
            BucketStatus::DsseKms => "dsse_kms",
        }
    }

    pub fn advice(self) -> &'static str {
        match self {
            BucketStatus::Off => "enable an S3 Bucket Key, then re-copy the objects read often",
            BucketStatus::OnWithOlderObjects => {
                "Bucket Key on: re-copy the objects written before it (S3 Batch Operations copy)"
            }
            BucketStatus::On => "Bucket Key on",
            BucketStatus::DsseKms => "DSSE-KMS: S3 Bucket Keys are not supported",
        }
    }
}

/// The rows, most saved calls first; `dsse` are the buckets written with DSSE-KMS.
///
/// `calls` come in file order, by hour first: a group keeps the (key, operation) slots of
/// the hour it is in, and adds what a Bucket Key would leave of them when the next hour
/// begins. Holding every hour's slots to the end was the run's largest heap item on a
/// month of an organization trail (50 MB of 54, heaptrack; BENCHMARKS.md).
pub fn rows<'a>(
    calls: impl IntoIterator<Item = kms_calls::Row<'a>>,
    strings: &'a Interner,
    dsse: &BTreeSet<&str>,
) -> Vec<Row<'a>> {
    type Group<'a> = (Text<'a>, Text<'a>, &'a str, Text<'a>);
    /// One requester call per (hour, key, operation) slot, at most its calls.
    fn left_with_key(slots: &mut BTreeMap<(Text<'_>, Text<'_>), (u64, Sessions)>) -> u64 {
        let left = slots
            .values()
            .map(|(calls, sessions)| sessions.count().clamp(1, *calls))
            .sum();
        slots.clear();
        left
    }
    struct Acc<'a> {
        object: u64,
        bucket: u64,
        /// The object-ARN calls' slots of hour `hour`, per (key, operation): their calls
        /// and the sessions that made them.
        hour: i64,
        slots: BTreeMap<(Text<'a>, Text<'a>), (u64, Sessions)>,
        /// What a Bucket Key would leave of the hours before `hour`.
        with_key: u64,
        sessions: Sessions,
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
                hour: r.hour,
                slots: BTreeMap::new(),
                with_key: 0,
                sessions: Sessions::default(),
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
            if r.hour != g.hour {
                debug_assert!(r.hour > g.hour, "kms_calls rows out of hour order");
                g.with_key += left_with_key(&mut g.slots);
                g.hour = r.hour;
            }
            let slot = g.slots.entry((r.key_arn, r.event_name)).or_default();
            slot.0 += r.tally.count;
            if let Some(sessions) = &r.sessions {
                slot.1.union(sessions);
            }
            seen.1 = true;
        }
        if let Some(sessions) = &r.sessions {
            g.sessions.union(sessions);
        }
    }
    let mut rows: Vec<Row<'a>> = groups
        .into_iter()
        .map(|((account_id, region, s3_bucket, principal), mut g)| {
            let bucket_status = match buckets.get(s3_bucket) {
                _ if dsse.contains(s3_bucket) => BucketStatus::DsseKms,
                Some((true, true)) => BucketStatus::OnWithOlderObjects,
                Some((true, false)) => BucketStatus::On,
                _ => BucketStatus::Off,
            };
            // No Bucket Key for DSSE-KMS: every object-ARN call would remain.
            let calls_with_bucket_key = if bucket_status == BucketStatus::DsseKms {
                g.object
            } else {
                g.with_key + left_with_key(&mut g.slots)
            };
            Row {
                account_id,
                region,
                s3_bucket,
                principal,
                object_arn_calls: g.object,
                bucket_arn_calls: g.bucket,
                calls_with_bucket_key,
                bucket_status,
                sessions: g.sessions.count(),
                example_session: g.sessions.example(strings),
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

/// A row with what the file says of it.
pub(super) struct Out<'r, 'a> {
    row: &'r Row<'a>,
    projection: Option<Projection>,
}

pub(super) fn columns<'r, 'a: 'r>() -> Vec<Column<'r, Out<'r, 'a>>> {
    let c = columns::of::<Out<'r, 'a>>();
    vec![
        c.text("account_id", "The account", |o| o.row.account_id),
        c.text("region", "The region", |o| o.row.region),
        c.text("s3_bucket", "The bucket", |o| Some(o.row.s3_bucket)),
        c.text("principal", "The principal S3 called KMS for", |o| {
            o.row.principal
        }),
        c.text(
            "bucket_status",
            "bucket_key_off, bucket_key_on_older_objects, bucket_key_on or dsse_kms",
            |o| Some(o.row.bucket_status.as_str()),
        ),
        c.int(
            "object_arn_calls",
            "Calls with an object ARN context (no Bucket Key)",
            |o| o.row.object_arn_calls as i64,
        ),
        c.int(
            "bucket_arn_calls",
            "Calls with the bucket ARN context (Bucket Key on)",
            |o| o.row.bucket_arn_calls as i64,
        ),
        c.int(
            "est_calls_with_bucket_key",
            "What would remain: one per requester (session) per hour, key and operation \
             (dsse_kms: all of them)",
            |o| o.row.calls_with_bucket_key as i64,
        ),
        c.int(
            "est_saved_calls",
            "object_arn_calls - est_calls_with_bucket_key",
            |o| o.row.saved_calls() as i64,
        ),
        c.float(
            "est_saved_usd_per_month",
            "What the saved calls cost a month, projected",
            |o| {
                o.projection
                    .map(|p| p.usd(p.per_month(o.row.saved_calls())))
            },
        ),
        c.timestamp("first_seen", "Earliest call", |o| o.row.first_seen),
        c.timestamp("last_seen", "Latest call", |o| o.row.last_seen),
        c.int(
            "sessions",
            "Distinct sessions (requesters) of the principal on the bucket, 0 without sessions",
            |o| o.row.sessions as i64,
        ),
        c.text("example_session", "One of those sessions by name", |o| {
            o.row.example_session
        }),
    ]
}

pub fn write(dir: &Path, rows: &[Row<'_>], projection: Option<Projection>) -> anyhow::Result<()> {
    let out: Vec<Out<'_, '_>> = rows.iter().map(|row| Out { row, projection }).collect();
    columns::write(&dir.join(FILE), &columns(), &out)
}
