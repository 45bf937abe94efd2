//! [`parse_instruction`]: one syntax [`Node`] → one typed [`Command`].

use super::flags::{FlagKind, Flags};
use super::run_flags::{parse_device, parse_mount, parse_network, parse_security};
use super::{
    healthcheck, suggest, Add, ArgDef, Command, CommandLine, Copy, From, InlineFile, Instruction,
    KeyValue, Onbuild, Run, SourceContent, SourcesAndDest, KEYWORDS,
};
use crate::error::Error;
use crate::span::Span;
use crate::syntax::{self, Arg, Node};

/// Give a node its typed meaning.
///
/// Errors carry the node's span and read as BuildKit's (`unknown instruction: RNU (did you mean
/// RUN?)`, `COPY requires at least two arguments, but only one was provided. Destination could
/// not be determined`, `unknown flag: --boo`).
pub fn parse_instruction(node: &Node) -> Result<Command, Error> {
    let instruction = typed(node, words(node))?;
    Ok(Command {
        instruction,
        span: node.span,
        original: node.original.clone(),
    })
}

/// [`parse_instruction`] for a node that is not needed afterwards: its words and its text move
/// into the command instead of being copied.
pub(crate) fn parse_instruction_owned(mut node: Node) -> Result<Command, Error> {
    // ONBUILD parses its nested instruction from the node again, so that one keeps its words.
    let nested = node.args.iter().any(|a| matches!(a, Arg::Nested(_)));
    let args = if nested {
        words(&node)
    } else {
        std::mem::take(&mut node.args)
            .into_iter()
            .map(|arg| match arg {
                Arg::Word(w) => w,
                Arg::Nested(_) => String::new(),
            })
            .collect()
    };
    let instruction = typed(&node, args)?;
    Ok(Command {
        instruction,
        span: node.span,
        original: node.original,
    })
}

/// The typed instruction of `node`, whose argument words are `args`; errors carry its span.
fn typed(node: &Node, args: Vec<String>) -> Result<Instruction, Error> {
    parse_node(node, args).map_err(|m| {
        // An unknown keyword is the keyword's fault alone: point at it, not the whole line.
        let span = if KEYWORDS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(&node.keyword))
        {
            node.span
        } else {
            Span::on_line(node.span.line, node.span.col, node.keyword.chars().count())
        };
        Error::instruction(m, Some(span))
    })
}

/// Parse a stored ONBUILD trigger (`RUN echo hi`, as in an image config's `OnBuild`), so a
/// build on top of that image can run it.
pub fn parse_onbuild_trigger(text: &str) -> Result<Command, Error> {
    let ast = syntax::parse(text.as_bytes())?;
    let mut children = ast.children.iter();
    let (Some(node), None) = (children.next(), children.next()) else {
        return Err(Error::instruction(
            format!("invalid ONBUILD trigger: {text:?}"),
            None,
        ));
    };
    check_trigger_keyword(&node.keyword).map_err(|m| Error::instruction(m, Some(node.span)))?;
    parse_instruction(node)
}

/// A node's arguments as strings; a nested instruction (ONBUILD's) contributes its keyword and
/// its own arguments, as BuildKit's `nodeArgs`.
fn words(node: &Node) -> Vec<String> {
    let mut out = Vec::with_capacity(node.args.len());
    for arg in &node.args {
        match arg {
            Arg::Word(w) => out.push(w.clone()),
            Arg::Nested(child) => {
                out.push(child.keyword.clone());
                out.extend(words(child));
            }
        }
    }
    out
}

