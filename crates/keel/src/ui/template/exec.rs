//! Executing a parsed template against a JSON value, with docker's template functions.
//! Execution errors read as Go's: `template: :1:2: executing "" at <.Foo>: message`.

use serde_json::Value;

use super::parse::{Arg, ArgKind, Cmd, Node, Pipe, Tree};
use super::print::{print_value, sprint, sprintf, sprintln, to_json, type_name};
use super::{Options, TemplateError};

/// A value during execution. `v: None` is Go's invalid value (a missing map key), printed
/// `<no value>`; `root` marks the data the template was executed with, which docker's
/// formatter contexts marshal with HTML escapes and whose missing fields are errors.
#[derive(Clone, Debug)]
struct Val {
    v: Option<Value>,
    root: bool,
}

impl Val {
    fn plain(v: Value) -> Self {
        Val {
            v: Some(v),
            root: false,
        }
    }

    /// A function argument: Go passes a missing value as nil.
    fn arg(&self) -> Value {
        self.v.clone().unwrap_or(Value::Null)
    }
}

pub struct Exec<'a> {
    tree: &'a Tree,
    opts: &'a Options,
    vars: Vec<(String, Val)>,
    out: String,
}

type Result<T> = std::result::Result<T, TemplateError>;

pub fn execute(tree: &Tree, data: &Value, opts: &Options) -> Result<String> {
    let root = Val {
        v: Some(data.clone()),
        root: true,
    };
    let mut exec = Exec {
        tree,
        opts,
        vars: vec![("$".to_owned(), root.clone())],
        out: String::new(),
    };
    exec.walk(&tree.nodes, &root)?;
    Ok(exec.out)
}

