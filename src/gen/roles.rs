//! The callers of every account, by purpose: what each calls and with what is decided
//! by its role (clients, identities, events).

/// The callers of every account. Each has a purpose that fixes what it calls and with what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Assumed role of BI dashboards: a burst of KMS Decrypt at minute 0 of every hour.
    Bi,
    OrdersApp,
    Etl,
    Thumbnailer,
    SsoAdmin,
    /// Hands out presigned URLs; browsers and curl fetch them, many still SigV2.
    Presigner,
    EksNode,
    /// IAM user of an old backup script: SigV2 through and through.
    LegacyBackup,
    CiDeploy,
    /// IAM user of a .NET Framework 4.0 reporting tool: TLS 1.0.
    DotnetReporting,
    /// IAM user a partner uses with old SDKs: SigV2, some TLS 1.1.
    PartnerSync,
    CloudTrail,
    LambdaService,
    CrossAccount,
    Anonymous,
}

pub(super) const ROLES: [Role; 15] = [
    Role::Bi,
    Role::OrdersApp,
    Role::Etl,
    Role::Thumbnailer,
    Role::SsoAdmin,
    Role::Presigner,
    Role::EksNode,
    Role::LegacyBackup,
    Role::CiDeploy,
    Role::DotnetReporting,
    Role::PartnerSync,
    Role::CloudTrail,
    Role::LambdaService,
    Role::CrossAccount,
    Role::Anonymous,
];
