//! The parse tree: one [`Node`] per instruction, as BuildKit's `parser.Node` but typed.

use serde::Serialize;

use crate::span::Span;

/// One instruction as written, before any meaning is given to it.
///
/// BuildKit keeps arguments as a linked list of nodes (`Next`); here they are a vector, and the
/// only nested case (ONBUILD's instruction) is [`Arg::Nested`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// The keyword, lower-cased (`run`), as BuildKit's `Node.Value`.
    pub keyword: String,
    /// Flags as written, in order, each with its leading dashes (`--from=build`); BuildKit's
    /// `Node.Flags`. The `--` end-of-flags marker is not kept.
    pub flags: Vec<String>,
    /// The arguments, shaped per instruction exactly as BuildKit's parser shapes them (see
    /// ../shared/vectors/README.md §1.1): one string for shell form, the elements for exec form,
    /// key/value/marker triples for ENV and LABEL, and so on.
    pub args: Vec<Arg>,
    /// Exec (JSON array) form: BuildKit's `Attributes["json"]`.
    pub json: bool,
    /// Heredocs opened on the instruction's line, in order, with their bodies.
    pub heredocs: Vec<Heredoc>,
    /// The instruction's text as written (the logical line after continuation joining, keyword
    /// included), BuildKit's `Node.Original`.
    pub original: String,
    /// Comment lines directly above the instruction (without `#` and one following blank),
    /// BuildKit's `PrevComment`; used for ARG and stage descriptions.
    pub prev_comment: Vec<String>,
    /// From the keyword's first character to the end of the instruction's last line (heredoc
    /// bodies included). `span.line` / `span.end_line` are BuildKit's `StartLine` / `EndLine`.
    pub span: Span,
}

/// One argument of a [`Node`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Arg {
    Word(String),
    /// Only for ONBUILD: the instruction it carries.
    Nested(Box<Node>),
}

impl Arg {
    /// The argument's text, or `None` for a nested instruction.
    pub fn as_word(&self) -> Option<&str> {
        match self {
            Arg::Word(w) => Some(w),
            Arg::Nested(_) => None,
        }
    }
}

/// A heredoc (`<<EOF ... EOF`) attached to an instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heredoc {
    /// The delimiter word, quotes removed (`EOF`).
    pub name: String,
    /// The file descriptor written before `<<` (`3<<EOF`); 0 when absent, as BuildKit.
    pub file_descriptor: u32,
    /// False when any part of the delimiter was quoted: the body is then taken literally.
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from body lines.
    pub chomp: bool,
    /// The body, each line ending in `\n`, without the closing delimiter line.
    pub content: String,
}

/// A non-fatal finding of the parser (BuildKit prints these as warnings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// BuildKit's check rule name when there is one (`NoEmptyContinuation`).
    pub rule: Option<String>,
    pub message: String,
    pub span: Option<Span>,
}

/// The parser directives at the top of the file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Directives {
    /// `# syntax=` (also from a `#!` first line or `//syntax=`), without any `// opts` part.
    pub syntax: Option<String>,
    /// The escape character: `\` unless `# escape=` says `` ` ``.
    pub escape: char,
    /// `# check=` raw value (`skip=JSONArgsRecommended;error=true`).
    pub check: Option<String>,
}

/// A parsed Dockerfile: its directives and its instructions in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ast {
    pub directives: Directives,
    pub children: Vec<Node>,
    pub warnings: Vec<Warning>,
}
