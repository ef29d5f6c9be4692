//! What a key (an S3 key, or a path below a local trail root) says before it is read:
//! whether it is a CloudTrail log file at all, and the organization, account, region and
//! delivery time its layout encodes.
//!
//! `[prefix/]AWSLogs/[o-<org>/]<account>/CloudTrail/<region>/YYYY/MM/DD/`
//! `<account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<suffix>.json.gz`

use std::sync::Arc;

use chrono::NaiveDate;
use rustc_hash::FxHashSet;

use crate::time::{SECONDS_PER_DAY, SECONDS_PER_HOUR};

/// Why an object is (or is not) read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    /// A CloudTrail event log file: `{"Records": [...]}`.
    Log,
    /// `CloudTrail-Digest/`: integrity digests, one JSON object without `Records`.
    Digest,
    /// `CloudTrail-Insight/`: Insights events, a different schema.
    Insight,
    /// Anything else in the bucket: AWS Config snapshots, access logs, READMEs.
    NotCloudTrail,
}

/// The facts a log file's key encodes. Every field is optional: a file handed over on the
/// command line may have any name.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyLayout {
    pub org_id: Option<Arc<str>>,
    pub account_id: Option<Arc<str>>,
    pub region: Option<Arc<str>>,
    /// Delivery time from the file name (epoch seconds), not the events' time: a file holds
    /// events from any time before it.
    pub delivered_at: Option<i64>,
}

/// The few distinct strings of a listing's layouts (its organizations, accounts and
/// regions), each held once and shared by every key that spells it: a month of an
/// organization trail has 691,000 log files but 20 accounts and 4 regions, and three strings
/// of their own per file were 66 MB of the listing (heaptrack, BENCHMARKS.md).
#[derive(Debug, Default)]
pub struct LayoutStrings(FxHashSet<Arc<str>>);

impl LayoutStrings {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(held) = self.0.get(s) {
            return Arc::clone(held);
        }
        let held: Arc<str> = Arc::from(s);
        self.0.insert(Arc::clone(&held));
        held
    }
}

/// Classifies a key by its file name and folders.
pub fn classify(key: &str) -> (ObjectKind, KeyLayout) {
    classify_sharing(key, &mut LayoutStrings::default())
}

/// [`classify`], with the layout's strings shared through `strings`.
pub fn classify_sharing(key: &str, strings: &mut LayoutStrings) -> (ObjectKind, KeyLayout) {
    let name = key.rsplit(['/', '\\']).next().unwrap_or(key);
    if let Some((account, region, delivered_at)) = parse_log_file_name(name) {
        let layout = KeyLayout {
            org_id: org_id_of(key).map(|o| strings.get(o)),
            account_id: Some(strings.get(account)),
            region: Some(strings.get(region)),
            delivered_at: Some(delivered_at),
        };
        return (ObjectKind::Log, layout);
    }
    let kind = if name.contains("_CloudTrail-Digest_") || key.contains("/CloudTrail-Digest/") {
        ObjectKind::Digest
    } else if name.contains("_CloudTrail-Insight_") || key.contains("/CloudTrail-Insight/") {
        ObjectKind::Insight
    } else {
        ObjectKind::NotCloudTrail
    };
    (kind, KeyLayout::default())
}

/// True for names a user may hand over as a single trail file (`.json.gz` or `.json`).
pub fn has_trail_extension(name: &str) -> bool {
    name.ends_with(".json.gz") || name.ends_with(".json")
}

/// `<account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<suffix>.json[.gz]`
/// Returns the account, the region and the delivery time.
fn parse_log_file_name(name: &str) -> Option<(&str, &str, i64)> {
    let stem = name
        .strip_suffix(".json.gz")
        .or_else(|| name.strip_suffix(".json"))?;
    let mut parts = stem.split('_');
    let account = parts.next()?;
    if parts.next()? != "CloudTrail" {
        return None;
    }
    let region = parts.next()?;
    let stamp = parts.next()?;
    let suffix = parts.next()?;
    if parts.next().is_some()
        || account.len() != 12
        || !account.bytes().all(|c| c.is_ascii_digit())
        || region.is_empty()
        || !region
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        || suffix.is_empty()
        || !suffix.bytes().all(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    Some((account, region, parse_delivery_stamp(stamp)?))
}

/// `YYYYMMDDTHHmmZ` to epoch seconds.
fn parse_delivery_stamp(stamp: &str) -> Option<i64> {
    let b = stamp.as_bytes();
    if b.len() != 14 || b[8] != b'T' || b[13] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(0..4)?).ok()?,
        digits(4..6)?,
        digits(6..8)?,
    )?;
    let (hour, minute) = (digits(9..11)?, digits(11..13)?);
    if hour > 23 || minute > 59 {
        return None;
    }
    Some(
        i64::from(date.to_epoch_days()) * SECONDS_PER_DAY
            + i64::from(hour) * SECONDS_PER_HOUR
            + i64::from(minute) * 60,
    )
}

/// The organization id of an organization trail: the `o-...` folder right after `AWSLogs/`.
fn org_id_of(key: &str) -> Option<&str> {
    let mut folders = key
        .split(['/', '\\'])
        .skip_while(|f| *f != "AWSLogs")
        .skip(1);
    folders
        .next()
        .filter(|f| f.starts_with("o-") && f.len() > 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_event_time;

    #[test]
    fn log_file_in_account_layout() {
        let (kind, layout) = classify(
            "trail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/111122223333_CloudTrail_us-east-1_20260302T0005Z_a1B2c3D4e5F6g7H8.json.gz",
        );
        assert_eq!(kind, ObjectKind::Log);
        assert_eq!(layout.account_id.as_deref(), Some("111122223333"));
        assert_eq!(layout.region.as_deref(), Some("us-east-1"));
        assert_eq!(layout.org_id, None);
        assert_eq!(
            layout.delivered_at,
            parse_event_time("2026-03-02T00:05:00Z")
        );
    }

    #[test]
    fn log_file_in_organization_layout() {
        let (kind, layout) = classify(
            "AWSLogs/o-exampleorg1/444455556666/CloudTrail/us-west-2/2026/03/01/444455556666_CloudTrail_us-west-2_20260301T1210Z_ZZZZZZZZZZZZZZZZ.json",
        );
        assert_eq!(kind, ObjectKind::Log);
        assert_eq!(layout.org_id.as_deref(), Some("o-exampleorg1"));
        assert_eq!(layout.account_id.as_deref(), Some("444455556666"));
    }

    #[test]
    fn digests_insights_and_other_objects_are_not_logs() {
        let digest = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20260301T020000Z.json.gz";
        assert_eq!(classify(digest).0, ObjectKind::Digest);
        let insight = "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/03/01/111122223333_CloudTrail-Insight_us-east-1_20260301T0200Z_abc.json.gz";
        assert_eq!(classify(insight).0, ObjectKind::Insight);
        for other in [
            "AWSLogs/111122223333/Config/us-east-1/2026/3/1/ConfigSnapshot/x.json.gz",
            "README.txt",
            "events.json",
            "1111_CloudTrail_us-east-1_20260301T0200Z_abc.json.gz",
            "111122223333_CloudTrail_us-east-1_20261301T0200Z_abc.json.gz",
        ] {
            assert_eq!(classify(other).0, ObjectKind::NotCloudTrail, "{other}");
        }
    }
}
