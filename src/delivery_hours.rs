//! The delivery hours a run reads, oldest first: the listed objects cut into one vector per
//! hour, and the local day folders not listed yet, each listed once the reading comes
//! within a day of it.
//!
//! CloudTrail names a day folder for the day its files were delivered, and a file for the
//! minute it was (`.../YYYY/MM/DD/..._YYYYMMDDTHHmmZ_...`): the files of folder `D` belong
//! to the delivery hours of day `D`. Listing `D` while the run still reads day `D - 1` keeps
//! every hour whole even for a file named up to a day before its folder. A file named for
//! an hour that has already been read (a folder more than a day off its files' names, which
//! CloudTrail does not write), or with no time in its name, is read with the next hour, and
//! counted ([`DeliveryHours::out_of_order`]): never dropped, never read twice.
//!
//! Memory then holds the objects of a day or two, not of the span: a month of an
//! organization trail lists 691,191 files, whose listing all at once was the run's heap
//! peak (BENCHMARKS.md).

use anyhow::{Context, Result};
use std::collections::VecDeque;

use crate::dedup::epoch_of;
use crate::progress::Progress;
use crate::source::local;
use crate::source::s3::{DayLister, DayListing};
use crate::source::{DayFolder, DayPlace, Listing, ObjectFilter, ObjectRef, SkippedObjects};
use crate::time::SECONDS_PER_DAY;

/// One delivery hour's objects (`None`: files without a delivery time, read first).
pub type Hour = (Option<i64>, Vec<ObjectRef>);

/// How far past the hour being read S3 day folders are asked for: the day after next once
/// the reading is halfway through today. An hour is known in full (settled) once the day
/// after it is listed, so this keeps a day of settled hours ahead of the reading for the
/// fetcher, and one listing's round trips hidden behind half a day of reading; memory holds
/// the objects of two or three days.
const S3_DAYS_AHEAD: i64 = SECONDS_PER_DAY + SECONDS_PER_DAY / 2;

pub struct DeliveryHours {
    /// Hours listed, oldest first, none read yet.
    ready: VecDeque<Hour>,
    /// How many hours at the front of `ready` were handed to `settle` (known in full).
    settled: usize,
    /// The last hour handed to `settle`.
    settled_through: Option<Option<i64>>,
    /// Day folders not listed yet, by day.
    days: VecDeque<DayFolder>,
    /// Days whose S3 folders are being listed (by `lister`), by day.
    asked: VecDeque<AskedDay>,
    lister: Option<DayLister>,
    filter: ObjectFilter,
    /// The last hour handed out.
    last: Option<Option<i64>>,
    /// Files found in the day folders listed so far, and those the filters left out.
    pub listed: u64,
    pub skipped: SkippedObjects,
    /// Objects listed after their delivery hour was read (or handed to the fetcher), read
    /// with a later hour.
    pub out_of_order: u64,
}

/// A day taken from `days` before it is due: its S3 folders' listing is under way, its
/// local folders wait to be walked when it is due.
struct AskedDay {
    day: i64,
    local: Vec<DayFolder>,
    remote: Option<DayListing>,
}

impl DeliveryHours {
    /// The hours of `objects` (in listing order), and `days` to list as the run goes: local
    /// folders on the run's threads, S3 folders by `lister`.
    pub fn new(
        mut objects: Vec<ObjectRef>,
        mut days: Vec<DayFolder>,
        filter: ObjectFilter,
        lister: Option<DayLister>,
    ) -> DeliveryHours {
        // Stable: within an hour, objects keep their listing (key) order.
        objects.sort_by_key(|o| epoch_of(o.layout.delivered_at));
        days.sort_by_key(|d| d.day);
        DeliveryHours {
            ready: by_epoch(objects).into(),
            settled: 0,
            settled_through: None,
            days: days.into(),
            asked: VecDeque::new(),
            lister,
            filter,
            last: None,
            listed: 0,
            skipped: SkippedObjects::default(),
            out_of_order: 0,
        }
    }

