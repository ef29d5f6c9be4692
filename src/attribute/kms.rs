//! KMS facts: which request quota a call counts against, which bucket a call served, and
//! the default quotas per region and class.
//!
//! Every rule here is from the KMS Developer Guide's "Request quotas" page
//! (https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html), its
//! table "Request quotas for each AWS KMS API operation" and its sections "Shared quotas
//! for cryptographic operations" and "Custom key store request quotas".

use serde::{Deserialize, Serialize};

/// The request quota a cryptographic call counts against: the `quota_class` column of
/// kms_rates.parquet. Each is "calculated independently" per account and Region (the page's
/// "Shared quotas for cryptographic operations"); the custom key store quota per store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum QuotaClass {
    /// "Cryptographic operations (symmetric) request rate": Decrypt, Encrypt,
    /// GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateMac, GenerateRandom,
    /// ReEncrypt, VerifyMac on symmetric encryption and HMAC keys.
    Symmetric,
    /// "Cryptographic operations (RSA) request rate": Decrypt, Encrypt, ReEncrypt, Sign,
    /// Verify on RSA keys.
    Rsa,
    /// "Cryptographic operations (ECC and SM2) request rate": Sign, Verify,
    /// DeriveSharedSecret on ECC keys; Decrypt, Encrypt, ReEncrypt too on SM2 keys.
    EccSm2,
    /// "Cryptographic operations (ML-DSA) request rate": Sign, Verify on ML-DSA keys.
    MlDsa,
    /// "Custom key store request quotas": per CloudHSM or external key store, on top of the
    /// symmetric quota of the account ("count toward both").
    CustomKeyStore,
    /// "GenerateDataKeyPair (<spec>) request rate": GenerateDataKeyPair and
    /// GenerateDataKeyPairWithoutPlaintext, one quota per key pair spec.
    DataKeyPair(KeyPairSpec),
    /// Sign or Verify whose `signingAlgorithm` was not logged: the key type, and so the
    /// quota, is unknown (no quota is compared).
    AsymmetricUnknown,
}

/// `requestParameters.keyPairSpec` of GenerateDataKeyPair*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KeyPairSpec {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EccNistP256,
    EccNistP384,
    EccNistP521,
    EccSecgP256k1,
    EccNistEdwards25519,
    Sm2,
    /// A spec the quota table does not list (or none logged).
    Other,
}

impl KeyPairSpec {
    fn of(spec: Option<&str>) -> KeyPairSpec {
        match spec {
            Some("RSA_2048") => KeyPairSpec::Rsa2048,
            Some("RSA_3072") => KeyPairSpec::Rsa3072,
            Some("RSA_4096") => KeyPairSpec::Rsa4096,
            Some("ECC_NIST_P256") => KeyPairSpec::EccNistP256,
            Some("ECC_NIST_P384") => KeyPairSpec::EccNistP384,
            Some("ECC_NIST_P521") => KeyPairSpec::EccNistP521,
            Some("ECC_SECG_P256K1") => KeyPairSpec::EccSecgP256k1,
            Some("ECC_NIST_EDWARDS25519") => KeyPairSpec::EccNistEdwards25519,
            Some("SM2") => KeyPairSpec::Sm2,
            _ => KeyPairSpec::Other,
        }
    }
}

