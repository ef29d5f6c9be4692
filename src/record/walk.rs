//! [`Record::from_walk`]: the same extraction as [`Record::from_tape`], field for field and
//! rule for rule (which fields count as odd, which nested values are read for which
//! service), over the on-demand walk (json::walk) instead of simd-json's tape.
//!
//! Where the tape's rules depend on which of two copies of a key is read (a loop keeps the
//! last, `get` the first), the walk does not guess: a key it reads, met twice in one object,
//! is [`Bail::RepeatedKey`] and the object goes to simd-json.
//!
//! `requestParameters`, `additionalEventData`, `responseElements` and `resources` are read
//! for KMS and S3 only, and a KMS call's encryption context is fingerprinted only for some
//! event names; trail records put `eventSource` and `eventName` first, so these are read in
//! place. A record that has them later is read again from the value's saved position.

use bumpalo::Bump;

use super::encryption_context::{self, Fingerprint, NON_STRING_VALUE, NULL_VALUE};
use super::*;
use crate::json::Index;
use crate::json::walk::{Bail, Doc, Scalar};

/// Marks field `bit` of an object as read; a second time is [`Bail::RepeatedKey`].
#[inline(always)]
fn once(seen: &mut u64, bit: u32) -> Result<(), Bail> {
    let mask = 1u64 << bit;
    if *seen & mask != 0 {
        return Err(Bail::RepeatedKey);
    }
    *seen |= mask;
    Ok(())
}

/// What a value is, as the tape's `into_string` and `is_null` see it.
enum Kind<'a> {
    String(&'a str),
    Null,
    Other,
}

/// Reads the value at `v` as far as its kind; returns it and the position after the value.
#[inline(always)]
fn kind<'a>(d: &Doc<'_, 'a>, v: usize) -> Result<(Kind<'a>, usize), Bail> {
    match d.byte(v) {
        b'"' => Ok((Kind::String(d.string(v)?), v + 1)),
        b'n' if d.scalar(v)? == Scalar::Null => Ok((Kind::Null, v + 1)),
        _ => Ok((Kind::Other, d.skip(v)?)),
    }
}

/// record::string: null is unknown, another type unknown and odd.
#[inline(always)]
fn string<'a>(d: &Doc<'_, 'a>, v: usize, odd: &mut u32) -> Result<(Option<&'a str>, usize), Bail> {
    let (k, next) = kind(d, v)?;
    Ok((
        match k {
            Kind::String(s) => Some(s),
            Kind::Null => None,
            Kind::Other => {
                *odd += 1;
                None
            }
        },
        next,
    ))
}

/// The tape's `into_string`: a string or nothing, never odd.
#[inline(always)]
fn plain_string<'a>(d: &Doc<'_, 'a>, v: usize) -> Result<(Option<&'a str>, usize), Bail> {
    let (k, next) = kind(d, v)?;
    Ok((
        match k {
            Kind::String(s) => Some(s),
            _ => None,
        },
        next,
    ))
}

/// record::boolean.
fn boolean(d: &Doc<'_, '_>, v: usize, odd: &mut u32) -> Result<(Option<bool>, usize), Bail> {
    let value = match d.byte(v) {
        b't' | b'f' | b'n' => match d.scalar(v)? {
            Scalar::True => Some(true),
            Scalar::False => Some(false),
            _ => None,
        },
        b'"' => match d.string(v)? {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                *odd += 1;
                None
            }
        },
        _ => {
            *odd += 1;
            return Ok((None, d.skip(v)?));
        }
    };
    Ok((value, v + 1))
}

/// The nested values read after `eventSource` says which matter.
#[derive(Clone, Copy)]
enum Nested {
    RequestParameters,
    AdditionalEventData,
    ResponseElements,
    Resources,
}

/// What the nested values gave.
#[derive(Default)]
struct NestedFacts<'a> {
    request: RequestFacts<'a>,
    custom_key_store_id: Option<&'a str>,
    s3: S3EventData<'a>,
    response_sse: Option<&'a str>,
    kms_key_arn: Option<&'a str>,
}

