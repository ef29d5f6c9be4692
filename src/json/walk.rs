//! Stage 2, on demand: a cursor over the structural index. A value is either read (a string,
//! the members of an object the caller asked for) or skipped: a string in one step, a
//! container by walking its tokens with a depth count, checking the grammar on the way, so
//! a skipped value is validated as thoroughly as a read one.
//!
//! Positions are indexes into the token list ([`Doc::at`]); every method that consumes a
//! value returns the position after it.

use bumpalo::Bump;

use super::index::Index;

/// Why the walk gave an object up; the caller reads it with simd-json instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bail {
    /// Not JSON, or not the shape of a log file (simd-json names what is wrong).
    Syntax,
    /// A number with an exponent or over 17 digits: simd-json decides its range.
    Number,
    /// Nesting deeper than [`MAX_DEPTH`].
    Deep,
    /// An escape the walk does not decode.
    Escape,
    /// A key the extraction reads, twice in one object: which copy counts is simd-json's.
    RepeatedKey,
}

/// Containers nest at most this deep inside a skipped value (a bit each in a u64). Trail
/// records nest a dozen levels at most.
pub const MAX_DEPTH: u32 = 63;

/// One indexed text: the text and the strings unescaped from it live for `'a`, the index
/// for `'d` (it may grow between two walks while the records read stay).
pub struct Doc<'d, 'a> {
    text: &'a str,
    at: &'d [u32],
    index: &'d Index,
    /// Where unescaped strings are kept, for as long as the text.
    arena: &'a Bump,
}

/// What a scalar token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    True,
    False,
    Null,
    Number,
}

#[inline(always)]
fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\n' | b'\r' | b'{' | b'}' | b'[' | b']' | b':' | b',' | b'"'
    )
}

impl<'d, 'a> Doc<'d, 'a> {
    /// The text `index` was built from (or is being fed from).
    pub fn new(text: &'a str, index: &'d Index, arena: &'a Bump) -> Doc<'d, 'a> {
        Doc {
            text,
            at: &index.at,
            index,
            arena,
        }
    }

    /// The byte of token `i`; 0 past the end (the sentinels), which no rule accepts.
    #[inline(always)]
    pub fn byte(&self, i: usize) -> u8 {
        match self.at.get(i) {
            Some(&p) => self.text.as_bytes().get(p as usize).copied().unwrap_or(0),
            None => 0,
        }
    }

    /// Whether token `i` is the end of the text.
    pub fn is_end(&self, i: usize) -> bool {
        self.at
            .get(i)
            .is_some_and(|&p| p as usize == self.text.len())
    }

