//! A client, as its user agent says: parsed once per distinct agent (the [`super::Attributor`]
//! keeps one per agent), with what each table writes about it.

use super::sigv2::Signing;
use super::sigv4::SigV2Default;
use super::user_agent::{self, UserAgent};
use super::{advice, sigv2, sigv4};

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
    /// Where it then signs with SigV2 by default (sigv4::sigv2_default): the test for
    /// inferring SigV2.
    pub sigv2_default: Option<SigV2Default>,
    /// `upgrade_advice` of a SigV2 request it signed, of a presigned URL it fetched, of a
    /// POST form it sent, and of a legacy-TLS request.
    pub sigv2_advice: Box<str>,
    pub presigned_advice: Box<str>,
    pub post_advice: Box<str>,
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
            sigv4_min_version: ua.and_then(sigv4::line_for).map(|l| l.sigv4_min),
            sigv2_default: ua.and_then(sigv4::sigv2_default),
            sigv2_advice: advice::for_sigv2(ua, Signing::Header).into(),
            presigned_advice: advice::for_sigv2(ua, Signing::PresignedUrl).into(),
            post_advice: advice::for_sigv2(ua, Signing::PostPolicy).into(),
            tls_advice: advice::for_tls(ua).into(),
        }
    }

    /// The advice for a SigV2 request made with this agent.
    pub fn sigv2_advice(&self, signing: Signing) -> &str {
        match signing {
            Signing::Header => &self.sigv2_advice,
            Signing::PresignedUrl => &self.presigned_advice,
            Signing::PostPolicy => &self.post_advice,
        }
    }

    /// True when this client signed an S3 request of `region` and operation `event_name`
    /// with SigV2 by default: the inference for events that predate `SignatureVersion`.
    pub fn signs_sigv2_by_default(&self, region: Option<&str>, event_name: Option<&str>) -> bool {
        match self.sigv2_default {
            None => false,
            Some(SigV2Default::Everywhere) => region.is_some_and(sigv2::region_accepted_sigv2),
            Some(SigV2Default::RubyV2Signer) => sigv2::ruby_v2_signs_sigv2(region, event_name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruby_v2_is_inferred_only_where_its_signer_signs_sigv2() {
        let ruby2 = Client::of(Some("aws-sdk-ruby2/2.3.22 ruby/2.3.1 x86_64-linux"));
        assert!(ruby2.signs_sigv2_by_default(Some("us-east-1"), Some("GetObject")));
        assert!(ruby2.signs_sigv2_by_default(Some("eu-west-1"), Some("PutObject")));
        assert!(!ruby2.signs_sigv2_by_default(Some("eu-west-1"), Some("GetObject")));
        assert!(!ruby2.signs_sigv2_by_default(Some("eu-central-1"), Some("PutObject")));
        let ruby1 = Client::of(Some("aws-sdk-ruby/1.66.0 ruby/2.1.5 x86_64-linux"));
        assert!(ruby1.signs_sigv2_by_default(Some("eu-west-1"), Some("GetObject")));
        assert!(ruby1.signs_sigv2_by_default(Some("us-gov-west-1"), Some("GetObject")));
        assert!(!ruby1.signs_sigv2_by_default(Some("eu-central-1"), Some("GetObject")));
        let capable = Client::of(Some("aws-cli/1.16.19 Python/2.7.10 botocore/1.12.9"));
        assert!(!capable.signs_sigv2_by_default(Some("us-east-1"), Some("GetObject")));
    }

    #[test]
    fn each_way_of_signing_has_its_advice() {
        let c = Client::of(Some("Mozilla/5.0 (X11; Linux x86_64)"));
        assert!(
            c.sigv2_advice(Signing::PresignedUrl)
                .starts_with("presigned URL")
        );
        assert!(
            c.sigv2_advice(Signing::PostPolicy)
                .starts_with("POST form upload")
        );
        assert!(
            c.sigv2_advice(Signing::Header)
                .starts_with("signed in a web page")
        );
    }
}
