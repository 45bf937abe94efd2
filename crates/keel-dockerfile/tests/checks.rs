//! The lint rules, one positive and one negative case each (mostly the examples of BuildKit's
//! rule pages), plus the skip/error/experimental config and the ordering of findings.
//!
//! The Dockerfiles are turned into syntax nodes by a small line-based builder below, so that these
//! tests depend only on the node contract (src/syntax/node.rs), not on the parser.

// Helpers outside #[test] functions panic on bad fixtures on purpose.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use keel_dockerfile::check::{check, CheckConfig, CheckOptions, Finding, RuleSet};
use keel_dockerfile::syntax::{Arg, Ast, Directives, Node, Warning};
use keel_dockerfile::Span;

/// Build an AST from simple one-line instructions (no continuations, no heredocs).
fn ast(src: &str) -> Ast {
    let mut children = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    let mut check = None;
    for (i, line) in src.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if t.is_empty() {
            comments.clear();
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            if children.is_empty() {
                if let Some(v) = c.trim().strip_prefix("check=") {
                    check = Some(v.to_string());
                    continue;
                }
            }
            comments.push(c.trim().to_string());
            continue;
        }
        let (kw, rest) = t.split_once(' ').unwrap_or((t, ""));
        let keyword = kw.to_lowercase();
        let mut rest = rest.trim();
        let mut flags = Vec::new();
        while rest.starts_with("--") {
            let (f, r) = rest.split_once(' ').unwrap_or((rest, ""));
            flags.push(f.to_string());
            rest = r.trim();
        }
        let mut json = false;
        let args: Vec<String> = match keyword.as_str() {
            "run" | "cmd" | "entrypoint" | "shell" if rest.starts_with('[') => {
                json = true;
                serde_json::from_str::<Vec<String>>(rest).unwrap()
            }
            "run" | "cmd" | "entrypoint" | "shell" => vec![rest.to_string()],
            "env" | "label" => {
                let first = rest.split_whitespace().next().unwrap_or("");
                if first.contains('=') {
                    rest.split_whitespace()
                        .flat_map(|kv| {
                            let (k, v) = kv.split_once('=').unwrap();
                            [k.to_string(), v.to_string(), "=".to_string()]
                        })
                        .collect()
                } else {
                    let (k, v) = rest.split_once(' ').unwrap_or((rest, ""));
                    vec![k.to_string(), v.trim().to_string(), String::new()]
                }
            }
            _ => rest.split_whitespace().map(str::to_string).collect(),
        };
        children.push(Node {
            keyword,
            flags,
            args: args.into_iter().map(Arg::Word).collect(),
            json,
            heredocs: Vec::new(),
            original: t.to_string(),
            prev_comment: std::mem::take(&mut comments),
            span: Span::lines(n, n),
        });
    }
    Ast {
        directives: Directives {
            syntax: None,
            escape: '\\',
            check,
        },
        children,
        warnings: Vec::new(),
    }
}

fn alpine_env(image: &str) -> Option<Vec<(String, String)>> {
    (image == "alpine" || image.starts_with("alpine:")).then(|| {
        vec![(
            "PATH".to_string(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        )]
    })
}

fn run_with(src: &str, build_args: &[(&str, &str)], config: Option<CheckConfig>) -> Vec<Finding> {
    let opts = CheckOptions {
        config,
        build_args: build_args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        base_env: &alpine_env,
    };
    check(&ast(src), &opts).unwrap()
}

fn run(src: &str) -> Vec<Finding> {
    let all = CheckConfig {
        experimental: RuleSet::All,
        ..CheckConfig::default()
    };
    run_with(src, &[], Some(all))
}

/// The findings of one rule, as (line, message).
fn of(rule: &str, src: &str) -> Vec<(usize, String)> {
    run(src)
        .into_iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.span.line, f.message))
        .collect()
}

fn one(rule: &str, src: &str, line: usize, message: &str) {
    assert_eq!(
        of(rule, src),
        vec![(line, message.to_string())],
        "{rule} in:\n{src}"
    );
}

