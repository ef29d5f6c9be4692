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
        Some("AWSAccount") => match id.account_id {
            Some(account) => PrincipalName::Account(account),
            None => PrincipalName::Unknown,
        },
        _ => PrincipalName::Unknown,
    }
}

/// A principal as it will be written: a logged string, `account:<id>`, or `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalName<'a> {
    Logged(&'a str),
    Account(&'a str),
    Unknown,
}

impl PrincipalName<'_> {
    /// Writes the name into `buf` (reused across records) and returns it.
    pub fn render<'b>(&self, buf: &'b mut String) -> &'b str {
        buf.clear();
        match self {
            PrincipalName::Logged(s) => buf.push_str(s),
            PrincipalName::Account(a) => {
                buf.push_str("account:");
                buf.push_str(a);
            }
            PrincipalName::Unknown => buf.push_str("unknown"),
        }
        buf
    }
}

/// The account whose trail holds the record (and whose quota a KMS call counts against).
pub fn account_id<'a>(r: &Record<'a>) -> Option<&'a str> {
    r.recipient_account_id.or(r.identity.account_id)
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
