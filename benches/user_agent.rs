//! Cost of reading one user agent: `parse` plus the SigV4 verdict, as the aggregator does it
//! once per distinct agent (the result is cached per worker), and the SigV2 advice written
//! once per output row.
//!
//! `cargo bench --bench user_agent`. Throughput is in agents per second (elements).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use trailsift::engine::{advice, sigv4, user_agent};

/// Agents of every shape: old and structured SDK forms, CLI with botocore, console, service,
/// browser, curl, Terraform, and a long agent cut at 1 KB.
fn agents() -> Vec<String> {
    let mut agents: Vec<String> = [
        "aws-cli/1.16.19 Python/2.7.10 Darwin/18.7.0 botocore/1.12.9",
        "aws-cli/2.15.59 md/awscrt#0.19.19 ua/2.0 os/macos#22.6.0 md/arch#arm64 lang/python#3.11.11 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#sts.get-caller-identity",
        "Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#5.10.198 md/arch#x86_64 lang/python#3.10.13 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.0",
        "aws-sdk-java/1.11.100 Linux/4.9.0-6-amd64 OpenJDK_64-Bit_Server_VM/25.121-b13 java/1.8.0_121",
        "aws-sdk-java/2.25.6 ua/2.0 OS/Linux#5.10.210 lang/java#17.0.10 md/OpenJDK_64-Bit_Server_VM#17.0.10+7-LTS md/vendor#Amazon.com_Inc. md/en_US",
        "aws-sdk-nodejs/2.1400.0 linux/v18.18.2 exec-env/AWS_Lambda_nodejs18.x promise",
        "aws-sdk-dotnet-45/3.3.1.0 aws-sdk-dotnet-core/3.3.2.0 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_6.2.9200.0 ClientSync",
        "AWSPowerShell/3.1.0.0 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_10.0.14393.0 WindowsPowerShell/5.0 ClientSync",
        "aws-sdk-ruby2/2.11.632 ruby/2.7.0 x86_64-linux",
        "aws-sdk-go/1.44.157 (go1.19.3; darwin; arm64)",
        "APN/1.0 HashiCorp/1.0 Terraform/1.1.2 (+https://www.terraform.io) terraform-provider-aws/3.76.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.44.157 (go1.19.3; darwin; arm64) HashiCorp-terraform-exec/0.17.3",
        "S3Console/0.4, aws-internal/3 aws-sdk-java/1.11.666 Linux/4.9.184-0.1.ac.235.83.329.metal1.x86_64 OpenJDK_64-Bit_Server_VM/25.232-b09 java/1.8.0_232 vendor/Oracle_Corporation",
        "cloudformation.amazonaws.com",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "curl/7.68.0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut cut = "aws-cli/1.10.56 Python/2.7.12 Linux/4.4.0-1022-aws exec-env/".to_string();
    while cut.len() < 1020 {
        cut.push_str("padding ");
    }
    cut.push_str("botocore/1.1");
    agents.push(cut);
    agents
}

fn bench(c: &mut Criterion) {
    let agents = agents();
    let mut group = c.benchmark_group("user_agent");
    group.throughput(Throughput::Elements(agents.len() as u64));
    group.bench_function("parse + SigV4 verdict", |b| {
        b.iter(|| {
            let mut below = 0u64;
            for a in &agents {
                let ua = user_agent::parse(black_box(a));
                // Below its minimum, as the aggregator asks it (via the SigV2 default).
                below += u64::from(sigv4::sigv2_default(&ua).is_some());
            }
            below
        })
    });
    group.bench_function("SigV2 advice", |b| {
        b.iter(|| {
            let mut bytes = 0usize;
            for a in &agents {
                bytes += advice::sigv2_advice(Some(black_box(a)), None).len();
            }
            bytes
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
