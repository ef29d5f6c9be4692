//! KMS facts: which operations share the request quota, which bucket a call served, and the
//! default quotas per region.

/// Symmetric cryptographic operations: they share one request quota per account and region
/// per second (docs/CLOUDTRAIL.md §4). Only these count toward `kms_rates`.
pub fn is_symmetric_operation(event_name: &str) -> bool {
    matches!(
        event_name,
        "Decrypt"
            | "Encrypt"
            | "GenerateDataKey"
            | "GenerateDataKeyWithoutPlaintext"
            | "GenerateDataKeyPair"
            | "GenerateDataKeyPairWithoutPlaintext"
            | "ReEncrypt"
            | "GenerateRandom"
    )
}

pub const THROTTLING_ERROR: &str = "ThrottlingException";

/// Why a KMS call was made, as far as the record tells: the `caller_kind` column.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum CallerKind {
    /// The principal called KMS itself (no service in `invokedBy`/`sourceIPAddress`).
    Direct,
    /// S3 called KMS for the principal's SSE-KMS object read or write.
    S3SseKms,
    /// CloudTrail encrypting its own log files (`aws:cloudtrail:arn` in the context).
    CloudTrailLogEncryption,
    /// Another AWS service acting for the principal (`AWS Internal`, `ec2.amazonaws.com`, ...).
    AwsService,
}

impl CallerKind {
    pub fn of(via_service: Option<&str>, cloudtrail_arn: Option<&str>) -> CallerKind {
        if cloudtrail_arn.is_some() || via_service == Some(CLOUDTRAIL_SERVICE) {
            return CallerKind::CloudTrailLogEncryption;
        }
        match via_service {
            None => CallerKind::Direct,
            Some(s) if is_s3_service(s) => CallerKind::S3SseKms,
            Some(_) => CallerKind::AwsService,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CallerKind::Direct => "direct",
            CallerKind::S3SseKms => "s3_sse_kms",
            CallerKind::CloudTrailLogEncryption => "cloudtrail_log_encryption",
            CallerKind::AwsService => "aws_service",
        }
    }
}

pub const CLOUDTRAIL_SERVICE: &str = "cloudtrail.amazonaws.com";

/// `s3.amazonaws.com` (older records) or `fas.s3.amazonaws.com` (forward access sessions).
pub fn is_s3_service(service: &str) -> bool {
    service == "s3.amazonaws.com" || service == "fas.s3.amazonaws.com"
}

/// The bucket behind an SSE-KMS call and whether it uses an S3 Bucket Key, from the
/// `aws:s3:arn` encryption context: a bucket ARN means one data key per bucket (Bucket Key
/// on), an object ARN means one per object (off).
pub fn s3_bucket_of(s3_arn: &str) -> Option<(&str, bool)> {
    let (_, resource) = s3_arn.split_once(":::")?;
    match resource.split_once('/') {
        Some((bucket, _object)) if !bucket.is_empty() => Some((bucket, false)),
        Some(_) => None,
        None if !resource.is_empty() => Some((resource, true)),
        None => None,
    }
}

/// Which request of the AWS Encryption SDK's caching cryptographic materials manager a
/// direct KMS call answers: the `operation` column of `kms_data_key_caching`.
///
/// AWS Encryption SDK Developer Guide, "Data key caching details"
/// (https://docs.aws.amazon.com/encryption-sdk/latest/developer-guide/data-caching-details.html),
/// "How data key caching works": "When you use data key caching in a request to encrypt or
/// decrypt data, the AWS Encryption SDK first searches the cache for a data key that matches
/// the request", and every compatible caching CMM requires these properties of the cached
/// materials to match the request: the algorithm suite, the encryption context (even when
/// empty), the partition name and, for decryption only, the encrypted data keys. "Cached
/// Entries for Decryption Requests" hold the plaintext data key a `Decrypt` call returned.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum CacheOperation {
    /// Encryption materials: GenerateDataKey and GenerateDataKeyWithoutPlaintext.
    GenerateDataKey,
    /// Decryption materials: Decrypt.
    Decrypt,
}

impl CacheOperation {
    pub fn of(event_name: &str) -> Option<CacheOperation> {
        match event_name {
            "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext" => {
                Some(CacheOperation::GenerateDataKey)
            }
            "Decrypt" => Some(CacheOperation::Decrypt),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CacheOperation::GenerateDataKey => "generate_data_key",
            CacheOperation::Decrypt => "decrypt",
        }
    }
}

/// The `x-amz-server-side-encryption` value of dual-layer server-side encryption with KMS
/// keys (DSSE-KMS). S3 User Guide, "Using dual-layer server-side encryption with AWS KMS keys
/// (DSSE-KMS)" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingDSSEncryption.html):
/// its bucket policy denies `s3:PutObject` unless `s3:x-amz-server-side-encryption` is
/// `aws:kms:dsse`; the S3 API's server-side encryption values are `AES256 | aws:kms |
/// aws:kms:dsse` (API Reference, ServerSideEncryptionByDefault).
pub const DSSE_KMS: &str = "aws:kms:dsse";

/// True when an S3 event's logged request or response header says the object was written
/// with DSSE-KMS. S3 logs request headers in `requestParameters` and response headers in
/// `responseElements`: the S3 User Guide's "CloudTrail log file entries for Amazon S3 and S3
/// on Outposts" PutObject example carries `"x-amz-server-side-encryption"` in both
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-understanding-s3-entries.html).
/// The response header names the encryption the object was stored with (S3 API Reference,
/// PutObject response: "the server-side encryption algorithm used when you store this
/// object"), so it should tell also when the bucket's default encryption chose DSSE-KMS.
/// Matched case-insensitively: that example logs `Aes256` for `AES256`.
pub fn is_dsse_kms(request_sse: Option<&str>, response_sse: Option<&str>) -> bool {
    [request_sse, response_sse]
        .into_iter()
        .flatten()
        .any(|v| v.eq_ignore_ascii_case(DSSE_KMS))
}

