//! Fuzzing of the object decoder and the record parser (gunzip, simd-json tape, the
//! `Records` array, each record's fields, attribution and aggregation), as a time-bounded
//! property test: cargo-fuzz needs a nightly toolchain, which this project's machines do not
//! have.
//!
//! Inputs are mutations of a realistic log file (bytes flipped, inserted, deleted, the object
//! cut short) before and after gzip, plus arbitrary bytes. For every input: no panic; the
//! decompressed size never exceeds the cap (no unbounded allocation); and when the object is
//! read, its records reconcile (`total = attributed + skipped + malformed`).
//!
//! `TRAILSIFT_FUZZ_SECONDS` sets the time budget (default 3 s in the test suite);
//! `scripts/fuzz.sh` runs it for longer and prints the number of inputs tried.

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use trailsift::engine::{Gate, ObjectParser, RecordFilter, Tables};

/// Decompressed bytes allowed per object in this test: small, so that a bomb is cheap.
const CAP: u64 = 1 << 20;

fn seed_document() -> Vec<u8> {
    // Records of the shapes the parser cares about: KMS through S3 with an encryption
    // context, an S3 data event with SigV2 and TLS details, a management event, escapes and
    // unicode, odd types.
    br#"{"Records":[
{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROA:s","arn":"arn:aws:sts::111122223333:assumed-role/bi/s","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/bi"}},"invokedBy":"s3.amazonaws.com"},"eventTime":"2026-03-01T10:00:00Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-east-1","sourceIPAddress":"s3.amazonaws.com","userAgent":"s3.amazonaws.com","requestParameters":{"encryptionContext":{"aws:s3:arn":"arn:aws:s3:::bucket\/key\u00e9"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"},"eventID":"5b6a8b0e-1111-4a4a-8b8b-0123456789a1","sharedEventID":"6c7b9c1f-2222-4b4b-9c9c-0123456789b2","recipientAccountId":"111122223333","resources":[{"type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:111122223333:key/k1"}]},
{"eventTime":"2026-03-01T10:00:01Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/old","accountId":"111122223333"},"userAgent":"[aws-sdk-java/1.11.100 Linux/4.9 java/1.7.0_80]","requestParameters":{"bucketName":"legacy","key":"a b"},"additionalEventData":{"SignatureVersion":"SigV2","AuthenticationMethod":"QueryString","CipherSuite":"ECDHE-RSA-AES128-SHA"},"tlsDetails":{"tlsVersion":"TLSv1","cipherSuite":"ECDHE-RSA-AES128-SHA"},"eventCategory":"Data","recipientAccountId":"111122223333"},
{"eventTime":"2026-03-01T10:00:02Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","userIdentity":{"type":"Root","arn":5},"requestParameters":{"a":[1,2.5,-3e10,true,null,{"b":"\"\\\n"}]},"recipientAccountId":"444455556666"},
7, "x", null
]}"#
    .to_vec()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("gzip into memory");
    gz.finish().expect("gzip into memory")
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Cut(usize),
}

fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for edit in edits {
        if bytes.is_empty() {
            return;
        }
        match *edit {
            Edit::Flip(at, mask) => {
                let at = at % bytes.len();
                bytes[at] ^= mask.max(1);
            }
            Edit::Insert(at, b) => {
                let at = at % (bytes.len() + 1);
                bytes.insert(at, b);
            }
            Edit::Delete(at) => {
                let at = at % bytes.len();
                bytes.remove(at);
            }
            Edit::Cut(at) => bytes.truncate(at % bytes.len()),
        }
    }
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(a, m)| Edit::Flip(a, m)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Insert(a, b)),
        2 => any::<usize>().prop_map(Edit::Delete),
        1 => any::<usize>().prop_map(Edit::Cut),
    ];
    proptest::collection::vec(edit, 0..8)
}

/// What the fuzzer feeds the parser, and whether it is named `.gz`.
#[derive(Debug, Clone)]
enum Input {
    /// The JSON edited, then gzipped: reaches the JSON parser and the record reader.
    EditedJson(Vec<Edit>),
    /// The gzip stream edited: reaches the inflater's error paths.
    EditedGzip(Vec<Edit>),
    /// Anything, named `.gz` or not.
    Bytes(Vec<u8>, bool),
}

fn inputs() -> impl Strategy<Value = Input> {
    prop_oneof![
        5 => edits().prop_map(Input::EditedJson),
        3 => edits().prop_map(Input::EditedGzip),
        2 => (proptest::collection::vec(any::<u8>(), 0..2048), any::<bool>())
            .prop_map(|(b, gz)| Input::Bytes(b, gz)),
    ]
}

/// Inputs that decoded, and inputs whose records were read: proof that the mutations reach
/// past the inflater and the JSON parser.
static DECODED: AtomicU64 = AtomicU64::new(0);
static READ: AtomicU64 = AtomicU64::new(0);

fn check(parser: &mut ObjectParser, input: Input) -> Result<(), TestCaseError> {
    let (raw, named_gzip) = match input {
        Input::EditedJson(edits) => {
            let mut json = seed_document();
            apply(&mut json, &edits);
            (gzip(&json), true)
        }
        Input::EditedGzip(edits) => {
            let mut gz = gzip(&seed_document());
            apply(&mut gz, &edits);
            (gz, true)
        }
        Input::Bytes(bytes, gz) => (bytes, gz),
    };
    let Ok(len) = parser.decode(&raw, named_gzip) else {
        return Ok(());
    };
    DECODED.fetch_add(1, Ordering::Relaxed);
    prop_assert!(len as u64 <= CAP, "decoded {len} bytes past the cap");
    let mut acc = Tables::default();
    let filter = RecordFilter::default();
    let gate = Gate {
        filter: &filter,
        epoch: None,
    };
    if parser.fold(len, &mut acc, &gate).is_ok() {
        READ.fetch_add(1, Ordering::Relaxed);
        let r = &acc.records;
        prop_assert_eq!(
            r.total,
            r.attributed + r.skipped_total() + r.malformed_total(),
            "records do not reconcile"
        );
    }
    Ok(())
}

#[test]
fn decoder_and_parser_survive_mutated_and_arbitrary_objects() {
    let budget = std::env::var("TRAILSIFT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let started = Instant::now();
    // One parser for every input, as a worker reuses its buffers from object to object.
    let parser = RefCell::new(ObjectParser::new(CAP));
    let mut tried = 0u64;
    // Batches of fresh random cases until the budget is spent; a failure is shrunk and
    // reported by proptest with the input that caused it.
    while started.elapsed() < Duration::from_secs(budget) {
        let mut runner = TestRunner::new(Config {
            cases: 2_000,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&inputs(), |input| check(&mut parser.borrow_mut(), input));
        if let Err(e) = result {
            panic!("after {tried} inputs: {e}");
        }
        tried += 2_000;
    }
    let (decoded, read) = (
        DECODED.load(Ordering::Relaxed),
        READ.load(Ordering::Relaxed),
    );
    println!(
        "decoder fuzz: {tried} inputs in {:.0} s ({decoded} decoded, {read} read as log files), \
         no panic, no output past the {CAP}-byte cap, records reconciled",
        started.elapsed().as_secs_f64()
    );
    assert!(tried > 0, "the budget allowed no input");
    // Unedited inputs (no edits drawn) are valid: some must have been read.
    assert!(read > 0, "no input reached the record reader");
}
