//! Local inputs: a trail copied to disk (`aws s3 sync`), or single files.

use std::path::Path;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use super::layout::{
    LayoutStrings, ObjectKind, classify, classify_sharing, has_trail_extension, number,
};
use super::{
    DayFolder, DayPlace, Etag, Listed, Listing, ObjectFilter, ObjectRef, SkippedObjects, admit,
    wanted,
};

/// Adds what `input` holds to `listing`.
///
/// A directory is walked in name order and only files named like CloudTrail log files are
/// read. A single file named on the command line is read whatever its name, as long as it
/// ends in `.json` or `.json.gz`: the user chose it.
pub fn list(input: &Path, filter: &ObjectFilter, listing: &mut Listing) -> Result<()> {
    list_walking(input, filter, listing, false)
}

/// As [`list`], but the day folders under `input` (CloudTrail's `.../YYYY/MM/DD`) are not
/// walked: they are added to `listing.days`, for the run to list each as its reading
/// reaches the day ([`list_days`]). A month of an organization trail is 691,191 files; held
/// all at once, their keys and places were the run's heap peak (272 MB, BENCHMARKS.md), and
/// a run reads them a day at a time anyway.
pub fn list_deferring_days(
    input: &Path,
    filter: &ObjectFilter,
    listing: &mut Listing,
) -> Result<()> {
    list_walking(input, filter, listing, true)
}

/// Lists the local ones of `days` (folders [`list_deferring_days`] left), in parallel on the
/// current rayon pool, into `listing`, in their order.
///
/// Their files are not stat'ed: their size is 0 in the listing (the reader takes the file
/// whole, whatever its size) and they have no stand-in ETag. Only a run with neither
/// `--state` (whose checkpoint matches ETags) nor a shard plan (which balances bytes) leaves
/// day folders for later, and it needs neither. On a month of an organization trail the
/// stat was one system call in five per file, and 4% of the run's CPU (perf).
pub fn list_days(days: &[DayFolder], filter: &ObjectFilter, listing: &mut Listing) -> Result<()> {
    let walked: Vec<Walked> = days
        .par_iter()
        .filter_map(|d| match &d.place {
            DayPlace::Local(path) => Some(walk(path, filter, Walk::DayUnsized)),
            DayPlace::S3 { .. } => None,
        })
        .collect::<Result<_>>()?;
    let mut all = Walked::default();
    for w in walked {
        all.absorb(w);
    }
    join(all, listing);
    Ok(())
}

/// The day a folder named like CloudTrail's `YYYY/MM/DD` stands for: its first second.
fn day_of_folder(path: &Path) -> Option<i64> {
    let mut names = path.iter().rev().map(|c| c.to_str());
    let (d, m, y) = (names.next()??, names.next()??, names.next()??);
    let date = chrono::NaiveDate::from_ymd_opt(number(y, 4)?, number(m, 2)?, number(d, 2)?)?;
    Some(i64::from(date.to_epoch_days()) * crate::time::SECONDS_PER_DAY)
}

fn list_walking(
    input: &Path,
    filter: &ObjectFilter,
    listing: &mut Listing,
    defer_days: bool,
) -> Result<()> {
    let meta = std::fs::metadata(input)
        .with_context(|| format!("cannot read input '{}'", input.display()))?;
    if meta.is_file() {
        let (key, location) = ObjectRef::local(input.to_path_buf());
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
            location,
            size: meta.len(),
            etag: file_etag(&meta),
        };
        admit(listed, kind, layout, filter, listing);
        return Ok(());
    }
    let how = if defer_days {
        Walk::DeferDays
    } else {
        Walk::Whole
    };
    let mut walked = walk(input, filter, how)?;
    listing.days.append(&mut walked.days);
    join(walked, listing);
    Ok(())
}

/// Adds what a walk found to `listing`.
fn join(walked: Walked, listing: &mut Listing) {
    listing.listed += walked.listed;
    listing.skipped.add(&walked.skipped);
    // Joined at its final size, each folder's vector freed as soon as it is moved: a
    // doubling vector, or a copy per folder level, held the listing of a month of an
    // organization trail (691,191 objects) two and three times over (heaptrack).
    listing
        .objects
        .reserve_exact(walked.folders.iter().map(Vec::len).sum());
    for folder in walked.folders {
        listing.objects.extend(folder);
    }
}

