//! Which client versions can sign S3 requests with SigV4: the one table of the project.
//!
//! From AWS's "Moving from Signature Version 2 to Signature Version 4" table (docs/CLOUDTRAIL.md §3),
//! corrected where an SDK's own source says otherwise (each such line cites it).
//! The minimum depends on the major line of a client, not only on its family: Java v1 needs
//! 1.11.201 while every Java v2 signs with SigV4; AWS's table sends Ruby v1 and v2 to v3,
//! Ruby v3 always signs with SigV4. So the table is keyed by family *and* major version. Below a line's minimum a
//! client must be upgraded; at or above it, it can sign with SigV4 and a SigV2 request means
//! its configuration (or a presigned URL) still asks for SigV2.

use std::ops::RangeInclusive;

use super::user_agent::{UserAgent, compare_versions};

/// What a line of a client can do with SigV4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Every version signs S3 requests with SigV4 only.
    Always,
    /// Versions from `sigv4_min` on can sign with SigV4; older ones cannot.
    From,
    /// No version of this line can: the fix is to move to another line (`sigv4_min`).
    Never,
}

/// Where a client below its minimum signs S3 requests with SigV2 by default: what
/// `evidence = inferred` may claim for it on events that predate `SignatureVersion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigV2Default {
    /// Every request, in every region that accepted SigV2 (`sigv2::SIGV2_REGIONS`).
    Everywhere,
    /// aws-sdk-ruby v2's S3 signer: us-east-1, and uploads in the other SigV2 regions
    /// (`sigv2::ruby_v2_signs_sigv2`).
    RubyV2Signer,
}

/// One major line of one client family.
#[derive(Debug, PartialEq, Eq)]
pub struct ClientLine {
    /// The normalised family, as written to `ua_family`.
    pub family: &'static str,
    /// The major versions this line covers.
    pub majors: RangeInclusive<u32>,
    /// How people call it: "AWS CLI v1".
    pub name: &'static str,
    pub support: Support,
    /// The first version able to sign with SigV4 (`sigv4_min_version`). For lines that always
    /// sign with SigV4 it is the first version of the line (`0.0.0`: every version).
    pub sigv4_min: &'static str,
    /// The family that signs for this one when the agent names it too: aws-cli v1 and boto3
    /// sign through botocore, so botocore's version decides.
    pub signer: Option<&'static str>,
    /// The table adds "with signature set to v4": reaching the minimum is not enough.
    pub needs_configuration: bool,
    /// How to make a capable version sign with SigV4 (or stop forcing SigV2).
    pub configure: &'static str,
    /// Where a version below the minimum signs with SigV2 by default.
    pub sigv2_default: SigV2Default,
}

const EVERY_VERSION: &str = "0.0.0";

const fn line(
    family: &'static str,
    majors: RangeInclusive<u32>,
    name: &'static str,
    support: Support,
    sigv4_min: &'static str,
) -> ClientLine {
    ClientLine {
        family,
        majors,
        name,
        support,
        sigv4_min,
        signer: None,
        needs_configuration: false,
        configure: "",
        sigv2_default: SigV2Default::Everywhere,
    }
}

const ALL: RangeInclusive<u32> = 0..=u32::MAX;
const BOTOCORE_CONFIG: &str = "pass Config(signature_version='s3v4') to the S3 client (also the one that generates presigned URLs) and remove any `signature_version = s3` from ~/.aws/config";
const DOTNET_CONFIG: &str = "set AWSConfigsS3.UseSignatureVersion4 = true (app.config: <s3 useSignatureVersion4=\"true\"/>)";

