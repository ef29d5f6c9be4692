//! `kms_calls.parquet`: KMS calls per hour, caller, key, operation, service, bucket and
//! outcome. Every KMS call counted (duplicates removed, pipeline::dedup) is in one row.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::closed::HourKey;
use super::columns::{self, Column};
use super::intern::{Interner, Sym};
use super::{Common, TableAccumulator, Tallies, TallyRow, TallyRows, table_key};
use crate::attribute::Attribution;
use crate::attribute::kms::CallerKind;

pub const FILE: &str = "kms_calls.parquet";

table_key!(
    /// One row of the file.
    Key => Resolved {
        hour: i64,
        account_id: Sym,
        region: Sym,
        principal: Sym,
        principal_type: Sym,
        event_name: Sym,
        key_arn: Sym,
        via_service: Sym,
        s3_bucket: Sym,
        bucket_key: Option<bool>,
        error_code: Sym,
        caller_kind: CallerKind,
        key_account_id: Sym,
    }
);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct KmsCalls {
    pub calls: Tallies<Key>,
}

impl TableAccumulator for KmsCalls {
    const NAME: &'static str = "kms_calls";

    fn add(&mut self, a: &Attribution<'_>, c: &Common, strings: &mut Interner) {
        let Some(kms) = &a.kms else { return };
        let key = Key {
            hour: c.hour,
            account_id: c.account_id,
            region: c.region,
            principal: c.principal,
            principal_type: c.principal_type,
            event_name: strings.intern_opt(a.event_name),
            key_arn: strings.intern_opt(kms.key_arn),
            via_service: strings.intern_opt(kms.via_service),
            s3_bucket: strings.intern_opt(kms.s3_bucket.map(|(b, _)| b)),
            bucket_key: kms.s3_bucket.map(|(_, on)| on),
            error_code: strings.intern_opt(a.error_code),
            caller_kind: kms.caller_kind,
            key_account_id: strings.intern_opt(kms.key_account_id),
        };
        self.calls.add(key, a.event_time, a.session, strings);
    }

    fn merge(&mut self, other: Self, table: &[Sym]) {
        self.calls.merge(other.calls, table);
    }

    fn retract(&mut self, copies: Self, table: &[Sym]) {
        self.calls.retract(copies.calls, table);
    }
}

/// Rows close with their hour (closed).
impl HourKey for Key {
    fn hour(&self) -> i64 {
        self.hour
    }
}

/// A row: the key, resolved, and its calls.
pub type Row<'a> = TallyRow<'a, Resolved<'a>>;

/// The rows in file order; `ranks` are `strings`' (Interner::ranks).
pub fn rows<'a>(table: &'a KmsCalls, strings: &'a Interner, ranks: Vec<u32>) -> TallyRows<'a, Key> {
    table.calls.sorted(strings, ranks)
}

pub fn columns<'a>() -> Vec<Column<'a, Row<'a>>> {
    let c = columns::of::<Row<'a>>();
    vec![
        c.timestamp("hour", "Hour of the calls (UTC)", |r| r.hour),
        c.text(
            "account_id",
            "The caller's account, throttled and billed (userIdentity.accountId, else recipientAccountId)",
            |r| r.account_id,
        ),
        c.text("region", "awsRegion", |r| r.region),
        c.text(
            "principal",
            "Who the calls are charged to: the role for assumed-role sessions, else the ARN",
            |r| r.principal,
        ),
        c.text("principal_type", "userIdentity.type", |r| r.principal_type),
        c.text("event_name", "The KMS operation", |r| r.event_name),
        c.text(
            "key_arn",
            "The key's ARN (resources), else the keyId the caller named",
            |r| r.key_arn,
        ),
        c.text(
            "via_service",
            "The AWS service that called KMS for the principal, null for direct calls",
            |r| r.via_service,
        ),
        c.text(
            "s3_bucket",
            "The bucket of an SSE-KMS call (aws:s3:arn in the encryption context)",
            |r| r.s3_bucket,
        ),
        c.bool_opt(
            "bucket_key",
            "True when the context names the bucket (S3 Bucket Key on), false for an object",
            |r| r.bucket_key,
        ),
        c.text(
            "error_code",
            "errorCode, null for a call that succeeded",
            |r| r.error_code,
        ),
        c.int("calls", "Calls in the group", |r| r.tally.count as i64),
        c.timestamp("first_seen", "Earliest call", |r| r.tally.first_seen),
        c.timestamp("last_seen", "Latest call", |r| r.tally.last_seen),
        c.text(
            "caller_kind",
            "direct, s3_sse_kms, cloudtrail_log_encryption or aws_service",
            |r| Some(r.caller_kind.as_str()),
        ),
        c.text(
            "key_account_id",
            "The key owner's account, from the key ARN (differs from account_id for a cross-account call)",
            |r| r.key_account_id,
        ),
        c.int(
            "sessions",
            "Distinct sessions of the principal (assumed-role session names), 0 without sessions",
            |r| r.session_count(),
        ),
        c.text(
            "example_session",
            "One of those sessions by name (often an instance id)",
            |r| r.example_session,
        ),
    ]
}

pub fn write(dir: &Path, rows: &TallyRows<'_, Key>) -> anyhow::Result<()> {
    columns::write_iter(&dir.join(FILE), &columns(), rows.iter())
}
