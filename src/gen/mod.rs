//! Synthetic CloudTrail trail generator, for benchmarks and end-to-end tests.
//!
//! [`generate`] writes a trail laid out exactly as CloudTrail delivers it to S3 (log files and
//! hourly digests, optionally under an organization id) and returns the answers ([`Truth`])
//! that the analyzer must find in it, computed with the product's attribution rules from the
//! very records that were written.
//!
//! How it stays fast, reproducible and flat in memory:
//! - The trail is cut into 5-minute windows per (account, region) "stream". How many records
//!   each window holds is planned up front (a few numbers per window, independent of
//!   `records`), so every window is generated on its own, in parallel, straight to disk.
//! - Every random choice comes from a small RNG seeded from (seed, stream, window, file), so the
//!   bytes never depend on the number of threads or on scheduling.
//! - A window's delivery metadata (file names, event-time range) has its own RNG, separate from
//!   the records', so the hourly digests can list the log files without generating them again.
//! - Records are written as hand-rolled JSON into a reused buffer. Strings that might need
//!   escaping are escaped by serde_json once, when the population and the payload templates are
//!   built; the hot path only copies bytes and formats numbers.

mod buckets;
mod clients;
mod events;
mod identities;
mod json;
mod layout;
mod rng;
mod roles;
mod rules;
mod time;
mod truth;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use flate2::{Compression, GzBuilder};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

// The regions that ever took SigV2: the same fact the analysis uses, so planted and found agree.
use crate::attribute::sigv2::SIGV2_REGIONS;
use buckets::{BUCKET_KINDS, Bucket, KEY_ALIASES};
use clients::Pool;
use events::mgmt::{MGMT_SPECS, MgmtKind, SpecCx, compile_payload};
use events::{Cx, KIND_MIX, Kind, Out, write_record};
use identities::{Principal, build_principal};
use json::{lit, rand_hex, rand_uuid};
use layout::{FileMeta, WindowMeta, window_meta, write_digest};
use rng::{Rng, TAG_FILE, TAG_PLAN, TAG_WORLD, mix, pick_weighted};
use roles::{ROLES, Role};
use time::{HOUR, WINDOW, civil};
use truth::Acc;

// ------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------

/// What to generate. `Default` gives a 1M-record, 2-account, 2-region, 24-hour trail.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Output root: the trail goes under `out/AWSLogs/...`, the answers into `out/truth.json`.
    pub out: PathBuf,
    /// Total CloudTrail event records across all log files.
    pub records: u64,
    pub seed: u64,
    pub accounts: u32,
    /// How many regions, taken in order from [`REGIONS`].
    pub regions: u32,
    /// Span of `eventTime`, from `start`.
    pub hours: u32,
    /// Organization trail id (`o-` and 10 to 32 lowercase letters or digits): adds it to the key layout.
    pub org: Option<String>,
    /// First hour of the trail; truncated to the hour.
    pub start: chrono::DateTime<chrono::Utc>,
}

/// Regions in the order `GenConfig::regions` takes them.
pub const REGIONS: [&str; 16] = [
    "us-east-1",
    "eu-west-1",
    "us-west-2",
    "eu-central-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "us-east-2",
    "eu-west-2",
    "ap-southeast-1",
    "sa-east-1",
    "ca-central-1",
    "us-west-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-2",
    "eu-west-3",
];

/// 2026-03-01T00:00:00Z.
const DEFAULT_START: i64 = 1_772_323_200;

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            out: PathBuf::from("synthetic-trail"),
            records: 1_000_000,
            seed: 1,
            accounts: 2,
            regions: 2,
            hours: 24,
            org: None,
            start: chrono::DateTime::from_timestamp(DEFAULT_START, 0).unwrap_or_default(),
        }
    }
}

/// The answers hidden in a generated trail, written to `out/truth.json`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Truth {
    pub records_total: u64,
    pub log_objects: u64,
    pub digest_objects: u64,
    pub kms_records: u64,
    pub s3_records: u64,
    pub s3_data_records: u64,
    pub sigv2_records: u64,
    pub tls_legacy_records: u64,
    /// principal -> eventName -> records, for every kms.amazonaws.com record.
    pub kms_calls: BTreeMap<String, BTreeMap<String, u64>>,
    /// principal -> records with errorCode ThrottlingException.
    pub kms_throttled: BTreeMap<String, u64>,
    /// One per (hour, account_id, region) with symmetric KMS calls, sorted by those.
    pub kms_peaks: Vec<KmsPeak>,
    /// principal -> user agent (without S3's brackets) -> S3 records signed with SigV2.
    pub sigv2: BTreeMap<String, BTreeMap<String, u64>>,
    /// principal -> tlsVersion -> records (any service) over TLSv1 or TLSv1.1.
    pub tls_legacy: BTreeMap<String, BTreeMap<String, u64>>,
    /// bucket -> KMS records whose encryptionContext has aws:s3:arn.
    pub s3_bucket_kms_calls: BTreeMap<String, u64>,
}

