//! The JSON (exec) form of instruction arguments, decoded as Go's `encoding/json` does.
//!
//! Our own small decoder rather than serde_json because BuildKit's behaviour hangs on Go's exact
//! rules: the whole text is checked before anything is decoded (so a syntax error anywhere wins
//! over a non-string element), nesting is allowed 10,000 deep, and a lone surrogate escape
//! decodes to U+FFFD instead of failing.

use std::fmt;

/// Why a text is not a JSON array of strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    /// It does not start with `[` (after leading blanks).
    NotArray,
    /// It is not valid JSON, or not an array.
    Invalid,
    /// Valid JSON array, but an element is not a string: BuildKit rejects the instruction.
    NotStringArray,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonError::NotArray => "not a JSON array",
            JsonError::Invalid => "invalid JSON",
            JsonError::NotStringArray => {
                "when using JSON array syntax, arrays must be comprised of strings only"
            }
        })
    }
}

/// BuildKit's `parseJSON`: the elements of a JSON array of strings.
pub fn parse_json_array(rest: &str) -> Result<Vec<String>, JsonError> {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return Err(JsonError::NotArray);
    }
    let b = rest.as_bytes();
    if !is_valid(b) {
        return Err(JsonError::Invalid);
    }
    let mut p = Decoder { b, i: 0 };
    p.ws();
    p.i += 1; // '['
    let mut out = Vec::new();
    p.ws();
    if p.peek() == Some(b']') {
        return Ok(out);
    }
    loop {
        p.ws();
        if p.peek() == Some(b'"') {
            out.push(p.string());
        } else {
            return Err(JsonError::NotStringArray);
        }
        p.ws();
        if p.peek() == Some(b',') {
            p.i += 1;
        } else {
            return Ok(out);
        }
    }
}

/// Go's `json.Unmarshal` into `map[string]any`, then the string value of `key` (the last one
/// when the key repeats), or `None` when the text is not a JSON object or the value no string.
pub(crate) fn object_string_field(text: &[u8], key: &str) -> Option<String> {
    if !is_valid(text) {
        return None;
    }
    let mut p = Decoder { b: text, i: 0 };
    p.ws();
    if p.peek() != Some(b'{') {
        return None;
    }
    p.i += 1;
    let mut found = None;
    loop {
        p.ws();
        if p.peek() != Some(b'"') {
            return found; // '}' of an empty object
        }
        let k = p.string();
        p.ws();
        p.i += 1; // ':'
        p.ws();
        if k == key {
            found = if p.peek() == Some(b'"') {
                Some(p.string())
            } else {
                p.skip_value();
                None
            };
        } else {
            p.skip_value();
        }
        p.ws();
        if p.peek() == Some(b',') {
            p.i += 1;
        } else {
            return found;
        }
    }
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// Go's `checkValid`: one JSON value, blanks around it, nothing else; at most 10,000 deep.
fn is_valid(b: &[u8]) -> bool {
    const MAX_DEPTH: usize = 10_000;
    // Containers still open: true for an object, false for an array.
    let mut stack: Vec<bool> = Vec::new();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && is_ws(b[*i]) {
            *i += 1;
        }
    };
    loop {
        // Expect a value.
        skip_ws(&mut i);
        match b.get(i) {
            Some(b'[') | Some(b'{') => {
                let obj = b[i] == b'{';
                i += 1;
                if stack.len() >= MAX_DEPTH {
                    return false;
                }
                stack.push(obj);
                skip_ws(&mut i);
                let close = if obj { b'}' } else { b']' };
                if b.get(i) == Some(&close) {
                    i += 1;
                    stack.pop();
                } else {
                    if obj && !scan_key(b, &mut i) {
                        return false;
                    }
                    continue;
                }
            }
            Some(b'"') => {
                if !scan_string(b, &mut i) {
                    return false;
                }
            }
            Some(b't') => {
                if !scan_lit(b, &mut i, b"true") {
                    return false;
                }
            }
            Some(b'f') => {
                if !scan_lit(b, &mut i, b"false") {
                    return false;
                }
            }
            Some(b'n') => {
                if !scan_lit(b, &mut i, b"null") {
                    return false;
                }
            }
            Some(b'-') | Some(b'0'..=b'9') => {
                if !scan_number(b, &mut i) {
                    return false;
                }
            }
            _ => return false,
        }
        // After a value: close containers or move to the next element.
        loop {
            skip_ws(&mut i);
            let Some(&obj) = stack.last() else {
                return i == b.len();
            };
            let close = if obj { b'}' } else { b']' };
            match b.get(i) {
                Some(&c) if c == close => {
                    i += 1;
                    stack.pop();
                }
                Some(b',') => {
                    i += 1;
                    if obj && !scan_key(b, &mut i) {
                        return false;
                    }
                    break;
                }
                _ => return false,
            }
        }
    }
}

/// `"key"` then `:`, leaving `i` before the value.
fn scan_key(b: &[u8], i: &mut usize) -> bool {
    while *i < b.len() && is_ws(b[*i]) {
        *i += 1;
    }
    if b.get(*i) != Some(&b'"') || !scan_string(b, i) {
        return false;
    }
    while *i < b.len() && is_ws(b[*i]) {
        *i += 1;
    }
    if b.get(*i) != Some(&b':') {
        return false;
    }
    *i += 1;
    true
}

