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

/// The regions whose S3 endpoints ever accepted SigV2 (docs/CLOUDTRAIL.md §3): anywhere else
/// even an old client signed with SigV4, so nothing can be inferred there. The list is the
/// one AWS's own SDKs carry: aws-sdk-ruby v2 `V2_REGIONS` in
/// aws-sdk-core/lib/aws-sdk-core/plugins/s3_request_signer.rb ("List of regions that support
/// older S3 signature versions. All new regions only support signature version 4"), and
/// aws-sdk-js v2 lib/region_config_data.json (`"us-gov-west-1/s3": "s3signature"` beside the
/// seven other regions, and us-east-1 with `"signatureVersion": "s3"`). AWS's S3 endpoint
/// table (https://docs.aws.amazon.com/general/latest/gr/s3.html) lists the signature
/// versions of the commercial regions; AWS GovCloud (US-West), launched in 2011, is the one
/// region outside it.
pub const SIGV2_REGIONS: [&str; 9] = [
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
    "us-gov-west-1",
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

/// How the SigV2 signature reached S3 (`additionalEventData.AuthenticationMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signing {
    /// `AuthHeader` (or not logged): the client that sent the request signed it.
    Header,
    /// `QueryString`: a presigned URL. The principal is whoever signed the URL; the user
    /// agent is whatever fetched it (a browser, curl), not the signer.
    PresignedUrl,
    /// `HttpPost`: a browser-based POST upload. The principal signed the POST policy (for
    /// instance with botocore's generate_presigned_post); the agent is the browser or tool
    /// that sent the form. S3 tells the three apart for policies too: the `s3:authType`
    /// condition key is REST-HEADER, REST-QUERY-STRING or POST
    /// (https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html).
    PostPolicy,
}

impl Signing {
    pub fn of(auth_method: Option<&str>) -> Signing {
        match auth_method {
            Some(m) if m.eq_ignore_ascii_case("QueryString") => Signing::PresignedUrl,
            Some(m) if m.eq_ignore_ascii_case("HttpPost") => Signing::PostPolicy,
            _ => Signing::Header,
        }
    }

    /// True when the agent is not the signer's (a presigned URL or a POST form).
    pub fn signed_elsewhere(self) -> bool {
        self != Signing::Header
    }
}

/// Where aws-sdk-ruby v2 signs an S3 request with SigV2 by default, from its S3 signer
/// (`Aws::Plugins::S3RequestSigner::SigningHandler`, aws-sdk-core/lib/aws-sdk-core/plugins/
/// s3_request_signer.rb in aws/aws-sdk-ruby v2): without a `signature_version` option,
/// a client of us-east-1 (the classic endpoint) signs every request with SigV2 except
/// SSE-KMS uploads; a client of another region of `V2_REGIONS` signs SigV2 only
/// `put_object` and `upload_part` with a body (and no SSE-KMS); everywhere else it signs
/// with SigV4. The record's region is the bucket's, so a GetObject in us-west-2 by a client
/// configured for us-east-1 is missed: inference stays on the side of not claiming SigV2.
pub fn ruby_v2_signs_sigv2(region: Option<&str>, event_name: Option<&str>) -> bool {
    match region {
        Some("us-east-1") => true,
        Some(r) if region_accepted_sigv2(r) => {
            matches!(event_name, Some("PutObject") | Some("UploadPart"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regions_launched_before_2014_took_sigv2() {
        for r in [
            "us-east-1",
            "sa-east-1",
            "ap-northeast-1",
            "eu-west-1",
            "us-gov-west-1",
        ] {
            assert!(region_accepted_sigv2(r), "{r}");
        }
        for r in [
            "eu-central-1",
            "us-east-2",
            "ap-northeast-2",
            "eu-west-2",
            "us-gov-east-1",
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
    fn query_string_authentication_is_a_presigned_url_and_http_post_a_form() {
        assert_eq!(Signing::of(Some("QueryString")), Signing::PresignedUrl);
        assert_eq!(Signing::of(Some("HttpPost")), Signing::PostPolicy);
        assert_eq!(Signing::of(Some("httppost")), Signing::PostPolicy);
        assert_eq!(Signing::of(Some("AuthHeader")), Signing::Header);
        assert_eq!(Signing::of(None), Signing::Header);
        assert!(Signing::PostPolicy.signed_elsewhere() && !Signing::Header.signed_elsewhere());
    }

    #[test]
    fn ruby_v2_signs_sigv2_in_us_east_1_and_uploads_elsewhere_where_accepted() {
        assert!(ruby_v2_signs_sigv2(Some("us-east-1"), Some("GetObject")));
        assert!(ruby_v2_signs_sigv2(Some("us-east-1"), Some("ListObjects")));
        assert!(ruby_v2_signs_sigv2(Some("eu-west-1"), Some("PutObject")));
        assert!(ruby_v2_signs_sigv2(Some("us-west-2"), Some("UploadPart")));
        assert!(ruby_v2_signs_sigv2(
            Some("us-gov-west-1"),
            Some("PutObject")
        ));
        assert!(!ruby_v2_signs_sigv2(Some("eu-west-1"), Some("GetObject")));
        assert!(!ruby_v2_signs_sigv2(
            Some("us-west-2"),
            Some("DeleteObject")
        ));
        assert!(!ruby_v2_signs_sigv2(
            Some("eu-central-1"),
            Some("PutObject")
        ));
        assert!(!ruby_v2_signs_sigv2(None, Some("PutObject")));
    }
}
