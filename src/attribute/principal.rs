//! Who made a call (docs/DESIGN.md, attribution rules).

use crate::record::{Identity, Record};

/// The principal a call is charged to.
///
/// Assumed-role calls are grouped by the role (the session issuer), not by the per-session
/// ARN: one BI role makes its calls from thousands of sessions.
pub fn principal<'a>(id: &Identity<'a>) -> PrincipalName<'a> {
    if let Some(issuer) = id.session_issuer_arn {
        return PrincipalName::Logged(issuer);
    }
    if let Some(arn) = id.arn.filter(|a| !a.is_empty()) {
        return PrincipalName::Logged(arn);
    }
    match id.kind {
        Some("AWSService") => match id.invoked_by {
            Some(service) => PrincipalName::Logged(service),
            None => PrincipalName::Unknown,
        },
        // A caller of another account: CloudTrail names only its account and `principalId`
        // (the unique id of the role or user, `AROA...:session` for a role session; the
        // CloudTrail user guide's network activity example has `AKIA...`). The id part before
        // `:` tells callers of one account apart; the session part is the session
        // (`session_name`).
        // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
        Some("AWSAccount") => {
            let unique_id = id
                .principal_id
                .map(|p| p.split_once(':').map_or(p, |(unique, _)| unique))
                .filter(|p| !p.is_empty());
            match (id.account_id, unique_id) {
                (Some(account), unique_id) => PrincipalName::Account(account, unique_id),
                (None, Some(unique_id)) => PrincipalName::PrincipalId(unique_id),
                (None, None) => PrincipalName::Unknown,
            }
        }
        // A request on behalf of an IAM Identity Center user: `onBehalfOf.userId` names the
        // user (CloudTrail user guide, userIdentity element). It is written as the Identity
        // Store user's ARN, `arn:<partition>:identitystore:::user/<userId>` (the resource
        // ARN of the Service Authorization Reference for AWS Identity Store), with the
        // partition of `identityStoreArn`.
        Some("IdentityCenterUser") => match id.on_behalf_of_user_id.filter(|u| !u.is_empty()) {
            Some(user) => PrincipalName::IdentityCenterUser {
                partition: id
                    .identity_store_arn
                    .and_then(|arn| arn.split(':').nth(1))
                    .filter(|p| !p.is_empty())
                    .unwrap_or("aws"),
                user,
            },
            None => PrincipalName::Unknown,
        },
        _ => PrincipalName::Unknown,
    }
}

/// The session a call was made in, for principals that have sessions: the session name of
/// an assumed role (the last part of `assumed-role/<role>/<session>`, often an instance id
/// or a user's name), the name of a federated user, or the session part of an `AWSAccount`
/// caller's `principalId`. `None` for long-term identities (users, root, services).
pub fn session_name<'a>(id: &Identity<'a>) -> Option<&'a str> {
    if id.session_issuer_arn.is_some() {
        return id
            .arn
            .and_then(|arn| arn.rsplit_once('/'))
            .map(|(_, session)| session)
            .filter(|s| !s.is_empty());
    }
    if id.kind == Some("AWSAccount") {
        return id
            .principal_id
            .and_then(|p| p.split_once(':'))
            .map(|(_, session)| session)
            .filter(|s| !s.is_empty());
    }
    None
}

/// A principal as it will be written: a logged string, `account:<id>`, or `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalName<'a> {
    Logged(&'a str),
    /// `account:<id>`, or `account:<id>/<unique id>` when `principalId` names the caller.
    Account(&'a str, Option<&'a str>),
    /// `principal:<unique id>`: an `AWSAccount` caller without an account id.
    PrincipalId(&'a str),
    IdentityCenterUser {
        partition: &'a str,
        user: &'a str,
    },
    Unknown,
}

impl PrincipalName<'_> {
    /// Writes the name into `buf` (reused across records) and returns it.
    pub fn render<'b>(&self, buf: &'b mut String) -> &'b str {
        buf.clear();
        match self {
            PrincipalName::Logged(s) => buf.push_str(s),
            PrincipalName::Account(a, unique_id) => {
                buf.push_str("account:");
                buf.push_str(a);
                if let Some(id) = unique_id {
                    buf.push('/');
                    buf.push_str(id);
                }
            }
            PrincipalName::PrincipalId(id) => {
                buf.push_str("principal:");
                buf.push_str(id);
            }
            PrincipalName::IdentityCenterUser { partition, user } => {
                buf.push_str("arn:");
                buf.push_str(partition);
                buf.push_str(":identitystore:::user/");
                buf.push_str(user);
            }
            PrincipalName::Unknown => buf.push_str("unknown"),
        }
        buf
    }
}

/// The account whose trail holds the record: `recipientAccountId`, else the caller's.
pub fn account_id<'a>(r: &Record<'a>) -> Option<&'a str> {
    r.recipient_account_id.or(r.identity.account_id)
}

/// The account that made a call: `userIdentity.accountId`, else the recipient. KMS
/// throttles and bills the account that makes a request, not the account that owns the
/// key ("For cross-account requests, AWS KMS throttles the account that makes the
/// requests, not the account that owns the KMS key": KMS Developer Guide, Request quotas,
/// Cross-account requests; https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html#rps-cross-account),
/// so this is the account of every KMS table, whichever copy of a cross-account call the
/// input holds.
pub fn caller_account_id<'a>(r: &Record<'a>) -> Option<&'a str> {
    r.identity
        .account_id
        .filter(|a| !a.is_empty())
        .or(r.recipient_account_id)
}

