//! The terminal report: the few lines a person reads before opening the Parquet. Draws
//! only from the [`ReportModel`]; every string from the trail goes through
//! [`terminal_safe`].

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::format::{NAMES, dollars, percent, terminal_safe};
use super::model::{Listing, PrincipalToDo, ReportModel, Text};
use crate::attribute::kms::CacheOperation;
use crate::time::format_rfc3339;

fn show(s: Text<'_>) -> Cow<'_, str> {
    terminal_safe(s.unwrap_or("-"))
}

fn usd(v: Option<f64>) -> String {
    v.map_or("-".to_owned(), dollars)
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or("-".to_owned(), |v| v.to_string())
}

/// The "... and N more" line of a cut list.
fn more<T>(out: &mut String, indent: &str, list: &Listing<T>) {
    if let Some(line) = list.more_line() {
        let _ = writeln!(out, "{indent}{line}");
    }
}

/// Renders the report. The model's `top` bounds each table.
pub fn render(model: &ReportModel<'_>) -> String {
    let mut out = String::new();
    let h = &model.headline;
    let _ = writeln!(
        out,
        "trailsift {}: {} objects read, {} skipped, {} failed; {} records ({} KMS, {} S3, {} malformed) in {:.2} s",
        env!("CARGO_PKG_VERSION"),
        h.objects_read,
        h.objects_skipped,
        h.objects_failed,
        h.records,
        h.kms,
        h.s3,
        h.malformed,
        h.wall_seconds
    );
    if let Some(resumed) = &model.resumed {
        let _ = writeln!(
            out,
            "Resumed from {}: {} objects finished by the interrupted run were not read again",
            terminal_safe(resumed.state_file),
            resumed.objects_from_state
        );
    }
    if let Some(d) = &model.duplicates {
        let _ = writeln!(
            out,
            "{} duplicate records not counted: {} delivered twice (same eventID), {} key owner's copies of cross-account calls (same sharedEventID)",
            d.total, d.event_id, d.cross_account
        );
    }
    kms_callers(&mut out, model);
    kms_peaks(&mut out, model);
    recurring_spikes(&mut out, model);
    kms_cost(&mut out, model);
    bucket_keys(&mut out, model);
    data_key_caching(&mut out, model);
    sigv2_callers(&mut out, model);
    tls_callers(&mut out, model);
    if !model.failures.is_empty() {
        let _ = writeln!(out, "\nFailed objects");
        for f in model.failures.shown() {
            let _ = writeln!(
                out,
                "  {}: {}",
                terminal_safe(f.key),
                terminal_safe(f.reason)
            );
        }
        more(&mut out, "  ", &model.failures);
    }
    if !model.warnings.is_empty() {
        let _ = writeln!(out, "\nWarnings");
        for w in model.warnings {
            let _ = writeln!(out, "  ! {w}");
        }
    }
    out
}

fn kms_callers(out: &mut String, model: &ReportModel<'_>) {
    let callers = &model.kms_callers;
    if callers.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nTop KMS callers (all KMS calls; peak = symmetric calls in one second)"
    );
    let _ = writeln!(
        out,
        "  {:>10} {:>7} {:>20} {:>9} {:>10}  principal",
        "calls", "peak/s", "peak at", "throttled", "$/month"
    );
    for c in callers.shown() {
        let _ = writeln!(
            out,
            "  {:>10} {:>7} {:>20} {:>9} {:>10}  {}",
            c.calls,
            c.peak,
            c.peak_at.map_or("-".to_owned(), format_rfc3339),
            c.throttled,
            usd(c.usd_per_month),
            show(c.principal)
        );
    }
    more(out, "  ", callers);
}