impl<'a> Record<'a> {
    /// Extracts the record at token `i`; returns it (or why it is malformed) and the position
    /// after it.
    pub fn from_walk(
        d: &Doc<'_, 'a>,
        i: usize,
    ) -> Result<(Result<Record<'a>, Malformed>, usize), Bail> {
        if d.byte(i) != b'{' {
            return Ok((Err(Malformed::NotAnObject), d.skip(i)?));
        }
        let mut r = Record::default();
        let mut event_time = None;
        let mut event_source = None;
        let mut facts = NestedFacts::default();
        // Nested values met before eventSource (or, for KMS, eventName): read after the loop.
        let mut later: [Option<usize>; 4] = [None; 4];
        let mut seen = 0u64;
        const SOURCE: u32 = 1;
        const NAME: u32 = 2;
        let end = d.members(i, |key, v| {
            let odd = &mut r.odd_fields;
            macro_rules! field {
                ($bit:expr, $slot:expr, $read:expr) => {{
                    once(&mut seen, $bit)?;
                    let (value, next) = $read;
                    $slot = value;
                    Ok(next)
                }};
            }
            let nested = match key {
                "eventTime" => return field!(0, event_time, plain_string(d, v)?),
                "eventSource" => return field!(SOURCE, event_source, string(d, v, odd)?),
                "eventName" => return field!(NAME, r.event_name, string(d, v, odd)?),
                "awsRegion" => return field!(3, r.aws_region, string(d, v, odd)?),
                "recipientAccountId" => {
                    return field!(4, r.recipient_account_id, string(d, v, odd)?);
                }
                "sourceIPAddress" => return field!(5, r.source_ip, string(d, v, odd)?),
                "userAgent" => return field!(6, r.user_agent, string(d, v, odd)?),
                "errorCode" => return field!(7, r.error_code, string(d, v, odd)?),
                "eventID" => return field!(8, r.event_id, string(d, v, odd)?),
                "sharedEventID" => return field!(9, r.shared_event_id, string(d, v, odd)?),
                "eventCategory" => return field!(10, r.event_category, string(d, v, odd)?),
                "eventType" => return field!(11, r.event_type, string(d, v, odd)?),
                "readOnly" => return field!(12, r.read_only, boolean(d, v, odd)?),
                "vpcEndpointId" => return field!(13, r.vpc_endpoint_id, string(d, v, odd)?),
                "vpcEndpointAccountId" => {
                    return field!(14, r.vpc_endpoint_account_id, string(d, v, odd)?);
                }
                "userIdentity" => return field!(15, r.identity, identity(d, v, odd)?),
                "tlsDetails" => return field!(16, r.tls, tls_details(d, v, odd)?),
                "requestParameters" => Nested::RequestParameters,
                "additionalEventData" => Nested::AdditionalEventData,
                "responseElements" => Nested::ResponseElements,
                "resources" => Nested::Resources,
                _ => return d.skip(v),
            };
            once(&mut seen, 17 + nested as u32)?;
            let name_known = seen & (1 << NAME) != 0;
            match event_source {
                Some(source)
                    if seen & (1 << SOURCE) != 0 && (source != KMS_SOURCE || name_known) =>
                {
                    read_nested(d, v, nested, source, r.event_name, &mut facts, odd)
                }
                // eventSource seen but not a string: nothing nested is read.
                None if seen & (1 << SOURCE) != 0 => d.skip(v),
                _ => {
                    later[nested as usize] = Some(v);
                    d.skip(v)
                }
            }
        })?;
        let Some(event_time) = event_time else {
            return Ok((Err(Malformed::MissingEventTime), end));
        };
        let Some(event_time) = parse_event_time(event_time) else {
            return Ok((Err(Malformed::InvalidEventTime), end));
        };
        r.event_time = event_time;
        let Some(source) = event_source else {
            return Ok((Err(Malformed::MissingEventSource), end));
        };
        r.event_source = source;
        for (slot, nested) in later.iter().zip([
            Nested::RequestParameters,
            Nested::AdditionalEventData,
            Nested::ResponseElements,
            Nested::Resources,
        ]) {
            if let Some(v) = *slot {
                read_nested(
                    d,
                    v,
                    nested,
                    source,
                    r.event_name,
                    &mut facts,
                    &mut r.odd_fields,
                )?;
            }
        }
        r.request = facts.request;
        r.custom_key_store_id = facts.custom_key_store_id;
        r.s3 = facts.s3;
        r.response_server_side_encryption = facts.response_sse;
        r.kms_key_arn = facts.kms_key_arn;
        Ok((Ok(r), end))
    }
}

/// Reads a nested value for the service that reads it (Record::from_tape's `match
/// r.event_source`), or skips it.
fn read_nested<'a>(
    d: &Doc<'_, 'a>,
    v: usize,
    nested: Nested,
    source: &str,
    event_name: Option<&str>,
    facts: &mut NestedFacts<'a>,
    odd: &mut u32,
) -> Result<usize, Bail> {
    match (nested, source) {
        (Nested::RequestParameters, KMS_SOURCE) => {
            let fingerprint = event_name.is_some_and(fingerprints_encryption_context);
            request_facts(d, v, fingerprint, &mut facts.request, odd)
        }
        (Nested::RequestParameters, S3_SOURCE) => {
            request_facts(d, v, false, &mut facts.request, odd)
        }
        (Nested::AdditionalEventData, KMS_SOURCE) => member_string(
            d,
            v,
            "customKeyStoreId",
            &mut facts.custom_key_store_id,
            odd,
        ),
        (Nested::AdditionalEventData, S3_SOURCE) => s3_event_data(d, v, &mut facts.s3, odd),
        (Nested::ResponseElements, S3_SOURCE) => {
            server_side_encryption(d, v, &mut facts.response_sse, odd)
        }
        (Nested::Resources, KMS_SOURCE) => kms_key_arn(d, v, &mut facts.kms_key_arn),
        _ => d.skip(v),
    }
}