    /// The string whose opening quote is token `i`, unescaped. Its closing quote is the last
    /// byte before token `i + 1` that is not whitespace: stage 1 indexes every byte outside
    /// strings that is neither whitespace nor a closing quote.
    #[inline(always)]
    pub fn string(&self, i: usize) -> Result<&'a str, Bail> {
        let (Some(&open), Some(&next)) = (self.at.get(i), self.at.get(i + 1)) else {
            return Err(Bail::Syntax);
        };
        let (open, mut close) = (open as usize, next as usize);
        let bytes = self.text.as_bytes();
        // Trail JSON is compact: the closing quote is right before the next token.
        if bytes.get(close.wrapping_sub(1)) != Some(&b'"') {
            while close > open + 1 && matches!(bytes[close - 1], b' ' | b'\t' | b'\n' | b'\r') {
                close -= 1;
            }
        }
        if close < open + 2 || bytes[close - 1] != b'"' || bytes[open] != b'"' {
            return Err(Bail::Syntax);
        }
        let content = &bytes[open + 1..close - 1];
        // SAFETY: the text is UTF-8 and the content lies between two quotes, ASCII bytes,
        // so it starts and ends on character boundaries.
        let raw = unsafe { std::str::from_utf8_unchecked(content) };
        if self.index.escapes_in(open, close) && content.contains(&b'\\') {
            return unescape(raw, self.arena);
        }
        Ok(raw)
    }

    /// Checks the scalar at token `i`.
    #[inline]
    pub fn scalar(&self, i: usize) -> Result<Scalar, Bail> {
        let start = *self.at.get(i).ok_or(Bail::Syntax)? as usize;
        let rest = self.text.as_bytes().get(start..).ok_or(Bail::Syntax)?;
        let len = rest
            .iter()
            .position(|&b| is_delimiter(b))
            .unwrap_or(rest.len());
        match &rest[..len] {
            b"true" => Ok(Scalar::True),
            b"false" => Ok(Scalar::False),
            b"null" => Ok(Scalar::Null),
            number => check_number(number).map(|()| Scalar::Number),
        }
    }

    /// Whether token `i` starts a key: a string, then ':'.
    #[inline(always)]
    pub fn is_key(&self, i: usize) -> bool {
        self.byte(i) == b'"' && self.byte(i + 1) == b':'
    }

    /// Skips the value at token `i`, checking its grammar.
    pub fn skip(&self, mut i: usize) -> Result<usize, Bail> {
        // Bit d: the container at depth d + 1 is an object.
        let mut objects = 0u64;
        let mut depth = 0u32;
        loop {
            // A value at i.
            match self.byte(i) {
                b'"' => i += 1,
                open @ (b'{' | b'[') => {
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.byte(i + 1) == close {
                        i += 2;
                    } else {
                        depth += 1;
                        if depth > MAX_DEPTH {
                            return Err(Bail::Deep);
                        }
                        objects = (objects << 1) | u64::from(open == b'{');
                        if open == b'{' {
                            if !self.is_key(i + 1) {
                                return Err(Bail::Syntax);
                            }
                            i += 3;
                        } else {
                            i += 1;
                        }
                        continue;
                    }
                }
                _ => {
                    self.scalar(i)?;
                    i += 1;
                }
            }
            // After a value: close containers until one goes on.
            loop {
                if depth == 0 {
                    return Ok(i);
                }
                let in_object = objects & 1 == 1;
                match (self.byte(i), in_object) {
                    (b',', true) => {
                        if !self.is_key(i + 1) {
                            return Err(Bail::Syntax);
                        }
                        i += 3;
                        break;
                    }
                    (b',', false) => {
                        i += 1;
                        break;
                    }
                    (b'}', true) | (b']', false) => {
                        objects >>= 1;
                        depth -= 1;
                        i += 1;
                    }
                    _ => return Err(Bail::Syntax),
                }
            }
        }
    }

    /// Calls `member(key, value)` for each member of the object at token `i`, in order;
    /// `member` returns the position after the value. Returns the position after the object.
    #[inline(always)]
    pub fn members(
        &self,
        i: usize,
        mut member: impl FnMut(&'a str, usize) -> Result<usize, Bail>,
    ) -> Result<usize, Bail> {
        if self.byte(i) != b'{' {
            return Err(Bail::Syntax);
        }
        let mut i = i + 1;
        if self.byte(i) == b'}' {
            return Ok(i + 1);
        }
        loop {
            if !self.is_key(i) {
                return Err(Bail::Syntax);
            }
            let key = self.string(i)?;
            i = member(key, i + 2)?;
            match self.byte(i) {
                b',' => i += 1,
                b'}' => return Ok(i + 1),
                _ => return Err(Bail::Syntax),
            }
        }
    }

    /// Calls `element(value)` for each element of the array at token `i`; like [`Doc::members`].
    #[inline(always)]
    pub fn elements(
        &self,
        i: usize,
        mut element: impl FnMut(usize) -> Result<usize, Bail>,
    ) -> Result<usize, Bail> {
        if self.byte(i) != b'[' {
            return Err(Bail::Syntax);
        }
        let mut i = i + 1;
        if self.byte(i) == b']' {
            return Ok(i + 1);
        }
        loop {
            i = element(i)?;
            match self.byte(i) {
                b',' => i += 1,
                b']' => return Ok(i + 1),
                _ => return Err(Bail::Syntax),
            }
        }
    }
}

