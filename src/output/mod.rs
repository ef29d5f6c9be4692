//! Writers beyond the tables' Parquet files (each table module writes its own): the KMS
//! insights derived from the tables, `summary.json` and its warnings, and the report (on the
//! terminal and as `report.html`), and the `--out` directory they go to.

pub mod kms_insights;
pub mod out_dir;
pub mod report;
pub mod summary;
pub mod warnings;