impl QuotaClass {
    /// As written to `quota_class` (and named in `--quota`).
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaClass::Symmetric => "symmetric",
            QuotaClass::Rsa => "rsa",
            QuotaClass::EccSm2 => "ecc_sm2",
            QuotaClass::MlDsa => "ml_dsa",
            QuotaClass::CustomKeyStore => "custom_key_store",
            QuotaClass::AsymmetricUnknown => "asymmetric_unknown",
            QuotaClass::DataKeyPair(spec) => match spec {
                KeyPairSpec::Rsa2048 => "data_key_pair_rsa_2048",
                KeyPairSpec::Rsa3072 => "data_key_pair_rsa_3072",
                KeyPairSpec::Rsa4096 => "data_key_pair_rsa_4096",
                KeyPairSpec::EccNistP256 => "data_key_pair_ecc_nist_p256",
                KeyPairSpec::EccNistP384 => "data_key_pair_ecc_nist_p384",
                KeyPairSpec::EccNistP521 => "data_key_pair_ecc_nist_p521",
                KeyPairSpec::EccSecgP256k1 => "data_key_pair_ecc_secg_p256k1",
                KeyPairSpec::EccNistEdwards25519 => "data_key_pair_ecc_nist_edwards25519",
                KeyPairSpec::Sm2 => "data_key_pair_sm2",
                KeyPairSpec::Other => "data_key_pair_other",
            },
        }
    }

    /// Every class, for `--quota` parsing and the README.
    pub const ALL: [QuotaClass; 16] = [
        QuotaClass::Symmetric,
        QuotaClass::Rsa,
        QuotaClass::EccSm2,
        QuotaClass::MlDsa,
        QuotaClass::CustomKeyStore,
        QuotaClass::DataKeyPair(KeyPairSpec::Rsa2048),
        QuotaClass::DataKeyPair(KeyPairSpec::Rsa3072),
        QuotaClass::DataKeyPair(KeyPairSpec::Rsa4096),
        QuotaClass::DataKeyPair(KeyPairSpec::EccNistP256),
        QuotaClass::DataKeyPair(KeyPairSpec::EccNistP384),
        QuotaClass::DataKeyPair(KeyPairSpec::EccNistP521),
        QuotaClass::DataKeyPair(KeyPairSpec::EccSecgP256k1),
        QuotaClass::DataKeyPair(KeyPairSpec::EccNistEdwards25519),
        QuotaClass::DataKeyPair(KeyPairSpec::Sm2),
        QuotaClass::DataKeyPair(KeyPairSpec::Other),
        QuotaClass::AsymmetricUnknown,
    ];

    pub fn parse(name: &str) -> Option<QuotaClass> {
        QuotaClass::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// The quota classes a call counts against: its key type's class, and the custom key
/// store's when the key is in one (`additionalEventData.customKeyStoreId`). `None` for
/// operations outside the cryptographic quotas (management operations such as DescribeKey
/// have per-operation quotas this tool does not chart).
///
/// The key type comes from the algorithm the call logs (`key_algorithm`): Encrypt, Decrypt
/// and ReEncrypt default to `SYMMETRIC_DEFAULT` when none is given (KMS API Reference,
/// `EncryptionAlgorithm`); `RSAES_*` names an RSA key, `SM2PKE` an SM2 key; Sign and Verify
/// name theirs (`RSASSA_*`, `ECDSA_*`, `ED25519_*`, `SM2DSA`, `ML_DSA_*`).
pub fn quota_classes(
    event_name: &str,
    key_algorithm: Option<&str>,
    custom_key_store: bool,
) -> Option<(QuotaClass, Option<QuotaClass>)> {
    let class = match event_name {
        "GenerateDataKey"
        | "GenerateDataKeyWithoutPlaintext"
        | "GenerateMac"
        | "VerifyMac"
        | "GenerateRandom" => QuotaClass::Symmetric,
        "Decrypt" | "Encrypt" | "ReEncrypt" => match key_algorithm {
            None | Some("SYMMETRIC_DEFAULT") => QuotaClass::Symmetric,
            Some(a) if a.starts_with("RSAES_") => QuotaClass::Rsa,
            Some("SM2PKE") => QuotaClass::EccSm2,
            Some(_) => QuotaClass::AsymmetricUnknown,
        },
        "Sign" | "Verify" => match key_algorithm {
            Some(a) if a.starts_with("RSASSA_") => QuotaClass::Rsa,
            Some(a) if a.starts_with("ECDSA_") || a.starts_with("ED25519") || a == "SM2DSA" => {
                QuotaClass::EccSm2
            }
            Some(a) if a.starts_with("ML_DSA") => QuotaClass::MlDsa,
            _ => QuotaClass::AsymmetricUnknown,
        },
        "DeriveSharedSecret" => QuotaClass::EccSm2,
        "GenerateDataKeyPair" | "GenerateDataKeyPairWithoutPlaintext" => {
            QuotaClass::DataKeyPair(KeyPairSpec::of(key_algorithm))
        }
        _ => return None,
    };
    // The operations the custom key store quota applies to (the table's row).
    let store = custom_key_store
        && matches!(
            event_name,
            "Decrypt"
                | "DeriveSharedSecret"
                | "Encrypt"
                | "GenerateDataKey"
                | "GenerateDataKeyWithoutPlaintext"
                | "GenerateRandom"
                | "ReEncrypt"
        );
    Some((class, store.then_some(QuotaClass::CustomKeyStore)))
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

/// A request quota in thousandths of a request per second: the table has 0.5 and 0.1
/// (RSA_3072 and RSA_4096 key pairs in the China Regions), and comparisons stay exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Quota {
    pub milli_rps: u64,
}

impl Quota {
    pub const fn rps(rps: u64) -> Quota {
        Quota {
            milli_rps: rps * 1000,
        }
    }

    pub fn per_second(self) -> f64 {
        self.milli_rps as f64 / 1000.0
    }

    /// The quota in whole requests per second, when it is one (`quota_rps`).
    pub fn whole_rps(self) -> Option<u64> {
        self.milli_rps
            .is_multiple_of(1000)
            .then_some(self.milli_rps / 1000)
    }

    /// True when `calls` in one second exceed `numerator / denominator` of the quota
    /// (integer arithmetic: exact whatever the quota).
    pub fn exceeded_by(self, calls: u64, numerator: u64, denominator: u64) -> bool {
        calls * denominator * 1000 > self.milli_rps * numerator
    }

    /// Parses `RPS` of `--quota` (a whole or decimal number, at most three decimals).
    pub fn parse(text: &str) -> Option<Quota> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty() || fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let whole: u64 = whole.parse().ok()?;
        let fraction: u64 = format!("{fraction:0<3}").parse().ok()?;
        let milli_rps = whole.checked_mul(1000)?.checked_add(fraction)?;
        (milli_rps > 0).then_some(Quota { milli_rps })
    }
}

