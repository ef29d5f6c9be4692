//! The terminal report: the few lines a person reads before opening the Parquet.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::ReportInput;
use super::format::{dollars, percent, terminal_safe};
use crate::output::kms_insights::{BucketStatus, KmsInsights};
use crate::output::rows::Rows;
use crate::aggregate::Tally;
use crate::attribute::kms::{DAYS_PER_MONTH, FREE_TIER_REQUESTS_PER_MONTH, Quotas};
use crate::attribute::sigv2::is_presigned;
use crate::pipeline::Analysis;
use crate::time::format_rfc3339;

fn show(s: Option<&str>) -> std::borrow::Cow<'_, str> {
    terminal_safe(s.unwrap_or("-"))
}

/// Renders the report. `top` bounds each table.
pub fn render(input: &ReportInput<'_>) -> String {
    let ReportInput {
        analysis: a,
        rows,
        insights,
        quotas,
        warnings,
        top,
        wall_seconds,
    } = *input;
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
    if let Some(resume) = a.resume.as_ref().filter(|r| r.resumed) {
        let _ = writeln!(
            out,
            "Resumed from {}: {} objects finished by the interrupted run were not read again",
            terminal_safe(&resume.state_file),
            resume.objects_from_state
        );
    }
    if r.duplicates() > 0 {
        let _ = writeln!(
            out,
            "{} duplicate KMS records not counted: {} delivered twice (same eventID), {} key owner's copies of cross-account calls (same sharedEventID)",
            r.duplicates(),
            r.duplicate_event_id,
            r.duplicate_cross_account
        );
    }
    kms_callers(&mut out, rows, insights, top);
    kms_peaks(&mut out, rows, quotas, top);
    recurring_spikes(&mut out, insights);
    kms_cost(&mut out, insights, top);
    bucket_keys(&mut out, insights, top);
    data_key_caching(&mut out, insights, top);
    sigv2_callers(&mut out, a, rows, top);
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

fn kms_callers(out: &mut String, rows: &Rows<'_>, insights: &KmsInsights<'_>, top: usize) {
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
        "  {:>10} {:>7} {:>20} {:>9} {:>10}  principal",
        "calls", "peak/s", "peak at", "throttled", "$/month"
    );
    for (principal, c) in callers.iter().take(top) {
        let when = if c.peak > 0 {
            format_rfc3339(c.peak_at)
        } else {
            "-".to_owned()
        };
        let _ = writeln!(
            out,
            "  {:>10} {:>7} {:>20} {:>9} {:>10}  {}",
            c.calls,
            c.peak,
            when,
            c.throttled,
            insights
                .projection
                .map_or("-".to_owned(), |p| dollars(p.usd(p.per_month(c.calls)))),
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
        "  {:>20} {:>12} {:>14} {:>7} {:>8} {:>6} {:>7} {:>7} {:>9}",
        "hour", "account", "region", "peak/s", "quota/s", "use", "s>80%", "s>100%", "throttled"
    );
    for (row, stats, quota) in hours.iter().take(top) {
        let used = quota.map_or("-".to_owned(), |q| {
            percent(stats.peak_rps as f64 / q as f64)
        });
        let over = |num: u64, den: u64| {
            quota.map_or("-".to_owned(), |q| {
                row.counts
                    .per_second
                    .values()
                    .filter(|&&c| u64::from(c) * den > q * num)
                    .count()
                    .to_string()
            })
        };
        let _ = writeln!(
            out,
            "  {:>20} {:>12} {:>14} {:>7} {:>8} {:>6} {:>7} {:>7} {:>9}",
            format_rfc3339(row.hour),
            show(row.account_id),
            show(row.region),
            stats.peak_rps,
            quota.map_or("-".to_owned(), |q| q.to_string()),
            used,
            over(4, 5),
            over(1, 1),
            stats.throttled
        );
    }
}

fn recurring_spikes(out: &mut String, insights: &KmsInsights<'_>) {
    if insights.recurring_spikes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nRecurring spikes (the hour's busiest second keeps falling in the same minute: a scheduled job)"
    );
    for s in &insights.recurring_spikes {
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

fn kms_cost(out: &mut String, insights: &KmsInsights<'_>, top: usize) {
    let Some(p) = insights.projection else {
        return;
    };
    let calls = insights.total_calls();
    if calls == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "\nKMS cost (calls / {:.2} days analysed x 1 day or x {DAYS_PER_MONTH} days, at ${} per 10,000 requests)",
        p.span.days(),
        insights.price_per_10k
    );
    let _ = writeln!(
        out,
        "  {} calls: {:.0}/day, {} a day, {} a month; {} a month after the free tier ({} requests a month per account, all regions)",
        calls,
        p.per_day(calls),
        dollars(p.usd(p.per_day(calls))),
        dollars(p.usd(p.per_month(calls))),
        insights
            .usd_per_month_after_free_tier()
            .map_or("-".to_owned(), dollars),
        FREE_TIER_REQUESTS_PER_MONTH
    );
    let kinds: Vec<String> = insights
        .calls_by_kind
        .iter()
        .map(|(k, n)| format!("{} {}", k.as_str(), n))
        .collect();
    let _ = writeln!(out, "  by caller kind: {}", kinds.join(", "));
    let keys: Vec<_> = insights.cost.iter().filter(|r| r.scope == "key").collect();
    let _ = writeln!(out, "  {:>10} {:>10}  key", "calls", "$/month");
    for k in keys.iter().take(top) {
        let _ = writeln!(
            out,
            "  {:>10} {:>10}  {}",
            k.calls,
            dollars(p.usd(p.per_month(k.calls))),
            show(k.key_arn)
        );
    }
}

/// One bucket's Bucket Key picture, summed over its principals.
struct BucketTotals<'a> {
    status: BucketStatus,
    object_arn_calls: u64,
    saved_calls: u64,
    /// The principal whose calls a Bucket Key would save most, and how many.
    top_principal: Option<&'a str>,
    top_saved: u64,
}

fn bucket_keys(out: &mut String, insights: &KmsInsights<'_>, top: usize) {
    let mut buckets: BTreeMap<&str, BucketTotals<'_>> = BTreeMap::new();
    for r in &insights.bucket_keys {
        let e = buckets.entry(r.s3_bucket).or_insert(BucketTotals {
            status: r.bucket_status,
            object_arn_calls: 0,
            saved_calls: 0,
            top_principal: None,
            top_saved: 0,
        });
        e.object_arn_calls += r.object_arn_calls;
        e.saved_calls += r.saved_calls();
        if r.saved_calls() > e.top_saved || e.top_principal.is_none() {
            e.top_principal = r.principal;
            e.top_saved = r.saved_calls();
        }
    }
    let mut candidates: Vec<_> = buckets
        .into_iter()
        .filter(|(_, b)| b.status != BucketStatus::On && b.object_arn_calls > 0)
        .collect();
    if candidates.is_empty() {
        return;
    }
    candidates.sort_by(|a, b| b.1.saved_calls.cmp(&a.1.saved_calls).then(a.0.cmp(b.0)));
    let _ = writeln!(
        out,
        "\nS3 Bucket Key candidates (KMS calls S3 made per object; estimate: one call per principal, hour, key and operation would remain)"
    );
    let _ = writeln!(
        out,
        "  {:>10} {:>10} {:>10}  {:<32} bucket: top principal",
        "obj calls", "est saved", "$/month", "what to do"
    );
    for (bucket, b) in candidates.iter().take(top) {
        let _ = writeln!(
            out,
            "  {:>10} {:>10} {:>10}  {:<32} {}: {}",
            b.object_arn_calls,
            b.saved_calls,
            insights.projection.map_or("-".to_owned(), |p| dollars(
                p.usd(p.per_month(b.saved_calls))
            )),
            match b.status {
                BucketStatus::Off => "enable Bucket Key + re-copy",
                BucketStatus::OnWithOlderObjects => "Bucket Key on: re-copy old objects",
                BucketStatus::On => "-",
            },
            terminal_safe(bucket),
            show(b.top_principal)
        );
    }
}

fn data_key_caching(out: &mut String, insights: &KmsInsights<'_>, top: usize) {
    if insights.caching.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nData key caching candidates (direct GenerateDataKey calls per key and encryption context; a cache with a {} s maximum age would make one call per {} s window)",
        insights.cache_max_age, insights.cache_max_age
    );
    let _ = writeln!(
        out,
        "  {:>10} {:>10} {:>10} {:>16}  principal / key",
        "calls", "est saved", "$/month", "context"
    );
    for c in insights.caching.iter().take(top) {
        let _ = writeln!(
            out,
            "  {:>10} {:>10} {:>10} {:>16}  {} / {}",
            c.group.calls,
            c.group.saved(),
            insights.projection.map_or("-".to_owned(), |p| dollars(
                p.usd(p.per_month(c.group.saved()))
            )),
            c.context_hex(),
            show(c.principal),
            show(c.key_arn)
        );
    }
}

