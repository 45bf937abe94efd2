//! Why a step was not cached: the difference between its key input now and at its last build,
//! in words (`RUN: build arg VERSION changed`, `COPY . .: 1 file changed: main.go (content)`).

use std::collections::{BTreeMap, BTreeSet};

use keel_oci::Digest;

use crate::cache::{CacheKeyInput, LastBuild};

/// How many names a list shows before "and N more".
const MAX_NAMES: usize = 5;

/// Explain a miss of `now` against the last build of the same step.
pub fn explain(now: &CacheKeyInput, files: &BTreeMap<String, Digest>, last: &LastBuild) -> String {
    let Some(before) = &last.input else {
        return "not built before".to_owned();
    };
    let mut reasons = Vec::new();
    if before.base != now.base {
        reasons.push("base image changed".to_owned());
    } else if before.parent != now.parent {
        reasons.push("an earlier step changed".to_owned());
    }
    if before.step.instruction != now.step.instruction {
        reasons.push("instruction changed".to_owned());
    }
    for (name, value) in &now.step.args {
        match before.step.args.get(name) {
            Some(old) if old == value => {}
            Some(_) => reasons.push(format!("build arg {name} changed")),
            None => reasons.push(format!("build arg {name} added")),
        }
    }
    for name in before.step.args.keys() {
        if !now.step.args.contains_key(name) {
            reasons.push(format!("build arg {name} removed"));
        }
    }
    let env_before = env_map(&before.step.env);
    for (name, value) in env_map(&now.step.env) {
        match env_before.get(name) {
            Some(old) if *old == value => {}
            Some(_) => reasons.push(format!("ENV {name} changed")),
            None => reasons.push(format!("ENV {name} added")),
        }
    }
    for (what, a, b) in [
        ("WORKDIR", &before.step.workdir, &now.step.workdir),
        ("USER", &before.step.user, &now.step.user),
        ("platform", &before.step.platform, &now.step.platform),
    ] {
        if a != b {
            reasons.push(format!("{what} changed"));
        }
    }
    if before.step.shell != now.step.shell {
        reasons.push("SHELL changed".to_owned());
    }
    if before.step.network != now.step.network {
        reasons.push("network changed".to_owned());
    }
    if before.step.from != now.step.from {
        reasons.push("the --from source changed".to_owned());
    }
    if before.content != now.content {
        reasons.push(files_changed(&last.files, files));
    }
    if reasons.is_empty() {
        // Same inputs, but the record is gone (pruned, or its layer was removed).
        return "cache record pruned".to_owned();
    }
    reasons.join("; ")
}

fn env_map(env: &[String]) -> BTreeMap<&str, &str> {
    env.iter()
        .map(|e| e.split_once('=').unwrap_or((e.as_str(), "")))
        .collect()
}

/// `1 file changed: main.go (content)`, `2 files added: a, b`, ...
pub fn files_changed(before: &BTreeMap<String, Digest>, now: &BTreeMap<String, Digest>) -> String {
    let old: BTreeSet<&String> = before.keys().collect();
    let new: BTreeSet<&String> = now.keys().collect();
    let changed: Vec<&String> = new
        .intersection(&old)
        .filter(|p| before[**p] != now[**p])
        .copied()
        .collect();
    let added: Vec<&String> = new.difference(&old).copied().collect();
    let removed: Vec<&String> = old.difference(&new).copied().collect();
    let mut parts = Vec::new();
    if !changed.is_empty() {
        parts.push(list("changed", &changed, " (content)"));
    }
    if !added.is_empty() {
        parts.push(list("added", &added, ""));
    }
    if !removed.is_empty() {
        parts.push(list("removed", &removed, ""));
    }
    if parts.is_empty() {
        return "the selected files changed".to_owned();
    }
    parts.join(", ")
}

fn list(what: &str, names: &[&String], suffix: &str) -> String {
    let count = names.len();
    let noun = if count == 1 { "file" } else { "files" };
    let mut shown: Vec<String> = names
        .iter()
        .take(MAX_NAMES)
        .map(|n| format!("{n}{suffix}"))
        .collect();
    if count > MAX_NAMES {
        shown.push(format!("and {} more", count - MAX_NAMES));
    }
    format!("{count} {noun} {what}: {}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{StepDef, SCHEMA};

    fn input(instruction: &str) -> CacheKeyInput {
        CacheKeyInput {
            schema: SCHEMA,
            parent: None,
            base: "scratch".into(),
            step: StepDef {
                instruction: instruction.into(),
                env: vec!["PATH=/bin".into()],
                args: BTreeMap::new(),
                workdir: "/".into(),
                user: String::new(),
                shell: vec![],
                network: None,
                platform: "linux/amd64".into(),
                from: None,
            },
            content: None,
        }
    }

    fn d(s: &str) -> Digest {
        Digest::sha256_of(s.as_bytes())
    }

    #[test]
    fn explains_args_env_and_files() {
        let mut before = input("RUN make");
        before.step.args.insert("VERSION".into(), "1".into());
        let mut now = before.clone();
        now.step.args.insert("VERSION".into(), "2".into());
        now.step.env.push("A=b".into());
        let last = LastBuild {
            input: Some(before.clone()),
            files: BTreeMap::new(),
        };
        assert_eq!(
            explain(&now, &BTreeMap::new(), &last),
            "build arg VERSION changed; ENV A added"
        );
        let files_before: BTreeMap<String, Digest> = [
            ("main.go".to_owned(), d("1")),
            ("old.go".to_owned(), d("x")),
        ]
        .into();
        let files_now: BTreeMap<String, Digest> = [
            ("main.go".to_owned(), d("2")),
            ("new.go".to_owned(), d("y")),
        ]
        .into();
        let mut copy_before = input("COPY . .");
        copy_before.content = Some(d("a"));
        let mut copy_now = copy_before.clone();
        copy_now.content = Some(d("b"));
        let last = LastBuild {
            input: Some(copy_before),
            files: files_before,
        };
        assert_eq!(
            explain(&copy_now, &files_now, &last),
            "1 file changed: main.go (content), 1 file added: new.go, 1 file removed: old.go"
        );
        assert_eq!(
            explain(&now, &BTreeMap::new(), &LastBuild::default()),
            "not built before"
        );
    }

    #[test]
    fn long_lists_are_cut() {
        let now: BTreeMap<String, Digest> = (0..8)
            .map(|i| (format!("f{i}"), d(&i.to_string())))
            .collect();
        assert_eq!(
            files_changed(&BTreeMap::new(), &now),
            "8 files added: f0, f1, f2, f3, f4, and 3 more"
        );
    }
}
