//! Instruction flags (`--from=build`), validated as BuildKit's `BFlags`: each instruction declares
//! the flags it accepts, then the written flags are checked against them in one pass.

use super::suggest;

/// The kinds of value a flag takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// `--link`, `--link=true`, `--link=false`.
    Bool,
    /// `--from=x`: a value is required (it may be empty: `--from=`); given at most once.
    String,
    /// `--mount=...`: like `String`, but may be repeated; every value is kept.
    Strings,
}

/// The flags one instruction accepts, and what was written for them (borrowed from the written
/// flags: accessors copy out only what the instruction keeps).
#[derive(Debug, Clone, Default)]
pub struct Flags<'a> {
    declared: &'static [(&'static str, FlagKind)],
    /// Each value written, with the index of its declared flag, in the order written.
    values: Vec<(usize, &'a str)>,
    /// Names of flags written, in order of first use.
    used: Vec<&'static str>,
}

impl<'a> Flags<'a> {
    /// Declare the accepted flags.
    pub fn new(declared: &'static [(&'static str, FlagKind)]) -> Flags<'a> {
        Flags {
            declared,
            values: Vec::new(),
            used: Vec::new(),
        }
    }

    /// Check `written` (each with its leading `--`) against the declared flags.
    ///
    /// Errors read as BuildKit's: `unknown flag: --boo`, `missing a value on flag: --from`,
    /// `duplicate flag specified: --from`, `expecting boolean value for flag --link, not: x`.
    pub fn parse(mut self, written: &'a [String]) -> Result<Flags<'a>, String> {
        for arg in written {
            if arg == "--" {
                // POSIX end of options: whatever follows is not a flag.
                break;
            }
            let Some(body) = arg.strip_prefix("--") else {
                return Err(format!("arg should start with -- : {arg}"));
            };
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let Some(index) = self.declared.iter().position(|(n, _)| *n == name) else {
                let names: Vec<&str> = self.declared.iter().map(|(n, _)| *n).collect();
                return Err(suggest::with_suggestion(
                    format!("unknown flag: --{name}"),
                    name,
                    &names,
                    true,
                ));
            };
            let (declared_name, kind) = self.declared[index];
            let seen = self.used.contains(&declared_name);
            if seen && kind != FlagKind::Strings {
                return Err(format!("duplicate flag specified: --{name}"));
            }
            if !seen {
                self.used.push(declared_name);
            }
            let stored = match kind {
                FlagKind::Bool => match value {
                    Some("") => return Err(format!("missing a value on flag: --{name}")),
                    None => "true",
                    Some(v) if v.eq_ignore_ascii_case("true") => "true",
                    Some(v) if v.eq_ignore_ascii_case("false") => "false",
                    Some(v) => {
                        return Err(format!(
                            "expecting boolean value for flag --{name}, not: {v}"
                        ))
                    }
                },
                FlagKind::String | FlagKind::Strings => match value {
                    Some(v) => v,
                    None => return Err(format!("missing a value on flag: --{name}")),
                },
            };
            self.values.push((index, stored));
        }
        Ok(self)
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.declared.iter().position(|(n, _)| *n == name)
    }

    /// The last value written for `name`, borrowed.
    pub(super) fn last(&self, name: &str) -> Option<&'a str> {
        let index = self.index(name)?;
        self.values
            .iter()
            .rev()
            .find(|(i, _)| *i == index)
            .map(|(_, v)| *v)
    }

    /// Whether the flag was written.
    pub fn is_used(&self, name: &str) -> bool {
        self.used.contains(&name)
    }

    /// Names of the flags written, in order of first use (BuildKit's `FlagsUsed`).
    pub fn used(&self) -> Vec<String> {
        self.used.iter().map(|n| (*n).to_owned()).collect()
    }

    /// A string flag's value; `None` when not written.
    pub fn string(&self, name: &str) -> Option<String> {
        self.last(name).map(str::to_owned)
    }

    /// A string flag's value, with an empty value treated as absent (BuildKit compares with "").
    pub fn non_empty(&self, name: &str) -> Option<String> {
        self.last(name).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// A bool flag's value; `None` when not written.
    pub fn bool_opt(&self, name: &str) -> Option<bool> {
        self.last(name).map(|v| v == "true")
    }

    /// A bool flag's value; false when not written.
    pub fn bool(&self, name: &str) -> bool {
        self.bool_opt(name).unwrap_or(false)
    }

    /// Every value of a repeatable flag, in order.
    pub fn strings(&self, name: &str) -> Vec<String> {
        let Some(index) = self.index(name) else {
            return Vec::new();
        };
        self.values
            .iter()
            .filter(|(i, _)| *i == index)
            .map(|(_, v)| (*v).to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        decl: &'static [(&'static str, FlagKind)],
        written: &[&str],
    ) -> Result<Flags<'static>, String> {
        // Leaked so the parsed flags may borrow them for the rest of the test.
        let written: Vec<String> = written.iter().map(|s| (*s).to_owned()).collect();
        Flags::new(decl).parse(Vec::leak(written))
    }

    const DECL: &[(&str, FlagKind)] = &[
        ("str", FlagKind::String),
        ("bool", FlagKind::Bool),
        ("list", FlagKind::Strings),
    ];

    #[test]
    fn bflag_rules() {
        // `--str` without `=` is an error; `--str=` is an empty value.
        assert_eq!(
            parse(DECL, &["--str"]).unwrap_err(),
            "missing a value on flag: --str"
        );
        let f = parse(DECL, &["--str="]).unwrap();
        assert_eq!(f.string("str").as_deref(), Some(""));
        assert_eq!(f.non_empty("str"), None);
        // bools
        assert!(parse(DECL, &["--bool"]).unwrap().bool("bool"));
        assert!(parse(DECL, &["--bool=TRUE"]).unwrap().bool("bool"));
        assert!(!parse(DECL, &["--bool=false"]).unwrap().bool("bool"));
        assert_eq!(parse(DECL, &[]).unwrap().bool_opt("bool"), None);
        assert_eq!(
            parse(DECL, &["--bool=false1"]).unwrap_err(),
            "expecting boolean value for flag --bool, not: false1"
        );
        assert_eq!(
            parse(DECL, &["--bool="]).unwrap_err(),
            "missing a value on flag: --bool"
        );
        // unknown, duplicate, repeated list
        assert_eq!(
            parse(DECL, &["--boo"]).unwrap_err(),
            "unknown flag: --boo (did you mean bool?)"
        );
        assert_eq!(
            parse(DECL, &["--zzzzzz"]).unwrap_err(),
            "unknown flag: --zzzzzz"
        );
        assert_eq!(
            parse(DECL, &["--str=a", "--str=b"]).unwrap_err(),
            "duplicate flag specified: --str"
        );
        let f = parse(DECL, &["--list=a", "--list=b", "--str=x"]).unwrap();
        assert_eq!(f.strings("list"), ["a", "b"]);
        assert_eq!(f.used(), ["list", "str"]);
        // `--` alone ends flags.
        assert!(parse(DECL, &["--", "--nope"]).is_ok());
        assert_eq!(
            parse(DECL, &["-x"]).unwrap_err(),
            "arg should start with -- : -x"
        );
    }
}
