//! Instructions → stages: the global ARGs before the first FROM, one [`Stage`] per FROM with
//! its commands, and (in [`resolve`]) the stage graph for a build's arguments and `--target`.

mod resolve;

pub use resolve::{
    resolve, Base, Dependency, DependencyKind, ResolveOptions, Resolved, ResolvedStage, Source,
    PROXY_ARGS,
};

use std::collections::BTreeMap;

use crate::error::Error;
use crate::instruction::{parse_instruction, Command, Instruction};
use crate::span::Span;
use crate::syntax::{self, Ast, Directives, Warning};

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
    let mut meta_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    let mut names: BTreeMap<String, Span> = BTreeMap::new();
    for node in &ast.children {
        let command = parse_instruction(node)?;
        if let Instruction::From(from) = &command.instruction {
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
            stages.push(Stage {
                index: stages.len(),
                name: from.name.clone(),
                name_as_written: from.name_as_written.clone(),
                base: from.base.clone(),
                platform: from.platform.clone(),
                span: command.span,
                comment: from.comment.clone(),
                from: command,
                commands: Vec::new(),
            });
            continue;
        }
        match stages.last_mut() {
            Some(stage) => {
                stage.span.end_line = command.span.end_line;
                stage.span.end_col = command.span.end_col;
                stage.commands.push(command);
            }
            None if matches!(command.instruction, Instruction::Arg(_)) => meta_args.push(command),
            None => {
                return Err(
                    Error::stage("no build stage in current context", Some(command.span))
                        .with_hint(format!(
                            "only ARG may come before the first FROM; {} needs a stage",
                            command.keyword()
                        )),
                )
            }
        }
    }
    if stages.is_empty() {
        return Err(Error::stage("dockerfile contains no stages to build", None)
            .with_hint("add a FROM instruction"));
    }
    Ok(Dockerfile {
        directives: ast.directives,
        meta_args,
        stages,
        warnings: ast.warnings,
    })
}

#[cfg(test)]
mod tests;
