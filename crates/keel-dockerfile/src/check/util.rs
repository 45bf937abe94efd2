//! Small helpers shared by the rules: reading nodes, an ordered variable list for the lexer, and
//! BuildKit's "did you mean" suggestion.

use crate::shell::{Env, Expanded, Lexer};
use crate::syntax::{Arg, Node};

/// The instruction keyword as written (`Run`), which BuildKit's casing rules and messages use.
pub(crate) fn keyword_as_written(node: &Node) -> &str {
    let word = node
        .original
        .trim_start()
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("");
    if word.eq_ignore_ascii_case(&node.keyword) {
        word
    } else {
        &node.keyword
    }
}

/// The value of `--name=value`, the first time it is given.
pub(crate) fn flag_value<'n>(node: &'n Node, name: &str) -> Option<&'n str> {
    node.flags.iter().find_map(|f| {
        let rest = f.strip_prefix("--")?;
        let (key, value) = rest.split_once('=')?;
        (key == name).then_some(value)
    })
}

/// Whether `--name` (with or without a value) is given.
pub(crate) fn has_flag(node: &Node, name: &str) -> bool {
    node.flags.iter().any(|f| {
        f.strip_prefix("--")
            .map(|rest| rest.split('=').next() == Some(name))
            .unwrap_or(false)
    })
}

/// The node's word arguments (nested ONBUILD instructions are skipped).
pub(crate) fn words(node: &Node) -> Vec<&str> {
    node.args.iter().filter_map(Arg::as_word).collect()
}

/// Variables in definition order, as BuildKit's `EnvList` keeps them (suggestions depend on the
/// order).
#[derive(Debug, Clone, Default)]
pub(crate) struct VarList(pub Vec<(String, String)>);

impl VarList {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Set `name`, keeping its place when it is already there.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.0.push((name.to_string(), value.to_string())),
        }
    }

    pub fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }
}

impl Env for VarList {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.get(name)
    }
}

/// Expand one word, or `None` when the lexer refuses it (the build reports that error itself).
pub(crate) fn expand(lexer: &Lexer, word: &str, env: &VarList) -> Option<Expanded<String>> {
    lexer.process_word_with_matches(word, env).ok()
}

/// BuildKit's `suggest.Search`: the option closest to `val` within an edit distance of 2, the
/// first one on ties; nothing when `val` is itself an option.
pub(crate) fn suggest(val: &str, options: &[&str], case_sensitive: bool) -> Option<String> {
    let fold = |s: &str| {
        if case_sensitive {
            s.to_string()
        } else {
            s.to_lowercase()
        }
    };
    let val = fold(val);
    let mut best: Option<String> = None;
    let mut min = 3;
    for opt in options {
        let opt = fold(opt);
        if opt == val {
            return None;
        }
        let d = levenshtein(&val, &opt);
        if d < min {
            min = d;
            best = Some(opt);
        }
    }
    best
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestion_picks_closest() {
        assert_eq!(
            suggest("PAHT", &["HOME", "PATH"], true).as_deref(),
            Some("PATH")
        );
        assert_eq!(suggest("PATH", &["PATH"], true), None);
        assert_eq!(suggest("XYZWV", &["PATH"], true), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
