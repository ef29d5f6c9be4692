//! Tests of the report model: what each section shows, derived by hand.

use super::*;
use crate::output::report::{html, text};
use crate::tables::TallyRow;
use crate::tables::kms_rates::{self, SecondCounts};
use crate::tables::{sigv2_requests, tls_legacy};

const HOUR: i64 = 1_772_323_200; // 2026-03-01T00:00:00Z

fn tally(count: u64, first_seen: i64, last_seen: i64) -> Tally {
    Tally {
        count,
        first_seen,
        last_seen,
    }
}

fn sigv2_row<'a>(
    principal: &'a str,
    agent: &'a str,
    version: &'a str,
    bucket: &'a str,
    auth: &'a str,
    t: Tally,
) -> SigV2Row<'a> {
    // The advice names the version, as the real one does.
    let advice: &'static str =
        Box::leak(format!("upgrade aws-cli {version} to 1.11.108 or later").into_boxed_str());
    TallyRow {
        key: sigv2_requests::Resolved {
            hour: t.first_seen - t.first_seen % 3600,
            account_id: Some("111122223333"),
            region: Some("us-east-1"),
            principal: Some(principal),
            principal_type: Some("IAMUser"),
            user_agent: Some(agent),
            ua_family: Some("aws-cli"),
            ua_version: Some(version),
            event_name: Some("GetObject"),
            bucket: Some(bucket),
            source_ip: Some("203.0.113.9"),
            auth_method: Some(auth),
            evidence: "observed",
            ua_kind: Some("cli"),
            sigv4_min_version: Some("1.11.108"),
            upgrade_advice: Some(advice),
            access_key_id: None,
        },
        tally: t,
        sessions: None,
        example_session: None,
    }
}

fn tls_row<'a>(principal: &'a str, service: &'a str, t: Tally) -> TlsRow<'a> {
    TallyRow {
        key: tls_legacy::Resolved {
            hour: t.first_seen - t.first_seen % 3600,
            account_id: Some("111122223333"),
            region: Some("us-east-1"),
            event_source: Some(service),
            principal: Some(principal),
            principal_type: Some("IAMUser"),
            user_agent: Some("aws-sdk-dotnet/3.3.1.0 .NET_Runtime/4.0"),
            ua_family: Some("aws-sdk-dotnet"),
            ua_version: Some("3.3.1.0"),
            tls_version: Some("TLSv1"),
            cipher_suite: Some("ECDHE-RSA-AES256-SHA"),
            source_ip: Some("203.0.113.9"),
            ua_kind: Some("sdk"),
            upgrade_advice: Some("move to .NET 4.6.2 or later"),
            access_key_id: None,
        },
        tally: t,
        sessions: None,
        example_session: None,
    }
}

/// A model with nothing in it but what a test puts there.
fn empty<'a>(top: usize) -> ReportModel<'a> {
    ReportModel {
        headline: Headline::default(),
        period: None,
        resumed: None,
        duplicates: None,
        kms_callers: Listing::new(Vec::new(), top, "principals in kms_calls.parquet"),
        quota_hours: Listing::new(Vec::new(), top, "hours in kms_rates.parquet"),
        recurring_spikes: Vec::new(),
        cost: None,
        bucket_keys: Listing::new(Vec::new(), top, "buckets in kms_bucket_keys.parquet"),
        caching: Caching {
            max_age: 300,
            candidates: Listing::new(Vec::new(), top, "candidates"),
        },
        sigv2: SigV2 {
            s3_data_events: 0,
            principals: Listing::new(Vec::new(), top, "principals"),
        },
        tls: Listing::new(Vec::new(), top, "principals"),
        failures: Listing::new(Vec::new(), top, "in summary.json"),
        warnings: &[],
        charts: Vec::new(),
        chart_scopes: 0,
    }
}

/// Three SigV2 principals: old-batch with two clients (one of them presigned URLs),
/// etl and a <b>hostile</b> one with one each.
fn sigv2_rows<'a>() -> Vec<SigV2Row<'a>> {
    vec![
        sigv2_row(
            "user/old-batch",
            "aws-cli/1.10.56 Python/2.7",
            "1.10.56",
            "old-reports",
            "AuthHeader",
            tally(3, HOUR + 10, HOUR + 50),
        ),
        // The same client in a later hour on another bucket, with another agent string.
        sigv2_row(
            "user/old-batch",
            "aws-cli/1.10.56 Python/3.4",
            "1.10.56",
            "archive",
            "AuthHeader",
            tally(2, HOUR + 3600, HOUR + 3700),
        ),
        sigv2_row(
            "user/old-batch",
            "aws-cli/1.9.0",
            "1.9.0",
            "old-reports",
            "QueryString",
            tally(1, HOUR + 20, HOUR + 20),
        ),
        sigv2_row(
            "role/etl",
            "aws-cli/1.10.1",
            "1.10.1",
            "etl-in",
            "AuthHeader",
            tally(4, HOUR, HOUR + 7200),
        ),
        sigv2_row(
            "user/<b>x</b>",
            "aws-cli/1.10.1",
            "1.10.1",
            "b",
            "AuthHeader",
            tally(1, HOUR, HOUR),
        ),
    ]
}

