//! What a reader of an empty or partial answer must know: each warning a variant, said the
//! same way in summary.json (`warnings`), the terminal report and report.html.

use std::fmt;

use crate::config::AnalyzeConfig;
use crate::output::report::format::count;
use crate::pipeline::Analysis;
use crate::time::{SECONDS_PER_HOUR, format_rfc3339};

/// A gap of more than this between a requested bound and the nearest event is reported.
const COVERAGE_SLACK: i64 = SECONDS_PER_HOUR;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// No object was read.
    NothingRead,
    /// Records were read but no KMS event among them.
    NoKmsEvents,
    /// KMS events were read, but only write (management) events: the trail does not log
    /// read-only events, and every cryptographic call is one.
    KmsWriteOnly {
        records: u64,
    },
    /// Calls through a VPC endpoint that its policy denied (network activity events).
    VpceDenied {
        events: u64,
    },
    /// Records were read but no S3 data event among them.
    NoS3DataEvents,
    /// S3 records from before `SignatureVersion` was logged: SigV2 among them is inferred.
    SigV2Inferred {
        records: u64,
    },
    ObjectsFailed {
        objects: u64,
    },
    /// Objects delivered into hours the `--state` checkpoint had finished, not read.
    LateObjects {
        objects: usize,
    },
    CheckpointNotSaved {
        error: String,
    },
    /// `--start`/`--end` given, and no event between them.
    NoEventsInRange,
    /// The earliest event is well after `--start`.
    StartsLate {
        first: i64,
        start: i64,
    },
    /// The latest event is well before `--end`.
    EndsEarly {
        last: i64,
        end: i64,
    },
    MalformedRecords {
        records: u64,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::NothingRead => write!(
                f,
                "no CloudTrail log files were read: check the input path and filters"
            ),
            Warning::NoKmsEvents => write!(
                f,
                "no KMS events: the trail may exclude them (ExcludeManagementEventSources kms.amazonaws.com), so KMS callers cannot be seen"
            ),
            // Decrypt, Encrypt, GenerateDataKey and the other cryptographic operations are
            // read-only management events (their CloudTrail examples have "readOnly": true:
            // KMS Developer Guide, "Logging AWS KMS API calls with AWS CloudTrail"); a
            // trail whose management event selector is WriteOnly logs none of them.
            Warning::KmsWriteOnly { records } => write!(
                f,
                "{} read, all of them write (management) events and none a read-only cryptographic call (Decrypt, Encrypt, GenerateDataKey...): the trail logs write-only management events, so KMS callers cannot be seen (set its management events to Read and Write)",
                count(*records, "KMS event")
            ),
            Warning::VpceDenied { events } => write!(
                f,
                "{} through a VPC endpoint denied by its policy (VpceAccessDenied): see vpc_endpoint_events.parquet, outcome = 'denied'",
                count(*events, "call")
            ),
            Warning::NoS3DataEvents => write!(
                f,
                "no S3 data events: SigV2 callers cannot be seen (enable S3 data events on the trail)"
            ),
            Warning::SigV2Inferred { records } => write!(
                f,
                "{} SignatureVersion logging (2019): SigV2 among them is inferred from client versions (evidence = inferred), not seen",
                if *records == 1 {
                    "1 S3 record predates".to_owned()
                } else {
                    format!("{records} S3 records predate")
                }
            ),
            Warning::ObjectsFailed { objects } => write!(
                f,
                "{} failed and {} not read: see failures",
                count(*objects, "object"),
                if *objects == 1 { "was" } else { "were" }
            ),
            Warning::LateObjects { objects } => write!(
                f,
                "{} delivered into hours the --state checkpoint had already finished, not read: see resume.late_objects (a run with a new state file reads them)",
                count(*objects as u64, "object")
            ),
            Warning::CheckpointNotSaved { error } => {
                write!(f, "a checkpoint was not saved: {error}")
            }
            Warning::NoEventsInRange => write!(
                f,
                "no events between --start and --end: the input does not cover the requested time range"
            ),
            Warning::StartsLate { first, start } => write!(
                f,
                "the input covers the requested range only in part: the earliest event is {}, {} after --start {} (missing log files, or a trail started later)",
                format_rfc3339(*first),
                duration(first - start),
                format_rfc3339(*start)
            ),
            Warning::EndsEarly { last, end } => write!(
                f,
                "the input covers the requested range only in part: the latest event is {}, {} before --end {} (missing log files, or files not delivered yet)",
                format_rfc3339(*last),
                duration(end - 1 - last),
                format_rfc3339(*end)
            ),
            Warning::MalformedRecords { records } => write!(
                f,
                "{} malformed and not counted: see records.malformed_reasons",
                count(*records, "record")
            ),
        }
    }
}