fn is_true(v: &Option<Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

impl Exec<'_> {
    fn error(&self, pos: usize, text: &str, msg: &str) -> TemplateError {
        let before = &self.tree.source[..pos.min(self.tree.source.len())];
        let line = 1 + before.matches('\n').count();
        let col = before.rfind('\n').map_or(pos, |nl| pos - nl - 1);
        TemplateError {
            message: format!("template: :{line}:{col}: executing \"\" at <{text}>: {msg}"),
        }
    }

    fn walk(&mut self, nodes: &[Node], dot: &Val) -> Result<()> {
        for node in nodes {
            match node {
                Node::Text(t) => self.out.push_str(t),
                Node::Action(pipe) => {
                    let v = self.pipe(pipe, dot)?;
                    if pipe.decl.is_empty() {
                        self.out.push_str(&print_value(v.v.as_ref()));
                    }
                }
                Node::If {
                    pipe,
                    then,
                    otherwise,
                } => {
                    let mark = self.vars.len();
                    let v = self.pipe(pipe, dot)?;
                    self.walk(if is_true(&v.v) { then } else { otherwise }, dot)?;
                    self.vars.truncate(mark);
                }
                Node::With {
                    pipe,
                    body,
                    otherwise,
                } => {
                    let mark = self.vars.len();
                    let v = self.pipe(pipe, dot)?;
                    if is_true(&v.v) {
                        self.walk(body, &v)?;
                    } else {
                        self.walk(otherwise, dot)?;
                    }
                    self.vars.truncate(mark);
                }
                Node::Range {
                    pipe,
                    body,
                    otherwise,
                } => self.range(pipe, body, otherwise, dot)?,
            }
        }
        Ok(())
    }

    fn range(&mut self, pipe: &Pipe, body: &[Node], otherwise: &[Node], dot: &Val) -> Result<()> {
        let mark = self.vars.len();
        // The declared variables take each key and element, not the whole value.
        let plain = Pipe {
            decl: Vec::new(),
            assign: false,
            cmds: pipe.cmds.clone(),
        };
        let v = self.pipe(&plain, dot)?;
        let items: Vec<(Value, Value)> = match &v.v {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, e)| (Value::from(i), e.clone()))
                .collect(),
            Some(Value::Object(o)) => {
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort();
                keys.into_iter()
                    .map(|k| (Value::from(k.clone()), o[k].clone()))
                    .collect()
            }
            // Go 1.22 ranges over an integer: 0..n.
            Some(Value::Number(n)) if n.as_i64().is_some() => (0..n.as_i64().unwrap_or(0))
                .map(|i| (Value::from(i), Value::from(i)))
                .collect(),
            Some(other) => {
                let cmd = &pipe.cmds[0];
                let msg = format!("range can't iterate over {}", print_value(Some(other)));
                return Err(self.error(cmd.pos, &cmd.text, &msg));
            }
        };
        if items.is_empty() {
            self.walk(otherwise, dot)?;
        }
        for (key, elem) in items {
            self.vars.truncate(mark);
            match pipe.decl.as_slice() {
                [] => {}
                [e] => self.vars.push((e.clone(), Val::plain(elem.clone()))),
                [k, e, ..] => {
                    self.vars.push((k.clone(), Val::plain(key)));
                    self.vars.push((e.clone(), Val::plain(elem.clone())));
                }
            }
            self.walk(body, &Val::plain(elem))?;
        }
        self.vars.truncate(mark);
        Ok(())
    }

    fn pipe(&mut self, pipe: &Pipe, dot: &Val) -> Result<Val> {
        let mut value: Option<Val> = None;
        for cmd in &pipe.cmds {
            value = Some(self.cmd(cmd, dot, value)?);
        }
        let value = value.unwrap_or(Val {
            v: None,
            root: false,
        });
        for name in &pipe.decl {
            if pipe.assign {
                match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = value.clone(),
                    None => {
                        let cmd = &pipe.cmds[0];
                        return Err(self.error(
                            cmd.pos,
                            &cmd.text,
                            &format!("undefined variable: {name}"),
                        ));
                    }
                }
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn cmd(&mut self, cmd: &Cmd, dot: &Val, piped: Option<Val>) -> Result<Val> {
        let first = &cmd.args[0];
        if let ArgKind::Ident(name) = &first.kind {
            let mut args = Vec::with_capacity(cmd.args.len());
            for a in &cmd.args[1..] {
                args.push(self.arg(a, dot)?);
            }
            args.extend(piped);
            return self.call(name, &args, first);
        }
        if cmd.args.len() > 1 || piped.is_some() {
            return Err(self.error(
                first.pos,
                &first.text,
                &format!("can't give argument to non-function {}", first.text),
            ));
        }
        self.arg(first, dot)
    }

    fn arg(&mut self, arg: &Arg, dot: &Val) -> Result<Val> {
        match &arg.kind {
            ArgKind::Dot => Ok(dot.clone()),
            ArgKind::Field(path) => self.fields(dot.clone(), path, arg),
            ArgKind::Variable(name, path) => {
                let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| n == name) else {
                    return Err(self.error(
                        arg.pos,
                        &arg.text,
                        &format!("undefined variable: {name}"),
                    ));
                };
                let v = v.clone();
                self.fields(v, path, arg)
            }
            ArgKind::Ident(name) => self.call(name, &[], arg),
            ArgKind::Str(s) => Ok(Val::plain(Value::from(s.clone()))),
            ArgKind::Int(i) => Ok(Val::plain(Value::from(*i))),
            ArgKind::Float(f) => Ok(Val::plain(
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            )),
            ArgKind::Bool(b) => Ok(Val::plain(Value::Bool(*b))),
            ArgKind::Nil => Ok(Val::plain(Value::Null)),
            ArgKind::Sub(pipe, path) => {
                let v = self.pipe(pipe, dot)?;
                self.fields(v, path, arg)
            }
        }
    }

    /// `.A.B` from `start`. A missing key gives Go's invalid value (`<no value>`), except on
    /// the root of a docker formatter context, a Go struct, where it is an error.
    fn fields(&self, start: Val, path: &[String], arg: &Arg) -> Result<Val> {
        let mut cur = start;
        for name in path {
            let next = match &cur.v {
                None | Some(Value::Null) if self.opts.missing_key_error => {
                    let msg = format!("nil data; no entry for key {name:?}");
                    return Err(self.error(arg.pos, &arg.text, &msg));
                }
                None | Some(Value::Null) => None,
                Some(Value::Object(map)) => match map.get(name) {
                    Some(v) => Some(v.clone()),
                    None => match (&self.opts.strict_root_type, cur.root) {
                        (Some(ty), true) => {
                            let msg = format!("can't evaluate field {name} in type {ty}");
                            return Err(self.error(arg.pos, &arg.text, &msg));
                        }
                        _ if self.opts.missing_key_error => {
                            let msg = format!("map has no entry for key {name:?}");
                            return Err(self.error(arg.pos, &arg.text, &msg));
                        }
                        _ => None,
                    },
                },
                Some(other) => {
                    let msg = format!("can't evaluate field {name} in type {}", type_name(other));
                    return Err(self.error(arg.pos, &arg.text, &msg));
                }
            };
            cur = Val {
                v: next,
                root: false,
            };
        }
        Ok(cur)
    }

    fn call(&self, name: &str, args: &[Val], at: &Arg) -> Result<Val> {
        let fail = |msg: String| self.error(at.pos, &at.text, &msg);
        let arity = |want: usize| {
            if args.len() == want {
                Ok(())
            } else {
                Err(fail(format!(
                    "wrong number of args for {name}: want {want} got {}",
                    args.len()
                )))
            }
        };
        let at_least = |want: usize| {
            if args.len() >= want {
                Ok(())
            } else {
                Err(fail(format!(
                    "wrong number of args for {name}: want at least {want} got {}",
                    args.len()
                )))
            }
        };
        let string = |v: &Val| match &v.v {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(fail(format!(
                "wrong type for value; expected string; got {}",
                type_name(other)
            ))),
            None => Err(fail("invalid value; expected string".to_owned())),
        };
        let int = |v: &Val| match &v.v {
            Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64().unwrap_or(0)),
            Some(other) => Err(fail(format!(
                "wrong type for value; expected int; got {}",
                type_name(other)
            ))),
            None => Err(fail("invalid value; expected int".to_owned())),
        };
        let text = |s: String| Ok(Val::plain(Value::String(s)));
        // Table headers keep their text: docker replaces these functions with the identity.
        if self.opts.header
            && matches!(
                name,
                "json" | "split" | "join" | "title" | "lower" | "upper" | "truncate"
            )
        {
            let want = if matches!(name, "json" | "title" | "lower" | "upper") {
                1
            } else {
                2
            };
            arity(want)?;
            return text(string(&args[0])?);
        }
        match name {
            "json" => {
                arity(1)?;
                let escape = self.opts.escape_html_root && args[0].root;
                let value = args[0].arg();
                if self.opts.json_omit_null {
                    text(to_json(&without_nulls(&value), escape))
                } else {
                    text(to_json(&value, escape))
                }
            }
            "split" => {
                arity(2)?;
                let (s, sep) = (string(&args[0])?, string(&args[1])?);
                let parts: Vec<Value> = if sep.is_empty() {
                    s.chars().map(|c| Value::from(c.to_string())).collect()
                } else {
                    s.split(sep.as_str()).map(Value::from).collect()
                };
                Ok(Val::plain(Value::Array(parts)))
            }
            "join" => {
                arity(2)?;
                let sep = string(&args[1])?;
                match &args[0].v {
                    Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                        let parts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                        text(parts.join(&sep))
                    }
                    Some(other) => Err(fail(format!(
                        "wrong type for value; expected []string; got {}",
                        type_name(other)
                    ))),
                    None => Err(fail("invalid value; expected []string".to_owned())),
                }
            }
            "title" => {
                arity(1)?;
                text(title(&string(&args[0])?))
            }
            "lower" => {
                arity(1)?;
                text(string(&args[0])?.to_lowercase())
            }
            "upper" => {
                arity(1)?;
                text(string(&args[0])?.to_uppercase())
            }
            "pad" => {
                arity(3)?;
                let s = string(&args[0])?;
                let (pre, post) = (int(&args[1])?, int(&args[2])?);
                if s.is_empty() {
                    return text(s);
                }
                let spaces = |n: i64| " ".repeat(usize::try_from(n).unwrap_or(0));
                text(format!("{}{s}{}", spaces(pre), spaces(post)))
            }
            "truncate" => {
                arity(2)?;
                let s = string(&args[0])?;
                let n = usize::try_from(int(&args[1])?).map_err(|_| {
                    fail("error calling truncate: slice bounds out of range".to_owned())
                })?;
                if s.len() < n {
                    return text(s);
                }
                // Go slices bytes; stop at the last character boundary instead of splitting one.
                let mut end = n;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                text(s[..end].to_owned())
            }
            "print" => text(sprint(&args.iter().map(Val::arg).collect::<Vec<_>>())),
            "println" => text(sprintln(&args.iter().map(Val::arg).collect::<Vec<_>>())),
            "printf" => {
                at_least(1)?;
                let format = string(&args[0])?;
                text(sprintf(
                    &format,
                    &args[1..].iter().map(Val::arg).collect::<Vec<_>>(),
                ))
            }
            "len" => {
                arity(1)?;
                let n = match &args[0].v {
                    Some(Value::String(s)) => s.len(),
                    Some(Value::Array(a)) => a.len(),
                    Some(Value::Object(o)) => o.len(),
                    Some(other) => {
                        return Err(fail(format!(
                            "error calling len: len of type {}",
                            type_name(other)
                        )))
                    }
                    None => return Err(fail("error calling len: len of nil pointer".to_owned())),
                };
                Ok(Val::plain(Value::from(n)))
            }
            "index" => {
                at_least(1)?;
                let mut cur = args[0].v.clone();
                for key in &args[1..] {
                    cur = index(cur, &key.arg())
                        .map_err(|m| fail(format!("error calling index: {m}")))?;
                }
                Ok(Val {
                    v: cur,
                    root: false,
                })
            }
            "not" => {
                arity(1)?;
                Ok(Val::plain(Value::Bool(!is_true(&args[0].v))))
            }
            "and" | "or" => {
                at_least(1)?;
                let want = name == "or";
                let pick = args
                    .iter()
                    .find(|a| is_true(&a.v) == want)
                    .unwrap_or(&args[args.len() - 1]);
                Ok(pick.clone())
            }
            "eq" | "ne" => {
                at_least(2)?;
                let mut equal = false;
                for other in &args[1..] {
                    equal |= compare(&args[0].arg(), &other.arg(), true).map_err(&fail)?
                        == Some(std::cmp::Ordering::Equal);
                }
                Ok(Val::plain(Value::Bool(equal == (name == "eq"))))
            }
            "lt" | "le" | "gt" | "ge" => {
                arity(2)?;
                let ord = compare(&args[0].arg(), &args[1].arg(), false).map_err(&fail)?;
                let ord = ord.ok_or_else(|| {
                    fail(format!(
                        "error calling {name}: incompatible types for comparison"
                    ))
                })?;
                let result = match name {
                    "lt" => ord.is_lt(),
                    "le" => ord.is_le(),
                    "gt" => ord.is_gt(),
                    _ => ord.is_ge(),
                };
                Ok(Val::plain(Value::Bool(result)))
            }
            other => Err(fail(format!("function {other:?} not defined"))),
        }
    }
}

