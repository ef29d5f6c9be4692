//! trailsift: reads an AWS CloudTrail trail and answers who still signs S3 requests with
//! SigV2 (or speaks TLS 1.0/1.1), and who is hammering KMS.
//!
//! Pipeline: `source` lists objects, `decode` gunzips, `log_file` + `record` parse only the
//! fields needed, `dedup` drops the second copy of an event, `attribute` decides who and
//! what once per record, `tables` fold it (one module per output table) and merge, `output`
//! writes summary.json and the reports. `pipeline` runs it; `resume` checkpoints it.
//!
//! The library's API is what the binary needs: [`cli`], [`run_analyze`], the generator
//! ([`synth`]) and the completion scripts and man pages ([`generated_docs`]). [`engine`]
//! opens the parts the benches and the fuzz test drive directly.

mod attribute;
pub mod bench;
pub mod cli;
mod config;
mod decode;
mod dedup;
mod delivery_hours;
mod failure;
pub mod generated_docs;
mod json;
mod log_file;
mod memory;
mod output;
mod pipeline;
mod progress;
mod record;
mod resume;
mod shard;
mod shard_spec;
mod source;
mod store;
// The folder keeps the layout's name; the module cannot be `gen`, a reserved word in Rust 2024.
#[path = "gen/mod.rs"]
pub mod synth;
mod tables;
mod time;
mod totals;

use std::time::Instant;

use anyhow::{Context, Result};

use attribute::kms::Quotas;
pub use config::AnalyzeConfig;
use output::kms_insights::KmsInsights;
use tables::closed::ClosedHours;
use tables::{OutputContext, Rows};

/// The engine's parts, for the benches and the fuzz test: not a stable API.
#[doc(hidden)]
pub mod engine {
    pub use crate::attribute::kms::{DEFAULT_PRICE_PER_10K_REQUESTS, Quotas};
    pub use crate::attribute::{advice, sigv4, user_agent};
    pub use crate::config::RecordFilter;
    pub use crate::dedup::{Admission, Dedup, DeferredSink, EpochView, record_key, uuid_key};
    pub use crate::json::Index as JsonIndex;
    pub use crate::json::index::Kernel as IndexKernel;
    pub use crate::output::kms_insights::KmsInsights;
    pub use crate::pipeline::{Gate, ObjectParser};
    pub use crate::record::{Identity, Record};
    pub use crate::source::s3::{S3Options, S3Session, S3Stats};
    pub use crate::store::{MULTIPART_THRESHOLD, PART_SIZE, Place, Store};
    pub use crate::tables::{FileColumns, OutputContext, Rows, Tables, column_docs, write_all};
}

/// What the binary needs to print and to decide its exit status.
pub struct RunOutcome {
    pub report: String,
    /// The text of `summary.json`, byte for byte, for `analyze --json`.
    pub summary_json: String,
    pub failed_objects: u64,
    /// Why no log file was read, when none was (and none failed): the run answered nothing,
    /// which must not look like a clean trail.
    pub nothing_read: Option<String>,
}

/// "no CloudTrail log file was read: ..." when the listing held no object to read.
fn nothing_read(cfg: &AnalyzeConfig, analysis: &pipeline::Analysis) -> Option<String> {
    let o = &analysis.objects;
    let from_state = analysis.resume.as_ref().map_or(0, |r| r.objects_from_state);
    if o.read + o.failed + from_state > 0 {
        return None;
    }
    let why = if o.listed == 0 {
        format!("no file was found in {}", cfg.inputs.join(", "))
    } else {
        o.skipped.reasons().join("; ")
    };
    Some(format!("no CloudTrail log file was read: {why}"))
}

/// Analyses the inputs and writes every output file into `cfg.out`; with `--shard`, reads
/// one shard's share and writes its partial instead.
pub fn run_analyze(cfg: &AnalyzeConfig) -> Result<RunOutcome> {
    if let Some(shard) = &cfg.shard {
        return shard::run::shard(cfg, shard);
    }
    let started = Instant::now();
    // Before anything is read: a run must not lose its work to an --out it cannot write.
    let target =
        output::out_dir::Target::prepare(&cfg.out, &mut store::Store::new(cfg.s3.clone()))?;
    let analysis = pipeline::analyze(cfg)?;
    let outcome = write_outputs(cfg, &analysis, target, started);
    free_in_background(analysis);
    outcome
}

