//! Stage and graph semantics on hand-built syntax trees (the integration tests in
//! tests/dockerfile_semantics.rs run the same ideas through the real parser).

use std::collections::BTreeMap;

use keel_oci::Platform;

use super::*;
use crate::syntax::{Arg, Ast, Directives, Node};

/// A minimal line parser for these tests only: one instruction per line, leading `--flags`,
/// shell form for RUN/CMD/ENTRYPOINT, `k=v` triples for ENV/LABEL, words otherwise.
fn ast(text: &str) -> Ast {
    let mut children = Vec::new();
    let mut comments = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            comments.push(c.trim_start().to_owned());
            continue;
        }
        let mut words = line.split_whitespace();
        let keyword = words.next().expect("keyword").to_lowercase();
        let mut flags = Vec::new();
        let mut rest: Vec<&str> = Vec::new();
        for w in words {
            if rest.is_empty() && w.starts_with("--") {
                flags.push(w.to_owned());
            } else {
                rest.push(w);
            }
        }
        let args: Vec<String> = match keyword.as_str() {
            "run" | "cmd" | "entrypoint" => vec![rest.join(" ")],
            "env" | "label" => rest
                .iter()
                .flat_map(|w| {
                    let (k, v) = w.split_once('=').expect("k=v");
                    [k.to_owned(), v.to_owned(), "=".to_owned()]
                })
                .collect(),
            _ => rest.iter().map(|w| (*w).to_owned()).collect(),
        };
        children.push(Node {
            keyword,
            flags,
            args: args.into_iter().map(Arg::Word).collect(),
            json: false,
            heredocs: Vec::new(),
            original: line.to_owned(),
            prev_comment: std::mem::take(&mut comments),
            span: Span::on_line(i + 1, 1, line.chars().count()),
        });
    }
    Ast {
        directives: Directives {
            syntax: None,
            escape: '\\',
            check: None,
        },
        children,
        warnings: Vec::new(),
    }
}

fn df(text: &str) -> Dockerfile {
    from_ast(ast(text)).expect("valid Dockerfile")
}

fn opts(args: &[(&str, &str)], target: Option<&str>) -> ResolveOptions {
    ResolveOptions {
        build_args: args
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        target: target.map(str::to_owned),
        target_platform: Platform::new("linux", "arm64", ""),
        build_platform: Platform::new("linux", "amd64", ""),
    }
}

#[test]
fn stages_and_meta_args() {
    let d = df("# VERSION the Go version\nARG VERSION=1.22\n# build compiles\nFROM golang:$VERSION AS Build\nRUN make\nFROM scratch\nCOPY --from=build /out /\n");
    assert_eq!(d.meta_args.len(), 1);
    assert_eq!(d.stages.len(), 2);
    let s = &d.stages[0];
    assert_eq!(s.name.as_deref(), Some("build"));
    assert_eq!(s.name_as_written.as_deref(), Some("Build"));
    assert_eq!(s.comment.as_deref(), Some("compiles"));
    assert_eq!(s.commands.len(), 1);
    assert_eq!((s.span.line, s.span.end_line), (4, 5));
    let Instruction::Arg(a) = &d.meta_args[0].instruction else {
        panic!("not arg")
    };
    assert_eq!(a[0].comment.as_deref(), Some("the Go version"));
}

#[test]
fn stage_errors() {
    let e = from_ast(ast("RUN x\nFROM a")).unwrap_err();
    assert_eq!(e.message, "no build stage in current context");
    assert_eq!(e.span.map(|s| s.line), Some(1));
    let e = from_ast(ast("ARG X")).unwrap_err();
    assert_eq!(e.message, "dockerfile contains no stages to build");
    let e = from_ast(ast("FROM a AS x\nFROM b AS X")).unwrap_err();
    assert!(
        e.message.starts_with("duplicate stage name \"X\""),
        "{}",
        e.message
    );
    assert_eq!(e.span.map(|s| s.line), Some(2));
    let e = from_ast(ast("FROM a AS 9lives")).unwrap_err();
    assert!(e.message.starts_with("invalid name for build stage"));
}

#[test]
fn global_args_and_build_arg_override() {
    let d =
        df("ARG REG=docker.io\nARG IMG=$REG/library/alpine\nARG TAG\nFROM ${IMG}:${TAG:-3.19}\n");
    let r = resolve(&d, &opts(&[], None)).unwrap();
    assert_eq!(
        r.stages[0].base,
        Base::Image("docker.io/library/alpine:3.19".into())
    );
    assert!(r.stages[0].unset_vars.contains("TAG"));
    let r = resolve(&d, &opts(&[("REG", "ghcr.io"), ("TAG", "edge")], None)).unwrap();
    assert_eq!(
        r.stages[0].base,
        Base::Image("ghcr.io/library/alpine:edge".into())
    );
    assert_eq!(r.global_args["IMG"], "ghcr.io/library/alpine");
}

#[test]
fn predefined_platform_args() {
    let d = df("FROM --platform=$BUILDPLATFORM golang AS build\nARG TARGETARCH\nRUN GOARCH=$TARGETARCH make\nFROM alpine:$TARGETARCH\n");
    let r = resolve(&d, &opts(&[], None)).unwrap();
    assert_eq!(
        r.stages[0].platform,
        Some(Platform::new("linux", "amd64", ""))
    );
    assert_eq!(r.stages[1].base, Base::Image("alpine:arm64".into()));
    assert_eq!(r.global_args["TARGETPLATFORM"], "linux/arm64");
    assert_eq!(r.global_args["BUILDOS"], "linux");
    assert_eq!(r.global_args["TARGETVARIANT"], "");
    // Unreachable stage 0 is pruned: the last stage does not need it.
    assert_eq!(r.order, [1]);
}

