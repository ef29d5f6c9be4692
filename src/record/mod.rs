//! The parsed view of one CloudTrail record: only the fields the analyses read, borrowed
//! from the decompressed buffer (simd-json unescapes strings in place, so `\/` and
//! `\u00e9` arrive as plain `&str`).
//!
//! Real records carry nulls, missing fields and odd types. A field of an unexpected type is
//! treated as unknown and counted (`odd_fields`), never a reason to drop the record; a record
//! is malformed only when it lacks what every analysis needs: a time and a source.

use simd_json::prelude::*;
use simd_json::tape::Value;

pub mod encryption_context;
pub mod walk;

use crate::time::parse_event_time;

/// Why a record could not be used at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Malformed {
    NotAnObject,
    MissingEventTime,
    InvalidEventTime,
    MissingEventSource,
}

impl Malformed {
    pub fn reason(self) -> &'static str {
        match self {
            Malformed::NotAnObject => "record is not a JSON object",
            Malformed::MissingEventTime => "eventTime missing or not a string",
            Malformed::InvalidEventTime => {
                "eventTime is not a UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)"
            }
            Malformed::MissingEventSource => "eventSource missing or not a string",
        }
    }
}

/// `userIdentity`, reduced to what attribution needs.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Identity<'a> {
    pub kind: Option<&'a str>,
    pub arn: Option<&'a str>,
    pub account_id: Option<&'a str>,
    pub invoked_by: Option<&'a str>,
    pub session_issuer_arn: Option<&'a str>,
    /// `principalId`: for `AWSAccount` callers the only name of who called (the unique id of
    /// a role or user, `AROA...:session` for a role session).
    pub principal_id: Option<&'a str>,
    /// `accessKeyId`: `AKIA...` a long-term key (the classic SigV2 caller), `ASIA...`
    /// temporary credentials.
    pub access_key_id: Option<&'a str>,
    /// `onBehalfOf.userId` and `.identityStoreArn` of an `IdentityCenterUser`.
    pub on_behalf_of_user_id: Option<&'a str>,
    pub identity_store_arn: Option<&'a str>,
}

/// The few `requestParameters` the KMS and S3 analyses read.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct RequestFacts<'a> {
    pub bucket_name: Option<&'a str>,
    pub key_id: Option<&'a str>,
    /// `encryptionContext."aws:s3:arn"`: object ARN (no Bucket Key) or bucket ARN.
    pub s3_arn: Option<&'a str>,
    /// `encryptionContext."aws:cloudtrail:arn"`: CloudTrail encrypting its own logs.
    pub cloudtrail_arn: Option<&'a str>,
    /// Fingerprint of the whole `encryptionContext` (attribute::encryption_context), computed
    /// only for the calls a data key cache serves (`fingerprints_encryption_context`): the data
    /// key caching analysis groups by it.
    pub encryption_context_hash: Option<u64>,
    /// What tells a KMS call's key type, and so its request quota (attribute::kms::QuotaClass):
    /// `encryptionAlgorithm` (Encrypt, Decrypt), `sourceEncryptionAlgorithm` (ReEncrypt),
    /// `signingAlgorithm` (Sign, Verify) or `keyPairSpec` (GenerateDataKeyPair*).
    pub key_algorithm: Option<&'a str>,
    /// S3's `x-amz-server-side-encryption` request header, as S3 logs it in
    /// `requestParameters` (S3 data events).
    pub server_side_encryption: Option<&'a str>,
}

/// S3's `additionalEventData`, keys matched case-insensitively (`cipherSuite` is seen).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct S3EventData<'a> {
    pub signature_version: Option<&'a str>,
    pub authentication_method: Option<&'a str>,
    pub cipher_suite: Option<&'a str>,
}

