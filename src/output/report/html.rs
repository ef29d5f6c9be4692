//! `report.html`: the report as one self-contained page (inline CSS and SVG, no script, no
//! network), with a picture per account and region of each hour's busiest second, split by
//! caller, against the quota, so an hourly spike and who made it show at a glance. Draws
//! only from the [`ReportModel`], as the terminal report does.
//!
//! Every string that comes from the trail (principals, user agents, keys, buckets, even
//! account ids and regions: any field can be forged by whoever writes records) goes through
//! [`esc`] before it reaches the page, in text and in attributes alike.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use super::format::{NAMES, count, dollars, esc, percent, thousands};
use super::model::{Chart, Listing, Period, PrincipalToDo, ReportModel, Text};
use crate::attribute::kms::CacheOperation;
use crate::time::{SECONDS_PER_HOUR, format_rfc3339};

fn text(s: Text<'_>) -> String {
    s.map_or_else(|| "<span class=\"null\">-</span>".to_owned(), esc)
}

fn usd(v: Option<f64>) -> String {
    v.map_or("-".to_owned(), dollars)
}

pub fn write(path: &Path, model: &ReportModel<'_>) -> Result<()> {
    std::fs::write(path, render(model)).with_context(|| format!("cannot write {}", path.display()))
}

/// The page's style sheet.
const STYLE: &str = include_str!("report.css");

/// Colours of the top callers in a chart; the rest are grey.
const PALETTE: [&str; 6] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
];
const OTHER: &str = "#c9c4bf";
const CALLERS_PER_CHART: usize = 5;

pub fn render(model: &ReportModel<'_>) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>trailsift report</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n"
    );
    header(&mut out, model);
    charts(&mut out, model);
    quota_hours(&mut out, model);
    callers(&mut out, model);
    cost(&mut out, model);
    bucket_keys(&mut out, model);
    caching(&mut out, model);
    sigv2(&mut out, model);
    tls(&mut out, model);
    failures(&mut out, model);
    out.push_str("</body>\n</html>\n");
    out
}

/// The "... and N more" paragraph under a cut table.
fn more<T>(out: &mut String, list: &Listing<T>) {
    if let Some(line) = list.more_line() {
        let _ = writeln!(out, "<p class=\"more\">{}</p>", esc(&line));
    }
}

/// The "... and N more" row of a cut group inside a table.
fn more_row<T>(out: &mut String, list: &Listing<T>, columns: usize) {
    if let Some(line) = list.more_line() {
        let _ = writeln!(
            out,
            "<tr class=\"more\"><td colspan=\"{columns}\">{}</td></tr>",
            esc(&line)
        );
    }
}

/// At most [`NAMES`] names, then how many more.
fn names(set: &BTreeSet<&str>, separator: &str) -> String {
    let mut shown: Vec<String> = set.iter().take(NAMES).map(|n| esc(n)).collect();
    if set.len() > NAMES {
        shown.push(format!("+{} more", set.len() - NAMES));
    }
    if shown.is_empty() {
        "<span class=\"null\">-</span>".to_owned()
    } else {
        shown.join(separator)
    }
}

/// The user agents of a client as logged, under its name; nothing when none was logged.
fn agents(set: &BTreeSet<&str>) -> String {
    if set.is_empty() {
        String::new()
    } else {
        format!("<div class=\"ua\">{}</div>", names(set, "<br>"))
    }
}

