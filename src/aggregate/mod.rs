//! Accumulators: what a worker folds its records into, and the merge that joins workers.
//!
//! Every accumulator is a sum, a min/max or a per-second count, so merging is commutative
//! and associative: the same merge serves rayon workers, shards and (later) resumed runs,
//! and the result does not depend on the order objects were read in.

pub mod caching;
pub mod dedup;
pub mod intern;
pub mod rates;

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::attribute::sigv2::Evidence;
use crate::attribute::{kms, principal, sigv2, sigv4, tls, user_agent};
use crate::record::{Malformed, Record};
use crate::time::hour_of;
use caching::{CachingKey, DataKeyCaching};
use dedup::{Admission, DeferredRecord, EpochView};
use intern::{Interner, NULL, Sym};
use rates::SecondCounts;

/// Calls (or requests) of one group, and when they happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    pub count: u64,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl Tally {
    fn at(t: i64) -> Tally {
        Tally {
            count: 1,
            first_seen: t,
            last_seen: t,
        }
    }

    fn add(&mut self, t: i64) {
        self.count += 1;
        self.first_seen = self.first_seen.min(t);
        self.last_seen = self.last_seen.max(t);
    }

    fn merge(&mut self, o: Tally) {
        self.count += o.count;
        self.first_seen = self.first_seen.min(o.first_seen);
        self.last_seen = self.last_seen.max(o.last_seen);
    }
}

fn tally<K: std::hash::Hash + Eq>(map: &mut FxHashMap<K, Tally>, key: K, t: i64) {
    map.entry(key)
        .and_modify(|tally| tally.add(t))
        .or_insert_with(|| Tally::at(t));
}

/// Declares a key struct of interned fields plus a `remap` that moves it to another interner.
macro_rules! interned_key {
    ($(#[$doc:meta])* $name:ident { $($field:ident),* $(; $($plain:ident : $ty:ty),*)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            pub hour: i64,
            $(pub $field: Sym,)*
            $($(pub $plain: $ty,)*)?
        }
        impl $name {
            fn remap(self, table: &[Sym]) -> Self {
                $name {
                    hour: self.hour,
                    $($field: table[self.$field as usize],)*
                    $($($plain: self.$plain,)*)?
                }
            }
        }
    };
}

interned_key!(
    /// One row of `kms_calls.parquet`.
    KmsCallKey { account_id, region, principal, principal_type, event_name, key_arn, via_service, s3_bucket, error_code; bucket_key: Option<bool>, caller_kind: kms::CallerKind }
);
interned_key!(
    /// One row of `kms_rates.parquet`; `principal == NULL` is the account-and-region scope.
    RateKey { account_id, region, principal }
);
interned_key!(
    /// One row of `sigv2_requests.parquet`.
    SigV2Key { account_id, region, principal, principal_type, user_agent, ua_family, ua_version, event_name, bucket, source_ip, auth_method; evidence: Evidence }
);
interned_key!(
    /// One row of `tls_legacy.parquet`.
    TlsKey { account_id, region, event_source, principal, principal_type, user_agent, ua_family, ua_version, tls_version, cipher_suite, source_ip }
);

/// Which records the user asked for (`--start`, `--end`, `--account`, `--region`).
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    pub start: Option<i64>,
    /// Exclusive.
    pub end: Option<i64>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

/// Why a readable record was left out of the answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    OutsideTimeRange,
    OtherAccount,
    OtherRegion,
}

impl RecordFilter {
    fn check(&self, r: &Record<'_>, account: Option<&str>) -> Result<(), SkipReason> {
        if self.start.is_some_and(|s| r.event_time < s)
            || self.end.is_some_and(|e| r.event_time >= e)
        {
            return Err(SkipReason::OutsideTimeRange);
        }
        if !self.accounts.is_empty()
            && !account.is_some_and(|a| self.accounts.iter().any(|x| x == a))
        {
            return Err(SkipReason::OtherAccount);
        }
        if !self.regions.is_empty()
            && !r
                .aws_region
                .is_some_and(|g| self.regions.iter().any(|x| x == g))
        {
            return Err(SkipReason::OtherRegion);
        }
        Ok(())
    }
}

