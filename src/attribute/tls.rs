//! Legacy TLS: every AWS endpoint now requires TLS 1.2, so TLS 1.0/1.1 callers must be fixed.

/// True for `tlsDetails.tlsVersion` values older than TLS 1.2.
pub fn is_legacy_tls(version: &str) -> bool {
    matches!(version, "TLSv1" | "TLSv1.0" | "TLSv1.1" | "SSLv3")
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_versions_before_1_2_are_legacy() {
        for v in ["TLSv1", "TLSv1.1"] {
            assert!(super::is_legacy_tls(v));
        }
        for v in ["TLSv1.2", "TLSv1.3", ""] {
            assert!(!super::is_legacy_tls(v));
        }
    }
}
