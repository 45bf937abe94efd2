//! The shell patterns of `${V#p}`, `${V%p}` and `${V/p/r}`, matched as BuildKit matches them.
//!
//! BuildKit turns the pattern into a Go regular expression and lets RE2 pick the match, so we
//! reproduce what that regex would pick, not what a POSIX shell would:
//! - only `*`, `?` and the escapes `\*`, `\?`, `\\` are special; `[` is a literal (no bracket
//!   expressions), and any other escape (`\x`, a trailing `\`) is an error;
//! - `\}` and `\/` drop the backslash (they only keep `}` and `/` from ending the `${}`);
//! - `*` and `?` are regex `.`, so they never match a newline;
//! - among the matches at the leftmost start, the one RE2's leftmost-first rule prefers wins
//!   (greedy stars as long as possible, lazy ones as short as possible, earlier stars first).
//!
//! No regex is compiled: a pattern is a token list, matched with a small dynamic programme over
//! the text (one pass per token, so time is tokens × text length, never exponential).

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `*`: any run of characters other than a newline.
    Star,
    /// `?`: one character other than a newline.
    Any,
    /// One literal character.
    Char(char),
}

/// A compiled shell pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
    /// Whether `*` prefers the longest run (`##`, `%%`, `/`) or the shortest (`#`, `%`).
    greedy: bool,
}

impl Pattern {
    /// Compile `text`; the error is BuildKit's (e.g. `invalid escape '\x'`).
    pub(crate) fn compile(text: &str, greedy: bool) -> Result<Pattern, String> {
        // BuildKit reads the pattern with Go's text/scanner, which drops a leading byte-order mark.
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let mut tokens = Vec::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            let token = match c {
                '*' => Token::Star,
                '?' => Token::Any,
                '\\' => {
                    if matches!(chars.peek(), Some('}' | '/')) {
                        continue;
                    }
                    match chars.next() {
                        Some(e @ ('*' | '?' | '\\')) => Token::Char(e),
                        other => {
                            return Err(format!(
                                "invalid escape '\\{}'",
                                other.unwrap_or(char::REPLACEMENT_CHARACTER)
                            ))
                        }
                    }
                }
                c => Token::Char(c),
            };
            // Two stars in a row pick the same end as one, whatever their greediness.
            if !(token == Token::Star && tokens.last() == Some(&Token::Star)) {
                tokens.push(token);
            }
        }
        Ok(Pattern { tokens, greedy })
    }

    /// For every character boundary `start` of `text`, where the preferred match beginning
    /// exactly at `start` ends (`None` when nothing matches there). Index = byte offset.
    fn ends_from(&self, text: &str) -> Vec<Option<usize>> {
        let n = text.len();
        // Row for "all tokens consumed": the match ends where it is.
        let mut next: Vec<Option<usize>> = (0..=n).map(Some).collect();
        let mut row: Vec<Option<usize>> = vec![None; n + 1];
        for token in self.tokens.iter().rev() {
            row[n] = match token {
                Token::Star => next[n],
                _ => None,
            };
            for (pos, c) in text.char_indices().rev() {
                let after = pos + c.len_utf8();
                row[pos] = match *token {
                    Token::Char(want) if c == want => next[after],
                    Token::Any if c != '\n' => next[after],
                    Token::Char(_) | Token::Any => None,
                    // A star cannot cross a newline: its candidates are `pos` alone.
                    Token::Star if c == '\n' => next[pos],
                    // Candidates are `pos` and those of `after`; greedy prefers the later ones.
                    Token::Star if self.greedy => row[after].or(next[pos]),
                    Token::Star => next[pos].or(row[after]),
                };
            }
            std::mem::swap(&mut next, &mut row);
        }
        next
    }

    /// Remove the preferred match anchored at the start of `value` (`${V#p}`, `${V##p}`).
    pub(crate) fn trim_prefix<'v>(&self, value: &'v str) -> &'v str {
        match self.ends_from(value)[0] {
            Some(end) => &value[end..],
            None => value,
        }
    }

    /// Replace the leftmost match (`${V/p/r}`), or every match (`${V//p/r}`) as Go's
    /// `Regexp.ReplaceAllString` does, `$0`/`$$` expansion of `replacement` included.
    pub(crate) fn replace(&self, value: &str, replacement: &str, all: bool) -> String {
        let ends = self.ends_from(value);
        let find = |from: usize| {
            (from..=value.len())
                .filter(|&p| value.is_char_boundary(p))
                .find_map(|p| ends[p].map(|e| (p, e)))
        };
        let mut out = String::with_capacity(value.len() + replacement.len());
        if !all {
            match find(0) {
                Some((start, end)) => {
                    out.push_str(&value[..start]);
                    out.push_str(replacement);
                    out.push_str(&value[end..]);
                }
                None => out.push_str(value),
            }
            return out;
        }
        let (mut last_end, mut search) = (0, 0);
        while search <= value.len() {
            let Some((start, end)) = find(search) else {
                break;
            };
            out.push_str(&value[last_end..start]);
            // An empty match right after the previous match is not replaced again.
            if end > last_end || start == 0 {
                expand_template(replacement, &value[start..end], &mut out);
            }
            last_end = end;
            // Move on past the match, and by at least one character.
            let width = value[search..].chars().next().map_or(0, char::len_utf8);
            search = if search + width > end {
                search + width
            } else if search + 1 > end {
                search + 1
            } else {
                end
            };
        }
        out.push_str(&value[last_end..]);
        out
    }
}

