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

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use flate2::{Compression, GzBuilder};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

// The regions that ever took SigV2: the same fact the analysis uses, so planted and found agree.
use crate::attribute::sigv2::SIGV2_REGIONS;

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
// Attribution rules (the product's rules, restated here so the truth does not depend on the
// analyzer's code)
// ------------------------------------------------------------------------------------------

/// The identity fields the attribution rules look at, as they appear in a record.
#[derive(Debug, Clone, Copy, Default)]
struct IdentityView<'a> {
    typ: Option<&'a str>,
    arn: Option<&'a str>,
    issuer_arn: Option<&'a str>,
    invoked_by: Option<&'a str>,
    account_id: Option<&'a str>,
}

fn attribute_principal(id: &IdentityView) -> String {
    if let Some(issuer) = id.issuer_arn.filter(|s| !s.is_empty()) {
        return issuer.to_string();
    }
    if let Some(arn) = id.arn {
        return arn.to_string();
    }
    match (id.typ, id.invoked_by, id.account_id) {
        (Some("AWSService"), Some(by), _) => by.to_string(),
        (Some("AWSAccount"), _, Some(acct)) => format!("account:{acct}"),
        _ => "unknown".to_string(),
    }
}

/// Operations that share the per-account, per-region KMS request quota.
const SYMMETRIC_OPS: [&str; 8] = [
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "ReEncrypt",
    "GenerateRandom",
];

fn is_legacy_tls(version: &str) -> bool {
    version == "TLSv1" || version == "TLSv1.1"
}

/// The logged user agent without one pair of surrounding square brackets. (The generator knows
/// the unbracketed agent already; the tests apply the rule to what was logged.)
#[cfg(test)]
fn strip_brackets(ua: &str) -> &str {
    ua.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(ua)
}

// ------------------------------------------------------------------------------------------
// Time
// ------------------------------------------------------------------------------------------

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// Files hold about 5 minutes of events per account and region, like CloudTrail's.
const WINDOW: i64 = 300;

#[derive(Debug, Clone, Copy)]
struct Civil {
    y: u32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn civil(t: i64) -> Civil {
    let (y, mo, d) = civil_from_days(t.div_euclid(DAY));
    let sod = t.rem_euclid(DAY) as u32;
    Civil {
        y: y.clamp(0, 9999) as u32,
        mo,
        d,
        h: sod / 3600,
        mi: sod % 3600 / 60,
        s: sod % 60,
    }
}

fn digits2(b: &mut [u8], v: u32) {
    b[0] = b'0' + (v / 10 % 10) as u8;
    b[1] = b'0' + (v % 10) as u8;
}

fn digits4(b: &mut [u8], v: u32) {
    digits2(&mut b[0..2], v / 100);
    digits2(&mut b[2..4], v % 100);
}

/// `YYYY-MM-DDTHH:MM:SSZ`, CloudTrail's `eventTime`.
fn iso_bytes(t: i64) -> [u8; 20] {
    let c = civil(t);
    let mut b = *b"0000-00-00T00:00:00Z";
    digits4(&mut b[0..4], c.y);
    digits2(&mut b[5..7], c.mo);
    digits2(&mut b[8..10], c.d);
    digits2(&mut b[11..13], c.h);
    digits2(&mut b[14..16], c.mi);
    digits2(&mut b[17..19], c.s);
    b
}

fn iso(t: i64) -> String {
    String::from_utf8_lossy(&iso_bytes(t)).into_owned()
}

fn put_time(o: &mut Vec<u8>, t: i64) {
    o.extend_from_slice(&iso_bytes(t));
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as services write timestamps inside payloads.
fn put_time_ms(o: &mut Vec<u8>, t: i64, ms: u32) {
    let b = iso_bytes(t);
    o.extend_from_slice(&b[..19]);
    let mut m = *b".000Z";
    m[1] = b'0' + (ms / 100 % 10) as u8;
    digits2(&mut m[2..4], ms % 100);
    o.extend_from_slice(&m);
}

/// (`YYYY/MM/DD`, `YYYYMMDDTHHmm`, `ss`) as the S3 key layout writes them.
fn key_time(t: i64) -> (String, String, String) {
    let c = civil(t);
    (
        format!("{:04}/{:02}/{:02}", c.y, c.mo, c.d),
        format!("{:04}{:02}{:02}T{:02}{:02}", c.y, c.mo, c.d, c.h, c.mi),
        format!("{:02}", c.s),
    )
}

// ------------------------------------------------------------------------------------------
// Randomness
// ------------------------------------------------------------------------------------------

/// wyrand: tiny, fast, and, unlike `rand::rngs::SmallRng`, guaranteed to give the same
/// stream on every platform and in every future version, so a seed names the same trail
/// forever.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.0) * u128::from(self.0 ^ 0xe703_7ed1_a0b4_28db);
        (t >> 64) as u64 ^ t as u64
    }

    /// Uniform in `0..n` (Lemire's multiply-shift, bias negligible here).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        lo + self.below(hi_inclusive - lo + 1)
    }

    /// True with probability `per_10k` / 10,000.
    fn chance(&mut self, per_10k: u64) -> bool {
        self.below(10_000) < per_10k
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Seed for one independent RNG stream, from a path of numbers.
fn mix(parts: &[u64]) -> u64 {
    parts.iter().fold(0x5eed_7a11_u64, |h, &p| splitmix(h ^ p))
}

// Tags that keep the RNG streams of different purposes apart.
const TAG_WORLD: u64 = 1;
const TAG_META: u64 = 2;
const TAG_FILE: u64 = 3;
const TAG_DIGEST: u64 = 4;
const TAG_PLAN: u64 = 5;

fn pick_weighted<T: Copy>(rng: &mut Rng, table: &[(T, u32)]) -> T {
    let total: u64 = table.iter().map(|e| u64::from(e.1)).sum();
    let mut x = rng.below(total);
    for &(v, w) in table {
        if x < u64::from(w) {
            return v;
        }
        x -= u64::from(w);
    }
    table[table.len() - 1].0
}

// ------------------------------------------------------------------------------------------
// JSON writing helpers (hot path: bytes that are known to need no escaping)
// ------------------------------------------------------------------------------------------

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn lit(o: &mut Vec<u8>, s: &str) {
    o.extend_from_slice(s.as_bytes());
}

fn put_u64(o: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    o.extend_from_slice(&tmp[i..]);
}

fn put_hex(o: &mut Vec<u8>, rng: &mut Rng, n: usize, digits: &[u8; 16]) {
    let mut left = n;
    while left > 0 {
        let mut x = rng.next();
        for _ in 0..left.min(16) {
            o.push(digits[(x & 15) as usize]);
            x >>= 4;
        }
        left = left.saturating_sub(16);
    }
}

/// Characters from `alphabet`, several per random word (multiply-extract).
fn put_chars(o: &mut Vec<u8>, rng: &mut Rng, n: usize, alphabet: &[u8]) {
    let k = alphabet.len() as u128;
    let mut x = rng.next();
    for i in 0..n {
        if i % 8 == 7 {
            x = rng.next();
        }
        let m = u128::from(x) * k;
        o.push(alphabet[(m >> 64) as usize]);
        x = m as u64;
    }
}

fn put_digits(o: &mut Vec<u8>, rng: &mut Rng, n: usize) {
    put_chars(o, rng, n, b"0123456789");
}

/// A random version-4 UUID, lowercase, as CloudTrail writes `eventID`.
fn put_uuid(o: &mut Vec<u8>, rng: &mut Rng) {
    let a = rng.next();
    let b = rng.next();
    let mut s = [0u8; 36];
    let mut nibbles = [0u8; 32];
    for (i, n) in nibbles.iter_mut().enumerate() {
        let word = if i < 16 { a } else { b };
        *n = ((word >> ((i % 16) * 4)) & 15) as u8;
    }
    nibbles[12] = 4;
    nibbles[16] = 8 | (nibbles[16] & 3);
    let mut j = 0;
    for (i, c) in s.iter_mut().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            *c = b'-';
        } else {
            *c = HEX_LOWER[nibbles[j] as usize];
            j += 1;
        }
    }
    o.extend_from_slice(&s);
}

fn put_octet_ip(o: &mut Vec<u8>, ip: [u8; 4]) {
    for (i, part) in ip.iter().enumerate() {
        if i > 0 {
            o.push(b'.');
        }
        put_u64(o, u64::from(*part));
    }
}

fn rand_string(rng: &mut Rng, n: usize, alphabet: &[u8]) -> String {
    let mut v = Vec::with_capacity(n);
    put_chars(&mut v, rng, n, alphabet);
    String::from_utf8_lossy(&v).into_owned()
}

fn rand_hex(rng: &mut Rng, n: usize) -> String {
    let mut v = Vec::with_capacity(n);
    put_hex(&mut v, rng, n, HEX_LOWER);
    String::from_utf8_lossy(&v).into_owned()
}

fn rand_uuid(rng: &mut Rng) -> String {
    let mut v = Vec::with_capacity(36);
    put_uuid(&mut v, rng);
    String::from_utf8_lossy(&v).into_owned()
}

/// A JSON string literal (with quotes), escaped by serde_json.
fn js(s: &str) -> Result<String> {
    Ok(serde_json::to_string(s)?)
}

/// A JSON string literal with every `/` written as the legal escape `\/`, which CloudTrail
/// consumers must unescape (serde_json never writes it, so it is planted by hand).
fn js_slashed(s: &str) -> Result<String> {
    Ok(js(s)?.replace('/', "\\/"))
}

// ------------------------------------------------------------------------------------------
// Payload templates: JSON rendered once by serde_json, with `@@token@@` slots filled per record
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Piece {
    Lit(Vec<u8>),
    Uuid,
    Hex(usize),
    HexUpper(usize),
    Digits(usize),
    Alnum(usize),
    AlnumUpper(usize),
    Octet,
    Time,
    TimeMs,
}

/// A JSON value with random slots. Slots are written in strings as `@@u@@` (UUID),
/// `@@h8@@`/`@@H8@@` (hex), `@@d4@@` (digits), `@@a16@@`/`@@A16@@` (letters and digits),
/// `@@o@@` (0..=255), `@@t@@` (the event time) and `@@m@@` (the event time with milliseconds).
#[derive(Debug, Clone)]
struct Template(Vec<Piece>);

impl Template {
    fn compile(value: &Value) -> Result<Template> {
        let bytes = serde_json::to_vec(value)?;
        let mut pieces = Vec::new();
        let mut rest = &bytes[..];
        while let Some(open) = find(rest, b"@@") {
            let after = &rest[open + 2..];
            let close = find(after, b"@@").context("unclosed @@ slot in template")?;
            pieces.push(Piece::Lit(rest[..open].to_vec()));
            pieces.push(parse_slot(&after[..close])?);
            rest = &after[close + 2..];
        }
        pieces.push(Piece::Lit(rest.to_vec()));
        Ok(Template(pieces))
    }

