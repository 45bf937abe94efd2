//! Unit tests of `parse.rs`.
use super::*;
use crate::span::Span;
use crate::syntax::Heredoc;

fn node(keyword: &str, flags: &[&str], args: &[&str], original: &str) -> Node {
    Node {
        keyword: keyword.to_owned(),
        flags: flags.iter().map(|s| (*s).to_owned()).collect(),
        args: args.iter().map(|s| Arg::Word((*s).to_owned())).collect(),
        json: false,
        heredocs: Vec::new(),
        original: original.to_owned(),
        prev_comment: Vec::new(),
        span: Span::on_line(1, 1, original.len()),
    }
}

fn err(n: &Node) -> String {
    parse_instruction(n).unwrap_err().message
}

#[test]
fn unknown_keyword_suggests() {
    assert_eq!(
        err(&node("rnu", &[], &["x"], "RNU x")),
        "unknown instruction: RNU (did you mean RUN?)"
    );
    assert_eq!(
        err(&node("cpy", &[], &["x"], "cpy x")),
        "unknown instruction: cpy (did you mean copy?)"
    );
    assert_eq!(
        err(&node("xyzzyq", &[], &["x"], "XYZZYQ x")),
        "unknown instruction: XYZZYQ"
    );
}

#[test]
fn copy_flags_and_sources() {
    let n = node(
        "copy",
        &[
            "--from=build",
            "--chown=1:1",
            "--link",
            "--exclude=*.md",
            "--exclude=x",
        ],
        &["a", "b", "/dst/"],
        "COPY --from=build a b /dst/",
    );
    let Instruction::Copy(c) = parse_instruction(&n).unwrap().instruction else {
        panic!("not copy")
    };
    assert_eq!(c.from.as_deref(), Some("build"));
    assert_eq!(c.chown.as_deref(), Some("1:1"));
    assert!(c.link && !c.parents);
    assert_eq!(c.exclude, ["*.md", "x"]);
    assert_eq!(c.paths.sources, ["a", "b"]);
    assert_eq!(c.paths.dest, "/dst/");
    assert_eq!(
        err(&node(
            "copy",
            &["--form=x"],
            &["a", "b"],
            "COPY --form=x a b"
        )),
        "unknown flag: --form (did you mean from?)"
    );
    assert_eq!(
        err(&node(
            "copy",
            &["--link=maybe"],
            &["a", "b"],
            "COPY --link=maybe a b"
        )),
        "expecting boolean value for flag --link, not: maybe"
    );
}

#[test]
fn add_flags() {
    let n = node(
        "add",
        &["--checksum=sha256:abc", "--keep-git-dir", "--unpack=false"],
        &["https://x/y.tar", "/"],
        "ADD ...",
    );
    let Instruction::Add(a) = parse_instruction(&n).unwrap().instruction else {
        panic!("not add")
    };
    assert_eq!(a.checksum.as_deref(), Some("sha256:abc"));
    assert!(a.keep_git_dir);
    assert_eq!(a.unpack, Some(false));
}

#[test]
fn run_flags() {
    let n = node(
        "run",
        &[
            "--mount=type=cache,target=/c",
            "--network=none",
            "--security=insecure",
            "--device=vendor.com/gpu=all",
        ],
        &["make"],
        "RUN make",
    );
    let Instruction::Run(r) = parse_instruction(&n).unwrap().instruction else {
        panic!("not run")
    };
    assert_eq!(r.mounts.len(), 1);
    assert!(r.mounts_parsed());
    assert_eq!(r.network, crate::instruction::NetworkMode::None);
    assert_eq!(r.security, crate::instruction::Security::Insecure);
    assert_eq!(r.devices[0].name, "vendor.com/gpu=all");
    assert_eq!(r.flags_used, ["mount", "network", "security", "device"]);
    assert_eq!(r.cmd.cmd_line, ["make"]);
    assert!(r.cmd.prepend_shell);
    // Deferred: a variable in a spec.
    let n = node("run", &["--mount=type=$T,target=/c"], &["make"], "RUN make");
    let Instruction::Run(r) = parse_instruction(&n).unwrap().instruction else {
        panic!("not run")
    };
    assert!(r.mounts.is_empty() && !r.mounts_parsed());
    assert_eq!(
        err(&node("run", &["--network=bridge"], &["x"], "RUN x")),
        "invalid network mode \"bridge\""
    );
}