/// How many records went where. Reconciles:
/// `total == attributed + skipped_* + malformed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordCounts {
    pub total: u64,
    pub attributed: u64,
    pub skipped_outside_time_range: u64,
    pub skipped_other_account: u64,
    pub skipped_other_region: u64,
    /// Indexed by `Malformed as usize`.
    pub malformed: [u64; 4],
    pub kms: u64,
    pub kms_symmetric: u64,
    pub s3: u64,
    pub s3_data: u64,
    /// SigV2 requests, observed and inferred: the sum of `sigv2_requests.requests`.
    pub sigv2: u64,
    /// The part of `sigv2` inferred from the client's version (no `SignatureVersion`).
    pub sigv2_inferred: u64,
    /// S3 records from before S3 logged `SignatureVersion`: their SigV2 can only be inferred.
    pub s3_before_signature_logging: u64,
    pub tls_legacy: u64,
    /// Fields read as unknown because their JSON type was unexpected.
    pub odd_fields: u64,
    /// KMS records not counted because they repeat one already counted (aggregate::dedup):
    /// same `eventID`, or the key owner's copy of a cross-account call.
    pub duplicate_event_id: u64,
    pub duplicate_cross_account: u64,
    /// Earliest and latest `eventTime` of the attributed records.
    pub first_event: Option<i64>,
    pub last_event: Option<i64>,
}

impl RecordCounts {
    pub fn malformed_total(&self) -> u64 {
        self.malformed.iter().sum()
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped_outside_time_range
            + self.skipped_other_account
            + self.skipped_other_region
            + self.duplicates()
    }

    pub fn duplicates(&self) -> u64 {
        self.duplicate_event_id + self.duplicate_cross_account
    }

    fn merge(&mut self, o: &RecordCounts) {
        self.total += o.total;
        self.attributed += o.attributed;
        self.skipped_outside_time_range += o.skipped_outside_time_range;
        self.skipped_other_account += o.skipped_other_account;
        self.skipped_other_region += o.skipped_other_region;
        for (mine, theirs) in self.malformed.iter_mut().zip(o.malformed) {
            *mine += theirs;
        }
        self.kms += o.kms;
        self.kms_symmetric += o.kms_symmetric;
        self.s3 += o.s3;
        self.s3_data += o.s3_data;
        self.sigv2 += o.sigv2;
        self.sigv2_inferred += o.sigv2_inferred;
        self.s3_before_signature_logging += o.s3_before_signature_logging;
        self.tls_legacy += o.tls_legacy;
        self.odd_fields += o.odd_fields;
        self.duplicate_event_id += o.duplicate_event_id;
        self.duplicate_cross_account += o.duplicate_cross_account;
        self.first_event = min_opt(self.first_event, o.first_event);
        self.last_event = self.last_event.max(o.last_event);
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A user agent's parsed client, cached per distinct agent string.
#[derive(Debug, Clone, Copy)]
struct ClientSyms {
    family: Sym,
    version: Sym,
    /// The client cannot sign S3 requests with SigV4 (`sigv4::below_sigv4_minimum`).
    below_sigv4_minimum: bool,
}

impl ClientSyms {
    const NONE: ClientSyms = ClientSyms {
        family: NULL,
        version: NULL,
        below_sigv4_minimum: false,
    };
}

/// Everything one worker (or a whole run, after merging) has learned. Serialized whole into
/// the `--state` file, less the per-epoch view and the caches.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Accumulators {
    pub strings: Interner,
    pub records: RecordCounts,
    pub kms_calls: FxHashMap<KmsCallKey, Tally>,
    pub kms_rates: FxHashMap<RateKey, SecondCounts>,
    pub sigv2: FxHashMap<SigV2Key, Tally>,
    pub tls: FxHashMap<TlsKey, Tally>,
    /// Direct data key requests per key and encryption context (aggregate::caching).
    pub caching: DataKeyCaching,
    /// Key owners' copies of cross-account calls, decided later (aggregate::dedup).
    pub deferred: Vec<DeferredRecord>,
    /// The current delivery epoch's duplicate detection; none: every record counts.
    #[serde(skip)]
    pub epoch: Option<Arc<EpochView>>,
    #[serde(skip)]
    clients: FxHashMap<Sym, ClientSyms>,
    #[serde(skip)]
    principal_buf: String,
}

impl Accumulators {
    pub fn count_malformed(&mut self, why: Malformed) {
        self.records.total += 1;
        self.records.malformed[why as usize] += 1;
    }

