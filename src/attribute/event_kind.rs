//! Which records are requests. Not every CloudTrail record is an API call a principal made
//! (CloudTrail user guide, "CloudTrail record contents", `eventType`;
//! https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html):
//!
//! - `AwsVpceEvent` (`eventCategory: NetworkActivity`): a call seen at a VPC endpoint. It has
//!   an eventID of its own, and the call itself is logged beside it as an `AwsApiCall`
//!   ("Logging network activity events"), so counting it as a KMS call or an S3 request
//!   would count every such call twice. It is counted apart, by endpoint and outcome, in
//!   `vpc_endpoint_events.parquet`: an attempt the endpoint policy denied
//!   (`errorCode: VpceAccessDenied`) is a security finding.
//! - `AwsServiceEvent`: AWS acting on its own, such as the automatic rotation of a KMS key
//!   (KMS Developer Guide, "RotateKey" CloudTrail example). It is no request of the account:
//!   not billed, not throttled, never a SigV2 or TLS caller.
//! - Everything else (`AwsApiCall`, `AwsConsoleAction`, `AwsConsoleSignIn`, and old records
//!   without `eventType`) counts as a request.

use crate::record::Record;

/// What a record is, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    ApiCall,
    ServiceEvent,
    NetworkActivity,
}

/// `errorCode` of a network activity event whose call the VPC endpoint policy denied.
pub const VPCE_ACCESS_DENIED: &str = "VpceAccessDenied";

impl EventKind {
    pub fn of(r: &Record<'_>) -> EventKind {
        match r.event_type {
            Some("AwsVpceEvent") => EventKind::NetworkActivity,
            Some("AwsServiceEvent") => EventKind::ServiceEvent,
            // The category alone names a network activity event too.
            _ if r.event_category == Some("NetworkActivity") => EventKind::NetworkActivity,
            _ => EventKind::ApiCall,
        }
    }
}

/// The outcome of a call seen at a VPC endpoint: `allowed`, `denied` by the endpoint's
/// policy, or `error` for any other error.
pub fn vpce_outcome(error_code: Option<&str>) -> &'static str {
    match error_code {
        None => "allowed",
        Some(VPCE_ACCESS_DENIED) => "denied",
        Some(_) => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_decide_what_is_a_request() {
        let mut r = Record {
            event_type: Some("AwsApiCall"),
            ..Record::default()
        };
        assert_eq!(EventKind::of(&r), EventKind::ApiCall);
        r.event_type = None;
        assert_eq!(EventKind::of(&r), EventKind::ApiCall, "old records");
        r.event_type = Some("AwsServiceEvent");
        assert_eq!(EventKind::of(&r), EventKind::ServiceEvent);
        r.event_type = Some("AwsVpceEvent");
        assert_eq!(EventKind::of(&r), EventKind::NetworkActivity);
        r.event_type = None;
        r.event_category = Some("NetworkActivity");
        assert_eq!(EventKind::of(&r), EventKind::NetworkActivity);
    }

    #[test]
    fn a_denied_endpoint_call_is_denied() {
        assert_eq!(vpce_outcome(None), "allowed");
        assert_eq!(vpce_outcome(Some("VpceAccessDenied")), "denied");
        assert_eq!(vpce_outcome(Some("AccessDenied")), "error");
    }
}
