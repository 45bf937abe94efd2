//! Per-instruction argument shapes: BuildKit's dispatch table and its line parsers
//! (`parseMaybeJSON`, `parseNameVal`, `parseWords`, `parseHealthConfig`, ...).

use std::ops::Range;
use std::str::CharIndices;

use super::json::{parse_json_array, JsonError};
use super::node::{Arg, Node};
use super::split::{is_space_byte, is_token_space, split_command};
use crate::error::Error;
use crate::goquote::quote;
use crate::span::Span;

/// How BuildKit's parser shapes an instruction's arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// ADD, COPY, VOLUME: JSON array or whitespace-separated words.
    MaybeJsonToList,
    /// ARG: raw words.
    NameOrNameVal,
    /// RUN, CMD, ENTRYPOINT, SHELL: JSON array or one shell string.
    MaybeJson,
    /// ENV, LABEL: key/value/marker triples.
    NameVal(&'static str),
    /// FROM, EXPOSE: whitespace-separated words.
    Words,
    /// HEALTHCHECK: type, then as `MaybeJson`.
    Health,
    /// MAINTAINER, STOPSIGNAL, USER, WORKDIR: the rest as one string.
    Single,
    /// ONBUILD: a nested instruction.
    SubCommand,
}

fn shape(keyword: &str) -> Option<Shape> {
    Some(match keyword {
        "add" | "copy" | "volume" => Shape::MaybeJsonToList,
        "arg" => Shape::NameOrNameVal,
        "cmd" | "entrypoint" | "run" | "shell" => Shape::MaybeJson,
        "env" => Shape::NameVal("ENV"),
        "label" => Shape::NameVal("LABEL"),
        "expose" | "from" => Shape::Words,
        "healthcheck" => Shape::Health,
        "maintainer" | "stopsignal" | "user" | "workdir" => Shape::Single,
        "onbuild" => Shape::SubCommand,
        _ => return None,
    })
}

/// Whether BuildKit's parser knows `keyword` (lower-case); others are kept, with their words,
/// for the instruction layer to reject.
pub(crate) fn is_dispatched(keyword: &str) -> bool {
    shape(keyword).is_some()
}

/// A node from one logical line (BuildKit's `newNodeFromLine`), which becomes the node's
/// `original`; `span` is where errors point.
pub(crate) fn node_from_line(
    line: String,
    escape: char,
    prev_comment: Vec<String>,
    span: Span,
) -> Result<Node, Error> {
    let (keyword, flags, rest) = split_command(&line);
    let (args, json) = match shape(&keyword) {
        Some(s) => shape_args(s, &rest, escape, span)?,
        None => (words_of(&rest), false),
    };
    drop(rest);
    Ok(Node {
        keyword,
        flags,
        args,
        json,
        heredocs: Vec::new(),
        original: line,
        prev_comment,
        span,
    })
}

fn shape_args(s: Shape, rest: &str, escape: char, span: Span) -> Result<(Vec<Arg>, bool), Error> {
    let fail = |msg: String| Error::syntax(msg, Some(span));
    Ok(match s {
        Shape::MaybeJsonToList => match parse_json_array(rest) {
            Ok(v) => (words(v), true),
            Err(JsonError::NotStringArray) => {
                return Err(fail(JsonError::NotStringArray.to_string()))
            }
            Err(_) => (words_of(rest), false),
        },
        Shape::MaybeJson => maybe_json(rest).map_err(fail)?,
        Shape::NameOrNameVal => (
            WordSpans::new(rest, escape)
                .map(|r| Arg::Word(rest[r].to_owned()))
                .collect(),
            false,
        ),
        Shape::NameVal(key) => (name_val(rest, key, escape).map_err(fail)?, false),
        Shape::Words => (words_of(rest), false),
        Shape::Single if rest.is_empty() => (Vec::new(), false),
        Shape::Single => (vec![Arg::Word(rest.to_string())], false),
        Shape::Health => health(rest).map_err(fail)?,
        Shape::SubCommand if rest.is_empty() => (Vec::new(), false),
        Shape::SubCommand => {
            let child = node_from_line(rest.to_owned(), escape, Vec::new(), span)?;
            (vec![Arg::Nested(Box::new(child))], false)
        }
    })
}

fn words(v: Vec<String>) -> Vec<Arg> {
    v.into_iter().map(Arg::Word).collect()
}

/// BuildKit's `parseStringsWhitespaceDelimited` (the rest is already trimmed).
fn words_of(rest: &str) -> Vec<Arg> {
    rest.split(is_token_space)
        .filter(|w| !w.is_empty())
        .map(|w| Arg::Word(w.to_string()))
        .collect()
}

/// BuildKit's `parseMaybeJSON`: the JSON elements, or the whole rest as one shell string.
fn maybe_json(rest: &str) -> Result<(Vec<Arg>, bool), String> {
    if rest.is_empty() {
        return Ok((Vec::new(), false));
    }
    match parse_json_array(rest) {
        Ok(v) => Ok((words(v), true)),
        Err(JsonError::NotStringArray) => Err(JsonError::NotStringArray.to_string()),
        Err(_) => Ok((vec![Arg::Word(rest.to_string())], false)),
    }
}

