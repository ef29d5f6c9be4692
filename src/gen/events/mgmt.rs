//! Management events of other services (and a few of S3): payload templates, the specs they
//! are rendered from, and the writer.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{
    Cx, Facts, Head, Source, Tail, caller_of, put_caller, put_error, put_head, put_ids, put_tail,
};
use crate::synth::buckets::{Bucket, KEY_APP};
use crate::synth::clients::{Sig, Tls};
use crate::synth::json::{
    ALNUM, BASE64, HEX_LOWER, HEX_UPPER, lit, put_chars, put_digits, put_hex, put_u64, put_uuid,
    rand_hex, rand_string,
};
use crate::synth::rng::{Rng, pick_weighted};
use crate::synth::roles::Role;
use crate::synth::time::{put_time, put_time_ms};

// ------------------------------------------------------------------------------------------
// Payload templates: JSON rendered once by serde_json, with `@@token@@` slots filled per record
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Piece {
    Lit(Vec<u8>),
    Uuid,
    Hex(usize),
    HexUpper(usize),
    Digits(usize),
    Alnum(usize),
    AlnumUpper(usize),
    Octet,
    Time,
    TimeMs,
}

/// A JSON value with random slots. Slots are written in strings as `@@u@@` (UUID),
/// `@@h8@@`/`@@H8@@` (hex), `@@d4@@` (digits), `@@a16@@`/`@@A16@@` (letters and digits),
/// `@@o@@` (0..=255), `@@t@@` (the event time) and `@@m@@` (the event time with milliseconds).
#[derive(Debug, Clone)]
struct Template(Vec<Piece>);

impl Template {
    fn compile(value: &Value) -> Result<Template> {
        let bytes = serde_json::to_vec(value)?;
        let mut pieces = Vec::new();
        let mut rest = &bytes[..];
        while let Some(open) = find(rest, b"@@") {
            let after = &rest[open + 2..];
            let close = find(after, b"@@").context("unclosed @@ slot in template")?;
            pieces.push(Piece::Lit(rest[..open].to_vec()));
            pieces.push(parse_slot(&after[..close])?);
            rest = &after[close + 2..];
        }
        pieces.push(Piece::Lit(rest.to_vec()));
        Ok(Template(pieces))
    }

