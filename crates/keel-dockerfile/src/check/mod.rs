//! Lint rules: BuildKit's build checks (same names, conditions and messages) plus keel's own
//! layer-hygiene rules. They read the syntax [`Ast`] directly: a stage is the nodes from one FROM
//! to the next.
//!
//! Like `docker build --check`, every stage is checked, not only those the target needs.
//!
//! Entry point: [`check`]; configuration: [`CheckConfig`] (the `# check=` directive and the
//! `BUILDKIT_DOCKERFILE_CHECK` build argument).

mod config;
mod dispatch;
mod from;
mod hygiene;
mod naming;
mod reference;
pub mod rules;
mod script;
mod util;

use std::collections::BTreeMap;

use serde::Serialize;

pub use config::{CheckConfig, RuleSet, CHECK_BUILD_ARG};
pub use rules::Rule;

use crate::dockerfile::{is_from, stage_bounds};
use crate::error::Error;
use crate::shell::Lexer;
use crate::span::Span;
use crate::syntax::{Ast, Node};

use dispatch::StageState;
use rules::Report;
use util::words;

/// One rule violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's name (`JSONArgsRecommended`, `ChownAfterCopy`).
    pub rule: &'static str,
    /// The rule's one-line description.
    pub description: &'static str,
    /// The detail, worded exactly as BuildKit words it for BuildKit's rules.
    pub message: String,
    /// The rule's documentation.
    pub url: String,
    /// The instruction at fault (its lines).
    pub span: Span,
}

/// Looks up a base image's environment (its config's `Env`), `None` when it is not known.
pub type BaseEnv<'a> = &'a dyn Fn(&str) -> Option<Vec<(String, String)>>;

fn unknown_image(_: &str) -> Option<Vec<(String, String)>> {
    None
}

/// What [`check`] needs besides the file.
pub struct CheckOptions<'a> {
    /// The config to apply; `None` reads the `# check=` directive and the
    /// `BUILDKIT_DOCKERFILE_CHECK` build argument (which replaces the directive when given).
    pub config: Option<CheckConfig>,
    /// Build arguments (`--build-arg`), for the FROM and ARG rules.
    pub build_args: BTreeMap<String, String>,
    /// A base image's environment. For an image it does not know, UndefinedVar stays quiet in
    /// that stage rather than guess. `scratch` and earlier stages are always known.
    pub base_env: BaseEnv<'a>,
}

impl Default for CheckOptions<'static> {
    fn default() -> Self {
        CheckOptions {
            config: None,
            build_args: BTreeMap::new(),
            base_env: &unknown_image,
        }
    }
}

/// A stage as the rules see it: its FROM and the instructions up to the next FROM.
pub(crate) struct Stage<'a> {
    pub from: &'a Node,
    /// The base image or stage, as written (variables not expanded).
    pub base: String,
    /// The stage name after `AS`, lower-cased as BuildKit keeps it.
    pub name: Option<String>,
    pub commands: &'a [Node],
}

/// Split the file into global instructions (before the first FROM) and stages, as the stage
/// builder does ([`crate::dockerfile::from_ast`]).
fn stages(ast: &Ast) -> (&[Node], Vec<Stage<'_>>) {
    let (global, bounds) = stage_bounds(&ast.children, is_from);
    let mut out = Vec::with_capacity(bounds.len());
    for bound in bounds {
        let from = &ast.children[bound.start];
        let args = words(from);
        let name = match args.as_slice() {
            [_, kw, name] if kw.eq_ignore_ascii_case("as") => Some(name.to_lowercase()),
            _ => None,
        };
        out.push(Stage {
            from,
            base: args.first().map(|s| s.to_string()).unwrap_or_default(),
            name,
            commands: &ast.children[bound.start + 1..bound.end],
        });
    }
    (&ast.children[global], out)
}

/// Run every enabled rule over the file. Findings come ordered by line.
///
/// Fails only when the check configuration cannot be parsed. With `error=true`, pass the findings
/// to [`CheckConfig::enforce`] to fail the build.
pub fn check(ast: &Ast, opts: &CheckOptions<'_>) -> Result<Vec<Finding>, Error> {
    let config = match &opts.config {
        Some(c) => c.clone(),
        None => CheckConfig::resolve(
            ast.directives.check.as_deref(),
            opts.build_args.get(CHECK_BUILD_ARG).map(String::as_str),
        )?,
    };
    let mut report = Report::new(&config);
    let escape = if ast.directives.escape == '\0' {
        '\\'
    } else {
        ast.directives.escape
    };
    let lexer = Lexer::new(escape);
    let (meta, stages) = stages(ast);

    naming::check(ast, &stages, &mut report);
    let (bases, globals) = from::check(&lexer, meta, &stages, &opts.build_args, &mut report);

    let mut ends: Vec<(Option<String>, StageState)> = Vec::new();
    for (stage, base) in stages.iter().zip(bases) {
        let state = match base {
            None => StageState::from_image(None),
            Some(base) => {
                let earlier = ends
                    .iter()
                    .rev()
                    .find(|(name, _)| name.as_deref() == Some(base.as_str()));
                match earlier {
                    Some((_, s)) => s.clone(),
                    None if base == "scratch" => StageState::from_image(Some(Vec::new())),
                    None => StageState::from_image((opts.base_env)(&base)),
                }
            }
        };
        let mut ctx = dispatch::Ctx {
            lexer: &lexer,
            globals: &globals,
            build_args: &opts.build_args,
            report: &mut report,
        };
        let end = dispatch::stage(&mut ctx, stage.commands, state);
        ends.push((stage.name.clone(), end));
    }

    let mut findings = report.findings;
    findings.sort_by_key(|f| f.span.line);
    Ok(findings)
}