fn header(out: &mut String, model: &ReportModel<'_>) {
    let h = &model.headline;
    let _ = writeln!(out, "<h1>trailsift report</h1>");
    answers(out, model);
    let _ = writeln!(
        out,
        "<p class=\"meta\">trailsift {}: {} read, {} skipped, {} failed; {} ({} KMS, {} S3, {} malformed, {} duplicates not counted) in {:.2} s.</p>",
        env!("CARGO_PKG_VERSION"),
        count(h.objects_read, "object"),
        h.objects_skipped,
        h.objects_failed,
        count(h.records, "record"),
        h.kms,
        h.s3,
        h.malformed,
        h.duplicates,
        h.wall_seconds
    );
    if let Some(p) = model.period {
        let _ = writeln!(
            out,
            "<p class=\"meta\">Events from {} to {} ({} analysed).</p>",
            format_rfc3339(p.start),
            format_rfc3339(p.end),
            count(p.hours as u64, "hour")
        );
    }
    if let Some(r) = &model.resumed {
        let _ = writeln!(
            out,
            "<p class=\"meta\">Resumed from {}: {} objects finished by the interrupted run were not read again.</p>",
            esc(r.state_file),
            r.objects_from_state
        );
    }
    if let Some(d) = &model.duplicates {
        let _ = writeln!(
            out,
            "<p class=\"note\">{} duplicate records not counted: {} delivered again with the same eventID, {} key owner's copies of cross-account calls whose caller's copy was counted.</p>",
            d.total, d.event_id, d.cross_account
        );
    }
    for w in model.warnings {
        let _ = writeln!(out, "<div class=\"warn\">{}</div>", esc(w));
    }
}

/// The answers first: who still signs with SigV2, who still speaks legacy TLS, and how
/// close the busiest KMS second came to its quota, each linking to its table.
fn answers(out: &mut String, model: &ReportModel<'_>) {
    let a = model.answers();
    out.push_str("<ul class=\"answers\">\n");
    if a.sigv2_visible {
        let _ = writeln!(
            out,
            "<li><a href=\"#sigv2\"><b>{}</b> still {} S3 requests with SigV2</a> ({})</li>",
            count(a.sigv2_principals, "principal"),
            if a.sigv2_principals == 1 {
                "signs"
            } else {
                "sign"
            },
            count(a.sigv2_requests, "request")
        );
    } else {
        out.push_str("<li><a href=\"#sigv2\">SigV2 cannot be seen: the input has no S3 data events</a></li>\n");
    }
    let _ = writeln!(
        out,
        "<li><a href=\"#tls\"><b>{}</b> still {} TLS 1.0 or 1.1</a> ({})</li>",
        count(a.tls_principals, "principal"),
        if a.tls_principals == 1 { "uses" } else { "use" },
        count(a.tls_requests, "request")
    );
    match a.closest_hour {
        Some(q) => {
            let _ = writeln!(out, "<li><a href=\"#quota\">{}</a></li>", esc(&q.summary()));
        }
        None => out.push_str("<li>No KMS cryptographic calls</li>\n"),
    }
    out.push_str("</ul>\n");
}

/// A round number at least `v`, for the top of an axis.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 1.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * mag >= v {
            return m * mag;
        }
    }
    10.0 * mag
}

/// Intervals between 0 and `top` (a [`nice_ceiling`]) so that every gridline falls on a
/// round number (a step of 1, 2, 2.5 or 5 times a power of ten): a top of 150 in quarters
/// would label the lines 38 and 113.
fn grid_intervals(top: f64) -> u32 {
    for n in [4u32, 5, 6, 3] {
        let step = top / f64::from(n);
        let mantissa = step / 10f64.powf(step.log10().floor());
        if [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .any(|m| (mantissa - m).abs() < 1e-9)
        {
            return n;
        }
    }
    4
}

/// A gridline's label: whole numbers with thousands separators, fractions (tops below 4)
/// with what they need.
fn tick_label(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        thousands(v.round() as u64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').to_owned()
    }
}

fn charts(out: &mut String, model: &ReportModel<'_>) {
    let Some(period) = model.period else {
        return;
    };
    if model.charts.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h2>KMS requests per second: the busiest second of each hour</h2>\n<p class=\"note\">Symmetric cryptographic calls of all principals in the account and region (the calls that share the quota), in the busiest second of each hour, split by caller. Throttled calls are included: they are demand the quota refused. Hover a bar for its numbers.</p>"
    );
    for spike in &model.recurring_spikes {
        let _ = writeln!(
            out,
            "<div class=\"warn\"><b>Recurring spike</b> in account {} / {}: the busiest second of {} of {} hours falls in minute :{:02} (median peak {} calls/s against a mean of {:.1} calls/s); {} made {} of those peaks. A job on a schedule: spread its calls over the hour (jitter, rate limit), and see below whether an S3 Bucket Key or a data key cache removes them.</div>",
            text(spike.account_id),
            text(spike.region),
            spike.hours_with,
            spike.hours,
            spike.minute,
            thousands(spike.median_peak),
            spike.mean_rps,
            text(spike.principal),
            percent(spike.principal_share)
        );
    }
    // The model lists the accounts and regions closest to their quota first.
    for c in &model.charts {
        chart(out, c, period);
    }
    if model.chart_scopes > model.charts.len() {
        let _ = writeln!(
            out,
            "<p class=\"more\">... and {} more accounts and regions in kms_rates.parquet</p>",
            model.chart_scopes - model.charts.len()
        );
    }
}