/// The table. Families normalised by `user_agent::parse` that are missing here are unknown.
pub static LINES: &[ClientLine] = &[
    ClientLine {
        signer: Some("botocore"),
        configure: "run `aws configure set default.s3.signature_version s3v4` (an older config may force `s3`)",
        ..line("aws-cli", 0..=1, "AWS CLI v1", Support::From, "1.11.108")
    },
    line(
        "aws-cli",
        2..=u32::MAX,
        "AWS CLI v2",
        Support::Always,
        "2.0.0",
    ),
    ClientLine {
        signer: Some("botocore"),
        configure: BOTOCORE_CONFIG,
        ..line("boto3", ALL, "boto3", Support::From, "1.4.6")
    },
    ClientLine {
        configure: BOTOCORE_CONFIG,
        ..line("botocore", ALL, "botocore", Support::From, "1.5.71")
    },
    ClientLine {
        needs_configuration: true,
        configure: "set `use-sigv4 = True` in the [s3] section of the boto config, or move to boto3",
        ..line("boto", ALL, "boto 2", Support::From, "2.49.0")
    },
    ClientLine {
        configure: "remove any setSignerOverride(\"S3SignerType\") from the client configuration",
        ..line(
            "aws-sdk-java",
            0..=1,
            "AWS SDK for Java v1",
            Support::From,
            "1.11.201",
        )
    },
    line(
        "aws-sdk-java",
        2..=u32::MAX,
        "AWS SDK for Java v2",
        Support::Always,
        "2.0.0",
    ),
    ClientLine {
        configure: "set signatureVersion: 'v4' in the S3 client options (presigned URLs too)",
        ..line(
            "aws-sdk-js",
            0..=2,
            "AWS SDK for JavaScript v2",
            Support::From,
            "2.68.0",
        )
    },
    line(
        "aws-sdk-js",
        3..=u32::MAX,
        "AWS SDK for JavaScript v3",
        Support::Always,
        "3.0.0",
    ),
    // AWS's table sends .NET v1 and v2 to v3; the version to move to is the v3 line's own
    // minimum, so that the advice never names a version this table calls too old.
    ClientLine {
        needs_configuration: true,
        configure: DOTNET_CONFIG,
        ..line(
            "aws-sdk-dotnet",
            0..=2,
            "AWS SDK for .NET v1/v2",
            Support::Never,
            "3.3.0.0",
        )
    },
    ClientLine {
        needs_configuration: true,
        configure: DOTNET_CONFIG,
        ..line(
            "aws-sdk-dotnet",
            3..=3,
            "AWS SDK for .NET v3",
            Support::From,
            "3.3.0.0",
        )
    },
    // .NET v4 signs S3 requests with SigV4 only and removed the v3 setting
    // `AWSConfigsS3.UseSignatureVersion4` ("S3-specific changes",
    // https://docs.aws.amazon.com/sdk-for-net/v4/developer-guide/net-dg-v4.html#net-dg-v4-s3-specific;
    // maintainers in aws/aws-sdk-net discussion #3997). Its agents are
    // `aws-sdk-dotnet-framework/4.x` (.NET Framework builds) and `aws-sdk-dotnet-coreclr/4.x`
    // (`_userAgentBaseName` in sdk/src/Core/Amazon.Util/Internal/_bcl and _netstandard).
    line(
        "aws-sdk-dotnet",
        4..=u32::MAX,
        "AWS SDK for .NET v4",
        Support::Always,
        "4.0.0.0",
    ),
    ClientLine {
        configure: "run [Amazon.AWSConfigsS3]::UseSignatureVersion4 = $true in the session",
        ..line(
            "aws-powershell",
            ALL,
            "AWS Tools for PowerShell",
            Support::From,
            "3.3.0.0",
        )
    },
    ClientLine {
        needs_configuration: true,
        configure: "set 'signature' => 'v4' in the S3 client configuration",
        ..line(
            "aws-sdk-php",
            0..=2,
            "AWS SDK for PHP v1/v2",
            Support::From,
            "2.7.4",
        )
    },
    line(
        "aws-sdk-php",
        3..=u32::MAX,
        "AWS SDK for PHP v3",
        Support::Always,
        "3.0.0",
    ),
    // Ruby v1 signs every S3 request with SigV2 (`AWS::S3::Request#add_authorization!`,
    // lib/aws/s3/request.rb of aws-sdk-ruby v1: `Authorization: AWS key:signature`).
    line(
        "aws-sdk-ruby",
        0..=1,
        "AWS SDK for Ruby v1",
        Support::Never,
        "3.0.0",
    ),
    // AWS's table sends Ruby v2 to v3, but v2's S3 signer uses SigV2 by default only in
    // us-east-1 and for uploads in the other SigV2 regions (sigv2::ruby_v2_signs_sigv2).
    ClientLine {
        sigv2_default: SigV2Default::RubyV2Signer,
        ..line(
            "aws-sdk-ruby",
            2..=2,
            "AWS SDK for Ruby v2",
            Support::Never,
            "3.0.0",
        )
    },
    line(
        "aws-sdk-ruby",
        3..=u32::MAX,
        "AWS SDK for Ruby v3",
        Support::Always,
        "3.0.0",
    ),
    line(
        "aws-sdk-go",
        ALL,
        "AWS SDK for Go v1",
        Support::Always,
        EVERY_VERSION,
    ),
    line(
        "aws-sdk-go-v2",
        ALL,
        "AWS SDK for Go v2",
        Support::Always,
        EVERY_VERSION,
    ),
    line(
        "aws-sdk-cpp",
        ALL,
        "AWS SDK for C++",
        Support::Always,
        EVERY_VERSION,
    ),
    line(
        "aws-sdk-rust",
        ALL,
        "AWS SDK for Rust",
        Support::Always,
        EVERY_VERSION,
    ),
    line(
        "aws-sdk-kotlin",
        ALL,
        "AWS SDK for Kotlin",
        Support::Always,
        EVERY_VERSION,
    ),
    line(
        "aws-sdk-swift",
        ALL,
        "AWS SDK for Swift",
        Support::Always,
        EVERY_VERSION,
    ),
];

