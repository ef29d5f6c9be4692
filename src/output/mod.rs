//! Writers beyond the tables' Parquet files (each table module writes its own): the KMS
//! insights derived from the tables, `summary.json`, its warnings and the reports.

pub mod html;
pub mod kms_insights;
pub mod report;
pub mod summary;
pub mod warnings;

/// Makes a string from the trail safe to print on a terminal: control characters (ANSI
/// escapes in a forged user agent, say) are shown escaped instead of being obeyed.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(super::terminal_safe("aws-cli/1.0"), "aws-cli/1.0");
        assert_eq!(super::terminal_safe("evil\u{1b}[2Jua"), "evil\\u{1b}[2Jua");
    }
}
