//! Bytes → [`Ast`]: parser directives, comments, line continuations with the escape character,
//! heredocs, exec (JSON) versus shell form, flags, and BuildKit's per-instruction argument shapes.
//!
//! Entry points: [`parse`] and [`dump`] (BuildKit's `Node.Dump()` text, for golden tests).
//!
//! Input is bytes. Text that is not valid UTF-8 is parsed without panicking; invalid bytes become
//! U+FFFD in the node's strings (BuildKit keeps the raw bytes, so its dump shows `\xHH` where ours
//! shows `�`).

mod args;
mod directive;
mod dump;
mod heredoc;
mod json;
mod line;
mod node;
mod source;
mod split;

pub use args::parse_words;
pub use directive::{detect_syntax, parse_directive, Directive, DirectiveParser, FoundDirective};
pub use dump::{dump, dump_node};
pub use heredoc::{chomp_heredoc_content, heredocs_from_line, parse_heredoc};
pub use json::{parse_json_array, JsonError};
pub use line::MAX_LINE_LEN;
pub use node::{Arg, Ast, Directives, Heredoc, Node, Warning};

use crate::error::Error;
use crate::span::Span;
use line::{is_blank, is_comment, trim_continuation, trim_left_space, trim_newline};
use source::Source;

/// BuildKit's check rule for blank lines inside a continued instruction.
pub const RULE_NO_EMPTY_CONTINUATION: &str = "NoEmptyContinuation";

/// The detail BuildKit attaches to the empty-continuation warning.
pub const EMPTY_CONTINUATION_DETAIL: &str =
    "Empty continuation lines will become errors in a future release";

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The escape character and the directive parser, as BuildKit's `directives` state.
struct State {
    parser: DirectiveParser,
    escape: u8,
}

impl State {
    /// BuildKit's `processLine`: the line without its ending (and leading blanks when asked),
    /// emptied when it is a comment; whether it was a parser directive.
    fn process_line<'a>(
        &mut self,
        raw: &'a [u8],
        strip_left: bool,
        line_no: usize,
    ) -> Result<(&'a [u8], bool), Error> {
        let mut token = trim_newline(raw);
        if strip_left {
            token = trim_left_space(token);
        }
        let directive = self
            .parser
            .parse_line(token)
            .map_err(|e| Error::syntax(e.message, Some(Span::lines(line_no, line_no))))?;
        let is_directive = directive.is_some();
        if let Some(d) = directive.filter(|d| d.name == "escape") {
            self.escape = match d.value.as_str() {
                "\\" => b'\\',
                "`" => b'`',
                other => {
                    return Err(Error::syntax(
                        format!("invalid escape token '{other}' does not match ` or \\"),
                        Some(Span::lines(line_no, line_no)),
                    ))
                }
            };
        }
        let token = if is_comment(token) {
            &token[..0]
        } else {
            token
        };
        Ok((token, is_directive))
    }
}

