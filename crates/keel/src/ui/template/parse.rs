//! Go `text/template` source to a tree: text, `{{pipeline}}` actions, `if`/`else`/`range`/
//! `with`/`end`, variables, comments and `{{-`/`-}}` trim markers. Parse errors read as Go's:
//! `template: :LINE: message`.

use super::TemplateError;

/// A parsed template: a list of nodes, plus the source for error positions.
#[derive(Debug, Clone)]
pub struct Tree {
    pub nodes: Vec<Node>,
    pub source: String,
}

#[derive(Debug, Clone)]
pub enum Node {
    Text(String),
    Action(Pipe),
    If {
        pipe: Pipe,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
    Range {
        pipe: Pipe,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    With {
        pipe: Pipe,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

/// `$a, $b := cmd | cmd`, or `$a = cmd`.
#[derive(Debug, Clone)]
pub struct Pipe {
    pub decl: Vec<String>,
    pub assign: bool,
    pub cmds: Vec<Cmd>,
}

#[derive(Debug, Clone)]
pub struct Cmd {
    pub args: Vec<Arg>,
    pub pos: usize,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub kind: ArgKind,
    /// Byte offset in the source, for execution errors (Go's node position).
    pub pos: usize,
    /// The source text, for `at <...>` in execution errors.
    pub text: String,
}

#[derive(Debug, Clone)]
pub enum ArgKind {
    Dot,
    /// `.A.B`
    Field(Vec<String>),
    /// `$x.A.B` (`$` alone is the root)
    Variable(String, Vec<String>),
    /// A function name.
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    /// `(pipeline).A.B`
    Sub(Box<Pipe>, Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(String),
    Dot,
    Var(String),
    Ident(String),
    Str(String),
    Num(String),
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: usize,
    end: usize,
    space_before: bool,
}

/// Names the parser accepts as functions; the executor implements each.
pub const FUNCTIONS: &[&str] = &[
    "json", "split", "join", "title", "lower", "upper", "pad", "truncate", "println", "print",
    "printf", "index", "len", "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge",
];

pub fn parse(source: &str) -> Result<Tree, TemplateError> {
    let mut p = Parser {
        src: source,
        pos: 0,
        trim_next: false,
    };
    let (nodes, end) = p.list()?;
    match end {
        Stop::Eof => Ok(Tree {
            nodes,
            source: source.to_owned(),
        }),
        Stop::End(pos) => Err(p.error(pos, "unexpected {{end}}")),
        Stop::Else(pos, _) => Err(p.error(pos, "unexpected {{else}}")),
    }
}

enum Stop {
    Eof,
    End(usize),
    /// `{{else}}` (None) or `{{else if ...}}`/`{{else with ...}}` (the keyword and its pipe).
    Else(usize, Option<(String, Pipe)>),
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    /// The previous action ended with ` -}}`: trim the leading space of the next text.
    trim_next: bool,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

impl Parser<'_> {
    fn error(&self, pos: usize, msg: &str) -> TemplateError {
        let line = 1 + self.src[..pos.min(self.src.len())].matches('\n').count();
        TemplateError {
            message: format!("template: :{line}: {msg}"),
        }
    }

    /// Nodes up to the end of input, `{{end}}` or `{{else}}`.
    fn list(&mut self) -> Result<(Vec<Node>, Stop), TemplateError> {
        let mut nodes = Vec::new();
        loop {
            let rest = &self.src[self.pos..];
            let open = rest.find("{{");
            let mut text = &rest[..open.unwrap_or(rest.len())];
            if std::mem::take(&mut self.trim_next) {
                text = text.trim_start_matches(is_space);
            }
            let Some(open) = open else {
                if !text.is_empty() {
                    nodes.push(Node::Text(text.to_owned()));
                }
                self.pos = self.src.len();
                return Ok((nodes, Stop::Eof));
            };
            let action_start = self.pos + open;
            let mut inner = action_start + 2;
            // `{{- ` trims the whitespace before the action (Go requires the space).
            if self.src[inner..].starts_with('-') && self.src[inner + 1..].starts_with(is_space) {
                text = text.trim_end_matches(is_space);
                inner += 1;
            }
            if !text.is_empty() {
                nodes.push(Node::Text(text.to_owned()));
            }
            self.pos = inner;
            if let Some(node) = self.action(action_start)? {
                match node {
                    Item::Node(n) => nodes.push(n),
                    Item::End(end) => return Ok((nodes, end)),
                }
            }
        }
    }

    /// One action after `{{`: a comment (None), a control structure or a pipeline.
    fn action(&mut self, start: usize) -> Result<Option<Item>, TemplateError> {
        let body = self.src[self.pos..].trim_start_matches(is_space);
        if body.starts_with("/*") {
            let from = self.src.len() - body.len();
            let close = self.src[from..]
                .find("*/")
                .ok_or_else(|| self.error(start, "unclosed comment"))?;
            self.pos = from + close + 2;
            self.close_action(start, "comment ends before closing delimiter")?;
            return Ok(None);
        }
        let tokens = self.tokens(start)?;
        let Some(first) = tokens.first() else {
            return Err(self.error(start, "missing value for command"));
        };
        let keyword = match &first.tok {
            Tok::Ident(k) if matches!(k.as_str(), "if" | "range" | "with" | "else" | "end") => {
                k.clone()
            }
            _ => {
                return Ok(Some(Item::Node(Node::Action(
                    self.pipe(&tokens, start, "command")?,
                ))))
            }
        };
        let rest = &tokens[1..];
        match keyword.as_str() {
            "end" => {
                if !rest.is_empty() {
                    return Err(self.error(start, "unexpected tokens in end"));
                }
                Ok(Some(Item::End(Stop::End(start))))
            }
            "else" => match rest.first().map(|t| &t.tok) {
                None => Ok(Some(Item::End(Stop::Else(start, None)))),
                Some(Tok::Ident(k)) if k == "if" || k == "with" => {
                    let pipe = self.pipe(&rest[1..], start, k)?;
                    Ok(Some(Item::End(Stop::Else(start, Some((k.clone(), pipe))))))
                }
                _ => Err(self.error(start, "unexpected tokens in else")),
            },
            _ => {
                let pipe = self.pipe(rest, start, &keyword)?;
                Ok(Some(Item::Node(self.control(&keyword, pipe, start)?)))
            }
        }
    }

    /// The body of `if`/`range`/`with` up to its `{{end}}`, with `{{else}}` branches.
    fn control(&mut self, keyword: &str, pipe: Pipe, start: usize) -> Result<Node, TemplateError> {
        let (body, end) = self.list()?;
        let otherwise = match end {
            Stop::Eof => return Err(self.error(self.src.len(), "unexpected EOF")),
            Stop::End(_) => Vec::new(),
            Stop::Else(_, None) => match self.list()? {
                (nodes, Stop::End(_)) => nodes,
                (_, Stop::Eof) => return Err(self.error(self.src.len(), "unexpected EOF")),
                (_, Stop::Else(pos, _)) => {
                    return Err(self.error(pos, "expected end; found {{else}}"))
                }
            },
            // `{{else if x}}` is an `if` nested in the else branch, sharing the outer `{{end}}`.
            Stop::Else(pos, Some((kw, inner))) => vec![self.control(&kw, inner, pos)?],
        };
        let _ = start;
        Ok(match keyword {
            "if" => Node::If {
                pipe,
                then: body,
                otherwise,
            },
            "range" => Node::Range {
                pipe,
                body,
                otherwise,
            },
            _ => Node::With {
                pipe,
                body,
                otherwise,
            },
        })
    }

    /// Expect `}}` or ` -}}` after optional spaces.
    fn close_action(&mut self, start: usize, msg: &str) -> Result<(), TemplateError> {
        let rest = &self.src[self.pos..];
        let trimmed = rest.trim_start_matches(is_space);
        let skipped = rest.len() - trimmed.len();
        if skipped > 0 && trimmed.starts_with("-}}") {
            self.pos += skipped + 3;
            self.trim_next = true;
            Ok(())
        } else if trimmed.starts_with("}}") {
            self.pos += skipped + 2;
            Ok(())
        } else {
            Err(self.error(start, msg))
        }
    }

    /// Lex an action's tokens up to its closing delimiter.
    fn tokens(&mut self, start: usize) -> Result<Vec<Token>, TemplateError> {
        let mut out = Vec::new();
        loop {
            let rest = &self.src[self.pos..];
            let trimmed = rest.trim_start_matches(is_space);
            let space_before = trimmed.len() != rest.len();
            if trimmed.is_empty() {
                return Err(self.error(start, "unclosed action"));
            }
            if trimmed.starts_with("}}") || (space_before && trimmed.starts_with("-}}")) {
                self.close_action(start, "unclosed action")?;
                return Ok(out);
            }
            let at = self.src.len() - trimmed.len();
            let c = trimmed.chars().next().unwrap_or(' ');
            let word_len = |s: &str| {
                s.find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(s.len())
            };
            let (tok, len) = match c {
                '|' => (Tok::Pipe, 1),
                '(' => (Tok::LParen, 1),
                ')' => (Tok::RParen, 1),
                ',' => (Tok::Comma, 1),
                '=' => (Tok::Assign, 1),
                ':' if trimmed.starts_with(":=") => (Tok::Declare, 2),
                '.' if trimmed[1..].starts_with(|c: char| c.is_alphabetic() || c == '_') => {
                    let n = word_len(&trimmed[1..]);
                    (Tok::Field(trimmed[1..1 + n].to_owned()), 1 + n)
                }
                '.' if !trimmed[1..].starts_with(|c: char| c.is_ascii_digit()) => (Tok::Dot, 1),
                '$' => {
                    let n = word_len(&trimmed[1..]);
                    (Tok::Var(trimmed[..1 + n].to_owned()), 1 + n)
                }
                '"' => {
                    let (value, n) = unquote(trimmed)
                        .ok_or_else(|| self.error(at, "unterminated quoted string"))?;
                    (Tok::Str(value), n)
                }
                '`' => {
                    let n = trimmed[1..]
                        .find('`')
                        .ok_or_else(|| self.error(at, "unterminated raw quoted string"))?;
                    (Tok::Str(trimmed[1..1 + n].to_owned()), n + 2)
                }
                c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                    let n = trimmed[1..]
                        .find(|c: char| {
                            !(c.is_ascii_alphanumeric()
                                || c == '.'
                                || c == '_'
                                || c == '+'
                                || c == '-')
                        })
                        .map_or(trimmed.len(), |i| i + 1);
                    (Tok::Num(trimmed[..n].to_owned()), n)
                }
                c if c.is_alphabetic() || c == '_' => {
                    let n = word_len(trimmed);
                    (Tok::Ident(trimmed[..n].to_owned()), n)
                }
                c => return Err(self.error(at, &format!("bad character U+{:04X} '{c}'", c as u32))),
            };
            out.push(Token {
                tok,
                pos: at,
                end: at + len,
                space_before,
            });
            self.pos = at + len;
        }
    }

    /// `[$v[, $w] (:=|=)] cmd | cmd ...`
    fn pipe(&self, tokens: &[Token], start: usize, context: &str) -> Result<Pipe, TemplateError> {
        let mut decl = Vec::new();
        let mut assign = false;
        let mut i = 0;
        // Look ahead for a declaration: variables separated by commas, then := or =.
        let mut j = 0;
        let mut vars = Vec::new();
        while let Some(Token {
            tok: Tok::Var(name),
            ..
        }) = tokens.get(j)
        {
            vars.push(name.clone());
            match tokens.get(j + 1).map(|t| &t.tok) {
                Some(Tok::Comma) if vars.len() < 2 => j += 2,
                Some(Tok::Declare) | Some(Tok::Assign) => {
                    assign = tokens[j + 1].tok == Tok::Assign;
                    decl = vars.clone();
                    i = j + 2;
                    break;
                }
                _ => break,
            }
        }
        // Commands are separated by `|` outside parentheses.
        let mut cmds = Vec::new();
        let mut from = i;
        let mut depth = 0i32;
        for (k, t) in tokens.iter().enumerate().skip(i) {
            match t.tok {
                Tok::LParen => depth += 1,
                Tok::RParen => depth -= 1,
                Tok::Pipe if depth == 0 => {
                    cmds.push(self.cmd(&tokens[from..k], start, context)?);
                    from = k + 1;
                }
                _ => {}
            }
        }
        cmds.push(self.cmd(&tokens[from..], start, context)?);
        Ok(Pipe { decl, assign, cmds })
    }

    fn cmd(&self, tokens: &[Token], start: usize, context: &str) -> Result<Cmd, TemplateError> {
        let Some(first) = tokens.first() else {
            return Err(self.error(start, &format!("missing value for {context}")));
        };
        let mut args = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            if i > 0 && !tokens[i].space_before && tokens[i].tok != Tok::RParen {
                return Err(self.error(tokens[i].pos, "missing space?"));
            }
            let (arg, used) = self.operand(&tokens[i..])?;
            args.push(arg);
            i += used;
        }
        let last = tokens.last().map_or(first.end, |t| t.end);
        Ok(Cmd {
            args,
            pos: first.pos,
            text: self.src[first.pos..last].to_owned(),
        })
    }

    /// One operand and the number of tokens it used; field chains (`$x.A.B`, `(...).A`) bind
    /// tokens with no space between them.
    fn operand(&self, tokens: &[Token]) -> Result<(Arg, usize), TemplateError> {
        let t = &tokens[0];
        let (mut kind, mut used) = match &t.tok {
            Tok::Dot => (ArgKind::Dot, 1),
            Tok::Field(f) => (ArgKind::Field(vec![f.clone()]), 1),
            Tok::Var(v) => (ArgKind::Variable(v.clone(), Vec::new()), 1),
            Tok::Str(s) => (ArgKind::Str(s.clone()), 1),
            Tok::Num(n) => (
                number(n).ok_or_else(|| self.error(t.pos, &format!("bad number syntax: {n:?}")))?,
                1,
            ),
            Tok::Ident(id) => match id.as_str() {
                "true" => (ArgKind::Bool(true), 1),
                "false" => (ArgKind::Bool(false), 1),
                "nil" => (ArgKind::Nil, 1),
                name if FUNCTIONS.contains(&name) => (ArgKind::Ident(name.to_owned()), 1),
                name => return Err(self.error(t.pos, &format!("function {name:?} not defined"))),
            },
            Tok::LParen => {
                let close = matching_paren(tokens)
                    .ok_or_else(|| self.error(t.pos, "unclosed left paren"))?;
                let pipe = self.pipe(&tokens[1..close], t.pos, "parenthesized pipeline")?;
                (ArgKind::Sub(Box::new(pipe), Vec::new()), close + 1)
            }
            Tok::RParen => return Err(self.error(t.pos, "unexpected right paren")),
            other => {
                return Err(self.error(t.pos, &format!("unexpected {} in operand", describe(other))))
            }
        };
        let mut pos = t.pos;
        let mut chained = false;
        while let Some(Token {
            tok: Tok::Field(f),
            space_before: false,
            pos: fpos,
            ..
        }) = tokens.get(used)
        {
            let fields = match &mut kind {
                ArgKind::Field(fields) | ArgKind::Variable(_, fields) | ArgKind::Sub(_, fields) => {
                    fields
                }
                _ => {
                    return Err(self.error(
                        *fpos,
                        &format!("unexpected . after term {:?}", &self.src[t.pos..*fpos]),
                    ))
                }
            };
            fields.push(f.clone());
            if !chained {
                // Go reports a chained field at the position of its second element.
                pos = *fpos;
                chained = true;
            }
            used += 1;
        }
        let end = tokens[used - 1].end;
        Ok((
            Arg {
                kind,
                pos,
                text: self.src[t.pos..end].to_owned(),
            },
            used,
        ))
    }
}

enum Item {
    Node(Node),
    End(Stop),
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Declare => "\":=\"".to_owned(),
        Tok::Assign => "\"=\"".to_owned(),
        Tok::Comma => "\",\"".to_owned(),
        Tok::Pipe => "\"|\"".to_owned(),
        other => format!("{other:?}"),
    }
}

fn matching_paren(tokens: &[Token]) -> Option<usize> {
    let mut depth = 0;
    for (i, t) in tokens.iter().enumerate() {
        match t.tok {
            Tok::LParen => depth += 1,
            Tok::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn number(text: &str) -> Option<ArgKind> {
    let clean = text.replace('_', "");
    let (neg, digits) = match clean.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let int = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(hex, 16).ok()
    } else {
        digits.parse::<i64>().ok()
    };
    if let Some(v) = int {
        return Some(ArgKind::Int(if neg { -v } else { v }));
    }
    let v: f64 = digits.parse().ok()?;
    Some(ArgKind::Float(if neg { -v } else { v }))
}

/// A Go interpreted string literal at the start of `s`: its value and its length in bytes.
fn unquote(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\n' => return None,
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'f' => out.push('\x0c'),
                    'v' => out.push('\x0b'),
                    '\\' | '"' | '\'' => out.push(e),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = (0..n)
                            .filter_map(|_| chars.next().map(|(_, h)| h))
                            .collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    d @ '0'..='7' => {
                        let rest: String = (0..2)
                            .filter_map(|_| chars.next().map(|(_, h)| h))
                            .collect();
                        out.push(char::from_u32(
                            u32::from_str_radix(&format!("{d}{rest}"), 8).ok()?,
                        )?);
                    }
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    None
}