fn parse_node(node: &Node, args: Vec<String>) -> Result<Instruction, String> {
    let flags =
        |declared: &'static [(&'static str, FlagKind)]| Flags::new(declared).parse(&node.flags);
    // The parser lower-cases keywords already; a node built by hand may not have.
    let lowered;
    let keyword = if node.keyword.bytes().all(|b| b.is_ascii_lowercase()) {
        node.keyword.as_str()
    } else {
        lowered = node.keyword.to_lowercase();
        lowered.as_str()
    };
    Ok(match keyword {
        "env" => {
            flags(&[])?;
            Instruction::Env(key_values(args, "ENV")?)
        }
        "label" => {
            flags(&[])?;
            Instruction::Label(key_values(args, "LABEL")?)
        }
        "maintainer" => {
            let who = exactly_one(args, "MAINTAINER")?;
            flags(&[])?;
            Instruction::Maintainer(who)
        }
        "add" => parse_add(node, args)?,
        "copy" => parse_copy(node, args)?,
        "from" => Instruction::From(parse_from(node, args)?),
        "onbuild" => Instruction::Onbuild(parse_onbuild(node, args)?),
        "workdir" => {
            let path = exactly_one(args, "WORKDIR")?;
            flags(&[])?;
            Instruction::Workdir(path)
        }
        "run" => Instruction::Run(parse_run(node, args)?),
        "cmd" => {
            flags(&[])?;
            Instruction::Cmd(command_line(node, args))
        }
        "entrypoint" => {
            flags(&[])?;
            Instruction::Entrypoint(command_line(node, args))
        }
        "healthcheck" => {
            Instruction::Healthcheck(healthcheck::parse(args, node.json, &node.flags)?)
        }
        "expose" => {
            if args.is_empty() {
                return Err(at_least_one("EXPOSE"));
            }
            flags(&[])?;
            let mut ports = args;
            ports.sort();
            Instruction::Expose(ports)
        }
        "user" => {
            let user = exactly_one(args, "USER")?;
            flags(&[])?;
            Instruction::User(user)
        }
        "volume" => {
            if args.is_empty() {
                return Err(at_least_one("VOLUME"));
            }
            flags(&[])?;
            let mut volumes = Vec::with_capacity(args.len());
            for v in args {
                let trimmed = v.trim();
                if trimmed.is_empty() {
                    return Err("VOLUME specified can not be an empty string".into());
                }
                volumes.push(if trimmed.len() == v.len() {
                    v
                } else {
                    trimmed.to_owned()
                });
            }
            Instruction::Volume(volumes)
        }
        "stopsignal" => {
            // BuildKit never validates STOPSIGNAL's flags.
            let signal = exactly_one(args, "STOPSIGNAL")?;
            Instruction::Stopsignal(signal)
        }
        "arg" => {
            if args.is_empty() {
                return Err(at_least_one("ARG"));
            }
            flags(&[])?;
            Instruction::Arg(parse_arg(node, args)?)
        }
        "shell" => {
            flags(&[])?;
            let shell = json_args(args, node.json);
            if shell.is_empty() {
                return Err(at_least_one("SHELL"));
            }
            if !node.json {
                return Err("SHELL requires the arguments to be in JSON form".into());
            }
            Instruction::Shell(shell)
        }
        _ => return Err(unknown_instruction(node)),
    })
}

fn unknown_instruction(node: &Node) -> String {
    // The keyword as written: the first word of the original text.
    let written = node
        .original
        .split_whitespace()
        .next()
        .filter(|w| w.eq_ignore_ascii_case(&node.keyword))
        .unwrap_or(&node.keyword);
    suggest::with_suggestion(
        format!("unknown instruction: {written}"),
        written,
        &KEYWORDS,
        false,
    )
}

fn at_least_one(command: &str) -> String {
    format!("{command} requires at least one argument")
}

fn exactly_one(mut args: Vec<String>, command: &str) -> Result<String, String> {
    match args.pop() {
        Some(one) if args.is_empty() => Ok(one),
        _ => Err(format!("{command} requires exactly one argument")),
    }
}

/// BuildKit's `handleJSONArgs`: exec form keeps the elements, shell form is one string.
pub(super) fn json_args(args: Vec<String>, json: bool) -> Vec<String> {
    if json || args.len() <= 1 {
        args
    } else {
        vec![args.join(" ")]
    }
}

fn command_line(node: &Node, args: Vec<String>) -> CommandLine {
    CommandLine {
        cmd_line: json_args(args, node.json),
        prepend_shell: !node.json,
        files: node
            .heredocs
            .iter()
            .map(|h| InlineFile {
                name: h.name.clone(),
                data: h.content.clone(),
                chomp: h.chomp,
            })
            .collect(),
    }
}

