//! The check configuration: the `# check=` directive and the `BUILDKIT_DOCKERFILE_CHECK` build
//! argument, both in BuildKit's `skip=A,B;error=true;experimental=C` syntax.

use std::collections::BTreeSet;

use crate::error::Error;
use crate::goquote::quote;

use super::rules::Rule;
use super::Finding;

/// The build argument that overrides the `# check=` directive.
pub const CHECK_BUILD_ARG: &str = "BUILDKIT_DOCKERFILE_CHECK";

/// A set of rule names, or every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSet {
    /// `all`.
    All,
    /// The listed rule names (exact, case-sensitive, as BuildKit matches them).
    Only(BTreeSet<String>),
}

impl Default for RuleSet {
    fn default() -> RuleSet {
        RuleSet::Only(BTreeSet::new())
    }
}

impl RuleSet {
    /// Whether `name` is in the set.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            RuleSet::All => true,
            RuleSet::Only(names) => names.contains(name),
        }
    }

    fn parse(value: &str) -> RuleSet {
        let value = value.trim();
        if value == "all" {
            RuleSet::All
        } else {
            RuleSet::Only(value.split(',').map(|r| r.trim().to_string()).collect())
        }
    }
}

/// Which checks run and what a violation does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckConfig {
    /// Rules not to report (`skip=`). Does not apply to experimental rules.
    pub skip: RuleSet,
    /// Fail the build when any rule is violated (`error=true`).
    pub error: bool,
    /// Experimental rules to turn on (`experimental=`); they are off otherwise, whatever `skip`
    /// says.
    pub experimental: RuleSet,
}

impl CheckConfig {
    /// Parse a `skip=...;error=...;experimental=...` value. An empty value is the default config.
    pub fn parse(value: &str) -> Result<CheckConfig, Error> {
        let value = value.trim();
        let mut config = CheckConfig::default();
        if value.is_empty() {
            return Ok(config);
        }
        // BuildKit splits into at most three parts, so a fourth `;` lands inside the third
        // option's value.
        for part in value.splitn(3, ';') {
            let Some((key, val)) = part.split_once('=') else {
                return Err(invalid(format!("invalid check option {}", quote(part))));
            };
            match key.trim() {
                "skip" => config.skip = RuleSet::parse(val),
                "experimental" => config.experimental = RuleSet::parse(val),
                "error" => {
                    config.error = parse_bool(val.trim()).ok_or_else(|| {
                        invalid(format!(
                            "failed to parse check option {}: invalid boolean {}",
                            quote(part),
                            quote(val.trim())
                        ))
                    })?;
                }
                other => return Err(invalid(format!("invalid check option {}", quote(other)))),
            }
        }
        Ok(config)
    }

    /// The config in force: the build argument replaces the directive entirely when it is given,
    /// as in BuildKit.
    pub fn merge(directive: Option<CheckConfig>, build_arg: Option<CheckConfig>) -> CheckConfig {
        build_arg.or(directive).unwrap_or_default()
    }

    /// Parse and [`merge`](CheckConfig::merge) the directive value and the build-argument value.
    pub fn resolve(directive: Option<&str>, build_arg: Option<&str>) -> Result<CheckConfig, Error> {
        let directive = directive.map(CheckConfig::parse).transpose()?;
        let build_arg = build_arg.map(CheckConfig::parse).transpose()?;
        Ok(CheckConfig::merge(directive, build_arg))
    }

    /// Whether findings of `rule` are reported.
    pub fn enabled(&self, rule: &Rule) -> bool {
        if rule.experimental {
            self.experimental.contains(rule.name)
        } else {
            !self.skip.contains(rule.name)
        }
    }

    /// With `error=true`, the error that fails the build when there are findings.
    pub fn enforce(&self, findings: &[Finding]) -> Result<(), Error> {
        if !self.error || findings.is_empty() {
            return Ok(());
        }
        let mut rules: Vec<&str> = Vec::new();
        for f in findings {
            if !rules.contains(&f.rule) {
                rules.push(f.rule);
            }
        }
        let span = findings.first().map(|f| f.span);
        Err(Error::instruction(
            format!("lint violation found for rules: {}", rules.join(", ")),
            span,
        ))
    }
}

fn invalid(message: String) -> Error {
    Error::syntax(format!("failed to parse check options: {message}"), None)
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}