/// What a folder holds: its log files that the filters admit, in name order, one vector per
/// run of files between sub-folders (moved up whole, never copied level by level), and
/// the counts of the rest.
#[derive(Default)]
struct Walked {
    listed: u64,
    skipped: SkippedObjects,
    folders: Vec<Vec<ObjectRef>>,
    /// Day folders left for later, in walk order.
    days: Vec<DayFolder>,
}

impl Walked {
    fn absorb(&mut self, sub: Walked) {
        self.listed += sub.listed;
        self.skipped.add(&sub.skipped);
        self.folders.extend(sub.folders);
        self.days.extend(sub.days);
    }

    fn close_run(&mut self, files: &mut Vec<ObjectRef>) {
        if !files.is_empty() {
            files.shrink_to_fit();
            self.folders.push(std::mem::take(files));
        }
    }
}

/// Every log file under `dir` that `filter` admits, depth first in name order (the order
/// of walkdir's `sort_by_file_name`, which this replaced), classified by its key.
///
/// Sub-folders are walked in parallel on the current rayon pool and joined back in name
/// order, so the listing is the same whatever the thread count. An organization trail is
/// mostly folders (account, region, year, month, day) of a few small files, and a stat per
/// file: one thread walked a week of 20 accounts x 4 regions (175k files) in 0.65 s, 17% of
/// the run, with the other core idle. A folder's own files are taken in order on the thread
/// that lists it: a day's dozen files are not worth a task (and a vector) each.
///
/// With [`Walk::DeferDays`], a day folder below `dir` is not walked but returned in `days`.
fn walk(dir: &Path, filter: &ObjectFilter, how: Walk) -> Result<Walked> {
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)
        .and_then(|d| d.collect::<std::io::Result<_>>())
        .with_context(|| format!("cannot walk '{}'", dir.display()))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    // The entry's own type: a symbolic link is neither followed nor read (as walkdir).
    let types: Vec<std::fs::FileType> = entries
        .iter()
        .map(|e| {
            e.file_type()
                .with_context(|| format!("cannot walk '{}'", e.path().display()))
        })
        .collect::<Result<_>>()?;
    let subs: Vec<Walked> = entries
        .par_iter()
        .zip(&types)
        .filter(|(_, t)| t.is_dir())
        .map(|(e, _)| {
            let path = e.path();
            match day_of_folder(&path).filter(|_| how == Walk::DeferDays) {
                Some(day) => Ok(Walked {
                    days: vec![DayFolder {
                        day,
                        place: DayPlace::Local(path),
                    }],
                    ..Walked::default()
                }),
                None => walk(&path, filter, how),
            }
        })
        .collect::<Result<_>>()?;
    let mut subs = subs.into_iter();
    let mut walked = Walked::default();
    let mut files: Vec<ObjectRef> = Vec::new();
    let mut strings = LayoutStrings::default();
    for (entry, file_type) in entries.iter().zip(&types) {
        if file_type.is_dir() {
            walked.close_run(&mut files);
            if let Some(sub) = subs.next() {
                walked.absorb(sub);
            }
            continue;
        }
        if !file_type.is_file() {
            continue;
        }
        walked.listed += 1;
        let (key, location) = ObjectRef::local(entry.path());
        let (kind, layout) = classify_sharing(&key, &mut strings);
        if !wanted(kind, &layout, filter, &mut walked.skipped) {
            continue;
        }
        // Only a log file's size and stand-in ETag are used.
        let meta = match how {
            Walk::DayUnsized => None,
            Walk::Whole | Walk::DeferDays => entry.metadata().ok(),
        };
        files.push(ObjectRef {
            key,
            location,
            layout,
            size: meta.as_ref().map_or(0, std::fs::Metadata::len),
            etag: meta.as_ref().map(file_etag).unwrap_or_default(),
        });
    }
    walked.close_run(&mut files);
    Ok(walked)
}

/// How a folder is walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Every file, with its size and stand-in ETag.
    Whole,
    /// As `Whole`, leaving day folders for later.
    DeferDays,
    /// A day folder left for later: its files without a stat ([`list_days`]).
    DayUnsized,
}

/// A local file's stand-in for an ETag: size and modification time, which change when the
/// file is rewritten (a trail copied again with `aws s3 sync` keeps both when unchanged).
pub(crate) fn file_etag(meta: &std::fs::Metadata) -> Etag {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    Etag::File {
        size: meta.len(),
        modified_ns: modified,
    }
}
