//! Which client versions can sign S3 requests with SigV4: the one table of the project.
//!
//! From AWS's "Moving from Signature Version 2 to Signature Version 4" table (docs/CLOUDTRAIL.md §3).
//! The minimum depends on the major line of a client, not only on its family: Java v1 needs
//! 1.11.201 while every Java v2 signs with SigV4; Ruby v1 and v2 never can, Ruby v3 always
//! does. So the table is keyed by family *and* major version. Below a line's minimum a
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
    ClientLine {
        needs_configuration: true,
        configure: DOTNET_CONFIG,
        ..line(
            "aws-sdk-dotnet",
            0..=2,
            "AWS SDK for .NET v1/v2",
            Support::Never,
            "3.1.10",
        )
    },
    ClientLine {
        needs_configuration: true,
        configure: DOTNET_CONFIG,
        ..line(
            "aws-sdk-dotnet",
            3..=u32::MAX,
            "AWS SDK for .NET v3",
            Support::From,
            "3.3.0.0",
        )
    },
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
    line(
        "aws-sdk-ruby",
        0..=2,
        "AWS SDK for Ruby v1/v2",
        Support::Never,
        "3.0.0",
    ),
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
    let mut lines = LINES.iter().filter(|l| l.family == family).peekable();
    let first = *lines.peek()?;
    let Some(m) = version.and_then(major) else {
        return Some(first);
    };
    Some(lines.find(|l| l.majors.contains(&m)).unwrap_or(first))
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
    let family = ua.family?;
    let line = line_of(family, ua.version)?;
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

/// True when the agent names a client known to be unable to sign S3 requests with SigV4:
/// the test for inferring SigV2 on events that predate `SignatureVersion`.
pub fn below_sigv4_minimum(ua: &UserAgent<'_>) -> bool {
    verdict(ua).is_some_and(|v| v.capability == Capability::BelowMinimum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::user_agent::parse;

    fn below(agent: &str) -> bool {
        below_sigv4_minimum(&parse(agent))
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
            Some("3.1.10")
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
}