/// Symmetric KMS calls of one hour in one account and region.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct KmsPeak {
    pub hour: String,
    pub account_id: String,
    pub region: String,
    pub calls: u64,
    pub peak_rps: u64,
    /// Earliest second of the hour reaching `peak_rps`.
    pub peak_second: String,
}

/// Writes the trail and `truth.json` under `cfg.out`, and returns the truth.
///
/// Files already under `cfg.out` are overwritten when their names match and left alone
/// otherwise: give each run its own directory.
pub fn generate(cfg: &GenConfig) -> Result<Truth> {
    let world = World::build(cfg)?;
    fs::create_dir_all(&world.out).with_context(|| format!("creating {}", world.out.display()))?;

    let n_windows = world.streams.len() * world.windows;
    let acc = (0..n_windows)
        .into_par_iter()
        .map(|i| run_window(&world, i / world.windows, i % world.windows))
        .try_reduce(Acc::default, |mut a, b| {
            a.merge(b);
            Ok(a)
        })?;

    let n_digests = world.streams.len() * world.digests_per_stream();
    (0..n_digests).into_par_iter().try_for_each(|i| {
        let per = world.digests_per_stream();
        write_digest(&world, i / per, i % per)
    })?;

    let truth = acc.into_truth(&world, n_digests as u64);
    let path = world.out.join("truth.json");
    let mut text = serde_json::to_vec_pretty(&truth)?;
    text.push(b'\n');
    fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(truth)
}

// ------------------------------------------------------------------------------------------
// The world: accounts, streams, population, plan
// ------------------------------------------------------------------------------------------

struct Account {
    id: String,
    vpce: String,
    /// Indexed by `Role as usize`.
    principals: Vec<Principal>,
}

impl Account {
    fn principal(&self, role: Role) -> &Principal {
        &self.principals[role as usize]
    }
}

/// The records of one account in one region.
struct Stream {
    account: usize,
    region: &'static str,
    /// SigV2 only ever worked in regions launched before 2014.
    sigv2_ok: bool,
    /// Key ARNs, indexed like `KEY_ALIASES`.
    keys: Vec<String>,
    /// Indexed by `BucketKind as usize`.
    buckets: Vec<Bucket>,
    mgmt: Vec<MgmtKind>,
    kms_host: String,
    /// Digests close at this many seconds past each hour.
    digest_offset: i64,
    fingerprint: String,
}

struct Trail {
    bucket: String,
    bucket_id: u16,
    arn: String,
}

struct World {
    out: PathBuf,
    seed: u64,
    start: i64,
    hours: u32,
    /// Windows per stream.
    windows: usize,
    org: Option<String>,
    accounts: Vec<Account>,
    streams: Vec<Stream>,
    pool: Pool,
    trail: Trail,
    /// Records per window, stream-major; `spikes` of them are the BI burst.
    counts: Vec<u64>,
    spikes: Vec<u64>,
}

fn validate(cfg: &GenConfig) -> Result<()> {
    ensure!(cfg.accounts >= 1, "--accounts must be at least 1");
    ensure!(cfg.accounts <= 1000, "--accounts must be at most 1000");
    ensure!(
        (1..=REGIONS.len() as u32).contains(&cfg.regions),
        "--regions must be between 1 and {}",
        REGIONS.len()
    );
    ensure!(
        (1..=24 * 366).contains(&cfg.hours),
        "--hours must be between 1 and 8784"
    );
    if let Some(org) = &cfg.org {
        let id = org.strip_prefix("o-").unwrap_or("");
        ensure!(
            (10..=32).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "--org must look like o-abc123def4 (o- and 10 to 32 lowercase letters or digits), got {org:?}"
        );
    }
    Ok(())
}