fn chart(out: &mut String, c: &Chart<'_>, period: Period) {
    let (account, region, bars, quota, top) =
        (c.account_id, c.region, &c.bars, c.quota, c.highest_peak);
    // The callers that make the peaks, by their calls summed over the hours' peak seconds.
    let mut weight: BTreeMap<Text<'_>, u64> = BTreeMap::new();
    for b in bars {
        for (p, n) in b.by_principal {
            *weight.entry(*p).or_default() += n;
        }
    }
    let mut ranked: Vec<(Text<'_>, u64)> = weight.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let colored: Vec<Text<'_>> = ranked
        .iter()
        .take(CALLERS_PER_CHART)
        .map(|(p, _)| *p)
        .collect();
    let color = |p: Text<'_>| {
        colored
            .iter()
            .position(|c| *c == p)
            .map_or(OTHER, |i| PALETTE[i % PALETTE.len()])
    };

    // The quota line is drawn when it is within reach of the peaks; far above, it is named.
    let quota_in_view = quota <= top.saturating_mul(4) || top == 0;
    let y_top = nice_ceiling(if quota_in_view {
        (quota as f64).max(top as f64) * 1.05
    } else {
        top as f64 * 1.1
    });

    let (width, height) = (1040.0, 280.0);
    let (left, right, upper, lower) = (64.0, 16.0, 14.0, 42.0);
    let plot_w = width - left - right;
    let plot_h = height - upper - lower;
    let hours = period.hours.max(1) as f64;
    let slot = plot_w / hours;
    let bar_w = (slot * 0.8).max(1.0);
    let x_of = |hour: i64| left + ((hour - period.start) / SECONDS_PER_HOUR) as f64 * slot;
    let y_of = |v: f64| upper + plot_h - v / y_top * plot_h;

    let peak_share = percent(top as f64 / quota as f64);
    let _ = writeln!(
        out,
        "<figure>\n<figcaption>Account {} in {}: quota {} calls/s, highest peak {} calls/s ({} of the quota)</figcaption>",
        text(account),
        text(region),
        quota,
        top,
        peak_share
    );
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" aria-label=\"busiest second of each hour, account {}, region {}\">",
        esc(account.unwrap_or("-")),
        esc(region.unwrap_or("-"))
    );
    // Grid and y axis.
    let intervals = grid_intervals(y_top);
    for i in 0..=intervals {
        let v = y_top * f64::from(i) / f64::from(intervals);
        let y = y_of(v);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            width - right,
            left - 6.0,
            y + 4.0,
            tick_label(v)
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"12\" y=\"{:.1}\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">calls per second</text>",
        upper + plot_h / 2.0,
        upper + plot_h / 2.0
    );
    // Bars: one stack per hour, bottom up in legend order, the rest on top.
    for b in bars {
        let x = x_of(b.hour) + (slot - bar_w) / 2.0;
        let mut segments: Vec<(Text<'_>, u64)> = Vec::new();
        for p in &colored {
            if let Some((_, n)) = b.by_principal.iter().find(|(q, _)| q == p) {
                segments.push((*p, *n));
            }
        }
        let named: u64 = segments.iter().map(|s| s.1).sum();
        let mut tooltip = format!(
            "{}: {} calls/s at {} ({} of the quota), {} throttled in the hour",
            format_rfc3339(b.hour),
            b.peak,
            format_rfc3339(b.hour + i64::from(b.peak_second)),
            percent(b.peak as f64 / quota as f64),
            b.throttled
        );
        for (p, n) in &segments {
            let _ = write!(tooltip, "\n{}: {}", p.unwrap_or("-"), n);
        }
        if b.peak > named {
            let _ = write!(tooltip, "\nothers: {}", b.peak - named);
        }
        let _ = write!(out, "<g><title>{}</title>", esc(&tooltip));
        let mut stack: Vec<(&str, u64)> = segments.iter().map(|(p, n)| (color(*p), *n)).collect();
        if b.peak > named {
            stack.push((OTHER, b.peak - named));
        }
        let mut base = 0u64;
        for (fill, n) in stack {
            let y1 = y_of((base + n) as f64);
            let y0 = y_of(base as f64);
            let _ = write!(
                out,
                "<rect x=\"{x:.2}\" y=\"{y1:.2}\" width=\"{bar_w:.2}\" height=\"{:.2}\" fill=\"{fill}\"/>",
                (y0 - y1).max(0.0)
            );
            base += n;
        }
        out.push_str("</g>\n");
    }
    // The mean rate of each hour: how far the busiest second stands above the typical one.
    let mean: Vec<String> = bars
        .iter()
        .map(|b| format!("{:.1},{:.1}", x_of(b.hour) + slot / 2.0, y_of(b.mean_rps)))
        .collect();
    let _ = writeln!(
        out,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#1d2433\" stroke-width=\"1.5\"/>",
        mean.join(" ")
    );
    // Quota and 80 % lines, or a note when the quota is far above the peaks.
    if quota_in_view {
        for (v, class, label) in [
            (
                quota as f64,
                "quota",
                format!("quota {}/s", thousands(quota)),
            ),
            (quota as f64 * 0.8, "warn80", "80%".to_owned()),
        ] {
            if v <= y_top {
                let y = y_of(v);
                let _ = writeln!(
                    out,
                    "<line class=\"{class}\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
                    width - right,
                    width - right - 4.0,
                    y - 4.0
                );
            }
        }
    } else {
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">quota {}/s is above the scale: the highest peak uses {}</text>",
            width - right - 4.0,
            upper + 12.0,
            thousands(quota),
            peak_share
        );
    }
    // X axis: a tick per day (or every few hours on short spans).
    let _ = writeln!(
        out,
        "<line class=\"axis\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
        width - right,
        upper + plot_h,
        upper + plot_h
    );
    let every = tick_hours(period.hours);
    let mut h = period.start;
    while h < period.end {
        if (h / SECONDS_PER_HOUR) % every == 0 {
            let x = x_of(h);
            let stamp = format_rfc3339(h);
            let label = if every >= 24 {
                stamp[..10].to_owned()
            } else {
                format!("{} {}", &stamp[5..10], &stamp[11..16])
            };
            let _ = writeln!(
                out,
                "<line class=\"axis\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
                upper + plot_h,
                upper + plot_h + 4.0,
                upper + plot_h + 18.0
            );
        }
        h += SECONDS_PER_HOUR;
    }
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">hour (UTC)</text>",
        left + plot_w / 2.0,
        height - 6.0
    );
    out.push_str("</svg>\n<div class=\"legend\">");
    for (i, p) in colored.iter().enumerate() {
        let _ = write!(
            out,
            "<span><i style=\"background:{}\"></i>{}</span>",
            PALETTE[i % PALETTE.len()],
            text(*p)
        );
    }
    if ranked.len() > colored.len() {
        let _ = write!(
            out,
            "<span><i style=\"background:{OTHER}\"></i>{} other principals</span>",
            ranked.len() - colored.len()
        );
    }
    let _ = write!(
        out,
        "<span><i style=\"background:#d62728;height:2px;vertical-align:3px\"></i>quota (calls/s, {})</span>",
        if quota_in_view {
            "drawn"
        } else {
            "above the scale"
        }
    );
    out.push_str("<span><i style=\"background:#1d2433;height:2px;vertical-align:3px\"></i>mean calls/s of the hour</span>");
    out.push_str("</div>\n");
    minute_profile(out, c);
    out.push_str("</figure>\n");
}

