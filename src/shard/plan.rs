//! The shard plan: which shard reads which object.
//!
//! Decided from what the listing knows (key, size, ETag), so that every shard, listing the
//! same inputs, computes the same plan without talking to the others; or written once by
//! `trailsift plan` and read by every shard (`--plan`), which also spares the bucket N
//! listings and keeps shards that start hours apart on one list of objects.
//!
//! Balanced by bytes, not by count: one account can be most of an organization trail.
//! Objects are grouped into *units* of one account, region and delivery hour, across trails:
//! an organization trail and an account trail deliver the same events into such a unit, and
//! redeliveries land in it or the next hour, so keeping a unit on one shard lets that shard
//! drop the copies itself and spares the merge from reading them again (merge). A unit larger
//! than a shard's fair share is split into its objects. Units then go, largest first, to the
//! shard with the fewest bytes so far (ties to the lowest index): the classic
//! longest-processing-time rule, within 4/3 of the best possible largest shard.
//!
//! Whatever the assignment, the merge is exact: the plan decides only how much work the
//! merge has, never the answer.

use std::collections::BTreeMap;
use std::hash::Hasher;

use anyhow::{Result, bail};
use rustc_hash::FxHasher;
use serde::{Deserialize, Serialize};

use crate::config::AnalyzeConfig;
use crate::dedup::epoch_of;
use crate::source::{Listing, ObjectRef, SkippedObjects};
use crate::time::format_rfc3339;

/// First line of what a plan file holds, so that another JSON file is refused by name.
/// 1: the first layout. 2: an object's location no longer repeats its path or S3 key
/// (source::Location).
pub const FORMAT: &str = "trailsift shard plan 2";

/// Compressed trail bytes one core reads per second, for the predicted times: measured on
/// the generated 1M-record trail, 351 MB of gzip read in 3.8 to 4.2 s on 2 threads, 42 to
/// 46 MB/s per core (BENCHMARKS.md, "Shards and the merge"); the lower figure, so that the
/// prediction errs long. Real trails with longer records read more bytes per second.
pub const COMPRESSED_BYTES_PER_SECOND_PER_CORE: f64 = 42.0e6;

/// What decides the listing, hence the plan: a shard given a plan made for other inputs or
/// filters is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInputs {
    pub inputs: Vec<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub delivery_allowance: i64,
}

impl PlanInputs {
    pub fn of(cfg: &AnalyzeConfig) -> PlanInputs {
        PlanInputs {
            inputs: cfg.inputs.clone(),
            start: cfg.filter.start.map(format_rfc3339),
            end: cfg.filter.end.map(format_rfc3339),
            accounts: cfg.filter.accounts.clone(),
            regions: cfg.filter.regions.clone(),
            delivery_allowance: cfg.delivery_allowance,
        }
    }
}

/// One object and the shard that reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedObject {
    pub shard: u32,
    #[serde(flatten)]
    pub object: ObjectRef,
}

/// One shard's share, for sizing N.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardLoad {
    pub shard: u32,
    pub objects: u64,
    pub bytes: u64,
    /// At [`COMPRESSED_BYTES_PER_SECOND_PER_CORE`] on `threads_per_shard` cores.
    pub predicted_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format: String,
    pub trailsift_version: String,
    pub inputs: PlanInputs,
    pub shards: u32,
    /// Cores each shard has, for the predicted times.
    pub threads_per_shard: u32,
    /// What the listing found and skipped (the same for every shard).
    pub listed: u64,
    pub skipped: SkippedObjects,
    pub loads: Vec<ShardLoad>,
    pub objects: Vec<PlannedObject>,
}

impl Plan {
    /// Shares `listing`'s objects among `shards` shards. The objects move into the plan: a
    /// copy of each held the listing twice (a month of an organization trail is 691,000
    /// objects).
    pub fn make(inputs: PlanInputs, listing: Listing, shards: u32, threads: u32) -> Plan {
        let shards = shards.max(1);
        let assignment = assign(&listing.objects, shards);
        let objects: Vec<PlannedObject> = listing
            .objects
            .into_iter()
            .zip(assignment)
            .map(|(object, shard)| PlannedObject { shard, object })
            .collect();
        let mut plan = Plan {
            format: FORMAT.to_owned(),
            trailsift_version: env!("CARGO_PKG_VERSION").to_owned(),
            inputs,
            shards,
            threads_per_shard: threads.max(1),
            listed: listing.listed,
            skipped: listing.skipped,
            loads: Vec::new(),
            objects,
        };
        plan.loads = plan.compute_loads();
        plan
    }

