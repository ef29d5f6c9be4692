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
    fs::create_dir_all(&world.out)
        .with_context(|| format!("creating {}", world.out.display()))?;

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

/// The logged user agent without one pair of surrounding square brackets.
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
        match rng.below(5) {
            0 => format!(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.0.0 Safari/537.36",
                n(rng, 110, 124)
            ),
            1 => format!(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{} Safari/605.1.15",
                n(rng, 0, 4)
            ),
            2 => format!(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
                n(rng, 0, 4)
            ),
            3 => format!(
                "Mozilla/5.0 (X11; Linux x86_64; rv:{}.0) Gecko/20100101 Firefox/{}.0",
                n(rng, 115, 123),
                n(rng, 115, 123)
            ),
            _ => format!(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.0.0 Safari/537.36 Edg/{}.0.2210.91",
                n(rng, 118, 123),
                n(rng, 118, 123)
            ),
        }
    }

    pub const CONSOLE_S3: &str = "S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.198-187.748.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372 vendor/Oracle_Corporation cfg/retry-mode/standard";
    pub const CLI_1_16: &str = "aws-cli/1.16.19 Python/2.7.10 Linux/4.14 botocore/1.12.9";
    pub const CLI_1_10: &str =
        "aws-cli/1.10.56 Python/2.7.12 Linux/4.4.0-1022-aws botocore/1.4.46";
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

fn account_identity(account: &str, principal_id: &str, pool: &mut Pool) -> Result<(u16, Vec<Ident>)> {
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
fn role_clients(role: Role, rng: &mut Rng, pool: &mut Pool) -> Result<(Clients, Clients, Vec<[u8; 4]>)> {
    use agents::*;
    let modern = |rng: &mut Rng| if rng.chance(6_000) { Tls::V13 } else { Tls::V12 };
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
            s3.push((pool.presigned("python-requests/2.31.0", Tls::V12, Sig::V2)?, 3));
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
    kind: BucketKind,
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

const SIGV2_REGIONS: [&str; 8] = [
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
];

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
                && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
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
            arn: format!("arn:aws:cloudtrail:us-east-1:{}:trail/trailsift-trail", ids[0]),
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
                streams.push(build_stream(&accounts, account, region, &mut rng, &mut pool)?);
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
        match &self.org {
            Some(org) => format!("AWSLogs/{org}/{acct}/{dir}/{}", stream.region),
            None => format!("AWSLogs/{acct}/{dir}/{}", stream.region),
        }
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
            kind,
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
    60, 55, 50, 50, 55, 65, 80, 95, 110, 120, 125, 130, 130, 128, 125, 120, 115, 110, 100, 90,
    80, 75, 70, 65,
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
