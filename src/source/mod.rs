//! Inputs: turn what the user named into the objects to read, with what each key's layout
//! tells, pruning (and counting) what is not a log file or cannot match the filters before
//! anything is read.

pub mod fetch;
pub mod layout;
pub mod local;
pub mod local_file;
pub mod s3;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use layout::{KeyLayout, ObjectKind};

/// Where an object's bytes are.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
///
/// The object's key says the rest, so that a listing holds each path once: a local file's key
/// is its path, an S3 object's is `s3://<bucket>/<key>` (a month of an organization trail
/// lists 691,000 objects, and a second copy of every path was a fifth of the listing's heap).
pub enum Location {
    /// A local file at the path its key spells.
    File,
    /// A local file whose path is not valid UTF-8 (its key is the path's lossy rendering).
    Path(PathBuf),
    /// An object of the S3 bucket `bucket`.
    S3 { bucket: Arc<str> },
}

/// One log file to read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectRef {
    /// The name reported to the user (a path, or an `s3://bucket/key` URL).
    pub key: String,
    pub location: Location,
    pub layout: KeyLayout,
    pub size: u64,
    pub etag: Etag,
}

impl ObjectRef {
    /// The key and location of the local file at `path`.
    pub fn local(path: PathBuf) -> (String, Location) {
        match path.into_os_string().into_string() {
            Ok(key) => (key, Location::File),
            Err(raw) => {
                let path = PathBuf::from(raw);
                (path.to_string_lossy().into_owned(), Location::Path(path))
            }
        }
    }

    /// The path of a local file; `None` for an S3 object.
    pub fn path(&self) -> Option<&Path> {
        match &self.location {
            Location::File => Some(Path::new(&self.key)),
            Location::Path(path) => Some(path),
            Location::S3 { .. } => None,
        }
    }

    /// The bucket and key of an S3 object; `None` for a local file.
    pub fn s3_object(&self) -> Option<(&str, &str)> {
        let Location::S3 { bucket } = &self.location else {
            return None;
        };
        let key = self
            .key
            .strip_prefix("s3://")?
            .strip_prefix(&**bucket)?
            .strip_prefix('/')?;
        Some((bucket, key))
    }

    pub fn is_remote(&self) -> bool {
        matches!(self.location, Location::S3 { .. })
    }
}

/// What tells a changed object from the one a `--state` file or a shard saw: S3's ETag, or
/// a local file's size and modification time. A local file's is kept as its two numbers
/// and spelled `<size>-<nanoseconds>` only when it is compared or saved: a month of an
/// organization trail lists 691,000 files, and a string each was 17 MB of the listing
/// (heaptrack, BENCHMARKS.md).
#[derive(Debug, Clone)]
pub enum Etag {
    File { size: u64, modified_ns: u64 },
    Text(Box<str>),
}

impl Etag {
    /// The ETag as saved and compared.
    pub fn as_str(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Etag::File { size, modified_ns } => format!("{size}-{modified_ns}").into(),
            Etag::Text(text) => std::borrow::Cow::Borrowed(text),
        }
    }
}

impl Default for Etag {
    fn default() -> Self {
        Etag::Text("".into())
    }
}

impl std::fmt::Display for Etag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// Equal when spelled the same: an ETag read back from a plan is text.
impl PartialEq for Etag {
    fn eq(&self, other: &Etag) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Etag {}

impl From<&str> for Etag {
    fn from(text: &str) -> Etag {
        Etag::Text(text.into())
    }
}

impl From<String> for Etag {
    fn from(text: String) -> Etag {
        Etag::Text(text.into_boxed_str())
    }
}

/// Saved as the string it spells, as it was when it was one.
impl serde::Serialize for Etag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Etag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Etag, D::Error> {
        String::deserialize(d).map(Etag::from)
    }
}

/// Objects listed but not read, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SkippedObjects {
    pub digest: u64,
    pub insight: u64,
    pub not_cloudtrail: u64,
    pub outside_time_range: u64,
    pub other_account: u64,
    pub other_region: u64,
    /// Listed in a delivery hour that the `--state` checkpoint had already finished, but
    /// never seen by it (delivered after the interrupted run listed): see resume.
    pub after_state: u64,
}