#[test]
fn sigv2_is_a_to_do_list_per_principal_and_client() {
    let rows = sigv2_rows();
    let todo = sigv2_todo(rows.iter().cloned(), 10);
    let names: Vec<(Text<'_>, u64)> = todo
        .items
        .iter()
        .map(|p| (p.principal, p.requests))
        .collect();
    assert_eq!(
        names,
        [
            (Some("user/old-batch"), 6),
            (Some("role/etl"), 4),
            (Some("user/<b>x</b>"), 1)
        ]
    );
    let batch = &todo.items[0].clients.items;
    assert_eq!(batch.len(), 2);
    let cli = &batch[0];
    assert_eq!(
        (cli.family, cli.version),
        (Some("aws-cli"), Some("1.10.56"))
    );
    assert_eq!(cli.signing, Signing::Header);
    assert_eq!(cli.requests, 5);
    assert_eq!((cli.first_seen, cli.last_seen), (HOUR + 10, HOUR + 3700));
    assert_eq!(
        cli.buckets.iter().copied().collect::<Vec<_>>(),
        ["archive", "old-reports"]
    );
    assert_eq!(cli.user_agents.len(), 2);
    assert_eq!(cli.sigv4_min_version, Some("1.11.108"));
    assert_eq!(cli.advice, "upgrade aws-cli 1.10.56 to 1.11.108 or later");
    let presigned = &batch[1];
    assert_eq!(presigned.signing, Signing::PresignedUrl);
    assert_eq!(
        presigned.label(Some("user/old-batch")),
        "presigned URL fetched by aws-cli/1.9.0 (the agent is the consumer's; user/old-batch signed it)"
    );
}

#[test]
fn tls_is_a_to_do_list_per_principal_and_client() {
    let rows = [
        tls_row("user/app", "s3.amazonaws.com", tally(2, HOUR, HOUR + 5)),
        tls_row(
            "user/app",
            "kms.amazonaws.com",
            tally(1, HOUR + 9, HOUR + 9),
        ),
    ];
    let todo = tls_todo(rows.iter().cloned(), 10);
    assert_eq!(todo.len(), 1);
    let client = &todo.items[0].clients.items[0];
    assert_eq!(todo.items[0].requests, 3);
    assert_eq!(client.label(), "aws-sdk-dotnet/3.3.1.0");
    assert_eq!(
        client.services.iter().copied().collect::<Vec<_>>(),
        ["kms", "s3"]
    );
    assert_eq!(client.tls_version, Some("TLSv1"));
    assert_eq!(client.advice, "move to .NET 4.6.2 or later");
}

/// The "principal: N requests" lines of the SigV2 section of the terminal report.
fn text_principals(report: &str) -> Vec<String> {
    let section = report
        .split("SigV2 callers (S3)")
        .nth(1)
        .expect("SigV2 section");
    let section = section.split("\n\n").next().unwrap_or(section);
    section
        .lines()
        .filter(|l| {
            l.starts_with("  ")
                && !l.starts_with("   ")
                && (l.ends_with(" requests") || l.ends_with(" request"))
        })
        .map(|l| l.trim().to_owned())
        .collect()
}

/// The same from report.html, unescaped.
fn html_principals(page: &str) -> Vec<String> {
    let section = page
        .split("SigV2 callers (S3)")
        .nth(1)
        .expect("SigV2 section");
    let section = section.split("</table>").next().unwrap_or(section);
    section
        .split("<tr class=\"principal\"><td colspan=\"7\">")
        .skip(1)
        .map(|s| {
            s.split("</td>")
                .next()
                .unwrap_or("")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
        })
        .collect()
}

#[test]
fn text_and_html_list_the_same_sigv2_principals_and_counts() {
    let rows = sigv2_rows();
    let mut model = empty(10);
    model.sigv2 = SigV2 {
        s3_data_events: 11,
        principals: sigv2_todo(rows.iter().cloned(), 10),
    };
    let report = text::render(&model);
    let page = html::render(&model);
    let expected = [
        "user/old-batch: 6 requests",
        "role/etl: 4 requests",
        "user/<b>x</b>: 1 request",
    ];
    assert_eq!(text_principals(&report), expected, "{report}");
    assert_eq!(html_principals(&page), expected);
    // Each client, its requests and its advice, in both; the terminal gives each
    // distinct advice once, as a note its clients point to.
    let flat = report.split_whitespace().collect::<Vec<_>>().join(" ");
    for p in model.sigv2.principals.shown() {
        for c in p.clients.shown() {
            let label = c.label(p.principal);
            let requests = crate::output::report::format::count(c.requests, "request");
            assert!(
                report.contains(&format!("  {}  {requests}  [", c.evidence)),
                "{label} in {report}"
            );
            assert!(page.contains(&format!("{}<div class=\"ua\">", esc_for_test(&label))));
            assert!(flat.contains(c.advice), "{} in {report}", c.advice);
            assert_eq!(flat.matches(c.advice).count(), 1, "advice once: {report}");
            assert!(page.contains(&format!("&rarr; {}", c.advice)));
        }
    }
    assert!(page.contains("old-reports"));
    assert!(
        page.contains("aws-cli/1.10.56 Python/3.4"),
        "the agents as logged"
    );
    assert!(!page.contains("<b>x"), "a principal's markup got through");
}

fn esc_for_test(s: &str) -> String {
    crate::output::report::format::esc(s)
}

#[test]
fn a_list_longer_than_top_says_how_many_more_in_both() {
    let rows = sigv2_rows();
    let tls = [
        tls_row("user/a", "s3.amazonaws.com", tally(2, HOUR, HOUR)),
        tls_row("user/b", "s3.amazonaws.com", tally(1, HOUR, HOUR)),
    ];
    let mut model = empty(1);
    model.sigv2 = SigV2 {
        s3_data_events: 11,
        principals: sigv2_todo(rows.iter().cloned(), 1),
    };
    model.tls = tls_todo(tls.iter().cloned(), 1);
    let callers: Vec<KmsCaller<'_>> = ["role/a", "role/b", "role/c"]
        .into_iter()
        .map(|p| KmsCaller {
            principal: Some(p),
            calls: 10,
            peak: 0,
            peak_at: None,
            throttled: 0,
            usd_per_month: None,
        })
        .collect();
    model.kms_callers = Listing::new(callers, 1, "principals in kms_calls.parquet");
    let report = text::render(&model);
    let page = html::render(&model);
    for line in [
        // SigV2: 3 principals, the first with 2 clients.
        "... and 2 more principals\n",
        "... and 1 more client\n",
        // TLS: 2 principals.
        "... and 1 more principal\n",
        "... and 2 more principals in kms_calls.parquet\n",
    ] {
        assert!(report.contains(line), "{line:?} not in\n{report}");
    }
    for line in [
        "... and 2 more principals</p>",
        "... and 1 more client</td>",
        "... and 1 more principal</p>",
        "... and 2 more principals in kms_calls.parquet</p>",
    ] {
        assert!(page.contains(line), "{line:?} not in the page");
    }
    // Only what `top` shows.
    assert!(!report.contains("role/etl") && !page.contains("role/etl"));
    assert!(!report.contains("role/b") && !page.contains("role/b"));
}

#[test]
fn quota_hours_closest_to_the_quota_first() {
    let counts = |pairs: &[(u16, u32)]| SecondCounts {
        per_second: pairs.iter().copied().collect(),
        throttled: 2,
        ..SecondCounts::default()
    };
    // eu-north-1 (10,000/s): 9,000/s is 90%; us-east-1 (100,000/s): 20,000/s is 20%.
    let north = counts(&[(5, 9_000), (6, 8_500), (7, 100)]);
    let east = counts(&[(60, 20_000)]);
    let east_later = counts(&[(60, 20_000)]);
    let nowhere = counts(&[(1, 50_000)]);
    let rate = |hour: i64, region: Option<&'static str>, counts| RateRow {
        counts: std::borrow::Cow::Borrowed(counts),
        key: kms_rates::Resolved {
            hour,
            account_id: Some("111122223333"),
            region,
            quota_class: "symmetric",
            custom_key_store_id: None,
            principal: None,
        },
        example_session: None,
    };
    let rates = [
        rate(HOUR, Some("us-east-1"), &east),
        rate(HOUR + 3600, Some("us-east-1"), &east_later),
        rate(HOUR + 3600, None, &nowhere),
        rate(HOUR + 7200, Some("eu-north-1"), &north),
    ];
    let listing = quota_hours(rates.iter().cloned(), &Quotas::default(), 10);
    let hours = &listing.items;
    let order: Vec<(i64, Text<'_>)> = hours.iter().map(|h| (h.hour, h.region)).collect();
    assert_eq!(
        order,
        [
            (HOUR + 7200, Some("eu-north-1")),
            (HOUR, Some("us-east-1")),
            (HOUR + 3600, Some("us-east-1")),
            (HOUR + 3600, None),
        ]
    );
    let north = &hours[0];
    assert_eq!((north.peak, north.peak_at), (9_000, HOUR + 7200 + 5));
    assert_eq!(north.quota, Some(Quota::rps(10_000)));
    assert_eq!(north.seconds_over_80, Some(2));
    assert_eq!(north.seconds_over_quota, Some(0));
    assert_eq!(north.throttled, 2);
    // No region, no quota: nothing to compare with.
    assert_eq!((hours[3].quota, hours[3].share), (None, None));

    // With --top 2, only the two shown are kept, and the report still says 2 more.
    let cut = quota_hours(rates.iter().cloned(), &Quotas::default(), 2);
    let kept: Vec<(i64, Text<'_>)> = cut.items.iter().map(|h| (h.hour, h.region)).collect();
    assert_eq!(kept, order[..2]);
    assert_eq!((cut.len(), cut.more()), (4, 2));
    assert_eq!(
        cut.more_line().as_deref(),
        Some("... and 2 more hours in kms_rates.parquet")
    );
}

#[test]
fn a_list_cut_to_its_top_items_keeps_what_a_stable_sort_of_all_would_show() {
    // Ties on the sort key (the first field) must keep their order of arrival, as the
    // stable sort of the whole list did: 40 items, 7 distinct keys, cut at 1 to 9.
    let items: Vec<(u32, usize)> = (0..40).map(|i| ((i * 5 % 7) as u32, i)).collect();
    let order = |a: &(u32, usize), b: &(u32, usize)| b.0.cmp(&a.0);
    let mut whole = items.clone();
    whole.sort_by(order);
    for top in 0..10 {
        let cut = Listing::top_of(items.iter().copied(), top, "items", order);
        assert_eq!(cut.items, whole[..top], "top {top}");
        assert_eq!((cut.len(), cut.more()), (40, 40 - top));
    }
    let none = Listing::top_of(std::iter::empty::<(u32, usize)>(), 3, "items", order);
    assert!(none.is_empty() && none.more_line().is_none());
}

fn bucket_row<'a>(
    bucket: &'a str,
    principal: &'a str,
    object: u64,
    with_key: u64,
    bucket_arn: u64,
    status: BucketStatus,
) -> BucketKeyRow<'a> {
    BucketKeyRow {
        account_id: Some("111122223333"),
        region: Some("us-east-1"),
        s3_bucket: bucket,
        principal: Some(principal),
        object_arn_calls: object,
        bucket_arn_calls: bucket_arn,
        calls_with_bucket_key: with_key,
        bucket_status: status,
        sessions: 0,
        example_session: None,
        first_seen: HOUR,
        last_seen: HOUR,
    }
}