/// Go's `index` step: an array or string by integer (a string gives the byte), a map by key.
fn index(v: Option<Value>, key: &Value) -> std::result::Result<Option<Value>, String> {
    match (v, key) {
        (Some(Value::Array(a)), Value::Number(n)) => {
            let i = n
                .as_i64()
                .ok_or_else(|| format!("cannot index slice/array with type {}", type_name(key)))?;
            let got = usize::try_from(i).ok().and_then(|i| a.get(i).cloned());
            got.map(Some)
                .ok_or_else(|| format!("index out of range: {i}"))
        }
        (Some(Value::String(s)), Value::Number(n)) => {
            let i = n
                .as_i64()
                .ok_or_else(|| format!("cannot index slice/array with type {}", type_name(key)))?;
            let got = usize::try_from(i)
                .ok()
                .and_then(|i| s.as_bytes().get(i).copied());
            got.map(|b| Some(Value::from(b)))
                .ok_or_else(|| format!("index out of range: {i}"))
        }
        (Some(Value::Object(o)), Value::String(k)) => Ok(o.get(k).cloned()),
        (Some(Value::Object(_)), other) => Err(format!(
            "value has type {}; should be string",
            type_name(other)
        )),
        (None | Some(Value::Null), _) => Err("index of untyped nil".to_owned()),
        (Some(other), _) => Err(format!("can't index item of type {}", type_name(&other))),
    }
}

