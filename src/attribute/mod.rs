//! Attribution: who made a call, through which service, with which client. [`Attributor`]
//! turns a [`Record`] into an [`Attribution`] once per record; the tables only fold it, and
//! no table or output parses a user agent again.

pub mod advice;
pub mod client;
pub mod event_kind;
pub mod kms;
pub mod principal;
pub mod sigv2;
pub mod sigv4;
pub mod tls;
pub mod user_agent;

use rustc_hash::FxHashMap;

use crate::record::Record;
use crate::time::hour_of;
use client::Client;
use event_kind::EventKind;
use kms::QuotaClass;
use sigv2::Evidence;

/// What a KMS call was: the facts `kms_calls`, `kms_rates` and the caching table fold.
#[derive(Debug, Clone, Copy)]
pub struct KmsFacts<'a> {
    /// The key's ARN (from `resources`), else the `keyId` the caller named.
    pub key_arn: Option<&'a str>,
    /// The key owner's account, from the key ARN (`key_account_id`).
    pub key_account_id: Option<&'a str>,
    /// The AWS service that called KMS for the principal (principal::via_service).
    pub via_service: Option<&'a str>,
    /// The bucket an SSE-KMS call served, and whether its context names the bucket (S3
    /// Bucket Key on) rather than the object.
    pub s3_bucket: Option<(&'a str, bool)>,
    pub caller_kind: kms::CallerKind,
    /// The request quota the call counts against (`kms_rates.quota_class`); `None` for
    /// operations outside the cryptographic quotas.
    pub quota_class: Option<QuotaClass>,
    /// The custom key store whose own quota the call also counts against.
    pub custom_key_store: Option<&'a str>,
    pub throttled: bool,
    /// What a data key cache would key on (`kms_data_key_caching`): the operation and the
    /// encryption context fingerprint of a direct GenerateDataKey* or Decrypt call; `None` for
    /// every other call.
    pub cacheable_context: Option<(kms::CacheOperation, u64)>,
}

/// The S3 request of a record: how it was signed, when that is SigV2.
#[derive(Debug, Clone, Copy)]
pub struct SigV2Facts<'a> {
    pub evidence: Evidence,
    pub bucket: Option<&'a str>,
    pub auth_method: Option<&'a str>,
}

/// A network activity event: a call seen at a VPC endpoint, logged beside the call itself
/// (attribute::event_kind).
#[derive(Debug, Clone, Copy)]
pub struct VpceFacts<'a> {
    pub endpoint_id: Option<&'a str>,
    pub endpoint_account_id: Option<&'a str>,
}

/// The logged agent (without S3's brackets; an empty agent is unknown) and what it means.
#[derive(Debug, Clone, Copy)]
pub struct ClientRef<'a> {
    pub user_agent: Option<&'a str>,
    pub client: &'a Client,
}

/// Who made a call and what it was, decided once per record.
#[derive(Debug, Clone, Copy)]
pub struct Attribution<'a> {
    pub event_time: i64,
    /// Start of the hour of `event_time`.
    pub hour: i64,
    pub event_source: &'a str,
    pub event_name: Option<&'a str>,
    pub error_code: Option<&'a str>,
    pub source_ip: Option<&'a str>,
    /// The account of the record: for KMS calls the caller's (principal::caller_account_id:
    /// the account KMS throttles and bills), else the one whose trail holds it
    /// (principal::account_id).
    pub account_id: Option<&'a str>,
    /// `userIdentity.accountId`: the account of the credentials that made the call.
    pub caller_account_id: Option<&'a str>,
    pub region: Option<&'a str>,
    /// The principal the call is charged to (principal::principal), rendered; empty when
    /// the record feeds no table.
    pub principal: &'a str,
    pub principal_type: Option<&'a str>,
    /// The session of the principal (principal::session_name), for the sessions columns.
    pub session: Option<&'a str>,
    /// `userIdentity.accessKeyId`; an empty one is unknown.
    pub access_key_id: Option<&'a str>,
    pub kind: EventKind,
    /// `readOnly` is true (or the record is a cryptographic KMS call, all read-only).
    pub read_only: bool,
    pub is_s3: bool,
    /// An S3 data event (`eventCategory: Data`).
    pub is_s3_data: bool,
    /// An S3 record from before S3 logged `SignatureVersion`.
    pub before_signature_logging: bool,
    pub kms: Option<KmsFacts<'a>>,
    pub sigv2: Option<SigV2Facts<'a>>,
    pub vpce: Option<VpceFacts<'a>>,
    /// The bucket of an S3 write logged with DSSE-KMS (`x-amz-server-side-encryption:
    /// aws:kms:dsse`): S3 Bucket Keys are not supported for it (`kms_bucket_keys`).
    pub dsse_bucket: Option<&'a str>,
    /// `tlsDetails.tlsVersion` when older than TLS 1.2.
    pub legacy_tls: Option<&'a str>,
    /// `tlsDetails.cipherSuite`, else S3's `additionalEventData.CipherSuite`.
    pub cipher_suite: Option<&'a str>,
    /// Set when a table needs the client (SigV2 or legacy TLS).
    pub client: Option<ClientRef<'a>>,
}

impl Attribution<'_> {
    /// True when no table keys on this record (it still counts in summary.json).
    pub fn feeds_no_table(&self) -> bool {
        self.kms.is_none()
            && self.sigv2.is_none()
            && self.legacy_tls.is_none()
            && self.vpce.is_none()
            && self.dsse_bucket.is_none()
    }
}