/// `v.get(name).and_then(|x| string(x, odd))`.
fn member_string<'a>(
    d: &Doc<'_, 'a>,
    v: usize,
    name: &str,
    slot: &mut Option<&'a str>,
    odd: &mut u32,
) -> Result<usize, Bail> {
    if d.byte(v) != b'{' {
        return d.skip(v);
    }
    let mut seen = 0u64;
    d.members(v, |key, x| {
        if key != name {
            return d.skip(x);
        }
        once(&mut seen, 0)?;
        let (value, next) = string(d, x, odd)?;
        *slot = value;
        Ok(next)
    })
}

fn identity<'a>(d: &Doc<'_, 'a>, v: usize, odd: &mut u32) -> Result<(Identity<'a>, usize), Bail> {
    let mut id = Identity::default();
    if d.byte(v) != b'{' {
        let (k, next) = kind(d, v)?;
        if !matches!(k, Kind::Null) {
            *odd += 1;
        }
        return Ok((id, next));
    }
    let mut seen = 0u64;
    let next = d.members(v, |key, x| {
        macro_rules! field {
            ($bit:expr, $slot:expr) => {{
                once(&mut seen, $bit)?;
                let (value, next) = string(d, x, odd)?;
                $slot = value;
                Ok(next)
            }};
        }
        match key {
            "type" => field!(0, id.kind),
            "arn" => field!(1, id.arn),
            "accountId" => field!(2, id.account_id),
            "invokedBy" => field!(3, id.invoked_by),
            "principalId" => field!(4, id.principal_id),
            "accessKeyId" => field!(5, id.access_key_id),
            "onBehalfOf" => {
                once(&mut seen, 6)?;
                if d.byte(x) != b'{' {
                    return d.skip(x);
                }
                let mut inner = 0u64;
                d.members(x, |k, y| match k {
                    "userId" => {
                        once(&mut inner, 0)?;
                        let (value, next) = string(d, y, odd)?;
                        id.on_behalf_of_user_id = value;
                        Ok(next)
                    }
                    "identityStoreArn" => {
                        once(&mut inner, 1)?;
                        let (value, next) = string(d, y, odd)?;
                        id.identity_store_arn = value;
                        Ok(next)
                    }
                    _ => d.skip(y),
                })
            }
            "sessionContext" => {
                once(&mut seen, 7)?;
                let mut arn = None;
                let next = session_issuer_arn(d, x, &mut arn, odd)?;
                id.session_issuer_arn = arn.filter(|arn| !arn.is_empty());
                Ok(next)
            }
            _ => d.skip(x),
        }
    })?;
    Ok((id, next))
}

/// `sessionContext.sessionIssuer.arn`.
fn session_issuer_arn<'a>(
    d: &Doc<'_, 'a>,
    v: usize,
    arn: &mut Option<&'a str>,
    odd: &mut u32,
) -> Result<usize, Bail> {
    if d.byte(v) != b'{' {
        return d.skip(v);
    }
    let mut seen = 0u64;
    d.members(v, |key, x| {
        if key != "sessionIssuer" {
            return d.skip(x);
        }
        once(&mut seen, 0)?;
        member_string(d, x, "arn", arn, odd)
    })
}

fn tls_details<'a>(
    d: &Doc<'_, 'a>,
    v: usize,
    odd: &mut u32,
) -> Result<(TlsDetails<'a>, usize), Bail> {
    let mut tls = TlsDetails::default();
    if d.byte(v) != b'{' {
        return Ok((tls, d.skip(v)?));
    }
    let mut seen = 0u64;
    let next = d.members(v, |key, x| {
        let (bit, slot) = match key {
            "tlsVersion" => (0, &mut tls.version),
            "cipherSuite" => (1, &mut tls.cipher_suite),
            _ => return d.skip(x),
        };
        once(&mut seen, bit)?;
        let (value, next) = string(d, x, odd)?;
        *slot = value;
        Ok(next)
    })?;
    Ok((tls, next))
}

