//! BuildKit's instruction tests (instructions/parse.json, heredoc.json, run_device.json),
//! run through the real parser and `parse_instruction`.
// Helpers outside `#[test]` fns print their tallies (the vector count) and the shared
// `common` module reports a skip on stderr.
#![allow(clippy::print_stderr)]

mod common;

use keel_dockerfile::dockerfile;
use keel_dockerfile::instruction::{parse_device, parse_instruction, Command, Instruction};
use keel_dockerfile::syntax;
use serde_json::Value;

/// Parse the first instruction of a one-instruction Dockerfile.
fn first(dockerfile: &str) -> Result<Command, String> {
    let ast = syntax::parse(dockerfile.as_bytes()).map_err(|e| e.message)?;
    let node = ast.children.first().ok_or("no instruction")?;
    parse_instruction(node).map_err(|e| e.message)
}

/// Tallies cases; the test fails at the end if any failed.
#[derive(Default)]
struct Tally {
    passed: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, name: &str, result: Result<(), String>) {
        match result {
            Ok(()) => self.passed += 1,
            Err(e) => self.failures.push(format!("{name}: {e}")),
        }
    }

    fn finish(self, what: &str) {
        let total = self.passed + self.failures.len();
        eprintln!("{what}: {}/{total} cases passed", self.passed);
        assert!(
            self.failures.is_empty(),
            "{what}: {} failed:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn expect_error(dockerfile: &str, expected: &str, exact: bool) -> Result<(), String> {
    match first(dockerfile) {
        Ok(c) => Err(format!(
            "expected error {expected:?}, parsed {:?}",
            c.instruction
        )),
        Err(m) if exact && m == expected => Ok(()),
        Err(m) if !exact && m.contains(expected) => Ok(()),
        Err(m) => Err(format!("error {m:?}, expected {expected:?}")),
    }
}

#[test]
fn parse_json() {
    let Some(dir) = common::buildkit_vectors() else {
        return;
    };
    let v = common::read_json(&dir.join("instructions/parse.json"));
    let mut t = Tally::default();
    for (group, cases) in v["arg_count_errors"].as_object().expect("object") {
        for case in cases.as_array().expect("array") {
            let df = case["dockerfile"].as_str().expect("dockerfile");
            let want = case["expected_error"].as_str().expect("error");
            t.check(&format!("{group} {df:?}"), expect_error(df, want, true));
        }
    }
    for case in v["error_cases"].as_array().expect("array") {
        let df = case["dockerfile"].as_str().expect("dockerfile");
        let want = case["expected_error_contains"].as_str().expect("error");
        t.check(
            case["name"].as_str().unwrap_or(df),
            expect_error(df, want, false),
        );
    }
    let fu = &v["run_flags_used"];
    t.check(
        "run_flags_used",
        first(fu["dockerfile"].as_str().expect("dockerfile")).and_then(|c| match c.instruction {
            Instruction::Run(r) if r.flags_used == str_list(&fu["expected_FlagsUsed"]) => Ok(()),
            other => Err(format!("got {other:?}")),
        }),
    );
    let dc = &v["doc_comments"];
    let parsed = dockerfile::parse(dc["dockerfile"].as_str().expect("dockerfile").as_bytes())
        .map_err(|e| e.message);
    for assert in dc["asserts"].as_array().expect("array") {
        let expr = assert["expr"].as_str().expect("expr");
        let want = assert["expected"].as_str().expect("expected");
        let got = parsed
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|d| doc_expr(d, expr));
        t.check(
            expr,
            got.and_then(|g| {
                if g == want {
                    Ok(())
                } else {
                    Err(format!("got {g:?}, want {want:?}"))
                }
            }),
        );
    }
    t.finish("instructions/parse.json");
}

/// Evaluate one of parse.json's Go expressions on our Dockerfile.
fn doc_expr(d: &dockerfile::Dockerfile, expr: &str) -> Result<String, String> {
    let arg_of = |c: &Command, j: usize, field: &str| match &c.instruction {
        Instruction::Arg(defs) => defs
            .get(j)
            .map(|a| match field {
                "Key" => a.key.clone(),
                _ => a.comment.clone().unwrap_or_default(),
            })
            .ok_or_else(|| "no such arg".to_owned()),
        other => Err(format!("not an ARG: {other:?}")),
    };
    if expr == "stages[0].DocComment" {
        return Ok(d.stages[0].comment.clone().unwrap_or_default());
    }
    let field = expr.rsplit('.').next().unwrap_or_default();
    let index = |prefix: &str| -> Option<usize> {
        let start = expr.find(prefix)? + prefix.len();
        expr[start..].split(']').next()?.parse().ok()
    };
    if let Some(rest) = expr.strip_prefix("meta[0].Args[") {
        let j: usize = rest
            .split(']')
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or("bad expr")?;
        return arg_of(&d.meta_args[0], j, field);
    }
    if expr.starts_with("st.Commands[") {
        let i = index("Commands[").ok_or("bad expr")?;
        let j = index("Args[").ok_or("bad expr")?;
        return arg_of(&d.stages[0].commands[i], j, field);
    }
    Err(format!("unknown expression {expr}"))
}

