//! Heredocs (`<<EOF`): finding them on an instruction line, and their names and options.
//!
//! BuildKit finds heredocs by running its shell lexer over the whole line (with quotes, escapes
//! and unset variables kept as written) and matching each word against `^(\d*)<<(-?)([^<]*)$`.
//! The lexer here is a minimal copy of that behaviour for an empty environment: it is only used
//! to split words, never to expand them, so it stays separate from the `shell` module.

use std::iter::Peekable;
use std::str::Chars;

use super::node::Heredoc;
use crate::error::Error;

/// BuildKit's `ParseHeredoc`: the heredoc a single word opens, if any.
///
/// `Ok(None)` when the word is no heredoc (`EOF`, `<<`, `<<EOF sh`); an error when its name has
/// an unterminated quote (`<<'EOF`).
pub fn parse_heredoc(word: &str) -> Result<Option<Heredoc>, Error> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let Some(after) = word[digits..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, rest) = match after.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, after),
    };
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    let fail = |e: String| Error::syntax(format!("failed to process {rest:?}: {e}"), None);
    let words = lex_words(rest, false, false).map_err(fail)?;
    if words.len() != 1 {
        return Ok(None);
    }
    let raw = lex_words(rest, true, false).map_err(fail)?;
    if raw.len() != words.len() {
        return Err(Error::syntax(
            format!("internal lexing of heredoc produced inconsistent results: {rest}"),
            None,
        ));
    }
    // A quote that the lexer removed shows as a difference in the number of quote characters;
    // escaped quotes stay in both and cancel out.
    let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
    let expand = quotes(&words[0]) == quotes(&raw[0]);
    // Go parses the digits as an unsigned integer and ignores overflow errors.
    let file_descriptor =
        word[..digits]
            .parse::<u32>()
            .unwrap_or(if digits == 0 { 0 } else { u32::MAX });
    Ok(Some(Heredoc {
        name: words.into_iter().next().unwrap_or_default(),
        file_descriptor,
        expand,
        chomp,
        content: String::new(),
    }))
}