/// One client of one principal in a to-do list, summed over hours, buckets and services.
struct ToDo<'a> {
    requests: u64,
    first_seen: i64,
    last_seen: i64,
    /// Buckets (SigV2) or services (TLS).
    places: BTreeSet<&'a str>,
    cipher_suites: BTreeSet<&'a str>,
}

impl ToDo<'_> {
    fn new() -> Self {
        ToDo {
            requests: 0,
            first_seen: i64::MAX,
            last_seen: i64::MIN,
            places: BTreeSet::new(),
            cipher_suites: BTreeSet::new(),
        }
    }

    fn add(&mut self, t: &Tally) {
        self.requests += t.count;
        self.first_seen = self.first_seen.min(t.first_seen);
        self.last_seen = self.last_seen.max(t.last_seen);
    }
}

/// Principals, most requests first, each with its clients, most requests first.
type ByPrincipal<'a, K> = Vec<(Option<&'a str>, u64, Vec<(K, ToDo<'a>)>)>;

fn by_principal<'a, K: Ord + Clone>(
    items: impl Iterator<
        Item = (
            Option<&'a str>,
            K,
            &'a Tally,
            Option<&'a str>,
            Option<&'a str>,
        ),
    >,
) -> ByPrincipal<'a, K> {
    let mut grouped: BTreeMap<Option<&'a str>, BTreeMap<K, ToDo<'a>>> = BTreeMap::new();
    for (principal, key, tally, place, cipher) in items {
        let todo = grouped
            .entry(principal)
            .or_default()
            .entry(key)
            .or_insert_with(ToDo::new);
        todo.add(tally);
        todo.places.extend(place);
        todo.cipher_suites.extend(cipher);
    }
    let mut principals: ByPrincipal<'a, K> = grouped
        .into_iter()
        .map(|(principal, clients)| {
            let mut clients: Vec<_> = clients.into_iter().collect();
            clients.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then(a.0.cmp(&b.0)));
            let total = clients.iter().map(|(_, t)| t.requests).sum();
            (principal, total, clients)
        })
        .collect();
    principals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    principals
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