/// The AWS service that acted for the principal: `invokedBy`, else a service name in
/// `sourceIPAddress` (`fas.s3.amazonaws.com`, `AWS Internal`); `None` for direct calls.
pub fn via_service<'a>(r: &Record<'a>) -> Option<&'a str> {
    r.identity
        .invoked_by
        .or_else(|| r.source_ip.filter(|ip| is_service_name(ip)))
}

/// True when a `sourceIPAddress` or `invokedBy` value names an AWS service, not an address.
pub fn is_service_name(s: &str) -> bool {
    s.ends_with(".amazonaws.com") || s == "AWS Internal"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(id: Identity<'_>) -> String {
        principal(&id).render(&mut String::new()).to_owned()
    }

    #[test]
    fn assumed_roles_group_by_session_issuer() {
        let id = Identity {
            kind: Some("AssumedRole"),
            arn: Some("arn:aws:sts::1:assumed-role/bi/session-42"),
            session_issuer_arn: Some("arn:aws:iam::1:role/bi"),
            ..Identity::default()
        };
        assert_eq!(name(id), "arn:aws:iam::1:role/bi");
    }

    #[test]
    fn fallbacks_follow_the_design() {
        let user = Identity {
            kind: Some("IAMUser"),
            arn: Some("arn:aws:iam::1:user/a"),
            ..Identity::default()
        };
        assert_eq!(name(user), "arn:aws:iam::1:user/a");
        let service = Identity {
            kind: Some("AWSService"),
            invoked_by: Some("cloudtrail.amazonaws.com"),
            ..Identity::default()
        };
        assert_eq!(name(service), "cloudtrail.amazonaws.com");
        let account = Identity {
            kind: Some("AWSAccount"),
            account_id: Some("444455556666"),
            ..Identity::default()
        };
        assert_eq!(name(account), "account:444455556666");
        assert_eq!(name(Identity::default()), "unknown");
    }

    #[test]
    fn aws_account_callers_are_named_by_principal_id() {
        // The CloudTrail user guide's network activity example (a denied ListKeys).
        let documented = Identity {
            kind: Some("AWSAccount"),
            principal_id: Some("AKIAIOSFODNN7EXAMPLE"),
            account_id: Some("777788889999"),
            ..Identity::default()
        };
        assert_eq!(
            name(documented),
            "account:777788889999/AKIAIOSFODNN7EXAMPLE"
        );
        assert_eq!(session_name(&documented), None);
        let role_session = Identity {
            kind: Some("AWSAccount"),
            principal_id: Some("AROAEXAMPLE:i-0abc"),
            account_id: Some("111111111111"),
            ..Identity::default()
        };
        assert_eq!(name(role_session), "account:111111111111/AROAEXAMPLE");
        assert_eq!(session_name(&role_session), Some("i-0abc"));
        let no_account = Identity {
            kind: Some("AWSAccount"),
            principal_id: Some("AIDAEXAMPLE"),
            ..Identity::default()
        };
        assert_eq!(name(no_account), "principal:AIDAEXAMPLE");
    }

    #[test]
    fn identity_center_users_are_named_by_their_user_id() {
        // The CloudTrail user guide's userIdentity example for an IAM Identity Center user.
        let id = Identity {
            kind: Some("IdentityCenterUser"),
            account_id: Some("123456789012"),
            on_behalf_of_user_id: Some("544894e8-80c1-707f-60e3-3ba6510dfac1"),
            identity_store_arn: Some(
                "arn:aws:identitystore::123456789012:identitystore/d-9067642ac7",
            ),
            ..Identity::default()
        };
        assert_eq!(
            name(id),
            "arn:aws:identitystore:::user/544894e8-80c1-707f-60e3-3ba6510dfac1"
        );
    }

    #[test]
    fn assumed_role_sessions_are_named_by_the_session() {
        let id = Identity {
            kind: Some("AssumedRole"),
            arn: Some("arn:aws:sts::1:assumed-role/bi/i-0123456789abcdef0"),
            session_issuer_arn: Some("arn:aws:iam::1:role/bi"),
            ..Identity::default()
        };
        assert_eq!(session_name(&id), Some("i-0123456789abcdef0"));
        let user = Identity {
            kind: Some("IAMUser"),
            arn: Some("arn:aws:iam::1:user/a"),
            ..Identity::default()
        };
        assert_eq!(session_name(&user), None);
    }

    #[test]
    fn a_kms_call_belongs_to_the_callers_account() {
        // The key owner's copy of a cross-account call: recipient is the key's account.
        let r = Record {
            recipient_account_id: Some("444455556666"),
            identity: Identity {
                account_id: Some("111122223333"),
                ..Identity::default()
            },
            ..Record::default()
        };
        assert_eq!(caller_account_id(&r), Some("111122223333"));
        assert_eq!(account_id(&r), Some("444455556666"));
    }

    #[test]
    fn via_service_prefers_invoked_by_then_service_source_ip() {
        let mut r = Record {
            source_ip: Some("fas.s3.amazonaws.com"),
            ..Record::default()
        };
        assert_eq!(via_service(&r), Some("fas.s3.amazonaws.com"));
        r.source_ip = Some("203.0.113.9");
        assert_eq!(via_service(&r), None);
        r.identity.invoked_by = Some("s3.amazonaws.com");
        assert_eq!(via_service(&r), Some("s3.amazonaws.com"));
    }
}
