//! S3 object-level data events.

use super::{
    Caller, Cx, Facts, Head, Out, Source, Tail, caller_of, put_caller, put_error, put_head,
    put_ids, put_tail,
};
use crate::synth::buckets::{Bucket, put_object_key, role_buckets};
use crate::synth::clients::{Sig, Tls};
use crate::synth::json::{ALNUM, BASE64, HEX_LOWER, lit, put_chars, put_hex, put_u64};
use crate::synth::layout::key_time;
use crate::synth::rng::{Rng, pick_weighted};
use crate::synth::roles::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum S3Op {
    Get,
    Put,
    Head,
    List,
    Delete,
    Copy,
    GetTagging,
}

impl S3Op {
    fn name(self) -> &'static str {
        match self {
            S3Op::Get => "GetObject",
            S3Op::Put => "PutObject",
            S3Op::Head => "HeadObject",
            S3Op::List => "ListObjects",
            S3Op::Delete => "DeleteObject",
            S3Op::Copy => "CopyObject",
            S3Op::GetTagging => "GetObjectTagging",
        }
    }

    fn read_only(self) -> bool {
        matches!(self, S3Op::Get | S3Op::Head | S3Op::List | S3Op::GetTagging)
    }
}

const S3_ROLES: &[(Role, u32)] = &[
    (Role::OrdersApp, 28),
    (Role::Etl, 20),
    (Role::Thumbnailer, 14),
    (Role::EksNode, 10),
    (Role::Presigner, 7),
    (Role::CrossAccount, 5),
    (Role::CiDeploy, 3),
    (Role::DotnetReporting, 3),
    (Role::PartnerSync, 3),
    (Role::SsoAdmin, 2),
    (Role::LegacyBackup, 2),
    (Role::Anonymous, 1),
];

fn role_s3_ops(role: Role) -> &'static [(S3Op, u32)] {
    use S3Op::*;
    match role {
        Role::OrdersApp => &[(Get, 50), (Put, 20), (Head, 25), (Delete, 5)],
        Role::Etl => &[(Put, 40), (Get, 30), (List, 20), (Head, 5), (Copy, 5)],
        Role::Thumbnailer => &[(Get, 50), (Put, 45), (GetTagging, 5)],
        Role::EksNode => &[(Get, 60), (Head, 20), (List, 20)],
        Role::Presigner => &[(Get, 85), (Put, 15)],
        Role::SsoAdmin => &[(List, 60), (Get, 30), (Delete, 10)],
        Role::LegacyBackup => &[(Put, 60), (List, 30), (Get, 10)],
        Role::CiDeploy => &[(Put, 70), (List, 20), (Delete, 10)],
        Role::DotnetReporting => &[(Get, 70), (List, 30)],
        Role::PartnerSync => &[(Put, 50), (Get, 30), (List, 20)],
        Role::CrossAccount => &[(Get, 80), (List, 20)],
        _ => &[(Get, 1)],
    }
}

fn put_s3_host(o: &mut Vec<u8>, bucket: &Bucket, sig: Sig) {
    lit(
        o,
        if sig == Sig::V2 {
            &bucket.host_global
        } else {
            &bucket.host_regional
        },
    );
}

