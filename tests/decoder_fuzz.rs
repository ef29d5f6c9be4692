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
//!
//! Every run is reproducible from its seed: `TRAILSIFT_FUZZ_SEED` (a decimal u64; a fresh
//! random one when unset) seeds batch after batch of cases, and the run prints it first, on
//! stderr past the test harness's capture, so that even a crash leaves it in the log. On a
//! failure the panic message and `target/fuzz-failures/<seed>.txt` give the seed, the
//! shrunk input and the command that replays the run (`TRAILSIFT_FUZZ_BATCHES` makes the
//! replay run the same batches whatever the machine's speed). proptest also saves the
//! failing case's own seed in `target/fuzz-failures/proptest-regressions.txt` and tries
//! those cases first in every later run on that machine; as the cases share one parser, a
//! failure that depends on what the parser decoded before shows only in the seeded replay.

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestRng, TestRunner,
};
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
        log: None,
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

/// Cases per batch: the time budget is checked between batches.
const CASES: u32 = 2_000;

/// The run's seed: `TRAILSIFT_FUZZ_SEED`, else a fresh random one.
fn fuzz_seed() -> u64 {
    match std::env::var("TRAILSIFT_FUZZ_SEED") {
        Ok(s) if !s.trim().is_empty() => s.trim().parse().unwrap_or_else(|_| {
            panic!("TRAILSIFT_FUZZ_SEED={s:?} is not a decimal number below 2^64")
        }),
        Err(std::env::VarError::NotUnicode(s)) => {
            panic!("TRAILSIFT_FUZZ_SEED={s:?} is not a decimal number below 2^64")
        }
        _ => {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            h.write_u128(now.as_nanos());
            h.write_u32(std::process::id());
            h.finish()
        }
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator of batch `batch` of the run seeded with `seed`.
fn batch_rng(seed: u64, batch: u64) -> TestRng {
    let mut mixed = batch;
    let mut state = seed ^ splitmix64(&mut mixed);
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// `target/fuzz-failures`, under `CARGO_TARGET_DIR` when it is set.
fn failures_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|t| root.join(t))
        .unwrap_or_else(|| root.join("target"));
    target.join("fuzz-failures")
}

/// Says `line` on the process's stderr, past the test harness's capture.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

#[test]
fn decoder_and_parser_survive_mutated_and_arbitrary_objects() {
    let budget = std::env::var("TRAILSIFT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    // A replay runs exactly the batches of the failed run, however long they take.
    let batches: Option<u64> = std::env::var("TRAILSIFT_FUZZ_BATCHES").ok().map(|s| {
        s.parse()
            .expect("TRAILSIFT_FUZZ_BATCHES is a number of batches")
    });
    let seed = fuzz_seed();
    say(&format!(
        "decoder fuzz: seed {seed} (replay: TRAILSIFT_FUZZ_SEED={seed} cargo test --release \
         --locked --test tests decoder_fuzz)"
    ));
    let failures = failures_dir();
    let regressions = failures.join("proptest-regressions.txt");
    let regressions_path: &'static str =
        Box::leak(regressions.to_string_lossy().into_owned().into_boxed_str());
    let started = Instant::now();
    // One parser for every input, as a worker reuses its buffers from object to object.
    let parser = RefCell::new(ObjectParser::new(CAP));
    let mut tried = 0u64;
    let mut batch = 0u64;
    // Batches of fresh random cases until the budget is spent; a failure is shrunk and
    // reported by proptest with the input that caused it.
    while match batches {
        Some(n) => batch < n,
        None => started.elapsed() < Duration::from_secs(budget),
    } {
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: CASES,
                failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
                    regressions_path,
                ))),
                ..Config::default()
            },
            batch_rng(seed, batch),
        );
        let result = runner.run(&inputs(), |input| check(&mut parser.borrow_mut(), input));
        if let Err(e) = result {
            let replay = format!(
                "TRAILSIFT_FUZZ_SEED={seed} TRAILSIFT_FUZZ_BATCHES={} cargo test --release \
                 --locked --test tests decoder_fuzz -- --nocapture",
                batch + 1
            );
            let record = failures.join(format!("{seed}.txt"));
            let text = format!(
                "decoder fuzz failed\n\
                 seed: {seed}\n\
                 batch: {batch} ({CASES} cases each; {tried} inputs passed before it)\n\
                 replay the run: {replay}\n\
                 proptest keeps failing cases in {regressions_path} and tries them first in \
                 every later run on this machine\n\n{e}\n"
            );
            let saved = std::fs::create_dir_all(&failures)
                .and_then(|()| std::fs::write(&record, &text))
                .map(|()| format!("written to {}", record.display()))
                .unwrap_or_else(|err| format!("could not write {}: {err}", record.display()));
            panic!("after {tried} inputs (seed {seed}, {saved}):\n{text}");
        }
        tried += u64::from(CASES);
        batch += 1;
    }
    let (decoded, read) = (
        DECODED.load(Ordering::Relaxed),
        READ.load(Ordering::Relaxed),
    );
    println!(
        "decoder fuzz: seed {seed}, {tried} inputs in {:.0} s ({decoded} decoded, {read} read as \
         log files), no panic, no output past the {CAP}-byte cap, records reconciled",
        started.elapsed().as_secs_f64()
    );
    assert!(tried > 0, "the budget allowed no input");
    // Unedited inputs (no edits drawn) are valid: some must have been read.
    assert!(read > 0, "no input reached the record reader");
}
