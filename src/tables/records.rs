//! How many records went where: the counts of summary.json. Reconciles
//! `total == attributed + skipped_* + malformed`.

use serde::{Deserialize, Serialize};

use crate::attribute::Attribution;
use crate::attribute::event_kind::{EventKind, vpce_outcome};
use crate::attribute::kms::QuotaClass;
use crate::attribute::sigv2::Evidence;
use crate::config::SkipReason;
use crate::record::Malformed;

/// How many records went where. Reconciles:
/// `total == attributed + skipped_* + malformed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// KMS calls that are read-only (`readOnly`, or a cryptographic call): none with KMS
    /// calls read means a trail that logs write-only management events.
    pub kms_read_only: u64,
    /// `AwsServiceEvent` records: AWS acting on its own (no request of the account).
    pub service_events: u64,
    /// `AwsVpceEvent` records: calls seen at a VPC endpoint (vpc_endpoint_events.parquet).
    pub network_activity: u64,
    /// Of `network_activity`, those the endpoint policy denied.
    pub network_activity_denied: u64,
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
    /// Records not counted because they repeat one already counted (aggregate::dedup):
    /// same `eventID`, or the key owner's copy of a cross-account call.
    pub duplicate_event_id: u64,
    pub duplicate_cross_account: u64,
    /// Earliest and latest `eventTime` of the attributed records.
    pub first_event: Option<i64>,
    pub last_event: Option<i64>,
}

impl RecordCounts {
    pub fn count_malformed(&mut self, why: Malformed) {
        self.total += 1;
        self.malformed[why as usize] += 1;
    }

    /// A record read (before it is filtered or attributed).
    pub fn count_read(&mut self, odd_fields: u32) {
        self.total += 1;
        self.odd_fields += u64::from(odd_fields);
    }

    pub fn count_skipped(&mut self, why: SkipReason) {
        match why {
            SkipReason::OutsideTimeRange => self.skipped_outside_time_range += 1,
            SkipReason::OtherAccount => self.skipped_other_account += 1,
            SkipReason::OtherRegion => self.skipped_other_region += 1,
        }
    }

    /// A record that passed the filters and deduplication.
    pub fn count_attributed(&mut self, a: &Attribution<'_>) {
        self.attributed += 1;
        self.first_event = min_opt(self.first_event, Some(a.event_time));
        self.last_event = self.last_event.max(Some(a.event_time));
        if a.is_s3 {
            self.s3 += 1;
            self.s3_data += u64::from(a.is_s3_data);
            self.s3_before_signature_logging += u64::from(a.before_signature_logging);
        }
        if let Some(kms) = &a.kms {
            self.kms += 1;
            self.kms_symmetric += u64::from(kms.quota_class == Some(QuotaClass::Symmetric));
            self.kms_read_only += u64::from(a.read_only);
        }
        match a.kind {
            EventKind::ServiceEvent => self.service_events += 1,
            EventKind::NetworkActivity => {
                self.network_activity += 1;
                self.network_activity_denied += u64::from(vpce_outcome(a.error_code) == "denied");
            }
            EventKind::ApiCall => {}
        }
        if let Some(sigv2) = &a.sigv2 {
            self.sigv2 += 1;
            self.sigv2_inferred += u64::from(sigv2.evidence == Evidence::Inferred);
        }
        self.tls_legacy += u64::from(a.legacy_tls.is_some());
    }

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

    pub fn merge(&mut self, o: &RecordCounts) {
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
        self.kms_read_only += o.kms_read_only;
        self.service_events += o.service_events;
        self.network_activity += o.network_activity;
        self.network_activity_denied += o.network_activity_denied;
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

impl RecordCounts {
    /// Takes out `copies`, records counted by two shards (Tables::retract): they were
    /// attributed once too often, and are duplicates of an event counted already. What was
    /// read (`total`, `odd_fields`) stays: every copy was read.
    pub fn retract(&mut self, copies: &RecordCounts) {
        let sub = |mine: &mut u64, theirs: u64| *mine = mine.saturating_sub(theirs);
        sub(&mut self.attributed, copies.attributed);
        sub(&mut self.kms, copies.kms);
        sub(&mut self.kms_symmetric, copies.kms_symmetric);
        sub(&mut self.kms_read_only, copies.kms_read_only);
        sub(&mut self.service_events, copies.service_events);
        sub(&mut self.network_activity, copies.network_activity);
        sub(
            &mut self.network_activity_denied,
            copies.network_activity_denied,
        );
        sub(&mut self.s3, copies.s3);
        sub(&mut self.s3_data, copies.s3_data);
        sub(&mut self.sigv2, copies.sigv2);
        sub(&mut self.sigv2_inferred, copies.sigv2_inferred);
        sub(
            &mut self.s3_before_signature_logging,
            copies.s3_before_signature_logging,
        );
        sub(&mut self.tls_legacy, copies.tls_legacy);
        self.duplicate_event_id += copies.attributed;
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