fn kms_peaks(out: &mut String, model: &ReportModel<'_>) {
    let hours = &model.quota_hours;
    if hours.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nKMS hours closest to the quota (per account, region and quota class; today's default quotas)"
    );
    let _ = writeln!(
        out,
        "  {:>20} {:>12} {:>14} {:>9} {:>7} {:>8} {:>6} {:>7} {:>7} {:>9}",
        "hour",
        "account",
        "region",
        "class",
        "peak/s",
        "quota/s",
        "use",
        "s>80%",
        "s>100%",
        "throttled"
    );
    for h in hours.shown() {
        let _ = writeln!(
            out,
            "  {:>20} {:>12} {:>14} {:>9} {:>7} {:>8} {:>6} {:>7} {:>7} {:>9}",
            format_rfc3339(h.hour),
            show(h.account_id),
            show(h.region),
            h.quota_class,
            h.peak,
            or_dash(h.quota),
            h.share.map_or("-".to_owned(), percent),
            or_dash(h.seconds_over_80),
            or_dash(h.seconds_over_quota),
            h.throttled
        );
    }
    more(out, "  ", hours);
}

fn recurring_spikes(out: &mut String, model: &ReportModel<'_>) {
    if model.recurring_spikes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nRecurring spikes (the hour's busiest second keeps falling in the same minute: a scheduled job)"
    );
    for s in &model.recurring_spikes {
        let _ = writeln!(
            out,
            "  {} {}: minute :{:02} in {} of {} hours, median peak {}/s vs mean {:.1}/s; {} made {} of those peaks",
            show(s.account_id),
            show(s.region),
            s.minute,
            s.hours_with,
            s.hours,
            s.median_peak,
            s.mean_rps,
            show(s.principal),
            percent(s.principal_share)
        );
    }
    let _ = writeln!(
        out,
        "  What to do: spread the job's calls over the hour (jitter, a rate limit), and check the Bucket Key and data key caching candidates below for the same principal."
    );
}

fn kms_cost(out: &mut String, model: &ReportModel<'_>) {
    let Some(cost) = &model.cost else {
        return;
    };
    let _ = writeln!(
        out,
        "\nKMS cost (calls / {:.2} days analysed x 1 day or x {} days, at ${} per 10,000 requests)",
        cost.days, cost.days_per_month, cost.price_per_10k
    );
    let t = &cost.total;
    let _ = writeln!(
        out,
        "  {} calls: {:.0}/day, {} a day, {} a month; {} a month after the free tier ({} requests a month per account, all regions)",
        t.calls,
        t.per_day,
        dollars(t.usd_per_day),
        dollars(t.usd_per_month),
        usd(cost.usd_per_month_after_free_tier),
        cost.free_tier_per_month
    );
    let kinds: Vec<String> = cost
        .by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let _ = writeln!(out, "  by caller kind: {}", kinds.join(", "));
    let _ = writeln!(out, "  {:>10} {:>10}  key", "calls", "$/month");
    for k in cost.keys.shown() {
        let _ = writeln!(
            out,
            "  {:>10} {:>10}  {}",
            k.projected.calls,
            dollars(k.projected.usd_per_month),
            show(k.name)
        );
    }
    more(out, "  ", &cost.keys);
}

fn bucket_keys(out: &mut String, model: &ReportModel<'_>) {
    let buckets = &model.bucket_keys;
    if buckets.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nS3 Bucket Key candidates (KMS calls S3 made per object; estimate: one call per requester (session), hour, key and operation would remain; none for DSSE-KMS)"
    );
    let _ = writeln!(
        out,
        "  {:>10} {:>10} {:>10}  {:<32} bucket: top principal",
        "obj calls", "est saved", "$/month", "what to do"
    );
    for b in buckets.shown() {
        let _ = writeln!(
            out,
            "  {:>10} {:>10} {:>10}  {:<32} {}: {}",
            b.object_arn_calls,
            b.saved_calls,
            usd(b.usd_per_month_saved),
            b.todo,
            terminal_safe(b.bucket),
            show(b.principals.items.first().and_then(|p| p.principal))
        );
    }
    more(out, "  ", buckets);
}