/// The leading number of a version (`3` of `3.3.1.0`); `None` when it does not start with one.
pub fn major(version: &str) -> Option<u32> {
    let digits = version.bytes().take_while(u8::is_ascii_digit).count();
    version.get(..digits)?.parse().ok()
}

/// The line of a family for a version: by its major; without a usable version, the family's
/// first line (so that a known family always has a minimum to show).
pub fn line_of(family: &str, version: Option<&str>) -> Option<&'static ClientLine> {
    line_of_major(family, version.and_then(major))
}

/// The line of a family for a major version (`None`: the family's first line).
pub fn line_of_major(family: &str, major: Option<u32>) -> Option<&'static ClientLine> {
    let mut lines = LINES.iter().filter(|l| l.family == family).peekable();
    let first = *lines.peek()?;
    let Some(m) = major else {
        return Some(first);
    };
    Some(lines.find(|l| l.majors.contains(&m)).unwrap_or(first))
}

/// The line of the client an agent names: by its version, else by the line the agent's form
/// gives away (`UserAgent::line_major`: JavaScript v3 agents without a usable version).
pub fn line_for(ua: &UserAgent<'_>) -> Option<&'static ClientLine> {
    let family = ua.family?;
    line_of_major(family, ua.version.and_then(major).or(ua.line_major))
}

/// The line and version a client below its minimum must reach: its own line's minimum, or,
/// for a line that never can, the minimum of the line it must move to.
pub fn upgrade_target(line: &'static ClientLine) -> (&'static ClientLine, &'static str) {
    match line.support {
        Support::Never => {
            let target = line_of(line.family, Some(line.sigv4_min)).unwrap_or(line);
            let version = if compare_versions(target.sigv4_min, line.sigv4_min).is_gt() {
                target.sigv4_min
            } else {
                line.sigv4_min
            };
            (target, version)
        }
        Support::Always | Support::From => (line, line.sigv4_min),
    }
}

/// `sigv4_min_version` of an output row: filled for every family in the table.
pub fn sigv4_min_version(family: &str, version: Option<&str>) -> Option<&'static str> {
    line_of(family, version).map(|l| l.sigv4_min)
}

/// Whether the client behind an agent can sign S3 requests with SigV4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// The line signs with SigV4 only.
    Always,
    /// At or above the minimum: SigV4 is possible, SigV2 comes from configuration.
    Capable,
    /// Below the minimum (or a line that never can): must upgrade.
    BelowMinimum,
    /// A known family whose version was not logged (or not a number).
    UnknownVersion,
}

/// The verdict on one agent, with the token that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict<'a> {
    /// The line of the client the agent names (`ua_family`).
    pub line: &'static ClientLine,
    /// The line and version that decided: the client itself, or its signer (botocore under
    /// aws-cli v1 and boto3) when the agent names it.
    pub decided_by: &'static ClientLine,
    pub decided_version: Option<&'a str>,
    pub capability: Capability,
}

impl Verdict<'_> {
    /// True when the decision came from another token than the client's own (botocore).
    pub fn decided_by_signer(&self) -> bool {
        !std::ptr::eq(self.line, self.decided_by)
    }
}

