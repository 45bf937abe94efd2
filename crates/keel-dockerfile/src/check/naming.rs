//! Rules on how instructions and stages are written: NoEmptyContinuation, MaintainerDeprecated,
//! StageNameCasing, FromAsCasing, InvalidDefinitionDescription, DuplicateStageName,
//! ReservedStageName and ConsistentInstructionCasing.

use std::collections::BTreeSet;

use crate::syntax::{Ast, Node};

use super::from::split_arg;
use super::rules::{self, Report};
use super::util::{keyword_as_written, words};
use super::Stage;

/// Stage names BuildKit keeps for itself.
const RESERVED_STAGE_NAMES: &[&str] = &["context", "scratch"];

pub(crate) fn check(ast: &Ast, stages: &[Stage<'_>], report: &mut Report<'_>) {
    for w in &ast.warnings {
        if w.rule.as_deref() == Some(rules::NO_EMPTY_CONTINUATION.name) {
            let span = w.span.unwrap_or_default();
            report.add(
                &rules::NO_EMPTY_CONTINUATION,
                "Empty continuation line".into(),
                span,
            );
        }
    }
    for node in &ast.children {
        match node.keyword.as_str() {
            "maintainer" => report.add(
                &rules::MAINTAINER_DEPRECATED,
                "Maintainer instruction is deprecated in favor of using label".into(),
                node.span,
            ),
            "from" => from_casing(node, report),
            "arg" => {
                let keys: Vec<&str> = words(node).into_iter().map(|w| split_arg(w).0).collect();
                definition_description("ARG", &keys, node, report);
            }
            _ => {}
        }
    }
    stage_names(stages, report);
    instruction_casing(stages, report);
}

fn is_lower(s: &str) -> bool {
    s == s.to_lowercase()
}

fn is_upper(s: &str) -> bool {
    s == s.to_uppercase()
}

fn from_casing(node: &Node, report: &mut Report<'_>) {
    let args = words(node);
    if args.len() == 3 && !is_lower(args[2]) {
        let msg = format!("Stage name '{}' should be lowercase", args[2]);
        report.add(&rules::STAGE_NAME_CASING, msg, node.span);
    }
    if args.len() >= 3 {
        // A FROM keyword of mixed case is ConsistentInstructionCasing's business alone.
        let from = keyword_as_written(node);
        let mismatch = if is_lower(from) {
            !is_lower(args[1])
        } else if is_upper(from) {
            !is_upper(args[1])
        } else {
            false
        };
        if mismatch {
            let msg = format!("'{}' and '{}' keywords' casing do not match", args[1], from);
            report.add(&rules::FROM_AS_CASING, msg, node.span);
        }
    }
    if args.len() == 3 && args[1].eq_ignore_ascii_case("as") {
        let name = args[2].to_lowercase();
        definition_description("FROM", &[name.as_str()], node, report);
    }
}

/// InvalidDefinitionDescription: a comment right above a stage or ARG should start with its name.
fn definition_description(instruction: &str, keys: &[&str], node: &Node, report: &mut Report<'_>) {
    let (Some(last), Some(first_key)) = (node.prev_comment.last(), keys.first()) else {
        return;
    };
    let first_word = last.split(' ').next().unwrap_or("");
    if keys.contains(&first_word) {
        return;
    }
    let example = if keys.len() > 1 {
        "<arg_key>"
    } else {
        first_key
    };
    let msg =
        format!("Comment for {instruction} should follow the format: `# {example} <description>`");
    report.add(&rules::INVALID_DEFINITION_DESCRIPTION, msg, node.span);
}

fn stage_names(stages: &[Stage<'_>], report: &mut Report<'_>) {
    let mut seen = BTreeSet::new();
    for stage in stages {
        let Some(name) = stage.name.as_deref() else {
            continue;
        };
        let span = stage.from.span;
        if RESERVED_STAGE_NAMES.contains(&name) {
            let msg =
                format!("Stage name should not use the same name as reserved stage \"{name}\"");
            report.add(&rules::RESERVED_STAGE_NAME, msg, span);
        }
        if !seen.insert(name) {
            let msg = format!("Duplicate stage name \"{name}\", stage names should be unique");
            report.add(&rules::DUPLICATE_STAGE_NAME, msg, span);
        }
    }
}

/// ConsistentInstructionCasing: every keyword of every stage against the majority casing
/// (upper case wins ties). Global ARGs are not counted, as in BuildKit.
fn instruction_casing(stages: &[Stage<'_>], report: &mut Report<'_>) {
    let nodes = || {
        stages
            .iter()
            .flat_map(|s| std::iter::once(s.from).chain(s.commands.iter()))
    };
    let (mut lower, mut upper) = (0usize, 0usize);
    for node in nodes() {
        let kw = keyword_as_written(node);
        if is_lower(kw) {
            lower += 1;
        } else if is_upper(kw) {
            upper += 1;
        }
    }
    let majority_lower = lower > upper;
    for node in nodes() {
        let kw = keyword_as_written(node);
        let wrong = if majority_lower {
            (!is_lower(kw)).then_some("lowercase")
        } else {
            (!is_upper(kw)).then_some("uppercase")
        };
        if let Some(casing) = wrong {
            let msg =
                format!("Command '{kw}' should match the case of the command majority ({casing})");
            report.add(&rules::CONSISTENT_INSTRUCTION_CASING, msg, node.span);
        }
    }
}
