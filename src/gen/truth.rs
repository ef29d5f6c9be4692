//! The planted answers: the per-worker counters that apply the attribution rules (rules) to
//! every written record and become [`Truth`].

use std::collections::{BTreeMap, HashMap};

use super::clients::{Sig, Tls};
use super::events::{Facts, Source};
use super::rules::{SYMMETRIC_OPS, is_legacy_tls};
use super::time::{HOUR, iso};
use super::{KmsPeak, Truth, World};

// ------------------------------------------------------------------------------------------
// Truth accumulation
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct HourPeak {
    calls: u64,
    peak: u64,
    second: i64,
}

impl HourPeak {
    /// Highest peak wins; on a tie, the earliest second.
    fn merge(&mut self, other: HourPeak) {
        self.calls += other.calls;
        if other.peak > self.peak || (other.peak == self.peak && other.second < self.second) {
            self.peak = other.peak;
            self.second = other.second;
        }
    }
}

/// Per-worker counters, keyed by pool ids; merged by sums and maxima, so the result does not
/// depend on how windows were spread over threads.
#[derive(Default)]
pub(super) struct Acc {
    records: u64,
    pub(super) log_objects: u64,
    kms: u64,
    s3: u64,
    s3_data: u64,
    sigv2: u64,
    tls_legacy: u64,
    kms_calls: HashMap<(u16, &'static str), u64>,
    kms_throttled: HashMap<u16, u64>,
    sigv2_by: HashMap<(u16, u16), u64>,
    tls_by: HashMap<(u16, &'static str), u64>,
    bucket_kms: HashMap<u16, u64>,
    /// (stream, hour start) -> symmetric calls and peak.
    peaks: HashMap<(usize, i64), HourPeak>,
}

fn add<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u64>, key: K, n: u64) {
    *map.entry(key).or_default() += n;
}

impl Acc {
    /// Applies the attribution rules to one record; true if it counts toward KMS rates.
    pub(super) fn observe(&mut self, f: &Facts) -> bool {
        self.records += 1;
        let mut symmetric = false;
        match f.source {
            Source::Kms => {
                self.kms += 1;
                add(&mut self.kms_calls, (f.principal, f.name), 1);
                if f.throttled {
                    add(&mut self.kms_throttled, f.principal, 1);
                }
                if let Some(bucket) = f.s3_arn_bucket {
                    add(&mut self.bucket_kms, bucket, 1);
                }
                symmetric = SYMMETRIC_OPS.contains(&f.name);
            }
            Source::S3 => {
                self.s3 += 1;
                self.s3_data += u64::from(f.data);
                if let (Some(Sig::V2), Some(ua)) = (f.sig, f.ua) {
                    self.sigv2 += 1;
                    add(&mut self.sigv2_by, (f.principal, ua), 1);
                }
            }
            Source::Other => {}
        }
        if let Some(tls) = f.tls.map(Tls::version).filter(|v| is_legacy_tls(v)) {
            self.tls_legacy += 1;
            add(&mut self.tls_by, (f.principal, tls), 1);
        }
        symmetric
    }

    pub(super) fn add_window_peak(&mut self, s: usize, start: i64, per_second: &[u32]) {
        let calls: u64 = per_second.iter().map(|&c| u64::from(c)).sum();
        if calls == 0 {
            return;
        }
        let (mut best, mut at) = (0u32, 0usize);
        for (i, &c) in per_second.iter().enumerate() {
            if c > best {
                (best, at) = (c, i);
            }
        }
        let peak = HourPeak {
            calls,
            peak: u64::from(best),
            second: start + at as i64,
        };
        let hour = start.div_euclid(HOUR) * HOUR;
        match self.peaks.get_mut(&(s, hour)) {
            Some(p) => p.merge(peak),
            None => {
                self.peaks.insert((s, hour), peak);
            }
        }
    }

    pub(super) fn merge(&mut self, other: Acc) {
        self.records += other.records;
        self.log_objects += other.log_objects;
        self.kms += other.kms;
        self.s3 += other.s3;
        self.s3_data += other.s3_data;
        self.sigv2 += other.sigv2;
        self.tls_legacy += other.tls_legacy;
        for (k, n) in other.kms_calls {
            add(&mut self.kms_calls, k, n);
        }
        for (k, n) in other.kms_throttled {
            add(&mut self.kms_throttled, k, n);
        }
        for (k, n) in other.sigv2_by {
            add(&mut self.sigv2_by, k, n);
        }
        for (k, n) in other.tls_by {
            add(&mut self.tls_by, k, n);
        }
        for (k, n) in other.bucket_kms {
            add(&mut self.bucket_kms, k, n);
        }
        for (k, p) in other.peaks {
            match self.peaks.get_mut(&k) {
                Some(mine) => mine.merge(p),
                None => {
                    self.peaks.insert(k, p);
                }
            }
        }
    }

    pub(super) fn into_truth(self, world: &World, digest_objects: u64) -> Truth {
        let pool = &world.pool;
        let name = |id: u16| pool.principals[id as usize].clone();
        let nest = |map: &mut BTreeMap<String, BTreeMap<String, u64>>, p: u16, k: &str, n: u64| {
            *map.entry(name(p))
                .or_default()
                .entry(k.to_string())
                .or_default() += n;
        };
        let mut truth = Truth {
            records_total: self.records,
            log_objects: self.log_objects,
            digest_objects,
            kms_records: self.kms,
            s3_records: self.s3,
            s3_data_records: self.s3_data,
            sigv2_records: self.sigv2,
            tls_legacy_records: self.tls_legacy,
            ..Truth::default()
        };
        for ((p, op), n) in self.kms_calls {
            nest(&mut truth.kms_calls, p, op, n);
        }
        for (p, n) in self.kms_throttled {
            *truth.kms_throttled.entry(name(p)).or_default() += n;
        }
        for ((p, ua), n) in self.sigv2_by {
            nest(&mut truth.sigv2, p, &pool.uas[ua as usize].text, n);
        }
        for ((p, v), n) in self.tls_by {
            nest(&mut truth.tls_legacy, p, v, n);
        }
        for (b, n) in self.bucket_kms {
            *truth
                .s3_bucket_kms_calls
                .entry(pool.buckets[b as usize].clone())
                .or_default() += n;
        }
        let mut peaks = BTreeMap::new();
        for ((s, hour), p) in self.peaks {
            let stream = &world.streams[s];
            let acct = world.accounts[stream.account].id.clone();
            let key = (iso(hour), acct.clone(), stream.region.to_string());
            peaks.insert(
                key,
                KmsPeak {
                    hour: iso(hour),
                    account_id: acct,
                    region: stream.region.to_string(),
                    calls: p.calls,
                    peak_rps: p.peak,
                    peak_second: iso(p.second),
                },
            );
        }
        truth.kms_peaks = peaks.into_values().collect();
        truth
    }
}
