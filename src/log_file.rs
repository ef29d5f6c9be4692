//! The body of a log file: `{"Records": [ {...}, ... ]}`.

use simd_json::tape::{Array, Tape};

#[derive(Debug, thiserror::Error)]
pub enum LogFileError {
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("not a CloudTrail log file: the top level is not a JSON object")]
    NotAnObject,
    #[error("not a CloudTrail log file: no \"Records\" key")]
    NoRecords,
    #[error("not a CloudTrail log file: \"Records\" is not an array")]
    RecordsNotArray,
}

/// The `Records` array of a parsed log file.
pub fn records<'t, 'a>(tape: &'t Tape<'a>) -> Result<Array<'t, 'a>, LogFileError> {
    let root = tape.as_value();
    let obj = root.as_object().ok_or(LogFileError::NotAnObject)?;
    let records = obj.get("Records").ok_or(LogFileError::NoRecords)?;
    records.as_array().ok_or(LogFileError::RecordsNotArray)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str) -> Result<usize, LogFileError> {
        let mut bytes = json.as_bytes().to_vec();
        let tape =
            simd_json::to_tape(&mut bytes).map_err(|e| LogFileError::InvalidJson(e.to_string()))?;
        records(&tape).map(|a| a.iter().count())
    }

    #[test]
    fn only_records_arrays_are_log_files() {
        assert_eq!(check(r#"{"Records":[{},{}]}"#).unwrap(), 2);
        assert!(matches!(check("[1]"), Err(LogFileError::NotAnObject)));
        assert!(matches!(
            check(r#"{"awsAccountId":"1"}"#),
            Err(LogFileError::NoRecords)
        ));
        assert!(matches!(
            check(r#"{"Records":{}}"#),
            Err(LogFileError::RecordsNotArray)
        ));
        assert!(matches!(
            check(r#"{"Records":["#),
            Err(LogFileError::InvalidJson(_))
        ));
    }
}