#[test]
fn heredoc_json() {
    let Some(dir) = common::buildkit_vectors() else {
        return;
    };
    let v = common::read_json(&dir.join("instructions/heredoc.json"));
    let mut t = Tally::default();
    for case in v["error_cases"].as_array().expect("array") {
        let df = case["dockerfile"].as_str().expect("dockerfile");
        let want = case["expected_error_contains"].as_str().expect("error");
        t.check(
            case["name"].as_str().unwrap_or(df),
            expect_error(df, want, false),
        );
    }
    for case in v["copy"].as_array().expect("array") {
        let df = case["dockerfile"].as_str().expect("dockerfile");
        let want = &case["SourcesAndDest"];
        let result = first(df).and_then(|c| {
            let Instruction::Copy(c) = c.instruction else {
                return Err("not COPY".into());
            };
            let p = c.paths;
            let contents: Vec<Value> = p
                .contents
                .iter()
                .map(|s| serde_json::json!({"Path": s.path, "Data": s.data, "Expand": s.expand}))
                .collect();
            let got = serde_json::json!({
                "DestPath": p.dest,
                "SourcePaths": if p.sources.is_empty() { Value::Null } else { p.sources.clone().into() },
                "SourceContents": if contents.is_empty() { Value::Null } else { contents.into() },
            });
            if &got == want {
                Ok(())
            } else {
                Err(format!("got {got}, want {want}"))
            }
        });
        t.check(df, result);
    }
    for case in v["run"].as_array().expect("array") {
        let df = case["dockerfile"].as_str().expect("dockerfile");
        let result = first(df).and_then(|c| {
            let Instruction::Run(r) = c.instruction else {
                return Err("not RUN".into());
            };
            let files: Vec<Value> = r
                .cmd
                .files
                .iter()
                .map(|f| serde_json::json!({"Name": f.name, "Data": f.data, "Chomp": f.chomp}))
                .collect();
            let got = serde_json::json!({
                "PrependShell": r.cmd.prepend_shell,
                "CmdLine": r.cmd.cmd_line,
                "Files": if files.is_empty() { Value::Null } else { files.into() },
            });
            let want = serde_json::json!({
                "PrependShell": case["PrependShell"],
                "CmdLine": case["CmdLine"],
                "Files": case["Files"],
            });
            if got == want {
                Ok(())
            } else {
                Err(format!("got {got}, want {want}"))
            }
        });
        t.check(df, result);
    }
    t.finish("instructions/heredoc.json");
}

#[test]
fn run_device_json() {
    let Some(dir) = common::buildkit_vectors() else {
        return;
    };
    let v = common::read_json(&dir.join("instructions/run_device.json"));
    let mut t = Tally::default();
    for case in v["cases"].as_array().expect("array") {
        let input = case["input"].as_str().expect("input");
        let result = match (parse_device(input), case["expected_error"].as_str()) {
            (Err(e), Some(want)) if e.contains(want) => Ok(()),
            (Err(e), _) => Err(format!("error {e:?}")),
            (Ok(d), None) => {
                let got = serde_json::json!({"Name": d.name, "Required": d.required});
                if got == case["expected"] {
                    Ok(())
                } else {
                    Err(format!("got {got}, want {}", case["expected"]))
                }
            }
            (Ok(d), Some(want)) => Err(format!("expected error {want:?}, got {d:?}")),
        };
        t.check(input, result);
    }
    t.finish("instructions/run_device.json");
}

/// BuildKit's `TestHealthCheckCmd` and the unknown-keyword suggestion, through the real parser.
#[test]
fn healthcheck_and_unknown_keyword() {
    let c = first("HEALTHCHECK --interval=5s CMD hello world").expect("parses");
    let Instruction::Healthcheck(h) = c.instruction else {
        panic!("not HEALTHCHECK")
    };
    assert_eq!(h.test, ["CMD-SHELL", "hello world"]);
    assert_eq!(h.interval, Some(std::time::Duration::from_secs(5)));
    let c = first("HEALTHCHECK CMD [\"curl\", \"-f\", \"http://localhost\"]").expect("parses");
    let Instruction::Healthcheck(h) = c.instruction else {
        panic!("not HEALTHCHECK")
    };
    assert_eq!(h.test, ["CMD", "curl", "-f", "http://localhost"]);
    assert_eq!(
        first("RNU make").unwrap_err(),
        "unknown instruction: RNU (did you mean RUN?)"
    );
    let c = first("ONBUILD RUN <<EOF\necho hi\nEOF").expect("parses");
    let Instruction::Onbuild(o) = c.instruction else {
        panic!("not ONBUILD")
    };
    assert_eq!(o.expression, "RUN <<EOF\necho hi\nEOF");
}
