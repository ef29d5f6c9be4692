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
///
/// The organization, account and region are one shared value ([`LayoutStrings`]): every
/// log file of a folder spells the same three, and a month of an organization trail lists
/// 691,000 of them, where a pointer to each of three strings was 48 bytes an object.
/// Saved (shard plans) with the four fields spelled out, as they always were.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "LayoutFields", into = "LayoutFields")]
pub struct KeyLayout {
    scope: Option<Arc<Scope>>,
    /// Delivery time from the file name (epoch seconds), not the events' time: a file holds
    /// events from any time before it.
    pub delivered_at: Option<i64>,
}

/// Where a log file's key places it.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Scope {
    org_id: Option<Box<str>>,
    account_id: Option<Box<str>>,
    region: Option<Box<str>>,
}

impl KeyLayout {
    pub fn org_id(&self) -> Option<&str> {
        self.scope.as_ref().and_then(|s| s.org_id.as_deref())
    }

    pub fn account_id(&self) -> Option<&str> {
        self.scope.as_ref().and_then(|s| s.account_id.as_deref())
    }

    pub fn region(&self) -> Option<&str> {
        self.scope.as_ref().and_then(|s| s.region.as_deref())
    }
}

/// [`KeyLayout`] as it is saved.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename = "KeyLayout")]
struct LayoutFields {
    org_id: Option<String>,
    account_id: Option<String>,
    region: Option<String>,
    delivered_at: Option<i64>,
}

impl From<LayoutFields> for KeyLayout {
    fn from(f: LayoutFields) -> KeyLayout {
        let any = f.org_id.is_some() || f.account_id.is_some() || f.region.is_some();
        KeyLayout {
            scope: any.then(|| {
                Arc::new(Scope {
                    org_id: f.org_id.map(String::into_boxed_str),
                    account_id: f.account_id.map(String::into_boxed_str),
                    region: f.region.map(String::into_boxed_str),
                })
            }),
            delivered_at: f.delivered_at,
        }
    }
}

impl From<KeyLayout> for LayoutFields {
    fn from(l: KeyLayout) -> LayoutFields {
        let owned = |s: Option<&str>| s.map(str::to_owned);
        LayoutFields {
            org_id: owned(l.org_id()),
            account_id: owned(l.account_id()),
            region: owned(l.region()),
            delivered_at: l.delivered_at,
        }
    }
}

/// The few distinct places of a listing's keys (organization, account and region), each
/// held once and shared by every key that spells it: a month of an organization trail has
/// 691,000 log files but 20 accounts and 4 regions, and three strings of their own per file
/// were 66 MB of the listing (heaptrack, BENCHMARKS.md). The files of a folder come one
/// after another, so the last place is tried first.
#[derive(Debug, Default)]
pub struct LayoutStrings {
    last: Option<Arc<Scope>>,
    all: FxHashSet<Arc<Scope>>,
}

impl LayoutStrings {
    fn scope(&mut self, org_id: Option<&str>, account_id: &str, region: &str) -> Arc<Scope> {
        if let Some(last) = &self.last
            && last.org_id.as_deref() == org_id
            && last.account_id.as_deref() == Some(account_id)
            && last.region.as_deref() == Some(region)
        {
            return Arc::clone(last);
        }
        let scope = Scope {
            org_id: org_id.map(Box::from),
            account_id: Some(account_id.into()),
            region: Some(region.into()),
        };
        let held = match self.all.get(&scope) {
            Some(held) => Arc::clone(held),
            None => {
                let held = Arc::new(scope);
                self.all.insert(Arc::clone(&held));
                held
            }
        };
        self.last = Some(Arc::clone(&held));
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
            scope: Some(strings.scope(org_id_of(key), account, region)),
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

/// A folder name of exactly `digits` decimal digits (a layout's year, month or day), read.
pub(super) fn number<T: std::str::FromStr>(s: &str, digits: usize) -> Option<T> {
    (s.len() == digits && s.bytes().all(|c| c.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
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
        assert_eq!(layout.account_id(), Some("111122223333"));
        assert_eq!(layout.region(), Some("us-east-1"));
        assert_eq!(layout.org_id(), None);
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
        assert_eq!(layout.org_id(), Some("o-exampleorg1"));
        assert_eq!(layout.account_id(), Some("444455556666"));
    }

    #[test]
    fn a_layout_is_saved_with_its_fields_spelled_out_and_shared_when_listed() {
        let key = "AWSLogs/o-exampleorg1/444455556666/CloudTrail/us-west-2/2026/03/01/444455556666_CloudTrail_us-west-2_20260301T1210Z_ZZZZZZZZZZZZZZZZ.json";
        let mut strings = LayoutStrings::default();
        let (_, layout) = classify_sharing(key, &mut strings);
        let bytes = postcard::to_stdvec(&layout).expect("encodes");
        // The saved form is the four fields, as before the place was shared.
        let fields: LayoutFields = postcard::from_bytes(&bytes).expect("decodes");
        assert_eq!(
            (
                fields.org_id.as_deref(),
                fields.account_id.as_deref(),
                fields.region.as_deref(),
                fields.delivered_at
            ),
            (
                Some("o-exampleorg1"),
                Some("444455556666"),
                Some("us-west-2"),
                parse_event_time("2026-03-01T12:10:00Z")
            )
        );
        let back: KeyLayout = postcard::from_bytes(&bytes).expect("decodes");
        assert_eq!(back, layout);
        // A second file of the folder shares the first one's place.
        let (_, next) = classify_sharing(&key.replace("T1210Z", "T1215Z"), &mut strings);
        let (a, b) = (layout.scope.expect("placed"), next.scope.expect("placed"));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(classify("README.txt").1, KeyLayout::default());
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