impl SkippedObjects {
    pub fn total(&self) -> u64 {
        self.digest
            + self.insight
            + self.not_cloudtrail
            + self.outside_time_range
            + self.other_account
            + self.other_region
            + self.after_state
    }

    /// Why the skipped objects were skipped, one phrase per reason that applies: what a
    /// user reads when no log file was read at all.
    pub fn reasons(&self) -> Vec<String> {
        let n = |count: u64| {
            if count == 1 {
                "1 file".to_owned()
            } else {
                format!("{count} files")
            }
        };
        let mut out = Vec::new();
        if self.not_cloudtrail > 0 {
            out.push(format!(
                "{} skipped: their names are not CloudTrail log file names (pass a file by name to read it anyway)",
                n(self.not_cloudtrail)
            ));
        }
        if self.digest > 0 {
            out.push(format!(
                "{} skipped: CloudTrail digest files, which hold no events",
                n(self.digest)
            ));
        }
        if self.insight > 0 {
            out.push(format!(
                "{} skipped: CloudTrail Insights files, which hold no API calls",
                n(self.insight)
            ));
        }
        if self.outside_time_range > 0 {
            out.push(format!(
                "{} skipped: delivered too early or too late to hold events between --start and --end (see --delivery-allowance)",
                n(self.outside_time_range)
            ));
        }
        if self.other_account > 0 {
            out.push(format!(
                "{} skipped: of accounts --account leaves out",
                n(self.other_account)
            ));
        }
        if self.other_region > 0 {
            out.push(format!(
                "{} skipped: of regions --region leaves out",
                n(self.other_region)
            ));
        }
        if self.after_state > 0 {
            out.push(format!(
                "{} skipped: delivered into hours the --state checkpoint had finished",
                n(self.after_state)
            ));
        }
        out
    }

    /// Adds the counts of `other` (a sub-folder's).
    pub(crate) fn add(&mut self, other: &SkippedObjects) {
        self.digest += other.digest;
        self.insight += other.insight;
        self.not_cloudtrail += other.not_cloudtrail;
        self.outside_time_range += other.outside_time_range;
        self.other_account += other.other_account;
        self.other_region += other.other_region;
        self.after_state += other.after_state;
    }

    fn count_kind(&mut self, kind: ObjectKind) {
        match kind {
            ObjectKind::Digest => self.digest += 1,
            ObjectKind::Insight => self.insight += 1,
            ObjectKind::NotCloudTrail => self.not_cloudtrail += 1,
            ObjectKind::Log => {}
        }
    }
}

/// What listing found.
#[derive(Debug, Default)]
pub struct Listing {
    pub listed: u64,
    pub objects: Vec<ObjectRef>,
    pub skipped: SkippedObjects,
    /// Day folders not listed yet (local::list_deferring_days, s3::list), in walk order.
    pub days: Vec<DayFolder>,
}

/// A folder of one delivery day, not listed yet: the run lists it as its reading comes
/// within a day of it (delivery_hours).
#[derive(Debug, Clone)]
pub struct DayFolder {
    /// The day's first second (UTC), from the folder's name.
    pub day: i64,
    pub place: DayPlace,
}

/// Where a day folder is.
#[derive(Debug, Clone)]
pub enum DayPlace {
    Local(PathBuf),
    /// The day's prefix (`.../YYYY/MM/DD/`) in `bucket`.
    S3 {
        bucket: Arc<str>,
        prefix: String,
    },
}

/// A listed object, before it is classified.
pub(crate) struct Listed {
    pub name: String,
    pub location: Location,
    pub size: u64,
    pub etag: Etag,
}

/// Counts a listed object and keeps it when it is a log file the filters can want.
pub(crate) fn admit(
    listed: Listed,
    kind: ObjectKind,
    layout: KeyLayout,
    filter: &ObjectFilter,
    listing: &mut Listing,
) {
    listing.listed += 1;
    if wanted(kind, &layout, filter, &mut listing.skipped) {
        listing.objects.push(ObjectRef {
            key: listed.name,
            location: listed.location,
            layout,
            size: listed.size,
            etag: listed.etag,
        });
    }
}