    fn render(&self, o: &mut Vec<u8>, rng: &mut Rng, t: i64) {
        for piece in &self.0 {
            match *piece {
                Piece::Lit(ref b) => o.extend_from_slice(b),
                Piece::Uuid => put_uuid(o, rng),
                Piece::Hex(n) => put_hex(o, rng, n, HEX_LOWER),
                Piece::HexUpper(n) => put_hex(o, rng, n, HEX_UPPER),
                Piece::Digits(n) => put_digits(o, rng, n),
                Piece::Alnum(n) => put_chars(o, rng, n, ALNUM),
                Piece::AlnumUpper(n) => put_chars(o, rng, n, &ALNUM[..26]),
                Piece::Octet => put_u64(o, rng.below(256)),
                Piece::Time => put_time(o, t),
                Piece::TimeMs => put_time_ms(o, t, rng.below(1000) as u32),
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_slot(slot: &[u8]) -> Result<Piece> {
    let text = std::str::from_utf8(slot)?;
    let (kind, n) = text.split_at(1);
    let n: usize = if n.is_empty() { 0 } else { n.parse()? };
    Ok(match kind {
        "u" => Piece::Uuid,
        "h" => Piece::Hex(n),
        "H" => Piece::HexUpper(n),
        "d" => Piece::Digits(n),
        "a" => Piece::Alnum(n),
        "A" => Piece::AlnumUpper(n),
        "o" => Piece::Octet,
        "t" => Piece::Time,
        "m" => Piece::TimeMs,
        _ => bail!("unknown template slot @@{text}@@"),
    })
}

// ------------------------------------------------------------------------------------------
// Management events of other services: large nested payloads, rendered once per variant
// ------------------------------------------------------------------------------------------

pub(crate) struct SpecCx<'a> {
    pub(crate) acct: &'a str,
    pub(crate) region: &'a str,
    pub(crate) keys: &'a [String],
    pub(crate) buckets: &'a [Bucket],
}

#[derive(Default)]
pub(crate) struct Payload {
    req: Option<Value>,
    resp: Option<Value>,
    resources: Option<Value>,
    /// Endpoint host when it is not `<service>.<region>.amazonaws.com`.
    host: Option<String>,
}

pub(crate) struct MgmtSpec {
    source: &'static str,
    name: &'static str,
    weight: u32,
    read_only: bool,
    /// First label of the endpoint host.
    service: &'static str,
    /// IAM: a global service, logged in us-east-1 only, endpoint without region.
    pub(crate) global: bool,
    /// S3 management events are logged like S3 data events (brackets, signature details).
    s3: bool,
    actors: &'static [(Role, u32)],
    pub(crate) build: fn(&SpecCx, &mut Rng) -> Result<Payload>,
}

pub(crate) struct Compiled {
    req: Option<Template>,
    resp: Option<Template>,
    resources: Option<Template>,
    host: String,
}

pub(crate) struct MgmtKind {
    pub(crate) spec: &'static MgmtSpec,
    pub(crate) variants: Vec<Compiled>,
}

pub(crate) fn compile_payload(spec: &MgmtSpec, p: Payload, cx: &SpecCx) -> Result<Compiled> {
    let compile = |v: Option<Value>| v.as_ref().map(Template::compile).transpose();
    let host = p.host.unwrap_or_else(|| {
        if spec.global {
            format!("{}.amazonaws.com", spec.service)
        } else {
            format!("{}.{}.amazonaws.com", spec.service, cx.region)
        }
    });
    Ok(Compiled {
        req: compile(p.req)?,
        resp: compile(p.resp)?,
        resources: compile(p.resources)?,
        host,
    })
}

pub(crate) const MGMT_SPECS: &[MgmtSpec] = &[
    MgmtSpec {
        source: "ec2.amazonaws.com",
        name: "DescribeInstances",
        weight: 30,
        read_only: true,
        service: "ec2",
        global: false,
        s3: false,
        actors: &[
            (Role::EksNode, 40),
            (Role::SsoAdmin, 15),
            (Role::DotnetReporting, 20),
            (Role::CiDeploy, 10),
        ],
        build: describe_instances,
    },
    MgmtSpec {
        source: "ec2.amazonaws.com",
        name: "RunInstances",
        weight: 6,
        read_only: false,
        service: "ec2",
        global: false,
        s3: false,
        actors: &[(Role::CiDeploy, 60), (Role::SsoAdmin, 40)],
        build: run_instances,
    },
    MgmtSpec {
        source: "ec2.amazonaws.com",
        name: "CreateTags",
        weight: 8,
        read_only: false,
        service: "ec2",
        global: false,
        s3: false,
        actors: &[
            (Role::CiDeploy, 50),
            (Role::SsoAdmin, 30),
            (Role::EksNode, 20),
        ],
        build: create_tags,
    },
    MgmtSpec {
        source: "ec2.amazonaws.com",
        name: "AuthorizeSecurityGroupIngress",
        weight: 3,
        read_only: false,
        service: "ec2",
        global: false,
        s3: false,
        actors: &[(Role::CiDeploy, 60), (Role::SsoAdmin, 40)],
        build: authorize_ingress,
    },
    MgmtSpec {
        source: "ec2.amazonaws.com",
        name: "DescribeSecurityGroups",
        weight: 10,
        read_only: true,
        service: "ec2",
        global: false,
        s3: false,
        actors: &[(Role::EksNode, 60), (Role::DotnetReporting, 40)],
        build: describe_security_groups,
    },
    MgmtSpec {
        source: "sts.amazonaws.com",
        name: "AssumeRole",
        weight: 40,
        read_only: true,
        service: "sts",
        global: false,
        s3: false,
        actors: &[
            (Role::LambdaService, 50),
            (Role::CiDeploy, 20),
            (Role::EksNode, 30),
        ],
        build: assume_role,
    },
    MgmtSpec {
        source: "sts.amazonaws.com",
        name: "GetCallerIdentity",
        weight: 10,
        read_only: true,
        service: "sts",
        global: false,
        s3: false,
        actors: &[
            (Role::CiDeploy, 50),
            (Role::EksNode, 30),
            (Role::PartnerSync, 20),
        ],
        build: no_payload,
    },
    MgmtSpec {
        source: "iam.amazonaws.com",
        name: "GetRole",
        weight: 8,
        read_only: true,
        service: "iam",
        global: true,
        s3: false,
        actors: &[(Role::CiDeploy, 60), (Role::SsoAdmin, 40)],
        build: get_role,
    },
    MgmtSpec {
        source: "iam.amazonaws.com",
        name: "PutRolePolicy",
        weight: 2,
        read_only: false,
        service: "iam",
        global: true,
        s3: false,
        actors: &[(Role::CiDeploy, 70), (Role::SsoAdmin, 30)],
        build: put_role_policy,
    },
    MgmtSpec {
        source: "iam.amazonaws.com",
        name: "CreateRole",
        weight: 1,
        read_only: false,
        service: "iam",
        global: true,
        s3: false,
        actors: &[(Role::CiDeploy, 70), (Role::SsoAdmin, 30)],
        build: create_role,
    },
    MgmtSpec {
        source: "lambda.amazonaws.com",
        name: "UpdateFunctionConfiguration20150331v2",
        weight: 3,
        read_only: false,
        service: "lambda",
        global: false,
        s3: false,
        actors: &[(Role::CiDeploy, 100)],
        build: update_function_configuration,
    },
    MgmtSpec {
        source: "lambda.amazonaws.com",
        name: "GetFunction20150331v2",
        weight: 6,
        read_only: true,
        service: "lambda",
        global: false,
        s3: false,
        actors: &[(Role::CiDeploy, 50), (Role::SsoAdmin, 50)],
        build: get_function,
    },
    MgmtSpec {
        source: "ecs.amazonaws.com",
        name: "RunTask",
        weight: 4,
        read_only: false,
        service: "ecs",
        global: false,
        s3: false,
        actors: &[
            (Role::CiDeploy, 50),
            (Role::SsoAdmin, 20),
            (Role::EksNode, 30),
        ],
        build: run_task,
    },
    MgmtSpec {
        source: "ssm.amazonaws.com",
        name: "GetParameters",
        weight: 15,
        read_only: true,
        service: "ssm",
        global: false,
        s3: false,
        actors: &[
            (Role::OrdersApp, 50),
            (Role::DotnetReporting, 30),
            (Role::EksNode, 20),
        ],
        build: get_parameters,
    },
    MgmtSpec {
        source: "secretsmanager.amazonaws.com",
        name: "GetSecretValue",
        weight: 12,
        read_only: true,
        service: "secretsmanager",
        global: false,
        s3: false,
        actors: &[(Role::OrdersApp, 70), (Role::Etl, 30)],
        build: get_secret_value,
    },
    MgmtSpec {
        source: "logs.amazonaws.com",
        name: "CreateLogStream",
        weight: 10,
        read_only: false,
        service: "logs",
        global: false,
        s3: false,
        actors: &[(Role::Thumbnailer, 70), (Role::Etl, 30)],
        build: create_log_stream,
    },
    MgmtSpec {
        source: "cloudformation.amazonaws.com",
        name: "DescribeStacks",
        weight: 5,
        read_only: true,
        service: "cloudformation",
        global: false,
        s3: false,
        actors: &[(Role::CiDeploy, 70), (Role::SsoAdmin, 30)],
        build: describe_stacks,
    },
    MgmtSpec {
        source: "s3.amazonaws.com",
        name: "ListBuckets",
        weight: 4,
        read_only: true,
        service: "s3",
        global: false,
        s3: true,
        actors: &[
            (Role::SsoAdmin, 40),
            (Role::CiDeploy, 30),
            (Role::LegacyBackup, 30),
        ],
        build: list_buckets,
    },
    MgmtSpec {
        source: "s3.amazonaws.com",
        name: "GetBucketAcl",
        weight: 3,
        read_only: true,
        service: "s3",
        global: false,
        s3: true,
        actors: &[
            (Role::SsoAdmin, 50),
            (Role::CiDeploy, 30),
            (Role::PartnerSync, 20),
        ],
        build: bucket_subresource,
    },
    MgmtSpec {
        source: "s3.amazonaws.com",
        name: "GetBucketEncryption",
        weight: 2,
        read_only: true,
        service: "s3",
        global: false,
        s3: true,
        actors: &[(Role::SsoAdmin, 60), (Role::CiDeploy, 40)],
        build: bucket_subresource,
    },
    MgmtSpec {
        source: "s3.amazonaws.com",
        name: "PutBucketPolicy",
        weight: 1,
        read_only: false,
        service: "s3",
        global: false,
        s3: true,
        actors: &[(Role::SsoAdmin, 50), (Role::CiDeploy, 50)],
        build: put_bucket_policy,
    },
];

fn no_payload(_: &SpecCx, _: &mut Rng) -> Result<Payload> {
    Ok(Payload::default())
}

const TAG_VALUES: [&str; 6] = [
    "café-worker",
    "東京-platform",
    "Zürich ops",
    "São Paulo",
    "équipe données",
    "plain-value",
];

fn tag_items(rng: &mut Rng) -> Value {
    json!([
        {"key": "Name", "value": *rng.pick(&TAG_VALUES)},
        {"key": "Team", "value": *rng.pick(&TAG_VALUES)},
        {"key": "CostCenter", "value": "CC-@@d4@@"},
        {"key": "aws:cloudformation:stack-name", "value": "prod-workers"},
    ])
}

fn az(cx: &SpecCx, rng: &mut Rng) -> String {
    format!("{}{}", cx.region, ["a", "b", "c"][rng.below(3) as usize])
}

fn describe_instances(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let ids: Vec<Value> = (0..rng.range(1, 6))
        .map(|_| json!({"instanceId": "i-0@@h16@@"}))
        .collect();
    Ok(Payload {
        req: Some(json!({
            "instancesSet": {"items": ids},
            "filterSet": {"items": [
                {"name": "tag:aws:eks:cluster-name", "valueSet": {"items": [{"value": "prod"}]}},
                {"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}, {"value": "pending"}]}},
            ]},
        })),
        ..Payload::default()
    })
}

fn run_instances(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let n = rng.range(1, 3);
    let itype = *rng.pick(&["m6i.large", "c6g.xlarge", "t3.medium", "r6i.2xlarge"]);
    let ami = format!("ami-0{}", rand_hex(rng, 16));
    let subnet = format!("subnet-0{}", rand_hex(rng, 16));
    let vpc = format!("vpc-0{}", rand_hex(rng, 16));
    let sg = format!("sg-0{}", rand_hex(rng, 16));
    let zone = az(cx, rng);
    let tags = tag_items(rng);
    let acct = cx.acct;
    let req = json!({
        "instancesSet": {"items": [{"imageId": ami, "minCount": n, "maxCount": n, "keyName": "deploy-key"}]},
        "userData": "<sensitiveDataRemoved>",
        "instanceType": itype,
        "blockDeviceMapping": {"items": [{"deviceName": "/dev/xvda", "ebs": {
            "volumeSize": 100, "deleteOnTermination": true, "volumeType": "gp3",
            "encrypted": true, "kmsKeyId": cx.keys[KEY_APP]}}]},
        "monitoring": {"enabled": false},
        "disableApiTermination": false,
        "disableApiStop": false,
        "clientToken": "@@u@@",
        "networkInterfaceSet": {"items": [{"deviceIndex": 0, "subnetId": subnet,
            "associatePublicIpAddress": false, "groupSet": {"items": [{"groupId": sg}]}}]},
        "iamInstanceProfile": {"arn": format!("arn:aws:iam::{acct}:instance-profile/app-worker")},
        "ebsOptimized": true,
        "tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": tags}]},
        "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled"},
    });
    let eni = json!({
        "networkInterfaceId": "eni-0@@h16@@", "subnetId": subnet, "vpcId": vpc,
        "ownerId": acct, "requesterManaged": false, "status": "in-use",
        "macAddress": "0a:@@h2@@:@@h2@@:@@h2@@:@@h2@@:@@h2@@",
        "privateIpAddress": "10.0.@@o@@.@@o@@", "sourceDestCheck": true,
        "interfaceType": "interface",
        "groupSet": {"items": [{"groupId": sg, "groupName": "app-workers"}]},
        "attachment": {"attachmentId": "eni-attach-0@@h16@@", "deviceIndex": 0,
            "networkCardIndex": 0, "status": "attaching", "attachTime": "@@m@@",
            "deleteOnTermination": true},
        "privateIpAddressesSet": {"item": [{"privateIpAddress": "10.0.@@o@@.@@o@@", "primary": true}]},
        "ipv6AddressesSet": {}, "tagSet": {},
    });
    let options = json!({
        "ebsOptimized": true, "enaSupport": true,
        "cpuOptions": {"coreCount": 1, "threadsPerCore": 2},
        "capacityReservationSpecification": {"capacityReservationPreference": "open"},
        "enclaveOptions": {"enabled": false},
        "metadataOptions": {"state": "pending", "httpTokens": "required",
            "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled",
            "httpProtocolIpv4": "enabled", "httpProtocolIpv6": "disabled",
            "instanceMetadataTags": "disabled"},
        "maintenanceOptions": {"autoRecovery": "default"},
        "privateDnsNameOptions": {"hostnameType": "ip-name",
            "enableResourceNameDnsARecord": false, "enableResourceNameDnsAAAARecord": false},
    });
    let items: Vec<Value> = (0..n)
        .map(|i| {
            let mut item = json!({
                "instanceId": "i-0@@h16@@", "imageId": ami,
                "instanceState": {"code": 0, "name": "pending"},
                "privateDnsName": "ip-10-0-@@o@@-@@o@@.ec2.internal",
                "keyName": "deploy-key", "amiLaunchIndex": i, "productCodes": {},
                "instanceType": itype, "launchTime": "@@m@@",
                "placement": {"availabilityZone": zone, "tenancy": "default"},
                "monitoring": {"state": "disabled"}, "subnetId": subnet, "vpcId": vpc,
                "privateIpAddress": "10.0.@@o@@.@@o@@",
                "stateReason": {"code": "pending", "message": "pending"},
                "architecture": "x86_64", "rootDeviceType": "ebs", "rootDeviceName": "/dev/xvda",
                "blockDeviceMapping": {}, "virtualizationType": "hvm", "clientToken": "@@u@@",
                "tagSet": {"items": tags},
                "groupSet": {"items": [{"groupId": sg, "groupName": "app-workers"}]},
                "sourceDestCheck": true, "hypervisor": "xen",
                "networkInterfaceSet": {"items": [eni]},
            });
            if let (Some(item), Some(options)) = (item.as_object_mut(), options.as_object()) {
                item.extend(options.clone());
            }
            item
        })
        .collect();
    let resp = json!({
        "requestId": "@@u@@", "reservationId": "r-0@@h16@@", "ownerId": acct,
        "groupSet": {}, "instancesSet": {"items": items},
    });
    Ok(Payload {
        req: Some(req),
        resp: Some(resp),
        ..Payload::default()
    })
}

