//! S3 input (`s3://bucket[/prefix]`): the client, built the AWS way, and a listing that
//! walks the trail's key layout with delimiter listings instead of listing the bucket.
//!
//! A trail bucket holds millions of small objects; listing all of them takes most of an
//! hour. The layout (`AWSLogs/[o-<org>/]<account>/CloudTrail/<region>/YYYY/MM/DD/`) lets
//! the listing descend folder by folder, never open `CloudTrail-Digest/`, `Config/` and the
//! like, skip accounts and regions the filters exclude, and list only the days that
//! `--start`/`--end` (plus the delivery allowance) can touch. Folders are listed
//! concurrently on the tokio runtime. A prefix that does not follow the layout falls back
//! to a flat listing whose keys are classified one by one, as for a local directory.
//!
//! A run that may (delivery_hours) leaves the day folders the walk reaches for later: they
//! are listed a day or so ahead of the reading ([`DayLister`]), while the objects of the
//! days before are fetched. A month of an organization trail is 2,400 day folders and
//! 691,191 objects; listed whole before the first GET, they were the run's memory and its
//! wait before reading.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::{RetryConfig, RetryPartition, TokenBucket};
use aws_sdk_s3::config::{Intercept, Region, RuntimeComponents};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::config_bag::ConfigBag;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

use super::layout::{LayoutStrings, classify_sharing, number};
use super::{DayFolder, DayPlace, Listing, Location, ObjectFilter};
use crate::time::SECONDS_PER_DAY;

/// Requests in flight by default, for listing and for fetching. Chosen by measurement
/// (BENCHMARKS.md, "Reading from S3"): objects are small, so a GET is mostly latency, and
/// throughput is requests in flight / latency until the CPUs are busy decoding.
pub const DEFAULT_REQUESTS_IN_FLIGHT: usize = 64;

/// Attempts per request (the first plus retries). More than the SDK's default of 3: a run
/// over a whole trail makes millions of requests, and S3 answers bursts with 503 SlowDown;
/// backing off and trying again is better than losing objects.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

/// How to reach S3, from the command line and the environment.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// `--profile`: a profile of the shared config and credentials files.
    pub profile: Option<String>,
    /// `--s3-region`: the bucket's region. Else AWS_REGION, the profile, instance metadata.
    pub region: Option<String>,
    /// `--endpoint-url`: an S3-compatible store. Else AWS_ENDPOINT_URL(_S3) if set.
    pub endpoint_url: Option<String>,
    /// `--path-style`: `http://host/bucket/key` addressing; on whenever an endpoint is set.
    pub path_style: bool,
    /// `--s3-requests`: requests in flight.
    pub requests_in_flight: usize,
    pub max_attempts: u32,
}

/// `s3://bucket[/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub prefix: String,
}

impl S3Url {
    /// `None` when `input` is not an `s3://` URL at all.
    pub fn parse(input: &str) -> Option<Result<S3Url>> {
        let rest = input.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Some(Err(anyhow!(
                "'{input}' names no bucket: use s3://bucket or s3://bucket/prefix"
            )));
        }
        Some(Ok(S3Url {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        }))
    }

    /// The name reported to the user for one object.
    pub fn object_name(bucket: &str, key: &str) -> String {
        format!("s3://{bucket}/{key}")
    }
}

/// What the S3 side of a run did, for `summary.json`.
#[derive(Debug, Default, Serialize)]
pub struct S3Stats {
    /// ListObjectsV2 calls (pages), not counting retries.
    pub list_requests: AtomicU64,
    /// Folders listed (with a delimiter, or in full for a day or a flat prefix).
    pub folders_listed: AtomicU64,
    pub folders_pruned: FoldersPruned,
    /// GetObject calls, not counting the SDK's retries.
    pub get_requests: AtomicU64,
    /// Objects whose body arrived whole.
    pub objects_fetched: AtomicU64,
    /// HTTP attempts of every call, retries included: `attempts - list_requests -
    /// get_requests` is how many times the SDK retried.
    pub attempts: AtomicU64,
    /// Object bodies cut off while streaming and fetched again (the SDK retries a call only
    /// until the response starts).
    pub body_retries: AtomicU64,
    pub bytes_fetched: AtomicU64,
    pub requests_in_flight: usize,
}

