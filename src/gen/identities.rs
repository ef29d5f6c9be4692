//! Principals: the callers of every account and their pre-rendered `userIdentity` objects.

use anyhow::Result;

use super::clients::{Client, Pool, role_clients};
use super::json::{ALNUM, js, js_slashed, rand_hex, rand_string};
use super::rng::Rng;
use super::roles::Role;
use super::rules::{IdentityView, attribute_principal};

/// A pre-rendered `userIdentity` object, split around the session's `creationDate`.
#[derive(Debug, Clone)]
pub(super) struct Ident {
    /// Up to and including `"creationDate":"` for sessions; else the object without `}`.
    pub(super) head: Vec<u8>,
    /// From the end of the creation date to the end of `sessionContext` (sessions only).
    pub(super) tail: Vec<u8>,
    pub(super) has_session: bool,
    /// The session was created this long before the start of the event's hour.
    pub(super) session_age: i64,
}

#[derive(Debug)]
pub(super) struct Principal {
    /// Global id: `Pool::principals[id]` is the attributed principal.
    pub(super) id: u16,
    pub(super) idents: Vec<Ident>,
    /// Clients for S3 (logged in brackets) and for every other service.
    pub(super) s3: Vec<(Client, u32)>,
    pub(super) api: Vec<(Client, u32)>,
    pub(super) ips: Vec<[u8; 4]>,
    /// For AWS services: the name logged as source IP and user agent.
    pub(super) service: Option<&'static str>,
}

struct RoleIdentity<'a> {
    acct: &'a str,
    name: String,
    path: &'a str,
    sessions: Vec<String>,
    /// EC2 instance profile sessions carry `ec2RoleDelivery`.
    ec2: bool,
    /// Write the issuer ARN with `\/` in some of the identities.
    slashed: bool,
}

fn assumed_role(spec: &RoleIdentity, rng: &mut Rng, pool: &mut Pool) -> Result<(u16, Vec<Ident>)> {
    let acct = spec.acct;
    let issuer = format!("arn:aws:iam::{acct}:role/{}{}", spec.path, spec.name);
    let role_id = format!("AROA{}", rand_string(rng, 17, &ALNUM[..36]).to_uppercase());
    let id = pool.principal(attribute_principal(&IdentityView {
        typ: Some("AssumedRole"),
        issuer_arn: Some(&issuer),
        ..IdentityView::default()
    }))?;
    let mut idents = Vec::new();
    for (i, session) in spec.sessions.iter().enumerate() {
        let arn = format!("arn:aws:sts::{acct}:assumed-role/{}/{session}", spec.name);
        let issuer_json = if spec.slashed && i % 2 == 1 {
            js_slashed(&issuer)?
        } else {
            js(&issuer)?
        };
        let head = format!(
            "{{\"type\":\"AssumedRole\",\"principalId\":{},\"arn\":{},\"accountId\":\"{acct}\",\"accessKeyId\":\"ASIA{}\",\"sessionContext\":{{\"sessionIssuer\":{{\"type\":\"Role\",\"principalId\":\"{role_id}\",\"arn\":{issuer_json},\"accountId\":\"{acct}\",\"userName\":{}}},\"webIdFederationData\":{{}},\"attributes\":{{\"creationDate\":\"",
            js(&format!("{role_id}:{session}"))?,
            js(&arn)?,
            rand_string(rng, 16, &ALNUM[..36]).to_uppercase(),
            js(&spec.name)?,
        );
        let tail = if spec.ec2 {
            "\",\"mfaAuthenticated\":\"false\"},\"ec2RoleDelivery\":\"2.0\"}"
        } else {
            "\",\"mfaAuthenticated\":\"false\"}}"
        };
        idents.push(Ident {
            head: head.into_bytes(),
            tail: tail.as_bytes().to_vec(),
            has_session: true,
            session_age: 60 * rng.range(3, 55) as i64,
        });
    }
    Ok((id, idents))
}