#[test]
fn from_and_stage_names() {
    let n = node(
        "from",
        &["--platform=$BUILDPLATFORM"],
        &["golang", "AS", "Build"],
        "FROM ...",
    );
    let Instruction::From(f) = parse_instruction(&n).unwrap().instruction else {
        panic!("not from")
    };
    assert_eq!(f.name.as_deref(), Some("build"));
    assert_eq!(f.name_as_written.as_deref(), Some("Build"));
    assert_eq!(f.platform.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(
        err(&node("from", &[], &["a", "as", "1x"], "FROM a as 1x")),
        "invalid name for build stage: \"1x\", name can't start with a number or contain symbols"
    );
    assert_eq!(
        err(&node("from", &[], &["a", "b"], "FROM a b")),
        "FROM requires either one or three arguments"
    );
    assert!(valid_stage_name("a.b-c_d9"));
    assert!(!valid_stage_name("a$"));
}

#[test]
fn onbuild_keeps_trigger() {
    let mut n = node("onbuild", &[], &[], "ONBUILD RUN echo hi");
    n.args = vec![Arg::Nested(Box::new(node(
        "run",
        &[],
        &["echo hi"],
        "RUN echo hi",
    )))];
    let Instruction::Onbuild(o) = parse_instruction(&n).unwrap().instruction else {
        panic!("not onbuild")
    };
    assert_eq!(o.expression, "RUN echo hi");
    let trigger = o.trigger.unwrap();
    assert_eq!(trigger.keyword(), "RUN");
    let mut n = node("onbuild", &[], &[], "ONBUILD FROM x");
    n.args = vec![Arg::Nested(Box::new(node("from", &[], &["x"], "FROM x")))];
    assert_eq!(err(&n), "FROM isn't allowed as an ONBUILD trigger");
}

#[test]
fn heredoc_words_and_chomp() {
    assert_eq!(heredoc_word("<<EOF"), Some(("EOF".into(), false)));
    assert_eq!(heredoc_word("<<-'EOF'"), Some(("EOF".into(), true)));
    assert_eq!(heredoc_word("3<<\"E\"OF"), Some(("EOF".into(), false)));
    assert_eq!(heredoc_word("/path"), None);
    assert_eq!(heredoc_word("<<"), None);
    assert_eq!(syntax::chomp_heredoc_content("\t\ta\n\tb\nc"), "a\nb\nc");
    let mut n = node("copy", &[], &["<<-EOF", "/x"], "COPY <<-EOF /x");
    n.heredocs = vec![Heredoc {
        name: "EOF".into(),
        file_descriptor: 0,
        expand: true,
        chomp: true,
        content: "\thi\n".into(),
    }];
    let Instruction::Copy(c) = parse_instruction(&n).unwrap().instruction else {
        panic!("not copy")
    };
    assert_eq!(c.paths.contents[0].data, "hi\n");
    assert!(c.paths.sources.is_empty());
}

#[test]
fn arg_comments_and_kvs() {
    let mut n = node("arg", &[], &["bar", "baz=123"], "ARG bar baz=123");
    n.prev_comment = vec!["bar defines bar".into(), "baz is something else".into()];
    let Instruction::Arg(a) = parse_instruction(&n).unwrap().instruction else {
        panic!("not arg")
    };
    assert_eq!(a[0].comment.as_deref(), Some("defines bar"));
    assert_eq!(a[1].value.as_deref(), Some("123"));
    assert_eq!(a[1].comment.as_deref(), Some("is something else"));
    let n = node("env", &[], &["A", "\"1\"", "=", "B", "2", ""], "ENV ...");
    let Instruction::Env(e) = parse_instruction(&n).unwrap().instruction else {
        panic!("not env")
    };
    assert_eq!(e[0].value, "\"1\"");
    assert!(e[0].has_equals && !e[1].has_equals);
    assert_eq!(
        err(&node("arg", &[], &["=x"], "ARG =x")),
        "ARG names can not be blank"
    );
}

#[test]
fn shell_requires_json() {
    assert_eq!(
        err(&node("shell", &[], &["bash -c"], "SHELL bash -c")),
        "SHELL requires the arguments to be in JSON form"
    );
    let mut n = node("shell", &[], &["bash", "-c"], "SHELL [...]");
    n.json = true;
    assert_eq!(
        parse_instruction(&n).unwrap().instruction,
        Instruction::Shell(vec!["bash".into(), "-c".into()])
    );
}