#[test]
fn bucket_key_candidates_per_bucket_with_their_principals() {
    use BucketStatus::*;
    let rows = vec![
        bucket_row("reports", "role/bi", 10, 3, 0, Off),
        bucket_row("reports", "role/etl", 20, 2, 0, Off),
        bucket_row("mixed", "role/bi", 30, 1, 5, OnWithOlderObjects),
        bucket_row("mixed", "role/new", 0, 0, 9, OnWithOlderObjects),
        bucket_row("done", "role/bi", 0, 0, 40, On),
        // DSSE-KMS: no Bucket Key possible, every call remains, no advice.
        bucket_row("dual", "role/bi", 50, 50, 0, DsseKms),
    ];
    let buckets = bucket_keys(&rows, None, 10);
    let names: Vec<(&str, u64, u64)> = buckets
        .iter()
        .map(|b| (b.bucket, b.object_arn_calls, b.saved_calls))
        .collect();
    assert_eq!(names, [("mixed", 30, 29), ("reports", 30, 25)]);
    assert_eq!(buckets[0].todo, "Bucket Key on: re-copy old objects");
    // A principal with only bucket-ARN calls has nothing to save.
    assert_eq!(buckets[0].principals.len(), 1);
    let reports: Vec<Text<'_>> = buckets[1]
        .principals
        .items
        .iter()
        .map(|p| p.principal)
        .collect();
    assert_eq!(reports, [Some("role/etl"), Some("role/bi")]);
    assert_eq!(buckets[1].todo, "enable Bucket Key + re-copy");
}

#[test]
fn a_listing_shows_top_and_counts_the_rest() {
    let l = Listing::new(vec![1, 2, 3], 2, "numbers");
    assert_eq!(l.shown(), [1, 2]);
    assert_eq!(l.more(), 1);
    assert_eq!(l.more_line().as_deref(), Some("... and 1 more number"));
    let all = Listing::new(vec![1], 5, "numbers");
    assert_eq!(all.shown(), [1]);
    assert_eq!(all.more_line(), None);
}