impl crate::progress::RemoteCounters for S3Stats {
    fn list_requests(&self) -> u64 {
        self.list_requests.load(Ordering::Relaxed)
    }

    fn objects_fetched(&self) -> u64 {
        self.objects_fetched.load(Ordering::Relaxed)
    }

    fn bytes_fetched(&self) -> u64 {
        self.bytes_fetched.load(Ordering::Relaxed)
    }
}

/// Folders the layout walk did not open, by reason.
#[derive(Debug, Default, Serialize)]
pub struct FoldersPruned {
    pub outside_time_range: AtomicU64,
    pub other_account: AtomicU64,
    pub other_region: AtomicU64,
    /// `CloudTrail-Digest/`, `CloudTrail-Insight/`, `Config/`, and anything else that is
    /// not where event log files live.
    pub not_cloudtrail: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Counts every HTTP attempt (first tries and retries alike).
#[derive(Debug)]
struct CountAttempts(Arc<S3Stats>);

impl Intercept for CountAttempts {
    fn name(&self) -> &'static str {
        "CountAttempts"
    }

    fn read_before_attempt(
        &self,
        _context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        bump(&self.0.attempts);
        Ok(())
    }
}

/// One S3 client and the small tokio runtime that does its I/O. Nothing else runs on the
/// runtime: CPU work there would stall the SDK's streams.
pub struct S3Session {
    pub runtime: Runtime,
    pub client: Client,
    pub stats: Arc<S3Stats>,
    /// Where requests go, for error messages.
    pub endpoint: String,
    pub region: String,
}

impl S3Session {
    pub fn connect(opts: &S3Options) -> Result<S3Session> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("trailsift-s3")
            .enable_all()
            .build()
            .context("cannot start the S3 I/O runtime")?;
        let stats = Arc::new(S3Stats {
            requests_in_flight: opts.requests_in_flight,
            ..S3Stats::default()
        });
        let (client, endpoint, region) = runtime.block_on(build_client(opts, stats.clone()));
        Ok(S3Session {
            runtime,
            client,
            stats,
            endpoint,
            region,
        })
    }

    /// What lists day folders in the background, on this session's runtime.
    pub fn day_lister(&self, filter: ObjectFilter) -> DayLister {
        DayLister {
            runtime: self.runtime.handle().clone(),
            client: self.client.clone(),
            stats: self.stats.clone(),
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            filter: Arc::new(filter),
        }
    }
}

async fn build_client(opts: &S3Options, stats: Arc<S3Stats>) -> (Client, String, String) {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let shared = loader.load().await;
    // S3 needs a region to sign with. Without one anywhere, us-east-1 answers for every
    // bucket with a redirect that names the bucket's region, which the error message shows.
    let region = shared
        .region()
        .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string());
    let endpoint = shared.endpoint_url().map(str::to_owned);
    let retry = RetryConfig::standard()
        .with_max_attempts(opts.max_attempts.max(1))
        .with_max_backoff(Duration::from_secs(10));
    // A retry partition of our own, sized for a run of millions of requests: the default
    // quota (500 tokens) is made for interactive clients and would start failing objects
    // after a burst of SlowDowns instead of backing off.
    let partition = RetryPartition::custom("trailsift")
        .token_bucket(TokenBucket::new(50_000))
        .build();
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .region(Region::new(region.clone()))
        .force_path_style(opts.path_style || endpoint.is_some())
        .retry_config(retry)
        .retry_partition(partition)
        .interceptor(CountAttempts(stats))
        .build();
    let endpoint = endpoint.unwrap_or_else(|| format!("S3 in {region}"));
    (Client::from_conf(config), endpoint, region)
}

/// Where a folder sits in the trail layout: it says what its sub-folders are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Above `AWSLogs/`: descend only into `AWSLogs/`, or fall back to a flat listing.
    Root,
    AwsLogs,
    Org,
    Account,
    CloudTrail,
    Region,
    Year(i32),
    Month(i32, u32),
    /// A day folder, or a prefix off the layout: listed in full, without a delimiter.
    Leaf,
}