/// `tlsDetails`.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct TlsDetails<'a> {
    pub version: Option<&'a str>,
    pub cipher_suite: Option<&'a str>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Record<'a> {
    /// Epoch seconds.
    pub event_time: i64,
    pub event_source: &'a str,
    pub event_name: Option<&'a str>,
    pub aws_region: Option<&'a str>,
    pub recipient_account_id: Option<&'a str>,
    pub source_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub error_code: Option<&'a str>,
    pub event_id: Option<&'a str>,
    pub shared_event_id: Option<&'a str>,
    pub event_category: Option<&'a str>,
    /// `eventType`: `AwsApiCall`, `AwsServiceEvent`, `AwsVpceEvent`, ... (attribute::event_kind).
    pub event_type: Option<&'a str>,
    /// `readOnly`; `None` when absent or not a boolean.
    pub read_only: Option<bool>,
    /// `vpcEndpointId` and `vpcEndpointAccountId`: the VPC endpoint a call went through.
    pub vpc_endpoint_id: Option<&'a str>,
    pub vpc_endpoint_account_id: Option<&'a str>,
    /// KMS's `additionalEventData.customKeyStoreId`: the key is in a custom key store.
    pub custom_key_store_id: Option<&'a str>,
    pub identity: Identity<'a>,
    pub request: RequestFacts<'a>,
    pub s3: S3EventData<'a>,
    pub tls: TlsDetails<'a>,
    /// `resources[].ARN` of the `AWS::KMS::Key` resource.
    pub kms_key_arn: Option<&'a str>,
    /// S3's `x-amz-server-side-encryption` response header in `responseElements`: the
    /// encryption S3 stored a written object with, also when the bucket's default chose it.
    pub response_server_side_encryption: Option<&'a str>,
    /// Fields the analyses read that had an unexpected JSON type (read as unknown).
    pub odd_fields: u32,
}

pub const KMS_SOURCE: &str = "kms.amazonaws.com";

/// KMS calls that return a new data key, the ones a data key cache (AWS Encryption SDK)
/// serves on encryption. Data key *pairs* are left out: the Encryption SDK does not cache
/// them.
pub fn is_data_key_generation(event_name: &str) -> bool {
    matches!(
        event_name,
        "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext"
    )
}

/// KMS calls whose encryption context is fingerprinted while the record is parsed (the
/// context is gone once the buffer is reused): data key generation, and `Decrypt`, since the
/// Encryption SDK's caching CMM caches decryption materials too (attribute::kms::CacheOperation).
pub fn fingerprints_encryption_context(event_name: &str) -> bool {
    is_data_key_generation(event_name) || event_name == "Decrypt"
}

/// The `x-amz-server-side-encryption` header name, as S3 logs it.
pub const SSE_HEADER: &str = "x-amz-server-side-encryption";
pub const S3_SOURCE: &str = "s3.amazonaws.com";

/// Reads a boolean field (`readOnly`); old records write it as a string (`"true"`).
fn boolean(v: Value<'_, '_>, odd: &mut u32) -> Option<bool> {
    if let Some(b) = v.as_bool() {
        return Some(b);
    }
    match v.into_string() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => {
            if !v.is_null() {
                *odd += 1;
            }
            None
        }
    }
}

/// Reads a string field; null or absent is unknown, any other type is unknown *and odd*.
fn string<'a>(v: Value<'_, 'a>, odd: &mut u32) -> Option<&'a str> {
    match v.into_string() {
        Some(s) => Some(s),
        None => {
            if !v.is_null() {
                *odd += 1;
            }
            None
        }
    }
}

