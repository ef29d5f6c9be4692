//! User agents: which client made a request, so its owner knows what to upgrade.
//!
//! Agents come in two forms. The old one is a list of `name/version` tokens, the client
//! first: `aws-cli/1.16.19 Python/2.7.10 Darwin/18.7.0 botocore/1.12.9`. The structured one
//! (SDKs since 2023) starts the same way and adds `ua/2.0` and metadata tokens:
//! `Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#6.1 lang/python#3.11.6`. S3 wraps the agent
//! in square brackets, and CloudTrail cuts agents at 1 KB, so the last token of a long agent
//! may be a stump.
//!
//! [`parse`] finds the client an agent names and its version, what kind of software it is,
//! the library that signs for it (botocore under the CLI v1 and boto3), and the language
//! runtime (what TLS a client can speak depends on it). Every string it returns is a slice
//! of its input or a `'static` family name: parsing never allocates, and it runs once per
//! distinct agent (the aggregator caches the result by interned agent).

/// What kind of software sent a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UaKind {
    /// An AWS SDK.
    Sdk,
    /// An AWS command line tool (AWS CLI, AWS Tools for PowerShell).
    Cli,
    /// The AWS Management Console.
    Console,
    /// An AWS service acting for the principal.
    AwsService,
    /// A web browser (or an agent that says it is one).
    Browser,
    /// A generic HTTP client or third-party S3 tool: curl, wget, python-requests, s3cmd.
    HttpClient,
    /// Anything else.
    Unknown,
}

impl UaKind {
    /// The `ua_kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            UaKind::Sdk => "sdk",
            UaKind::Cli => "cli",
            UaKind::Console => "console",
            UaKind::AwsService => "aws_service",
            UaKind::Browser => "browser",
            UaKind::HttpClient => "http_client",
            UaKind::Unknown => "unknown",
        }
    }
}

/// A `name/version` pair: a client's family and version, or a runtime's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named<'a> {
    pub family: &'a str,
    pub version: &'a str,
}

/// What an agent says about its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserAgent<'a> {
    pub kind: UaKind,
    /// `ua_family`: a normalised AWS client family (`aws-sdk-js` for `aws-sdk-nodejs`), else
    /// the name of the first `name/version` token as logged (`Mozilla`, `curl`).
    pub family: Option<&'a str>,
    /// `ua_version`: the version of that token.
    pub version: Option<&'a str>,
    /// The library that signs for the client when the agent names it: botocore under the
    /// AWS CLI v1 and boto3.
    pub signer: Option<Named<'a>>,
    /// The language runtime: `java/1.7.0_80`, `.NET_Framework/4.0`, `lang/python#3.11.6`.
    pub runtime: Option<Named<'a>>,
    /// The .NET Framework release the structured .NET agent names
    /// (`md/.NET_Framework#4.8.09037`, beside `lang/.NET_Runtime#4.0`).
    pub framework: Option<&'a str>,
    /// The major line the agent's form names when its version does not: JavaScript v3
    /// agents (`aws-sdk-nodejs-v3-@aws-sdk/client-s3/1.0.0-gamma.8`, or any `aws-sdk-js`
    /// agent with v3's `ua/`, `lang/js` or `api/` metadata) are v3 whatever their number.
    pub line_major: Option<u32>,
}

impl UserAgent<'_> {
    const UNKNOWN: UserAgent<'static> = UserAgent {
        kind: UaKind::Unknown,
        family: None,
        version: None,
        signer: None,
        runtime: None,
        framework: None,
        line_major: None,
    };
}

/// CloudTrail cuts `userAgent` at 1 KB: in an agent this long the last token may be cut
/// short (`botocore/1.1` of `botocore/1.12.9`), so it is not trusted.
pub const CUT_LENGTH: usize = 1000;

/// Removes S3's surrounding square brackets: `[aws-cli/1.16.19 ...]`. An agent cut at 1 KB
/// has lost its closing bracket, so the opening one goes alone.
pub fn strip_brackets(ua: &str) -> &str {
    match ua.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']').unwrap_or(inner),
        None => ua,
    }
}

