//! `kms_cost.parquet`: KMS calls and what they cost, per account, per principal and per key,
//! derived from `kms_calls` (no accumulator of its own) and projected over the analysed span
//! (output::kms_insights::Projection; README, "Reading the KMS insights").

use std::collections::BTreeMap;
use std::path::Path;

use super::columns::{self, Column};
use super::intern::Interner;
use super::kms_calls;
use super::projection::Projection;
use super::sessions::Sessions;
use crate::attribute::kms::{FREE_TIER_REQUESTS_PER_MONTH, THROTTLING_ERROR};

pub const FILE: &str = "kms_cost.parquet";

type Text<'a> = Option<&'a str>;

/// One row: calls of an account, a principal or a key.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    /// `account`, `principal` or `key`.
    pub scope: &'static str,
    pub account_id: Text<'a>,
    pub principal: Text<'a>,
    pub key_arn: Text<'a>,
    pub calls: u64,
    pub throttled: u64,
    /// Distinct sessions of the principal (principal rows), and one of them.
    pub sessions: u64,
    pub example_session: Text<'a>,
}

/// Requests a month beyond the free tier (per account, all regions together).
pub fn billable_per_month(requests_per_month: f64) -> f64 {
    (requests_per_month - FREE_TIER_REQUESTS_PER_MONTH as f64).max(0.0)
}

/// The rows: accounts first, then principals, then keys, each most calls first.
pub fn rows<'a>(
    calls: impl IntoIterator<Item = kms_calls::Row<'a>>,
    strings: &'a Interner,
) -> Vec<Row<'a>> {
    type Group<'a> = (&'static str, Text<'a>, Text<'a>, Text<'a>);
    let mut groups: BTreeMap<Group<'a>, (u64, u64, Sessions)> = BTreeMap::new();
    for r in calls {
        let throttled = u64::from(r.error_code == Some(THROTTLING_ERROR)) * r.tally.count;
        for g in [
            ("account", r.account_id, None, None),
            ("principal", r.account_id, r.principal, None),
            ("key", r.account_id, None, r.key_arn),
        ] {
            let e = groups.entry(g).or_default();
            e.0 += r.tally.count;
            e.1 += throttled;
            if g.0 == "principal"
                && let Some(sessions) = &r.sessions
            {
                e.2.union(sessions);
            }
        }
    }
    let mut rows: Vec<Row<'a>> = groups
        .into_iter()
        .map(
            |((scope, account_id, principal, key_arn), (calls, throttled, sessions))| Row {
                scope,
                account_id,
                principal,
                key_arn,
                calls,
                throttled,
                sessions: sessions.count(),
                example_session: sessions.example(strings),
            },
        )
        .collect();
    let rank = |s: &str| match s {
        "account" => 0,
        "principal" => 1,
        _ => 2,
    };
    rows.sort_by(|a, b| {
        rank(a.scope)
            .cmp(&rank(b.scope))
            .then(b.calls.cmp(&a.calls))
            .then((a.account_id, a.principal, a.key_arn).cmp(&(
                b.account_id,
                b.principal,
                b.key_arn,
            )))
    });
    rows
}

/// A row with what the file says of it.
pub(super) struct Out<'r, 'a> {
    row: &'r Row<'a>,
    projection: Option<Projection>,
    price_per_10k: f64,
}

impl Out<'_, '_> {
    fn is_account(&self) -> bool {
        self.row.scope == "account"
    }
}

pub(super) fn columns<'r, 'a: 'r>() -> Vec<Column<'r, Out<'r, 'a>>> {
    let c = columns::of::<Out<'r, 'a>>();
    vec![
        c.text("scope", "account, principal or key", |o| Some(o.row.scope)),
        c.text("account_id", "The caller's account", |o| o.row.account_id),
        c.text("principal", "The principal (principal rows)", |o| {
            o.row.principal
        }),
        c.text("key_arn", "The key (key rows)", |o| o.row.key_arn),
        c.int("calls", "KMS calls over the span", |o| o.row.calls as i64),
        c.int("throttled", "Calls refused with ThrottlingException", |o| {
            o.row.throttled as i64
        }),
        c.timestamp_opt("span_start", "Start of the analysed span", |o| {
            o.projection.map(|p| p.span.start)
        }),
        c.timestamp_opt("span_end", "End of the analysed span", |o| {
            o.projection.map(|p| p.span.end)
        }),
        c.float("span_days", "The span in days", |o| {
            o.projection.map(|p| p.span.days())
        }),
        c.float("calls_per_day", "calls / span_days", |o| {
            o.projection.map(|p| p.per_day(o.row.calls))
        }),
        c.float("calls_per_month", "calls_per_day x 30.4", |o| {
            o.projection.map(|p| p.per_month(o.row.calls))
        }),
        c.float("price_per_10k_usd", "The price used (--kms-price)", |o| {
            Some(o.price_per_10k)
        }),
        c.float("usd_per_day", "Projected cost a day", |o| {
            o.projection.map(|p| p.usd(p.per_day(o.row.calls)))
        }),
        c.float("usd_per_month", "Projected cost a month", |o| {
            o.projection.map(|p| p.usd(p.per_month(o.row.calls)))
        }),
        c.int_opt(
            "free_tier_requests_per_month",
            "The free tier (account rows)",
            |o| {
                o.is_account()
                    .then_some(FREE_TIER_REQUESTS_PER_MONTH as i64)
            },
        ),
        c.float(
            "usd_per_month_after_free_tier",
            "Projected cost a month after the free tier (account rows)",
            |o| {
                o.projection
                    .filter(|_| o.is_account())
                    .map(|p| p.usd(billable_per_month(p.per_month(o.row.calls))))
            },
        ),
        c.int_opt(
            "sessions",
            "Distinct sessions of the principal (principal rows), 0 without sessions",
            |o| (o.row.scope == "principal").then_some(o.row.sessions as i64),
        ),
        c.text(
            "example_session",
            "One of those sessions by name (principal rows)",
            |o| o.row.example_session,
        ),
    ]
}

pub fn write(
    dir: &Path,
    rows: &[Row<'_>],
    projection: Option<Projection>,
    price_per_10k: f64,
) -> anyhow::Result<()> {
    let out: Vec<Out<'_, '_>> = rows
        .iter()
        .map(|row| Out {
            row,
            projection,
            price_per_10k,
        })
        .collect();
    columns::write(&dir.join(FILE), &columns(), &out)
}
