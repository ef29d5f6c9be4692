//! Projections of the analysed span: what the KMS tables' cost and savings columns divide by
//! (README, "Reading the KMS insights").

use crate::attribute::kms::DAYS_PER_MONTH;
use crate::time::{SECONDS_PER_DAY, SECONDS_PER_HOUR, hour_of};

/// The analysed span: from the hour of the earliest attributed event to the end of the hour
/// of the latest. Projections divide by it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    pub fn days(&self) -> f64 {
        (self.end - self.start) as f64 / SECONDS_PER_DAY as f64
    }

    pub fn hours(&self) -> i64 {
        (self.end - self.start) / SECONDS_PER_HOUR
    }
}

/// Turns calls over the span into projected calls and dollars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    pub span: Span,
    /// US dollars per 10,000 requests.
    pub price_per_10k: f64,
}

impl Projection {
    pub fn per_day(&self, calls: u64) -> f64 {
        calls as f64 / self.span.days()
    }

    pub fn per_month(&self, calls: u64) -> f64 {
        self.per_day(calls) * DAYS_PER_MONTH
    }

    pub fn usd(&self, requests: f64) -> f64 {
        requests * self.price_per_10k / 10_000.0
    }
}

impl Projection {
    /// The projection of a run whose attributed events span `first` to `last` (none: no
    /// event, nothing to project).
    pub fn of(first: Option<i64>, last: Option<i64>, price_per_10k: f64) -> Option<Projection> {
        Some(Projection {
            span: Span {
                start: hour_of(first?),
                end: hour_of(last?) + SECONDS_PER_HOUR,
            },
            price_per_10k,
        })
    }
}
