//! Buckets and keys: the S3 buckets and KMS keys of every stream, and the object keys.

use super::json::{HEX_LOWER, lit, put_digits, put_hex, put_uuid};
use super::rng::Rng;
use super::roles::Role;
use super::time::{civil, digits2, digits4};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BucketKind {
    Orders,
    Lake,
    Media,
    Backups,
    Partner,
    Public,
}

pub(super) const BUCKET_KINDS: [BucketKind; 6] = [
    BucketKind::Orders,
    BucketKind::Lake,
    BucketKind::Media,
    BucketKind::Backups,
    BucketKind::Partner,
    BucketKind::Public,
];

/// KMS keys of every stream, by index.
pub(super) const KEY_ALIASES: [&str; 7] = [
    "alias/orders-data",
    "alias/analytics-lake",
    "alias/media-uploads",
    "alias/partner-exchange",
    "alias/app-secrets",
    "alias/cloudtrail-logs",
    "alias/bi-warehouse",
];
pub(super) const KEY_APP: usize = 4;
pub(super) const KEY_CLOUDTRAIL: usize = 5;
pub(super) const KEY_BI: usize = 6;

impl BucketKind {
    pub(super) fn name_prefix(self) -> &'static str {
        match self {
            BucketKind::Orders => "orders-data",
            BucketKind::Lake => "analytics-lake",
            BucketKind::Media => "media-uploads",
            BucketKind::Backups => "legacy-backups",
            BucketKind::Partner => "partner-exchange",
            BucketKind::Public => "public-assets",
        }
    }

    pub(super) fn list_prefix(self) -> &'static str {
        match self {
            BucketKind::Orders => "orders/",
            BucketKind::Lake => "lake/events/",
            BucketKind::Media => "uploads/",
            BucketKind::Backups => "backups/db/",
            BucketKind::Partner => "inbound/",
            BucketKind::Public => "assets/",
        }
    }

    /// SSE-KMS key index and whether an S3 Bucket Key is on; None for SSE-S3.
    pub(super) fn kms(self) -> Option<(usize, bool)> {
        match self {
            BucketKind::Orders => Some((0, false)),
            BucketKind::Lake => Some((1, true)),
            BucketKind::Media => Some((2, false)),
            BucketKind::Partner => Some((3, false)),
            BucketKind::Backups | BucketKind::Public => None,
        }
    }
}

#[derive(Debug)]
pub(super) struct Bucket {
    pub(super) name: String,
    /// Global id: `Pool::buckets[id]`.
    pub(super) id: u16,
    pub(super) host_regional: String,
    /// The legacy global endpoint old SigV2 clients still use.
    pub(super) host_global: String,
}

pub(super) fn role_buckets(role: Role) -> &'static [BucketKind] {
    use BucketKind::*;
    match role {
        Role::OrdersApp => &[Orders],
        Role::Etl => &[Lake, Lake, Orders],
        Role::Thumbnailer => &[Media],
        Role::SsoAdmin => &[Orders, Lake, Media, Backups, Partner, Public],
        Role::Presigner => &[Public, Media],
        Role::EksNode | Role::DotnetReporting | Role::Bi => &[Lake],
        Role::LegacyBackup => &[Backups],
        Role::CiDeploy | Role::Anonymous => &[Public],
        Role::PartnerSync => &[Partner],
        Role::CrossAccount => &[Partner, Lake],
        Role::CloudTrail | Role::LambdaService => &[Public],
    }
}

/// Writes an object key that is safe inside a JSON string as is. Some keys carry unicode,
/// a literal `\u00e9` escape or `\/` escapes, as real keys do once serialized.
pub(super) fn put_object_key(o: &mut Vec<u8>, rng: &mut Rng, kind: BucketKind, t: i64) {
    let c = civil(t);
    let mut date = *b"0000-00-00";
    digits4(&mut date[0..4], c.y);
    digits2(&mut date[5..7], c.mo);
    digits2(&mut date[8..10], c.d);
    match kind {
        BucketKind::Orders => {
            lit(o, "orders/t-");
            put_digits(o, rng, 4);
            lit(o, "/ord-");
            put_digits(o, rng, 10);
            lit(o, ".json");
        }
        BucketKind::Lake => {
            lit(o, "lake/events/dt=");
            o.extend_from_slice(&date);
            lit(o, "/part-");
            put_digits(o, rng, 5);
            o.push(b'-');
            put_uuid(o, rng);
            lit(o, ".snappy.parquet");
        }
        BucketKind::Media => {
            lit(o, "uploads/");
            put_hex(o, rng, 8, HEX_LOWER);
            match rng.below(6) {
                0 => lit(o, "/café-menu-"),
                1 => lit(o, "/東京タワー-"),
                2 => lit(o, "/r\\u00e9sum\\u00e9-"),
                _ => lit(o, "/IMG_"),
            }
            put_digits(o, rng, 4);
            lit(o, ".jpg");
        }
        BucketKind::Backups => {
            if rng.chance(5_000) {
                lit(o, "backups\\/db\\/");
            } else {
                lit(o, "backups/db/");
            }
            o.extend_from_slice(&date);
            lit(o, "/dump-");
            put_digits(o, rng, 6);
            lit(o, ".sql.gz");
        }
        BucketKind::Partner => {
            if rng.chance(3_000) {
                lit(o, "outbound/Überweisung-");
                put_digits(o, rng, 6);
                lit(o, ".xml");
            } else {
                lit(o, "inbound/partner-");
                put_digits(o, rng, 3);
                lit(o, "/invoice-");
                put_digits(o, rng, 8);
                lit(o, ".csv");
            }
        }
        BucketKind::Public => match rng.below(3) {
            0 => {
                lit(o, "assets/img/");
                put_hex(o, rng, 12, HEX_LOWER);
                lit(o, ".png");
            }
            1 => {
                lit(o, "assets/docs/guide-");
                put_digits(o, rng, 3);
                lit(o, ".pdf");
            }
            _ => lit(o, "assets/index.html"),
        },
    }
}