/// Decides whether the client behind `ua` can sign with SigV4; `None` for families not in
/// the table (browsers, curl, consoles, unknown software).
pub fn verdict<'a>(ua: &UserAgent<'a>) -> Option<Verdict<'a>> {
    let line = line_for(ua)?;
    // The signer decides when the agent names it with a usable version: aws-cli 1.11.200
    // over botocore 1.5.50 still signs with SigV2.
    let signer = line
        .signer
        .zip(ua.signer)
        .filter(|(wanted, s)| *wanted == s.family && major(s.version).is_some())
        .and_then(|(_, s)| Some((line_of(s.family, Some(s.version))?, s.version)));
    let (decided_by, decided_version) = match signer {
        Some((signer_line, version)) => (signer_line, Some(version)),
        None => (line, ua.version.filter(|v| major(v).is_some())),
    };
    let capability = match (decided_by.support, decided_version) {
        (Support::Always, _) => Capability::Always,
        (Support::Never, _) => Capability::BelowMinimum,
        (Support::From, None) => Capability::UnknownVersion,
        (Support::From, Some(v)) if compare_versions(v, decided_by.sigv4_min).is_lt() => {
            Capability::BelowMinimum
        }
        (Support::From, Some(_)) => Capability::Capable,
    };
    Some(Verdict {
        line,
        decided_by,
        decided_version,
        capability,
    })
}