impl<'a> Record<'a> {
    /// Extracts the record from its place on the tape, in one pass over its top-level keys.
    pub fn from_tape(v: Value<'_, 'a>) -> Result<Record<'a>, Malformed> {
        let obj = v.as_object().ok_or(Malformed::NotAnObject)?;
        let mut r = Record::default();
        let mut event_time = None;
        let mut event_source = None;
        let mut request_parameters = None;
        let mut additional = None;
        let mut response = None;
        let mut resources = None;
        let odd = &mut r.odd_fields;
        for (key, value) in obj.iter() {
            match key {
                "eventTime" => event_time = Some(value),
                "eventSource" => event_source = string(value, odd),
                "eventName" => r.event_name = string(value, odd),
                "awsRegion" => r.aws_region = string(value, odd),
                "recipientAccountId" => r.recipient_account_id = string(value, odd),
                "sourceIPAddress" => r.source_ip = string(value, odd),
                "userAgent" => r.user_agent = string(value, odd),
                "errorCode" => r.error_code = string(value, odd),
                "eventID" => r.event_id = string(value, odd),
                "sharedEventID" => r.shared_event_id = string(value, odd),
                "eventCategory" => r.event_category = string(value, odd),
                "eventType" => r.event_type = string(value, odd),
                "readOnly" => r.read_only = boolean(value, odd),
                "vpcEndpointId" => r.vpc_endpoint_id = string(value, odd),
                "vpcEndpointAccountId" => r.vpc_endpoint_account_id = string(value, odd),
                "userIdentity" => r.identity = identity(value, odd),
                "tlsDetails" => r.tls = tls_details(value, odd),
                // Read after the loop, once eventSource says whether they matter.
                "requestParameters" => request_parameters = Some(value),
                "additionalEventData" => additional = Some(value),
                "responseElements" => response = Some(value),
                "resources" => resources = Some(value),
                _ => {}
            }
        }
        let event_time = event_time
            .and_then(|v| v.into_string())
            .ok_or(Malformed::MissingEventTime)?;
        r.event_time = parse_event_time(event_time).ok_or(Malformed::InvalidEventTime)?;
        r.event_source = event_source.ok_or(Malformed::MissingEventSource)?;
        let odd = &mut r.odd_fields;
        match r.event_source {
            KMS_SOURCE => {
                if let Some(p) = request_parameters {
                    r.request = request_facts(p, odd);
                    if r.event_name.is_some_and(fingerprints_encryption_context) {
                        r.request.encryption_context_hash =
                            Some(encryption_context::hash(p.get("encryptionContext")));
                    }
                }
                if let Some(res) = resources {
                    r.kms_key_arn = kms_key_arn(res);
                }
                if let Some(a) = additional {
                    r.custom_key_store_id = a.get("customKeyStoreId").and_then(|v| string(v, odd));
                }
            }
            S3_SOURCE => {
                if let Some(p) = request_parameters {
                    r.request = request_facts(p, odd);
                }
                if let Some(a) = additional {
                    r.s3 = s3_event_data(a, odd);
                }
                if let Some(resp) = response {
                    r.response_server_side_encryption = server_side_encryption(resp, odd);
                }
            }
            _ => {}
        }
        Ok(r)
    }

    pub fn is_kms(&self) -> bool {
        self.event_source == KMS_SOURCE
    }

    pub fn is_s3(&self) -> bool {
        self.event_source == S3_SOURCE
    }
}

fn identity<'a>(v: Value<'_, 'a>, odd: &mut u32) -> Identity<'a> {
    let mut id = Identity::default();
    let Some(obj) = v.as_object() else {
        if !v.is_null() {
            *odd += 1;
        }
        return id;
    };
    for (key, value) in obj.iter() {
        match key {
            "type" => id.kind = string(value, odd),
            "arn" => id.arn = string(value, odd),
            "accountId" => id.account_id = string(value, odd),
            "invokedBy" => id.invoked_by = string(value, odd),
            "principalId" => id.principal_id = string(value, odd),
            "accessKeyId" => id.access_key_id = string(value, odd),
            "onBehalfOf" => {
                if let Some(on_behalf) = value.as_object() {
                    for (k, v) in on_behalf.iter() {
                        match k {
                            "userId" => id.on_behalf_of_user_id = string(v, odd),
                            "identityStoreArn" => id.identity_store_arn = string(v, odd),
                            _ => {}
                        }
                    }
                }
            }
            "sessionContext" => {
                id.session_issuer_arn = value
                    .get("sessionIssuer")
                    .and_then(|issuer| issuer.get("arn"))
                    .and_then(|arn| string(arn, odd))
                    .filter(|arn| !arn.is_empty());
            }
            _ => {}
        }
    }
    id
}