    /// True when every hour has been handed out.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty() && self.days.is_empty() && self.asked.is_empty()
    }

    /// The next hour to read, listing the day folders it may need first (local ones on
    /// `pool`). Before it is handed out, `settle` is called, in order, on every hour that
    /// no day folder left to list can add to: that one, and those after it that are known
    /// in full too (the fetcher takes their S3 objects).
    pub fn next(
        &mut self,
        pool: &rayon::ThreadPool,
        progress: &Progress,
        mut settle: impl FnMut(&mut Hour),
    ) -> Result<Option<Hour>> {
        self.ask_ahead()?;
        self.take_listed_days(progress)?;
        while self.due() {
            self.list_next_day(pool, progress)?;
        }
        self.settle(&mut settle);
        let next = self.ready.pop_front();
        if let Some((hour, _)) = &next {
            self.settled = self.settled.saturating_sub(1);
            self.last = Some(*hour);
        }
        Ok(next)
    }

    /// The first day not listed yet.
    fn first_unlisted(&self) -> Option<i64> {
        self.asked
            .front()
            .map(|a| a.day)
            .or_else(|| self.days.front().map(|d| d.day))
    }

    /// Whether the next day folder must be listed before the next hour is read.
    fn due(&self) -> bool {
        let Some(day) = self.first_unlisted() else {
            return false;
        };
        match self.ready.front() {
            None => true,
            Some((None, _)) => false,
            Some((Some(hour), _)) => !settles_before(*hour, day),
        }
    }

    /// Hands the hours now known in full to `settle`, oldest first.
    fn settle(&mut self, settle: &mut impl FnMut(&mut Hour)) {
        let first_unlisted = self.first_unlisted();
        while let Some(hour) = self.ready.get_mut(self.settled) {
            let known = match (hour.0, first_unlisted) {
                (Some(h), Some(day)) => settles_before(h, day),
                _ => true,
            };
            if !known {
                break;
            }
            settle(hour);
            self.settled_through = Some(hour.0);
            self.settled += 1;
        }
    }

    /// Asks the lister for the S3 folders of the days up to [`S3_DAYS_AHEAD`] past the
    /// reading.
    fn ask_ahead(&mut self) -> Result<()> {
        if self.lister.is_none() {
            return Ok(());
        }
        let reading = match (self.ready.front(), self.last) {
            (Some(&(Some(h), _)), _) | (None, Some(Some(h))) => Some(h),
            _ => None,
        };
        let Some(first) = self.days.front().map(|d| d.day) else {
            return Ok(());
        };
        let horizon = reading.unwrap_or(first) + S3_DAYS_AHEAD;
        while self.days.front().is_some_and(|d| d.day <= horizon) {
            self.ask_next_day()?;
        }
        Ok(())
    }

    /// Moves the next day's folders from `days` to `asked`, starting the listing of its S3
    /// ones.
    fn ask_next_day(&mut self) -> Result<()> {
        let Some(day) = self.days.front().map(|d| d.day) else {
            return Ok(());
        };
        let n = self.days.iter().take_while(|d| d.day == day).count();
        let (mut local, mut remote) = (Vec::new(), Vec::new());
        for folder in self.days.drain(..n) {
            match folder.place {
                DayPlace::S3 { bucket, prefix } => remote.push((bucket, prefix)),
                DayPlace::Local(_) => local.push(folder),
            }
        }
        let remote = match (&self.lister, remote.is_empty()) {
            (_, true) => None,
            (Some(lister), false) => Some(lister.start(remote)),
            (None, false) => anyhow::bail!("S3 day folders to list without an S3 session"),
        };
        self.asked.push_back(AskedDay { day, local, remote });
        Ok(())
    }

    /// Takes the days at the front whose S3 listing is in and that have no local folder (a
    /// local folder is walked only when its day is due).
    fn take_listed_days(&mut self, progress: &Progress) -> Result<()> {
        while let Some(asked) = self.asked.front() {
            let ready =
                asked.local.is_empty() && asked.remote.as_ref().is_some_and(|r| !r.is_empty());
            if !ready {
                break;
            }
            if let Some(asked) = self.asked.pop_front() {
                let listing = received(asked.remote)?;
                self.take(listing, progress);
            }
        }
        Ok(())
    }

    /// Lists every folder of the next day: local ones in parallel on `pool`, S3 ones by the
    /// lister (waiting for its listing).
    fn list_next_day(&mut self, pool: &rayon::ThreadPool, progress: &Progress) -> Result<()> {
        if self.asked.is_empty() {
            self.ask_next_day()?;
        }
        let Some(asked) = self.asked.pop_front() else {
            return Ok(());
        };
        let mut listing = Listing::default();
        if !asked.local.is_empty() {
            pool.install(|| local::list_days(&asked.local, &self.filter, &mut listing))?;
        }
        self.take(listing, progress);
        if asked.remote.is_some() {
            let listing = received(asked.remote)?;
            self.take(listing, progress);
        }
        Ok(())
    }

    /// Counts a day's listing and puts its objects into their hours.
    fn take(&mut self, listing: Listing, progress: &Progress) {
        self.listed += listing.listed;
        self.skipped.add(&listing.skipped);
        progress.more_to_read(listing.objects.len() as u64);
        self.add(listing.objects);
    }

    /// Puts newly listed objects into their hours; those of an hour already read, or already
    /// settled (its S3 objects handed to the fetcher), go into the first hour after those.
    fn add(&mut self, mut objects: Vec<ObjectRef>) {
        objects.sort_by_key(|o| epoch_of(o.layout.delivered_at));
        let done = self.last.max(self.settled_through);
        for (hour, objects) in by_epoch(objects) {
            match done {
                // Its hour was read or settled: the next one takes it (or, with none left,
                // the same hour again, dedup::Dedup::open allows it).
                Some(done) if hour <= done => {
                    self.out_of_order += objects.len() as u64;
                    match self.ready.get_mut(self.settled) {
                        Some((_, next)) => next.extend(objects),
                        None => self.ready.push_back((done, objects)),
                    }
                }
                _ => match self.ready.binary_search_by_key(&hour, |(h, _)| *h) {
                    Ok(i) => self.ready[i].1.extend(objects),
                    Err(i) => self.ready.insert(i, (hour, objects)),
                },
            }
        }
    }
}