fn create_tags(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    Ok(Payload {
        req: Some(json!({
            "resourcesSet": {"items": [{"resourceId": "i-0@@h16@@"}, {"resourceId": "vol-0@@h16@@"}]},
            "tagSet": {"items": tag_items(rng)},
        })),
        resp: Some(json!({"requestId": "@@u@@", "_return": true})),
        ..Payload::default()
    })
}

fn authorize_ingress(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let port = *rng.pick(&[22u64, 443, 5432, 6379, 8080]);
    let sg = format!("sg-0{}", rand_hex(rng, 16));
    Ok(Payload {
        req: Some(json!({
            "groupId": sg,
            "ipPermissions": {"items": [{
                "ipProtocol": "tcp", "fromPort": port, "toPort": port, "groups": {},
                "ipRanges": {"items": [
                    {"cidrIp": "10.0.0.0/16", "description": "VPC intérieur"},
                    {"cidrIp": "192.0.2.0/24", "description": "Büro München"},
                ]},
                "ipv6Ranges": {}, "prefixListIds": {},
            }]},
        })),
        resp: Some(json!({
            "requestId": "@@u@@", "_return": true,
            "securityGroupRuleSet": {"items": [
                {"groupOwnerId": "@@d12@@", "groupId": sg, "securityGroupRuleId": "sgr-0@@h16@@",
                 "isEgress": false, "ipProtocol": "tcp", "fromPort": port, "toPort": port,
                 "cidrIpv4": "10.0.0.0/16", "description": "VPC intérieur"},
                {"groupOwnerId": "@@d12@@", "groupId": sg, "securityGroupRuleId": "sgr-0@@h16@@",
                 "isEgress": false, "ipProtocol": "tcp", "fromPort": port, "toPort": port,
                 "cidrIpv4": "192.0.2.0/24", "description": "Büro München"},
            ]},
        })),
        ..Payload::default()
    })
}

