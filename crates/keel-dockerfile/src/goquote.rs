//! Go's `strconv.Quote` (what `%q` prints for a string): the one implementation behind every
//! quoted string the front end shows, so that text compares byte for byte with BuildKit's.
//! BuildKit uses it in `Node.Dump()` (the parser's golden files), in its lexer's
//! `failed to process "…"` errors and in its check messages.
//!
//! Entry points: [`quote`] and [`quote_into`].

use std::fmt::Write as _;

/// `s` as Go's `strconv.Quote` writes it: in double quotes, with `"` and `\` escaped,
/// `\a \b \f \n \r \t \v` for those controls, `\xHH` for the other ASCII controls, and
/// `\uHHHH` / `\UHHHHHHHH` for any other character Go does not print as is.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    quote_into(&mut out, s);
    out
}

/// [`quote`], appended to `out`.
pub fn quote_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_print(c) => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            // Writing to a String cannot fail.
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
}

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
///
/// Rust has no general-category table, so this rejects what Go rejects in practice (controls,
/// spaces other than U+0020, line and paragraph separators, format characters, surrogates,
/// private use and noncharacters) and accepts the rest; unassigned code points are the only
/// difference, and only an error message could show one.
fn is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    if u < 0x100 {
        // Latin-1: C1 controls, the no-break space and the soft hyphen (a format character).
        return u >= 0xa1 && u != 0xad;
    }
    if c.is_whitespace() {
        return false;
    }
    // Format characters (Cf) and private use (Co) above Latin-1, as ranges.
    const NOT_PRINT: &[(u32, u32)] = &[
        (0x0600, 0x0605),
        (0x061c, 0x061c),
        (0x06dd, 0x06dd),
        (0x070f, 0x070f),
        (0x0890, 0x0891),
        (0x08e2, 0x08e2),
        (0x180e, 0x180e),
        (0x200b, 0x200f),
        (0x2028, 0x202e),
        (0x2060, 0x206f),
        (0xd800, 0xf8ff),
        (0xfdd0, 0xfdef),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x1343f),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0000, 0xe00ff),
        (0xf0000, 0x10ffff),
    ];
    // U+xFFFE and U+xFFFF are noncharacters in every plane.
    if (u & 0xfffe) == 0xfffe {
        return false;
    }
    !NOT_PRINT.iter().any(|&(lo, hi)| (lo..=hi).contains(&u))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_like_go() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\u{0}\u{7}\u{1b}\u{7f}"), r#""\x00\a\x1b\x7f""#);
        assert_eq!(quote("\t\n\r\u{8}\u{b}\u{c}"), r#""\t\n\r\b\v\f""#);
        assert_eq!(quote("♥ ☃ é 한국어"), "\"♥ ☃ é 한국어\"");
        assert_eq!(quote("'"), "\"'\"");
        // C1 controls, non-ASCII spaces, format characters.
        assert_eq!(quote("\u{85}\u{a0}\u{ad}"), r#""\u0085\u00a0\u00ad""#);
        assert_eq!(
            quote("\u{200b}\u{2028}\u{feff}\u{890}"),
            r#""\u200b\u2028\ufeff\u0890""#
        );
        // Private use, noncharacters, and beyond the Basic Multilingual Plane.
        assert_eq!(
            quote("\u{e000}\u{fdd0}\u{1fffe}"),
            r#""\ue000\ufdd0\U0001fffe""#
        );
        assert_eq!(quote("\u{f0000}\u{10ffff}"), r#""\U000f0000\U0010ffff""#);
        assert_eq!(quote("\u{1f600}"), "\"\u{1f600}\"");
    }
}
