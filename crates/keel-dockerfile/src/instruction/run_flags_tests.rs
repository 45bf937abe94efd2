//! Unit tests of `run_flags.rs`.
use super::*;

fn literal(spec: &str) -> Result<Mount, String> {
    let mut id = |v: &str| Ok(v.to_owned());
    parse_mount(spec, Some(&mut id)).map(|m| m.expect("expander given"))
}

#[test]
fn mount_defaults() {
    let m = literal("target=/src").unwrap();
    assert_eq!(m.kind, MountType::Bind);
    assert!(m.read_only);
    let m = literal("type=cache,target=/root/.cache").unwrap();
    assert!(!m.read_only);
    assert_eq!(m.sharing(), CacheSharing::Shared);
    let m = literal("type=tmpfs,dst=/tmp,size=64m").unwrap();
    assert_eq!(m.size_limit, Some(64 << 20));
    let m = literal("type=bind,from=build,source=/out,target=/in,rw").unwrap();
    assert!(!m.read_only);
    assert_eq!(m.from.as_deref(), Some("build"));
    let m = literal("type=secret,id=aws,env=AWS_KEY,required").unwrap();
    assert!(m.required && m.read_only);
    assert_eq!(m.env.as_deref(), Some("AWS_KEY"));
    let m = literal("type=cache,id=x,sharing=locked,mode=0755,uid=1000,gid=1000").unwrap();
    assert_eq!(m.mode, Some(0o755));
    assert_eq!(m.sharing, Some(CacheSharing::Locked));
    let m = literal("type=ssh,ro=false").unwrap();
    assert!(!m.read_only);
}

#[test]
fn mount_errors() {
    assert_eq!(
        literal("type=bind,required").unwrap_err(),
        "unexpected key 'required' for mount type 'bind'"
    );
    assert_eq!(
        literal("type=cahce").unwrap_err(),
        "unsupported mount type \"cahce\" (did you mean cache?)"
    );
    assert_eq!(
        literal("type=bind,mode=0700").unwrap_err(),
        "mode not allowed for \"bind\" type mounts"
    );
    assert_eq!(
        literal("type=bind,sharing=private").unwrap_err(),
        "invalid cache sharing set for bind mount"
    );
    assert_eq!(
        literal("type=secret").unwrap_err(),
        "invalid secret mount. one of source, target required"
    );
    assert_eq!(
        literal("type=secret,id=a,from=b").unwrap_err(),
        "secret mount should not have a from"
    );
    assert_eq!(
        literal("target=/x,foo").unwrap_err(),
        "invalid field 'foo' must be a key=value pair"
    );
    assert_eq!(
        literal("targt=/x").unwrap_err(),
        "unexpected key 'targt' in 'targt=/x' (did you mean target?)"
    );
    assert!(literal("type=cache,sharing=nope").is_err());
    assert!(literal("type=tmpfs,size=lots").is_err());
    assert!(literal("type=cache,uid=-1").is_err());
    // Parse time: only shape and literal `from`.
    assert_eq!(parse_mount("type=$T,target=/x", None), Ok(None));
    assert_eq!(
        parse_mount("from=$STAGE", None).unwrap_err(),
        "'from' doesn't support variable expansion, define alias stage instead"
    );
    assert_eq!(parse_mount("from=a$", None), Ok(None));
}

#[test]
fn csv_and_sizes() {
    assert_eq!(split_csv("a,\"b,c\",d").unwrap(), ["a", "b,c", "d"]);
    assert_eq!(split_csv("\"a\"\"b\"").unwrap(), ["a\"b"]);
    assert!(split_csv("a\"b").is_err());
    assert_eq!(parse_ram_bytes("1024"), Some(1024));
    assert_eq!(parse_ram_bytes("1.5k"), Some(1536));
    assert_eq!(parse_ram_bytes("2GiB"), Some(2 << 30));
    assert_eq!(parse_ram_bytes("2 mb"), Some(2 << 20));
    assert_eq!(parse_ram_bytes("x"), None);
}

#[test]
fn network_and_security() {
    assert_eq!(parse_network("host"), Ok(NetworkMode::Host));
    assert_eq!(
        parse_network("bridge").unwrap_err(),
        "invalid network mode \"bridge\""
    );
    assert_eq!(parse_security("insecure"), Ok(Security::Insecure));
    assert_eq!(
        parse_security("x").unwrap_err(),
        "security \"x\" is not valid"
    );
}