fn none(rule: &str, src: &str) {
    assert_eq!(of(rule, src), vec![], "{rule} in:\n{src}");
}

#[test]
fn json_args_recommended() {
    one(
        "JSONArgsRecommended",
        "FROM alpine\nENTRYPOINT my-program start",
        2,
        "JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals",
    );
    none(
        "JSONArgsRecommended",
        "FROM alpine\nENTRYPOINT [\"my-program\", \"start\"]",
    );
    // An explicit SHELL (here or in the stage it builds on) turns the rule off.
    none(
        "JSONArgsRecommended",
        "FROM alpine AS base\nSHELL [\"/bin/bash\", \"-c\"]\nFROM base\nCMD echo hi",
    );
}

#[test]
fn stage_name_and_from_as_casing() {
    one(
        "StageNameCasing",
        "FROM alpine AS BuilderBase",
        1,
        "Stage name 'BuilderBase' should be lowercase",
    );
    none("StageNameCasing", "FROM alpine AS builder-base");
    one(
        "FromAsCasing",
        "FROM debian:latest as builder",
        1,
        "'as' and 'FROM' keywords' casing do not match",
    );
    none(
        "FromAsCasing",
        "FROM debian:latest AS deb-builder\nfrom alpine as b",
    );
}

#[test]
fn no_empty_continuation() {
    let mut tree = ast("FROM alpine\nRUN apk add gnupg curl");
    tree.warnings.push(Warning {
        rule: Some("NoEmptyContinuation".into()),
        message: "empty continuation line".into(),
        span: Some(Span::lines(3, 3)),
    });
    let f = check(&tree, &CheckOptions::default()).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].rule, f[0].message.as_str(), f[0].span.line),
        ("NoEmptyContinuation", "Empty continuation line", 3)
    );
    none("NoEmptyContinuation", "FROM alpine\nRUN apk add gnupg curl");
}

#[test]
fn consistent_instruction_casing() {
    one(
        "ConsistentInstructionCasing",
        "FROM alpine\nRUN echo hello\ncopy foo /bar",
        3,
        "Command 'copy' should match the case of the command majority (uppercase)",
    );
    one(
        "ConsistentInstructionCasing",
        "from alpine\nrun echo hello\nCopy foo /bar",
        3,
        "Command 'Copy' should match the case of the command majority (lowercase)",
    );
    none(
        "ConsistentInstructionCasing",
        "FROM alpine\nRUN echo hello\nCOPY foo /bar",
    );
}

#[test]
fn duplicate_and_reserved_stage_names() {
    one(
        "DuplicateStageName",
        "FROM debian:latest AS builder\nRUN apt-get update; apt-get install -y curl\nFROM golang:latest AS builder",
        3,
        "Duplicate stage name \"builder\", stage names should be unique",
    );
    none(
        "DuplicateStageName",
        "FROM debian:latest AS deb-builder\nFROM golang:latest AS go-builder",
    );
    one(
        "ReservedStageName",
        "FROM alpine AS scratch",
        1,
        "Stage name should not use the same name as reserved stage \"scratch\"",
    );
    none("ReservedStageName", "FROM alpine AS base");
}

#[test]
fn undefined_arg_in_from() {
    one(
        "UndefinedArgInFrom",
        "FROM node:22${VARIANT} AS jsbuilder",
        1,
        "FROM argument 'VARIANT' is not declared",
    );
    one(
        "UndefinedArgInFrom",
        "ARG VERSION=3\nFROM alpine:$VERSOIN",
        2,
        "FROM argument 'VERSOIN' is not declared (did you mean VERSION?)",
    );
    none(
        "UndefinedArgInFrom",
        "ARG VARIANT=-alpine3.20\nFROM node:22${VARIANT} AS jsbuilder",
    );
    none(
        "UndefinedArgInFrom",
        "FROM --platform=$BUILDPLATFORM alpine",
    );
}

