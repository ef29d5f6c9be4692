//! What the owner of a SigV2 or legacy-TLS caller must do: one sentence per client, written
//! to the `upgrade_advice` column and the report's to-do lists.
//!
//! SigV2 advice comes from the SigV4 table (`sigv4.rs`); TLS advice from the runtime the agent
//! names, because what TLS a client speaks is decided by its runtime (.NET Framework, Java,
//! OpenSSL), not by the SDK.

use super::sigv2::Signing;
use super::sigv4::{self, Capability, SigV2Default, Support, Verdict};
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
    for_sigv2(agent.map(parse).as_ref(), Signing::of(auth_method))
}

/// What the code that signs presigned URLs and POST policies must change. botocore presigns
/// URLs (`s3-query`) and POST policies (`s3-presign-post`) with SigV2 by default, in every
/// version, when the client's region accepts SigV2 and no signature version is configured
/// (`ClientCreator._default_s3_presign_to_sigv2` in botocore/client.py of boto/botocore);
/// .NET v3 presigns with SigV2 in us-east-1 unless `AWSConfigsS3.UseSignatureVersion4` is
/// set (https://docs.aws.amazon.com/sdkfornet/v3/apidocs/items/Amazon/TAWSConfigsS3.html).
const PRESIGNER_FIX: &str =
    "boto3/botocore: pass Config(signature_version='s3v4') to the client that calls";