/// The busiest second of each minute of the hour, over all hours: a job that runs on a
/// schedule shows as one tall bar (minute 0 for "every hour, on the hour").
fn minute_profile(out: &mut String, chart: &Chart<'_>) {
    let (top, busiest_in, bars) = (chart.minute_peaks, chart.busiest_in, &chart.bars);
    let max = top.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return;
    }
    let (width, height) = (1040.0, 120.0);
    let (left, right, upper, lower) = (64.0, 16.0, 18.0, 28.0);
    let plot_w = width - left - right;
    let plot_h = height - upper - lower;
    let y_top = nice_ceiling(f64::from(max) * 1.05);
    let slot = plot_w / 60.0;
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" aria-label=\"busiest second by minute of the hour\">\n<text x=\"{left}\" y=\"12\">busiest second in each minute of the hour, over all {} hours (calls/s; darker: the hour's busiest second fell in that minute)</text>",
        bars.len()
    );
    for (m, &c) in top.iter().enumerate() {
        let h = f64::from(c) / y_top * plot_h;
        let x = left + m as f64 * slot + slot * 0.1;
        let fill = if busiest_in[m] > 0 {
            PALETTE[0]
        } else {
            "#a9bdd6"
        };
        let _ = writeln!(
            out,
            "<g><title>minute {m:02}: {c} calls/s at most; busiest second of {} of {} hours</title><rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{fill}\"/></g>",
            busiest_in[m],
            bars.len(),
            upper + plot_h - h,
            slot * 0.8
        );
        if m % 5 == 0 {
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">:{m:02}</text>",
                x + slot * 0.4,
                height - 10.0
            );
        }
    }
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><line class=\"axis\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\n</svg>",
        left - 6.0,
        upper + 4.0,
        thousands(y_top as u64),
        width - right,
        upper + plot_h,
        upper + plot_h
    );
}

