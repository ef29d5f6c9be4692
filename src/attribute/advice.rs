//! What the owner of a SigV2 or legacy-TLS caller must do: one sentence per client, written
//! to the `upgrade_advice` column and the report's to-do lists.
//!
//! SigV2 advice comes from the SigV4 table (`sigv4.rs`); TLS advice from the runtime the agent
//! names, because what TLS a client speaks is decided by its runtime (.NET Framework, Java,
//! OpenSSL), not by the SDK.

use super::sigv2::is_presigned;
use super::sigv4::{self, Capability, Support, Verdict};
use super::user_agent::{UaKind, UserAgent, parse};

/// Longest name or version quoted in advice: agents are free text, advice stays short.
const QUOTE_MAX: usize = 64;

fn clip(s: &str) -> &str {
    if s.len() <= QUOTE_MAX {
        return s;
    }
    let mut end = QUOTE_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `aws-cli/1.10.1`, `curl/7.68.0`, `Mozilla`: the client as the report shows it.
pub fn client_label(ua: &UserAgent<'_>) -> String {
    match (ua.family, ua.version) {
        (Some(f), Some(v)) => format!("{}/{}", clip(f), clip(v)),
        (Some(f), None) => clip(f).to_owned(),
        (None, _) => "an unrecognised client".to_owned(),
    }
}

/// Advice for an S3 request signed with SigV2. `agent` is the logged agent without brackets.
/// (Parses the agent: the analysis takes its advice from attribute::client, which parses
/// each distinct agent once.)
pub fn sigv2_advice(agent: Option<&str>, auth_method: Option<&str>) -> String {
    for_sigv2(agent.map(parse).as_ref(), is_presigned(auth_method))
}

/// Advice for an S3 request signed with SigV2 by the client `ua` (`None`: no agent logged);
/// `presigned`: a presigned URL, whose agent is the fetcher's, not the signer's.
pub fn for_sigv2(ua: Option<&UserAgent<'_>>, presigned: bool) -> String {
    if presigned {
        let fetcher = ua.map_or_else(
            || "a client without a user agent".to_owned(),
            |ua| match ua.kind {
                UaKind::Browser => format!("a browser ({})", client_label(ua)),
                _ => client_label(ua),
            },
        );
        return format!(
            "presigned URL: the principal signed it with SigV2 and {fetcher} only fetched it; \
             make the code that generates the URLs sign with SigV4 \
             (boto3: Config(signature_version='s3v4'); JavaScript v2: signatureVersion: 'v4')"
        );
    }
    let Some(ua) = ua else {
        return "no user agent logged: find the client by principal and source IP, then make it sign with SigV4".to_owned();
    };
    if let Some(verdict) = sigv4::verdict(ua) {
        return client_advice(ua, &verdict);
    }
    let label = client_label(ua);
    match ua.kind {
        UaKind::Console => {
            "made from the AWS Management Console: no client of the principal's to upgrade"
                .to_owned()
        }
        UaKind::AwsService => {
            "made by an AWS service for the principal: no client of the principal's to upgrade"
                .to_owned()
        }
        UaKind::Browser => {
            let js = sigv4::line_of("aws-sdk-js", None).map_or("", |l| l.sigv4_min);
            format!(
                "signed in a web page ({label}), typically by the JavaScript SDK v2: upgrade it to {js} or later and set signatureVersion: 'v4'"
            )
        }
        UaKind::HttpClient => format!(
            "{label} sent a SigV2 signature made by the script or tool around it: make that sign with SigV4"
        ),
        UaKind::Sdk | UaKind::Cli | UaKind::Unknown => format!(
            "unrecognised client ({label}): find it by principal and source IP, then make it sign with SigV4"
        ),
    }
}

fn client_advice(ua: &UserAgent<'_>, v: &Verdict<'_>) -> String {
    let line = v.line;
    let label = client_label(ua);
    let then_configure = |l: &sigv4::ClientLine| {
        if l.needs_configuration {
            format!(", then {}", l.configure)
        } else {
            String::new()
        }
    };
    match v.capability {
        Capability::BelowMinimum if v.decided_by_signer() => format!(
            "{} {} signs for {label} and cannot sign SigV4: upgrade {} to {} or later, with {} {} or later",
            v.decided_by.family,
            clip(v.decided_version.unwrap_or("?")),
            line.family,
            line.sigv4_min,
            v.decided_by.family,
            v.decided_by.sigv4_min,
        ),
        Capability::BelowMinimum if line.support == Support::Never => {
            let target = sigv4::line_of(line.family, Some(line.sigv4_min)).unwrap_or(line);
            format!(
                "{label}: no version of {} can sign SigV4; move to {} ({} {} or later){}",
                line.name,
                target.name,
                line.family,
                line.sigv4_min,
                then_configure(target)
            )
        }
        Capability::BelowMinimum => format!(
            "{label} cannot sign SigV4: upgrade {} to {} or later{}",
            line.family,
            line.sigv4_min,
            then_configure(line)
        ),
        Capability::Capable => format!(
            "{label} can sign SigV4 ({} {} or later): {}",
            v.decided_by.family, v.decided_by.sigv4_min, v.decided_by.configure
        ),
        Capability::Always => format!(
            "{} signs S3 requests with SigV4 only: this SigV2 request came through something else carrying its agent (a proxy or another tool)",
            line.name
        ),
        Capability::UnknownVersion => format!(
            "{label}: version not logged; {} signs SigV4 from {}: check the version in use, then {}",
            line.name, line.sigv4_min, line.configure
        ),
    }
}

/// Advice for a request over TLS 1.0 or 1.1. `agent` is the logged agent without brackets.
pub fn tls_advice(agent: Option<&str>) -> String {
    for_tls(agent.map(parse).as_ref())
}

/// Advice for a request over TLS 1.0 or 1.1 by the client `ua` (`None`: no agent logged).
pub fn for_tls(ua: Option<&UserAgent<'_>>) -> String {
    let Some(ua) = ua else {
        return "no user agent logged: find the client by principal and source IP, then make it use TLS 1.2 or later".to_owned();
    };
    let label = client_label(ua);
    match ua.kind {
        UaKind::Console | UaKind::AwsService => {
            return "made by the AWS console or an AWS service: nothing to change on the principal's side".to_owned();
        }
        UaKind::Browser => {
            return format!("{label}: a browser that offers only TLS 1.0/1.1; update it");
        }
        _ => {}
    }
    let runtime = ua.runtime.map(|r| (r.family, r.version));
    match runtime {
        Some((name, version)) if name.eq_ignore_ascii_case(".NET_Framework") => format!(
            "{label} on .NET Framework {}: before 4.6.2 it does not offer TLS 1.2 by default; install 4.6.2 or later (4.8 preferred) or set SchUseStrongCrypto in the registry",
            clip(version)
        ),
        Some((name, version)) if name.eq_ignore_ascii_case("java") && java_before_8(version) => {
            format!(
                "{label} on Java {}: Java 7 and earlier do not offer TLS 1.2 by default; run it on Java 8 or later (or start it with -Dhttps.protocols=TLSv1.2)",
                clip(version)
            )
        }
        Some((name, version))
            if name.eq_ignore_ascii_case("python") && version.starts_with("2.") =>
        {
            format!(
                "{label} on Python {}: Python 2 linked against OpenSSL older than 1.0.1 cannot speak TLS 1.2; move to Python 3 with a current OpenSSL",
                clip(version)
            )
        }
        Some((name, version)) if name.eq_ignore_ascii_case("php") && version.starts_with("5.") => {
            format!(
                "{label} on PHP {}: upgrade PHP and the OpenSSL and curl it links (OpenSSL 1.0.1 or later speaks TLS 1.2)",
                clip(version)
            )
        }
        _ => format!(
            "{label}: make it negotiate TLS 1.2 or later (update the runtime or the OS TLS library it uses)"
        ),
    }
}

/// `1.7.0_80` and older: Java before 8 numbered itself `1.x`.
fn java_before_8(version: &str) -> bool {
    let mut parts = version.split(['.', '_']);
    parts.next() == Some("1")
        && parts
            .next()
            .and_then(|minor| minor.parse::<u32>().ok())
            .is_some_and(|minor| minor < 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_names_the_version_to_upgrade_to() {
        let a = sigv2_advice(
            Some("aws-cli/1.10.1 Python/2.7.9 Linux/3.14 botocore/1.4.1"),
            Some("AuthHeader"),
        );
        assert!(a.contains("botocore 1.4.1"), "{a}");
        assert!(a.contains("aws-cli to 1.11.108 or later"), "{a}");
        assert!(a.contains("botocore 1.5.71"), "{a}");

        let a = sigv2_advice(Some("aws-sdk-java/1.11.100 Linux/4.9"), None);
        assert_eq!(
            a,
            "aws-sdk-java/1.11.100 cannot sign SigV4: upgrade aws-sdk-java to 1.11.201 or later"
        );
        let a = sigv2_advice(Some("aws-sdk-php/2.7.0 Guzzle/3.9.3"), None);
        assert!(a.ends_with("then set 'signature' => 'v4' in the S3 client configuration"));
        let a = sigv2_advice(Some("aws-sdk-ruby2/2.11.632 ruby/2.7.0"), None);
        assert!(a.contains("move to AWS SDK for Ruby v3"), "{a}");
        let a = sigv2_advice(Some("aws-sdk-dotnet-35/2.0.15.0 .NET_Runtime/2.0"), None);
        assert!(a.contains("move to AWS SDK for .NET v3"), "{a}");
        assert!(a.contains("UseSignatureVersion4"), "{a}");
    }

    #[test]
    fn capable_clients_are_told_what_to_configure() {
        let a = sigv2_advice(
            Some("aws-sdk-dotnet-45/3.3.1.0 aws-sdk-dotnet-core/3.3.2.0"),
            None,
        );
        assert!(a.contains("can sign SigV4"), "{a}");
        assert!(a.contains("UseSignatureVersion4"), "{a}");
        let a = sigv2_advice(Some("aws-sdk-go/1.44.0 (go1.19; linux; amd64)"), None);
        assert!(a.contains("SigV4 only"), "{a}");
    }

    #[test]
    fn presigned_urls_point_at_the_signer_not_the_fetcher() {
        let a = sigv2_advice(
            Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"),
            Some("QueryString"),
        );
        assert!(
            a.starts_with("presigned URL: the principal signed it"),
            "{a}"
        );
        assert!(a.contains("a browser (Mozilla/5.0)"), "{a}");
        let a = sigv2_advice(Some("curl/7.68.0"), Some("QueryString"));
        assert!(a.contains("curl/7.68.0 only fetched it"), "{a}");
    }

    #[test]
    fn tls_advice_follows_the_runtime() {
        let a = tls_advice(Some(
            "aws-sdk-dotnet-45/3.3.1.0 aws-sdk-dotnet-core/3.3.2.0 .NET_Runtime/4.0 .NET_Framework/4.0",
        ));
        assert!(a.contains(".NET Framework 4.0"), "{a}");
        assert!(a.contains("4.6.2"), "{a}");
        let a = tls_advice(Some(
            "aws-sdk-java/1.11.100 Linux/3.10 Java_HotSpot(TM)_64-Bit_Server_VM/24.80-b11 java/1.7.0_80",
        ));
        assert!(a.contains("Java 8 or later"), "{a}");
        let a = tls_advice(Some("aws-sdk-java/1.12.1 Linux/5 java/1.8.0_372"));
        assert!(a.contains("negotiate TLS 1.2"), "{a}");
        assert!(java_before_8("1.6.0_45") && !java_before_8("11.0.2") && !java_before_8("1.8"));
    }

    #[test]
    fn advice_stays_short_whatever_the_agent() {
        let long = format!("aws-sdk-java/1.{} Linux/4", "9".repeat(2000));
        assert!(sigv2_advice(Some(&long), None).len() < 400);
        assert!(tls_advice(Some(&long)).len() < 400);
    }
}
