//! Vectors from distribution/reference's `normalize_test.go` and `reference_test.go`, plus the
//! messages docker prints.

use super::*;

const DIGEST: &str = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";

fn parse(s: &str) -> ImageRef {
    ImageRef::parse_normalized(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

fn error(s: &str) -> String {
    match ImageRef::parse_normalized(s) {
        Ok(r) => panic!("{s:?} should be rejected, got {r}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn docker_hub_defaults() {
    let r = parse("busybox");
    assert_eq!(r.to_string(), "docker.io/library/busybox");
    assert_eq!(
        r.with_default_tag().to_string(),
        "docker.io/library/busybox:latest"
    );
    assert_eq!((r.domain(), r.path()), ("docker.io", "library/busybox"));
    assert_eq!(r.repository(), "docker.io/library/busybox");
    assert_eq!((r.tag(), r.digest()), (None, None));
    assert_eq!(parse("me/app:1").to_string(), "docker.io/me/app:1");
    assert_eq!(
        parse("index.docker.io/debian").to_string(),
        "docker.io/library/debian"
    );
    assert_eq!(parse("docker.io/library/foo/bar").path(), "library/foo/bar");
}

#[test]
fn registries_ports_tags_and_digests() {
    let r = parse("localhost:5000/a/b:tag");
    assert_eq!(
        (r.domain(), r.path(), r.tag()),
        ("localhost:5000", "a/b", Some("tag"))
    );
    assert_eq!(r.familiar_name(), "localhost:5000/a/b");

    let r = parse(&format!("name@{DIGEST}"));
    assert_eq!(r.digest().map(Digest::as_str), Some(DIGEST));
    assert_eq!(r.tag(), None);
    // A digest is enough: no default tag is added.
    assert_eq!(r.with_default_tag(), r);
    assert_eq!(r.to_string(), format!("docker.io/library/name@{DIGEST}"));

    let short = format!("busybox:latest@{DIGEST}");
    let r = parse(&short);
    assert_eq!(r.tag(), Some("latest"));
    assert_eq!(r.to_string(), format!("docker.io/library/{short}"));
    assert_eq!(r.familiar_string(), short);

    let r = parse("[fc00::1]:5000/docker/docker");
    assert_eq!(r.domain(), "[fc00::1]:5000");
    let r = parse("localhost/x");
    assert_eq!(r.domain(), "localhost");
    // `foo:5000` without a slash is a name with tag 5000, not a registry.
    let r = parse("foo:5000");
    assert_eq!((r.path(), r.tag()), ("library/foo", Some("5000")));
}

#[test]
fn repository_info_table() {
    // (path, familiar name, full name, another spelling, domain) from TestParseRepositoryInfo.
    let cases = [
        (
            "fooo/bar",
            "fooo/bar",
            "docker.io/fooo/bar",
            "index.docker.io/fooo/bar",
            "docker.io",
        ),
        (
            "library/ubuntu",
            "ubuntu",
            "docker.io/library/ubuntu",
            "library/ubuntu",
            "docker.io",
        ),
        (
            "nonlibrary/ubuntu",
            "nonlibrary/ubuntu",
            "docker.io/nonlibrary/ubuntu",
            "",
            "docker.io",
        ),
        (
            "other/library",
            "other/library",
            "docker.io/other/library",
            "",
            "docker.io",
        ),
        (
            "private/moonbase",
            "127.0.0.1:8000/private/moonbase",
            "127.0.0.1:8000/private/moonbase",
            "",
            "127.0.0.1:8000",
        ),
        (
            "privatebase",
            "example.com/privatebase",
            "example.com/privatebase",
            "",
            "example.com",
        ),
        (
            "private/moonbase",
            "example.com:8000/private/moonbase",
            "example.com:8000/private/moonbase",
            "",
            "example.com:8000",
        ),
        (
            "library/ubuntu-12.04-base",
            "ubuntu-12.04-base",
            "docker.io/library/ubuntu-12.04-base",
            "index.docker.io/library/ubuntu-12.04-base",
            "docker.io",
        ),
        (
            "library/foo",
            "foo",
            "docker.io/library/foo",
            "docker.io/foo",
            "docker.io",
        ),
        (
            "library/foo/bar",
            "library/foo/bar",
            "docker.io/library/foo/bar",
            "",
            "docker.io",
        ),
        (
            "store/foo/bar",
            "store/foo/bar",
            "docker.io/store/foo/bar",
            "",
            "docker.io",
        ),
        // An upper-case first component can only be a domain.
        ("bar", "Foo/bar", "Foo/bar", "", "Foo"),
        ("bar", "FOO/bar", "FOO/bar", "", "FOO"),
    ];
    for (path, familiar, full, other, domain) in cases {
        for input in [familiar, full, other] {
            if input.is_empty() {
                continue;
            }
            let r = parse(input);
            assert_eq!(r.path(), path, "{input}");
            assert_eq!(r.domain(), domain, "{input}");
            assert_eq!(r.to_string(), full, "{input}");
            assert_eq!(r.familiar_name(), familiar, "{input}");
        }
    }
}

#[test]
fn valid_names() {
    for name in [
        "docker/docker",
        "library/debian",
        "127.0.0.1:5000/library/debian",
        "192.168.0.1",
        "192.168.0.1:80",
        "192.168.0.1:8/debian",
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "Docker/docker",
        "docker-rules/docker",
        "docker---rules/docker",
        "d/docker",
        "jess/t",
        "dock__er/docker",
        "test_com/foo",
        "xn--n3h.com:18080/foo",
        "a.b-c_d__e/f",
    ] {
        parse(name);
    }
}

#[test]
fn invalid_names() {
    let too_long = format!("{}/docker", "a".repeat(256));
    for name in [
        "https://github.com/docker/docker",
        "docker/Docker",
        "-docker",
        "-docker/docker",
        "-docker.io/docker/docker",
        "docker///docker",
        "docker.io/docker/Docker",
        "[fc00::1]",
        "[fc00::1]:5000",
        "fc00::1:5000/debian",
        "[fe80::1%eth0]:5000/debian",
        "[2001:db8:3:4::192.0.2.33]:5000/debian",
        "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "docker-/docker",
        "____/____",
        "_docker/_docker",
        "dock..er/docker",
        "dock_.er/docker",
        "dock-.er/docker",
        "dock___er/docker",
        "docker/",
        "",
        ":",
        "foo:",
        "foo@",
        "a:b:c",
        too_long.as_str(),
    ] {
        assert!(
            ImageRef::parse_normalized(name).is_err(),
            "{name:?} should be invalid"
        );
    }
}

#[test]
fn messages_are_dockers() {
    assert_eq!(
        error("Foo"),
        "invalid reference format: repository name (library/Foo) must be lowercase"
    );
    assert_eq!(
        error("localhost:5000/Foo:Tag"),
        "invalid reference format: repository name (Foo) must be lowercase"
    );
    assert_eq!(error("-foo"), "invalid reference format");
    assert_eq!(error("busybox:-tag"), "invalid reference format");
    assert_eq!(error("foo@sha256:abc"), "invalid reference format");
    assert_eq!(
        error(&"a".repeat(64)),
        format!(
            "invalid repository name ({}), cannot specify 64-byte hexadecimal strings",
            "a".repeat(64)
        )
    );
    assert_eq!(
        error(&format!("{}/x", "a".repeat(256))),
        "repository name must not be more than 255 characters"
    );
    // The domain `Foo_x` is not a valid host, so the whole name is a path, valid once
    // lower-cased.
    assert_eq!(error("Foo_x/bar"), "repository name must be lowercase");
    assert_eq!(
        error(&format!("foo@sha256:{}", "a".repeat(40))),
        "invalid checksum digest length"
    );
    assert_eq!(
        error(&format!("foo@sha256:{}", "A".repeat(64))),
        "invalid checksum digest format"
    );
    assert_eq!(
        error(&format!("foo@md5x:{}", "a".repeat(32))),
        "unsupported digest algorithm"
    );
    assert_eq!(
        error(&format!("foo:1@SHA256:{}", "a".repeat(64))),
        "invalid checksum digest format"
    );
    // docker checks case up to the first ':', digest included.
    assert_eq!(
        error(&format!("foo@SHA256:{}", "a".repeat(64))),
        "invalid reference format: repository name (library/foo@SHA256) must be lowercase"
    );
    let err = ImageRef::parse_normalized("Foo").expect_err("invalid");
    assert_eq!(err.input(), "Foo");
}

#[test]
fn tag_grammar() {
    let r = parse("busybox");
    let max = "a".repeat(128);
    for ok in ["latest", "_x", "1.2.3-rc_1", "A", max.as_str()] {
        assert_eq!(r.with_tag(ok).expect("valid tag").tag(), Some(ok));
    }
    let too_long = "a".repeat(129);
    for bad in ["", ".x", "-x", "a/b", "a:b", "a@b", too_long.as_str()] {
        let err = r.with_tag(bad).expect_err("invalid tag");
        assert_eq!(err.to_string(), "invalid tag format");
    }
    assert!(ImageRef::parse_normalized(&format!("busybox:{max}")).is_ok());
    assert!(ImageRef::parse_normalized(&format!("busybox:{too_long}")).is_err());
}

#[test]
fn with_tag_keeps_the_digest_and_trimming_drops_both() {
    let r = parse(&format!("busybox@{DIGEST}"));
    let tagged = r.with_tag("1").expect("valid");
    assert_eq!(
        tagged.to_string(),
        format!("docker.io/library/busybox:1@{DIGEST}")
    );
    assert_eq!(
        tagged.without_tag_or_digest().to_string(),
        "docker.io/library/busybox"
    );
    let d: Digest = DIGEST.parse().expect("valid");
    assert_eq!(
        parse("a:1").with_digest(d).familiar_string(),
        format!("a:1@{DIGEST}")
    );
}

#[test]
fn canonical_parse_rejects_short_forms() {
    assert!(ImageRef::parse_canonical("docker.io/library/busybox:latest").is_ok());
    assert!(ImageRef::parse_canonical("localhost:5000/a").is_ok());
    for short in [
        "busybox",
        "busybox:latest",
        "index.docker.io/library/busybox",
        "docker.io/busybox",
    ] {
        let err = ImageRef::parse_canonical(short).expect_err("short form");
        assert_eq!(
            err.to_string(),
            "repository name must be canonical",
            "{short}"
        );
    }
}

#[test]
fn docker_quirks_are_kept() {
    // Looks like a domain to the normaliser (it has a dot) but is not a valid host, so docker
    // ends up with a name without domain; the full form is the input itself.
    let r = parse("a__b.c/d");
    assert_eq!((r.domain(), r.path()), ("", "a__b.c/d"));
    assert_eq!(r.to_string(), "a__b.c/d");
    assert_eq!(parse(&r.to_string()), r);
    // The familiar form is for display: docker shows `docker.io/a.b/c` as `a.b/c`, which reads
    // back as a name on registry `a.b`. Only the full form round-trips.
    let r = parse("docker.io/a.b/c");
    assert_eq!(
        (r.domain(), r.familiar_name()),
        ("docker.io", "a.b/c".to_owned())
    );
    assert_eq!(parse(&r.familiar_name()).domain(), "a.b");
    assert_eq!(parse(&r.to_string()), r);
    // 63 hex characters are a name, 64 an ID.
    assert_eq!(
        parse(&"a".repeat(63)).path(),
        format!("library/{}", "a".repeat(63))
    );
}

#[test]
fn serde_uses_the_full_form() {
    let r = parse("busybox:1");
    let json = serde_json::to_string(&r).expect("serializes");
    assert_eq!(json, r#""docker.io/library/busybox:1""#);
    assert_eq!(serde_json::from_str::<ImageRef>(&json).expect("valid"), r);
    assert!(serde_json::from_str::<ImageRef>(r#""Bad""#).is_err());
}
