//! BuildKit's shell-lexer test vectors (`frontend/dockerfile/shell`), run against our lexer.
// Test helpers outside `#[test]` fns print their tallies and may panic on malformed vectors.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use keel_dockerfile::shell::Lexer;
use serde_json::Value;

/// `KEY=VALUE` strings as BuildKit's `BuildEnvs` reads them (a later key wins; no `=` = empty).
fn env_from_list(list: &Value) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for item in list.as_array().expect("env is a list") {
        let item = item.as_str().expect("env item is a string");
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        env.insert(k.to_string(), v.to_string());
    }
    env
}

fn env_from_map(map: &Value) -> BTreeMap<String, String> {
    map.as_object()
        .expect("env is a map")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_string()))
        .collect()
}

fn env_of(v: &Value) -> BTreeMap<String, String> {
    if v.is_array() {
        env_from_list(v)
    } else {
        env_from_map(v)
    }
}

fn names(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn is_error(case: &Value) -> bool {
    case.get("error").and_then(Value::as_bool) == Some(true)
}

/// Print the tally and fail when any case failed.
fn report(name: &str, passed: usize, failures: &[String]) {
    let total = passed + failures.len();
    println!("{name}: {passed}/{total} cases passed");
    for f in failures {
        println!("  FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {total} cases failed",
        failures.len()
    );
}

#[test]
fn env_var_test() {
    let Some(dir) = common::buildkit_vectors() else {
        return;
    };
    let cases = common::read_jsonl(&dir.join("shell/envVarTest.jsonl"));
    let lexer = Lexer::new('\\');
    let (mut passed, mut failures) = (0, Vec::new());
    for case in &cases {
        if !matches!(case["platform"].as_str(), Some("A" | "U")) {
            continue;
        }
        let input = case["input"].as_str().unwrap();
        let env = env_from_list(&case["env"]);
        let got = lexer.process_word(input, &env);
        let ok = match (&got, is_error(case)) {
            (Err(_), true) => true,
            (Ok(v), false) => Some(v.as_str()) == case["expected"].as_str(),
            _ => false,
        };
        if ok {
            passed += 1;
        } else {
            failures.push(format!("line {}: {input:?} -> {got:?}", case["line"]));
        }
    }
    assert_eq!(passed + failures.len(), 228, "226 A + 2 U lines");
    report("envVarTest", passed, &failures);
}

#[test]
fn words_test() {
    let Some(dir) = common::buildkit_vectors() else {
        return;
    };
    let cases = common::read_jsonl(&dir.join("shell/wordsTest.jsonl"));
    let lexer = Lexer::new('\\');
    let (mut passed, mut failures) = (0, Vec::new());
    for case in &cases {
        let input = case["input"].as_str().unwrap();
        let env = env_from_list(&case["env"]);
        let got = lexer.process_words(input, &env);
        let ok = match (&got, is_error(case)) {
            (Err(_), true) => true,
            (Ok(words), false) => {
                let want: Vec<&str> = case["expected"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|w| w.as_str().unwrap())
                    .collect();
                *words == want
            }
            _ => false,
        };
        if ok {
            passed += 1;
        } else {
            failures.push(format!("line {}: {input:?} -> {got:?}", case["line"]));
        }
    }
    assert!(!cases.is_empty());
    report("wordsTest", passed, &failures);
}

#[test]
fn process_with_matches() {
    let Some(dir) = common::buildkit_vectors() else {
        return;
    };
    let cases = common::read_jsonl(&dir.join("shell/process_with_matches.jsonl"));
    let lexer = Lexer::new('\\');
    let (mut passed, mut failures) = (0, Vec::new());
    for case in &cases {
        let input = case["input"].as_str().unwrap();
        let env = env_of(&case["env"]);
        let got = lexer.process_word_with_matches(input, &env);
        let ok = match (&got, is_error(case)) {
            (Err(_), true) => true,
            (Ok(e), false) => {
                Some(e.value.as_str()) == case["expected"].as_str()
                    && e.matched == names(&case["matched"])
                    && e.unmatched == names(&case["unmatched"])
            }
            _ => false,
        };
        if ok {
            passed += 1;
        } else {
            failures.push(format!("{input:?} -> {got:?}"));
        }
    }
    assert_eq!(passed + failures.len(), 47);
    report("process_with_matches", passed, &failures);
}

#[test]
fn shell_misc() {
    let Some(dir) = common::buildkit_vectors() else {
        return;
    };
    let doc = common::read_json(&dir.join("shell/misc.json"));
    let lexer = Lexer::new('\\');
    let (mut passed, mut failures) = (0, Vec::new());
    for group in ["mandatory_vars", "platform_release_names"] {
        for case in doc[group].as_array().unwrap() {
            let input = case["input"].as_str().unwrap();
            let env = env_of(&case["env"]);
            let got = lexer.process_word_with_matches(input, &env);
            let ok = match (&got, case.get("error_contains").and_then(Value::as_str)) {
                (Err(e), Some(want)) => e.message.contains(want),
                (Ok(e), None) => Some(e.value.as_str()) == case["expected"].as_str(),
                _ => false,
            };
            if ok {
                passed += 1;
            } else {
                failures.push(format!("{group}: {input:?} {env:?} -> {got:?}"));
            }
        }
    }
    assert_eq!(passed + failures.len(), 9);
    report("shell/misc", passed, &failures);
}
