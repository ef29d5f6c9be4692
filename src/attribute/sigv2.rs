//! SigV2 evidence on S3 events.

use crate::record::S3EventData;

/// How we know a request was signed with SigV2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