    /// Folds one record into the answers. The hot path: no allocation unless a string is new.
    pub fn add(&mut self, r: &Record<'_>, filter: &RecordFilter) {
        self.records.total += 1;
        self.records.odd_fields += u64::from(r.odd_fields);
        let account = principal::account_id(r);
        if let Err(why) = filter.check(r, account) {
            match why {
                SkipReason::OutsideTimeRange => self.records.skipped_outside_time_range += 1,
                SkipReason::OtherAccount => self.records.skipped_other_account += 1,
                SkipReason::OtherRegion => self.records.skipped_other_region += 1,
            }
            return;
        }
        if r.is_kms()
            && let Some(epoch) = &self.epoch
        {
            match epoch.admit(r) {
                Admission::New => {}
                Admission::Duplicate => {
                    self.records.duplicate_event_id += 1;
                    return;
                }
                Admission::OwnerCopy { shared } => {
                    let hour = epoch.hour();
                    self.deferred.push(DeferredRecord::new(r, shared, hour));
                    return;
                }
            }
        }
        self.add_admitted(r);
    }

    /// Folds a record that passed the filters and deduplication.
    pub fn add_admitted(&mut self, r: &Record<'_>) {
        let account = principal::account_id(r);
        self.records.attributed += 1;
        self.records.first_event = min_opt(self.records.first_event, Some(r.event_time));
        self.records.last_event = self.records.last_event.max(Some(r.event_time));
        let is_kms = r.is_kms();
        let is_s3 = r.is_s3();
        let sigv2 = if is_s3 {
            sigv2::observed(&r.s3).or_else(|| self.inferred_sigv2(r))
        } else {
            None
        };
        let legacy_tls = r.tls.version.filter(|v| tls::is_legacy_tls(v));
        if is_s3 {
            self.records.s3 += 1;
            self.records.s3_data += u64::from(r.event_category == Some("Data"));
        }
        if !is_kms && sigv2.is_none() && legacy_tls.is_none() {
            return;
        }

        let hour = hour_of(r.event_time);
        let account_id = self.strings.intern_opt(account);
        let region = self.strings.intern_opt(r.aws_region);
        let principal_name = principal::principal(&r.identity);
        let mut buf = std::mem::take(&mut self.principal_buf);
        let principal = self.strings.intern(principal_name.render(&mut buf));
        self.principal_buf = buf;
        let principal_type = self.strings.intern_opt(r.identity.kind);

        if is_kms {
            self.add_kms(r, hour, account_id, region, principal, principal_type);
        }
        if let Some(evidence) = sigv2 {
            self.records.sigv2 += 1;
            self.records.sigv2_inferred += u64::from(evidence == Evidence::Inferred);
            let (user_agent, client) = self.user_agent(r.user_agent);
            let key = SigV2Key {
                hour,
                account_id,
                region,
                principal,
                principal_type,
                user_agent,
                ua_family: client.family,
                ua_version: client.version,
                event_name: self.strings.intern_opt(r.event_name),
                bucket: self.strings.intern_opt(r.request.bucket_name),
                source_ip: self.strings.intern_opt(r.source_ip),
                auth_method: self.strings.intern_opt(r.s3.authentication_method),
                evidence,
            };
            tally(&mut self.sigv2, key, r.event_time);
        }
        if let Some(version) = legacy_tls {
            self.records.tls_legacy += 1;
            let (user_agent, client) = self.user_agent(r.user_agent);
            let key = TlsKey {
                hour,
                account_id,
                region,
                event_source: self.strings.intern(r.event_source),
                principal,
                principal_type,
                user_agent,
                ua_family: client.family,
                ua_version: client.version,
                tls_version: self.strings.intern(version),
                cipher_suite: self
                    .strings
                    .intern_opt(r.tls.cipher_suite.or(r.s3.cipher_suite)),
                source_ip: self.strings.intern_opt(r.source_ip),
            };
            tally(&mut self.tls, key, r.event_time);
        }
    }

