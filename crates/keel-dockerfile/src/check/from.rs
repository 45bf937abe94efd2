//! Rules on FROM lines, judged with the global (before the first FROM) ARGs: UndefinedArgInFrom,
//! InvalidDefaultArgInFrom, RedundantTargetPlatform and FromPlatformFlagConstDisallowed.

use std::collections::{BTreeMap, BTreeSet};

use crate::shell::Lexer;
use crate::syntax::Node;

use super::reference::{is_valid_reference, parse_platform};
use super::rules::{self, Report};
use super::util::{expand, flag_value, suggest, words, VarList};
use super::Stage;

/// The global scope the FROM lines see.
pub(crate) struct GlobalArgs {
    /// Values in force (defaults, then build arguments).
    pub values: VarList,
    /// Every global ARG name, with or without a value.
    pub declared: BTreeSet<String>,
}

/// BuildKit's automatic platform arguments, for a build on and for `linux/amd64` unless build
/// arguments say otherwise.
fn default_args(build_args: &BTreeMap<String, String>, target: &str) -> VarList {
    let defaults = [
        ("BUILDPLATFORM", "linux/amd64"),
        ("BUILDOS", "linux"),
        ("BUILDOSVERSION", ""),
        ("BUILDARCH", "amd64"),
        ("BUILDVARIANT", ""),
        ("TARGETPLATFORM", "linux/amd64"),
        ("TARGETOS", "linux"),
        ("TARGETOSVERSION", ""),
        ("TARGETARCH", "amd64"),
        ("TARGETVARIANT", ""),
        ("TARGETSTAGE", target),
    ];
    let mut list = VarList::default();
    for (k, v) in defaults {
        let v = build_args.get(k).map_or(v, String::as_str);
        list.set(k, v);
    }
    list
}

/// Split an ARG word `k[=v]`.
pub(crate) fn split_arg(word: &str) -> (&str, Option<&str>) {
    match word.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (word, None),
    }
}

/// Evaluate the global ARGs; `None` when a default cannot be expanded (the build fails there).
fn meta_args(
    mut values: VarList,
    lexer: &Lexer,
    meta: &[Node],
    build_args: Option<&BTreeMap<String, String>>,
) -> Option<GlobalArgs> {
    let mut declared = BTreeSet::new();
    for node in meta.iter().filter(|n| n.keyword == "arg") {
        for word in words(node) {
            let (key, default) = split_arg(word);
            declared.insert(key.to_string());
            let value = match build_args.and_then(|b| b.get(key)) {
                Some(v) => Some(v.clone()),
                None => match default {
                    Some(d) => Some(lexer.process_word_with_matches(d, &values).ok()?.value),
                    None => None,
                },
            };
            if let Some(v) = value {
                values.set(key, &v);
            }
        }
    }
    Some(GlobalArgs { values, declared })
}

/// Run the FROM rules. Returns each stage's base name after expansion (`None` where it could not
/// be expanded) and the global ARG values stage ARGs inherit.
pub(crate) fn check(
    lexer: &Lexer,
    meta: &[Node],
    stages: &[Stage<'_>],
    build_args: &BTreeMap<String, String>,
    report: &mut Report<'_>,
) -> (Vec<Option<String>>, VarList) {
    let target = stages
        .last()
        .and_then(|s| s.name.clone())
        .unwrap_or_default();
    let defaults = default_args(build_args, &target);
    invalid_default_arg(lexer, meta, stages, defaults.clone(), report);

    let Some(globals) = meta_args(defaults, lexer, meta, Some(build_args)) else {
        return (vec![None; stages.len()], VarList::default());
    };
    let mut known: BTreeSet<&str> = globals.declared.iter().map(String::as_str).collect();
    known.extend(globals.values.keys());
    let options: Vec<&str> = known.iter().copied().collect();

    let mut bases = Vec::with_capacity(stages.len());
    for stage in stages {
        let span = stage.from.span;
        let base = expand(lexer, &stage.base, &globals.values);
        if let Some(m) = &base {
            undefined_args(&m.unmatched, &known, &options, span, report);
        }
        if let Some(platform) = flag_value(stage.from, "platform") {
            if let Some(m) = expand(lexer, platform, &globals.values) {
                undefined_args(&m.unmatched, &known, &options, span, report);
                let is_target_platform = m.matched.len() == 1
                    && m.unmatched.is_empty()
                    && m.matched.contains("TARGETPLATFORM");
                if is_target_platform && globals.values.get("TARGETPLATFORM") == Some(&m.value) {
                    let msg = format!(
                        "Setting platform to predefined {platform} in FROM is redundant as this is the default behavior"
                    );
                    report.add(&rules::REDUNDANT_TARGET_PLATFORM, msg, span);
                }
                let constant = m.matched.is_empty() && m.unmatched.is_empty();
                if constant {
                    const_platform(stage, &m.value, report);
                }
            }
        }
        bases.push(base.map(|m| m.value));
    }
    (bases, globals.values)
}

fn undefined_args(
    unmatched: &BTreeSet<String>,
    known: &BTreeSet<&str>,
    options: &[&str],
    span: crate::span::Span,
    report: &mut Report<'_>,
) {
    for arg in unmatched {
        if known.contains(arg.as_str()) {
            continue;
        }
        let mut msg = format!("FROM argument '{arg}' is not declared");
        if let Some(s) = suggest(arg, options, true) {
            msg.push_str(&format!(" (did you mean {s}?)"));
        }
        report.add(&rules::UNDEFINED_ARG_IN_FROM, msg, span);
    }
}

/// FromPlatformFlagConstDisallowed: a literal platform, unless the stage name mentions its OS or
/// architecture (a stage meant for that platform).
fn const_platform(stage: &Stage<'_>, platform: &str, report: &mut Report<'_>) {
    let Some((os, arch)) = parse_platform(platform) else {
        return;
    };
    let name = stage.name.as_deref().unwrap_or("");
    if name.contains(os.as_str()) || name.contains(arch.as_str()) {
        return;
    }
    let msg = format!(
        "FROM --platform flag should not use constant value {}",
        crate::goquote::quote(platform)
    );
    report.add(
        &rules::FROM_PLATFORM_FLAG_CONST_DISALLOWED,
        msg,
        stage.from.span,
    );
}

/// InvalidDefaultArgInFrom: with no build arguments at all, every base name must still be a valid
/// image reference.
fn invalid_default_arg(
    lexer: &Lexer,
    meta: &[Node],
    stages: &[Stage<'_>],
    defaults: VarList,
    report: &mut Report<'_>,
) {
    let Some(globals) = meta_args(defaults, lexer, meta, None) else {
        return;
    };
    for stage in stages {
        let Some(m) = expand(lexer, &stage.base, &globals.values) else {
            return;
        };
        if !is_valid_reference(&m.value) {
            let msg = format!(
                "Default value for ARG {} results in empty or invalid base image name",
                stage.base
            );
            report.add(&rules::INVALID_DEFAULT_ARG_IN_FROM, msg, stage.from.span);
        }
    }
}