/// The key a call used: the `AWS::KMS::Key` resource, else `keyId` when it is a full ARN
/// (a bare id or alias cannot be told apart from another account's key of the same name).
pub fn key_arn<'a>(resource_arn: Option<&'a str>, key_id: Option<&'a str>) -> Option<&'a str> {
    resource_arn.or_else(|| key_id.filter(|k| k.starts_with("arn:")))
}

/// Default symmetric-operation quota (requests per second, per account and region), as AWS
/// documents it today. Accounts can have it raised: `--quota REGION=RPS` overrides.
pub fn default_quota_rps(region: &str) -> u64 {
    match region {
        "us-east-1" | "us-west-2" | "eu-west-1" => 100_000,
        "us-east-2" | "ap-southeast-1" | "ap-southeast-2" | "ap-northeast-1" | "eu-central-1"
        | "eu-west-2" => 20_000,
        _ => 10_000,
    }
}

/// KMS request price, US dollars per 10,000 requests (symmetric keys, all regions);
/// `--kms-price` overrides it. Asymmetric and data key pair requests cost more.
pub const DEFAULT_PRICE_PER_10K_REQUESTS: f64 = 0.03;
/// Free requests per month, per account, summed over all regions (asymmetric and data key
/// pair requests excluded).
pub const FREE_TIER_REQUESTS_PER_MONTH: u64 = 20_000;
/// Days in the average month used to project a monthly figure (365 / 12, rounded as AWS's
/// pricing examples do).
pub const DAYS_PER_MONTH: f64 = 30.4;

/// The symmetric quota per region: AWS's defaults, with the user's overrides on top.
#[derive(Debug, Clone, Default)]
pub struct Quotas {
    pub overrides: std::collections::BTreeMap<String, u64>,
}

impl Quotas {
    pub fn rps(&self, region: &str) -> u64 {
        self.overrides
            .get(region)
            .copied()
            .unwrap_or_else(|| default_quota_rps(region))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_arn_means_no_bucket_key() {
        assert_eq!(
            s3_bucket_of("arn:aws:s3:::reports/2026/q1.csv"),
            Some(("reports", false))
        );
        assert_eq!(
            s3_bucket_of("arn:aws:s3:::reports"),
            Some(("reports", true))
        );
        assert_eq!(
            s3_bucket_of("arn:aws-cn:s3:::cn-bucket"),
            Some(("cn-bucket", true))
        );
        assert_eq!(s3_bucket_of("arn:aws:s3:::"), None);
        assert_eq!(s3_bucket_of("not-an-arn"), None);
    }

    #[test]
    fn only_symmetric_operations_count_toward_the_quota() {
        assert!(is_symmetric_operation("GenerateDataKey"));
        assert!(!is_symmetric_operation("DescribeKey"));
        assert!(!is_symmetric_operation("Sign"));
    }

    #[test]
    fn key_arn_prefers_the_resource() {
        assert_eq!(key_arn(Some("arn:k1"), Some("arn:k2")), Some("arn:k1"));
        assert_eq!(key_arn(None, Some("alias/app")), None);
        assert_eq!(
            key_arn(None, Some("arn:aws:kms:us-east-1:1:key/x")),
            Some("arn:aws:kms:us-east-1:1:key/x")
        );
    }

    #[test]
    fn caller_kind_tells_cloudtrail_s3_and_direct_calls_apart() {
        assert_eq!(CallerKind::of(None, None), CallerKind::Direct);
        assert_eq!(
            CallerKind::of(Some("fas.s3.amazonaws.com"), None),
            CallerKind::S3SseKms
        );
        assert_eq!(
            CallerKind::of(Some("s3.amazonaws.com"), None),
            CallerKind::S3SseKms
        );
        assert_eq!(
            CallerKind::of(None, Some("arn:aws:cloudtrail:us-east-1:1:trail/t")),
            CallerKind::CloudTrailLogEncryption
        );
        assert_eq!(
            CallerKind::of(Some("cloudtrail.amazonaws.com"), None),
            CallerKind::CloudTrailLogEncryption
        );
        assert_eq!(
            CallerKind::of(Some("AWS Internal"), None),
            CallerKind::AwsService
        );
    }

    #[test]
    fn cached_operations_are_data_key_generation_and_decrypt() {
        assert_eq!(
            CacheOperation::of("GenerateDataKeyWithoutPlaintext"),
            Some(CacheOperation::GenerateDataKey)
        );
        assert_eq!(CacheOperation::of("Decrypt"), Some(CacheOperation::Decrypt));
        assert_eq!(CacheOperation::of("GenerateDataKeyPair"), None);
        assert_eq!(CacheOperation::of("ReEncrypt"), None);
    }

    #[test]
    fn dsse_kms_is_read_from_the_request_or_the_response_header() {
        assert!(is_dsse_kms(Some("aws:kms:dsse"), None));
        assert!(is_dsse_kms(None, Some("aws:kms:dsse")));
        assert!(is_dsse_kms(Some("AWS:KMS:DSSE"), Some("aws:kms:dsse")));
        assert!(!is_dsse_kms(Some("aws:kms"), Some("aws:kms")));
        assert!(!is_dsse_kms(Some("Aes256"), None));
        assert!(!is_dsse_kms(None, None));
    }

    #[test]
    fn quotas_follow_the_documented_table() {
        assert_eq!(default_quota_rps("us-east-1"), 100_000);
        assert_eq!(default_quota_rps("eu-central-1"), 20_000);
        assert_eq!(default_quota_rps("sa-east-1"), 10_000);
    }
}
