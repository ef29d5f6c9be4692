//! SigV2 evidence on S3 events: seen in the event, or inferred from the client's version.

use crate::record::{Identity, Record, S3EventData};

/// How we know a request was signed with SigV2.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Evidence {
    /// `additionalEventData.SignatureVersion` says SigV2.
    Observed,
    /// No `SignatureVersion` (events before 2019) and a client below its SigV4 minimum.
    Inferred,
}

impl Evidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Observed => "observed",
            Evidence::Inferred => "inferred",
        }
    }
}

/// `Some(Observed)` when the event itself says SigV2.
pub fn observed(data: &S3EventData<'_>) -> Option<Evidence> {
    data.signature_version
        .filter(|v| v.eq_ignore_ascii_case("SigV2"))
        .map(|_| Evidence::Observed)
}

/// SigV2 only ever worked in the regions launched before 2014 (docs/CLOUDTRAIL.md §3): anywhere
/// else even an old client signed with SigV4, so nothing can be inferred there.
pub const SIGV2_REGIONS: [&str; 8] = [
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
];

pub fn region_accepted_sigv2(region: &str) -> bool {
    SIGV2_REGIONS.contains(&region)
}

/// 2020-01-01T00:00:00Z. S3 has logged `SignatureVersion` on every event since early 2019
/// (AWS's own examples carry it from February 2019). A later event without it was not
/// signed (anonymous) or not logged by a client: inferring SigV2 there would only add false
/// answers. The cut errs late so that no event of the first months of 2019 is missed.
pub const SIGNATURE_VERSION_LOGGED_BY: i64 = 1_577_836_800;

/// True for an S3 event that cannot say how it was signed: no `SignatureVersion`, from before
/// S3 logged it. Only these are candidates for inferred SigV2.
pub fn predates_signature_logging(r: &Record<'_>) -> bool {
    r.s3.signature_version.is_none() && r.event_time < SIGNATURE_VERSION_LOGGED_BY
}

/// Anonymous requests carry no signature at all (`accountId: ANONYMOUS_PRINCIPAL`).
pub fn is_anonymous(id: &Identity<'_>) -> bool {
    id.account_id == Some("ANONYMOUS_PRINCIPAL")
}

/// True when an event that predates `SignatureVersion` may be inferred SigV2 once its client
/// is known to be below the SigV4 minimum: signed, with an agent, in a region that took SigV2.
pub fn may_infer(r: &Record<'_>) -> bool {
    r.user_agent.is_some()
        && r.aws_region.is_some_and(region_accepted_sigv2)
        && !is_anonymous(&r.identity)
}

/// `AuthenticationMethod = QueryString`: a presigned URL. The principal is whoever signed the
/// URL; the user agent is whatever fetched it (a browser, curl), not the signer.
pub fn is_presigned(auth_method: Option<&str>) -> bool {
    auth_method.is_some_and(|m| m.eq_ignore_ascii_case("QueryString"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regions_launched_before_2014_took_sigv2() {
        for r in ["us-east-1", "sa-east-1", "ap-northeast-1", "eu-west-1"] {
            assert!(region_accepted_sigv2(r), "{r}");
        }
        for r in [
            "eu-central-1",
            "us-east-2",
            "ap-northeast-2",
            "eu-west-2",
            "",
        ] {
            assert!(!region_accepted_sigv2(r), "{r}");
        }
    }

    #[test]
    fn only_old_events_without_a_signature_version_are_candidates() {
        let old = Record {
            event_time: 1_500_000_000, // 2017
            ..Record::default()
        };
        assert!(predates_signature_logging(&old));
        let signed = Record {
            s3: S3EventData {
                signature_version: Some("SigV4"),
                ..S3EventData::default()
            },
            ..old
        };
        assert!(!predates_signature_logging(&signed));
        let recent = Record {
            event_time: 1_700_000_000, // 2023
            ..Record::default()
        };
        assert!(!predates_signature_logging(&recent));
    }

    #[test]
    fn anonymous_and_agentless_requests_are_never_inferred() {
        let mut r = Record {
            user_agent: Some("[aws-cli/1.10.1]"),
            aws_region: Some("us-east-1"),
            ..Record::default()
        };
        assert!(may_infer(&r));
        r.identity.account_id = Some("ANONYMOUS_PRINCIPAL");
        assert!(!may_infer(&r));
        r.identity.account_id = None;
        r.aws_region = Some("eu-central-1");
        assert!(!may_infer(&r));
        r.aws_region = Some("us-east-1");
        r.user_agent = None;
        assert!(!may_infer(&r));
    }

    #[test]
    fn query_string_authentication_is_a_presigned_url() {
        assert!(is_presigned(Some("QueryString")));
        assert!(!is_presigned(Some("AuthHeader")));
        assert!(!is_presigned(None));
    }
}