fn client_label(family: Option<&str>, version: Option<&str>) -> String {
    match (family, version) {
        (Some(f), Some(v)) => format!("{}/{}", terminal_safe(f), terminal_safe(v)),
        (Some(f), None) => terminal_safe(f).into_owned(),
        (None, _) => "unknown client".to_owned(),
    }
}

fn principals_left(out: &mut String, shown: usize, total: usize) {
    if total > shown {
        let _ = writeln!(out, "  ... and {} more principals", total - shown);
    }
}

/// The SigV2 to-do list: per principal, each client with its version, what to upgrade to,
/// the buckets, how many requests, when, and whether SigV2 was seen or inferred.
fn sigv2_callers(out: &mut String, a: &Analysis, rows: &Rows<'_>, top: usize) {
    type Client<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        bool,
        &'static str,
        &'a str,
    );
    let principals = by_principal(rows.sigv2.iter().map(|r| {
        let key: Client<'_> = (
            r.ua_family,
            r.ua_version,
            is_presigned(r.auth_method),
            r.evidence,
            r.client.upgrade_advice.as_str(),
        );
        (r.principal, key, &r.tally, r.bucket, None)
    }));
    let _ = writeln!(
        out,
        "\nSigV2 callers (S3): what each principal must upgrade"
    );
    if principals.is_empty() {
        let why = if a.acc.records.s3_data == 0 {
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
    for (principal, total, clients) in principals.iter().take(top) {
        let _ = writeln!(out, "  {}: {} requests", show(*principal), total);
        for ((family, version, presigned, evidence, advice), todo) in clients.iter().take(top) {
            let client = client_label(*family, *version);
            let client = if *presigned {
                format!(
                    "presigned URL fetched by {client} (the agent is the consumer's; {} signed it)",
                    show(*principal)
                )
            } else {
                client
            };
            let _ = writeln!(
                out,
                "    {}  {}  {} requests  {} .. {}  buckets: {}",
                client,
                evidence,
                todo.requests,
                format_rfc3339(todo.first_seen),
                format_rfc3339(todo.last_seen),
                list(&todo.places, 5)
            );
            let _ = writeln!(out, "      -> {}", terminal_safe(advice));
        }
        if clients.len() > top {
            let _ = writeln!(out, "    ... and {} more clients", clients.len() - top);
        }
    }
    principals_left(out, top.min(principals.len()), principals.len());
}

/// The legacy TLS to-do list: per principal, each client with the TLS version and cipher
/// suites it used, the services it called, and what to change.
fn tls_callers(out: &mut String, rows: &Rows<'_>, top: usize) {
    type Client<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, &'a str);
    let principals = by_principal(rows.tls.iter().map(|r| {
        let key: Client<'_> = (
            r.ua_family,
            r.ua_version,
            r.tls_version,
            r.client.upgrade_advice.as_str(),
        );
        let service = r.event_source.map(|s| s.trim_end_matches(".amazonaws.com"));
        (r.principal, key, &r.tally, service, r.cipher_suite)
    }));
    if principals.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nLegacy TLS callers (TLS older than 1.2): what each principal must fix"
    );
    for (principal, total, clients) in principals.iter().take(top) {
        let _ = writeln!(out, "  {}: {} requests", show(*principal), total);
        for ((family, version, tls_version, advice), todo) in clients.iter().take(top) {
            let _ = writeln!(
                out,
                "    {}  {}  {} requests  {} .. {}  services: {}  cipher suites: {}",
                client_label(*family, *version),
                show(*tls_version),
                todo.requests,
                format_rfc3339(todo.first_seen),
                format_rfc3339(todo.last_seen),
                list(&todo.places, 5),
                list(&todo.cipher_suites, 5)
            );
            let _ = writeln!(out, "      -> {}", terminal_safe(advice));
        }
        if clients.len() > top {
            let _ = writeln!(out, "    ... and {} more clients", clients.len() - top);
        }
    }
    principals_left(out, top.min(principals.len()), principals.len());
}
