//! Writers beyond the tables' Parquet files (each table module writes its own): the KMS
//! insights derived from the tables, `summary.json` and its warnings, and the report (on the
//! terminal and as `report.html`).

pub mod kms_insights;
pub mod report;
pub mod summary;
pub mod warnings;
