//! Local inputs: a trail copied to disk (`aws s3 sync`), or single files.

use std::path::Path;

use anyhow::{Context, Result, bail};
use walkdir::WalkDir;

use super::layout::{ObjectKind, classify, has_trail_extension};
use super::{Listed, Listing, Location, ObjectFilter, admit};

/// Adds what `input` holds to `listing`.
///
/// A directory is walked in name order and only files named like CloudTrail log files are
/// read. A single file named on the command line is read whatever its name, as long as it
/// ends in `.json` or `.json.gz`: the user chose it.
pub fn list(input: &Path, filter: &ObjectFilter, listing: &mut Listing) -> Result<()> {
    let meta = std::fs::metadata(input)
        .with_context(|| format!("cannot read input '{}'", input.display()))?;
    if meta.is_file() {
        let key = input.to_string_lossy().into_owned();
        let (mut kind, layout) = classify(&key);
        if kind == ObjectKind::NotCloudTrail && has_trail_extension(&key) {
            kind = ObjectKind::Log;
        } else if kind == ObjectKind::NotCloudTrail {
            bail!(
                "'{}' is not a CloudTrail log file: name a .json.gz or .json file, or a directory",
                input.display()
            );
        }
        let listed = Listed {
            name: key,
            location: Location::File(input.to_path_buf()),
            size: meta.len(),
            etag: file_etag(&meta),
        };
        admit(listed, kind, layout, filter, listing);
        return Ok(());
    }
    for entry in WalkDir::new(input).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot walk '{}'", input.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let key = path.to_string_lossy().into_owned();
        let (kind, layout) = classify(&key);
        let meta = entry.metadata().ok();
        let listed = Listed {
            name: key,
            location: Location::File(path.to_path_buf()),
            size: meta.as_ref().map_or(0, std::fs::Metadata::len),
            etag: meta.as_ref().map(file_etag).unwrap_or_default(),
        };
        admit(listed, kind, layout, filter, listing);
    }
    Ok(())
}

/// A local file's stand-in for an ETag: size and modification time, which change when the
/// file is rewritten (a trail copied again with `aws s3 sync` keeps both when unchanged).
pub(crate) fn file_etag(meta: &std::fs::Metadata) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("{}-{modified}", meta.len())
}