/// BuildKit's `parseHealthConfig`: the first word (`CMD`, `NONE`, ...), then as `parseMaybeJSON`.
fn health(rest: &str) -> Result<(Vec<Arg>, bool), String> {
    let b = rest.as_bytes();
    let sep = b.iter().position(|&c| is_space_byte(c)).unwrap_or(b.len());
    if sep == 0 {
        return Ok((Vec::new(), false));
    }
    let next = sep + b[sep..].iter().take_while(|&&c| is_space_byte(c)).count();
    let typ = String::from_utf8_lossy(&b[..sep]).into_owned();
    let cmd = String::from_utf8_lossy(&b[next..]);
    let (mut args, json) = maybe_json(&cmd)?;
    args.insert(0, Arg::Word(typ));
    Ok((args, json))
}

/// BuildKit's `parseNameVal` for ENV and LABEL: `K v` (legacy) or `k=v ...`, values raw.
fn name_val(rest: &str, key: &str, escape: char) -> Result<Vec<Arg>, String> {
    let mut ws = WordSpans::new(rest, escape).map(|r| &rest[r]).peekable();
    let Some(first) = ws.peek() else {
        return Ok(Vec::new());
    };
    if !first.contains('=') {
        let Some(i) = rest.find(is_token_space) else {
            return Err(format!("{key} must have two arguments"));
        };
        let value = rest[i..].trim_start_matches(is_token_space);
        return Ok(vec![
            Arg::Word(rest[..i].to_string()),
            Arg::Word(value.to_string()),
            Arg::Word(String::new()),
        ]);
    }
    // Room for two pairs, the usual case, without regrowing.
    let mut out = Vec::with_capacity(6);
    for w in ws {
        let Some((k, v)) = w.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                quote(w)
            ));
        };
        out.push(Arg::Word(k.to_string()));
        out.push(Arg::Word(v.to_string()));
        out.push(Arg::Word("=".to_string()));
    }
    Ok(out)
}

/// BuildKit's `parseWords`: blank-separated words, quotes and escapes kept as written (they are
/// removed later, by variable expansion).
pub fn parse_words(rest: &str, escape: char) -> Vec<String> {
    WordSpans::new(rest, escape)
        .map(|r| rest[r].to_owned())
        .collect()
}

/// Where [`parse_words`]' words lie in `rest`, in order. BuildKit builds each word character by
/// character, but as it keeps every character it reads (quotes, escapes and what they escape), a
/// word is always one run of the text: only an escape character at the very end is left out.
struct WordSpans<'a> {
    it: CharIndices<'a>,
    escape: char,
    phase: Phase,
    quote: char,
}

#[derive(PartialEq)]
enum Phase {
    Spaces,
    Word,
    Quote,
}

impl<'a> WordSpans<'a> {
    fn new(rest: &'a str, escape: char) -> WordSpans<'a> {
        WordSpans {
            it: rest.char_indices(),
            escape,
            phase: Phase::Spaces,
            quote: '\0',
        }
    }
}

impl Iterator for WordSpans<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        // The word so far is `start..end`; it is empty until a character is kept.
        let (mut start, mut end) = (0, 0);
        loop {
            let Some((at, ch)) = self.it.next() else {
                let last = self.phase != Phase::Spaces && end > start;
                self.phase = Phase::Spaces;
                return last.then_some(start..end);
            };
            if self.phase == Phase::Spaces {
                if ch.is_whitespace() {
                    continue;
                }
                self.phase = Phase::Word;
                (start, end) = (at, at);
            }
            let in_word = self.phase == Phase::Word;
            if in_word {
                if ch.is_whitespace() {
                    self.phase = Phase::Spaces;
                    if end > start {
                        return Some(start..end);
                    }
                    continue;
                }
                if ch == '\'' || ch == '"' {
                    self.quote = ch;
                    self.phase = Phase::Quote;
                }
            } else if ch == self.quote {
                // Inside quotes: the closing quote.
                self.phase = Phase::Word;
            }
            // The escape works everywhere but in single quotes, and stays with the next
            // character; at the very end it is dropped.
            if ch == self.escape && (in_word || self.quote != '\'') {
                match self.it.next() {
                    None => {
                        self.phase = Phase::Word;
                        continue;
                    }
                    Some((next_at, next)) => {
                        end = next_at + next.len_utf8();
                        continue;
                    }
                }
            }
            end = at + ch.len_utf8();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_val_forms() {
        let w = |v: Vec<Arg>| {
            v.iter()
                .map(|a| a.as_word().unwrap_or("?").to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            w(name_val("A b c", "ENV", '\\').unwrap()),
            vec!["A", "b c", ""]
        );
        assert_eq!(
            w(name_val("a=1 b=\"x y\"", "ENV", '\\').unwrap()),
            vec!["a", "1", "=", "b", "\"x y\"", "="]
        );
        assert_eq!(
            name_val("PATH", "ENV", '\\').unwrap_err(),
            "ENV must have two arguments"
        );
        assert_eq!(
            name_val("a=1 b", "LABEL", '\\').unwrap_err(),
            "Syntax error - can't find = in \"b\". Must be of the form: name=value"
        );
    }

    #[test]
    fn words_with_escapes() {
        assert_eq!(
            parse_words("a\\ b 'c d' \"e\\\"f\"", '\\'),
            vec!["a\\ b", "'c d'", "\"e\\\"f\""]
        );
        assert_eq!(parse_words("x=\"\"", '\\'), vec!["x=\"\""]);
        assert_eq!(parse_words("a`  b", '`'), vec!["a` ", "b"]);
        assert_eq!(parse_words("end\\", '\\'), vec!["end"]);
    }
}