/// Parse a whole Dockerfile, exactly as BuildKit's `parser.Parse`.
pub fn parse(source: &[u8]) -> Result<Ast, Error> {
    let src = Source::new(source);
    let mut st = State {
        parser: DirectiveParser::new(),
        escape: b'\\',
    };
    let mut lines = line::Lines::new(source);
    let mut current = 0usize;
    // Real files hold about one instruction per 40-60 bytes: sizing up front saves most of
    // the regrowing.
    let mut children: Vec<Node> = Vec::with_capacity(source.len() / 64);
    let mut warnings = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    // The pieces of one logical line, borrowed from the input (reused across instructions).
    let mut pieces: Vec<&[u8]> = Vec::new();

    while let Some(mut raw) = lines.next() {
        if current == 0 {
            raw = raw.strip_prefix(UTF8_BOM).unwrap_or(raw);
        }
        if is_comment(raw) {
            // As BuildKit: the text after the line's first byte, trimmed (a `#` at column 1).
            let comment = src.text(&raw[1..]).trim().to_string();
            if comment.is_empty() {
                comments.clear();
            } else {
                comments.push(comment);
            }
        }
        let (token, is_directive) = st.process_line(raw, true, current + 1)?;
        if is_directive {
            comments.pop();
        }
        current += 1;
        let start_line = current;
        let col = src.char_count(&raw[..raw.len() - trim_left_space(raw).len()]) + 1;
        let (first, mut done) = trim_continuation(token, st.escape);
        if done && first.is_empty() {
            continue;
        }
        pieces.clear();
        pieces.push(first);
        let mut last = raw;
        let mut has_empty = false;
        while !done {
            let Some(next) = lines.next() else { break };
            let (token, _) = st.process_line(next, false, current + 1)?;
            current += 1;
            last = next;
            if is_comment(next) {
                continue;
            }
            if is_blank(token) {
                has_empty = true;
                continue;
            }
            let (piece, d) = trim_continuation(token, st.escape);
            done = d;
            pieces.push(piece);
        }
        let text = src.join(&pieces).into_owned();
        if has_empty {
            warnings.push(Warning {
                rule: Some(RULE_NO_EMPTY_CONTINUATION.to_string()),
                message: format!("Empty continuation line found in: {text}"),
                span: Some(Span::lines(current, current)),
            });
        }
        let err_span = Span::lines(start_line, current);
        let mut node = args::node_from_line(
            text,
            char::from(st.escape),
            std::mem::take(&mut comments),
            err_span,
        )?;
        if can_contain_heredoc(&node) && node.original.contains("<<") {
            let docs = heredocs_from_line(&node.original).map_err(|e| e.at(err_span))?;
            for mut doc in docs {
                // The body is the run of lines up to the delimiter: one slice of the input.
                let body_start = lines.offset();
                let mut body_end = body_start;
                let mut terminated = false;
                while let Some(body) = lines.next() {
                    current += 1;
                    last = body;
                    let mut candidate = trim_newline(body);
                    if doc.chomp {
                        let tabs = candidate.iter().take_while(|&&c| c == b'\t').count();
                        candidate = &candidate[tabs..];
                    }
                    if candidate == doc.name.as_bytes() {
                        terminated = true;
                        break;
                    }
                    body_end = lines.offset();
                }
                if !terminated {
                    return Err(Error::syntax(
                        "unterminated heredoc",
                        Some(Span::lines(start_line, current)),
                    ));
                }
                // Every body line ends in a newline, so converting the run at once is the same
                // as converting line by line.
                doc.content = src.text(&src.bytes()[body_start..body_end]).into_owned();
                node.heredocs.push(doc);
            }
        }
        let span = Span {
            line: start_line,
            col,
            end_line: current,
            end_col: src.char_count(trim_newline(last)) + 1,
        };
        set_span(&mut node, span);
        children.push(node);
    }

    if children.is_empty() {
        let at = current.max(1);
        return Err(Error::syntax(
            "file with no instructions",
            Some(Span::lines(at, at)),
        ));
    }
    if let Some(n) = lines.too_long {
        return Err(Error::syntax(
            format!("dockerfile line greater than max allowed size of {MAX_LINE_LEN}"),
            Some(Span::lines(n, n)),
        ));
    }
    let directives = Directives {
        syntax: detect_syntax(source).map(|d| d.value),
        escape: char::from(st.escape),
        check: parse_directive("check", source).map(|d| d.value),
    };
    Ok(Ast {
        directives,
        children,
        warnings,
    })
}

/// The node's span, and the same for an ONBUILD's nested instruction.
fn set_span(node: &mut Node, span: Span) {
    node.span = span;
    for arg in &mut node.args {
        if let Arg::Nested(child) = arg {
            set_span(child, span);
        }
    }
}

/// BuildKit's `canContainHeredoc`: RUN, COPY, ADD (also under ONBUILD), not in JSON form.
fn can_contain_heredoc(node: &Node) -> bool {
    let target = match (node.keyword.as_str(), node.args.first()) {
        ("onbuild", Some(Arg::Nested(child))) => child,
        _ => node,
    };
    matches!(target.keyword.as_str(), "run" | "copy" | "add") && !target.json
}

#[cfg(test)]
mod tests;
