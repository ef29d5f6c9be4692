//! The merged accumulators as sorted rows with their strings resolved: the one place that
//! decides row order, shared by the Parquet writers and the report. Sorting on the resolved
//! values (not on interned ids, which depend on which worker saw a string first) is what
//! makes the files byte-identical whatever `--threads` is.

use std::collections::HashMap;

use crate::aggregate::rates::SecondCounts;
use crate::aggregate::{Accumulators, Tally};
use crate::attribute::kms::CallerKind;
use crate::attribute::sigv2::is_presigned;
use crate::attribute::{advice, sigv4, user_agent};

pub type Text<'a> = Option<&'a str>;

pub struct KmsCallRow<'a> {
    pub hour: i64,
    pub account_id: Text<'a>,
    pub region: Text<'a>,
    pub principal: Text<'a>,
    pub principal_type: Text<'a>,
    pub event_name: Text<'a>,
    pub key_arn: Text<'a>,
    pub via_service: Text<'a>,
    pub s3_bucket: Text<'a>,
    pub bucket_key: Option<bool>,
    pub error_code: Text<'a>,
    pub caller_kind: CallerKind,
    pub tally: Tally,
}

pub struct RateRow<'a> {
    pub hour: i64,
    pub account_id: Text<'a>,
    pub region: Text<'a>,
    /// `None` for the account-and-region scope.
    pub principal: Text<'a>,
    pub counts: &'a SecondCounts,
}

pub struct SigV2Row<'a> {
    pub hour: i64,
    pub account_id: Text<'a>,
    pub region: Text<'a>,
    pub principal: Text<'a>,
    pub principal_type: Text<'a>,
    pub user_agent: Text<'a>,
    pub ua_family: Text<'a>,
    pub ua_version: Text<'a>,
    pub event_name: Text<'a>,
    pub bucket: Text<'a>,
    pub source_ip: Text<'a>,
    pub auth_method: Text<'a>,
    pub evidence: &'static str,
    pub tally: Tally,
    pub client: ClientFacts,
}

/// What a row's user agent means for its owner: derived from the agent, the same for every
/// row that shares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFacts {
    /// `ua_kind`: sdk, cli, console, aws_service, browser, http_client, unknown; null when no
    /// agent was logged.
    pub ua_kind: Text<'static>,
    /// `sigv4_min_version`: filled for every family of the SigV4 table.
    pub sigv4_min_version: Text<'static>,
    /// `upgrade_advice`: what to change, in one sentence.
    pub upgrade_advice: String,
}

/// Derives [`ClientFacts`] once per distinct agent (and, for SigV2, authentication method).
#[derive(Default)]
struct ClientFactsCache<'a> {
    sigv2: HashMap<(Text<'a>, Text<'a>, Text<'a>, bool), ClientFacts>,
    tls: HashMap<(Text<'a>, Text<'a>, Text<'a>), ClientFacts>,
}

impl<'a> ClientFactsCache<'a> {
    fn kind(agent: Text<'_>) -> Text<'static> {
        agent.map(|ua| user_agent::parse(ua).kind.as_str())
    }

    fn min(family: Text<'_>, version: Text<'_>) -> Text<'static> {
        family.and_then(|f| sigv4::sigv4_min_version(f, version))
    }

    fn sigv2(
        &mut self,
        agent: Text<'a>,
        family: Text<'a>,
        version: Text<'a>,
        auth: Text<'a>,
    ) -> ClientFacts {
        let presigned = is_presigned(auth);
        self.sigv2
            .entry((agent, family, version, presigned))
            .or_insert_with(|| ClientFacts {
                ua_kind: Self::kind(agent),
                sigv4_min_version: Self::min(family, version),
                upgrade_advice: advice::sigv2_advice(agent, auth),
            })
            .clone()
    }

    fn tls(&mut self, agent: Text<'a>, family: Text<'a>, version: Text<'a>) -> ClientFacts {
        self.tls
            .entry((agent, family, version))
            .or_insert_with(|| ClientFacts {
                ua_kind: Self::kind(agent),
                sigv4_min_version: Self::min(family, version),
                upgrade_advice: advice::tls_advice(agent),
            })
            .clone()
    }
}

pub struct TlsRow<'a> {
    pub hour: i64,
    pub account_id: Text<'a>,
    pub region: Text<'a>,
    pub event_source: Text<'a>,
    pub principal: Text<'a>,
    pub principal_type: Text<'a>,
    pub user_agent: Text<'a>,
    pub ua_family: Text<'a>,
    pub ua_version: Text<'a>,
    pub tls_version: Text<'a>,
    pub cipher_suite: Text<'a>,
    pub source_ip: Text<'a>,
    pub tally: Tally,
    pub client: ClientFacts,
}

pub struct Rows<'a> {
    pub kms_calls: Vec<KmsCallRow<'a>>,
    pub kms_rates: Vec<RateRow<'a>>,
    pub sigv2: Vec<SigV2Row<'a>>,
    pub tls: Vec<TlsRow<'a>>,
}

