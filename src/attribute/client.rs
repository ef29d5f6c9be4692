//! A client, as its user agent says: parsed once per distinct agent (the [`super::Attributor`]
//! keeps one per agent), with what each table writes about it.

use super::user_agent::{self, UserAgent};
use super::{advice, sigv4};

/// What an agent means for its owner. `None` fields are unknown (written as null).
#[derive(Debug, Clone)]
pub struct Client {
    /// `ua_family`, `ua_version` (user_agent::parse).
    pub family: Option<Box<str>>,
    pub version: Option<Box<str>>,
    /// `ua_kind`: sdk, cli, console, aws_service, browser, http_client, unknown; `None` when
    /// no agent was logged.
    pub kind: Option<&'static str>,
    /// `sigv4_min_version`: filled for every family of the SigV4 table.
    pub sigv4_min_version: Option<&'static str>,
    /// The client cannot sign S3 requests with SigV4 (sigv4::below_sigv4_minimum): the test
    /// for inferring SigV2.
    pub below_sigv4_minimum: bool,
    /// `upgrade_advice` of a SigV2 request it signed, of a presigned URL it fetched, and of a
    /// legacy-TLS request.
    pub sigv2_advice: Box<str>,
    pub presigned_advice: Box<str>,
    pub tls_advice: Box<str>,
}

impl Client {
    /// The client of a logged agent (brackets already stripped), or of none.
    pub fn of(agent: Option<&str>) -> Client {
        let ua: Option<UserAgent<'_>> = agent.map(user_agent::parse);
        let ua = ua.as_ref();
        Client {
            family: ua.and_then(|u| u.family).map(Box::from),
            version: ua.and_then(|u| u.version).map(Box::from),
            kind: ua.map(|u| u.kind.as_str()),
            sigv4_min_version: ua.and_then(|u| {
                u.family
                    .and_then(|f| sigv4::sigv4_min_version(f, u.version))
            }),
            below_sigv4_minimum: ua.is_some_and(sigv4::below_sigv4_minimum),
            sigv2_advice: advice::for_sigv2(ua, false).into(),
            presigned_advice: advice::for_sigv2(ua, true).into(),
            tls_advice: advice::for_tls(ua).into(),
        }
    }

    /// The advice for a SigV2 request made with this agent.
    pub fn sigv2_advice(&self, presigned: bool) -> &str {
        if presigned {
            &self.presigned_advice
        } else {
            &self.sigv2_advice
        }
    }
}
