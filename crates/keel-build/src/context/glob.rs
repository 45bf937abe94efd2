//! Go's `path/filepath.Match` on Unix, the glob language of COPY/ADD sources (Dockerfile
//! reference, "COPY": "matching is done using Go's filepath.Match rules"), and the check that
//! Docker runs on every `.dockerignore` pattern before using it.
//!
//! Grammar: `*` any run of non-`/` bytes; `?` one non-`/` character; `[` `^`? ranges `]` a
//! character class (a class may match `/`); `\c` the character `c`. A malformed pattern is an
//! error even when an earlier part already failed to match, as in current Go (not in 1.19).
//!
//! The algorithm follows Go's (chunks between stars, leftmost match of each chunk, the last
//! chunk anchored at the end) because a different but "more correct" matcher would accept
//! names Docker does not.

/// The pattern is malformed (Go's `filepath.ErrBadPattern`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadPattern;

/// Whether `name` matches `pattern` as a whole, with Go's `filepath.Match` rules.
pub(crate) fn go_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let mut pattern = pattern.as_bytes();
    let mut name = name.as_bytes();
    'chunks: while !pattern.is_empty() {
        let (star, chunk, rest) = next_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing star takes the rest of the name, unless it crosses a separator.
            return Ok(!name.contains(&b'/'));
        }
        // The chunk at the current position; the last chunk must also use up the name.
        if let Some(after) = match_chunk(chunk, name)? {
            if after.is_empty() || !pattern.is_empty() {
                name = after;
                continue;
            }
        }
        if star {
            // Let the star take 1, 2, ... more bytes, never a separator.
            let mut skip = 0;
            while skip < name.len() && name[skip] != b'/' {
                if let Some(after) = match_chunk(chunk, &name[skip + 1..])? {
                    // The last chunk must use up the name.
                    if !pattern.is_empty() || after.is_empty() {
                        name = after;
                        continue 'chunks;
                    }
                }
                skip += 1;
            }
        }
        // No match; still report a malformed remainder of the pattern.
        while !pattern.is_empty() {
            let (_, chunk, rest) = next_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Whether a pattern must be valid: `filepath.Match(pattern, ".")` without an error. Docker
/// runs exactly this check on every `.dockerignore` pattern.
pub(crate) fn validate(pattern: &str) -> Result<(), BadPattern> {
    go_match(pattern, ".").map(|_| ())
}

/// Splits off the leading stars (`star` is whether there were any) and the chunk up to the next
/// star outside a class.
fn next_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let stars = pattern.iter().take_while(|&&b| b == b'*').count();
    let pattern = &pattern[stars..];
    let mut in_class = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            // The escaped byte is skipped; a dangling `\` is reported by match_chunk.
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'*' if !in_class => break,
            _ => {}
        }
        i += 1;
    }
    (stars > 0, &pattern[..i], &pattern[i..])
}