#[derive(Debug, Clone)]
struct Folder {
    prefix: String,
    level: Level,
}

/// An object as listed.
struct Found {
    key: String,
    size: u64,
    etag: String,
}

/// What one folder's listing found.
struct FolderListing {
    folder: Folder,
    objects: Vec<Found>,
    children: Vec<String>,
}

/// Inclusive range of delivery days worth listing.
#[derive(Debug, Clone, Copy)]
struct DayRange {
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
}

impl DayRange {
    fn of(filter: &ObjectFilter) -> DayRange {
        let day = |t: i64| {
            i32::try_from(t.div_euclid(SECONDS_PER_DAY))
                .ok()
                .and_then(NaiveDate::from_epoch_days)
        };
        DayRange {
            // A file delivered before --start holds only earlier events.
            first: filter.start.and_then(day),
            // Events before --end can be delivered up to the allowance later.
            last: filter
                .end
                .and_then(|e| day(e.saturating_add(filter.delivery_allowance))),
        }
    }

    /// Whether any day of the folder `(year, month?, day?)` is in range.
    fn touches(&self, year: i32, month: Option<u32>, day: Option<u32>) -> bool {
        let key = (year, month, day);
        let lo = self
            .first
            .map(|d| (d.year(), month.map(|_| d.month()), day.map(|_| d.day())));
        let hi = self
            .last
            .map(|d| (d.year(), month.map(|_| d.month()), day.map(|_| d.day())));
        lo.is_none_or(|lo| key >= lo) && hi.is_none_or(|hi| key <= hi)
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|c| c.is_ascii_digit())
}

fn is_org_id(s: &str) -> bool {
    s.len() > 2 && s.starts_with("o-")
}

