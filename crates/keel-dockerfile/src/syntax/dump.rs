//! BuildKit's `Node.Dump()` text and Go's `strconv.Quote`, so golden files compare byte for byte.

use super::args::is_dispatched;
use super::node::{Arg, Ast, Node};

/// BuildKit's `Node.Dump()` of every instruction, one `(...)` per line, each ending in `\n`.
pub fn dump(ast: &Ast) -> String {
    let mut out = String::new();
    for child in &ast.children {
        out.push('(');
        out.push_str(&dump_node(child));
        out.push_str(")\n");
    }
    out
}

/// One instruction as BuildKit's `Node.Dump()` prints it, without the outer parentheses.
pub fn dump_node(node: &Node) -> String {
    let mut s = String::with_capacity(node.original.len() + 16);
    s.push_str(&node.keyword);
    if !node.flags.is_empty() {
        s.push_str(" [");
        for (i, flag) in node.flags.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            quote_into(&mut s, flag);
        }
        s.push(']');
    }
    if !is_dispatched(&node.keyword) {
        // BuildKit's parser gives an unknown instruction one empty argument (`parseIgnore`);
        // our node keeps its words for the instruction layer, but the dump stays BuildKit's.
        s.push_str(" \"\"");
    } else {
        for arg in &node.args {
            s.push(' ');
            match arg {
                Arg::Word(w) => quote_into(&mut s, w),
                Arg::Nested(child) => {
                    s.push('(');
                    s.push_str(&dump_node(child));
                    s.push(')');
                }
            }
        }
    }
    // Go trims the result; only an empty keyword can leave a leading blank.
    let trimmed = s.trim();
    if trimmed.len() == s.len() {
        s
    } else {
        trimmed.to_string()
    }
}

/// Go's `strconv.Quote`: a double-quoted string with Go escapes for non-printable characters.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    quote_into(&mut out, s);
    out
}

fn quote_into(out: &mut String, s: &str) {
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
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
}

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
///
/// Rust has no general-category table, so this rejects what Go rejects in practice (controls,
/// non-ASCII spaces, line and paragraph separators, format characters, private use and
/// noncharacters) and accepts the rest; unassigned code points are the only difference.
fn is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    if u < 0x100 {
        return u >= 0xa1 && u != 0xad;
    }
    if c.is_whitespace() {
        return false;
    }
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
    if (u & 0xfffe) == 0xfffe {
        return false;
    }
    !NOT_PRINT.iter().any(|&(lo, hi)| (lo..=hi).contains(&u))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn go_quote() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\u{0}\u{7}\u{1b}\u{7f}"), r#""\x00\a\x1b\x7f""#);
        assert_eq!(quote("♥ ☃ é"), "\"♥ ☃ é\"");
        assert_eq!(
            quote("\u{a0}\u{ad}\u{200b}\u{feff}"),
            r#""\u00a0\u00ad\u200b\ufeff""#
        );
        assert_eq!(quote("\u{10ffff}"), r#""\U0010ffff""#);
        assert_eq!(quote("'"), "\"'\"");
    }
}