#[test]
fn target_pruning_and_order() {
    let text = "FROM alpine AS base\nRUN a\nFROM base AS build\nRUN b\nFROM golang AS tools\nFROM scratch AS out\nCOPY --from=build /x /\nCOPY --from=0 /y /\nFROM base AS test\nRUN --mount=type=bind,from=tools,target=/t t\n";
    let d = df(text);
    let r = resolve(&d, &opts(&[], None)).unwrap();
    assert_eq!(r.target, 4);
    assert_eq!(r.order, [0, 2, 4]);
    assert_eq!(r.stages[4].dependencies[1].kind, DependencyKind::MountFrom);
    let r = resolve(&d, &opts(&[], Some("OUT"))).unwrap();
    assert_eq!(r.target, 3);
    assert_eq!(r.order, [0, 1, 3]);
    assert_eq!(r.stages[1].base, Base::Stage(0));
    assert_eq!(r.stages[3].base, Base::Scratch);
    assert_eq!(
        r.stages[3]
            .dependencies
            .iter()
            .map(|d| d.source.clone())
            .collect::<Vec<_>>(),
        [Source::Stage(1), Source::Stage(0)]
    );
    let e = resolve(&d, &opts(&[], Some("nope"))).unwrap_err();
    assert_eq!(e.message, "target stage \"nope\" could not be found");
    assert_eq!(
        e.hint.as_deref(),
        Some("available stages: base, build, tools, out, test")
    );
}

#[test]
fn copy_from_image_and_variables() {
    let d = df("FROM alpine AS a\nFROM alpine AS b\nARG SRC=a\nCOPY --from=$SRC /x /\nCOPY --from=nginx:latest /etc/nginx /n\n");
    let r = resolve(&d, &opts(&[], None)).unwrap();
    assert_eq!(
        r.stages[1]
            .dependencies
            .iter()
            .map(|d| d.source.clone())
            .collect::<Vec<_>>(),
        [Source::Stage(0), Source::Image("nginx:latest".into())]
    );
    assert_eq!(r.order, [0, 1]);
}

#[test]
fn cycles_and_forward_references() {
    let d = df("FROM alpine AS a\nCOPY --from=b /x /\nFROM alpine AS b\nCOPY --from=a /y /\n");
    let e = resolve(&d, &opts(&[], None)).unwrap_err();
    assert!(
        e.message
            .starts_with("circular dependency detected on stage: "),
        "{}",
        e.message
    );
    let d = df("FROM alpine AS a\nCOPY --from=a /x /\n");
    let e = resolve(&d, &opts(&[], None)).unwrap_err();
    assert_eq!(e.message, "circular dependency detected on stage: a");
    let d = df("FROM later\nFROM alpine AS later\n");
    let e = resolve(&d, &opts(&[], None)).unwrap_err();
    assert!(e.message.contains("defined later"), "{}", e.message);
    let d = df("FROM alpine\nCOPY --from=5 /x /\n");
    let e = resolve(&d, &opts(&[], None)).unwrap_err();
    assert_eq!(e.message, "invalid stage index 5");
    // COPY --from a later stage is fine (BuildKit allows it) when there is no cycle.
    let d = df("FROM alpine AS a\nCOPY --from=b /x /\nFROM alpine AS b\n");
    let r = resolve(&d, &opts(&[], Some("a"))).unwrap();
    assert_eq!(r.order, [1, 0]);
    // `FROM x AS x` names the image x.
    let d = df("FROM golang AS golang\n");
    let r = resolve(&d, &opts(&[], None)).unwrap();
    assert_eq!(r.stages[0].base, Base::Image("golang".into()));
}

#[test]
fn stage_args_and_unused_build_args() {
    let d = df("FROM alpine AS a\nARG FROMA=a\nCOPY --from=${FROMA} /x /\n");
    let o = opts(
        &[
            ("LOCAL", "x"),
            ("NOPE", "1"),
            ("HTTP_PROXY", "http://p"),
            ("TARGETOS", "linux"),
            ("ONLY_B", "2"),
        ],
        Some("a"),
    );
    let e = resolve(&d, &o).unwrap_err();
    // --from=a inside stage a: a cycle.
    assert!(e.message.starts_with("circular dependency"));
    let d = df(
        "ARG GLOBAL=g\nFROM alpine AS a\nARG GLOBAL\nARG LOCAL=l\nFROM alpine AS b\nARG ONLY_B\n",
    );
    let r = resolve(&d, &o).unwrap();
    assert_eq!(r.order, [0]);
    // ONLY_B is declared only in an unbuilt stage: unused, like NOPE.
    assert_eq!(r.unused_build_args, ["NOPE", "ONLY_B"]);
    assert_eq!(r.proxy_args["HTTP_PROXY"], "http://p");
    assert_eq!(r.arg_default(&o, "GLOBAL").as_deref(), Some("g"));
    assert_eq!(r.arg_default(&o, "LOCAL").as_deref(), Some("x"));
}

#[test]
fn onbuild_kept_in_stage() {
    let mut a = ast("FROM alpine\nONBUILD RUN echo hi\n");
    let inner = a.children[1].clone();
    a.children[1].args = vec![Arg::Nested(Box::new(Node {
        keyword: "run".into(),
        args: vec![Arg::Word("echo hi".into())],
        original: "RUN echo hi".into(),
        ..inner
    }))];
    let d = from_ast(a).unwrap();
    let Instruction::Onbuild(o) = &d.stages[0].commands[0].instruction else {
        panic!("not onbuild")
    };
    assert_eq!(o.expression, "RUN echo hi");
    assert!(o.trigger.is_ok());
}
