//! The report a person reads: the terminal report ([`text`]) and `report.html` ([`html`]),
//! two renderers of the same input ([`model::ReportInput`]). Formatting both share lives
//! in [`format`].

pub mod format;
pub mod html;
pub mod model;
pub mod text;

pub use model::ReportInput;