fn data_key_caching(out: &mut String, model: &ReportModel<'_>) {
    let caching = &model.caching;
    if caching.candidates.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nData key caching candidates (direct GenerateDataKey and Decrypt calls per key and encryption context; a cache with a {} s maximum age would make one call per {} s window; for decrypt, at most that many are saved: a hit needs the same encrypted data key)",
        caching.max_age, caching.max_age
    );
    let _ = writeln!(
        out,
        "  {:<8} {:>10} {:>10} {:>10} {:>16}  principal / key",
        "op", "calls", "est saved", "$/month", "context"
    );
    for c in caching.candidates.shown() {
        let op = match c.operation {
            CacheOperation::GenerateDataKey => "data key",
            CacheOperation::Decrypt => "decrypt",
        };
        let _ = writeln!(
            out,
            "  {:<8} {:>10} {:>10} {:>10} {:>16}  {} / {}",
            op,
            c.calls,
            c.saved,
            usd(c.usd_per_month_saved),
            c.context,
            show(c.principal),
            show(c.key_arn)
        );
    }
    more(out, "  ", &caching.candidates);
}

/// At most `max` names, then how many more.
fn list(names: &BTreeSet<&str>, max: usize) -> String {
    let mut shown: Vec<String> = names
        .iter()
        .take(max)
        .map(|n| terminal_safe(n).into_owned())
        .collect();
    if names.len() > max {
        shown.push(format!("+{} more", names.len() - max));
    }
    if shown.is_empty() {
        "-".to_owned()
    } else {
        shown.join(", ")
    }
}

/// A to-do list: each principal with its total, then its clients (two lines each: what
/// was seen, and what to do), cut at `top` with a line saying how many more.
fn todo_list<C>(
    out: &mut String,
    principals: &Listing<PrincipalToDo<'_, C>>,
    client: impl Fn(&mut String, Text<'_>, &C),
) {
    for p in principals.shown() {
        let _ = writeln!(out, "  {}: {} requests", show(p.principal), p.requests);
        for c in p.clients.shown() {
            client(out, p.principal, c);
        }
        more(out, "    ", &p.clients);
    }
    more(out, "  ", principals);
}

/// The SigV2 to-do list: per principal, each client with its version, what to upgrade to,
/// the buckets, how many requests, when, and whether SigV2 was seen or inferred.
fn sigv2_callers(out: &mut String, model: &ReportModel<'_>) {
    let sigv2 = &model.sigv2;
    let _ = writeln!(
        out,
        "\nSigV2 callers (S3): what each principal must upgrade"
    );
    if sigv2.principals.is_empty() {
        let why = if sigv2.s3_data_events == 0 {
            "none visible: the input has no S3 data events"
        } else {
            "none"
        };
        let _ = writeln!(out, "  {why}");
        return;
    }
    let _ = writeln!(
        out,
        "  observed: the event says SigV2; inferred: the event predates SignatureVersion and its client is below its SigV4 minimum"
    );
    todo_list(out, &sigv2.principals, |out, principal, c| {
        let _ = writeln!(
            out,
            "    {}  {}  {} requests  {} .. {}  buckets: {}",
            terminal_safe(&c.label(principal)),
            c.evidence,
            c.requests,
            format_rfc3339(c.first_seen),
            format_rfc3339(c.last_seen),
            list(&c.buckets, NAMES)
        );
        let _ = writeln!(out, "      -> {}", terminal_safe(c.advice));
    });
}

/// The legacy TLS to-do list: per principal, each client with the TLS version and cipher
/// suites it used, the services it called, and what to change.
fn tls_callers(out: &mut String, model: &ReportModel<'_>) {
    if model.tls.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nLegacy TLS callers (TLS older than 1.2): what each principal must fix"
    );
    todo_list(out, &model.tls, |out, _, c| {
        let _ = writeln!(
            out,
            "    {}  {}  {} requests  {} .. {}  services: {}  cipher suites: {}",
            terminal_safe(&c.label()),
            show(c.tls_version),
            c.requests,
            format_rfc3339(c.first_seen),
            format_rfc3339(c.last_seen),
            list(&c.services, NAMES),
            list(&c.cipher_suites, NAMES)
        );
        let _ = writeln!(out, "      -> {}", terminal_safe(c.advice));
    });
}