/// Advice for an S3 request signed with SigV2 by the client `ua` (`None`: no agent logged).
/// For a presigned URL or a POST form the agent is the fetcher's or uploader's, not the
/// signer's: the advice points at the code that signed.
pub fn for_sigv2(ua: Option<&UserAgent<'_>>, signing: Signing) -> String {
    if signing.signed_elsewhere() {
        let sender = ua.map_or_else(
            || "a client without a user agent".to_owned(),
            |ua| match ua.kind {
                UaKind::Browser => format!("a browser ({})", client_label(ua)),
                _ => client_label(ua),
            },
        );
        return match signing {
            Signing::PostPolicy => format!(
                "POST form upload: the principal signed the POST policy with SigV2 and {sender} only sent the form; \
                 make the code that builds the form sign it with SigV4 ({PRESIGNER_FIX} generate_presigned_post; \
                 the form then carries x-amz-algorithm, x-amz-credential, x-amz-date and x-amz-signature instead of AWSAccessKeyId and signature)"
            ),
            _ => format!(
                "presigned URL: the principal signed it with SigV2 and {sender} only fetched it; \
                 make the code that generates the URLs sign with SigV4 ({PRESIGNER_FIX} generate_presigned_url; \
                 JavaScript v2: signatureVersion: 'v4'; .NET v3: AWSConfigsS3.UseSignatureVersion4 = true)"
            ),
        };
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
            let (target, version) = sigv4::upgrade_target(line);
            let why = match line.sigv2_default {
                SigV2Default::RubyV2Signer => format!(
                    "{} signs S3 requests with SigV2 by default in us-east-1 (and uploads in the other regions that accept SigV2)",
                    line.name
                ),
                SigV2Default::Everywhere => format!("no version of {} can sign SigV4", line.name),
            };
            format!(
                "{label}: {why}; move to {} ({} {version} or later){}",
                target.name,
                target.family,
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
    if let Some(release) = ua.framework {
        return dotnet_framework_advice(&label, release, true);
    }
    let runtime = ua.runtime.map(|r| (r.family, r.version));
    match runtime {
        Some((name, version)) if name.eq_ignore_ascii_case(".NET_Framework") => {
            dotnet_framework_advice(&label, version, false)
        }
        // Java 7 clients enable only TLS 1.0 by default. The setting that reaches the SDK's
        // Apache HTTP client is the JSSE system property `jdk.tls.client.protocols` (JDK 8,
        // 7u95 and 6u121 on); `https.protocols` only governs HttpsURLConnection (Oracle's
        // "Diagnosing TLS, SSL, and HTTPS", https://blogs.oracle.com/java/post/diagnosing-tls-ssl-and-https,
        // and the JSSE Reference Guide).
        Some((name, version)) if name.eq_ignore_ascii_case("java") && java_before_8(version) => {
            format!(
                "{label} on Java {}: Java 7 and earlier do not offer TLS 1.2 by default; run it on Java 8 or later (on 7u95 or later, start it with -Djdk.tls.client.protocols=TLSv1.2)",
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

/// .NET Framework offers TLS 1.2 by default from 4.6.2 (docs/CLOUDTRAIL.md §5; Microsoft's
/// "Transport Layer Security (TLS) best practices with the .NET Framework",
/// https://learn.microsoft.com/dotnet/framework/network-programming/tls). `exact`: the
/// release comes from the structured agent's `md/.NET_Framework#` (the registry's NDP\v4\Full
/// `Version`, e.g. `4.8.09037`); the old `.NET_Framework/4.0` token is what aws-sdk-net v3
/// logs for every 4.x (`InternalSDKUtils.DetermineFramework` returned "4.0" whenever the v4
/// key exists), so it names no release.
fn dotnet_framework_advice(label: &str, version: &str, exact: bool) -> String {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let (major, minor) = (parts.next().flatten(), parts.next().flatten());
    let fix = "install 4.6.2 or later (4.8 preferred) or set SchUseStrongCrypto in the registry";
    match (major, minor) {
        (Some(4), Some(m)) if m >= 7 => format!(
            "{label} on .NET Framework {}, which offers TLS 1.2: the application pins an older protocol (ServicePointManager.SecurityProtocol) or targets a framework before 4.6.2; remove the pin or retarget to 4.6.2 or later (SchUseStrongCrypto and SystemDefaultTlsVersions in the registry also lift it)",
            clip(version)
        ),
        (Some(4), Some(6)) => format!(
            "{label} on .NET Framework {}: 4.6 and 4.6.1 do not offer TLS 1.2 by default, 4.6.2 does; {fix}",
            clip(version)
        ),
        (Some(4), Some(0)) if !exact => format!(
            "{label} on .NET Framework 4.x (this agent logs every 4.x as 4.0): before 4.6.2 it does not offer TLS 1.2 by default; {fix}"
        ),
        _ => format!(
            "{label} on .NET Framework {}: before 4.6.2 it does not offer TLS 1.2 by default; {fix}",
            clip(version)
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
        assert!(a.contains("SigV2 by default in us-east-1"), "{a}");
        assert!(!a.contains("no version of"), "Ruby v2 can sign SigV4: {a}");
        let a = sigv2_advice(Some("aws-sdk-ruby/1.66.0 ruby/2.1.5"), None);
        assert!(
            a.contains("no version of AWS SDK for Ruby v1 can sign SigV4"),
            "{a}"
        );
        let a = sigv2_advice(Some("aws-sdk-dotnet-35/2.0.15.0 .NET_Runtime/2.0"), None);
        assert!(a.contains("move to AWS SDK for .NET v3"), "{a}");
        assert!(a.contains("3.3.0.0 or later"), "{a}");
        assert!(a.contains("UseSignatureVersion4"), "{a}");
    }

    #[test]
    fn dotnet_v4_advice_names_no_setting_it_removed() {
        let a = sigv2_advice(
            Some(
                "aws-sdk-dotnet-framework/4.0.0.1 ua/2.0 os/windows#10.0 lang/.NET_Runtime#4.0 md/.NET_Framework#4.8.09037",
            ),
            None,
        );
        assert!(
            a.contains("AWS SDK for .NET v4 signs S3 requests with SigV4 only"),
            "{a}"
        );
        assert!(!a.contains("UseSignatureVersion4"), "{a}");
    }

    #[test]
    fn post_form_uploads_point_at_the_code_that_signed_the_policy() {
        let a = sigv2_advice(
            Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"),
            Some("HttpPost"),
        );
        assert!(
            a.starts_with("POST form upload: the principal signed the POST policy with SigV2"),
            "{a}"
        );
        assert!(
            a.contains("a browser (Mozilla/5.0) only sent the form"),
            "{a}"
        );
        assert!(a.contains("Config(signature_version='s3v4')"), "{a}");
        assert!(a.contains("generate_presigned_post"), "{a}");
        assert!(!a.contains("generate_presigned_url"), "{a}");
        let a = sigv2_advice(Some("curl/7.68.0"), Some("QueryString"));
        assert!(a.contains("generate_presigned_url"), "{a}");
        assert!(!a.contains("generate_presigned_post"), "{a}");
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
        assert!(a.contains(".NET Framework 4.x"), "{a}");
        assert!(a.contains("4.6.2"), "{a}");
        let a = tls_advice(Some(
            "aws-sdk-java/1.11.100 Linux/3.10 Java_HotSpot(TM)_64-Bit_Server_VM/24.80-b11 java/1.7.0_80",
        ));
        assert!(a.contains("Java 8 or later"), "{a}");
        assert!(a.contains("-Djdk.tls.client.protocols=TLSv1.2"), "{a}");
        assert!(!a.contains("https.protocols"), "{a}");
        let a = tls_advice(Some("aws-sdk-java/1.12.1 Linux/5 java/1.8.0_372"));
        assert!(a.contains("negotiate TLS 1.2"), "{a}");
        assert!(java_before_8("1.6.0_45") && !java_before_8("11.0.2") && !java_before_8("1.8"));
    }

    #[test]
    fn tls_advice_names_the_framework_release_of_structured_dotnet_agents() {
        let a = tls_advice(Some(
            "aws-sdk-dotnet-45/3.7.300.16 md/aws-sdk-dotnet-core#3.7.300.16 ua/2.0 os/windows#6.2.9200.0 lang/.NET_Runtime#4.0 md/.NET_Framework#4.8.09037",
        ));
        assert!(
            a.contains(".NET Framework 4.8.09037, which offers TLS 1.2"),
            "{a}"
        );
        assert!(a.contains("ServicePointManager.SecurityProtocol"), "{a}");
        let a = tls_advice(Some(
            "aws-sdk-dotnet-framework/4.0.0.1 ua/2.0 os/windows#6.1 lang/.NET_Runtime#4.0 md/.NET_Framework#4.5.51209",
        ));
        assert!(a.contains(".NET Framework 4.5.51209: before 4.6.2"), "{a}");
        let a = tls_advice(Some(
            "aws-sdk-dotnet-45/3.7.300.16 ua/2.0 lang/.NET_Runtime#4.0 md/.NET_Framework#4.6.01055",
        ));
        assert!(
            a.contains("4.6 and 4.6.1 do not offer TLS 1.2 by default, 4.6.2 does"),
            "{a}"
        );
        // The old token names no release: every 4.x is logged as 4.0.
        let a = tls_advice(Some(
            "aws-sdk-dotnet-45/3.3.1.0 .NET_Runtime/4.0 .NET_Framework/4.0",
        ));
        assert!(
            a.contains(".NET Framework 4.x (this agent logs every 4.x as 4.0)"),
            "{a}"
        );
        let a = tls_advice(Some(
            "aws-sdk-dotnet-35/2.0.15.0 .NET_Runtime/2.0 .NET_Framework/3.5",
        ));
        assert!(a.contains(".NET Framework 3.5: before 4.6.2"), "{a}");
    }

    #[test]
    fn advice_stays_short_whatever_the_agent() {
        let long = format!("aws-sdk-java/1.{} Linux/4", "9".repeat(2000));
        assert!(sigv2_advice(Some(&long), None).len() < 400);
        assert!(tls_advice(Some(&long)).len() < 400);
        for auth in ["QueryString", "HttpPost"] {
            assert!(sigv2_advice(Some(&long), Some(auth)).len() < 500, "{auth}");
        }
    }
}
