//! Instructions → stages: the global ARGs before the first FROM, one [`Stage`] per FROM with
//! its commands, and (in [`resolve`]) the stage graph for a build's arguments and `--target`.

mod resolve;

pub use resolve::{
    resolve, Base, Dependency, DependencyKind, ResolveOptions, Resolved, ResolvedStage, Source,
    PROXY_ARGS,
};

use std::collections::BTreeMap;
use std::ops::Range;

use crate::error::Error;
use crate::instruction::{parse_instruction_owned, Command, Instruction};
use crate::span::Span;
use crate::syntax::{self, Ast, Directives, Node, Warning};

/// A parsed Dockerfile: typed instructions grouped into stages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub directives: Directives,
    /// The ARG instructions before the first FROM (the global scope).
    pub meta_args: Vec<Command>,
    pub stages: Vec<Stage>,
    /// The parser's non-fatal findings.
    pub warnings: Vec<Warning>,
}

/// One build stage: a FROM and the instructions up to the next FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Position in the file, from 0 (`COPY --from=0`).
    pub index: usize,
    /// `AS name`, lower-cased (names match case-insensitively).
    pub name: Option<String>,
    /// `AS name` as written.
    pub name_as_written: Option<String>,
    /// The FROM argument as written (variables not yet expanded).
    pub base: String,
    /// `FROM --platform=` as written.
    pub platform: Option<String>,
    /// The FROM instruction itself.
    pub from: Command,
    /// The instructions after FROM, in order.
    pub commands: Vec<Command>,
    /// From the FROM keyword to the end of the stage's last instruction.
    pub span: Span,
    /// The description from a `# NAME description` comment above FROM.
    pub comment: Option<String>,
}

impl Stage {
    /// The name, or the index as text for unnamed stages (as BuildKit's progress shows them).
    pub fn display_name(&self) -> String {
        self.name_as_written
            .clone()
            .unwrap_or_else(|| self.index.to_string())
    }
}

/// Parse a Dockerfile into stages.
///
/// Errors: syntax errors, instruction errors, an instruction other than ARG before the first
/// FROM, a file without FROM, and duplicate stage names.
pub fn parse(source: &[u8]) -> Result<Dockerfile, Error> {
    from_ast(syntax::parse(source)?)
}

/// Group an already parsed syntax tree into stages (see [`parse`]).
pub fn from_ast(ast: Ast) -> Result<Dockerfile, Error> {
    let Ast {
        directives,
        children,
        warnings,
    } = ast;
    let (global, bounds) = stage_bounds(&children, is_from);
    let mut nodes = children.into_iter();

    // Instructions are parsed in file order, so the first error in the file is the one reported.
    let mut meta_args = Vec::with_capacity(global.len());
    for node in nodes.by_ref().take(global.len()) {
        let command = parse_instruction_owned(node)?;
        if !matches!(command.instruction, Instruction::Arg(_)) {
            return Err(
                Error::stage("no build stage in current context", Some(command.span)).with_hint(
                    format!(
                        "only ARG may come before the first FROM; {} needs a stage",
                        command.keyword()
                    ),
                ),
            );
        }
        meta_args.push(command);
    }

    let mut stages: Vec<Stage> = Vec::with_capacity(bounds.len());
    let mut names: BTreeMap<String, Span> = BTreeMap::new();
    for bound in bounds {
        let mut group = nodes.by_ref().take(bound.len());
        let Some(from_node) = group.next() else {
            break;
        };
        let command = parse_instruction_owned(from_node)?;
        let Instruction::From(from) = &command.instruction else {
            // `is_from` and the instruction parser agree on what a FROM is.
            return Err(Error::stage(
                "a stage must start with FROM",
                Some(command.span),
            ));
        };
        if let Some(name) = &from.name {
            if let Some(first) = names.get(name) {
                return Err(Error::stage(
                    format!(
                        "duplicate stage name {:?}, stage names should be unique (first defined on line {})",
                        from.name_as_written.as_deref().unwrap_or(name),
                        first.line
                    ),
                    Some(command.span),
                ));
            }
            names.insert(name.clone(), command.span);
        }
        let mut stage = Stage {
            index: stages.len(),
            name: from.name.clone(),
            name_as_written: from.name_as_written.clone(),
            base: from.base.clone(),
            platform: from.platform.clone(),
            span: command.span,
            comment: from.comment.clone(),
            from: command,
            commands: Vec::with_capacity(bound.len() - 1),
        };
        for node in group {
            let command = parse_instruction_owned(node)?;
            stage.span.end_line = command.span.end_line;
            stage.span.end_col = command.span.end_col;
            stage.commands.push(command);
        }
        stages.push(stage);
    }
    if stages.is_empty() {
        return Err(Error::stage("dockerfile contains no stages to build", None)
            .with_hint("add a FROM instruction"));
    }
    Ok(Dockerfile {
        directives,
        meta_args,
        stages,
        warnings,
    })
}

/// Whether a node starts a stage.
pub(crate) fn is_from(node: &Node) -> bool {
    node.keyword.eq_ignore_ascii_case("from")
}

/// Where the stages of a file are: the instructions before the first FROM (the global scope),
/// and for each stage the range from its FROM up to the next FROM. Shared by the stage builder
/// and the checks, which both read the file this way.
pub(crate) fn stage_bounds<T>(
    items: &[T],
    is_from: impl Fn(&T) -> bool,
) -> (Range<usize>, Vec<Range<usize>>) {
    let starts: Vec<usize> = (0..items.len()).filter(|&i| is_from(&items[i])).collect();
    let global = 0..starts.first().copied().unwrap_or(items.len());
    let stages = starts
        .iter()
        .enumerate()
        .map(|(k, &start)| start..starts.get(k + 1).copied().unwrap_or(items.len()))
        .collect();
    (global, stages)
}

#[cfg(test)]
mod tests;