fn iam_user(acct: &str, name: &str, rng: &mut Rng, pool: &mut Pool) -> Result<(u16, Vec<Ident>)> {
    let arn = format!("arn:aws:iam::{acct}:user/{name}");
    let id = pool.principal(attribute_principal(&IdentityView {
        typ: Some("IAMUser"),
        arn: Some(&arn),
        ..IdentityView::default()
    }))?;
    let user_id = format!("AIDA{}", rand_string(rng, 17, &ALNUM[..36]).to_uppercase());
    let idents = (0..2)
        .map(|_| -> Result<Ident> {
            let head = format!(
                "{{\"type\":\"IAMUser\",\"principalId\":\"{user_id}\",\"arn\":{},\"accountId\":\"{acct}\",\"accessKeyId\":\"AKIA{}\",\"userName\":{}",
                js(&arn)?,
                rand_string(rng, 16, &ALNUM[..36]).to_uppercase(),
                js(name)?
            );
            Ok(Ident {
                head: head.into_bytes(),
                tail: Vec::new(),
                has_session: false,
                session_age: 0,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((id, idents))
}

fn service_identity(service: &'static str, pool: &mut Pool) -> Result<(u16, Vec<Ident>)> {
    let id = pool.principal(attribute_principal(&IdentityView {
        typ: Some("AWSService"),
        invoked_by: Some(service),
        ..IdentityView::default()
    }))?;
    let head = format!("{{\"type\":\"AWSService\",\"invokedBy\":\"{service}\"");
    Ok((
        id,
        vec![Ident {
            head: head.into_bytes(),
            tail: Vec::new(),
            has_session: false,
            session_age: 0,
        }],
    ))
}

fn account_identity(
    account: &str,
    principal_id: &str,
    pool: &mut Pool,
) -> Result<(u16, Vec<Ident>)> {
    let id = pool.principal(attribute_principal(&IdentityView {
        typ: Some("AWSAccount"),
        account_id: Some(account),
        ..IdentityView::default()
    }))?;
    let head = format!(
        "{{\"type\":\"AWSAccount\",\"principalId\":{},\"accountId\":{}",
        js(principal_id)?,
        js(account)?
    );
    Ok((
        id,
        vec![Ident {
            head: head.into_bytes(),
            tail: Vec::new(),
            has_session: false,
            session_age: 0,
        }],
    ))
}

fn sessions(rng: &mut Rng, n: usize, make: impl Fn(&mut Rng) -> String) -> Vec<String> {
    (0..n).map(|_| make(rng)).collect()
}

pub(super) fn build_principal(
    role: Role,
    a: &str,
    external: &str,
    rng: &mut Rng,
    pool: &mut Pool,
) -> Result<Principal> {
    let (id, idents) = match role {
        Role::Bi => assumed_role(
            &RoleIdentity {
                acct: a,
                name: "BI-Reporting".into(),
                path: "",
                sessions: sessions(rng, 3, |r| format!("bi-refresh-{}", rand_hex(r, 8))),
                ec2: false,
                slashed: false,
            },
            rng,
            pool,
        )?,
        Role::OrdersApp => assumed_role(
            &RoleIdentity {
                acct: a,
                name: "orders-api-task-role".into(),
                path: "",
                sessions: sessions(rng, 4, |r| rand_hex(r, 32)),
                ec2: false,
                slashed: false,
            },
            rng,
            pool,
        )?,
        Role::Etl => assumed_role(
            &RoleIdentity {
                acct: a,
                name: format!("data-pipeline-glue-{}", rand_string(rng, 6, &ALNUM[26..52])),
                path: "service-role/",
                sessions: sessions(rng, 3, |_| "GlueJobRunnerSession".to_string()),
                ec2: false,
                slashed: false,
            },
            rng,
            pool,
        )?,
        Role::Thumbnailer => assumed_role(
            &RoleIdentity {
                acct: a,
                name: "thumbnailer-lambda-role".into(),
                path: "service-role/",
                sessions: sessions(rng, 4, |_| "thumbnailer".to_string()),
                ec2: false,
                slashed: true,
            },
            rng,
            pool,
        )?,
        Role::SsoAdmin => assumed_role(
            &RoleIdentity {
                acct: a,
                name: format!("AWSReservedSSO_AdministratorAccess_{}", rand_hex(rng, 16)),
                path: "aws-reserved/sso.amazonaws.com/",
                sessions: ["maria.lopez", "kenji.tanaka", "ana.oliveira", "sam.ford"]
                    .iter()
                    .map(|s| format!("{s}@example.com"))
                    .collect(),
                ec2: false,
                slashed: true,
            },
            rng,
            pool,
        )?,
        Role::Presigner => assumed_role(
            &RoleIdentity {
                acct: a,
                name: "web-portal-presigner".into(),
                path: "",
                sessions: sessions(rng, 3, |r| format!("i-0{}", rand_hex(r, 16))),
                ec2: true,
                slashed: false,
            },
            rng,
            pool,
        )?,
        Role::EksNode => assumed_role(
            &RoleIdentity {
                acct: a,
                name: format!(
                    "eksctl-prod-nodegroup-NodeInstanceRole-{}",
                    rand_string(rng, 12, &ALNUM[..36]).to_uppercase()
                ),
                path: "",
                sessions: sessions(rng, 4, |r| format!("i-0{}", rand_hex(r, 16))),
                ec2: true,
                slashed: false,
            },
            rng,
            pool,
        )?,
        Role::LegacyBackup => iam_user(a, "legacy-backup", rng, pool)?,
        Role::CiDeploy => iam_user(a, "ci-deploy", rng, pool)?,
        Role::DotnetReporting => iam_user(a, "reporting-dotnet", rng, pool)?,
        Role::PartnerSync => iam_user(a, "partner-sync", rng, pool)?,
        Role::CloudTrail => service_identity("cloudtrail.amazonaws.com", pool)?,
        Role::LambdaService => service_identity("lambda.amazonaws.com", pool)?,
        Role::CrossAccount => {
            let pid = format!("AIDA{}", rand_string(rng, 17, &ALNUM[..36]).to_uppercase());
            account_identity(external, &pid, pool)?
        }
        Role::Anonymous => account_identity("anonymous", "", pool)?,
    };
    let (s3, api, ips) = role_clients(role, rng, pool)?;
    let service = match role {
        Role::CloudTrail => Some("cloudtrail.amazonaws.com"),
        Role::LambdaService => Some("lambda.amazonaws.com"),
        _ => None,
    };
    Ok(Principal {
        id,
        idents,
        s3,
        api,
        ips,
        service,
    })
}