/// Hours between x-axis ticks, for about a dozen ticks.
fn tick_hours(span_hours: i64) -> i64 {
    match span_hours {
        ..=12 => 1,
        13..=36 => 3,
        37..=72 => 6,
        73..=168 => 24,
        _ => 24 * ((span_hours / 24 + 11) / 12).max(1),
    }
}

fn quota_hours(out: &mut String, model: &ReportModel<'_>) {
    let hours = &model.quota_hours;
    if hours.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h2 id=\"quota\">Hours closest to the quota</h2>\n<p class=\"note\">Per account, region and quota class (each class has a quota of its own; today's default quotas are used for every hour, or --quota); seconds over 80% and over 100% of the quota count the seconds of the hour whose calls exceeded that share.</p>\n<table><tr><th>hour</th><th>account</th><th>region</th><th>class</th><th class=\"n\">peak/s</th><th>busiest second</th><th class=\"n\">quota/s</th><th class=\"n\">use</th><th class=\"n\">s &gt; 80%</th><th class=\"n\">s &gt; quota</th><th class=\"n\">throttled</th></tr>"
    );
    let count = |v: Option<u64>| v.map_or("-".to_owned(), thousands);
    for h in hours.shown() {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n{}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            format_rfc3339(h.hour),
            text(h.account_id),
            text(h.region),
            match h.custom_key_store_id {
                Some(store) => text(Some(&format!("{} {store}", h.quota_class))),
                None => text(Some(h.quota_class)),
            },
            thousands(h.peak),
            format_rfc3339(h.peak_at),
            h.quota.map_or("-".to_owned(), |q| q
                .whole_rps()
                .map_or(q.to_string(), thousands)),
            if h.share.is_some_and(|s| s >= 0.8) {
                " hot"
            } else {
                ""
            },
            h.share.map_or("-".to_owned(), percent),
            count(h.seconds_over_80),
            count(h.seconds_over_quota),
            thousands(h.throttled)
        );
    }
    out.push_str("</table>\n");
    more(out, hours);
}