/// Attributes records; holds what is worth computing once per distinct value: the clients
/// of the agents seen, and the buffer principals are rendered into.
#[derive(Debug, Default)]
pub struct Attributor {
    clients: FxHashMap<Box<str>, Client>,
    no_agent: Option<Client>,
    principal: String,
}

impl Attributor {
    pub fn attribute<'a>(&'a mut self, r: &Record<'a>) -> Attribution<'a> {
        let Attributor {
            clients,
            no_agent,
            principal,
        } = self;
        let kind = EventKind::of(r);
        // A network activity event repeats a call logged beside it, and a service event is
        // AWS acting on its own: neither is a request of the principal (event_kind).
        let is_call = kind == EventKind::ApiCall;
        let is_kms = r.is_kms() && is_call;
        let is_s3 = r.is_s3() && is_call;
        let agent = r
            .user_agent
            .map(user_agent::strip_brackets)
            .filter(|ua| !ua.is_empty());
        let before_signature_logging = is_s3 && sigv2::predates_signature_logging(r);
        let evidence = if is_s3 {
            sigv2::observed(&r.s3).or_else(|| {
                // Inferred only where the event cannot say, from a client below its SigV4
                // minimum where that client signs with SigV2 by default (parsed once per
                // distinct agent).
                let ua = agent.filter(|_| before_signature_logging && sigv2::may_infer(r))?;
                client_of(clients, ua)
                    .signs_sigv2_by_default(r.aws_region, r.event_name)
                    .then_some(Evidence::Inferred)
            })
        } else {
            None
        };
        let legacy_tls = r.tls.version.filter(|v| is_call && tls::is_legacy_tls(v));
        let client = (evidence.is_some() || legacy_tls.is_some()).then(|| ClientRef {
            user_agent: agent,
            client: match agent {
                Some(ua) => client_of(clients, ua),
                None => no_agent.get_or_insert_with(|| Client::of(None)),
            },
        });
        let kms = is_kms.then(|| kms_facts(r));
        let vpce = (kind == EventKind::NetworkActivity).then_some(VpceFacts {
            endpoint_id: r.vpc_endpoint_id,
            endpoint_account_id: r.vpc_endpoint_account_id,
        });
        // Rendered only for records a table keys on: most records feed none.
        let principal: &str = if kms.is_some() || client.is_some() || vpce.is_some() {
            principal::principal(&r.identity).render(principal)
        } else {
            ""
        };
        Attribution {
            event_time: r.event_time,
            hour: hour_of(r.event_time),
            event_source: r.event_source,
            event_name: r.event_name,
            error_code: r.error_code,
            source_ip: r.source_ip,
            account_id: if is_kms {
                principal::caller_account_id(r)
            } else {
                principal::account_id(r)
            },
            caller_account_id: r.identity.account_id,
            region: r.aws_region,
            principal,
            principal_type: r.identity.kind,
            session: principal::session_name(&r.identity),
            access_key_id: r.identity.access_key_id.filter(|k| !k.is_empty()),
            kind,
            read_only: r.read_only == Some(true) || kms.is_some_and(|k| k.quota_class.is_some()),
            is_s3,
            is_s3_data: is_s3 && r.event_category == Some("Data"),
            before_signature_logging,
            kms,
            vpce,
            sigv2: evidence.map(|evidence| SigV2Facts {
                evidence,
                bucket: r.request.bucket_name,
                auth_method: r.s3.authentication_method,
            }),
            dsse_bucket: r.request.bucket_name.filter(|_| {
                is_s3
                    && kms::is_dsse_kms(
                        r.request.server_side_encryption,
                        r.response_server_side_encryption,
                    )
            }),
            legacy_tls,
            cipher_suite: r.tls.cipher_suite.or(r.s3.cipher_suite),
            client,
        }
    }
}

/// The client of an agent, parsed the first time it is seen.
fn client_of<'c>(clients: &'c mut FxHashMap<Box<str>, Client>, ua: &str) -> &'c Client {
    if !clients.contains_key(ua) {
        clients.insert(Box::from(ua), Client::of(Some(ua)));
    }
    &clients[ua]
}

fn kms_facts<'a>(r: &Record<'a>) -> KmsFacts<'a> {
    let via_service = principal::via_service(r);
    let classes = r.event_name.and_then(|name| {
        kms::quota_classes(
            name,
            r.request.key_algorithm,
            r.custom_key_store_id.is_some(),
        )
    });
    let key_arn = kms::key_arn(r.kms_key_arn, r.request.key_id);
    KmsFacts {
        key_arn,
        key_account_id: key_arn.and_then(kms::key_account_of),
        via_service,
        s3_bucket: r.request.s3_arn.and_then(kms::s3_bucket_of),
        caller_kind: kms::CallerKind::of(via_service, r.request.cloudtrail_arn),
        quota_class: classes.map(|(class, _)| class),
        custom_key_store: classes
            .and_then(|(_, store)| store)
            .and(r.custom_key_store_id),
        throttled: r.error_code == Some(kms::THROTTLING_ERROR),
        cacheable_context: r
            .request
            .encryption_context_hash
            .filter(|_| via_service.is_none())
            .and_then(|h| Some((kms::CacheOperation::of(r.event_name?)?, h))),
    }
}
