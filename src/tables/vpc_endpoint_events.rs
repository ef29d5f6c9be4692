//! `vpc_endpoint_events.parquet`: network activity events (`eventType: AwsVpceEvent`), the
//! calls seen at a VPC endpoint, per hour, endpoint, caller, operation and outcome. They are
//! counted here and only here: the call itself is logged beside them as an API call, so
//! counting them as KMS calls or S3 requests would count each call twice
//! (attribute::event_kind). A `denied` row is a call the endpoint's policy refused
//! (`errorCode: VpceAccessDenied`): someone tried to reach the service through an endpoint
//! they may not use, often from another account (CloudTrail user guide, "Logging network
//! activity events"; the example there is a denied KMS ListKeys by an `AWSAccount` caller).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::columns::{self, Column};
use super::intern::{Interner, Sym};
use super::{Common, TableAccumulator, Tallies, TallyRow, table_key};
use crate::attribute::Attribution;
use crate::attribute::event_kind::vpce_outcome;

pub const FILE: &str = "vpc_endpoint_events.parquet";

table_key!(
    /// One row of the file; the outcome follows from the error code.
    Key => Resolved {
        hour: i64,
        account_id: Sym,
        region: Sym,
        vpc_endpoint_id: Sym,
        event_source: Sym,
        event_name: Sym,
        principal: Sym,
        principal_type: Sym,
        error_code: Sym,
        vpc_endpoint_account_id: Sym,
        caller_account_id: Sym,
        source_ip: Sym,
    }
);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct VpcEndpointEvents {
    pub events: Tallies<Key>,
}

impl TableAccumulator for VpcEndpointEvents {
    const NAME: &'static str = "vpc_endpoint_events";

    fn add(&mut self, a: &Attribution<'_>, c: &Common, s: &mut Interner) {
        let Some(vpce) = &a.vpce else { return };
        let key = Key {
            hour: c.hour,
            account_id: c.account_id,
            region: c.region,
            vpc_endpoint_id: s.intern_opt(vpce.endpoint_id),
            event_source: s.intern(a.event_source),
            event_name: s.intern_opt(a.event_name),
            principal: c.principal,
            principal_type: c.principal_type,
            error_code: s.intern_opt(a.error_code),
            vpc_endpoint_account_id: s.intern_opt(vpce.endpoint_account_id),
            caller_account_id: s.intern_opt(a.caller_account_id),
            source_ip: s.intern_opt(a.source_ip),
        };
        self.events.add(key, a.event_time, a.session, s);
    }

    fn merge(&mut self, other: Self, table: &[Sym]) {
        self.events.merge(other.events, table);
    }

    fn retract(&mut self, copies: Self, table: &[Sym]) {
        self.events.retract(copies.events, table);
    }
}

/// A row: the key, resolved, and its events.
pub type Row<'a> = TallyRow<'a, Resolved<'a>>;

/// The rows in file order.
pub fn rows<'a>(table: &'a VpcEndpointEvents, strings: &'a Interner) -> Vec<Row<'a>> {
    table.events.rows(strings)
}

pub fn columns<'a>() -> Vec<Column<'a, Row<'a>>> {
    let c = columns::of::<Row<'a>>();
    vec![
        c.timestamp("hour", "Hour (UTC)", |r| r.hour),
        c.text(
            "account_id",
            "The account whose trail holds the event (recipientAccountId: the endpoint owner)",
            |r| r.account_id,
        ),
        c.text("region", "awsRegion", |r| r.region),
        c.text("vpc_endpoint_id", "vpcEndpointId", |r| r.vpc_endpoint_id),
        c.text(
            "event_source",
            "The service called through the endpoint",
            |r| r.event_source,
        ),
        c.text("event_name", "The operation", |r| r.event_name),
        c.text("principal", "Who called (as in the other tables)", |r| {
            r.principal
        }),
        c.text("principal_type", "userIdentity.type", |r| r.principal_type),
        c.text(
            "outcome",
            "allowed, denied (the endpoint policy refused it: VpceAccessDenied) or error",
            |r| Some(vpce_outcome(r.error_code)),
        ),
        c.text("error_code", "errorCode, null when allowed", |r| {
            r.error_code
        }),
        c.text(
            "vpc_endpoint_account_id",
            "The endpoint owner's account",
            |r| r.vpc_endpoint_account_id,
        ),
        c.text(
            "caller_account_id",
            "userIdentity.accountId: differs from the endpoint owner for another account's caller",
            |r| r.caller_account_id,
        ),
        c.text("source_ip", "sourceIPAddress", |r| r.source_ip),
        c.int("events", "Events in the group", |r| r.tally.count as i64),
        c.timestamp("first_seen", "Earliest event", |r| r.tally.first_seen),
        c.timestamp("last_seen", "Latest event", |r| r.tally.last_seen),
        c.int(
            "sessions",
            "Distinct sessions of the principal, 0 without sessions",
            |r| r.session_count(),
        ),
        c.text("example_session", "One of those sessions by name", |r| {
            r.example_session
        }),
    ]
}

pub fn write(dir: &Path, rows: &[Row<'_>]) -> anyhow::Result<()> {
    columns::write(&dir.join(FILE), &columns(), rows)
}
