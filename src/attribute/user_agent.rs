//! User agents: which client made a request, so its owner knows what to upgrade.
//!
//! The family and version come from the first `name/version` token of the agent, after S3's
//! surrounding brackets are removed. Known SDK names are normalised to one family per SDK
//! (`aws-sdk-nodejs` and `aws-sdk-js` are both JavaScript), so that the SigV4 minimum can be
//! looked up in one table.

/// Removes one pair of surrounding square brackets: S3 events log `[aws-cli/1.16.19 ...]`.
pub fn strip_brackets(ua: &str) -> &str {
    ua.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(ua)
}

/// The client family and version of an agent (brackets already stripped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientVersion<'a> {
    pub family: &'a str,
    pub version: &'a str,
}

/// Reads the first `name/version` token.
pub fn client_version(ua: &str) -> Option<ClientVersion<'_>> {
    ua.split_ascii_whitespace().find_map(|token| {
        let (name, version) = token.split_once('/')?;
        // `version` stops where version characters stop: `1.0;` or `3.3.1.0,`.
        let end = version
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+')))
            .unwrap_or(version.len());
        let version = &version[..end];
        (!name.is_empty() && !version.is_empty()).then(|| ClientVersion {
            family: normalise_family(name),
            version,
        })
    })
}

/// Maps a logged SDK name to its family; anything else is kept as logged.
fn normalise_family(name: &str) -> &str {
    const FAMILIES: &[(&str, &str)] = &[
        ("aws-cli", "aws-cli"),
        ("boto3", "boto3"),
        ("botocore", "botocore"),
        ("boto", "boto"),
        ("aws-sdk-java", "aws-sdk-java"),
        ("aws-sdk-nodejs", "aws-sdk-js"),
        ("aws-sdk-js", "aws-sdk-js"),
        ("aws-sdk-dotnet-35", "aws-sdk-dotnet"),
        ("aws-sdk-dotnet-45", "aws-sdk-dotnet"),
        ("aws-sdk-dotnet-coreclr", "aws-sdk-dotnet"),
        ("aws-sdk-dotnet", "aws-sdk-dotnet"),
        ("awspowershell", "aws-powershell"),
        ("aws-sdk-php", "aws-sdk-php"),
        ("aws-sdk-php2", "aws-sdk-php"),
        ("aws-sdk-ruby", "aws-sdk-ruby"),
        ("aws-sdk-ruby2", "aws-sdk-ruby"),
        ("aws-sdk-ruby3", "aws-sdk-ruby"),
        ("aws-sdk-go", "aws-sdk-go"),
        ("aws-sdk-go-v2", "aws-sdk-go-v2"),
        ("aws-sdk-cpp", "aws-sdk-cpp"),
    ];
    FAMILIES
        .iter()
        .find(|(logged, _)| logged.eq_ignore_ascii_case(name))
        .map_or(name, |(_, family)| family)
}

/// The first version of a family able to sign S3 requests with SigV4 (CLOUDTRAIL.md §3,
/// from AWS's "Moving from SigV2 to SigV4" table). Below it: must upgrade. At or above it:
/// check the client's configuration. `None` for families not in the table.
pub fn sigv4_min_version(family: &str) -> Option<&'static str> {
    Some(match family {
        "aws-cli" => "1.11.108",
        "boto3" => "1.4.6",
        "botocore" => "1.5.71",
        "boto" => "2.49.0",
        "aws-sdk-java" => "1.11.201",
        "aws-sdk-js" => "2.68.0",
        "aws-sdk-dotnet" => "3.1.10",
        "aws-powershell" => "3.3.0.0",
        "aws-sdk-php" => "2.7.4",
        // Ruby v1 and v2 cannot sign S3 with SigV4 at all: the fix is v3.
        "aws-sdk-ruby" => "3.0.0",
        _ => return None,
    })
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

/// True when the client version is known to be below its family's SigV4 minimum.
pub fn below_sigv4_minimum(client: &ClientVersion<'_>) -> bool {
    sigv4_min_version(client.family)
        .is_some_and(|min| compare_versions(client.version, min).is_lt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn first_token_gives_family_and_version() {
        let cases = [
            (
                "[aws-cli/1.16.19 Python/2.7.10 Darwin/18.7.0 botocore/1.12.9]",
                "aws-cli",
                "1.16.19",
            ),
            (
                "Boto3/1.9.2 Python/3.7.0 Linux/4.14 Botocore/1.12.2",
                "boto3",
                "1.9.2",
            ),
            (
                "aws-sdk-nodejs/2.40.0 linux/v8.10.0",
                "aws-sdk-js",
                "2.40.0",
            ),
            (
                "aws-sdk-dotnet-45/3.3.1.0 aws-sdk-dotnet-core/3.3.1",
                "aws-sdk-dotnet",
                "3.3.1.0",
            ),
            (
                "AWSPowerShell/3.1.0.0 .NET_Runtime/4.0",
                "aws-powershell",
                "3.1.0.0",
            ),
            (
                "aws-cli/2.15.0 md/awscrt#0.19.0 ua/2.0 os/linux#6.1",
                "aws-cli",
                "2.15.0",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                "Mozilla",
                "5.0",
            ),
            ("curl/7.64.1", "curl", "7.64.1"),
        ];
        for (ua, family, version) in cases {
            let c = client_version(strip_brackets(ua)).unwrap();
            assert_eq!((c.family, c.version), (family, version), "{ua}");
        }
        assert_eq!(client_version("console.amazonaws.com"), None);
        assert_eq!(client_version("AWS Internal"), None);
    }

    #[test]
    fn versions_compare_part_by_part() {
        assert_eq!(compare_versions("1.10.77", "1.11.201"), Less);
        assert_eq!(compare_versions("1.11.201", "1.11.1000"), Less);
        assert_eq!(compare_versions("3.3.0.0", "3.3"), Equal);
        assert_eq!(compare_versions("3.3.0.1", "3.3"), Greater);
        assert_eq!(compare_versions("2.0", "10.0"), Less);
    }

    #[test]
    fn old_clients_are_below_the_sigv4_minimum() {
        let old = client_version("aws-sdk-java/1.11.100").unwrap();
        assert!(below_sigv4_minimum(&old));
        let new = client_version("aws-sdk-java/1.11.201").unwrap();
        assert!(!below_sigv4_minimum(&new));
        let unknown = client_version("curl/7.1").unwrap();
        assert!(!below_sigv4_minimum(&unknown));
    }
}
