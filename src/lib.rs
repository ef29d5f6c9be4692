//! trailsift: reads an AWS CloudTrail trail and answers who still signs S3 requests with
//! SigV2 (or speaks TLS 1.0/1.1), and who is hammering KMS.
//!
//! Pipeline: `source` lists objects, `decode` gunzips, `log_file` + `record` parse only the
//! fields needed, `attribute` decides who and what, `aggregate` folds per worker and
//! merges, `output` writes Parquet, `summary.json` and the report. `pipeline` runs it.

pub mod aggregate;
pub mod attribute;
pub mod cli;
pub mod decode;
// The file keeps the layout's name; the module cannot be `gen`, a reserved word in Rust 2024.
pub mod log_file;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod record;
pub mod resume;
pub mod source;
#[path = "gen.rs"]
pub mod synth;
pub mod time;

use std::time::Instant;

use anyhow::{Context, Result};

use attribute::kms::Quotas;
use output::kms_insights::KmsInsights;
use output::rows::Rows;
use pipeline::AnalyzeConfig;

/// What the binary needs to decide its exit status.
pub struct RunOutcome {
    pub report: String,
    pub failed_objects: u64,
}

/// Analyses the inputs and writes every output file into `cfg.out_dir`.
pub fn run_analyze(cfg: &AnalyzeConfig) -> Result<RunOutcome> {
    let started = Instant::now();
    let analysis = pipeline::analyze(cfg)?;
    std::fs::create_dir_all(&cfg.out_dir)
        .with_context(|| format!("cannot create output directory {}", cfg.out_dir.display()))?;
    let quotas = Quotas {
        overrides: cfg.quota_overrides.clone(),
    };
    let rows = Rows::from(&analysis.acc);
    let insights = KmsInsights::build(&analysis.acc, &rows, cfg.kms_price_per_10k);
    output::parquet::write_all(&cfg.out_dir, &rows, &quotas, &insights)?;
    let warnings = output::summary::warnings(&analysis, cfg);
    let wall_seconds = started.elapsed().as_secs_f64();
    let summary = output::summary::build(cfg, &analysis, &insights, &warnings, wall_seconds);
    output::summary::write(&cfg.out_dir.join("summary.json"), &summary)?;
    let report_input = output::report::ReportInput {
        analysis: &analysis,
        rows: &rows,
        insights: &insights,
        quotas: &quotas,
        warnings: &warnings,
        top: cfg.top,
        wall_seconds,
    };
    let report_model = output::report::ReportModel::build(&report_input);
    output::report::html::write(&cfg.out_dir.join("report.html"), &report_model)?;
    let mut report = output::report::text::render(&report_model);
    report.push_str(&format!("\nOutputs written to {}\n", cfg.out_dir.display()));
    Ok(RunOutcome {
        report,
        failed_objects: analysis.objects.failed,
    })
}