fn request_facts<'a>(
    d: &Doc<'_, 'a>,
    v: usize,
    fingerprint: bool,
    facts: &mut RequestFacts<'a>,
    odd: &mut u32,
) -> Result<usize, Bail> {
    let mut context = None;
    let next = if d.byte(v) == b'{' {
        let mut seen = 0u64;
        d.members(v, |key, x| {
            macro_rules! field {
                ($bit:expr, $slot:expr) => {{
                    once(&mut seen, $bit)?;
                    let (value, next) = string(d, x, odd)?;
                    $slot = value;
                    Ok(next)
                }};
            }
            match key {
                "bucketName" => field!(0, facts.bucket_name),
                "keyId" => field!(1, facts.key_id),
                "encryptionAlgorithm" => field!(2, facts.key_algorithm),
                "signingAlgorithm" => field!(3, facts.key_algorithm),
                "keyPairSpec" => field!(4, facts.key_algorithm),
                "sourceEncryptionAlgorithm" => {
                    once(&mut seen, 5)?;
                    let (value, next) = string(d, x, odd)?;
                    facts.key_algorithm = facts.key_algorithm.or(value);
                    Ok(next)
                }
                k if k.eq_ignore_ascii_case(SSE_HEADER) => field!(6, facts.server_side_encryption),
                "encryptionContext" => {
                    once(&mut seen, 7)?;
                    encryption_context(d, x, fingerprint, facts, &mut context, odd)
                }
                _ => d.skip(x),
            }
        })?
    } else {
        d.skip(v)?
    };
    if fingerprint {
        facts.encryption_context_hash =
            Some(context.unwrap_or_else(|| encryption_context::fingerprint([])));
    }
    Ok(next)
}

/// `requestParameters.encryptionContext`: the two ARNs, and the fingerprint of every pair
/// (record::encryption_context::hash).
fn encryption_context<'a>(
    d: &Doc<'_, 'a>,
    v: usize,
    fingerprint: bool,
    facts: &mut RequestFacts<'a>,
    context: &mut Option<u64>,
    odd: &mut u32,
) -> Result<usize, Bail> {
    if d.byte(v) != b'{' {
        return d.skip(v);
    }
    let mut pairs = Fingerprint::default();
    let mut seen = 0u64;
    let next = d.members(v, |key, x| {
        let (k, next) = kind(d, x)?;
        let value = match k {
            Kind::String(s) => Some(s),
            Kind::Null => None,
            Kind::Other => None,
        };
        if fingerprint {
            let text = match k {
                Kind::String(s) => s,
                Kind::Null => NULL_VALUE,
                Kind::Other => NON_STRING_VALUE,
            };
            pairs.add(key, text);
        }
        let slot = match key {
            "aws:s3:arn" => {
                once(&mut seen, 0)?;
                &mut facts.s3_arn
            }
            "aws:cloudtrail:arn" => {
                once(&mut seen, 1)?;
                &mut facts.cloudtrail_arn
            }
            _ => return Ok(next),
        };
        if matches!(k, Kind::Other) {
            *odd += 1;
        }
        *slot = value;
        Ok(next)
    })?;
    if fingerprint {
        *context = Some(pairs.finish());
    }
    Ok(next)
}

/// record::s3_event_data: keys matched case-insensitively.
fn s3_event_data<'a>(
    d: &Doc<'_, 'a>,
    v: usize,
    data: &mut S3EventData<'a>,
    odd: &mut u32,
) -> Result<usize, Bail> {
    if d.byte(v) != b'{' {
        return d.skip(v);
    }
    let mut seen = 0u64;
    d.members(v, |key, x| {
        let (bit, slot) = if key.eq_ignore_ascii_case("SignatureVersion") {
            (0, &mut data.signature_version)
        } else if key.eq_ignore_ascii_case("AuthenticationMethod") {
            (1, &mut data.authentication_method)
        } else if key.eq_ignore_ascii_case("CipherSuite") {
            (2, &mut data.cipher_suite)
        } else {
            return d.skip(x);
        };
        once(&mut seen, bit)?;
        let (value, next) = string(d, x, odd)?;
        *slot = value;
        Ok(next)
    })
}

/// record::server_side_encryption: the first key that matches, case-insensitively.
fn server_side_encryption<'a>(
    d: &Doc<'_, 'a>,
    v: usize,
    sse: &mut Option<&'a str>,
    odd: &mut u32,
) -> Result<usize, Bail> {
    if d.byte(v) != b'{' {
        return d.skip(v);
    }
    let mut found = false;
    d.members(v, |key, x| {
        if found || !key.eq_ignore_ascii_case(SSE_HEADER) {
            return d.skip(x);
        }
        found = true;
        let (value, next) = string(d, x, odd)?;
        *sse = value;
        Ok(next)
    })
}

