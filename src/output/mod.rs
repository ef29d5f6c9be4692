//! Writers: the Parquet files of the output contract, `summary.json`, and the report (on the
//! terminal and as `report.html`).

pub mod kms_insights;
pub mod parquet;
pub mod report;
pub mod rows;
pub mod summary;
