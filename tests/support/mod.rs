//! Shared helpers: run the binary, read Parquet back into plain rows.

#![allow(dead_code)]

pub mod fault_proxy;
pub mod s3;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::{
    Array, BinaryArray, BooleanArray, Float64Array, Int64Array, StringArray,
    TimestampMillisecondArray,
};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// One Parquet value, with timestamps rendered as `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl Cell {
    pub fn str(&self) -> Option<&str> {
        match self {
            Cell::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn int(&self) -> i64 {
        match self {
            Cell::Int(i) => *i,
            other => panic!("not an integer: {other:?}"),
        }
    }
}

pub type Row = BTreeMap<String, Cell>;

/// Every Parquet file a run writes.
pub const OUTPUT_PARQUET: [&str; 8] = [
    "kms_calls.parquet",
    "kms_rates.parquet",
    "kms_cost.parquet",
    "kms_bucket_keys.parquet",
    "kms_data_key_caching.parquet",
    "sigv2_requests.parquet",
    "tls_legacy.parquet",
    "vpc_endpoint_events.parquet",
];

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `trailsift analyze INPUTS --out OUT --no-progress EXTRA` and asserts it exits 0.
pub fn analyze(inputs: &[&Path], out: &Path, extra: &[&str]) -> String {
    let mut cmd = assert_cmd::Command::cargo_bin("trailsift").expect("binary built");
    cmd.arg("analyze");
    for i in inputs {
        cmd.arg(i);
    }
    cmd.arg("--out").arg(out).arg("--no-progress").args(extra);
    let output = cmd.output().expect("trailsift runs");
    assert!(
        output.status.success(),
        "trailsift analyze failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout).expect("utf-8 report")
}

pub fn summary(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("summary.json")).expect("summary.json written");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("valid timestamp")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Reads a whole Parquet file into rows.
pub fn read_table(path: &Path) -> Vec<Row> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.expect("batch");
        let schema = batch.schema();
        for i in 0..batch.num_rows() {
            let mut row = Row::new();
            for (field, col) in schema.fields().iter().zip(batch.columns()) {
                let cell = if col.is_null(i) {
                    Cell::Null
                } else {
                    match field.data_type() {
                        DataType::Utf8 => Cell::Str(
                            col.as_any()
                                .downcast_ref::<StringArray>()
                                .unwrap()
                                .value(i)
                                .to_owned(),
                        ),
                        DataType::Int64 => {
                            Cell::Int(col.as_any().downcast_ref::<Int64Array>().unwrap().value(i))
                        }
                        DataType::Float64 => Cell::Float(
                            col.as_any()
                                .downcast_ref::<Float64Array>()
                                .unwrap()
                                .value(i),
                        ),
                        DataType::Boolean => Cell::Bool(
                            col.as_any()
                                .downcast_ref::<BooleanArray>()
                                .unwrap()
                                .value(i),
                        ),
                        DataType::Binary => Cell::Bytes(
                            col.as_any()
                                .downcast_ref::<BinaryArray>()
                                .unwrap()
                                .value(i)
                                .to_vec(),
                        ),
                        DataType::Timestamp(TimeUnit::Millisecond, Some(tz))
                            if tz.as_ref() == "UTC" =>
                        {
                            Cell::Str(rfc3339(
                                col.as_any()
                                    .downcast_ref::<TimestampMillisecondArray>()
                                    .unwrap()
                                    .value(i),
                            ))
                        }
                        other => panic!("unexpected column type {other:?} for {}", field.name()),
                    }
                };
                row.insert(field.name().clone(), cell);
            }
            rows.push(row);
        }
    }
    rows
}

/// Sums `value` over rows grouped by the string columns `by` (null shown as "null").
pub fn sum_by(rows: &[Row], by: &[&str], value: &str) -> BTreeMap<Vec<String>, i64> {
    let mut out = BTreeMap::new();
    for r in rows {
        let key = by
            .iter()
            .map(|c| r[*c].str().unwrap_or("null").to_owned())
            .collect();
        *out.entry(key).or_insert(0) += r[value].int();
    }
    out
}