fn tls_details<'a>(v: Value<'_, 'a>, odd: &mut u32) -> TlsDetails<'a> {
    TlsDetails {
        version: v.get("tlsVersion").and_then(|x| string(x, odd)),
        cipher_suite: v.get("cipherSuite").and_then(|x| string(x, odd)),
    }
}

fn request_facts<'a>(v: Value<'_, 'a>, odd: &mut u32) -> RequestFacts<'a> {
    let mut facts = RequestFacts::default();
    let Some(obj) = v.as_object() else {
        return facts;
    };
    for (key, value) in obj.iter() {
        match key {
            "bucketName" => facts.bucket_name = string(value, odd),
            "keyId" => facts.key_id = string(value, odd),
            "encryptionAlgorithm" | "signingAlgorithm" | "keyPairSpec" => {
                facts.key_algorithm = string(value, odd)
            }
            "sourceEncryptionAlgorithm" => {
                facts.key_algorithm = facts.key_algorithm.or(string(value, odd))
            }
            k if k.eq_ignore_ascii_case(SSE_HEADER) => {
                facts.server_side_encryption = string(value, odd)
            }
            "encryptionContext" => {
                if let Some(ctx) = value.as_object() {
                    for (k, v) in ctx.iter() {
                        match k {
                            "aws:s3:arn" => facts.s3_arn = string(v, odd),
                            "aws:cloudtrail:arn" => facts.cloudtrail_arn = string(v, odd),
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    facts
}

/// `x-amz-server-side-encryption` of S3's `responseElements` (null for most reads).
fn server_side_encryption<'a>(v: Value<'_, 'a>, odd: &mut u32) -> Option<&'a str> {
    let obj = v.as_object()?;
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(SSE_HEADER))
        .and_then(|(_, value)| string(value, odd))
}

fn s3_event_data<'a>(v: Value<'_, 'a>, odd: &mut u32) -> S3EventData<'a> {
    let mut data = S3EventData::default();
    let Some(obj) = v.as_object() else {
        return data;
    };
    for (key, value) in obj.iter() {
        if key.eq_ignore_ascii_case("SignatureVersion") {
            data.signature_version = string(value, odd);
        } else if key.eq_ignore_ascii_case("AuthenticationMethod") {
            data.authentication_method = string(value, odd);
        } else if key.eq_ignore_ascii_case("CipherSuite") {
            data.cipher_suite = string(value, odd);
        }
    }
    data
}

/// The KMS key among `resources[]`: the element typed `AWS::KMS::Key`, or, in old records
/// without types, the first ARN that names a key.
fn kms_key_arn<'a>(v: Value<'_, 'a>) -> Option<&'a str> {
    let resources = v.as_array()?;
    let mut untyped = None;
    for res in resources.iter() {
        let arn = res.get("ARN").and_then(|a| a.into_string());
        match res.get("type").and_then(|t| t.into_string()) {
            Some("AWS::KMS::Key") => return arn,
            Some(_) => {}
            None => {
                if untyped.is_none() && arn.is_some_and(|a| a.contains(":key/")) {
                    untyped = arn;
                }
            }
        }
    }
    untyped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_record<T>(json: &str, f: impl FnOnce(Result<Record<'_>, Malformed>) -> T) -> T {
        let mut bytes = json.as_bytes().to_vec();
        let tape = simd_json::to_tape(&mut bytes).expect("valid json");
        f(Record::from_tape(tape.as_value()))
    }

    #[test]
    fn reads_escaped_strings_in_place() {
        let json = r#"{"eventTime":"2026-03-01T01:02:03Z","eventSource":"kms.amazonaws.com",
            "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role\/caf\u00e9\/s",
              "sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role\/caf\u00e9"}}},
            "requestParameters":{"encryptionContext":{"aws:s3:arn":"arn:aws:s3:::b\/k"}},
            "resources":[{"type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:1:key\/k1"}]}"#;
        with_record(json, |r| {
            let r = r.unwrap();
            assert_eq!(
                r.identity.session_issuer_arn,
                Some("arn:aws:iam::1:role/café")
            );
            assert_eq!(r.request.s3_arn, Some("arn:aws:s3:::b/k"));
            assert_eq!(r.kms_key_arn, Some("arn:aws:kms:us-east-1:1:key/k1"));
        });
    }

    #[test]
    fn odd_types_are_unknown_not_fatal() {
        let json = r#"{"eventTime":"2026-03-01T01:02:03Z","eventSource":"s3.amazonaws.com",
            "userAgent":42,"awsRegion":null,"userIdentity":"root",
            "additionalEventData":{"signatureVersion":"SigV2","cipherSuite":["x"]}}"#;
        with_record(json, |r| {
            let r = r.unwrap();
            assert_eq!(r.user_agent, None);
            assert_eq!(r.aws_region, None);
            assert_eq!(r.s3.signature_version, Some("SigV2"));
            assert_eq!(r.odd_fields, 3, "userAgent, userIdentity, cipherSuite");
        });
    }

    #[test]
    fn decrypt_contexts_are_fingerprinted_like_data_key_requests() {
        let call = |name: &str| {
            format!(
                r#"{{"eventTime":"2026-03-01T01:02:03Z","eventSource":"kms.amazonaws.com",
                "eventName":"{name}","requestParameters":{{"encryptionContext":{{"a":"1"}}}}}}"#
            )
        };
        let hash =
            |name: &str| with_record(&call(name), |r| r.unwrap().request.encryption_context_hash);
        assert!(hash("Decrypt").is_some());
        assert_eq!(hash("Decrypt"), hash("GenerateDataKey"));
        assert_eq!(hash("Encrypt"), None);
    }

    #[test]
    fn s3_server_side_encryption_is_read_from_request_and_response() {
        // Shaped like the S3 User Guide's CloudTrail PutObject example.
        let json = r#"{"eventTime":"2026-03-01T01:02:03Z","eventSource":"s3.amazonaws.com",
            "eventName":"PutObject","requestParameters":{"bucketName":"b","Key":"k",
              "x-amz-server-side-encryption":"aws:kms:dsse"},
            "responseElements":{"x-amz-version-id":"001","X-Amz-Server-Side-Encryption":"aws:kms:dsse"}}"#;
        with_record(json, |r| {
            let r = r.unwrap();
            assert_eq!(r.request.server_side_encryption, Some("aws:kms:dsse"));
            assert_eq!(r.response_server_side_encryption, Some("aws:kms:dsse"));
        });
        let read = r#"{"eventTime":"2026-03-01T01:02:03Z","eventSource":"s3.amazonaws.com",
            "eventName":"GetObject","requestParameters":{"bucketName":"b"},"responseElements":null}"#;
        with_record(read, |r| {
            let r = r.unwrap();
            assert_eq!(r.request.server_side_encryption, None);
            assert_eq!(r.response_server_side_encryption, None);
            assert_eq!(r.odd_fields, 0);
        });
    }

    #[test]
    fn records_without_time_or_source_are_malformed() {
        with_record("[1]", |r| {
            assert_eq!(r.unwrap_err(), Malformed::NotAnObject)
        });
        with_record(r#"{"eventSource":"x"}"#, |r| {
            assert_eq!(r.unwrap_err(), Malformed::MissingEventTime)
        });
        with_record(r#"{"eventTime":"yesterday","eventSource":"x"}"#, |r| {
            assert_eq!(r.unwrap_err(), Malformed::InvalidEventTime)
        });
        with_record(r#"{"eventTime":"2026-03-01T01:02:03Z"}"#, |r| {
            assert_eq!(r.unwrap_err(), Malformed::MissingEventSource)
        });
    }
}