/// Matches a star-free chunk against the start of `name`: `Some(rest of name)` on a match.
/// After the first mismatch it goes on reading the chunk only to report a malformed pattern.
fn match_chunk<'n>(mut chunk: &[u8], mut name: &'n [u8]) -> Result<Option<&'n [u8]>, BadPattern> {
    let mut failed = false;
    while let Some(&first) = chunk.first() {
        if name.is_empty() {
            failed = true;
        }
        match first {
            b'[' => {
                // Go reads the rune before parsing the class; a failed match reads rune 0.
                let mut c = '\0';
                if !failed {
                    let (decoded, width) = decode_char(name);
                    c = decoded;
                    name = &name[width..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut in_class = false;
                let mut ranges = 0;
                loop {
                    if chunk.first() == Some(&b']') && ranges > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = class_char(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk.first() == Some(&b'-') {
                        let (h, rest) = class_char(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= c && c <= hi {
                        in_class = true;
                    }
                    ranges += 1;
                }
                if in_class == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if name[0] == b'/' {
                        failed = true;
                    }
                    let (_, width) = decode_char(name);
                    name = &name[width..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                let literal = if first == b'\\' {
                    chunk = &chunk[1..];
                    *chunk.first().ok_or(BadPattern)?
                } else {
                    first
                };
                if !failed {
                    if name[0] != literal {
                        failed = true;
                    }
                    name = &name[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    Ok(if failed { None } else { Some(name) })
}

/// One character of a class (`\` escapes), which must be followed by more of the class.
fn class_char(chunk: &[u8]) -> Result<(char, &[u8]), BadPattern> {
    let chunk = match chunk.first() {
        None | Some(b'-') | Some(b']') => return Err(BadPattern),
        Some(b'\\') => &chunk[1..],
        Some(_) => chunk,
    };
    let (c, width) = decode_char(chunk);
    if width <= 1 && c == char::REPLACEMENT_CHARACTER {
        return Err(BadPattern); // empty, or not UTF-8
    }
    let rest = &chunk[width..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((c, rest))
}

/// Go's `utf8.DecodeRune`: the first character and its width; U+FFFD with width 1 for a byte
/// that does not start valid UTF-8, width 0 for empty input.
fn decode_char(bytes: &[u8]) -> (char, usize) {
    let width = match bytes.first() {
        None => return (char::REPLACEMENT_CHARACTER, 0),
        Some(&b) if b < 0x80 => return (char::from(b), 1),
        Some(&b) if b >= 0xF0 => 4,
        Some(&b) if b >= 0xE0 => 3,
        Some(_) => 2,
    };
    bytes
        .get(..width)
        .and_then(|prefix| std::str::from_utf8(prefix).ok())
        .and_then(|s| s.chars().next())
        .map_or((char::REPLACEMENT_CHARACTER, 1), |c| (c, width))
}

/// Whether a path component holds a glob character (`*`, `?`, `[`) that is not escaped:
/// BuildKit's test for "this source is a wildcard".
pub(crate) fn has_wildcard(component: &str) -> bool {
    let bytes = component.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'*' | b'?' | b'[' => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Splits a cleaned relative source at its first component with a wildcard: the literal
/// directory before it and the glob from there on (empty when there is no wildcard).
pub(crate) fn split_at_wildcard(source: &str) -> (&str, &str) {
    if source.is_empty() {
        return ("", "");
    }
    let mut offset = 0;
    for component in source.split('/') {
        if has_wildcard(component) {
            let literal = source[..offset].trim_end_matches('/');
            return (literal, &source[offset..]);
        }
        offset += component.len() + 1;
    }
    (source, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's own `filepath.Match` table (path/filepath/match_test.go), Unix cases.
    #[test]
    fn go_match_table() {
        let bad = Err(BadPattern);
        let cases: &[(&str, &str, Result<bool, BadPattern>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*/b", "a/c/b", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Ok(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[e-g]", "abc", Ok(false)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abc", Ok(false)),
            ("ab[^e-g]", "abc", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a☺b", Ok(true)),
            ("a[^a]b", "a☺b", Ok(true)),
            ("a???b", "a☺b", Ok(false)),
            ("a[^a][^a][^a]b", "a☺b", Ok(false)),
            ("[a-ζ]*", "α", Ok(true)),
            ("*[a-ζ]", "A", Ok(false)),
            ("a?b", "a/b", Ok(false)),
            ("a*b", "a/b", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[\\-]", "-", Ok(true)),
            ("[x\\-]", "x", Ok(true)),
            ("[x\\-]", "-", Ok(true)),
            ("[x\\-]", "z", Ok(false)),
            ("[\\-x]", "x", Ok(true)),
            ("[\\-x]", "-", Ok(true)),
            ("[\\-x]", "a", Ok(false)),
            ("[]a]", "]", bad),
            ("[-]", "-", bad),
            ("[x-]", "x", bad),
            ("[x-]", "-", bad),
            ("[x-]", "z", bad),
            ("[-x]", "x", bad),
            ("[-x]", "-", bad),
            ("[-x]", "a", bad),
            ("\\", "a", bad),
            ("[a-b-c]", "a", bad),
            ("[", "a", bad),
            ("[^", "a", bad),
            ("[^bc", "a", bad),
            ("a[", "a", bad),
            ("a[", "ab", bad),
            ("a[", "x", bad),
            ("a/b[", "x", bad),
            ("*x", "xxx", Ok(true)),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(
                go_match(pattern, name),
                *want,
                "Match({pattern:?}, {name:?})"
            );
        }
    }

    #[test]
    fn a_class_can_match_a_separator() {
        // Go's classes do not exclude '/': the glob walk must look deeper than the component
        // count for such patterns.
        assert_eq!(go_match("a[^x]b", "a/b"), Ok(true));
    }

    #[test]
    fn wildcard_detection_and_split() {
        assert!(has_wildcard("*.go"));
        assert!(has_wildcard("a?"));
        assert!(has_wildcard("[ab]"));
        assert!(!has_wildcard("a\\*b"));
        assert!(!has_wildcard("plain"));
        assert_eq!(split_at_wildcard("src/*/x.go"), ("src", "*/x.go"));
        assert_eq!(split_at_wildcard("*.txt"), ("", "*.txt"));
        assert_eq!(split_at_wildcard("a/b/c"), ("a/b/c", ""));
        assert_eq!(split_at_wildcard("a/b?/c*"), ("a", "b?/c*"));
        assert_eq!(split_at_wildcard(""), ("", ""));
    }
}
