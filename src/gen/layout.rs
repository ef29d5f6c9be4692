//! Where the trail goes: the S3 key layout, the log files' names and delivery metadata, and
//! the hourly digests that list them.

use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;

use super::json::{ALNUM, rand_hex, rand_string};
use super::rng::{Rng, TAG_DIGEST, TAG_META, mix};
use super::time::{HOUR, WINDOW, civil, iso};
use super::{World, create_gz};

/// (`YYYY/MM/DD`, `YYYYMMDDTHHmm`, `ss`) as the S3 key layout writes them.
pub(super) fn key_time(t: i64) -> (String, String, String) {
    let c = civil(t);
    (
        format!("{:04}/{:02}/{:02}", c.y, c.mo, c.d),
        format!("{:04}{:02}{:02}T{:02}{:02}", c.y, c.mo, c.d, c.h, c.mi),
        format!("{:02}", c.s),
    )
}

pub(super) fn stream_prefix(org: Option<&str>, acct: &str, dir: &str, region: &str) -> String {
    match org {
        Some(org) => format!("AWSLogs/{org}/{acct}/{dir}/{region}"),
        None => format!("AWSLogs/{acct}/{dir}/{region}"),
    }
}

impl World {
    fn stream_prefix(&self, s: usize, dir: &str) -> String {
        let stream = &self.streams[s];
        let acct = &self.accounts[stream.account].id;
        stream_prefix(self.org.as_deref(), acct, dir, stream.region)
    }

    /// Key of a log file: named and foldered by its delivery time.
    pub(super) fn log_key(&self, s: usize, delivery: i64, suffix: &str) -> String {
        let stream = &self.streams[s];
        let acct = &self.accounts[stream.account].id;
        let (folder, stamp, _) = key_time(delivery);
        format!(
            "{}/{folder}/{acct}_CloudTrail_{}_{stamp}Z_{suffix}.json.gz",
            self.stream_prefix(s, "CloudTrail"),
            stream.region
        )
    }

    fn digest_key(&self, s: usize, end: i64) -> String {
        let stream = &self.streams[s];
        let acct = &self.accounts[stream.account].id;
        let region = stream.region;
        let (folder, stamp, secs) = key_time(end);
        format!(
            "{}/{folder}/{acct}_CloudTrail-Digest_{region}_trailsift-trail_{region}_{stamp}{secs}Z.json.gz",
            self.stream_prefix(s, "CloudTrail-Digest"),
        )
    }
}

/// Busy windows are split into files of at most this many records.
pub(super) const MAX_FILE_RECORDS: u64 = 1_800;

#[derive(Debug, Clone)]
pub(super) struct FileMeta {
    /// Index of the file's first record within the window.
    pub(super) first: u64,
    pub(super) len: u64,
    pub(super) oldest: i64,
    pub(super) newest: i64,
    pub(super) suffix: String,
    /// Stands in for the SHA-256 a real digest would carry.
    hash: String,
}

/// Everything about a window except its records: cheap, so digests recompute it.
#[derive(Debug, Clone)]
pub(super) struct WindowMeta {
    pub(super) start: i64,
    pub(super) count: u64,
    pub(super) spike: u64,
    pub(super) spike_start: i64,
    pub(super) spike_secs: u64,
    /// All files of a window are delivered in the same minute, with different suffixes.
    pub(super) delivery: i64,
    pub(super) files: Vec<FileMeta>,
}

pub(super) fn window_meta(world: &World, s: usize, w: usize) -> WindowMeta {
    let i = s * world.windows + w;
    let (count, spike) = (world.counts[i], world.spikes[i]);
    let start = world.start + w as i64 * WINDOW;
    let mut rng = Rng::new(mix(&[world.seed, TAG_META, s as u64, w as u64]));
    let spike_start = start + rng.below(3) as i64;
    let spike_secs = spike.div_ceil(100).clamp(1, 6);
    let last = start + WINDOW - 1 - rng.below(4) as i64;
    let lag = 60 * rng.range(1, 15) as i64 + rng.below(60) as i64;
    let n_files = count.div_ceil(MAX_FILE_RECORDS);
    let files: Vec<FileMeta> = (0..n_files)
        .map(|f| {
            let first = (u128::from(count) * u128::from(f) / u128::from(n_files)) as u64;
            let end = (u128::from(count) * u128::from(f + 1) / u128::from(n_files)) as u64;
            // The burst starts at second 0..2, so the window's files must reach back to it.
            let oldest = if spike > 0 {
                start
            } else {
                start + rng.below(4) as i64
            };
            let newest = if f == 0 {
                last
            } else {
                last - rng.below(8) as i64
            };
            FileMeta {
                first,
                len: end - first,
                oldest,
                newest: if end - first == 1 { oldest } else { newest },
                suffix: rand_string(&mut rng, 16, ALNUM),
                hash: rand_hex(&mut rng, 64),
            }
        })
        .collect();
    let delivery = files.iter().map(|f| f.newest).max().unwrap_or(last) + lag;
    WindowMeta {
        start,
        count,
        spike,
        spike_start,
        spike_secs,
        delivery,
        files,
    }
}

