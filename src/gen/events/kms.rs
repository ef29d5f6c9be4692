//! KMS records: called by S3 for SSE-KMS, directly by applications, by CloudTrail for its
//! own log files, and by the BI role.

use super::{
    Cx, Facts, Head, Source, Tail, caller_of, put_caller, put_error, put_head, put_ids,
    put_kms_resource, put_tail,
};
use crate::synth::buckets::{
    KEY_ALIASES, KEY_APP, KEY_BI, KEY_CLOUDTRAIL, put_object_key, role_buckets,
};
use crate::synth::json::{ALNUM, BASE64, lit, put_chars, put_digits};
use crate::synth::layout::{key_time, stream_prefix};
use crate::synth::rng::{Rng, pick_weighted};
use crate::synth::roles::Role;

const THROTTLED: &str = "ThrottlingException";
const THROTTLED_MESSAGE: &str =
    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.";

/// Encryption contexts of direct calls; some with unicode, one with a literal `\u00e9` escape.
fn put_encryption_context(o: &mut Vec<u8>, rng: &mut Rng) {
    match rng.below(4) {
        0 => {
            lit(o, "{\"tenant\":\"t-");
            put_digits(o, rng, 4);
            lit(o, "\",\"service\":\"orders\"}");
        }
        1 => {
            lit(o, "{\"aws-crypto-public-key\":\"A");
            put_chars(o, rng, 43, BASE64);
            lit(o, "\"}");
        }
        2 => lit(
            o,
            "{\"department\":\"café-ops\",\"dataset\":\"東京-sales\"}",
        ),
        _ => lit(
            o,
            "{\"purpose\":\"r\\u00e9plication\",\"table\":\"orders_v2\"}",
        ),
    }
}

/// Roles whose S3 reads and writes of SSE-KMS objects make S3 call KMS for them.
const VIA_S3: &[(Role, u32)] = &[
    (Role::OrdersApp, 40),
    (Role::Thumbnailer, 25),
    (Role::Etl, 15),
    (Role::PartnerSync, 8),
    (Role::EksNode, 7),
    (Role::DotnetReporting, 5),
];

