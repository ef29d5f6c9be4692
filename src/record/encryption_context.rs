//! A stable fingerprint of a KMS call's `encryptionContext`, so that calls made under the
//! same key *and* the same context can be grouped (data key caching candidates) without
//! keeping the context itself.
//!
//! The fingerprint is independent of key order (`{"a":"1","b":"2"}` and `{"b":"2","a":"1"}`
//! are the same context to KMS) and is the same on every platform and in every version of
//! trailsift: each pair is hashed with FNV-1a 64 (key, a 0xff separator, value) and mixed with
//! the SplitMix64 finalizer, the pair hashes are summed, and the sum is mixed once more with
//! the number of pairs. No sorting, no allocation.
//!
//! `aws-crypto-public-key` is left out: the AWS Encryption SDK's signing algorithm suites (the
//! default ones) add a fresh public key to the context of every message, so without a cache
//! every call has a different context; with a cache the key pair is cached with the data key
//! and the context repeats. Leaving it out groups the calls a cache would serve.

use simd_json::prelude::*;
use simd_json::tape::Value;

/// Context key the Encryption SDK fills per message when it signs (see the module comment).
pub const ENCRYPTION_SDK_PUBLIC_KEY: &str = "aws-crypto-public-key";

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// SplitMix64's finalizer: spreads FNV's weak high bits before the pairs are summed.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A fingerprint built pair by pair (the on-demand walk meets the pairs one at a time).
#[derive(Debug, Default, Clone, Copy)]
pub struct Fingerprint {
    sum: u64,
    n: u64,
}

impl Fingerprint {
    pub fn add(&mut self, key: &str, value: &str) {
        if key == ENCRYPTION_SDK_PUBLIC_KEY {
            return;
        }
        let h = fnv1a(
            fnv1a(fnv1a(FNV_OFFSET, key.as_bytes()), &[0xff]),
            value.as_bytes(),
        );
        self.sum = self.sum.wrapping_add(mix64(h));
        self.n += 1;
    }

    pub fn finish(self) -> u64 {
        mix64(self.sum ^ mix64(self.n))
    }
}

/// What a context value that is not a string is fingerprinted as.
pub const NULL_VALUE: &str = "\u{0}null";
pub const NON_STRING_VALUE: &str = "\u{0}non-string";

/// Order-independent fingerprint of key/value pairs (see the module comment).
pub fn fingerprint<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> u64 {
    let mut f = Fingerprint::default();
    for (k, v) in pairs {
        f.add(k, v);
    }
    f.finish()
}

/// The fingerprint of `requestParameters.encryptionContext`; an absent or null context is the
/// empty context (KMS treats them alike). Values that are not strings (KMS rejects them, but
/// a record may still carry one) are fingerprinted by their JSON kind.
pub fn hash(context: Option<Value<'_, '_>>) -> u64 {
    let Some(obj) = context.and_then(|c| c.as_object()) else {
        return fingerprint(std::iter::empty());
    };
    fingerprint(obj.iter().map(|(k, v)| {
        let value = v.into_string().unwrap_or(if v.is_null() {
            NULL_VALUE
        } else {
            NON_STRING_VALUE
        });
        (k, value)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(json: &str) -> u64 {
        let mut bytes = json.as_bytes().to_vec();
        let tape = simd_json::to_tape(&mut bytes).expect("valid json");
        hash(Some(tape.as_value()))
    }

    #[test]
    fn key_order_does_not_matter_but_values_do() {
        let a = hash_of(r#"{"tenant":"t-1","service":"orders"}"#);
        assert_eq!(a, hash_of(r#"{"service":"orders","tenant":"t-1"}"#));
        assert_ne!(a, hash_of(r#"{"service":"orders","tenant":"t-2"}"#));
        // A value moved to another key is another context.
        assert_ne!(
            hash_of(r#"{"a":"x","b":"y"}"#),
            hash_of(r#"{"a":"y","b":"x"}"#)
        );
        // The separator keeps "ab"+"c" apart from "a"+"bc".
        assert_ne!(hash_of(r#"{"ab":"c"}"#), hash_of(r#"{"a":"bc"}"#));
    }

    #[test]
    fn encryption_sdk_public_key_is_ignored_and_absent_is_empty() {
        assert_eq!(
            hash_of(r#"{"purpose":"orders","aws-crypto-public-key":"AbC1"}"#),
            hash_of(r#"{"aws-crypto-public-key":"XyZ2","purpose":"orders"}"#)
        );
        assert_eq!(hash(None), hash_of("{}"));
        assert_eq!(hash_of("null"), hash_of("{}"));
    }

    #[test]
    fn the_fingerprint_is_stable_across_versions() {
        // Pinned (and reproduced by an independent Python rendering of the definition above):
        // users may keep fingerprints from earlier runs to compare.
        assert_eq!(fingerprint([("tenant", "t-1")]), 0x50d6_78fe_dc39_b8d5);
    }
}
