//! Stage and graph semantics through the real parser: multi-stage builds, `--target` pruning,
//! `COPY --from` by name, index and image, global ARGs in FROM, build-arg overrides, predefined
//! platform args, cycles and forward references, duplicate and invalid stage names, unused
//! build args, and ONBUILD.

use std::collections::BTreeMap;

use keel_dockerfile::dockerfile::{parse, resolve, Base, ResolveOptions, Resolved, Source};
use keel_dockerfile::instruction::Instruction;
use keel_dockerfile::ErrorKind;
use keel_oci::Platform;

fn opts(args: &[(&str, &str)], target: Option<&str>) -> ResolveOptions {
    ResolveOptions {
        build_args: args
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        target: target.map(str::to_owned),
        target_platform: Platform::new("linux", "arm", "v7"),
        build_platform: Platform::new("linux", "amd64", ""),
    }
}

fn resolved(text: &str, args: &[(&str, &str)], target: Option<&str>) -> Resolved {
    let df = parse(text.as_bytes()).expect("parses");
    resolve(&df, &opts(args, target)).expect("resolves")
}

fn resolve_err(text: &str, target: Option<&str>) -> keel_dockerfile::Error {
    let df = parse(text.as_bytes()).expect("parses");
    resolve(&df, &opts(&[], target)).expect_err("should fail")
}

const MULTI: &str = r#"# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETARCH
RUN --mount=type=cache,target=/root/.cache GOARCH=$TARGETARCH go build -o /out/app .

FROM alpine:3.19 AS test
COPY --from=build /out/app /app
RUN /app -test

FROM build AS lint
RUN golangci-lint run

FROM scratch
COPY --from=0 /out/app /app
COPY --from=nginx:latest /etc/nginx/mime.types /etc/
ENTRYPOINT ["/app"]
"#;

#[test]
fn multi_stage_default_target_prunes() {
    let r = resolved(MULTI, &[], None);
    assert_eq!(r.target, 3);
    assert_eq!(r.order, [0, 3]);
    assert_eq!(r.stages[0].base, Base::Image("golang:1.22".into()));
    assert_eq!(
        r.stages[0].platform,
        Some(Platform::new("linux", "amd64", ""))
    );
    assert_eq!(r.stages[3].base, Base::Scratch);
    let sources: Vec<Source> = r.stages[3]
        .dependencies
        .iter()
        .map(|d| d.source.clone())
        .collect();
    assert_eq!(
        sources,
        [Source::Stage(0), Source::Image("nginx:latest".into())]
    );
}

#[test]
fn target_selects_and_matches_case_insensitively() {
    let r = resolved(MULTI, &[], Some("TEST"));
    assert_eq!((r.target, r.order.clone()), (1, vec![0, 1]));
    let r = resolved(MULTI, &[], Some("lint"));
    assert_eq!(r.stages[2].base, Base::Stage(0));
    assert_eq!(r.order, [0, 2]);
}

#[test]
fn unknown_target_lists_stages() {
    let e = resolve_err(MULTI, Some("release"));
    assert_eq!(e.kind, ErrorKind::Stage);
    assert_eq!(e.message, "target stage \"release\" could not be found");
    assert_eq!(
        e.hint.as_deref(),
        Some("available stages: build, test, lint")
    );
}

#[test]
fn global_args_and_overrides() {
    let r = resolved(MULTI, &[("GO_VERSION", "1.23")], None);
    assert_eq!(r.stages[0].base, Base::Image("golang:1.23".into()));
    let text = "ARG REGISTRY=docker.io\nARG IMAGE=${REGISTRY}/library/alpine\nARG TAG\nFROM ${IMAGE}:${TAG:-latest}\n";
    let r = resolved(text, &[("REGISTRY", "ghcr.io")], None);
    assert_eq!(
        r.stages[0].base,
        Base::Image("ghcr.io/library/alpine:latest".into())
    );
    assert!(r.stages[0].unset_vars.contains("TAG"));
}

