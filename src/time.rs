//! CloudTrail timestamps: `eventTime` on the hot path, RFC 3339 / dates on the command line.
//!
//! Everything is UTC epoch seconds (`i64`): CloudTrail has one-second resolution, and plain
//! integers keep per-second bucketing and hour truncation to a division.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

pub const SECONDS_PER_HOUR: i64 = 3600;
pub const SECONDS_PER_DAY: i64 = 86_400;

/// Parses CloudTrail's `eventTime` (`YYYY-MM-DDTHH:MM:SSZ`, fractional seconds tolerated)
/// into epoch seconds. Returns `None` for anything else: the record is then malformed.
///
/// Hand-rolled because it runs once per record and a format-string parser costs more than
/// the rest of the record's attribution.
pub fn parse_event_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    // Anything between the seconds and the `Z` must be a fraction: `.123`.
    if b.len() > 20 && (b[19] != b'.' || !b[20..b.len() - 1].iter().all(u8::is_ascii_digit)) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let days = i64::from(date.to_epoch_days());
    Some(days * SECONDS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second.min(59)))
}

/// `eventTime` truncated to the hour, the grouping unit of every output.
pub fn hour_of(epoch_seconds: i64) -> i64 {
    epoch_seconds.div_euclid(SECONDS_PER_HOUR) * SECONDS_PER_HOUR
}

/// Parses a command-line time: RFC 3339 (`2026-03-01T02:00:00Z`) or a date (`2026-03-01`,
/// meaning its midnight UTC).
pub fn parse_cli_time(s: &str) -> Result<i64, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(i64::from(d.to_epoch_days()) * SECONDS_PER_DAY);
    }
    Err(format!(
        "'{s}' is not a time: use RFC 3339 (2026-03-01T02:00:00Z) or a date (2026-03-01)"
    ))
}

/// Formats epoch seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(epoch_seconds: i64) -> String {
    match Utc.timestamp_opt(epoch_seconds, 0).single() {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => format!("@{epoch_seconds}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_time_round_trips() {
        let t = parse_event_time("2026-03-01T02:03:04Z").unwrap();
        assert_eq!(format_rfc3339(t), "2026-03-01T02:03:04Z");
        assert_eq!(format_rfc3339(hour_of(t)), "2026-03-01T02:00:00Z");
    }

    #[test]
    fn event_time_tolerates_fractions_and_rejects_garbage() {
        assert_eq!(
            parse_event_time("2026-03-01T02:03:04.250Z"),
            parse_event_time("2026-03-01T02:03:04Z")
        );
        for bad in [
            "",
            "2026-03-01",
            "2026-13-01T00:00:00Z",
            "2026-03-01 02:03:04Z",
            "2026-03-01T02:03:04+01:00",
            "2026-03-01T02:03:04.xZ",
        ] {
            assert_eq!(parse_event_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn cli_time_accepts_dates_and_rfc3339() {
        assert_eq!(
            parse_cli_time("2026-03-01").unwrap(),
            parse_event_time("2026-03-01T00:00:00Z").unwrap()
        );
        assert_eq!(
            parse_cli_time("2026-03-01T03:00:00+01:00").unwrap(),
            parse_event_time("2026-03-01T02:00:00Z").unwrap()
        );
        assert!(
            parse_cli_time("yesterday")
                .unwrap_err()
                .contains("RFC 3339")
        );
    }
}
