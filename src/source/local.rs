//! Local inputs: a trail copied to disk (`aws s3 sync`), or single files.

use std::path::Path;

use anyhow::{Context, Result, bail};
use walkdir::WalkDir;

use super::layout::{ObjectKind, classify, has_trail_extension};
use super::{Listing, Location, ObjectFilter, admit};

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
        admit(
            key,
            Location::File(input.to_path_buf()),
            kind,
            layout,
            meta.len(),
            filter,
            listing,
        );
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
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        admit(
            key,
            Location::File(path.to_path_buf()),
            kind,
            layout,
            size,
            filter,
            listing,
        );
    }
    Ok(())
}