fn callers(out: &mut String, model: &ReportModel<'_>) {
    let callers = &model.kms_callers;
    if callers.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h2>Top KMS callers</h2>\n<p class=\"note\">All KMS calls; peak: the principal's symmetric calls in its busiest second.</p>\n<table><tr><th>principal</th><th class=\"n\">calls</th><th class=\"n\">peak/s</th><th>peak at</th><th class=\"n\">throttled</th><th class=\"n\">$/month</th></tr>"
    );
    for c in callers.shown() {
        let _ = writeln!(
            out,
            "<tr><td class=\"wrap\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            text(c.principal),
            thousands(c.calls),
            thousands(c.peak),
            c.peak_at.map_or("-".to_owned(), format_rfc3339),
            thousands(c.throttled),
            usd(c.usd_per_month)
        );
    }
    out.push_str("</table>\n");
    more(out, callers);
}

fn cost(out: &mut String, model: &ReportModel<'_>) {
    let Some(cost) = &model.cost else {
        return;
    };
    let _ = writeln!(
        out,
        "<h2>KMS cost</h2>\n<p class=\"note\">Projection: calls in the {:.2} days analysed, divided by the days, times 1 (a day) or {} (a month), at ${} per 10,000 requests (--kms-price). The free tier ({} requests a month per account, all regions together) is taken off the account totals only. Asymmetric keys and data key pairs cost more than this price.</p>",
        cost.days,
        cost.days_per_month,
        cost.price_per_10k,
        thousands(cost.free_tier_per_month)
    );
    let t = &cost.total;
    let _ = writeln!(
        out,
        "<p><b>{} calls</b>: {:.0} a day, <b>{}</b> a day, <b>{}</b> a month ({} after the free tier).</p>",
        thousands(t.calls),
        t.per_day,
        dollars(t.usd_per_day),
        dollars(t.usd_per_month),
        usd(cost.usd_per_month_after_free_tier)
    );
    let kinds: Vec<String> = cost
        .by_kind
        .iter()
        .map(|(k, n)| format!("{k} {}", thousands(*n)))
        .collect();
    let _ = writeln!(
        out,
        "<p class=\"note\">By caller kind: {}.</p>",
        esc(&kinds.join(", "))
    );
    let _ = writeln!(
        out,
        "<table><tr><th>scope</th><th>account</th><th>principal or key</th><th class=\"n\">calls</th><th class=\"n\">throttled</th><th class=\"n\">calls/day</th><th class=\"n\">$/day</th><th class=\"n\">$/month</th></tr>"
    );
    for (scope, lines) in [
        ("account", &cost.accounts),
        ("principal", &cost.principals),
        ("key", &cost.keys),
    ] {
        for r in lines.shown() {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"wrap\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.0}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                scope,
                text(r.account_id),
                if scope == "account" {
                    String::new()
                } else {
                    text(r.name)
                },
                thousands(r.projected.calls),
                thousands(r.throttled),
                r.projected.per_day,
                dollars(r.projected.usd_per_day),
                dollars(r.projected.usd_per_month)
            );
        }
        more_row(out, lines, 8);
    }
    out.push_str("</table>\n");
}

