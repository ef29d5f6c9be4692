//! JSON writing helpers (hot path: bytes that are known to need no escaping).

use anyhow::Result;

use super::rng::Rng;

pub(super) const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
pub(super) const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
pub(super) const ALNUM: &[u8; 62] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(super) const BASE64: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(super) fn lit(o: &mut Vec<u8>, s: &str) {
    o.extend_from_slice(s.as_bytes());
}

pub(super) fn put_u64(o: &mut Vec<u8>, mut n: u64) {
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

pub(super) fn put_hex(o: &mut Vec<u8>, rng: &mut Rng, n: usize, digits: &[u8; 16]) {
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
pub(super) fn put_chars(o: &mut Vec<u8>, rng: &mut Rng, n: usize, alphabet: &[u8]) {
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

pub(super) fn put_digits(o: &mut Vec<u8>, rng: &mut Rng, n: usize) {
    put_chars(o, rng, n, b"0123456789");
}

/// A random version-4 UUID, lowercase, as CloudTrail writes `eventID`.
pub(super) fn put_uuid(o: &mut Vec<u8>, rng: &mut Rng) {
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

pub(super) fn put_octet_ip(o: &mut Vec<u8>, ip: [u8; 4]) {
    for (i, part) in ip.iter().enumerate() {
        if i > 0 {
            o.push(b'.');
        }
        put_u64(o, u64::from(*part));
    }
}

pub(super) fn rand_string(rng: &mut Rng, n: usize, alphabet: &[u8]) -> String {
    let mut v = Vec::with_capacity(n);
    put_chars(&mut v, rng, n, alphabet);
    String::from_utf8_lossy(&v).into_owned()
}

pub(super) fn rand_hex(rng: &mut Rng, n: usize) -> String {
    let mut v = Vec::with_capacity(n);
    put_hex(&mut v, rng, n, HEX_LOWER);
    String::from_utf8_lossy(&v).into_owned()
}

pub(super) fn rand_uuid(rng: &mut Rng) -> String {
    let mut v = Vec::with_capacity(36);
    put_uuid(&mut v, rng);
    String::from_utf8_lossy(&v).into_owned()
}

/// A JSON string literal (with quotes), escaped by serde_json.
pub(super) fn js(s: &str) -> Result<String> {
    Ok(serde_json::to_string(s)?)
}

/// A JSON string literal with every `/` written as the legal escape `\/`, which CloudTrail
/// consumers must unescape (serde_json never writes it, so it is planted by hand).
pub(super) fn js_slashed(s: &str) -> Result<String> {
    Ok(js(s)?.replace('/', "\\/"))
}
