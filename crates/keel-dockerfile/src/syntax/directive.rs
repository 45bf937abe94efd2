//! Parser directives (`# syntax=`, `# escape=`, `# check=`) and frontend syntax detection.
//!
//! Directives are comment lines at the very top; the first line that is not one (an instruction,
//! a blank line, any other comment) ends them. Each may appear once. [`detect_syntax`] also
//! accepts a `#!` first line, `//syntax=` lines and a JSON object, as BuildKit does to pick a
//! frontend before parsing.

use super::json::object_string_field;
use super::line::trim_left_space;
use crate::error::Error;
use crate::span::Span;

/// One parser directive, as BuildKit's `Directive`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The key, lower-cased (`escape`).
    pub name: String,
    /// The value, trailing blanks removed.
    pub value: String,
    /// 1-based line of the directive.
    pub line: usize,
}

/// A directive found by [`detect_syntax`] or [`parse_directive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDirective {
    /// The value up to its first space (`docker/dockerfile:1` of `docker/dockerfile:1 // opts`).
    pub value: String,
    /// The whole value (BuildKit's `cmdline`).
    pub cmdline: String,
    /// 1-based line of the directive (0 for the JSON form).
    pub line: usize,
}

const KNOWN: [&str; 3] = ["syntax", "escape", "check"];

/// BuildKit's `DirectiveParser`: reads lines one at a time until the directives end.
#[derive(Debug, Clone)]
pub struct DirectiveParser {
    line: usize,
    prefix: &'static [u8],
    seen: Vec<String>,
    done: bool,
}

impl Default for DirectiveParser {
    fn default() -> Self {
        DirectiveParser::new()
    }
}

impl DirectiveParser {
    /// A parser for `#` directives.
    pub fn new() -> DirectiveParser {
        DirectiveParser {
            line: 0,
            prefix: b"#",
            seen: Vec::new(),
            done: false,
        }
    }

    fn with(prefix: &'static [u8], line: usize) -> DirectiveParser {
        DirectiveParser {
            line,
            prefix,
            ..DirectiveParser::new()
        }
    }

    /// Whether the directives have ended.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The directive on `line` (without its line ending), if it is one; an error for a repeated
    /// directive.
    pub fn parse_line(&mut self, line: &[u8]) -> Result<Option<Directive>, Error> {
        self.line += 1;
        if self.done {
            return Ok(None);
        }
        let Some(rest) = line.strip_prefix(self.prefix) else {
            self.done = true;
            return Ok(None);
        };
        let Some((key, value)) = match_directive(trim_left_space(rest)) else {
            self.done = true;
            return Ok(None);
        };
        let name = key.to_ascii_lowercase();
        if !KNOWN.contains(&name.as_str()) {
            self.done = true;
            return Ok(None);
        }
        if self.seen.contains(&name) {
            return Err(Error::syntax(
                format!("only one {name} parser directive can be used"),
                Some(Span::lines(self.line, self.line)),
            ));
        }
        self.seen.push(name.clone());
        Ok(Some(Directive {
            name,
            value: String::from_utf8_lossy(value).into_owned(),
            line: self.line,
        }))
    }

    /// BuildKit's `ParseAll`: the directives at the top of `data`, stopping at the first error.
    pub fn parse_all(&mut self, data: &[u8]) -> Result<Vec<Directive>, Error> {
        match self.collect(data) {
            (_, Some(e)) => Err(e),
            (all, None) => Ok(all),
        }
    }

    /// The directives read, and the error that stopped the reading if any.
    fn collect(&mut self, data: &[u8]) -> (Vec<Directive>, Option<Error>) {
        let mut out = Vec::new();
        for line in scan_lines(data) {
            if self.done {
                break;
            }
            match self.parse_line(line) {
                Ok(Some(d)) => out.push(d),
                Ok(None) => {}
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }
}

/// Lines as Go's `bufio.ScanLines` gives them: split on `\n`, one trailing `\r` dropped.
fn scan_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    let empty = data.is_empty();
    data.split(|&b| b == b'\n')
        .filter(move |_| !empty)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

fn is_re_space(c: u8) -> bool {
    // Go's RE2 `\s`: no vertical tab.
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

/// `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` without a regex engine.
fn match_directive(s: &[u8]) -> Option<(&str, &[u8])> {
    if !s.first()?.is_ascii_alphabetic() {
        return None;
    }
    let key_len = s.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
    let mut i = key_len;
    while i < s.len() && is_re_space(s[i]) {
        i += 1;
    }
    if s.get(i) != Some(&b'=') {
        return None;
    }
    let rest = &s[i + 1..];
    if rest.is_empty() || rest.contains(&b'\n') {
        return None;
    }
    let lead = rest.iter().take_while(|&&c| is_re_space(c)).count();
    // The value needs one character; when only blanks follow `=`, the last one is it.
    let start = lead.min(rest.len() - 1);
    let body = &rest[start..];
    let trail = body.iter().rev().take_while(|&&c| is_re_space(c)).count();
    let end = (body.len() - trail).max(1);
    let key = std::str::from_utf8(&s[..key_len]).ok()?;
    Some((key, &body[..end]))
}

/// BuildKit's `DetectSyntax`: the `syntax` directive, also as `//syntax=` or a JSON object, after
/// an optional BOM and `#!` line.
pub fn detect_syntax(src: &[u8]) -> Option<FoundDirective> {
    find_directive("syntax", src, true)
}

/// BuildKit's `ParseDirective`: the `key` directive (`check`), `#` form only.
pub fn parse_directive(key: &str, src: &[u8]) -> Option<FoundDirective> {
    find_directive(key, src, false)
}

fn find_directive(key: &str, src: &[u8], any_format: bool) -> Option<FoundDirective> {
    let mut dt = src.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(src);
    let mut line = 0;
    let first_end = dt.iter().position(|&b| b == b'\n');
    if dt.starts_with(b"#!") {
        dt = first_end.map_or(&[][..], |i| &dt[i + 1..]);
        line = 1;
    }
    let from_parser = |prefix: &'static [u8]| {
        // Go keeps the directives read before an error.
        let (found, _) = DirectiveParser::with(prefix, line).collect(dt);
        found
            .into_iter()
            .find(|d| d.name == key)
            .map(|d| FoundDirective {
                value: d.value.split(' ').next().unwrap_or_default().to_string(),
                cmdline: d.value,
                line: d.line,
            })
    };
    if let Some(d) = from_parser(b"#") {
        return Some(d);
    }
    if !any_format {
        return None;
    }
    if let Some(d) = from_parser(b"//") {
        return Some(d);
    }
    object_string_field(dt, key).map(|v| FoundDirective {
        value: v.clone(),
        cmdline: v,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_regex() {
        assert_eq!(
            match_directive(b"escape = `  "),
            Some(("escape", &b"`"[..]))
        );
        assert_eq!(match_directive(b"a=b c"), Some(("a", &b"b c"[..])));
        assert_eq!(match_directive(b"escape=   "), Some(("escape", &b" "[..])));
        assert_eq!(match_directive(b"escape="), None);
        assert_eq!(match_directive(b"1a=b"), None);
        assert_eq!(match_directive(b"a b=c"), None);
    }

    #[test]
    fn repeated_directive_is_an_error() {
        let mut p = DirectiveParser::new();
        assert!(p.parse_line(b"# syntax=a").unwrap().is_some());
        let e = p.parse_line(b"# SYNTAX=b").unwrap_err();
        assert_eq!(e.message, "only one syntax parser directive can be used");
    }
}