/// Whole quotas as integers, fractional ones with their decimals (`0.5`).
impl std::fmt::Display for Quota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.whole_rps() {
            Some(rps) => write!(f, "{rps}"),
            None => write!(f, "{}", self.per_second()),
        }
    }
}

/// The default quota of a class in a region, as the quota table gives it today. AWS has
/// changed these over the years (the symmetric quota was 5,500 or 10,000 in 2018, 30,000 and
/// 50,000 in some regions later; the RSA and ECC quotas were 500 and 300): today's default is
/// applied to every hour analysed, as the README and the report say. `--quota` overrides.
pub fn default_quota(class: QuotaClass, region: &str) -> Option<Quota> {
    let china = matches!(region, "cn-north-1" | "cn-northwest-1");
    let milli = |m: u64| Some(Quota { milli_rps: m });
    match class {
        QuotaClass::Symmetric => Some(Quota::rps(match region {
            "us-east-1" | "us-west-2" | "eu-west-1" => 100_000,
            "us-east-2" | "ap-southeast-1" | "ap-southeast-2" | "ap-northeast-1"
            | "eu-central-1" | "eu-west-2" => 20_000,
            _ => 10_000,
        })),
        QuotaClass::Rsa | QuotaClass::EccSm2 | QuotaClass::MlDsa => Some(Quota::rps(1_000)),
        QuotaClass::CustomKeyStore => Some(Quota::rps(1_800)),
        QuotaClass::DataKeyPair(spec) => match spec {
            KeyPairSpec::EccNistP256
            | KeyPairSpec::EccNistP384
            | KeyPairSpec::EccNistP521
            | KeyPairSpec::EccSecgP256k1
            | KeyPairSpec::EccNistEdwards25519 => Some(Quota::rps(100)),
            KeyPairSpec::Rsa2048 if china => milli(1_000),
            KeyPairSpec::Rsa2048 => Some(Quota::rps(20)),
            KeyPairSpec::Rsa3072 if china => milli(500),
            KeyPairSpec::Rsa3072 => Some(Quota::rps(4)),
            KeyPairSpec::Rsa4096 if china => milli(100),
            KeyPairSpec::Rsa4096 => Some(Quota::rps(1)),
            KeyPairSpec::Sm2 => Some(Quota::rps(25)),
            KeyPairSpec::Other => None,
        },
        QuotaClass::AsymmetricUnknown => None,
    }
}

/// The account of a key ARN (`arn:<partition>:kms:<region>:<account>:key/<id>`): the key
/// owner, written as `key_account_id`.
pub fn key_account_of(key_arn: &str) -> Option<&str> {
    let mut parts = key_arn.split(':');
    (parts.next() == Some("arn")).then_some(())?;
    parts.nth(3).filter(|a| !a.is_empty())
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

/// One `--quota [ACCOUNT:]REGION[:CLASS]=RPS`: in an organization trail each account has
/// its own raised quotas. Without a class it is the symmetric quota; without an account it
/// applies to every account of the region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct QuotaScope {
    pub account: Option<String>,
    pub region: String,
    pub class: QuotaClass,
}