    fn add_kms(
        &mut self,
        r: &Record<'_>,
        hour: i64,
        account_id: Sym,
        region: Sym,
        principal: Sym,
        principal_type: Sym,
    ) {
        self.records.kms += 1;
        let bucket = r.request.s3_arn.and_then(kms::s3_bucket_of);
        let via_service = principal::via_service(r);
        let key_arn = self
            .strings
            .intern_opt(kms::key_arn(r.kms_key_arn, r.request.key_id));
        let key = KmsCallKey {
            hour,
            account_id,
            region,
            principal,
            principal_type,
            event_name: self.strings.intern_opt(r.event_name),
            key_arn,
            via_service: self.strings.intern_opt(via_service),
            s3_bucket: self.strings.intern_opt(bucket.map(|(b, _)| b)),
            bucket_key: bucket.map(|(_, on)| on),
            error_code: self.strings.intern_opt(r.error_code),
            caller_kind: kms::CallerKind::of(via_service, r.request.cloudtrail_arn),
        };
        tally(&mut self.kms_calls, key, r.event_time);
        if via_service.is_none()
            && let Some(context) = r.request.encryption_context_hash
        {
            let key = CachingKey {
                account_id,
                region,
                principal,
                key_arn,
                context,
            };
            self.caching.add(key, r.event_time);
        }

        if r.event_name.is_some_and(kms::is_symmetric_operation) {
            self.records.kms_symmetric += 1;
            let second = (r.event_time - hour) as u16;
            let throttled = r.error_code == Some(kms::THROTTLING_ERROR);
            for scope_principal in [NULL, principal] {
                let key = RateKey {
                    hour,
                    account_id,
                    region,
                    principal: scope_principal,
                };
                self.kms_rates
                    .entry(key)
                    .or_default()
                    .record(second, throttled);
            }
        }
    }

    /// SigV2 inferred for an S3 event that predates `SignatureVersion`: its client (parsed
    /// once per distinct agent) is below its SigV4 minimum, in a region that took SigV2.
    fn inferred_sigv2(&mut self, r: &Record<'_>) -> Option<Evidence> {
        if !sigv2::predates_signature_logging(r) {
            return None;
        }
        self.records.s3_before_signature_logging += 1;
        if !sigv2::may_infer(r) {
            return None;
        }
        let (_, client) = self.user_agent(r.user_agent);
        client.below_sigv4_minimum.then_some(Evidence::Inferred)
    }

    /// Interns an agent without S3's brackets, with its client family and version (cached).
    /// An empty agent (S3 logs `[]`) is unknown.
    fn user_agent(&mut self, logged: Option<&str>) -> (Sym, ClientSyms) {
        let Some(ua) = logged
            .map(user_agent::strip_brackets)
            .filter(|ua| !ua.is_empty())
        else {
            return (NULL, ClientSyms::NONE);
        };
        let sym = self.strings.intern(ua);
        if let Some(&client) = self.clients.get(&sym) {
            return (sym, client);
        }
        let parsed = user_agent::parse(ua);
        let client = ClientSyms {
            family: self.strings.intern_opt(parsed.family),
            version: self.strings.intern_opt(parsed.version),
            below_sigv4_minimum: sigv4::below_sigv4_minimum(&parsed),
        };
        self.clients.insert(sym, client);
        (sym, client)
    }

    /// Joins another worker's accumulators into this one.
    pub fn merge(&mut self, other: Accumulators) {
        let table = self.strings.absorb(&other.strings);
        self.records.merge(&other.records);
        for (k, v) in other.kms_calls {
            merge_tally(&mut self.kms_calls, k.remap(&table), v);
        }
        for (k, v) in other.sigv2 {
            merge_tally(&mut self.sigv2, k.remap(&table), v);
        }
        for (k, v) in other.tls {
            merge_tally(&mut self.tls, k.remap(&table), v);
        }
        for (k, v) in other.kms_rates {
            self.kms_rates.entry(k.remap(&table)).or_default().merge(v);
        }
        self.caching.merge(other.caching, &table);
        self.deferred.extend(other.deferred);
    }
}

/// Key owners' copies decided at the end of their window (aggregate::dedup) land here.
impl dedup::DeferredSink for Accumulators {
    fn count(&mut self, record: &Record<'_>) {
        self.add_admitted(record);
    }

    fn drop_duplicate(&mut self) {
        self.records.duplicate_cross_account += 1;
    }
}

fn merge_tally<K: std::hash::Hash + Eq>(map: &mut FxHashMap<K, Tally>, key: K, v: Tally) {
    map.entry(key).and_modify(|t| t.merge(v)).or_insert(v);
}
