//! Formatting shared by the terminal report and report.html: numbers, dollars, shares, and
//! the two ways of making a string from the trail harmless (on a terminal, in a page).

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

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

/// "1 request", "2 requests": a count with its noun, in the singular for one.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `s` cut to at most `max` columns of display width, keeping its start and its end (an
/// ARN's account and name, an agent's product and platform) around a "…". The whole value is
/// in the Parquet files.
pub fn shorten(s: &str, max: usize) -> Cow<'_, str> {
    if s.width() <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let budget = max - 1;
    let head_budget = budget.div_ceil(2);
    let mut head = String::new();
    let mut width = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if width + w > head_budget {
            break;
        }
        width += w;
        head.push(c);
    }
    let tail_budget = budget - width;
    let mut tail: Vec<char> = Vec::new();
    let mut tail_width = 0;
    for c in s.chars().rev() {
        let w = c.width().unwrap_or(0);
        if tail_width + w > tail_budget {
            break;
        }
        tail_width += w;
        tail.push(c);
    }
    head.push('…');
    head.extend(tail.into_iter().rev());
    Cow::Owned(head)
}

/// `text` wrapped to `width` columns: the first line starts with `first`, the others with
/// `rest` (a hanging indent). Words longer than a line (S3 keys, ARNs) are broken.
pub fn wrap(text: &str, width: usize, first: &str, rest: &str) -> String {
    let options = textwrap::Options::new(width)
        .initial_indent(first)
        .subsequent_indent(rest)
        .break_words(true);
    textwrap::fill(text, options)
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
        assert_eq!(count(1, "request"), "1 request");
        assert_eq!(count(0, "request"), "0 requests");
    }

    #[test]
    fn shortened_text_keeps_both_ends_within_the_width() {
        assert_eq!(shorten("aws-cli/1.10.1", 40), "aws-cli/1.10.1");
        let arn = "arn:aws:iam::111122223333:role/a-very-long-role-name-for-batch";
        let short = shorten(arn, 30);
        assert_eq!(short.width(), 30);
        assert!(short.starts_with("arn:aws:iam::11"), "{short}");
        assert!(short.ends_with("for-batch"), "{short}");
        // Wide characters count two columns.
        let agent = "aws-sdk-ruby2/2.11.632 ruby/2.7.0 x86_64-linux 東京東京東京-sync";
        assert!(shorten(agent, 25).width() <= 25);
    }

    #[test]
    fn wrapped_lines_fit_and_hang() {
        let text = "botocore 1.4.1 signs for aws-cli/1.10.1 and cannot sign SigV4: upgrade aws-cli to 1.11.108 or later, with botocore 1.5.71 or later";
        let out = wrap(text, 40, "  [1] ", "      ");
        assert!(out.lines().all(|l| l.width() <= 40), "{out}");
        assert!(out.starts_with("  [1] botocore"));
        assert!(
            out.lines().skip(1).all(|l| l.starts_with("      ")),
            "{out}"
        );
    }
}