/// The warnings of a run, in the order they are shown.
pub fn of(a: &Analysis, cfg: &AnalyzeConfig) -> Vec<Warning> {
    let r = &a.tables.records;
    let mut w = Vec::new();
    if a.objects.read == 0 {
        w.push(Warning::NothingRead);
    }
    if r.attributed > 0 && r.kms == 0 {
        w.push(Warning::NoKmsEvents);
    }
    if r.kms > 0 && r.kms_read_only == 0 {
        w.push(Warning::KmsWriteOnly { records: r.kms });
    }
    if r.network_activity_denied > 0 {
        w.push(Warning::VpceDenied {
            events: r.network_activity_denied,
        });
    }
    if r.attributed > 0 && r.s3_data == 0 {
        w.push(Warning::NoS3DataEvents);
    }
    if r.s3_before_signature_logging > 0 {
        w.push(Warning::SigV2Inferred {
            records: r.s3_before_signature_logging,
        });
    }
    if a.objects.failed > 0 {
        w.push(Warning::ObjectsFailed {
            objects: a.objects.failed,
        });
    }
    if let Some(resume) = &a.resume {
        if !resume.late_objects.is_empty() {
            w.push(Warning::LateObjects {
                objects: resume.late_objects.len(),
            });
        }
        for e in &resume.errors {
            w.push(Warning::CheckpointNotSaved { error: e.clone() });
        }
    }
    coverage(&mut w, cfg, a);
    if r.malformed_total() > 0 {
        w.push(Warning::MalformedRecords {
            records: r.malformed_total(),
        });
    }
    w
}

/// `--start`/`--end` asked for a range the input covers only in part: projections and peaks
/// then describe less time than the user thinks.
fn coverage(w: &mut Vec<Warning>, cfg: &AnalyzeConfig, a: &Analysis) {
    let r = &a.tables.records;
    let (start, end) = (cfg.filter.start, cfg.filter.end);
    if start.is_none() && end.is_none() || a.objects.read == 0 {
        return;
    }
    let (Some(first), Some(last)) = (r.first_event, r.last_event) else {
        w.push(Warning::NoEventsInRange);
        return;
    };
    if let Some(start) = start
        && first - start > COVERAGE_SLACK
    {
        w.push(Warning::StartsLate { first, start });
    }
    // `end` is exclusive: the last possible event is at end - 1.
    if let Some(end) = end
        && (end - 1) - last > COVERAGE_SLACK
    {
        w.push(Warning::EndsEarly { last, end });
    }
}

/// `3 h 05 min`, `2 d 4 h`.
fn duration(seconds: i64) -> String {
    let minutes = seconds / 60;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else {
        format!("{h} h {m:02} min")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_gaps_name_both_ends_and_the_gap() {
        let w = Warning::StartsLate {
            first: 1_772_334_000,
            start: 1_772_323_200,
        };
        assert_eq!(
            w.to_string(),
            "the input covers the requested range only in part: the earliest event is 2026-03-01T03:00:00Z, 3 h 00 min after --start 2026-03-01T00:00:00Z (missing log files, or a trail started later)"
        );
        assert_eq!(duration(2 * 86_400 + 4 * 3600), "2 d 4 h");
    }
}