impl QuotaScope {
    /// Parses the part before `=`.
    pub fn parse(text: &str) -> Result<QuotaScope, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let is_account = |p: &str| p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit());
        let (account, rest) = match parts.as_slice() {
            [first, rest @ ..] if is_account(first) => (Some((*first).to_owned()), rest),
            rest => (None, rest),
        };
        let (region, class) = match rest {
            [region] => (*region, QuotaClass::Symmetric),
            [region, class] => (
                *region,
                QuotaClass::parse(class).ok_or_else(|| {
                    format!(
                        "unknown quota class {class:?}; one of: {}",
                        QuotaClass::ALL.map(QuotaClass::as_str).join(", ")
                    )
                })?,
            ),
            _ => return Err("expected [ACCOUNT:]REGION[:CLASS]".to_owned()),
        };
        if region.is_empty() || is_account(region) {
            return Err(format!("{region:?} is not a region"));
        }
        Ok(QuotaScope {
            account,
            region: region.to_owned(),
            class,
        })
    }
}

/// The quotas of a run: AWS's defaults, with the user's overrides on top (the most
/// specific wins: an account's own before one for every account of the region).
#[derive(Debug, Clone, Default)]
pub struct Quotas {
    pub overrides: std::collections::BTreeMap<QuotaScope, Quota>,
}

impl Quotas {
    pub fn get(&self, account: Option<&str>, region: &str, class: QuotaClass) -> Option<Quota> {
        let mut scope = QuotaScope {
            account: account.map(str::to_owned),
            region: region.to_owned(),
            class,
        };
        if scope.account.is_some()
            && let Some(q) = self.overrides.get(&scope)
        {
            return Some(*q);
        }
        scope.account = None;
        self.overrides
            .get(&scope)
            .copied()
            .or_else(|| default_quota(class, region))
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
        // The quota table's symmetric row, exactly.
        for op in [
            "Decrypt",
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "GenerateMac",
            "GenerateRandom",
            "ReEncrypt",
            "VerifyMac",
        ] {
            assert_eq!(
                quota_classes(op, None, false),
                Some((QuotaClass::Symmetric, None)),
                "{op}"
            );
        }
        for op in [
            "DescribeKey",
            "Sign",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
        ] {
            let class = quota_classes(op, None, false).map(|(c, _)| c);
            assert_ne!(class, Some(QuotaClass::Symmetric), "{op}");
        }
        assert_eq!(quota_classes("DescribeKey", None, false), None);
    }