fn is_region_name(s: &str) -> bool {
    !s.is_empty()
        && s.contains('-')
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// The level of the folder named `name` inside a folder of level `parent`, or `None` when
/// the name does not fit the layout there.
fn child_level(parent: Level, name: &str) -> Option<Level> {
    match parent {
        Level::Root => (name == "AWSLogs").then_some(Level::AwsLogs),
        Level::AwsLogs if is_org_id(name) => Some(Level::Org),
        Level::AwsLogs | Level::Org => is_account_id(name).then_some(Level::Account),
        Level::Account => (name == "CloudTrail").then_some(Level::CloudTrail),
        Level::CloudTrail => is_region_name(name).then_some(Level::Region),
        Level::Region => number(name, 4).map(Level::Year),
        Level::Year(y) => number(name, 2)
            .filter(|m| (1..=12).contains(m))
            .map(|m| Level::Month(y, m)),
        Level::Month(..) => number::<u32>(name, 2)
            .filter(|d| (1..=31).contains(d))
            .map(|_| Level::Leaf),
        Level::Leaf => None,
    }
}

/// Where the walk starts for the prefix the user named.
fn starting_folder(prefix: &str) -> Folder {
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() {
        return Folder {
            prefix: String::new(),
            level: Level::Root,
        };
    }
    let parts: Vec<&str> = trimmed.split('/').collect();
    let Some(aws_logs) = parts.iter().rposition(|p| *p == "AWSLogs") else {
        return Folder {
            prefix: format!("{trimmed}/"),
            level: Level::Root,
        };
    };
    let mut level = Level::AwsLogs;
    for name in &parts[aws_logs + 1..] {
        match child_level(level, name) {
            Some(next) => level = next,
            // Off the layout (a file name, part of one, a digest folder): list what starts
            // with the prefix exactly as given.
            None => {
                return Folder {
                    prefix: prefix.to_owned(),
                    level: Level::Leaf,
                };
            }
        }
    }
    Folder {
        prefix: format!("{trimmed}/"),
        level,
    }
}

/// Lists `url` into `listing`, pruning with `filter`. With `defer_days`, the day folders of
/// the layout are not listed but added to `listing.days`, for [`DayLister`]. Listing errors
/// are fatal: without the listing there is nothing to read.
pub fn list(
    session: &S3Session,
    url: &S3Url,
    filter: &ObjectFilter,
    listing: &mut Listing,
    progress: &crate::progress::Progress,
    defer_days: bool,
) -> Result<()> {
    let (found, days) = session
        .runtime
        .block_on(walk(session, url, filter, progress, defer_days))?;
    let bucket: Arc<str> = url.bucket.as_str().into();
    admit_found(found, &bucket, filter, listing);
    listing
        .days
        .extend(days.into_iter().map(|(day, prefix)| DayFolder {
            day,
            place: DayPlace::S3 {
                bucket: Arc::clone(&bucket),
                prefix,
            },
        }));
    Ok(())
}

/// Classifies the objects found in `bucket` (sorted by key) into `listing`.
fn admit_found(found: Vec<Found>, bucket: &Arc<str>, filter: &ObjectFilter, listing: &mut Listing) {
    let mut strings = LayoutStrings::default();
    listing.objects.reserve(found.len());
    for Found { key, size, etag } in found {
        let (kind, layout) = classify_sharing(&key, &mut strings);
        let listed = super::Listed {
            name: S3Url::object_name(bucket, &key),
            location: Location::S3 {
                bucket: Arc::clone(bucket),
            },
            size,
            etag: etag.into(),
        };
        super::admit(listed, kind, layout, filter, listing);
    }
}

/// A day folder found by the walk and left for later: its first second and its prefix.
type DeferredDay = (i64, String);

/// The layout walk: folders are listed concurrently, at most `requests_in_flight` at once.
/// Returns every object found, sorted by key, and (with `defer_days`) the day folders left
/// unlisted.
async fn walk(
    session: &S3Session,
    url: &S3Url,
    filter: &ObjectFilter,
    progress: &crate::progress::Progress,
    defer_days: bool,
) -> Result<(Vec<Found>, Vec<DeferredDay>)> {
    let days = DayRange::of(filter);
    let limit = session.stats.requests_in_flight.max(1);
    let mut queue = VecDeque::from([starting_folder(&url.prefix)]);
    let mut running = JoinSet::new();
    let mut found = Vec::new();
    let mut deferred = Vec::new();
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < limit
            && let Some(folder) = queue.pop_front()
        {
            let client = session.client.clone();
            let stats = session.stats.clone();
            let bucket = url.bucket.clone();
            running.spawn(async move { list_folder(&client, &stats, &bucket, folder).await });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let done = done.context("a listing task failed")?.map_err(|e| {
            describe_list_error(&session.endpoint, &session.region, &url.bucket, &e)
        })?;
        if done.folder.level == Level::Root
            && !done
                .children
                .iter()
                .any(|c| c == &format!("{}AWSLogs/", done.folder.prefix))
        {
            // No trail layout below this prefix: classify every key under it instead.
            queue.push_back(Folder {
                prefix: done.folder.prefix,
                level: Level::Leaf,
            });
            continue;
        }
        for child in done.children {
            let Some(folder) = descend(&done.folder, child, filter, &days, &session.stats) else {
                continue;
            };
            match day_of(&done.folder, &folder).filter(|_| defer_days) {
                Some(day) => deferred.push((day, folder.prefix)),
                None => queue.push_back(folder),
            }
        }
        found.extend(done.objects);
        progress.listed(found.len() as u64);
    }
    found.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    deferred.sort_unstable_by(|a, b| a.1.cmp(&b.1));
    Ok((found, deferred))
}

/// The first second of the day folder `folder`, a child of `parent`, when it is one (a
/// `DD/` folder inside a month's).
fn day_of(parent: &Folder, folder: &Folder) -> Option<i64> {
    let (Level::Month(y, m), Level::Leaf) = (parent.level, folder.level) else {
        return None;
    };
    let name = folder.prefix.trim_end_matches('/').rsplit('/').next()?;
    let date = NaiveDate::from_ymd_opt(y, m, number(name, 2)?)?;
    Some(i64::from(date.to_epoch_days()) * SECONDS_PER_DAY)
}

/// Lists day folders in the background, on the S3 runtime, each day's folders concurrently
/// (at most `--s3-requests` listings at once): the run asks for a day a little before its
/// reading needs it, and takes the listing when it is there (delivery_hours).
#[derive(Clone)]
pub struct DayLister {
    runtime: tokio::runtime::Handle,
    client: Client,
    stats: Arc<S3Stats>,
    endpoint: String,
    region: String,
    filter: Arc<ObjectFilter>,
}

/// A day's listing under way: one message, the listing or why it failed.
pub type DayListing = flume::Receiver<Result<Listing>>;

impl DayLister {
    /// Starts listing `folders` (the S3 folders of one day). Their objects come in key
    /// order, as the walk of the whole trail gives them.
    pub fn start(&self, folders: Vec<(Arc<str>, String)>) -> DayListing {
        let (tx, rx) = flume::bounded(1);
        let lister = self.clone();
        self.runtime.spawn(async move {
            let _ = tx.send(lister.list(folders).await);
        });
        rx
    }

    async fn list(self, folders: Vec<(Arc<str>, String)>) -> Result<Listing> {
        let limit = self.stats.requests_in_flight.max(1);
        let mut waiting = folders.into_iter();
        let mut running = JoinSet::new();
        let mut found: Vec<(Arc<str>, Folder, Vec<Found>)> = Vec::new();
        loop {
            while running.len() < limit
                && let Some((bucket, prefix)) = waiting.next()
            {
                let (client, stats) = (self.client.clone(), self.stats.clone());
                running.spawn(async move {
                    let folder = Folder {
                        prefix,
                        level: Level::Leaf,
                    };
                    let listed = list_folder(&client, &stats, &bucket, folder).await;
                    (bucket, listed)
                });
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            let (bucket, listed) = done.context("a listing task failed")?;
            let listed = listed
                .map_err(|e| describe_list_error(&self.endpoint, &self.region, &bucket, &e))?;
            found.push((bucket, listed.folder, listed.objects));
        }
        // Key order: no day folder's prefix starts another's, and S3 lists a folder's keys in
        // order, so the folders sorted by bucket and prefix give every key in order.
        found.sort_unstable_by(|a, b| (&a.0, &a.1.prefix).cmp(&(&b.0, &b.1.prefix)));
        let mut listing = Listing::default();
        for (bucket, _, objects) in found {
            admit_found(objects, &bucket, &self.filter, &mut listing);
        }
        Ok(listing)
    }
}

/// The sub-folder to list next, or `None` (counted) when the layout and the filters say
/// nothing wanted can be in it.
fn descend(
    parent: &Folder,
    child: String,
    filter: &ObjectFilter,
    days: &DayRange,
    stats: &S3Stats,
) -> Option<Folder> {
    let name = child
        .strip_prefix(&parent.prefix)
        .unwrap_or(&child)
        .trim_end_matches('/');
    let pruned = &stats.folders_pruned;
    let Some(level) = child_level(parent.level, name) else {
        if parent.level != Level::Root {
            bump(&pruned.not_cloudtrail);
        }
        return None;
    };
    let wanted = |list: &[String]| list.is_empty() || list.iter().any(|x| x == name);
    let keep = match level {
        Level::Account if !wanted(&filter.accounts) => Err(&pruned.other_account),
        Level::Region if !wanted(&filter.regions) => Err(&pruned.other_region),
        Level::Year(y) if !days.touches(y, None, None) => Err(&pruned.outside_time_range),
        Level::Month(y, m) if !days.touches(y, Some(m), None) => Err(&pruned.outside_time_range),
        Level::Leaf => match parent.level {
            Level::Month(y, m) => {
                let d = number(name, 2).unwrap_or(0);
                if days.touches(y, Some(m), Some(d)) {
                    Ok(())
                } else {
                    Err(&pruned.outside_time_range)
                }
            }
            _ => Ok(()),
        },
        _ => Ok(()),
    };
    match keep {
        Ok(()) => Some(Folder {
            prefix: child,
            level,
        }),
        Err(counter) => {
            bump(counter);
            None
        }
    }
}

type ListError = SdkError<aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error>;

/// Lists one folder, every page of it.
async fn list_folder(
    client: &Client,
    stats: &S3Stats,
    bucket: &str,
    folder: Folder,
) -> Result<FolderListing, ListError> {
    bump(&stats.folders_listed);
    let mut objects = Vec::new();
    let mut children = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(&folder.prefix)
            .set_continuation_token(token.take());
        if folder.level != Level::Leaf {
            req = req.delimiter("/");
        }
        bump(&stats.list_requests);
        let page = req.send().await?;
        for obj in page.contents() {
            if let Some(key) = obj.key() {
                objects.push(Found {
                    key: key.to_owned(),
                    size: obj.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                    etag: obj.e_tag().unwrap_or_default().to_owned(),
                });
            }
        }
        children.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
            _ => break,
        }
    }
    Ok(FolderListing {
        folder,
        objects,
        children,
    })
}