#[test]
fn invalid_default_arg_in_from() {
    one(
        "InvalidDefaultArgInFrom",
        "ARG TAG\nFROM busybox:${TAG}",
        2,
        "Default value for ARG busybox:${TAG} results in empty or invalid base image name",
    );
    none(
        "InvalidDefaultArgInFrom",
        "ARG TAG=latest\nFROM busybox:${TAG}",
    );
    none(
        "InvalidDefaultArgInFrom",
        "ARG TAG\nFROM busybox:${TAG:-latest}",
    );
    // A build argument does not help: the defaults alone must give a valid name.
    let f = run_with("ARG TAG\nFROM busybox:${TAG}", &[("TAG", "1")], None);
    assert!(f.iter().any(|f| f.rule == "InvalidDefaultArgInFrom"));
}

#[test]
fn undefined_var() {
    one(
        "UndefinedVar",
        "FROM alpine AS base\nCOPY $foo .",
        2,
        "Usage of undefined variable '$foo'",
    );
    none("UndefinedVar", "FROM alpine AS base\nARG foo\nCOPY $foo .");
    one(
        "UndefinedVar",
        "FROM alpine\nENV PATH=$PAHT:/app/bin",
        2,
        "Usage of undefined variable '$PAHT' (did you mean $PATH?)",
    );
    // Unknown base image: nothing can be judged.
    none("UndefinedVar", "FROM example.com/custom\nCOPY $foo .");
    // scratch and earlier stages are known; ENV is inherited.
    one(
        "UndefinedVar",
        "FROM scratch\nWORKDIR /$dir",
        2,
        "Usage of undefined variable '$dir'",
    );
    none(
        "UndefinedVar",
        "FROM alpine AS a\nENV dir=x\nFROM a\nWORKDIR /$dir",
    );
    // A global ARG must be redeclared in the stage to be seen there.
    one(
        "UndefinedVar",
        "ARG V=1\nFROM alpine\nUSER $V",
        3,
        "Usage of undefined variable '$V'",
    );
    none("UndefinedVar", "ARG V=1\nFROM alpine\nARG V\nUSER $V");
}

#[test]
fn multiple_instructions_disallowed() {
    one(
        "MultipleInstructionsDisallowed",
        "FROM alpine\nENTRYPOINT [\"echo\", \"Hello, Norway!\"]\nENTRYPOINT [\"echo\", \"Hello, Sweden!\"]",
        2,
        "Multiple ENTRYPOINT instructions should not be used in the same stage because only the last one will be used",
    );
    none(
        "MultipleInstructionsDisallowed",
        "FROM alpine AS a\nCMD [\"a\"]\nFROM a\nCMD [\"b\"]\nHEALTHCHECK NONE",
    );
}

#[test]
fn legacy_key_value_format() {
    one(
        "LegacyKeyValueFormat",
        "FROM alpine\nARG foo\nENV foo bar",
        3,
        "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format",
    );
    one(
        "LegacyKeyValueFormat",
        "FROM alpine\nlabel foo bar",
        2,
        "\"label key=value\" should be used instead of legacy \"label key value\" format",
    );
    none(
        "LegacyKeyValueFormat",
        "FROM alpine\nENV foo=bar\nLABEL a=b",
    );
}

#[test]
fn maintainer_deprecated() {
    one(
        "MaintainerDeprecated",
        "FROM alpine\nMAINTAINER moby@example.com",
        2,
        "Maintainer instruction is deprecated in favor of using label",
    );
    none(
        "MaintainerDeprecated",
        "FROM alpine\nLABEL org.opencontainers.image.authors=\"moby@example.com\"",
    );
}

#[test]
fn workdir_relative_path() {
    one(
        "WorkdirRelativePath",
        "FROM alpine\nWORKDIR app\nWORKDIR more",
        2,
        "Relative workdir \"app\" can have unexpected results if the base image changes",
    );
    none(
        "WorkdirRelativePath",
        "FROM alpine\nWORKDIR /app\nWORKDIR more",
    );
    none(
        "WorkdirRelativePath",
        "FROM alpine AS a\nWORKDIR /app\nFROM a\nWORKDIR more",
    );
}

