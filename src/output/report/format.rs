//! Formatting shared by the terminal report and report.html: numbers, dollars, shares, and
//! the two ways of making a string from the trail harmless (on a terminal, in a page).

use std::borrow::Cow;

/// Names shown per client in a to-do list (buckets, services, cipher suites, user agents)
/// before "+N more".
pub const NAMES: usize = 5;

/// Makes a string from the trail safe to print on a terminal: control characters (ANSI
/// escapes in a forged user agent, say) are shown escaped instead of being obeyed.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
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

/// Escapes text for HTML element content and double- or single-quoted attributes. Control
/// characters are shown escaped (as in the terminal report) rather than passed through.
pub fn esc(s: &str) -> String {
    let s = terminal_safe(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// 12,345,678.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Dollars with cents, or with more digits below a cent.
pub fn dollars(usd: f64) -> String {
    if usd == 0.0 || usd >= 0.01 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

/// A share as a percentage with enough digits to tell a small peak from none.
pub fn percent(share: f64) -> String {
    let pct = 100.0 * share;
    if pct == 0.0 || pct >= 1.0 {
        format!("{pct:.1}%")
    } else {
        format!("{pct:.3}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(terminal_safe("aws-cli/1.0"), "aws-cli/1.0");
        assert_eq!(terminal_safe("evil\u{1b}[2Jua"), "evil\\u{1b}[2Jua");
    }

    #[test]
    fn escaping_neutralises_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(esc("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
    }

    #[test]
    fn numbers() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(123_456), "123,456");
        assert_eq!(thousands(0), "0");
        assert_eq!(dollars(0.0), "$0.00");
        assert_eq!(dollars(12.345), "$12.35");
        assert_eq!(dollars(0.0012), "$0.0012");
        assert_eq!(percent(0.5), "50.0%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(0.00012), "0.012%");
    }
}