    fn render(&self, o: &mut Vec<u8>, rng: &mut Rng, t: i64) {
        for piece in &self.0 {
            match *piece {
                Piece::Lit(ref b) => o.extend_from_slice(b),
                Piece::Uuid => put_uuid(o, rng),
                Piece::Hex(n) => put_hex(o, rng, n, HEX_LOWER),
                Piece::HexUpper(n) => put_hex(o, rng, n, HEX_UPPER),
                Piece::Digits(n) => put_digits(o, rng, n),
                Piece::Alnum(n) => put_chars(o, rng, n, ALNUM),
                Piece::AlnumUpper(n) => put_chars(o, rng, n, &ALNUM[..26]),
                Piece::Octet => put_u64(o, rng.below(256)),
                Piece::Time => put_time(o, t),
                Piece::TimeMs => put_time_ms(o, t, rng.below(1000) as u32),
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_slot(slot: &[u8]) -> Result<Piece> {
    let text = std::str::from_utf8(slot)?;
    let (kind, n) = text.split_at(1);
    let n: usize = if n.is_empty() { 0 } else { n.parse()? };
    Ok(match kind {
        "u" => Piece::Uuid,
        "h" => Piece::Hex(n),
        "H" => Piece::HexUpper(n),
        "d" => Piece::Digits(n),
        "a" => Piece::Alnum(n),
        "A" => Piece::AlnumUpper(n),
        "o" => Piece::Octet,
        "t" => Piece::Time,
        "m" => Piece::TimeMs,
        _ => bail!("unknown template slot @@{text}@@"),
    })
}

// ------------------------------------------------------------------------------------------
// Clients: user agents, TLS, signatures
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    V10,
    V11,
    V12,
    V13,
}

impl Tls {
    fn version(self) -> &'static str {
        match self {
            Tls::V10 => "TLSv1",
            Tls::V11 => "TLSv1.1",
            Tls::V12 => "TLSv1.2",
            Tls::V13 => "TLSv1.3",
        }
    }

    fn cipher(self) -> &'static str {
        match self {
            Tls::V10 | Tls::V11 => "ECDHE-RSA-AES128-SHA",
            Tls::V12 => "ECDHE-RSA-AES128-GCM-SHA256",
            Tls::V13 => "TLS_AES_128_GCM_SHA256",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sig {
    V2,
    V4,
    /// Anonymous requests carry no signature at all.
    None,
}

/// One piece of software a principal calls AWS with.
#[derive(Debug, Clone, Copy)]
struct Client {
    ua: u16,
    /// None for AWS services calling on a principal's behalf: no TLS details are logged.
    tls: Option<Tls>,
    sig: Sig,
    /// Presigned URL (`AuthenticationMethod: QueryString`).
    query: bool,
}

struct Ua {
    /// The user agent as the client sends it.
    text: String,
    /// JSON literal as most services log it.
    plain: Vec<u8>,
    /// JSON literal as S3 logs it: wrapped in square brackets.
    bracketed: Vec<u8>,
}

/// Builds the strings shared by all streams: user agents and attributed principals, by id.
#[derive(Default)]
struct Pool {
    uas: Vec<Ua>,
    principals: Vec<String>,
    buckets: Vec<String>,
}

impl Pool {
    fn ua(&mut self, text: &str) -> Result<u16> {
        if let Some(i) = self.uas.iter().position(|u| u.text == text) {
            return Ok(i as u16);
        }
        self.uas.push(Ua {
            text: text.to_string(),
            plain: js(text)?.into_bytes(),
            bracketed: js(&format!("[{text}]"))?.into_bytes(),
        });
        u16::try_from(self.uas.len() - 1).context("too many user agents")
    }

    fn client(&mut self, text: &str, tls: Tls, sig: Sig) -> Result<Client> {
        Ok(Client {
            ua: self.ua(text)?,
            tls: Some(tls),
            sig,
            query: false,
        })
    }

    fn presigned(&mut self, text: &str, tls: Tls, sig: Sig) -> Result<Client> {
        Ok(Client {
            query: true,
            ..self.client(text, tls, sig)?
        })
    }

    fn principal(&mut self, attributed: String) -> Result<u16> {
        self.principals.push(attributed);
        u16::try_from(self.principals.len() - 1).context("too many principals")
    }

    fn bucket(&mut self, name: &str) -> Result<u16> {
        self.buckets.push(name.to_string());
        u16::try_from(self.buckets.len() - 1).context("too many buckets")
    }
}

/// User agents of many SDKs and versions; versions are drawn from the seed.
mod agents {
    use super::Rng;

    fn n(rng: &mut Rng, lo: u64, hi: u64) -> u64 {
        rng.range(lo, hi)
    }

    pub fn java_v2(rng: &mut Rng) -> String {
        let minor = n(rng, 20, 29);
        format!(
            "aws-sdk-java/2.{minor}.{} Linux/5.10.{}-{}.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.{}+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
            n(rng, 1, 60),
            n(rng, 190, 230),
            n(rng, 180, 220),
            n(rng, 7, 11)
        )
    }

    pub fn java_v1_modern(rng: &mut Rng) -> String {
        format!(
            "aws-sdk-java/1.12.{} Linux/5.10.{}-{}.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/11.0.{}+9-LTS java/11.0.21 vendor/Amazon.com_Inc. cfg/retry-mode/standard",
            n(rng, 400, 650),
            n(rng, 190, 230),
            n(rng, 180, 220),
            n(rng, 18, 22)
        )
    }

    pub fn boto3(rng: &mut Rng) -> String {
        let v = n(rng, 28, 34);
        let p = n(rng, 0, 60);
        format!(
            "Boto3/1.{v}.{p} md/Botocore#1.{}.{p} ua/2.0 os/linux#5.10.{}-{}.amzn2.x86_64 md/arch#x86_64 lang/python#3.10.13 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.{}.{p}",
            v + 3,
            n(rng, 190, 230),
            n(rng, 180, 220),
            v + 3
        )
    }

    pub fn boto3_2018() -> String {
        "Boto3/1.9.2 Python/3.7.0 Linux/4.14.77-81.59.amzn2.x86_64 Botocore/1.12.2".to_string()
    }

    pub fn cli_v2(rng: &mut Rng) -> String {
        format!(
            "aws-cli/2.{}.{} md/awscrt#0.19.{} ua/2.0 os/linux#6.1.{} md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe",
            n(rng, 13, 22),
            n(rng, 0, 40),
            n(rng, 0, 19),
            n(rng, 50, 80)
        )
    }

    pub fn go_v1(rng: &mut Rng) -> String {
        format!(
            "aws-sdk-go/1.44.{} (go1.19.{}; linux; amd64)",
            n(rng, 0, 330),
            n(rng, 1, 13)
        )
    }

    pub fn go_v2(rng: &mut Rng) -> String {
        format!(
            "aws-sdk-go-v2/1.{}.{} os/linux lang/go#1.21.{} md/GOOS#linux md/GOARCH#amd64 api/s3#1.{}.{}",
            n(rng, 21, 26),
            n(rng, 0, 9),
            n(rng, 1, 6),
            n(rng, 40, 50),
            n(rng, 0, 9)
        )
    }

    pub fn js_v3(rng: &mut Rng) -> String {
        let v = n(rng, 400, 520);
        format!(
            "aws-sdk-js/3.{v}.0 ua/2.0 os/linux#5.10.209-219.887.amzn2.x86_64 lang/js md/nodejs#20.10.0 exec-env/AWS_Lambda_nodejs20.x api/s3#3.{v}.0"
        )
    }

    pub fn node_v2(rng: &mut Rng) -> String {
        format!(
            "aws-sdk-nodejs/2.{}.0 linux/v18.18.2 exec-env/AWS_Lambda_nodejs18.x promise",
            n(rng, 1400, 1550)
        )
    }

    pub fn dotnet_core(rng: &mut Rng) -> String {
        let v = n(rng, 100, 300);
        format!(
            "aws-sdk-dotnet-coreclr/3.7.{v}.30 aws-sdk-dotnet-core/3.7.{v}.30 .NET_Core/6.0.25 OS/Linux_5.10 ClientAsync"
        )
    }

    pub fn browser(rng: &mut Rng) -> String {
        let v = n(rng, 110, 124);
        match rng.below(5) {
            0 => format!(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"
            ),
            1 => format!(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{} Safari/605.1.15",
                v % 5
            ),
            2 => format!(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
                v % 5
            ),
            3 => format!("Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"),
            _ => format!(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.2210.91"
            ),
        }
    }

    pub const CONSOLE_S3: &str = "S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.198-187.748.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372 vendor/Oracle_Corporation cfg/retry-mode/standard";
    pub const CLI_1_16: &str = "aws-cli/1.16.19 Python/2.7.10 Linux/4.14 botocore/1.12.9";
    pub const CLI_1_10: &str = "aws-cli/1.10.56 Python/2.7.12 Linux/4.4.0-1022-aws botocore/1.4.46";
    pub const BOTO2: &str = "Boto/2.48.0 Python/2.7.12 Linux/4.4.0-1049-aws";
    pub const JAVA_1_11_100: &str =
        "aws-sdk-java/1.11.100 Linux/4.9 OpenJDK_64-Bit_Server_VM/25.121-b13 java/1.8.0_121";
    pub const NODE_2_40: &str = "aws-sdk-nodejs/2.40.0 linux/v8.10.0";
    pub const RUBY2: &str = "aws-sdk-ruby2/2.3.22 ruby/2.3.1 x86_64-linux";
    pub const PHP2: &str = "aws-sdk-php2/2.8.31 Guzzle/3.9.3 curl/7.47.0 PHP/5.6.30";
    pub const DOTNET_3_3: &str = "aws-sdk-dotnet-45/3.3.1.0 aws-sdk-dotnet-core/3.3.1 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_6.2.9200.0 ClientAsync";
    pub const DOTNET_3_1: &str = "aws-sdk-dotnet-45/3.1.0.0 aws-sdk-dotnet-core/3.1.0.0 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_6.1.7601.0 ClientSync";
    pub const POWERSHELL: &str = "AWSPowerShell/3.3.365.0 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_6.3.9600.0 WindowsPowerShell/5.1";
    pub const CURL_OLD: &str = "curl/7.29.0";
    pub const CURL: &str = "curl/7.64.1";
    pub const CURL_NEW: &str = "curl/8.5.0";
    pub const WGET: &str = "Wget/1.21.3";
}

// ------------------------------------------------------------------------------------------
// Principals
// ------------------------------------------------------------------------------------------

/// The callers of every account. Each has a purpose that fixes what it calls and with what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Assumed role of BI dashboards: a burst of KMS Decrypt at minute 0 of every hour.
    Bi,
    OrdersApp,
    Etl,
    Thumbnailer,
    SsoAdmin,
    /// Hands out presigned URLs; browsers and curl fetch them, many still SigV2.
    Presigner,
    EksNode,
    /// IAM user of an old backup script: SigV2 through and through.
    LegacyBackup,
    CiDeploy,
    /// IAM user of a .NET Framework 4.0 reporting tool: TLS 1.0.
    DotnetReporting,
    /// IAM user a partner uses with old SDKs: SigV2, some TLS 1.1.
    PartnerSync,
    CloudTrail,
    LambdaService,
    CrossAccount,
    Anonymous,
}

const ROLES: [Role; 15] = [
    Role::Bi,
    Role::OrdersApp,
    Role::Etl,
    Role::Thumbnailer,
    Role::SsoAdmin,
    Role::Presigner,
    Role::EksNode,
    Role::LegacyBackup,
    Role::CiDeploy,
    Role::DotnetReporting,
    Role::PartnerSync,
    Role::CloudTrail,
    Role::LambdaService,
    Role::CrossAccount,
    Role::Anonymous,
];

/// A pre-rendered `userIdentity` object, split around the session's `creationDate`.
#[derive(Debug, Clone)]
struct Ident {
    /// Up to and including `"creationDate":"` for sessions; else the object without `}`.
    head: Vec<u8>,
    /// From the end of the creation date to the end of `sessionContext` (sessions only).
    tail: Vec<u8>,
    has_session: bool,
    /// The session was created this long before the start of the event's hour.
    session_age: i64,
}

#[derive(Debug)]
struct Principal {
    /// Global id: `Pool::principals[id]` is the attributed principal.
    id: u16,
    idents: Vec<Ident>,
    /// Clients for S3 (logged in brackets) and for every other service.
    s3: Vec<(Client, u32)>,
    api: Vec<(Client, u32)>,
    ips: Vec<[u8; 4]>,
    /// For AWS services: the name logged as source IP and user agent.
    service: Option<&'static str>,
}

struct RoleIdentity<'a> {
    acct: &'a str,
    name: String,
    path: &'a str,
    sessions: Vec<String>,
    /// EC2 instance profile sessions carry `ec2RoleDelivery`.
    ec2: bool,
    /// Write the issuer ARN with `\/` in some of the identities.
    slashed: bool,
}

fn assumed_role(spec: &RoleIdentity, rng: &mut Rng, pool: &mut Pool) -> Result<(u16, Vec<Ident>)> {
    let acct = spec.acct;
    let issuer = format!("arn:aws:iam::{acct}:role/{}{}", spec.path, spec.name);
    let role_id = format!("AROA{}", rand_string(rng, 17, &ALNUM[..36]).to_uppercase());
    let id = pool.principal(attribute_principal(&IdentityView {
        typ: Some("AssumedRole"),
        issuer_arn: Some(&issuer),
        ..IdentityView::default()
    }))?;
    let mut idents = Vec::new();
    for (i, session) in spec.sessions.iter().enumerate() {
        let arn = format!("arn:aws:sts::{acct}:assumed-role/{}/{session}", spec.name);
        let issuer_json = if spec.slashed && i % 2 == 1 {
            js_slashed(&issuer)?
        } else {
            js(&issuer)?
        };
        let head = format!(
            "{{\"type\":\"AssumedRole\",\"principalId\":{},\"arn\":{},\"accountId\":\"{acct}\",\"accessKeyId\":\"ASIA{}\",\"sessionContext\":{{\"sessionIssuer\":{{\"type\":\"Role\",\"principalId\":\"{role_id}\",\"arn\":{issuer_json},\"accountId\":\"{acct}\",\"userName\":{}}},\"webIdFederationData\":{{}},\"attributes\":{{\"creationDate\":\"",
            js(&format!("{role_id}:{session}"))?,
            js(&arn)?,
            rand_string(rng, 16, &ALNUM[..36]).to_uppercase(),
            js(&spec.name)?,
        );
        let tail = if spec.ec2 {
            "\",\"mfaAuthenticated\":\"false\"},\"ec2RoleDelivery\":\"2.0\"}"
        } else {
            "\",\"mfaAuthenticated\":\"false\"}}"
        };
        idents.push(Ident {
            head: head.into_bytes(),
            tail: tail.as_bytes().to_vec(),
            has_session: true,
            session_age: 60 * rng.range(3, 55) as i64,
        });
    }
    Ok((id, idents))
}

fn iam_user(acct: &str, name: &str, rng: &mut Rng, pool: &mut Pool) -> Result<(u16, Vec<Ident>)> {
    let arn = format!("arn:aws:iam::{acct}:user/{name}");
    let id = pool.principal(attribute_principal(&IdentityView {
        typ: Some("IAMUser"),
        arn: Some(&arn),
        ..IdentityView::default()
    }))?;
    let user_id = format!("AIDA{}", rand_string(rng, 17, &ALNUM[..36]).to_uppercase());
    let idents = (0..2)
        .map(|_| -> Result<Ident> {
            let head = format!(
                "{{\"type\":\"IAMUser\",\"principalId\":\"{user_id}\",\"arn\":{},\"accountId\":\"{acct}\",\"accessKeyId\":\"AKIA{}\",\"userName\":{}",
                js(&arn)?,
                rand_string(rng, 16, &ALNUM[..36]).to_uppercase(),
                js(name)?
            );
            Ok(Ident {
                head: head.into_bytes(),
                tail: Vec::new(),
                has_session: false,
                session_age: 0,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((id, idents))
}

fn service_identity(service: &'static str, pool: &mut Pool) -> Result<(u16, Vec<Ident>)> {
    let id = pool.principal(attribute_principal(&IdentityView {
        typ: Some("AWSService"),
        invoked_by: Some(service),
        ..IdentityView::default()
    }))?;
    let head = format!("{{\"type\":\"AWSService\",\"invokedBy\":\"{service}\"");
    Ok((
        id,
        vec![Ident {
            head: head.into_bytes(),
            tail: Vec::new(),
            has_session: false,
            session_age: 0,
        }],
    ))
}

fn account_identity(
    account: &str,
    principal_id: &str,
    pool: &mut Pool,
) -> Result<(u16, Vec<Ident>)> {
    let id = pool.principal(attribute_principal(&IdentityView {
        typ: Some("AWSAccount"),
        account_id: Some(account),
        ..IdentityView::default()
    }))?;
    let head = format!(
        "{{\"type\":\"AWSAccount\",\"principalId\":{},\"accountId\":{}",
        js(principal_id)?,
        js(account)?
    );
    Ok((
        id,
        vec![Ident {
            head: head.into_bytes(),
            tail: Vec::new(),
            has_session: false,
            session_age: 0,
        }],
    ))
}

fn private_ips(rng: &mut Rng, second: u8, n: usize) -> Vec<[u8; 4]> {
    (0..n)
        .map(|_| [10, second, rng.below(64) as u8, rng.range(4, 250) as u8])
        .collect()
}

/// Public addresses from ranges that look like offices, CI runners and home users.
fn public_ips(rng: &mut Rng, n: usize) -> Vec<[u8; 4]> {
    const FIRST: [u8; 8] = [52, 54, 3, 18, 34, 81, 91, 185];
    (0..n)
        .map(|_| {
            [
                *rng.pick(&FIRST),
                rng.below(256) as u8,
                rng.below(256) as u8,
                rng.range(1, 254) as u8,
            ]
        })
        .collect()
}

fn sessions(rng: &mut Rng, n: usize, make: impl Fn(&mut Rng) -> String) -> Vec<String> {
    (0..n).map(|_| make(rng)).collect()
}

fn build_principal(
    role: Role,
    a: &str,
    external: &str,
    rng: &mut Rng,
    pool: &mut Pool,
) -> Result<Principal> {
    let (id, idents) = match role {
        Role::Bi => assumed_role(
            &RoleIdentity {
                acct: a,
                name: "BI-Reporting".into(),
                path: "",
                sessions: sessions(rng, 3, |r| format!("bi-refresh-{}", rand_hex(r, 8))),
                ec2: false,
                slashed: false,
            },
            rng,
            pool,
        )?,
        Role::OrdersApp => assumed_role(
            &RoleIdentity {
                acct: a,
                name: "orders-api-task-role".into(),
                path: "",
                sessions: sessions(rng, 4, |r| rand_hex(r, 32)),
                ec2: false,
                slashed: false,
            },
            rng,
            pool,
        )?,
        Role::Etl => assumed_role(
            &RoleIdentity {
                acct: a,
                name: format!("data-pipeline-glue-{}", rand_string(rng, 6, &ALNUM[26..52])),
                path: "service-role/",
                sessions: sessions(rng, 3, |_| "GlueJobRunnerSession".to_string()),
                ec2: false,
                slashed: false,
            },
            rng,
            pool,
        )?,
        Role::Thumbnailer => assumed_role(
            &RoleIdentity {
                acct: a,
                name: "thumbnailer-lambda-role".into(),
                path: "service-role/",
                sessions: sessions(rng, 4, |_| "thumbnailer".to_string()),
                ec2: false,
                slashed: true,
            },
            rng,
            pool,
        )?,
        Role::SsoAdmin => assumed_role(
            &RoleIdentity {
                acct: a,
                name: format!("AWSReservedSSO_AdministratorAccess_{}", rand_hex(rng, 16)),
                path: "aws-reserved/sso.amazonaws.com/",
                sessions: ["maria.lopez", "kenji.tanaka", "ana.oliveira", "sam.ford"]
                    .iter()
                    .map(|s| format!("{s}@example.com"))
                    .collect(),
                ec2: false,
                slashed: true,
            },
            rng,
            pool,
        )?,
        Role::Presigner => assumed_role(
            &RoleIdentity {
                acct: a,
                name: "web-portal-presigner".into(),
                path: "",
                sessions: sessions(rng, 3, |r| format!("i-0{}", rand_hex(r, 16))),
                ec2: true,
                slashed: false,
            },
            rng,
            pool,
        )?,
        Role::EksNode => assumed_role(
            &RoleIdentity {
                acct: a,
                name: format!(
                    "eksctl-prod-nodegroup-NodeInstanceRole-{}",
                    rand_string(rng, 12, &ALNUM[..36]).to_uppercase()
                ),
                path: "",
                sessions: sessions(rng, 4, |r| format!("i-0{}", rand_hex(r, 16))),
                ec2: true,
                slashed: false,
            },
            rng,
            pool,
        )?,
        Role::LegacyBackup => iam_user(a, "legacy-backup", rng, pool)?,
        Role::CiDeploy => iam_user(a, "ci-deploy", rng, pool)?,
        Role::DotnetReporting => iam_user(a, "reporting-dotnet", rng, pool)?,
        Role::PartnerSync => iam_user(a, "partner-sync", rng, pool)?,
        Role::CloudTrail => service_identity("cloudtrail.amazonaws.com", pool)?,
        Role::LambdaService => service_identity("lambda.amazonaws.com", pool)?,
        Role::CrossAccount => {
            let pid = format!("AIDA{}", rand_string(rng, 17, &ALNUM[..36]).to_uppercase());
            account_identity(external, &pid, pool)?
        }
        Role::Anonymous => account_identity("anonymous", "", pool)?,
    };
    let (s3, api, ips) = role_clients(role, rng, pool)?;
    let service = match role {
        Role::CloudTrail => Some("cloudtrail.amazonaws.com"),
        Role::LambdaService => Some("lambda.amazonaws.com"),
        _ => None,
    };
    Ok(Principal {
        id,
        idents,
        s3,
        api,
        ips,
        service,
    })
}

type Clients = Vec<(Client, u32)>;

/// What software each role runs, over which TLS, signing how, and from where.
fn role_clients(
    role: Role,
    rng: &mut Rng,
    pool: &mut Pool,
) -> Result<(Clients, Clients, Vec<[u8; 4]>)> {
    use agents::*;
    let modern = |rng: &mut Rng| {
        if rng.chance(6_000) {
            Tls::V13
        } else {
            Tls::V12
        }
    };
    Ok(match role {
        Role::Bi => {
            let c = pool.client(&java_v2(rng), Tls::V13, Sig::V4)?;
            (vec![(c, 1)], vec![(c, 1)], private_ips(rng, 20, 3))
        }
        Role::OrdersApp => {
            let java = pool.client(&java_v2(rng), modern(rng), Sig::V4)?;
            let go = pool.client(&go_v2(rng), Tls::V13, Sig::V4)?;
            let old = pool.client(&java_v1_modern(rng), Tls::V12, Sig::V4)?;
            let s3 = vec![(java, 70), (go, 20), (old, 10)];
            (s3.clone(), s3, private_ips(rng, 0, 8))
        }
        Role::Etl => {
            let b = pool.client(&boto3(rng), modern(rng), Sig::V4)?;
            let b2 = pool.client(&boto3(rng), Tls::V12, Sig::V4)?;
            let old = pool.client(&boto3_2018(), Tls::V12, Sig::V4)?;
            let s3 = vec![(b, 60), (b2, 30), (old, 10)];
            (s3.clone(), s3, private_ips(rng, 1, 6))
        }
        Role::Thumbnailer => {
            let v2 = pool.client(&node_v2(rng), Tls::V12, Sig::V4)?;
            let v3 = pool.client(&js_v3(rng), Tls::V13, Sig::V4)?;
            let s3 = vec![(v2, 60), (v3, 40)];
            (s3.clone(), s3, public_ips(rng, 6))
        }
        Role::SsoAdmin => {
            let console = pool.client(CONSOLE_S3, Tls::V13, Sig::V4)?;
            let cli = pool.client(&cli_v2(rng), Tls::V13, Sig::V4)?;
            let web = pool.client(&browser(rng), Tls::V13, Sig::V4)?;
            let web2 = pool.client(&browser(rng), Tls::V13, Sig::V4)?;
            (
                vec![(console, 70), (cli, 30)],
                vec![(web, 45), (web2, 25), (cli, 30)],
                public_ips(rng, 4),
            )
        }
        Role::Presigner => {
            // The principal signs; whoever fetches the URL is the user agent.
            let mut s3 = Vec::new();
            for _ in 0..4 {
                let b = browser(rng);
                s3.push((pool.presigned(&b, modern(rng), Sig::V2)?, 10));
                s3.push((pool.presigned(&b, Tls::V13, Sig::V4)?, 12));
            }
            s3.push((pool.presigned(CURL, Tls::V12, Sig::V2)?, 8));
            s3.push((pool.presigned(CURL_NEW, Tls::V13, Sig::V4)?, 6));
            s3.push((pool.presigned(WGET, Tls::V12, Sig::V2)?, 3));
            s3.push((
                pool.presigned("python-requests/2.31.0", Tls::V12, Sig::V2)?,
                3,
            ));
            s3.push((pool.client(&boto3(rng), Tls::V13, Sig::V4)?, 10));
            let api = vec![(pool.client(&boto3(rng), Tls::V13, Sig::V4)?, 1)];
            let mut ips = public_ips(rng, 24);
            ips.extend(private_ips(rng, 3, 2));
            (s3, api, ips)
        }
        Role::EksNode => {
            let go = pool.client(&go_v1(rng), Tls::V12, Sig::V4)?;
            let go2 = pool.client(&go_v2(rng), Tls::V13, Sig::V4)?;
            let s3 = vec![(go, 50), (go2, 50)];
            (s3.clone(), s3, private_ips(rng, 2, 10))
        }
        Role::LegacyBackup => {
            let cli = pool.client(CLI_1_10, Tls::V12, Sig::V2)?;
            let boto = pool.client(BOTO2, Tls::V12, Sig::V2)?;
            let newer = pool.client(CLI_1_16, Tls::V12, Sig::V4)?;
            (
                vec![(cli, 45), (boto, 40), (newer, 15)],
                vec![(newer, 1)],
                public_ips(rng, 1),
            )
        }
        Role::CiDeploy => {
            let cli = pool.client(&cli_v2(rng), Tls::V13, Sig::V4)?;
            let cli2 = pool.client(&cli_v2(rng), Tls::V13, Sig::V4)?;
            let go = pool.client(&go_v2(rng), Tls::V13, Sig::V4)?;
            let s3 = vec![(cli, 50), (cli2, 30), (go, 20)];
            (s3.clone(), s3, public_ips(rng, 12))
        }
        Role::DotnetReporting => {
            let old = pool.client(DOTNET_3_3, Tls::V10, Sig::V4)?;
            let older = pool.client(DOTNET_3_1, Tls::V10, Sig::V2)?;
            let core = pool.client(&dotnet_core(rng), Tls::V12, Sig::V4)?;
            let ps = pool.client(POWERSHELL, Tls::V10, Sig::V4)?;
            (
                vec![(old, 45), (older, 30), (core, 25)],
                vec![(old, 40), (ps, 35), (core, 25)],
                public_ips(rng, 2),
            )
        }
        Role::PartnerSync => {
            let java = pool.client(JAVA_1_11_100, Tls::V12, Sig::V2)?;
            let node = pool.client(NODE_2_40, Tls::V12, Sig::V2)?;
            let ruby = pool.client(RUBY2, Tls::V11, Sig::V2)?;
            let php = pool.client(PHP2, Tls::V10, Sig::V2)?;
            let curl = pool.presigned(CURL_OLD, Tls::V11, Sig::V2)?;
            let modern_java = pool.client(&java_v1_modern(rng), Tls::V12, Sig::V4)?;
            (
                vec![
                    (java, 30),
                    (node, 15),
                    (ruby, 10),
                    (php, 5),
                    (curl, 10),
                    (modern_java, 30),
                ],
                vec![(java, 50), (ruby, 20), (modern_java, 30)],
                public_ips(rng, 3),
            )
        }
        Role::CloudTrail | Role::LambdaService => {
            let name = if role == Role::CloudTrail {
                "cloudtrail.amazonaws.com"
            } else {
                "lambda.amazonaws.com"
            };
            let c = Client {
                ua: pool.ua(name)?,
                tls: None,
                sig: Sig::V4,
                query: false,
            };
            (vec![(c, 1)], vec![(c, 1)], Vec::new())
        }
        Role::CrossAccount => {
            let java = pool.client(&java_v1_modern(rng), Tls::V12, Sig::V4)?;
            let go = pool.client(&go_v1(rng), Tls::V13, Sig::V4)?;
            let s3 = vec![(java, 60), (go, 40)];
            (s3.clone(), s3, public_ips(rng, 4))
        }
        Role::Anonymous => {
            let mut s3 = Vec::new();
            for _ in 0..3 {
                s3.push((pool.client(&browser(rng), modern(rng), Sig::None)?, 3));
            }
            s3.push((pool.client(CURL_NEW, Tls::V13, Sig::None)?, 1));
            (s3.clone(), s3, public_ips(rng, 40))
        }
    })
}

// ------------------------------------------------------------------------------------------
// Buckets and keys
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BucketKind {
    Orders,
    Lake,
    Media,
    Backups,
    Partner,
    Public,
}

const BUCKET_KINDS: [BucketKind; 6] = [
    BucketKind::Orders,
    BucketKind::Lake,
    BucketKind::Media,
    BucketKind::Backups,
    BucketKind::Partner,
    BucketKind::Public,
];

/// KMS keys of every stream, by index.
const KEY_ALIASES: [&str; 7] = [
    "alias/orders-data",
    "alias/analytics-lake",
    "alias/media-uploads",
    "alias/partner-exchange",
    "alias/app-secrets",
    "alias/cloudtrail-logs",
    "alias/bi-warehouse",
];
const KEY_APP: usize = 4;
const KEY_CLOUDTRAIL: usize = 5;
const KEY_BI: usize = 6;

impl BucketKind {
    fn name_prefix(self) -> &'static str {
        match self {
            BucketKind::Orders => "orders-data",
            BucketKind::Lake => "analytics-lake",
            BucketKind::Media => "media-uploads",
            BucketKind::Backups => "legacy-backups",
            BucketKind::Partner => "partner-exchange",
            BucketKind::Public => "public-assets",
        }
    }

    fn list_prefix(self) -> &'static str {
        match self {
            BucketKind::Orders => "orders/",
            BucketKind::Lake => "lake/events/",
            BucketKind::Media => "uploads/",
            BucketKind::Backups => "backups/db/",
            BucketKind::Partner => "inbound/",
            BucketKind::Public => "assets/",
        }
    }

    /// SSE-KMS key index and whether an S3 Bucket Key is on; None for SSE-S3.
    fn kms(self) -> Option<(usize, bool)> {
        match self {
            BucketKind::Orders => Some((0, false)),
            BucketKind::Lake => Some((1, true)),
            BucketKind::Media => Some((2, false)),
            BucketKind::Partner => Some((3, false)),
            BucketKind::Backups | BucketKind::Public => None,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    name: String,
    /// Global id: `Pool::buckets[id]`.
    id: u16,
    host_regional: String,
    /// The legacy global endpoint old SigV2 clients still use.
    host_global: String,
}

fn role_buckets(role: Role) -> &'static [BucketKind] {
    use BucketKind::*;
    match role {
        Role::OrdersApp => &[Orders],
        Role::Etl => &[Lake, Lake, Orders],
        Role::Thumbnailer => &[Media],
        Role::SsoAdmin => &[Orders, Lake, Media, Backups, Partner, Public],
        Role::Presigner => &[Public, Media],
        Role::EksNode | Role::DotnetReporting | Role::Bi => &[Lake],
        Role::LegacyBackup => &[Backups],
        Role::CiDeploy | Role::Anonymous => &[Public],
        Role::PartnerSync => &[Partner],
        Role::CrossAccount => &[Partner, Lake],
        Role::CloudTrail | Role::LambdaService => &[Public],
    }
}

/// Writes an object key that is safe inside a JSON string as is. Some keys carry unicode,
/// a literal `\u00e9` escape or `\/` escapes, as real keys do once serialized.
fn put_object_key(o: &mut Vec<u8>, rng: &mut Rng, kind: BucketKind, t: i64) {
    let c = civil(t);
    let mut date = *b"0000-00-00";
    digits4(&mut date[0..4], c.y);
    digits2(&mut date[5..7], c.mo);
    digits2(&mut date[8..10], c.d);
    match kind {
        BucketKind::Orders => {
            lit(o, "orders/t-");
            put_digits(o, rng, 4);
            lit(o, "/ord-");
            put_digits(o, rng, 10);
            lit(o, ".json");
        }
        BucketKind::Lake => {
            lit(o, "lake/events/dt=");
            o.extend_from_slice(&date);
            lit(o, "/part-");
            put_digits(o, rng, 5);
            o.push(b'-');
            put_uuid(o, rng);
            lit(o, ".snappy.parquet");
        }
        BucketKind::Media => {
            lit(o, "uploads/");
            put_hex(o, rng, 8, HEX_LOWER);
            match rng.below(6) {
                0 => lit(o, "/café-menu-"),
                1 => lit(o, "/東京タワー-"),
                2 => lit(o, "/r\\u00e9sum\\u00e9-"),
                _ => lit(o, "/IMG_"),
            }
            put_digits(o, rng, 4);
            lit(o, ".jpg");
        }
        BucketKind::Backups => {
            if rng.chance(5_000) {
                lit(o, "backups\\/db\\/");
            } else {
                lit(o, "backups/db/");
            }
            o.extend_from_slice(&date);
            lit(o, "/dump-");
            put_digits(o, rng, 6);
            lit(o, ".sql.gz");
        }
        BucketKind::Partner => {
            if rng.chance(3_000) {
                lit(o, "outbound/Überweisung-");
                put_digits(o, rng, 6);
                lit(o, ".xml");
            } else {
                lit(o, "inbound/partner-");
                put_digits(o, rng, 3);
                lit(o, "/invoice-");
                put_digits(o, rng, 8);
                lit(o, ".csv");
            }
        }
        BucketKind::Public => match rng.below(3) {
            0 => {
                lit(o, "assets/img/");
                put_hex(o, rng, 12, HEX_LOWER);
                lit(o, ".png");
            }
            1 => {
                lit(o, "assets/docs/guide-");
                put_digits(o, rng, 3);
                lit(o, ".pdf");
            }
            _ => lit(o, "assets/index.html"),
        },
    }
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

    fn stream_prefix(&self, s: usize, dir: &str) -> String {
        let stream = &self.streams[s];
        let acct = &self.accounts[stream.account].id;
        stream_prefix(self.org.as_deref(), acct, dir, stream.region)
    }

    /// Key of a log file: named and foldered by its delivery time.
    fn log_key(&self, s: usize, delivery: i64, suffix: &str) -> String {
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
// Management events of other services: large nested payloads, rendered once per variant
// ------------------------------------------------------------------------------------------

struct SpecCx<'a> {
    acct: &'a str,
    region: &'a str,
    keys: &'a [String],
    buckets: &'a [Bucket],
}

#[derive(Default)]
struct Payload {
    req: Option<Value>,
    resp: Option<Value>,
    resources: Option<Value>,
    /// Endpoint host when it is not `<service>.<region>.amazonaws.com`.
    host: Option<String>,
}

struct MgmtSpec {
    source: &'static str,
    name: &'static str,
    weight: u32,
    read_only: bool,
    /// First label of the endpoint host.
    service: &'static str,
    /// IAM: a global service, logged in us-east-1 only, endpoint without region.
    global: bool,
    /// S3 management events are logged like S3 data events (brackets, signature details).
    s3: bool,
    actors: &'static [(Role, u32)],
    build: fn(&SpecCx, &mut Rng) -> Result<Payload>,
}

struct Compiled {
    req: Option<Template>,
    resp: Option<Template>,
    resources: Option<Template>,
    host: String,
}

struct MgmtKind {
    spec: &'static MgmtSpec,
    variants: Vec<Compiled>,
}

fn compile_payload(spec: &MgmtSpec, p: Payload, cx: &SpecCx) -> Result<Compiled> {
    let compile = |v: Option<Value>| v.as_ref().map(Template::compile).transpose();
    let host = p.host.unwrap_or_else(|| {
        if spec.global {
            format!("{}.amazonaws.com", spec.service)
        } else {
            format!("{}.{}.amazonaws.com", spec.service, cx.region)
        }
    });
    Ok(Compiled {
        req: compile(p.req)?,
        resp: compile(p.resp)?,
        resources: compile(p.resources)?,
        host,
    })
}

const MGMT_SPECS: &[MgmtSpec] = &[
    MgmtSpec {
        source: "ec2.amazonaws.com",
        name: "DescribeInstances",
        weight: 30,
        read_only: true,
        service: "ec2",
        global: false,
        s3: false,
        actors: &[
            (Role::EksNode, 40),
            (Role::SsoAdmin, 15),
            (Role::DotnetReporting, 20),
            (Role::CiDeploy, 10),
        ],
        build: describe_instances,
    },
    MgmtSpec {
        source: "ec2.amazonaws.com",
        name: "RunInstances",
        weight: 6,
        read_only: false,
        service: "ec2",
        global: false,
        s3: false,
        actors: &[(Role::CiDeploy, 60), (Role::SsoAdmin, 40)],
        build: run_instances,
    },
    MgmtSpec {
        source: "ec2.amazonaws.com",
        name: "CreateTags",
        weight: 8,
        read_only: false,
        service: "ec2",
        global: false,
        s3: false,
        actors: &[
            (Role::CiDeploy, 50),
            (Role::SsoAdmin, 30),
            (Role::EksNode, 20),
        ],
        build: create_tags,
    },
    MgmtSpec {
        source: "ec2.amazonaws.com",
        name: "AuthorizeSecurityGroupIngress",
        weight: 3,
        read_only: false,
        service: "ec2",
        global: false,
        s3: false,
        actors: &[(Role::CiDeploy, 60), (Role::SsoAdmin, 40)],
        build: authorize_ingress,
    },
    MgmtSpec {
        source: "ec2.amazonaws.com",
        name: "DescribeSecurityGroups",
        weight: 10,
        read_only: true,
        service: "ec2",
        global: false,
        s3: false,
        actors: &[(Role::EksNode, 60), (Role::DotnetReporting, 40)],
        build: describe_security_groups,
    },
    MgmtSpec {
        source: "sts.amazonaws.com",
        name: "AssumeRole",
        weight: 40,
        read_only: true,
        service: "sts",
        global: false,
        s3: false,
        actors: &[
            (Role::LambdaService, 50),
            (Role::CiDeploy, 20),
            (Role::EksNode, 30),
        ],
        build: assume_role,
    },
    MgmtSpec {
        source: "sts.amazonaws.com",
        name: "GetCallerIdentity",
        weight: 10,
        read_only: true,
        service: "sts",
        global: false,
        s3: false,
        actors: &[
            (Role::CiDeploy, 50),
            (Role::EksNode, 30),
            (Role::PartnerSync, 20),
        ],
        build: no_payload,
    },
    MgmtSpec {
        source: "iam.amazonaws.com",
        name: "GetRole",
        weight: 8,
        read_only: true,
        service: "iam",
        global: true,
        s3: false,
        actors: &[(Role::CiDeploy, 60), (Role::SsoAdmin, 40)],
        build: get_role,
    },
    MgmtSpec {
        source: "iam.amazonaws.com",
        name: "PutRolePolicy",
        weight: 2,
        read_only: false,
        service: "iam",
        global: true,
        s3: false,
        actors: &[(Role::CiDeploy, 70), (Role::SsoAdmin, 30)],
        build: put_role_policy,
    },
    MgmtSpec {
        source: "iam.amazonaws.com",
        name: "CreateRole",
        weight: 1,
        read_only: false,
        service: "iam",
        global: true,
        s3: false,
        actors: &[(Role::CiDeploy, 70), (Role::SsoAdmin, 30)],
        build: create_role,
    },
    MgmtSpec {
        source: "lambda.amazonaws.com",
        name: "UpdateFunctionConfiguration20150331v2",
        weight: 3,
        read_only: false,
        service: "lambda",
        global: false,
        s3: false,
        actors: &[(Role::CiDeploy, 100)],
        build: update_function_configuration,
    },
    MgmtSpec {
        source: "lambda.amazonaws.com",
        name: "GetFunction20150331v2",
        weight: 6,
        read_only: true,
        service: "lambda",
        global: false,
        s3: false,
        actors: &[(Role::CiDeploy, 50), (Role::SsoAdmin, 50)],
        build: get_function,
    },
    MgmtSpec {
        source: "ecs.amazonaws.com",
        name: "RunTask",
        weight: 4,
        read_only: false,
        service: "ecs",
        global: false,
        s3: false,
        actors: &[
            (Role::CiDeploy, 50),
            (Role::SsoAdmin, 20),
            (Role::EksNode, 30),
        ],
        build: run_task,
    },
    MgmtSpec {
        source: "ssm.amazonaws.com",
        name: "GetParameters",
        weight: 15,
        read_only: true,
        service: "ssm",
        global: false,
        s3: false,
        actors: &[
            (Role::OrdersApp, 50),
            (Role::DotnetReporting, 30),
            (Role::EksNode, 20),
        ],
        build: get_parameters,
    },
    MgmtSpec {
        source: "secretsmanager.amazonaws.com",
        name: "GetSecretValue",
        weight: 12,
        read_only: true,
        service: "secretsmanager",
        global: false,
        s3: false,
        actors: &[(Role::OrdersApp, 70), (Role::Etl, 30)],
        build: get_secret_value,
    },
    MgmtSpec {
        source: "logs.amazonaws.com",
        name: "CreateLogStream",
        weight: 10,
        read_only: false,
        service: "logs",
        global: false,
        s3: false,
        actors: &[(Role::Thumbnailer, 70), (Role::Etl, 30)],
        build: create_log_stream,
    },
    MgmtSpec {
        source: "cloudformation.amazonaws.com",
        name: "DescribeStacks",
        weight: 5,
        read_only: true,
        service: "cloudformation",
        global: false,
        s3: false,
        actors: &[(Role::CiDeploy, 70), (Role::SsoAdmin, 30)],
        build: describe_stacks,
    },
    MgmtSpec {
        source: "s3.amazonaws.com",
        name: "ListBuckets",
        weight: 4,
        read_only: true,
        service: "s3",
        global: false,
        s3: true,
        actors: &[
            (Role::SsoAdmin, 40),
            (Role::CiDeploy, 30),
            (Role::LegacyBackup, 30),
        ],
        build: list_buckets,
    },
    MgmtSpec {
        source: "s3.amazonaws.com",
        name: "GetBucketAcl",
        weight: 3,
        read_only: true,
        service: "s3",
        global: false,
        s3: true,
        actors: &[
            (Role::SsoAdmin, 50),
            (Role::CiDeploy, 30),
            (Role::PartnerSync, 20),
        ],
        build: bucket_subresource,
    },
    MgmtSpec {
        source: "s3.amazonaws.com",
        name: "GetBucketEncryption",
        weight: 2,
        read_only: true,
        service: "s3",
        global: false,
        s3: true,
        actors: &[(Role::SsoAdmin, 60), (Role::CiDeploy, 40)],
        build: bucket_subresource,
    },
    MgmtSpec {
        source: "s3.amazonaws.com",
        name: "PutBucketPolicy",
        weight: 1,
        read_only: false,
        service: "s3",
        global: false,
        s3: true,
        actors: &[(Role::SsoAdmin, 50), (Role::CiDeploy, 50)],
        build: put_bucket_policy,
    },
];

fn no_payload(_: &SpecCx, _: &mut Rng) -> Result<Payload> {
    Ok(Payload::default())
}

const TAG_VALUES: [&str; 6] = [
    "café-worker",
    "東京-platform",
    "Zürich ops",
    "São Paulo",
    "équipe données",
    "plain-value",
];

fn tag_items(rng: &mut Rng) -> Value {
    json!([
        {"key": "Name", "value": *rng.pick(&TAG_VALUES)},
        {"key": "Team", "value": *rng.pick(&TAG_VALUES)},
        {"key": "CostCenter", "value": "CC-@@d4@@"},
        {"key": "aws:cloudformation:stack-name", "value": "prod-workers"},
    ])
}

fn az(cx: &SpecCx, rng: &mut Rng) -> String {
    format!("{}{}", cx.region, ["a", "b", "c"][rng.below(3) as usize])
}

fn describe_instances(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let ids: Vec<Value> = (0..rng.range(1, 6))
        .map(|_| json!({"instanceId": "i-0@@h16@@"}))
        .collect();
    Ok(Payload {
        req: Some(json!({
            "instancesSet": {"items": ids},
            "filterSet": {"items": [
                {"name": "tag:aws:eks:cluster-name", "valueSet": {"items": [{"value": "prod"}]}},
                {"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}, {"value": "pending"}]}},
            ]},
        })),
        ..Payload::default()
    })
}

fn run_instances(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let n = rng.range(1, 3);
    let itype = *rng.pick(&["m6i.large", "c6g.xlarge", "t3.medium", "r6i.2xlarge"]);
    let ami = format!("ami-0{}", rand_hex(rng, 16));
    let subnet = format!("subnet-0{}", rand_hex(rng, 16));
    let vpc = format!("vpc-0{}", rand_hex(rng, 16));
    let sg = format!("sg-0{}", rand_hex(rng, 16));
    let zone = az(cx, rng);
    let tags = tag_items(rng);
    let acct = cx.acct;
    let req = json!({
        "instancesSet": {"items": [{"imageId": ami, "minCount": n, "maxCount": n, "keyName": "deploy-key"}]},
        "userData": "<sensitiveDataRemoved>",
        "instanceType": itype,
        "blockDeviceMapping": {"items": [{"deviceName": "/dev/xvda", "ebs": {
            "volumeSize": 100, "deleteOnTermination": true, "volumeType": "gp3",
            "encrypted": true, "kmsKeyId": cx.keys[KEY_APP]}}]},
        "monitoring": {"enabled": false},
        "disableApiTermination": false,
        "disableApiStop": false,
        "clientToken": "@@u@@",
        "networkInterfaceSet": {"items": [{"deviceIndex": 0, "subnetId": subnet,
            "associatePublicIpAddress": false, "groupSet": {"items": [{"groupId": sg}]}}]},
        "iamInstanceProfile": {"arn": format!("arn:aws:iam::{acct}:instance-profile/app-worker")},
        "ebsOptimized": true,
        "tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": tags}]},
        "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled"},
    });
    let eni = json!({
        "networkInterfaceId": "eni-0@@h16@@", "subnetId": subnet, "vpcId": vpc,
        "ownerId": acct, "requesterManaged": false, "status": "in-use",
        "macAddress": "0a:@@h2@@:@@h2@@:@@h2@@:@@h2@@:@@h2@@",
        "privateIpAddress": "10.0.@@o@@.@@o@@", "sourceDestCheck": true,
        "interfaceType": "interface",
        "groupSet": {"items": [{"groupId": sg, "groupName": "app-workers"}]},
        "attachment": {"attachmentId": "eni-attach-0@@h16@@", "deviceIndex": 0,
            "networkCardIndex": 0, "status": "attaching", "attachTime": "@@m@@",
            "deleteOnTermination": true},
        "privateIpAddressesSet": {"item": [{"privateIpAddress": "10.0.@@o@@.@@o@@", "primary": true}]},
        "ipv6AddressesSet": {}, "tagSet": {},
    });
    let options = json!({
        "ebsOptimized": true, "enaSupport": true,
        "cpuOptions": {"coreCount": 1, "threadsPerCore": 2},
        "capacityReservationSpecification": {"capacityReservationPreference": "open"},
        "enclaveOptions": {"enabled": false},
        "metadataOptions": {"state": "pending", "httpTokens": "required",
            "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled",
            "httpProtocolIpv4": "enabled", "httpProtocolIpv6": "disabled",
            "instanceMetadataTags": "disabled"},
        "maintenanceOptions": {"autoRecovery": "default"},
        "privateDnsNameOptions": {"hostnameType": "ip-name",
            "enableResourceNameDnsARecord": false, "enableResourceNameDnsAAAARecord": false},
    });
    let items: Vec<Value> = (0..n)
        .map(|i| {
            let mut item = json!({
                "instanceId": "i-0@@h16@@", "imageId": ami,
                "instanceState": {"code": 0, "name": "pending"},
                "privateDnsName": "ip-10-0-@@o@@-@@o@@.ec2.internal",
                "keyName": "deploy-key", "amiLaunchIndex": i, "productCodes": {},
                "instanceType": itype, "launchTime": "@@m@@",
                "placement": {"availabilityZone": zone, "tenancy": "default"},
                "monitoring": {"state": "disabled"}, "subnetId": subnet, "vpcId": vpc,
                "privateIpAddress": "10.0.@@o@@.@@o@@",
                "stateReason": {"code": "pending", "message": "pending"},
                "architecture": "x86_64", "rootDeviceType": "ebs", "rootDeviceName": "/dev/xvda",
                "blockDeviceMapping": {}, "virtualizationType": "hvm", "clientToken": "@@u@@",
                "tagSet": {"items": tags},
                "groupSet": {"items": [{"groupId": sg, "groupName": "app-workers"}]},
                "sourceDestCheck": true, "hypervisor": "xen",
                "networkInterfaceSet": {"items": [eni]},
            });
            if let (Some(item), Some(options)) = (item.as_object_mut(), options.as_object()) {
                item.extend(options.clone());
            }
            item
        })
        .collect();
    let resp = json!({
        "requestId": "@@u@@", "reservationId": "r-0@@h16@@", "ownerId": acct,
        "groupSet": {}, "instancesSet": {"items": items},
    });
    Ok(Payload {
        req: Some(req),
        resp: Some(resp),
        ..Payload::default()
    })
}

fn create_tags(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    Ok(Payload {
        req: Some(json!({
            "resourcesSet": {"items": [{"resourceId": "i-0@@h16@@"}, {"resourceId": "vol-0@@h16@@"}]},
            "tagSet": {"items": tag_items(rng)},
        })),
        resp: Some(json!({"requestId": "@@u@@", "_return": true})),
        ..Payload::default()
    })
}

fn authorize_ingress(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let port = *rng.pick(&[22u64, 443, 5432, 6379, 8080]);
    let sg = format!("sg-0{}", rand_hex(rng, 16));
    Ok(Payload {
        req: Some(json!({
            "groupId": sg,
            "ipPermissions": {"items": [{
                "ipProtocol": "tcp", "fromPort": port, "toPort": port, "groups": {},
                "ipRanges": {"items": [
                    {"cidrIp": "10.0.0.0/16", "description": "VPC intérieur"},
                    {"cidrIp": "192.0.2.0/24", "description": "Büro München"},
                ]},
                "ipv6Ranges": {}, "prefixListIds": {},
            }]},
        })),
        resp: Some(json!({
            "requestId": "@@u@@", "_return": true,
            "securityGroupRuleSet": {"items": [
                {"groupOwnerId": "@@d12@@", "groupId": sg, "securityGroupRuleId": "sgr-0@@h16@@",
                 "isEgress": false, "ipProtocol": "tcp", "fromPort": port, "toPort": port,
                 "cidrIpv4": "10.0.0.0/16", "description": "VPC intérieur"},
                {"groupOwnerId": "@@d12@@", "groupId": sg, "securityGroupRuleId": "sgr-0@@h16@@",
                 "isEgress": false, "ipProtocol": "tcp", "fromPort": port, "toPort": port,
                 "cidrIpv4": "192.0.2.0/24", "description": "Büro München"},
            ]},
        })),
        ..Payload::default()
    })
}

fn describe_security_groups(_: &SpecCx, _: &mut Rng) -> Result<Payload> {
    Ok(Payload {
        req: Some(json!({
            "securityGroupSet": {},
            "securityGroupIdSet": {"items": [{"groupId": "sg-0@@h16@@"}]},
            "filterSet": {"items": [{"name": "vpc-id", "valueSet": {"items": [{"value": "vpc-0@@h16@@"}]}}]},
        })),
        ..Payload::default()
    })
}

fn assume_role(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let role = *rng.pick(&[
        "thumbnailer-lambda-role",
        "orders-api-task-role",
        "deploy-readonly",
    ]);
    let role_arn = format!("arn:aws:iam::{}:role/{role}", cx.acct);
    Ok(Payload {
        req: Some(json!({
            "roleArn": role_arn,
            "roleSessionName": "@@a12@@",
            "durationSeconds": 3600,
        })),
        resp: Some(json!({
            "credentials": {"accessKeyId": "ASIA@@A16@@", "sessionToken": "IQoJb3JpZ2luX2VjE@@a120@@", "expiration": "@@m@@"},
            "assumedRoleUser": {"assumedRoleId": "AROA@@A17@@:@@a12@@",
                "arn": format!("arn:aws:sts::{}:assumed-role/{role}/@@a12@@", cx.acct)},
        })),
        resources: Some(json!([
            {"accountId": cx.acct, "type": "AWS::IAM::Role", "ARN": role_arn},
        ])),
        ..Payload::default()
    })
}

fn policy_document(cx: &SpecCx, rng: &mut Rng) -> Value {
    let bucket = &cx.buckets[rng.below(cx.buckets.len() as u64) as usize].name;
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadObjects", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"],
             "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]},
            {"Sid": "UseKey", "Effect": "Allow",
             "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": cx.keys[rng.below(cx.keys.len() as u64) as usize],
             "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{}.amazonaws.com", cx.region)}}},
            {"Sid": "DenySigV2", "Effect": "Deny", "Action": "s3:*",
             "Resource": format!("arn:aws:s3:::{bucket}/*"),
             "Condition": {"StringEquals": {"s3:signatureversion": "AWS"}}},
        ],
    })
}

fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}],
    })
}

fn get_role(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let role = *rng.pick(&[
        "thumbnailer-lambda-role",
        "orders-api-task-role",
        "BI-Reporting",
    ]);
    Ok(Payload {
        req: Some(json!({"roleName": role})),
        ..Payload::default()
    })
}

fn put_role_policy(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    // IAM logs the policy as a JSON string: full of `\"` and `\n` escapes.
    let doc = serde_json::to_string_pretty(&policy_document(cx, rng))?;
    Ok(Payload {
        req: Some(json!({
            "roleName": "orders-api-task-role",
            "policyName": "orders-data-access",
            "policyDocument": doc,
        })),
        ..Payload::default()
    })
}

/// IAM returns policy documents URL-encoded inside its responses.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn create_role(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let name = format!("svc-{}-role", rand_string(rng, 6, &ALNUM[26..52]));
    let trust = serde_json::to_string(&trust_policy())?;
    Ok(Payload {
        req: Some(json!({
            "roleName": name,
            "path": "/service-role/",
            "description": "Rôle d’exécution — équipe données 東京",
            "assumeRolePolicyDocument": serde_json::to_string_pretty(&trust_policy())?,
            "maxSessionDuration": 3600,
            "tags": [{"key": "owner", "value": "josé.garcía"}, {"key": "team", "value": "データ基盤"}],
        })),
        resp: Some(json!({"role": {
            "path": "/service-role/", "roleName": name, "roleId": "AROA@@A17@@",
            "arn": format!("arn:aws:iam::{}:role/service-role/{name}", cx.acct),
            "createDate": "@@m@@",
            "assumeRolePolicyDocument": url_encode(&trust),
            "tags": [{"key": "owner", "value": "josé.garcía"}, {"key": "team", "value": "データ基盤"}],
        }})),
        ..Payload::default()
    })
}

