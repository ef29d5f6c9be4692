//! `sigv2_requests.parquet`: S3 requests signed with SigV2 (observed, or inferred from a
//! client below its SigV4 minimum), per hour, principal, client, bucket and source, with
//! what the owner must upgrade.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::closed::HourKey;
use super::columns::{self, Column};
use super::intern::{Interner, Sym};
use super::{Common, TableAccumulator, Tallies, TallyRow, TallyRows, table_key};
use crate::attribute::Attribution;
use crate::attribute::sigv2::{Evidence, Signing};

pub const FILE: &str = "sigv2_requests.parquet";

table_key!(
    /// One row of the file. The client's facts (`ua_family` to `upgrade_advice`) follow from
    /// the agent and the authentication method, so they never split a group.
    Key => Resolved {
        hour: i64,
        account_id: Sym,
        region: Sym,
        principal: Sym,
        principal_type: Sym,
        user_agent: Sym,
        ua_family: Sym,
        ua_version: Sym,
        event_name: Sym,
        bucket: Sym,
        source_ip: Sym,
        auth_method: Sym,
        evidence: Evidence,
        ua_kind: Sym,
        sigv4_min_version: Sym,
        upgrade_advice: Sym,
        access_key_id: Sym,
    }
);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SigV2Requests {
    pub requests: Tallies<Key>,
}

impl TableAccumulator for SigV2Requests {
    const NAME: &'static str = "sigv2_requests";

    fn add(&mut self, a: &Attribution<'_>, c: &Common, s: &mut Interner) {
        let (Some(sigv2), Some(client)) = (&a.sigv2, &a.client) else {
            return;
        };
        let facts = client.client;
        let key = Key {
            hour: c.hour,
            account_id: c.account_id,
            region: c.region,
            principal: c.principal,
            principal_type: c.principal_type,
            user_agent: s.intern_opt(client.user_agent),
            ua_family: s.intern_opt(facts.family.as_deref()),
            ua_version: s.intern_opt(facts.version.as_deref()),
            event_name: s.intern_opt(a.event_name),
            bucket: s.intern_opt(sigv2.bucket),
            source_ip: s.intern_opt(a.source_ip),
            auth_method: s.intern_opt(sigv2.auth_method),
            evidence: sigv2.evidence,
            ua_kind: s.intern_opt(facts.kind),
            sigv4_min_version: s.intern_opt(facts.sigv4_min_version),
            access_key_id: s.intern_opt(a.access_key_id),
            upgrade_advice: s.intern(facts.sigv2_advice(Signing::of(sigv2.auth_method))),
        };
        self.requests.add(key, a.event_time, a.session, s);
    }

    fn merge(&mut self, other: Self, table: &[Sym]) {
        self.requests.merge(other.requests, table);
    }

    fn retract(&mut self, copies: Self, table: &[Sym]) {
        self.requests.retract(copies.requests, table);
    }
}

/// A row: the key, resolved, and its requests.
pub type Row<'a> = TallyRow<'a, Resolved<'a>>;

/// The rows in file order.
pub fn rows<'a>(
    table: &'a SigV2Requests,
    strings: &'a Interner,
    ranks: Vec<u32>,
) -> TallyRows<'a, Key> {
    table.requests.sorted(strings, ranks)
}

/// Rows close with their hour (closed).
impl HourKey for Key {
    fn hour(&self) -> i64 {
        self.hour
    }
}

pub fn columns<'a>() -> Vec<Column<'a, Row<'a>>> {
    let c = columns::of::<Row<'a>>();
    vec![
        c.timestamp("hour", "Hour of the requests (UTC)", |r| r.hour),
        c.text("account_id", "The account", |r| r.account_id),
        c.text("region", "awsRegion", |r| r.region),
        c.text(
            "principal",
            "Who signed: the role for assumed-role sessions, else the ARN",
            |r| r.principal,
        ),
        c.text("principal_type", "userIdentity.type", |r| r.principal_type),
        c.text("user_agent", "userAgent without S3's brackets", |r| {
            r.user_agent
        }),
        c.text(
            "ua_family",
            "The client family (aws-cli, aws-sdk-java, boto3, ...)",
            |r| r.ua_family,
        ),
        c.text("ua_version", "The client's version", |r| r.ua_version),
        c.text("event_name", "The S3 operation", |r| r.event_name),
        c.text("bucket", "requestParameters.bucketName", |r| r.bucket),
        c.text("source_ip", "sourceIPAddress", |r| r.source_ip),
        c.text(
            "auth_method",
            "AuthHeader, QueryString for a presigned URL, HttpPost for a POST form upload",
            |r| r.auth_method,
        ),
        c.text(
            "evidence",
            "observed (SignatureVersion says SigV2) or inferred (client below its SigV4 minimum)",
            |r| Some(r.evidence),
        ),
        c.int("requests", "Requests in the group", |r| {
            r.tally.count as i64
        }),
        c.timestamp("first_seen", "Earliest request", |r| r.tally.first_seen),
        c.timestamp("last_seen", "Latest request", |r| r.tally.last_seen),
        c.text(
            "sigv4_min_version",
            "First version of the client's family that signs SigV4",
            |r| r.sigv4_min_version,
        ),
        c.text(
            "ua_kind",
            "sdk, cli, console, aws_service, browser, http_client or unknown",
            |r| r.ua_kind,
        ),
        c.text("upgrade_advice", "What to change, in one sentence", |r| {
            r.upgrade_advice
        }),
        c.text(
            "access_key_id",
            "userIdentity.accessKeyId: AKIA... a long-term key (it names the machine), ASIA... temporary",
            |r| r.access_key_id,
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