/// record::kms_key_arn: the element typed `AWS::KMS::Key`, else the first untyped key ARN.
fn kms_key_arn<'a>(d: &Doc<'_, 'a>, v: usize, arn: &mut Option<&'a str>) -> Result<usize, Bail> {
    if d.byte(v) != b'[' {
        return d.skip(v);
    }
    let mut typed = None;
    let mut untyped = None;
    let next = d.elements(v, |e| {
        if d.byte(e) != b'{' {
            return d.skip(e);
        }
        let (mut element_arn, mut element_type) = (None, None);
        let mut seen = 0u64;
        let next = d.members(e, |key, x| {
            let (bit, slot) = match key {
                "ARN" => (0, &mut element_arn),
                "type" => (1, &mut element_type),
                _ => return d.skip(x),
            };
            once(&mut seen, bit)?;
            let (value, next) = plain_string(d, x)?;
            *slot = value;
            Ok(next)
        })?;
        if typed.is_none() {
            match element_type {
                Some("AWS::KMS::Key") => typed = Some(element_arn),
                Some(_) => {}
                None => {
                    if untyped.is_none() && element_arn.is_some_and(|a| a.contains(":key/")) {
                        untyped = element_arn;
                    }
                }
            }
        }
        Ok(next)
    })?;
    *arn = typed.unwrap_or(untyped);
    Ok(next)
}

/// Bytes the index is kept ahead of the walk, when a log file is read in slices.
const AHEAD: usize = 96 << 10;

/// The `Records` of a log file of the usual shape (`{"Records":[` first), read while it is
/// being indexed: stage 1 runs [`AHEAD`] bytes in front of the walk, so each slice of the
/// text is walked while it is still in the core's L2 cache (a whole object, 1 MB or more,
/// is not; indexing it all first and walking it after reads it twice from L3). A record
/// that reaches past the indexed part finds no token there, which no rule accepts: the
/// caller then reads the object whole. `text` must have been proved UTF-8. Records go into
/// `out` as read; the caller folds them only once this returns `Ok`.
pub fn records_in_slices<'a>(
    text: &'a str,
    index: &mut Index,
    arena: &'a Bump,
    out: &mut Vec<Result<Record<'a>, Malformed>>,
) -> Result<(), Bail> {
    let bytes = text.as_bytes();
    let len = bytes.len();
    let refused = |_| Bail::Syntax;
    index.reset();
    let mut fed = AHEAD.min(len);
    index.feed(&bytes[..fed], fed == len).map_err(refused)?;
    if fed == len {
        index.finish_validated(len).map_err(refused)?;
    }
    {
        let d = Doc::new(text, index, arena);
        if !(d.byte(0) == b'{' && d.is_key(1) && d.string(1)? == "Records" && d.byte(3) == b'[') {
            return Err(Bail::Syntax);
        }
    }
    let mut i = 4;
    if Doc::new(text, index, arena).byte(i) == b']' {
        i += 1;
    } else {
        loop {
            let at = index.at.get(i).map_or(len, |&p| p as usize);
            if fed < len && fed < at + AHEAD {
                fed = (at + 2 * AHEAD).min(len);
                index.feed(&bytes[..fed], fed == len).map_err(refused)?;
                if fed == len {
                    index.finish_validated(len).map_err(refused)?;
                }
            }
            let d = Doc::new(text, index, arena);
            let (record, next) = Record::from_walk(&d, i)?;
            out.push(record);
            match d.byte(next) {
                b',' => i = next + 1,
                b']' => {
                    i = next + 1;
                    break;
                }
                _ => return Err(Bail::Syntax),
            }
        }
    }
    if fed < len {
        index.feed(bytes, true).map_err(refused)?;
        index.finish_validated(len).map_err(refused)?;
    }
    // The root's other members, after Records (none, in CloudTrail's files).
    let d = Doc::new(text, index, arena);
    loop {
        match d.byte(i) {
            b'}' => {
                i += 1;
                break;
            }
            b',' if d.is_key(i + 1) => {
                if d.string(i + 1)? == "Records" {
                    return Err(Bail::RepeatedKey);
                }
                i = d.skip(i + 3)?;
            }
            _ => return Err(Bail::Syntax),
        }
    }
    if d.is_end(i) {
        Ok(())
    } else {
        Err(Bail::Syntax)
    }
}

/// The `Records` of a log file, in order, into `out`. The first `Records` key counts (as
/// log_file::records reads it); a second is [`Bail::RepeatedKey`].
pub fn records<'a>(
    d: &Doc<'_, 'a>,
    out: &mut Vec<Result<Record<'a>, Malformed>>,
) -> Result<(), Bail> {
    let mut found = false;
    let end = d.members(0, |key, v| {
        if key != "Records" {
            return d.skip(v);
        }
        if found {
            return Err(Bail::RepeatedKey);
        }
        found = true;
        d.elements(v, |e| {
            let (record, next) = Record::from_walk(d, e)?;
            out.push(record);
            Ok(next)
        })
    })?;
    if found && d.is_end(end) {
        Ok(())
    } else {
        Err(Bail::Syntax)
    }
}