/// Known client tokens: the logged name (matched without case) and the family it belongs to.
/// A name ending in `*` matches by prefix.
const FAMILIES: &[(&str, &str, UaKind)] = &[
    ("aws-cli", "aws-cli", UaKind::Cli),
    ("awspowershell*", "aws-powershell", UaKind::Cli),
    ("aws.tools.*", "aws-powershell", UaKind::Cli),
    ("boto3", "boto3", UaKind::Sdk),
    ("botocore", "botocore", UaKind::Sdk),
    ("boto", "boto", UaKind::Sdk),
    ("aws-sdk-java", "aws-sdk-java", UaKind::Sdk),
    // The JavaScript v3 previews logged `aws-sdk-nodejs-v3-@aws-sdk/client-s3/1.0.0-gamma.8`.
    ("aws-sdk-js-v3*", "aws-sdk-js", UaKind::Sdk),
    ("aws-sdk-nodejs-v3*", "aws-sdk-js", UaKind::Sdk),
    ("aws-sdk-nodejs", "aws-sdk-js", UaKind::Sdk),
    ("aws-sdk-js", "aws-sdk-js", UaKind::Sdk),
    // -35, -45, -coreclr, -netstandard, -pcl, and `aws-sdk-dotnet-core` when it comes alone.
    ("aws-sdk-dotnet*", "aws-sdk-dotnet", UaKind::Sdk),
    ("aws-sdk-unity", "aws-sdk-dotnet", UaKind::Sdk),
    ("aws-sdk-php", "aws-sdk-php", UaKind::Sdk),
    ("aws-sdk-php2", "aws-sdk-php", UaKind::Sdk),
    ("aws-sdk-ruby", "aws-sdk-ruby", UaKind::Sdk),
    ("aws-sdk-ruby2", "aws-sdk-ruby", UaKind::Sdk),
    ("aws-sdk-ruby3", "aws-sdk-ruby", UaKind::Sdk),
    ("aws-sdk-go", "aws-sdk-go", UaKind::Sdk),
    ("aws-sdk-go-v2", "aws-sdk-go-v2", UaKind::Sdk),
    ("aws-sdk-cpp", "aws-sdk-cpp", UaKind::Sdk),
    ("aws-sdk-rust", "aws-sdk-rust", UaKind::Sdk),
    ("aws-sdk-kotlin", "aws-sdk-kotlin", UaKind::Sdk),
    ("aws-sdk-swift", "aws-sdk-swift", UaKind::Sdk),
];

/// Names of generic HTTP clients and third-party S3 tools (matched without case).
const HTTP_CLIENTS: &[&str] = &[
    "curl",
    "wget",
    "python-requests",
    "python-urllib",
    "python-urllib3",
    "python-httplib2",
    "python-httpx",
    "aiohttp",
    "go-http-client",
    "okhttp",
    "apache-httpclient",
    "java",
    "axios",
    "node-fetch",
    "undici",
    "got",
    "postmanruntime",
    "insomnia",
    "httpie",
    "libwww-perl",
    "faraday",
    "guzzlehttp",
    "s3cmd",
    "rclone",
    "cyberduck",
    "minio-go",
    "s3fs",
    "goofys",
    "winscp",
];

/// Browsers all start with `Mozilla/`; Opera once did not.
const BROWSERS: &[&str] = &["mozilla", "opera"];

/// Runtime tokens, by the name logged (matched without case).
const RUNTIMES: &[&str] = &[
    "java",
    ".NET_Framework",
    ".NET_Core",
    "python",
    "ruby",
    "php",
];

/// Token names of the structured format's metadata, never a client.
const METADATA: &[&str] = &[
    "ua", "os", "lang", "md", "api", "cfg", "exec-env", "ft", "m", "app", "exe", "prompt",
    "command",
];

fn matches_name(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix)),
        None => pattern.eq_ignore_ascii_case(name),
    }
}

fn known_family(name: &str) -> Option<(&'static str, UaKind)> {
    FAMILIES
        .iter()
        .find(|(pattern, _, _)| matches_name(pattern, name))
        .map(|&(_, family, kind)| (family, kind))
}

/// Splits a token at its first `/` and keeps the version's leading version characters
/// (`0.4` of `0.4,`; `3.3.1.0` of `3.3.1.0;`).
fn name_version(token: &str) -> Option<(&str, &str)> {
    let (name, rest) = token.split_once('/')?;
    Some((name, version_prefix(rest)))
}

fn version_prefix(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+')))
        .unwrap_or(s.len());
    &s[..end]
}