fn update_function_configuration(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let (acct, region) = (cx.acct, cx.region);
    let subnets: Vec<String> = (0..3)
        .map(|_| format!("subnet-0{}", rand_hex(rng, 16)))
        .collect();
    let sg = format!("sg-0{}", rand_hex(rng, 16));
    let memory = *rng.pick(&[512u64, 1024, 2048]);
    let layer = format!(
        "arn:aws:lambda:{region}:{acct}:layer:sharp-image:{}",
        rng.range(3, 40)
    );
    Ok(Payload {
        req: Some(json!({
            "functionName": "thumbnailer", "memorySize": memory, "timeout": 30,
            "environment": {}, "layers": [layer],
            "vpcConfig": {"subnetIds": subnets, "securityGroupIds": [sg]},
        })),
        resp: Some(json!({
            "functionName": "thumbnailer",
            "functionArn": format!("arn:aws:lambda:{region}:{acct}:function:thumbnailer"),
            "runtime": "nodejs20.x",
            "role": format!("arn:aws:iam::{acct}:role/service-role/thumbnailer-lambda-role"),
            "handler": "index.handler", "codeSize": rng.range(200_000, 9_000_000),
            "description": "Génère les vignettes — CDN 東京 / São Paulo",
            "timeout": 30, "memorySize": memory, "lastModified": "@@m@@",
            "codeSha256": "@@a43@@=", "version": "$LATEST",
            "vpcConfig": {"subnetIds": subnets, "securityGroupIds": [sg],
                          "vpcId": "vpc-0@@h16@@", "ipv6AllowedForDualStack": false},
            "environment": {}, "tracingConfig": {"mode": "PassThrough"},
            "revisionId": "@@u@@",
            "layers": [{"arn": layer, "codeSize": rng.range(1_000_000, 30_000_000)}],
            "state": "Active", "lastUpdateStatus": "InProgress",
            "lastUpdateStatusReason": "The function is being created.",
            "lastUpdateStatusReasonCode": "Creating",
            "packageType": "Zip", "architectures": ["arm64"],
            "ephemeralStorage": {"size": 512},
            "snapStart": {"applyOn": "None", "optimizationStatus": "Off"},
            "runtimeVersionConfig": {"runtimeVersionArn": format!("arn:aws:lambda:{region}::runtime:@@h64@@")},
            "loggingConfig": {"logFormat": "Text", "logGroup": "/aws/lambda/thumbnailer"},
        })),
        ..Payload::default()
    })
}