/// BuildKit's `heredocsFromLine`: the heredocs opened on an instruction line, in order (bodies
/// empty). A line the lexer cannot split (an unterminated quote) opens none.
pub fn heredocs_from_line(line: &str) -> Result<Vec<Heredoc>, Error> {
    let words = lex_words(line, true, true).unwrap_or_default();
    let mut docs = Vec::new();
    for word in &words {
        if let Some(doc) = parse_heredoc(word)? {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// BuildKit's `ChompHeredocContent`: leading tabs removed from every line (for `<<-`).
pub fn chomp_heredoc_content(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    for piece in src.split_inclusive('\n') {
        out.push_str(piece.trim_start_matches('\t'));
    }
    out
}

/// Word splitting as BuildKit's `Lex.ProcessWords` with `\` as escape, an empty environment and
/// `SkipUnsetEnv` (so `$X` stays `$X`). `raw_quotes` keeps quote characters in the words,
/// `raw_escapes` keeps escape characters.
fn lex_words(src: &str, raw_quotes: bool, raw_escapes: bool) -> Result<Vec<String>, String> {
    let mut lx = Lexer {
        it: src.chars().peekable(),
        raw_quotes,
        raw_escapes,
    };
    lx.stop_on(None, raw_escapes).map(|(_, words)| words)
}

/// The words being built, as BuildKit's `wordsStruct`.
#[derive(Default)]
struct Words {
    word: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, c: char) {
        if c.is_whitespace() {
            if self.in_word && !self.word.is_empty() {
                self.words.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(c);
        }
    }

    fn add_raw_char(&mut self, c: char) {
        self.word.push(c);
        self.in_word = true;
    }

    fn add_string(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }

    fn add_raw_string(&mut self, s: &str) {
        self.word.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(self.word);
        }
        self.words
    }
}

struct Lexer<'a> {
    it: Peekable<Chars<'a>>,
    raw_quotes: bool,
    raw_escapes: bool,
}

const ESCAPE: char = '\\';

impl Lexer<'_> {
    fn peek(&mut self) -> Option<char> {
        self.it.peek().copied()
    }

    /// Read until `stop` (consumed) or the end; the text and its words.
    fn stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        let saved = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let r = self.stop_on_inner(stop);
        self.raw_escapes = saved;
        r
    }

    fn stop_on_inner(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.it.next();
                return Ok((result, words.finish()));
            }
            let special = match c {
                '$' => Some(self.dollar()?),
                '\'' => Some(self.single_quote()?),
                '"' => Some(self.double_quote()?),
                '<' => Some(self.possible_heredoc()),
                _ => None,
            };
            if let Some(tmp) = special {
                result.push_str(&tmp);
                if c == '$' {
                    words.add_string(&tmp);
                } else {
                    words.add_raw_string(&tmp);
                }
                continue;
            }
            self.it.next();
            let mut ch = c;
            if ch == ESCAPE {
                if self.raw_escapes {
                    words.add_raw_char(ch);
                    result.push(ch);
                }
                match self.it.next() {
                    Some(n) => ch = n,
                    None => break,
                }
                words.add_raw_char(ch);
            } else {
                words.add_char(ch);
            }
            result.push(ch);
        }
        if let Some(s) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {s}"
            ));
        }
        Ok((result, words.finish()))
    }

    fn single_quote(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let open = self.it.next().unwrap_or('\'');
        if self.raw_quotes {
            out.push(open);
        }
        loop {
            match self.it.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    )
                }
                Some('\'') => {
                    if self.raw_quotes {
                        out.push('\'');
                    }
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quote(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let open = self.it.next().unwrap_or('"');
        if self.raw_quotes {
            out.push(open);
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
                    self.it.next();
                    if self.raw_quotes {
                        out.push('"');
                    }
                    return Ok(out);
                }
                Some('$') => {
                    let v = self.dollar()?;
                    out.push_str(&v);
                }
                Some(mut c) => {
                    self.it.next();
                    if c == ESCAPE {
                        if self.raw_escapes {
                            out.push(c);
                        }
                        match self.peek() {
                            None => continue,
                            Some(n @ ('"' | '$' | ESCAPE)) => {
                                self.it.next();
                                c = n;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(c);
                }
            }
        }
    }

    /// `<` is special so that `<<  EOF` stays one word: the blanks after `<<` or `<<-` join it.
    fn possible_heredoc(&mut self) -> String {
        self.it.next();
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.it.next();
        let mut out = String::from("<<");
        // `<<-` (chomp) may also be followed by blanks before the name.
        if self.peek() == Some('-') {
            self.it.next();
            out.push('-');
        }
        while let Some(c @ (' ' | '\t' | '\r' | '\n')) = self.peek() {
            out.push(c);
            self.it.next();
        }
        out
    }

    /// `$...` with every variable unset and kept as written.
    fn dollar(&mut self) -> Result<String, String> {
        self.it.next();
        if self.peek() != Some('{') {
            let name = self.name();
            return Ok(format!("${name}"));
        }
        self.it.next();
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            Some(_) => {}
        }
        let name = self.name();
        let Some(ch) = self.it.next() else {
            return Err("unsupported modifier (\u{fffd}) in substitution".into());
        };
        let mut chs = ch.to_string();
        let mut modifier = ch;
        match ch {
            '}' => Ok(format!("${{{name}}}")),
            ':' | '+' | '-' | '?' | '#' | '%' => {
                if ch == ':' {
                    let next = self.it.next().unwrap_or('\u{fffd}');
                    chs.push(next);
                    modifier = next;
                }
                let raw = modifier == '#' || modifier == '%';
                let word = self.stop_on_in_braces('}', raw, "syntax error: missing '}'")?;
                Ok(format!("${{{name}{chs}{word}}}"))
            }
            '/' => {
                if self.peek() == Some('/') {
                    self.it.next();
                }
                let pat = self.stop_on_in_braces('/', true, "syntax error: missing '/' in ${}")?;
                let rep = self.stop_on_in_braces('}', true, "syntax error: missing '}'")?;
                Ok(format!("${{{name}/{pat}/{rep}}}"))
            }
            _ => Err(format!("unsupported modifier ({chs}) in substitution")),
        }
    }

    fn stop_on_in_braces(
        &mut self,
        stop: char,
        raw: bool,
        eof_msg: &str,
    ) -> Result<String, String> {
        match self.stop_on(Some(stop), raw) {
            Ok((s, _)) => Ok(s),
            Err(_) if self.peek().is_none() => Err(eof_msg.into()),
            Err(e) => Err(e),
        }
    }

    /// A variable name, a run of digits, or one special parameter character.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if name.is_empty() && c.is_numeric() {
                while let Some(d) = self.peek().filter(|d| d.is_numeric()) {
                    name.push(d);
                    self.it.next();
                }
                return name;
            }
            if name.is_empty() && matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.it.next();
                return c.to_string();
            }
            if !c.is_alphanumeric() && c != '_' {
                break;
            }
            name.push(c);
            self.it.next();
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<String> {
        heredocs_from_line(line)
            .unwrap()
            .into_iter()
            .map(|h| h.name)
            .collect()
    }

    #[test]
    fn words_keep_quotes_and_escapes() {
        assert_eq!(
            lex_words(r#"a 'b c' "d\"e""#, true, true).unwrap(),
            vec!["a", "'b c'", r#""d\"e""#]
        );
        assert_eq!(
            lex_words(r#"a 'b c' "d\"e""#, false, false).unwrap(),
            vec!["a", "b c", "d\"e"]
        );
        assert_eq!(
            lex_words("$A ${B:-x y}", true, true).unwrap(),
            vec!["$A", "${B:-x", "y}"]
        );
        assert!(lex_words("'abc", true, true).is_err());
    }

    #[test]
    fn lines() {
        assert_eq!(names("RUN <<  EOF  > foo"), vec!["EOF"]);
        assert_eq!(names("RUN cat <<EOF >/x && cat <<-'E2'"), vec!["EOF", "E2"]);
        assert_eq!(names("RUN echo 'unterminated <<EOF"), Vec::<String>::new());
        assert_eq!(names("RUN 3<<EOF"), vec!["EOF"]);
        assert_eq!(names("RUN <<<EOF"), Vec::<String>::new());
        let h = parse_heredoc("12<<-\"A\"B").unwrap().unwrap();
        assert_eq!(
            (h.name.as_str(), h.file_descriptor, h.chomp, h.expand),
            ("AB", 12, true, false)
        );
    }
}