/// What an SDK error says, without its debug dump: the service's code and message, or the
/// chain of causes (`dispatch failure: io error: ... Connection refused`).
pub(crate) fn error_detail<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if let Some(service) = err.as_service_error()
        && let Some(code) = service.code()
    {
        return match service.message() {
            Some(message) => format!("{code}: {message}"),
            None => code.to_owned(),
        };
    }
    cause_chain(err)
}

/// An error and its causes, each said once, on one line: the SDK's messages can span
/// several (the credential chain lists each provider on a line of its own).
pub(crate) fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = Some(err);
    while let Some(e) = cause {
        let text = e
            .to_string()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = e.source();
    }
    parts.join(": ")
}

/// Why a request to S3 failed, as the user must act on it. Told apart because each has
/// its own fix: a missing credential is not a network problem, even when the instance
/// metadata service answered the credential chain with 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// No source of the default credential chain had credentials.
    NoCredentials,
    /// None were set, and the instance metadata service refused to give any (HTTP 403: IMDS
    /// disabled or blocked for this caller), which the SDK reports as a provider error.
    MetadataRefused,
    /// A credential provider timed out (an instance metadata service that does not answer).
    CredentialsTimedOut,
    /// The profile is not usable as configured.
    BadProfile,
    /// A provider answered with an error (an SSO token to renew, a role it may not assume).
    CredentialsFailed,
    /// S3 says the credentials have expired.
    Expired,
    Denied,
    NoSuchBucket,
    WrongRegion,
    Unreachable,
    Other,
}