/// RFC 8259's number grammar, `-? (0 | [1-9][0-9]*) (. [0-9]+)?`, without an exponent and
/// with at most 17 digits: the numbers whose range no parser disputes. Others are
/// [`Bail::Number`] (trail records hold few numbers, and none of these).
fn check_number(n: &[u8]) -> Result<(), Bail> {
    let digits = n.strip_prefix(b"-").unwrap_or(n);
    let (int, frac) = match digits.iter().position(|&b| b == b'.') {
        Some(dot) => (&digits[..dot], Some(&digits[dot + 1..])),
        None => (digits, None),
    };
    let all_digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    if !all_digits(int) || (int.len() > 1 && int[0] == b'0') {
        return Err(if int.iter().any(|&b| b == b'e' || b == b'E') {
            Bail::Number
        } else {
            Bail::Syntax
        });
    }
    if let Some(frac) = frac
        && !all_digits(frac)
    {
        return Err(Bail::Number);
    }
    if int.len() + frac.map_or(0, <[u8]>::len) > 17 {
        return Err(Bail::Number);
    }
    Ok(())
}

/// Decodes a string's escapes into the arena. Stage 1 has checked each escape and refused
/// `\u` surrogates, so `\u` here is one code point of the Basic Multilingual Plane.
#[cold]
fn unescape<'a>(raw: &str, arena: &'a Bump) -> Result<&'a str, Bail> {
    let mut out = bumpalo::collections::String::with_capacity_in(raw.len(), arena);
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match chars.next() {
            Some('"') => '"',
            Some('\\') => '\\',
            Some('/') => '/',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                    .and_then(char::from_u32)
                    .ok_or(Bail::Escape)?
            }
            _ => return Err(Bail::Escape),
        };
        out.push(decoded);
    }
    Ok(out.into_bump_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_doc<T>(json: &str, f: impl FnOnce(&Doc<'_, '_>) -> T) -> T {
        let mut index = Index::default();
        index.build(json.as_bytes()).expect("indexed");
        let arena = Bump::new();
        f(&Doc::new(json, &index, &arena))
    }

    #[test]
    fn skips_nested_values_and_checks_their_grammar() {
        let ok = r#"{"a":{"b":[1,{"c":null},[],{}],"d":"x"},"e":-0.5}"#;
        with_doc(ok, |d| {
            let end = d.skip(0).unwrap();
            assert!(d.is_end(end));
        });
        for bad in [
            r#"{"a":[1,]}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":1 "b":2}"#,
            r#"[1 2]"#,
            r#"{"a":tru}"#,
            r#"{"a":01}"#,
            r#"{"a":-}"#,
            r#"{"a":1.}"#,
            r#"{"a":"x"1}"#,
            r#"{"a":[}"#,
            r#"{1:2}"#,
        ] {
            with_doc(bad, |d| {
                let skipped = d.skip(0);
                assert!(
                    skipped.is_err() || !d.is_end(skipped.unwrap_or(0)),
                    "{bad} accepted"
                )
            });
        }
        with_doc(r#"[1e5]"#, |d| assert_eq!(d.skip(0), Err(Bail::Number)));
        with_doc(r#"[123456789012345678]"#, |d| {
            assert_eq!(d.skip(0), Err(Bail::Number))
        });
        // 64 containers below the one skipped; the innermost is empty.
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        with_doc(&deep, |d| assert_eq!(d.skip(0), Err(Bail::Deep)));
    }

    #[test]
    fn strings_come_out_unescaped() {
        let json = r#"{"k\u0065y":"a\"b\\c\/d\u00e9\n" , "plain":"x y"}"#;
        with_doc(json, |d| {
            let mut seen = Vec::new();
            let end = d
                .members(0, |k, v| {
                    seen.push((k.to_string(), d.string(v)?.to_string()));
                    Ok(v + 1)
                })
                .unwrap();
            assert!(d.is_end(end));
            assert_eq!(
                seen,
                [
                    ("key".to_string(), "a\"b\\c/d\u{e9}\n".to_string()),
                    ("plain".to_string(), "x y".to_string())
                ]
            );
        });
    }
}