impl World {
    fn build(cfg: &GenConfig) -> Result<World> {
        validate(cfg)?;
        let mut rng = Rng::new(mix(&[cfg.seed, TAG_WORLD]));
        let mut pool = Pool::default();
        let start = cfg.start.timestamp().div_euclid(HOUR) * HOUR;

        let mut ids: Vec<String> = Vec::new();
        while ids.len() < cfg.accounts as usize {
            let id = format!("{}", rng.range(100_000_000_000, 999_999_999_999));
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let trail_bucket = format!("aws-cloudtrail-logs-{}-{}", ids[0], rand_hex(&mut rng, 8));
        let trail = Trail {
            bucket_id: pool.bucket(&trail_bucket)?,
            bucket: trail_bucket,
            arn: format!(
                "arn:aws:cloudtrail:us-east-1:{}:trail/trailsift-trail",
                ids[0]
            ),
        };

        let mut accounts = Vec::new();
        for id in ids {
            let external = format!("{}", rng.range(100_000_000_000, 999_999_999_999));
            let mut principals = Vec::new();
            for (i, role) in ROLES.iter().enumerate() {
                debug_assert_eq!(*role as usize, i);
                principals.push(build_principal(*role, &id, &external, &mut rng, &mut pool)?);
            }
            accounts.push(Account {
                vpce: format!("vpce-0{}", rand_hex(&mut rng, 16)),
                id,
                principals,
            });
        }

        let mut streams = Vec::new();
        for account in 0..accounts.len() {
            for region in REGIONS.iter().take(cfg.regions as usize) {
                streams.push(build_stream(
                    &accounts, account, region, &mut rng, &mut pool,
                )?);
            }
        }

        let windows = cfg.hours as usize * (HOUR / WINDOW) as usize;
        let (counts, spikes) = plan(cfg, streams.len(), windows, start);
        Ok(World {
            out: cfg.out.clone(),
            seed: cfg.seed,
            start,
            hours: cfg.hours,
            windows,
            org: cfg.org.clone(),
            accounts,
            streams,
            pool,
            trail,
            counts,
            spikes,
        })
    }

    /// Digest 0 covers the trail's start up to the first hourly close; then one per hour.
    fn digests_per_stream(&self) -> usize {
        self.hours as usize + 1
    }
}

fn build_stream(
    accounts: &[Account],
    account: usize,
    region: &'static str,
    rng: &mut Rng,
    pool: &mut Pool,
) -> Result<Stream> {
    let acct = &accounts[account].id;
    let keys: Vec<String> = KEY_ALIASES
        .iter()
        .map(|_| format!("arn:aws:kms:{region}:{acct}:key/{}", rand_uuid(rng)))
        .collect();
    let mut buckets = Vec::new();
    for kind in BUCKET_KINDS {
        let name = format!("{}-{acct}-{region}", kind.name_prefix());
        buckets.push(Bucket {
            id: pool.bucket(&name)?,
            host_regional: format!("{name}.s3.{region}.amazonaws.com"),
            host_global: format!("{name}.s3.amazonaws.com"),
            name,
        });
    }
    let cx = SpecCx {
        acct,
        region,
        keys: &keys,
        buckets: &buckets,
    };
    let mut mgmt = Vec::new();
    for spec in MGMT_SPECS {
        // IAM is a global service: CloudTrail logs it in us-east-1 only.
        if spec.global && region != "us-east-1" {
            continue;
        }
        let mut variants = Vec::new();
        for _ in 0..6 {
            variants.push(compile_payload(spec, (spec.build)(&cx, rng)?, &cx)?);
        }
        mgmt.push(MgmtKind { spec, variants });
    }
    Ok(Stream {
        account,
        region,
        sigv2_ok: SIGV2_REGIONS.contains(&region),
        keys,
        buckets,
        mgmt,
        kms_host: format!("kms.{region}.amazonaws.com"),
        digest_offset: rng.range(1_300, 3_300) as i64,
        fingerprint: rand_hex(rng, 32),
    })
}

/// Relative traffic by UTC hour of day: a working-day curve.
const DIURNAL: [u64; 24] = [
    60, 55, 50, 50, 55, 65, 80, 95, 110, 120, 125, 130, 130, 128, 125, 120, 115, 110, 100, 90, 80,
    75, 70, 65,
];

/// Splits `total` into parts proportional to `weights`, exactly (floor of prefix sums).
fn split_exact(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let mut prefix = 0u128;
    let mut prev = 0u128;
    weights
        .iter()
        .map(|&w| {
            prefix += u128::from(w);
            let upto = u128::from(total) * prefix / sum;
            let part = upto - prev;
            prev = upto;
            part as u64
        })
        .collect()
}

/// Records per window (stream-major) and, among them, the BI burst at minute 0 of each hour.
///
/// The burst is sized so that it stands clearly above the background even in a small trail:
/// about 4% of the records, at least 8 per stream-hour, at most a quarter of the trail.
fn plan(cfg: &GenConfig, n_streams: usize, windows: usize, start: i64) -> (Vec<u64>, Vec<u64>) {
    let mut rng = Rng::new(mix(&[cfg.seed, TAG_PLAN]));
    let per_hour = (HOUR / WINDOW) as usize;
    let stream_hours = (n_streams * cfg.hours as usize) as u64;
    let spike_total = if cfg.records == 0 {
        0
    } else {
        (cfg.records / 25)
            .max(8 * stream_hours)
            .min(cfg.records / 4)
    };
    let hour_spikes = split_exact(spike_total, &vec![1; stream_hours as usize]);

    let mut weights = Vec::with_capacity(n_streams * windows);
    for _ in 0..n_streams {
        let stream_weight = rng.range(40, 100);
        for w in 0..windows {
            let t = start + w as i64 * WINDOW;
            let hour_of_day = civil(t).h as usize;
            weights.push(stream_weight * DIURNAL[hour_of_day] * rng.range(85, 115));
        }
    }
    let mut counts = split_exact(cfg.records - spike_total, &weights);
    let mut spikes = vec![0; counts.len()];
    for (sh, &n) in hour_spikes.iter().enumerate() {
        let i = sh * per_hour; // stream-major windows: hour sh's first window
        spikes[i] = n;
        counts[i] += n;
    }
    (counts, spikes)
}

// ------------------------------------------------------------------------------------------
// Windows and log files
// ------------------------------------------------------------------------------------------

/// Hand the gzip encoder the JSON in chunks of about this size.
const FLUSH_AT: usize = 1 << 16;

/// Spreads the window's `k` burst records evenly over its `n` records (exactly `k` of them;
/// rounding keeps them off the first and last record while `k < n / 2`).
fn is_spike(g: u64, n: u64, k: u64) -> bool {
    if k == 0 {
        return false;
    }
    let (g, n, k) = (u128::from(g), u128::from(n), u128::from(k));
    ((g + 1) * k + n / 2) / n > (g * k + n / 2) / n
}

/// The first and last record of a file pin its oldest and newest event time (which the
/// digest announces); the others fall anywhere in between, so files are not sorted.
fn record_time(rng: &mut Rng, meta: &WindowMeta, file: &FileMeta, j: u64, spike: bool) -> i64 {
    if j == 0 {
        return file.oldest;
    }
    if j + 1 == file.len {
        return file.newest;
    }
    if spike {
        return meta.spike_start + rng.below(meta.spike_secs) as i64;
    }
    file.oldest + rng.below((file.newest - file.oldest + 1) as u64) as i64
}

struct WindowJob<'a> {
    world: &'a World,
    s: usize,
    w: usize,
    meta: WindowMeta,
}

