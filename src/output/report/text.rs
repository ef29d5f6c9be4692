//! The terminal report: the few lines a person reads before opening the Parquet. Draws
//! only from the [`ReportModel`]; every string from the trail goes through
//! [`terminal_safe`].
//!
//! It fits a 100-column terminal ([`WIDTH`]): sentences are wrapped, long values (agents,
//! ARNs, keys) are shortened in the middle with the whole value in the Parquet files, and a
//! to-do list gives each distinct piece of advice once, as a numbered note its clients
//! point to, instead of under every client.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::format::{NAMES, count, dollars, percent, shorten, terminal_safe, wrap};
use super::model::{Listing, PrincipalToDo, ReportModel, Text};
use crate::attribute::kms::CacheOperation;
use crate::attribute::sigv2::Signing;
use crate::time::format_rfc3339;

/// Columns the report fits in.
pub const WIDTH: usize = 100;

fn show(s: Text<'_>) -> Cow<'_, str> {
    terminal_safe(s.unwrap_or("-"))
}

/// A value from the trail, made safe and cut to `max` columns.
fn fit(s: Text<'_>, max: usize) -> String {
    shorten(&show(s), max).into_owned()
}

fn usd(v: Option<f64>) -> String {
    v.map_or("-".to_owned(), dollars)
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or("-".to_owned(), |v| v.to_string())
}

/// `MM-DD HH:MM:SS`: a table cell; the year is in the period line.
fn short_time(t: i64) -> String {
    let full = format_rfc3339(t);
    full.get(5..19)
        .map_or(full.clone(), |s| s.replace('T', " "))
}

/// A sentence wrapped to the report's width.
fn para(out: &mut String, first: &str, rest: &str, text: &str) {
    let _ = writeln!(out, "{}", wrap(text, WIDTH, first, rest));
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
    headline(&mut out, model);
    if let Some(resumed) = &model.resumed {
        para(
            &mut out,
            "",
            "  ",
            &format!(
                "Resumed from {}: {} finished by the interrupted run were not read again",
                terminal_safe(resumed.state_file),
                count(resumed.objects_from_state, "object")
            ),
        );
    }
    if let Some(d) = &model.duplicates {
        para(
            &mut out,
            "",
            "  ",
            &format!(
                "{} not counted: {} delivered twice (same eventID), {} key owner's {} of cross-account calls (same sharedEventID)",
                count(d.total, "duplicate record"),
                d.event_id,
                d.cross_account,
                if d.cross_account == 1 {
                    "copy"
                } else {
                    "copies"
                }
            ),
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
        // The key whole, on a line of its own (a user copies it), then the reason.
        for f in model.failures.shown() {
            let _ = writeln!(out, "  {}:", terminal_safe(f.key));
            para(&mut out, "      ", "      ", &terminal_safe(f.reason));
        }
        more(&mut out, "  ", &model.failures);
    }
    if !model.warnings.is_empty() {
        let _ = writeln!(out, "\nWarnings");
        for w in model.warnings {
            para(&mut out, "  ! ", "    ", w);
        }
    }
    out
}

/// The first lines: the answers (SigV2, legacy TLS, the KMS hour closest to its quota),
/// then what was read.
fn headline(out: &mut String, model: &ReportModel<'_>) {
    let h = &model.headline;
    let a = model.answers();
    let sigv2 = if a.sigv2_visible {
        format!(
            "{} from {}",
            count(a.sigv2_requests, "SigV2 request"),
            count(a.sigv2_principals, "principal")
        )
    } else {
        "SigV2 not visible (no S3 data events)".to_owned()
    };
    let tls = format!(
        "{} from {}",
        count(a.tls_requests, "legacy-TLS request"),
        count(a.tls_principals, "principal")
    );
    para(
        out,
        "",
        "  ",
        &format!("trailsift {}: {sigv2}, {tls}", env!("CARGO_PKG_VERSION")),
    );
    if let Some(q) = a.closest_hour {
        para(out, "  ", "    ", &terminal_safe(&q.summary()));
    }
    let period = model.period.map_or(String::new(), |p| {
        format!(
            ", events {} .. {} ({})",
            format_rfc3339(p.start),
            format_rfc3339(p.end),
            count(p.hours as u64, "hour")
        )
    });
    para(
        out,
        "  ",
        "    ",
        &format!(
            "Read {} ({} skipped, {} failed), {} ({} KMS, {} S3, {} malformed) in {:.2} s{period}",
            count(h.objects_read, "object"),
            h.objects_skipped,
            h.objects_failed,
            count(h.records, "record"),
            h.kms,
            h.s3,
            h.malformed,
            h.wall_seconds
        ),
    );
}

fn kms_callers(out: &mut String, model: &ReportModel<'_>) {
    let callers = &model.kms_callers;
    if callers.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nTop KMS callers (all KMS calls; peak = symmetric calls in one second, UTC)"
    );
    let _ = writeln!(
        out,
        "  {:>9} {:>7} {:>14} {:>9} {:>9}  principal",
        "calls", "peak/s", "peak at", "throttled", "$/month"
    );
    for c in callers.shown() {
        let _ = writeln!(
            out,
            "  {:>9} {:>7} {:>14} {:>9} {:>9}  {}",
            c.calls,
            c.peak,
            c.peak_at.map_or("-".to_owned(), short_time),
            c.throttled,
            usd(c.usd_per_month),
            fit(c.principal, WIDTH - 56)
        );
    }
    more(out, "  ", callers);
}

/// A quota class as the table names it: `pair rsa_2048` for `data_key_pair_rsa_2048`.
fn class_cell(class: &str) -> String {
    let name = class
        .strip_prefix("data_key_pair_")
        .map_or(class.to_owned(), |spec| format!("pair {spec}"));
    shorten(&name, 18).into_owned()
}

fn kms_peaks(out: &mut String, model: &ReportModel<'_>) {
    let hours = &model.quota_hours;
    if hours.is_empty() {
        return;
    }
    let _ = writeln!(out);
    para(
        out,
        "",
        "",
        "KMS hours closest to the quota (busiest second per account, region and quota class, against today's default quotas; seconds over 80% in kms_rates.parquet)",
    );
    let _ = writeln!(
        out,
        "  {:<11} {:<12} {:<14} {:<18} {:>6} {:>7} {:>6} {:>6} {:>9}",
        "hour", "account", "region", "class", "peak/s", "quota/s", "use", "s>100%", "throttled"
    );
    for h in hours.shown() {
        let _ = writeln!(
            out,
            "  {:<11} {:<12} {:<14} {:<18} {:>6} {:>7} {:>6} {:>6} {:>9}",
            short_time(h.hour).get(..11).unwrap_or_default(),
            fit(h.account_id, 12),
            fit(h.region, 14),
            class_cell(h.quota_class),
            h.peak,
            or_dash(h.quota),
            h.share.map_or("-".to_owned(), percent),
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
    let _ = writeln!(out);
    para(
        out,
        "",
        "",
        "Recurring spikes (the hour's busiest second keeps falling in the same minute: a scheduled job)",
    );
    for s in &model.recurring_spikes {
        para(
            out,
            "  ",
            "    ",
            &format!(
                "{} {}: minute :{:02} in {} of {}, median peak {}/s vs mean {:.1}/s; {} made {} of those peaks",
                show(s.account_id),
                show(s.region),
                s.minute,
                s.hours_with,
                count(s.hours as u64, "hour"),
                s.median_peak,
                s.mean_rps,
                show(s.principal),
                percent(s.principal_share)
            ),
        );
    }
    para(
        out,
        "  ",
        "    ",
        "What to do: spread the job's calls over the hour (jitter, a rate limit), and check the Bucket Key and data key caching candidates below for the same principal.",
    );
}

fn kms_cost(out: &mut String, model: &ReportModel<'_>) {
    let Some(cost) = &model.cost else {
        return;
    };
    let _ = writeln!(out);
    para(
        out,
        "",
        "",
        &format!(
            "KMS cost (calls / {:.2} days analysed x 1 day or x {} days, at ${} per 10,000 requests)",
            cost.days, cost.days_per_month, cost.price_per_10k
        ),
    );
    let t = &cost.total;
    para(
        out,
        "  ",
        "    ",
        &format!(
            "{}: {:.0}/day, {} a day, {} a month; {} a month after the free tier ({} requests a month per account, all regions)",
            count(t.calls, "call"),
            t.per_day,
            dollars(t.usd_per_day),
            dollars(t.usd_per_month),
            usd(cost.usd_per_month_after_free_tier),
            cost.free_tier_per_month
        ),
    );
    let kinds: Vec<String> = cost
        .by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    para(
        out,
        "  ",
        "    ",
        &format!("by caller kind: {}", kinds.join(", ")),
    );
    let _ = writeln!(out, "  {:>9} {:>9}  key", "calls", "$/month");
    for k in cost.keys.shown() {
        let _ = writeln!(
            out,
            "  {:>9} {:>9}  {}",
            k.projected.calls,
            dollars(k.projected.usd_per_month),
            fit(k.name, WIDTH - 23)
        );
    }
    more(out, "  ", &cost.keys);
}

fn bucket_keys(out: &mut String, model: &ReportModel<'_>) {
    let buckets = &model.bucket_keys;
    if buckets.is_empty() {
        return;
    }
    let _ = writeln!(out);
    para(
        out,
        "",
        "",
        "S3 Bucket Key candidates (KMS calls S3 made per object; estimate: one call per requester (session), hour, key and operation would remain; none for DSSE-KMS)",
    );
    let _ = writeln!(
        out,
        "  {:>9} {:>9} {:>9}  {:<34} bucket / top principal",
        "obj calls", "est saved", "$/month", "what to do"
    );
    for b in buckets.shown() {
        let _ = writeln!(
            out,
            "  {:>9} {:>9} {:>9}  {:<34} {}",
            b.object_arn_calls,
            b.saved_calls,
            usd(b.usd_per_month_saved),
            b.todo,
            fit(Some(b.bucket), WIDTH - 68)
        );
        let principal = b.principals.items.first().and_then(|p| p.principal);
        let _ = writeln!(out, "{:68}{}", "", fit(principal, WIDTH - 68));
    }
    more(out, "  ", buckets);
}

fn data_key_caching(out: &mut String, model: &ReportModel<'_>) {
    let caching = &model.caching;
    if caching.candidates.is_empty() {
        return;
    }
    let _ = writeln!(out);
    para(
        out,
        "",
        "",
        &format!(
            "Data key caching candidates (direct GenerateDataKey and Decrypt calls per key and encryption context; a cache with a {} s maximum age would make one call per {} s window; for decrypt, at most that many are saved: a hit needs the same encrypted data key)",
            caching.max_age, caching.max_age
        ),
    );
    let _ = writeln!(
        out,
        "  {:<8} {:>9} {:>9} {:>9} {:>16}  principal / key",
        "op", "calls", "est saved", "$/month", "context"
    );
    for c in caching.candidates.shown() {
        let op = match c.operation {
            CacheOperation::GenerateDataKey => "data key",
            CacheOperation::Decrypt => "decrypt",
        };
        let _ = writeln!(
            out,
            "  {:<8} {:>9} {:>9} {:>9} {:>16}  {}",
            op,
            c.calls,
            c.saved,
            usd(c.usd_per_month_saved),
            c.context,
            fit(c.principal, WIDTH - 59)
        );
        let _ = writeln!(out, "{:59}{}", "", fit(c.key_arn, WIDTH - 59));
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

/// The distinct pieces of advice of one to-do list, numbered in the order they first appear.
#[derive(Default)]
struct Notes<'a> {
    advice: Vec<&'a str>,
}

impl<'a> Notes<'a> {
    /// The note's number, `[1]` for the first.
    fn number(&mut self, advice: &'a str) -> usize {
        match self.advice.iter().position(|a| *a == advice) {
            Some(i) => i + 1,
            None => {
                self.advice.push(advice);
                self.advice.len()
            }
        }
    }

    fn write(&self, out: &mut String) {
        if self.advice.is_empty() {
            return;
        }
        let _ = writeln!(out, "  What to do:");
        for (i, advice) in self.advice.iter().enumerate() {
            let mark = format!("  [{}] ", i + 1);
            let hang = " ".repeat(mark.len());
            para(out, &mark, &hang, &terminal_safe(advice));
        }
    }
}

/// A to-do list: each principal with its total, then its clients (two lines each: what
/// was seen, with its note's number, and when and where), cut at `top` with a line saying
/// how many more; then the notes.
fn todo_list<'a, C>(
    out: &mut String,
    principals: &'a Listing<PrincipalToDo<'a, C>>,
    advice: impl Fn(&'a C) -> &'a str,
    client: impl Fn(&mut String, Text<'a>, &'a C, usize),
) {
    let mut notes = Notes::default();
    for p in principals.shown() {
        let _ = writeln!(
            out,
            "  {}: {}",
            fit(p.principal, WIDTH - 20),
            count(p.requests, "request")
        );
        for c in p.clients.shown() {
            let note = notes.number(advice(c));
            client(out, p.principal, c, note);
        }
        more(out, "    ", &p.clients);
    }
    more(out, "  ", principals);
    notes.write(out);
}

/// The client as a to-do list line names it: the principal is the group's heading.
fn sigv2_label(family: Text<'_>, version: Text<'_>, signing: Signing) -> String {
    let client = match (family, version) {
        (Some(f), Some(v)) => format!("{f}/{v}"),
        (Some(f), None) => f.to_owned(),
        _ => "unknown client".to_owned(),
    };
    match signing {
        Signing::PresignedUrl => format!("presigned URL fetched by {client}"),
        Signing::PostPolicy => format!("POST form sent by {client}"),
        Signing::Header => client,
    }
}

/// The second line of a client: its span, then what it touched, cut to the width.
fn span_line(out: &mut String, first: i64, last: i64, what: &str) {
    let line = format!(
        "{} .. {}  {what}",
        format_rfc3339(first),
        format_rfc3339(last)
    );
    let _ = writeln!(out, "      {}", shorten(&line, WIDTH - 6));
}

/// The SigV2 to-do list: per principal, each client with its version, the buckets, how many
/// requests, when, and whether SigV2 was seen or inferred; then what to upgrade, once per
/// distinct advice.
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
    para(
        out,
        "  ",
        "  ",
        "observed: the event says SigV2; inferred: the event predates SignatureVersion and its client is below its SigV4 minimum. A presigned URL's or POST form's agent is whoever used it; the principal signed it.",
    );
    todo_list(
        out,
        &sigv2.principals,
        |c| c.advice,
        |out, _, c, note| {
            let label = sigv2_label(c.family, c.version, c.signing);
            let _ = writeln!(
                out,
                "    {}  {}  {}  [{note}]",
                shorten(&terminal_safe(&label), 56),
                c.evidence,
                count(c.requests, "request")
            );
            span_line(
                out,
                c.first_seen,
                c.last_seen,
                &format!("buckets: {}", list(&c.buckets, NAMES)),
            );
        },
    );
}

/// The legacy TLS to-do list: per principal, each client with the TLS version and cipher
/// suites it used, the services it called; then what to change, once per distinct advice.
fn tls_callers(out: &mut String, model: &ReportModel<'_>) {
    if model.tls.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nLegacy TLS callers (TLS older than 1.2): what each principal must fix"
    );
    todo_list(
        out,
        &model.tls,
        |c| c.advice,
        |out, _, c, note| {
            let _ = writeln!(
                out,
                "    {}  {}  {}  [{note}]",
                shorten(&terminal_safe(&c.label()), 56),
                show(c.tls_version),
                count(c.requests, "request")
            );
            span_line(
                out,
                c.first_seen,
                c.last_seen,
                &format!(
                    "services: {}  cipher suites: {}",
                    list(&c.services, NAMES),
                    list(&c.cipher_suites, NAMES)
                ),
            );
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_times_drop_the_year() {
        assert_eq!(short_time(1_772_326_923), "03-01 01:02:03");
    }

    #[test]
    fn notes_number_each_distinct_advice_once() {
        let mut notes = Notes::default();
        assert_eq!(notes.number("upgrade"), 1);
        assert_eq!(notes.number("sign with SigV4"), 2);
        assert_eq!(notes.number("upgrade"), 1);
        let mut out = String::new();
        notes.write(&mut out);
        assert_eq!(out.matches("upgrade").count(), 1, "{out}");
        assert!(out.contains("  [2] sign with SigV4"), "{out}");
    }

    #[test]
    fn quota_classes_fit_their_column() {
        assert_eq!(class_cell("symmetric"), "symmetric");
        assert_eq!(class_cell("data_key_pair_rsa_2048"), "pair rsa_2048");
        assert!(
            class_cell("data_key_pair_ecc_nist_edwards25519")
                .chars()
                .count()
                <= 18
        );
    }
}