fn scan_lit(b: &[u8], i: &mut usize, lit: &[u8]) -> bool {
    if b[*i..].starts_with(lit) {
        *i += lit.len();
        true
    } else {
        false
    }
}

fn scan_number(b: &[u8], i: &mut usize) -> bool {
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if b.get(*i) == Some(&b'-') {
        *i += 1;
    }
    match b.get(*i) {
        Some(b'0') => *i += 1,
        Some(b'1'..=b'9') => {
            digits(i);
        }
        _ => return false,
    }
    if b.get(*i) == Some(&b'.') {
        *i += 1;
        if !digits(i) {
            return false;
        }
    }
    if matches!(b.get(*i), Some(b'e') | Some(b'E')) {
        *i += 1;
        if matches!(b.get(*i), Some(b'+') | Some(b'-')) {
            *i += 1;
        }
        if !digits(i) {
            return false;
        }
    }
    true
}

/// A string starting at `b[*i] == '"'`; raw control characters and bad escapes are invalid.
fn scan_string(b: &[u8], i: &mut usize) -> bool {
    *i += 1;
    while let Some(&c) = b.get(*i) {
        match c {
            b'"' => {
                *i += 1;
                return true;
            }
            b'\\' => match b.get(*i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => *i += 2,
                Some(b'u') => {
                    let hex = b.get(*i + 2..*i + 6);
                    if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                        return false;
                    }
                    *i += 6;
                }
                _ => return false,
            },
            c if c < 0x20 => return false,
            _ => *i += 1,
        }
    }
    false
}

/// Decodes parts of a text already known to be valid.
struct Decoder<'a> {
    b: &'a [u8],
    i: usize,
}

impl Decoder<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while self.i < self.b.len() && is_ws(self.b[self.i]) {
            self.i += 1;
        }
    }

    fn hex4(&self, at: usize) -> u32 {
        self.b[at..at + 4].iter().fold(0, |acc, &h| {
            acc * 16 + (h as char).to_digit(16).unwrap_or(0)
        })
    }

    /// The string at `i` (on its opening quote), escapes decoded, as Go decodes them.
    fn string(&mut self) -> String {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.b[self.i];
            match c {
                b'"' => {
                    self.i += 1;
                    break;
                }
                b'\\' => {
                    let e = self.b[self.i + 1];
                    self.i += 2;
                    let simple = match e {
                        b'b' => Some(b'\x08'),
                        b'f' => Some(b'\x0c'),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'u' => None,
                        other => Some(other),
                    };
                    if let Some(s) = simple {
                        out.push(s);
                        continue;
                    }
                    let mut cp = self.hex4(self.i);
                    self.i += 4;
                    if (0xd800..0xdc00).contains(&cp)
                        && self.b.get(self.i..self.i + 2) == Some(b"\\u")
                    {
                        let lo = self.hex4(self.i + 2);
                        if (0xdc00..0xe000).contains(&lo) {
                            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                            self.i += 6;
                        }
                    }
                    let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    /// Step over one value (valid by construction): strings are skipped whole so that brackets
    /// inside them do not count.
    fn skip_value(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                Some(b'"') => {
                    let _ = scan_string(self.b, &mut self.i);
                }
                Some(b'[' | b'{') => {
                    depth += 1;
                    self.i += 1;
                }
                Some(b']' | b'}') => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                    self.i += 1;
                }
                Some(b',') if depth == 0 => return,
                None => return,
                _ => self.i += 1,
            }
            if depth == 0 && matches!(self.peek(), Some(b',' | b']' | b'}') | None) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays() {
        assert_eq!(
            parse_json_array(r#" ["a", "b"] "#),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(parse_json_array("[]"), Ok(vec![]));
        assert_eq!(parse_json_array("['a']"), Err(JsonError::Invalid));
        assert_eq!(parse_json_array("a"), Err(JsonError::NotArray));
        assert_eq!(
            parse_json_array(r#"["a", 1]"#),
            Err(JsonError::NotStringArray)
        );
        // A syntax error anywhere wins over a non-string element, as Go checks validity first.
        assert_eq!(parse_json_array(r#"["a", 1"#), Err(JsonError::Invalid));
        assert_eq!(
            parse_json_array(r#"["\ud800x"]"#),
            Ok(vec!["\u{fffd}x".into()])
        );
        assert_eq!(
            parse_json_array(r#"["\ud83d\ude00"]"#),
            Ok(vec!["😀".into()])
        );
        assert_eq!(parse_json_array(r#"["a"] x"#), Err(JsonError::Invalid));
        assert_eq!(parse_json_array("[01]"), Err(JsonError::Invalid));
        let deep = format!("[{}{}]", "[".repeat(300), "]".repeat(300));
        assert_eq!(parse_json_array(&deep), Err(JsonError::NotStringArray));
    }

    #[test]
    fn objects() {
        let t = br#"{"syntax": "foo", "bar": ["a]b", {"x": 1}], "n": null}"#;
        assert_eq!(object_string_field(t, "syntax").as_deref(), Some("foo"));
        assert_eq!(object_string_field(t, "bar"), None);
        assert_eq!(object_string_field(br#"{"syntax": "foo""#, "syntax"), None);
        assert_eq!(
            object_string_field(br#"{"a":1,"syntax":"x"}"#, "syntax").as_deref(),
            Some("x")
        );
        assert_eq!(object_string_field(b"{}", "syntax"), None);
    }
}