fn describe_security_groups(_: &SpecCx, _: &mut Rng) -> Result<Payload> {
    Ok(Payload {
        req: Some(json!({
            "securityGroupSet": {},
            "securityGroupIdSet": {"items": [{"groupId": "sg-0@@h16@@"}]},
            "filterSet": {"items": [{"name": "vpc-id", "valueSet": {"items": [{"value": "vpc-0@@h16@@"}]}}]},
        })),
        ..Payload::default()
    })
}

fn assume_role(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let role = *rng.pick(&[
        "thumbnailer-lambda-role",
        "orders-api-task-role",
        "deploy-readonly",
    ]);
    let role_arn = format!("arn:aws:iam::{}:role/{role}", cx.acct);
    Ok(Payload {
        req: Some(json!({
            "roleArn": role_arn,
            "roleSessionName": "@@a12@@",
            "durationSeconds": 3600,
        })),
        resp: Some(json!({
            "credentials": {"accessKeyId": "ASIA@@A16@@", "sessionToken": "IQoJb3JpZ2luX2VjE@@a120@@", "expiration": "@@m@@"},
            "assumedRoleUser": {"assumedRoleId": "AROA@@A17@@:@@a12@@",
                "arn": format!("arn:aws:sts::{}:assumed-role/{role}/@@a12@@", cx.acct)},
        })),
        resources: Some(json!([
            {"accountId": cx.acct, "type": "AWS::IAM::Role", "ARN": role_arn},
        ])),
        ..Payload::default()
    })
}