/// ENV and LABEL arguments: key/value/marker triples from the parser.
fn key_values(args: Vec<String>, command: &str) -> Result<Vec<KeyValue>, String> {
    if args.is_empty() {
        return Err(at_least_one(command));
    }
    if !args.chunks_exact(3).remainder().is_empty() {
        return Err(format!("Bad input to {command}, too many arguments"));
    }
    let mut out = Vec::with_capacity(args.len() / 3);
    let mut it = args.into_iter();
    while let (Some(key), Some(value), Some(marker)) = (it.next(), it.next(), it.next()) {
        if key.is_empty() {
            return Err(format!("{command} names can not be blank"));
        }
        out.push(KeyValue {
            key,
            value,
            has_equals: marker == "=",
        });
    }
    Ok(out)
}

/// BuildKit's `getComment`: the first comment line that starts with `NAME `, without it.
fn doc_comment(comments: &[String], name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    let prefix = format!("{name} ");
    comments
        .iter()
        .find_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
}

fn parse_arg(node: &Node, args: Vec<String>) -> Result<Vec<ArgDef>, String> {
    args.into_iter()
        .map(|mut arg| {
            let (key, value) = match arg.find('=') {
                Some(i) => {
                    let value = arg[i + 1..].to_owned();
                    arg.truncate(i);
                    (arg, Some(value))
                }
                None => (arg, None),
            };
            if key.is_empty() {
                return Err("ARG names can not be blank".to_owned());
            }
            let comment = doc_comment(&node.prev_comment, &key);
            Ok(ArgDef {
                key,
                value,
                comment,
            })
        })
        .collect()
}

/// Stage names: a letter, then letters, digits, `-`, `_` and `.` (after lower-casing).
pub(crate) fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

fn parse_from(node: &Node, mut args: Vec<String>) -> Result<From, String> {
    let (name, name_as_written) = match args.as_slice() {
        [_, as_word, name] if as_word.eq_ignore_ascii_case("as") => {
            let lower = name.to_lowercase();
            if !valid_stage_name(&lower) {
                return Err(format!(
                    "invalid name for build stage: {name:?}, name can't start with a number or contain symbols"
                ));
            }
            (Some(lower), args.pop())
        }
        [_] => (None, None),
        _ => return Err("FROM requires either one or three arguments".into()),
    };
    let flags = Flags::new(&[("platform", FlagKind::String)]).parse(&node.flags)?;
    let comment = name
        .as_deref()
        .and_then(|n| doc_comment(&node.prev_comment, n));
    args.truncate(1);
    Ok(From {
        base: args.pop().unwrap_or_default(),
        name,
        name_as_written,
        platform: flags.non_empty("platform"),
        comment,
    })
}

fn check_trigger_keyword(keyword: &str) -> Result<(), String> {
    let upper = keyword.trim().to_uppercase();
    match upper.as_str() {
        "ONBUILD" => Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into()),
        "MAINTAINER" | "FROM" => Err(format!("{upper} isn't allowed as an ONBUILD trigger")),
        _ => Ok(()),
    }
}

fn parse_onbuild(node: &Node, args: Vec<String>) -> Result<Onbuild, String> {
    let Some(first) = args.first() else {
        return Err(at_least_one("ONBUILD"));
    };
    Flags::new(&[]).parse(&node.flags)?;
    check_trigger_keyword(first)?;
    let expression = onbuild_expression(node);
    let trigger = match node.args.first() {
        Some(Arg::Nested(child)) => parse_instruction(child),
        _ => parse_onbuild_trigger(&expression),
    }
    .map(Box::new);
    Ok(Onbuild {
        expression,
        trigger,
    })
}

/// The trigger text Docker stores: the original without its leading `ONBUILD`, followed by any
/// heredoc bodies and their delimiters.
fn onbuild_expression(node: &Node) -> String {
    let text = node.original.trim_start();
    let mut expression = match text.get(..7) {
        Some(kw) if kw.eq_ignore_ascii_case("onbuild") => text[7..].trim_start().to_owned(),
        _ => text.to_owned(),
    };
    for h in &node.heredocs {
        expression.push('\n');
        expression.push_str(&h.content);
        expression.push_str(&h.name);
    }
    expression
}

/// A heredoc word (`<<EOF`, `<<-"EOF"`, `3<<EOF`): its name and whether `<<-` strips tabs.
fn heredoc_word(word: &str) -> Option<(String, bool)> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start();
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let name: String = rest.chars().filter(|c| !matches!(c, '\'' | '"')).collect();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    Some((name, chomp))
}

