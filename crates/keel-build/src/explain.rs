//! Why a step was not cached: the difference between its key input now and at its last build,
//! in words (`RUN: build arg VERSION changed`, `COPY . .: 1 file changed: main.go (content)`).

use std::collections::BTreeMap;

use crate::context::EntryDigest;

use crate::cache::{CacheKeyInput, LastBuild};

/// Explain a miss of `now` against the last build of the same step.
pub fn explain(
    now: &CacheKeyInput,
    files: &BTreeMap<String, EntryDigest>,
    last: &LastBuild,
) -> String {
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
        let diff = crate::context::diff(&last.files, files);
        reasons.push(if diff.is_empty() {
            "the selected files changed".to_owned()
        } else {
            diff.to_string()
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{StepDef, SCHEMA};
    use keel_oci::Digest;

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

    fn file(content: &str) -> EntryDigest {
        EntryDigest {
            kind: crate::context::EntryKind::File,
            mode: 0o644,
            content: Some(d(content)),
            link_target: None,
        }
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
        let files_before: BTreeMap<String, EntryDigest> = [
            ("main.go".to_owned(), file("1")),
            ("old.go".to_owned(), file("x")),
        ]
        .into();
        let files_now: BTreeMap<String, EntryDigest> = [
            ("main.go".to_owned(), file("2")),
            ("new.go".to_owned(), file("y")),
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
            "1 file changed: main.go (content); 1 file added: new.go; 1 file removed: old.go"
        );
        assert_eq!(
            explain(&now, &BTreeMap::new(), &LastBuild::default()),
            "not built before"
        );
    }
}