fn get_function(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let name = *rng.pick(&["thumbnailer", "orders-webhook", "nightly-report"]);
    Ok(Payload {
        req: Some(json!({"functionName": name})),
        ..Payload::default()
    })
}

fn run_task(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let (acct, region) = (cx.acct, cx.region);
    let cluster = format!("arn:aws:ecs:{region}:{acct}:cluster/prod-batch");
    let task = format!("arn:aws:ecs:{region}:{acct}:task/prod-batch/@@h32@@");
    let task_def = format!(
        "arn:aws:ecs:{region}:{acct}:task-definition/etl-nightly:{}",
        rng.range(10, 90)
    );
    let subnets: Vec<String> = (0..2)
        .map(|_| format!("subnet-0{}", rand_hex(rng, 16)))
        .collect();
    let overrides = json!({"containerOverrides": [{
        "name": "etl",
        "command": ["python", "-m", "jobs.nightly", "--date", "2026-03-01", "--label", "Zürich"],
        "environment": [{"name": "STAGE", "value": "prod"}, {"name": "REGION_LABEL", "value": "東京"}],
    }]});
    let container = |name: &str, image: &str, cpu: &str, mem: &str| {
        json!({
            "containerArn": format!("arn:aws:ecs:{region}:{acct}:container/prod-batch/@@h32@@/@@u@@"),
            "taskArn": task, "name": name, "image": image, "lastStatus": "PENDING",
            "networkInterfaces": [], "cpu": cpu, "memory": mem,
        })
    };
    let image = format!(
        "{acct}.dkr.ecr.{region}.amazonaws.com/etl:2026.03.0{}",
        rng.range(1, 9)
    );
    Ok(Payload {
        req: Some(json!({
            "cluster": "prod-batch", "count": 1, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"assignPublicIp": "DISABLED",
                "securityGroups": ["sg-0@@h16@@"], "subnets": subnets}},
            "overrides": overrides, "taskDefinition": "etl-nightly",
            "enableECSManagedTags": true, "propagateTags": "TASK_DEFINITION",
            "tags": [{"key": "job", "value": "nightly"}, {"key": "owner", "value": "équipe-données"}],
        })),
        resp: Some(json!({
            "tasks": [{
                "attachments": [{"id": "@@u@@", "type": "ElasticNetworkInterface", "status": "PRECREATED",
                    "details": [{"name": "subnetId", "value": subnets[0]},
                                {"name": "networkInterfaceId", "value": "eni-0@@h16@@"},
                                {"name": "privateIPv4Address", "value": "10.0.@@o@@.@@o@@"}]}],
                "attributes": [{"name": "ecs.cpu-architecture", "value": "x86_64"}],
                "availabilityZone": az(cx, rng), "clusterArn": cluster,
                "containers": [
                    container("etl", &image, "1024", "2048"),
                    container("log-router", "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", "64", "128"),
                ],
                "cpu": "1024", "createdAt": "@@m@@", "desiredStatus": "RUNNING",
                "enableExecuteCommand": false, "group": "family:etl-nightly",
                "lastStatus": "PROVISIONING", "launchType": "FARGATE", "memory": "2048",
                "overrides": overrides, "platformVersion": "1.4.0", "platformFamily": "Linux",
                "tags": [{"key": "job", "value": "nightly"}, {"key": "owner", "value": "équipe-données"}],
                "taskArn": task, "taskDefinitionArn": task_def, "version": 1,
                "ephemeralStorage": {"sizeInGiB": 20},
            }],
            "failures": [],
        })),
        ..Payload::default()
    })
}

fn get_parameters(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let app = *rng.pick(&["orders", "reporting", "thumbnailer"]);
    Ok(Payload {
        req: Some(json!({
            "names": [format!("/app/{app}/db-url"), format!("/app/{app}/feature-flags"), format!("/app/{app}/api-key")],
            "withDecryption": true,
        })),
        ..Payload::default()
    })
}

fn get_secret_value(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let name = *rng.pick(&["prod/orders/db", "prod/etl/warehouse", "prod/partner/sftp"]);
    Ok(Payload {
        req: Some(json!({
            "secretId": format!("arn:aws:secretsmanager:{}:{}:secret:{name}-@@a6@@", cx.region, cx.acct),
        })),
        ..Payload::default()
    })
}

fn create_log_stream(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let group = *rng.pick(&["/aws/lambda/thumbnailer", "/aws-glue/jobs/output"]);
    Ok(Payload {
        req: Some(json!({"logGroupName": group, "logStreamName": "2026/03/01/[$LATEST]@@h32@@"})),
        ..Payload::default()
    })
}

fn describe_stacks(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let stack = *rng.pick(&["prod-workers", "orders-api", "data-lake"]);
    Ok(Payload {
        req: Some(json!({
            "stackName": format!("arn:aws:cloudformation:{}:{}:stack/{stack}/@@u@@", cx.region, cx.acct),
        })),
        ..Payload::default()
    })
}

fn list_buckets(_: &SpecCx, _: &mut Rng) -> Result<Payload> {
    Ok(Payload {
        req: Some(json!({"Host": "s3.amazonaws.com"})),
        host: Some("s3.amazonaws.com".to_string()),
        ..Payload::default()
    })
}

