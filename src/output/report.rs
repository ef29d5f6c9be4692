//! The terminal report: the few lines a person reads before opening the Parquet.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::rows::Rows;
use super::terminal_safe;
use crate::attribute::kms::Quotas;
use crate::attribute::user_agent::sigv4_min_version;
use crate::pipeline::Analysis;
use crate::time::format_rfc3339;

fn show(s: Option<&str>) -> std::borrow::Cow<'_, str> {
    terminal_safe(s.unwrap_or("-"))
}

/// Renders the report. `top` bounds each table.
pub fn render(
    a: &Analysis,
    rows: &Rows<'_>,
    quotas: &Quotas,
    warnings: &[String],
    top: usize,
    wall_seconds: f64,
) -> String {
    let mut out = String::new();
    let r = &a.acc.records;
    let _ = writeln!(
        out,
        "trailsift {}: {} objects read, {} skipped, {} failed; {} records ({} KMS, {} S3, {} malformed) in {:.2} s",
        env!("CARGO_PKG_VERSION"),
        a.objects.read,
        a.objects.skipped.total(),
        a.objects.failed,
        r.total,
        r.kms,
        r.s3,
        r.malformed_total(),
        wall_seconds
    );
    kms_callers(&mut out, rows, top);
    kms_peaks(&mut out, rows, quotas, top);
    sigv2_callers(&mut out, rows, top);
    tls_callers(&mut out, rows, top);
    if !a.failures.is_empty() {
        let _ = writeln!(out, "\nFailed objects");
        for f in a.failures.iter().take(top) {
            let _ = writeln!(
                out,
                "  {}: {}",
                terminal_safe(&f.key),
                terminal_safe(&f.reason)
            );
        }
        if a.failures.len() > top {
            let _ = writeln!(
                out,
                "  ... and {} more in summary.json",
                a.failures.len() - top
            );
        }
    }
    if !warnings.is_empty() {
        let _ = writeln!(out, "\nWarnings");
        for w in warnings {
            let _ = writeln!(out, "  ! {w}");
        }
    }
    out
}

fn kms_callers(out: &mut String, rows: &Rows<'_>, top: usize) {
    #[derive(Default)]
    struct Caller {
        calls: u64,
        throttled: u64,
        peak: u64,
        peak_at: i64,
    }
    let mut callers: BTreeMap<Option<&str>, Caller> = BTreeMap::new();
    for row in &rows.kms_calls {
        let c = callers.entry(row.principal).or_default();
        c.calls += row.tally.count;
    }
    for row in rows.kms_rates.iter().filter(|r| r.principal.is_some()) {
        let stats = row.counts.stats();
        let c = callers.entry(row.principal).or_default();
        c.throttled += stats.throttled;
        if stats.peak_rps > c.peak {
            c.peak = stats.peak_rps;
            c.peak_at = row.hour + i64::from(stats.peak_second_of_hour);
        }
    }
    if callers.is_empty() {
        return;
    }
    let mut callers: Vec<_> = callers.into_iter().collect();
    callers.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then(a.0.cmp(&b.0)));
    let _ = writeln!(
        out,
        "\nTop KMS callers (all KMS calls; peak = symmetric calls in one second)"
    );
    let _ = writeln!(
        out,
        "  {:>10} {:>7} {:>20} {:>9}  principal",
        "calls", "peak/s", "peak at", "throttled"
    );
    for (principal, c) in callers.iter().take(top) {
        let when = if c.peak > 0 {
            format_rfc3339(c.peak_at)
        } else {
            "-".to_owned()
        };
        let _ = writeln!(
            out,
            "  {:>10} {:>7} {:>20} {:>9}  {}",
            c.calls,
            c.peak,
            when,
            c.throttled,
            show(*principal)
        );
    }
}