    fn compute_loads(&self) -> Vec<ShardLoad> {
        let rate = COMPRESSED_BYTES_PER_SECOND_PER_CORE * f64::from(self.threads_per_shard);
        (0..self.shards)
            .map(|shard| {
                let mine = self.objects.iter().filter(|o| o.shard == shard);
                let (objects, bytes) = mine.fold((0, 0), |(n, b), o| (n + 1, b + o.object.size));
                ShardLoad {
                    shard,
                    objects,
                    bytes,
                    predicted_seconds: bytes as f64 / rate,
                }
            })
            .collect()
    }

    /// Reads a plan file (JSON), refusing one that is not a plan or is inconsistent.
    pub fn from_json(bytes: &[u8], source: &str) -> Result<Plan> {
        // The format first: another version's objects need not decode as this one's.
        #[derive(Deserialize)]
        struct Format {
            format: String,
        }
        let not_a_plan = |e| anyhow::anyhow!("{source} is not a trailsift shard plan ({e})");
        let format: Format = serde_json::from_slice(bytes).map_err(not_a_plan)?;
        if format.format != FORMAT {
            bail!(
                "{source} is a '{}', not a '{FORMAT}': write it again with this trailsift's `plan`",
                format.format
            );
        }
        let plan: Plan = serde_json::from_slice(bytes).map_err(not_a_plan)?;
        if let Some(o) = plan.objects.iter().find(|o| o.shard >= plan.shards) {
            bail!(
                "{source}: {} is planned for shard {}, but the plan has {} shards",
                o.object.key,
                o.shard,
                plan.shards
            );
        }
        Ok(plan)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// What identifies the plan: its inputs, shard count, listing and assignment. Partials
    /// of shards that read different plans (the bucket changed between their listings, a
    /// plan edited between runs) are refused by the merge.
    pub fn id(&self) -> String {
        let mut h = FxHasher::default();
        let text = serde_json::to_vec(&(
            &self.inputs,
            self.shards,
            self.listed,
            &self.skipped,
            &self.objects,
        ))
        .unwrap_or_default();
        h.write(&text);
        format!("{:016x}", h.finish())
    }

    /// The objects shard `index` reads, in listing order.
    pub fn objects_of(&self, index: u32) -> Vec<ObjectRef> {
        self.objects
            .iter()
            .filter(|o| o.shard == index)
            .map(|o| o.object.clone())
            .collect()
    }

    /// Delivery hours among all the planned objects: the epochs one run would open.
    pub fn epochs(&self) -> u64 {
        let mut hours: Vec<Option<i64>> = self
            .objects
            .iter()
            .map(|o| epoch_of(o.object.layout.delivered_at))
            .collect();
        hours.sort_unstable();
        hours.dedup();
        hours.len() as u64
    }

    /// The plan as a table, for `trailsift plan` on a terminal.
    pub fn render(&self) -> String {
        let total: u64 = self.loads.iter().map(|l| l.bytes).sum();
        let longest = self
            .loads
            .iter()
            .map(|l| l.predicted_seconds)
            .fold(0.0, f64::max);
        let mut out = format!(
            "{} objects, {} of gzip, in {} shards ({} cores each; predicted at {:.0} MB/s of gzip per core)\n\n",
            self.objects.len(),
            human_bytes(total),
            self.shards,
            self.threads_per_shard,
            COMPRESSED_BYTES_PER_SECOND_PER_CORE / 1e6
        );
        out.push_str(" shard   objects        bytes   predicted\n");
        for l in &self.loads {
            out.push_str(&format!(
                "{:>6} {:>9} {:>12} {:>10.1}s\n",
                l.shard,
                l.objects,
                human_bytes(l.bytes),
                l.predicted_seconds
            ));
        }
        out.push_str(&format!(
            "\nThe slowest shard should take about {longest:.1} s, plus start-up; the merge \
             reads the partials, and again only objects whose copies two shards both read.\n"
        ));
        out
    }
}

fn human_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.2} GiB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// A unit of objects kept together (the module comment).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Unit<'a> {
    /// Account, region and delivery hour.
    Hour(Option<&'a str>, Option<&'a str>, i64),
    /// An object whose name tells no delivery hour: its own unit.
    Alone(&'a str),
}