#[test]
fn secrets_used_in_arg_or_env() {
    one(
        "SecretsUsedInArgOrEnv",
        "FROM scratch\nARG AWS_SECRET_ACCESS_KEY",
        2,
        "Do not use ARG or ENV instructions for sensitive data (ARG \"AWS_SECRET_ACCESS_KEY\")",
    );
    one(
        "SecretsUsedInArgOrEnv",
        "FROM scratch\nENV github_token=x",
        2,
        "Do not use ARG or ENV instructions for sensitive data (ENV \"github_token\")",
    );
    none(
        "SecretsUsedInArgOrEnv",
        "FROM scratch\nARG PUBLIC_KEY\nENV TOKENIZER=x\nENV PASSWORD_FILE=/p",
    );
    // Global ARGs are not checked.
    none("SecretsUsedInArgOrEnv", "ARG GITHUB_TOKEN\nFROM scratch");
}

#[test]
fn redundant_target_platform() {
    one(
        "RedundantTargetPlatform",
        "FROM --platform=$TARGETPLATFORM alpine AS builder",
        1,
        "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
    );
    none(
        "RedundantTargetPlatform",
        "FROM --platform=$BUILDPLATFORM alpine AS builder",
    );
    none("RedundantTargetPlatform", "FROM alpine AS builder");
}

#[test]
fn from_platform_flag_const_disallowed() {
    one(
        "FromPlatformFlagConstDisallowed",
        "FROM --platform=linux/amd64 alpine AS base",
        1,
        "FROM --platform flag should not use constant value \"linux/amd64\"",
    );
    none(
        "FromPlatformFlagConstDisallowed",
        "FROM --platform=linux/amd64 alpine AS build_amd64",
    );
    none(
        "FromPlatformFlagConstDisallowed",
        "FROM --platform=${BUILDPLATFORM} alpine AS base",
    );
}

#[test]
fn expose_rules() {
    one(
        "ExposeProtoCasing",
        "FROM alpine\nEXPOSE 80/TcP",
        2,
        "Defined protocol '80/TcP' in EXPOSE instruction should be lowercase",
    );
    none("ExposeProtoCasing", "FROM alpine\nEXPOSE 80/tcp 53/udp");
    one(
        "ExposeInvalidFormat",
        "FROM alpine\nEXPOSE 127.0.0.1:80:80",
        2,
        "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'",
    );
    one(
        "ExposeInvalidFormat",
        "FROM alpine\nEXPOSE 80:80",
        2,
        "EXPOSE instruction should not define an IP address or host-port mapping, found '80:80'",
    );
    none("ExposeInvalidFormat", "FROM alpine\nEXPOSE 80");
}

#[test]
fn invalid_definition_description_is_experimental() {
    let src =
        "# bar this is the bar\nARG foo=bar\n# BasE this is the BasE image\nFROM scratch AS base";
    assert_eq!(
        of("InvalidDefinitionDescription", src),
        vec![
            (
                2,
                "Comment for ARG should follow the format: `# foo <description>`".to_string()
            ),
            (
                4,
                "Comment for FROM should follow the format: `# base <description>`".to_string()
            ),
        ]
    );
    none(
        "InvalidDefinitionDescription",
        "# foo this is the foo\nARG foo=bar\n\n# this is the base image\n\nFROM scratch AS base",
    );
    // Off by default.
    let f = run_with(src, &[], None);
    assert!(f.iter().all(|f| f.rule != "InvalidDefinitionDescription"));
}

#[test]
fn chown_after_copy() {
    one(
        "ChownAfterCopy",
        "FROM alpine\nCOPY . /app\nRUN apk add x && chown -R app:app /app",
        3,
        "'chown -R /app' rewrites files that COPY on line 2 wrote to '/app', so they are stored twice; use COPY --chown= instead",
    );
    // Relative paths are resolved against WORKDIR; a target that contains the destination counts.
    one(
        "ChownAfterCopy",
        "FROM alpine\nWORKDIR /srv\nCOPY src/ app/\nRUN chmod --recursive g+w /srv",
        4,
        "'chmod -R /srv' rewrites files that COPY on line 3 wrote to '/srv/app', so they are stored twice; use COPY --chmod= instead",
    );
    none(
        "ChownAfterCopy",
        "FROM alpine\nCOPY --chown=app:app . /app\nRUN chown app /app",
    );
    none(
        "ChownAfterCopy",
        "FROM alpine\nCOPY . /app\nRUN chown -R app:app /var/lib/app",
    );
    none(
        "ChownAfterCopy",
        "FROM alpine AS a\nCOPY . /app\nFROM alpine\nRUN chown -R app /app",
    );
}