fn kms_peaks(out: &mut String, rows: &Rows<'_>, quotas: &Quotas, top: usize) {
    let mut hours: Vec<_> = rows
        .kms_rates
        .iter()
        .filter(|r| r.principal.is_none())
        .map(|r| {
            let stats = r.counts.stats();
            let quota = r.region.map(|g| quotas.rps(g));
            (r, stats, quota)
        })
        .collect();
    if hours.is_empty() {
        return;
    }
    // Closest to the quota first: a 20,000/s region at 15,000/s matters more than
    // us-east-1 at 20,000/s.
    let utilization = |peak: u64, quota: Option<u64>| quota.map_or(0.0, |q| peak as f64 / q as f64);
    hours.sort_by(|a, b| {
        utilization(b.1.peak_rps, b.2)
            .total_cmp(&utilization(a.1.peak_rps, a.2))
            .then(b.1.peak_rps.cmp(&a.1.peak_rps))
            .then(a.0.hour.cmp(&b.0.hour))
    });
    let _ = writeln!(
        out,
        "\nKMS hours closest to the quota (symmetric operations, per account and region)"
    );
    let _ = writeln!(
        out,
        "  {:>20} {:>12} {:>14} {:>7} {:>8} {:>6} {:>9}",
        "hour", "account", "region", "peak/s", "quota/s", "use", "throttled"
    );
    for (row, stats, quota) in hours.iter().take(top) {
        let used = quota.map_or("-".to_owned(), |q| {
            percent(stats.peak_rps as f64 / q as f64)
        });
        let _ = writeln!(
            out,
            "  {:>20} {:>12} {:>14} {:>7} {:>8} {:>6} {:>9}",
            format_rfc3339(row.hour),
            show(row.account_id),
            show(row.region),
            stats.peak_rps,
            quota.map_or("-".to_owned(), |q| q.to_string()),
            used,
            stats.throttled
        );
    }
}

/// A share as a percentage with enough digits to tell a small peak from none.
fn percent(share: f64) -> String {
    let pct = 100.0 * share;
    if pct == 0.0 || pct >= 1.0 {
        format!("{pct:.1}%")
    } else {
        format!("{pct:.3}%")
    }
}

fn sigv2_callers(out: &mut String, rows: &Rows<'_>, top: usize) {
    type Client<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        &'static str,
    );
    let mut callers: BTreeMap<Client<'_>, (u64, i64, i64)> = BTreeMap::new();
    for row in &rows.sigv2 {
        let e = callers
            .entry((
                row.principal,
                row.ua_family,
                row.ua_version,
                row.auth_method,
                row.evidence,
            ))
            .or_insert((0, i64::MAX, i64::MIN));
        e.0 += row.tally.count;
        e.1 = e.1.min(row.tally.first_seen);
        e.2 = e.2.max(row.tally.last_seen);
    }
    if callers.is_empty() {
        return;
    }
    let mut callers: Vec<_> = callers.into_iter().collect();
    callers.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    let _ = writeln!(out, "\nSigV2 callers (S3)");
    let _ = writeln!(
        out,
        "  {:>8}  {:<20} {:<20} {:<24} {:<12} {:<8}  principal",
        "requests", "first seen", "last seen", "client", "SigV4 from", "evidence"
    );
    for ((principal, family, version, auth, evidence), (n, first, last)) in callers.iter().take(top)
    {
        let client = format!("{}/{}", show(*family), show(*version));
        let presigned = if *auth == Some("QueryString") {
            " (presigned URL: agent is the consumer's)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {:>8}  {:<20} {:<20} {:<24} {:<12} {:<8}  {}{}",
            n,
            format_rfc3339(*first),
            format_rfc3339(*last),
            client,
            family.and_then(sigv4_min_version).unwrap_or("-"),
            evidence,
            show(*principal),
            presigned
        );
    }
}

fn tls_callers(out: &mut String, rows: &Rows<'_>, top: usize) {
    type Caller<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );
    let mut callers: BTreeMap<Caller<'_>, u64> = BTreeMap::new();
    for row in &rows.tls {
        *callers
            .entry((
                row.principal,
                row.tls_version,
                row.event_source,
                row.user_agent,
            ))
            .or_default() += row.tally.count;
    }
    if callers.is_empty() {
        return;
    }
    let mut callers: Vec<_> = callers.into_iter().collect();
    callers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let _ = writeln!(out, "\nLegacy TLS callers (TLS older than 1.2)");
    let _ = writeln!(
        out,
        "  {:>8}  {:<8} {:<24}  principal / user agent",
        "requests", "tls", "service"
    );
    for ((principal, version, source, ua), n) in callers.iter().take(top) {
        let _ = writeln!(
            out,
            "  {:>8}  {:<8} {:<24}  {} / {}",
            n,
            show(*version),
            show(*source),
            show(*principal),
            show(*ua)
        );
    }
}