#[test]
fn predefined_platform_args() {
    let text = "FROM alpine:${TARGETARCH}-${TARGETVARIANT}\nFROM --platform=${TARGETPLATFORM} busybox AS b\n";
    let r = resolved(text, &[], Some("b"));
    assert_eq!(r.global_args["TARGETPLATFORM"], "linux/arm/v7");
    assert_eq!(r.global_args["BUILDARCH"], "amd64");
    assert_eq!(
        r.stages[1].platform,
        Some(Platform::new("linux", "arm", "v7"))
    );
    let r = resolved(text, &[], None);
    assert_eq!(r.stages[1].base, Base::Image("busybox".into()));
    let r = resolved("FROM alpine:${TARGETARCH}-${TARGETVARIANT}\n", &[], None);
    assert_eq!(r.stages[0].base, Base::Image("alpine:arm-v7".into()));
}

#[test]
fn cycles_and_forward_references() {
    let e = resolve_err(
        "FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\nCOPY --from=a /y /y\n",
        None,
    );
    assert!(
        e.message
            .starts_with("circular dependency detected on stage"),
        "{}",
        e.message
    );
    let e = resolve_err("FROM base\nFROM alpine AS base\n", None);
    assert!(e.message.contains("defined later"), "{}", e.message);
    assert_eq!(e.span.map(|s| s.line), Some(1));
    let e = resolve_err("FROM alpine\nCOPY --from=3 /x /x\n", None);
    assert_eq!(e.message, "invalid stage index 3");
}

#[test]
fn stage_name_errors() {
    let e = parse(b"FROM alpine AS app\nFROM alpine AS App\n").expect_err("duplicate");
    assert!(
        e.message.starts_with("duplicate stage name \"App\""),
        "{}",
        e.message
    );
    assert_eq!(e.span.map(|s| s.line), Some(2));
    let e = parse(b"FROM alpine AS 1st\n").expect_err("invalid");
    assert!(
        e.message
            .starts_with("invalid name for build stage: \"1st\""),
        "{}",
        e.message
    );
    let e = parse(b"FROM alpine AS my$stage\n").expect_err("invalid");
    assert!(
        e.message.starts_with("invalid name for build stage"),
        "{}",
        e.message
    );
    let e = parse(b"RUN echo\nFROM alpine\n").expect_err("no stage");
    assert_eq!(e.message, "no build stage in current context");
}

#[test]
fn unused_build_args_and_proxies() {
    let text = "ARG USED_GLOBALLY\nFROM alpine\nARG USED_IN_STAGE\nRUN echo\nFROM alpine AS other\nARG ONLY_OTHER\n";
    let r = resolved(
        text,
        &[
            ("USED_GLOBALLY", "1"),
            ("USED_IN_STAGE", "2"),
            ("ONLY_OTHER", "3"),
            ("TYPO", "4"),
            ("https_proxy", "http://proxy:3128"),
        ],
        Some("other"),
    );
    assert_eq!(r.unused_build_args, ["TYPO", "USED_IN_STAGE"]);
    assert_eq!(r.proxy_args["https_proxy"], "http://proxy:3128");
}

#[test]
fn stage_arg_takes_global_value() {
    let text = "ARG VERSION=1.0\nFROM alpine\nARG VERSION\nCOPY --from=img:${VERSION} /x /x\n";
    let r = resolved(text, &[], None);
    assert_eq!(
        r.stages[0].dependencies[0].source,
        Source::Image("img:1.0".into())
    );
    let r = resolved(text, &[("VERSION", "2.0")], None);
    assert_eq!(
        r.stages[0].dependencies[0].source,
        Source::Image("img:2.0".into())
    );
}

#[test]
fn run_mount_from_is_a_dependency() {
    let text =
        "FROM alpine AS tools\nFROM alpine\nRUN --mount=type=bind,from=tools,target=/t /t/run\n";
    let r = resolved(text, &[], None);
    assert_eq!(r.order, [0, 1]);
}

#[test]
fn onbuild_is_kept() {
    let df = parse(b"FROM alpine\nONBUILD RUN echo hi\nONBUILD COPY . /src\n").expect("parses");
    let triggers: Vec<&str> = df.stages[0]
        .commands
        .iter()
        .filter_map(|c| match &c.instruction {
            Instruction::Onbuild(o) => Some(o.expression.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(triggers, ["RUN echo hi", "COPY . /src"]);
    let Instruction::Onbuild(o) = &df.stages[0].commands[0].instruction else {
        panic!("not ONBUILD")
    };
    assert_eq!(o.trigger.as_ref().map(|t| t.keyword()), Ok("RUN"));
    let stored =
        keel_dockerfile::instruction::parse_onbuild_trigger("COPY . /src").expect("parses");
    assert_eq!(stored.keyword(), "COPY");
}