/// The walk against simd-json's tape, the oracle: wherever the walk reads a log file, it must
/// give exactly the records (fields, odd counts, malformed reasons) the tape extraction gives;
/// wherever simd-json rejects a file, the walk must not read it.
#[cfg(test)]
mod tests {
    use bumpalo::Bump;
    use proptest::prelude::*;

    use super::*;
    use crate::json::Index;

    fn walked(json: &[u8]) -> Option<String> {
        let mut index = Index::default();
        let text = index.build(json).ok()?;
        let arena = Bump::new();
        let doc = Doc::new(text, &index, &arena);
        let mut out = Vec::new();
        records(&doc, &mut out).ok()?;
        Some(format!("{out:?}"))
    }

    fn walked_in_slices(json: &[u8]) -> Option<String> {
        let text = std::str::from_utf8(json).ok()?;
        let mut index = Index::default();
        let arena = Bump::new();
        let mut out = Vec::new();
        records_in_slices(text, &mut index, &arena, &mut out).ok()?;
        Some(format!("{out:?}"))
    }

    fn taped(json: &[u8]) -> Option<String> {
        let mut bytes = json.to_vec();
        let tape = simd_json::to_tape(&mut bytes).ok()?;
        let records = crate::log_file::records(&tape).ok()?;
        let out: Vec<_> = records.iter().map(Record::from_tape).collect();
        Some(format!("{out:?}"))
    }

    /// Asserts the walks agree with the tape; returns whether the walk read the file.
    fn agree(json: &[u8]) -> bool {
        if let Some(slices) = walked_in_slices(json) {
            assert_eq!(
                Some(&slices),
                taped(json).as_ref(),
                "in slices, on {}",
                String::from_utf8_lossy(json)
            );
        }
        let walk = walked(json);
        if let Some(walk) = &walk {
            assert_eq!(
                Some(walk),
                taped(json).as_ref(),
                "on {}",
                String::from_utf8_lossy(json)
            );
        }
        walk.is_some()
    }

