//! Clients: user agents, TLS, signatures, and what software each role calls AWS with.

use anyhow::{Context, Result};

use super::json::js;
use super::rng::Rng;
use super::roles::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tls {
    V10,
    V11,
    V12,
    V13,
}

impl Tls {
    pub(super) fn version(self) -> &'static str {
        match self {
            Tls::V10 => "TLSv1",
            Tls::V11 => "TLSv1.1",
            Tls::V12 => "TLSv1.2",
            Tls::V13 => "TLSv1.3",
        }
    }

    pub(super) fn cipher(self) -> &'static str {
        match self {
            Tls::V10 | Tls::V11 => "ECDHE-RSA-AES128-SHA",
            Tls::V12 => "ECDHE-RSA-AES128-GCM-SHA256",
            Tls::V13 => "TLS_AES_128_GCM_SHA256",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sig {
    V2,
    V4,
    /// Anonymous requests carry no signature at all.
    None,
}

/// One piece of software a principal calls AWS with.
#[derive(Debug, Clone, Copy)]
pub(super) struct Client {
    pub(super) ua: u16,
    /// None for AWS services calling on a principal's behalf: no TLS details are logged.
    pub(super) tls: Option<Tls>,
    pub(super) sig: Sig,
    /// Presigned URL (`AuthenticationMethod: QueryString`).
    pub(super) query: bool,
}

pub(super) struct Ua {
    /// The user agent as the client sends it.
    pub(super) text: String,
    /// JSON literal as most services log it.
    pub(super) plain: Vec<u8>,
    /// JSON literal as S3 logs it: wrapped in square brackets.
    pub(super) bracketed: Vec<u8>,
}

/// Builds the strings shared by all streams: user agents and attributed principals, by id.
#[derive(Default)]
pub(super) struct Pool {
    pub(super) uas: Vec<Ua>,
    pub(super) principals: Vec<String>,
    pub(super) buckets: Vec<String>,
}

impl Pool {
    fn ua(&mut self, text: &str) -> Result<u16> {
        if let Some(i) = self.uas.iter().position(|u| u.text == text) {
            return Ok(i as u16);
        }
        self.uas.push(Ua {
            text: text.to_string(),
            plain: js(text)?.into_bytes(),
            bracketed: js(&format!("[{text}]"))?.into_bytes(),
        });
        u16::try_from(self.uas.len() - 1).context("too many user agents")
    }

    fn client(&mut self, text: &str, tls: Tls, sig: Sig) -> Result<Client> {
        Ok(Client {
            ua: self.ua(text)?,
            tls: Some(tls),
            sig,
            query: false,
        })
    }

    fn presigned(&mut self, text: &str, tls: Tls, sig: Sig) -> Result<Client> {
        Ok(Client {
            query: true,
            ..self.client(text, tls, sig)?
        })
    }

    pub(super) fn principal(&mut self, attributed: String) -> Result<u16> {
        self.principals.push(attributed);
        u16::try_from(self.principals.len() - 1).context("too many principals")
    }

    pub(super) fn bucket(&mut self, name: &str) -> Result<u16> {
        self.buckets.push(name.to_string());
        u16::try_from(self.buckets.len() - 1).context("too many buckets")
    }
}

/// User agents of many SDKs and versions; versions are drawn from the seed.
mod agents {
    use super::Rng;

    fn n(rng: &mut Rng, lo: u64, hi: u64) -> u64 {
        rng.range(lo, hi)
    }

    pub fn java_v2(rng: &mut Rng) -> String {
        let minor = n(rng, 20, 29);
        format!(
            "aws-sdk-java/2.{minor}.{} Linux/5.10.{}-{}.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.{}+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
            n(rng, 1, 60),
            n(rng, 190, 230),
            n(rng, 180, 220),
            n(rng, 7, 11)
        )
    }

    pub fn java_v1_modern(rng: &mut Rng) -> String {
        format!(
            "aws-sdk-java/1.12.{} Linux/5.10.{}-{}.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/11.0.{}+9-LTS java/11.0.21 vendor/Amazon.com_Inc. cfg/retry-mode/standard",
            n(rng, 400, 650),
            n(rng, 190, 230),
            n(rng, 180, 220),
            n(rng, 18, 22)
        )
    }

    pub fn boto3(rng: &mut Rng) -> String {
        let v = n(rng, 28, 34);
        let p = n(rng, 0, 60);
        format!(
            "Boto3/1.{v}.{p} md/Botocore#1.{}.{p} ua/2.0 os/linux#5.10.{}-{}.amzn2.x86_64 md/arch#x86_64 lang/python#3.10.13 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.{}.{p}",
            v + 3,
            n(rng, 190, 230),
            n(rng, 180, 220),
            v + 3
        )
    }

    pub fn boto3_2018() -> String {
        "Boto3/1.9.2 Python/3.7.0 Linux/4.14.77-81.59.amzn2.x86_64 Botocore/1.12.2".to_string()
    }

    pub fn cli_v2(rng: &mut Rng) -> String {
        format!(
            "aws-cli/2.{}.{} md/awscrt#0.19.{} ua/2.0 os/linux#6.1.{} md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe",
            n(rng, 13, 22),
            n(rng, 0, 40),
            n(rng, 0, 19),
            n(rng, 50, 80)
        )
    }

    pub fn go_v1(rng: &mut Rng) -> String {
        format!(
            "aws-sdk-go/1.44.{} (go1.19.{}; linux; amd64)",
            n(rng, 0, 330),
            n(rng, 1, 13)
        )
    }

    pub fn go_v2(rng: &mut Rng) -> String {
        format!(
            "aws-sdk-go-v2/1.{}.{} os/linux lang/go#1.21.{} md/GOOS#linux md/GOARCH#amd64 api/s3#1.{}.{}",
            n(rng, 21, 26),
            n(rng, 0, 9),
            n(rng, 1, 6),
            n(rng, 40, 50),
            n(rng, 0, 9)
        )
    }

    pub fn js_v3(rng: &mut Rng) -> String {
        let v = n(rng, 400, 520);
        format!(
            "aws-sdk-js/3.{v}.0 ua/2.0 os/linux#5.10.209-219.887.amzn2.x86_64 lang/js md/nodejs#20.10.0 exec-env/AWS_Lambda_nodejs20.x api/s3#3.{v}.0"
        )
    }

    pub fn node_v2(rng: &mut Rng) -> String {
        format!(
            "aws-sdk-nodejs/2.{}.0 linux/v18.18.2 exec-env/AWS_Lambda_nodejs18.x promise",
            n(rng, 1400, 1550)
        )
    }

    pub fn dotnet_core(rng: &mut Rng) -> String {
        let v = n(rng, 100, 300);
        format!(
            "aws-sdk-dotnet-coreclr/3.7.{v}.30 aws-sdk-dotnet-core/3.7.{v}.30 .NET_Core/6.0.25 OS/Linux_5.10 ClientAsync"
        )
    }

    pub fn browser(rng: &mut Rng) -> String {
        let v = n(rng, 110, 124);
        match rng.below(5) {
            0 => format!(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"
            ),
            1 => format!(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{} Safari/605.1.15",
                v % 5
            ),
            2 => format!(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
                v % 5
            ),
            3 => format!("Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"),
            _ => format!(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.2210.91"
            ),
        }
    }

    pub const CONSOLE_S3: &str = "S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.198-187.748.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372 vendor/Oracle_Corporation cfg/retry-mode/standard";
    pub const CLI_1_16: &str = "aws-cli/1.16.19 Python/2.7.10 Linux/4.14 botocore/1.12.9";
    pub const CLI_1_10: &str = "aws-cli/1.10.56 Python/2.7.12 Linux/4.4.0-1022-aws botocore/1.4.46";
    pub const BOTO2: &str = "Boto/2.48.0 Python/2.7.12 Linux/4.4.0-1049-aws";
    pub const JAVA_1_11_100: &str =
        "aws-sdk-java/1.11.100 Linux/4.9 OpenJDK_64-Bit_Server_VM/25.121-b13 java/1.8.0_121";
    pub const NODE_2_40: &str = "aws-sdk-nodejs/2.40.0 linux/v8.10.0";
    pub const RUBY2: &str = "aws-sdk-ruby2/2.3.22 ruby/2.3.1 x86_64-linux";
    pub const PHP2: &str = "aws-sdk-php2/2.8.31 Guzzle/3.9.3 curl/7.47.0 PHP/5.6.30";
    pub const DOTNET_3_3: &str = "aws-sdk-dotnet-45/3.3.1.0 aws-sdk-dotnet-core/3.3.1 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_6.2.9200.0 ClientAsync";
    pub const DOTNET_3_1: &str = "aws-sdk-dotnet-45/3.1.0.0 aws-sdk-dotnet-core/3.1.0.0 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_6.1.7601.0 ClientSync";
    pub const POWERSHELL: &str = "AWSPowerShell/3.3.365.0 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_6.3.9600.0 WindowsPowerShell/5.1";
    pub const CURL_OLD: &str = "curl/7.29.0";
    pub const CURL: &str = "curl/7.64.1";
    pub const CURL_NEW: &str = "curl/8.5.0";
    pub const WGET: &str = "Wget/1.21.3";
}

type Clients = Vec<(Client, u32)>;

/// What software each role runs, over which TLS, signing how, and from where.
pub(super) fn role_clients(
    role: Role,
    rng: &mut Rng,
    pool: &mut Pool,
) -> Result<(Clients, Clients, Vec<[u8; 4]>)> {
    use agents::*;
    let modern = |rng: &mut Rng| {
        if rng.chance(6_000) {
            Tls::V13
        } else {
            Tls::V12
        }
    };
    Ok(match role {
        Role::Bi => {
            let c = pool.client(&java_v2(rng), Tls::V13, Sig::V4)?;
            (vec![(c, 1)], vec![(c, 1)], private_ips(rng, 20, 3))
        }
        Role::OrdersApp => {
            let java = pool.client(&java_v2(rng), modern(rng), Sig::V4)?;
            let go = pool.client(&go_v2(rng), Tls::V13, Sig::V4)?;
            let old = pool.client(&java_v1_modern(rng), Tls::V12, Sig::V4)?;
            let s3 = vec![(java, 70), (go, 20), (old, 10)];
            (s3.clone(), s3, private_ips(rng, 0, 8))
        }
        Role::Etl => {
            let b = pool.client(&boto3(rng), modern(rng), Sig::V4)?;
            let b2 = pool.client(&boto3(rng), Tls::V12, Sig::V4)?;
            let old = pool.client(&boto3_2018(), Tls::V12, Sig::V4)?;
            let s3 = vec![(b, 60), (b2, 30), (old, 10)];
            (s3.clone(), s3, private_ips(rng, 1, 6))
        }
        Role::Thumbnailer => {
            let v2 = pool.client(&node_v2(rng), Tls::V12, Sig::V4)?;
            let v3 = pool.client(&js_v3(rng), Tls::V13, Sig::V4)?;
            let s3 = vec![(v2, 60), (v3, 40)];
            (s3.clone(), s3, public_ips(rng, 6))
        }
        Role::SsoAdmin => {
            let console = pool.client(CONSOLE_S3, Tls::V13, Sig::V4)?;
            let cli = pool.client(&cli_v2(rng), Tls::V13, Sig::V4)?;
            let web = pool.client(&browser(rng), Tls::V13, Sig::V4)?;
            let web2 = pool.client(&browser(rng), Tls::V13, Sig::V4)?;
            (
                vec![(console, 70), (cli, 30)],
                vec![(web, 45), (web2, 25), (cli, 30)],
                public_ips(rng, 4),
            )
        }
        Role::Presigner => {
            // The principal signs; whoever fetches the URL is the user agent.
            let mut s3 = Vec::new();
            for _ in 0..4 {
                let b = browser(rng);
                s3.push((pool.presigned(&b, modern(rng), Sig::V2)?, 10));
                s3.push((pool.presigned(&b, Tls::V13, Sig::V4)?, 12));
            }
            s3.push((pool.presigned(CURL, Tls::V12, Sig::V2)?, 8));
            s3.push((pool.presigned(CURL_NEW, Tls::V13, Sig::V4)?, 6));
            s3.push((pool.presigned(WGET, Tls::V12, Sig::V2)?, 3));
            s3.push((
                pool.presigned("python-requests/2.31.0", Tls::V12, Sig::V2)?,
                3,
            ));
            s3.push((pool.client(&boto3(rng), Tls::V13, Sig::V4)?, 10));
            let api = vec![(pool.client(&boto3(rng), Tls::V13, Sig::V4)?, 1)];
            let mut ips = public_ips(rng, 24);
            ips.extend(private_ips(rng, 3, 2));
            (s3, api, ips)
        }
        Role::EksNode => {
            let go = pool.client(&go_v1(rng), Tls::V12, Sig::V4)?;
            let go2 = pool.client(&go_v2(rng), Tls::V13, Sig::V4)?;
            let s3 = vec![(go, 50), (go2, 50)];
            (s3.clone(), s3, private_ips(rng, 2, 10))
        }
        Role::LegacyBackup => {
            let cli = pool.client(CLI_1_10, Tls::V12, Sig::V2)?;
            let boto = pool.client(BOTO2, Tls::V12, Sig::V2)?;
            let newer = pool.client(CLI_1_16, Tls::V12, Sig::V4)?;
            (
                vec![(cli, 45), (boto, 40), (newer, 15)],
                vec![(newer, 1)],
                public_ips(rng, 1),
            )
        }
        Role::CiDeploy => {
            let cli = pool.client(&cli_v2(rng), Tls::V13, Sig::V4)?;
            let cli2 = pool.client(&cli_v2(rng), Tls::V13, Sig::V4)?;
            let go = pool.client(&go_v2(rng), Tls::V13, Sig::V4)?;
            let s3 = vec![(cli, 50), (cli2, 30), (go, 20)];
            (s3.clone(), s3, public_ips(rng, 12))
        }
        Role::DotnetReporting => {
            let old = pool.client(DOTNET_3_3, Tls::V10, Sig::V4)?;
            let older = pool.client(DOTNET_3_1, Tls::V10, Sig::V2)?;
            let core = pool.client(&dotnet_core(rng), Tls::V12, Sig::V4)?;
            let ps = pool.client(POWERSHELL, Tls::V10, Sig::V4)?;
            (
                vec![(old, 45), (older, 30), (core, 25)],
                vec![(old, 40), (ps, 35), (core, 25)],
                public_ips(rng, 2),
            )
        }
        Role::PartnerSync => {
            let java = pool.client(JAVA_1_11_100, Tls::V12, Sig::V2)?;
            let node = pool.client(NODE_2_40, Tls::V12, Sig::V2)?;
            let ruby = pool.client(RUBY2, Tls::V11, Sig::V2)?;
            let php = pool.client(PHP2, Tls::V10, Sig::V2)?;
            let curl = pool.presigned(CURL_OLD, Tls::V11, Sig::V2)?;
            let modern_java = pool.client(&java_v1_modern(rng), Tls::V12, Sig::V4)?;
            (
                vec![
                    (java, 30),
                    (node, 15),
                    (ruby, 10),
                    (php, 5),
                    (curl, 10),
                    (modern_java, 30),
                ],
                vec![(java, 50), (ruby, 20), (modern_java, 30)],
                public_ips(rng, 3),
            )
        }
        Role::CloudTrail | Role::LambdaService => {
            let name = if role == Role::CloudTrail {
                "cloudtrail.amazonaws.com"
            } else {
                "lambda.amazonaws.com"
            };
            let c = Client {
                ua: pool.ua(name)?,
                tls: None,
                sig: Sig::V4,
                query: false,
            };
            (vec![(c, 1)], vec![(c, 1)], Vec::new())
        }
        Role::CrossAccount => {
            let java = pool.client(&java_v1_modern(rng), Tls::V12, Sig::V4)?;
            let go = pool.client(&go_v1(rng), Tls::V13, Sig::V4)?;
            let s3 = vec![(java, 60), (go, 40)];
            (s3.clone(), s3, public_ips(rng, 4))
        }
        Role::Anonymous => {
            let mut s3 = Vec::new();
            for _ in 0..3 {
                s3.push((pool.client(&browser(rng), modern(rng), Sig::None)?, 3));
            }
            s3.push((pool.client(CURL_NEW, Tls::V13, Sig::None)?, 1));
            (s3.clone(), s3, public_ips(rng, 40))
        }
    })
}
/// Private addresses of a role's hosts in the VPC (10.second.x.y).
pub(super) fn private_ips(rng: &mut Rng, second: u8, n: usize) -> Vec<[u8; 4]> {
    (0..n)
        .map(|_| [10, second, rng.below(64) as u8, rng.range(4, 250) as u8])
        .collect()
}

/// Public addresses from ranges that look like offices, CI runners and home users.
pub(super) fn public_ips(rng: &mut Rng, n: usize) -> Vec<[u8; 4]> {
    const FIRST: [u8; 8] = [52, 54, 3, 18, 34, 81, 91, 185];
    (0..n)
        .map(|_| {
            [
                *rng.pick(&FIRST),
                rng.below(256) as u8,
                rng.below(256) as u8,
                rng.range(1, 254) as u8,
            ]
        })
        .collect()
}
