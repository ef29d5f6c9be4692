//! What the report is made of.

use crate::attribute::kms::Quotas;
use crate::output::kms_insights::KmsInsights;
use crate::output::rows::Rows;
use crate::pipeline::Analysis;

/// Everything the terminal report and report.html show.
pub struct ReportInput<'a> {
    pub analysis: &'a Analysis,
    pub rows: &'a Rows<'a>,
    pub insights: &'a KmsInsights<'a>,
    pub quotas: &'a Quotas,
    pub warnings: &'a [String],
    /// Rows per table.
    pub top: usize,
    pub wall_seconds: f64,
}
