//! `keel build`: BuildArgs → options, then the requested call method (`build`, `check`,
//! `targets`, `outline`).

use std::collections::BTreeMap;

use crate::cli::{BuildArgs, GlobalArgs};
use crate::commands::dockerfile_source::{self, DockerfileSource};
use crate::error::{CliError, CliResult};

/// What `--call` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMethod {
    Build,
    Check,
    Targets,
    Outline,
}

/// How a call's result is printed (`--call=outline,format=json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallFormat {
    Text,
    Json,
}

/// Parse `--call` as buildx does: `METHOD[,format=text|json]`; `--check` means `check`.
pub fn parse_call(call: &str, check: bool) -> CliResult<(CallMethod, CallFormat)> {
    let mut parts = call.split(',');
    let method = match parts.next().unwrap_or("build").trim() {
        "build" | "" => CallMethod::Build,
        "check" | "lint" => CallMethod::Check,
        "targets" => CallMethod::Targets,
        "outline" => CallMethod::Outline,
        other => {
            return Err(CliError::usage(format!(
                "invalid --call method {other:?}: use build, check, outline or targets"
            )))
        }
    };
    let mut format = CallFormat::Text;
    for part in parts {
        match part.trim().split_once('=') {
            Some(("format", "json")) => format = CallFormat::Json,
            Some(("format", "text")) => format = CallFormat::Text,
            _ => {
                return Err(CliError::usage(format!(
                    "invalid --call option {part:?}: only format=text|json is known"
                )))
            }
        }
    }
    let method = if check { CallMethod::Check } else { method };
    if check
        && !matches!(
            call.split(',').next(),
            Some("build" | "check" | "lint" | "")
        )
    {
        return Err(CliError::usage(
            "--check cannot be combined with another --call method",
        ));
    }
    Ok((method, format))
}

/// `--build-arg K=V` sets K; `--build-arg K` takes K from the environment and is dropped when
/// the environment has no K (docker's rule).
pub fn parse_build_args(raw: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for item in raw {
        match item.split_once('=') {
            Some((k, v)) => {
                out.insert(k.to_owned(), v.to_owned());
            }
            None => {
                if let Ok(v) = std::env::var(item) {
                    out.insert(item.clone(), v);
                }
            }
        }
    }
    out
}

pub fn run(global: &GlobalArgs, args: BuildArgs) -> CliResult {
    let (method, format) = parse_call(&args.call, args.check)?;
    let source: DockerfileSource =
        dockerfile_source::for_build(args.file.as_deref(), &args.context)?;
    let build_args = parse_build_args(&args.build_args);
    match method {
        CallMethod::Check => super::call::check(&source, &args, &build_args, format),
        CallMethod::Targets => super::call::targets(&source, format),
        CallMethod::Outline => super::call::outline(&source, &args, &build_args, format),
        CallMethod::Build => super::build_image::run(global, &args, &source, &build_args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_methods() {
        assert_eq!(
            parse_call("build", false).unwrap(),
            (CallMethod::Build, CallFormat::Text)
        );
        assert_eq!(
            parse_call("build", true).unwrap(),
            (CallMethod::Check, CallFormat::Text)
        );
        assert_eq!(
            parse_call("outline,format=json", false).unwrap(),
            (CallMethod::Outline, CallFormat::Json)
        );
        assert!(parse_call("bogus", false).is_err());
        assert!(parse_call("targets", true).is_err());
        assert!(parse_call("check,format=yaml", false).is_err());
    }

    #[test]
    fn build_args_from_flags_and_environment() {
        let args = parse_build_args(&[
            "A=1".into(),
            "B=".into(),
            "KEEL_TEST_SURELY_UNSET_VARIABLE".into(),
        ]);
        assert_eq!(args.get("A").map(String::as_str), Some("1"));
        assert_eq!(args.get("B").map(String::as_str), Some(""));
        assert!(!args.contains_key("KEEL_TEST_SURELY_UNSET_VARIABLE"));
    }
}