fn starts_with_digit(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

/// The tokens worth reading: the last one of an agent cut at 1 KB is dropped.
fn tokens(ua: &str) -> impl Iterator<Item = &str> {
    let trusted = if ua.len() >= CUT_LENGTH {
        ua.trim_end()
            .rsplit_once(|c: char| c.is_ascii_whitespace())
            .map_or(ua, |(head, _stump)| head)
    } else {
        ua
    };
    trusted.split_ascii_whitespace()
}

/// A structured metadata token `prefix/name#version` (or `prefix/name/version` in the first
/// Go v2 agents): `md/Botocore#1.31.0`, `lang/python#3.11.6`.
fn metadata(token: &str) -> Option<(&str, &str, &str)> {
    let (prefix, rest) = token.split_once('/')?;
    let (name, version) = rest.split_once(['#', '/'])?;
    Some((prefix, name, version_prefix(version)))
}

fn is_console(ua: &str, first_name: &str) -> bool {
    let host = ua.trim();
    host == "console.amazonaws.com"
        || host == "signin.amazonaws.com"
        || host == "AWSConsole"
        || (host.starts_with("console.") && host.ends_with(".amazonaws.com"))
        // `S3Console/0.4, aws-internal/3 ...`, `EC2ConsoleFrontend, aws-internal/3 ...`
        || first_name.ends_with("Console")
        || first_name.contains("ConsoleFrontend")
        || first_name.contains("ConsoleBackend")
}

fn is_aws_service(ua: &str, first_name: &str) -> bool {
    let host = ua.trim();
    (host.ends_with(".amazonaws.com") && !host.contains(char::is_whitespace))
        || host.eq_ignore_ascii_case("AWS Internal")
        || first_name.eq_ignore_ascii_case("aws-internal")
        // Amazon's internal service frameworks and the Lambda worker.
        || first_name.eq_ignore_ascii_case("Coral")
        || first_name.eq_ignore_ascii_case("awslambda-worker")
}

/// Reads an agent (brackets already stripped). Never panics, never allocates.
pub fn parse(ua: &str) -> UserAgent<'_> {
    let ua = ua.trim();
    let Some(first) = ua.split_ascii_whitespace().next() else {
        return UserAgent::UNKNOWN;
    };
    let first_name = first
        .split('/')
        .next()
        .unwrap_or(first)
        .trim_end_matches(',');

    let mut client: Option<(&'static str, UaKind, Option<&str>)> = None;
    let mut first_token: Option<(&str, &str)> = None;
    let mut signer = None;
    let mut runtime = None;
    let mut framework = None;
    // Metadata only the JavaScript v3 agent carries: v2's agent is `aws-sdk-<env>/<VERSION>`
    // and the platform (lib/util.js `userAgent` of aws/aws-sdk-js), v3's adds `ua/2.x`,
    // `lang/js`, `api/<service>#<version>` (`createDefaultUserAgentProvider` in
    // @aws-sdk/util-user-agent-node and -browser of aws/aws-sdk-js-v3).
    let mut js_v3_metadata = false;
    for token in tokens(ua) {
        if let Some((prefix, name, version)) = metadata(token)
            && METADATA.iter().any(|m| m.eq_ignore_ascii_case(prefix))
        {
            js_v3_metadata |= prefix.eq_ignore_ascii_case("ua")
                || prefix.eq_ignore_ascii_case("api")
                || (prefix.eq_ignore_ascii_case("lang") && name.eq_ignore_ascii_case("js"));
            // aws-sdk-net 3.7.300+ and v4 on .NET Framework: `lang/.NET_Runtime#4.0
            // md/.NET_Framework#4.8.09037`, the release from the registry's
            // NDP\v4\Full `Version` (EnvironmentInfo and InternalSDKUtils.DetermineFramework in
            // sdk/src/Core/Amazon.Util/Internal of aws/aws-sdk-net).
            if prefix.eq_ignore_ascii_case("md")
                && name.eq_ignore_ascii_case(".NET_Framework")
                && framework.is_none()
                && starts_with_digit(version)
            {
                framework = Some(version);
            }
            if name.eq_ignore_ascii_case("botocore") && signer.is_none() && !version.is_empty() {
                signer = Some(Named {
                    family: "botocore",
                    version,
                });
            }
            if prefix.eq_ignore_ascii_case("lang") && runtime.is_none() && !version.is_empty() {
                runtime = Some(Named {
                    family: name,
                    version,
                });
            }
            continue;
        }
        // `ua/2.0` and `lang/js` have no `#`: they are metadata all the same.
        if let Some((prefix, rest)) = token.split_once('/') {
            js_v3_metadata |= prefix.eq_ignore_ascii_case("ua")
                || (prefix.eq_ignore_ascii_case("lang") && rest.eq_ignore_ascii_case("js"));
        }
        let Some((name, version)) = name_version(token) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        if version.is_empty() {
            // A known client without a version (`aws-sdk-js/`) still names its family.
            if client.is_none()
                && let Some((family, kind)) = known_family(name)
            {
                client = Some((family, kind, None));
            }
            continue;
        }
        if first_token.is_none() {
            first_token = Some((name, version));
        }
        if runtime.is_none() && RUNTIMES.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            runtime = Some(Named {
                family: name,
                version,
            });
        }
        let Some((family, kind)) = known_family(name) else {
            continue;
        };
        if family == "botocore" && signer.is_none() {
            signer = Some(Named { family, version });
        }
        // A command line tool names the SDK it is built on too (AWS Tools for PowerShell
        // over .NET): the tool is what its owner runs and upgrades. Otherwise the first SDK
        // named is the one that signs (Terraform agents start with `APN/1.0 HashiCorp/1.0`).
        let better = match client {
            None => true,
            Some((_, current, _)) => current == UaKind::Sdk && kind == UaKind::Cli,
        };
        if better {
            // Early JavaScript v3 agents log a package's version, not the SDK's: the
            // number would put them on the v2 line.
            let version = if family == "aws-sdk-js" && name.contains("-v3") {
                None
            } else {
                Some(version).filter(|v| starts_with_digit(v))
            };
            client = Some((family, kind, version));
        }
    }

    // Console hosts are `*.amazonaws.com` too: test for the console first.
    let kind = if is_console(ua, first_name) {
        Some(UaKind::Console)
    } else if is_aws_service(ua, first_name) {
        Some(UaKind::AwsService)
    } else {
        None
    };
    if let Some(kind) = kind {
        // Consoles and services name the SDK they run on (`S3Console/0.4, aws-internal/3
        // aws-sdk-java/1.11.666`): that SDK is AWS's, not the principal's.
        let (family, version) = first_token
            .filter(|(name, _)| name.trim_end_matches(',') == first_name)
            .map_or((None, None), |(n, v)| (Some(n), Some(v)));
        return UserAgent {
            kind,
            family,
            version,
            signer: None,
            runtime: None,
            framework: None,
            line_major: None,
        };
    }
    if let Some((family, kind, version)) = client {
        let line_major =
            (family == "aws-sdk-js" && (version.is_none() || js_v3_metadata)).then_some(3);
        return UserAgent {
            kind,
            family: Some(family),
            version,
            signer: signer.filter(|s| s.family != family),
            runtime,
            framework,
            line_major,
        };
    }
    let kind = if BROWSERS.iter().any(|b| b.eq_ignore_ascii_case(first_name)) {
        UaKind::Browser
    } else if let Some((name, _)) = first_token
        && HTTP_CLIENTS.iter().any(|h| h.eq_ignore_ascii_case(name))
    {
        UaKind::HttpClient
    } else {
        UaKind::Unknown
    };
    UserAgent {
        kind,
        family: first_token.map(|(n, _)| n),
        version: first_token.map(|(_, v)| v),
        signer: None,
        runtime,
        framework,
        line_major: None,
    }
}

