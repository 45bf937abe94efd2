//! Edge cases of the whole parser, beyond BuildKit's own vectors.

use super::*;

fn dumped(src: &str) -> String {
    dump(&parse(src.as_bytes()).unwrap())
}

fn err(src: &[u8]) -> Error {
    parse(src).unwrap_err()
}

#[test]
fn backtick_escape_with_windows_paths() {
    let src = "# escape=`\nFROM windows\nWORKDIR C:\\Users\\me\nRUN dir C:\\ `\n  && echo done\nCOPY C:\\a\\ D:\\b\\\n";
    let ast = parse(src.as_bytes()).unwrap();
    assert_eq!(ast.directives.escape, '`');
    assert_eq!(
        dump(&ast),
        "(from \"windows\")\n(workdir \"C:\\\\Users\\\\me\")\n(run \"dir C:\\\\   && echo done\")\n(copy \"C:\\\\a\\\\\" \"D:\\\\b\\\\\")\n"
    );
    // With the default escape the trailing backslash would have continued the line.
    assert_eq!(
        dumped("FROM a\nRUN dir C:\\\nCMD x\n"),
        "(from \"a\")\n(run \"dir C:CMD x\")\n"
    );
}

#[test]
fn crlf_line_endings() {
    let src = "FROM a\r\nRUN echo 1 \\\r\n  && echo 2\r\nCOPY <<EOF /x\r\nhello\r\nEOF\r\nCMD [\"a\"]\r\n";
    let ast = parse(src.as_bytes()).unwrap();
    assert_eq!(
        dump(&ast),
        "(from \"a\")\n(run \"echo 1   && echo 2\")\n(copy \"<<EOF\" \"/x\")\n(cmd \"a\")\n"
    );
    // BuildKit keeps the body's own line endings.
    assert_eq!(ast.children[2].heredocs[0].content, "hello\r\n");
    assert_eq!(
        (ast.children[2].span.line, ast.children[2].span.end_line),
        (4, 6)
    );
}

#[test]
fn byte_order_mark_and_columns() {
    let ast = parse(b"\xEF\xBB\xBF  FROM a\n\tRUN b \\\n c\n").unwrap();
    let (from, run) = (&ast.children[0], &ast.children[1]);
    assert_eq!(from.keyword, "from");
    assert_eq!(
        (from.span.line, from.span.col, from.span.end_col),
        (1, 3, 9)
    );
    assert_eq!(
        (
            run.span.line,
            run.span.col,
            run.span.end_line,
            run.span.end_col
        ),
        (2, 2, 3, 3)
    );
    assert_eq!(run.original, "RUN b  c");
}

#[test]
fn flags_with_quoted_values() {
    assert_eq!(
        dumped("COPY --chown=\"a b\" --from='x' --exclude=\\* -- --src /dst\n"),
        "(copy [\"--chown=a b\" \"--from=x\" \"--exclude=*\"] \"--src\" \"/dst\")\n"
    );
    assert_eq!(
        dumped("RUN --mount=type=secret,id=\"my id\" echo hi\n"),
        "(run [\"--mount=type=secret,id=my id\"] \"echo hi\")\n"
    );
}

#[test]
fn heredoc_without_terminator_is_an_error() {
    let e = err(b"FROM a\nRUN <<EOF\necho hi\n");
    assert_eq!(e.message, "unterminated heredoc");
    assert_eq!(e.span.map(|s| (s.line, s.end_line)), Some((2, 3)));
    // A chomped heredoc's terminator may be indented with tabs, never with spaces.
    let ast = parse(b"FROM a\nRUN <<-EOF\n\techo\n\tEOF\n").unwrap();
    assert_eq!(ast.children[1].heredocs[0].content, "\techo\n");
    assert!(parse(b"FROM a\nRUN <<-EOF\n  EOF\n").is_err());
}

#[test]
fn heredoc_under_onbuild_and_not_elsewhere() {
    let ast = parse(b"FROM a\nONBUILD RUN <<EOF\nx\nEOF\nUSER <<EOF\nEOF\n").unwrap();
    assert_eq!(ast.children[1].heredocs.len(), 1);
    assert_eq!(ast.children[1].span.end_line, 4);
    // USER takes no heredoc: its "body" line is an instruction of its own.
    assert_eq!(ast.children.len(), 4);
    assert_eq!(ast.children[3].keyword, "eof");
}

#[test]
fn heredoc_body_lines_are_raw() {
    let ast = parse(b"FROM a\nRUN <<EOF bash\n# not a comment \\\n\nEOF\nCMD x\n").unwrap();
    assert_eq!(
        ast.children[1].heredocs[0].content,
        "# not a comment \\\n\n"
    );
    assert_eq!(ast.children[2].keyword, "cmd");
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(err(b"").message, "file with no instructions");
    assert_eq!(err(b"# a\n\n   \n# b").message, "file with no instructions");
    assert!(err(b"").span.is_some());
}

#[test]
fn line_limit() {
    let mut ok = b"FROM a\nRUN ".to_vec();
    ok.extend(std::iter::repeat_n(b'x', MAX_LINE_LEN - 4));
    ok.push(b'\n');
    assert!(parse(&ok).is_ok());
    let mut long = b"FROM a\nRUN ".to_vec();
    long.extend(std::iter::repeat_n(b'x', MAX_LINE_LEN - 3));
    let e = err(&long);
    assert_eq!(
        e.message,
        "dockerfile line greater than max allowed size of 65535"
    );
    assert_eq!(e.span.map(|s| s.line), Some(2));
    // As BuildKit: when nothing was parsed before the long line, the file has no instructions.
    assert_eq!(err(&long[7..]).message, "file with no instructions");
}

