//! Rules that need a stage's state as BuildKit builds it up instruction by instruction:
//! UndefinedVar, WorkdirRelativePath, JSONArgsRecommended, MultipleInstructionsDisallowed,
//! LegacyKeyValueFormat, SecretsUsedInArgOrEnv, ExposeProtoCasing and ExposeInvalidFormat (and,
//! through [`Hygiene`], keel's own rules, which need the working directory).

use std::collections::{BTreeMap, BTreeSet};

use crate::shell::Lexer;
use crate::span::Span;
use crate::syntax::Node;

use super::from::split_arg;
use super::hygiene::Hygiene;
use super::rules::{self, Report};
use super::util::{expand, flag_value, keyword_as_written, suggest, words, VarList};

/// BuildKit's default PATH for Linux, set on every stage that has none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// ARGs that never become environment variables, and are never reported.
const NON_ENV_ARGS: &[&str] = &["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"];

/// What a stage hands on to stages built `FROM` it.
#[derive(Debug, Clone)]
pub(crate) struct StageState {
    /// The environment, or `None` when the base image's is unknown (UndefinedVar is then off).
    pub env: Option<VarList>,
    /// ARG names declared so far (with or without a value).
    pub declared: Vec<String>,
    /// A WORKDIR was set in this Dockerfile.
    pub workdir_set: bool,
    /// The working directory, `/` where the base image's is unknown.
    pub workdir: String,
    /// A SHELL instruction was given.
    pub shell_set: bool,
}

impl StageState {
    /// A stage on an image with the given environment (`None`: unknown).
    pub fn from_image(env: Option<Vec<(String, String)>>) -> StageState {
        let env = env.map(|e| {
            let mut list = VarList(e);
            if list.get("PATH").is_none() {
                list.set("PATH", DEFAULT_PATH);
            }
            list
        });
        StageState {
            env,
            declared: Vec::new(),
            workdir_set: false,
            workdir: "/".to_string(),
            shell_set: false,
        }
    }
}

/// Everything the walk over one stage reads.
pub(crate) struct Ctx<'a, 'r, 'c> {
    pub lexer: &'a Lexer,
    /// Global ARG values (defaults and build arguments) that stage ARGs may inherit.
    pub globals: &'a VarList,
    pub build_args: &'a BTreeMap<String, String>,
    pub report: &'r mut Report<'c>,
}

/// The last CMD, ENTRYPOINT and HEALTHCHECK of the stage.
#[derive(Default)]
struct Once {
    cmd: Option<Span>,
    entrypoint: Option<Span>,
    healthcheck: Option<Span>,
}

/// Walk one stage's instructions from `state`, returning the state at its end.
pub(crate) fn stage(
    ctx: &mut Ctx<'_, '_, '_>,
    commands: &[Node],
    mut state: StageState,
) -> StageState {
    let mut once = Once::default();
    let mut hygiene = Hygiene::default();
    for node in commands {
        instruction(ctx, node, &mut state, &mut once, &mut hygiene);
    }
    state
}

fn instruction(
    ctx: &mut Ctx<'_, '_, '_>,
    node: &Node,
    state: &mut StageState,
    once: &mut Once,
    hygiene: &mut Hygiene,
) {
    let span = node.span;
    match node.keyword.as_str() {
        "env" | "label" => key_values(ctx, node, state),
        "arg" => arg(ctx, node, state),
        "workdir" => {
            let Some(path) = words(node).first().copied() else {
                return;
            };
            let path = expand_word(ctx, node, state, path).unwrap_or_else(|| path.to_string());
            if !state.workdir_set && !path.starts_with('/') {
                let msg = format!(
                    "Relative workdir {} can have unexpected results if the base image changes",
                    crate::goquote::quote(&path)
                );
                ctx.report.add(&rules::WORKDIR_RELATIVE_PATH, msg, span);
            }
            state.workdir_set = true;
            state.workdir = join_path(&state.workdir, &path);
        }
        "user" | "volume" | "stopsignal" => {
            for w in words(node) {
                expand_word(ctx, node, state, w);
            }
        }
        "copy" | "add" => {
            let dest = copy_add(ctx, node, state);
            if let Some(dest) = dest {
                hygiene.copied(node, &join_path(&state.workdir, &dest));
            }
            if node.keyword == "add" {
                hygiene.add(node, ctx.report);
            }
        }
        "run" => {
            for flag in &node.flags {
                if let Some(mount) = flag.strip_prefix("--mount=") {
                    for field in mount.split(',') {
                        if let Some((_, value)) = field.split_once('=') {
                            expand_word(ctx, node, state, value);
                        }
                    }
                }
            }
            hygiene.run(node, &state.workdir, ctx.report);
        }
        "cmd" | "entrypoint" => {
            let slot = if node.keyword == "cmd" {
                &mut once.cmd
            } else {
                &mut once.entrypoint
            };
            used_once(ctx, node, slot);
            if !node.json && !state.shell_set {
                let msg = format!(
                    "JSON arguments recommended for {} to prevent unintended behavior related to OS signals",
                    keyword_as_written(node)
                );
                ctx.report.add(&rules::JSON_ARGS_RECOMMENDED, msg, span);
            }
        }
        "healthcheck" => used_once(ctx, node, &mut once.healthcheck),
        "shell" => state.shell_set = true,
        "expose" => expose(ctx, node, state),
        _ => {}
    }
}

