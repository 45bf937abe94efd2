//! One `.dockerignore` pattern, compiled the way moby/patternmatcher compiles it (`Pattern.compile`):
//! `**` is any number of directories, `*` and `?` stay inside one component, `[...]` and `\`
//! are passed to the regular expression, and simple shapes (`dir/**`, `**/name`, literal
//! paths) skip the regular expression altogether.
//!
//! moby builds a Go regular expression; Rust's `regex` reads character classes differently
//! (`[` nests, `&&`/`--`/`~~` are set operators), so the Go expression is rewritten class by
//! class into one with the same meaning before it is compiled ([`go_regex_to_rust`]).

use regex::Regex;

/// How a pattern is matched: the same four kinds as moby's `matchType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchKind {
    /// The path equals the pattern.
    Exact,
    /// `dir/**`: the path starts with the pattern minus its `**`.
    Prefix,
    /// `**/name` or `**name`: the path ends with the pattern minus its `**`.
    Suffix,
    /// Anything else.
    Regex,
}

/// A compiled pattern (without its leading `!`).
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// The cleaned pattern text.
    text: String,
    kind: MatchKind,
    regex: Option<Regex>,
}

impl Pattern {
    /// Compiles a cleaned pattern; `Err` holds the reason a regular expression was refused.
    pub(crate) fn compile(text: &str) -> Result<Pattern, String> {
        let (kind, go_regex) = go_regex(text);
        let regex = match kind {
            MatchKind::Regex => Some(Regex::new(&go_regex_to_rust(&go_regex)).map_err(
                |e| match e {
                    regex::Error::Syntax(s) => s.lines().last().unwrap_or_default().to_owned(),
                    other => other.to_string(),
                },
            )?),
            _ => None,
        };
        Ok(Pattern {
            text: text.to_owned(),
            kind,
            regex,
        })
    }

    /// The cleaned pattern text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Whether the whole path matches (no parent directory logic here).
    pub(crate) fn matches(&self, path: &str) -> bool {
        match self.kind {
            MatchKind::Exact => path == self.text,
            MatchKind::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            MatchKind::Suffix => {
                let suffix = &self.text[2..];
                // `**/foo` also matches `foo` itself.
                path.ends_with(suffix) || suffix.strip_prefix('/').is_some_and(|bare| path == bare)
            }
            MatchKind::Regex => self.regex.as_ref().is_some_and(|re| re.is_match(path)),
        }
    }
}

/// moby's translation of a pattern into a match kind and a Go regular expression (the
/// expression is only used for [`MatchKind::Regex`]).
pub(crate) fn go_regex(pattern: &str) -> (MatchKind, String) {
    let mut re = String::with_capacity(pattern.len() + 8);
    re.push('^');
    let mut kind = MatchKind::Exact;
    let mut chars = pattern.chars().peekable();
    let mut position = 0;
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                // `**/` is the same as `**`.
                if chars.peek() == Some(&'/') {
                    chars.next();
                }
                if chars.peek().is_none() {
                    // A trailing `**` takes everything, as in .gitignore.
                    if kind == MatchKind::Exact {
                        kind = MatchKind::Prefix;
                    } else {
                        re.push_str(".*");
                        kind = MatchKind::Regex;
                    }
                } else {
                    // Any number of directories, including none.
                    re.push_str("(.*/)?");
                    kind = MatchKind::Regex;
                }
                if position == 0 {
                    kind = MatchKind::Suffix;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                kind = MatchKind::Regex;
            }
            '?' => {
                re.push_str("[^/]");
                kind = MatchKind::Regex;
            }
            // Special in a regular expression, plain in a pattern.
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                re.push('\\');
                re.push(c);
            }
            '\\' => {
                re.push('\\');
                if let Some(escaped) = chars.next() {
                    re.push(escaped);
                    kind = MatchKind::Regex;
                }
            }
            '[' | ']' => {
                re.push(c);
                kind = MatchKind::Regex;
            }
            _ => re.push(c),
        }
        position += 1;
    }
    re.push('$');
    (kind, re)
}

/// Rewrites a Go regular expression (RE2 syntax as Go parses it) for Rust's `regex`. Only
/// character classes differ for what moby generates: in Go, `[` inside a class is a plain
/// character (unless it opens `[:name:]`) and `&`, `~`, `-` have no set meaning; here they are
/// escaped. Everything outside classes is passed through.
pub(crate) fn go_regex_to_rust(go: &str) -> String {
    let chars: Vec<char> = go.chars().collect();
    let mut out = String::with_capacity(go.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                out.push('\\');
                if let Some(&c) = chars.get(i + 1) {
                    out.push(c);
                    i += 1;
                }
                i += 1;
            }
            '[' => i = push_class(&chars, i, &mut out),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Copies the class that opens at `chars[start]` and returns the index after it. An
/// unterminated class is copied as is, so that the regex compiler refuses it as Go's does.
fn push_class(chars: &[char], start: usize, out: &mut String) -> usize {
    out.push('[');
    let mut i = start + 1;
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    while let Some(&c) = chars.get(i) {
        // A `]` right after `[` or `[^` is a member, as in Go.
        if c == ']' && !first {
            out.push(']');
            return i + 1;
        }
        first = false;
        if c == '[' && chars.get(i + 1) == Some(&':') {
            if let Some(end) = find_posix_class_end(chars, i + 2) {
                out.extend(&chars[i..end]);
                i = end;
                continue;
            }
        }
        i = push_class_member(chars, i, out);
        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|&next| next != ']') {
            out.push('-');
            i = push_class_member(chars, i + 1, out);
        }
    }
    i
}

