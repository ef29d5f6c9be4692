//! Record writers: one CloudTrail record per call, written as bytes into a reused buffer.

mod kms;
pub(super) mod mgmt;
mod s3;

use super::clients::{Sig, Tls};
use super::identities::{Ident, Principal};
use super::json::{HEX_UPPER, lit, put_hex, put_octet_ip, put_uuid};
use super::rng::Rng;
use super::time::{HOUR, put_time};
use super::{Account, Stream, World};
use kms::{kms_bi, kms_cloudtrail, kms_direct, kms_via_s3};
use mgmt::mgmt;
use s3::s3_data;

/// What one record's writer put in it, as far as the truth is concerned.
#[derive(Debug, Clone, Copy)]
pub(super) struct Facts {
    pub(super) principal: u16,
    pub(super) source: Source,
    pub(super) name: &'static str,
    /// eventCategory "Data".
    pub(super) data: bool,
    /// additionalEventData.SignatureVersion, when logged.
    pub(super) sig: Option<Sig>,
    /// userAgent as the client sent it (S3 writes it in brackets), by pool id.
    pub(super) ua: Option<u16>,
    pub(super) tls: Option<Tls>,
    pub(super) throttled: bool,
    /// Bucket of encryptionContext."aws:s3:arn".
    pub(super) s3_arn_bucket: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Kms,
    S3,
    Other,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
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
pub(super) const KIND_MIX: &[(Kind, u32)] = &[
    (Kind::KmsViaS3, 3_050),
    (Kind::KmsDirect, 1_050),
    (Kind::KmsCloudTrail, 150),
    (Kind::KmsBi, 50),
    (Kind::S3Data, 3_600),
    (Kind::Mgmt, 2_100),
];

/// Per-record context.
pub(super) struct Cx<'a> {
    pub(super) world: &'a World,
    pub(super) stream: &'a Stream,
    pub(super) account: &'a Account,
    pub(super) t: i64,
}

/// The output buffer and a scratch buffer for object keys, reused across records.
pub(super) struct Out {
    pub(super) buf: Vec<u8>,
    pub(super) key: Vec<u8>,
}

pub(super) fn write_record(o: &mut Out, rng: &mut Rng, cx: &Cx, kind: Kind) -> Facts {
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