/// MultipleInstructionsDisallowed, reported at the earlier instruction (the one that is ignored).
fn used_once(ctx: &mut Ctx<'_, '_, '_>, node: &Node, slot: &mut Option<Span>) {
    if let Some(previous) = slot.replace(node.span) {
        let msg = format!(
            "Multiple {} instructions should not be used in the same stage because only the last one will be used",
            keyword_as_written(node)
        );
        ctx.report
            .add(&rules::MULTIPLE_INSTRUCTIONS_DISALLOWED, msg, previous);
    }
}

/// Expand `word` in the stage's environment and report undefined variables; the expanded word.
fn expand_word(
    ctx: &mut Ctx<'_, '_, '_>,
    node: &Node,
    state: &StageState,
    word: &str,
) -> Option<String> {
    let lexer = ctx.lexer;
    expand_with(ctx, lexer, node, state, word)
}

fn expand_with(
    ctx: &mut Ctx<'_, '_, '_>,
    lexer: &Lexer,
    node: &Node,
    state: &StageState,
    word: &str,
) -> Option<String> {
    let env = state.env.as_ref()?;
    let m = expand(lexer, word, env)?;
    undefined(ctx, node, state, env, &m.unmatched);
    Some(m.value)
}

fn undefined(
    ctx: &mut Ctx<'_, '_, '_>,
    node: &Node,
    state: &StageState,
    env: &VarList,
    unmatched: &BTreeSet<String>,
) {
    let options = env.keys();
    for name in unmatched {
        if state.declared.iter().any(|d| d == name) || NON_ENV_ARGS.contains(&name.as_str()) {
            continue;
        }
        let mut msg = format!("Usage of undefined variable '${name}'");
        if let Some(s) = suggest(name, &options, true) {
            msg.push_str(&format!(" (did you mean ${s}?)"));
        }
        ctx.report.add(&rules::UNDEFINED_VAR, msg, node.span);
    }
}

/// ENV and LABEL: `key value marker` triples, the marker empty for the legacy `KEY value` form.
fn key_values(ctx: &mut Ctx<'_, '_, '_>, node: &Node, state: &mut StageState) {
    let args = words(node);
    // The whole instruction is expanded against the environment before it runs.
    let mut pairs = Vec::new();
    for triple in args.chunks(3) {
        let [key, value, marker] = triple else {
            continue;
        };
        let k = expand_word(ctx, node, state, key).unwrap_or_else(|| key.to_string());
        let v = expand_word(ctx, node, state, value).unwrap_or_else(|| value.to_string());
        pairs.push((k, v, marker.is_empty()));
    }
    for (key, value, legacy) in pairs {
        if legacy {
            let kw = keyword_as_written(node);
            let msg = format!(
                "\"{kw} key=value\" should be used instead of legacy \"{kw} key value\" format"
            );
            ctx.report
                .add(&rules::LEGACY_KEY_VALUE_FORMAT, msg, node.span);
        }
        if node.keyword == "env" {
            secret_key(ctx, "ENV", &key, node.span);
            if let Some(env) = state.env.as_mut() {
                env.set(&key, &value);
            }
        }
    }
}