fn run_window(world: &World, s: usize, w: usize) -> Result<Acc> {
    let job = WindowJob {
        world,
        s,
        w,
        meta: window_meta(world, s, w),
    };
    let mut acc = Acc::default();
    if job.meta.files.is_empty() {
        return Ok(acc);
    }
    let mut per_second = [0u32; WINDOW as usize];
    let mut out = Out {
        buf: Vec::with_capacity(FLUSH_AT + (64 << 10)),
        key: Vec::with_capacity(256),
    };
    for f in 0..job.meta.files.len() {
        write_log_file(&job, f, &mut out, &mut acc, &mut per_second)?;
    }
    acc.add_window_peak(s, job.meta.start, &per_second);
    Ok(acc)
}

fn create_gz(path: &Path) -> Result<flate2::write::GzEncoder<File>> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    // mtime 0 and no file name: the same config gives byte-identical files.
    Ok(GzBuilder::new().mtime(0).write(file, Compression::fast()))
}

fn write_log_file(
    job: &WindowJob,
    f: usize,
    out: &mut Out,
    acc: &mut Acc,
    per_second: &mut [u32],
) -> Result<()> {
    let (world, meta) = (job.world, &job.meta);
    let file = &meta.files[f];
    let path = world
        .out
        .join(world.log_key(job.s, meta.delivery, &file.suffix));
    let mut gz = create_gz(&path)?;
    let mut rng = Rng::new(mix(&[
        world.seed,
        TAG_FILE,
        job.s as u64,
        job.w as u64,
        f as u64,
    ]));
    let stream = &world.streams[job.s];
    let account = &world.accounts[stream.account];

    out.buf.clear();
    lit(&mut out.buf, "{\"Records\":[");
    for j in 0..file.len {
        if j > 0 {
            out.buf.push(b',');
        }
        let spike = is_spike(file.first + j, meta.count, meta.spike);
        let t = record_time(&mut rng, meta, file, j, spike);
        let kind = if spike {
            Kind::BiSpike
        } else {
            pick_weighted(&mut rng, KIND_MIX)
        };
        let cx = Cx {
            world,
            stream,
            account,
            t,
        };
        let facts = write_record(out, &mut rng, &cx, kind);
        if acc.observe(&facts) {
            per_second[(t - meta.start) as usize] += 1;
        }
        if out.buf.len() >= FLUSH_AT {
            gz.write_all(&out.buf)
                .with_context(|| format!("writing {}", path.display()))?;
            out.buf.clear();
        }
    }
    lit(&mut out.buf, "]}");
    gz.write_all(&out.buf)
        .and_then(|()| gz.try_finish())
        .with_context(|| format!("writing {}", path.display()))?;
    acc.log_objects += 1;
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::layout::MAX_FILE_RECORDS;
    use super::rules::{
        IdentityView, SYMMETRIC_OPS, attribute_principal, is_legacy_tls, strip_brackets,
    };
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeSet;
    use std::io::Read;

    /// Four hours across midnight, 2 accounts x 2 regions: files of a few dozen records.
    fn config(out: &Path, records: u64, seed: u64) -> GenConfig {
        GenConfig {
            out: out.to_path_buf(),
            records,
            seed,
            hours: 4,
            start: chrono::DateTime::from_timestamp(DEFAULT_START + 22 * HOUR, 0)
                .expect("in range"),
            ..GenConfig::default()
        }
    }

    fn files_under(root: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).expect("read_dir") {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    found.push(path);
                }
            }
        }
        found.sort();
        found
    }

    fn gunzip(path: &Path) -> Vec<u8> {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(File::open(path).expect("open"))
            .read_to_end(&mut text)
            .expect("gunzip");
        text
    }

    fn relative(root: &Path, path: &Path) -> String {
        path.strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .into_owned()
    }

    /// Log files of a generated trail: (relative key, decompressed text, parsed body).
    fn log_files(root: &Path) -> Vec<(String, Value)> {
        log_files_raw(root)
            .into_iter()
            .map(|(k, _, body)| (k, body))
            .collect()
    }

    fn log_files_raw(root: &Path) -> Vec<(String, String, Value)> {
        files_under(root)
            .iter()
            .map(|p| relative(root, p))
            .filter(|k| k.contains("/CloudTrail/"))
            .map(|k| {
                let raw = String::from_utf8(gunzip(&root.join(&k))).expect("utf-8");
                let body = serde_json::from_str(&raw).expect("json");
                (k, raw, body)
            })
            .collect()
    }

    fn records(files: &[(String, Value)]) -> impl Iterator<Item = (&String, &Value)> {
        files.iter().flat_map(|(k, body)| {
            body["Records"]
                .as_array()
                .expect("Records array")
                .iter()
                .map(move |r| (k, r))
        })
    }

    fn s(v: &Value) -> Option<&str> {
        v.as_str()
    }

    /// Recomputes the truth from the written files alone, with the attribution rules.
    fn truth_from_files(root: &Path) -> Truth {
        let files = log_files(root);
        let mut t = Truth {
            log_objects: files.len() as u64,
            digest_objects: files_under(root)
                .iter()
                .filter(|p| relative(root, p).contains("/CloudTrail-Digest/"))
                .count() as u64,
            ..Truth::default()
        };
        let mut seconds: BTreeMap<(String, String, String), BTreeMap<String, u64>> =
            BTreeMap::new();
        for (_, r) in records(&files) {
            t.records_total += 1;
            let ui = &r["userIdentity"];
            let principal = attribute_principal(&IdentityView {
                typ: s(&ui["type"]),
                arn: s(&ui["arn"]),
                issuer_arn: s(&ui["sessionContext"]["sessionIssuer"]["arn"]),
                invoked_by: s(&ui["invokedBy"]),
                account_id: s(&ui["accountId"]),
            });
            let name = s(&r["eventName"]).expect("eventName").to_string();
            let time = s(&r["eventTime"]).expect("eventTime").to_string();
            match s(&r["eventSource"]) {
                Some("kms.amazonaws.com") => {
                    t.kms_records += 1;
                    *t.kms_calls
                        .entry(principal.clone())
                        .or_default()
                        .entry(name.clone())
                        .or_default() += 1;
                    if s(&r["errorCode"]) == Some("ThrottlingException") {
                        *t.kms_throttled.entry(principal.clone()).or_default() += 1;
                    }
                    let context = &r["requestParameters"]["encryptionContext"];
                    if let Some(arn) = s(&context["aws:s3:arn"]) {
                        let bucket = arn.trim_start_matches("arn:aws:s3:::");
                        let bucket = bucket.split('/').next().unwrap_or_default();
                        *t.s3_bucket_kms_calls.entry(bucket.to_string()).or_default() += 1;
                    }
                    if SYMMETRIC_OPS.contains(&name.as_str()) {
                        let key = (
                            format!("{}:00:00Z", &time[..13]),
                            s(&r["recipientAccountId"]).expect("account").to_string(),
                            s(&r["awsRegion"]).expect("region").to_string(),
                        );
                        *seconds
                            .entry(key)
                            .or_default()
                            .entry(time.clone())
                            .or_default() += 1;
                    }
                }
                Some("s3.amazonaws.com") => {
                    t.s3_records += 1;
                    if s(&r["eventCategory"]) == Some("Data") {
                        t.s3_data_records += 1;
                    }
                    if s(&r["additionalEventData"]["SignatureVersion"]) == Some("SigV2") {
                        t.sigv2_records += 1;
                        let ua = strip_brackets(s(&r["userAgent"]).expect("userAgent"));
                        *t.sigv2
                            .entry(principal.clone())
                            .or_default()
                            .entry(ua.to_string())
                            .or_default() += 1;
                    }
                }
                _ => {}
            }
            if let Some(v) = s(&r["tlsDetails"]["tlsVersion"]).filter(|v| is_legacy_tls(v)) {
                t.tls_legacy_records += 1;
                *t.tls_legacy
                    .entry(principal)
                    .or_default()
                    .entry(v.to_string())
                    .or_default() += 1;
            }
        }
        for ((hour, account_id, region), per_second) in seconds {
            let peak = per_second.values().copied().max().unwrap_or(0);
            let peak_second = per_second
                .iter()
                .find(|(_, n)| **n == peak)
                .map(|(sec, _)| sec.clone())
                .unwrap_or_default();
            t.kms_peaks.push(KmsPeak {
                hour,
                account_id,
                region,
                calls: per_second.values().sum(),
                peak_rps: peak,
                peak_second,
            });
        }
        t
    }

    #[test]
    fn same_seed_gives_identical_bytes() {
        let (a, b, c) = (
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
        );
        let ta = generate(&config(a.path(), 5_000, 7)).expect("gen a");
        let tb = generate(&config(b.path(), 5_000, 7)).expect("gen b");
        assert_eq!(ta, tb);
        let (fa, fb) = (files_under(a.path()), files_under(b.path()));
        let names = |root: &Path, fs: &[PathBuf]| -> Vec<String> {
            fs.iter().map(|p| relative(root, p)).collect()
        };
        assert_eq!(names(a.path(), &fa), names(b.path(), &fb));
        for (x, y) in fa.iter().zip(&fb) {
            assert!(
                fs::read(x).expect("read") == fs::read(y).expect("read"),
                "{x:?} differs"
            );
        }
        let tc = generate(&config(c.path(), 5_000, 8)).expect("gen c");
        assert_ne!(ta, tc, "another seed gives another trail");
    }

    #[test]
    fn record_count_is_exact_and_truth_matches_the_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let truth = generate(&config(dir.path(), 5_000, 3)).expect("gen");
        assert_eq!(truth.records_total, 5_000);
        let recomputed = truth_from_files(dir.path());
        assert_eq!(recomputed.records_total, 5_000);
        assert_eq!(recomputed, truth);
        let written: Truth =
            serde_json::from_slice(&fs::read(dir.path().join("truth.json")).expect("truth.json"))
                .expect("parse truth.json");
        assert_eq!(written, truth);
        // Every answer is non-trivial.
        assert!(truth.sigv2_records > 0 && truth.tls_legacy_records > 0);
        assert!(!truth.kms_throttled.is_empty() && !truth.s3_bucket_kms_calls.is_empty());
        assert!(
            truth.s3_records > truth.s3_data_records,
            "S3 management events too"
        );
        assert!(truth.tls_legacy.values().any(|m| m.contains_key("TLSv1.1")));
        assert!(truth.kms_calls.contains_key("cloudtrail.amazonaws.com"));
        assert!(
            truth
                .sigv2
                .keys()
                .any(|p| p.ends_with(":user/legacy-backup"))
        );
    }

    #[test]
    fn zero_records_still_writes_digests() {
        let dir = tempfile::tempdir().expect("tmp");
        let truth = generate(&GenConfig {
            hours: 2,
            ..config(dir.path(), 0, 1)
        })
        .expect("gen");
        assert_eq!((truth.records_total, truth.log_objects), (0, 0));
        assert_eq!(truth.digest_objects, 4 * 3);
    }

    fn is_uuid(v: &str) -> bool {
        v.len() == 36
            && v.char_indices().all(|(i, c)| {
                if matches!(i, 8 | 13 | 18 | 23) {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            })
    }

    fn is_event_time(v: &str) -> bool {
        let b = v.as_bytes();
        b.len() == 20
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                19 => *c == b'Z',
                _ => c.is_ascii_digit(),
            })
    }

    #[test]
    fn records_have_the_planted_fields() {
        let dir = tempfile::tempdir().expect("tmp");
        generate(&config(dir.path(), 5_000, 11)).expect("gen");
        let with_raw = log_files_raw(dir.path());
        let raw: String = with_raw.iter().map(|(_, raw, _)| raw.as_str()).collect();
        let files: Vec<(String, Value)> = with_raw.into_iter().map(|(k, _, v)| (k, v)).collect();
        let mut ids = BTreeSet::new();
        for (key, r) in records(&files) {
            let parts: Vec<&str> = key.split('/').collect();
            let (acct, region) = (parts[1], parts[3]);
            assert_eq!(s(&r["recipientAccountId"]), Some(acct), "{key}");
            assert_eq!(s(&r["awsRegion"]), Some(region), "{key}");
            let time = s(&r["eventTime"]).expect("eventTime");
            let in_span = ("2026-03-01T22:00:00Z".."2026-03-02T02:00:00Z").contains(&time);
            assert!(is_event_time(time) && in_span, "{time}");
            let id = s(&r["eventID"]).expect("eventID");
            assert!(is_uuid(id) && ids.insert(id.to_string()), "eventID {id}");
            assert!(s(&r["eventVersion"]).is_some() && s(&r["userIdentity"]["type"]).is_some());
            assert!(s(&r["sourceIPAddress"]).is_some() && s(&r["userAgent"]).is_some());
            assert!(r.get("requestParameters").is_some() && r.get("responseElements").is_some());
            match s(&r["eventSource"]) {
                Some("kms.amazonaws.com") => check_kms(r, acct, region),
                Some("s3.amazonaws.com") if s(&r["eventCategory"]) == Some("Data") => {
                    check_s3_data(r)
                }
                _ => assert_eq!(s(&r["eventCategory"]), Some("Management")),
            }
        }
        for planted in ["\\/", "\\u00e9", "東京", "café", "\\\"", "\\n"] {
            assert!(raw.contains(planted), "no {planted} in the trail");
        }
        for needle in [
            "\"AuthenticationMethod\":\"QueryString\"",
            "\"SignatureVersion\":\"SigV2\"",
            "\"tlsVersion\":\"TLSv1\"",
            "\"tlsVersion\":\"TLSv1.1\"",
            "\"invokedBy\":\"cloudtrail.amazonaws.com\"",
            "\"invokedBy\":\"s3.amazonaws.com\"",
            "\"aws:cloudtrail:arn\"",
            "\"type\":\"AWSAccount\"",
            "\"userAgent\":\"[curl/",
            "\"userAgent\":\"[Mozilla/5.0",
        ] {
            assert!(raw.contains(needle), "no {needle} in the trail");
        }
    }

    fn check_kms(r: &Value, acct: &str, region: &str) {
        let ui = &r["userIdentity"];
        if let Some(by) = s(&ui["invokedBy"]).filter(|b| b.contains("s3.amazonaws.com")) {
            assert_eq!(s(&r["sourceIPAddress"]), Some(by));
            let arn = s(&r["requestParameters"]["encryptionContext"]["aws:s3:arn"]);
            assert!(arn.is_some_and(|a| a.starts_with("arn:aws:s3:::")), "{r}");
        }
        if s(&ui["type"]) == Some("AssumedRole") {
            let arn = s(&ui["arn"]).expect("arn");
            assert!(arn.starts_with(&format!("arn:aws:sts::{acct}:assumed-role/")));
            let issuer = s(&ui["sessionContext"]["sessionIssuer"]["arn"]).expect("issuer");
            assert!(issuer.starts_with(&format!("arn:aws:iam::{acct}:role/")));
        }
        if let Some(resources) = r["resources"].as_array() {
            for res in resources {
                assert_eq!(s(&res["type"]), Some("AWS::KMS::Key"));
                let prefix = format!("arn:aws:kms:{region}:{acct}:key/");
                assert!(s(&res["ARN"]).is_some_and(|a| a.starts_with(&prefix)));
            }
        } else {
            let op = s(&r["eventName"]);
            assert!(matches!(op, Some("GenerateRandom" | "ListAliases")), "{r}");
        }
    }

    fn check_s3_data(r: &Value) {
        let ua = s(&r["userAgent"]).expect("userAgent");
        assert!(ua.starts_with('[') && ua.ends_with(']'), "{ua}");
        let extra = &r["additionalEventData"];
        assert!(s(&extra["x-amz-id-2"]).is_some() && s(&extra["CipherSuite"]).is_some());
        if s(&r["userIdentity"]["accountId"]) != Some("anonymous") {
            assert!(matches!(
                s(&extra["SignatureVersion"]),
                Some("SigV2" | "SigV4")
            ));
            assert!(s(&extra["AuthenticationMethod"]).is_some());
        }
        let tls = &r["tlsDetails"];
        assert!(s(&tls["tlsVersion"]).is_some() && s(&tls["clientProvidedHostHeader"]).is_some());
        let req = &r["requestParameters"];
        assert!(s(&req["bucketName"]).is_some() && s(&req["Host"]).is_some());
        let types: Vec<&str> = r["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter_map(|x| s(&x["type"]))
            .collect();
        assert_eq!(types, ["AWS::S3::Object", "AWS::S3::Bucket"]);
    }

    #[test]
    fn hourly_bi_burst_is_the_peak_of_every_hour() {
        let dir = tempfile::tempdir().expect("tmp");
        let truth = generate(&config(dir.path(), 5_000, 5)).expect("gen");
        assert_eq!(truth.kms_peaks.len(), 2 * 2 * 4);
        let files = log_files(dir.path());
        let mut per_second: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (_, r) in records(&files) {
            let name = s(&r["eventName"]).unwrap_or_default();
            if s(&r["eventSource"]) == Some("kms.amazonaws.com") && SYMMETRIC_OPS.contains(&name) {
                let key = (
                    s(&r["recipientAccountId"]).unwrap_or_default().to_string()
                        + s(&r["awsRegion"]).unwrap_or_default(),
                    s(&r["eventTime"]).unwrap_or_default().to_string(),
                );
                *per_second.entry(key).or_default() += 1;
            }
        }
        let mut busy: Vec<u64> = per_second.values().copied().collect();
        busy.sort_unstable();
        let median = busy[busy.len() / 2];
        for peak in &truth.kms_peaks {
            assert_eq!(&peak.peak_second[14..16], "00", "{peak:?}");
            assert!(peak.peak_rps >= 4 * median, "{peak:?} vs median {median}");
        }
    }

    #[test]
    fn layout_names_and_digests_are_consistent() {
        let dir = tempfile::tempdir().expect("tmp");
        let truth = generate(&GenConfig {
            org: Some("o-abc123def4".into()),
            ..config(dir.path(), 5_000, 9)
        })
        .expect("gen");
        let root = dir.path();
        let all: Vec<String> = files_under(root)
            .iter()
            .map(|p| relative(root, p))
            .collect();
        let logs: Vec<&String> = all.iter().filter(|k| k.contains("/CloudTrail/")).collect();
        let digests: Vec<&String> = all.iter().filter(|k| k.contains("-Digest/")).collect();
        assert_eq!(logs.len() as u64, truth.log_objects);
        assert_eq!(digests.len() as u64, truth.digest_objects);
        assert_eq!(all.len(), logs.len() + digests.len() + 1, "and truth.json");

        let mut next_day = false;
        for (key, body) in log_files(root) {
            let parts: Vec<&str> = key.split('/').collect();
            assert_eq!(parts.len(), 9, "{key}");
            assert_eq!(
                (parts[0], parts[1], parts[3]),
                ("AWSLogs", "o-abc123def4", "CloudTrail")
            );
            let (acct, region) = (parts[2], parts[4]);
            let name = parts[8].strip_suffix(".json.gz").expect("suffix");
            let fields: Vec<&str> = name.split('_').collect();
            assert_eq!(fields.len(), 5, "{name}");
            assert_eq!(
                (fields[0], fields[1], fields[2]),
                (acct, "CloudTrail", region)
            );
            let stamp = fields[3];
            assert_eq!(
                format!("{}/{}/{}", parts[5], parts[6], parts[7]),
                format!("{}/{}/{}", &stamp[..4], &stamp[4..6], &stamp[6..8])
            );
            assert!(fields[4].len() == 16 && fields[4].bytes().all(|b| b.is_ascii_alphanumeric()));
            let delivered = format!(
                "{}-{}-{}T{}:{}:00Z",
                &stamp[..4],
                &stamp[4..6],
                &stamp[6..8],
                &stamp[9..11],
                &stamp[11..13]
            );
            let times: Vec<&str> = body["Records"]
                .as_array()
                .expect("Records")
                .iter()
                .filter_map(|r| s(&r["eventTime"]))
                .collect();
            let newest = times.iter().max().expect("non-empty");
            assert!(
                delivered.as_str() > *newest,
                "{key} delivered before {newest}"
            );
            let mut sorted = times.clone();
            sorted.sort_unstable();
            assert!(
                times.len() < 20 || sorted != times,
                "records are not sorted"
            );
            next_day |= !times
                .iter()
                .min()
                .expect("non-empty")
                .starts_with(&format!("{}-{}-{}", parts[5], parts[6], parts[7]));
        }
        assert!(
            next_day,
            "late windows are delivered into the next day's folder"
        );

        let mut listed = BTreeMap::new();
        for key in &digests {
            assert!(key.contains("_CloudTrail-Digest_") && key.contains("_trailsift-trail_"));
            let digest: Value = serde_json::from_slice(&gunzip(&root.join(key))).expect("digest");
            assert!(digest.get("Records").is_none());
            assert_eq!(s(&digest["digestS3Object"]), Some(key.as_str()));
            assert!(s(&digest["awsAccountId"]).is_some());
            for file in digest["logFiles"].as_array().expect("logFiles") {
                let object = s(&file["s3Object"]).expect("s3Object").to_string();
                *listed.entry(object).or_insert(0) += 1;
            }
        }
        let logged: BTreeMap<String, i32> = logs.iter().map(|k| ((*k).clone(), 1)).collect();
        assert_eq!(listed, logged, "every log file in exactly one digest");
    }

    #[test]
    fn mix_and_record_size_look_like_a_busy_account() {
        let dir = tempfile::tempdir().expect("tmp");
        let truth = generate(&GenConfig {
            accounts: 1,
            regions: 1,
            hours: 2,
            ..config(dir.path(), 10_000, 2)
        })
        .expect("gen");
        let share = |n: u64| n as f64 / truth.records_total as f64;
        assert!(
            (0.40..0.50).contains(&share(truth.kms_records)),
            "{truth:?}"
        );
        assert!(
            (0.30..0.40).contains(&share(truth.s3_data_records)),
            "{truth:?}"
        );
        let files = log_files(dir.path());
        let mut sizes: Vec<usize> = records(&files)
            .map(|(_, r)| serde_json::to_vec(r).expect("json").len())
            .collect();
        sizes.sort_unstable();
        let median = sizes[sizes.len() / 2];
        assert!(
            (1_200..2_000).contains(&median),
            "median record {median} bytes"
        );
        assert!(
            sizes[sizes.len() - 1] > 4_000,
            "some large management events"
        );
        for (_, body) in &files {
            let n = body["Records"].as_array().expect("Records").len();
            assert!((1..=MAX_FILE_RECORDS as usize).contains(&n));
        }
    }

    #[test]
    fn rejects_bad_configs() {
        let dir = tempfile::tempdir().expect("tmp");
        for bad in [
            GenConfig {
                regions: 17,
                ..config(dir.path(), 10, 1)
            },
            GenConfig {
                accounts: 0,
                ..config(dir.path(), 10, 1)
            },
            GenConfig {
                org: Some("org/../x".into()),
                ..config(dir.path(), 10, 1)
            },
        ] {
            assert!(generate(&bad).is_err());
        }
    }
}