/// Compare two basic values. Numbers compare by value whether int or float; `nil` equals only
/// `nil`. Other mixes are Go's "incompatible types for comparison".
fn compare(
    a: &Value,
    b: &Value,
    equality: bool,
) -> std::result::Result<Option<std::cmp::Ordering>, String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Ok(x.as_f64().partial_cmp(&y.as_f64())),
        (Value::String(x), Value::String(y)) => Ok(Some(x.cmp(y))),
        (Value::Bool(x), Value::Bool(y)) if equality => Ok(Some(x.cmp(y))),
        (Value::Null, Value::Null) if equality => Ok(Some(std::cmp::Ordering::Equal)),
        (Value::Null, _) | (_, Value::Null) if equality => Ok(None),
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => {
            Err("error calling eq: non-comparable type".to_owned())
        }
        _ if equality => Err("error calling eq: incompatible types for comparison".to_owned()),
        _ => Err("invalid type for comparison".to_owned()),
    }
}

/// Go's (deprecated) `strings.Title`: upper-case the first letter of each word. Words are
/// separated by ASCII characters other than letters, digits and `_`, and by Unicode spaces.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !(c.is_alphanumeric()) && c.is_whitespace()
        };
    }
    out
}

/// `value` with every `null` object member removed, at any depth (Go's `omitempty`).
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}
