//! The scanner behind [`super::Lexer`]: one left-to-right pass over a word, following
//! BuildKit's `shellWord` step by step (its quirks are the contract, so they are kept and noted).

use super::pattern::{reverse_pattern, Pattern};
use super::{Env, Lexer, References};

/// What one pass produced.
pub(super) struct Output {
    /// The whole word, quotes removed and variables expanded (`ProcessWord`).
    pub value: String,
    /// The word split into fields (`ProcessWords`); empty unless asked for.
    pub words: Vec<String>,
}

/// Run the lexer over `word`. `want_words` collects fields; referenced names are added to
/// `refs` when given. The error is BuildKit's message before its `failed to process "…"`
/// wrapper.
pub(super) fn run(
    lexer: &Lexer,
    word: &str,
    env: &dyn Env,
    want_words: bool,
    refs: Option<&mut References>,
) -> Result<Output, String> {
    if is_literal(word, lexer.escape) {
        // Nothing to expand, unquote or unescape: the word is its own value, and its fields are
        // its blank-separated parts. Most words in a Dockerfile are like this.
        return Ok(Output {
            value: word.to_owned(),
            words: if want_words {
                word.split(char::is_whitespace)
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect()
            } else {
                Vec::new()
            },
        });
    }
    // Go's text/scanner silently drops a byte-order mark at the very start.
    let src = word.strip_prefix('\u{FEFF}').unwrap_or(word);
    let mut scan = Scanner {
        lexer,
        env,
        src,
        pos: 0,
        raw_escapes: lexer.raw_escapes,
        refs,
        words: want_words.then(Words::default),
    };
    let value = scan.until(None, lexer.raw_escapes)?;
    Ok(Output {
        value,
        words: scan.words.map(Words::finish).unwrap_or_default(),
    })
}

/// Whether the scanner would hand `word` back unchanged: it holds no `$`, quote or escape
/// character, no `<` (which joins `<<` to the blanks after it) and no leading byte-order mark.
fn is_literal(word: &str, escape: char) -> bool {
    let special = |b: u8| matches!(b, b'$' | b'\'' | b'"' | b'<');
    if word.starts_with('\u{FEFF}') || word.bytes().any(special) {
        return false;
    }
    match u8::try_from(escape) {
        Ok(e) if e.is_ascii() => !word.as_bytes().contains(&e),
        _ => !word.contains(escape),
    }
}

/// Field splitting as BuildKit does it: blanks produced by plain text or by `$` expansions end a
/// field, everything quoted or escaped is kept, and empty fields vanish (so `""` yields nothing).
#[derive(Default)]
struct Words {
    current: String,
    done: Vec<String>,
}

impl Words {
    fn split_char(&mut self, c: char) {
        if c.is_whitespace() {
            self.flush();
        } else {
            self.current.push(c);
        }
    }

    fn split_str(&mut self, s: &str) {
        s.chars().for_each(|c| self.split_char(c));
    }