/// Reverse a pattern for a suffix match, keeping each `\x` escape pair in order, as BuildKit
/// does (so `a\*c` becomes `c\*a`, and a trailing lone `\` ends up first).
pub(crate) fn reverse_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    // Pairing is decided from the front; the units are then emitted back to front.
    let mut units: Vec<&[char]> = Vec::with_capacity(chars.len());
    let mut rest = chars.as_slice();
    while !rest.is_empty() {
        let len = if rest[0] == '\\' && rest.len() > 1 {
            2
        } else {
            1
        };
        let (unit, tail) = rest.split_at(len);
        units.push(unit);
        rest = tail;
    }
    units.iter().rev().flat_map(|u| u.iter()).collect()
}

/// Go's `Regexp.Expand` for a regex without capture groups: `$0`/`${0}` is the match, `$$` a
/// dollar, any other well-formed `$name` nothing, and a malformed `$` itself.
fn expand_template(template: &str, matched: &str, out: &mut String) {
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        match template_name(rest) {
            Some((name, after)) => {
                if name == "0" {
                    out.push_str(matched);
                }
                rest = after;
            }
            None => out.push('$'),
        }
    }
    out.push_str(rest);
}

/// The name after a `$` in a Go replacement template (`name` or `{name}`), and what follows.
fn template_name(s: &str) -> Option<(&str, &str)> {
    let (body, braced) = match s.strip_prefix('{') {
        Some(b) => (b, true),
        None => (s, false),
    };
    let len = body
        .char_indices()
        .find(|&(_, c)| !(c == '_' || c.is_alphabetic() || c.is_numeric()))
        .map_or(body.len(), |(i, _)| i);
    if len == 0 {
        return None;
    }
    let (name, after) = body.split_at(len);
    if braced {
        after.strip_prefix('}').map(|a| (name, a))
    } else {
        Some((name, after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trim(p: &str, greedy: bool, v: &str) -> String {
        Pattern::compile(p, greedy)
            .unwrap()
            .trim_prefix(v)
            .to_string()
    }

    #[test]
    fn compile_errors_match_buildkit() {
        assert_eq!(
            Pattern::compile("\\x", true).unwrap_err(),
            "invalid escape '\\x'"
        );
        assert_eq!(
            Pattern::compile("\\", true).unwrap_err(),
            "invalid escape '\\\u{FFFD}'"
        );
        assert!(Pattern::compile("\\\\\\", true).is_err());
        assert!(Pattern::compile("(()[]{\\}^$.\\*\\?|\\\\", true).is_ok());
    }

    #[test]
    fn reverse_keeps_escape_pairs() {
        assert_eq!(reverse_pattern("a\\*c"), "c\\*a");
        assert_eq!(reverse_pattern("\\\\\\ab"), "b\\a\\\\");
        assert_eq!(reverse_pattern("ab\\"), "\\ba");
        assert_eq!(reverse_pattern("👽\\🚀🖖"), "🖖\\🚀👽");
        assert_eq!(reverse_pattern("\\\\b"), "b\\\\");
    }

    #[test]
    fn greedy_and_lazy_prefixes() {
        assert_eq!(trim("*x*y", false, "xxyy"), "y");
        assert_eq!(trim("*x*y", true, "xxyy"), "");
        assert_eq!(trim("*", false, "xxyy"), "xxyy");
        assert_eq!(trim("*", true, "xxyy"), "");
        assert_eq!(trim("*x", true, "xxyy"), "yy");
        assert_eq!(trim("?\\?", false, "???y"), "?y");
        assert_eq!(trim("[a]", false, "[a]b"), "b");
    }

    #[test]
    fn stars_and_questions_stop_at_newlines() {
        assert_eq!(trim("*", true, "ab\ncd"), "\ncd");
        assert_eq!(trim("a?c", true, "a\nc"), "a\nc");
        assert_eq!(trim("a\nc", true, "a\ncd"), "d");
    }

    #[test]
    fn replace_all_follows_go_empty_match_rules() {
        let star = Pattern::compile("*", true).unwrap();
        assert_eq!(star.replace("abc", "X", true), "X");
        assert_eq!(star.replace("", "X", true), "X");
        let empty = Pattern::compile("", true).unwrap();
        assert_eq!(empty.replace("ab", "-", true), "-a-b-");
        assert_eq!(empty.replace("ab", "-", false), "-ab");
        let a = Pattern::compile("a", true).unwrap();
        assert_eq!(a.replace("banana", "<$0>", true), "b<a>n<a>n<a>");
        assert_eq!(a.replace("banana", "$$1${x}$", true), "b$1$n$1$n$1$");
        assert_eq!(a.replace("banana", "$0", false), "b$0nana");
    }
}