fn sources_and_dest(
    node: &Node,
    mut args: Vec<String>,
    command: &str,
) -> Result<SourcesAndDest, String> {
    let Some(dest) = args.pop() else {
        return Err(no_destination(command));
    };
    if heredoc_word(&dest).is_some() {
        return Err(format!(
            "{command} cannot accept a heredoc as a destination"
        ));
    }
    let mut out = SourcesAndDest {
        dest,
        sources: Vec::with_capacity(args.len()),
        contents: Vec::new(),
    };
    for src in args {
        match heredoc_word(&src) {
            Some((name, chomped)) => {
                let written = node.heredocs.iter().find(|h| h.name == name);
                let content = written.map(|h| h.content.as_str()).unwrap_or_default();
                let expand = written.map_or_else(|| !src.contains(['\'', '"']), |h| h.expand);
                out.contents.push(SourceContent {
                    path: name,
                    data: if chomped {
                        syntax::chomp_heredoc_content(content)
                    } else {
                        content.to_owned()
                    },
                    expand,
                });
            }
            None => out.sources.push(src),
        }
    }
    Ok(out)
}

fn no_destination(command: &str) -> String {
    format!(
        "{command} requires at least two arguments, but only one was provided. Destination could not be determined"
    )
}

fn parse_copy(node: &Node, args: Vec<String>) -> Result<Instruction, String> {
    if args.len() < 2 {
        return Err(no_destination("COPY"));
    }
    let flags = Flags::new(&[
        ("chown", FlagKind::String),
        ("from", FlagKind::String),
        ("chmod", FlagKind::String),
        ("link", FlagKind::Bool),
        ("parents", FlagKind::Bool),
        ("exclude", FlagKind::Strings),
    ])
    .parse(&node.flags)?;
    Ok(Instruction::Copy(Copy {
        paths: sources_and_dest(node, args, "COPY")?,
        from: flags.non_empty("from"),
        chown: flags.non_empty("chown"),
        chmod: flags.non_empty("chmod"),
        link: flags.bool("link"),
        parents: flags.bool("parents"),
        exclude: flags.strings("exclude"),
    }))
}

fn parse_add(node: &Node, args: Vec<String>) -> Result<Instruction, String> {
    if args.len() < 2 {
        return Err(no_destination("ADD"));
    }
    let flags = Flags::new(&[
        ("chown", FlagKind::String),
        ("chmod", FlagKind::String),
        ("link", FlagKind::Bool),
        ("keep-git-dir", FlagKind::Bool),
        ("checksum", FlagKind::String),
        ("unpack", FlagKind::Bool),
        ("exclude", FlagKind::Strings),
    ])
    .parse(&node.flags)?;
    Ok(Instruction::Add(Add {
        paths: sources_and_dest(node, args, "ADD")?,
        chown: flags.non_empty("chown"),
        chmod: flags.non_empty("chmod"),
        link: flags.bool("link"),
        keep_git_dir: flags.bool("keep-git-dir"),
        checksum: flags.non_empty("checksum"),
        unpack: flags.bool_opt("unpack"),
        exclude: flags.strings("exclude"),
    }))
}

fn parse_run(node: &Node, args: Vec<String>) -> Result<Run, String> {
    let flags = Flags::new(&[
        ("device", FlagKind::Strings),
        ("mount", FlagKind::Strings),
        ("network", FlagKind::String),
        ("security", FlagKind::String),
    ])
    .parse(&node.flags)?;
    let mount_specs = flags.strings("mount");
    for spec in &mount_specs {
        parse_mount(spec, None)?;
    }
    // Specs without variables mean the same before and after expansion: parse them now.
    let mut mounts = Vec::new();
    if !mount_specs.iter().any(|s| s.contains('$')) {
        let mut literal = |v: &str| Ok(v.to_owned());
        for spec in &mount_specs {
            if let Some(m) = parse_mount(spec, Some(&mut literal))? {
                mounts.push(m);
            }
        }
    }
    let devices = flags
        .strings("device")
        .iter()
        .map(|d| parse_device(d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Run {
        cmd: command_line(node, args),
        mount_specs,
        mounts,
        network: parse_network(flags.string("network").as_deref().unwrap_or("default"))?,
        security: parse_security(flags.string("security").as_deref().unwrap_or("sandbox"))?,
        devices,
        flags_used: flags.used(),
    })
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