fn bucket_keys(out: &mut String, model: &ReportModel<'_>) {
    let buckets = &model.bucket_keys;
    if buckets.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h2>S3 Bucket Key candidates</h2>\n<p class=\"note\">KMS calls S3 made for SSE-KMS objects whose encryption context is an object ARN: one data key per object, no Bucket Key. With a Bucket Key, S3 reuses a bucket-level key for each requester for a limited time; assuming at most an hour, each requester (each session of a principal) would still make one call per hour, key and operation, so the estimate saves object-ARN calls minus those (AWS quotes up to 99%). DSSE-KMS buckets cannot use a Bucket Key: nothing is saved. A bucket that also shows bucket-ARN calls has a Bucket Key already: its older objects keep calling KMS until they are copied (S3 Batch Operations). Buckets most calls saved first, each with its principals.</p>\n<table><tr><th>bucket</th><th>principal</th><th>what to do</th><th class=\"n\">object-ARN calls</th><th class=\"n\">bucket-ARN calls</th><th class=\"n\">est. calls with Bucket Key</th><th class=\"n\">est. saved</th><th class=\"n\">$/month saved</th></tr>"
    );
    for b in buckets.shown() {
        for p in b.principals.shown() {
            let _ = writeln!(
                out,
                "<tr><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(b.bucket),
                text(p.principal),
                b.advice,
                thousands(p.object_arn_calls),
                thousands(p.bucket_arn_calls),
                thousands(p.calls_with_bucket_key),
                thousands(p.saved_calls),
                usd(p.usd_per_month_saved)
            );
        }
        more_row(out, &b.principals, 8);
    }
    out.push_str("</table>\n");
    more(out, buckets);
}

fn caching(out: &mut String, model: &ReportModel<'_>) {
    let caching = &model.caching;
    if caching.candidates.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h2>Data key caching candidates</h2>\n<p class=\"note\">Direct GenerateDataKey and Decrypt calls (no AWS service in between) per principal, key and encryption context (a fingerprint of the whole context; aws-crypto-public-key left out). A cache (AWS Encryption SDK) with a maximum age of {} s (--cache-max-age) would make one call per {} s window with calls; it saves the rest. For Decrypt that is an upper bound: a cached decryption is reused only for the same encrypted data keys, which CloudTrail does not log.</p>\n<table><tr><th>operation</th><th>principal</th><th>key</th><th>context</th><th class=\"n\">calls</th><th class=\"n\">windows</th><th class=\"n\">busiest window</th><th class=\"n\">est. saved</th><th class=\"n\">$/month saved</th></tr>",
        caching.max_age, caching.max_age
    );
    for c in caching.candidates.shown() {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            match c.operation {
                CacheOperation::GenerateDataKey => "GenerateDataKey",
                CacheOperation::Decrypt => "Decrypt (at most)",
            },
            text(c.principal),
            text(c.key_arn),
            esc(&c.context),
            thousands(c.calls),
            thousands(c.windows),
            thousands(c.busiest_window),
            thousands(c.saved),
            usd(c.usd_per_month_saved)
        );
    }
    out.push_str("</table>\n");
    more(out, &caching.candidates);
}