// ------------------------------------------------------------------------------------------
// Digests
// ------------------------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Digest<'a> {
    aws_account_id: &'a str,
    digest_start_time: String,
    digest_end_time: String,
    digest_s3_bucket: &'a str,
    digest_s3_object: String,
    digest_public_key_fingerprint: &'a str,
    digest_signature_algorithm: &'static str,
    newest_event_time: Option<String>,
    oldest_event_time: Option<String>,
    previous_digest_s3_bucket: Option<&'a str>,
    previous_digest_s3_object: Option<String>,
    previous_digest_hash_value: Option<String>,
    previous_digest_hash_algorithm: Option<&'static str>,
    previous_digest_signature: Option<String>,
    log_files: Vec<DigestLogFile<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DigestLogFile<'a> {
    s3_bucket: &'a str,
    s3_object: String,
    hash_value: String,
    hash_algorithm: &'static str,
    newest_event_time: String,
    oldest_event_time: String,
}

/// [start, end) of digest `k`: the first one runs from the trail's start to the stream's
/// first hourly close, the next ones an hour each. Together they cover every delivery.
fn digest_span(world: &World, s: usize, k: usize) -> (i64, i64) {
    let close = world.start + world.streams[s].digest_offset;
    if k == 0 {
        (world.start, close)
    } else {
        (close + (k as i64 - 1) * HOUR, close + k as i64 * HOUR)
    }
}

/// Pseudo hash and signature of digest `k`, derived so that digest `k + 1` can quote them.
fn digest_hash(world: &World, s: usize, k: usize) -> (String, String) {
    let mut rng = Rng::new(mix(&[world.seed, TAG_DIGEST, s as u64, k as u64]));
    (rand_hex(&mut rng, 64), rand_hex(&mut rng, 512))
}

/// Windows whose files may be delivered in [from, to): delivery lags at most ~21 minutes.
fn windows_delivering(world: &World, from: i64, to: i64) -> std::ops::Range<usize> {
    let first = (from - world.start - 1_300).max(0) / WINDOW;
    let end = (to - world.start + WINDOW - 1).max(0) / WINDOW;
    (first as usize).min(world.windows)..(end as usize).min(world.windows)
}

pub(super) fn write_digest(world: &World, s: usize, k: usize) -> Result<()> {
    let stream = &world.streams[s];
    let acct = world.accounts[stream.account].id.as_str();
    let (from, to) = digest_span(world, s, k);
    let mut log_files = Vec::new();
    let (mut oldest, mut newest) = (i64::MAX, i64::MIN);
    for w in windows_delivering(world, from, to) {
        let meta = window_meta(world, s, w);
        if meta.delivery < from || meta.delivery >= to {
            continue;
        }
        for file in &meta.files {
            oldest = oldest.min(file.oldest);
            newest = newest.max(file.newest);
            log_files.push(DigestLogFile {
                s3_bucket: &world.trail.bucket,
                s3_object: world.log_key(s, meta.delivery, &file.suffix),
                hash_value: file.hash.clone(),
                hash_algorithm: "SHA-256",
                newest_event_time: iso(file.newest),
                oldest_event_time: iso(file.oldest),
            });
        }
    }
    let previous = (k > 0).then(|| digest_hash(world, s, k - 1));
    let key = world.digest_key(s, to);
    let digest = Digest {
        aws_account_id: acct,
        digest_start_time: iso(from),
        digest_end_time: iso(to),
        digest_s3_bucket: &world.trail.bucket,
        digest_s3_object: key.clone(),
        digest_public_key_fingerprint: &stream.fingerprint,
        digest_signature_algorithm: "SHA256withRSA",
        newest_event_time: (!log_files.is_empty()).then(|| iso(newest)),
        oldest_event_time: (!log_files.is_empty()).then(|| iso(oldest)),
        previous_digest_s3_bucket: previous.as_ref().map(|_| world.trail.bucket.as_str()),
        previous_digest_s3_object: previous.as_ref().map(|_| world.digest_key(s, from)),
        previous_digest_hash_value: previous.as_ref().map(|p| p.0.clone()),
        previous_digest_hash_algorithm: previous.as_ref().map(|_| "SHA-256"),
        previous_digest_signature: previous.map(|p| p.1),
        log_files,
    };
    let path = world.out.join(&key);
    let mut gz = create_gz(&path)?;
    let body = serde_json::to_vec(&digest)?;
    gz.write_all(&body)
        .and_then(|()| gz.try_finish())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