impl<'a> Rows<'a> {
    pub fn from(acc: &'a Accumulators) -> Rows<'a> {
        let s = |id| acc.strings.resolve(id);
        let mut facts = ClientFactsCache::default();
        let mut kms_calls: Vec<_> = acc
            .kms_calls
            .iter()
            .map(|(k, &tally)| KmsCallRow {
                hour: k.hour,
                account_id: s(k.account_id),
                region: s(k.region),
                principal: s(k.principal),
                principal_type: s(k.principal_type),
                event_name: s(k.event_name),
                key_arn: s(k.key_arn),
                via_service: s(k.via_service),
                s3_bucket: s(k.s3_bucket),
                bucket_key: k.bucket_key,
                error_code: s(k.error_code),
                caller_kind: k.caller_kind,
                tally,
            })
            .collect();
        kms_calls.sort_unstable_by(|a, b| {
            (
                a.hour,
                a.account_id,
                a.region,
                a.principal,
                a.principal_type,
                a.event_name,
                a.key_arn,
                a.via_service,
                a.s3_bucket,
                a.bucket_key,
                a.error_code,
                a.caller_kind,
            )
                .cmp(&(
                    b.hour,
                    b.account_id,
                    b.region,
                    b.principal,
                    b.principal_type,
                    b.event_name,
                    b.key_arn,
                    b.via_service,
                    b.s3_bucket,
                    b.bucket_key,
                    b.error_code,
                    b.caller_kind,
                ))
        });

        let mut kms_rates: Vec<_> = acc
            .kms_rates
            .iter()
            .map(|(k, counts)| RateRow {
                hour: k.hour,
                account_id: s(k.account_id),
                region: s(k.region),
                principal: s(k.principal),
                counts,
            })
            .collect();
        // Account-and-region rows first within an hour, then principals by name.
        kms_rates.sort_unstable_by(|a, b| {
            (
                a.hour,
                a.account_id,
                a.region,
                a.principal.is_some(),
                a.principal,
            )
                .cmp(&(
                    b.hour,
                    b.account_id,
                    b.region,
                    b.principal.is_some(),
                    b.principal,
                ))
        });

        let mut sigv2: Vec<_> = acc
            .sigv2
            .iter()
            .map(|(k, &tally)| SigV2Row {
                hour: k.hour,
                account_id: s(k.account_id),
                region: s(k.region),
                principal: s(k.principal),
                principal_type: s(k.principal_type),
                user_agent: s(k.user_agent),
                ua_family: s(k.ua_family),
                ua_version: s(k.ua_version),
                event_name: s(k.event_name),
                bucket: s(k.bucket),
                source_ip: s(k.source_ip),
                auth_method: s(k.auth_method),
                evidence: k.evidence.as_str(),
                tally,
                client: facts.sigv2(
                    s(k.user_agent),
                    s(k.ua_family),
                    s(k.ua_version),
                    s(k.auth_method),
                ),
            })
            .collect();
        sigv2.sort_unstable_by(|a, b| {
            (
                a.hour,
                a.account_id,
                a.region,
                a.principal,
                a.principal_type,
                a.user_agent,
                a.event_name,
                a.bucket,
                a.source_ip,
                a.auth_method,
                a.evidence,
            )
                .cmp(&(
                    b.hour,
                    b.account_id,
                    b.region,
                    b.principal,
                    b.principal_type,
                    b.user_agent,
                    b.event_name,
                    b.bucket,
                    b.source_ip,
                    b.auth_method,
                    b.evidence,
                ))
        });

        let mut tls: Vec<_> = acc
            .tls
            .iter()
            .map(|(k, &tally)| TlsRow {
                hour: k.hour,
                account_id: s(k.account_id),
                region: s(k.region),
                event_source: s(k.event_source),
                principal: s(k.principal),
                principal_type: s(k.principal_type),
                user_agent: s(k.user_agent),
                ua_family: s(k.ua_family),
                ua_version: s(k.ua_version),
                tls_version: s(k.tls_version),
                cipher_suite: s(k.cipher_suite),
                source_ip: s(k.source_ip),
                tally,
                client: facts.tls(s(k.user_agent), s(k.ua_family), s(k.ua_version)),
            })
            .collect();
        tls.sort_unstable_by(|a, b| {
            (
                a.hour,
                a.account_id,
                a.region,
                a.event_source,
                a.principal,
                a.principal_type,
                a.user_agent,
                a.tls_version,
                a.cipher_suite,
                a.source_ip,
            )
                .cmp(&(
                    b.hour,
                    b.account_id,
                    b.region,
                    b.event_source,
                    b.principal,
                    b.principal_type,
                    b.user_agent,
                    b.tls_version,
                    b.cipher_suite,
                    b.source_ip,
                ))
        });
        Rows {
            kms_calls,
            kms_rates,
            sigv2,
            tls,
        }
    }
}