/// Frees `value` on a thread of its own. A run's tables are millions of small allocations
/// (a row's sessions, its calls per second, a caching group's windows): freeing them once
/// every output was written held the run about 4% longer, with nothing left to do (0.5 s
/// of 13.5 s on a month-long organization trail, 0.1 s of 3 s on a week; alternated runs). The binary exits without waiting for it (the memory
/// goes back with the process); a caller of the library has it freed meanwhile.
pub(crate) fn free_in_background<T: Send + 'static>(value: T) {
    // Should the thread not start, the value is freed here, as it was before.
    let _ = std::thread::Builder::new()
        .name("free".to_owned())
        .spawn(move || drop(value));
}

/// Writes the shard plan of `trailsift plan` (see [`shard::run::plan`]).
pub use shard::run::{PlanOutcome, merge as run_merge, plan as run_plan};

/// Fails when rows of closed hours (tables::closed) could not be read back: every output
/// written from them would be short.
fn all_rows_read(rows: &Rows<'_>, closed: Option<&ClosedHours>) -> Result<()> {
    let read_back = [
        ("kms_calls", rows.kms_calls.error()),
        ("kms_rates", rows.kms_rates.error()),
        ("sigv2_requests", rows.sigv2.error()),
        ("tls_legacy", rows.tls.error()),
        (
            "kms_data_key_caching",
            closed.and_then(|c| c.singles_error.as_deref()),
        ),
    ];
    for (table, error) in read_back {
        if let Some(e) = error {
            anyhow::bail!("{table} is incomplete, so the outputs are not published: {e}");
        }
    }
    Ok(())
}

/// Writes every output of `analysis` (a run's, or a merge's) into `target`.
fn write_outputs(
    cfg: &AnalyzeConfig,
    analysis: &pipeline::Analysis,
    target: output::out_dir::Target,
    started: Instant,
) -> Result<RunOutcome> {
    let dir = target.dir.clone();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let quotas = Quotas {
        overrides: cfg.quota_overrides.clone(),
    };
    let rows = Rows::with_closed(&analysis.tables, analysis.closed.as_ref());
    let insights = KmsInsights::build(&analysis.tables, &rows, &quotas, cfg.kms_price_per_10k);
    let output = OutputContext {
        quotas: &quotas,
        projection: insights.projection,
        price_per_10k: insights.price_per_10k,
        cache_max_age: insights.cache_max_age,
    };
    tables::write_all(&dir, &rows, &output)?;
    // Before summary.json, which says a run is complete, is written.
    all_rows_read(&rows, analysis.closed.as_ref())?;
    let warnings = output::warnings::of(analysis, cfg);
    let wall_seconds = started.elapsed().as_secs_f64();
    let summary = output::summary::build(cfg, analysis, &insights, &warnings, wall_seconds);
    let warnings: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    let summary_json = output::summary::write(&dir.join("summary.json"), &summary)?;
    let report_input = output::report::ReportInput {
        analysis,
        rows: &rows,
        insights: &insights,
        quotas: &quotas,
        warnings: &warnings,
        top: cfg.top,
        wall_seconds,
    };
    let report_model = output::report::ReportModel::build(&report_input);
    output::report::html::write(&dir.join("report.html"), &report_model)?;
    let mut report = output::report::text::render(&report_model);
    // The report read the rows again; with `--out s3://` nothing is uploaded short.
    all_rows_read(&rows, analysis.closed.as_ref())?;
    let shown = target.shown();
    target.finish(&mut store::Store::new(cfg.s3.clone()))?;
    report.push_str(&format!("\nOutputs written to {shown}\n"));
    Ok(RunOutcome {
        report,
        summary_json,
        failed_objects: analysis.objects.failed,
        nothing_read: nothing_read(cfg, analysis),
    })
}