/// A to-do list as one table: a row per principal with its total, then per client a row
/// of what was seen and a row of what to do; cut at `top` with a line saying how many more.
fn todo_table<C>(
    out: &mut String,
    principals: &Listing<PrincipalToDo<'_, C>>,
    headings: &[&str],
    client: impl Fn(&mut String, Text<'_>, &C),
) {
    out.push_str("<table class=\"todo\"><tr>");
    for h in headings {
        let class = if *h == "requests" { " class=\"n\"" } else { "" };
        let _ = write!(out, "<th{class}>{h}</th>");
    }
    out.push_str("</tr>\n");
    for p in principals.shown() {
        let _ = writeln!(
            out,
            "<tr class=\"principal\"><td colspan=\"{}\">{}: {} {}</td></tr>",
            headings.len(),
            text(p.principal),
            thousands(p.requests),
            if p.requests == 1 {
                "request"
            } else {
                "requests"
            }
        );
        for c in p.clients.shown() {
            client(out, p.principal, c);
        }
        more_row(out, &p.clients, headings.len());
    }
    out.push_str("</table>\n");
    more(out, principals);
}

/// The "what to do" row under a client.
fn advice_row(out: &mut String, advice: &str, columns: usize) {
    let _ = writeln!(
        out,
        "<tr class=\"advice\"><td colspan=\"{columns}\">&rarr; {}</td></tr>",
        esc(advice)
    );
}

/// The SigV2 to-do list: per principal, each client with its version, evidence, the first
/// version that signs SigV4, what to do, the buckets, how many requests and when.
fn sigv2(out: &mut String, model: &ReportModel<'_>) {
    let sigv2 = &model.sigv2;
    let _ = writeln!(
        out,
        "<h2 id=\"sigv2\">SigV2 callers (S3): what each principal must upgrade</h2>"
    );
    if sigv2.principals.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\">{}.</p>",
            if sigv2.s3_data_events == 0 {
                "None visible: the input has no S3 data events"
            } else {
                "None"
            }
        );
        return;
    }
    let _ = writeln!(
        out,
        "<p class=\"note\">Observed: the event says SigV2. Inferred: the event predates SignatureVersion and its client is below its SigV4 minimum. Under each client, the user agents as logged.</p>"
    );
    const HEADINGS: [&str; 7] = [
        "client",
        "evidence",
        "SigV4 from",
        "requests",
        "first seen",
        "last seen",
        "buckets",
    ];
    todo_table(out, &sigv2.principals, &HEADINGS, |out, principal, c| {
        let _ = writeln!(
            out,
            "<tr class=\"client\"><td class=\"wrap\">{}{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td class=\"names\">{}</td></tr>",
            esc(&c.label(principal)),
            agents(&c.user_agents),
            c.evidence,
            text(c.sigv4_min_version),
            thousands(c.requests),
            format_rfc3339(c.first_seen),
            format_rfc3339(c.last_seen),
            names(&c.buckets, ", ")
        );
        advice_row(out, c.advice, HEADINGS.len());
    });
}

/// The legacy TLS to-do list: per principal, each client with the TLS version and cipher
/// suites it used, the services it called, and what to change.
fn tls(out: &mut String, model: &ReportModel<'_>) {
    if model.tls.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h2 id=\"tls\">Legacy TLS callers (TLS older than 1.2): what each principal must fix</h2>\n<p class=\"note\">Under each client, the user agents as logged.</p>"
    );
    const HEADINGS: [&str; 7] = [
        "client",
        "TLS",
        "requests",
        "first seen",
        "last seen",
        "services",
        "cipher suites",
    ];
    todo_table(out, &model.tls, &HEADINGS, |out, _, c| {
        let _ = writeln!(
            out,
            "<tr class=\"client\"><td class=\"wrap\">{}{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td class=\"names\">{}</td><td class=\"names\">{}</td></tr>",
            esc(&c.label()),
            agents(&c.user_agents),
            text(c.tls_version),
            thousands(c.requests),
            format_rfc3339(c.first_seen),
            format_rfc3339(c.last_seen),
            names(&c.services, ", "),
            names(&c.cipher_suites, ", ")
        );
        advice_row(out, c.advice, HEADINGS.len());
    });
}

fn failures(out: &mut String, model: &ReportModel<'_>) {
    if model.failures.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h2>Failed objects</h2>\n<table><tr><th>object</th><th>reason</th></tr>"
    );
    for f in model.failures.shown() {
        let _ = writeln!(
            out,
            "<tr><td class=\"wrap\">{}</td><td>{}</td></tr>",
            esc(f.key),
            esc(f.reason)
        );
    }
    out.push_str("</table>\n");
    more(out, &model.failures);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_helpers() {
        assert_eq!(nice_ceiling(84.0), 100.0);
        assert_eq!(nice_ceiling(105_000.0), 120_000.0);
        assert_eq!(nice_ceiling(0.5), 1.0);
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(tick_hours(24), 3);
        // Every gridline on a round number, whatever the top.
        assert_eq!(grid_intervals(150.0), 6);
        assert_eq!(grid_intervals(120.0), 6);
        assert_eq!(grid_intervals(100.0), 4);
        assert_eq!(grid_intervals(250.0), 5);
        assert_eq!(grid_intervals(120_000.0), 6);
        assert_eq!(grid_intervals(1.0), 4);
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(0.5), "0.5");
        assert_eq!(tick_label(25_000.0), "25,000");
    }
}