fn policy_document(cx: &SpecCx, rng: &mut Rng) -> Value {
    let bucket = &cx.buckets[rng.below(cx.buckets.len() as u64) as usize].name;
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadObjects", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"],
             "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]},
            {"Sid": "UseKey", "Effect": "Allow",
             "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": cx.keys[rng.below(cx.keys.len() as u64) as usize],
             "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{}.amazonaws.com", cx.region)}}},
            {"Sid": "DenySigV2", "Effect": "Deny", "Action": "s3:*",
             "Resource": format!("arn:aws:s3:::{bucket}/*"),
             "Condition": {"StringEquals": {"s3:signatureversion": "AWS"}}},
        ],
    })
}

fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}],
    })
}

fn get_role(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let role = *rng.pick(&[
        "thumbnailer-lambda-role",
        "orders-api-task-role",
        "BI-Reporting",
    ]);
    Ok(Payload {
        req: Some(json!({"roleName": role})),
        ..Payload::default()
    })
}

fn put_role_policy(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    // IAM logs the policy as a JSON string: full of `\"` and `\n` escapes.
    let doc = serde_json::to_string_pretty(&policy_document(cx, rng))?;
    Ok(Payload {
        req: Some(json!({
            "roleName": "orders-api-task-role",
            "policyName": "orders-data-access",
            "policyDocument": doc,
        })),
        ..Payload::default()
    })
}