/// KMS called by S3 on the caller's behalf (SSE-KMS): logged under the caller's identity.
pub(super) fn kms_via_s3(o: &mut Vec<u8>, rng: &mut Rng, cx: &Cx) -> Facts {
    let role = pick_weighted(rng, VIA_S3);
    let p = cx.account.principal(role);
    let ident = rng.pick(&p.idents);
    // Every role in VIA_S3 only uses SSE-KMS buckets.
    let kind = *rng.pick(role_buckets(role));
    let bucket = &cx.stream.buckets[kind as usize];
    let (key_index, bucket_key) = kind.kms().unwrap_or((0, false));
    let key = &cx.stream.keys[key_index];
    let write = rng.chance(2_800);
    let name = if write { "GenerateDataKey" } else { "Decrypt" };
    let fas = rng.chance(8_500);
    let via = if fas {
        "fas.s3.amazonaws.com"
    } else {
        "s3.amazonaws.com"
    };
    let throttled = rng.chance(30);

    put_head(
        o,
        cx,
        &Head {
            version: if fas { "1.09" } else { "1.08" },
            ident,
            invoked_by: Some(via),
            source: "kms.amazonaws.com",
            name,
        },
    );
    lit(o, "\"sourceIPAddress\":\"");
    lit(o, via);
    lit(o, "\",\"userAgent\":\"");
    lit(o, via);
    lit(o, "\",");
    if throttled {
        put_error(o, THROTTLED, THROTTLED_MESSAGE);
    }
    lit(o, "\"requestParameters\":{");
    if write {
        lit(o, "\"keyId\":\"");
        lit(o, key);
        lit(o, "\",\"keySpec\":\"AES_256\",");
    }
    lit(o, "\"encryptionContext\":{\"aws:s3:arn\":\"arn:aws:s3:::");
    lit(o, &bucket.name);
    if !bucket_key {
        // No Bucket Key: one data key per object, so the context names the object.
        o.push(b'/');
        put_object_key(o, rng, kind, cx.t);
    }
    lit(o, "\"}");
    if !write {
        lit(o, ",\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"");
    }
    lit(o, "},\"responseElements\":null,");
    put_ids(o, rng, false, true);
    lit(o, "\"resources\":[");
    put_kms_resource(o, &cx.account.id, key);
    lit(o, "],");
    put_tail(
        o,
        rng,
        cx,
        &Tail {
            management: true,
            shared: false,
            vpce: None,
            tls: None,
            host: "",
            console: false,
        },
    );
    Facts {
        principal: p.id,
        source: Source::Kms,
        name,
        data: false,
        sig: None,
        ua: None,
        tls: None,
        throttled,
        s3_arn_bucket: Some(bucket.id),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KmsOp {
    Decrypt,
    Encrypt,
    GenerateDataKey,
    GenerateDataKeyWithoutPlaintext,
    GenerateDataKeyPair,
    ReEncrypt,
    GenerateRandom,
    DescribeKey,
    ListAliases,
    GetKeyRotationStatus,
}

impl KmsOp {
    fn name(self) -> &'static str {
        match self {
            KmsOp::Decrypt => "Decrypt",
            KmsOp::Encrypt => "Encrypt",
            KmsOp::GenerateDataKey => "GenerateDataKey",
            KmsOp::GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
            KmsOp::GenerateDataKeyPair => "GenerateDataKeyPair",
            KmsOp::ReEncrypt => "ReEncrypt",
            KmsOp::GenerateRandom => "GenerateRandom",
            KmsOp::DescribeKey => "DescribeKey",
            KmsOp::ListAliases => "ListAliases",
            KmsOp::GetKeyRotationStatus => "GetKeyRotationStatus",
        }
    }

    fn cryptographic(self) -> bool {
        !matches!(
            self,
            KmsOp::DescribeKey | KmsOp::ListAliases | KmsOp::GetKeyRotationStatus
        )
    }
}

const KMS_DIRECT: &[(Role, u32)] = &[
    (Role::OrdersApp, 35),
    (Role::EksNode, 20),
    (Role::Etl, 15),
    (Role::DotnetReporting, 10),
    (Role::CiDeploy, 8),
    (Role::Bi, 7),
    (Role::PartnerSync, 5),
];

const KMS_OPS: &[(KmsOp, u32)] = &[
    (KmsOp::Decrypt, 45),
    (KmsOp::GenerateDataKey, 22),
    (KmsOp::Encrypt, 14),
    (KmsOp::GenerateDataKeyWithoutPlaintext, 3),
    (KmsOp::GenerateDataKeyPair, 1),
    (KmsOp::ReEncrypt, 3),
    (KmsOp::GenerateRandom, 2),
    (KmsOp::DescribeKey, 6),
    (KmsOp::ListAliases, 2),
    (KmsOp::GetKeyRotationStatus, 2),
];

/// A deploy pipeline only inspects keys.
const KMS_OPS_ADMIN: &[(KmsOp, u32)] = &[
    (KmsOp::DescribeKey, 60),
    (KmsOp::ListAliases, 25),
    (KmsOp::GetKeyRotationStatus, 15),
];

/// KMS called directly by applications and people, from their own addresses and SDKs.
pub(super) fn kms_direct(o: &mut Vec<u8>, rng: &mut Rng, cx: &Cx) -> Facts {
    let role = pick_weighted(rng, KMS_DIRECT);
    let p = cx.account.principal(role);
    let ident = rng.pick(&p.idents);
    let client = pick_weighted(rng, &p.api);
    let caller = caller_of(rng, p);
    let op = pick_weighted(
        rng,
        if role == Role::CiDeploy {
            KMS_OPS_ADMIN
        } else {
            KMS_OPS
        },
    );
    let key_index = if rng.chance(6_000) {
        KEY_APP
    } else {
        rng.below(5) as usize
    };
    let key = &cx.stream.keys[key_index];
    let alias = KEY_ALIASES[key_index];
    let throttled = op.cryptographic() && rng.chance(100);

    put_head(
        o,
        cx,
        &Head {
            version: "1.09",
            ident,
            invoked_by: None,
            source: "kms.amazonaws.com",
            name: op.name(),
        },
    );
    put_caller(o, caller, &cx.world.pool.uas[client.ua as usize].plain);
    if throttled {
        put_error(o, THROTTLED, THROTTLED_MESSAGE);
    }
    lit(o, "\"requestParameters\":");
    let mut resources = 1;
    match op {
        KmsOp::Decrypt => {
            lit(
                o,
                "{\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"encryptionContext\":",
            );
            put_encryption_context(o, rng);
            o.push(b'}');
        }
        KmsOp::Encrypt => {
            lit(o, "{\"keyId\":\"");
            lit(o, alias);
            lit(
                o,
                "\",\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"encryptionContext\":",
            );
            put_encryption_context(o, rng);
            o.push(b'}');
        }
        KmsOp::GenerateDataKey => {
            lit(o, "{\"keyId\":\"");
            lit(o, key);
            lit(o, "\",\"keySpec\":\"AES_256\",\"encryptionContext\":");
            put_encryption_context(o, rng);
            o.push(b'}');
        }
        KmsOp::GenerateDataKeyWithoutPlaintext => {
            lit(o, "{\"keyId\":\"");
            lit(o, alias);
            lit(o, "\",\"numberOfBytes\":32,\"encryptionContext\":");
            put_encryption_context(o, rng);
            o.push(b'}');
        }
        KmsOp::GenerateDataKeyPair => {
            lit(o, "{\"keyId\":\"");
            lit(o, key);
            lit(o, "\",\"keyPairSpec\":\"ECC_NIST_P256\"}");
        }
        KmsOp::ReEncrypt => {
            lit(
                o,
                "{\"sourceEncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"destinationKeyId\":\"",
            );
            lit(o, &cx.stream.keys[KEY_APP]);
            lit(
                o,
                "\",\"destinationEncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"sourceEncryptionContext\":",
            );
            put_encryption_context(o, rng);
            o.push(b'}');
            resources = 2;
        }
        KmsOp::GenerateRandom => {
            lit(o, "{\"numberOfBytes\":32}");
            resources = 0;
        }
        KmsOp::DescribeKey | KmsOp::GetKeyRotationStatus => {
            lit(o, "{\"keyId\":\"");
            lit(o, alias);
            lit(o, "\"}");
        }
        KmsOp::ListAliases => {
            lit(o, "{\"limit\":100}");
            resources = 0;
        }
    }
    lit(o, ",\"responseElements\":null,");
    put_ids(o, rng, false, true);
    if resources > 0 {
        lit(o, "\"resources\":[");
        put_kms_resource(o, &cx.account.id, key);
        if resources == 2 {
            o.push(b',');
            put_kms_resource(o, &cx.account.id, &cx.stream.keys[KEY_APP]);
        }
        lit(o, "],");
    }
    put_tail(
        o,
        rng,
        cx,
        &Tail {
            management: true,
            shared: false,
            vpce: None,
            tls: client.tls,
            host: &cx.stream.kms_host,
            console: false,
        },
    );
    Facts {
        principal: p.id,
        source: Source::Kms,
        name: op.name(),
        data: false,
        sig: None,
        ua: Some(client.ua),
        tls: client.tls,
        throttled,
        s3_arn_bucket: None,
    }
}

/// CloudTrail encrypting its own log files (SSE-KMS on the trail bucket).
pub(super) fn kms_cloudtrail(o: &mut Vec<u8>, rng: &mut Rng, cx: &Cx) -> Facts {
    let p = cx.account.principal(Role::CloudTrail);
    let key = &cx.stream.keys[KEY_CLOUDTRAIL];
    let trail = &cx.world.trail;
    put_head(
        o,
        cx,
        &Head {
            version: "1.09",
            ident: &p.idents[0],
            invoked_by: None,
            source: "kms.amazonaws.com",
            name: "GenerateDataKey",
        },
    );
    lit(
        o,
        "\"sourceIPAddress\":\"cloudtrail.amazonaws.com\",\"userAgent\":\"cloudtrail.amazonaws.com\",",
    );
    lit(o, "\"requestParameters\":{\"keyId\":\"");
    lit(o, key);
    lit(o, "\",\"encryptionContext\":{\"aws:cloudtrail:arn\":\"");
    lit(o, &trail.arn);
    lit(o, "\",\"aws:s3:arn\":\"arn:aws:s3:::");
    lit(o, &trail.bucket);
    // Half of them with `\/` escapes: the same string to any JSON parser.
    let slashed = rng.chance(5_000);
    let (prefix, sep) = if slashed {
        (cx.stream_prefix().replace('/', "\\/"), "\\/")
    } else {
        (cx.stream_prefix(), "/")
    };
    lit(o, sep);
    lit(o, &prefix);
    let (folder, stamp, _) = key_time(cx.t);
    lit(o, sep);
    lit(o, &folder.replace('/', sep));
    lit(o, sep);
    lit(o, &cx.account.id);
    lit(o, "_CloudTrail_");
    lit(o, cx.stream.region);
    o.push(b'_');
    lit(o, &stamp);
    lit(o, "Z_");
    put_chars(o, rng, 16, ALNUM);
    lit(
        o,
        ".json.gz\"},\"keySpec\":\"AES_256\"},\"responseElements\":null,",
    );
    put_ids(o, rng, false, true);
    lit(o, "\"resources\":[");
    put_kms_resource(o, &cx.account.id, key);
    lit(o, "],");
    put_tail(
        o,
        rng,
        cx,
        &Tail {
            management: true,
            shared: true,
            vpce: None,
            tls: None,
            host: "",
            console: false,
        },
    );
    Facts {
        principal: p.id,
        source: Source::Kms,
        name: "GenerateDataKey",
        data: false,
        sig: None,
        ua: None,
        tls: None,
        throttled: false,
        s3_arn_bucket: Some(trail.bucket_id),
    }
}

impl Cx<'_> {
    fn stream_prefix(&self) -> String {
        stream_prefix(
            self.world.org.as_deref(),
            &self.account.id,
            "CloudTrail",
            self.stream.region,
        )
    }
}

/// The BI role's Decrypt calls; the hourly burst throttles more often.
pub(super) fn kms_bi(o: &mut Vec<u8>, rng: &mut Rng, cx: &Cx, throttle_per_10k: u64) -> Facts {
    let p = cx.account.principal(Role::Bi);
    let ident = rng.pick(&p.idents);
    let client = pick_weighted(rng, &p.api);
    let caller = caller_of(rng, p);
    let throttled = rng.chance(throttle_per_10k);
    let key = &cx.stream.keys[KEY_BI];
    put_head(
        o,
        cx,
        &Head {
            version: "1.09",
            ident,
            invoked_by: None,
            source: "kms.amazonaws.com",
            name: "Decrypt",
        },
    );
    put_caller(o, caller, &cx.world.pool.uas[client.ua as usize].plain);
    if throttled {
        put_error(o, THROTTLED, THROTTLED_MESSAGE);
    }
    lit(
        o,
        "\"requestParameters\":{\"keyId\":\"alias/bi-warehouse\",\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"encryptionContext\":{\"app\":\"bi-dashboards\",\"dataset\":\"sales_",
    );
    let region_code = *rng.pick(&["emea", "apac", "amer", "latam"]);
    lit(o, region_code);
    lit(o, "\",\"partition\":\"p-");
    put_digits(o, rng, 5);
    lit(o, "\"}},\"responseElements\":null,");
    put_ids(o, rng, false, true);
    lit(o, "\"resources\":[");
    put_kms_resource(o, &cx.account.id, key);
    lit(o, "],");
    put_tail(
        o,
        rng,
        cx,
        &Tail {
            management: true,
            shared: false,
            vpce: None,
            tls: client.tls,
            host: &cx.stream.kms_host,
            console: false,
        },
    );
    Facts {
        principal: p.id,
        source: Source::Kms,
        name: "Decrypt",
        data: false,
        sig: None,
        ua: Some(client.ua),
        tls: client.tls,
        throttled,
        s3_arn_bucket: None,
    }
}