/// Where the client behind `ua` signs with SigV2 by default when it is below its minimum
/// (the line that decided: botocore's under the CLI v1 and boto3); `None` otherwise.
pub fn sigv2_default(ua: &UserAgent<'_>) -> Option<SigV2Default> {
    verdict(ua)
        .filter(|v| v.capability == Capability::BelowMinimum)
        .map(|v| v.decided_by.sigv2_default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::user_agent::parse;

    /// The agent names a client known to be unable to sign S3 requests with SigV4.
    fn below(agent: &str) -> bool {
        verdict(&parse(agent)).is_some_and(|v| v.capability == Capability::BelowMinimum)
    }

    #[test]
    fn every_family_has_a_first_line_and_lines_do_not_overlap() {
        for l in LINES {
            assert!(line_of(l.family, None).is_some());
            let overlapping = LINES
                .iter()
                .filter(|o| o.family == l.family && !std::ptr::eq(*o, l))
                .any(|o| o.majors.start() <= l.majors.end() && l.majors.start() <= o.majors.end());
            assert!(!overlapping, "{} lines overlap", l.family);
            assert!(major(l.sigv4_min).is_some(), "{}", l.sigv4_min);
        }
    }

    #[test]
    fn the_minimum_depends_on_the_major_line() {
        assert_eq!(
            sigv4_min_version("aws-sdk-java", Some("1.11.100")),
            Some("1.11.201")
        );
        assert_eq!(
            sigv4_min_version("aws-sdk-java", Some("2.20.1")),
            Some("2.0.0")
        );
        assert_eq!(
            sigv4_min_version("aws-sdk-dotnet", Some("2.3.8.1")),
            Some("3.3.0.0"),
            "v1/v2 move to the v3 line's own minimum"
        );
        assert_eq!(
            sigv4_min_version("aws-sdk-dotnet", Some("3.3.1.0")),
            Some("3.3.0.0")
        );
        assert_eq!(
            sigv4_min_version("aws-sdk-ruby", Some("2.11.632")),
            Some("3.0.0")
        );
        assert_eq!(
            sigv4_min_version("aws-sdk-java", None),
            Some("1.11.201"),
            "no version: the family's first line"
        );
        assert_eq!(sigv4_min_version("curl", Some("7.1")), None);
    }

    #[test]
    fn old_clients_are_below_and_new_lines_never_are() {
        assert!(below("aws-sdk-java/1.11.100 Linux/4.9"));
        assert!(below("aws-sdk-java/1.10.77 Linux/4.9"));
        assert!(!below("aws-sdk-java/1.11.201 Linux/4.9"));
        assert!(
            !below("aws-sdk-java/1.11.1000 Linux/4.9"),
            "numeric, not text order"
        );
        assert!(!below("aws-sdk-java/2.0.0 Linux/4.9"));
        assert!(below("aws-sdk-ruby2/2.11.632 ruby/2.7.0"));
        assert!(below("aws-sdk-ruby/1.66.0 ruby/2.1.5"));
        assert!(!below("aws-sdk-ruby3/3.190.0 ua/2.0"));
        assert!(below("aws-sdk-php/2.7.3 Guzzle/3.9.3"));
        assert!(!below("aws-sdk-php/3.0.0 GuzzleHttp/6"));
        assert!(below("aws-sdk-dotnet/2.3.8.1 .NET_Runtime/4.0"));
        assert!(below(
            "aws-sdk-dotnet-45/3.2.0.0 aws-sdk-dotnet-core/3.2.0.0"
        ));
        assert!(!below(
            "aws-sdk-dotnet-45/3.3.1.0 aws-sdk-dotnet-core/3.3.2.0"
        ));
        assert!(below("AWSPowerShell/3.1.0.0 .NET_Runtime/4.0"));
        assert!(!below("aws-sdk-go/1.4.14 (go1.11.4; darwin; amd64)"));
        assert!(!below("curl/7.29.0"));
        assert!(
            !below("aws-sdk-java/Linux/x.xx.fleetxen"),
            "no version: unknown"
        );
    }

    #[test]
    fn botocore_decides_for_the_cli_and_boto3() {
        // Both agree: the usual case, since aws-cli pins its botocore.
        assert!(below(
            "aws-cli/1.10.1 Python/2.7.9 Linux/3.14 botocore/1.4.1"
        ));
        assert!(!below(
            "aws-cli/1.16.19 Python/2.7.10 Darwin/18.7.0 botocore/1.12.9"
        ));
        // A newer CLI over an old botocore still signs with SigV2.
        let v = verdict(&parse(
            "aws-cli/1.11.200 Python/2.7 Linux/4 botocore/1.5.50",
        ))
        .unwrap();
        assert_eq!(v.capability, Capability::BelowMinimum);
        assert!(v.decided_by_signer());
        assert_eq!(v.decided_by.family, "botocore");
        // boto3 1.4.7 is above its own minimum but its botocore is not.
        assert!(below("Boto3/1.4.7 Python/2.7.12 Linux/4.4 Botocore/1.5.60"));
        assert!(!below(
            "Boto3/1.4.0 Python/2.7.12 Linux/4.4 Botocore/1.5.80"
        ));
        // Without a botocore token, the client's own version decides.
        assert!(below("aws-cli/1.10.1 Python/2.7.9"));
        assert!(below("Boto3/1.4.0"));
        // The structured form names botocore as metadata.
        assert!(!below(
            "Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#5.10 lang/python#3.10.13"
        ));
        // CLI v2 never needs botocore's word.
        assert!(!below(
            "aws-cli/2.0.0 Python/3.7.3 Linux/4.14 botocore/2.0.0dev4"
        ));
    }

    /// An agent naming `family` at `version`, as the SDK logs it (with the botocore that signs
    /// for the CLI v1 and boto3 at botocore's own minimum).
    fn agent_for(line: &ClientLine, version: &str, botocore: &str) -> String {
        match (line.family, line.signer) {
            (_, Some(_)) if line.family == "aws-cli" => {
                format!("aws-cli/{version} Python/2.7.12 Linux/4.4 botocore/{botocore}")
            }
            (_, Some(_)) => format!("Boto3/{version} Python/2.7.12 Linux/4.4 Botocore/{botocore}"),
            ("aws-powershell", _) => format!("AWSPowerShell/{version} .NET_Runtime/4.0"),
            ("aws-sdk-js", _) => format!("aws-sdk-nodejs/{version} linux/v8.10.0"),
            ("aws-sdk-dotnet", _) => {
                format!("aws-sdk-dotnet-45/{version} aws-sdk-dotnet-core/{version}")
            }
            ("aws-sdk-ruby", _) => format!("aws-sdk-ruby3/{version} ruby/2.5.0"),
            (family, _) => format!("{family}/{version}"),
        }
    }

    #[test]
    fn a_client_at_the_version_advice_sends_it_to_is_not_told_to_upgrade() {
        use crate::attribute::advice::sigv2_advice;
        let mut walked = 0;
        for l in LINES.iter().filter(|l| l.support != Support::Always) {
            let (target, version) = upgrade_target(l);
            // The version the line's own advice names, at the line it names.
            let botocore = line_of("botocore", None).map_or("", |l| l.sigv4_min);
            let below = agent_for(l, &format!("{}.0.0", l.majors.start()), "1.0.0");
            let advice = sigv2_advice(Some(&below), None);
            assert!(
                advice.contains(&format!("{} or later", version)),
                "{}: {advice}",
                l.name
            );
            let at = agent_for(target, version, botocore);
            let ua = parse(&at);
            let v = verdict(&ua).unwrap_or_else(|| panic!("{at}"));
            assert!(std::ptr::eq(v.line, target), "{at}: {}", v.line.name);
            assert_ne!(v.capability, Capability::BelowMinimum, "{at}");
            let advice = sigv2_advice(Some(&at), None);
            for told in ["upgrade", "cannot sign", "no version of", "move to AWS"] {
                assert!(!advice.contains(told), "{at}: {advice}");
            }
            walked += 1;
        }
        assert!(walked >= 9, "{walked}");
    }

    #[test]
    fn dotnet_v4_is_a_line_of_its_own_and_signs_sigv4_only() {
        for agent in [
            "aws-sdk-dotnet-framework/4.0.0.1 ua/2.0 os/windows#10.0 lang/.NET_Runtime#4.0 md/.NET_Framework#4.8.09037 md/aws-sdk-dotnet-core#4.0.0.6 api/S3#4.0.0.1",
            "aws-sdk-dotnet-coreclr/4.0.2.1 ua/2.0 os/linux#5.10 lang/.NET_Core#8.0.1 md/aws-sdk-dotnet-core#4.0.0.6 api/S3#4.0.2.1",
            "aws-sdk-dotnet-core/4.0.0.6 OS/Linux",
        ] {
            let v = verdict(&parse(agent)).unwrap();
            assert_eq!(v.line.name, "AWS SDK for .NET v4", "{agent}");
            assert_eq!(v.capability, Capability::Always, "{agent}");
            assert!(!below(agent));
        }
        let v3 = line_of("aws-sdk-dotnet", Some("3.7.300.34")).unwrap();
        assert_eq!(v3.name, "AWS SDK for .NET v3");
        let v4 = line_of("aws-sdk-dotnet", Some("4.0.0.1")).unwrap();
        assert!(!v4.configure.contains("UseSignatureVersion4"));
    }

    #[test]
    fn javascript_v3_agents_without_a_version_stay_on_the_v3_line() {
        for agent in [
            "aws-sdk-nodejs-v3-@aws-sdk/client-s3/1.0.0-gamma.8 linux/v12.16.1",
            "aws-sdk-js-v3-@aws-sdk/client-s3/3.45.0 os/linux/5.4 lang/js md/nodejs/14.18.1 api/s3/3.45.0",
            "aws-sdk-js/ ua/2.0 os/linux#5.10 lang/js md/nodejs#20.10.0 api/s3#3.450.0",
            "aws-sdk-js/3.450.0 ua/2.0 os/linux#5.10 lang/js md/nodejs#20.10.0 api/s3#3.450.0",
        ] {
            let ua = parse(agent);
            let v = verdict(&ua).unwrap_or_else(|| panic!("{agent}"));
            assert_eq!(v.line.name, "AWS SDK for JavaScript v3", "{agent}");
            assert_eq!(v.capability, Capability::Always, "{agent}");
            assert_eq!(line_for(&ua).map(|l| l.sigv4_min), Some("3.0.0"));
        }
        // v2 always logs its version: it stays on the v2 line.
        let v = verdict(&parse("aws-sdk-nodejs/2.50.0 linux/v8.10.0 callback")).unwrap();
        assert_eq!(v.line.name, "AWS SDK for JavaScript v2");
        assert_eq!(v.capability, Capability::BelowMinimum);
    }

    #[test]
    fn ruby_v1_and_v2_are_below_but_only_v1_signs_sigv2_everywhere() {
        assert_eq!(
            sigv2_default(&parse("aws-sdk-ruby/1.66.0 ruby/2.1.5 x86_64-linux")),
            Some(SigV2Default::Everywhere)
        );
        for agent in [
            "aws-sdk-ruby2/2.11.632 ruby/2.7.0 x86_64-linux",
            "aws-sdk-ruby/2.3.22 ruby/2.3.1 x86_64-linux",
        ] {
            assert!(below(agent), "{agent}");
            assert_eq!(
                sigv2_default(&parse(agent)),
                Some(SigV2Default::RubyV2Signer),
                "{agent}"
            );
        }
        assert_eq!(sigv2_default(&parse("aws-sdk-ruby3/3.190.0 ua/2.0")), None);
        assert_eq!(
            sigv2_default(&parse("aws-cli/1.10.1 Python/2.7.9 botocore/1.4.1")),
            Some(SigV2Default::Everywhere),
            "botocore decides"
        );
    }
}