/// IAM returns policy documents URL-encoded inside its responses.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn create_role(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let name = format!("svc-{}-role", rand_string(rng, 6, &ALNUM[26..52]));
    let trust = serde_json::to_string(&trust_policy())?;
    Ok(Payload {
        req: Some(json!({
            "roleName": name,
            "path": "/service-role/",
            "description": "Rôle d’exécution — équipe données 東京",
            "assumeRolePolicyDocument": serde_json::to_string_pretty(&trust_policy())?,
            "maxSessionDuration": 3600,
            "tags": [{"key": "owner", "value": "josé.garcía"}, {"key": "team", "value": "データ基盤"}],
        })),
        resp: Some(json!({"role": {
            "path": "/service-role/", "roleName": name, "roleId": "AROA@@A17@@",
            "arn": format!("arn:aws:iam::{}:role/service-role/{name}", cx.acct),
            "createDate": "@@m@@",
            "assumeRolePolicyDocument": url_encode(&trust),
            "tags": [{"key": "owner", "value": "josé.garcía"}, {"key": "team", "value": "データ基盤"}],
        }})),
        ..Payload::default()
    })
}

fn update_function_configuration(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let (acct, region) = (cx.acct, cx.region);
    let subnets: Vec<String> = (0..3)
        .map(|_| format!("subnet-0{}", rand_hex(rng, 16)))
        .collect();
    let sg = format!("sg-0{}", rand_hex(rng, 16));
    let memory = *rng.pick(&[512u64, 1024, 2048]);
    let layer = format!(
        "arn:aws:lambda:{region}:{acct}:layer:sharp-image:{}",
        rng.range(3, 40)
    );
    Ok(Payload {
        req: Some(json!({
            "functionName": "thumbnailer", "memorySize": memory, "timeout": 30,
            "environment": {}, "layers": [layer],
            "vpcConfig": {"subnetIds": subnets, "securityGroupIds": [sg]},
        })),
        resp: Some(json!({
            "functionName": "thumbnailer",
            "functionArn": format!("arn:aws:lambda:{region}:{acct}:function:thumbnailer"),
            "runtime": "nodejs20.x",
            "role": format!("arn:aws:iam::{acct}:role/service-role/thumbnailer-lambda-role"),
            "handler": "index.handler", "codeSize": rng.range(200_000, 9_000_000),
            "description": "Génère les vignettes — CDN 東京 / São Paulo",
            "timeout": 30, "memorySize": memory, "lastModified": "@@m@@",
            "codeSha256": "@@a43@@=", "version": "$LATEST",
            "vpcConfig": {"subnetIds": subnets, "securityGroupIds": [sg],
                          "vpcId": "vpc-0@@h16@@", "ipv6AllowedForDualStack": false},
            "environment": {}, "tracingConfig": {"mode": "PassThrough"},
            "revisionId": "@@u@@",
            "layers": [{"arn": layer, "codeSize": rng.range(1_000_000, 30_000_000)}],
            "state": "Active", "lastUpdateStatus": "InProgress",
            "lastUpdateStatusReason": "The function is being created.",
            "lastUpdateStatusReasonCode": "Creating",
            "packageType": "Zip", "architectures": ["arm64"],
            "ephemeralStorage": {"size": 512},
            "snapStart": {"applyOn": "None", "optimizationStatus": "Off"},
            "runtimeVersionConfig": {"runtimeVersionArn": format!("arn:aws:lambda:{region}::runtime:@@h64@@")},
            "loggingConfig": {"logFormat": "Text", "logGroup": "/aws/lambda/thumbnailer"},
        })),
        ..Payload::default()
    })
}

fn get_function(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let name = *rng.pick(&["thumbnailer", "orders-webhook", "nightly-report"]);
    Ok(Payload {
        req: Some(json!({"functionName": name})),
        ..Payload::default()
    })
}