/// S3 object-level data events.
pub(super) fn s3_data(out: &mut Out, rng: &mut Rng, cx: &Cx) -> Facts {
    let role = pick_weighted(rng, S3_ROLES);
    let p = cx.account.principal(role);
    let ident = rng.pick(&p.idents);
    let mut client = pick_weighted(rng, &p.s3);
    if client.sig == Sig::V2 && !cx.stream.sigv2_ok {
        // Regions launched after 2014 never accepted SigV2: these clients sign V4 there.
        client.sig = Sig::V4;
    }
    let mut op = pick_weighted(rng, role_s3_ops(role));
    if client.query && !matches!(op, S3Op::Get | S3Op::Put) {
        op = S3Op::Get;
    }
    let kind = *rng.pick(role_buckets(role));
    let bucket = &cx.stream.buckets[kind as usize];
    let caller = caller_of(rng, p);
    let denied = rng.chance(if role == Role::Anonymous { 2_000 } else { 50 });
    let tls = client.tls.unwrap_or(Tls::V12);
    let ua = &cx.world.pool.uas[client.ua as usize];
    out.key.clear();
    put_object_key(&mut out.key, rng, kind, cx.t);
    let key = &out.key;
    let o = &mut out.buf;

    put_head(
        o,
        cx,
        &Head {
            version: if rng.chance(7_000) { "1.10" } else { "1.09" },
            ident,
            invoked_by: None,
            source: "s3.amazonaws.com",
            name: op.name(),
        },
    );
    put_caller(o, caller, &ua.bracketed);
    if denied {
        put_error(o, "AccessDenied", "Access Denied");
    }
    lit(o, "\"requestParameters\":{");
    if op == S3Op::List {
        lit(o, "\"list-type\":\"2\",\"bucketName\":\"");
        lit(o, &bucket.name);
        lit(o, "\",\"encoding-type\":\"url\",\"prefix\":\"");
        lit(o, kind.list_prefix());
        lit(o, "\",\"delimiter\":\"/\",\"Host\":\"");
        put_s3_host(o, bucket, client.sig);
        o.push(b'"');
    } else {
        lit(o, "\"bucketName\":\"");
        lit(o, &bucket.name);
        lit(o, "\",\"Host\":\"");
        put_s3_host(o, bucket, client.sig);
        lit(o, "\",\"key\":\"");
        o.extend_from_slice(key);
        o.push(b'"');
        match op {
            S3Op::Copy => {
                lit(o, ",\"x-amz-copy-source\":\"");
                lit(o, &bucket.name);
                lit(o, "/staging/");
                put_hex(o, rng, 12, HEX_LOWER);
                o.push(b'"');
            }
            S3Op::GetTagging => lit(o, ",\"tagging\":\"\""),
            _ => {}
        }
        if client.query && client.sig == Sig::V2 {
            lit(o, ",\"AWSAccessKeyId\":\"AKIA");
            put_chars(o, rng, 16, &ALNUM[..26]);
            lit(o, "\",\"Expires\":\"");
            put_u64(o, (cx.t + 3_600) as u64);
            o.push(b'"');
        } else if client.query {
            lit(
                o,
                ",\"X-Amz-Algorithm\":\"AWS4-HMAC-SHA256\",\"X-Amz-Expires\":\"3600\",\"X-Amz-SignedHeaders\":\"host\",\"X-Amz-Date\":\"",
            );
            let (_, stamp, secs) = key_time(cx.t);
            lit(o, &stamp);
            lit(o, &secs);
            lit(o, "Z\"");
        }
    }
    lit(o, "},\"responseElements\":");
    let kms = kind.kms();
    if !denied && matches!(op, S3Op::Put | S3Op::Copy) {
        match kms {
            Some((key_index, bucket_key)) => {
                lit(o, "{\"x-amz-server-side-encryption-aws-kms-key-id\":\"");
                lit(o, &cx.stream.keys[key_index]);
                lit(o, "\",\"x-amz-server-side-encryption\":\"aws:kms\",");
                if bucket_key {
                    lit(
                        o,
                        "\"x-amz-server-side-encryption-bucket-key-enabled\":\"true\",",
                    );
                }
            }
            None => lit(o, "{\"x-amz-server-side-encryption\":\"AES256\","),
        }
        lit(o, "\"x-amz-version-id\":\"");
        put_chars(o, rng, 32, ALNUM);
        lit(o, "\"},");
    } else {
        lit(o, "null,");
    }
    lit(o, "\"additionalEventData\":{");
    match client.sig {
        Sig::V2 => lit(o, "\"SignatureVersion\":\"SigV2\","),
        Sig::V4 => lit(o, "\"SignatureVersion\":\"SigV4\","),
        Sig::None => {}
    }
    lit(o, "\"CipherSuite\":\"");
    lit(o, tls.cipher());
    lit(o, "\",\"bytesTransferredIn\":");
    let magnitude = 10u64.pow(rng.range(2, 7) as u32);
    let size = 100 + rng.below(magnitude);
    put_u64(o, if op == S3Op::Put { size } else { 0 });
    if !denied && matches!(op, S3Op::Get | S3Op::Put | S3Op::Head) {
        lit(
            o,
            if kms.is_some() {
                ",\"SSEApplied\":\"SSE_KMS\""
            } else {
                ",\"SSEApplied\":\"Default_SSE_S3\""
            },
        );
    }
    if client.sig != Sig::None {
        lit(
            o,
            if client.query {
                ",\"AuthenticationMethod\":\"QueryString\""
            } else {
                ",\"AuthenticationMethod\":\"AuthHeader\""
            },
        );
    }
    lit(o, ",\"x-amz-id-2\":\"");
    put_chars(o, rng, 75, BASE64);
    lit(o, "=\",\"bytesTransferredOut\":");
    put_u64(
        o,
        match op {
            S3Op::Get if !denied => size,
            S3Op::List => 300 + rng.below(5_000),
            _ => 0,
        },
    );
    lit(o, "},");
    put_ids(o, rng, true, op.read_only());
    if op == S3Op::List {
        lit(
            o,
            "\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARNPrefix\":\"arn:aws:s3:::",
        );
        lit(o, &bucket.name);
        o.push(b'/');
        lit(o, kind.list_prefix());
    } else {
        lit(
            o,
            "\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::",
        );
        lit(o, &bucket.name);
        o.push(b'/');
        o.extend_from_slice(key);
    }
    lit(o, "\"},{\"accountId\":\"");
    lit(o, &cx.account.id);
    lit(o, "\",\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::");
    lit(o, &bucket.name);
    lit(o, "\"}],");
    let vpce = match caller {
        Caller::Ip([10, ..]) => Some(cx.account.vpce.as_str()),
        _ => None,
    };
    let host = if client.sig == Sig::V2 {
        &bucket.host_global
    } else {
        &bucket.host_regional
    };
    put_tail(
        o,
        rng,
        cx,
        &Tail {
            management: false,
            shared: matches!(role, Role::CrossAccount | Role::Anonymous),
            vpce,
            tls: Some(tls),
            host,
            console: false,
        },
    );
    Facts {
        principal: p.id,
        source: Source::S3,
        name: op.name(),
        data: true,
        sig: match client.sig {
            Sig::None => None,
            sig => Some(sig),
        },
        ua: Some(client.ua),
        tls: Some(tls),
        throttled: false,
        s3_arn_bucket: None,
    }
}