    #[test]
    fn the_key_type_decides_the_class() {
        let class = |op, alg| quota_classes(op, alg, false).map(|(c, _)| c);
        assert_eq!(
            class("Decrypt", Some("SYMMETRIC_DEFAULT")),
            Some(QuotaClass::Symmetric)
        );
        assert_eq!(
            class("Decrypt", Some("RSAES_OAEP_SHA_256")),
            Some(QuotaClass::Rsa)
        );
        assert_eq!(class("Encrypt", Some("SM2PKE")), Some(QuotaClass::EccSm2));
        assert_eq!(
            class("Sign", Some("RSASSA_PSS_SHA_256")),
            Some(QuotaClass::Rsa)
        );
        assert_eq!(
            class("Verify", Some("ECDSA_SHA_256")),
            Some(QuotaClass::EccSm2)
        );
        assert_eq!(class("Sign", Some("SM2DSA")), Some(QuotaClass::EccSm2));
        assert_eq!(
            class("Sign", Some("ML_DSA_SHAKE_256")),
            Some(QuotaClass::MlDsa)
        );
        assert_eq!(class("Sign", None), Some(QuotaClass::AsymmetricUnknown));
        assert_eq!(class("DeriveSharedSecret", None), Some(QuotaClass::EccSm2));
        assert_eq!(
            class("GenerateDataKeyPair", Some("RSA_4096")),
            Some(QuotaClass::DataKeyPair(KeyPairSpec::Rsa4096))
        );
        // A symmetric call on a key in a custom key store counts toward both quotas.
        assert_eq!(
            quota_classes("Decrypt", Some("SYMMETRIC_DEFAULT"), true),
            Some((QuotaClass::Symmetric, Some(QuotaClass::CustomKeyStore)))
        );
        assert_eq!(
            quota_classes("GenerateMac", None, true),
            Some((QuotaClass::Symmetric, None)),
            "GenerateMac is not in the custom key store row"
        );
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
        let q = |c, r| default_quota(c, r).map(Quota::per_second);
        assert_eq!(q(QuotaClass::Symmetric, "us-east-1"), Some(100_000.0));
        assert_eq!(q(QuotaClass::Symmetric, "eu-central-1"), Some(20_000.0));
        assert_eq!(q(QuotaClass::Symmetric, "sa-east-1"), Some(10_000.0));
        assert_eq!(q(QuotaClass::Rsa, "sa-east-1"), Some(1_000.0));
        assert_eq!(q(QuotaClass::EccSm2, "us-east-1"), Some(1_000.0));
        assert_eq!(q(QuotaClass::CustomKeyStore, "us-east-1"), Some(1_800.0));
        let pair = |s| QuotaClass::DataKeyPair(s);
        assert_eq!(q(pair(KeyPairSpec::Rsa2048), "us-east-1"), Some(20.0));
        assert_eq!(q(pair(KeyPairSpec::Rsa2048), "cn-north-1"), Some(1.0));
        assert_eq!(q(pair(KeyPairSpec::Rsa4096), "cn-northwest-1"), Some(0.1));
        assert_eq!(q(pair(KeyPairSpec::EccNistP256), "eu-west-1"), Some(100.0));
        assert_eq!(q(pair(KeyPairSpec::Sm2), "cn-north-1"), Some(25.0));
        assert_eq!(q(QuotaClass::AsymmetricUnknown, "us-east-1"), None);
    }

    #[test]
    fn fractional_quotas_compare_exactly() {
        let half = Quota::parse("0.5").expect("quota");
        assert_eq!(half.whole_rps(), None);
        assert!(half.exceeded_by(1, 1, 1));
        assert!(!half.exceeded_by(0, 1, 1));
        let q = Quota::rps(10);
        assert!(!q.exceeded_by(8, 4, 5), "8 is 80%, not above it");
        assert!(q.exceeded_by(9, 4, 5));
        assert_eq!(Quota::parse("1.2345"), None);
        assert_eq!(Quota::parse("0"), None);
        assert_eq!(Quota::parse("x"), None);
    }

    #[test]
    fn quota_overrides_take_account_region_and_class() {
        let mut quotas = Quotas::default();
        for (scope, rps) in [
            ("us-east-1", "150000"),
            ("111122223333:us-east-1", "200000"),
            ("us-east-1:rsa", "2000"),
            ("444455556666:eu-west-1:custom_key_store", "900"),
        ] {
            quotas.overrides.insert(
                QuotaScope::parse(scope).expect(scope),
                Quota::parse(rps).expect(rps),
            );
        }
        let get = |a, r, c| quotas.get(a, r, c).map(Quota::per_second);
        assert_eq!(
            get(Some("111122223333"), "us-east-1", QuotaClass::Symmetric),
            Some(200_000.0)
        );
        assert_eq!(
            get(Some("999999999999"), "us-east-1", QuotaClass::Symmetric),
            Some(150_000.0)
        );
        assert_eq!(get(None, "us-east-1", QuotaClass::Rsa), Some(2_000.0));
        assert_eq!(
            get(Some("111122223333"), "us-east-1", QuotaClass::EccSm2),
            Some(1_000.0)
        );
        assert_eq!(
            get(
                Some("444455556666"),
                "eu-west-1",
                QuotaClass::CustomKeyStore
            ),
            Some(900.0)
        );
        assert!(QuotaScope::parse("us-east-1:nonsense").is_err());
        assert!(QuotaScope::parse("111122223333").is_err());
        assert!(QuotaScope::parse("a:b:c:d").is_err());
    }

    #[test]
    fn the_key_owner_is_the_account_of_the_key_arn() {
        assert_eq!(
            key_account_of("arn:aws:kms:us-east-1:444455556666:key/1234abcd"),
            Some("444455556666")
        );
        assert_eq!(key_account_of("alias/app"), None);
        assert_eq!(key_account_of("arn:aws:kms:us-east-1::key/x"), None);
    }
}