/// What the chain of causes says of the credentials, if it is a credentials error: the
/// SDK's [`CredentialsError`] where it can be read, else its wording (the error may reach
/// us boxed, where a downcast cannot see it).
fn credentials_failure(err: &(dyn std::error::Error + 'static)) -> Option<Failure> {
    use aws_credential_types::provider::error::CredentialsError;
    let whole = cause_chain(err);
    if whole.contains("IMDS") && (whole.contains("forbidden") || whole.contains("403")) {
        return Some(Failure::MetadataRefused);
    }
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            return Some(match c {
                CredentialsError::CredentialsNotLoaded(_) => Failure::NoCredentials,
                CredentialsError::ProviderTimedOut(_) => Failure::CredentialsTimedOut,
                CredentialsError::InvalidConfiguration(_) => Failure::BadProfile,
                _ => Failure::CredentialsFailed,
            });
        }
        let text = e.to_string();
        let wording = [
            (
                "the credential provider was not enabled",
                Failure::NoCredentials,
            ),
            (
                "no providers in chain provided credentials",
                Failure::NoCredentials,
            ),
            (
                "credentials provider timed out",
                Failure::CredentialsTimedOut,
            ),
            ("provider timed out", Failure::CredentialsTimedOut),
            ("was not properly configured", Failure::BadProfile),
            (
                "error occurred while loading credentials",
                Failure::CredentialsFailed,
            ),
            ("failed to load credentials", Failure::CredentialsFailed),
            ("unexpected credentials error", Failure::CredentialsFailed),
        ];
        if let Some((_, f)) = wording.iter().find(|(w, _)| text.contains(w)) {
            return Some(*f);
        }
        cause = e.source();
    }
    None
}