#[test]
fn directives_rules() {
    assert_eq!(
        err(b"# escape=x\nFROM a\n").message,
        "invalid escape token 'x' does not match ` or \\"
    );
    assert_eq!(
        err(b"# escape=`\n# ESCAPE=\\\nFROM a\n").message,
        "only one escape parser directive can be used"
    );
    // After a blank line or another comment, a directive is just a comment.
    let ast = parse(b"\n# escape=`\nFROM a\n").unwrap();
    assert_eq!(ast.directives.escape, '\\');
    let ast = parse(b"# hello\n# escape=`\nFROM a\n").unwrap();
    assert_eq!(ast.directives.escape, '\\');
    assert_eq!(ast.children[0].prev_comment, vec!["hello", "escape=`"]);
    let ast =
        parse(b"# syntax=docker/dockerfile:1 // x\n# check=skip=all;error=true\nFROM a\n").unwrap();
    assert_eq!(
        ast.directives.syntax.as_deref(),
        Some("docker/dockerfile:1")
    );
    assert_eq!(ast.directives.check.as_deref(), Some("skip=all;error=true"));
    assert!(ast.children[0].prev_comment.is_empty());
}

#[test]
fn prev_comments() {
    let ast = parse(b"# a\n# b\n\nARG x\n#\n# c\nARG y \\\n  # inside\n  z\nARG w\n").unwrap();
    assert_eq!(ast.children[0].prev_comment, vec!["a", "b"]);
    assert_eq!(ast.children[1].prev_comment, vec!["c"]);
    assert!(ast.children[2].prev_comment.is_empty());
}

#[test]
fn unknown_instruction_keeps_words() {
    let ast = parse(b"FROM a\nFOO bar  baz\n").unwrap();
    let n = &ast.children[1];
    assert_eq!(n.keyword, "foo");
    assert_eq!(n.args.len(), 2);
    // The dump stays BuildKit's: one empty argument.
    assert_eq!(dump(&ast), "(from \"a\")\n(foo \"\")\n");
}

#[test]
fn shapes() {
    assert_eq!(
        dumped("FROM\nHEALTHCHECK NONE\nSTOPSIGNAL SIGKILL 2\nUSER a b\n"),
        "(from)\n(healthcheck \"NONE\")\n(stopsignal \"SIGKILL 2\")\n(user \"a b\")\n"
    );
    assert_eq!(
        dumped("SHELL [\"pwsh\", \"-c\"]\nVOLUME [\"/a\" , \"/b\"]\nEXPOSE 80/tcp\t443\n"),
        "(shell \"pwsh\" \"-c\")\n(volume \"/a\" \"/b\")\n(expose \"80/tcp\" \"443\")\n"
    );
    assert_eq!(
        dumped("ONBUILD\nENV\nLABEL a=\"b c\" d=e\n"),
        "(onbuild)\n(env)\n(label \"a\" \"\\\"b c\\\"\" \"=\" \"d\" \"e\" \"=\")\n"
    );
    assert!(err(b"FROM a\nRUN [\"a\", 1]\n")
        .message
        .contains("strings only"));
    let e = err(b"FROM a\nENV a=b c\n");
    assert!(e
        .message
        .starts_with("Syntax error - can't find = in \"c\""));
    assert_eq!(e.span.map(|s| s.line), Some(2));
}

#[test]
fn continuation_at_eof_and_escaped_escape() {
    assert_eq!(dumped("FROM a\nRUN x \\"), "(from \"a\")\n(run \"x\")\n");
    assert_eq!(
        dumped("FROM a\nRUN x \\\\\nRUN y\n"),
        "(from \"a\")\n(run \"x \\\\\\\\\")\n(run \"y\")\n"
    );
}

#[test]
fn invalid_utf8_does_not_panic() {
    let ast = parse(b"FROM a\xff\nRUN \xc3\n").unwrap();
    assert_eq!(dump(&ast), "(from \"a\u{fffd}\")\n(run \"\u{fffd}\")\n");
    // A pseudo-random soup of tricky bytes: the parser may refuse it but must not panic.
    let alphabet: &[u8] = b"\\`#<-=\"' \t\r\n[]{}$:EOFRUN\xc3\xa0\x85\xff\xe0\xa0\x80";
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..3000 {
        let len = (seed % 60) as usize;
        let mut src = b"RUN ".to_vec();
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            src.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        if let Ok(ast) = parse(&src) {
            let _ = dump(&ast);
        }
        let _ = detect_syntax(&src);
    }
}

#[test]
fn ten_thousand_lines_parse_fast() {
    let mut src = String::from("FROM alpine\n");
    for i in 0..2500 {
        src.push_str(&format!(
            "# step {i}\nRUN echo {i} \\\n  && true\nENV K{i}=v{i} X=\"y z\"\n"
        ));
    }
    src.push_str("COPY <<EOF /x\nbody\nEOF\n");
    let start = std::time::Instant::now();
    let ast = parse(src.as_bytes()).unwrap();
    let elapsed = start.elapsed();
    assert_eq!(ast.children.len(), 5002);
    // Generous bound for unoptimised test builds on a loaded machine.
    println!("parsed {} lines in {elapsed:?}", src.lines().count());
    assert!(elapsed.as_millis() < 500, "took {elapsed:?}");
}
