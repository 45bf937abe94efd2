//! `--filter key=value` flags as docker reads them (`opts.FilterOpt`, `filters.Args`): repeated
//! keys accumulate, the value is everything after the first `=`, and each command accepts a fixed
//! set of keys.

pub mod glob;

use std::collections::BTreeMap;

use anyhow::{bail, Result};

#[derive(Debug, Default, Clone)]
pub struct Filters {
    entries: BTreeMap<String, Vec<String>>,
}

impl Filters {
    /// Parse `key=value` strings, refusing keys outside `allowed` with docker's message.
    pub fn parse(args: &[String], allowed: &[&str]) -> Result<Filters> {
        let mut entries: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for arg in args {
            let Some((key, value)) = arg.split_once('=') else {
                bail!("bad format of filter (expected name=value)");
            };
            let key = key.trim().to_ascii_lowercase();
            if !allowed.contains(&key.as_str()) {
                bail!("invalid filter '{key}'");
            }
            entries
                .entry(key)
                .or_default()
                .push(value.trim().to_owned());
        }
        Ok(Filters { entries })
    }

    pub fn values(&self, key: &str) -> &[String] {
        self.entries.get(key).map_or(&[], Vec::as_slice)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// A boolean filter such as `dangling=true`; docker accepts `true`/`1` and `false`/`0`.
    pub fn bool_value(&self, key: &str) -> Result<Option<bool>> {
        let mut result = None;
        for value in self.values(key) {
            let b = match value.to_ascii_lowercase().as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => bail!("invalid filter '{key}={value}'"),
            };
            if result.is_some_and(|r| r != b) {
                bail!("invalid filter '{key}': conflicting values");
            }
            result = Some(b);
        }
        Ok(result)
    }

    /// docker's `MatchKVList` for `label=`: every `key` or `key=value` given must match; and for
    /// `label!=`, none may.
    pub fn match_labels(&self, labels: &BTreeMap<String, String>) -> bool {
        let want = |spec: &String| match spec.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
            None => labels.contains_key(spec.as_str()),
        };
        self.values("label").iter().all(want) && !self.values("label!").iter().any(want)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_and_validates_keys() {
        let f = Filters::parse(
            &args(&["dangling=true", "label=a=b", "label=c"]),
            &["dangling", "label"],
        )
        .unwrap();
        assert_eq!(f.bool_value("dangling").unwrap(), Some(true));
        assert_eq!(f.values("label"), ["a=b", "c"]);
        let err = Filters::parse(&args(&["nope=1"]), &["dangling"]).unwrap_err();
        assert_eq!(err.to_string(), "invalid filter 'nope'");
        let err = Filters::parse(&args(&["dangling"]), &["dangling"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad format of filter (expected name=value)"
        );
        let f = Filters::parse(&args(&["dangling=maybe"]), &["dangling"]).unwrap();
        assert!(f.bool_value("dangling").is_err());
    }

    #[test]
    fn labels() {
        let labels: BTreeMap<String, String> = [
            ("a".to_owned(), "b".to_owned()),
            ("c".to_owned(), String::new()),
        ]
        .into();
        let f = Filters::parse(&args(&["label=a=b", "label=c"]), &["label"]).unwrap();
        assert!(f.match_labels(&labels));
        let f = Filters::parse(&args(&["label=a=x"]), &["label"]).unwrap();
        assert!(!f.match_labels(&labels));
        let f = Filters::parse(&args(&["label!=a"]), &["label", "label!"]).unwrap();
        assert!(!f.match_labels(&labels));
        let f = Filters::parse(&args(&["label!=zzz"]), &["label", "label!"]).unwrap();
        assert!(f.match_labels(&labels));
    }
}