/// Each object's shard (the module comment).
pub fn assign(objects: &[ObjectRef], shards: u32) -> Vec<u32> {
    let mut units: BTreeMap<Unit<'_>, Vec<usize>> = BTreeMap::new();
    for (i, o) in objects.iter().enumerate() {
        let unit = match epoch_of(o.layout.delivered_at) {
            Some(hour) => Unit::Hour(o.layout.account_id(), o.layout.region(), hour),
            None => Unit::Alone(&o.key),
        };
        units.entry(unit).or_default().push(i);
    }
    let total: u64 = objects.iter().map(|o| o.size).sum();
    let fair = total.div_ceil(u64::from(shards));
    // (bytes, first object index, objects): split units above a fair share.
    let mut items: Vec<(u64, usize, Vec<usize>)> = Vec::new();
    for members in units.into_values() {
        let bytes: u64 = members.iter().map(|&i| objects[i].size).sum();
        if bytes > fair && members.len() > 1 {
            items.extend(members.into_iter().map(|i| (objects[i].size, i, vec![i])));
        } else {
            items.push((bytes, members[0], members));
        }
    }
    items.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut load = vec![0u64; shards as usize];
    let mut out = vec![0u32; objects.len()];
    for (bytes, _, members) in items {
        let (shard, _) = load
            .iter()
            .enumerate()
            .min_by_key(|(i, l)| (**l, *i))
            .unwrap_or((0, &0));
        load[shard] += bytes;
        for i in members {
            out[i] = shard as u32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Location;
    use crate::source::layout::classify;

    fn object(key: &str, size: u64) -> ObjectRef {
        ObjectRef {
            key: key.to_owned(),
            location: Location::File,
            layout: classify(key).1,
            size,
            etag: "e".into(),
        }
    }

    /// A log file's key; `dir` is `AWSLogs/` for an account trail, `AWSLogs/o-.../` for an
    /// organization trail.
    fn log(dir: &str, account: &str, hhmm: &str, n: u32) -> String {
        format!(
            "{dir}{account}/CloudTrail/us-east-1/2026/03/01/{account}_CloudTrail_us-east-1_20260301T{hhmm}Z_{n:016}.json.gz"
        )
    }

    #[test]
    fn shards_are_balanced_by_bytes_and_trail_pairs_stay_together() {
        // One big account (8 objects of 100) and two small ones (1 of 100 each), each hour
        // delivered by an organization trail and an account trail.
        let mut objects = Vec::new();
        for h in ["0005", "0105", "0205", "0305"] {
            for dir in ["AWSLogs/", "org/AWSLogs/o-abc/"] {
                objects.push(object(&log(dir, "111111111111", h, 1), 100));
            }
        }
        objects.push(object(&log("AWSLogs/", "222222222222", "0005", 1), 100));
        objects.push(object(&log("AWSLogs/", "333333333333", "0005", 1), 100));
        let shards = assign(&objects, 3);
        let mut bytes = [0u64; 3];
        for (o, s) in objects.iter().zip(&shards) {
            bytes[*s as usize] += o.size;
        }
        // 1,000 bytes in units of 200 (the pairs) and 100: no shard above 400.
        assert!(bytes.iter().all(|&b| b <= 400), "{bytes:?}");
        assert_eq!(bytes.iter().sum::<u64>(), 1000);
        for pair in shards[..8].chunks(2) {
            assert_eq!(
                pair[0], pair[1],
                "an hour's org and account copies together"
            );
        }
        // The same listing gives the same plan.
        assert_eq!(assign(&objects, 3), shards);
    }

    #[test]
    fn a_unit_larger_than_a_fair_share_is_split() {
        let objects: Vec<_> = (0..4)
            .map(|n| object(&log("AWSLogs/", "111111111111", "0005", n), 100))
            .collect();
        let mut shards = assign(&objects, 4);
        shards.sort_unstable();
        assert_eq!(shards, [0, 1, 2, 3]);
    }

    #[test]
    fn a_plan_reads_back_and_knows_its_id() {
        let listing = Listing {
            listed: 3,
            objects: vec![
                object(&log("AWSLogs/", "111111111111", "0005", 1), 10),
                object(&log("AWSLogs/", "111111111111", "0105", 1), 20),
            ],
            skipped: SkippedObjects {
                digest: 1,
                ..SkippedObjects::default()
            },
            days: Vec::new(),
        };
        let inputs = PlanInputs {
            inputs: vec!["trail".to_owned()],
            start: None,
            end: None,
            accounts: vec![],
            regions: vec![],
            delivery_allowance: 3600,
        };
        let plan = Plan::make(inputs, listing, 2, 2);
        let back = Plan::from_json(&plan.to_json(), "plan.json").expect("reads back");
        assert_eq!(back, plan);
        assert_eq!(back.id(), plan.id());
        assert_eq!(plan.epochs(), 2);
        assert_eq!(
            plan.objects_of(0).len() + plan.objects_of(1).len(),
            2,
            "every object in one shard"
        );
        let mut edited = plan.clone();
        edited.objects[0].shard = 1 - edited.objects[0].shard;
        assert_ne!(edited.id(), plan.id());
        let err = Plan::from_json(b"{\"x\":1}", "x.json").expect_err("not a plan");
        assert!(
            err.to_string().contains("not a trailsift shard plan"),
            "{err}"
        );
    }
}