    #[test]
    fn reads_the_documented_kms_and_s3_examples_like_the_tape() {
        // Shaped like the KMS Developer Guide's GenerateDataKey CloudTrail example and the S3
        // User Guide's SigV2 GetObject one, with an escaped user agent.
        let json = br#"{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole",
          "principalId":"AROAEXAMPLE:s","arn":"arn:aws:sts::111122223333:assumed-role/Admin/s",
          "accountId":"111122223333","accessKeyId":"ASIAEXAMPLE","sessionContext":{
          "sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/Admin"},
          "attributes":{"mfaAuthenticated":"false","creationDate":"2026-03-01T00:00:00Z"}}},
          "eventTime":"2026-03-01T01:02:03Z","eventSource":"kms.amazonaws.com",
          "eventName":"GenerateDataKey","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.0",
          "userAgent":"aws-sdk-java\/1.12 \"quoted\" caf\u00e9","requestParameters":{
          "keyId":"arn:aws:kms:us-east-1:111122223333:key/1234abcd","numberOfBytes":32,
          "encryptionContext":{"aws:s3:arn":"arn:aws:s3:::bucket\/key"}},
          "responseElements":null,"requestID":"r","eventID":"e1","readOnly":true,
          "resources":[{"accountId":"111122223333","type":"AWS::KMS::Key",
          "ARN":"arn:aws:kms:us-east-1:111122223333:key/1234abcd"}],"eventType":"AwsApiCall",
          "managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"},
          {"eventTime":"2026-03-01T01:02:04Z","eventSource":"s3.amazonaws.com","eventName":"GetObject",
          "requestParameters":{"bucketName":"b","Host":"b.s3.amazonaws.com","key":"k"},
          "additionalEventData":{"SignatureVersion":"SigV2","CipherSuite":"ECDHE-RSA-AES128-SHA",
          "bytesTransferredIn":0.0,"AuthenticationMethod":"QueryString"},
          "tlsDetails":{"tlsVersion":"TLSv1","cipherSuite":"ECDHE-RSA-AES128-SHA"},
          "responseElements":{"X-Amz-Server-Side-Encryption":"AES256"}},
          "not a record", {"eventSource":"x"}]}"#;
        assert!(agree(json), "the walk read it");
        let text = walked(json).unwrap();
        assert!(text.contains(r#"user_agent: Some("aws-sdk-java/1.12 \"quoted\" café")"#));
        assert!(text.contains(r#"signature_version: Some("SigV2")"#));
        assert!(text.contains("Err(NotAnObject)") && text.contains("Err(MissingEventTime)"));
    }

    #[test]
    fn a_file_larger_than_the_slices_is_read_in_slices_as_the_tape_reads_it() {
        let record = r#"{"eventTime":"2026-03-01T01:02:03Z","eventSource":"kms.amazonaws.com",
          "eventName":"Decrypt","userAgent":"a\"b","requestParameters":{"encryptionContext":
          {"aws:s3:arn":"arn:aws:s3:::b/k"}},"padding":"PAD"}"#;
        let records: Vec<String> = (0..3000)
            .map(|n| record.replace("PAD", &"x".repeat(n % 700)))
            .collect();
        let json = format!("{{\"Records\":[{}],\"after\":[1,{{}}]}}", records.join(","));
        assert!(json.len() > 4 * AHEAD);
        let slices = walked_in_slices(json.as_bytes()).expect("read in slices");
        assert_eq!(Some(slices), taped(json.as_bytes()));
        // One record larger than the slices: read whole instead, never wrongly.
        let huge = format!(
            "{{\"Records\":[{}]}}",
            record.replace("PAD", &"y".repeat(3 * AHEAD))
        );
        assert!(agree(huge.as_bytes()));
    }

    #[test]
    fn nested_values_before_the_event_source_are_read_after_it() {
        let json = br#"{"Records":[{"requestParameters":{"encryptionContext":{"a":"1"}},
          "resources":[{"ARN":"arn:aws:kms:us-east-1:1:key/k"}],"eventName":"Decrypt",
          "eventTime":"2026-03-01T01:02:03Z","eventSource":"kms.amazonaws.com"}]}"#;
        assert!(agree(json));
        assert!(
            walked(json)
                .unwrap()
                .contains("encryption_context_hash: Some(")
        );
    }

    #[test]
    fn what_it_leaves_to_simd_json() {
        let record = |extra: &str| {
            format!(
                r#"{{"Records":[{{"eventTime":"2026-03-01T01:02:03Z","eventSource":"s3.amazonaws.com"{extra}}}]}}"#
            )
        };
        for leaves in [
            r#","userAgent":"a","userAgent":"b""#,
            r#","x":1e400"#,
            r#","x":"\ud83d\ude00""#,
            r#","x":[1,]"#,
        ] {
            let json = record(leaves);
            assert_eq!(walked(json.as_bytes()), None, "{leaves}");
            agree(json.as_bytes());
        }
        assert_eq!(walked(br#"{"Records":[]}{}"#), None);
        assert_eq!(walked(br#"{"Records":{}}"#), None);
        assert_eq!(walked(br#"{"Other":[]}"#), None);
        assert!(agree(
            record(r#","x":{"y":[1,-2.5,true,null,{}]}"#).as_bytes()
        ));
    }

    #[test]
    fn every_fixture_is_read_as_the_tape_reads_it() {
        use std::io::Read;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let (mut read, mut left) = (0, Vec::new());
        for entry in walkdir::WalkDir::new(&root) {
            let entry = entry.expect("walk fixtures");
            let path = entry.path();
            let name = path.to_string_lossy();
            let mut bytes = Vec::new();
            if name.ends_with(".json.gz") {
                let file = std::fs::File::open(path).expect("open");
                if flate2::read::MultiGzDecoder::new(file)
                    .read_to_end(&mut bytes)
                    .is_err()
                {
                    continue;
                }
            } else if name.ends_with(".json") {
                bytes = std::fs::read(path).expect("read");
            } else {
                continue;
            }
            if taped(&bytes).is_none() {
                continue;
            }
            if agree(&bytes) {
                read += 1;
            } else {
                left.push(name.into_owned());
            }
        }
        assert!(read >= 25, "{read} fixtures read");
        assert!(left.is_empty(), "left to simd-json: {left:?}");
    }

    const KEYS: &[&str] = &[
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "recipientAccountId",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "eventID",
        "sharedEventID",
        "eventCategory",
        "eventType",
        "readOnly",
        "vpcEndpointId",
        "vpcEndpointAccountId",
        "userIdentity",
        "tlsDetails",
        "requestParameters",
        "additionalEventData",
        "responseElements",
        "resources",
        "type",
        "arn",
        "accountId",
        "invokedBy",
        "principalId",
        "accessKeyId",
        "onBehalfOf",
        "userId",
        "identityStoreArn",
        "sessionContext",
        "sessionIssuer",
        "tlsVersion",
        "cipherSuite",
        "bucketName",
        "keyId",
        "encryptionAlgorithm",
        "signingAlgorithm",
        "keyPairSpec",
        "sourceEncryptionAlgorithm",
        "x-amz-server-side-encryption",
        "X-Amz-Server-Side-Encryption",
        "encryptionContext",
        "aws:s3:arn",
        "aws:cloudtrail:arn",
        "aws-crypto-public-key",
        "SignatureVersion",
        "signatureversion",
        "AuthenticationMethod",
        "CipherSuite",
        "customKeyStoreId",
        "ARN",
        "Records",
        "eventVersion",
        "k\\u0065yId",
        "a b",
        "",
    ];

    const STRINGS: &[&str] = &[
        "2026-03-01T01:02:03Z",
        "2026-03-01 01:02:03",
        "kms.amazonaws.com",
        "s3.amazonaws.com",
        "GenerateDataKey",
        "Decrypt",
        "Encrypt",
        "PutObject",
        "arn:aws:kms:us-east-1:111122223333:key/k1",
        "arn:aws:s3:::b\\/k",
        "AWS::KMS::Key",
        "AWS::S3::Object",
        "SigV2",
        "true",
        "false",
        "aws:kms",
        "caf\\u00e9 \\\"q\\\" \\\\",
        "line\\nbreak\\t",
        "",
        "\u{e9}t\u{e9}",
    ];

    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            6 => prop::sample::select(STRINGS).prop_map(|s| format!("\"{s}\"")),
            1 => Just("null".to_string()),
            1 => Just("true".to_string()),
            1 => Just("false".to_string()),
            1 => prop::sample::select(&["0", "-1.5", "12345678901234567890", "1e5", "42"][..])
                .prop_map(String::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                3 => prop::collection::vec((prop::sample::select(KEYS), inner.clone()), 0..6)
                    .prop_map(|members| object(&members)),
                1 => prop::collection::vec(inner, 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            ]
        })
    }

    fn object(members: &[(&str, String)]) -> String {
        let members: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        format!("{{{}}}", members.join(","))
    }

    /// A record: a time, a source and a name (usually valid), then random members, shuffled.
    fn record() -> impl Strategy<Value = String> {
        (
            prop::sample::select(
                &["kms.amazonaws.com", "s3.amazonaws.com", "sts.amazonaws.com"][..],
            ),
            prop::sample::select(&["GenerateDataKey", "Decrypt", "PutObject", "Encrypt"][..]),
            prop::collection::vec((prop::sample::select(KEYS), value()), 0..10),
            Just(()).prop_perturb(|(), mut rng| rng.next_u64()),
            prop::bool::weighted(0.2),
        )
            .prop_map(|(source, name, rest, seed, keep_repeats)| {
                let mut members = vec![
                    ("eventTime", "\"2026-03-01T01:02:03Z\"".to_string()),
                    ("eventSource", format!("\"{source}\"")),
                    ("eventName", format!("\"{name}\"")),
                ];
                for (key, value) in rest {
                    // Repeated keys (which the walk leaves to simd-json) in one record of five.
                    if keep_repeats || members.iter().all(|(k, _)| *k != key) {
                        members.push((key, value));
                    }
                }
                // A cheap shuffle (Fisher-Yates on a xorshift of the seed).
                let mut s = seed | 1;
                for i in (1..members.len()).rev() {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    members.swap(i, (s % (i as u64 + 1)) as usize);
                }
                object(&members)
            })
    }

    fn log_file() -> impl Strategy<Value = String> {
        prop::collection::vec(record(), 0..4)
            .prop_map(|records| format!("{{\"Records\":[{}]}}", records.join(",")))
    }

    /// The comparisons below test the walk only where it reads: most generated files must
    /// be read, not left to simd-json.
    #[test]
    fn the_generated_files_mostly_take_the_walk() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut read, mut records) = (0, 0);
        for _ in 0..1000 {
            let json = log_file().new_tree(&mut runner).expect("tree").current();
            if agree(json.as_bytes()) {
                read += 1;
                records += json
                    .matches("\"eventTime\":\"2026-03-01T01:02:03Z\"")
                    .count();
            }
        }
        assert!(read >= 400, "{read} of 1000 read on demand");
        assert!(records >= 450, "{records} records read on demand");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("TRAILSIFT_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(3000)
        ))]

        /// Generated log files: the walk agrees with the tape.
        #[test]
        fn generated_log_files_agree(json in log_file()) {
            agree(json.as_bytes());
        }

        /// The same files damaged (a byte deleted, inserted or replaced): the walk either
        /// agrees or leaves the file to simd-json, never reads what simd-json rejects.
        #[test]
        fn damaged_log_files_agree(
            json in log_file(),
            at in any::<prop::sample::Index>(),
            edit in 0u8..3,
            byte in prop::sample::select(&b"{}[]:,\"\\ 0-.etfnul\x01\x0c\xc3"[..]),
        ) {
            let mut bytes = json.into_bytes();
            let i = at.index(bytes.len().max(1)).min(bytes.len());
            match edit {
                0 if i < bytes.len() => { bytes.remove(i); }
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => bytes[i] = byte,
                _ => {}
            }
            agree(&bytes);
        }

        /// Pretty-printed (whitespace around every token): the walk still reads what it reads
        /// compact.
        #[test]
        fn whitespace_changes_nothing(json in log_file()) {
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&json) {
                let pretty = serde_json::to_string_pretty(&value).expect("pretty");
                let compact = value.to_string();
                prop_assert_eq!(agree(pretty.as_bytes()), agree(compact.as_bytes()));
            }
        }
    }
}