#[test]
fn apt_update_without_install() {
    one(
        "AptUpdateWithoutInstall",
        "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl",
        2,
        "'apt-get update' without 'apt-get install' in the same RUN stores a package index that goes stale; update and install in one RUN",
    );
    none(
        "AptUpdateWithoutInstall",
        "FROM debian\nRUN apt-get update && apt-get install -y curl",
    );
    none(
        "AptUpdateWithoutInstall",
        "FROM debian\nRUN apt update; DEBIAN_FRONTEND=noninteractive apt -y install curl",
    );
    none(
        "AptUpdateWithoutInstall",
        "FROM debian\nRUN echo apt-get update",
    );
}

#[test]
fn add_local_file() {
    one(
        "AddLocalFile",
        "FROM alpine\nADD app.py config/ /app/",
        2,
        "ADD of local files only copies them; use COPY, and keep ADD for URLs, git sources and local archives to extract",
    );
    none(
        "AddLocalFile",
        "FROM alpine\nADD https://example.com/a.txt /a",
    );
    none(
        "AddLocalFile",
        "FROM alpine\nADD git@github.com:moby/buildkit.git /src",
    );
    none("AddLocalFile", "FROM alpine\nADD rootfs.tar.gz /");
    none(
        "AddLocalFile",
        "FROM alpine\nADD --checksum=sha256:abc x /x",
    );
    none("AddLocalFile", "FROM alpine\nCOPY app.py /app/");
}

#[test]
fn skip_error_and_experimental_config() {
    let src =
        "# check=skip=JSONArgsRecommended,StageNameCasing\nFROM alpine AS BASE_STAGE\nCMD echo hi";
    assert!(run_with(src, &[], None).is_empty());
    // The build argument replaces the directive.
    let f = run_with(
        src,
        &[("BUILDKIT_DOCKERFILE_CHECK", "skip=StageNameCasing")],
        None,
    );
    assert_eq!(
        f.iter().map(|f| f.rule).collect::<Vec<_>>(),
        vec!["JSONArgsRecommended"]
    );
    assert!(run_with("# check=skip=all\nFROM alpine AS X\nCMD x", &[], None).is_empty());

    let c = CheckConfig::parse("skip=all;experimental=InvalidDefinitionDescription;error=true")
        .unwrap();
    assert!(c.error);
    let f = run_with("# x\nFROM alpine AS a\nCMD x", &[], Some(c.clone()));
    assert_eq!(
        f.iter().map(|f| f.rule).collect::<Vec<_>>(),
        vec!["InvalidDefinitionDescription"]
    );
    let err = c.enforce(&f).unwrap_err();
    assert_eq!(
        err.message,
        "lint violation found for rules: InvalidDefinitionDescription"
    );
    assert!(CheckConfig::default().enforce(&f).is_ok());

    for bad in ["skip", "error=maybe", "foo=bar"] {
        assert!(CheckConfig::parse(bad).is_err(), "{bad}");
    }
    let tree = ast("# check=bogus\nFROM alpine");
    assert!(check(&tree, &CheckOptions::default()).is_err());
    assert_eq!(CheckConfig::parse("  ").unwrap(), CheckConfig::default());
}

#[test]
fn findings_are_ordered_by_line() {
    let src = "from alpine AS Build\nMAINTAINER me\nENV key value\nCMD x\nCMD y";
    let f = run(src);
    let lines: Vec<usize> = f.iter().map(|f| f.span.line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    assert!(f.len() >= 6, "{f:#?}");
    assert_eq!(
        f[0].url,
        "https://docs.docker.com/go/dockerfile/rule/stage-name-casing/"
    );
}