fn bucket_subresource(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let bucket = &cx.buckets[rng.below(cx.buckets.len() as u64) as usize];
    Ok(Payload {
        req: Some(json!({"bucketName": bucket.name, "Host": bucket.host_regional, "acl": ""})),
        resources: Some(json!([
            {"accountId": cx.acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{}", bucket.name)},
        ])),
        host: Some(bucket.host_regional.clone()),
        ..Payload::default()
    })
}

fn put_bucket_policy(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let bucket = &cx.buckets[rng.below(cx.buckets.len() as u64) as usize];
    Ok(Payload {
        req: Some(json!({
            "bucketPolicy": policy_document(cx, rng),
            "bucketName": bucket.name, "Host": bucket.host_regional, "policy": "",
        })),
        resources: Some(json!([
            {"accountId": cx.acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{}", bucket.name)},
        ])),
        host: Some(bucket.host_regional.clone()),
        ..Payload::default()
    })
}

// ------------------------------------------------------------------------------------------
// Record writers
// ------------------------------------------------------------------------------------------

/// What one record's writer put in it, as far as the truth is concerned.
#[derive(Debug, Clone, Copy)]
struct Facts {
    principal: u16,
    source: Source,
    name: &'static str,
    /// eventCategory "Data".
    data: bool,
    /// additionalEventData.SignatureVersion, when logged.
    sig: Option<Sig>,
    /// userAgent as the client sent it (S3 writes it in brackets), by pool id.
    ua: Option<u16>,
    tls: Option<Tls>,
    throttled: bool,
    /// Bucket of encryptionContext."aws:s3:arn".
    s3_arn_bucket: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Kms,
    S3,
    Other,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    KmsViaS3,
    KmsDirect,
    KmsCloudTrail,
    KmsBi,
    BiSpike,
    S3Data,
    Mgmt,
}

/// Share of each kind among records outside the BI burst (per 10,000). With the burst
/// (about 4%) this gives about 45% KMS, 35% S3 data events and 20% management events.
const KIND_MIX: &[(Kind, u32)] = &[
    (Kind::KmsViaS3, 3_050),
    (Kind::KmsDirect, 1_050),
    (Kind::KmsCloudTrail, 150),
    (Kind::KmsBi, 50),
    (Kind::S3Data, 3_600),
    (Kind::Mgmt, 2_100),
];

/// Per-record context.
struct Cx<'a> {
    world: &'a World,
    stream: &'a Stream,
    account: &'a Account,
    t: i64,
}

/// The output buffer and a scratch buffer for object keys, reused across records.
struct Out {
    buf: Vec<u8>,
    key: Vec<u8>,
}

fn write_record(o: &mut Out, rng: &mut Rng, cx: &Cx, kind: Kind) -> Facts {
    match kind {
        Kind::KmsViaS3 => kms_via_s3(&mut o.buf, rng, cx),
        Kind::KmsDirect => kms_direct(&mut o.buf, rng, cx),
        Kind::KmsCloudTrail => kms_cloudtrail(&mut o.buf, rng, cx),
        Kind::KmsBi => kms_bi(&mut o.buf, rng, cx, 100),
        Kind::BiSpike => kms_bi(&mut o.buf, rng, cx, 400),
        Kind::S3Data => s3_data(o, rng, cx),
        Kind::Mgmt => mgmt(&mut o.buf, rng, cx),
    }
}

struct Head<'a> {
    version: &'a str,
    ident: &'a Ident,
    invoked_by: Option<&'a str>,
    source: &'a str,
    name: &'a str,
}

/// `{"eventVersion":..,"userIdentity":{..},"eventTime":..,"eventSource":..,"eventName":..,"awsRegion":..,`
fn put_head(o: &mut Vec<u8>, cx: &Cx, h: &Head) {
    lit(o, "{\"eventVersion\":\"");
    lit(o, h.version);
    lit(o, "\",\"userIdentity\":");
    o.extend_from_slice(&h.ident.head);
    if h.ident.has_session {
        put_time(o, cx.t.div_euclid(HOUR) * HOUR - h.ident.session_age);
        o.extend_from_slice(&h.ident.tail);
    }
    if let Some(by) = h.invoked_by {
        lit(o, ",\"invokedBy\":\"");
        lit(o, by);
        o.push(b'"');
    }
    lit(o, "},\"eventTime\":\"");
    put_time(o, cx.t);
    lit(o, "\",\"eventSource\":\"");
    lit(o, h.source);
    lit(o, "\",\"eventName\":\"");
    lit(o, h.name);
    lit(o, "\",\"awsRegion\":\"");
    lit(o, cx.stream.region);
    lit(o, "\",");
}

#[derive(Debug, Clone, Copy)]
enum Caller<'a> {
    Ip([u8; 4]),
    Service(&'a str),
}

fn caller_of(rng: &mut Rng, p: &Principal) -> Caller<'static> {
    match p.service {
        Some(s) => Caller::Service(s),
        None => Caller::Ip(*rng.pick(&p.ips)),
    }
}

fn put_caller(o: &mut Vec<u8>, caller: Caller, ua_json: &[u8]) {
    lit(o, "\"sourceIPAddress\":\"");
    match caller {
        Caller::Ip(ip) => put_octet_ip(o, ip),
        Caller::Service(s) => lit(o, s),
    }
    lit(o, "\",\"userAgent\":");
    o.extend_from_slice(ua_json);
    o.push(b',');
}

fn put_error(o: &mut Vec<u8>, code: &str, message: &str) {
    lit(o, "\"errorCode\":\"");
    lit(o, code);
    lit(o, "\",\"errorMessage\":\"");
    lit(o, message);
    lit(o, "\",");
}

/// `"requestID":..,"eventID":..,"readOnly":..,`; S3 request ids are 16 uppercase hex digits.
fn put_ids(o: &mut Vec<u8>, rng: &mut Rng, s3: bool, read_only: bool) {
    lit(o, "\"requestID\":\"");
    if s3 {
        put_hex(o, rng, 16, HEX_UPPER);
    } else {
        put_uuid(o, rng);
    }
    lit(o, "\",\"eventID\":\"");
    put_uuid(o, rng);
    lit(
        o,
        if read_only {
            "\",\"readOnly\":true,"
        } else {
            "\",\"readOnly\":false,"
        },
    );
}

fn put_kms_resource(o: &mut Vec<u8>, acct: &str, key_arn: &str) {
    lit(o, "{\"accountId\":\"");
    lit(o, acct);
    lit(o, "\",\"type\":\"AWS::KMS::Key\",\"ARN\":\"");
    lit(o, key_arn);
    lit(o, "\"}");
}

struct Tail<'a> {
    management: bool,
    shared: bool,
    vpce: Option<&'a str>,
    tls: Option<Tls>,
    host: &'a str,
    console: bool,
}

/// From `"eventType"` to the record's closing brace.
fn put_tail(o: &mut Vec<u8>, rng: &mut Rng, cx: &Cx, t: &Tail) {
    let acct = cx.account.id.as_str();
    lit(
        o,
        if t.management {
            "\"eventType\":\"AwsApiCall\",\"managementEvent\":true,\"recipientAccountId\":\""
        } else {
            "\"eventType\":\"AwsApiCall\",\"managementEvent\":false,\"recipientAccountId\":\""
        },
    );
    lit(o, acct);
    if t.shared {
        lit(o, "\",\"sharedEventID\":\"");
        put_uuid(o, rng);
    }
    if let Some(vpce) = t.vpce {
        lit(o, "\",\"vpcEndpointId\":\"");
        lit(o, vpce);
        lit(o, "\",\"vpcEndpointAccountId\":\"");
        lit(o, acct);
    }
    lit(
        o,
        if t.management {
            "\",\"eventCategory\":\"Management\""
        } else {
            "\",\"eventCategory\":\"Data\""
        },
    );
    if let Some(tls) = t.tls {
        lit(o, ",\"tlsDetails\":{\"tlsVersion\":\"");
        lit(o, tls.version());
        lit(o, "\",\"cipherSuite\":\"");
        lit(o, tls.cipher());
        lit(o, "\",\"clientProvidedHostHeader\":\"");
        lit(o, t.host);
        lit(o, "\"}");
    }
    if t.console {
        lit(o, ",\"sessionCredentialFromConsole\":\"true\"");
    }
    o.push(b'}');
}

const THROTTLED: &str = "ThrottlingException";
const THROTTLED_MESSAGE: &str =
    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.";

/// Encryption contexts of direct calls; some with unicode, one with a literal `\u00e9` escape.
fn put_encryption_context(o: &mut Vec<u8>, rng: &mut Rng) {
    match rng.below(4) {
        0 => {
            lit(o, "{\"tenant\":\"t-");
            put_digits(o, rng, 4);
            lit(o, "\",\"service\":\"orders\"}");
        }
        1 => {
            lit(o, "{\"aws-crypto-public-key\":\"A");
            put_chars(o, rng, 43, BASE64);
            lit(o, "\"}");
        }
        2 => lit(
            o,
            "{\"department\":\"café-ops\",\"dataset\":\"東京-sales\"}",
        ),
        _ => lit(
            o,
            "{\"purpose\":\"r\\u00e9plication\",\"table\":\"orders_v2\"}",
        ),
    }
}

/// Roles whose S3 reads and writes of SSE-KMS objects make S3 call KMS for them.
const VIA_S3: &[(Role, u32)] = &[
    (Role::OrdersApp, 40),
    (Role::Thumbnailer, 25),
    (Role::Etl, 15),
    (Role::PartnerSync, 8),
    (Role::EksNode, 7),
    (Role::DotnetReporting, 5),
];