fn run_task(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let (acct, region) = (cx.acct, cx.region);
    let cluster = format!("arn:aws:ecs:{region}:{acct}:cluster/prod-batch");
    let task = format!("arn:aws:ecs:{region}:{acct}:task/prod-batch/@@h32@@");
    let task_def = format!(
        "arn:aws:ecs:{region}:{acct}:task-definition/etl-nightly:{}",
        rng.range(10, 90)
    );
    let subnets: Vec<String> = (0..2)
        .map(|_| format!("subnet-0{}", rand_hex(rng, 16)))
        .collect();
    let overrides = json!({"containerOverrides": [{
        "name": "etl",
        "command": ["python", "-m", "jobs.nightly", "--date", "2026-03-01", "--label", "Zürich"],
        "environment": [{"name": "STAGE", "value": "prod"}, {"name": "REGION_LABEL", "value": "東京"}],
    }]});
    let container = |name: &str, image: &str, cpu: &str, mem: &str| {
        json!({
            "containerArn": format!("arn:aws:ecs:{region}:{acct}:container/prod-batch/@@h32@@/@@u@@"),
            "taskArn": task, "name": name, "image": image, "lastStatus": "PENDING",
            "networkInterfaces": [], "cpu": cpu, "memory": mem,
        })
    };
    let image = format!(
        "{acct}.dkr.ecr.{region}.amazonaws.com/etl:2026.03.0{}",
        rng.range(1, 9)
    );
    Ok(Payload {
        req: Some(json!({
            "cluster": "prod-batch", "count": 1, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"assignPublicIp": "DISABLED",
                "securityGroups": ["sg-0@@h16@@"], "subnets": subnets}},
            "overrides": overrides, "taskDefinition": "etl-nightly",
            "enableECSManagedTags": true, "propagateTags": "TASK_DEFINITION",
            "tags": [{"key": "job", "value": "nightly"}, {"key": "owner", "value": "équipe-données"}],
        })),
        resp: Some(json!({
            "tasks": [{
                "attachments": [{"id": "@@u@@", "type": "ElasticNetworkInterface", "status": "PRECREATED",
                    "details": [{"name": "subnetId", "value": subnets[0]},
                                {"name": "networkInterfaceId", "value": "eni-0@@h16@@"},
                                {"name": "privateIPv4Address", "value": "10.0.@@o@@.@@o@@"}]}],
                "attributes": [{"name": "ecs.cpu-architecture", "value": "x86_64"}],
                "availabilityZone": az(cx, rng), "clusterArn": cluster,
                "containers": [
                    container("etl", &image, "1024", "2048"),
                    container("log-router", "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", "64", "128"),
                ],
                "cpu": "1024", "createdAt": "@@m@@", "desiredStatus": "RUNNING",
                "enableExecuteCommand": false, "group": "family:etl-nightly",
                "lastStatus": "PROVISIONING", "launchType": "FARGATE", "memory": "2048",
                "overrides": overrides, "platformVersion": "1.4.0", "platformFamily": "Linux",
                "tags": [{"key": "job", "value": "nightly"}, {"key": "owner", "value": "équipe-données"}],
                "taskArn": task, "taskDefinitionArn": task_def, "version": 1,
                "ephemeralStorage": {"sizeInGiB": 20},
            }],
            "failures": [],
        })),
        ..Payload::default()
    })
}

fn get_parameters(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let app = *rng.pick(&["orders", "reporting", "thumbnailer"]);
    Ok(Payload {
        req: Some(json!({
            "names": [format!("/app/{app}/db-url"), format!("/app/{app}/feature-flags"), format!("/app/{app}/api-key")],
            "withDecryption": true,
        })),
        ..Payload::default()
    })
}

fn get_secret_value(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let name = *rng.pick(&["prod/orders/db", "prod/etl/warehouse", "prod/partner/sftp"]);
    Ok(Payload {
        req: Some(json!({
            "secretId": format!("arn:aws:secretsmanager:{}:{}:secret:{name}-@@a6@@", cx.region, cx.acct),
        })),
        ..Payload::default()
    })
}

fn create_log_stream(_: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let group = *rng.pick(&["/aws/lambda/thumbnailer", "/aws-glue/jobs/output"]);
    Ok(Payload {
        req: Some(json!({"logGroupName": group, "logStreamName": "2026/03/01/[$LATEST]@@h32@@"})),
        ..Payload::default()
    })
}

fn describe_stacks(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let stack = *rng.pick(&["prod-workers", "orders-api", "data-lake"]);
    Ok(Payload {
        req: Some(json!({
            "stackName": format!("arn:aws:cloudformation:{}:{}:stack/{stack}/@@u@@", cx.region, cx.acct),
        })),
        ..Payload::default()
    })
}

fn list_buckets(_: &SpecCx, _: &mut Rng) -> Result<Payload> {
    Ok(Payload {
        req: Some(json!({"Host": "s3.amazonaws.com"})),
        host: Some("s3.amazonaws.com".to_string()),
        ..Payload::default()
    })
}