/// True for a log file the filters can want; anything else is counted in `skipped` under
/// its reason.
fn wanted(
    kind: ObjectKind,
    layout: &KeyLayout,
    filter: &ObjectFilter,
    skipped: &mut SkippedObjects,
) -> bool {
    if kind != ObjectKind::Log {
        skipped.count_kind(kind);
        return false;
    }
    filter.admit(layout, skipped)
}

/// Which objects can hold wanted records, judged from the key alone.
#[derive(Debug, Clone, Default)]
pub struct ObjectFilter {
    pub start: Option<i64>,
    pub end: Option<i64>,
    /// How long after an event its file may be delivered: a file delivered later than
    /// `end + allowance` cannot hold events before `end`.
    pub delivery_allowance: i64,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

impl ObjectFilter {
    /// False (and counted under its reason) when the key shows the object cannot match.
    fn admit(&self, layout: &KeyLayout, skipped: &mut SkippedObjects) -> bool {
        if let Some(delivered) = layout.delivered_at {
            // A file delivered before the window opens holds only earlier events.
            let too_early = self.start.is_some_and(|s| delivered < s);
            let too_late = self
                .end
                .is_some_and(|e| delivered > e + self.delivery_allowance);
            if too_early || too_late {
                skipped.outside_time_range += 1;
                return false;
            }
        }
        let unwanted = |wanted: &[String], have: Option<&str>| {
            !wanted.is_empty() && have.is_some_and(|h| !wanted.iter().any(|w| w == h))
        };
        if unwanted(&self.accounts, layout.account_id()) {
            skipped.other_account += 1;
            return false;
        }
        if unwanted(&self.regions, layout.region()) {
            skipped.other_region += 1;
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: String, location: Location) -> ObjectRef {
        ObjectRef {
            layout: layout::classify(&key).1,
            key,
            location,
            size: 1,
            etag: Etag::from("e"),
        }
    }

    #[test]
    fn a_local_files_etag_is_its_size_and_time_however_it_is_held() {
        let file = Etag::File {
            size: 1234,
            modified_ns: 1_772_000_000_123_456_789,
        };
        assert_eq!(file.to_string(), "1234-1772000000123456789");
        // As a shard plan or state file saves it and reads it back: text, and equal.
        let bytes = postcard::to_stdvec(&file).expect("encodes");
        let saved: String = postcard::from_bytes(&bytes).expect("a string");
        assert_eq!(saved, "1234-1772000000123456789");
        let back: Etag = postcard::from_bytes(&bytes).expect("decodes");
        assert!(matches!(back, Etag::Text(_)));
        assert_eq!(back, file);
        assert_ne!(Etag::from("1234-1"), file);
    }

    #[test]
    fn an_object_holds_its_path_or_s3_key_once_and_gives_it_back() {
        let (key, location) = ObjectRef::local(PathBuf::from("trail/a_CloudTrail.json.gz"));
        assert_eq!(location, Location::File);
        let local = object(key, location);
        assert_eq!(local.path(), Some(Path::new("trail/a_CloudTrail.json.gz")));
        assert_eq!((local.s3_object(), local.is_remote()), (None, false));

        let remote = object(
            s3::S3Url::object_name("my-trail", "AWSLogs/x/y.json.gz"),
            Location::S3 {
                bucket: "my-trail".into(),
            },
        );
        assert_eq!(
            remote.s3_object(),
            Some(("my-trail", "AWSLogs/x/y.json.gz"))
        );
        assert_eq!((remote.path(), remote.is_remote()), (None, true));
    }

    #[cfg(unix)]
    #[test]
    fn a_path_that_is_not_utf8_keeps_its_own_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let raw = std::ffi::OsStr::from_bytes(b"trail/caf\xe9/x.json");
        let (key, location) = ObjectRef::local(PathBuf::from(raw));
        assert_eq!(key, "trail/caf\u{fffd}/x.json", "the name users see");
        let file = object(key, location);
        assert_eq!(file.path(), Some(Path::new(raw)), "the file that is opened");
    }
}
