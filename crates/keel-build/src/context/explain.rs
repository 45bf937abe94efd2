//! Explaining a content change between two builds: the per-entry digests of the last build
//! against this one, as one short line for `--explain-cache` and the build log
//! ("1 file changed: main.go (content); 2 files added: a, b").

use std::collections::BTreeMap;
use std::fmt;

use super::hash::EntryDigest;

/// How many names a category lists before "and N more".
const MAX_NAMES: usize = 5;

/// What differs in one entry present in both builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// File content.
    Content,
    /// Permission bits.
    Mode,
    /// File became directory, symlink, ...
    Kind,
    /// Symlink target.
    LinkTarget,
}

impl Change {
    fn word(self) -> &'static str {
        match self {
            Change::Content => "content",
            Change::Mode => "mode",
            Change::Kind => "type",
            Change::LinkTarget => "link target",
        }
    }
}

/// The difference between two selections' per-entry digests, by destination path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Each changed path with what changed (at least one item).
    pub changed: Vec<(String, Vec<Change>)>,
}

impl ContextDiff {
    /// Nothing differs.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Compares the entries of the previous build (`old`) with this one (`new`).
pub fn diff(
    old: &BTreeMap<String, EntryDigest>,
    new: &BTreeMap<String, EntryDigest>,
) -> ContextDiff {
    let mut out = ContextDiff::default();
    for (path, was) in old {
        match new.get(path) {
            None => out.removed.push(path.clone()),
            Some(now) => {
                let mut changes = Vec::new();
                if was.kind != now.kind {
                    changes.push(Change::Kind);
                } else {
                    if was.content != now.content {
                        changes.push(Change::Content);
                    }
                    if was.link_target != now.link_target {
                        changes.push(Change::LinkTarget);
                    }
                }
                if was.mode != now.mode {
                    changes.push(Change::Mode);
                }
                if !changes.is_empty() {
                    out.changed.push((path.clone(), changes));
                }
            }
        }
    }
    out.added = new
        .keys()
        .filter(|path| !old.contains_key(*path))
        .cloned()
        .collect();
    out
}

/// "1 file changed: main.go (content); 2 files added: a, b; 1 file removed: c", or
/// "no change" when empty. Entries of any type count as files here, as users think of them.
impl fmt::Display for ContextDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no change");
        }
        let changed: Vec<String> = self
            .changed
            .iter()
            .map(|(path, changes)| {
                let words: Vec<&str> = changes.iter().map(|c| c.word()).collect();
                format!("{path} ({})", words.join(", "))
            })
            .collect();
        let mut parts = Vec::new();
        for (names, verb) in [
            (&changed, "changed"),
            (&self.added, "added"),
            (&self.removed, "removed"),
        ] {
            if !names.is_empty() {
                parts.push(category(names, verb));
            }
        }
        f.write_str(&parts.join("; "))
    }
}

fn category(names: &[String], verb: &str) -> String {
    let noun = if names.len() == 1 { "file" } else { "files" };
    let shown = names.len().min(MAX_NAMES);
    let mut text = format!(
        "{} {noun} {verb}: {}",
        names.len(),
        names[..shown].join(", ")
    );
    if names.len() > shown {
        text.push_str(&format!(" and {} more", names.len() - shown));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::EntryKind;
    use keel_oci::Digest;

    fn file(content: &str, mode: u32) -> EntryDigest {
        EntryDigest {
            kind: EntryKind::File,
            mode,
            content: Some(Digest::sha256_of(content.as_bytes())),
            link_target: None,
        }
    }

    fn map(items: &[(&str, EntryDigest)]) -> BTreeMap<String, EntryDigest> {
        items
            .iter()
            .map(|(p, d)| ((*p).to_owned(), d.clone()))
            .collect()
    }

    #[test]
    fn one_content_change() {
        let old = map(&[("main.go", file("a", 0o644)), ("go.mod", file("m", 0o644))]);
        let new = map(&[("main.go", file("b", 0o644)), ("go.mod", file("m", 0o644))]);
        let d = diff(&old, &new);
        assert_eq!(d.to_string(), "1 file changed: main.go (content)");
        assert!(diff(&old, &old).is_empty());
        assert_eq!(diff(&old, &old).to_string(), "no change");
    }

    #[test]
    fn added_removed_and_mode() {
        let old = map(&[("c", file("c", 0o644)), ("run.sh", file("x", 0o644))]);
        let new = map(&[
            ("a", file("a", 0o644)),
            ("b", file("b", 0o644)),
            ("run.sh", file("x", 0o755)),
        ]);
        assert_eq!(
            diff(&old, &new).to_string(),
            "1 file changed: run.sh (mode); 2 files added: a, b; 1 file removed: c"
        );
    }

    #[test]
    fn kind_and_link_changes() {
        let link = |t: &str| EntryDigest {
            kind: EntryKind::Symlink,
            mode: 0o777,
            content: None,
            link_target: Some(t.to_owned()),
        };
        let old = map(&[("l", link("a")), ("x", file("x", 0o644))]);
        let new = map(&[("l", link("b")), ("x", link("x"))]);
        assert_eq!(
            diff(&old, &new).to_string(),
            "2 files changed: l (link target), x (type, mode)"
        );
    }

    #[test]
    fn long_lists_are_capped() {
        let new: Vec<(String, EntryDigest)> = (0..8)
            .map(|i| (format!("f{i}"), file("x", 0o644)))
            .collect();
        let new: BTreeMap<_, _> = new.into_iter().collect();
        assert_eq!(
            diff(&BTreeMap::new(), &new).to_string(),
            "8 files added: f0, f1, f2, f3, f4 and 3 more"
        );
    }
}