/// KMS called by S3 on the caller's behalf (SSE-KMS): logged under the caller's identity.
fn kms_via_s3(o: &mut Vec<u8>, rng: &mut Rng, cx: &Cx) -> Facts {
    let role = pick_weighted(rng, VIA_S3);
    let p = cx.account.principal(role);
    let ident = rng.pick(&p.idents);
    // Every role in VIA_S3 only uses SSE-KMS buckets.
    let kind = *rng.pick(role_buckets(role));
    let bucket = &cx.stream.buckets[kind as usize];
    let (key_index, bucket_key) = kind.kms().unwrap_or((0, false));
    let key = &cx.stream.keys[key_index];
    let write = rng.chance(2_800);
    let name = if write { "GenerateDataKey" } else { "Decrypt" };
    let fas = rng.chance(8_500);
    let via = if fas {
        "fas.s3.amazonaws.com"
    } else {
        "s3.amazonaws.com"
    };
    let throttled = rng.chance(30);

    put_head(
        o,
        cx,
        &Head {
            version: if fas { "1.09" } else { "1.08" },
            ident,
            invoked_by: Some(via),
            source: "kms.amazonaws.com",
            name,
        },
    );
    lit(o, "\"sourceIPAddress\":\"");
    lit(o, via);
    lit(o, "\",\"userAgent\":\"");
    lit(o, via);
    lit(o, "\",");
    if throttled {
        put_error(o, THROTTLED, THROTTLED_MESSAGE);
    }
    lit(o, "\"requestParameters\":{");
    if write {
        lit(o, "\"keyId\":\"");
        lit(o, key);
        lit(o, "\",\"keySpec\":\"AES_256\",");
    }
    lit(o, "\"encryptionContext\":{\"aws:s3:arn\":\"arn:aws:s3:::");
    lit(o, &bucket.name);
    if !bucket_key {
        // No Bucket Key: one data key per object, so the context names the object.
        o.push(b'/');
        put_object_key(o, rng, kind, cx.t);
    }
    lit(o, "\"}");
    if !write {
        lit(o, ",\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"");
    }
    lit(o, "},\"responseElements\":null,");
    put_ids(o, rng, false, true);
    lit(o, "\"resources\":[");
    put_kms_resource(o, &cx.account.id, key);
    lit(o, "],");
    put_tail(
        o,
        rng,
        cx,
        &Tail {
            management: true,
            shared: false,
            vpce: None,
            tls: None,
            host: "",
            console: false,
        },
    );
    Facts {
        principal: p.id,
        source: Source::Kms,
        name,
        data: false,
        sig: None,
        ua: None,
        tls: None,
        throttled,
        s3_arn_bucket: Some(bucket.id),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KmsOp {
    Decrypt,
    Encrypt,
    GenerateDataKey,
    GenerateDataKeyWithoutPlaintext,
    GenerateDataKeyPair,
    ReEncrypt,
    GenerateRandom,
    DescribeKey,
    ListAliases,
    GetKeyRotationStatus,
}

impl KmsOp {
    fn name(self) -> &'static str {
        match self {
            KmsOp::Decrypt => "Decrypt",
            KmsOp::Encrypt => "Encrypt",
            KmsOp::GenerateDataKey => "GenerateDataKey",
            KmsOp::GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
            KmsOp::GenerateDataKeyPair => "GenerateDataKeyPair",
            KmsOp::ReEncrypt => "ReEncrypt",
            KmsOp::GenerateRandom => "GenerateRandom",
            KmsOp::DescribeKey => "DescribeKey",
            KmsOp::ListAliases => "ListAliases",
            KmsOp::GetKeyRotationStatus => "GetKeyRotationStatus",
        }
    }

    fn cryptographic(self) -> bool {
        !matches!(
            self,
            KmsOp::DescribeKey | KmsOp::ListAliases | KmsOp::GetKeyRotationStatus
        )
    }
}

const KMS_DIRECT: &[(Role, u32)] = &[
    (Role::OrdersApp, 35),
    (Role::EksNode, 20),
    (Role::Etl, 15),
    (Role::DotnetReporting, 10),
    (Role::CiDeploy, 8),
    (Role::Bi, 7),
    (Role::PartnerSync, 5),
];

const KMS_OPS: &[(KmsOp, u32)] = &[
    (KmsOp::Decrypt, 45),
    (KmsOp::GenerateDataKey, 22),
    (KmsOp::Encrypt, 14),
    (KmsOp::GenerateDataKeyWithoutPlaintext, 3),
    (KmsOp::GenerateDataKeyPair, 1),
    (KmsOp::ReEncrypt, 3),
    (KmsOp::GenerateRandom, 2),
    (KmsOp::DescribeKey, 6),
    (KmsOp::ListAliases, 2),
    (KmsOp::GetKeyRotationStatus, 2),
];

/// A deploy pipeline only inspects keys.
const KMS_OPS_ADMIN: &[(KmsOp, u32)] = &[
    (KmsOp::DescribeKey, 60),
    (KmsOp::ListAliases, 25),
    (KmsOp::GetKeyRotationStatus, 15),
];

/// KMS called directly by applications and people, from their own addresses and SDKs.
fn kms_direct(o: &mut Vec<u8>, rng: &mut Rng, cx: &Cx) -> Facts {
    let role = pick_weighted(rng, KMS_DIRECT);
    let p = cx.account.principal(role);
    let ident = rng.pick(&p.idents);
    let client = pick_weighted(rng, &p.api);
    let caller = caller_of(rng, p);
    let op = pick_weighted(
        rng,
        if role == Role::CiDeploy {
            KMS_OPS_ADMIN
        } else {
            KMS_OPS
        },
    );
    let key_index = if rng.chance(6_000) {
        KEY_APP
    } else {
        rng.below(5) as usize
    };
    let key = &cx.stream.keys[key_index];
    let alias = KEY_ALIASES[key_index];
    let throttled = op.cryptographic() && rng.chance(100);

    put_head(
        o,
        cx,
        &Head {
            version: "1.09",
            ident,
            invoked_by: None,
            source: "kms.amazonaws.com",
            name: op.name(),
        },
    );
    put_caller(o, caller, &cx.world.pool.uas[client.ua as usize].plain);
    if throttled {
        put_error(o, THROTTLED, THROTTLED_MESSAGE);
    }
    lit(o, "\"requestParameters\":");
    let mut resources = 1;
    match op {
        KmsOp::Decrypt => {
            lit(
                o,
                "{\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"encryptionContext\":",
            );
            put_encryption_context(o, rng);
            o.push(b'}');
        }
        KmsOp::Encrypt => {
            lit(o, "{\"keyId\":\"");
            lit(o, alias);
            lit(
                o,
                "\",\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"encryptionContext\":",
            );
            put_encryption_context(o, rng);
            o.push(b'}');
        }
        KmsOp::GenerateDataKey => {
            lit(o, "{\"keyId\":\"");
            lit(o, key);
            lit(o, "\",\"keySpec\":\"AES_256\",\"encryptionContext\":");
            put_encryption_context(o, rng);
            o.push(b'}');
        }
        KmsOp::GenerateDataKeyWithoutPlaintext => {
            lit(o, "{\"keyId\":\"");
            lit(o, alias);
            lit(o, "\",\"numberOfBytes\":32,\"encryptionContext\":");
            put_encryption_context(o, rng);
            o.push(b'}');
        }
        KmsOp::GenerateDataKeyPair => {
            lit(o, "{\"keyId\":\"");
            lit(o, key);
            lit(o, "\",\"keyPairSpec\":\"ECC_NIST_P256\"}");
        }
        KmsOp::ReEncrypt => {
            lit(
                o,
                "{\"sourceEncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"destinationKeyId\":\"",
            );
            lit(o, &cx.stream.keys[KEY_APP]);
            lit(
                o,
                "\",\"destinationEncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"sourceEncryptionContext\":",
            );
            put_encryption_context(o, rng);
            o.push(b'}');
            resources = 2;
        }
        KmsOp::GenerateRandom => {
            lit(o, "{\"numberOfBytes\":32}");
            resources = 0;
        }
        KmsOp::DescribeKey | KmsOp::GetKeyRotationStatus => {
            lit(o, "{\"keyId\":\"");
            lit(o, alias);
            lit(o, "\"}");
        }
        KmsOp::ListAliases => {
            lit(o, "{\"limit\":100}");
            resources = 0;
        }
    }
    lit(o, ",\"responseElements\":null,");
    put_ids(o, rng, false, true);
    if resources > 0 {
        lit(o, "\"resources\":[");
        put_kms_resource(o, &cx.account.id, key);
        if resources == 2 {
            o.push(b',');
            put_kms_resource(o, &cx.account.id, &cx.stream.keys[KEY_APP]);
        }
        lit(o, "],");
    }
    put_tail(
        o,
        rng,
        cx,
        &Tail {
            management: true,
            shared: false,
            vpce: None,
            tls: client.tls,
            host: &cx.stream.kms_host,
            console: false,
        },
    );
    Facts {
        principal: p.id,
        source: Source::Kms,
        name: op.name(),
        data: false,
        sig: None,
        ua: Some(client.ua),
        tls: client.tls,
        throttled,
        s3_arn_bucket: None,
    }
}

/// CloudTrail encrypting its own log files (SSE-KMS on the trail bucket).
fn kms_cloudtrail(o: &mut Vec<u8>, rng: &mut Rng, cx: &Cx) -> Facts {
    let p = cx.account.principal(Role::CloudTrail);
    let key = &cx.stream.keys[KEY_CLOUDTRAIL];
    let trail = &cx.world.trail;
    put_head(
        o,
        cx,
        &Head {
            version: "1.09",
            ident: &p.idents[0],
            invoked_by: None,
            source: "kms.amazonaws.com",
            name: "GenerateDataKey",
        },
    );
    lit(
        o,
        "\"sourceIPAddress\":\"cloudtrail.amazonaws.com\",\"userAgent\":\"cloudtrail.amazonaws.com\",",
    );
    lit(o, "\"requestParameters\":{\"keyId\":\"");
    lit(o, key);
    lit(o, "\",\"encryptionContext\":{\"aws:cloudtrail:arn\":\"");
    lit(o, &trail.arn);
    lit(o, "\",\"aws:s3:arn\":\"arn:aws:s3:::");
    lit(o, &trail.bucket);
    // Half of them with `\/` escapes: the same string to any JSON parser.
    let slashed = rng.chance(5_000);
    let (prefix, sep) = if slashed {
        (cx.stream_prefix().replace('/', "\\/"), "\\/")
    } else {
        (cx.stream_prefix(), "/")
    };
    lit(o, sep);
    lit(o, &prefix);
    let (folder, stamp, _) = key_time(cx.t);
    lit(o, sep);
    lit(o, &folder.replace('/', sep));
    lit(o, sep);
    lit(o, &cx.account.id);
    lit(o, "_CloudTrail_");
    lit(o, cx.stream.region);
    o.push(b'_');
    lit(o, &stamp);
    lit(o, "Z_");
    put_chars(o, rng, 16, ALNUM);
    lit(
        o,
        ".json.gz\"},\"keySpec\":\"AES_256\"},\"responseElements\":null,",
    );
    put_ids(o, rng, false, true);
    lit(o, "\"resources\":[");
    put_kms_resource(o, &cx.account.id, key);
    lit(o, "],");
    put_tail(
        o,
        rng,
        cx,
        &Tail {
            management: true,
            shared: true,
            vpce: None,
            tls: None,
            host: "",
            console: false,
        },
    );
    Facts {
        principal: p.id,
        source: Source::Kms,
        name: "GenerateDataKey",
        data: false,
        sig: None,
        ua: None,
        tls: None,
        throttled: false,
        s3_arn_bucket: Some(trail.bucket_id),
    }
}

impl Cx<'_> {
    fn stream_prefix(&self) -> String {
        stream_prefix(
            self.world.org.as_deref(),
            &self.account.id,
            "CloudTrail",
            self.stream.region,
        )
    }
}

fn stream_prefix(org: Option<&str>, acct: &str, dir: &str, region: &str) -> String {
    match org {
        Some(org) => format!("AWSLogs/{org}/{acct}/{dir}/{region}"),
        None => format!("AWSLogs/{acct}/{dir}/{region}"),
    }
}

/// The BI role's Decrypt calls; the hourly burst throttles more often.
fn kms_bi(o: &mut Vec<u8>, rng: &mut Rng, cx: &Cx, throttle_per_10k: u64) -> Facts {
    let p = cx.account.principal(Role::Bi);
    let ident = rng.pick(&p.idents);
    let client = pick_weighted(rng, &p.api);
    let caller = caller_of(rng, p);
    let throttled = rng.chance(throttle_per_10k);
    let key = &cx.stream.keys[KEY_BI];
    put_head(
        o,
        cx,
        &Head {
            version: "1.09",
            ident,
            invoked_by: None,
            source: "kms.amazonaws.com",
            name: "Decrypt",
        },
    );
    put_caller(o, caller, &cx.world.pool.uas[client.ua as usize].plain);
    if throttled {
        put_error(o, THROTTLED, THROTTLED_MESSAGE);
    }
    lit(
        o,
        "\"requestParameters\":{\"keyId\":\"alias/bi-warehouse\",\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"encryptionContext\":{\"app\":\"bi-dashboards\",\"dataset\":\"sales_",
    );
    let region_code = *rng.pick(&["emea", "apac", "amer", "latam"]);
    lit(o, region_code);
    lit(o, "\",\"partition\":\"p-");
    put_digits(o, rng, 5);
    lit(o, "\"}},\"responseElements\":null,");
    put_ids(o, rng, false, true);
    lit(o, "\"resources\":[");
    put_kms_resource(o, &cx.account.id, key);
    lit(o, "],");
    put_tail(
        o,
        rng,
        cx,
        &Tail {
            management: true,
            shared: false,
            vpce: None,
            tls: client.tls,
            host: &cx.stream.kms_host,
            console: false,
        },
    );
    Facts {
        principal: p.id,
        source: Source::Kms,
        name: "Decrypt",
        data: false,
        sig: None,
        ua: Some(client.ua),
        tls: client.tls,
        throttled,
        s3_arn_bucket: None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum S3Op {
    Get,
    Put,
    Head,
    List,
    Delete,
    Copy,
    GetTagging,
}

impl S3Op {
    fn name(self) -> &'static str {
        match self {
            S3Op::Get => "GetObject",
            S3Op::Put => "PutObject",
            S3Op::Head => "HeadObject",
            S3Op::List => "ListObjects",
            S3Op::Delete => "DeleteObject",
            S3Op::Copy => "CopyObject",
            S3Op::GetTagging => "GetObjectTagging",
        }
    }

    fn read_only(self) -> bool {
        matches!(self, S3Op::Get | S3Op::Head | S3Op::List | S3Op::GetTagging)
    }
}

const S3_ROLES: &[(Role, u32)] = &[
    (Role::OrdersApp, 28),
    (Role::Etl, 20),
    (Role::Thumbnailer, 14),
    (Role::EksNode, 10),
    (Role::Presigner, 7),
    (Role::CrossAccount, 5),
    (Role::CiDeploy, 3),
    (Role::DotnetReporting, 3),
    (Role::PartnerSync, 3),
    (Role::SsoAdmin, 2),
    (Role::LegacyBackup, 2),
    (Role::Anonymous, 1),
];

fn role_s3_ops(role: Role) -> &'static [(S3Op, u32)] {
    use S3Op::*;
    match role {
        Role::OrdersApp => &[(Get, 50), (Put, 20), (Head, 25), (Delete, 5)],
        Role::Etl => &[(Put, 40), (Get, 30), (List, 20), (Head, 5), (Copy, 5)],
        Role::Thumbnailer => &[(Get, 50), (Put, 45), (GetTagging, 5)],
        Role::EksNode => &[(Get, 60), (Head, 20), (List, 20)],
        Role::Presigner => &[(Get, 85), (Put, 15)],
        Role::SsoAdmin => &[(List, 60), (Get, 30), (Delete, 10)],
        Role::LegacyBackup => &[(Put, 60), (List, 30), (Get, 10)],
        Role::CiDeploy => &[(Put, 70), (List, 20), (Delete, 10)],
        Role::DotnetReporting => &[(Get, 70), (List, 30)],
        Role::PartnerSync => &[(Put, 50), (Get, 30), (List, 20)],
        Role::CrossAccount => &[(Get, 80), (List, 20)],
        _ => &[(Get, 1)],
    }
}

fn put_s3_host(o: &mut Vec<u8>, bucket: &Bucket, sig: Sig) {
    lit(
        o,
        if sig == Sig::V2 {
            &bucket.host_global
        } else {
            &bucket.host_regional
        },
    );
}

/// S3 object-level data events.
fn s3_data(out: &mut Out, rng: &mut Rng, cx: &Cx) -> Facts {
    let role = pick_weighted(rng, S3_ROLES);
    let p = cx.account.principal(role);
    let ident = rng.pick(&p.idents);
    let mut client = pick_weighted(rng, &p.s3);
    if client.sig == Sig::V2 && !cx.stream.sigv2_ok {
        // Regions launched after 2014 never accepted SigV2: these clients sign V4 there.
        client.sig = Sig::V4;
    }
    let mut op = pick_weighted(rng, role_s3_ops(role));
    if client.query && !matches!(op, S3Op::Get | S3Op::Put) {
        op = S3Op::Get;
    }
    let kind = *rng.pick(role_buckets(role));
    let bucket = &cx.stream.buckets[kind as usize];
    let caller = caller_of(rng, p);
    let denied = rng.chance(if role == Role::Anonymous { 2_000 } else { 50 });
    let tls = client.tls.unwrap_or(Tls::V12);
    let ua = &cx.world.pool.uas[client.ua as usize];
    out.key.clear();
    put_object_key(&mut out.key, rng, kind, cx.t);
    let key = &out.key;
    let o = &mut out.buf;

    put_head(
        o,
        cx,
        &Head {
            version: if rng.chance(7_000) { "1.10" } else { "1.09" },
            ident,
            invoked_by: None,
            source: "s3.amazonaws.com",
            name: op.name(),
        },
    );
    put_caller(o, caller, &ua.bracketed);
    if denied {
        put_error(o, "AccessDenied", "Access Denied");
    }
    lit(o, "\"requestParameters\":{");
    if op == S3Op::List {
        lit(o, "\"list-type\":\"2\",\"bucketName\":\"");
        lit(o, &bucket.name);
        lit(o, "\",\"encoding-type\":\"url\",\"prefix\":\"");
        lit(o, kind.list_prefix());
        lit(o, "\",\"delimiter\":\"/\",\"Host\":\"");
        put_s3_host(o, bucket, client.sig);
        o.push(b'"');
    } else {
        lit(o, "\"bucketName\":\"");
        lit(o, &bucket.name);
        lit(o, "\",\"Host\":\"");
        put_s3_host(o, bucket, client.sig);
        lit(o, "\",\"key\":\"");
        o.extend_from_slice(key);
        o.push(b'"');
        match op {
            S3Op::Copy => {
                lit(o, ",\"x-amz-copy-source\":\"");
                lit(o, &bucket.name);
                lit(o, "/staging/");
                put_hex(o, rng, 12, HEX_LOWER);
                o.push(b'"');
            }
            S3Op::GetTagging => lit(o, ",\"tagging\":\"\""),
            _ => {}
        }
        if client.query && client.sig == Sig::V2 {
            lit(o, ",\"AWSAccessKeyId\":\"AKIA");
            put_chars(o, rng, 16, &ALNUM[..26]);
            lit(o, "\",\"Expires\":\"");
            put_u64(o, (cx.t + 3_600) as u64);
            o.push(b'"');
        } else if client.query {
            lit(
                o,
                ",\"X-Amz-Algorithm\":\"AWS4-HMAC-SHA256\",\"X-Amz-Expires\":\"3600\",\"X-Amz-SignedHeaders\":\"host\",\"X-Amz-Date\":\"",
            );
            let (_, stamp, secs) = key_time(cx.t);
            lit(o, &stamp);
            lit(o, &secs);
            lit(o, "Z\"");
        }
    }
    lit(o, "},\"responseElements\":");
    let kms = kind.kms();
    if !denied && matches!(op, S3Op::Put | S3Op::Copy) {
        match kms {
            Some((key_index, bucket_key)) => {
                lit(o, "{\"x-amz-server-side-encryption-aws-kms-key-id\":\"");
                lit(o, &cx.stream.keys[key_index]);
                lit(o, "\",\"x-amz-server-side-encryption\":\"aws:kms\",");
                if bucket_key {
                    lit(
                        o,
                        "\"x-amz-server-side-encryption-bucket-key-enabled\":\"true\",",
                    );
                }
            }
            None => lit(o, "{\"x-amz-server-side-encryption\":\"AES256\","),
        }
        lit(o, "\"x-amz-version-id\":\"");
        put_chars(o, rng, 32, ALNUM);
        lit(o, "\"},");
    } else {
        lit(o, "null,");
    }
    lit(o, "\"additionalEventData\":{");
    match client.sig {
        Sig::V2 => lit(o, "\"SignatureVersion\":\"SigV2\","),
        Sig::V4 => lit(o, "\"SignatureVersion\":\"SigV4\","),
        Sig::None => {}
    }
    lit(o, "\"CipherSuite\":\"");
    lit(o, tls.cipher());
    lit(o, "\",\"bytesTransferredIn\":");
    let magnitude = 10u64.pow(rng.range(2, 7) as u32);
    let size = 100 + rng.below(magnitude);
    put_u64(o, if op == S3Op::Put { size } else { 0 });
    if !denied && matches!(op, S3Op::Get | S3Op::Put | S3Op::Head) {
        lit(
            o,
            if kms.is_some() {
                ",\"SSEApplied\":\"SSE_KMS\""
            } else {
                ",\"SSEApplied\":\"Default_SSE_S3\""
            },
        );
    }
    if client.sig != Sig::None {
        lit(
            o,
            if client.query {
                ",\"AuthenticationMethod\":\"QueryString\""
            } else {
                ",\"AuthenticationMethod\":\"AuthHeader\""
            },
        );
    }
    lit(o, ",\"x-amz-id-2\":\"");
    put_chars(o, rng, 75, BASE64);
    lit(o, "=\",\"bytesTransferredOut\":");
    put_u64(
        o,
        match op {
            S3Op::Get if !denied => size,
            S3Op::List => 300 + rng.below(5_000),
            _ => 0,
        },
    );
    lit(o, "},");
    put_ids(o, rng, true, op.read_only());
    if op == S3Op::List {
        lit(
            o,
            "\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARNPrefix\":\"arn:aws:s3:::",
        );
        lit(o, &bucket.name);
        o.push(b'/');
        lit(o, kind.list_prefix());
    } else {
        lit(
            o,
            "\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::",
        );
        lit(o, &bucket.name);
        o.push(b'/');
        o.extend_from_slice(key);
    }
    lit(o, "\"},{\"accountId\":\"");
    lit(o, &cx.account.id);
    lit(o, "\",\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::");
    lit(o, &bucket.name);
    lit(o, "\"}],");
    let vpce = match caller {
        Caller::Ip([10, ..]) => Some(cx.account.vpce.as_str()),
        _ => None,
    };
    let host = if client.sig == Sig::V2 {
        &bucket.host_global
    } else {
        &bucket.host_regional
    };
    put_tail(
        o,
        rng,
        cx,
        &Tail {
            management: false,
            shared: matches!(role, Role::CrossAccount | Role::Anonymous),
            vpce,
            tls: Some(tls),
            host,
            console: false,
        },
    );
    Facts {
        principal: p.id,
        source: Source::S3,
        name: op.name(),
        data: true,
        sig: match client.sig {
            Sig::None => None,
            sig => Some(sig),
        },
        ua: Some(client.ua),
        tls: Some(tls),
        throttled: false,
        s3_arn_bucket: None,
    }
}

/// Management events of other services (and a few of S3), from pre-rendered payloads.
fn mgmt(o: &mut Vec<u8>, rng: &mut Rng, cx: &Cx) -> Facts {
    let kinds = &cx.stream.mgmt;
    let total: u64 = kinds.iter().map(|k| u64::from(k.spec.weight)).sum();
    let mut x = rng.below(total);
    let mut kind = &kinds[0];
    for k in kinds {
        if x < u64::from(k.spec.weight) {
            kind = k;
            break;
        }
        x -= u64::from(k.spec.weight);
    }
    let spec = kind.spec;
    let variant = rng.pick(&kind.variants);
    let role = pick_weighted(rng, spec.actors);
    let p = cx.account.principal(role);
    let ident = rng.pick(&p.idents);
    let mut client = pick_weighted(rng, if spec.s3 { &p.s3 } else { &p.api });
    if client.sig == Sig::V2 && !cx.stream.sigv2_ok {
        client.sig = Sig::V4;
    }
    let caller = caller_of(rng, p);
    let denied = p.service.is_none() && rng.chance(150);
    let ua = &cx.world.pool.uas[client.ua as usize];

    let version = *rng.pick(&["1.08", "1.09", "1.10", "1.11"]);
    put_head(
        o,
        cx,
        &Head {
            version,
            ident,
            invoked_by: None,
            source: spec.source,
            name: spec.name,
        },
    );
    put_caller(o, caller, if spec.s3 { &ua.bracketed } else { &ua.plain });
    if denied {
        if spec.source == "ec2.amazonaws.com" {
            put_error(
                o,
                "Client.UnauthorizedOperation",
                "You are not authorized to perform this operation.",
            );
        } else {
            put_error(o, "AccessDenied", "Access Denied");
        }
    }
    lit(o, "\"requestParameters\":");
    match &variant.req {
        Some(t) => t.render(o, rng, cx.t),
        None => lit(o, "null"),
    }
    lit(o, ",\"responseElements\":");
    match &variant.resp {
        Some(t) if !denied => t.render(o, rng, cx.t),
        _ => lit(o, "null"),
    }
    o.push(b',');
    let tls = client.tls;
    if spec.s3 {
        lit(o, "\"additionalEventData\":{");
        lit(
            o,
            if client.sig == Sig::V2 {
                "\"SignatureVersion\":\"SigV2\",\"CipherSuite\":\""
            } else {
                "\"SignatureVersion\":\"SigV4\",\"CipherSuite\":\""
            },
        );
        lit(o, tls.unwrap_or(Tls::V12).cipher());
        lit(
            o,
            "\",\"bytesTransferredIn\":0,\"AuthenticationMethod\":\"AuthHeader\",\"x-amz-id-2\":\"",
        );
        put_chars(o, rng, 75, BASE64);
        lit(o, "=\",\"bytesTransferredOut\":");
        put_u64(o, 200 + rng.below(4_000));
        lit(o, "},");
    }
    put_ids(o, rng, spec.s3, spec.read_only);
    if let Some(t) = &variant.resources {
        lit(o, "\"resources\":");
        t.render(o, rng, cx.t);
        o.push(b',');
    }
    put_tail(
        o,
        rng,
        cx,
        &Tail {
            management: true,
            shared: false,
            vpce: None,
            tls,
            host: &variant.host,
            console: role == Role::SsoAdmin && !spec.s3 && ua.text.starts_with("Mozilla"),
        },
    );
    Facts {
        principal: p.id,
        source: if spec.s3 { Source::S3 } else { Source::Other },
        name: spec.name,
        data: false,
        sig: spec.s3.then_some(client.sig),
        ua: Some(client.ua),
        tls,
        throttled: false,
        s3_arn_bucket: None,
    }
}

// ------------------------------------------------------------------------------------------
// Windows and log files
// ------------------------------------------------------------------------------------------

/// Busy windows are split into files of at most this many records.
const MAX_FILE_RECORDS: u64 = 1_800;
/// Hand the gzip encoder the JSON in chunks of about this size.
const FLUSH_AT: usize = 1 << 16;

#[derive(Debug, Clone)]
struct FileMeta {
    /// Index of the file's first record within the window.
    first: u64,
    len: u64,
    oldest: i64,
    newest: i64,
    suffix: String,
    /// Stands in for the SHA-256 a real digest would carry.
    hash: String,
}

/// Everything about a window except its records: cheap, so digests recompute it.
#[derive(Debug, Clone)]
struct WindowMeta {
    start: i64,
    count: u64,
    spike: u64,
    spike_start: i64,
    spike_secs: u64,
    /// All files of a window are delivered in the same minute, with different suffixes.
    delivery: i64,
    files: Vec<FileMeta>,
}

fn window_meta(world: &World, s: usize, w: usize) -> WindowMeta {
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

fn write_digest(world: &World, s: usize, k: usize) -> Result<()> {
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

// ------------------------------------------------------------------------------------------
// Truth accumulation
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct HourPeak {
    calls: u64,
    peak: u64,
    second: i64,
}

impl HourPeak {
    /// Highest peak wins; on a tie, the earliest second.
    fn merge(&mut self, other: HourPeak) {
        self.calls += other.calls;
        if other.peak > self.peak || (other.peak == self.peak && other.second < self.second) {
            self.peak = other.peak;
            self.second = other.second;
        }
    }
}

/// Per-worker counters, keyed by pool ids; merged by sums and maxima, so the result does not
/// depend on how windows were spread over threads.
#[derive(Default)]
struct Acc {
    records: u64,
    log_objects: u64,
    kms: u64,
    s3: u64,
    s3_data: u64,
    sigv2: u64,
    tls_legacy: u64,
    kms_calls: HashMap<(u16, &'static str), u64>,
    kms_throttled: HashMap<u16, u64>,
    sigv2_by: HashMap<(u16, u16), u64>,
    tls_by: HashMap<(u16, &'static str), u64>,
    bucket_kms: HashMap<u16, u64>,
    /// (stream, hour start) -> symmetric calls and peak.
    peaks: HashMap<(usize, i64), HourPeak>,
}

fn add<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u64>, key: K, n: u64) {
    *map.entry(key).or_default() += n;
}

impl Acc {
    /// Applies the attribution rules to one record; true if it counts toward KMS rates.
    fn observe(&mut self, f: &Facts) -> bool {
        self.records += 1;
        let mut symmetric = false;
        match f.source {
            Source::Kms => {
                self.kms += 1;
                add(&mut self.kms_calls, (f.principal, f.name), 1);
                if f.throttled {
                    add(&mut self.kms_throttled, f.principal, 1);
                }
                if let Some(bucket) = f.s3_arn_bucket {
                    add(&mut self.bucket_kms, bucket, 1);
                }
                symmetric = SYMMETRIC_OPS.contains(&f.name);
            }
            Source::S3 => {
                self.s3 += 1;
                self.s3_data += u64::from(f.data);
                if let (Some(Sig::V2), Some(ua)) = (f.sig, f.ua) {
                    self.sigv2 += 1;
                    add(&mut self.sigv2_by, (f.principal, ua), 1);
                }
            }
            Source::Other => {}
        }
        if let Some(tls) = f.tls.map(Tls::version).filter(|v| is_legacy_tls(v)) {
            self.tls_legacy += 1;
            add(&mut self.tls_by, (f.principal, tls), 1);
        }
        symmetric
    }

    fn add_window_peak(&mut self, s: usize, start: i64, per_second: &[u32]) {
        let calls: u64 = per_second.iter().map(|&c| u64::from(c)).sum();
        if calls == 0 {
            return;
        }
        let (mut best, mut at) = (0u32, 0usize);
        for (i, &c) in per_second.iter().enumerate() {
            if c > best {
                (best, at) = (c, i);
            }
        }
        let peak = HourPeak {
            calls,
            peak: u64::from(best),
            second: start + at as i64,
        };
        let hour = start.div_euclid(HOUR) * HOUR;
        match self.peaks.get_mut(&(s, hour)) {
            Some(p) => p.merge(peak),
            None => {
                self.peaks.insert((s, hour), peak);
            }
        }
    }

    fn merge(&mut self, other: Acc) {
        self.records += other.records;
        self.log_objects += other.log_objects;
        self.kms += other.kms;
        self.s3 += other.s3;
        self.s3_data += other.s3_data;
        self.sigv2 += other.sigv2;
        self.tls_legacy += other.tls_legacy;
        for (k, n) in other.kms_calls {
            add(&mut self.kms_calls, k, n);
        }
        for (k, n) in other.kms_throttled {
            add(&mut self.kms_throttled, k, n);
        }
        for (k, n) in other.sigv2_by {
            add(&mut self.sigv2_by, k, n);
        }
        for (k, n) in other.tls_by {
            add(&mut self.tls_by, k, n);
        }
        for (k, n) in other.bucket_kms {
            add(&mut self.bucket_kms, k, n);
        }
        for (k, p) in other.peaks {
            match self.peaks.get_mut(&k) {
                Some(mine) => mine.merge(p),
                None => {
                    self.peaks.insert(k, p);
                }
            }
        }
    }

    fn into_truth(self, world: &World, digest_objects: u64) -> Truth {
        let pool = &world.pool;
        let name = |id: u16| pool.principals[id as usize].clone();
        let nest = |map: &mut BTreeMap<String, BTreeMap<String, u64>>, p: u16, k: &str, n: u64| {
            *map.entry(name(p))
                .or_default()
                .entry(k.to_string())
                .or_default() += n;
        };
        let mut truth = Truth {
            records_total: self.records,
            log_objects: self.log_objects,
            digest_objects,
            kms_records: self.kms,
            s3_records: self.s3,
            s3_data_records: self.s3_data,
            sigv2_records: self.sigv2,
            tls_legacy_records: self.tls_legacy,
            ..Truth::default()
        };
        for ((p, op), n) in self.kms_calls {
            nest(&mut truth.kms_calls, p, op, n);
        }
        for (p, n) in self.kms_throttled {
            *truth.kms_throttled.entry(name(p)).or_default() += n;
        }
        for ((p, ua), n) in self.sigv2_by {
            nest(&mut truth.sigv2, p, &pool.uas[ua as usize].text, n);
        }
        for ((p, v), n) in self.tls_by {
            nest(&mut truth.tls_legacy, p, v, n);
        }
        for (b, n) in self.bucket_kms {
            *truth
                .s3_bucket_kms_calls
                .entry(pool.buckets[b as usize].clone())
                .or_default() += n;
        }
        let mut peaks = BTreeMap::new();
        for ((s, hour), p) in self.peaks {
            let stream = &world.streams[s];
            let acct = world.accounts[stream.account].id.clone();
            let key = (iso(hour), acct.clone(), stream.region.to_string());
            peaks.insert(
                key,
                KmsPeak {
                    hour: iso(hour),
                    account_id: acct,
                    region: stream.region.to_string(),
                    calls: p.calls,
                    peak_rps: p.peak,
                    peak_second: iso(p.second),
                },
            );
        }
        truth.kms_peaks = peaks.into_values().collect();
        truth
    }
}

// ------------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn time_formatting_matches_chrono() {
        for t in [
            0,
            DEFAULT_START,
            DEFAULT_START + 86_399,
            951_782_400,
            4_102_444_800,
        ] {
            let expected = chrono::DateTime::from_timestamp(t, 0)
                .expect("in range")
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            assert_eq!(iso(t), expected);
        }
    }
}
