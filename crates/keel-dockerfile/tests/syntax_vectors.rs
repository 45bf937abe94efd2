//! BuildKit's parser test vectors against `keel_dockerfile::syntax`.
// Test helpers outside `#[test]` functions: panicking and printing counts is their job.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};

use keel_dockerfile::syntax::{self, Arg};
use serde_json::Value;

fn parser_dir() -> Option<PathBuf> {
    common::buildkit_vectors().map(|d| d.join("parser"))
}

/// Count and report a group of cases; panic listing the failures.
fn report(name: &str, total: usize, failures: Vec<String>) {
    println!("{name}: {}/{} passed", total - failures.len(), total);
    assert!(total > 0, "{name}: no cases found");
    assert!(
        failures.is_empty(),
        "{name}: {} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

#[test]
fn golden_testfiles() {
    let Some(dir) = parser_dir() else { return };
    let cases = sorted_dirs(&dir.join("testfiles"));
    let mut failures = Vec::new();
    for case in &cases {
        let src = std::fs::read(case.join("Dockerfile")).unwrap();
        let expected = common::read(&case.join("result"));
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        match syntax::parse(&src) {
            Ok(ast) => {
                let got = syntax::dump(&ast);
                if got != expected {
                    failures.push(format!("{name}:\n--- expected\n{expected}--- got\n{got}"));
                }
            }
            Err(e) => failures.push(format!("{name}: error {e}")),
        }
    }
    assert_eq!(cases.len(), 33);
    report("testfiles", cases.len(), failures);
}

#[test]
fn golden_testfiles_negative() {
    let Some(dir) = parser_dir() else { return };
    let cases = sorted_dirs(&dir.join("testfiles-negative"));
    let mut failures = Vec::new();
    for case in &cases {
        let src = std::fs::read(case.join("Dockerfile")).unwrap();
        match syntax::parse(&src) {
            Ok(ast) => failures.push(format!(
                "{}: parsed: {}",
                case.display(),
                syntax::dump(&ast)
            )),
            Err(e) => {
                if e.span.is_none() {
                    failures.push(format!("{}: error without span: {e}", case.display()));
                }
            }
        }
    }
    assert_eq!(cases.len(), 4);
    report("testfiles-negative", cases.len(), failures);
}

#[test]
fn testfile_line_spans() {
    let Some(dir) = parser_dir() else { return };
    let src = std::fs::read(dir.join("testfile-line/Dockerfile")).unwrap();
    let want = common::read_json(&dir.join("testfile-line/expected.json"));
    let ast = syntax::parse(&src).unwrap();
    let mut failures = Vec::new();
    let spans = want["children_start_end"].as_array().unwrap();
    if ast.children.len() != spans.len() {
        failures.push(format!(
            "children: {} != {}",
            ast.children.len(),
            spans.len()
        ));
    }
    for (i, (node, se)) in ast.children.iter().zip(spans).enumerate() {
        let (s, e) = (
            se[0].as_u64().unwrap() as usize,
            se[1].as_u64().unwrap() as usize,
        );
        if (node.span.line, node.span.end_line) != (s, e) {
            failures.push(format!("child {i}: {:?} != ({s}, {e})", node.span));
        }
    }
    let root = &want["root"];
    let first = ast.children.first().map(|n| n.span.line);
    let last = ast.children.last().map(|n| n.span.end_line);
    if first != root["StartLine"].as_u64().map(|v| v as usize)
        || last != root["EndLine"].as_u64().map(|v| v as usize)
    {
        failures.push(format!("root: {first:?}..{last:?}"));
    }
    report("testfile-line", spans.len() + 1, failures);
}

fn heredoc_json(h: &syntax::Heredoc) -> Value {
    serde_json::json!({
        "Name": h.name, "FileDescriptor": h.file_descriptor, "Expand": h.expand,
        "Chomp": h.chomp, "Content": h.content,
    })
}

#[test]
fn heredocs() {
    let Some(dir) = parser_dir() else { return };
    let v = common::read_json(&dir.join("heredocs.json"));
    let mut total = 0;
    let mut failures = Vec::new();

    let ex = &v["extract_from_dockerfile"];
    let ast = syntax::parse(ex["dockerfile"].as_str().unwrap().as_bytes()).unwrap();
    for (i, want) in ex["expected"].as_array().unwrap().iter().enumerate() {
        total += 1;
        let node = &ast.children[i + 1];
        let got = if node.heredocs.is_empty() {
            Value::Null
        } else {
            Value::Array(node.heredocs.iter().map(heredoc_json).collect())
        };
        if &got != want {
            failures.push(format!("extract child {}: {} != {}", i + 1, got, want));
        }
    }

    let js = &v["json_form_has_no_heredocs"];
    let ast = syntax::parse(js["dockerfile"].as_str().unwrap().as_bytes()).unwrap();
    for i in 1..=3 {
        total += 1;
        if !ast.children[i].heredocs.is_empty() {
            failures.push(format!("json form child {i} has heredocs"));
        }
    }

    let pw = &v["ParseHeredoc_word"];
    for w in pw["valid_name_is_EOF"].as_array().unwrap() {
        total += 1;
        let w = w.as_str().unwrap();
        match syntax::parse_heredoc(w) {
            Ok(Some(h)) if h.name == "EOF" => {}
            other => failures.push(format!("ParseHeredoc({w:?}) = {other:?}")),
        }
    }
    for w in pw["invalid_error"].as_array().unwrap() {
        total += 1;
        let w = w.as_str().unwrap();
        if syntax::parse_heredoc(w).is_ok() {
            failures.push(format!("ParseHeredoc({w:?}) should fail"));
        }
    }
    for w in pw["not_a_heredoc_nil"].as_array().unwrap() {
        total += 1;
        let w = w.as_str().unwrap();
        match syntax::parse_heredoc(w) {
            Ok(None) => {}
            other => failures.push(format!("ParseHeredoc({w:?}) = {other:?}, want none")),
        }
    }

    for c in v["heredocsFromLine_names"].as_array().unwrap() {
        total += 1;
        let line = c["line"].as_str().unwrap();
        let want: Vec<String> = match &c["names"] {
            Value::Null => vec![],
            n => n
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect(),
        };
        match syntax::heredocs_from_line(line) {
            Ok(docs) => {
                let got: Vec<String> = docs.into_iter().map(|h| h.name).collect();
                if got != want {
                    failures.push(format!(
                        "heredocsFromLine({line:?}) = {got:?}, want {want:?}"
                    ));
                }
            }
            Err(e) => failures.push(format!("heredocsFromLine({line:?}): {e}")),
        }
    }

    for c in v["ChompHeredocContent"].as_array().unwrap() {
        total += 1;
        let got = syntax::chomp_heredoc_content(c["input"].as_str().unwrap());
        if got != c["expect"].as_str().unwrap() {
            failures.push(format!("chomp: {got:?}"));
        }
    }
    report("heredocs", total, failures);
}

#[test]
fn directives() {
    let Some(dir) = parser_dir() else { return };
    let v = common::read_json(&dir.join("directives.json"));
    let mut total = 0;
    let mut failures = Vec::new();
    for c in v["cases"].as_array().unwrap() {
        total += 1;
        let input = c["input"].as_str().unwrap().as_bytes();
        let api = c["api"].as_str().unwrap();
        let mut fail = |m: String| failures.push(format!("{api} {:?}: {m}", c["input"]));
        match api {
            "parser.ParseAll" => {
                let got = syntax::DirectiveParser::new().parse_all(input);
                match (got, c["error"].as_bool().unwrap_or(false)) {
                    (Ok(ds), false) => {
                        if Some(ds.len() as u64) != c["count"].as_u64() {
                            fail(format!("count {}", ds.len()));
                        } else if let Some(d) = ds.first() {
                            if Some(d.name.as_str()) != c["first_name"].as_str()
                                || Some(d.value.as_str()) != c["first_value"].as_str()
                            {
                                fail(format!("first {d:?}"));
                            }
                        }
                    }
                    (Err(_), true) => {}
                    (got, _) => fail(format!("{got:?}")),
                }
            }
            "DetectSyntax" | "ParseDirective" => {
                let got = if api == "DetectSyntax" {
                    syntax::detect_syntax(input)
                } else {
                    syntax::parse_directive(c["key"].as_str().unwrap(), input)
                };
                let ok = c["ok"].as_bool().unwrap();
                match got {
                    None if !ok => {}
                    Some(d) if ok => {
                        if let Some(r) = c["ref"].as_str() {
                            if d.value != r {
                                fail(format!("ref {:?}", d.value));
                            }
                        }
                        if let Some(r) = c["cmdline"].as_str() {
                            if d.cmdline != r {
                                fail(format!("cmdline {:?}", d.cmdline));
                            }
                        }
                        if let Some(l) = c["start_line"].as_u64() {
                            if d.line as u64 != l {
                                fail(format!("line {}", d.line));
                            }
                        }
                    }
                    got => fail(format!("{got:?}, want ok={ok}")),
                }
            }
            other => fail(format!("unknown api {other}")),
        }
    }
    report("directives", total, failures);
}

#[test]
fn parse_words() {
    let Some(dir) = parser_dir() else { return };
    let v = common::read_json(&dir.join("parse_words.json"));
    let mut total = 0;
    let mut failures = Vec::new();
    for c in v["cases"].as_array().unwrap() {
        total += 1;
        let input = c["input"].as_str().unwrap();
        let want: Vec<&str> = c["expect"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let got = syntax::parse_words(input, '\\');
        if got != want {
            failures.push(format!("{input:?}: {got:?} != {want:?}"));
        }
    }
    report("parse_words", total, failures);
}

#[test]
fn json_arrays() {
    let Some(dir) = parser_dir() else { return };
    let v = common::read_json(&dir.join("json_arrays.json"));
    let mut total = 0;
    let mut failures = Vec::new();
    for c in v["valid"].as_array().unwrap() {
        total += 1;
        let input = c["input"].as_str().unwrap();
        let want: Vec<&str> = c["expect"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        match syntax::parse_json_array(input) {
            Ok(got) if got == want => {}
            other => failures.push(format!("{input:?}: {other:?}")),
        }
    }
    for c in v["invalid_not_string_array"].as_array().unwrap() {
        total += 1;
        let input = c.as_str().unwrap();
        match syntax::parse_json_array(input) {
            Err(syntax::JsonError::NotStringArray) => {}
            other => failures.push(format!("{input:?}: {other:?}")),
        }
        // In an instruction, a non-string element is fatal rather than a shell-form fallback.
        total += 1;
        let e = syntax::parse(format!("CMD {input}").as_bytes());
        if !matches!(&e, Err(e) if e.message.contains("arrays must be comprised of strings only")) {
            failures.push(format!("CMD {input}: {e:?}"));
        }
    }
    report("json_arrays", total, failures);
}

#[test]
fn misc() {
    let Some(dir) = parser_dir() else { return };
    let v = common::read_json(&dir.join("misc.json"));
    let mut total = 0;
    let mut failures = Vec::new();

    let ec = &v["empty_continuation_warnings"];
    let ast = syntax::parse(ec["dockerfile"].as_str().unwrap().as_bytes()).unwrap();
    total += 1;
    if Some(ast.warnings.len() as u64) != ec["expected_warning_count"].as_u64() {
        failures.push(format!(
            "warning count {}: {:?}",
            ast.warnings.len(),
            ast.warnings
        ));
    }
    for w in ec["warning_short_contains"].as_array().unwrap() {
        total += 1;
        let i = w["warning"].as_u64().unwrap() as usize;
        let want = w["contains"].as_str().unwrap();
        let ok = ast.warnings.get(i).is_some_and(|x| {
            x.message.contains(want)
                && x.rule.as_deref() == Some("NoEmptyContinuation")
                && x.span.is_some()
        });
        if !ok {
            failures.push(format!(
                "warning {i} should contain {want:?}: {:?}",
                ast.warnings.get(i)
            ));
        }
    }
    for want in ec["warning0_detail0_contains"].as_array().unwrap() {
        total += 1;
        if !syntax::EMPTY_CONTINUATION_DETAIL.contains(want.as_str().unwrap()) {
            failures.push(format!("detail should contain {want}"));
        }
    }

    let lt = &v["line_too_long"];
    total += 1;
    let fill = lt["fill_char"]
        .as_str()
        .unwrap()
        .repeat(lt["fill_len"].as_u64().unwrap() as usize);
    let src = lt["dockerfile_printf_template"]
        .as_str()
        .unwrap()
        .replace("%s", &fill);
    match syntax::parse(src.as_bytes()) {
        Err(e) if e.message == lt["expected_error"].as_str().unwrap() && e.span.is_some() => {}
        other => failures.push(format!(
            "line too long: {:?}",
            other.map(|a| a.children.len())
        )),
    }
    report("misc", total, failures);
}

#[test]
fn onbuild_nests_instruction() {
    let ast = syntax::parse(b"FROM a\nONBUILD RUN [\"echo\", \"x\"]\n").unwrap();
    match &ast.children[1].args[0] {
        Arg::Nested(n) => assert!(n.json && n.keyword == "run"),
        other => panic!("{other:?}"),
    }
}