/// The index after the `:]` that closes a `[:name:]` whose name starts at `from`.
fn find_posix_class_end(chars: &[char], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < chars.len() {
        if chars[i] == ':' && chars[i + 1] == ']' {
            return Some(i + 2);
        }
        if !(chars[i].is_ascii_alphabetic() || (i == from && chars[i] == '^')) {
            return None;
        }
        i += 1;
    }
    None
}

/// Copies one class member (a character or an escape) and returns the index after it.
fn push_class_member(chars: &[char], i: usize, out: &mut String) -> usize {
    let c = chars[i];
    if c != '\\' {
        if matches!(c, '[' | ']' | '-' | '&' | '~' | '^') {
            out.push('\\');
        }
        out.push(c);
        return i + 1;
    }
    out.push('\\');
    let Some(&escaped) = chars.get(i + 1) else {
        return i + 1;
    };
    out.push(escaped);
    let mut j = i + 2;
    // `\p{Greek}`, `\x{263a}`: copy the braces with the escape.
    if matches!(escaped, 'p' | 'P' | 'x') && chars.get(j) == Some(&'{') {
        while let Some(&c) = chars.get(j) {
            out.push(c);
            j += 1;
            if c == '}' {
                break;
            }
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    /// moby/patternmatcher `compileTests` (the `/` separator column): kind and Go expression.
    #[test]
    fn compile_table() {
        use MatchKind::*;
        for (pattern, kind, regex) in [
            ("*", Regex, "^[^/]*$"),
            ("file*", Regex, "^file[^/]*$"),
            ("*file", Regex, "^[^/]*file$"),
            ("a*/b", Regex, "^a[^/]*/b$"),
            ("**", Suffix, ""),
            ("**/**", Regex, "^(.*/)?.*$"),
            ("dir/**", Prefix, ""),
            ("**/dir", Suffix, ""),
            ("**/dir2/*", Regex, "^(.*/)?dir2/[^/]*$"),
            ("**/dir2/**", Regex, "^(.*/)?dir2/.*$"),
            ("**file", Suffix, ""),
            ("**/file*txt", Regex, "^(.*/)?file[^/]*txt$"),
            ("**/**/*.txt", Regex, "^(.*/)?(.*/)?[^/]*\\.txt$"),
            ("a[b-d]e", Regex, "^a[b-d]e$"),
            (".*", Regex, "^\\.[^/]*$"),
            ("abc.def", Exact, ""),
            ("abc?def", Regex, "^abc[^/]def$"),
            ("**/foo/bar", Suffix, ""),
            ("a(b)c/def", Exact, ""),
            ("a.|)$(}+{bc", Exact, ""),
            (
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                Exact,
                "",
            ),
        ] {
            let (got_kind, got_regex) = go_regex(pattern);
            assert_eq!(got_kind, kind, "kind of {pattern:?}");
            if kind == Regex {
                assert_eq!(got_regex, regex, "regex of {pattern:?}");
            }
            Pattern::compile(pattern).expect(pattern);
        }
    }

    #[test]
    fn go_classes_become_rust_classes() {
        for (go, rust) in [
            ("^a[b-d]e$", "^a[b-d]e$"),
            ("^[\\]a]$", "^[\\]a]$"),
            ("^[[]$", "^[\\[]$"),
            ("^[]a]$", "^[\\]a]$"),
            ("^[a&&b]$", "^[a\\&\\&b]$"),
            ("^[a-]$", "^[a\\-]$"),
            ("^[-a]$", "^[\\-a]$"),
            ("^[[:alpha:]]$", "^[[:alpha:]]$"),
            ("^[~~]$", "^[\\~\\~]$"),
        ] {
            assert_eq!(go_regex_to_rust(go), rust, "{go}");
            Regex::new(rust).expect(rust);
        }
    }

    #[test]
    fn odd_classes_keep_go_meaning() {
        // `[*]` becomes `[[^/]*]` (moby does not track classes): in Go that is the class
        // {'[', '^', '/'} repeated, then a literal ']'.
        let p = Pattern::compile("[*]").expect("compiles");
        assert!(p.matches("[^]"));
        assert!(p.matches("]"));
        assert!(!p.matches("x"));
        // `[[]` is a class holding '['.
        let p = Pattern::compile("a[[]").expect("compiles");
        assert!(p.matches("a["));
    }

    #[test]
    fn escaped_punctuation_is_literal() {
        for (pattern, path) in [
            ("a\\/b", "a/b"),
            ("a\\!b", "a!b"),
            ("a\\ b", "a b"),
            ("a\\#b", "a#b"),
            ("x\\[y]", "x[y]"),
        ] {
            let p = Pattern::compile(pattern).expect(pattern);
            assert!(p.matches(path), "{pattern:?} on {path:?}");
        }
    }

    #[test]
    fn invalid_range_is_refused() {
        // moby/moby#52203: passes the filepath.Match check, fails as a regular expression.
        assert!(Pattern::compile("[Local-Only]").is_err());
    }
}