fn arg(ctx: &mut Ctx<'_, '_, '_>, node: &Node, state: &mut StageState) {
    for word in words(node) {
        let (key, default) = split_arg(word);
        secret_key(ctx, "ARG", key, node.span);
        let value = if let Some(v) = ctx.build_args.get(key) {
            Some(v.clone())
        } else if let Some(d) = default {
            Some(expand_word(ctx, node, state, d).unwrap_or_else(|| d.to_string()))
        } else {
            ctx.globals.get(key).map(str::to_string)
        };
        if let (Some(v), Some(env)) = (value, state.env.as_mut()) {
            if !NON_ENV_ARGS.contains(&key) {
                env.set(key, &v);
            }
        }
        state.declared.push(key.to_string());
    }
}

/// SecretsUsedInArgOrEnv: a `_`-separated part of the name is a secret-ish word, and none is an
/// allowed one.
fn secret_key(ctx: &mut Ctx<'_, '_, '_>, instruction: &str, key: &str, span: Span) {
    const DENY: &[&str] = &[
        "apikey",
        "auth",
        "credential",
        "credentials",
        "key",
        "password",
        "pword",
        "passwd",
        "secret",
        "token",
    ];
    const ALLOW: &[&str] = &["public", "file", "version"];
    let has = |list: &[&str]| {
        key.split('_')
            .any(|p| list.iter().any(|t| p.eq_ignore_ascii_case(t)))
    };
    if has(DENY) && !has(ALLOW) {
        let msg = format!(
            "Do not use ARG or ENV instructions for sensitive data ({instruction} {})",
            crate::goquote::quote(key)
        );
        ctx.report
            .add(&rules::SECRETS_USED_IN_ARG_OR_ENV, msg, span);
    }
}

/// COPY/ADD: expand flags, sources and destination; the expanded destination.
fn copy_add(ctx: &mut Ctx<'_, '_, '_>, node: &Node, state: &StageState) -> Option<String> {
    let mut flags = vec!["chown"];
    if node.keyword == "add" {
        flags.push("checksum");
    }
    for f in flags {
        if let Some(v) = flag_value(node, f) {
            expand_word(ctx, node, state, v);
        }
    }
    let args = words(node);
    let (dest, sources) = args.split_last()?;
    for src in sources {
        if src.starts_with("<<") {
            continue;
        }
        expand_word(ctx, node, state, src);
    }
    // Heredoc bodies are expanded with a plain backslash lexer that leaves quotes alone.
    let mut raw = Lexer::new('\\');
    raw.raw_quotes = true;
    for doc in node.heredocs.iter().filter(|h| h.expand) {
        expand_with(ctx, &raw, node, state, &doc.content);
    }
    Some(expand_word(ctx, node, state, dest).unwrap_or_else(|| dest.to_string()))
}

fn expose(ctx: &mut Ctx<'_, '_, '_>, node: &Node, state: &StageState) {
    let empty = VarList::default();
    let env = state.env.as_ref().unwrap_or(&empty);
    for word in words(node) {
        let Ok(ports) = ctx.lexer.process_words(word, env) else {
            continue;
        };
        for raw in ports {
            let parts: Vec<&str> = raw.split(':').collect();
            let (ip, host, container) = match parts.as_slice() {
                [c] => (String::new(), "", *c),
                [h, c] => (String::new(), *h, *c),
                [rest @ .., h, c] => (rest.join(":"), *h, *c),
                [] => continue,
            };
            let (port, proto) = container.split_once('/').unwrap_or((container, ""));
            let known = matches!(proto.to_lowercase().as_str(), "" | "tcp" | "udp" | "sctp");
            if port.is_empty() || !known {
                continue; // the build itself fails on this port
            }
            if proto != proto.to_lowercase() {
                let msg =
                    format!("Defined protocol '{raw}' in EXPOSE instruction should be lowercase");
                ctx.report.add(&rules::EXPOSE_PROTO_CASING, msg, node.span);
            }
            if !ip.is_empty() || !host.is_empty() {
                let msg = format!(
                    "EXPOSE instruction should not define an IP address or host-port mapping, found '{raw}'"
                );
                ctx.report
                    .add(&rules::EXPOSE_INVALID_FORMAT, msg, node.span);
            }
        }
    }
}

/// `path` resolved against `dir`, cleaned (`.`, `..` and repeated slashes removed).
pub(crate) fn join_path(dir: &str, path: &str) -> String {
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{dir}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in full.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}
