//! The report a person reads: the terminal report ([`text`]) and `report.html` ([`html`]).
//!
//! Both draw from one [`ReportModel`], built once from the run's results
//! ([`ReportInput`]): the groupings, counts, sort orders and cuts are decided there, so the
//! two cannot disagree, and only `model.rs` reads the analysis, the rows and the KMS
//! insights. The renderers choose the words and the layout; [`format`] holds what they share
//! (numbers, dollars, shares, escaping).

pub mod format;
pub mod html;
pub mod model;
pub mod text;

pub use model::{ReportInput, ReportModel};
