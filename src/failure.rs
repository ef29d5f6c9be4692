//! Why an object could not be read: a typed error, so that summary.json names a
//! machine-readable `kind` beside the human `reason`.

use serde::{Deserialize, Serialize};

use crate::decode::DecodeError;
use crate::log_file::LogFileError;

/// An object that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("cannot read file: {0}")]
    Read(std::io::Error),
    /// GetObject failed (after the SDK's retries), or the body was cut off again and again.
    #[error("{0}")]
    Fetch(String),
    /// S3 says the object is larger than `--max-object-bytes`: not fetched.
    #[error("object is {size} bytes, more than --max-object-bytes ({max})")]
    TooLarge { size: u64, max: u64 },
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    LogFile(#[from] LogFileError),
}

/// The `kind` of a failure in summary.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A local file could not be read.
    Read,
    /// An S3 object could not be fetched.
    Fetch,
    /// Larger than `--max-object-bytes`, compressed or decompressed.
    TooLarge,
    /// Not gzip, or a truncated or corrupt gzip stream, or empty.
    Decode,
    /// Not valid JSON.
    InvalidJson,
    /// Valid JSON, but not `{"Records": [...]}`.
    NotALogFile,
}

impl ObjectError {
    pub fn kind(&self) -> FailureKind {
        match self {
            ObjectError::Read(_) => FailureKind::Read,
            ObjectError::Fetch(_) => FailureKind::Fetch,
            ObjectError::TooLarge { .. } | ObjectError::Decode(DecodeError::TooLarge(_)) => {
                FailureKind::TooLarge
            }
            ObjectError::Decode(_) => FailureKind::Decode,
            ObjectError::LogFile(LogFileError::InvalidJson(_)) => FailureKind::InvalidJson,
            ObjectError::LogFile(_) => FailureKind::NotALogFile,
        }
    }
}

/// A failed object as summary.json and the report name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Failure {
    pub key: String,
    pub kind: FailureKind,
    pub reason: String,
}

impl Failure {
    pub fn new(key: &str, error: &ObjectError) -> Failure {
        Failure {
            key: key.to_owned(),
            kind: error.kind(),
            reason: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_tell_the_failures_apart() {
        let too_large = ObjectError::Decode(DecodeError::TooLarge(10));
        assert_eq!(too_large.kind(), FailureKind::TooLarge);
        let f = Failure::new(
            "a/b.json.gz",
            &ObjectError::Decode(DecodeError::Truncated(5)),
        );
        assert_eq!(f.kind, FailureKind::Decode);
        assert_eq!(f.reason, "truncated gzip stream after 5 decompressed bytes");
        let json = serde_json::to_value(&f).expect("serializes");
        assert_eq!(json["kind"], "decode");
        assert_eq!(
            ObjectError::LogFile(LogFileError::NoRecords).kind(),
            FailureKind::NotALogFile
        );
        assert_eq!(
            serde_json::to_value(FailureKind::NotALogFile).expect("serializes"),
            "not_a_log_file"
        );
    }
}