/// The failure of a request from S3's error code and HTTP status, or how it never got an
/// answer.
fn classify_failure(
    code: &str,
    status: Option<u16>,
    credentials: Option<Failure>,
    no_answer: bool,
) -> Failure {
    if let Some(f) = credentials {
        return f;
    }
    match (code, status) {
        (
            "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired" | "RequestExpired",
            _,
        ) => Failure::Expired,
        ("NoSuchBucket", _) | (_, Some(404)) => Failure::NoSuchBucket,
        (
            "AccessDenied"
            | "AllAccessDisabled"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "InvalidToken",
            _,
        )
        | (_, Some(403)) => Failure::Denied,
        (
            "PermanentRedirect"
            | "AuthorizationHeaderMalformed"
            | "IllegalLocationConstraintException",
            _,
        )
        | (_, Some(301)) => Failure::WrongRegion,
        _ if no_answer => Failure::Unreachable,
        _ => Failure::Other,
    }
}

/// A listing error as a message that names the bucket and says what to check, on one line
/// (`-v` shows the whole chain).
fn describe_list_error(
    endpoint: &str,
    region: &str,
    bucket: &str,
    err: &ListError,
) -> anyhow::Error {
    let detail = error_detail(err);
    let code = err.as_service_error().and_then(|e| e.code()).unwrap_or("");
    let bucket_region = err
        .raw_response()
        .and_then(|r| r.headers().get("x-amz-bucket-region"))
        .map(str::to_owned);
    let status = err.raw_response().map(|r| r.status().as_u16());
    let no_answer = matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    );
    let failure = classify_failure(code, status, credentials_failure(err), no_answer);
    let hint = match failure {
        Failure::NoCredentials => format!(
            "no AWS credentials to list bucket '{bucket}': none of the default chain's sources had any; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE / --profile (run `aws sso login` for SSO profiles), or run where an instance or task role is attached"
        ),
        Failure::MetadataRefused => format!(
            "no AWS credentials to list bucket '{bucket}': none were set, and the instance metadata service refused to give any (HTTP 403: IMDS is disabled or blocked for this caller); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE / --profile, or attach an instance role and allow IMDS"
        ),
        Failure::CredentialsTimedOut => format!(
            "no AWS credentials to list bucket '{bucket}': a credential provider timed out (the instance metadata service does not answer off EC2); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or --profile"
        ),
        Failure::BadProfile => format!(
            "the AWS profile cannot supply credentials to list bucket '{bucket}': check the profile (--profile, AWS_PROFILE) in ~/.aws/config and ~/.aws/credentials"
        ),
        Failure::CredentialsFailed => format!(
            "the credential provider failed, so bucket '{bucket}' was not listed: renew the credentials (`aws sso login` for SSO profiles) or check the role the profile assumes"
        ),
        Failure::Expired => format!(
            "the AWS credentials have expired (listing bucket '{bucket}'): renew them (`aws sso login`, or new session credentials for AWS_SESSION_TOKEN)"
        ),
        Failure::NoSuchBucket => format!(
            "bucket '{bucket}' does not exist at {}: check the bucket name (and --endpoint-url)",
            endpoint
        ),
        Failure::Denied => format!(
            "access denied listing bucket '{bucket}': check that the credentials (--profile, AWS_PROFILE, AWS_ACCESS_KEY_ID) are valid and allow s3:ListBucket and s3:GetObject on it"
        ),
        Failure::WrongRegion => match bucket_region {
            Some(r) => format!(
                "bucket '{bucket}' is in region {r}, not {}: pass --s3-region {r}",
                region
            ),
            None => format!(
                "bucket '{bucket}' is not in region {}: pass its region with --s3-region",
                region
            ),
        },
        Failure::Unreachable => format!(
            "cannot reach {} to list bucket '{bucket}': check --endpoint-url, --s3-region and the network",
            endpoint
        ),
        Failure::Other => format!("cannot list bucket '{bucket}' at {endpoint}"),
    };
    anyhow!("{hint} ({detail})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_cli_time;

    #[test]
    fn failures_are_told_apart_by_what_fixes_them() {
        use aws_credential_types::provider::error::CredentialsError;
        // A credentials error wins over the dispatch failure it arrives as.
        let not_loaded = CredentialsError::not_loaded("no providers in chain provided credentials");
        let creds = credentials_failure(&not_loaded);
        assert_eq!(creds, Some(Failure::NoCredentials));
        assert_eq!(
            classify_failure("", None, creds, true),
            Failure::NoCredentials
        );
        // What the SDK says when the instance metadata service answers 403.
        let refused = CredentialsError::provider_error(
            "failed to load IMDS session token: service error: request forbidden: IMDS is disabled or the caller has insufficient permissions.",
        );
        assert_eq!(
            credentials_failure(&refused),
            Some(Failure::MetadataRefused)
        );
        let timed_out = CredentialsError::provider_timed_out(std::time::Duration::from_secs(1));
        assert_eq!(
            credentials_failure(&timed_out),
            Some(Failure::CredentialsTimedOut)
        );
        // Wrapped in another error, as the orchestrator does, it is still found.
        let wrapped = anyhow::Error::new(not_loaded).context("dispatch failure");
        assert_eq!(
            credentials_failure(wrapped.as_ref()),
            Some(Failure::NoCredentials)
        );
        assert_eq!(
            classify_failure("ExpiredToken", Some(400), None, false),
            Failure::Expired
        );
        assert_eq!(
            classify_failure("AccessDenied", Some(403), None, false),
            Failure::Denied
        );
        assert_eq!(
            classify_failure("", Some(404), None, false),
            Failure::NoSuchBucket
        );
        assert_eq!(
            classify_failure("PermanentRedirect", Some(301), None, false),
            Failure::WrongRegion
        );
        assert_eq!(classify_failure("", None, None, true), Failure::Unreachable);
        assert_eq!(
            classify_failure("InternalError", Some(500), None, false),
            Failure::Other
        );
    }

    #[test]
    fn urls() {
        let u = S3Url::parse("s3://trail/logs/AWSLogs").unwrap().unwrap();
        assert_eq!(
            (u.bucket.as_str(), u.prefix.as_str()),
            ("trail", "logs/AWSLogs")
        );
        let u = S3Url::parse("s3://trail").unwrap().unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("trail", ""));
        assert!(S3Url::parse("s3:///x").unwrap().is_err());
        assert!(S3Url::parse("/data/trail").is_none());
    }

    #[test]
    fn the_walk_starts_at_the_level_the_prefix_names() {
        let level = |p: &str| starting_folder(p).level;
        assert_eq!(level(""), Level::Root);
        assert_eq!(level("logs"), Level::Root);
        assert_eq!(level("logs/AWSLogs/"), Level::AwsLogs);
        assert_eq!(level("AWSLogs/o-abc123def4"), Level::Org);
        assert_eq!(level("AWSLogs/o-abc123def4/111122223333"), Level::Account);
        assert_eq!(
            level("AWSLogs/111122223333/CloudTrail/us-east-1"),
            Level::Region
        );
        assert_eq!(
            level("AWSLogs/111122223333/CloudTrail/us-east-1/2026/03"),
            Level::Month(2026, 3)
        );
        assert_eq!(
            level("AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01"),
            Level::Leaf
        );
        // Off the layout: listed flat, with the prefix as given.
        let f = starting_folder("AWSLogs/111122223333/CloudTrail-Digest");
        assert_eq!(
            (f.level, f.prefix.as_str()),
            (Level::Leaf, "AWSLogs/111122223333/CloudTrail-Digest")
        );
        assert_eq!(starting_folder("logs").prefix, "logs/");
    }

    #[test]
    fn day_range_includes_the_delivery_allowance() {
        let filter = ObjectFilter {
            start: parse_cli_time("2026-03-01T10:00:00Z").ok(),
            end: parse_cli_time("2026-03-02T23:30:00Z").ok(),
            delivery_allowance: 3600,
            ..ObjectFilter::default()
        };
        let days = DayRange::of(&filter);
        assert!(!days.touches(2026, Some(2), Some(28)));
        assert!(days.touches(2026, Some(3), Some(1)));
        assert!(
            days.touches(2026, Some(3), Some(3)),
            "files delivered after midnight"
        );
        assert!(!days.touches(2026, Some(3), Some(4)));
        assert!(days.touches(2026, Some(3), None));
        assert!(!days.touches(2026, Some(4), None));
        assert!(!days.touches(2025, None, None));
        let open = DayRange::of(&ObjectFilter::default());
        assert!(open.touches(1999, Some(1), Some(1)));
    }
}
