//! The attribution rules, restated here so that the planted answers do not depend on the
//! analyzer's code. Kept apart from `truth` so that the principals the generator builds
//! (identities) and the truth that counts them read one rule without a module circle.

/// The identity fields the attribution rules look at, as they appear in a record.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct IdentityView<'a> {
    pub(super) typ: Option<&'a str>,
    pub(super) arn: Option<&'a str>,
    pub(super) issuer_arn: Option<&'a str>,
    pub(super) invoked_by: Option<&'a str>,
    pub(super) account_id: Option<&'a str>,
}

pub(super) fn attribute_principal(id: &IdentityView) -> String {
    if let Some(issuer) = id.issuer_arn.filter(|s| !s.is_empty()) {
        return issuer.to_string();
    }
    if let Some(arn) = id.arn {
        return arn.to_string();
    }
    match (id.typ, id.invoked_by, id.account_id) {
        (Some("AWSService"), Some(by), _) => by.to_string(),
        (Some("AWSAccount"), _, Some(acct)) => format!("account:{acct}"),
        _ => "unknown".to_string(),
    }
}

/// Operations that share the per-account, per-region KMS request quota.
/// The operations of the symmetric quota, as the KMS Developer Guide's "Request quotas"
/// table lists them (data key pairs have quotas of their own). Kept apart from the analyzer's
/// rule so that the planted answers are derived independently.
pub(super) const SYMMETRIC_OPS: [&str; 8] = [
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "ReEncrypt",
    "VerifyMac",
];

pub(super) fn is_legacy_tls(version: &str) -> bool {
    version == "TLSv1" || version == "TLSv1.1"
}

/// The logged user agent without one pair of surrounding square brackets. (The generator knows
/// the unbracketed agent already; the tests apply the rule to what was logged.)
#[cfg(test)]
pub(super) fn strip_brackets(ua: &str) -> &str {
    ua.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(ua)
}