/// Whether every file of the delivery hour `hour` is listed once the days before `day` are:
/// a file sits in its delivery day's folder, or (named up to a day before it) the next one.
fn settles_before(hour: i64, day: i64) -> bool {
    day > hour + SECONDS_PER_DAY
}

/// The listing a day's S3 lister sent (an empty one for a day without S3 folders).
fn received(remote: Option<DayListing>) -> Result<Listing> {
    match remote {
        None => Ok(Listing::default()),
        Some(rx) => rx
            .recv()
            .context("the listing of a day's S3 folders stopped before it ended")?,
    }
}

/// The objects, sorted by delivery hour, cut into one vector per hour, from the last hour
/// back: each hour is split off the end and the listing shrunk at once, so the listing is
/// held about once, not once in the listing and again in the hours (a month of an
/// organization trail lists 691,191 objects).
fn by_epoch(mut objects: Vec<ObjectRef>) -> Vec<Hour> {
    let mut epochs: Vec<Hour> = Vec::new();
    while let Some(last) = objects.last() {
        let hour = epoch_of(last.layout.delivered_at);
        let start = objects.partition_point(|o| epoch_of(o.layout.delivered_at) < hour);
        epochs.push((hour, objects.split_off(start)));
        objects.shrink_to_fit();
    }
    epochs.reverse();
    epochs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Location;
    use crate::source::layout::classify;
    use std::path::Path;

    fn object(hhmm: &str, n: u32) -> ObjectRef {
        let key = format!(
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T{hhmm}Z_{n:016}.json.gz"
        );
        ObjectRef {
            location: Location::File,
            layout: classify(&key).1,
            key,
            size: 1,
            etag: "e".into(),
        }
    }

    #[test]
    fn each_delivery_hour_gets_a_vector_of_its_own_in_listing_order() {
        // Sorted by hour as DeliveryHours::new sorts them; 10:05 and 10:55 share hour 10.
        let objects = vec![
            object("0905", 2),
            object("0905", 1),
            object("1005", 3),
            object("1055", 1),
            object("1200", 7),
        ];
        let epochs = by_epoch(objects);
        let keys: Vec<Vec<&str>> = epochs
            .iter()
            .map(|(_, e)| {
                e.iter()
                    .map(|o| &o.key[o.key.len() - 24..o.key.len() - 8])
                    .collect()
            })
            .collect();
        assert_eq!(
            keys,
            vec![
                vec!["0000000000000002", "0000000000000001"],
                vec!["0000000000000003", "0000000000000001"],
                vec!["0000000000000007"],
            ]
        );
        let hours: Vec<Option<i64>> = epochs.iter().map(|(h, _)| *h).collect();
        // 2026-03-01T09:00Z, 10:00Z and 12:00Z.
        assert_eq!(
            hours,
            vec![
                Some(1_772_355_600),
                Some(1_772_359_200),
                Some(1_772_366_400)
            ]
        );
        assert!(by_epoch(Vec::new()).is_empty());
    }

    /// Writes an empty log file of account `account`, delivered at `stamp`
    /// (`YYYYMMDDTHHmm`), into the day folder `day` (`YYYY/MM/DD`) under `root`.
    fn log_file(root: &Path, account: &str, day: &str, stamp: &str) {
        let dir = root.join(format!("AWSLogs/{account}/CloudTrail/us-east-1/{day}"));
        std::fs::create_dir_all(&dir).expect("a folder");
        let name = format!("{account}_CloudTrail_us-east-1_{stamp}Z_abcdefgh12345678.json.gz");
        std::fs::write(dir.join(name), b"").expect("a file");
    }

    /// Hands out every hour, with the day folders still unlisted before each.
    /// An hour read: its hour, its files, and the day folders then still unlisted.
    type Read = (Option<i64>, Vec<String>, usize);

    /// The delivery hours of the trail under `root`, every file in a day folder left for
    /// later, and the threads to list them on.
    fn deferred(root: &Path) -> (DeliveryHours, rayon::ThreadPool) {
        let mut listing = Listing::default();
        local::list_deferring_days(root, &ObjectFilter::default(), &mut listing).expect("listed");
        assert!(listing.objects.is_empty(), "every file is in a day folder");
        let hours =
            DeliveryHours::new(listing.objects, listing.days, ObjectFilter::default(), None);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a pool");
        (hours, pool)
    }

    fn read_all(root: &Path) -> (Vec<Read>, DeliveryHours) {
        let (mut hours, pool) = deferred(root);
        let progress = Progress::new(false);
        let mut read = Vec::new();
        while let Some((hour, objects)) = hours.next(&pool, &progress, |_| {}).expect("listed") {
            // "<account> <delivery time>" of each file.
            let names = objects
                .iter()
                .map(|o| {
                    let name = o.key.rsplit('/').next().unwrap_or_default();
                    format!("{} {}", &name[..12], &name[34..47])
                })
                .collect();
            read.push((hour, names, hours.days.len()));
        }
        (read, hours)
    }

    #[test]
    fn day_folders_are_listed_a_day_ahead_of_the_reading_and_each_hour_is_whole() {
        let root = tempfile::tempdir().expect("a folder");
        let root = root.path();
        log_file(root, "222233334444", "2026/03/01", "20260301T0905");
        log_file(root, "111122223333", "2026/03/01", "20260301T0910");
        log_file(root, "111122223333", "2026/03/01", "20260301T2355");
        // Named for the day before its folder: still read in its hour.
        log_file(root, "111122223333", "2026/03/02", "20260301T2359");
        log_file(root, "222233334444", "2026/03/02", "20260302T0005");
        log_file(root, "111122223333", "2026/03/05", "20260305T1000");
        let (read, hours) = read_all(root);
        let h = |day: i64, hour: i64| Some(1_772_323_200 + (day - 1) * 86_400 + hour * 3600);
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            read,
            vec![
                // Days 1 and 2 listed (day 2 begins within a day of 09:00), day 5 not.
                (
                    h(1, 9),
                    // In key order, as a listing of the whole trail has them.
                    names(&["111122223333 20260301T0910", "222233334444 20260301T0905"]),
                    1
                ),
                (
                    h(1, 23),
                    names(&["111122223333 20260301T2355", "111122223333 20260301T2359"]),
                    1
                ),
                (h(2, 0), names(&["222233334444 20260302T0005"]), 1),
                // Listed once nothing before it was left.
                (h(5, 10), names(&["111122223333 20260305T1000"]), 0),
            ]
        );
        assert_eq!((hours.listed, hours.out_of_order), (6, 0));
    }

    #[test]
    fn a_file_named_for_an_hour_already_read_is_read_once_with_the_next_hour() {
        let root = tempfile::tempdir().expect("a folder");
        let root = root.path();
        log_file(root, "111122223333", "2026/03/01", "20260301T0905");
        log_file(root, "111122223333", "2026/03/04", "20260304T0905");
        log_file(root, "111122223333", "2026/03/04", "20260304T1005");
        // Four days before its folder: its hour was read before the folder was listed.
        log_file(root, "222233334444", "2026/03/05", "20260301T0905");
        let (read, hours) = read_all(root);
        let counts: Vec<(Option<i64>, usize)> =
            read.iter().map(|(h, o, _)| (*h, o.len())).collect();
        let h = |day: i64, hour: i64| Some(1_772_323_200 + (day - 1) * 86_400 + hour * 3600);
        // Day 5 is listed before 03-04 09:00 is read (it begins within a day of it), and
        // that hour takes the stray file.
        assert_eq!(counts, vec![(h(1, 9), 1), (h(4, 9), 2), (h(4, 10), 1)]);
        assert_eq!((hours.listed, hours.out_of_order), (4, 1));
    }

    #[test]
    fn an_hour_is_settled_once_the_day_after_it_is_listed_and_before_it_is_read() {
        let root = tempfile::tempdir().expect("a folder");
        let root = root.path();
        log_file(root, "111122223333", "2026/03/01", "20260301T0905");
        log_file(root, "111122223333", "2026/03/01", "20260301T2355");
        // Named for the day before its folder: its hour is not known in full until day 2
        // is listed.
        log_file(root, "111122223333", "2026/03/02", "20260301T2359");
        log_file(root, "111122223333", "2026/03/02", "20260302T0005");
        log_file(root, "111122223333", "2026/03/03", "20260303T1000");
        let (mut hours, pool) = deferred(root);
        let progress = Progress::new(false);
        let h = |day: i64, hour: i64| Some(1_772_323_200 + (day - 1) * 86_400 + hour * 3600);
        // Per call: the hours settled (with their file counts), then the hour read.
        let mut calls = Vec::new();
        loop {
            let mut settled = Vec::new();
            let next = hours
                .next(&pool, &progress, |(hour, objects)| {
                    settled.push((*hour, objects.len()));
                })
                .expect("listed");
            let Some((hour, objects)) = next else {
                assert!(settled.is_empty());
                break;
            };
            calls.push((settled, (hour, objects.len())));
        }
        assert_eq!(
            calls,
            vec![
                // Days 1 and 2 listed: day 1's hours are whole, 03-02 00:00 waits for day 3.
                (vec![(h(1, 9), 1), (h(1, 23), 2)], (h(1, 9), 1)),
                (vec![], (h(1, 23), 2)),
                // Day 3 listed when 03-02 00:00 is next: nothing is left to list.
                (vec![(h(2, 0), 1), (h(3, 10), 1)], (h(2, 0), 1)),
                (vec![], (h(3, 10), 1)),
            ]
        );
        assert_eq!((hours.listed, hours.out_of_order), (5, 0));
    }
}