fn bucket_subresource(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let bucket = &cx.buckets[rng.below(cx.buckets.len() as u64) as usize];
    Ok(Payload {
        req: Some(json!({"bucketName": bucket.name, "Host": bucket.host_regional, "acl": ""})),
        resources: Some(json!([
            {"accountId": cx.acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{}", bucket.name)},
        ])),
        host: Some(bucket.host_regional.clone()),
        ..Payload::default()
    })
}

fn put_bucket_policy(cx: &SpecCx, rng: &mut Rng) -> Result<Payload> {
    let bucket = &cx.buckets[rng.below(cx.buckets.len() as u64) as usize];
    Ok(Payload {
        req: Some(json!({
            "bucketPolicy": policy_document(cx, rng),
            "bucketName": bucket.name, "Host": bucket.host_regional, "policy": "",
        })),
        resources: Some(json!([
            {"accountId": cx.acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{}", bucket.name)},
        ])),
        host: Some(bucket.host_regional.clone()),
        ..Payload::default()
    })
}

// ------------------------------------------------------------------------------------------
// The writer
// ------------------------------------------------------------------------------------------

/// Management events of other services (and a few of S3), from pre-rendered payloads.
pub(super) fn mgmt(o: &mut Vec<u8>, rng: &mut Rng, cx: &Cx) -> Facts {
    let kinds = &cx.stream.mgmt;
    let total: u64 = kinds.iter().map(|k| u64::from(k.spec.weight)).sum();
    let mut x = rng.below(total);
    let mut kind = &kinds[0];
    for k in kinds {
        if x < u64::from(k.spec.weight) {
            kind = k;
            break;
        }
        x -= u64::from(k.spec.weight);
    }
    let spec = kind.spec;
    let variant = rng.pick(&kind.variants);
    let role = pick_weighted(rng, spec.actors);
    let p = cx.account.principal(role);
    let ident = rng.pick(&p.idents);
    let mut client = pick_weighted(rng, if spec.s3 { &p.s3 } else { &p.api });
    if client.sig == Sig::V2 && !cx.stream.sigv2_ok {
        client.sig = Sig::V4;
    }
    let caller = caller_of(rng, p);
    let denied = p.service.is_none() && rng.chance(150);
    let ua = &cx.world.pool.uas[client.ua as usize];

    let version = *rng.pick(&["1.08", "1.09", "1.10", "1.11"]);
    put_head(
        o,
        cx,
        &Head {
            version,
            ident,
            invoked_by: None,
            source: spec.source,
            name: spec.name,
        },
    );
    put_caller(o, caller, if spec.s3 { &ua.bracketed } else { &ua.plain });
    if denied {
        if spec.source == "ec2.amazonaws.com" {
            put_error(
                o,
                "Client.UnauthorizedOperation",
                "You are not authorized to perform this operation.",
            );
        } else {
            put_error(o, "AccessDenied", "Access Denied");
        }
    }
    lit(o, "\"requestParameters\":");
    match &variant.req {
        Some(t) => t.render(o, rng, cx.t),
        None => lit(o, "null"),
    }
    lit(o, ",\"responseElements\":");
    match &variant.resp {
        Some(t) if !denied => t.render(o, rng, cx.t),
        _ => lit(o, "null"),
    }
    o.push(b',');
    let tls = client.tls;
    if spec.s3 {
        lit(o, "\"additionalEventData\":{");
        lit(
            o,
            if client.sig == Sig::V2 {
                "\"SignatureVersion\":\"SigV2\",\"CipherSuite\":\""
            } else {
                "\"SignatureVersion\":\"SigV4\",\"CipherSuite\":\""
            },
        );
        lit(o, tls.unwrap_or(Tls::V12).cipher());
        lit(
            o,
            "\",\"bytesTransferredIn\":0,\"AuthenticationMethod\":\"AuthHeader\",\"x-amz-id-2\":\"",
        );
        put_chars(o, rng, 75, BASE64);
        lit(o, "=\",\"bytesTransferredOut\":");
        put_u64(o, 200 + rng.below(4_000));
        lit(o, "},");
    }
    put_ids(o, rng, spec.s3, spec.read_only);
    if let Some(t) = &variant.resources {
        lit(o, "\"resources\":");
        t.render(o, rng, cx.t);
        o.push(b',');
    }
    put_tail(
        o,
        rng,
        cx,
        &Tail {
            management: true,
            shared: false,
            vpce: None,
            tls,
            host: &variant.host,
            console: role == Role::SsoAdmin && !spec.s3 && ua.text.starts_with("Mozilla"),
        },
    );
    Facts {
        principal: p.id,
        source: if spec.s3 { Source::S3 } else { Source::Other },
        name: spec.name,
        data: false,
        sig: spec.s3.then_some(client.sig),
        ua: Some(client.ua),
        tls,
        throttled: false,
        s3_arn_bucket: None,
    }
}