/// Compares dotted versions numerically, part by part (`1.10.77 < 1.11.201 < 1.11.1000`).
/// Non-numeric parts compare as text after the numeric prefix.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let mut left = a.split(['.', '-', '_']);
    let mut right = b.split(['.', '-', '_']);
    loop {
        // A missing part counts as zero: 3.3 == 3.3.0.0.
        let (x, y) = match (left.next(), right.next()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (x, y) => (x.unwrap_or("0"), y.unwrap_or("0")),
        };
        let order = compare_part(x, y);
        if order.is_ne() {
            return order;
        }
    }
}

fn compare_part(x: &str, y: &str) -> std::cmp::Ordering {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let (dx, dy) = (digits(x), digits(y));
    let nx = x[..dx].trim_start_matches('0');
    let ny = y[..dy].trim_start_matches('0');
    nx.len()
        .cmp(&ny.len())
        .then_with(|| nx.cmp(ny))
        .then_with(|| x[dx..].cmp(&y[dy..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    /// Real agents (from the published records in fixtures/real and the SDKs' own formats),
    /// as logged, with what the parser must make of them.
    #[rustfmt::skip]
    const AGENTS: &[(&str, UaKind, Option<&str>, Option<&str>)] = &[
        // AWS CLI v1: the old form, with the botocore that signs for it.
        ("[aws-cli/1.18.136 Python/3.8.5 Darwin/19.5.0 botocore/1.17.59]", UaKind::Cli, Some("aws-cli"), Some("1.18.136")),
        ("aws-cli/1.10.32 Python/2.7.9 Windows/7 botocore/1.4.22", UaKind::Cli, Some("aws-cli"), Some("1.10.32")),
        ("aws-cli/1.11.76 Python/2.7.10 Darwin/17.7.0 botocore/1.5.39", UaKind::Cli, Some("aws-cli"), Some("1.11.76")),
        ("aws-cli/1.3.2 Python/2.7.5 Windows/7", UaKind::Cli, Some("aws-cli"), Some("1.3.2")),
        ("aws-cli/1.18.89 Python/3.6.10 Linux/4.9.217-0.1.ac.205.84.332.metal1.x86_64 botocore/1.17.12", UaKind::Cli, Some("aws-cli"), Some("1.18.89")),
        // AWS CLI v2: old and structured forms, CloudShell.
        ("aws-cli/2.13.0 Python/3.11.4 Linux/5.10.0-1234-aws exe/x86_64.ubuntu.22", UaKind::Cli, Some("aws-cli"), Some("2.13.0")),
        ("aws-cli/2.15.59 md/awscrt#0.19.19 ua/2.0 os/macos#22.6.0 md/arch#arm64 lang/python#3.11.11 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#sts.get-caller-identity", UaKind::Cli, Some("aws-cli"), Some("2.15.59")),
        ("aws-cli/2.13.5 Python/3.11.4 Linux/4.14.255-314-253.539.amzn2.x86_64 exec-env/CloudShell exe/x86_64.amzn.2 prompt/off command/ec2.stop-instances", UaKind::Cli, Some("aws-cli"), Some("2.13.5")),
        ("aws-cli/2.0.0 Python/3.7.3 Linux/4.14.133-113.105.amzn2.x86_64 botocore/2.0.0dev4", UaKind::Cli, Some("aws-cli"), Some("2.0.0")),
        // boto3, botocore, boto 2.
        ("Boto3/1.24.84 Python/3.8.14 Linux/4.14.225-175.364.amzn2.aarch64 Botocore/1.27.84", UaKind::Sdk, Some("boto3"), Some("1.24.84")),
        ("Boto3/1.26.2 Python/3.10.8 Linux/4.14.294-220.533.amzn2.x86_64 exec-env/AWS_ECS_FARGATE Botocore/1.29.2", UaKind::Sdk, Some("boto3"), Some("1.26.2")),
        ("Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#5.10.198 md/arch#x86_64 lang/python#3.10.13 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.0", UaKind::Sdk, Some("boto3"), Some("1.28.0")),
        ("Boto3/1.26.0", UaKind::Sdk, Some("boto3"), Some("1.26.0")),
        ("Botocore/1.31.0 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.11.4", UaKind::Sdk, Some("botocore"), Some("1.31.0")),
        ("Boto/2.48.0 Python/2.7.12 Linux/4.4.0-1049-aws", UaKind::Sdk, Some("boto"), Some("2.48.0")),
        // Java v1 and v2.
        ("aws-sdk-java/1.11.100 Linux/4.9.0-6-amd64 OpenJDK_64-Bit_Server_VM/25.121-b13 java/1.8.0_121", UaKind::Sdk, Some("aws-sdk-java"), Some("1.11.100")),
        ("aws-sdk-java/1.12.488 Linux/5.10.198-187.748.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372 vendor/Oracle_Corporation cfg/retry-mode/standard", UaKind::Sdk, Some("aws-sdk-java"), Some("1.12.488")),
        ("aws-sdk-java/2.20.160-SNAPSHOT Linux/5.10.216-225.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/11.0.23+9-LTS Java/11.0.23 vendor/Amazon.com_Inc. md/internal exec-env/AWS_Lambda_java11 io/sync http/Apache cfg/retry-mode/standard", UaKind::Sdk, Some("aws-sdk-java"), Some("2.20.160-SNAPSHOT")),
        ("aws-sdk-java/2.25.6 ua/2.0 OS/Linux#5.10.210 lang/java#17.0.10 md/OpenJDK_64-Bit_Server_VM#17.0.10+7-LTS md/vendor#Amazon.com_Inc. md/en_US", UaKind::Sdk, Some("aws-sdk-java"), Some("2.25.6")),
        ("Hadoop 3.3.4, aws-sdk-java/1.12.262 Linux/5.10.186 OpenJDK_64-Bit_Server_VM/25.372-b07 java/1.8.0_372 vendor/Amazon.com_Inc. cfg/retry-mode/legacy", UaKind::Sdk, Some("aws-sdk-java"), Some("1.12.262")),
        // JavaScript v2 (Node.js and browser names) and v3.
        ("aws-sdk-nodejs/2.50.0 linux/v8.10.0 callback", UaKind::Sdk, Some("aws-sdk-js"), Some("2.50.0")),
        ("aws-sdk-nodejs/2.1400.0 linux/v18.18.2 exec-env/AWS_Lambda_nodejs18.x promise", UaKind::Sdk, Some("aws-sdk-js"), Some("2.1400.0")),
        ("aws-sdk-js/2.283.1 promise", UaKind::Sdk, Some("aws-sdk-js"), Some("2.283.1")),
        ("aws-sdk-js/3.450.0 ua/2.0 os/linux#5.10.209-219.887.amzn2.x86_64 lang/js md/nodejs#20.10.0 exec-env/AWS_Lambda_nodejs20.x api/s3#3.450.0", UaKind::Sdk, Some("aws-sdk-js"), Some("3.450.0")),
        ("aws-sdk-nodejs-v3-@aws-sdk/client-s3/1.0.0-gamma.8 linux/v12.16.1", UaKind::Sdk, Some("aws-sdk-js"), None),
        ("aws-sdk-js/ ua/2.0 os/linux#5.10 lang/js md/nodejs#20.10.0 api/s3#3.450.0", UaKind::Sdk, Some("aws-sdk-js"), None),
        // .NET v1, v2, v3 and the structured form.
        ("aws-sdk-dotnet/1.5.10.0 .NET_Runtime/4.0 .NET_Framework/4.0 OS/6.1.7601.65536 S3Sync", UaKind::Sdk, Some("aws-sdk-dotnet"), Some("1.5.10.0")),
        ("aws-sdk-dotnet-35/2.0.15.0 .NET_Runtime/2.0 .NET_Framework/3.5 OS/Microsoft_Windows_NT_6.1.7601.0 ClientSync", UaKind::Sdk, Some("aws-sdk-dotnet"), Some("2.0.15.0")),
        ("aws-sdk-dotnet-45/3.3.1.0 aws-sdk-dotnet-core/3.3.2.0 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_6.2.9200.0 ClientSync", UaKind::Sdk, Some("aws-sdk-dotnet"), Some("3.3.1.0")),
        ("aws-sdk-dotnet-coreclr/3.7.200.30 aws-sdk-dotnet-core/3.7.200.30 .NET_Core/6.0.25 OS/Linux_5.10 ClientAsync", UaKind::Sdk, Some("aws-sdk-dotnet"), Some("3.7.200.30")),
        ("aws-sdk-dotnet-coreclr/3.7.300.34 ua/2.0 os/windows#10.0 md/ARCH#X64 lang/.NET_Core#8.0.1 md/aws-sdk-dotnet-core#3.7.301.10 api/S3#3.7.305.13 cfg/retry-mode#standard md/ClientAsync", UaKind::Sdk, Some("aws-sdk-dotnet"), Some("3.7.300.34")),
        // The structured .NET agents of aws-sdk-net 3.7.300+ (the format its own unit test
        // gives) and v4 (`aws-sdk-dotnet-framework` on .NET Framework).
        ("aws-sdk-dotnet-45/3.7.300.16 md/aws-sdk-dotnet-core#3.7.300.16 ua/2.0 os/windows#6.2.9200.0 lang/.NET_Runtime#4.0 md/.NET_Framework#4.8.09037", UaKind::Sdk, Some("aws-sdk-dotnet"), Some("3.7.300.16")),
        ("aws-sdk-dotnet-framework/4.0.0.1 ua/2.0 os/windows#10.0 lang/.NET_Runtime#4.0 md/.NET_Framework#4.8.09037 md/aws-sdk-dotnet-core#4.0.0.6 api/S3#4.0.0.1", UaKind::Sdk, Some("aws-sdk-dotnet"), Some("4.0.0.1")),
        ("aws-sdk-dotnet-coreclr/4.0.2.1 ua/2.0 os/linux#5.10 lang/.NET_Core#8.0.1 md/aws-sdk-dotnet-core#4.0.0.6 api/S3#4.0.2.1", UaKind::Sdk, Some("aws-sdk-dotnet"), Some("4.0.2.1")),
        // AWS Tools for PowerShell, alone and over the .NET SDK.
        ("AWSPowerShell/3.1.0.0 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_10.0.14393.0 WindowsPowerShell/5.0 ClientSync", UaKind::Cli, Some("aws-powershell"), Some("3.1.0.0")),
        ("aws-sdk-dotnet-coreclr/3.7.104.1 aws-sdk-dotnet-core/3.7.106.6 .NET_Core/6.0.8 OS/Microsoft_Windows_10.0.19044 ClientAsync AWSPowerShell.Common/4.1.180.0", UaKind::Cli, Some("aws-powershell"), Some("4.1.180.0")),
        // PHP v1, v2, v3.
        ("aws-sdk-php/1.6.2 PHP/5.3.29", UaKind::Sdk, Some("aws-sdk-php"), Some("1.6.2")),
        ("aws-sdk-php/2.8.31 Guzzle/3.9.3 curl/7.47.0 PHP/5.6.40", UaKind::Sdk, Some("aws-sdk-php"), Some("2.8.31")),
        ("aws-sdk-php2/2.8.31 Guzzle/3.9.3 curl/7.47.0 PHP/5.6.30", UaKind::Sdk, Some("aws-sdk-php"), Some("2.8.31")),
        ("aws-sdk-php/3.295.0 ua/2.0 OS/Linux#5.15 lang/php#8.2.13 GuzzleHttp/7", UaKind::Sdk, Some("aws-sdk-php"), Some("3.295.0")),
        // Ruby v1, v2, v3.
        ("aws-sdk-ruby/1.66.0 ruby/2.1.5 x86_64-linux", UaKind::Sdk, Some("aws-sdk-ruby"), Some("1.66.0")),
        ("aws-sdk-ruby2/2.11.632 ruby/2.7.0 x86_64-linux \u{6771}\u{4eac}-sync", UaKind::Sdk, Some("aws-sdk-ruby"), Some("2.11.632")),
        ("aws-sdk-ruby3/3.190.0 ua/2.0 api/s3#1.140.0 os/linux md/x86_64 lang/ruby#3.2.2 md/3.2.2 cfg/retry-mode#legacy", UaKind::Sdk, Some("aws-sdk-ruby"), Some("3.190.0")),
        // Go v1 and v2 (with its first metadata form), C++, Rust.
        ("aws-sdk-go/1.15.12 (go1.12.6; linux; amd64)", UaKind::Sdk, Some("aws-sdk-go"), Some("1.15.12")),
        ("aws-sdk-go/1.40.21 (go1.17; linux; amd64) exec-env/AWS_Lambda_go1.x", UaKind::Sdk, Some("aws-sdk-go"), Some("1.40.21")),
        ("aws-sdk-go-v2/1.14.0 os/macos lang/go/1.17.6 md/GOOS/darwin md/GOARCH/arm64 api/iam/1.17.0", UaKind::Sdk, Some("aws-sdk-go-v2"), Some("1.14.0")),
        ("aws-sdk-go-v2/1.32.3 os/linux lang/go#1.23.1 md/GOOS#linux md/GOARCH#amd64 exec-env/grimoire_095724e3 api/sts#1.26.2", UaKind::Sdk, Some("aws-sdk-go-v2"), Some("1.32.3")),
        ("aws-sdk-cpp/1.7.0 Linux/4.14.77 x86_64 GCC/7.3.1", UaKind::Sdk, Some("aws-sdk-cpp"), Some("1.7.0")),
        ("aws-sdk-cpp/1.11.200 ua/2.0 md/aws-crt#0.24.1 os/Linux#5.15 md/arch#x86_64 lang/c++#C++11 md/GCC#11.4.0", UaKind::Sdk, Some("aws-sdk-cpp"), Some("1.11.200")),
        ("aws-sdk-rust/1.1.1 os/linux lang/rust/1.74.0", UaKind::Sdk, Some("aws-sdk-rust"), Some("1.1.1")),
        // Terraform: the SDK that signs comes after the tool's own tokens.
        ("APN/1.0 HashiCorp/1.0 Terraform/1.1.2 (+https://www.terraform.io) terraform-provider-aws/3.76.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.44.157 (go1.19.3; darwin; arm64) HashiCorp-terraform-exec/0.17.3", UaKind::Sdk, Some("aws-sdk-go"), Some("1.44.157")),
        ("aws-sdk-go/1.29.7 (go1.13.7; darwin; amd64) APN/1.0 HashiCorp/1.0 Terraform/0.12.24 (+https://www.terraform.io)", UaKind::Sdk, Some("aws-sdk-go"), Some("1.29.7")),
        // Consoles: they run on an SDK of AWS's own.
        ("console.amazonaws.com", UaKind::Console, None, None),
        ("console.ec2.amazonaws.com", UaKind::Console, None, None),
        ("signin.amazonaws.com", UaKind::Console, None, None),
        ("AWSConsole", UaKind::Console, None, None),
        ("[S3Console/0.4, aws-internal/3 aws-sdk-java/1.11.666 Linux/4.9.184-0.1.ac.235.83.329.metal1.x86_64 OpenJDK_64-Bit_Server_VM/25.232-b09 java/1.8.0_232 vendor/Oracle_Corporation]", UaKind::Console, Some("S3Console"), Some("0.4")),
        ("EC2ConsoleFrontend, aws-internal/3 aws-sdk-java/1.11.848 Linux/4.9.217-0.1.ac.205.84.332.metal1.x86_64 OpenJDK_64-Bit_Server_VM/25.262-b10 java/1.8.0_262 vendor/Oracle_Corporation", UaKind::Console, None, None),
        ("EC2ConsoleBackend, aws-sdk-java/Linux/x.xx.fleetxen Java_HotSpot(TM)_64-Bit_Server_VM/xx", UaKind::Console, None, None),
        // AWS services acting for the principal.
        ("AWS Internal", UaKind::AwsService, None, None),
        ("cloudformation.amazonaws.com", UaKind::AwsService, None, None),
        ("fas.s3.amazonaws.com", UaKind::AwsService, None, None),
        ("aws-internal/3 aws-sdk-java/1.11.1030 Linux/5.4.116-64.217.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.302-b08 java/1.8.0_302 vendor/Oracle_Corporation cfg/retry-mode/legacy", UaKind::AwsService, Some("aws-internal"), Some("3")),
        ("aws-internal/3", UaKind::AwsService, Some("aws-internal"), Some("3")),
        ("Coral/Netty4", UaKind::AwsService, Some("Coral"), Some("Netty4")),
        ("awslambda-worker/1.0 rusoto/0.47.0 rust/1.55.0 linux", UaKind::AwsService, Some("awslambda-worker"), Some("1.0")),
        // Browsers (presigned URLs are fetched by them) and other HTTP clients.
        ("[Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36]", UaKind::Browser, Some("Mozilla"), Some("5.0")),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:78.0) Gecko/20100101 Firefox/78.0", UaKind::Browser, Some("Mozilla"), Some("5.0")),
        ("Mozilla/2.0 (compatible; NEWT ActiveX; Win32)", UaKind::Browser, Some("Mozilla"), Some("2.0")),
        ("Mozilla", UaKind::Browser, None, None),
        ("curl/7.68.0", UaKind::HttpClient, Some("curl"), Some("7.68.0")),
        ("Wget/1.21.3", UaKind::HttpClient, Some("Wget"), Some("1.21.3")),
        ("python-requests/2.28.0", UaKind::HttpClient, Some("python-requests"), Some("2.28.0")),
        ("Python-httplib2/0.8 (gzip)", UaKind::HttpClient, Some("Python-httplib2"), Some("0.8")),
        // Unknown software.
        ("stratus-red-team_ea782787-a65d-4fc4-9fca-1c97869a9a25", UaKind::Unknown, None, None),
        ("amazon-ssm-agent/3.2.0", UaKind::Unknown, Some("amazon-ssm-agent"), Some("3.2.0")),
        ("trufflehog/3.63.0", UaKind::Unknown, Some("trufflehog"), Some("3.63.0")),
        ("ec2-api-tools 1.6.12.2", UaKind::Unknown, None, None),
        ("Jersey/${project.version}", UaKind::Unknown, None, None),
        ("[]", UaKind::Unknown, None, None),
        ("", UaKind::Unknown, None, None),
    ];

    #[test]
    fn real_agents_give_family_version_and_kind() {
        assert!(AGENTS.len() >= 40);
        for &(logged, kind, family, version) in AGENTS {
            let ua = parse(strip_brackets(logged));
            assert_eq!(
                (ua.kind, ua.family, ua.version),
                (kind, family, version),
                "{logged}"
            );
        }
    }

    #[test]
    fn the_signer_and_runtime_are_read_from_either_form() {
        let cli = parse("aws-cli/1.16.19 Python/2.7.10 Darwin/18.7.0 botocore/1.12.9");
        assert_eq!(
            cli.signer,
            Some(Named {
                family: "botocore",
                version: "1.12.9"
            })
        );
        assert_eq!(
            cli.runtime,
            Some(Named {
                family: "Python",
                version: "2.7.10"
            })
        );
        let structured = parse("Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 lang/python#3.10.13");
        assert_eq!(structured.signer.map(|s| s.version), Some("1.31.0"));
        assert_eq!(structured.runtime.map(|r| r.version), Some("3.10.13"));
        let dotnet = parse("aws-sdk-dotnet-45/3.3.1.0 .NET_Runtime/4.0 .NET_Framework/4.0");
        assert_eq!(dotnet.runtime.map(|r| r.family), Some(".NET_Framework"));
        assert_eq!(parse("Botocore/1.31.0").signer, None, "it signs for itself");
    }

    #[test]
    fn structured_dotnet_agents_name_the_framework_release() {
        let ua = parse(
            "aws-sdk-dotnet-framework/4.0.0.1 ua/2.0 os/windows#10.0 lang/.NET_Runtime#4.0 md/.NET_Framework#4.8.09037 md/aws-sdk-dotnet-core#4.0.0.6",
        );
        assert_eq!(ua.framework, Some("4.8.09037"));
        assert_eq!(
            ua.runtime,
            Some(Named {
                family: ".NET_Runtime",
                version: "4.0"
            })
        );
        let old = parse("aws-sdk-dotnet-45/3.3.1.0 .NET_Runtime/4.0 .NET_Framework/4.0");
        assert_eq!(
            old.framework, None,
            "the old token is a runtime, not a release"
        );
        assert_eq!(
            parse("aws-sdk-dotnet-coreclr/4.0.2.1 lang/.NET_Core#8.0.1").framework,
            None
        );
    }

    #[test]
    fn javascript_agents_say_which_line_they_are_on() {
        for v3 in [
            "aws-sdk-nodejs-v3-@aws-sdk/client-s3/1.0.0-gamma.8 linux/v12.16.1",
            "aws-sdk-js/ ua/2.0 os/linux#5.10 lang/js md/nodejs#20.10.0",
            "aws-sdk-js/3.450.0 ua/2.0 os/linux#5.10 lang/js",
            "aws-sdk-js/3.45.0 os/linux/5.4 lang/js md/nodejs/14.18.1 api/s3/3.45.0",
        ] {
            assert_eq!(parse(v3).line_major, Some(3), "{v3}");
        }
        for v2 in [
            "aws-sdk-nodejs/2.50.0 linux/v8.10.0 callback",
            "aws-sdk-js/2.283.1 promise",
        ] {
            assert_eq!(parse(v2).line_major, None, "{v2}");
        }
        assert_eq!(parse("aws-sdk-java/1.11.100 ua/2.0").line_major, None);
    }

    #[test]
    fn agents_cut_at_one_kilobyte_lose_their_last_token_and_bracket() {
        let head = "aws-cli/1.16.19 Python/2.7.10 Linux/4.14 ";
        let mut logged = format!("[{head}");
        while logged.len() < 1020 {
            logged.push_str("exec-env/padding ");
        }
        logged.push_str("botocore/1.1"); // cut from botocore/1.12.9
        let ua = strip_brackets(&logged);
        assert!(ua.starts_with("aws-cli/"));
        let parsed = parse(ua);
        assert_eq!(
            (parsed.family, parsed.version),
            (Some("aws-cli"), Some("1.16.19"))
        );
        assert_eq!(parsed.signer, None, "the stump is not trusted");
    }

    #[test]
    fn brackets_come_off_once() {
        assert_eq!(strip_brackets("[aws-cli/1.0]"), "aws-cli/1.0");
        assert_eq!(strip_brackets("[[x]]"), "[x]");
        assert_eq!(strip_brackets("[aws-cli/1.0 cut"), "aws-cli/1.0 cut");
        assert_eq!(strip_brackets("curl/7.1"), "curl/7.1");
    }

    #[test]
    fn versions_compare_part_by_part() {
        assert_eq!(compare_versions("1.10.77", "1.11.201"), Less);
        assert_eq!(compare_versions("1.11.201", "1.11.1000"), Less);
        assert_eq!(compare_versions("3.3.0.0", "3.3"), Equal);
        assert_eq!(compare_versions("3.3.0.1", "3.3"), Greater);
        assert_eq!(compare_versions("2.0", "10.0"), Less);
        assert_eq!(compare_versions("1.4.06", "1.4.6"), Equal);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// True when `part` lies inside `whole` (a sub-slice, not a copy).
        fn within(part: &str, whole: &str) -> bool {
            let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
            p >= w && p + part.len() <= w + whole.len()
        }

        fn is_family_name(s: &str) -> bool {
            FAMILIES.iter().any(|&(_, family, _)| family == s)
        }

        fn check(ua: &str) {
            let parsed = parse(strip_brackets(ua));
            for s in [parsed.family, parsed.version].into_iter().flatten() {
                assert!(within(s, ua) || is_family_name(s), "{s:?} of {ua:?}");
            }
            for n in [parsed.signer, parsed.runtime].into_iter().flatten() {
                assert!(within(n.version, ua), "{n:?} of {ua:?}");
                assert!(within(n.family, ua) || is_family_name(n.family));
            }
            let _ = crate::attribute::sigv4::verdict(&parsed);
        }

        proptest! {
            #[test]
            fn parsing_arbitrary_text_returns_slices_of_it(ua in ".{0,1100}") {
                check(&ua);
            }

            #[test]
            fn parsing_arbitrary_bytes_returns_slices_of_them(bytes in proptest::collection::vec(any::<u8>(), 0..1100)) {
                check(&String::from_utf8_lossy(&bytes));
            }

            #[test]
            fn agent_shaped_text_never_panics(
                tokens in proptest::collection::vec(
                    "(\\[|aws-cli|Boto3|botocore|md|aws-sdk-[a-z0-9-]{0,12}|Mozilla|curl)?[/#]?[0-9.a-z#/_-]{0,12},?",
                    0..40,
                ),
            ) {
                check(&tokens.join(" "));
            }

            #[test]
            fn version_order_is_antisymmetric(a in "[0-9a-z._-]{0,16}", b in "[0-9a-z._-]{0,16}") {
                prop_assert_eq!(compare_versions(&a, &b), compare_versions(&b, &a).reverse());
            }
        }
    }
}