    fn flush(&mut self) {
        if !self.current.is_empty() {
            self.done.push(std::mem::take(&mut self.current));
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.flush();
        self.done
    }
}

struct Scanner<'a> {
    lexer: &'a Lexer,
    env: &'a dyn Env,
    src: &'a str,
    pos: usize,
    /// Whether escape characters are kept: the lexer's setting, or forced on inside patterns.
    raw_escapes: bool,
    /// Where referenced names go, when they are wanted.
    refs: Option<&'a mut References>,
    /// Fields of the top-level word, when asked for.
    words: Option<Words>,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Process up to (and consuming) `stop`, or to the end of the input when `stop` is `None`
    /// (the top level, the only one whose fields are kept).
    fn until(&mut self, stop: Option<char>, raw_escapes: bool) -> Result<String, String> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        // BuildKit shares one field buffer between the top level and the words nested in
        // `${…}`, and every level clears it on entry and flushes it (into a list it then drops)
        // on exit. So a field in progress is lost when a `${V…}` with a modifier or a pattern
        // follows: `a${V:-b}c` gives the one field `bc`. Kept for fidelity.
        if let Some(w) = &mut self.words {
            w.current.clear();
        }
        let result = self.until_inner(stop);
        if stop.is_some() {
            if let Some(w) = &mut self.words {
                w.current.clear();
            }
        }
        self.raw_escapes = saved;
        result
    }

    /// The fields of this level, or `None` inside `${…}` (where they are dropped).
    fn fields(&mut self, stop: Option<char>) -> Option<&mut Words> {
        match stop {
            None => self.words.as_mut(),
            Some(_) => None,
        }
    }

    fn until_inner(&mut self, stop: Option<char>) -> Result<String, String> {
        // Only the top level is sized up front: nested words are short, and sizing each to
        // the rest of the input would cost quadratic allocation on long lines.
        let mut out = match stop {
            None => String::with_capacity(self.src.len()),
            Some(_) => String::new(),
        };
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.next();
                return Ok(out);
            }
            let start = out.len();
            match c {
                '$' => {
                    self.dollar(&mut out)?;
                    if let Some(w) = self.fields(stop) {
                        w.split_str(&out[start..]);
                    }
                }
                '<' => {
                    self.heredoc_opener(&mut out);
                    if let Some(w) = self.fields(stop) {
                        w.current.push_str(&out[start..]);
                    }
                }
                '\'' | '"' => {
                    if c == '\'' {
                        self.single_quoted(&mut out)?;
                    } else {
                        self.double_quoted(&mut out)?;
                    }
                    if let Some(w) = self.fields(stop) {
                        w.current.push_str(&out[start..]);
                    }
                }
                _ => {
                    self.next();
                    if c == self.lexer.escape {
                        if self.raw_escapes {
                            out.push(c);
                        }
                        // An escape at the very end escapes nothing and is dropped.
                        let escaped = self.next();
                        if let Some(e) = escaped {
                            out.push(e);
                        }
                        if let Some(w) = self.fields(stop) {
                            w.current.push_str(&out[start..]);
                        }
                        if escaped.is_none() {
                            break;
                        }
                    } else {
                        out.push(c);
                        if let Some(w) = self.fields(stop) {
                            w.split_char(c);
                        }
                    }
                }
            }
        }
        match stop {
            Some(s) => Err(format!(
                "unexpected end of statement while looking for matching {s}"
            )),
            None => Ok(out),
        }
    }

    /// `<`, or `<<` (also `<<-`) with the blanks after it, kept in the field as written: this is
    /// what makes `<<  EOF` one word, so BuildKit finds the heredoc it opens. The text itself is
    /// unchanged.
    fn heredoc_opener(&mut self, out: &mut String) {
        self.next();
        out.push('<');
        if self.peek() != Some('<') {
            return;
        }
        self.next();
        out.push('<');
        if self.peek() == Some('-') {
            self.next();
            out.push('-');
        }
        while let Some(c @ (' ' | '\t' | '\r' | '\n')) = self.peek() {
            self.next();
            out.push(c);
        }
    }

    /// `'…'`: everything literal up to the next `'`; nothing escapes inside.
    fn single_quoted(&mut self, out: &mut String) -> Result<(), String> {
        self.next();
        if self.lexer.raw_quotes {
            out.push('\'');
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    )
                }
                Some('\'') => {
                    if self.lexer.raw_quotes {
                        out.push('\'');
                    }
                    return Ok(());
                }
                Some(c) => out.push(c),
            }
        }
    }

    /// `"…"`: `$` expands; the escape character escapes only `"`, `$` and itself, and is kept
    /// literally before anything else.
    fn double_quoted(&mut self, out: &mut String) -> Result<(), String> {
        self.next();
        if self.lexer.raw_quotes {
            out.push('"');
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
                Some('"') => {
                    self.next();
                    if self.lexer.raw_quotes {
                        out.push('"');
                    }
                    return Ok(());
                }
                Some('$') => self.dollar(out)?,
                Some(mut c) => {
                    self.next();
                    let escape = self.lexer.escape;
                    if c == escape {
                        if self.raw_escapes {
                            // BuildKit then writes the escape once more when it escapes nothing.
                            out.push(c);
                        }
                        match self.peek() {
                            // The unterminated quote is reported on the next turn.
                            None => continue,
                            Some(e) if e == '"' || e == '$' || e == escape => {
                                self.next();
                                c = e;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(c);
                }
            }
        }
    }

    /// Look a variable up, noting whether it was set.
    fn lookup(&mut self, name: &str) -> Option<&'a str> {
        let value = self.env.lookup(name);
        if let Some(refs) = self.refs.as_deref_mut() {
            let set = if value.is_some() {
                &mut refs.matched
            } else {
                &mut refs.unmatched
            };
            if !set.contains(name) {
                set.insert(name.to_owned());
            }
        }
        value
    }

    /// A name after `$`: a run of digits (positional), one special parameter character, or
    /// letters, digits and `_`. Empty when none of these follows.
    fn name(&mut self) -> &'a str {
        let start = self.pos;
        let src = self.src;
        match self.peek() {
            Some(c) if is_digit(c) => {
                while self.peek().is_some_and(is_digit) {
                    self.next();
                }
            }
            Some('@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') => {
                self.next();
            }
            _ => {
                while self
                    .peek()
                    .is_some_and(|c| c == '_' || c.is_alphabetic() || is_digit(c))
                {
                    self.next();
                }
            }
        }
        &src[start..self.pos]
    }

    /// `$…`, with the scanner on the `$`; the expansion is appended to `out`.
    fn dollar(&mut self, out: &mut String) -> Result<(), String> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                out.push('$');
                return Ok(());
            }
            match self.lookup(name) {
                Some(value) => out.push_str(value),
                None if self.lexer.skip_unset_env => {
                    out.push('$');
                    out.push_str(name);
                }
                None => {}
            }
            return Ok(());
        }
        self.next();
        match self.peek() {
            None => return Err(MISSING_BRACE.into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            Some(_) => {}
        }
        let name = self.name();
        let modifier = self.next();
        match modifier {
            Some('}') => {
                match self.lookup(name) {
                    Some(value) => out.push_str(value),
                    None if self.lexer.skip_unset_env => {
                        out.push_str("${");
                        out.push_str(name);
                        out.push('}');
                    }
                    None => {}
                }
                Ok(())
            }
            Some(':' | '+' | '-' | '?' | '#' | '%') => self.modifier(name, modifier, out),
            Some('/') => self.substitute(name, out),
            _ => Err(unsupported(&modifier_text(&[modifier]))),
        }
    }

    /// `${V:-w}`, `${V-w}`, `${V:+w}`, `${V+w}`, `${V:?w}`, `${V?w}`, `${V#p}`, `${V%p}`,
    /// with the scanner past the first modifier character `first`.
    fn modifier(
        &mut self,
        name: &str,
        first: Option<char>,
        out: &mut String,
    ) -> Result<(), String> {
        let null_is_unset = first == Some(':');
        // After `:` any character is taken (`${V:=w}` fails only once `w` is read).
        let op = if null_is_unset { self.next() } else { first };
        let chs = if null_is_unset {
            modifier_text(&[first, op])
        } else {
            modifier_text(&[op])
        };
        // Patterns keep their escapes, so `\*` reaches the pattern as an escaped star.
        let raw = matches!(op, Some('#' | '%'));
        if null_is_unset && raw {
            return Err(unsupported(&chs));
        }
        let word = self.nested('}', raw, MISSING_BRACE)?;
        let value = self.lookup(name);
        if self.lexer.skip_unset_env && value.is_none() {
            out.push_str("${");
            out.push_str(name);
            out.push_str(&chs);
            out.push_str(&word);
            out.push('}');
            return Ok(());
        }
        let empty = value.is_none() || (null_is_unset && value == Some(""));
        match op {
            Some('-') => out.push_str(if empty { &word } else { value.unwrap_or("") }),
            Some('+') => {
                if !empty {
                    out.push_str(&word);
                }
            }
            Some('?') => {
                let Some(value) = value.filter(|v| !(null_is_unset && v.is_empty())) else {
                    let message = match (word.is_empty(), value.is_none()) {
                        (false, _) => word.as_str(),
                        (true, true) => "is not allowed to be unset",
                        (true, false) => "is not allowed to be empty",
                    };
                    return Err(format!("{name}: {message}"));
                };
                out.push_str(value);
            }
            Some(op @ ('#' | '%')) => {
                // A doubled `##` / `%%` asks for the longest match.
                let (pattern, greedy) = match word.strip_prefix(op) {
                    Some(p) => (p, true),
                    None => (word.as_str(), false),
                };
                let value = value.unwrap_or("");
                if op == '#' {
                    out.push_str(compile(pattern, greedy)?.trim_prefix(value));
                } else {
                    // A suffix is a prefix of the reversed text, matched by the reversed
                    // pattern (BuildKit's errors then quote the reversed pattern too).
                    let reversed: String = value.chars().rev().collect();
                    let kept = compile(&reverse_pattern(pattern), greedy)?
                        .trim_prefix(&reversed)
                        .len();
                    out.push_str(&value[..kept]);
                }
            }
            _ => return Err(unsupported(&chs)),
        }
        Ok(())
    }

    /// `${V/p/r}` and `${V//p/r}`, with the scanner past the first `/`.
    fn substitute(&mut self, name: &str, out: &mut String) -> Result<(), String> {
        let all = self.peek() == Some('/');
        if all {
            self.next();
        }
        let pattern = self.nested('/', true, "syntax error: missing '/' in ${}")?;
        let replacement = self.nested('}', true, MISSING_BRACE)?;
        let Some(value) = self.lookup(name) else {
            if self.lexer.skip_unset_env {
                // BuildKit writes one `/` back even for `//`.
                out.push_str("${");
                out.push_str(name);
                out.push('/');
                out.push_str(&pattern);
                out.push('/');
                out.push_str(&replacement);
                out.push('}');
            }
            return Ok(());
        };
        out.push_str(&compile(&pattern, true)?.replace(value, &replacement, all));
        Ok(())
    }

    /// A word nested in `${…}` up to `stop`; failing at the end of input means `at_end`.
    fn nested(&mut self, stop: char, raw: bool, at_end: &str) -> Result<String, String> {
        self.until(Some(stop), raw).map_err(|e| {
            if self.peek().is_none() {
                at_end.to_owned()
            } else {
                e
            }
        })
    }
}

const MISSING_BRACE: &str = "syntax error: missing '}'";

fn compile(pattern: &str, greedy: bool) -> Result<Pattern, String> {
    Pattern::compile(pattern, greedy)
        .map_err(|e| format!("invalid pattern ({pattern}) in substitution: {e}"))
}

fn unsupported(chs: &str) -> String {
    format!("unsupported modifier ({chs}) in substitution")
}

/// The modifier characters as BuildKit prints them; the end of input prints as U+FFFD.
fn modifier_text(chars: &[Option<char>]) -> String {
    chars
        .iter()
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Go's `unicode.IsDigit` (decimal digits of any script), approximated by std's `is_numeric`
/// outside ASCII.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
}
