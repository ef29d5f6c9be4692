//! `tls_legacy.parquet`: requests over TLS 1.0 or 1.1 (or SSLv3), per hour, service,
//! principal, client and source, with what to change.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::closed::HourKey;
use super::columns::{self, Column};
use super::intern::{Interner, Sym};
use super::{Common, TableAccumulator, Tallies, TallyRow, TallyRows, table_key};
use crate::attribute::Attribution;

pub const FILE: &str = "tls_legacy.parquet";

table_key!(
    /// One row of the file. The client's facts follow from the agent, so they never split
    /// a group.
    Key => Resolved {
        hour: i64,
        account_id: Sym,
        region: Sym,
        event_source: Sym,
        principal: Sym,
        principal_type: Sym,
        user_agent: Sym,
        ua_family: Sym,
        ua_version: Sym,
        tls_version: Sym,
        cipher_suite: Sym,
        source_ip: Sym,
        ua_kind: Sym,
        upgrade_advice: Sym,
        access_key_id: Sym,
    }
);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TlsLegacy {
    pub requests: Tallies<Key>,
}

impl TableAccumulator for TlsLegacy {
    const NAME: &'static str = "tls_legacy";

    fn add(&mut self, a: &Attribution<'_>, c: &Common, s: &mut Interner) {
        let (Some(version), Some(client)) = (a.legacy_tls, &a.client) else {
            return;
        };
        let facts = client.client;
        let key = Key {
            hour: c.hour,
            account_id: c.account_id,
            region: c.region,
            event_source: s.intern(a.event_source),
            principal: c.principal,
            principal_type: c.principal_type,
            user_agent: s.intern_opt(client.user_agent),
            ua_family: s.intern_opt(facts.family.as_deref()),
            ua_version: s.intern_opt(facts.version.as_deref()),
            tls_version: s.intern(version),
            cipher_suite: s.intern_opt(a.cipher_suite),
            source_ip: s.intern_opt(a.source_ip),
            ua_kind: s.intern_opt(facts.kind),
            access_key_id: s.intern_opt(a.access_key_id),
            upgrade_advice: s.intern(&facts.tls_advice),
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
    table: &'a TlsLegacy,
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
        c.text("event_source", "The service called (eventSource)", |r| {
            r.event_source
        }),
        c.text(
            "principal",
            "The caller: the role for assumed-role sessions, else the ARN",
            |r| r.principal,
        ),
        c.text("principal_type", "userIdentity.type", |r| r.principal_type),
        c.text("user_agent", "userAgent without S3's brackets", |r| {
            r.user_agent
        }),
        c.text("ua_family", "The client family", |r| r.ua_family),
        c.text("ua_version", "The client's version", |r| r.ua_version),
        c.text("tls_version", "tlsDetails.tlsVersion", |r| r.tls_version),
        c.text(
            "cipher_suite",
            "tlsDetails.cipherSuite, else S3's CipherSuite",
            |r| r.cipher_suite,
        ),
        c.text("source_ip", "sourceIPAddress", |r| r.source_ip),
        c.int("requests", "Requests in the group", |r| {
            r.tally.count as i64
        }),
        c.timestamp("first_seen", "Earliest request", |r| r.tally.first_seen),
        c.timestamp("last_seen", "Latest request", |r| r.tally.last_seen),
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
